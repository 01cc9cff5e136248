"""Sample images that ship inside the dependencies, so the demo and the tests run offline.

``read_image("sample:astronaut")`` reads one. Names: scikit-image's ``astronaut``, ``coffee``, ``chelsea``,
``rocket``, ``hubble_deep_field``, ``immunohistochemistry`` and ``camera`` (grayscale), and matplotlib's
``grace_hopper``.
"""

from __future__ import annotations

import numpy as np

from .errors import ImageError

SKIMAGE = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "camera")
MATPLOTLIB = {"grace_hopper": "grace_hopper.jpg"}
NAMES = tuple(sorted(SKIMAGE + tuple(MATPLOTLIB)))


def load_sample(name: str) -> np.ndarray:
    """Return the bundled sample ``name`` as RGB float32 in [0, 1], shape (H, W, 3)."""
    if name in SKIMAGE:
        from skimage import data

        arr = getattr(data, name)()
    elif name in MATPLOTLIB:
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data(MATPLOTLIB[name]) as f:
            from PIL import Image

            arr = np.asarray(Image.open(f).convert("RGB"))
    else:
        raise ImageError(f"unknown sample {name!r}; choose one of: {', '.join(NAMES)}")
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.ascontiguousarray(arr[..., :3], dtype=np.float32) / 255.0
