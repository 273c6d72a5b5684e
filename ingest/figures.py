"""Find the figures of a PDF, render each to PNG and pair it with its caption and body mentions.

A figure is built from what a page paints, read cheaply as a bbox log (`ingest.pages.read_graphics`,
no image decoding): raster images and vector paths. Paths are clustered on a coarse occupancy grid
(linear in the number of paths; `page.cluster_drawings()` is quadratic and takes seconds on the
34k-path heat maps of the corpus). Images and path clusters that touch are grouped, so a figure made
of twelve panel images is one region. Each region is paired with the nearest caption line
("Figure 3", "Fig. 3", "FIG 3", "Figure S1", "图3", "Table 2", "表2"; read from the page itself,
see `ingest.captions`, which `ingest.tables` reuses) on its expected side, with no body text between; all regions that choose the same caption merge into
one figure. A caption with no region on its page takes an uncaptioned region of a neighbouring page
(journals that print the legend on the page after the figure).

Dropped: images repeated at the same place on several pages (journal logos, running banners),
tiny regions (icons, ORCID/CrossMark badges), page-wide rules, and vector clusters that look like
ruled tables or text frames unless a "Figure" caption claims them. An uncaptioned region must be
large to be kept (graphical abstracts are; badges are not).

Measured on the 526-page shared corpus: 189 figures, 97% of figure captions paired, 5.2-5.5 s CPU
(rendering 2.9 s and PNG encoding 0.3 s of it, the bbox logs 1.3 s). Page text comes from `ingest.pages`,
read once per parse; path clustering is in `ingest.paths`.

Leaves out: tables as text (`ingest.tables`), OCR, figures split across pages (each page part is
its own figure, continuation pages keep their "continued" caption only when it is a caption line),
several side captions sharing one stacked region (only the nearest one pairs).
"""
from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pymupdf
from isal.isal_zlib import compress as _deflate  # zlib's format, 5x faster at level 1 (see _png)

from assistant.types import FigureImage, TextBlock
from ingest.captions import Caption, PageText, find_captions, find_mentions
from ingest.pages import PageReads, read_pages
from ingest.paths import cluster_paths

# 120 dpi: a full-width figure is ~800 px, enough to read on screen; 150 dpi cost ~2 s more of the
# corpus's ingest (rasterising and PNG encoding grow with the pixel count). A lower dpi saves less
# than it seems: of the corpus's 3.5 s of rasterising, ~2.5 s is decoding the embedded images
# (re-rendering with them cached takes 1.1 s), and decoding hardly shrinks with the zoom (30 dpi:
# 2.3 s), because most of it is inflating Flate images (one of 11192 x 3744 px: 0.3 s) and
# JPEG 2000, which MuPDF cannot decode at a reduced scale as it does JPEG.
_DPI = 120
_MAX_PX = 1400  # longest PNG side; a full-page figure at 150 dpi would be ~1650 px
_MAX_PATHS = 40_000  # per page; beyond this, paths are sampled (heat maps of 34k cells exist)
_GROUP_TOL = 8.0  # panels of one figure are usually separated by less than this
_REPEAT_PAGES = 3  # an image at the same place on this many pages is page furniture


@dataclass
class _Region:
    """Graphic parts that belong together on one page."""

    bbox: list[float]
    image_area: float = 0.0  # summed area of the raster parts
    paths: int = 0
    tablish: bool = True  # every vector part looks like table rules or a frame around text
    caption: Caption | None = None

    @property
    def area(self) -> float:
        return max(0.0, self.bbox[2] - self.bbox[0]) * max(0.0, self.bbox[3] - self.bbox[1])

    def absorb(self, other: _Region) -> None:
        self.bbox = _union(self.bbox, other.bbox)
        self.image_area += other.image_area
        self.paths += other.paths
        self.tablish = self.tablish and other.tablish


def extract_figures(doc: pymupdf.Document, blocks: list[TextBlock] | tuple[TextBlock, ...] = (),
                    reads: PageReads | None = None) -> list[FigureImage]:
    """Return every figure of `doc` as a PNG with its caption, label and body mentions; `reads` is
    the parse's shared page text (`ingest.pages`), read here when not given."""
    reads = reads if reads is not None and reads.texts else read_pages(doc)
    texts = reads.texts
    captions = find_captions(texts)
    # a page's bbox log is kept when ingest.tables will read it again (it has a table caption)
    logs = [_read_graphics(page, reads.bboxlog(page, keep=any(c.kind == "table" for c in captions[page.number])))
            for page in doc]
    repeated = _repeated_keys(logs)
    pages: list[list[_Region]] = []
    for page, text, (images, paths) in zip(doc, texts, logs):
        images = [r for r in images if _key(r) not in repeated]
        regions = [r for r in _group(images + paths, len(images)) if _is_content(r)]
        _absorb_labels(regions, text)
        if not captions[page.number] and len(regions) > 1 and text.chars_outside([r.bbox for r in regions]) < 400:
            for other in regions[1:]:  # a figure-only page (legend printed elsewhere): one figure
                regions[0].absorb(other)
            regions = regions[:1]
        pages.append(_pair(regions, captions[page.number], text, page.rect))
    _pair_across_pages(pages, captions, doc)
    figures = []
    for page, text, regions in zip(doc, texts, pages):
        kept = [region for region in regions if _keep(region, page.rect, text)]
        # one display list per page: page.get_pixmap() would interpret the page once per figure
        shown = page.get_displaylist() if kept else None
        figures += [_render(page, region, blocks, shown) for region in kept]
    return figures


def _read_graphics(page: pymupdf.Page, bboxlog: list) -> tuple[list[list[float]], list[list[float]]]:
    """Image rects and clustered vector-path rects painted on `page` (clipped to the page)."""
    pw, ph = page.rect.width, page.rect.height
    images, paths = [], []
    for kind, r in bboxlog:
        x0, y0, x1, y1 = max(r[0], 0.0), max(r[1], 0.0), min(r[2], pw), min(r[3], ph)
        if x1 < x0 or y1 < y0 or (x1 - x0 < 0.5 and y1 - y0 < 0.5):  # off-page or a dot
            continue
        if kind in ("fill-image", "fill-imgmask"):
            images.append([x0, y0, x1, y1])
        elif kind in ("fill-path", "stroke-path", "fill-shade"):
            w, h = x1 - x0, y1 - y0
            if w * h > 0.6 * pw * ph:  # page backgrounds and frames
                continue
            if (h < 2.5 and w > 0.6 * pw) or (w < 2.5 and h > 0.6 * ph):  # page-wide rules
                continue
            paths.append([x0, y0, x1, y1])
    if len(paths) > _MAX_PATHS:
        paths = paths[:: len(paths) // _MAX_PATHS + 1]
    return images, cluster_paths(paths, pw, ph)


def _key(r: list[float]) -> tuple[int, ...]:
    return tuple(int(round(v / 3.0)) for v in r[:4])


def _repeated_keys(logs: list[tuple[list, list]]) -> set[tuple[int, ...]]:
    """Positions where a small image or path cluster recurs on several pages (logos, banners)."""
    seen: Counter = Counter()
    for images, paths in logs:
        seen.update({_key(r) for r in images + paths if (r[2] - r[0]) * (r[3] - r[1]) < 40_000})
    return {k for k, n in seen.items() if n >= _REPEAT_PAGES}


def _group(parts: list[list[float]], n_images: int) -> list[_Region]:
    """Union parts (images first, then path clusters) whose rects lie within `_GROUP_TOL`."""
    parent = list(range(len(parts)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    order = sorted(range(len(parts)), key=lambda i: parts[i][0])
    for pos, a in enumerate(order):  # sweep along x: only parts overlapping in x are compared
        ra = parts[a]
        for b in order[pos + 1:]:
            rb = parts[b]
            if rb[0] > ra[2] + _GROUP_TOL:
                break
            if rb[1] <= ra[3] + _GROUP_TOL and ra[1] <= rb[3] + _GROUP_TOL:
                parent[find(b)] = find(a)
    regions: dict[int, _Region] = {}
    for i, r in enumerate(parts):
        if i < n_images:
            part = _Region(list(r[:4]), image_area=(r[2] - r[0]) * (r[3] - r[1]))
        else:  # a cluster is table-like when most of its paths are rules spanning it, or a frame
            part = _Region(list(r[:4]), paths=int(r[4]), tablish=r[5] >= 0.5 * r[4] or r[4] <= 4)
        root = find(i)
        if root in regions:
            regions[root].absorb(part)
        else:
            regions[root] = part
    return list(regions.values())


def _is_content(reg: _Region) -> bool:
    """Enough ink to be (part of) a figure: not a speck, a lone rule or an empty frame."""
    if reg.image_area >= 150:
        return True
    return reg.paths >= 3 and (not reg.tablish or reg.paths >= 12) and reg.area >= 150


def _union(a: list[float], b: list[float]) -> list[float]:
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def _absorb_labels(regions: list[_Region], text: PageText) -> None:
    """Grow each region over the short text lines at its edge (axis titles, panel letters)."""
    for reg in regions:
        for _ in range(2):
            x0, y0, x1, y1 = reg.bbox
            for ln in text.lines:
                lx0, ly0, lx1, ly1 = ln.bbox
                if ln.in_caption or text.is_prose(ln):
                    continue
                if (lx1 > x0 - 10 and lx0 < x1 + 10 and ly1 > y0 - 6 and ly0 < y1 + 6 and lx1 - lx0 < (x1 - x0) + 40
                        and not text.ends_paragraph(ln)):  # last: it reads the page's lines again
                    reg.bbox = _union(reg.bbox, ln.bbox)


def _pair(regions: list[_Region], captions: list[Caption], text: PageText, page_rect) -> list[_Region]:
    """Give each region its best caption on the page; merge regions that chose the same one."""
    if not captions:
        return regions
    hosts: dict[int, _Region] = {}
    out = []
    for reg in regions:
        costs = [(_caption_cost(reg.bbox, cap, text, page_rect.height), n) for n, cap in enumerate(captions)]
        cost, n = min(costs)
        if cost >= 1e9:
            out.append(reg)
            continue
        host = hosts.get(n)
        if host is None:
            reg.caption = captions[n]
            hosts[n] = reg
            out.append(reg)
        else:
            host.absorb(reg)
    out = _merge_stacked(out, text)
    for reg in hosts.values():  # a region never swallows its own caption
        cx0, cy0, cx1, cy1 = reg.caption.bbox
        x0, y0, x1, y1 = reg.bbox
        if cy0 >= y0 + 0.5 * (y1 - y0):
            reg.bbox[3] = min(y1, cy0 - 1)
        elif cy1 <= y0 + 0.5 * (y1 - y0) and cy1 < y1:
            reg.bbox[1] = max(y0, cy1 + 1) if cx1 > x0 and cx0 < x1 else y0
    return out


def _merge_stacked(regions: list[_Region], text: PageText) -> list[_Region]:
    """Merge an uncaptioned region into a captioned one stacked right above or below it.

    A side caption (beside the top panel) or a caption far below a tall figure leaves the other
    panels of the figure unpaired; they sit in the same column with nothing but white space between.
    """
    changed = True
    while changed:
        changed = False
        for reg in [r for r in regions if r.caption is None]:
            for host in regions:
                if host.caption is None or host is reg:
                    continue
                a, b = (reg.bbox, host.bbox) if reg.bbox[1] < host.bbox[1] else (host.bbox, reg.bbox)
                overlap = min(a[2], b[2]) - max(a[0], b[0])
                gap = b[1] - a[3]
                if overlap > 0.5 * min(a[2] - a[0], b[2] - b[0]) and gap < 60:
                    if not text.prose_between(max(a[0], b[0]), min(a[2], b[2]), a[3], b[1], captions=True):
                        host.absorb(reg)
                        regions.remove(reg)
                        changed = True
                        break
    return regions


def _caption_cost(box: list[float], cap: Caption, text: PageText, page_h: float) -> float:
    """Distance from a region to a caption on its expected side; 1e9 when they cannot pair."""
    bx0, by0, bx1, by1 = box
    cx0, cy0, cx1, cy1 = cap.bbox
    if bx0 <= (cx0 + cx1) / 2 <= bx1 and by0 <= (cy0 + cy1) / 2 <= by1:
        # a caption inside a framed figure; a shaded box around the caption alone does not count
        return 10 if (bx1 - bx0) * (by1 - by0) > 3 * (cx1 - cx0) * (cy1 - cy0) else 1e9
    overlap = min(bx1, cx1) - max(bx0, cx0)
    if overlap > 0.3 * min(bx1 - bx0, cx1 - cx0):
        if cy0 >= by1 - 20:  # caption below the region (an image's white margin may overlap it)
            gap, between = max(cy0 - by1, 0), (by1, cy0)
            cost = gap + (0 if cap.kind == "figure" else 30)
        elif cy1 <= by0 + 6:  # caption above the region
            gap, between = by0 - cy1, (cy1, by0)
            cost = gap + (0 if cap.kind == "table" else 30)
        else:
            return 1e9
        if gap > 0.45 * page_h or text.prose_between(max(bx0, cx0), min(bx1, cx1), *between):
            return 1e9
        return cost
    # side captions: beside the region, starting within its height
    v_overlap = min(by1, cy1) - max(by0, cy0)
    left, right = (bx1, cx0) if cx0 >= bx1 - 4 else (cx1, bx0)
    if v_overlap > 0 and -4 <= right - left < 120 and by0 - 10 <= cy0:
        # a caption column beside the figure (Springer margins), with no body text in between
        if not text.prose_between(left, right, max(by0, cy0), min(by1, cy1)):
            return 20 + right - left
    return 1e9


def _pair_across_pages(pages: list[list[_Region]], captions: list[list[Caption]], doc) -> None:
    """Give a figure caption left without a region the uncaptioned large region of a neighbour page.

    Some layouts (EMBO reports, author manuscripts) print a full-page figure and put its legend on
    the top of the following page; the previous page is tried first, then the next one.
    """
    for pno, caps in enumerate(captions):
        taken = {id(r.caption) for r in pages[pno] if r.caption is not None}
        for cap in caps:
            if id(cap) in taken or cap.kind != "figure":
                continue
            for other in (pno - 1, pno + 1):
                if not 0 <= other < len(pages):
                    continue
                area = doc[other].rect.width * doc[other].rect.height
                free = [r for r in pages[other] if r.caption is None and r.area > 0.15 * area and not r.tablish]
                if len(free) == 1:
                    free[0].caption = cap
                    break


def _keep(reg: _Region, page_rect, text: PageText) -> bool:
    """Is this region a figure (not a logo, badge, banner, ruled table or framed text)?"""
    w, h = reg.bbox[2] - reg.bbox[0], reg.bbox[3] - reg.bbox[1]
    page_area = page_rect.width * page_rect.height
    share = reg.area / page_area
    raster = reg.image_area >= 0.5 * reg.area or reg.image_area >= 0.03 * page_area
    cap = reg.caption
    if cap is not None and cap.kind == "table":  # vector tables belong to ingest.tables
        return raster and min(w, h) >= 20
    if cap is not None:  # a caption vouches for a small figure (a chemical structure)
        return min(w, h) >= 20 and share >= 0.008
    if min(w, h) < 60 or share < 0.04 or w / h > 3:  # badges, icons, banners and strips
        return False
    if raster:
        return True
    # framed text (abstract boxes, adverts) and uncaptioned tables are mostly text
    if reg.paths < 10 or reg.tablish:
        return False
    return text.text_share(reg.bbox) < 0.25 and text.text_share(reg.bbox, prose_only=True) < 0.08


def _render(page: pymupdf.Page, reg: _Region, blocks, shown: pymupdf.DisplayList | None = None) -> FigureImage:
    """Crop the region to PNG and attach caption, label and mentions; `shown` is the page's
    display list when several figures of the page are rendered from it."""
    clip = pymupdf.Rect(reg.bbox) + (-2, -2, 2, 2)
    clip &= page.rect
    dpi = max(36, min(_DPI, int(_MAX_PX * 72 / max(clip.width, clip.height, 1))))
    if shown is None:
        shown = page.get_displaylist()
    pix = shown.get_pixmap(matrix=pymupdf.Matrix(dpi / 72, dpi / 72), clip=clip)  # = page.get_pixmap(clip, dpi)
    cap = reg.caption
    return FigureImage(
        page=page.number + 1,
        bbox=tuple(round(v, 1) for v in clip),
        kind="raster" if reg.image_area > 0 else "vector",
        png=_png(pix),
        label=cap.label if cap else "",
        caption=cap.text if cap else "",
        mentions=find_mentions(blocks, cap) if cap else (),
        width=pix.width,
        height=pix.height,
    )


def _png(pix: pymupdf.Pixmap) -> bytes:
    """Encode an RGB pixmap as PNG: ISA-L's deflate at level 1, no row filters.

    MuPDF's own writer (`pix.tobytes("png")`) compresses harder: it took 3.4 s of the corpus'
    ~17 s. zlib at level 1 took 0.74 s for the corpus's 189 figures (194 MB of pixels, 25.6 MB of
    PNG); ISA-L's deflate 0.14 s for 27.8 MB (zlib-ng: 0.26 s, 31.2 MB). Any deflate stream is
    a valid PNG IDAT.
    """
    rows = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width * pix.n]
    raw = np.hstack([np.zeros((pix.height, 1), dtype=np.uint8), rows]).tobytes()  # filter byte 0

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    color = {1: 0, 3: 2, 4: 6}[pix.n]
    header = struct.pack(">IIBBBBB", pix.width, pix.height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", _deflate(raw, 1)) + chunk(b"IEND", b"")
