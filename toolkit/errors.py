"""User-facing errors.

Every error a user can cause is a :class:`StyleSegError` whose message is one line that names the problem
and the fix. The CLI prints it as ``styleseg: error: <message>`` and exits with status 2; anything else is a
bug and keeps its traceback.
"""


class StyleSegError(Exception):
    """A problem with the user's input or environment, told in one line."""


class ImageError(StyleSegError):
    """An image or mask file that cannot be read, or whose size is out of range."""


class OutputError(StyleSegError):
    """An output path that would overwrite an input or an existing file."""


class WeightsError(StyleSegError):
    """Weights that cannot be found, downloaded or loaded."""


class ParameterError(StyleSegError, ValueError):
    """A parameter outside its valid range, or parameters that contradict each other."""


class SegmentationError(StyleSegError):
    """A segmentation that cannot run or produced nothing usable (e.g. an empty mask)."""
