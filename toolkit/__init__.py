"""styleseg: region-aware neural style transfer and a VGG-19 audit.

The package is organised as a one-way flow (see README): ``io`` -> ``segment`` -> ``style`` / ``audit``
-> ``study`` -> ``report``; ``cli`` is a thin layer over all of it.
"""

__version__ = "0.1.0"
