"""Tables ruled with horizontal lines only (booktabs, the Chinese journals' 三线表), read as text rows.

PyMuPDF's line detector needs a grid: a table with a top rule, a rule under its header and a
bottom rule, and no vertical lines, gives it nothing, and its layout model costs ~0.8 s a page
(`ingest.tables`). On the shared corpus that left 53 of 63 captioned tables (ACL, IOP, NAR,
every Chinese paper) without a table text. Here the table is found from its caption: the first
rule right under a "Table N" / "表N" caption (or right above it, ACL's style), then the rules of
the same span that follow while what lies between them reads as a table's rows (several cells on
a row, or short lines; no caption, no paragraph of prose). The page's text lines inside are
grouped into rows by height and joined with " | " between cells, left to right.

A rule drawn cell by cell (IOP) is joined first. The table's words stay in the body text too, as
for the tables PyMuPDF finds.
"""
from __future__ import annotations

from ingest.captions import Caption, PageText

_THIN = 2.0  # a rule's height at most, pt
_MIN_RULE = 50.0  # a rule's width at least, pt
_SPAN_TOL = 4.0  # rules of one table start and end within this, pt
_GAP = 30.0  # a caption's distance from the table's first rule at most, pt
_MAX_BAND = 450.0  # a band between two rules taller than this is not one table's


def find_rules(bboxlog: list) -> list[list[float]]:
    """The page's thin horizontal rules (segments drawn end to end joined), top to bottom."""
    segments = sorted(([*box] for kind, box in bboxlog
                       if "path" in kind and box[3] - box[1] <= _THIN and box[2] - box[0] >= 8),
                      key=lambda r: (round(r[1]), r[0]))
    rules: list[list[float]] = []
    for seg in segments:
        last = rules[-1] if rules else None
        if last and abs(last[1] - seg[1]) <= 1 and seg[0] <= last[2] + 3:
            last[2], last[3] = max(last[2], seg[2]), max(last[3], seg[3])
        else:
            rules.append(seg)
    return sorted((r for r in rules if r[2] - r[0] >= _MIN_RULE), key=lambda r: r[1])


def rule_bounded_table(text: PageText, rules: list[list[float]], cap: Caption) -> tuple[tuple, list[str]] | None:
    """(bbox, rows) of the table that `cap` names, when rules bound it; else None."""
    cx0, cy0, cx1, cy1 = cap.bbox
    # the rule nearest to the caption, under it (most journals) or over it (ACL), is tried first:
    # under ACL's "Table 3" caption lies the top rule of Table 4, printed right below it
    anchors = [(r[1] - cy1, True, r) for r in rules if _overlaps(r, cx0, cx1) and 0 <= r[1] - cy1 <= _GAP]
    anchors += [(cy0 - r[3], False, r) for r in rules if _overlaps(r, cx0, cx1) and 0 <= cy0 - r[3] <= _GAP]
    for below in dict.fromkeys(side for _, side, _ in sorted(anchors, key=lambda a: a[0])):
        anchor = min((a for a in anchors if a[1] == below), key=lambda a: a[0])[2]
        same = [r for r in rules if abs(r[0] - anchor[0]) <= _SPAN_TOL and abs(r[2] - anchor[2]) <= _SPAN_TOL]
        walk = [r for r in same if r[1] > anchor[1]] if below else [r for r in reversed(same) if r[1] < anchor[1]]
        edge = anchor
        for rule in walk:
            top, bottom = (edge, rule) if below else (rule, edge)
            if bottom[1] - top[3] > _MAX_BAND or not _reads_as_rows(text, (anchor[0], top[3], anchor[2], bottom[1])):
                break
            edge = rule
        if edge is anchor:
            continue
        top, bottom = (anchor, edge) if below else (edge, anchor)
        box = (min(top[0], bottom[0]), top[1], max(top[2], bottom[2]), bottom[3])
        rows = table_rows(text, box)
        if len(rows) >= 2:
            return tuple(round(v, 1) for v in box), rows
    return None


def table_rows(text: PageText, box: tuple) -> list[str]:
    """The text lines inside `box` as rows, each row's texts joined left to right with " | "."""
    return [" | ".join(ln.text for ln in sorted(row, key=lambda ln: ln.bbox[0])) for row in _rows(_lines_in(text, box))]


def _rows(lines: list) -> list[list]:
    """Lines grouped into rows: lines whose middles share a height (within 0.4 of their size)."""
    rows: list[tuple[float, list]] = []
    for ln in sorted(lines, key=lambda ln: (ln.bbox[1] + ln.bbox[3]) / 2):
        middle = (ln.bbox[1] + ln.bbox[3]) / 2
        if rows and abs(rows[-1][0] - middle) <= 0.4 * ln.size:
            rows[-1][1].append(ln)
        else:
            rows.append((middle, [ln]))
    return [row for _, row in rows]


def _reads_as_rows(text: PageText, box: tuple) -> bool:
    """Does the band between two rules hold a table's rows? Not when it holds a caption, nor when
    most of its rows are one line running most of the band's width (a paragraph of prose)."""
    lines = _lines_in(text, box)
    if any(ln.in_caption for ln in lines):
        return False
    width = box[2] - box[0]
    rows = _rows(lines)
    prose = sum(1 for row in rows if len(row) == 1 and row[0].bbox[2] - row[0].bbox[0] > 0.7 * width
                and text.is_prose(row[0]))
    return prose <= len(rows) / 2


def _lines_in(text: PageText, box: tuple) -> list:
    x0, y0, x1, y1 = box
    return [ln for ln in text.lines if ln.upright and x0 - 2 <= (ln.bbox[0] + ln.bbox[2]) / 2 <= x1 + 2
            and y0 <= (ln.bbox[1] + ln.bbox[3]) / 2 <= y1]


def _overlaps(rule: list[float], x0: float, x1: float) -> bool:
    """A rule under (or over) a caption: it covers at least half the caption's width, or half its
    own width lies under a caption wider than the table."""
    return min(rule[2], x1) - max(rule[0], x0) >= 0.5 * min(x1 - x0, rule[2] - rule[0])
