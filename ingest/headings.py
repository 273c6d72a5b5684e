"""What is a section heading: known names, numbered lines, short bold or larger lines, and
headings wrapped over two or three lines.

`is_heading` judges one line against the body's type size; `wraps_into_sentence`,
`opens_wrapped_heading`, `ends_wrapped_heading` and `continues_heading` judge a line beside its
neighbours (a heading's second line, a bold sentence that runs on); `heading_name` and `bare_name`
give the text a section is named by and matched on. `ingest.paragraphs.assemble` applies them while
it groups a page's lines into blocks. `PUBLISHING_MATTER` (received dates, funding, correspondence
labels) lives here too: paragraphs, metadata and the answer's sentence kinds all read it.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from ingest.textfix import BULLETS, CJK_CHARS, CJK_RE

if TYPE_CHECKING:
    from ingest.layout import _Line

CAPTION = re.compile(
    r"^(supplementary\s+|extended\s+data\s+)?(figure|fig\.?|table|scheme)\s*S?\d+[a-zA-Z]?\b|^[图表]\s*\d+", re.I
)
# Not a title after a line's number: a stop after a Chinese word ("②智能算力.当用于……"), a bracket
# left open by a wrapped line ("3 万个Trainium芯片（Amazon专为训练……"), a quantity ("3 万个").
_NOT_A_TITLE = re.compile(r"[\u4e00-\u9fff][.．]|[（(][^）)]*$|^[万亿千百]")
NUMBERED = re.compile(r"^(\d{1,2}(\.\d{1,2}){0,3})\.?\s+(\S.*)$|^([一二三四五六七八九十]{1,3})\s*[、.．]\s*(\S.*)$")
SECTION_NAMES = set(
    "abstract|introduction|background|methods|method|materials and methods|material and methods|results|"
    "methods and materials|discussion|results and discussion|conclusion|conclusions|acknowledgements|"
    "conclusions and future work|acknowledgments|acknowledgement|acknowledgment|references|bibliography|"
    "literature cited|references and notes|related work|experiments|experimental|evaluation|funding|"
    "author contributions|competing interests|conflict of interest|conflicts of interest|data availability|"
    "declarations|appendix|supplementary material|supplementary information|supplementary materials|summary|"
    "limitations|materials & methods|experimental procedures|star methods|key resources table|figure legends|"
    "figures|tables|abbreviations|ethics statement|摘要|引言|前言|结论|结束语|参考文献|致谢|相关工作|附录|总结|讨论".split("|")
)
REF_HEAD = re.compile(r"^(references|bibliography|literature cited|references and notes|works cited|参考文献)$", re.I)
_FORMULA = re.compile(r"[=∃∀∈∉⊂⊆∑∏√≤≥<>\[\]]|^[(（]")
_CJK_SPACING = re.compile(f"(?<=[{CJK_CHARS}])\\s+(?=[{CJK_CHARS}])")
# "A Appendix" and "B. Filters" are lettered; "Abstract" and "Discussion" are not ("bstract" missed every name)
_NUMBERING = re.compile(r"^(\d{1,2}(\.\d{1,2})*\.?|[IVX]{1,4}\.|[一二三四五六七八九十]{1,3}[、.．]|[A-H](?=[.\s])\.?)\s*")
_SPACES = re.compile(r"\s+")


# Labels of publishing matter, anywhere in a sentence (the page's reading order glues them into text):
# answers weigh such sentences less (assistant.sentence_kinds), abstracts leave out blocks opening with
# one (ingest.metadata), and a first page's foot that opens with one is its footnotes (ingest.paragraphs).
_LABELS_ZH = r"中图(?:法)?分类号|收稿日期|修回日期|录用日期|基金项目|作者简介|文献标[识志]码|文章编号|引用格式|通[信讯]作者"
PUBLISHING_LABEL_ZH = re.compile(_LABELS_ZH)
PUBLISHING_MATTER = re.compile(
    _LABELS_ZH + r"|"
    r"\bfoundation items?\s*[:：]|\bcorresponding authors?\b|\baddress correspondence to\b|"
    r"(?-i:\bEditor\s+[A-Z][a-z]+\s+[A-Z])|\be-?mail\s*[:：]|\bcitation\s*[:：]\s*[A-Z][\w'-]+,\s*[A-Z]\.|"
    r"\bacademic editors?\s*[:：]|\bcopyright\s*[:：©]|©\s*(?:19|20)\d\d|\b(?:received|revised|accepted|"
    r"published(?: online)?)\s*[:：]\s*(?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)


def heading_name(text: str) -> str:
    """Text of a heading with CJK letter-spacing removed ("1 引 言" -> "1 引言")."""
    return _CJK_SPACING.sub("", text).strip()


def bare_name(text: str) -> str:
    """Heading text without numbering or trailing punctuation, lower-cased, for name matching."""
    return _SPACES.sub(" ", _NUMBERING.sub("", text).rstrip(" .:：")).lower()


# A byline's name with its affiliation marks ("Chris Beecher3,4,", "Mary J. O’Connell1,2",
# "Michael Heinzinger 1 &", "Kayla Thomason1☯,", "侯心迪1,", ASM's "Frickel,1 Mark"): two of them
# make a line a byline, not a heading, even set bold (a heading's words carry no marks; a gene list
# "Sho1, Pbs2" has no first names); so is a byline's last line of one name that ends in a mark
# ("Dong Wang 1✉"). Answers count them too (assistant.sentence_kinds).
_SIGN = r"[*☯†‡§#¶✉]"
_MARK = rf"\s?(?:\d{{1,2}}(?:,\s?(?:\d{{1,2}}|{_SIGN}))*{_SIGN}*|{_SIGN}+)\s*(?:,|\band\b|&|$)"
BYLINE_NAME = re.compile(rf"(?:[A-Z][^\W\d_]*\.?\s+[A-Z][^\W\d_'’-]*[^\W\d_](?:-[^\W\d_]+)?|[\u4e00-\u9fff]{{2,4}}){_MARK}"
                         r"|[A-Z][^\W\d_'’-]+\s?,\d{1,2}(?:,[\d*]+)*\s+(?=[A-Z])")


def is_name_list(text: str) -> bool:
    """Three or more names of two to four words, parted by commas and "and", the line ending in a
    sign: NAR's byline marks its corresponding author only ("..., Aivar Liiv and Jaanus Remme *"),
    so no name carries the affiliation marks `BYLINE_NAME` looks for. A heading lists single words
    ("Bacteria, Archaea and Eukarya") and ends in no sign."""
    if not re.search(rf"{_SIGN}$", text):
        return False
    parts = [p for p in re.split(r"\s*,\s*|\s+and\s+", re.sub(rf"\s*{_SIGN}+$", "", text)) if p]
    return len(parts) >= 3 and all(_LISTED_NAME.fullmatch(p) for p in parts)


# a wrapped byline's next line opens with the marks of the name before it (",1 Dusan Kwiatkowski,5",
# "2, Youlin Zhu1 &"); no heading opens so
_BYLINE_TAIL = re.compile(r"[,;]|\d{1,2}(?:,\d{1,2})*,\s")
_LISTED_NAME = re.compile(r"[A-Z][^\W\d_]*\.?(?:[\s-]+[^\W\d_]+\.?){1,3}")  # "Rya Er o": kerning-split names too


def is_heading(ln: _Line, body_size: float) -> bool:
    """Known section names, numbered short lines in a distinct style, or bold/larger short lines."""
    text = heading_name(ln.text)
    words = len(text.split())
    cjk = len(CJK_RE.findall(text))
    if not text or len(text) > 120 or words > 14 or (cjk and cjk > 30) or CAPTION.match(text):
        return False
    if text[-1] in ",;，；" or text[0].islower() or text[0] in BULLETS or sum(c.isalpha() for c in text) < 2:
        return False
    if bare_name(text) in SECTION_NAMES:
        return True
    if _FORMULA.search(text) or text.endswith("。") or len(BYLINE_NAME.findall(text)) >= 2 \
            or (BYLINE_NAME.fullmatch(text) and re.search(rf"{_SIGN}$", text)) or is_name_list(text) \
            or _BYLINE_TAIL.match(text) and BYLINE_NAME.search(text):
        return False  # a formula's line, set larger by its math font, a sentence, or a byline (or its last name)
    styled = ln.bold or ln.size >= body_size + 1.0
    numbered = NUMBERED.match(text)
    if numbered:
        rest = numbered.group(3) or numbered.group(5) or ""
        if not rest or text.endswith(".") or re.search("[，。,；;]", rest) or _NOT_A_TITLE.search(rest):
            return False  # numbered list items and sentences, not headings
        # an italic numbered line is a heading too (MDPI's "4.2. DNA Manipulation")
        return (rest[0].isupper() or bool(cjk)) and (styled or ln.italic or bool(cjk))
    # bold and a size up, a heading may be a sentence of its own (ASM: "A. lwoffii forms less biofilm, and the
    # biofilm is more susceptible to antibiotics" / "and biocides than ..."): a little longer
    longest = 14 if ln.bold and ln.size >= body_size + 1.0 else 12
    return styled and words <= longest and not text.endswith(".") and not re.search(r"\d{3,}", text)


def stands_alone(prev: _Line | None, ln: _Line, nxt: _Line | None, gap: float, after_heading: bool) -> bool:
    """A short line in the text's type (or up to 1 pt smaller) with a paragraph's gap above it is a
    heading when the paragraph under it is set close below it, or, at most nine tenths of that
    paragraph's width, when a gap parts it from both: a manuscript typed in one face (bioRxiv's
    "Growth conditions", "Extended motif DMS library identifies mutations modulating interaction
    strength") marks its subheadings only so, BMC its own a little smaller in another face. `gap`:
    the text's usual gap between lines; `after_heading`: the line above is a heading (else it must
    end a sentence)."""
    if prev is None or nxt is None or ln.bold or not (prev.page == ln.page == nxt.page and prev.col == ln.col == nxt.col):
        return False
    text = heading_name(ln.text)
    if (not text[:1].isupper() or text.endswith((".", ",", ";", ":", "?", "!")) or len(text.split()) > 12
            or CJK_RE.search(text) or CAPTION.match(text) or _FORMULA.search(text) or not nxt.text[:1].isupper()
            or len(nxt.text.split()) < 5):
        return False  # (a figure's "Median cloud area = 3.596 μm2" is no heading, nor a table's cell over another)
    if not -0.3 <= nxt.size - ln.size <= 1.0 or not (after_heading or abs(prev.size - nxt.size) <= 0.3
                                                      and prev.text.rstrip().endswith((".", "!", "?"))):
        return False  # (BMC sets its subheadings a little smaller, in another face: "Tools for data collection")
    above, below, width = ln.y0 - prev.y1, nxt.y0 - ln.y1, (ln.x1 - ln.x0) / max(nxt.x1 - nxt.x0, 1.0)
    # in a face of its own (neither the line above's nor the paragraph's): BMC's "Study approach,
    # sampling and data analysis" fills 3/4 of its column; "Setting" sits right under "Methods". Not
    # on the first page, where a byline in its own face sits so under the title, over its affiliation
    own_face = ln.font not in (prev.font, nxt.font)
    if above <= gap + 0.5 * ln.size and not (after_heading and own_face and ln.page > 1):
        return False
    close = below <= gap + 0.2 * ln.size
    return close and width <= (0.9 if own_face else 0.6) or below > gap + 0.5 * ln.size and width <= 0.9


def runs_in_without_stop(bold: str, rest: str, page: int) -> bool:
    """Two bold words or more (words only) before text that opens with a capital: a paragraph's
    run-in head set without a stop (ACL: "Selecting PDFs We remove PDFs ..."); one bold word
    ("Sho1 Binding ..."), a label ("RESEARCH ARTICLE | BIOCHEMISTRY") or words ending on a
    preposition (a head's bold part before an italic name) is not one. Nor anything on the first
    page (1-based `page`), whose sidebars set bold labels so ("How to cite this article Webb et al.
    ...", PeerJ: its Introduction went on under the label)."""
    rest = rest.lstrip()
    words = re.findall(r"[A-Za-z]{2,}", bold)
    return (page > 1 and len(bold) <= 60 and rest[:1].isupper() and bool(re.fullmatch(r"[A-Za-z][A-Za-z -]*[A-Za-z]:?", bold))
            and len(words) >= 2 and words[-1].lower() not in _OPEN_ENDS)


# a head does not end on these: "qPCR for" is the bold part of "qPCR for *Bd* and BdDV-1" (Cell)
_OPEN_ENDS = frozenset("a an and as at by for from in into of on or the to via with".split())


def wraps_into_sentence(ln: _Line, nxt: _Line | None, body_size: float) -> bool:
    """A heading-like line whose sentence runs on into the next line (lower-case start, same style,
    just below) is body text: a bold abstract's first line (PNAS) or an intro line set a size up
    (BMC) was taken for a heading and dropped from the passages. Big title lines are exempt."""
    if nxt is None or nxt.page != ln.page or bare_name(heading_name(ln.text)) in SECTION_NAMES or NUMBERED.match(ln.text):
        return False
    # A wrapped heading's second line is short ("to source sentences?"); a sentence runs on full width.
    full_width = (nxt.x1 - nxt.x0) >= 0.8 * (ln.x1 - ln.x0)
    # and a sentence's first line runs full width too: a short first line above a longer one is a
    # heading that wraps where it likes (NAR: "Tissue-specificity in DNA" / "hypomethylation-associated ...")
    opens_full = (ln.x1 - ln.x0) >= 0.8 * (nxt.x1 - nxt.x0)
    return (
        full_width and opens_full and nxt.text[:1].islower() and abs(nxt.size - ln.size) < 0.3 and nxt.bold == ln.bold
        and ln.size <= body_size + 2.5 and -2 <= nxt.y0 - ln.y1 < 0.8 * ln.size
        and abs(nxt.x0 - ln.x0) < 3 * ln.size
    )


def opens_wrapped_heading(ln: _Line, nxt: _Line | None, body_size: float) -> bool:
    """A heading set larger than the text whose first line ends at a comma ("Knockout of PWWP3, a
    protein interacting with DIP1," / "attenuates drought tolerance in Arabidopsis", EMBO Reports):
    the comma rule of `is_heading`, which keeps sentence lines out, read it as body text, glued to
    the paragraph below. Only type at least a point larger than the text, with a short second line
    of the same style that does not end a sentence."""
    text = ln.text.rstrip()
    if not text.endswith(",") or ln.size < body_size + 1.0 or nxt is None or not continues_heading(ln, nxt):
        return False
    rest = nxt.text.rstrip()
    # a byline wraps at commas too ("Jun Yang1," / "María Florencia Legascue4, Zhen-Yu Wang3, ..."):
    # its lines hold more commas, and its first may open with an affiliation mark
    return (not re.search(r"[.,;]", rest) and text.count(",") <= 2 and not text[:1].isdigit()
            and len(text.split()) + len(rest.split()) <= 20 and is_heading(replace(ln, text=text[:-1]), body_size))


def ends_wrapped_heading(para: list[_Line], ln: _Line, body_size: float, nxt: _Line | None = None) -> bool:
    """The next line of a heading that `is_heading` alone refuses for its lower-case start (it became
    a body paragraph, or opened one): the rest of a title ("LncRNA DANA1 promotes drought tolerance
    and" / "histone deacetylation of ..."), of a heading that ends at a comma (`opens_wrapped_heading`)
    or of one whose last line is short; the middle line of a three-line heading when `nxt` ends it."""
    lines = [*para, ln]
    # a heading holds no sentence's end; a paragraph set large, an affiliation ("7Departments of ...")
    if (not para or len(lines) > 5 or ln.text.rstrip().endswith((".", "。")) or para[-1].text.rstrip().endswith(":")
            or any(re.search(r"[.!?]\s+[A-Z“\"]", _NUMBERING.sub("", x.text)) for x in lines)
            or len(" ".join(x.text for x in lines).split()) > 40 or re.match(r"\d+[A-Z]", para[0].text)):
        return False
    # A title, set at 1.6 times the text's size or more (PLOS: 18 pt over 10, three lines of about the
    # same width, the middle one neither short nor last); or a heading in distinct type whose last line is
    # short ("... is spliced post-" / "transcriptionally"): a BMC abstract set 2.5 pt up runs full width;
    # or a bold (or larger) heading in about the text's size whose short line the text's type follows
    # ("... sensitivity of C. elegans" / "to Pseudomonas aeruginosa", BMC: it opened the paragraph).
    short = (ln.x1 - ln.x0) < 0.8 * (para[-1].x1 - para[-1].x0)
    if not short and nxt is not None and len(lines) == 2 and continues_heading(ln, nxt):
        short = (nxt.x1 - nxt.x0) < 0.8 * (ln.x1 - ln.x0) and not nxt.text.rstrip().endswith((".", "。"))
    distinct = ln.size >= body_size + 2.5 or (ln.size >= body_size + 1.0 and ln.bold)
    if para[-1].text.rstrip().endswith(","):  # a byline wraps at commas too: a third line only in distinct type
        return len(lines) == 2 or (len(lines) == 3 and distinct and short)
    ends = nxt is None or not continues_heading(ln, nxt) or nxt.italic != ln.italic
    styled = (ln.bold or ln.size >= body_size + 0.8 or ln.italic and para[-1].italic) and ends
    wider = len(lines) == 2 and (ln.x1 - ln.x0) > 1.25 * (para[-1].x1 - para[-1].x0)  # see wraps_into_sentence
    return ln.size >= 1.6 * body_size or ((short or wider) and (distinct or styled)) or (distinct and ends)


def continues_heading(prev: _Line | None, ln: _Line, size_gap: float = 0.5, leading: float = 0.0) -> bool:
    """True when `ln` is the next line of the same multi-line heading (same style, just below);
    `leading`: the normal gap between the lines of a paragraph in `ln`'s size, when a heading's
    lower-case last line may sit as far below as a manuscript's double-spaced lines do. Line boxes
    may overlap (a tight leading, or a font's tall boxes: Arial's are 1.4 times its size), so a line
    is on the next row when its top is 3/4 of a box below the last one's, whatever the overlap (this
    one test replaced parsers 38 and 47's allowance of an overlap up to 15-20% of the size; the
    corpus's parse is the same under it)."""
    return bool(
        prev and prev.page == ln.page and abs(prev.size - ln.size) < size_gap and prev.bold == ln.bold
        and ln.y0 - prev.y0 >= 0.75 * (prev.y1 - prev.y0)
        and ln.y0 - prev.y1 < max(0.8 * ln.size, leading + 0.3 * ln.size)
        and not NUMBERED.match(ln.text)
    )
