"""Library: idempotent adds, DOI replacement, removal, fingerprint refusal, index caches, filters.

Uses the hashing embedder and hand-built ParsedPapers with a real SQLite file, real FAISS and real
bm25s under tmp_path; the end-to-end path with real PDFs and MiniLM is in test_cli.py.
"""
from __future__ import annotations

import hashlib
import json

import pytest

from assistant.factory import fingerprint
from assistant.ingestion import ingest_files
from assistant.lexical import tokenize
from assistant.library import Library, LibraryMismatchError, paper_id_for
from assistant.retrieval import Filters, fuse_ranks, retrieve
from assistant.settings import ChunkSettings, RetrievalSettings
from assistant.types import FigureImage, PaperMetadata, ParsedPaper, TextBlock
from ingest.chunking import chunk_paper


def parsed(name: str, doi: str, year: int, sentences: list[str], lang: str = "en") -> ParsedPaper:
    sha = hashlib.sha256(name.encode()).hexdigest()
    blocks = tuple(TextBlock(page=i + 1, text=s, section="Results") for i, s in enumerate(sentences))
    fig = FigureImage(page=1, bbox=(0, 0, 10, 10), kind="raster", png=b"\x89PNG fake", label="Figure 1", caption="Figure 1. A plot")
    return ParsedPaper(sha256=sha, source_path=f"{name}.pdf", page_count=len(sentences),
                       metadata=PaperMetadata(doi=doi, title=name, year=year, lang=lang), blocks=blocks, figures=(fig,))


def store(lib: Library, embedder, paper: ParsedPaper) -> str:
    chunks = chunk_paper(paper, paper_id_for(paper.sha256), embedder.count_tokens, max_tokens=200)
    vectors = embedder.embed_documents([c.text for c in chunks])
    status, _ = lib.add_paper(paper, chunks, [tokenize(c.text) for c in chunks], vectors, None)
    return status


@pytest.fixture
def lib(tmp_path, hashing):
    library = Library(tmp_path / "lib", fingerprint(hashing, ChunkSettings()), hashing.dim)
    yield library
    library.close()


def test_add_is_idempotent_and_doi_replaces(lib, hashing):
    a = parsed("alpha", "10.1/a", 2020, ["Wheat germination raises vitamin content.", "Drought reduces yield."])
    assert store(lib, hashing, a) == "added"
    assert store(lib, hashing, a) == "unchanged"
    a2 = parsed("alpha-v2", "10.1/a", 2021, ["Revised: germinated wheat supplement improves nutrition."])
    assert store(lib, hashing, a2) == "replaced"
    papers = lib.catalogue.papers()
    assert [p.title for p in papers] == ["alpha-v2"] and papers[0].figures == 1
    assert (lib.root / "figures" / papers[0].id).is_dir()
    assert not (lib.root / "figures" / paper_id_for(a.sha256)).exists()


def test_remove_deletes_chunks_vectors_and_figures(lib, hashing):
    store(lib, hashing, parsed("alpha", "10.1/a", 2020, ["Wheat germination raises vitamin content."]))
    store(lib, hashing, parsed("beta", "10.1/b", 2022, ["Ribosome assembly needs rRNA modification enzymes."]))
    pid = lib.catalogue.find_papers("10.1/a")[0].id
    lib.remove_paper(pid)
    assert lib.catalogue.counts()["papers"] == 1
    assert lib.catalogue.paper_chunks(pid) == []
    assert not (lib.root / "figures" / pid).exists()
    indexes = lib.indexes()
    assert len(indexes.dense) == lib.catalogue.counts()["chunks"] == len(indexes.rowids)


def test_search_filters_and_fusion(lib, hashing):
    store(lib, hashing, parsed("alpha", "10.1/a", 2020, ["Wheat germination raises vitamin content."]))
    store(lib, hashing, parsed("beta", "10.1/b", 2022, ["Germination of barley raises enzyme content."]))
    store(lib, hashing, parsed("gamma", "10.1/c", 2023, ["基于可编程平台的标识网络移动性管理机制，平均切换时延为55毫秒。"], "zh"))
    settings = RetrievalSettings()
    hits = retrieve(lib, hashing, "wheat germination vitamin", settings, k=3)
    assert hits[0].paper.doi == "10.1/a" and hits[0].lexical_rank == 1
    only_b = retrieve(lib, hashing, "wheat germination vitamin", settings, k=3, filters=Filters(dois=("10.1/B",)))
    assert {h.paper.doi for h in only_b} == {"10.1/b"}
    years = retrieve(lib, hashing, "germination", settings, k=5, filters=Filters(year_from=2021, year_to=2022))
    assert {h.paper.year for h in years} == {2022}
    zh = retrieve(lib, hashing, "移动性管理的切换时延是多少", settings, k=1)
    assert zh[0].paper.doi == "10.1/c"
    assert retrieve(lib, hashing, "   ", settings) == []


def test_fuse_ranks_weights_signals():
    fused = fuse_ranks({"dense": [(1, 0.9), (2, 0.8)], "lexical": [(2, 5.0), (3, 4.0)]},
                       {"dense": 0.2, "lexical": 0.8}, rrf_k=60)
    assert [item for item, *_ in fused] == [2, 3, 1]
    assert fused[0][2] == {"dense": 2, "lexical": 1}


def test_index_cache_is_reused_and_rebuilt_when_stale(lib, hashing, tmp_path):
    store(lib, hashing, parsed("alpha", "10.1/a", 2020, ["Wheat germination raises vitamin content."]))
    lib.indexes()
    state = json.loads((lib.root / "index" / "state.json").read_text())
    assert state["generation"] == lib.catalogue.generation()
    # a new paper committed without an index save (as after a crash): the next open rebuilds
    store(lib, hashing, parsed("beta", "10.1/b", 2022, ["Ribosome assembly needs modification enzymes."]))
    reopened = Library(lib.root, lib.fingerprint, hashing.dim)
    assert len(reopened.indexes().dense) == reopened.catalogue.counts()["chunks"]
    assert retrieve(reopened, hashing, "ribosome assembly", RetrievalSettings(), k=1)[0].paper.doi == "10.1/b"
    # a damaged cache file is ignored and rebuilt, never fatal
    current = json.loads((lib.root / "index" / "state.json").read_text())
    (lib.root / "index" / current["faiss"]).write_bytes(b"garbage")
    again = Library(lib.root, lib.fingerprint, hashing.dim)
    again._indexes = None
    assert len(again.indexes().dense) == again.catalogue.counts()["chunks"]
    reopened.close(); again.close()


def test_a_reader_keeps_its_indexes_while_a_background_thread_rebuilds_them(lib, hashing):
    store(lib, hashing, parsed("alpha", "10.1/a", 2020, ["Wheat germination raises vitamin content."]))
    reader = Library(lib.root, lib.fingerprint, hashing.dim)  # e.g. the API server's library
    before = reader.indexes()
    # another writer (a CLI ingest, the server's job) stores a paper
    store(lib, hashing, parsed("beta", "10.1/b", 2022, ["Ribosome assembly needs modification enzymes."]))
    assert reader.indexes() is before  # answered at once with the previous indexes
    reader._refresher.join(30)  # the rebuild ran in its own thread
    fresh = reader.indexes()
    assert fresh is not before and fresh.generation == reader.catalogue.generation()
    assert retrieve(reader, hashing, "ribosome assembly", RetrievalSettings(), k=1)[0].paper.doi == "10.1/b"
    # a writer asking with wait=True gets the new indexes at once
    store(lib, hashing, parsed("gamma", "10.1/c", 2023, ["Sorghum cultivars tolerate drought."]))
    assert reader.indexes(wait=True).generation == reader.catalogue.generation()
    reader.close()


def test_fingerprint_mismatch_refuses_with_rebuild_hint(lib, hashing):
    other = dict(lib.fingerprint, embedder="some-other-model@torch")
    with pytest.raises(LibraryMismatchError, match="rebuild"):
        Library(lib.root, other, hashing.dim)


def test_bad_files_are_reported_not_raised(tmp_path, lib, hashing):
    from assistant.settings import IngestSettings

    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "notes.pdf").write_text("just some text, not a PDF")
    summary = ingest_files(lib, hashing, [tmp_path / "empty.pdf", tmp_path / "notes.pdf", tmp_path / "missing.pdf"],
                           IngestSettings(workers=0), ChunkSettings())
    reasons = {o.path.split("/")[-1]: o.reason for o in summary.outcomes}
    assert summary.count("failed") == 3
    assert "empty" in reasons["empty.pdf"] and "no such file" in reasons["missing.pdf"]
    assert "PDF" in reasons["notes.pdf"] or "pdf" in reasons["notes.pdf"].lower()
