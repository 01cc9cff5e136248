"""Bounds shared by the command line, study files and the library, in a module light enough for ``--help``."""

#: Optimisation steps of one stylisation: beyond this a run takes hours on a CPU, and is a typo.
MAX_STEPS = 10_000
#: Points on an audit's deletion and insertion curves.
MAX_CURVE_STEPS = 100
