"""VGG-19 layer names, shared by the PyTorch and TensorFlow builders.

``LAYERS[i]`` names module ``i`` of torchvision's ``vgg19().features``: ``conv{block}_{n}`` and
``relu{block}_{n}`` for the 16 convolutions, ``pool{block}`` for the 5 max-pools.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ParameterError

#: Output channels per convolution, block by block (torchvision's configuration "E").
BLOCKS: tuple[tuple[int, ...], ...] = ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4)


def _names() -> tuple[str, ...]:
    names = []
    for b, convs in enumerate(BLOCKS, start=1):
        for n in range(1, len(convs) + 1):
            names += [f"conv{b}_{n}", f"relu{b}_{n}"]
        names.append(f"pool{b}")
    return tuple(names)


LAYERS: tuple[str, ...] = _names()
#: The layers the PyTorch/TensorFlow parity check compares.
PARITY_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1")
#: (index in ``classifier``, in_features, out_features) for torchvision's three linear layers (ImageNet: 1000).
CLASSIFIER = ((0, 512 * 7 * 7, 4096), (3, 4096, 4096), (6, 4096, 1000))


def _convs() -> tuple[tuple[int, int, int], ...]:
    out, cin = [], 3
    for b, convs in enumerate(BLOCKS, start=1):
        for n, cout in enumerate(convs, start=1):
            out.append((LAYERS.index(f"conv{b}_{n}"), cin, cout))
            cin = cout
    return tuple(out)


#: (index in ``features``, in_channels, out_channels) for each convolution, in order.
CONVS = _convs()


def layer_index(name: str) -> int:
    """Position of ``name`` in :data:`LAYERS`; a clear error for an unknown name."""
    try:
        return LAYERS.index(name)
    except ValueError:
        raise ParameterError(f"unknown VGG-19 layer {name!r}; use names like conv1_1, relu4_2 or pool5") from None


def downsampling(name: str) -> int:
    """How many input pixels one cell of layer ``name`` spans per side: 2 ** (max-pools before or at it).

    The pools floor odd sizes, so a layer's h×w grid covers the top-left ``h * s`` × ``w * s`` input pixels.
    """
    return 2 ** sum(1 for n in LAYERS[:layer_index(name) + 1] if n.startswith("pool"))


def truncate_at(names: Iterable[str]) -> int:
    """Number of feature modules needed to compute every layer in ``names`` (the network is cut after that)."""
    names = list(names)
    if not names:
        raise ParameterError("no VGG-19 layers chosen; name at least one, e.g. relu4_2")
    return max(layer_index(n) for n in names) + 1
