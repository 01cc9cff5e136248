"""Reading, resizing and writing images, masks and other outputs.

Images cross this module's boundary as RGB ``float32`` arrays in [0, 1] of shape H×W×3, masks as ``float32``
arrays in [0, 1] of shape H×W (1 = foreground). Unusual but valid files are converted, not refused:

* grayscale is repeated to three channels;
* alpha is flattened onto **white** (a transparent background reads as paper, not as a black object);
* 16-bit (and 32-bit integer or float) images are scaled to [0, 1] by their bit depth;
* palette, CMYK and YCbCr images are converted to RGB;
* the first frame of an animated GIF/WebP/APNG is used;
* the EXIF orientation tag is applied, so a phone photo is upright.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), never touch an input file, and
refuse to replace an existing output unless ``force=True``. :func:`writing` keeps a Ctrl-C from cutting a set of
outputs (a report, an audit's files) in half.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import stat
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from .errors import ImageError, OutputError, ParameterError

log = logging.getLogger("styleseg")

READABLE = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
#: Larger images are refused rather than risking minutes of work and gigabytes of memory.
MAX_PIXELS = 40_000_000
#: Smaller images carry too little to segment or to pass through VGG-19's five pooling stages.
MIN_SIDE = 16
#: The image types :func:`save_image` writes.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
SAMPLE_PREFIX = "sample:"

PathLike = str | os.PathLike


def read_image(path: PathLike, max_size: int | None = None, *, min_side: int = MIN_SIDE) -> np.ndarray:
    """Read an image file as RGB float32.

    Parameters
    ----------
    path : str or Path
        A PNG, JPEG, BMP, TIFF, WebP or GIF file, or ``"sample:NAME"`` for an image bundled with the
        dependencies (see :mod:`toolkit.samples`).
    max_size : int, optional
        If given, downscale so the longer side is at most this many pixels, keeping the aspect ratio.
    min_side : int
        Refuse images whose shorter side is below this.

    Returns
    -------
    image : ndarray of float32, shape (H, W, 3), values in [0, 1]
    """
    if str(path).startswith(SAMPLE_PREFIX):
        from .samples import load_sample

        image = load_sample(str(path)[len(SAMPLE_PREFIX):])
    else:
        image = _decode(Path(path))
    _check_size(image.shape[:2], str(path), min_side)
    if max_size is not None:
        image = resize_max(image, max_size)
    return image


def read_mask(path: PathLike, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask file: white (1) is foreground, black (0) background; gray levels are kept as soft values. A
    file with transparency is a cut-out: its alpha is the mask (opaque = foreground), whatever its colours.

    Parameters
    ----------
    path : str or Path
        Any image file :func:`read_image` reads; colour masks are converted to luminance.
    shape : (H, W), optional
        Resize (bilinear) to this shape, that of the image the mask belongs to. A mask of another aspect ratio
        (beyond a pixel of rounding) is refused: stretched, it would not outline the object.

    Returns
    -------
    mask : ndarray of float32, shape (H, W), values in [0, 1]
    """
    if shape is not None:
        shape = _image_shape(shape)
    mask = _decode(Path(path), _to_mask_float)
    if shape is not None and mask.shape != shape:
        if not _scaled_copies(mask.shape, shape):
            raise ImageError(f"mask {path} is {mask.shape[1]}×{mask.shape[0]} pixels and the image {shape[1]}×"
                             f"{shape[0]}: not the same shape, so not this image's mask; give the mask made for "
                             f"this image (a scaled copy is fine)")
        mask = resize_to(mask, shape)
    return np.clip(mask, 0.0, 1.0)


#: Values this little outside [0, 1] are rounding (half an 8-bit level), not another range: they are clipped.
RANGE_SLACK = 0.5 / 255
#: An image being written is clipped to [0, 1] within this much: after minutes of work a computed image's
#: overshoot (a cubic resize, a colour transfer) must not stop the write; beyond it (0-255) it is refused.
WRITE_SLACK = 0.5


def as_image(image, what: str = "the image", *, alpha: bool = False, min_side: int = MIN_SIDE) -> np.ndarray:
    """``image`` as the library's functions take it: a C-contiguous float32 H×W×3 array in [0, 1].

    Cheap, unambiguous differences are converted: float64 or float16, a read-only or non-contiguous array (a
    flipped or transposed view), a nested list; values within :data:`RANGE_SLACK` of [0, 1] are clipped. The
    caller's array is never changed (a converted array is a copy). Anything else is refused with a one-line
    :class:`ParameterError` naming ``what`` and the fix, before any work: an integer or boolean array (uint8's
    0-255 is not [0, 1]: which scale was meant is the caller's to say), float values outside [0, 1] (a 0-255
    image in float), NaN or infinity, a grayscale (H×W), RGBA or other non-RGB shape, an empty image, a side under
    ``min_side`` or more than :data:`MAX_PIXELS` pixels (the limits of an image file, :func:`read_image`).
    ``alpha=True``: H×W×4 (RGBA) is taken as well.
    """
    a = _numeric(image, what)
    if a.dtype.kind != "f":
        raise ParameterError(f"{what} is {_dtype_name(a)}, but float32 RGB in [0, 1] is expected; "
                             f"{_float_fix(a)}")
    if a.ndim == 3 and a.shape[2] == 4 and alpha:
        return _in_unit_range(a, what, "rescale it to [0, 1]")
    if a.ndim == 3 and a.shape[2] == 4:
        raise ParameterError(f"{what} has 4 channels (RGBA); give RGB H×W×3: flatten the alpha onto white with "
                             f"rgb * alpha + (1 - alpha), or drop it with image[..., :3]")
    if a.ndim == 2 or a.ndim == 3 and a.shape[2] == 1:
        raise ParameterError(f"{what} is {a.shape[1]}×{a.shape[0]} with one channel (grayscale, or a mask?); "
                             f"give RGB H×W×3, e.g. np.repeat(gray[..., None], 3, axis=2)")
    if a.ndim != 3 or a.shape[2] != 3:
        raise ParameterError(f"{what} has shape {a.shape}; give an RGB image of shape (H, W, 3)")
    _require_pixels(a, what)
    h, w = a.shape[:2]
    if min(h, w) < min_side:  # the limits of an image file: an array is not upscaled out of a few pixels either
        raise ParameterError(f"{what} is {w}×{h} pixels, too small: each side needs at least {min_side} pixels")
    if h * w > MAX_PIXELS:
        raise ParameterError(_too_large(what, h, w))
    return _in_unit_range(a, what, "rescale it to [0, 1]")


def as_mask(mask, shape: tuple[int, int], what: str = "the mask", of: str = "the image") -> np.ndarray:
    """``mask`` as the library's functions take it: a C-contiguous float32 H×W array in [0, 1] (1 = foreground)
    of ``shape``, the (H, W) of the image ``of`` it belongs to.

    Converted: a boolean, integer (values 0 and 1) or float64 array, H×W×1, a read-only or non-contiguous array,
    a nested list; values within :data:`RANGE_SLACK` of [0, 1] are clipped. Refused in one line, naming ``what``
    and the fix: values outside [0, 1] (a 0/255 mask), NaN or infinity, colour channels, another shape.
    """
    a = _numeric(mask, what)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 3:
        raise ParameterError(f"{what} has {a.shape[2]} channels ({a.shape[1]}×{a.shape[0]}×{a.shape[2]}); give "
                             f"one channel H×W, e.g. mask[..., 0]")
    if a.ndim != 2:
        raise ParameterError(f"{what} has shape {a.shape}; give a mask of shape (H, W)")
    h, w = shape[:2]
    if a.shape != (h, w):
        raise ParameterError(f"{what} is {a.shape[1]}×{a.shape[0]} but {of} is {w}×{h}; give the mask made for "
                             f"this image (toolkit.io.read_mask(path, shape=...) resizes a scaled copy)")
    if a.dtype == bool:
        a = a.astype(np.float32)
    return _in_unit_range(a, what, "1 is foreground, 0 background")


def _image_shape(shape) -> tuple[int, int]:
    """``shape`` as (H, W), two positive whole numbers, or a one-line ParameterError."""
    try:
        sides = tuple(shape)
    except TypeError:
        sides = ()
    if len(sides) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                                  for v in sides):
        raise ParameterError(f"shape {shape!r} is not an image's (H, W): give two positive whole numbers, e.g. "
                             f"image.shape[:2]")
    return int(sides[0]), int(sides[1])


def _numeric(value, what: str) -> np.ndarray:
    """``value`` as a NumPy array of real numbers or booleans, or a one-line ParameterError."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as e:  # ragged nested lists
        raise ParameterError(f"{what} is not an array ({_short(e)}); give a NumPy array") from None
    if a.dtype.kind not in "biuf":
        raise ParameterError(f"{what} is an array of {a.dtype} ({type(value).__name__}); give a NumPy array of "
                             f"numbers")
    return a


def _require_pixels(a: np.ndarray, what: str) -> None:
    if a.size == 0:
        size = f"{a.shape[1]}×{a.shape[0]} pixels" if a.ndim >= 2 else f"of shape {a.shape}"
        raise ParameterError(f"{what} is {size}: empty; give an image with pixels")


def _in_unit_range(a: np.ndarray, what: str, fix: str, slack: float = RANGE_SLACK) -> np.ndarray:
    """``a`` as C-contiguous float32, checked to be finite and in [0, 1] (clipped within ``slack``)."""
    _require_pixels(a, what)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = int(np.count_nonzero(~np.isfinite(a)))
        raise ParameterError(f"{what} has {bad} NaN or infinite value(s); replace them (e.g. np.nan_to_num) or "
                             f"fix what produced them")
    lo, hi = float(a.min()), float(a.max())
    if lo < -slack or hi > 1 + slack:
        scale = "a 0-255 scale? divide it by 255" if 1 < hi <= 255 and lo >= 0 else fix
        raise ParameterError(f"{what} has values from {lo:.4g} to {hi:.4g}, outside [0, 1] ({scale})")
    out = np.ascontiguousarray(a, dtype=np.float32)
    if lo < 0 or hi > 1:
        out = np.clip(out, 0.0, 1.0)
    elif not out.flags.writeable:  # PyTorch warns on (and may share) a read-only array: the copy is ours
        out = out.copy()
    return out


def _dtype_name(a: np.ndarray) -> str:
    if a.dtype == bool:
        return "boolean (a mask?)"
    if a.size:
        return f"{a.dtype} (values {a.min()}-{a.max()})"
    return str(a.dtype)


def _float_fix(a: np.ndarray) -> str:
    if a.dtype == np.uint8:
        return "divide it by 255 (e.g. image.astype(np.float32) / 255)"
    if a.dtype == np.uint16:
        return "divide it by 65535"
    return "scale it to float32 in [0, 1] (e.g. skimage.util.img_as_float32)"


def resize_max(image: np.ndarray, max_size: int) -> np.ndarray:
    """Downscale so that the longer side is at most ``max_size`` pixels (never upscales).

    Works on H×W or H×W×C float arrays and keeps the aspect ratio (each side rounded, at least 1 pixel).
    """
    if max_size < 1:
        raise ImageError(f"max_size must be a positive number of pixels, got {max_size}")
    h, w = image.shape[:2]
    scale = max_size / max(h, w)
    if scale >= 1.0:
        return image
    return resize_to(image, (max(1, round(h * scale)), max(1, round(w * scale))))


def resize_to(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize an H×W or H×W×C float array to ``shape`` = (H', W').

    Area averaging when shrinking (no aliasing), bilinear when enlarging.
    """
    import cv2

    h, w = image.shape[:2]
    th, tw = int(shape[0]), int(shape[1])
    if (h, w) == (th, tw):
        return image
    interp = cv2.INTER_AREA if th * tw < h * w else cv2.INTER_LINEAR
    out = cv2.resize(np.ascontiguousarray(image, dtype=np.float32), (tw, th), interpolation=interp)
    return out.astype(np.float32)


def to_uint8(image: np.ndarray, what: str = "the image to save") -> np.ndarray:
    """Float [0, 1] (or boolean) → uint8 [0, 255], rounded; uint8 passes through.

    Anything else is refused in one line (:class:`ParameterError`) rather than written as a white or black
    picture: other integer types (a uint16 or int64 0-255 array), floats beyond [0, 1] by more than
    :data:`WRITE_SLACK` (nearer ones are clipped), NaN or infinity.
    """
    a = _numeric(image, what)
    _require_pixels(a, what)
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind in "iu":
        raise ParameterError(f"{what} is {_dtype_name(a)}; give uint8 (0-255) or float in [0, 1], e.g. "
                             f"image.astype(np.uint8) if its values are 0-255")
    return (_in_unit_range(a, what, "rescale it to [0, 1]", WRITE_SLACK) * 255.0 + 0.5).astype(np.uint8)


def _pixels_to_write(image: np.ndarray, suffix: str) -> np.ndarray:
    """The uint8 H×W, H×W×3 or (not for JPEG) H×W×4 array :func:`save_image` writes, or a one-line refusal."""
    what = "the image to save"
    arr = to_uint8(image, what)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or arr.ndim == 3 and arr.shape[2] in (3, 4)):
        raise ParameterError(f"{what} has shape {arr.shape}; give (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA")
    if arr.ndim == 3 and arr.shape[2] == 4 and suffix in (".jpg", ".jpeg"):
        raise ParameterError(f"{what} is RGBA but JPEG has no transparency; save it as .png, or drop the alpha "
                             f"with image[..., :3]")
    return np.ascontiguousarray(arr)


def check_output(path: PathLike, *, force: bool = False, protect: Iterable[PathLike] = ()) -> Path:
    """Check that writing ``path`` loses nothing; return it as a Path.

    Refuses, whatever ``force`` says: a path that is one of the ``protect`` files (the run's inputs), compared
    after resolving ``..`` and symbolic links (and hard links, by inode); anything but a regular file (a folder,
    a FIFO, a device); a path whose parent is a file or that cannot be looked up (a symlink loop, a name too
    long). Refuses an existing file unless ``force``.
    """
    out = Path(path)
    for p in protect:
        if not str(p).startswith(SAMPLE_PREFIX) and same_file(out, Path(p)):
            raise OutputError(f"refusing to write {out}: it is an input of this run ({p}); "
                              f"choose another output path")
    st = _stat(out)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{out} is a folder; give a file name")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{out} is not a regular file (a FIFO, device or socket); choose a file path")
        if not force:
            raise OutputError(f"{out} already exists; pass --force to replace it or choose another output path")
    return out


def check_writable(folder: PathLike, what: PathLike) -> None:
    """Check that ``what`` can be written into ``folder``: the folder (or, when it is still to be made, its
    nearest existing ancestor) is a folder in which a temporary file can be created and removed."""
    folder = Path(os.path.abspath(folder))
    existing = next(p for p in [folder, *folder.parents] if os.path.lexists(p))
    if not existing.is_dir():
        raise OutputError(f"cannot write {what}: {existing} is a file, not a folder; choose another path")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        raise OutputError(f"cannot write {what}: the folder {existing} is not writable ({e.strerror}); "
                          f"choose another folder") from None


def atomic_write_bytes(path: PathLike, data: bytes, *, force: bool = False,
                       protect: Iterable[PathLike] = ()) -> Path:
    """Write ``data`` to ``path`` atomically: a reader sees the old file or the whole new one, never a part."""
    out = check_output(path, force=force, protect=protect)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e} ({e.filename or out.parent}); "
                          f"choose another output folder") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would hide a shared report from its readers
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


class Writing:
    """What :func:`writing` saw: ``interrupted`` once a Ctrl-C or SIGTERM came while the outputs were written."""

    interrupted = False


@contextmanager
def writing(what: str, *, reraise: bool = True) -> Iterator[Writing]:
    """Write the outputs in the block whole before a Ctrl-C (or a SIGTERM the CLI turns into one) takes effect.

    The work they hold is done: the first signal waits for the block to end, then raises KeyboardInterrupt (with
    ``reraise=False``, sets ``interrupted`` instead, for the caller to report). A second signal is the user
    insisting: it raises at once, and the atomic writes leave no part of a file. Only signals that raise in Python
    are held (a SIGTERM left to kill the process, or an ignored SIGINT, stays so), and only in the main thread,
    the one that receives them.
    """
    state = Writing()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def hold(signum, frame):
        if state.interrupted:
            raise KeyboardInterrupt
        state.interrupted = True
        log.warning("writing %s first; interrupt again to abandon it", what)

    held = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    held = {s: h for s, h in held.items() if callable(h)}
    for s in held:
        signal.signal(s, hold)
    try:
        yield state
    finally:
        for s, h in held.items():
            signal.signal(s, h)
    if state.interrupted and reraise:
        raise KeyboardInterrupt


def write_json(path: PathLike, obj, *, force: bool = False, protect: Iterable[PathLike] = ()) -> Path:
    """Write ``obj`` as indented, strict JSON, atomically (NumPy scalars and arrays become plain numbers and
    lists). A NaN or infinity raises ValueError: JSON has none (JavaScript's JSON.parse rejects the file), so an
    undefined figure must be None (see :func:`null_undefined`)."""
    try:
        text = json.dumps(obj, indent=2, default=_json_default, allow_nan=False)
    except ValueError as e:
        raise ValueError(f"cannot write {path}: {e}; store an undefined number as None") from e
    return atomic_write_bytes(path, (text + "\n").encode(), force=force, protect=protect)


def null_undefined(obj):
    """``obj`` with every NaN or infinite float (NumPy's too, in arrays as well) replaced by None, JSON's null."""
    if isinstance(obj, dict):
        return {k: null_undefined(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [null_undefined(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return null_undefined(obj.tolist())
    if isinstance(obj, (float, np.floating)) and not math.isfinite(obj):
        return None
    return obj


def encode_png(image: np.ndarray, metadata: dict | None = None) -> bytes:
    """Encode an H×W or H×W×3 image (float in [0, 1] or uint8) as PNG bytes.

    ``metadata`` is stored as JSON in a PNG text chunk named ``styleseg`` (read it back with
    :func:`read_png_metadata`).
    """
    import io as _io

    arr = _pixels_to_write(image, ".png")
    info = PngImagePlugin.PngInfo()
    if metadata:
        info.add_itxt("styleseg", json.dumps(metadata, default=_json_default, sort_keys=True))
    buf = _io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", pnginfo=info, optimize=False, compress_level=6)
    return buf.getvalue()


def save_image(path: PathLike, image: np.ndarray, *, metadata: dict | None = None, force: bool = False,
               protect: Iterable[PathLike] = ()) -> Path:
    """Save an image or mask atomically.

    Parameters
    ----------
    path : str or Path
        Output file. ``.png`` keeps ``metadata`` in a text chunk; ``.jpg``/``.webp``/``.tif``/``.bmp`` are
        written without it.
    image : ndarray, shape (H, W) or (H, W, 3) (or (H, W, 4) RGBA, not for JPEG), float in [0, 1] or uint8
        (see :func:`to_uint8`: what would be written wrongly is refused)
    metadata : dict, optional
        The run's parameters (seed, settings, versions, ...), JSON-serialisable.
    force : bool
        Replace an existing file.
    protect : iterable of paths
        The run's inputs; writing over one of them is refused even with ``force``.
    """
    out = check_image_output(path, force=force, protect=protect)
    suffix = out.suffix.lower()
    if suffix == ".png":
        data = encode_png(image, metadata)
    else:
        import io as _io

        buf = _io.BytesIO()
        Image.fromarray(_pixels_to_write(image, suffix)).save(buf, format=Image.registered_extensions()[suffix])
        data = buf.getvalue()
    return atomic_write_bytes(out, data, force=force, protect=protect)


def check_image_output(path: PathLike, *, force: bool = False, protect: Iterable[PathLike] = ()) -> Path:
    """:func:`check_output` for an image :func:`save_image` can write (a type in :data:`IMAGE_SUFFIXES`)."""
    out = check_output(path, force=force, protect=protect)  # first: a folder is named as one, not as a type
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise OutputError(f"cannot write {out}: unknown image type {out.suffix!r}; use .png (keeps the run's "
                          f"metadata), .jpg, .webp, .tif or .bmp")
    return out


def read_png_metadata(path: PathLike) -> dict:
    """Return the ``styleseg`` metadata a PNG written by :func:`save_image` carries (``{}`` if none)."""
    with Image.open(path) as im:
        text = getattr(im, "text", {}) or {}
    return json.loads(text["styleseg"]) if "styleseg" in text else {}


# --------------------------------------------------------------------------------------------- internals


def _decode(path: Path, convert=None) -> np.ndarray:
    """The first frame of the image file at ``path``, upright (EXIF), through ``convert(image, path)`` (default:
    float32 RGB in [0, 1]); every failure is a one-line ImageError."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file; check the path") from None
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) else "the path holds a NUL byte"
        raise ImageError(f"{path} cannot be read ({why}); check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageError(f"{path} is a folder, not an image; give an image file")
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(f"{path} is not a regular file (a FIFO or device?); give an image file")
    if st.st_size == 0:
        raise ImageError(f"{path} is empty (0 bytes); give a PNG, JPEG, BMP, TIFF or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise ImageError(_too_large(path, h, w))
                im.seek(0)  # first frame of an animation
                im.load()
                oriented = ImageOps.exif_transpose(im)
                return (convert or _to_rgb_float)(oriented, path)
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        if isinstance(e, UnidentifiedImageError):
            raise ImageError(f"{path} is not an image file Pillow can read (is it really {path.suffix or 'an image'}?); "
                             f"give a PNG, JPEG, BMP, TIFF or WebP image") from None
        raise ImageError(_too_large(path, None, None)) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{path} is damaged or truncated ({_short(e)}); re-export or re-download the file") from None


def _to_rgb_float(im: Image.Image, path: Path) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return _gray(np.asarray(im, dtype=np.float32) / 65535.0)
    if mode == "I":
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) <= 65535 else float(2**31 - 1)
        return _gray((arr / top).astype(np.float32))
    if mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        if arr.size and arr.max() > 1.0:
            arr = arr / arr.max()
        return _gray(arr)
    if mode == "RGB" and _is_16bit_png(path):
        return _read_16bit_color(path, im)
    if "A" in mode or mode == "P" and "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return np.ascontiguousarray(rgb)


def _to_mask_float(im: Image.Image, path: Path) -> np.ndarray:
    """H×W float32 in [0, 1]: the alpha channel of an image with transparency (a cut-out: opaque object on a
    transparent canvas), else the luminance (white object on black)."""
    if "A" in im.mode or im.mode == "P" and "transparency" in im.info:
        alpha = np.asarray(im.convert("RGBA"), dtype=np.float32)[..., 3] / 255.0
        if alpha.min() < 1.0:
            return np.ascontiguousarray(alpha)
    rgb = _to_rgb_float(im, path)
    return (rgb @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32)


def _gray(arr: np.ndarray) -> np.ndarray:
    return np.repeat(np.clip(arr, 0.0, 1.0)[..., None], 3, axis=2).astype(np.float32)


def _is_16bit_png(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(26)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and head[24] == 16


def _read_16bit_color(path: Path, oriented: Image.Image) -> np.ndarray:
    """Pillow reduces 48/64-bit PNGs to 8 bits; OpenCV keeps all 16."""
    import cv2

    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None or raw.dtype != np.uint16:
        return np.asarray(oriented.convert("RGB"), dtype=np.float32) / 255.0
    arr = raw.astype(np.float32) / 65535.0
    if arr.shape[2] == 4:
        rgb, alpha = arr[..., 2::-1], arr[..., 3:4]
        arr = rgb * alpha + (1.0 - alpha)
    else:
        arr = arr[..., ::-1]
    return np.ascontiguousarray(arr, dtype=np.float32)


def _check_size(hw: tuple[int, int], name: str, min_side: int) -> None:
    h, w = hw
    if min(h, w) < min_side:
        raise ImageError(f"{name} is {w}×{h} pixels, too small: each side needs at least {min_side} pixels")
    if h * w > MAX_PIXELS:
        raise ImageError(_too_large(name, h, w))


def _too_large(name, h, w) -> str:
    size = f" ({w}×{h})" if h else ""
    return (f"{name} is too large{size}: at most {MAX_PIXELS // 1_000_000} megapixels; "
            f"downscale it first (the tools work at a few hundred pixels anyway)")


def _scaled_copies(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether one (H, W) size is the other scaled, each side rounded to within a pixel."""
    small, large = sorted((a, b), key=lambda hw: hw[0] * hw[1])
    lo = max((small[0] - 1) / large[0], (small[1] - 1) / large[1])
    hi = min((small[0] + 1) / large[0], (small[1] + 1) / large[1])
    return lo <= hi


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether ``a`` and ``b`` name the same file: the same inode, or the same path once ``..`` and symbolic
    links are resolved (for a file not written yet)."""
    try:
        if os.path.samefile(a, b):
            return True
    except (OSError, ValueError):
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _stat(path: Path) -> os.stat_result | None:
    """``os.stat`` of an output path (None if it does not exist), or a one-line error saying why it cannot be
    looked up."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        blocker = next(p for p in [path, *path.parents] if p.exists() and not p.is_dir())
        raise OutputError(f"cannot write {path}: {blocker} is a file, not a folder; choose another output "
                          f"path") from None
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) else "the path holds a NUL byte"
        raise OutputError(f"cannot write {path}: {why}; choose another output path") from None


def _short(e: Exception) -> str:
    return str(e).splitlines()[0][:120] if str(e) else type(e).__name__


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(o)
    raise TypeError(f"cannot store {type(o).__name__} as JSON")
