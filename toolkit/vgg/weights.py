"""Where VGG-19's weights come from.

``--weights`` takes one of:

``imagenet``
    torchvision's ``VGG19_Weights.IMAGENET1K_V1``, read from the torch hub cache
    (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``) or downloaded there with torch's hash check.
``keras-imagenet``
    Keras' own ImageNet weights (TensorFlow engine only), from Keras' cache (``~/.keras/models``) or downloaded.
``PATH``
    a ``.pth`` state dict (loaded with ``torch.load(weights_only=True)``: no code runs, and a pickle carrying
    other objects is refused) or a ``.safetensors`` file, with torchvision's key names (``features.0.weight`` …;
    a bare ``features`` dict ``0.weight`` … also works). Every key and shape is checked before use.
``random[:SEED]``
    seeded random weights (torchvision's initialisation, non-zero biases). For tests and offline use: what they produce shows that
    the pipeline runs, not what a trained network sees.

Set ``STYLESEG_OFFLINE=1`` to never try a download.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParameterError, WeightsError
from .layers import CLASSIFIER, CONVS

log = logging.getLogger("styleseg")

IMAGENET_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
IMAGENET_FILE = IMAGENET_URL.rsplit("/", 1)[1]
IMAGENET_HASH_PREFIX = "dcbb9e9d"
KERAS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + KERAS_FILE
KERAS_MD5 = "253f8cb515780f3b799900260a226db6"
DOWNLOAD_TIMEOUT_S = 15
RANDOM_WARNING = ("RANDOM WEIGHTS ({label}): VGG-19 is untrained here, so styles, saliency and predictions "
                  "show that the pipeline runs, not what a trained network sees")
_WARNED: set[str] = set()


@dataclass(frozen=True)
class WeightSource:
    """A parsed ``--weights`` value.

    kind : "imagenet" | "keras-imagenet" | "file" | "random"
    """

    kind: str
    seed: int | None = None
    path: Path | None = None

    @property
    def label(self) -> str:
        """What results record as their weight source, e.g. ``"random:0"`` or ``"imagenet"``."""
        if self.kind == "random":
            return f"random:{self.seed}"
        if self.kind == "file":
            return f"file:{self.path}"
        return self.kind

    @property
    def is_random(self) -> bool:
        return self.kind == "random"

    def warn_if_random(self) -> None:
        """Log the loud warning every random-weights run must show (once per process and source)."""
        if self.is_random and self.label not in _WARNED:
            _WARNED.add(self.label)
            log.warning(RANDOM_WARNING.format(label=self.label))


def parse_weights(spec: str | WeightSource) -> WeightSource:
    """Parse a ``--weights`` value (see the module docstring)."""
    if isinstance(spec, WeightSource):
        return spec
    spec = str(spec).strip()
    if spec in ("imagenet", "keras-imagenet"):
        return WeightSource(spec)
    if spec == "random" or spec.startswith("random:"):
        from ..seeds import parse_seed

        return WeightSource("random", seed=parse_seed(spec.partition(":")[2] or "0", f"--weights {spec!r}: its seed"))
    path = Path(spec).expanduser()
    if path.suffix.lower() not in (".pth", ".pt", ".safetensors"):
        raise ParameterError(f"--weights {spec!r}: use imagenet, keras-imagenet, random[:SEED], "
                             f"or a .pth/.safetensors file")
    if not path.is_file():
        raise WeightsError(f"weights file {path} not found; check the path, or use --weights random for a test run")
    return WeightSource("file", path=path)


def imagenet_cache_path() -> Path:
    """Where torchvision keeps (and looks for) the ImageNet VGG-19 weights."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_FILE


def keras_cache_path() -> Path:
    """Where Keras keeps (and looks for) its ImageNet VGG-19 weights (no top)."""
    base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return base / "models" / KERAS_FILE


def load_state_dict(source: str | WeightSource, *, classifier: bool = False) -> dict:
    """Return VGG-19 weights as a torchvision state dict of float32 CPU tensors.

    Parameters
    ----------
    source : str or WeightSource
        See the module docstring. ``keras-imagenet`` is not a torchvision state dict: use
        :func:`toolkit.vgg.tf_vgg.keras_imagenet_kernels` for it.
    classifier : bool
        Also return the classifier (``classifier.0.weight`` …), needed for ImageNet predictions.

    Returns
    -------
    dict of str → torch.Tensor
        Keys ``features.{i}.weight``/``.bias`` for every convolution (and ``classifier.*`` if asked for).
    """
    source = parse_weights(source)
    if source.kind == "random":
        state = random_state_dict(source.seed, classifier=classifier)
    elif source.kind == "imagenet":
        state = _load_file(ensure_imagenet_file())
    elif source.kind == "file":
        state = _load_file(source.path)
    else:
        raise ParameterError("--weights keras-imagenet works with the TensorFlow engine only; "
                             "use --weights imagenet for PyTorch")
    return _check(state, source, classifier)


def ensure_imagenet_file() -> Path:
    """The cached torchvision file, downloading it (with torch's hash check) if it is missing."""
    path = imagenet_cache_path()
    if path.is_file():
        return path
    _download(IMAGENET_URL, path, lambda tmp: _torch_download(IMAGENET_URL, tmp))
    return path


def ensure_keras_file() -> Path:
    """The cached Keras file, downloading it (with Keras' MD5 check) if it is missing."""
    path = keras_cache_path()
    if path.is_file():
        return path

    def fetch(tmp: Path) -> None:
        import keras

        got = keras.utils.get_file(tmp.name, KERAS_URL, cache_subdir=str(tmp.parent), file_hash=KERAS_MD5)
        os.replace(got, tmp)

    _download(KERAS_URL, path, fetch)
    return path


def random_state_dict(seed: int, *, classifier: bool = False) -> dict:
    """Seeded VGG-19 weights: torchvision's weight initialisation, with PyTorch's default (non-zero) biases.

    Convolutions: Kaiming normal (fan-out, ReLU gain); linear layers: N(0, 0.01). Biases are uniform in
    ±1/sqrt(fan_in), PyTorch's default for a fresh layer, rather than torchvision's zeros: with zero biases a
    converter that dropped them would still pass the PyTorch/TensorFlow parity check. Each layer has its own
    random streams seeded from ``(seed, layer)``, so the convolutions are the same whether or not the classifier
    is drawn too.
    """
    import torch

    normal = {}  # key → (shape, standard deviation, layer's stream id)
    for k, (idx, cin, cout) in enumerate(CONVS):
        normal[f"features.{idx}.weight"] = ((cout, cin, 3, 3), (2.0 / (cout * 9)) ** 0.5, k)
    if classifier:
        for k, (idx, fin, fout) in enumerate(CLASSIFIER):
            normal[f"classifier.{idx}.weight"] = ((fout, fin), 0.01, 100 + k)
    state = _seeded_normal(seed, normal)
    for key, (shape, _, stream) in normal.items():
        fan_in = shape[1] * (9 if len(shape) == 4 else 1)
        g = torch.Generator().manual_seed((seed % 2**32) * 1000 + stream)
        state[key.replace(".weight", ".bias")] = (torch.rand(shape[0], generator=g) * 2 - 1) * fan_in ** -0.5
    return state


#: Elements per random stream. Tensors are drawn in chunks of this size, each from its own generator, on all cores
#: (the classifier's 123 M weights took seconds from one generator); the size is fixed, so the weights do not
#: depend on the number of threads.
RANDOM_CHUNK = 1 << 22


def _seeded_normal(seed: int, draws: dict) -> dict:
    """``{key: float32 tensor of shape drawn from N(0, std²)}`` for ``draws = {key: (shape, std, stream)}``.

    Chunk ``j`` of a tensor comes from a generator seeded by NumPy's SeedSequence over ``(seed, stream, j)``:
    the same numbers on every machine and thread count.
    """
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import torch

    out, jobs = {}, []
    for key, (shape, std, stream) in draws.items():
        out[key] = torch.empty(shape)
        chunks = out[key].view(-1).split(RANDOM_CHUNK)
        seeds = np.random.SeedSequence((seed % 2**64, stream)).generate_state(len(chunks), dtype=np.uint64)
        jobs += [(chunk, std, int(s)) for chunk, s in zip(chunks, seeds)]

    def fill(job) -> None:
        chunk, std, s = job
        chunk.normal_(0.0, std, generator=torch.Generator().manual_seed(s))  # PyTorch releases the GIL here

    with ThreadPoolExecutor(max(1, torch.get_num_threads())) as pool:
        list(pool.map(fill, jobs))
    return out


def source_status() -> list[dict]:
    """Each weight source, where it lives and whether it is there (for ``styleseg doctor``)."""
    return [
        {"source": "imagenet", "path": str(imagenet_cache_path()), "present": imagenet_cache_path().is_file(),
         "url": IMAGENET_URL},
        {"source": "keras-imagenet", "path": str(keras_cache_path()), "present": keras_cache_path().is_file(),
         "url": KERAS_URL},
        {"source": "random[:SEED]", "path": None, "present": True, "url": None},
    ]


# --------------------------------------------------------------------------------------------- internals


def _download(url: str, dest: Path, fetch) -> None:
    """Run ``fetch(tmp)`` to download into a temporary file beside ``dest``; a one-line error if that fails."""
    missing = f"VGG-19 weights not found at {dest}"
    fix = f"download {url} on a connected machine and put it at {dest} (or use --weights random for an offline run)"
    if os.environ.get("STYLESEG_OFFLINE"):
        raise WeightsError(f"{missing} and STYLESEG_OFFLINE is set; {fix}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    log.info("downloading %s to %s", url, dest)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        fetch(tmp)
        os.replace(tmp, dest)
    except Exception as e:  # noqa: BLE001 - any failure to fetch means the same thing to the user
        tmp.unlink(missing_ok=True)
        reason = str(e).splitlines()[0][:100] if str(e) else type(e).__name__
        raise WeightsError(f"{missing} and the download failed ({reason}); {fix}") from None
    finally:
        socket.setdefaulttimeout(old)


def _torch_download(url: str, tmp: Path) -> None:
    import torch

    torch.hub.download_url_to_file(url, str(tmp), hash_prefix=IMAGENET_HASH_PREFIX, progress=True)


def _load_file(path: Path) -> dict:
    import pickle
    import warnings

    import torch

    try:
        # torch warns about the pickle protocol of plain pickles; the outcome below says all the user needs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path.suffix.lower() == ".safetensors":
                from safetensors.torch import load_file

                state = load_file(str(path))
            else:
                state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise WeightsError(f"{path} holds Python objects other than tensors and was refused for safety (nothing "
                           f"in it was run); save only the weights with torch.save(model.state_dict(), path)") from None
    except Exception as e:  # noqa: BLE001 - format errors all mean "not a usable weights file"
        reason = str(e).splitlines()[0] if str(e) else ""
        raise WeightsError(f"cannot load weights from {path} ({type(e).__name__}: {_clip(reason)}); give a "
                           f"VGG-19 state dict (.pth saved with torch.save(model.state_dict()) or "
                           f".safetensors)") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path} holds a {type(state).__name__}, not a state dict; "
                           f"save the weights with torch.save(model.state_dict(), path)")
    if state and all(str(k).split(".")[0].isdigit() for k in state):  # a bare ``features`` module's state dict
        state = {f"features.{k}": v for k, v in state.items()}
    return state


def _clip(text: str, limit: int = 80) -> str:
    """``text`` cut at a word boundary to about ``limit`` characters, marked with an ellipsis if cut."""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def expected_shapes(classifier: bool) -> dict[str, tuple[int, ...]]:
    """Every key of a torchvision VGG-19 state dict (features, and the ImageNet classifier if asked) → shape."""
    shapes = {}
    for idx, cin, cout in CONVS:
        shapes[f"features.{idx}.weight"], shapes[f"features.{idx}.bias"] = (cout, cin, 3, 3), (cout,)
    if classifier:
        for idx, fin, fout in CLASSIFIER:
            shapes[f"classifier.{idx}.weight"], shapes[f"classifier.{idx}.bias"] = (fout, fin), (fout,)
    return shapes


def _check(state: dict, source: WeightSource, classifier: bool) -> dict:
    """The state dict's float32 tensors, after checking every key and shape; one line naming the first bad key.

    Keys outside VGG-19 (or a non-tensor entry such as ``"epoch": 3``) are refused, not skipped: they mean the
    file is something else (another architecture, a training checkpoint). ``classifier.*`` entries are checked
    only when the classifier is needed (the style engines use the features alone), then with 1000 classes.
    """
    import torch

    expected = expected_shapes(classifier)
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise WeightsError(f"{source.label}: entry {key!r} is of type {type(value).__name__}, not a tensor; save "
                               f"only the weights with torch.save(model.state_dict(), path)")
        if key not in expected and not (not classifier and str(key).startswith("classifier.")):
            raise WeightsError(f"{source.label} is not a VGG-19 state dict: unexpected key {key!r} (expected "
                               f"torchvision's features.N.weight/bias and classifier.N.weight/bias)")
    for key, shape in expected.items():
        got = state.get(key)
        if got is None and key.startswith("classifier.") and not any(k.startswith("classifier.") for k in state):
            raise WeightsError(f"{source.label} has no classifier (features only); the audit needs the full "
                               f"VGG-19 with its ImageNet classifier")
        if got is None or tuple(got.shape) != shape:
            what = "missing" if got is None else f"of shape {tuple(got.shape)}"
            why = " (the audit needs the 1000-class ImageNet classifier)" if key.startswith("classifier.6") else ""
            raise WeightsError(f"{source.label} is not a VGG-19 state dict: {key} is {what}, expected shape "
                               f"{shape}{why}")
    return {key: state[key].float() for key in expected}
