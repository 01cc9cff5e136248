"""User-facing errors.

Every error a user can cause is a :class:`StyleSegError` whose message is one line that names the problem
and the fix. The CLI prints it as ``styleseg: error: <message>`` and exits with status 2; anything else is a
bug and keeps its traceback.

Messages often echo what the user typed (a key, a path): :func:`printable` escapes the control characters in
them, so a newline or an ANSI escape sequence in a file name can neither forge further lines nor recolour the
terminal. ``str()`` of every :class:`StyleSegError` is already escaped.
"""

import unicodedata

#: Bidirectional overrides and isolates are format characters (Cf) that reorder what a terminal shows.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: object) -> str:
    """``text`` with control characters (C0, DEL, C1, bidi overrides) written as ``\\xNN`` / ``\\uNNNN``."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) == "Cc" or ch in _BIDI:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


class StyleSegError(Exception):
    """A problem with the user's input or environment, told in one line (control characters escaped)."""

    def __str__(self) -> str:
        return printable(super().__str__())


class ImageError(StyleSegError):
    """An image or mask file that cannot be read, or whose size is out of range."""


class OutputError(StyleSegError):
    """An output path that would overwrite an input or an existing file, or that cannot be written."""


class WeightsError(StyleSegError):
    """Weights that cannot be found, downloaded or loaded."""


class ParameterError(StyleSegError, ValueError):
    """A parameter outside its valid range, or parameters that contradict each other."""


class SegmentationError(StyleSegError):
    """A segmentation that cannot run or produced nothing usable (e.g. an empty mask)."""


def in_context(error: StyleSegError, where: str) -> StyleSegError:
    """An error of the same kind with ``where`` (a file, a table, a key) in front of its message."""
    return type(error)(f"{where}: {error}")
