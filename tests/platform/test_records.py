"""OA metadata records: reading JSONL/CSV (aliases, bad lines, BOM, Chinese), storing (idempotent,
replaced by DOI, never over a PDF, batched embedding), rebuild, citations and the PDF route, and
the optional enrichment against recorded Crossref and OpenAlex responses (tests/platform/recorded/).

Fast tests use the hashing embedder; search and ask run the real MiniLM, and the API tests a real
`souwen serve` on loopback.
"""
from __future__ import annotations

import itertools
import json
import tracemalloc
from pathlib import Path

import httpx
import pytest

from assistant.records import ENRICH_LOG
from assistant.service import Souwen
from assistant.settings import Settings
from ingest.records import MetadataRecord, RecordError, read_records
from tests.pdfmaker import make_paper
from tests.samples import SORGHUM
from tests.sqlfile import query_catalogue

RECORDED = Path(__file__).parent / "recorded"
MILLET = {"doi": "https://doi.org/10.1234/MILLET.2021", "title": "Drought tolerance of pearl millet in the Sahel",
          "abstract": "We grew twelve pearl millet landraces in Niger under rain-fed conditions. The landrace Souna "
                      "kept 71 percent of its grain yield when the rains stopped at flowering.",
          "authors": "Amina Diallo; Ousmane Sy", "publication_year": 2021, "journal": "Field Crops Research",
          "license": "CC-BY-4.0", "pdf_url": "https://example.org/millet.pdf"}
RICE = {"doi": "10.5678/rice.2022.3", "title": "基于卷积神经网络的水稻病害识别方法",
        "abstract": "本文提出一种基于卷积神经网络的水稻病害识别方法。在三千张田间图像上，稻瘟病的识别准确率达到百分之九十四。",
        "authors": ["王芳", {"name": "李明", "affiliations": ["华中农业大学"]}], "year": 2022, "venue": "农业工程学报"}


def write_jsonl(path: Path, rows: list, bom: bool = False) -> Path:
    text = "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def service_for(tmp_path: Path, embedder=None, **settings) -> Souwen:
    return Souwen(Settings(library=tmp_path / "library", embedder={"model": "hashing"}, **settings), embedder=embedder)


# -- reading ---------------------------------------------------------------------------------------
def test_jsonl_aliases_bad_lines_bom_and_chinese(tmp_path):
    path = tmp_path / "records.jsonl"
    write_jsonl(path, [MILLET, "", "{not json", '["a list"]', {"abstract": "no title here"}, RICE,
                       {"title": "Bad link", "url": "javascript:alert(1)"}, {"title": "Bad DOI", "doi": "10.12/x"},
                       {"title": "Bad year", "year": "long ago"}], bom=True)
    with open(path, "ab") as handle:
        handle.write(b'{"title": "caf\xe9 latin-1"}\n')
    items = list(read_records(path))
    errors = {i.line: i.reason for i in items if isinstance(i, RecordError)}
    records = [i for i in items if isinstance(i, MetadataRecord)]
    assert sorted(errors) == [3, 4, 5, 7, 8, 9, 10]  # line 2 is blank: skipped, not an error
    assert "JSON" in errors[3] and "object" in errors[4] and errors[5] == "no title"
    assert "http" in errors[7] and "DOI" in errors[8] and "year" in errors[9] and "UTF-8" in errors[10]
    millet, rice = records
    assert millet.line == 1 and millet.doi == "10.1234/millet.2021"  # BOM dropped, prefix and case normalised
    assert (millet.year, millet.venue, millet.licence) == (2021, "Field Crops Research", "CC-BY-4.0")
    assert millet.oa_url == "https://example.org/millet.pdf" and millet.authors == ("Amina Diallo", "Ousmane Sy")
    assert millet.lang == "en" and rice.lang == "zh" and rice.line == 6
    assert rice.authors == ("王芳", "李明") and rice.affiliations == ((), ("华中农业大学",))


def test_csv_aliases_multiline_fields_and_bad_rows(tmp_path):
    path = tmp_path / "records.csv"
    rows = ["DOI,Title,Abstract,Authors,Publication Year,Licence,PDF_URL,Language",
            '10.1234/csv.1,"A CSV paper","An abstract, with a comma,\nand a second line.","A. One; B. Two",2020,CC0,https://x.org/1.pdf,',
            '10.1234/csv.2,Too many,x,y,2020,a,https://x.org/2,en,extra',
            '10.1234/csv.3,"中文题目：玉米产量","玉米在干旱条件下减产。","[""张三"", ""李四""]",2019,,,',
            ',,,,,,,']
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(rows).encode("utf-8") + b"\n")
    items = list(read_records(path))
    assert [type(i).__name__ for i in items] == ["MetadataRecord", "RecordError", "MetadataRecord"]
    first, bad, zh = items
    assert first.line == 2 and first.abstract == "An abstract, with a comma, and a second line."
    assert first.authors == ("A. One", "B. Two") and first.year == 2020 and first.licence == "CC0"
    assert bad.line == 4 and "more field" in bad.reason  # the quoted newline made row 1 two lines long
    assert zh.line == 5 and zh.authors == ("张三", "李四") and zh.lang == "zh"
    no_title = tmp_path / "no_title.csv"
    no_title.write_text("doi,abstract\n10.1234/x,text\n", encoding="utf-8")
    [error] = list(read_records(no_title))
    assert error.line == 1 and "title" in error.reason


def test_reading_streams_a_large_file(tmp_path):
    path = tmp_path / "big.jsonl"
    row = json.dumps({**MILLET, "doi": "", "abstract": MILLET["abstract"] * 3})
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(100_000):
            handle.write(row + "\n")
    size = path.stat().st_size
    tracemalloc.start()
    first = list(itertools.islice(read_records(path), 500))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(first) == 500 and all(isinstance(r, MetadataRecord) for r in first)
    assert peak < size / 20, (peak, size)  # a stream, not the file in memory


# -- storing ---------------------------------------------------------------------------------------
def test_same_file_twice_changes_nothing_and_a_new_version_replaces_by_doi(tmp_path):
    service = service_for(tmp_path)
    path = write_jsonl(tmp_path / "a.jsonl", [MILLET, RICE, "oops"])
    first = service.ingest_records([path])
    assert (first.count("added"), first.count("failed")) == (2, 1)
    assert first.failed[0].line == 3
    library = service.library
    generation, ids = library.catalogue.generation(), {p.id for p in service.papers()}
    assert all((library.root / "records" / f"{i}.json").is_file() for i in ids)
    again = service.ingest_records([path])
    assert (again.count("unchanged"), again.count("added")) == (2, 0)
    assert library.catalogue.generation() == generation and {p.id for p in service.papers()} == ids
    millet = service.find("10.1234/millet.2021")
    assert millet.source == "record" and millet.pages == 0 and millet.oa_url == MILLET["pdf_url"]
    chunks = library.catalogue.paper_chunks(millet.id)
    assert chunks and all(c.kind == "abstract" and c.page_start == c.page_end == 1 for c in chunks)
    rows = query_catalogue(library, "SELECT name, affiliations FROM paper_authors WHERE paper_id=?",
                           (service.find("10.5678/rice.2022.3").id,))
    assert [(r[0], json.loads(r[1])) for r in rows] == [("王芳", []), ("李明", ["华中农业大学"])]

    changed = write_jsonl(tmp_path / "b.jsonl", [{**MILLET, "abstract": MILLET["abstract"] + " Souna also flowered early."}])
    summary = service.ingest_records([changed])
    assert summary.count("replaced") == 1
    new = service.find("10.1234/millet.2021")
    assert new.id != millet.id and "flowered early" in new.abstract and len(service.papers()) == 2
    assert not (library.root / "records" / f"{millet.id}.json").exists()
    service.close()


def test_a_record_never_replaces_a_pdf_and_a_pdf_replaces_a_record(tmp_path):
    pdf = make_paper(tmp_path / "sorghum.pdf", title="Drought tolerance of sorghum cultivars", doi="10.1234/sorghum.2021",
                     sections=SORGHUM, year=2021)
    service = service_for(tmp_path)
    assert service.ingest([pdf], workers=0).count("added") == 1
    stored = service.find("10.1234/sorghum.2021")
    records = write_jsonl(tmp_path / "r.jsonl", [{"doi": "10.1234/sorghum.2021", "title": "Sorghum (record)",
                                                  "abstract": "Only an abstract."}, MILLET])
    summary = service.ingest_records([records])
    skipped = [o for o in summary.outcomes if o.status == "skipped"]
    assert len(skipped) == 1 and "PDF" in skipped[0].reason and skipped[0].paper_id == stored.id
    kept = service.find("10.1234/sorghum.2021")
    assert kept.id == stored.id and kept.source == "pdf" and kept.chunks == stored.chunks
    # The other way round: a PDF of a record's DOI replaces the record (the full text wins).
    millet_pdf = make_paper(tmp_path / "millet.pdf", title=MILLET["title"], doi="10.1234/millet.2021",
                            sections={"Abstract": [MILLET["abstract"]]}, year=2021)
    record = service.find("10.1234/millet.2021")
    assert service.ingest([millet_pdf], workers=0).count("replaced") == 1
    assert service.find("10.1234/millet.2021").source == "pdf"
    assert not (service.library.root / "records" / f"{record.id}.json").exists()
    service.close()


class CountingEmbedder:
    """The hashing embedder, counting its embedding calls."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []
        self.id, self.dim, self.max_tokens = inner.id, inner.dim, inner.max_tokens

    def embed_documents(self, texts, progress=None):
        self.calls.append(len(texts))
        return self.inner.embed_documents(texts, progress)

    def embed_query(self, text):
        return self.inner.embed_query(text)

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)


def generated_records(n: int) -> list[dict]:
    topics = ["soil carbon", "wheat rust", "coral bleaching", "graph neural networks", "lithium batteries"]
    return [{"doi": f"10.9999/gen.{i}", "title": f"Study {i} of {topics[i % 5]}", "year": 2000 + i % 24,
             "abstract": f"We report measurement {i} on {topics[i % 5]}. The effect size was {i % 97} percent "
                         f"across {3 + i % 11} sites. " * (1 + i % 3)} for i in range(n)]


def test_thousands_of_records_are_embedded_in_batches(tmp_path, hashing):
    from assistant.records import BATCH

    embedder = CountingEmbedder(hashing)
    service = service_for(tmp_path, embedder=embedder)
    classified = []
    service.after_ingest = classified.extend  # disciplines embed too (in batches of their own): not counted here
    path = write_jsonl(tmp_path / "gen.jsonl", generated_records(2000))
    summary = service.ingest_records([path])
    assert summary.count("added") == 2000 and not summary.failed and len(classified) == 2000
    assert len(embedder.calls) == -(-2000 // BATCH)  # one call per batch, not one per record
    assert sum(embedder.calls) == service.library.catalogue.counts()["chunks"]
    hits = service.search("coral bleaching measurement 1234", k=5)
    assert hits[0].paper.doi == "10.9999/gen.1234"
    service.close()


def test_rebuild_keeps_records_with_their_ids_and_enrichment(tmp_path):
    pdf = make_paper(tmp_path / "sorghum.pdf", title="Drought tolerance of sorghum cultivars", doi="10.1234/sorghum.2021",
                     sections=SORGHUM, year=2021)
    service = service_for(tmp_path)
    service.ingest([pdf], workers=0)
    service.ingest_records([write_jsonl(tmp_path / "a.jsonl", [MILLET, RICE])])
    before = {p.doi: (p.id, p.source, p.chunks) for p in service.papers()}
    (service.library.root / ENRICH_LOG).write_text('{"doi": "10.1234/millet.2021", "source": "openalex", '
                                                   '"status": "nothing_new"}\n', encoding="utf-8")
    summary = service.rebuild(workers=0)
    assert not summary.failed and summary.count("added") == 3
    after = {p.doi: (p.id, p.source, p.chunks) for p in service.papers()}
    assert after == before
    assert (service.library.root / ENRICH_LOG).is_file()
    assert service.search("Souna grain yield flowering", k=3)[0].paper.doi == "10.1234/millet.2021"
    service.close()


# -- enrichment ------------------------------------------------------------------------------------
def recorded_transport(calls: list, script: dict | None = None) -> httpx.MockTransport:
    """Serves the recorded replies by URL; `script` maps a DOI to a list of statuses to answer first."""
    replies = {"api.openalex.org": {"10.7717/peerj.4375": RECORDED / "openalex_10.7717_peerj.4375.json"},
               "api.crossref.org": {"10.5555/12345678es": RECORDED / "crossref_10.5555_12345678es.json"}}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        doi = path.split("/works/", 1)[1].removeprefix("doi:")
        calls.append((request.url.host, doi, dict(request.url.params)))
        queued = (script or {}).get(doi)
        if queued:
            status = queued.pop(0)
            return httpx.Response(status, headers={"Retry-After": "7"} if status == 429 else {}, text="slow down")
        found = replies.get(request.url.host, {}).get(doi)
        if found is None:
            return httpx.Response(404, text="Resource not found.")
        return httpx.Response(200, content=found.read_bytes(), headers={"content-type": "application/json"})

    return httpx.MockTransport(handle)


ENRICH_ON = {"enrich": {"enabled": True, "rate_per_second": 50, "retries": 2}}
PEERJ = {"doi": "10.7717/peerj.4375", "title": "The state of OA", "licence": "CC0-1.0"}
CARBERRY = {"doi": "10.5555/12345678es", "title": "Toward a Unified Theory of High-Energy Metaphysics",
            "venue": "Our own venue name"}
MISSING = {"doi": "10.5555/not-registered", "title": "A work no index knows"}


def test_enrichment_is_off_by_default(tmp_path):
    from assistant.enrich import enrich_records

    service = service_for(tmp_path)
    with pytest.raises(ValueError, match="SOUWEN_ENRICH__ENABLED"):
        enrich_records(service, client=httpx.Client(transport=recorded_transport([])))
    service.close()


def test_openalex_fills_missing_fields_only_in_place_and_resumes(tmp_path):
    from assistant.enrich import enrich_records

    service = service_for(tmp_path, **ENRICH_ON)
    service.ingest_records([write_jsonl(tmp_path / "r.jsonl", [PEERJ, MISSING])])
    before = service.find("10.7717/peerj.4375")
    old_chunks = {c.id for c in service.library.catalogue.paper_chunks(before.id)}
    calls: list = []
    client = httpx.Client(transport=recorded_transport(calls))
    first = enrich_records(service, limit=1, mailto="me@example.org", client=client, sleep=lambda s: None)
    assert len(first.outcomes) == 1 and len(calls) == 1 and calls[0][2] == {"mailto": "me@example.org"}
    # The second run continues with the DOI not looked up yet; a third has nothing left to do.
    second = enrich_records(service, client=client, sleep=lambda s: None)
    assert len(second.outcomes) == 1 and second.already_done == 1 and len(calls) == 2
    statuses = {o.doi: o.status for o in first.outcomes + second.outcomes}
    assert statuses == {"10.7717/peerj.4375": "enriched", "10.5555/not-registered": "not_found"}
    third = enrich_records(service, client=client, sleep=lambda s: None)
    assert third.outcomes == [] and third.already_done == 2 and len(calls) == 2
    after = service.find("10.7717/peerj.4375")
    assert after.id == before.id  # in place: what names the paper still names it
    assert after.abstract.startswith("Despite growing interest in Open Access (OA) to scholarly literature")
    assert after.abstract.endswith("to inform OA policy and practice.")
    assert (after.year, after.venue, after.oa_url) == (2018, "PeerJ", "https://peerj.com/articles/4375.pdf")
    assert after.licence == "CC0-1.0"  # the record's own licence is never overwritten
    assert after.title == "The state of OA" and after.authors[0] == "Heather A. Piwowar"
    places = query_catalogue(
        service.library, "SELECT affiliations FROM paper_authors WHERE paper_id=? ORDER BY position", (after.id,))
    assert json.loads(places[2][0]) == ["University of Montreal", "University of Quebec at Montreal"]
    new_chunks = service.library.catalogue.paper_chunks(after.id)
    assert {c.id for c in new_chunks}.isdisjoint(old_chunks) and "Bronze" in " ".join(c.text for c in new_chunks)
    assert service.search("free-to-read Bronze open access without an explicit license", k=3)[0].paper.id == after.id
    # Re-ingesting the original file changes nothing and keeps the enrichment.
    assert service.ingest_records([tmp_path / "r.jsonl"]).count("unchanged") == 2
    assert service.find("10.7717/peerj.4375").venue == "PeerJ"
    service.close()


def test_crossref_strips_jats_keeps_given_fields_and_waits_on_429(tmp_path):
    from assistant.enrich import enrich_records

    service = service_for(tmp_path, **ENRICH_ON)
    service.ingest_records([write_jsonl(tmp_path / "r.jsonl", [CARBERRY])])
    calls, waits = [], []
    client = httpx.Client(transport=recorded_transport(calls, {"10.5555/12345678es": [429, 503]}))
    summary = enrich_records(service, source="crossref", client=client, sleep=waits.append)
    assert [o.status for o in summary.outcomes] == ["enriched"] and len(calls) == 3
    assert 7.0 in waits and 2.0 in waits  # Retry-After honoured, then the backoff
    paper = service.find("10.5555/12345678es")
    assert paper.abstract.startswith("El tema característico de las obras de Stone") and "<" not in paper.abstract
    assert paper.venue == "Our own venue name" and paper.year == 2022
    assert paper.licence == "http://psychoceramicsproprietrylicenseV1.com"
    assert paper.oa_url == ""  # a proprietary licence: Crossref's landing page is not an OA copy
    assert paper.authors == ("Josiah Carberry",)
    service.close()


def test_a_failing_doi_never_stops_the_run_and_is_tried_again(tmp_path):
    from assistant.enrich import enrich_records

    service = service_for(tmp_path, **ENRICH_ON)
    service.ingest_records([write_jsonl(tmp_path / "r.jsonl", [CARBERRY, PEERJ])])
    calls: list = []
    client = httpx.Client(transport=recorded_transport(calls, {"10.5555/12345678es": [500, 500, 500]}))
    summary = enrich_records(service, source="crossref", client=client, sleep=lambda s: None)
    statuses = {o.doi: o.status for o in summary.outcomes}
    assert statuses == {"10.5555/12345678es": "failed", "10.7717/peerj.4375": "not_found"}
    assert "HTTP 500" in next(o.reason for o in summary.outcomes if o.status == "failed")
    again = enrich_records(service, source="crossref", client=client, sleep=lambda s: None)
    assert [(o.doi, o.status) for o in again.outcomes] == [("10.5555/12345678es", "enriched")]
    service.close()


# -- CLI -------------------------------------------------------------------------------------------
def test_cli_records_add_reports_lines_and_exit_code(tmp_path, monkeypatch, capsys):
    from assistant.cli import main

    monkeypatch.setenv("SOUWEN_EMBEDDER__MODEL", "hashing")
    path = write_jsonl(tmp_path / "a.jsonl", [MILLET, "{bad", RICE])
    assert main(["records", "add", str(path), "--library", str(tmp_path / "lib"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"added": 2, "replaced": 0, "unchanged": 0, "skipped": 0, "failed": 1}
    assert [r["line"] for r in out["records"] if r["status"] == "failed"] == [2]
    assert main(["records", "add", str(write_jsonl(tmp_path / "b.jsonl", [MILLET])), "--library", str(tmp_path / "lib")]) == 0
    assert "1 unchanged" in capsys.readouterr().err
    assert main(["records", "enrich", "--library", str(tmp_path / "lib")]) == 2  # off by default


# -- search, ask, citations (real MiniLM) ----------------------------------------------------------
@pytest.fixture(scope="module")
def minilm_records(tmp_path_factory, minilm):
    folder = tmp_path_factory.mktemp("records")
    pdf = make_paper(folder / "sorghum.pdf", title="Drought tolerance of sorghum cultivars", doi="10.1234/sorghum.2021",
                     sections=SORGHUM, year=2021)
    service = Souwen(Settings(library=folder / "library"), embedder=minilm)
    service.ingest([pdf], workers=0)
    summary = service.ingest_records([write_jsonl(folder / "r.jsonl", [MILLET, RICE, *generated_records(40)])])
    assert summary.count("added") == 42
    yield service
    service.close()


@pytest.mark.slow
def test_search_finds_a_records_abstract_in_english_and_chinese(minilm_records):
    hits = minilm_records.search("Which pearl millet landrace kept its grain yield when the rains stopped?", k=5)
    assert hits[0].paper.doi == "10.1234/millet.2021" and hits[0].chunk.kind == "abstract"
    zh = minilm_records.search("稻瘟病识别准确率是多少？", k=5)
    assert zh[0].paper.doi == "10.5678/rice.2022.3" and "百分之九十四" in zh[0].chunk.text


@pytest.mark.slow
def test_ask_cites_the_record_with_doi_page_1_and_a_quote_from_its_abstract(minilm_records):
    answer = minilm_records.ask("How much of its grain yield did the pearl millet landrace Souna keep?")
    assert not answer.abstained, answer.text
    cited = [c for c in answer.citations if c.doi == "10.1234/millet.2021"]
    assert cited and all(c.page == 1 for c in cited)
    assert any(c.quote in MILLET["abstract"] and "71 percent" in c.quote for c in cited)


@pytest.mark.slow
def test_ui_citation_chip_links_the_oa_url_not_a_pdf(minilm_records):
    from assistant.ui import render_citations

    answer = minilm_records.ask("How much of its grain yield did the pearl millet landrace Souna keep?")
    chips = render_citations(minilm_records, [c for c in answer.citations if c.doi == "10.1234/millet.2021"])
    assert MILLET["pdf_url"] in chips and "/pdf#page=" not in chips


# -- API (a real server) ---------------------------------------------------------------------------
@pytest.mark.slow
def test_api_records_upload_and_pdf_route_answers_404_with_the_oa_url(tmp_path):
    from tests.api.test_api import Server

    service = service_for(tmp_path)
    service.ingest_records([write_jsonl(tmp_path / "a.jsonl", [MILLET])])
    service.close()
    server = Server(tmp_path / "library", tmp_path / "server.log")
    try:
        with server.client() as client:
            reply = client.get("/papers/10.1234/millet.2021/pdf")
            assert reply.status_code == 404 and MILLET["pdf_url"] in reply.json()["detail"]
            assert client.get("/papers/10.1234/millet.2021").json()["pdf_url"] == ""
            body = "\n".join([json.dumps(RICE, ensure_ascii=False), "{broken", json.dumps(MILLET)]).encode()
            reply = client.post("/records", files={"file": ("more.jsonl", body, "application/x-ndjson")})
            assert reply.status_code == 200, reply.text
            data = reply.json()
            assert data["counts"]["added"] == 1 and data["counts"]["unchanged"] == 1 and data["counts"]["failed"] == 1
            assert {r["name"] for r in data["records"]} == {"more.jsonl"} and "path" not in data["records"][0]
            assert client.get("/papers/10.5678/rice.2022.3").json()["title"] == RICE["title"]
            pdf = client.post("/records", files={"file": ("x.jsonl", b"%PDF-1.7 binary", "application/pdf")})
            assert pdf.status_code == 415
            assert client.post("/records", data={"x": "1"}).status_code in (415, 422)
    finally:
        server.stop()
