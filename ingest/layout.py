"""Turn a PyMuPDF document into body-text blocks in reading order, plus the reference list.

Per page: read lines with size and weight (`get_text("dict")`), drop running headers/footers (text
repeated at a margin over pages, journal lines, page and line numbers), put them in reading order
(two columns column by column, lines crossing the gutter such as titles in place: `ingest.columns`),
and normalise ligatures/full-width glyphs (NFKC); `ingest.paragraphs` then groups the ordered lines
into headings, captions and paragraphs and sets the reference list aside, and split words are
rejoined. Leaves out: OCR (`ingest.ocr`), figures and tables (other modules).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace

import pymupdf

from assistant.types import TextBlock
from ingest.headings import REF_HEAD, bare_name, heading_name, runs_in_without_stop
from ingest.columns import order_page
from ingest.paragraphs import assemble, mark_footnotes, merge_same_row
from ingest.references import divert_unheaded_references
from ingest.textfix import count_words, face_heading, joined_face, rejoin_split_words, repair_founder_glyphs, span_face

# No PRESERVE_LIGATURES: MuPDF then expands ﬁ/ﬂ itself; NFKC below catches the rest.
_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
_TOP, _BOTTOM = 0.09, 0.91  # margin zones as a share of page height
_TOP_RUNNING, _BOTTOM_RUNNING = 0.12, 0.88  # wider zones for lines repeated on many pages

_KEEP_WIDE = re.compile("([，：；！？（）])")  # Chinese punctuation NFKC would turn into ASCII
# Adobe's renamed fonts: "...B" bold, "...B+fb" its ligatures, "-H" heavy (not a CJK font's "-UCS2-H" direction)
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|medi|[-,.]B(?:\+\w+)?$|(?<!UCS2)-H$|HZ", re.I)
_PI_FONT = re.compile(r"MathPi|MPi\d|Dingbat|Wingding|ZapfD", re.I)
_FAMILY = re.compile(r"^[A-Z]{6}\+|[-,.].*$")  # "AGJDJD+UniversLTStd" -> "UniversLTStd", "Times-Bold" -> "Times"
_LIST_MARKS = re.compile(r"[,;:，；：]")
_PAGE_NO = re.compile(r"^(page\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(\s*(of|/)\s*\d{1,4})?$|^[ivxlc]{1,6}$", re.I)
_JOURNAL = re.compile(
    r"\bdoi\b|\bvol\.|\bvolume\b|\bissn\b|©|\(c\)\s*\d{4}|copyright|https?://|www\.|downloaded from|"
    r"licen[cs]e|creative commons|preprint|all rights reserved|journal|proceedings|学报|期刊|第\s*\d+\s*卷",
    re.I,
)
_CAPTION_START = re.compile(r"^\s*(?:fig(?:ure)?s?\.?|table|图|表)\s*S?\d", re.I)


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
    raised: bool = False  # opens with a raised or smaller mark ("⁷pronounced", "¹Department of ...")
    note: bool = False  # a footnote at the foot of its column (ingest.paragraphs.mark_footnotes)
    face: str = ""  # "hei": bold or a Chinese Hei face, "kai": a Kai face, "num": digits alone (textfix)
    lead: int = 0  # characters of a bold run-in ending ("yeast." of "yeast. Previous work found ..."), else 0
    font: str = ""  # the main span's font family (no subset tag, no style)
    italic: bool = False  # the main span is italic


_WIDE_SPACE = re.compile(r"[ \t\u00a0\u3000]{2,}")
_SPACE, _DIGITS = re.compile(r"\s+"), re.compile(r"\d+")


def normalise(text: str) -> str:
    """NFKC (ligatures, full-width Latin/digits) but keep Chinese punctuation; drop soft hyphens."""
    text = text.replace("\u00ad", "").replace("\x08", "").replace("\u200b", "").replace("\ufeff", "")
    text = _WIDE_SPACE.sub(" ", text)  # justified CJK-journal text: "With \xa0the"
    if text.isascii():
        return text
    parts = _KEEP_WIDE.split(text)
    return "".join(p if len(p) == 1 and _KEEP_WIDE.match(p) else unicodedata.normalize("NFKC", p) for p in parts)


def read_lines(page: pymupdf.Page, pno: int, info: dict | None = None) -> list[_Line]:
    """All horizontal text lines of a page with their dominant font size and boldness; `info` is
    the page's `get_text("dict")` with `_FLAGS` when the caller has read it already."""
    out = []
    # MuPDF gives a rotated page's text in unrotated coordinates: a landscape table page (/Rotate
    # 90) has every line running up the page. Seen upright, as the reader sees it, they are lines.
    info = repair_founder_glyphs(page.get_text("dict", flags=_FLAGS)) if info is None else info
    turn = page.rotation_matrix if page.rotation and _reads_upright(info, page.rotation_matrix) else None
    for block in info["blocks"]:
        for line in block.get("lines", ()):
            dx, dy = _turned(line["dir"], turn)
            if abs(dy) > 0.1:  # rotated stamps (arXiv id, licence strips)
                continue
            spans = [s for s in line["spans"] if s["text"].strip()]
            if not spans:
                continue
            text = normalise("".join(s["text"] for s in line["spans"])).strip()
            if not text:
                continue
            if len(spans) > 1 and spans[0]["text"].strip().isalpha() and len(spans[0]["text"].strip()) == 1 \
                    and _PI_FONT.search(spans[0]["font"]):
                text = "• " + text[1:].lstrip()  # a list's bullet set as a letter of a symbol font (Cell: "d")
            main = max(spans, key=lambda s: len(s["text"]))
            bolds = [bool(s["flags"] & 16 or _BOLD_FONT.search(s["font"])) for s in spans]
            bold = all(bolds)
            face = "hei" if bold else joined_face("hei" if b else span_face(s) for s, b in zip(spans, bolds))
            x0, y0, x1, y1 = line["bbox"] if turn is None else pymupdf.Rect(line["bbox"]) * turn
            first = spans[0]
            raised = first is not main and (first["flags"] & 1 or first["size"] < 0.8 * main["size"])
            lead = _bold_lead(line["spans"], text, pno) if bolds[0] and not bold else 0
            out.append(_Line(pno, x0, y0, x1, y1, text, round(main["size"], 1), bool(bold) or face_heading(text, face),
                             raised=bool(raised), face=face, lead=lead,
                             font=_FAMILY.sub("", main["font"]), italic=bool(main["flags"] & 2)))
    return out


def _bold_lead(spans: list[dict], text: str, page: int) -> int:
    """Length of the bold words that open `text` and end a sentence or a head ("yeast." of "yeast.
    Previous work found ...": a Nature run-in head's last line; "Molecular genetics" before an en
    space: Springer's run-in heads), or 0."""
    k = next((i for i, s in enumerate(spans)
              if s["text"].strip() and not (s["flags"] & 16 or _BOLD_FONT.search(s["font"]))), 0)
    lead = normalise("".join(s["text"] for s in spans[:k])).strip()
    if lead and text.startswith(lead) and text[len(lead):len(lead) + 1] in (".", ":"):
        lead += text[len(lead)]  # the stop in the text's face ("yeast" bold, "." regular: Nature)
    spaced = 0 < k < len(spans) and spans[k]["text"][:1] in ("\u2002", "\u2003")
    ends = lead.endswith((".", ":", "?")) or spaced or runs_in_without_stop(lead, text[len(lead):], page)
    return len(lead) if ends and text.startswith(lead) and len(lead) < len(text) else 0


def _reads_upright(info: dict, turn: pymupdf.Matrix) -> bool:
    """Do more of a rotated page's lines run left to right once turned as displayed than as stored?
    (A landscape table page: yes. Text typeset upright on a page that only carries /Rotate: no.)"""
    def rightward(direction: tuple[float, float]) -> bool:
        return abs(direction[1]) <= 0.1 and direction[0] > 0

    dirs = [line["dir"] for block in info["blocks"] for line in block.get("lines", ())]
    return sum(rightward(_turned(d, turn)) for d in dirs) > sum(rightward(d) for d in dirs)


def _turned(direction: tuple[float, float], turn: pymupdf.Matrix | None) -> tuple[float, float]:
    """A text direction as the page is displayed (`turn`: its rotation matrix, None: as stored)."""
    dx, dy = direction
    return (dx, dy) if turn is None else (dx * turn.a + dy * turn.c, dx * turn.b + dy * turn.d)


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


def _margin_key(line: _Line, height: float, top: float = _TOP, bottom: float = _BOTTOM) -> str | None:
    """A position-and-text key for lines in the top/bottom margin (digits blurred), else None."""
    zone = "t" if line.y1 < top * height else "b" if line.y0 > bottom * height else None
    if zone is None:
        return None
    return zone + _DIGITS.sub("#", _SPACE.sub("", line.text.lower()))


def drop_page_furniture(pages: list[list[_Line]], doc: pymupdf.Document) -> list[list[_Line]]:
    """Remove running headers/footers, journal lines in margins, page and line numbers."""
    rects = [page.rect for page in doc]  # doc[pno] reloads the page: ~2 s over the corpus per line
    counts: Counter[str] = Counter()  # lines in the margins
    wide: Counter[str] = Counter()  # lines in the wider zones (see _runs_alone)
    for pno, lines in enumerate(pages):
        counts.update({_margin_key(ln, rects[pno].height) for ln in lines} - {None})
        wide.update({_margin_key(ln, rects[pno].height, _TOP_RUNNING, _BOTTOM_RUNNING) for ln in lines} - {None})
    need = max(2, round(0.15 * len(pages)))
    kept = []
    for pno, lines in enumerate(pages):
        rect = rects[pno]
        running = [(key := _margin_key(ln, rect.height, _TOP_RUNNING, _BOTTOM_RUNNING)) is not None
                   and (wide[key] >= need or bool(_PAGE_NO.match(ln.text))) for ln in lines]
        keep = []
        # Line numbers stand outside the text's edges; a heading's lone "3" starts at the column's edge
        prose = [ln for ln in lines if not _PAGE_NO.match(ln.text)]
        left, right = min((ln.x0 for ln in prose), default=0.0), max((ln.x1 for ln in prose), default=rect.width)
        for i, ln in enumerate(lines):
            key = _margin_key(ln, rect.height)
            in_margin = key is not None
            numeric = bool(_PAGE_NO.match(ln.text))
            side = (ln.x1 < 0.15 * rect.width and ln.x0 < left - 1) or (ln.x0 > 0.85 * rect.width and ln.x1 > right + 1)
            if (in_margin and (counts[key] >= need or numeric or _JOURNAL.search(ln.text))) or (numeric and side):
                continue
            if running[i] and _runs_alone(i, lines, running) and not _CAPTION_START.match(ln.text):
                continue  # a running header a little inside the margin, in a row of its own
            keep.append(ln)
        kept.append(keep)
    return kept


def _runs_alone(i: int, lines: list[_Line], running: list[bool]) -> bool:
    """Is every line level with line `i` (its row) also repeated page after page?

    Running headers sit a little lower than the 9% margin in some journals ("柴若楠等：算力网络中高效
    算力资源度量方法" at 9.5% of the page in 计算机研究与发展, "IOP Conf. Series: ..." in IOP's), and
    were read into the body mid-sentence. Between 9% and 12% a repeated line is dropped only when its
    whole row repeats: a justified body line that MuPDF splits into pieces ("The", "to", "the" on
    many pages' first rows) shares its row with text that does not repeat.
    """
    line = lines[i]
    return all(running[j] for j, other in enumerate(lines)
               if min(line.y1, other.y1) - max(line.y0, other.y0) > 0.5 * min(line.y1 - line.y0, other.y1 - other.y0))


def mark_other_faces(pages: list[list[_Line]], body_size: float) -> None:
    """Lines set a little larger than the text (0.4 to 1 pt) in another family count as distinct
    type, as bold does: NAR sets subheadings in Univers at 10 pt over Sabon at 9.2 ("Modification
    enzymes stimulate large ribosome subunit assembly" had opened its paragraph's first sentence).
    Not a line with a list's or a label's marks: a byline, "Keywords: proteomics; ..."."""
    fonts: Counter[str] = Counter(ln.font for lines in pages for ln in lines if ln.size == body_size and not ln.italic)
    body_font = fonts.most_common(1)[0][0] if fonts else ""
    for lines in pages:
        for ln in lines:
            if (not ln.italic and ln.font != body_font and body_size + 0.4 <= ln.size < body_size + 1.0
                    and not _LIST_MARKS.search(ln.text)):
                ln.bold = True


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
    rects = [page.rect for page in doc]  # each page loaded once
    empty = [i + 1 for i, lines in enumerate(raw) if sum(len(ln.text) for ln in lines) < 3]
    pages = drop_page_furniture(raw, doc)
    # The body's size is the commonest before the reference list: a short review's references and
    # tables in 7.3 pt outweighed its 9.8 pt text, whose lines then read as headings a size up.
    sizes: Counter[float] = Counter()
    before_refs: Counter[float] = Counter()
    in_refs = False
    vocab: set[str] = set()
    for lines in pages:
        for ln in lines:
            sizes[ln.size] += len(ln.text)
            in_refs = in_refs or (len(ln.text) < 40 and bool(REF_HEAD.match(bare_name(heading_name(ln.text)))))
            if not in_refs:
                before_refs[ln.size] += len(ln.text)
            vocab.update(w.lower() for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*(?![-\u2010]$)", ln.text))
    vocab.update(p for w in list(vocab) if "-" in w for p in w.split("-"))
    counted = before_refs if sum(before_refs.values()) >= 0.1 * sum(sizes.values()) else sizes
    body_size = counted.most_common(1)[0][0] if counted else 10.0
    mark_other_faces(pages, body_size)
    ordered = [ln for lines, rect in zip(pages, rects)
               for ln in mark_footnotes(merge_same_row(order_page(lines, rect.width)), body_size, rect.height)]
    blocks, references = divert_unheaded_references(*assemble(ordered, body_size, vocab))
    counts = count_words(ln.text for ln in ordered)
    names = {name: rejoin_split_words(name, counts) for name in {b.section for b in blocks}}  # a section's name too
    blocks = [replace(b, text=rejoin_split_words(b.text, counts), section=names[b.section]) for b in blocks]
    return blocks, references, empty
