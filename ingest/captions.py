"""Figure and table captions read straight from the page, and the body sentences that mention them.

Captions ("Figure 3", "Fig. 3", "FIG 3", "Figure S1", "图3", "Table 2", "表2") are read from
`page.get_text("dict")` rather than from the layout module's paragraphs, so figure pairing does not
depend on reading order; body text that merely starts with a label ("Figure 3 shows", "如图3所示")
is rejected. `ingest.figures` pairs captions with figure regions, `ingest.tables` with tables.
Mentions are the body sentences that cite a label ("as shown in Fig. 3", "(Figure 3A)", "如图3所示").
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

import pymupdf

from assistant.types import FigureImage
from ingest.textfix import repair_founder_glyphs

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
_SPACES = str.maketrans({c: " " for c in "\xa0\u2002\u2003\u2009\u200a\u202f\u3000\t"})
_CAPTION_RE = re.compile(
    r"^\s*(?:(?:supplementary|extended\s+data)\s+)?(?P<word>figures?|figs?\.?|tables?|图|表)\s*(?P<num>S?\d{1,3})(?P<rest>.*)$",
    re.I | re.S,
)
# words that continue a Chinese sentence ("如图3所示", "表1中", "图9为…"): body text, not a caption
_ZH_BODY = re.compile(r"^\s*(所|为|中|是|给|展|显|表明|可|说明|描述|的|对|和|与|列|比较|分别|反映|从|即|及|[、，。）)])")
_CJK = re.compile(r"[\u3400-\u9fff]")
# eLife's items that belong to a figure without being it ("Figure 3—video 2.", "Figure 1—figure
# supplement 1.", "Figure 2—source data 1."): read as "Figure 3", they outnumbered the figure's own
# caption in the document's caption style, which was dropped as a duplicate, and the figure on its
# page took a video's legend from the next page. They are captions of their own ("3—video 2").
_SUB_ITEM = re.compile(r"\s*[—–-]\s*(figure supplement|video|source data|source code|animation|audio|"
                       r"supplementary file)\s+(\d{1,2})", re.I)
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

    def ends_paragraph(self, ln: _Line) -> bool:
        """A short line that is the last line of a paragraph of prose: a prose line in its type sits
        right above it (a leading's gap at most) and starts where it starts. Short, it reads like a
        figure's label, but it is the end of a sentence ("……往返时延RTT 多" / "次测试结果见表1。")."""
        x0, y0 = ln.bbox[0], ln.bbox[1]
        for above in self.lines:
            ax0, _, _, ay1 = above.bbox
            if (0 <= y0 - ay1 <= 0.6 * ln.size and abs(ax0 - x0) <= 0.5 * ln.size
                    and abs(above.size - ln.size) <= 0.3 and self.is_prose(above)):
                return True
        return False

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
    """Every page's text lines, top to bottom (a parse reads them once, in `ingest.pages`)."""
    return [page_text(repair_founder_glyphs(page.get_text("dict", flags=_FLAGS)), page.rect.width) for page in doc]


def page_text(info: dict, width: float) -> PageText:
    """A page's text lines (text, bbox, dominant font size) from its `get_text("dict")`."""
    lines = []
    for block in info["blocks"]:
        for line in block.get("lines", ()):
            text = "".join(s["text"] for s in line["spans"]).translate(_SPACES).strip()
            if text:
                size = max(line["spans"], key=lambda s: len(s["text"]))["size"]
                lines.append(_Line(tuple(line["bbox"]), text, size, abs(line["dir"][1]) < 0.1))
    lines.sort(key=lambda ln: (ln.bbox[1], ln.bbox[0]))
    return PageText(lines, width)


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
    sub = None if zh else _SUB_ITEM.match(rest)
    if sub:
        num, rest = f"{num}—{sub[1].lower()} {sub[2]}", rest[sub.end():]
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
            c = _with_overleaf(c, texts)
            pages[c.page].append(c)
            for i in c.lines:
                texts[c.page].lines[i].in_caption = True
    return pages


# eLife ends a legend that goes on overleaf with "Figure 2 continued on next page" and heads the
# rest, in the legend's type at the top of the next page, "Figure 2 continued". The marker also
# tells the paragraph assembler (`ingest.paragraphs`) that a legend's lines go on overleaf.
OVERLEAF = re.compile(r"\s*(?:(?:figure|fig\.?)\s*\d+\s+)?\(?continued on (?:the )?next page\W*$", re.I)
_CONTINUED_HEAD = re.compile(r"^\s*(?:figure|fig\.?)\s*\d+\s+\(?continued\)?\.?\s*$", re.I)


def _with_overleaf(cap: Caption, texts: list[PageText]) -> Caption:
    """The caption with the rest of its legend from the next page, without the marker between."""
    marker = OVERLEAF.search(cap.text)
    if marker is None or cap.page + 1 >= len(texts):
        return cap
    size = texts[cap.page].lines[cap.lines[0]].size
    after = texts[cap.page + 1].lines
    # only under the next page's "Figure 2 continued" head (above it: the running header)
    head = next((k for k, ln in enumerate(after[:8]) if _CONTINUED_HEAD.match(ln.text)), None)
    rest = []
    for ln in after[head + 1:] if head is not None else ():
        if not ln.upright or abs(ln.size - size) > 0.6 or parse_caption_start(ln.text) is not None:
            break
        rest.append(ln)
    for ln in rest:
        ln.in_caption = True
    return replace(cap, text=_join([cap.text[: marker.start()], *(ln.text for ln in rest)]))


_PANEL = re.compile(r"\([A-Ha-h]\)\s")  # "(A) The tumor microenvironment ..."


def _caption_paragraph(pt: PageText, i: int, kind: str, num: str, absorbed: set[int]) -> tuple[str, tuple, tuple]:
    """The caption's lines: its row, then lines below in the same column and font size (or both
    columns of a caption set in two, `_two_columns`)."""
    first = pt.lines[i]
    x0, y0, x1, y1 = first.bbox
    h = max(y1 - y0, 4.0)
    if (columns := _two_columns(pt, i)) is not None:
        taken = [i, *columns]
        boxes = [pt.lines[j].bbox for j in taken]
        return (_join([pt.lines[j].text for j in taken]),
                (min(b[0] for b in boxes), y0, max(b[2] for b in boxes), max(b[3] for b in boxes)), tuple(taken))
    parts, size = [first.text], first.size
    taken = [i]
    wide = x1 - x0 >= 0.3 * pt.width  # a legend's first line that fills its column
    for j, ln in enumerate(pt.lines):  # the rest of the first row ("图1" and its title as two lines)
        # not a short label of the figure beside a full line ("... in complex with com-" "Tyr369")
        if j != i and _in_row(first, ln, x1, -1) and not (wide and ln.bbox[2] - ln.bbox[0] < 0.3 * (x1 - x0)):
            parts.append(ln.text)
            taken.append(j)
            x1, y1 = max(x1, ln.bbox[2]), max(y1, ln.bbox[3])
            size = ln.size if len(ln.text) > len(first.text) else size
    left, right, top, bottom = x0, x1, y0, y1
    for j in range(i + 1, len(pt.lines)):
        ln = pt.lines[j]
        lx0, ly0, lx1, ly1 = ln.bbox
        if j in taken or not _next_row(ln, top, h) or lx1 < left or lx0 > right:
            continue  # same row or another column
        # PNAS's legends run to 2,750 characters (a cap of 2,500 cut two); more is body text run on
        if _gap_ends(ly0 - bottom, h, size) or sum(len(p) for p in parts) > 4000:
            break
        if 0.6 < abs(ln.size - size) <= 1.2 and ly0 - bottom < 0.5 * h and abs(lx0 - left) < 3 \
                and (_PANEL.match(ln.text) or parts[-1].rstrip().endswith(".")):
            # a legend's text in the body's type right under its title set smaller (Science's author
            # manuscripts: a 9 pt bold title over 10 pt panels, "(A) The tumor microenvironment ...")
            size = ln.size
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
        top, bottom, right = ly0, max(bottom, ly1), max(right, lx1)
    return _join(parts), (left, y0, right, bottom), tuple(taken)


def _two_columns(pt: PageText, i: int) -> list[int] | None:
    """The lines after caption line `i` when the caption is set in two columns under a figure as
    wide as the page (Springer's and Nature Communications' legends): the left column's lines
    below it, then the right column from the line beside it, read column by column, not row by row
    ("... (a, b) Representa-" had run on into the right column's first line, "are in μmol/l) ...",
    and the rest of both columns was lost). Such a caption's first line fills its column, the line
    beside it starts a column after a gutter, in the same type and nearly as wide, and both columns
    go on below."""
    first = pt.lines[i]
    x0, y0, x1, y1 = first.bbox
    h = max(y1 - y0, 4.0)
    if x1 - x0 < 0.3 * pt.width:
        return None
    beside = [j for j, ln in enumerate(pt.lines) if j != i and _in_row(first, ln, x1, 6)]
    if len(beside) != 1:
        return None
    right = pt.lines[beside[0]]
    if right.bbox[2] - right.bbox[0] < 0.6 * (x1 - x0):
        return None  # a figure's label beside the caption ("Tyr369"), not a column of it
    left_column = _column_below(pt, i, x0, right.bbox[0] - 2)
    right_column = _column_below(pt, beside[0], right.bbox[0], pt.width)
    if not left_column or not right_column:
        return None
    end = pt.lines[left_column[-1]].bbox[3] + h  # the right column ends beside the left one
    return left_column + beside + [j for j in right_column if pt.lines[j].bbox[1] < end]


def _column_below(pt: PageText, i: int, left: float, right: float) -> list[int]:
    """The lines under line `i` that start at its left edge (give or take 3 pt, or indented up to
    15) and end before `right`, in its type, each within a line's spacing of the one above, up to
    the next caption."""
    ln0 = pt.lines[i]
    h, top, bottom, out = max(ln0.bbox[3] - ln0.bbox[1], 4.0), ln0.bbox[1], ln0.bbox[3], []
    for j in range(i + 1, len(pt.lines)):
        ln = pt.lines[j]
        lx0, ly0, lx1, ly1 = ln.bbox
        if not _next_row(ln, top, h) or lx1 > right + 3 or not left - 3 <= lx0 <= left + 15:
            continue  # same row, another column
        if _gap_ends(ly0 - bottom, h, ln0.size) or abs(ln.size - ln0.size) > 0.6 \
                or parse_caption_start(ln.text) is not None:
            break
        out.append(j)
        top, bottom = ly0, ly1
    return out


def _in_row(first, ln, end: float, min_gap: float) -> bool:
    """Does upright line `ln` go on the row of caption line `first`, starting `min_gap` to 40 pt right
    of the row's `end`, in its type? (The body's line beside a legend in the next column is not.)"""
    h = max(first.bbox[3] - first.bbox[1], 4.0)
    return (ln.upright and abs(ln.bbox[1] - first.bbox[1]) < 0.5 * h and end + min_gap < ln.bbox[0] < end + 40
            and abs(ln.size - first.size) <= 0.6)


def _next_row(ln, top: float, h: float) -> bool:
    """Is upright line `ln` on a row below the one whose top is `top`? A row is a new one when it
    starts half a line below the last one's top: line boxes may overlap (IOP's 14.7 pt boxes on a
    12.6 pt leading had every other line taken for the same row as the one above and dropped)."""
    return ln.upright and ln.bbox[1] >= top + 0.5 * h


def _gap_ends(gap: float, h: float, size: float) -> bool:
    """Does a gap of `gap` pt under a caption's last line end the caption (more than a line's spacing)?"""
    return gap > max(0.8 * h, 1.2 * size)


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
