"""Find the figures of a PDF, render each to PNG and pair it with its caption and body mentions.

A figure is built from what a page paints, read cheaply with `page.get_bboxlog()` (one C call, no
image decoding): raster images and vector paths. Paths are clustered on a coarse occupancy grid
(linear in the number of paths; `page.cluster_drawings()` is quadratic and takes seconds on the
34k-path heat maps of the corpus). Images and path clusters that touch are grouped, so a figure made
of twelve panel images is one region. Each region is paired with the nearest caption line
("Figure 3", "Fig. 3", "FIG 3", "Figure S1", "图3", "Table 2", "表2", see `ingest.captions`) on
its expected side, with no body text between; all regions that choose the same caption merge into
one figure. A caption with no region on its page takes an uncaptioned region of a neighbouring page
(journals that print the legend on the page after the figure).

Dropped: images repeated at the same place on several pages (journal logos, running banners),
tiny regions (icons, ORCID/CrossMark badges), page-wide rules, and vector clusters that look like
ruled tables or text frames unless a "Figure" caption claims them. An uncaptioned region must be
large to be kept (graphical abstracts are; badges are not).

Leaves out: tables as text (`ingest.tables`), OCR, figures split across pages (each page part is
its own figure, continuation pages keep their "continued" caption only when it is a caption line).
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import pymupdf

from assistant.types import FigureImage, TextBlock

_DPI = 150
_MAX_PX = 1400  # longest PNG side; a full-page figure at 150 dpi is ~1650 px and costs 2x to encode
_MAX_PATHS = 40_000  # per page; beyond this, paths are sampled (heat maps of 34k cells exist)
_GRID = 2.0  # points per occupancy cell when clustering paths
_PATH_TOL = 3.0  # paths closer than this belong together (cluster_drawings' default)
_GROUP_TOL = 8.0  # panels of one figure are usually separated by less than this
_REPEAT_PAGES = 3  # an image at the same place on this many pages is page furniture


@dataclass
class _Region:
    """Graphic parts that belong together on one page."""

    bbox: list[float]
    images: int = 0
    paths: int = 0
    tablish: bool = True  # every vector part looks like table rules or a frame around text
    caption: Caption | None = None
    parts: list[list[float]] = field(default_factory=list)

    @property
    def area(self) -> float:
        return max(0.0, self.bbox[2] - self.bbox[0]) * max(0.0, self.bbox[3] - self.bbox[1])


def extract_figures(doc: pymupdf.Document, blocks: list[TextBlock] | tuple[TextBlock, ...] = ()) -> list[FigureImage]:
    """Return every figure of `doc` as a PNG with its caption, label and body mentions."""
    texts = read_text(doc)
    captions = find_captions(texts)
    logs = [_read_graphics(page) for page in doc]
    repeated = _repeated_keys(logs)
    pages: list[list[_Region]] = []
    for page, text, (images, paths) in zip(doc, texts, logs):
        images = [r for r in images if _key(r) not in repeated]
        regions = _group(images + paths, len(images))
        _absorb_labels(regions, text)
        regions = _pair(regions, captions[page.number], text, page.rect)
        pages.append(regions)
    _pair_across_pages(pages, captions, doc)
    figures = []
    for page, regions in zip(doc, pages):
        for region in regions:
            if _keep(region, page.rect):
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

    Each returned rect is [x0, y0, x1, y1, n_paths, n_long_lines]: "long lines" are thin rules
    spanning most of their cluster, the signature of a ruled table rather than a chart.
    """
    if not paths:
        return []
    labels = _label_rects(paths, pw, ph)
    groups: dict[int, list[list[float]]] = defaultdict(list)
    for lab, r in zip(labels, paths):
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
        bands = (w > 0.9 * (x1 - x0)) & (h < 0.3 * (y1 - y0))  # shaded table rows
        frame = (w > 0.9 * (x1 - x0)) & (h > 0.9 * (y1 - y0))  # a box around the cluster
        n_long = int((long_h | long_v | bands | frame).sum())
        out.append([float(x0), float(y0), float(x1), float(y1), len(members), n_long])
    return out


def _label_rects(rects: list[list[float]], pw: float, ph: float) -> list[int]:
    """Connected components of rects painted (dilated) on a coarse grid, one label per rect."""
    cols, rows = int(pw / _GRID) + 3, int(ph / _GRID) + 3
    grid = np.zeros((rows, cols), dtype=bool)
    pad = _PATH_TOL / 2
    cells = []
    for x0, y0, x1, y1 in rects:
        c0, r0 = max(int((x0 - pad) / _GRID), 0), max(int((y0 - pad) / _GRID), 0)
        c1, r1 = min(int((x1 + pad) / _GRID) + 1, cols), min(int((y1 + pad) / _GRID) + 1, rows)
        grid[r0:r1, c0:c1] = True
        cells.append(((r0 + r1 - 1) // 2, (c0 + c1 - 1) // 2))
    parent: list[int] = []

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    lab = np.zeros((rows, cols), dtype=np.int32)
    prev: list[tuple[int, int, int]] = []
    prev_row = -2
    for y in np.flatnonzero(grid.any(axis=1)).tolist():
        edges = np.diff(np.concatenate(([0], grid[y].view(np.int8), [0])))
        cur, j = [], 0
        if y != prev_row + 1:  # a blank row separates components
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
    for a_pos, a in enumerate(order):  # sweep along x: only parts overlapping in x are compared
        ra = parts[a]
        for b in order[a_pos + 1:]:
            rb = parts[b]
            if rb[0] > ra[2] + _GROUP_TOL:
                break
            if rb[1] <= ra[3] + _GROUP_TOL and ra[1] <= rb[3] + _GROUP_TOL:
                parent[find(b)] = find(a)
    regions: dict[int, _Region] = {}
    for i, r in enumerate(parts):
        root = find(i)
        reg = regions.get(root)
        if reg is None:
            reg = regions[root] = _Region(bbox=list(r[:4]))
        reg.bbox = _union(reg.bbox, r)
        reg.parts.append(list(r[:4]))
        if i < n_images:
            reg.images += 1
            reg.tablish = False
        else:
            reg.paths += int(r[4])
            # a cluster is table-like when most of its paths are rules spanning it, or it is a frame
            reg.tablish = reg.tablish and (r[5] >= 0.5 * r[4] or r[4] <= 4)
    return list(regions.values())


def _union(a: list[float], b: list[float]) -> list[float]:
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def _absorb_labels(regions: list[_Region], text: PageText) -> None:
    """Grow each region over the short text lines at its edge (axis titles, panel letters)."""
    for reg in regions:
        if reg.area < 400:
            continue
        for _ in range(2):
            x0, y0, x1, y1 = reg.bbox
            for ln in text.lines:
                lx0, ly0, lx1, ly1 = ln.bbox
                if ln.is_caption_start or (len(ln.text) > 40 and ln.size >= text.body_size - 0.5):
                    continue
                cx, cy = (lx0 + lx1) / 2, (ly0 + ly1) / 2
                if x0 - 10 <= cx <= x1 + 10 and y0 - 10 <= cy <= y1 + 10 and lx1 - lx0 < 1.2 * (x1 - x0) + 40:
                    reg.bbox = _union(reg.bbox, ln.bbox)


def _pair(regions: list[_Region], captions: list[Caption], text: PageText, page_rect) -> list[_Region]:
    """Give each region its best caption on the page; merge regions that chose the same one."""
    if not captions:
        return regions
    for reg in regions:
        best, best_cost = None, 1e9
        for cap in captions:
            cost = _caption_cost(reg.bbox, cap, text, page_rect.height)
            if cost < best_cost:
                best, best_cost = cap, cost
        reg.caption = best
    merged: dict[int, _Region] = {}
    out = []
    for reg in regions:
        if reg.caption is None:
            out.append(reg)
            continue
        host = merged.get(id(reg.caption))
        if host is None:
            merged[id(reg.caption)] = reg
            out.append(reg)
        else:
            host.bbox = _union(host.bbox, reg.bbox)
            host.parts += reg.parts
            host.images += reg.images
            host.paths += reg.paths
            host.tablish = host.tablish and reg.tablish
    return out


def _caption_cost(box: list[float], cap: Caption, text: PageText, page_h: float) -> float:
    """Distance from a region to a caption on its expected side; 1e9 when they cannot pair."""
    bx0, by0, bx1, by1 = box
    cx0, cy0, cx1, cy1 = cap.bbox
    overlap = min(bx1, cx1) - max(bx0, cx0)
    if overlap > 0.3 * min(bx1 - bx0, cx1 - cx0):
        if cy0 >= by1 - 6:  # caption below the region
            gap, between = cy0 - by1, (by1, cy0)
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
    hgap = cx0 - bx1 if cx0 >= bx1 - 4 else bx0 - cx1
    if v_overlap > 0 and -4 <= hgap < 40 and by0 - 10 <= cy0:
        return 20 + hgap
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


def _keep(reg: _Region, page_rect) -> bool:
    """Is this region a figure (not a logo, badge, rule, ruled table or framed text)?"""
    w, h = reg.bbox[2] - reg.bbox[0], reg.bbox[3] - reg.bbox[1]
    share = reg.area / (page_rect.width * page_rect.height)
    cap = reg.caption
    if cap is not None and (cap.kind == "figure" or reg.images):
        # a caption vouches for small figures (a chemical structure), never for a lone icon
        return min(w, h) >= 20 and share >= 0.008 and (reg.images or reg.paths >= 3)
    if cap is not None and cap.kind == "table":  # vector tables belong to ingest.tables
        return False
    if min(w, h) < 60 or share < 0.04 or w / h > 5:
        return False
    return reg.images > 0 or (reg.paths >= 10 and not reg.tablish)


def _render(page: pymupdf.Page, reg: _Region, blocks) -> FigureImage:
    """Crop the region to PNG and attach caption, label and mentions."""
    clip = pymupdf.Rect(reg.bbox) + (-2, -2, 2, 2)
    clip &= page.rect
    longest = max(clip.width, clip.height)
    dpi = max(36, min(_DPI, int(_MAX_PX * 72 / longest)))
    pix = page.get_pixmap(clip=clip, dpi=dpi)
    cap = reg.caption
    return FigureImage(
        page=page.number + 1,
        bbox=tuple(round(v, 1) for v in clip),
        kind="raster" if reg.images else "vector",
        png=pix.tobytes("png"),
        label=cap.label if cap else "",
        caption=cap.text if cap else "",
        mentions=find_mentions(blocks, cap) if cap else (),
        width=pix.width,
        height=pix.height,
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])|(?<=[。！？；])")


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
_SPACES = str.maketrans({c: " " for c in "\xa0\u2002\u2003\u2009\u200a\u202f\u3000\t"})
_CAPTION_RE = re.compile(
    r"^\s*(?:(?:supplementary|extended\s+data)\s+)?(?P<word>figures?|figs?\.?|tables?|图|表)\s*(?P<num>S?\d{1,3})(?P<rest>.*)$",
    re.I | re.S,
)
# words that continue a Chinese sentence ("如图3所示", "表1中", "图9为…"): body text, not a caption
_ZH_BODY = re.compile(r"^\s*(所|为|中|是|给|展|显|表明|可|说明|描述|的|对|和|与|列|比较|分别|反映|从|即|及|[、，。）)])")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class _Line:
    bbox: tuple[float, float, float, float]
    text: str
    size: float
    is_caption_start: bool = False


@dataclass
class PageText:
    """The horizontal text lines of one page, with the document's body font size."""

    lines: list[_Line]
    body_size: float = 10.0

    def prose_between(self, x0: float, x1: float, y0: float, y1: float) -> bool:
        """Is there a line of body prose inside the band y0..y1 over the columns x0..x1?"""
        for ln in self.lines:
            lx0, ly0, lx1, ly1 = ln.bbox
            if ly0 >= y0 - 1 and ly1 <= y1 + 1 and min(lx1, x1) - max(lx0, x0) > 0.5 * (lx1 - lx0):
                if len(ln.text) >= 30 and abs(ln.size - self.body_size) < 0.6 and not ln.is_caption_start:
                    return True
        return False


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


def read_text(doc: pymupdf.Document) -> list[PageText]:
    """Every page's horizontal lines (text, bbox, dominant font size); body size set doc-wide."""
    pages, sizes = [], Counter()
    for page in doc:
        lines = []
        for block in page.get_text("dict", flags=_FLAGS)["blocks"]:
            for line in block.get("lines", ()):
                if abs(line["dir"][1]) > 0.1 or not line["spans"]:
                    continue
                text = "".join(s["text"] for s in line["spans"]).translate(_SPACES).strip()
                if not text:
                    continue
                size = max(line["spans"], key=lambda s: len(s["text"]))["size"]
                sizes[round(size, 1)] += len(text)
                lines.append(_Line(tuple(line["bbox"]), text, size))
        lines.sort(key=lambda ln: (ln.bbox[1], ln.bbox[0]))
        pages.append(PageText(lines))
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    for p in pages:
        p.body_size = body
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
    elif rest[:1] == " " and stripped[:1].islower():
        return None
    sep = "" if not rest else ("_" if rest[0] == " " and stripped[:1] not in ".:|" else stripped[:1])
    label = f"{word}{num}" if zh else f"{'Table' if kind == 'table' else 'Figure'} {num}"
    return kind, num, label, (word.rstrip(".").lower() if zh else word, sep)


def find_captions(texts: list[PageText]) -> list[list[Caption]]:
    """Caption paragraphs per page (0-based page index), duplicates in a foreign style dropped."""
    found: list[Caption] = []
    for pno, pt in enumerate(texts):
        absorbed: set[int] = set()
        for i, ln in enumerate(pt.lines):
            parsed = parse_caption_start(ln.text)
            if parsed is None or i in absorbed:
                continue
            ln.is_caption_start = True
            kind, num, label, sig = parsed
            text, bbox = _caption_paragraph(pt, i, kind, num, absorbed)
            found.append(Caption(pno, kind, num, label, text, bbox, sig))
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
    return pages


def _caption_paragraph(pt: PageText, i: int, kind: str, num: str, absorbed: set[int]) -> tuple[str, tuple]:
    """The caption's lines: its row, then lines below in the same column and font size."""
    first = pt.lines[i]
    x0, y0, x1, y1 = first.bbox
    h = max(y1 - y0, 4.0)
    parts, size = [first.text], first.size
    taken = [i]
    for j, ln in enumerate(pt.lines):  # the rest of the first row ("图1" and its title as two lines)
        if j != i and abs(ln.bbox[1] - y0) < 0.5 * h and x1 - 1 < ln.bbox[0] < x1 + 40:
            parts.append(ln.text)
            taken.append(j)
            x1, y1 = max(x1, ln.bbox[2]), max(y1, ln.bbox[3])
            size = ln.size if len(ln.text) > len(first.text) else size
    left, right, bottom = x0, x1, y1
    for j in range(i + 1, len(pt.lines)):
        ln = pt.lines[j]
        lx0, ly0, lx1, ly1 = ln.bbox
        if j in taken or ly0 < bottom - 2 or lx1 < left or lx0 > right:
            continue  # same row or another column
        if ly0 - bottom > 0.8 * h or sum(len(p) for p in parts) > 2500:
            break
        if abs(ln.size - size) > 0.6 or lx0 < left - 3 or (lx0 > left + 15 and lx1 > right + 3):
            break
        parsed = parse_caption_start(ln.text)
        if parsed is not None:
            if parsed[0] != kind or parsed[1] != num or bool(_CJK.match(ln.text)) == bool(_CJK.match(first.text)):
                break
            absorbed.add(j)  # the other-language caption of the same figure ("Fig. 1" / "图 1")
        parts.append(ln.text)
        bottom, right = max(bottom, ly1), max(right, lx1)
    text = _join(parts)
    return text, (left, y0, right, bottom)


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
