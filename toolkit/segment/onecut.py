"""OneCut (Tang, Gorelick, Veksler and Boykov, "GrabCut in One Cut", ICCV 2013): box segmentation in one graph cut.

The energy of a foreground set S, for a box R:

    E(S) = |R \\ S| + beta * sum_k min(|S_k|, |S̄_k|) + lambda * sum_{p~q, p∈S, q∉S} w_pq

- ballooning: every pixel of the box left out costs 1;
- the L1 colour-overlap term: S_k are the foreground pixels of colour bin k (32³ RGB bins). Each bin gets one
  auxiliary node joined to its pixels by edges of weight beta, so a colour found both inside and outside S costs
  beta per pixel of its smaller side. This is what GrabCut lacks: colours seen outside the box cannot be kept
  inside S for free, where GrabCut's foreground model can absorb them (a dark sky around the moon);
- contrast-sensitive Potts smoothness on the 8-neighbour grid, w_pq = exp(-|I_p - I_q|² / 2σ²) / |p - q|, σ²
  the mean squared colour difference of neighbours;
- outside the box is background (hard).

beta = 0.9 × |R| / (the initial colour overlap of box and outside) and lambda = 9 at full resolution, as in the
authors' code. The graph is built and cut in C by PyMaxflow (Boykov-Kolmogorov max-flow).
"""

from __future__ import annotations

import numpy as np

#: Weight of the smoothness term at full resolution (the authors' value).
SMOOTHNESS = 9.0
#: beta = BETA_SHARE × box area / initial colour overlap (the authors' value).
BETA_SHARE = 0.9
#: Width of a colour bin per RGB channel: 32 bins per channel.
BIN_SIZE = 8
#: (dy, dx) of the 4 forward neighbours of the 8-neighbour grid.
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))


def onecut(image: np.ndarray, inside: np.ndarray, smoothness: float = SMOOTHNESS,
           beta_share: float = BETA_SHARE) -> np.ndarray:
    """The OneCut segmentation of the box ``inside``.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W, 3), RGB
    inside : ndarray of bool, shape (H, W): the box (outside is background)
    smoothness : float
        lambda; on a copy scaled by s from full resolution, pass ``SMOOTHNESS * s`` (boundary length scales by s,
        areas by s²).
    beta_share : float
        Weight of the colour-overlap term, as a share of the ballooning it can outweigh (0: no colour term).

    Returns
    -------
    mask : ndarray of float32, shape (H, W), 1 = foreground
    """
    import maxflow

    from .masks import colour_bins

    h, w = inside.shape
    _, bins = np.unique(colour_bins(image, 256 // BIN_SIZE).ravel(), return_inverse=True)
    bins = bins.reshape(h, w)
    graph = maxflow.Graph[float]()
    nodes = graph.add_grid_nodes((h, w))
    _add_smoothness(graph, nodes, image.astype(np.float64), smoothness)
    n_bins = int(bins.max()) + 1
    overlap = np.minimum(np.bincount(bins[inside], minlength=n_bins), np.bincount(bins[~inside], minlength=n_bins))
    beta = beta_share * inside.sum() / max(int(overlap.sum()), 1)
    if beta > 0:
        aux = graph.add_nodes(n_bins)
        weights = np.full(h * w, beta)
        graph.add_edges(nodes.ravel(), aux[bins.ravel()], weights, weights)
    # source = foreground: a box pixel cut from the source (background) pays the ballooning 1; outside the box
    # the sink edge can't be cut (1e9 outweighs every other edge of a pixel)
    graph.add_grid_tedges(nodes, inside.astype(np.float64), np.where(inside, 0.0, 1e9))
    graph.maxflow()
    return (~graph.get_grid_segments(nodes)).astype(np.float32)


def _add_smoothness(graph, nodes: np.ndarray, image: np.ndarray, smoothness: float) -> None:
    """Contrast-sensitive Potts edges between 8-neighbours, both directions."""
    h, w = nodes.shape
    diffs = []
    for dy, dx in _SHIFTS:
        x0, x1 = max(0, -dx), w - max(0, dx)  # p = (y, x) with q = (y + dy, x + dx) inside the image
        d = ((image[:h - dy, x0:x1] - image[dy:, x0 + dx:x1 + dx]) ** 2).sum(-1)
        diffs.append((dy, dx, x0, x1, d))
    sigma2 = max(float(np.mean(np.concatenate([d.ravel() for *_, d in diffs]))), 1e-9)
    for dy, dx, x0, x1, d in diffs:
        weights = np.zeros((h, w))
        weights[:h - dy, x0:x1] = smoothness * np.exp(-d / (2 * sigma2)) / np.hypot(dy, dx)
        structure = np.zeros((3, 3))
        structure[1 + dy, 1 + dx] = 1
        graph.add_grid_edges(nodes, weights=weights, structure=structure, symmetric=True)
