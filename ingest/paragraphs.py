"""Group ordered text lines into blocks: headings, captions and paragraphs, the reference list aside.

`assemble` walks the lines `ingest.layout` put in reading order: it recognises section headings
(known names such as Abstract/Methods/参考文献, numbered headings, short bold or larger lines, and
headings wrapped over two lines), inline heads ("Abstract: ...", "关键词："), figure and table
captions, and paragraph starts (blank gaps against the column's normal leading, indents, column
and page changes); it joins each paragraph's lines (repairing end-of-line hyphens, no spaces
between Chinese characters), cuts over-long paragraphs at sentence ends, and diverts the reference
list (after References/参考文献, until an appendix heading) into entries of its own.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.types import TextBlock
from ingest.captions import OVERLEAF, parse_caption_start
from ingest.headings import (CAPTION, NUMBERED, PUBLISHING_LABEL_ZH, PUBLISHING_MATTER, REF_HEAD, SECTION_NAMES,
                             bare_name, continues_heading, ends_wrapped_heading, heading_name, is_heading, opens_wrapped_heading,
                             runs_in_without_stop, stands_alone, wraps_into_sentence)
from ingest.textfix import CJK_RE, face_heading, join_lines, joined_face, split_long

if TYPE_CHECKING:
    from ingest.layout import _Line

_AFTER_REFS = re.compile(
    r"^(appendix|appendices|supplementary|supporting information|figure legends|figures|tables|"
    r"acknowledge?ments?|author contributions|competing interests|data availability|funding|附录|致谢)", re.I
)
# Body sections some journals print after the references (Cell's STAR Methods, Nature's Methods),
# matched whole: "Methods 12, 115 (2015)" is a reference line.
_BODY_AFTER_REFS = frozenset({
    "star methods", "star+methods", "star★methods", "key resources table", "resource availability",
    "methods", "online methods", "materials and methods", "method details", "experimental procedures",
    "supplementary methods", "experimental model and study participant details",
})
_INLINE_HEAD = re.compile(
    r"^(?i:(abstract|summary|摘\s*要|key\s*words?|keywords|index terms|关\s*键\s*词))\s*[:：.．]\s*|"
    r"^(?i:(abstract|摘\s*要|key\s*words?|keywords|关\s*键\s*词))\s+(?=[A-Z\u4e00-\u9fff])|"  # "Abstract　With"
    r"^(ABSTRACT|KEYWORDS|KEY WORDS)\s+(?=[a-z])"  # "KEYWORDS antibiotic resistance, virulence, ..." (ASM)
)
_REF_MARK = re.compile(r"^(\[\d{1,4}\]|\d{1,4}\.\s|\d{1,4}\s+\S)")
def split_references(lines: list[_Line], vocab: set[str]) -> list[str]:
    """Cut reference-list lines into entries by number marks, hanging indent, or gaps."""
    if not lines:
        return []
    marked = sum(1 for ln in lines if _REF_MARK.match(ln.text)) >= 0.25 * len(lines)
    lefts: dict[tuple[int, int], float] = {}
    for ln in lines:
        lefts[(ln.page, ln.col)] = min(lefts.get((ln.page, ln.col), 1e9), ln.x0)
    entries: list[list[str]] = []
    for prev, ln in zip([None, *lines], lines):
        at_left = ln.x0 - lefts[(ln.page, ln.col)] < 2  # hanging indent: entries start at the left edge
        gap = prev is not None and prev.page == ln.page and ln.y0 - prev.y1 > 0.5 * ln.size
        if not entries or (_REF_MARK.match(ln.text) if marked else (at_left or gap)):
            entries.append([])
        entries[-1].append(ln.text)
    return [join_lines(e, vocab) for e in entries]


# A footnote opens with its mark: a raised number ("⁷pronounced", "¹⁵https://…", "¹ Department of
# …"; not "33RE Ki (nM)" in a table) or a symbol ("*Correspondence", "†These authors …", and BMC's
# licence box "© The Author(s) 2024. Open Access This article is licensed ...", which cut a first
# page's last sentence in two: "... because double-stranded © The Author(s) 2024. Open Access ...").
_SYMBOL_MARK = re.compile(r"^[*†‡§¶∗©]\s?(?:https?:|[A-Za-z\u3400-\u9fff])|^This (?:work|article) is licensed\b")
_NUMBER_MARK = re.compile(r"^\d{1,2}\s?(?:https?:|[A-Za-z\u3400-\u9fff])")


def _opens_note(ln: _Line) -> bool:
    return bool(_SYMBOL_MARK.match(ln.text) or ln.raised and _NUMBER_MARK.match(ln.text))


def mark_footnotes(lines: list[_Line], body_size: float, height: float) -> list[_Line]:
    """Flag the footnotes of a page (its ordered lines, returned): the lines in smaller type below a
    column's last body-size line, from one that opens with a footnote mark in the lower half of the
    page (NAR's "* To whom correspondence …" under the byline opens none). In reading order they
    sat between two columns and a sentence was joined across them ("... inline (He 15https://github.
    com/google-research/bert ... et al., 2010"); flagged, they become blocks of their own (kind
    "footnote", one per mark) that sentences run on across; in the reference list they stay references.
    """
    for col in {ln.col for ln in lines}:
        own = [ln for ln in lines if ln.col == col]
        bottom = max((ln.y1 for ln in own if abs(ln.size - body_size) <= 0.5), default=None)  # body text
        if bottom is None:
            continue
        foot = sorted((ln for ln in own if ln.y0 >= bottom - 1 and ln.size <= 0.9 * body_size), key=lambda ln: ln.y0)
        if not (foot and foot[0].y0 >= 0.5 * height and _opens_note(foot[0]) and not CAPTION.match(foot[0].text)):
            # Chinese journals print "收稿日期：…", "基金项目：…", "通信作者：…" unmarked at the first page's
            # foot, under small type of the page's own (a 9 pt English abstract over 10.5 pt text): read
            # as text, they had cut the abstract running on to page 2 in two ("… constructing 收稿日期：
            # 2025−06−04 … ultra-large-scale …"). The notes open at the first such label with only small
            # type below it. Not English labels: "Received:" heads PLOS's sidebar, and a back page's
            # "Received: …" line sits over the reference list.
            first = next((i for i, ln in enumerate(foot) if ln.page == 1 and ln.y0 >= 0.5 * height
                          and PUBLISHING_LABEL_ZH.match(ln.text)), None)
            below = 0 if first is None else sum(ln.y0 >= foot[first].y0 - 1 for ln in own)
            foot = foot[first:] if first is not None and below == len(foot) - first else []
        if foot:
            for ln in foot:
                ln.note = True
                if ln.raised and _NUMBER_MARK.match(ln.text):
                    ln.text = re.sub(r"^(\d+)(?=\S)", r"\1 ", ln.text)  # "7pronounced" reads "7 pronounced"
    return lines


def merge_same_row(lines: list[_Line]) -> list[_Line]:
    """Join fragments MuPDF split on one baseline (e.g. spaced-out CJK headings "引 言")."""
    out: list[_Line] = []
    for ln in lines:
        prev = out[-1] if out else None
        if (
            prev is not None and prev.page == ln.page and prev.col == ln.col
            and min(prev.y1, ln.y1) - max(prev.y0, ln.y0) > 0.5 * min(prev.y1 - prev.y0, ln.y1 - ln.y0)
            and 0 <= ln.x0 - prev.x1 + 1 < 3 * max(ln.size, 1)
        ):
            if len(prev.text) == 1 and prev.text.isalpha() and prev.size >= 1.8 * ln.size:
                # a drop cap ("A" over three lines of "cinetobacter spp. are ..."): the line's own
                # size and rows, or the paragraph's first line reads as a heading set large
                prev.text, prev.x1, prev.y0, prev.y1, prev.size = prev.text + ln.text, ln.x1, ln.y0, ln.y1, ln.size
                prev.bold, prev.face = ln.bold, ln.face
                continue
            sep = "" if CJK_RE.match(ln.text[:1]) or CJK_RE.match(prev.text[-1:]) else " "
            if prev.bold and not ln.bold and not prev.lead and runs_in_without_stop(prev.text, ln.text, prev.page):
                prev.lead = len(prev.text)  # bold words MuPDF split from the rest of their line (ACL)
            prev.text, prev.x1 = prev.text + sep + ln.text, ln.x1
            prev.y0, prev.y1 = min(prev.y0, ln.y0), max(prev.y1, ln.y1)
            prev.face = joined_face((prev.face, ln.face))  # "2．1" (bold Latin) and its title (方正黑体)
            prev.bold = prev.bold and ln.bold or face_heading(prev.text, prev.face)
            prev.size = max(prev.size, ln.size)
            continue
        out.append(ln)
    return out


def assemble(lines: list[_Line], body_size: float, vocab: set[str]) -> tuple[list[TextBlock], list[str]]:
    """Group ordered lines into heading/caption/body blocks; route the reference list aside."""
    blocks: list[TextBlock] = []
    ref_lines: list[_Line] = []
    section, in_refs = "", False
    para: list[_Line] = []
    kind = "body"

    def flush() -> None:
        nonlocal para
        if para:
            text = join_lines([ln.text for ln in para], vocab)
            for piece in split_long(text) if kind != "heading" else [text]:
                blocks.append(TextBlock(page=para[0].page, text=piece, section=section, kind=kind))
        para = []

    leading = typical_gaps(lines)
    turned: _Line | None = None  # a legend's last line before it goes on overleaf (`goes_on_overleaf`)
    below = [0] * (len(lines) + 1)  # how many lines of the same style follow each at its leading
    for i in range(len(lines) - 2, -1, -1):
        below[i] = below[i + 1] + 1 if continues_heading(lines[i], lines[i + 1], 0.3) and lines[i].col == lines[i + 1].col else 0
    for i, (prev, ln, nxt) in enumerate(zip([None, *lines], lines, [*lines[1:], None])):
        if turned is not None and ln.page > turned.page:
            if goes_on_overleaf(turned, ln, body_size):
                if kind != "caption" or para[0].page != ln.page:
                    flush()
                    kind, para = "caption", []
                para.append(ln)
                continue
            turned = None
        head = (is_heading(ln, body_size) and not wraps_into_sentence(ln, nxt, body_size)
                or opens_wrapped_heading(ln, nxt, body_size))
        name = heading_name(ln.text)
        known = bare_name(name) in SECTION_NAMES or bool(NUMBERED.match(name))  # named or numbered: a heading
        if head and (_same_row(prev, ln) or _same_row(nxt, ln)) and (REF_HEAD.match(bare_name(name)) or not known):
            # A table's header cell beside the others ("Compounds", "Fold change") named the section of
            # the text after the table; a "参考文献" column sent a paper's body to the reference list.
            head = False
        if head and not known and (
                kind == "body" and para and runs_on_from(para[-1], ln) and (len(para) > 1 or not NUMBERED.match(para[0].text))
                or below[i] >= 3 and ln.size < body_size + 3):
            # The sentence of the line above goes on (a bold abstract's line of eleven words, PNAS), or
            # three more lines of its style follow (an abstract set a size up: Nature Communications).
            head = False
        if (not head and not in_refs and -1.0 <= ln.size - body_size < 0.3
                and not (_same_row(prev, ln) or _same_row(nxt, ln))):  # a table's cell beside others is not
            # a subheading in (about) the text's own type, told only by the gaps around it
            head = stands_alone(prev, ln, nxt, leading.get(nxt.size if nxt else ln.size, 0.0), kind == "heading")
        if in_refs:
            lettered = ln.bold and re.match(r"^[A-H](\.\d{1,2})*\.?\s+[A-Z]", name)  # "A Appendix title"
            # A numbered heading set larger than the text ("2 方案设计") is the body going on: no
            # reference entry is printed that way.
            section_head = NUMBERED.match(name) and ln.size >= body_size + 1.0
            after = _AFTER_REFS.match(bare_name(name)) or bare_name(name) in _BODY_AFTER_REFS
            if not (head and (after or lettered or section_head)
                    or CAPTION.match(ln.text) and ln.size < body_size):
                ref_lines.append(ln)
                continue
            in_refs = False
        inline = None if head else _INLINE_HEAD.match(ln.text)
        # a bold run-in head of two words or more opens its paragraph (a structured abstract keeps its labels)
        runs_in = (ln.lead > 0 and len(re.findall(r"[A-Za-z]{2,}", ln.text[:ln.lead])) >= 2
                   and bare_name(section) not in ("abstract", "summary"))
        if ln.note:
            # one block per footnote; a note's publishing label ("基金项目：", "© 2014 …") opens one too
            if kind != "footnote" or _opens_note(ln) or PUBLISHING_MATTER.match(ln.text):
                flush()
                kind, para = "footnote", []
            para.append(ln)
        elif head and REF_HEAD.match(bare_name(name)):
            flush()
            in_refs, section = True, name
        elif (kind == "heading" and ln.lead and len(para) < 3 and bare_name(section) not in SECTION_NAMES
              and continues_heading(prev, replace(ln, bold=True, size=prev.size))):  # its size: the text's
            # a run-in head's last line: its bold words end the heading, the rest opens the paragraph
            # ("Construction of an opioid biosensor in a cholesterol-producing" / "yeast. Previous work ...")
            para.append(replace(ln, text=ln.text[:ln.lead]))
            section = heading_name(join_lines([x.text for x in para], vocab))
            flush()
            kind, para = "body", [replace(ln, text=ln.text[ln.lead:].lstrip(), lead=0)]
        elif kind == "heading" and (continues_heading(prev, ln) if head else continues_heading(
                prev, ln, leading=leading.get(ln.size, 0.0)) and ends_wrapped_heading(para, ln, body_size, nxt)) \
                and not (ln.font != prev.font and bare_name(section) in SECTION_NAMES):
            # (a section's name is whole: PLOS sets "Materials and methods" in Helvetica over its first
            # subheading in Minion, both 12 pt bold, and they had been one heading)
            para.append(ln)  # second line of a wrapped heading
            section = heading_name(join_lines([x.text for x in para], vocab))
        elif head:
            flush()
            kind, para, section = "heading", [ln], name
        elif inline:
            flush()
            label = heading_name(inline.group(1) or inline.group(2) or inline.group(3))
            section = label.capitalize() if label.isascii() else label
            kind, para = "body", [ln]
        elif CAPTION.match(ln.text) and parse_caption_start(ln.text) is not None:
            # "Table 4, we find that ..." (a line-broken "In Table 4, ...") is body text
            flush()
            kind, para = "caption", [ln]
        elif kind == "caption" and continues_legend(para, ln, body_size):
            para.append(ln)
            turned = ln if OVERLEAF.search(ln.text) else None
        elif kind == "caption" and ln.x0 < para[-1].x0 - ln.size and _opens_figure(para):
            # a line left of a centred figure caption (Chinese journals, body size: "图9移动切换性能测试结果"
            # took in "图9 为MN 移动切换30 次……") is the text under it; a table's cells start left too
            flush()
            kind, para = "body", [ln]
        elif (kind in ("heading", "footnote") or starts_paragraph(prev, ln, leading)
              or runs_in and prev is not None and prev.text.endswith((".", ":", "?", "!"))):
            flush()
            kind, para = "body", [ln]
            if runs_in:  # a run-in head ("Molecular genetics  Next-generation sequencing ...", "Cell culture. HEK ...")
                section = heading_name(ln.text[:ln.lead].rstrip(" .:"))
                blocks.append(TextBlock(page=ln.page, text=section, section=section, kind="heading"))
                para = [replace(ln, text=ln.text[ln.lead:].lstrip(), lead=0)]
        else:
            para.append(ln)
    flush()
    return blocks, split_references(ref_lines, vocab)


def _same_row(other: _Line | None, ln: _Line) -> bool:
    """Is `other` beside `ln` on the same text row (another cell of a table row)?"""
    return bool(other and other.page == ln.page and abs(other.y0 - ln.y0) < 0.5 * ln.size
                and (other.x0 >= ln.x1 or other.x1 <= ln.x0))


def continues_legend(para: list[_Line], ln: _Line, body_size: float) -> bool:
    """Is `ln` more of a figure caption's legend: a paragraph in the caption's small type just below
    it ("Figure 6. A proposed working model ..." then "Under normal conditions, CYP707A1 ...",
    EMBO Reports)? The legend had become body text between two pages of the Discussion. Figures
    only: a table caption is followed by its cells in the same small type."""
    last, opened = para[-1], parse_caption_start(para[0].text)
    return (opened is not None and opened[0] == "figure" and ln.page == last.page
            and ln.size < body_size - 0.5 and abs(ln.size - last.size) < 0.5
            and -2 <= ln.y0 - last.y1 < 2.0 * ln.size and abs(ln.x0 - para[0].x0) < 3 * ln.size)


def _opens_figure(para: list[_Line]) -> bool:
    return bool(para) and (parse_caption_start(para[0].text) or ("",))[0] == "figure"


def goes_on_overleaf(turned: _Line, ln: _Line, body_size: float) -> bool:
    """Is `ln` the rest of a legend whose last line (`turned`) said "Figure 2 continued on next page"
    (eLife)? The next page's first lines in its small type are (as body text they ran into the Results)."""
    return (ln.page == turned.page + 1 and abs(ln.size - turned.size) < 0.5 and ln.size < body_size - 0.5
            and parse_caption_start(ln.text) is None)  # another legend starts its own caption


def runs_on_from(prev: _Line, ln: _Line) -> bool:
    """Does `ln` carry on the sentence of the body line above it: same style and column, just below,
    no sentence end above, and the line above as wide?"""
    return (prev.page == ln.page and prev.col == ln.col and abs(prev.size - ln.size) < 0.3 and prev.bold == ln.bold
            and -2 <= ln.y0 - prev.y1 < 0.8 * ln.size and prev.x1 - prev.x0 >= 0.8 * (ln.x1 - ln.x0)
            and not prev.text.endswith((".", "!", "?", ":", ";", "。", "！", "？", "：", "；")))


def typical_gaps(lines: list[_Line]) -> dict[float, float]:
    """Median white gap between consecutive lines of one column, per font size: the normal leading.
    Needed because some journals set 9.7 pt text on 16 pt lines (gap 0.7 em inside a paragraph)."""
    gaps: dict[float, list[float]] = {}
    for a, b in zip(lines, lines[1:]):
        gap = b.y0 - a.y1
        if a.page == b.page and a.col == b.col and abs(a.size - b.size) < 0.5 and 0 <= gap < 2 * b.size:
            gaps.setdefault(b.size, []).append(gap)
    return {size: sorted(g)[len(g) // 2] for size, g in gaps.items() if len(g) >= 5}


def starts_paragraph(prev: _Line | None, ln: _Line, leading: dict[float, float] | None = None) -> bool:
    """A new paragraph on a new page/column/band, a size change, a blank gap or a first-line indent."""
    if prev is None or prev.page != ln.page or abs(prev.size - ln.size) > 1.0:
        return True
    if prev.col != ln.col or ln.y0 < prev.y0 - 1:  # moved to the next column or band
        ends_sentence = prev.text.endswith((".", "。", "!", "?", ":", "！", "？"))
        return ends_sentence or not (ln.text[:1].islower() or CJK_RE.match(ln.text[:1]))
    gap = ln.y0 - prev.y1
    if gap > max(0.7 * ln.size, (leading or {}).get(ln.size, 0.0) + 0.45 * ln.size):
        return True
    indented = ln.x0 > prev.x0 + 0.8 * ln.size
    return indented and prev.text.endswith((".", "。", ":", "!", "?"))
