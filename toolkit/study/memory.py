"""Peak memory of each engine, measured in a fresh process.

Memory measured inside the study's own process says little: the first run absorbs the allocators' warm-up,
later runs reuse what it left, and the weights were loaded before any run began. Here a new Python process
imports the libraries and notes its resident memory, resets the kernel's high-water mark to it (so a transient
peak while importing does not count), builds the engine (the VGG-19 weights included) and runs one stylisation
like the study's (shortened: see :data:`STEPS_PER_LEVEL`), then reads the high-water mark (``VmHWM``). The report
gives what the libraries take and what the engine adds on top (model + one run); their sum is the process's peak.
Linux only (``/proc``).

Run as ``python -m toolkit.study.memory REQUEST.json`` by :func:`start_peaks`; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

#: Steps of the measuring run on each pyramid level: a step at a level's size allocates what every later step
#: there does (the autograd graph is freed after each), so two per level reach the peak of a full run.
STEPS_PER_LEVEL = 2
METHOD = ("peak resident memory (VmHWM) of a fresh process that imports the libraries, then builds the engine with "
          f"its weights and runs a masked stylisation of the first content image ({STEPS_PER_LEVEL} steps on each "
          "pyramid level: every step at a size allocates the same)")


class PeakMeasurement:
    """One measuring process per engine, all started at once, so they run while the caller builds its own
    engines; :meth:`collect` waits for them. Use :func:`start_peaks`."""

    def __init__(self, procs: dict[str, subprocess.Popen], folder: tempfile.TemporaryDirectory):
        self._procs, self._folder = procs, folder

    def collect(self) -> dict[str, dict]:
        """engine → {"peak_mb", "libraries_mb", "engine_mb", "method"}, or {"error": ..., "method"} if it failed."""
        out = {}
        try:
            for engine, p in self._procs.items():
                stdout, stderr = p.communicate()
                if p.returncode != 0 or not stdout.strip():
                    last = (stderr.strip().splitlines() or ["no output"])[-1]
                    out[engine] = {"error": f"the measuring process failed ({last[:200]})", "method": METHOD}
                else:
                    out[engine] = {"method": METHOD, **json.loads(stdout.strip().splitlines()[-1])}
        finally:
            self.stop()
        return out

    def stop(self) -> None:
        """End any process still running (an interrupted study) and remove the inputs."""
        for p in self._procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        self._folder.cleanup()


def start_peaks(engines, weights: str, cfg, content: np.ndarray, style: np.ndarray, mask: np.ndarray,
                region: str) -> PeakMeasurement:
    """Start measuring each engine's peak memory in a fresh process of its own, all at once.

    content, style : float32 H×W×3 in [0, 1]; mask : float32 H×W (1 = foreground); cfg : StyleConfig (its
    levels are kept, with :data:`STEPS_PER_LEVEL` steps on each)
    """
    root = str(Path(__file__).resolve().parents[2])  # the folder holding this copy of the toolkit package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    folder = tempfile.TemporaryDirectory(prefix="styleseg-memory-")
    d = Path(folder.name)
    np.savez(d / "inputs.npz", content=content, style=style, mask=mask)
    levels = len(cfg.resolved(region=True).levels)  # the measured run is a guided region
    short = replace(cfg, steps=STEPS_PER_LEVEL * levels, level_share=1 - 1 / levels)
    procs = {}
    for engine in engines:
        request = d / f"{engine}.json"
        request.write_text(json.dumps({"engine": engine, "weights": weights, "config": asdict(short),
                                       "region": region, "inputs": str(d / "inputs.npz")}))
        procs[engine] = subprocess.Popen([sys.executable, "-m", "toolkit.study.memory", str(request)],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return PeakMeasurement(procs, folder)


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
