"""Cluster the vector-path rectangles of one page into figure parts, in time linear in the paths.

`ingest.figures` reads each page's painted paths (`ingest.pages.read_graphics`) and needs them
grouped the way `page.cluster_drawings()` would (paths within 3 pt belong together), but that is
quadratic and takes seconds on the 34k-path heat maps of the corpus; `ingest.tables` uses the same
clusters to clip its table search. Here the rects are painted, dilated, on
a coarse occupancy grid and the grid's connected components are the clusters. Each cluster also
says how many of its paths are long rules or frames (the signature of a ruled table or a text box).

Leaves out: images (figures groups them with the clusters), curves' exact shapes (bboxes only).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

GRID = 2.0  # points per occupancy cell
PATH_TOL = 3.0  # paths closer than this belong together (cluster_drawings' default)


def cluster_paths(paths: list[list[float]], pw: float, ph: float) -> list[list[float]]:
    """Cluster path rects that lie within `PATH_TOL`; return one rect per cluster plus stats.

    Each returned rect is [x0, y0, x1, y1, n_paths, n_long]: "long" paths are thin rules spanning
    most of their cluster, shaded full-width rows or a frame: the signature of a ruled table or a
    box around text rather than a chart.
    """
    if not paths:
        return []
    groups: dict[int, list[list[float]]] = defaultdict(list)
    for lab, r in zip(label_rects(paths, pw, ph), paths):
        groups[lab].append(r)
    out = []
    for members in groups.values():
        arr = np.asarray(members)
        x0, y0 = arr[:, 0].min(), arr[:, 1].min()
        x1, y1 = arr[:, 2].max(), arr[:, 3].max()
        if x1 - x0 < 12 or y1 - y0 < 12:  # underlines, rules, bullets
            continue
        w, h = arr[:, 2] - arr[:, 0], arr[:, 3] - arr[:, 1]
        long_h = (h < 2.5) & (w > 0.5 * (x1 - x0))
        long_v = (w < 2.5) & (h > 0.5 * (y1 - y0))
        bands = (w > 0.9 * (x1 - x0)) & (h < 0.3 * (y1 - y0))
        frame = (w > 0.9 * (x1 - x0)) & (h > 0.9 * (y1 - y0))
        n_long = int((long_h | long_v | bands | frame).sum())
        if ((w < 2.5) | (h < 2.5)).mean() > 0.9:  # nothing but rules: a grid (charts have marks)
            n_long = len(members)
        out.append([float(x0), float(y0), float(x1), float(y1), len(members), n_long])
    return out


def label_rects(rects: list[list[float]], pw: float, ph: float) -> list[int]:
    """Connected components of rects painted (dilated) on a coarse grid, one label per rect."""
    cols, rows = int(pw / GRID) + 3, int(ph / GRID) + 3
    pad = PATH_TOL / 2
    arr = np.asarray(rects, dtype=float)
    c0 = np.clip(((arr[:, 0] - pad) / GRID).astype(int), 0, cols - 1)
    r0 = np.clip(((arr[:, 1] - pad) / GRID).astype(int), 0, rows - 1)
    c1 = np.clip(((arr[:, 2] + pad) / GRID).astype(int) + 1, 1, cols)
    r1 = np.clip(((arr[:, 3] + pad) / GRID).astype(int) + 1, 1, rows)
    # Only the window the rects cover is labelled (components do not care where it sits on the
    # page); the whole page's grid made prefix sums the main cost on pages with small figures.
    top, left = int(r0.min()), int(c0.min())
    r0, r1, c0, c1 = r0 - top, r1 - top, c0 - left, c1 - left
    rows, cols = int(r1.max()), int(c1.max())
    # paint every rect at once: +1/-1 at its corners, then a 2-D prefix sum gives the coverage
    # (bincount, not np.add.at, which was a third of this function's time)
    w = cols + 1
    corners = np.concatenate((r0 * w + c0, r0 * w + c1, r1 * w + c0, r1 * w + c1))
    signs = np.repeat(np.array([1, -1, -1, 1], dtype=np.int32), len(arr))
    diff = np.bincount(corners, weights=signs, minlength=(rows + 1) * w).astype(np.int32).reshape(rows + 1, w)
    grid = diff.cumsum(axis=0).cumsum(axis=1)[:rows, :cols] > 0
    cells_r, cells_c = (r0 + r1 - 1) // 2, (c0 + c1 - 1) // 2
    # every run of painted cells, row by row, found at once (row-major, so starts and ends pair up)
    padded = np.zeros((rows, cols + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    edges = np.diff(padded, axis=1)
    run_rows, run_starts = np.nonzero(edges == 1)
    run_ends = np.nonzero(edges == -1)[1]
    parent: list[int] = []

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    # run-length labelling: a run joins every run of the row above that it touches
    lab = np.zeros((rows, cols), dtype=np.int32)
    prev: list[tuple[int, int, int]] = []
    cur: list[tuple[int, int, int]] = []
    row, j = -2, 0
    for y, s, e in zip(run_rows.tolist(), run_starts.tolist(), run_ends.tolist()):
        if y != row:
            prev = cur if y == row + 1 else []
            cur, row, j = [], y, 0
        while j < len(prev) and prev[j][1] <= s:
            j += 1
        root, k = -1, j
        while k < len(prev) and prev[k][0] < e:
            other = find(prev[k][2])
            if root < 0:
                root = other
            elif other != root:
                parent[other] = root
            k += 1
        if root < 0:
            root = len(parent)
            parent.append(root)
        cur.append((s, e, root))
        lab[y, s:e] = root + 1
    return [find(v - 1) for v in lab[cells_r, cells_c].tolist()]
