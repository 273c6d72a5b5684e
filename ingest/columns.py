"""Reading order on a page: a column gutter, full-width lines that cut the columns into bands,
and a narrow first-page sidebar.

`order_page` returns a page's lines as a reader takes them: bands split by lines that cross the
gutter (titles, abstracts, wide tables), each band's left column before its right, a sidebar whole
where it starts. `find_gutter` finds the gutter, `sort_rows` orders one column's lines. Leaves out:
more than two columns (one gutter per page at most).
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ingest.paragraphs import runs_on_from

if TYPE_CHECKING:
    from ingest.layout import _Line


def find_gutter(lines: list[_Line], width: float) -> float | None:
    """The x of a column gutter crossed by few lines, when both sides hold real text; else None."""
    body = [ln for ln in lines if len(ln.text) > 3]
    if len(body) < 12:
        return None
    candidates = sorted((sum(1 for ln in body if ln.x0 < x - 2 and ln.x1 > x + 2), x)
                        for x in (width * i / 100 for i in range(30, 71)))
    best_cover, best = candidates[0]
    if best_cover <= 0.25 * len(body):
        left = sum(1 for ln in body if ln.x1 <= best + 2)
        right = sum(1 for ln in body if ln.x0 >= best - 2)
        if left >= 5 and right >= 5:
            return best
    # Many lines cross every candidate (a full-width title, byline and abstract over two columns:
    # NAR's first pages; a wide table above them): still a gutter where the two sides run beside
    # each other, row for row. Read as one column, those pages interleaved the columns' lines
    # ("exhibit conserva- predominantly of RNA (23S rRNA domain V)"). The least crossed x can be a
    # table's own column split or the end of its lines, so the next ones are tried too.
    tried: set[tuple[int, int]] = set()
    for cover, x in candidates:
        if cover > 0.5 * len(body):
            break
        left = [ln for ln in body if ln.x1 <= x + 2]
        right = [ln for ln in body if ln.x0 >= x - 2]
        if (len(left), len(right)) in tried:
            # the same split as an x already judged: the left side only grows with x, the right
            # only shrinks, so equal sizes are equal sides
            continue
        tried.add((len(left), len(right)))
        if _columns_beside(left, right, width):
            return x
    return None


def _columns_beside(left: list[_Line], right: list[_Line], width: float) -> bool:
    """Columns of text, not a table's cells or a reference list's short tails: lines on both sides
    run beside each other, and those are a column wide (median over a quarter of the page)."""
    if len(left) < 5 or len(right) < 5:
        return False

    # Judged on the lines that have a partner across: a table's first column above the text
    # columns has none (its other cells cross the gutter) and must not make the left side narrow.
    lefts = [a for a in left if any(_level(a, b) for b in right)]
    rights = [b for b in right if any(_level(a, b) for a in left)]
    if len(lefts) < max(8, 0.6 * min(len(left), len(right))):
        return False
    return min(_median_width(lefts), _median_width(rights)) >= 0.25 * width


def _median_width(lines: list[_Line]) -> float:
    widths = sorted(ln.x1 - ln.x0 for ln in lines)
    return widths[len(widths) // 2]


def sort_rows(lines: list[_Line]) -> list[_Line]:
    """Top to bottom, and left to right within a row: fragments of one row may differ by a point
    or two in y (a bigger first glyph, "摘" vs "要:"), so rows are grouped by overlap, not by y0."""
    rows: list[list[_Line]] = []
    for ln in sorted(lines, key=lambda ln: ln.y0):
        row = rows[-1] if rows else None
        if row and (ln.y0 + ln.y1) / 2 < max(x.y1 for x in row) and ln.y0 > row[0].y0 - 1:
            row.append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.x0)]


def find_sidebar(lines: list[_Line], width: float) -> tuple[float, float] | None:
    """(x right of it, y of its top) of a narrow sidebar in a smaller font beside the page's text
    (MDPI's first page: "Citation: ...", "Academic Editor: ...", "Received: ...", "Copyright: ..." at
    7 pt, left of the abstract and introduction at 9-10 pt), or None.

    It is too narrow to be a column for `find_gutter` (a quarter of the page), so its rows were
    read between the introduction's: "Over the course of the arms race between bacteriophages and"
    | "Academic Editor: Sathiyaraj" | "bacteria, bacteria have developed ...". Below its top, no
    line may cross it and none beside it may be in the body's size (the title above may be both).
    """
    text = [ln for ln in lines if len(ln.text) > 3]
    if len(text) < 15 or text[0].page != 1:  # elsewhere: a table's first column, a figure's axis labels
        return None
    sizes = sorted(ln.size for ln in text)
    body = sizes[len(sizes) // 2]
    for x in (width * i / 100 for i in range(15, 31)):
        side = [ln for ln in text if ln.x1 <= x + 2 and ln.size <= body - 1]
        if len(side) < 5:
            continue
        top = min(ln.y0 for ln in side)
        below = [ln for ln in text if ln.y1 > top and ln not in side]
        if any(ln.x0 < x - 2 for ln in below):
            continue  # a line crosses it, or one in the body's size sits in it: not a sidebar
        if sum(1 for ln in below if any(_level(a, ln) for a in side)) >= 5:
            return x, top
    return None


def order_page(lines: list[_Line], width: float) -> list[_Line]:
    """Reading order: bands split by full-width lines; inside a band the left column, then the
    right. A narrow sidebar (`find_sidebar`) is read whole where it starts: after the text above it,
    before the text beside it (at the page's end, its last line could be joined to the next page's
    first sentence by the chunker). Its bold labels ("Version of Record published", "OPEN ACCESS")
    are not the paper's section headings."""
    sidebar = find_sidebar(lines, width)
    if sidebar is None:
        return _order_columns(lines, width)
    x, top = sidebar
    side, above, beside = [], [], []
    for ln in lines:
        (above if ln.y1 <= top else side if ln.x1 <= x + 2 else beside).append(ln)
    for ln in side:
        ln.bold = False
    above, beside = _order_columns(above, width), _order_columns(beside, width)
    # the paragraph the sidebar starts beside ends first (MDPI: "... R-M system for" / "defending ...")
    while above and beside and runs_on_from(above[-1], beside[0]):
        above.append(beside.pop(0))
    return above + sort_rows(side) + beside


def _order_columns(lines: list[_Line], width: float) -> list[_Line]:
    gutter = find_gutter(lines, width)
    if gutter is not None:
        return _read_columns(lines, gutter)
    band = columns_between(lines, width)
    if band is None:
        return sort_rows(lines)
    top, bottom, gutter = band
    inside = [ln for ln in lines if top <= ln.y0 < bottom]
    # footnotes in small type under both columns ("收稿日期: ...", "作者简介: ..." running across) last
    sizes = Counter(ln.size for ln in inside if len(ln.text) > 3)
    size = max((s for s, n in sizes.items() if n >= 3), default=max(sizes))  # the text's, not a heading's
    end = max(ln.y1 for ln in inside if ln.size > size - 1)
    foot = [ln for ln in inside if ln.size <= size - 1 and ln.y0 >= end - 1]
    return (sort_rows([ln for ln in lines if ln.y0 < top]) + _read_columns([ln for ln in inside if ln not in foot], gutter)
            + sort_rows(foot + [ln for ln in lines if ln.y0 >= bottom]))


def columns_between(lines: list[_Line], width: float) -> tuple[float, float, float] | None:
    """(top, bottom, x) of a band between full-width lines whose text runs in two columns split at
    x, in too few lines for `find_gutter`: a Chinese journal's first page sets title, abstracts and
    keywords across the page and starts the introduction's two columns under them, two to six rows
    above the footnotes (read row by row, "结构固定，使得IP 具有身份和位置双重属性[1]，这种在传统互联网……"
    mixed the columns' sentences). Only small type (a footnote) may cross; each side needs two
    lines a column wide, and two rows must hold both sides. The lowest such band counts."""
    wide = sorted((ln for ln in lines if ln.x1 - ln.x0 > 0.5 * width), key=lambda ln: ln.y0)
    for k in range(len(wide) - 1, -1, -1):
        top, bottom = wide[k].y1, wide[k + 1].y0 if k + 1 < len(wide) else float("inf")
        band = [ln for ln in lines if top <= ln.y0 < bottom and len(ln.text) > 3]
        x = _gutter_of_band(band, width) if len(band) >= 6 else None
        if x is not None:
            return top, bottom, x
    return None


def _gutter_of_band(band: list[_Line], width: float) -> float | None:
    for x in (width * i / 100 for i in range(40, 61)):
        left = [ln for ln in band if ln.x1 <= x + 2]
        right = [ln for ln in band if ln.x0 >= x - 2]
        if not left or not right:
            continue
        text_size = max(ln.size for ln in left + right)
        if any(ln.x0 < x - 2 and ln.x1 > x + 2 and ln.size > text_size - 1 for ln in band):
            continue  # only small type (a footnote) may cross
        if (sum(ln.x1 - ln.x0 >= 0.3 * width for ln in left) >= 2 and sum(ln.x1 - ln.x0 >= 0.3 * width for ln in right) >= 2
                and sum(any(_level(a, b) for b in right) for a in left) >= 2):
            return (max(ln.x1 for ln in left) + min(ln.x0 for ln in right)) / 2  # the middle of the white
    return None


def _level(a: _Line, b: _Line) -> bool:
    return min(a.y1, b.y1) - max(a.y0, b.y0) > 0


def _read_columns(lines: list[_Line], gutter: float) -> list[_Line]:
    """Bands cut by the lines that cross `gutter`; in each band the left column, then the right."""
    spans = sorted((ln for ln in lines if ln.x0 < gutter - 2 and ln.x1 > gutter + 2), key=lambda ln: ln.y0)
    for ln in lines:
        ln.col = 0 if ln.x0 < gutter - 2 and ln.x1 > gutter + 2 else 1 if ln.x1 <= gutter + 2 else 2
    cuts = [ln.y0 for ln in spans]
    bands: dict[int, list[_Line]] = {}
    for ln in lines:
        if ln.col:
            mid = (ln.y0 + ln.y1) / 2
            bands.setdefault(_band_of(ln, sum(1 for c in cuts if c <= mid), spans), []).append(ln)
    out: list[_Line] = []
    for b in range(len(cuts) + 1):
        band = bands.get(b, [])
        out += sort_rows([ln for ln in band if ln.col == 1]) + sort_rows([ln for ln in band if ln.col == 2])
        if b < len(spans):
            out.append(spans[b])
    return out


def _band_of(ln: _Line, band: int, spans: list[_Line]) -> int:
    """The band of a column line, moved before the run of full-width lines it sits beside: a
    sidebar ("Received ...", "Check for updates") left of a byline and abstract that cross the
    gutter was read between two of the abstract's lines."""
    def beside(span: _Line) -> bool:  # a line of prose that does not reach over `ln`
        return (ln.x1 <= span.x0 or ln.x0 >= span.x1) and len(span.text) >= 40

    if not (0 < band < len(spans) and beside(spans[band - 1]) and beside(spans[band])):
        return band
    while band > 0 and beside(spans[band - 1]):
        band -= 1
    return band
