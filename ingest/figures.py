"""Find the figures of a PDF, render each to PNG and pair it with its caption and body mentions.

A figure is built from what a page paints, read cheaply with `page.get_bboxlog()` (one C call, no
image decoding): raster images and vector paths. Paths are clustered on a coarse occupancy grid
(linear in the number of paths; `page.cluster_drawings()` is quadratic and takes seconds on the
34k-path heat maps of the corpus). Images and path clusters that touch are grouped, so a figure made
of twelve panel images is one region. Each region is paired with the nearest caption line
("Figure 3", "Fig. 3", "FIG 3", "Figure S1", "图3", "Table 2", "表2"; read from the page itself,
see the captions section at the end, which `ingest.tables` reuses) on
its expected side, with no body text between; all regions that choose the same caption merge into
one figure. A caption with no region on its page takes an uncaptioned region of a neighbouring page
(journals that print the legend on the page after the figure).

Dropped: images repeated at the same place on several pages (journal logos, running banners),
tiny regions (icons, ORCID/CrossMark badges), page-wide rules, and vector clusters that look like
ruled tables or text frames unless a "Figure" caption claims them. An uncaptioned region must be
large to be kept (graphical abstracts are; badges are not).

Measured on the 526-page shared corpus: 189 figures, 97% of figure captions paired, ~12 s CPU
(rendering and PNG encoding ~half of it, page reading the rest).

Leaves out: tables as text (`ingest.tables`), OCR, figures split across pages (each page part is
its own figure, continuation pages keep their "continued" caption only when it is a caption line),
several side captions sharing one stacked region (only the nearest one pairs).
"""
from __future__ import annotations

import re
import struct
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
import pymupdf

from assistant.types import FigureImage, TextBlock

# 120 dpi: a full-width figure is ~800 px, enough to read on screen; 150 dpi cost ~2 s more of the
# corpus's ingest (rasterising and PNG encoding grow with the pixel count).
_DPI = 120
_MAX_PX = 1400  # longest PNG side; a full-page figure at 150 dpi would be ~1650 px
_MAX_PATHS = 40_000  # per page; beyond this, paths are sampled (heat maps of 34k cells exist)
_GRID = 2.0  # points per occupancy cell when clustering paths
_PATH_TOL = 3.0  # paths closer than this belong together (cluster_drawings' default)
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


def extract_figures(doc: pymupdf.Document, blocks: list[TextBlock] | tuple[TextBlock, ...] = ()) -> list[FigureImage]:
    """Return every figure of `doc` as a PNG with its caption, label and body mentions."""
    texts = read_text(doc)
    captions = find_captions(texts)
    logs = [_read_graphics(page) for page in doc]
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
        for region in regions:
            if _keep(region, page.rect, text):
                figures.append(_render(page, region, blocks))
    return figures


def _read_graphics(page: pymupdf.Page) -> tuple[list[list[float]], list[list[float]]]:
    """Image rects and clustered vector-path rects painted on `page` (clipped to the page)."""
    pw, ph = page.rect.width, page.rect.height
    images, paths = [], []
    for kind, r in page.get_bboxlog():
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
    return images, _cluster_paths(paths, pw, ph)


def _cluster_paths(paths: list[list[float]], pw: float, ph: float) -> list[list[float]]:
    """Cluster path rects that lie within `_PATH_TOL`; return one rect per cluster plus stats.

    Each returned rect is [x0, y0, x1, y1, n_paths, n_long]: "long" paths are thin rules spanning
    most of their cluster, shaded full-width rows or a frame: the signature of a ruled table or a
    box around text rather than a chart.
    """
    if not paths:
        return []
    groups: dict[int, list[list[float]]] = defaultdict(list)
    for lab, r in zip(_label_rects(paths, pw, ph), paths):
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


def _label_rects(rects: list[list[float]], pw: float, ph: float) -> list[int]:
    """Connected components of rects painted (dilated) on a coarse grid, one label per rect."""
    cols, rows = int(pw / _GRID) + 3, int(ph / _GRID) + 3
    pad = _PATH_TOL / 2
    arr = np.asarray(rects, dtype=float)
    c0 = np.clip(((arr[:, 0] - pad) / _GRID).astype(int), 0, cols - 1)
    r0 = np.clip(((arr[:, 1] - pad) / _GRID).astype(int), 0, rows - 1)
    c1 = np.clip(((arr[:, 2] + pad) / _GRID).astype(int) + 1, 1, cols)
    r1 = np.clip(((arr[:, 3] + pad) / _GRID).astype(int) + 1, 1, rows)
    # paint every rect at once: +1/-1 at its corners, then a 2-D prefix sum gives the coverage
    diff = np.zeros((rows + 1, cols + 1), dtype=np.int32)
    np.add.at(diff, (r0, c0), 1)
    np.add.at(diff, (r0, c1), -1)
    np.add.at(diff, (r1, c0), -1)
    np.add.at(diff, (r1, c1), 1)
    grid = diff.cumsum(axis=0).cumsum(axis=1)[:rows, :cols] > 0
    cells = list(zip(((r0 + r1 - 1) // 2).tolist(), ((c0 + c1 - 1) // 2).tolist()))
    parent: list[int] = []

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    # run-length labelling, row by row: a run joins every run of the row above that it touches
    lab = np.zeros((rows, cols), dtype=np.int32)
    prev: list[tuple[int, int, int]] = []
    prev_row = -2
    for y in np.flatnonzero(grid.any(axis=1)).tolist():
        edges = np.diff(np.concatenate(([0], grid[y].view(np.int8), [0])))
        cur, j = [], 0
        if y != prev_row + 1:
            prev = []
        for s, e in zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()):
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
        prev, prev_row = cur, y
    return [find(int(lab[r, c]) - 1) for r, c in cells]


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
                if lx1 > x0 - 10 and lx0 < x1 + 10 and ly1 > y0 - 6 and ly0 < y1 + 6 and lx1 - lx0 < (x1 - x0) + 40:
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


def _render(page: pymupdf.Page, reg: _Region, blocks) -> FigureImage:
    """Crop the region to PNG and attach caption, label and mentions."""
    clip = pymupdf.Rect(reg.bbox) + (-2, -2, 2, 2)
    clip &= page.rect
    dpi = max(36, min(_DPI, int(_MAX_PX * 72 / max(clip.width, clip.height, 1))))
    pix = page.get_pixmap(clip=clip, dpi=dpi)
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
    """Encode an RGB pixmap as PNG with zlib level 1 and no row filters.

    MuPDF's own writer (`pix.tobytes("png")`) compresses harder: it took 3.4 s of the corpus'
    ~17 s; this takes about a third of that for files ~1.4x larger.
    """
    rows = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width * pix.n]
    raw = np.hstack([np.zeros((pix.height, 1), dtype=np.uint8), rows]).tobytes()  # filter byte 0

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    color = {1: 0, 3: 2, 4: 6}[pix.n]
    header = struct.pack(">IIBBBBB", pix.width, pix.height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])|(?<=[。！？；])")


def attach_mentions(figures: list[FigureImage], blocks) -> list[FigureImage]:
    """Fill each captioned figure's `mentions` from the body blocks (when blocks come after figures)."""
    out = []
    for fig in figures:
        parsed = parse_caption_start(fig.label) if fig.label else None
        if parsed is None:
            out.append(fig)
            continue
        kind = "table" if fig.label.lower().startswith(("table", "表")) else "figure"
        number = re.sub(r"^\D*", "", fig.label)
        cap = Caption(page=fig.page - 1, kind=kind, number=number, label=fig.label, text=fig.caption, bbox=fig.bbox)
        out.append(replace(fig, mentions=find_mentions(blocks, cap)))
    return out


def find_mentions(blocks, cap: Caption, limit: int = 3, max_chars: int = 300) -> tuple[str, ...]:
    """Body sentences that refer to the caption's figure or table ("as shown in Fig. 3", "如图3所示")."""
    if cap.kind == "figure":
        pattern = rf"(?:\bfig(?:ure)?s?\.?|图)\s*{cap.number}(?![0-9])"
    else:
        pattern = rf"(?:\btables?\.?|表)\s*{cap.number}(?![0-9])"
    rx = re.compile(pattern, re.I)
    found: list[str] = []
    for block in blocks:
        if block.kind != "body" or not rx.search(block.text):
            continue
        for sentence in _SENTENCE_END.split(block.text):
            sentence = " ".join(sentence.split())
            if rx.search(sentence) and sentence not in found and not cap.text.startswith(sentence[:40]):
                found.append(sentence if len(sentence) <= max_chars else sentence[: max_chars - 1] + "…")
                if len(found) >= limit:
                    return tuple(found)
    return tuple(found)


# --- captions ---------------------------------------------------------------------------------
# Read straight from the page so that figures do not depend on the layout module's paragraphs.

_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
_LAST_TEXT: list = []  # [document, its PageTexts]
_SPACES = str.maketrans({c: " " for c in "\xa0\u2002\u2003\u2009\u200a\u202f\u3000\t"})
_CAPTION_RE = re.compile(
    r"^\s*(?:(?:supplementary|extended\s+data)\s+)?(?P<word>figures?|figs?\.?|tables?|图|表)\s*(?P<num>S?\d{1,3})(?P<rest>.*)$",
    re.I | re.S,
)
# words that continue a Chinese sentence ("如图3所示", "表1中", "图9为…"): body text, not a caption
_ZH_BODY = re.compile(r"^\s*(所|为|中|是|给|展|显|表明|可|说明|描述|的|对|和|与|列|比较|分别|反映|从|即|及|[、，。）)])")
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[A-Za-z]{3,}")


@dataclass
class _Line:
    bbox: tuple[float, float, float, float]
    text: str
    size: float
    upright: bool = True  # horizontal text (captions are only read from these)
    in_caption: bool = False  # part of a caption paragraph


@dataclass
class PageText:
    """The horizontal text lines of one page, with the document's body font size."""

    lines: list[_Line]
    width: float

    def is_prose(self, ln: _Line) -> bool:
        """A line of running text (not a caption): a dozen Chinese characters, or a line of five
        words at least a third of the page wide (a column). Axis tick rows and legends are wide too, but have no words; font size
        is not used because the commonest size of a short paper can be its reference list's.
        """
        if ln.in_caption or not ln.upright:
            return False
        if len(_CJK.findall(ln.text)) >= 12:
            return True
        return ln.bbox[2] - ln.bbox[0] > 0.33 * self.width and len(_WORD.findall(ln.text)) >= 5

    def prose_between(self, x0: float, x1: float, y0: float, y1: float, captions: bool = False) -> bool:
        """Is there a line of body prose (or of a caption) in the band y0..y1 over x0..x1?"""
        for ln in self.lines:
            lx0, ly0, lx1, ly1 = ln.bbox
            if ly0 >= y0 - 1 and ly1 <= y1 + 1 and min(lx1, x1) - max(lx0, x0) > 0.5 * (lx1 - lx0):
                if self.is_prose(ln) or (captions and ln.in_caption):
                    return True
        return False

    def text_share(self, box: list[float], prose_only: bool = False) -> float:
        """Share of `box` covered by text lines (or prose and caption lines only)."""
        x0, y0, x1, y1 = box
        covered = 0.0
        for ln in self.lines:
            lx0, ly0, lx1, ly1 = ln.bbox
            if x0 <= (lx0 + lx1) / 2 <= x1 and y0 <= (ly0 + ly1) / 2 <= y1:
                if not prose_only or ln.in_caption or self.is_prose(ln):
                    covered += (lx1 - lx0) * (ly1 - ly0)
        return covered / max((x1 - x0) * (y1 - y0), 1.0)

    def chars_outside(self, boxes: list[list[float]]) -> int:
        """Characters of text not inside any of `boxes`."""
        n = 0
        for ln in self.lines:
            cx, cy = (ln.bbox[0] + ln.bbox[2]) / 2, (ln.bbox[1] + ln.bbox[3]) / 2
            if not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes):
                n += len(ln.text)
        return n


@dataclass
class Caption:
    """A figure or table caption paragraph found on a page."""

    page: int  # 0-based
    kind: str  # figure | table
    number: str  # "3", "S1"
    label: str  # "Figure 3", "图3", "Table 2", "表2"
    text: str
    bbox: tuple[float, float, float, float]
    signature: tuple[str, str] = ("", "")
    lines: tuple[int, ...] = ()  # indices into the page's PageText.lines


def read_text(doc: pymupdf.Document) -> list[PageText]:
    """Every page's text lines (text, bbox, dominant font size), top to bottom.

    The last document's text is kept, so that figures and tables of one parse read it once
    (~2 s over the corpus).
    """
    if _LAST_TEXT and _LAST_TEXT[0] is doc and len(_LAST_TEXT[1]) == doc.page_count:
        return _LAST_TEXT[1]
    pages = []
    for page in doc:
        lines = []
        for block in page.get_text("dict", flags=_FLAGS)["blocks"]:
            for line in block.get("lines", ()):
                text = "".join(s["text"] for s in line["spans"]).translate(_SPACES).strip()
                if text:
                    size = max(line["spans"], key=lambda s: len(s["text"]))["size"]
                    lines.append(_Line(tuple(line["bbox"]), text, size, abs(line["dir"][1]) < 0.1))
        lines.sort(key=lambda ln: (ln.bbox[1], ln.bbox[0]))
        pages.append(PageText(lines, page.rect.width))
    _LAST_TEXT[:] = [doc, pages]  # one slot: Document objects cannot be weakly referenced
    return pages


def parse_caption_start(text: str) -> tuple[str, str, str, tuple[str, str]] | None:
    """(kind, number, label, signature) when `text` opens a caption ("Fig. 3 |", "图 2  ..."), else None.

    Body lines that merely start with a reference are refused: "Figure 3 shows", "Figure 1).",
    "Fig. 3b,", gene names such as "FIG1p", "图6 所示". The signature (label word, separator) lets
    the caller keep a document's own caption style when one label appears twice.
    """
    m = _CAPTION_RE.match(text)
    if not m:
        return None
    word, num, rest = m["word"], m["num"].upper(), m["rest"]
    zh = word in ("图", "表")
    kind = "table" if word.lower().startswith("tab") or word == "表" else "figure"
    stripped = rest.lstrip()
    if zh:
        if _ZH_BODY.match(rest):
            return None
    elif rest and (rest[0].isalnum() or rest[0] in "),;"):
        return None
    elif rest[:1] == " " and (stripped[:1].islower() or re.match(r"[A-Za-z]\s*[),;]", stripped)):
        return None  # "Figure 3 shows", "Figure 1 A)." (a panel reference in NAR's style)
    sep = "" if not rest else ("_" if rest[0] == " " and stripped[:1] not in ".:|" else stripped[:1])
    label = f"{word}{num}" if zh else f"{'Table' if kind == 'table' else 'Figure'} {num}"
    return kind, num, label, (word.rstrip(".").lower() if zh else word, sep)


def find_captions(texts: list[PageText]) -> list[list[Caption]]:
    """Caption paragraphs per page (0-based page index), duplicates in a foreign style dropped."""
    found: list[Caption] = []
    for pno, pt in enumerate(texts):
        absorbed: set[int] = set()
        for i, ln in enumerate(pt.lines):
            parsed = parse_caption_start(ln.text) if ln.upright else None
            if parsed is None or i in absorbed:
                continue
            kind, num, label, sig = parsed
            text, bbox, taken = _caption_paragraph(pt, i, kind, num, absorbed)
            found.append(Caption(pno, kind, num, label, text, bbox, sig, taken))
    style = Counter(c.signature for c in found)
    by_key: dict[tuple, list[Caption]] = defaultdict(list)
    for c in found:
        by_key[(c.kind, c.number, bool(_CJK.match(c.label)))].append(c)
    keep = set()
    for group in by_key.values():
        best = max(style[c.signature] for c in group)
        keep.update(id(c) for c in group if style[c.signature] == best)
    pages: list[list[Caption]] = [[] for _ in texts]
    for c in found:
        if id(c) in keep:
            pages[c.page].append(c)
            for i in c.lines:
                texts[c.page].lines[i].in_caption = True
    return pages


def _caption_paragraph(pt: PageText, i: int, kind: str, num: str, absorbed: set[int]) -> tuple[str, tuple, tuple]:
    """The caption's lines: its row, then lines below in the same column and font size."""
    first = pt.lines[i]
    x0, y0, x1, y1 = first.bbox
    h = max(y1 - y0, 4.0)
    parts, size = [first.text], first.size
    taken = [i]
    for j, ln in enumerate(pt.lines):  # the rest of the first row ("图1" and its title as two lines)
        if j != i and ln.upright and abs(ln.bbox[1] - y0) < 0.5 * h and x1 - 1 < ln.bbox[0] < x1 + 40:
            parts.append(ln.text)
            taken.append(j)
            x1, y1 = max(x1, ln.bbox[2]), max(y1, ln.bbox[3])
            size = ln.size if len(ln.text) > len(first.text) else size
    left, right, bottom = x0, x1, y1
    for j in range(i + 1, len(pt.lines)):
        ln = pt.lines[j]
        lx0, ly0, lx1, ly1 = ln.bbox
        if j in taken or not ln.upright or ly0 < bottom - 2 or lx1 < left or lx0 > right:
            continue  # same row or another column
        if ly0 - bottom > max(0.8 * h, 1.2 * size) or sum(len(p) for p in parts) > 2500:
            break
        if abs(ln.size - size) > 0.6 or lx0 < left - 3 or (lx0 > left + 15 and lx1 > right + 3):
            break
        if any(k != j and o.upright and abs(o.bbox[1] - ly0) < 2 and o.bbox[2] > left and o.bbox[0] < right
               for k, o in enumerate(pt.lines[max(j - 20, 0): j + 20], max(j - 20, 0))):
            break  # several pieces on one row: a table's header or a figure's labels, not the caption
        parsed = parse_caption_start(ln.text)
        if parsed is not None:
            if parsed[0] != kind or parsed[1] != num or bool(_CJK.match(ln.text)) == bool(_CJK.match(first.text)):
                break
            absorbed.add(j)  # the other-language caption of the same figure ("Fig. 1" / "图 1")
        parts.append(ln.text)
        taken.append(j)
        bottom, right = max(bottom, ly1), max(right, lx1)
    return _join(parts), (left, y0, right, bottom), tuple(taken)


def _join(parts: list[str]) -> str:
    out = parts[0]
    for p in parts[1:]:
        if out.endswith("-") and p[:1].islower():
            out = out[:-1] + p
        elif _CJK.match(out[-1:]) and _CJK.match(p[:1]):
            out += p
        else:
            out += " " + p
    return " ".join(out.split())
