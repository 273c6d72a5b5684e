"""Turn a PyMuPDF document into body-text blocks in reading order, plus the reference list.

Per page: read lines with size and weight (`get_text("dict")`), drop running headers/footers (text
repeated at a margin over pages, journal lines, page and line numbers), find a column gutter and read
two-column pages column by column (lines crossing the gutter, e.g. titles, stay in place), group lines
into paragraphs, repair end-of-line hyphens, normalise ligatures/full-width glyphs (NFKC), join Chinese
lines without spaces, recognise headings and captions, and divert the reference list (after
References/参考文献, until an appendix heading) aside. Leaves out: OCR (`ingest.ocr`), figures and
tables (other modules), more than two columns (one gutter per page at most).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace

import pymupdf

from assistant.types import TextBlock
from ingest.captions import parse_caption_start
from ingest.textfix import count_words, rejoin_split_words

# No PRESERVE_LIGATURES: MuPDF then expands ﬁ/ﬂ itself; NFKC below catches the rest.
_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
_TOP, _BOTTOM = 0.09, 0.91  # margin zones as a share of page height
_MAX_PARA = 2000  # characters; longer paragraphs are split at a sentence end

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}\u3000-\u303f\uff00-\uffef]")
_KEEP_WIDE = re.compile("([，：；！？（）])")  # Chinese punctuation NFKC would turn into ASCII
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|medi|[-,.]B$|HZ", re.I)
_PAGE_NO = re.compile(r"^(page\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(\s*(of|/)\s*\d{1,4})?$|^[ivxlc]{1,6}$", re.I)
_JOURNAL = re.compile(
    r"\bdoi\b|\bvol\.|\bvolume\b|\bissn\b|©|\(c\)\s*\d{4}|copyright|https?://|www\.|downloaded from|"
    r"licen[cs]e|creative commons|preprint|all rights reserved|journal|proceedings|学报|期刊|第\s*\d+\s*卷",
    re.I,
)
_CAPTION = re.compile(
    r"^(supplementary\s+|extended\s+data\s+)?(figure|fig\.?|table|scheme)\s*S?\d+[a-zA-Z]?\b|^[图表]\s*\d+", re.I
)
_NUMBERED = re.compile(r"^(\d{1,2}(\.\d{1,2}){0,3})\.?\s+(\S.*)$|^([一二三四五六七八九十]{1,3})\s*[、.．]\s*(\S.*)$")
_SECTION_NAMES = set(
    "abstract|introduction|background|methods|method|materials and methods|material and methods|results|"
    "methods and materials|discussion|results and discussion|conclusion|conclusions|acknowledgements|"
    "conclusions and future work|acknowledgments|acknowledgement|acknowledgment|references|bibliography|"
    "literature cited|references and notes|related work|experiments|experimental|evaluation|funding|"
    "author contributions|competing interests|conflict of interest|conflicts of interest|data availability|"
    "declarations|appendix|supplementary material|supplementary information|supplementary materials|summary|"
    "limitations|materials & methods|experimental procedures|star methods|key resources table|figure legends|"
    "figures|tables|abbreviations|ethics statement|摘要|引言|前言|结论|结束语|参考文献|致谢|相关工作|附录|总结|讨论".split("|")
)
_REF_HEAD = re.compile(r"^(references|bibliography|literature cited|references and notes|works cited|参考文献)$", re.I)
_AFTER_REFS = re.compile(
    r"^(appendix|appendices|supplementary|supporting information|figure legends|figures|tables|"
    r"acknowledge?ments?|author contributions|competing interests|data availability|funding|附录|致谢)", re.I
)
_INLINE_HEAD = re.compile(
    r"^(?i:(abstract|summary|摘\s*要|key\s*words?|keywords|index terms|关\s*键\s*词))\s*[:：.．]\s*|"
    r"^(?i:(abstract|摘\s*要|key\s*words?|keywords|关\s*键\s*词))\s+(?=[A-Z\u4e00-\u9fff])"  # "Abstract　With"
)
_CAPTION_START = re.compile(r"^\s*(?:fig(?:ure)?s?\.?|table|图|表)\s*S?\d", re.I)
_REF_MARK = re.compile(r"^(\[\d{1,4}\]|\d{1,4}\.\s|\d{1,4}\s+\S)")


@dataclass(slots=True)
class _Line:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    size: float
    bold: bool
    col: int = 0  # 0 = full width / single column, 1 = left, 2 = right


def normalise(text: str) -> str:
    """NFKC (ligatures, full-width Latin/digits) but keep Chinese punctuation; drop soft hyphens."""
    text = text.replace("\u00ad", "").replace("\x08", "").replace("\u200b", "").replace("\ufeff", "")
    # Founder (方正) fonts in Chinese journals map the hyphen glyph to 鄄: "1007鄄5321"
    text = re.sub("(?<=[A-Za-z0-9])鄄(?=[A-Za-z0-9])", "-", text)
    text = re.sub(r"[ \t\u00a0\u3000]{2,}", " ", text)  # justified CJK-journal text: "With \xa0the"
    if text.isascii():
        return text
    parts = _KEEP_WIDE.split(text)
    return "".join(p if len(p) == 1 and _KEEP_WIDE.match(p) else unicodedata.normalize("NFKC", p) for p in parts)


def read_lines(page: pymupdf.Page, pno: int, info: dict | None = None) -> list[_Line]:
    """All horizontal text lines of a page with their dominant font size and boldness; `info` is
    the page's `get_text("dict")` with `_FLAGS` when the caller has read it already."""
    out = []
    for block in (page.get_text("dict", flags=_FLAGS) if info is None else info)["blocks"]:
        for line in block.get("lines", ()):
            if abs(line["dir"][1]) > 0.1:  # rotated stamps (arXiv id, licence strips)
                continue
            spans = [s for s in line["spans"] if s["text"].strip()]
            if not spans:
                continue
            text = normalise("".join(s["text"] for s in line["spans"])).strip()
            if not text:
                continue
            main = max(spans, key=lambda s: len(s["text"]))
            bold = all((s["flags"] & 16) or _BOLD_FONT.search(s["font"]) for s in spans)
            x0, y0, x1, y1 = line["bbox"]
            out.append(_Line(pno, x0, y0, x1, y1, text, round(main["size"], 1), bool(bold)))
    return out


def drop_figure_labels(lines: list[_Line], boxes) -> list[_Line]:
    """Drop lines inside a figure region unless they read as prose (a boxed paragraph stays).

    Measured on the shared corpus: figure-internal labels were ~13% of the embedded word-pieces
    ("PAR UFL1 DAPI Merge B shNC 50 μm ..."), noise for retrieval and cost for the embedder.
    """
    if not boxes:
        return lines
    kept = []
    for ln in lines:
        cx, cy = (ln.x0 + ln.x1) / 2, (ln.y0 + ln.y1) / 2
        inside = any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)
        prose = len(ln.text) >= 40 and len(re.findall(r"[A-Za-z]{2,}|[\u4e00-\u9fff]", ln.text)) >= 6
        if not inside or prose or _CAPTION_START.match(ln.text):
            kept.append(ln)
    return kept


def _margin_key(line: _Line, height: float) -> str | None:
    """A position-and-text key for lines in the top/bottom margin (digits blurred), else None."""
    zone = "t" if line.y1 < _TOP * height else "b" if line.y0 > _BOTTOM * height else None
    if zone is None:
        return None
    return zone + re.sub(r"\d+", "#", re.sub(r"\s+", "", line.text.lower()))


def drop_page_furniture(pages: list[list[_Line]], doc: pymupdf.Document) -> list[list[_Line]]:
    """Remove running headers/footers, journal lines in margins, page and line numbers."""
    rects = [page.rect for page in doc]  # doc[pno] reloads the page: ~2 s over the corpus per line
    counts: Counter[str] = Counter()
    for pno, lines in enumerate(pages):
        counts.update({_margin_key(ln, rects[pno].height) for ln in lines} - {None})
    need = max(2, round(0.15 * len(pages)))
    kept = []
    for pno, lines in enumerate(pages):
        rect = rects[pno]
        keep = []
        for ln in lines:
            key = _margin_key(ln, rect.height)
            in_margin = key is not None
            numeric = bool(_PAGE_NO.match(ln.text))
            side = ln.x1 < 0.15 * rect.width or ln.x0 > 0.85 * rect.width
            if (in_margin and (counts[key] >= need or numeric or _JOURNAL.search(ln.text))) or (numeric and side):
                continue
            keep.append(ln)
        kept.append(keep)
    return kept


def find_gutter(lines: list[_Line], width: float) -> float | None:
    """The x of a column gutter crossed by few lines, when both sides hold real text; else None."""
    body = [ln for ln in lines if len(ln.text) > 3]
    if len(body) < 12:
        return None
    best, best_cover = None, None
    for i in range(30, 71):
        x = width * i / 100
        cover = sum(1 for ln in body if ln.x0 < x - 2 and ln.x1 > x + 2)
        if best_cover is None or cover < best_cover:
            best, best_cover = x, cover
    left = sum(1 for ln in body if ln.x1 <= best + 2)
    right = sum(1 for ln in body if ln.x0 >= best - 2)
    if best_cover > 0.25 * len(body) or left < 5 or right < 5:
        return None
    return best


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


def order_page(lines: list[_Line], width: float) -> list[_Line]:
    """Reading order: bands split by full-width lines; inside a band the left column, then the right."""
    gutter = find_gutter(lines, width)
    if gutter is None:
        return sort_rows(lines)
    spans = sorted((ln for ln in lines if ln.x0 < gutter - 2 and ln.x1 > gutter + 2), key=lambda ln: ln.y0)
    for ln in lines:
        ln.col = 0 if ln.x0 < gutter - 2 and ln.x1 > gutter + 2 else 1 if ln.x1 <= gutter + 2 else 2
    cuts = [ln.y0 for ln in spans]
    bands: dict[int, list[_Line]] = {}
    for ln in lines:
        if ln.col:
            mid = (ln.y0 + ln.y1) / 2
            bands.setdefault(sum(1 for c in cuts if c <= mid), []).append(ln)
    out: list[_Line] = []
    for b in range(len(cuts) + 1):
        band = bands.get(b, [])
        out += sort_rows([ln for ln in band if ln.col == 1]) + sort_rows([ln for ln in band if ln.col == 2])
        if b < len(spans):
            out.append(spans[b])
    return out


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
            sep = "" if _CJK_RE.match(ln.text[:1]) or _CJK_RE.match(prev.text[-1:]) else " "
            prev.text, prev.x1 = prev.text + sep + ln.text, ln.x1
            prev.y0, prev.y1 = min(prev.y0, ln.y0), max(prev.y1, ln.y1)
            prev.bold = prev.bold and ln.bold
            prev.size = max(prev.size, ln.size)
            continue
        out.append(ln)
    return out


def heading_name(text: str) -> str:
    """Text of a heading with CJK letter-spacing removed ("1 引 言" -> "1 引言")."""
    return re.sub(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])", "", text).strip()


def _bare(text: str) -> str:
    """Heading text without numbering or trailing punctuation, lower-cased, for name matching."""
    text = re.sub(r"^(\d{1,2}(\.\d{1,2})*\.?|[IVX]{1,4}\.|[一二三四五六七八九十]{1,3}[、.．]|[A-H]\.?)\s*", "", text)
    return re.sub(r"\s+", " ", text.rstrip(" .:：")).lower()


def is_heading(ln: _Line, body_size: float) -> bool:
    """Known section names, numbered short lines in a distinct style, or bold/larger short lines."""
    text = heading_name(ln.text)
    words = len(text.split())
    cjk = len(_CJK_RE.findall(text))
    if not text or len(text) > 120 or words > 14 or (cjk and cjk > 30) or _CAPTION.match(text):
        return False
    if text[-1] in ",;，；" or text[0].islower() or sum(c.isalpha() for c in text) < 2:
        return False
    if _bare(text) in _SECTION_NAMES:
        return True
    styled = ln.bold or ln.size >= body_size + 1.0
    numbered = _NUMBERED.match(text)
    if numbered:
        rest = numbered.group(3) or numbered.group(5) or ""
        if not rest or text.endswith(".") or re.search("[，。,；;]", rest):
            return False  # numbered list items and sentences, not headings
        return (rest[0].isupper() or bool(cjk)) and (styled or bool(cjk))
    return styled and words <= 12 and not text.endswith(".") and not re.search(r"\d{3,}", text)


def join_lines(parts: list[str], vocab: set[str]) -> str:
    """Concatenate wrapped lines: repair hyphenation, no spaces between CJK characters."""
    text = ""
    for part in parts:
        if not text:
            text = part
            continue
        m = re.search(r"([A-Za-z]+)[-\u2010]$", text) if text[-1] in "-\u2010" else None
        n = re.match(r"([a-z]+)", part) if m else None
        if m and n:
            left, right = m.group(1), n.group(1)
            joined = (left + right).lower()
            keep = f"{left}-{right}".lower() in vocab or (
                joined not in vocab and left.lower() in vocab and right.lower() in vocab and len(left) > 2
            )
            text = (text if keep else text[:-1]) + part
            continue
        if _CJK_RE.match(part[:1]) or _CJK_RE.match(text[-1:]) or text.endswith(("/", "-")):
            text += part
        else:
            text += " " + part
    return text


def split_long(text: str) -> list[str]:
    """Cut over-long paragraphs at sentence ends so blocks stay paragraph-sized."""
    if len(text) <= _MAX_PARA:
        return [text]
    out = [""]
    for sent in re.split(r"(?<=[.!?。！？])\s*", text):
        if out[-1] and len(out[-1]) + len(sent) > _MAX_PARA:
            out.append("")
        out[-1] = f"{out[-1]} {sent}".strip() if out[-1] and not _CJK_RE.match(sent[:1]) else out[-1] + sent
    return [p for p in out if p]


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


def extract_blocks(
    doc: pymupdf.Document, figure_boxes: dict[int, list] | None = None, lines: list[list[_Line]] | None = None
) -> tuple[list[TextBlock], list[str], list[int]]:
    """Body blocks in reading order, the reference list, and 1-based pages without a text layer.

    `figure_boxes` (1-based page -> bboxes) are figure regions: the short label-like lines inside
    them (axis ticks, panel letters, legends) are not body text. `lines` are the pages' `read_lines`
    when the caller has read them (`ingest.pages`); they are changed in place.
    """
    raw = lines if lines is not None else [read_lines(page, page.number + 1) for page in doc]
    if figure_boxes:
        raw = [drop_figure_labels(lines, figure_boxes.get(pno + 1, ())) for pno, lines in enumerate(raw)]
    widths = [page.rect.width for page in doc]
    empty = [i + 1 for i, lines in enumerate(raw) if sum(len(ln.text) for ln in lines) < 3]
    pages = drop_page_furniture(raw, doc)
    sizes: Counter[float] = Counter()
    vocab: set[str] = set()
    for lines in pages:
        for ln in lines:
            sizes[ln.size] += len(ln.text)
            vocab.update(w.lower() for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*(?![-\u2010]$)", ln.text))
    vocab.update(p for w in list(vocab) if "-" in w for p in w.split("-"))
    body_size = sizes.most_common(1)[0][0] if sizes else 10.0
    ordered = [ln for pno, lines in enumerate(pages) for ln in merge_same_row(order_page(lines, widths[pno]))]
    blocks, references = assemble(ordered, body_size, vocab)
    counts = count_words(ln.text for ln in ordered)
    blocks = [replace(b, text=rejoin_split_words(b.text, counts)) for b in blocks]
    return blocks, references, empty


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
    for prev, ln, nxt in zip([None, *lines], lines, [*lines[1:], None]):
        head = is_heading(ln, body_size) and not wraps_into_sentence(ln, nxt, body_size)
        name = heading_name(ln.text)
        if in_refs:
            lettered = ln.bold and re.match(r"^[A-H](\.\d{1,2})*\.?\s+[A-Z]", name)  # "A Appendix title"
            if not (head and (_AFTER_REFS.match(_bare(name)) or lettered) or _CAPTION.match(ln.text) and ln.size < body_size):
                ref_lines.append(ln)
                continue
            in_refs = False
        inline = None if head else _INLINE_HEAD.match(ln.text)
        if head and _REF_HEAD.match(_bare(name)):
            flush()
            in_refs, section = True, name
        elif head and kind == "heading" and para and continues_heading(prev, ln):
            para.append(ln)  # second line of a wrapped heading
            section = heading_name(join_lines([x.text for x in para], vocab))
        elif head:
            flush()
            kind, para, section = "heading", [ln], name
        elif inline:
            flush()
            label = heading_name(inline.group(1) or inline.group(2))
            section = label.capitalize() if label.isascii() else label
            kind, para = "body", [ln]
        elif _CAPTION.match(ln.text) and parse_caption_start(ln.text) is not None:
            # "Table 4, we find that ..." (a line-broken "In Table 4, ...") is body text
            flush()
            kind, para = "caption", [ln]
        elif kind == "heading" or starts_paragraph(prev, ln, leading):
            flush()
            kind, para = "body", [ln]
        else:
            para.append(ln)
    flush()
    return blocks, split_references(ref_lines, vocab)


def wraps_into_sentence(ln: _Line, nxt: _Line | None, body_size: float) -> bool:
    """A heading-like line whose sentence runs on into the next line (lower-case start, same style,
    just below) is body text: a bold abstract's first line (PNAS) or an intro line set a size up
    (BMC) was taken for a heading and dropped from the passages. Big title lines are exempt."""
    if nxt is None or nxt.page != ln.page or _bare(heading_name(ln.text)) in _SECTION_NAMES or _NUMBERED.match(ln.text):
        return False
    # A wrapped heading's second line is short ("to source sentences?"); a sentence runs on full width.
    full_width = (nxt.x1 - nxt.x0) >= 0.8 * (ln.x1 - ln.x0)
    return (
        full_width and nxt.text[:1].islower() and abs(nxt.size - ln.size) < 0.3 and nxt.bold == ln.bold
        and ln.size <= body_size + 2.5 and -2 <= nxt.y0 - ln.y1 < 0.8 * ln.size
        and abs(nxt.x0 - ln.x0) < 3 * ln.size
    )


def continues_heading(prev: _Line | None, ln: _Line) -> bool:
    """True when `ln` is the next line of the same multi-line heading (same style, just below)."""
    return bool(
        prev and prev.page == ln.page and abs(prev.size - ln.size) < 0.5 and prev.bold == ln.bold
        and -2 <= ln.y0 - prev.y1 < 0.8 * ln.size and not _NUMBERED.match(ln.text)
    )


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
        return ends_sentence or not (ln.text[:1].islower() or _CJK_RE.match(ln.text[:1]))
    gap = ln.y0 - prev.y1
    if gap > max(0.7 * ln.size, (leading or {}).get(ln.size, 0.0) + 0.45 * ln.size):
        return True
    indented = ln.x0 > prev.x0 + 0.8 * ln.size
    return indented and prev.text.endswith((".", "。", ":", "!", "?"))
