"""Find the tables of a PDF with PyMuPDF's `page.find_tables()` and flatten each to markdown text.

Each table is paired with its "Table N" / "表N" caption (usually just above it, sometimes below),
read with the caption finder of `ingest.captions` from the parse's shared page text
(`ingest.pages`), so that a question about "Table 2" retrieves the numbers in it. Empty or
degenerate finds (one row, one column, a handful of filled cells: ruled boxes, equation frames,
framed abstracts) are skipped.

Cost, measured on the 526-page shared corpus: `find_tables()` on every page takes ~320 s of CPU,
because PyMuPDF 2 gates line detection with its ONNX layout model (~0.8 s a page). So it runs only
on pages that carry a table caption line (52 pages), with the cheap line-only detector
(`use_layout=False`, ~0.06 s a page). Tables ruled with horizontal lines only (booktabs, the
Chinese journals' 三线表) have no grid for it: `ingest.booktabs` reads them from their captions'
rules (41 of the corpus's 51 tables). `thorough=True` adds the layout model when the line
detector finds nothing: 40-55 s of CPU on the corpus, more than the rest of the parse together,
so it is off by default (`IngestSettings.tables`). A table's words are in the body text either way. The fast mode costs
~1.8 s of CPU on the corpus (3 s before `find_tables()` was clipped to the pages' path clusters,
see `_ruled_region`), nearly all inside `find_tables()` (its per-character Python).

Leaves out: tables drawn as images (`ingest.figures` returns those as figures labelled
"Table N"), tables whose caption sits on another page, and merging a table continued over pages.
"""
from __future__ import annotations

import re
import sys

import pymupdf

from assistant.types import TableText
from ingest.booktabs import find_rules, rule_bounded_table
from ingest.captions import Caption, find_captions
from ingest.pages import PageReads, read_pages
from ingest.paths import cluster_paths

if hasattr(pymupdf, "no_recommend_layout"):  # PyMuPDF 2: else find_tables() prints advice to stdout,
    pymupdf.no_recommend_layout()  # into --json output, whenever its layout model is not loaded

_MIN_CELLS = 4  # filled cells below which a "table" is a ruled box or an equation frame
_MAX_CHARS = 8000  # a table's text beyond this is cut (a multi-page supplement table)


def extract_tables(doc: pymupdf.Document, thorough: bool = False, reads: PageReads | None = None) -> list[TableText]:
    """Return every table found on a page that has a table caption, as markdown with its caption;
    `reads` is the parse's shared page text (`ingest.pages`), read here when not given."""
    reads = reads if reads is not None and reads.texts else read_pages(doc)
    captions = find_captions(reads.texts)
    found = []  # (page index, table, markdown, the page's table captions)
    for pno, caps in enumerate(captions):
        table_caps = [c for c in caps if c.kind == "table"]
        if table_caps:
            page = doc[pno]  # held while the tables are read: to_markdown() needs the live page
            clip = None
            if not thorough:
                log = reads.bboxlog(page)
                clip = _ruled_region(page, log) if _may_be_ruled(log) else None
                if clip is None:
                    continue  # no ruling to detect: the line detector would find nothing, slowly
            tables = find_page_tables(page, thorough, clip)
            found += [(pno, t, md, table_caps) for t in tables if (md := table_markdown(t))]
    below = _captions_below(found)
    out: list[TableText] = []
    for pno in sorted({f[0] for f in found}):
        on_page = [f for f in found if f[0] == pno]
        owners = assign_captions([f[1].bbox for f in on_page], on_page[0][3], below)
        for (_, table, text, _), cap in zip(on_page, owners):
            out.append(TableText(
                page=pno + 1,
                bbox=tuple(round(v, 1) for v in table.bbox),
                text=text[:_MAX_CHARS],
                label=cap.label if cap else "",
                caption=cap.text if cap else "",
            ))
    return sorted(out + _rule_bounded(doc, reads, captions, out), key=lambda t: (t.page, t.bbox[1]))


def _rule_bounded(doc: pymupdf.Document, reads: PageReads, captions: list[list[Caption]],
                  grids: list[TableText]) -> list[TableText]:
    """Tables ruled with horizontal lines only (`ingest.booktabs`) for the captions no grid took."""
    out: list[TableText] = []
    for pno, caps in enumerate(captions):
        taken = {t.caption for t in grids if t.page == pno + 1}
        boxes = [pymupdf.Rect(t.bbox) for t in grids if t.page == pno + 1]
        rules = None
        for cap in caps:
            if cap.kind != "table" or cap.text in taken:
                continue
            if rules is None:
                rules = find_rules(reads.bboxlog(doc[pno]))
            found = rule_bounded_table(reads.texts[pno], rules, cap) if rules else None
            if found and not any((pymupdf.Rect(found[0]) & box).get_area() > 0 for box in boxes):
                boxes.append(pymupdf.Rect(found[0]))
                out.append(TableText(page=pno + 1, bbox=found[0], text="\n".join(found[1])[:_MAX_CHARS],
                                     label=cap.label, caption=cap.text))
    return out


# Every page where the line detector found a table on the corpus painted >= 13 paths; the 25
# caption pages with fewer found none and cost ~3.5 s of CPU between them.
_MIN_PATHS = 12
_CLIP_MARGIN = 5.0  # around the path clusters, beyond PyMuPDF's 3 pt snap and join tolerances


def _may_be_ruled(bboxlog: list) -> bool:
    """Enough paths to rule a table, or one path big enough to hold a whole grid (in a graphics log,
    `ingest.pages.read_graphics`)."""
    paths = [box for kind, box in bboxlog if "path" in kind]
    return len(paths) >= _MIN_PATHS or any(b[2] - b[0] > 100 and b[3] - b[1] > 30 for b in paths)


def _ruled_region(page: pymupdf.Page, bboxlog: list) -> pymupdf.Rect | None:
    """Where the line detector can find a table on `page` (its clip), or None when nowhere.

    A table's rules are connected within PyMuPDF's 3 pt snap/join tolerance, so each table lies
    inside one cluster of the page's paths as `ingest.paths` groups them, and a cluster thinner
    than 12 pt cannot hold two rows. Clipping `find_tables` to these clusters saves most of its
    per-character Python (on the corpus: 12 of the 28 pages with a table caption and enough
    paths are skipped, the others read ~half their characters). The clip also holds the clusters'
    mirror image across the page: PyMuPDF accepts a frame around joined graphics only when
    characters lie in it, comparing the frame's top-down y with the characters' PDF (bottom-up) y
    (`table.chars_in_rect`), so those characters must survive the clip for the tables to stay
    the same. Rotated pages are read whole (find_tables derotates them first).
    """
    pw, ph = page.rect.width, page.rect.height
    paths = [[max(b[0], 0.0), max(b[1], 0.0), min(b[2], pw), min(b[3], ph)] for kind, b in bboxlog if "path" in kind]
    clusters = cluster_paths([p for p in paths if p[0] <= p[2] and p[1] <= p[3]], pw, ph)
    if not clusters:
        return None
    if page.rotation:
        return page.rect
    region = pymupdf.Rect(clusters[0][:4])
    for c in clusters[1:]:
        region |= c[:4]
    region = (region + (-_CLIP_MARGIN, -_CLIP_MARGIN, _CLIP_MARGIN, _CLIP_MARGIN)) & page.rect
    return region | (region * ~page.transformation_matrix)


def _captions_below(found: list) -> bool:
    """Does this document put table captions below its tables (ACL) rather than above (most)?

    Decided by the tables whose nearest caption, within 30 pt, is on one side only.
    """
    votes = 0
    for _, table, _, caps in found:
        x0, y0, x1, y1 = table.bbox
        near = [c for c in caps if min(x1, c.bbox[2]) - max(x0, c.bbox[0]) > 0]
        above = any(0 <= y0 - c.bbox[3] < 30 for c in near)
        under = any(0 <= c.bbox[1] - y1 < 30 for c in near)
        votes += (under and not above) - (above and not under)
    return votes > 0


def enable_layout() -> bool:
    """Load PyMuPDF's layout analyser (kept out of `import pymupdf` by `ingest/__init__`); False
    when it is not installed (PyMuPDF before 2.0)."""
    if sys.modules.get("pymupdf.layout", False) is None:
        del sys.modules["pymupdf.layout"]
    try:
        import pymupdf.layout  # noqa: F401 - activates the analyser on import
    except ImportError:
        return False
    return True


def find_page_tables(page: pymupdf.Page, thorough: bool = False, clip: pymupdf.Rect | None = None) -> list:
    """Tables on `page` (inside `clip`): the line detector, then (thorough) the layout-gated one
    when it finds none."""
    if thorough:
        enable_layout()
    found = []
    for use_layout in (False, True) if thorough else (False,):
        try:
            found = [t for t in page.find_tables(clip=clip, use_layout=use_layout).tables if _is_table(t)]
        except Exception:  # noqa: BLE001 - a malformed page must not stop the paper's ingest
            found = []
        if found:
            break
    if found:
        shared = _OnceRawdict(found[0].textpage)  # one TextPage per find_tables() call
        for table in found:
            table.textpage = shared
    return _drop_nested(found)


class _OnceRawdict:
    """A table's TextPage whose `extractRAWDICT()` is computed once.

    `Table.to_markdown()` reads each cell through `extract_cells(textpage, cell)`, which extracts
    the whole page's rawdict again for every cell: 206 times for the 10 tables of the corpus,
    1.2 s of CPU. The cells only read the dict, so one copy serves them all.
    """

    def __init__(self, textpage):
        self._textpage = textpage
        self._rawdict = None

    def extractRAWDICT(self, *args, **kwargs):  # noqa: N802 - PyMuPDF's name
        if args or kwargs:
            return self._textpage.extractRAWDICT(*args, **kwargs)
        if self._rawdict is None:
            self._rawdict = self._textpage.extractRAWDICT()
        return self._rawdict

    def __getattr__(self, name):
        return getattr(self._textpage, name)


def _is_table(table) -> bool:
    """At least two rows and two columns, and enough filled cells to be data, not a frame."""
    if table.row_count < 2 or table.col_count < 2:
        return False
    try:
        rows = table.extract()
    except Exception:  # noqa: BLE001
        return False
    filled = sum(1 for row in rows for cell in row if cell and str(cell).strip())
    return filled >= _MIN_CELLS


def _drop_nested(tables: list) -> list:
    """Keep the outer table when two finds overlap (a header grid found inside the full table)."""
    keep = []
    for t in sorted(tables, key=lambda t: -pymupdf.Rect(t.bbox).get_area()):
        r = pymupdf.Rect(t.bbox)
        if all((r & pymupdf.Rect(k.bbox)).get_area() < 0.5 * r.get_area() for k in keep):
            keep.append(t)
    return sorted(keep, key=lambda t: (t.bbox[1], t.bbox[0]))


def table_markdown(table) -> str:
    """The table as markdown rows; falls back to tab-joined cells when to_markdown() fails."""
    try:
        text = table.to_markdown(clean=False)
        lines = text.strip().splitlines()
        if table.header.external and len(lines) > 3:
            # PyMuPDF took the text above the grid (our caption) as the header row: drop it
            text = "\n".join([lines[2], lines[1], *lines[3:]])
    except Exception:  # noqa: BLE001
        rows = table.extract()
        text = "\n".join(" | ".join(str(c or "").strip() for c in row) for row in rows)
    text = re.sub(r"[ \t]+", " ", text.replace("<br>", " ").replace("**", "")).strip()
    return text if re.search(r"\w", text) else ""


def assign_captions(boxes: list[tuple], caps: list[Caption], below: bool = False) -> list[Caption | None]:
    """One caption per table, nearest first, in an overlapping column: on the document's side
    (above, unless `below`) or else on the other side at a cost. Greedy over all pairs, so two
    tables never share one caption."""
    bias_above, bias_below = (40, 0) if below else (0, 40)
    pairs = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        for j, cap in enumerate(caps):
            cx0, cy0, cx1, cy1 = cap.bbox
            if min(x1, cx1) - max(x0, cx0) <= 0:
                continue
            if cy1 <= y0 + 10:
                pairs.append((y0 - cy1 + bias_above, i, j))
            elif cy0 >= y1 - 10:
                pairs.append((cy0 - y1 + bias_below, i, j))
    owners: list[Caption | None] = [None] * len(boxes)
    used = set()
    for cost, i, j in sorted(pairs):
        if cost < 400 and owners[i] is None and j not in used:
            owners[i] = caps[j]
            used.add(j)
    return owners
