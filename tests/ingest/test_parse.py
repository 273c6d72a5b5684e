"""parse_pdf: a good paper end to end, every kind of bad input, OCR and its absence, page limits."""
from __future__ import annotations

import hashlib
import time

import pymupdf
import pytest

import ingest.parse as parse_mod
from assistant.types import BadPdfError, ParsedPaper
from ingest.ocr import tesseract_path
from ingest.parse import PARSER_VERSION, parse_pdf

BODY = [f"This is sentence {i} of a paragraph about parsing scientific documents well." for i in range(12)]


def write_paper(pdf, pages: int = 2):
    for n in range(pages):
        pdf.new_page()
        if n == 0:
            pdf.line(60, 80, "Parsing Papers Without Tears or Fears", 18, "hebo")
            pdf.line(60, 105, "doi: 10.4242/parse.2024.7", 9)
            pdf.line(60, 140, "1 Introduction", 12, "hebo")
        pdf.column(60, 170, BODY)
    return pdf.save()


def test_parses_a_good_pdf(pdf):
    path = write_paper(pdf)
    paper = parse_pdf(path)
    assert isinstance(paper, ParsedPaper)
    assert paper.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert paper.page_count == 2 and paper.source_path == str(path)
    assert paper.metadata.doi == "10.4242/parse.2024.7"
    assert paper.metadata.title == "Parsing Papers Without Tears or Fears"
    assert any(b.section == "1 Introduction" and "sentence 3" in b.text for b in paper.blocks)
    assert {b.page for b in paper.blocks} == {1, 2}
    assert paper.warnings == () and paper.ocr_pages == ()
    assert PARSER_VERSION.isdigit()  # a version string that goes into the library fingerprint


def test_a_repositorys_cover_sheet_gives_metadata_but_no_passages(pdf):
    """eScholarship (and institutional repositories) put a cover sheet before the paper: its
    labels ("Permalink", "Publication Date", "Peer reviewed") and their values had been indexed as
    passages. Its DOI still counts; a first page that merely prints a publication date is kept."""
    pdf.new_page()
    for k, text in enumerate(["UC San Francisco Previously Published Works", "Title",
                              "Parsing Papers Without Tears or Fears", "Permalink",
                              "https://escholarship.org/uc/item/164678cs", "Publication Date", "2022-12-16",
                              "DOI", "10.4242/parse.2024.7", "Peer reviewed",
                              "eScholarship.org Powered by the California Digital Library"]):
        pdf.line(60, 80 + 22 * k, text, 11)
    pdf.new_page()
    pdf.line(60, 80, "Parsing Papers Without Tears or Fears", 18, "hebo")
    pdf.line(60, 105, "Advance access publication date: 30 March 2024", 9)
    pdf.line(60, 140, "1 Introduction", 12, "hebo")
    pdf.column(60, 170, BODY)
    paper = parse_pdf(pdf.save())
    assert paper.metadata.doi == "10.4242/parse.2024.7"
    assert {b.page for b in paper.blocks} == {2}
    assert not any("escholarship" in b.text.lower() or "Permalink" in b.text for b in paper.blocks)
    assert any(b.section == "1 Introduction" and "sentence 3" in b.text for b in paper.blocks)


@pytest.mark.slow
def test_corpus_cover_sheet_is_not_indexed(shared_corpus):
    folder, _ = shared_corpus
    paper = parse_pdf(folder / "paper-21.pdf")
    assert paper.metadata.doi == "10.1126/science.aba1624"
    assert not any(b.page == 1 for b in paper.blocks)
    assert any(b.page == 2 and b.section == "Abstract" for b in paper.blocks)
    assert all(any(b.page == 1 for b in parse_pdf(folder / name).blocks) for name in ("paper-02.pdf", "paper-19.pdf"))


def test_not_a_pdf_by_content_not_extension(tmp_path):
    fake = tmp_path / "paper.pdf"
    fake.write_text("<html><body>Not found</body></html>")
    with pytest.raises(BadPdfError, match="not a PDF"):
        parse_pdf(fake)


def test_zero_bytes(tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(BadPdfError, match="empty file"):
        parse_pdf(empty)


def test_truncated_pdf(pdf, tmp_path):
    data = write_paper(pdf).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[:400])  # header and a little of the first object: nothing usable
    with pytest.raises(BadPdfError, match="corrupt or truncated|no text layer"):
        parse_pdf(cut, ocr=False)


def test_half_truncated_pdf_is_repaired_with_a_warning(pdf, tmp_path):
    for _ in range(6):
        pdf.new_page()
        pdf.column(60, 100, BODY)
    data = pdf.save(garbage=0, deflate=False).read_bytes()
    cut = tmp_path / "half.pdf"
    cut.write_bytes(data[: len(data) // 2])
    try:
        paper = parse_pdf(cut)
    except BadPdfError as exc:
        assert "corrupt or truncated" in exc.reason
    else:
        assert paper.page_count >= 1 and any("repaired" in w for w in paper.warnings)


def test_encrypted_pdf(pdf):
    pdf.new_page()
    pdf.column(60, 100, BODY)
    path = pdf.save(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="secret")
    with pytest.raises(BadPdfError, match="password-protected"):
        parse_pdf(path)


def test_page_limit_refuses_fast(pdf):
    for _ in range(30):
        pdf.new_page()
        pdf.column(60, 100, BODY)
    path = pdf.save()
    started = time.perf_counter()
    with pytest.raises(BadPdfError, match=r"too many pages \(30 > limit 5\)"):
        parse_pdf(path, max_pages=5)
    assert time.perf_counter() - started < 0.5


def image_only_page(doc: pymupdf.Document, text: str) -> None:
    """Append a page that shows `text` only as a picture (no text layer), like a scan."""
    src = pymupdf.open()
    page = src.new_page(width=595, height=842)
    page.insert_text((60, 120), text, fontsize=20)
    pix = page.get_pixmap(dpi=200)
    doc.new_page(width=595, height=842).insert_image(pymupdf.Rect(0, 0, 595, 842), pixmap=pix)


def test_scanned_pdf_without_tesseract_is_refused_clearly(pdf, monkeypatch):
    monkeypatch.setattr(parse_mod, "tesseract_path", lambda: None)
    image_only_page(pdf.doc, "Scanned words only")
    with pytest.raises(BadPdfError, match="no text layer and tesseract is not installed"):
        parse_pdf(pdf.save())


def test_mixed_pdf_without_tesseract_warns(pdf, monkeypatch):
    monkeypatch.setattr(parse_mod, "tesseract_path", lambda: None)
    pdf.new_page()
    pdf.column(60, 100, BODY)
    image_only_page(pdf.doc, "Scanned words only")
    paper = parse_pdf(pdf.save())
    assert any("tesseract is not installed" in w and "2" in w for w in paper.warnings)
    assert paper.ocr_pages == ()


def test_ocr_disabled_warns(pdf):
    pdf.new_page()
    pdf.column(60, 100, BODY)
    image_only_page(pdf.doc, "Scanned words only")
    paper = parse_pdf(pdf.save(), ocr=False)
    assert any("OCR disabled" in w for w in paper.warnings)


@pytest.mark.skipif(tesseract_path() is None, reason="tesseract binary not installed (apt-get install tesseract-ocr)")
def test_ocr_reads_an_image_only_page(pdf):
    pdf.new_page()
    pdf.column(60, 100, BODY)
    image_only_page(pdf.doc, "Ribosome assembly needs modification enzymes")
    paper = parse_pdf(pdf.save())
    assert paper.ocr_pages == (2,)
    ocr_text = " ".join(b.text for b in paper.blocks if b.page == 2).lower()
    assert "ribosome assembly" in ocr_text and "enzymes" in ocr_text
    assert any("OCR used" in w for w in paper.warnings)


def test_failing_figure_extraction_degrades_to_a_warning(pdf, monkeypatch):
    import ingest.parse

    def broken(doc, blocks=(), reads=None):
        raise RuntimeError("odd drawing")

    monkeypatch.setattr(ingest.parse, "extract_figures", broken)
    paper = parse_pdf(write_paper(pdf))
    assert paper.figures == () and paper.blocks
    assert any("figure extraction failed: odd drawing" in w for w in paper.warnings)


@pytest.mark.slow
@pytest.mark.corpus
def test_corpus_text_and_metadata_speed(shared_corpus):
    folder, rows = shared_corpus
    started = time.perf_counter()
    pages = sum(parse_pdf(folder / row["file"], figures=False).page_count for row in rows)
    elapsed = time.perf_counter() - started
    assert pages == sum(row["pages"] for row in rows)
    assert elapsed < 20, f"{pages} pages took {elapsed:.1f} s"  # ~5 s measured on one core
