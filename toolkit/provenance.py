"""What a run records so that it can be reproduced: library versions, machine, device, time."""

from __future__ import annotations

import datetime as _dt
import platform
import sys
from importlib import metadata

from . import __version__

#: Distributions whose versions every run records (import name is not needed: metadata reads the install).
PACKAGES = ("torch", "torchvision", "tensorflow-cpu", "tensorflow", "keras", "captum", "numpy",
            "opencv-python-headless", "opencv-python", "scikit-learn", "scikit-image", "matplotlib", "jinja2",
            "pillow")


def versions() -> dict[str, str]:
    """Installed versions of styleseg, Python and the libraries it stands on (absent ones are left out)."""
    out = {"styleseg": __version__, "python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def environment(device: str | None = None) -> dict:
    """Versions, platform, CPU count, device and a UTC timestamp, as a JSON-ready dict."""
    import os

    return {
        "versions": versions(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "device": device,
        "time_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
