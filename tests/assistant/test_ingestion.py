"""The ingest run's rounds: worker processes prepare a round of files, then the embedder runs alone.

Real PDFs made with PyMuPDF, real worker processes, the hashing embedder (counting its calls), a
real library under tmp_path.
"""
from __future__ import annotations

from assistant import ingestion
from assistant.service import Souwen
from assistant.settings import Settings
from tests.pdfmaker import make_paper


def test_rounds_embed_between_them_and_keep_the_input_order(tmp_path, hashing, monkeypatch):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    for i in range(5):
        make_paper(folder / f"p{i}.pdf", title=f"Paper number {i} on yeast", doi=f"10.5555/p{i}",
                   sections={"Results": [f"Strain {i} grew {i + 2}-fold faster than the control."] * (i + 1)})
    monkeypatch.setattr(ingestion, "ROUND_FILES", 1)  # 2 workers: rounds of 1, 2 and 2 files
    monkeypatch.setattr(ingestion, "EMBED_BUFFER_CHUNKS", 1)  # embed at the end of every round
    calls: list[int] = []
    real = type(hashing).embed_documents

    def counting(self, texts, *args, **kwargs):
        calls.append(len(texts))
        return real(self, texts, *args, **kwargs)

    # patched on the class: the embedder itself is pickled to the workers, which only count tokens
    monkeypatch.setattr(type(hashing), "embed_documents", counting)
    service = Souwen(Settings(library=tmp_path / "library"), embedder=hashing)
    try:
        summary = ingestion.ingest_files(service.library, hashing, [folder], service.settings.ingest.model_copy(
            update={"workers": 2}), service.settings.chunking)
        assert [o.path.rsplit("/", 1)[-1] for o in summary.outcomes] == [f"p{i}.pdf" for i in range(5)]
        assert [o.status for o in summary.outcomes] == ["added"] * 5
        assert len(calls) == 3 and sum(calls) == sum(o.chunks for o in summary.outcomes)
        found = service.search("Strain 3 grew 5-fold faster", k=1)
        assert found and found[0].paper.doi == "10.5555/p3"
    finally:
        service.close()


def test_a_worker_crash_fails_only_its_file(tmp_path, hashing, monkeypatch):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    for name in ("a", "b", "c"):
        make_paper(folder / f"{name}.pdf", title=f"Paper {name} about ribosomes", doi=f"10.5555/{name}",
                   sections={"Results": [f"Finding {name} holds."]})
    real = ingestion._parse

    def crashing(path, settings):
        if path.name == "b.pdf":
            import os
            os._exit(1)  # what a MuPDF segfault looks like to the pool: the worker is gone
        return real(path, settings)

    monkeypatch.setattr(ingestion, "_parse", crashing)  # the forked workers inherit the patch
    service = Souwen(Settings(library=tmp_path / "library"), embedder=hashing)
    try:
        summary = service.ingest([folder], workers=2)
        by_name = {o.path.rsplit("/", 1)[-1]: o for o in summary.outcomes}
        assert by_name["b.pdf"].status == "failed" and "crashed" in by_name["b.pdf"].reason
        assert {by_name["a.pdf"].status, by_name["c.pdf"].status} == {"added"}
    finally:
        service.close()
