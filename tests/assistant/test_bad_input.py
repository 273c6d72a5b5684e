"""Bad input at scale: a 600-page PDF, a folder of thousands of files, a parser crash — each file
gets an outcome with a reason, the good ones are stored, nothing raises."""
from __future__ import annotations

import pymupdf
import pytest

from assistant.service import Souwen
from assistant.settings import IngestSettings, Settings
from tests.pdfmaker import make_paper


@pytest.fixture
def service(tmp_path, hashing):
    souwen = Souwen(Settings(library=tmp_path / "library"), embedder=hashing)
    yield souwen
    souwen.close()


def test_600_page_pdf_is_ingested_and_over_limit_is_refused(tmp_path, service):
    doc = pymupdf.open()
    for number in range(600):
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(72, 200, 520, 500),
                            f"In experiment {number} the sample was incubated for {number} minutes at 30 degrees. "
                            f"Colony counts rose {number % 7 + 2}-fold compared with the untreated control, and the "
                            f"replicate plates agreed within {number % 5 + 1} percent.", fontsize=11)
    doc.save(tmp_path / "big.pdf")
    summary = service.ingest([tmp_path / "big.pdf"], workers=1)
    outcome = summary.outcomes[0]
    assert outcome.status == "added" and outcome.pages == 600
    hits = service.search("incubated for 437 minutes", k=3)
    assert any(h.chunk.page_start <= 438 <= h.chunk.page_end for h in hits)
    limited = Souwen(service.settings.model_copy(update={"ingest": IngestSettings(max_pages=500)}), service.embedder)
    doc.insert_page(-1, text="one more page")
    doc.save(tmp_path / "bigger.pdf")
    refused = limited.ingest([tmp_path / "bigger.pdf"], workers=0).outcomes[0]
    assert refused.status == "failed" and "500" in refused.reason
    limited.close()


def test_folder_with_thousands_of_files(tmp_path, service):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for number in range(2000):
        (folder / f"junk-{number:04d}.pdf").write_bytes(b"<html>not a pdf</html>" if number % 2 else b"")
    for number in range(500):
        (folder / f"notes-{number}.txt").write_text("ignored: not named .pdf")
    make_paper(folder / "good.pdf", title="A good paper among junk", doi="10.5555/good", sections={"Results": ["It works well."]})
    summary = service.ingest([folder], workers=1)
    assert summary.count("added") == 1 and summary.count("failed") == 2000
    reasons = {o.reason for o in summary.failed}
    assert any("empty" in r for r in reasons) and any("PDF" in r or "pdf" in r for r in reasons)
    assert len(summary.outcomes) == 2001  # .txt files in a folder are not PDFs to ingest
    assert [p.doi for p in service.papers()] == ["10.5555/good"]


def test_parser_crash_is_reported_and_the_run_goes_on(tmp_path, service, monkeypatch):
    from assistant import ingestion

    make_paper(tmp_path / "a.pdf", title="First paper", doi="10.5555/a", sections={"Results": ["Alpha results."]})
    make_paper(tmp_path / "b.pdf", title="Second paper", doi="10.5555/b", sections={"Results": ["Beta results."]})

    real_parse = ingestion._parse

    def flaky(path, settings):
        if path.name == "a.pdf":
            raise RuntimeError("MuPDF internal error")
        return real_parse(path, settings)

    monkeypatch.setattr(ingestion, "_parse", flaky)
    summary = service.ingest([tmp_path], workers=0)
    by_name = {o.path.rsplit("/", 1)[-1]: o for o in summary.outcomes}
    assert by_name["a.pdf"].status == "failed" and "MuPDF internal error" in by_name["a.pdf"].reason
    assert by_name["b.pdf"].status == "added"


def test_progress_bars_report_files_pages_chunks(tmp_path, service, capsys):
    make_paper(tmp_path / "a.pdf", title="First paper", doi="10.5555/a", sections={"Results": ["Alpha results."] * 30})
    service.ingest([tmp_path], workers=0, show_progress=True)
    err = capsys.readouterr().err
    assert "files" in err and "pages" in err and "chunks" in err and "1/1" in err


def test_recursive_descends_only_when_asked(tmp_path, service):
    nested = tmp_path / "top" / "year2024" / "lab"
    nested.mkdir(parents=True)
    make_paper(nested / "deep.pdf", title="A deeply filed paper", doi="10.5555/deep", sections={"Results": ["Deep results."]})
    flat = service.ingest([tmp_path / "top"], workers=0)
    assert flat.outcomes == []  # the folder holds no PDF at its own level
    deep = service.ingest([tmp_path / "top"], recursive=True, workers=0)
    assert [o.status for o in deep.outcomes] == ["added"] and deep.outcomes[0].doi == "10.5555/deep"
