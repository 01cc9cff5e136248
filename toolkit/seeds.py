"""The range of a random seed, one rule for the command line, the study file and ``random:SEED`` weights.

NumPy and scikit-learn accept a seed from 0 to 2**32 - 1, and 32 bits keep random weights' ``seed * 1000 + layer``
inside torch's 64-bit seed; outside that range each library failed in its own way deep inside a run.
"""

from __future__ import annotations

from .errors import ParameterError

MAX_SEED = 2**32 - 1


def parse_seed(text: str, what: str = "the seed") -> int:
    """``"42"`` → 42; anything but a whole number from 0 to :data:`MAX_SEED` raises a one-line ParameterError."""
    text = str(text).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_SEED:
        raise ParameterError(f"{what} must be a whole number from 0 to {MAX_SEED}, not {text!r}")
    return int(text)
