"""Find the page a quoted sentence is printed on, for passages that span a page break.

Chunks keep a page span (first, last); a citation needs one page. When the span has more than one
page, the stored PDF is opened and the quote's opening characters (compared without whitespace,
ligatures or case, since PDF text layers space glyphs unpredictably) are looked for on each page
of the span. Page texts are cached, so a burst of citations into one paper reads each page once.
Only this module and the parser import PyMuPDF.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

PROBE = 40  # characters of the quote (whitespace removed) looked for on the page


def _squash(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("\u00ad", "")
    text = re.sub(r"-\s*\n\s*", "", text)
    return re.sub(r"\W+", "", text)


# MuPDF is not thread-safe even across separate documents, and the API locates quotes from many
# request threads at once: pages are read one at a time (the texts are cached afterwards).
_MUPDF = threading.Lock()


@lru_cache(maxsize=512)
def _page_text(pdf: str, mtime: float, page: int) -> str:
    import pymupdf

    with _MUPDF, pymupdf.open(pdf) as doc:
        if not 1 <= page <= doc.page_count:
            return ""
        return _squash(doc[page - 1].get_text())


def locate_quote_page(pdf_path: str | Path | None, quote: str, first: int, last: int) -> int:
    """The page in first..last whose text holds the start (else the end) of `quote`; `first`
    when the PDF is missing or the quote is not found."""
    if last <= first or not pdf_path:
        return first
    path = Path(pdf_path)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return first
    squashed = _squash(quote)
    if not squashed:
        return first
    head, tail = squashed[:PROBE], squashed[-PROBE:]
    try:
        pages = {page: _page_text(str(path), mtime, page) for page in range(first, last + 1)}
    except Exception:  # a damaged stored copy must not break an answer: fall back to the span start
        return first
    for probe in (head, tail):
        for page, text in pages.items():
            if probe in text:
                return page
    return first
