"""The ingest run: worker processes parse ahead while the main process embeds, outcomes keep the
input order, the embedder leaves the busy parsers their cores, and a worker crash fails one file.

Real PDFs made with PyMuPDF, real worker processes, the hashing embedder (counting its calls), a
real library under tmp_path.
"""
from __future__ import annotations

import contextlib
import time

from assistant import ingestion
from assistant.service import Souwen
from assistant.settings import Settings
from tests.pdfmaker import make_paper


def test_embedding_overlaps_parsing_and_keeps_the_input_order(tmp_path, hashing, monkeypatch):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    for i in range(5):
        make_paper(folder / f"p{i}.pdf", title=f"Paper number {i} on yeast", doi=f"10.5555/p{i}",
                   sections={"Results": [f"Strain {i} grew {i + 2}-fold faster than the control."] * (i + 1)})
    real_parse = ingestion._parse

    def slow_after_the_first(path, settings):
        if path.name != "p0.pdf":
            time.sleep(1.0)  # the parsers are still at work when p0 is ready to embed
        return real_parse(path, settings)

    monkeypatch.setattr(ingestion, "_parse", slow_after_the_first)  # the forked workers inherit it
    calls: list[tuple[int, int]] = []  # (texts, parsers busy) per embedding call
    real = type(hashing).embed_documents
    busy_now = [lambda: 0]

    def counting(self, texts, *args, **kwargs):
        calls.append((len(texts), busy_now[0]()))
        return real(self, texts, *args, **kwargs)

    @contextlib.contextmanager
    def sharing_cores(self, busy):
        busy_now[0] = busy
        yield
        busy_now[0] = lambda: 0

    # patched on the class: the embedder itself is pickled to the workers, which only count tokens
    monkeypatch.setattr(type(hashing), "embed_documents", counting)
    monkeypatch.setattr(type(hashing), "sharing_cores", sharing_cores, raising=False)
    service = Souwen(Settings(library=tmp_path / "library"), embedder=hashing)
    try:
        summary = ingestion.ingest_files(service.library, hashing, [folder], service.settings.ingest.model_copy(
            update={"workers": 2}), service.settings.chunking)
        assert [o.path.rsplit("/", 1)[-1] for o in summary.outcomes] == [f"p{i}.pdf" for i in range(5)]
        assert [o.status for o in summary.outcomes] == ["added"] * 5
        assert sum(n for n, _ in calls) == sum(o.chunks for o in summary.outcomes)
        # p0 was embedded while parsers were busy with the others, not after them
        assert calls[0] == (summary.outcomes[0].chunks, 2)
        assert calls[-1][1] == 0  # the last call had every core
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
