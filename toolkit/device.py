"""Device choice and seeding for PyTorch (and TensorFlow where it is loaded)."""

from __future__ import annotations

import logging
import random

import numpy as np

from .errors import ParameterError

log = logging.getLogger("styleseg")
DEVICES = ("auto", "cpu", "cuda", "mps")


def choose_device(name: str = "auto"):
    """Return a ``torch.device``: ``auto`` picks CUDA, then Apple MPS, then the CPU, and logs the choice."""
    import torch

    if name not in DEVICES:
        raise ParameterError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "cuda" and not cuda:
        raise ParameterError("--device cuda asked for, but PyTorch sees no CUDA GPU; use --device auto or cpu")
    if name == "mps" and not mps:
        raise ParameterError("--device mps asked for, but this PyTorch has no Apple MPS; use --device auto or cpu")
    if name == "auto":
        name = "cuda" if cuda else "mps" if mps else "cpu"
        why = {"cuda": torch.cuda.get_device_name(0) if cuda else "", "mps": "Apple GPU",
               "cpu": f"no CUDA or MPS; {torch.get_num_threads()} threads"}[name]
        log.info("device: %s (%s)", name, why)
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, PyTorch and, if it is already imported, TensorFlow."""
    import sys

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)

