"""parse_pdf: one PDF file in, one ParsedPaper out (or a BadPdfError with a reason a user can read).

Order of work: sniff and hash the bytes, open with PyMuPDF, refuse what cannot be ingested (not a
PDF, empty, corrupt/truncated, encrypted, too many pages: all checked before any text extraction so
refusals are fast), then read every page's text once (`ingest.pages`; the stages below share it),
figures (`ingest.figures`), layout (`ingest.layout`), OCR for pages without a text layer
(`ingest.ocr`), metadata (`ingest.metadata`) and tables (`ingest.tables`). CPU on the 526-page
shared corpus (`eval/bench_parse.py`): ~14 s, of which figure rendering ~4.3 s and tables ~1.8 s.

Leaves out chunking and embedding (later stages) and any network access.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pymupdf

from assistant.types import BadPdfError, ParsedPaper, TextBlock
from ingest.layout import extract_blocks
from ingest.captions import attach_mentions
from ingest.figures import extract_figures
from ingest.metadata import extract_metadata, is_cover_page
from ingest.ocr import ocr_page, ocr_paragraphs, tesseract_path
from ingest.pages import PageReads, read_pages
from ingest.tables import extract_tables

PARSER_VERSION = "68"  # in the index fingerprint; 68: a first page's foot that opens with a publishing label ("收稿日期：", "基金项目：", "Foundation Items:") is its footnotes also under small-type text of the page's own (a Chinese journal's 9 pt English abstract over 10.5 pt text: the dates and funding had been glued into the abstract running on to page 2, and quoted); 67: a rule-bounded table is anchored at the rule nearest its caption, over or under it (ACL's "Table 3" caption had taken the rows of Table 4 printed right below it): 51 tables; 66: a table ruled with horizontal lines only (booktabs, 三线表) is read from its caption's rules as text rows (ingest.booktabs): 47 tables on the corpus instead of 10; 65: a paragraph's short last line right above a figure (a prose line in its type just above, starting where it starts) is not the figure's label: four Chinese paragraphs had lost their last line into the figure under them ("……往返时延RTT 多" without "次测试结果见表1。"); 64: a heading's next line on a new row (its top at least 3/4 of a line box below the last one's) goes on the heading however much their boxes overlap (bioRxiv's Arial title on a 13.8 pt leading overlaps by 28% of its size and had been two headings; IOP's second title line had been body text); 63: a short line in a face of its own (neither the line above's nor its paragraph's) is a subheading also right under a heading with no gap, and up to nine tenths of its paragraph's width (BMC: "Setting" under "Methods", "Study approach, sampling and data analysis" had opened their paragraphs); 62: a known section name does not take the line under it in another font as its wrapped second line (PLOS: "Materials and methods" in Helvetica over its first subheading in Minion, both 12 pt bold); 61: a line that opens with the marks of the name before it (",1 Dusan Kwiatkowski,5 ...", "2, Youlin Zhu1 &": a wrapped byline) is no heading; 60: a legend's text in the body's type right under its title set up to 1.2 pt smaller is the legend's (Science's author manuscripts: a 9 pt bold title over 10 pt panels, the caption had stopped at the title); 59: two bold words or more before text that opens with a capital are a paragraph's run-in head without a stop after the first page (ACL: "Selecting PDFs We remove PDFs ..."), also when MuPDF splits the bold words into a line of their own; 58: and up to 1 pt smaller (BMC's subheadings in another face, "Ethical considerations"), over a paragraph line of five words or more; 57: a short line in the text's own type with a paragraph's gap above and its paragraph set close below (or parted by gaps from both, at most nine tenths as wide) is a heading (a manuscript typed in one face: bioRxiv's "Growth conditions" had opened its paragraph); 56: a line of three or more names parted by commas and "and" that ends in a sign (NAR's byline, "..., Aivar Liiv and Jaanus Remme *", marks its corresponding author only) is no heading; 55: a line of two or more names with affiliation marks (or a last name ending in one, "Dong Wang 1✉") is a byline, no heading, even set bold (7 papers' affiliations and abstracts had been filed under the authors' names); 54: a legend is read up to 4,000 characters (2,500 cut two of PNAS's); 53: a short figure label beside a legend's full first line ("Tyr369") is not the legend's, which goes on below; 52: a repository's cover sheet (three or more of its labels, "Permalink", "Publication Date", "Peer reviewed", ..., on a sparse first page) is read for the metadata but not kept as passages; 51: a title at 1.6 times the text's size (not 2) keeps a middle line that is neither short nor its last (PLOS's three-line title had kept its first line only); 50: a legend's lines whose boxes overlap (a leading tighter than the type, IOP, PNAS, Springer, bioRxiv) are all read (every other one had been taken for the row above and dropped), and a line in other type beside a legend's first line is not the legend's (PNAS's body text); 49: a figure legend set in two columns under a full-width figure is read column by column (Springer, Nature Communications: the first row had run on into the right column and the rest of both was lost); 48: a letter set in a symbol font at a line's start is a list's bullet ("•": Cell's highlights had read "d BdDV-1 is ..."), and a bulleted line is no heading; 47: the lines of a title may overlap by 20% of their size (a Chinese paper's English title, ACL's title were two headings); 46: a section name kerned into up to five pieces is rejoined, the back-matter names the vocabulary lacks among the words ("A c kno wledg ements", NAR); 45: a short heading line over a longer one is a heading that wraps, not a sentence running on (a sentence's first line runs full width), a kerning-split word before a hyphen is rejoined ("h ypometh ylation-associated"), and section names are rejoined like the text; 44: a paragraph's bold run-in head ("Molecular genetics" before an en space, "PARP1 Is UFMylated on K548." before the text) is a heading of its own, not the paragraph's first words (a structured abstract keeps its labels), and a run-in head's last line set in the text's size ends the heading above it (PNAS); 43: a numbered line in italics is a heading (MDPI's "4.2. DNA Manipulation"), wrapping to its italic next line ("2.3. R" is the numbering's stop, not a sentence's end); 42: a line 0.4 to 1 pt larger than the text in another font family counts as distinct type (NAR's and Nature Communications' subheadings had opened their paragraphs), unless it holds a list's marks (bylines, keywords); 41: an Adobe font named "...-H" is a heavy (bold) face (Cell's subheadings had been glued to their paragraphs); 40: a band of two-column text under a first page's full-width abstract, too short for the gutter search, is read column by column with its small-type footnotes last (Chinese journals' and Springer's introductions had their two columns' rows interleaved); 39: the paragraph a first page's sidebar starts beside ends before the sidebar is read (MDPI's abstract had its last line after "Citation: ...", a passage of its own); 38: a heading's lower-case last line sits as far below as the paragraphs' lines do (a double-spaced manuscript's "forks" had opened the paragraph), lines of a large title may overlap by 15% of their size, and a heading in distinct type takes a last line nearly as wide as the first when the text's type follows (a centred title); 37: a run-in head's last line ("yeast. Previous work found ...", Nature, ACL) ends the heading with its bold words and opens the paragraph with the rest, and a bold face's ligature font ("AdvOT...B+fb") is bold (bold headings with "fi" in them had been body text); 36: a bold (or a little larger) heading in about the text's size keeps its short last line when the text's type follows ("... of C. elegans" / "to Pseudomonas aeruginosa", BMC: the line had opened the section's first paragraph); 35: a licence line "This work is licensed ..." opens the footnotes at a page's foot (an author manuscript's footnotes had been sections that took the abstract's end); 34: abstracts leave out blocks that open with a publishing label (MDPI's sidebar "Citation: ...", "Received: ...", 基金项目); 33: a drop cap joins its line at the line's size (the paragraph's first line had been a heading set large), and "KEYWORDS antibiotic resistance, ..." (ASM, capitals before a lower-case word) is an inline head; 32: a heading-like line is body text when the sentence of the body line above goes on into it (PNAS's bold abstract) or three more lines of its style follow (an abstract set a size up); 31: a number at the side of a page is a line number only outside the text's left and right edges (a heading's "3" at the column's edge, a table's first column and "c" of "Fig. 3b, c" were dropped); 30: the body's type size is the commonest before the reference list (a short review's references and tables in 7.3 pt had made its 9.8 pt lines headings), and a paragraph over 2,000 characters is cut at sentence ends without changing its text (every "." had been a cut and a space: "2.6%" read "2. 6%"); 29: a bold cell beside others on its row is a table's, not a heading ("Compound", "Fold change"), and section names starting with A-H are known again ("Abstract" had been read as lettered "bstract": back matter after the references went into them); 28: a numbered Chinese line is not a heading when a stop follows a Chinese word ("②智能算力.当用于……"), a bracket is left open ("3 万个Trainium芯片（Amazon……") or the number is a quantity ("3 万个"); 27: a three-level numbered Chinese heading set in a Kai face ("2.2.1基础通信工作流程" in 方正楷体, its number in the body's Latin face) is a heading; 26: a figure's caption goes on under the next page's "Figure 2 continued" head when it ends "Figure 2 continued on next page" (eLife), without the markers; 25: a numbered Chinese heading set in a Hei face at the body's size ("2.1可编程平台下……" in 方正黑体) is a heading, not glued to its paragraph; 24: a line starting left of a centred figure caption is the text under it, not more caption (Chinese journals: "图9移动切换性能测试结果" took in the paragraph below); 23: a legend's lines overleaf of "Figure 2 continued on next page" are the caption's (eLife); 22: eLife's "Figure 3—video 2." / "Figure 1—figure supplement 1." are captions of their own, not "Figure 3" (they had pushed the figures' own captions out as duplicates in a foreign style), and the middle line of a three-line heading is the heading's (it was body text run on into the section's first sentence); 21: Founder (方正) Latin fonts' glyphs read as what they stand for ("3郾3 GHz" -> "3.3 GHz", "t + 1臆n" -> "t + 1≤n"; ingest.textfix.repair_founder_glyphs); 20: a first page's licence box at the foot ("© The Author(s) 2024. Open Access This article is licensed ...", BMC) is a footnote that sentences run on across; 19: a kerning split after a hyphen is repaired ("sub-g ene" -> "sub-gene"); 18: a reference list printed without a heading (PNAS) is set apart (ingest.references); 17: a title wrapped over lines is one heading (its later lines were body text), a larger heading may wrap at a comma, a bold one a size up may run to 14 words and wrap (ASM), a figure legend's later paragraphs in the caption's type stay in the caption; 16: footnotes at the foot of a column are blocks of their own (kind "footnote") that sentences run on across; 15: running headers a little below the 9% margin (计算机研究与发展, 电信科学, IOP, PMC author manuscripts) are dropped when their whole row repeats; 14: kerning-split titles repaired like body text ("Mutation r at e" -> "Mutation rate"); 13: a narrow small-type sidebar on the first page (MDPI, eLife, PeerJ) is read whole where it starts, never as headings; 12: a sidebar beside full-width prose is read before it; 11: two columns under a wide table; 10: landscape pages read as displayed; 9: methods printed after the references are body text; 8: two columns under a long full-width abstract, a table's "参考文献" column is not the reference list
MAX_PAGES = 2000

# MuPDF prints repair chatter ("format error: ...") to stderr for damaged files; we report instead.
pymupdf.TOOLS.mupdf_display_errors(False)


def read_pdf_bytes(path: Path) -> bytes:
    """The file's bytes, refusing missing, empty and non-PDF files by content, not extension."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadPdfError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not data:
        raise BadPdfError("empty file (0 bytes)")
    if b"%PDF-" not in data[:1024]:  # the spec allows a little junk before the header
        raise BadPdfError("not a PDF (no %PDF- header)")
    return data


def open_pdf(data: bytes, max_pages: int) -> pymupdf.Document:
    """Open PDF bytes, refusing corrupt, encrypted, page-less and over-long documents."""
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises FileDataError/RuntimeError/ValueError variously
        raise BadPdfError(f"corrupt or truncated PDF ({exc})") from exc
    if doc.needs_pass:
        doc.close()
        raise BadPdfError("password-protected PDF (encrypted; no password given)")
    if doc.page_count == 0:
        doc.close()
        raise BadPdfError("corrupt or truncated PDF (no pages)")
    if doc.page_count > max_pages:
        count = doc.page_count
        doc.close()
        raise BadPdfError(f"too many pages ({count} > limit {max_pages})")
    return doc


def ocr_empty_pages(
    doc: pymupdf.Document, empty: list[int], ocr: bool
) -> tuple[list[TextBlock], list[int], list[str]]:
    """OCR the pages without text when allowed and possible; warnings say what was done or skipped."""
    if not empty:
        return [], [], []
    listed = ", ".join(map(str, empty[:20])) + (" ..." if len(empty) > 20 else "")
    if not ocr:
        return [], [], [f"{len(empty)} page(s) without a text layer, OCR disabled: {listed}"]
    if tesseract_path() is None:
        return [], [], [f"{len(empty)} page(s) without a text layer and tesseract is not installed: {listed}"]
    blocks: list[TextBlock] = []
    done: list[int] = []
    for pno in empty:
        text = ocr_page(doc[pno - 1])
        if text:
            done.append(pno)
            blocks += [TextBlock(page=pno, text=p, section="", kind="body") for p in ocr_paragraphs(text)]
    warnings = [f"OCR used for {len(done)} page(s) without a text layer: {', '.join(map(str, done))}"] if done else []
    if len(done) < len(empty):
        warnings.append(f"OCR found no text on {len(empty) - len(done)} page(s)")
    return blocks, done, warnings


def find_figures(doc: pymupdf.Document, reads: PageReads) -> tuple[tuple, list[str]]:
    """Figures (mentions filled later); one odd figure must not cost the paper its text."""
    try:
        return tuple(extract_figures(doc, (), reads=reads)), []
    except Exception as exc:  # noqa: BLE001 - degrade to a warning
        return (), [f"figure extraction failed: {exc}"]


def find_tables(doc: pymupdf.Document, mode: str, reads: PageReads) -> tuple[tuple, list[str]]:
    """Tables as text ("off", "fast" or "thorough"); a failure is a warning, not a lost paper."""
    if mode == "off":
        return (), []
    try:
        return tuple(extract_tables(doc, thorough=mode == "thorough", reads=reads)), []
    except Exception as exc:  # noqa: BLE001
        return (), [f"table extraction failed: {exc}"]


def parse_pdf(path: Path, *, ocr: bool = True, figures: bool = True, max_pages: int = MAX_PAGES,
              tables: str = "fast") -> ParsedPaper:
    """Parse one PDF. `figures=False` skips figure and table extraction (text and metadata only);
    `tables` is "off", "fast" (ruled tables) or "thorough" (also PyMuPDF's layout model, slow)."""
    data = read_pdf_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    doc = open_pdf(data, max_pages)
    try:
        try:
            reads = read_pages(doc)  # every page's text, read once for all the stages below
        except Exception as exc:  # damaged content streams surface only when pages are read
            raise BadPdfError(f"corrupt PDF, text extraction failed ({exc})") from exc
        figs: tuple = ()
        more: list[str] = []
        if figures:
            # Figures first: their regions tell the text reader which lines are figure labels.
            figs, more = find_figures(doc, reads)
        boxes: dict[int, list] = {}
        for fig in figs:
            boxes.setdefault(fig.page, []).append(fig.bbox)
        try:
            blocks, references, empty = extract_blocks(doc, boxes, reads.lines)
        except BadPdfError:
            raise
        except Exception as exc:
            raise BadPdfError(f"corrupt PDF, text extraction failed ({exc})") from exc
        if doc.is_repaired:
            # A truncated file that MuPDF patched up: its blank pages lost their content streams,
            # they are not scans, so OCR would only burn seconds per page on white images.
            if len(empty) == doc.page_count:
                raise BadPdfError("corrupt or truncated PDF (repaired, but no page has readable text)")
            warnings = [f"damaged PDF repaired by MuPDF; {len(empty)} page(s) without text were skipped"]
            ocr_blocks, ocr_pages = [], []
        else:
            ocr_blocks, ocr_pages, warnings = ocr_empty_pages(doc, empty, ocr)
        if len(empty) == doc.page_count and not ocr_blocks:
            reason = "OCR is disabled" if not ocr else "tesseract is not installed" if tesseract_path() is None \
                else "OCR found no text"
            raise BadPdfError(f"no text layer and {reason}")
        if ocr_blocks:
            blocks = sorted(blocks + ocr_blocks, key=lambda b: b.page)  # stable: keeps reading order
        meta = extract_metadata(doc, blocks, references, reads)
        if doc.page_count > 1 and is_cover_page(reads.plain_text(0)):
            # a repository's cover sheet: read for the metadata (DOI, title), not indexed as passages
            blocks = [b for b in blocks if b.page != 1]
        tables_found: tuple = ()
        if figures:
            figs = tuple(attach_mentions(list(figs), blocks))
            tables_found, table_warnings = find_tables(doc, tables, reads)
            more += table_warnings
        return ParsedPaper(
            sha256=sha,
            source_path=str(path),
            page_count=doc.page_count,
            metadata=meta,
            blocks=tuple(blocks),
            references=tuple(references),
            figures=figs,
            tables=tables_found,
            ocr_pages=tuple(ocr_pages),
            warnings=tuple(warnings + more),
        )
    finally:
        doc.close()
