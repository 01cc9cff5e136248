"""Peak memory of each engine, measured in a fresh process.

Memory measured inside the study's own process says little: the first run absorbs the allocators' warm-up,
later runs reuse what it left, and the weights were loaded before any run began. Here a new Python process
imports the libraries and notes its resident memory, resets the kernel's high-water mark to it (so a transient
peak while importing does not count), builds the engine (the VGG-19 weights included) and runs one stylisation
like the study's, then reads the high-water mark (``VmHWM``). The report gives what the libraries take and what
the engine adds on top (model + one run); their sum is the process's peak. Linux only (``/proc``).

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

METHOD = ("peak resident memory (VmHWM) of a fresh process that imports the libraries, then builds the engine with "
          "its weights and runs one masked stylisation of the first content image")


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
    return {"method": METHOD, **json.loads(p.stdout.strip().splitlines()[-1])}


def _status_mb(field: str) -> float | None:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process from /proc, in MiB; None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 1024  # kB


def _reset_peak() -> bool:
    """Set the peak to what is resident now (Linux >= 4.0), so that importing cannot leave a higher peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _measure(request: dict) -> dict:
    import torch  # noqa: F401  (both engines load their weights through torch: a library, not the model)

    if request["engine"] == "tf":
        import tensorflow  # noqa: F401

    from ..style import StyleConfig, stylize

    inputs = np.load(request["inputs"])
    cfg = StyleConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in request["config"].items()})
    libraries = _status_mb("VmRSS")
    if libraries is None or not _reset_peak():
        return {"error": "needs Linux's /proc to measure the peak"}
    stylize(inputs["content"], inputs["style"], cfg, engine=request["engine"], mask=inputs["mask"],
            region=request["region"], weights=request["weights"], device="cpu", progress=False)
    peak = _status_mb("VmHWM")
    return {"peak_mb": peak, "libraries_mb": libraries, "engine_mb": peak - libraries}


if __name__ == "__main__":
    print(json.dumps(_measure(json.loads(Path(sys.argv[1]).read_text()))))
