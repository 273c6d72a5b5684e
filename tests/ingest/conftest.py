"""Fixtures for the parser tests: a tiny line-by-line PDF writer and the shared corpus location.

Test PDFs are drawn with PyMuPDF line by line at exact positions, so a test states the layout it
checks (two columns, a running header, a hyphen at a line end) instead of hoping a text box wraps.
"""
from __future__ import annotations

import json
from pathlib import Path

import pymupdf
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CORPUS = REPO_ROOT.parent / "shared" / "corpus"


class PdfWriter:
    """Collects pages of positioned lines; `save()` writes the PDF and returns its path."""

    def __init__(self, path: Path, width: float = 595, height: float = 842):
        self.path = path
        self.doc = pymupdf.open()
        self.width, self.height = width, height
        self.page: pymupdf.Page | None = None

    def new_page(self) -> pymupdf.Page:
        self.page = self.doc.new_page(width=self.width, height=self.height)
        return self.page

    def line(self, x: float, y: float, text: str, size: float = 10, font: str = "helv") -> None:
        """One line of text with its baseline at y ("hebo" = Helvetica bold, "china-s" = CJK)."""
        assert self.page is not None
        self.page.insert_text((x, y), text, fontsize=size, fontname=font)

    def column(self, x: float, y: float, lines: list[str], size: float = 10, leading: float = 13,
               font: str = "helv") -> float:
        """Consecutive lines at one x; returns the y after the last line."""
        for text in lines:
            self.line(x, y, text, size, font)
            y += leading
        return y

    def save(self, **kwargs) -> Path:
        self.doc.save(self.path, **kwargs)
        self.doc.close()
        return self.path


@pytest.fixture
def pdf(tmp_path) -> PdfWriter:
    return PdfWriter(tmp_path / "test.pdf")


@pytest.fixture(scope="session")
def shared_corpus() -> tuple[Path, list[dict]]:
    """(pdf folder, manifest rows) of ../shared/corpus; skips when the corpus is not beside the repo."""
    manifest = SHARED_CORPUS / "manifest.json"
    if not manifest.exists():
        pytest.skip(f"shared corpus not found at {SHARED_CORPUS} (it lives beside the repo, not in it)")
    return SHARED_CORPUS / "pdfs", json.loads(manifest.read_text())
