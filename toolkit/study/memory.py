"""Peak memory of each engine, measured in a fresh process.

Memory measured inside the study's own process says little: the first run absorbs the allocators' warm-up,
later runs reuse what it left, and the weights were loaded before any run began. Here a new Python process
imports the libraries, notes its peak resident set size (the kernel's high-water mark, ``ru_maxrss``), then
builds the engine (the VGG-19 weights included) and runs one stylisation like the study's, and notes the peak
again. The report gives both: what the libraries take, and what the engine adds (model + one run).

Run as ``python -m toolkit.study.memory REQUEST.json`` by :func:`engine_peak`; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

METHOD = ("peak resident memory (ru_maxrss) of a fresh process that builds the engine with its weights and runs "
          "one stylisation of the first content image like the study's masked runs")


def engine_peak(engine: str, weights: str, cfg, content: np.ndarray, style: np.ndarray, mask: np.ndarray,
                region: str) -> dict:
    """{"peak_mb", "libraries_mb", "engine_mb", "method"} for ``engine``, or {"error": ...} if it failed.

    content, style : float32 H×W×3 in [0, 1]; mask : float32 H×W (1 = foreground); cfg : StyleConfig
    """
    root = str(Path(__file__).resolve().parents[2])  # the folder holding this copy of the toolkit package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory(prefix="styleseg-memory-") as d:
        np.savez(Path(d) / "inputs.npz", content=content, style=style, mask=mask)
        request = Path(d) / "request.json"
        request.write_text(json.dumps({"engine": engine, "weights": weights, "config": asdict(cfg),
                                       "region": region, "inputs": str(Path(d) / "inputs.npz")}))
        p = subprocess.run([sys.executable, "-m", "toolkit.study.memory", str(request)], capture_output=True,
                           text=True, env=env)
    if p.returncode != 0 or not p.stdout.strip():
        last = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"the measuring process failed ({last[:200]})", "method": METHOD}
    return {**json.loads(p.stdout.strip().splitlines()[-1]), "method": METHOD}


def _peak_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def _measure(request: dict) -> dict:
    import torch  # noqa: F401  (both engines load their weights through torch: a library, not the model)

    if request["engine"] == "tf":
        import tensorflow  # noqa: F401

    from ..style import StyleConfig, stylize

    libraries = _peak_mb()
    inputs = np.load(request["inputs"])
    cfg = StyleConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in request["config"].items()})
    stylize(inputs["content"], inputs["style"], cfg, engine=request["engine"], mask=inputs["mask"],
            region=request["region"], weights=request["weights"], device="cpu", progress=False)
    peak = _peak_mb()
    if peak is None:
        return {"peak_mb": None, "libraries_mb": None, "engine_mb": None}
    return {"peak_mb": peak, "libraries_mb": libraries, "engine_mb": peak - libraries}


if __name__ == "__main__":
    print(json.dumps(_measure(json.loads(Path(sys.argv[1]).read_text()))))
