"""Comparative studies: a TOML study file → both engines on the same inputs, segmentation and audit, measured
by a referee outside both engines."""
