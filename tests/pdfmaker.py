"""Make small, exact, licence-free PDFs with PyMuPDF for tests (never copies of the shared corpus)."""
from __future__ import annotations

from pathlib import Path

import pymupdf as fitz


def make_paper(path: Path, *, title: str, doi: str, sections: dict[str, list[str]], year: int = 2023,
               authors: str = "Ada Lovelace, Alan Turing", figure: bool = True, lang: str = "en") -> Path:
    """A one-column paper: title, authors, DOI line, sections of paragraphs, an optional figure."""
    doc = fitz.open()
    page = doc.new_page(width=595, height=842)
    y = 72.0

    def write(text: str, size: float = 10.5, bold: bool = False) -> None:
        nonlocal page, y
        ascii_only = text.isascii()  # china-s sets Latin text full-width: long URLs would wrap
        fontname = "china-s" if lang == "zh" and not ascii_only else ("hebo" if bold else "helv")
        rect = fitz.Rect(72, y, 523, 780)
        lines_needed = max(1, int(len(text) * size * (1.0 if lang == "zh" else 0.5) / 451) + 1)
        height = lines_needed * size * 1.45 + 4
        if y + height > 780:
            page = doc.new_page(width=595, height=842)
            y = 72.0
            rect = fitz.Rect(72, y, 523, 780)
        page.insert_textbox(fitz.Rect(rect.x0, y, rect.x1, y + height + 20), text, fontsize=size, fontname=fontname)
        y += height + 6

    write(title, 16, bold=True)
    write(authors, 11)
    write(f"Journal of Tests {year}", 9)
    write(f"https://doi.org/{doi}", 9)
    for heading, paragraphs in sections.items():
        write(heading, 12, bold=True)
        for paragraph in paragraphs:
            write(paragraph)
        if figure and heading.lower().startswith("result"):
            if y + 200 > 780:
                page = doc.new_page(width=595, height=842)
                y = 72.0
            chart = fitz.Rect(120, y, 470, y + 160)
            pix = fitz.Pixmap(fitz.csRGB, fitz.IRect(0, 0, 320, 160), False)
            pix.set_rect(pix.irect, (230, 240, 255))
            pix.set_rect(fitz.IRect(20, 40, 300, 120), (200, 40, 40))
            page.insert_image(chart, pixmap=pix)
            y += 168
            write("Figure 1. Growth of the test strains over time.", 9)
    doc.set_metadata({"title": title, "author": authors})
    doc.save(path)
    doc.close()
    return path
