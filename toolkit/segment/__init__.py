"""Segmentation: k-means colour clustering and GrabCut foreground extraction, and mask utilities."""
