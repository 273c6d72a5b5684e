"""Read every page's text once per parse and share it: layout lines, caption lines, plain text.

Before this module the layout reader, the caption finder (figures, tables) and the metadata reader
each built their own MuPDF TextPage of the same page and extracted the same `"dict"`: 1,593
TextPages and 1,587 `get_text` calls for the 526 pages of the shared corpus, ~3 s of CPU spent
three times over. `read_pages` now builds one TextPage per page (flags `TEXT_FLAGS`), turns its
dict into the layout module's lines and the caption finder's `PageText` at once, and keeps the
page's plain text (for DOIs, year, licence) and the first pages' dicts (title, authors,
affiliations). Dicts are not kept for every page: a 2,000-page book would hold gigabytes of them.

The metadata reader used MuPDF's defaults before (ligatures kept; the "dict" with every image
encoded into it, ~12 ms a page); it now reads these same flags. Its results on the corpus are
unchanged: DOIs, titles and licences are compared after NFKC, which expands ligatures anyway.

Also cached here, lazily: each page's graphics log, `page.get_bboxlog()` without its text entries
(read by both figures and tables; see `read_graphics`). Leaves out: OCR, tables' own character
extraction (`page.find_tables` builds its own TextPage with the flags it needs).
"""
from __future__ import annotations

import pymupdf
from pymupdf import mupdf

from ingest.captions import PageText, page_text
from ingest.layout import read_lines
from ingest.textfix import repair_founder_glyphs

# No PRESERVE_LIGATURES: MuPDF expands ﬁ/ﬂ itself (the layout module's NFKC catches the rest). No
# PRESERVE_IMAGES: image blocks in a dict carry the encoded image, costly and never read here.
TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
KEEP_DICTS = 2  # the first pages' dicts are kept: title, authors and affiliations read them


class PageReads:
    """What the text layer of a document holds, per page, each piece read at most once.

    `read_pages` fills it in one pass; a caller with a bare document (tests, eval scripts) gets one
    whose plain texts, dicts and bbox logs are read on first use.
    """

    def __init__(self, doc: pymupdf.Document):
        self.doc = doc
        self.lines: list[list] = []  # ingest.layout lines per page (1-based page numbers inside)
        self.texts: list[PageText] = []  # ingest.captions lines per page
        self._plain: dict[int, str] = {}
        self._dicts: dict[int, dict] = {}  # the first pages only
        self._bboxlogs: dict[int, list] = {}

    @property
    def page_count(self) -> int:
        return self.doc.page_count

    def plain_text(self, pno: int) -> str:
        """`get_text("text")` of page `pno` (0-based), with `TEXT_FLAGS`."""
        text = self._plain.get(pno)
        if text is None:
            text = self._plain[pno] = self.doc[pno].get_text("text", flags=TEXT_FLAGS)
        return text

    def page_dict(self, pno: int) -> dict:
        """`get_text("dict")` of page `pno` with `TEXT_FLAGS` (the first pages' are kept)."""
        info = self._dicts.get(pno)
        if info is None:
            info = repair_founder_glyphs(self.doc[pno].get_text("dict", flags=TEXT_FLAGS))
            if pno < KEEP_DICTS:
                self._dicts[pno] = info
        return info

    def bboxlog(self, page: pymupdf.Page, keep: bool = True) -> list:
        """`read_graphics(page)`, kept for a later caller when `keep` (figures read every page's,
        tables only those of pages with a table caption; all of them would be big to hold)."""
        log = self._bboxlogs.get(page.number)
        if log is None:
            log = read_graphics(page)
            if keep:
                self._bboxlogs[page.number] = log
        return log


def read_pages(doc: pymupdf.Document) -> PageReads:
    """One TextPage per page, read into layout lines, caption lines, plain text (and kept dicts)."""
    reads = PageReads(doc)
    for page in doc:
        pno = page.number
        textpage = page.get_textpage(flags=TEXT_FLAGS)
        info = repair_founder_glyphs(page.get_text("dict", textpage=textpage))
        reads.lines.append(read_lines(page, pno + 1, info))
        reads.texts.append(page_text(info, page.rect.width))
        reads._plain[pno] = page.get_text("text", textpage=textpage)
        if pno < KEEP_DICTS:
            reads._dicts[pno] = info
    return reads


class _GraphicsLog(mupdf.FzDevice2):
    """A MuPDF device that logs the bbox of every path, shading and image painted, like PyMuPDF's
    bbox device, but not the text.

    `page.get_bboxlog()` calls back into Python for every text object too (56k of the 222k
    callbacks on the corpus) and builds each rect through a generic converter; figures and tables
    read only paths and images. Logging those alone cut the corpus's bbox logs from 1.6 to 1.25 s
    of CPU (what is left is mostly MuPDF interpreting each page's content stream once more; a
    display list shared with the text reader would not save it: building one costs as much, and
    text read from a display list loses the whitespace-only text objects, which changed the
    reference list of one corpus paper).
    """

    def __init__(self, log: list):
        super().__init__()
        self.log = log
        self.use_virtual_fill_path()
        self.use_virtual_stroke_path()
        self.use_virtual_fill_shade()
        self.use_virtual_fill_image()
        self.use_virtual_fill_image_mask()

    def _add(self, kind: str, r) -> None:
        self.log.append((kind, (r.x0, r.y0, r.x1, r.y1)))

    def fill_path(self, ctx, path, even_odd, ctm, *args):
        self._add("fill-path", mupdf.ll_fz_bound_path(path, None, ctm))

    def stroke_path(self, ctx, path, stroke, ctm, *args):
        self._add("stroke-path", mupdf.ll_fz_bound_path(path, stroke, ctm))

    def fill_shade(self, ctx, shade, ctm, *args):
        self._add("fill-shade", mupdf.ll_fz_bound_shade(shade, ctm))

    def fill_image(self, ctx, image, ctm, *args):
        self._add("fill-image", mupdf.ll_fz_transform_rect(mupdf.fz_unit_rect, ctm))

    def fill_image_mask(self, ctx, image, ctm, *args):
        self._add("fill-imgmask", mupdf.ll_fz_transform_rect(mupdf.fz_unit_rect, ctm))


def read_graphics(page: pymupdf.Page) -> list[tuple[str, tuple[float, float, float, float]]]:
    """`page.get_bboxlog()` without the text entries: ("fill-path" | "stroke-path" | "fill-shade" |
    "fill-image" | "fill-imgmask", rect) in painting order, in unrotated page coordinates as there."""
    log: list = []
    rotation = page.rotation
    if rotation:
        page.set_rotation(0)  # as get_bboxlog does
    try:
        device = _GraphicsLog(log)
        mupdf.fz_run_page(page.this, device, mupdf.FzMatrix(), mupdf.FzCookie())
        mupdf.fz_close_device(device)
    except (AttributeError, TypeError):
        # a PyMuPDF whose low-level bindings differ (pyproject admits any >= 1.24): the public call
        log = [(kind, tuple(rect)) for kind, rect in page.get_bboxlog() if "text" not in kind]
    finally:
        if rotation:
            page.set_rotation(rotation)
    return log
