"""学科 (assistant.disciplines, discipline_commands, api_disciplines): the catalogue's integrity, the
classifier on the real shared corpus against hand labels (tests/platform/discipline_labels.json),
corrections that persist across services, re-ingest and `souwen rebuild` and always win, filters
by discipline in papers/search/ask/review, the CLI, and the API through a real server on loopback.

Small libraries are PyMuPDF-generated papers (tests.pdfmaker) with the hashing embedder where the
classifier's accuracy is not what is tested; accuracy is measured with the real MiniLM on the corpus.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.disciplines import catalogue, check_codes, first_level
from assistant.retrieval import Filters
from assistant.service import Souwen
from assistant.settings import Settings
from tests.api.test_api import Server, build_library
from tests.pdfmaker import make_paper
from tests.samples import RIBO, make_samples

LABELS = Path(__file__).parent / "discipline_labels.json"
DOIS = {"wheat": "10.1234/wheat.2021.7", "ribo": "10.1093/test/ribo1", "ndn": "10.3969/j.issn.1673-629x.2023.10.010"}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    return make_samples(tmp_path_factory.mktemp("discipline-pdfs"), ("wheat", "ribo", "ndn"))


@pytest.fixture
def service(tmp_path, pdfs, hashing):
    souwen = Souwen(Settings(library=tmp_path / "library", embedder={"model": "hashing"}), embedder=hashing)
    assert not souwen.ingest(list(pdfs.values()), workers=0).failed
    yield souwen
    souwen.close()


# -- the catalogue -----------------------------------------------------------------------------
def test_catalogue_integrity():
    nodes = catalogue()
    entries = json.loads((Path(__file__).parents[2] / "assistant" / "data" / "disciplines.json").read_text())["entries"]
    assert len(entries) == len(nodes)  # codes are unique
    categories = [d for d in nodes.values() if len(d.code) == 2]
    assert [d.code for d in categories] == [f"{n:02d}" for n in range(1, 15)]
    assert len(first_level()) >= 110
    for d in nodes.values():
        assert d.zh.strip() and d.en.strip() and d.en.isascii(), d
        assert d.level == {2: "门类", 4: "一级学科", 6: "二级学科"}[len(d.code)], d
        if len(d.code) > 2:
            assert d.parent in nodes and d.code.startswith(d.parent) and len(d.parent) == len(d.code) - 2, d
    for d in first_level():
        assert len(nodes[d.parent].code) == 2
        assert len(d.scope_en) >= 3 and len(d.scope_zh) >= 3, f"{d.code} needs a scope description"
    for code, name in (("0710", "生物学"), ("0812", "计算机科学与技术"), ("0810", "信息与通信工程"),
                       ("0832", "食品科学与工程"), ("1002", "临床医学"), ("1004", "公共卫生与预防医学"),
                       ("1201", "管理科学与工程"), ("071010", "生物化学与分子生物学"), ("081201", "计算机系统结构")):
        assert nodes[code].zh == name
    # 二级学科 for the 门类 the brief names
    for category in ("07", "08", "09", "10", "12"):
        assert any(len(c) == 6 and c.startswith(category) for c in nodes), category


def test_check_codes_refuses_unknown_codes_with_a_message():
    assert check_codes([" 0710", "0710", "071010", "07"]) == ("0710", "071010", "07")
    with pytest.raises(ValueError, match="unknown discipline code.*9999"):
        check_codes(["0710", "9999"])
    with pytest.raises(ValueError, match="学科门类"):
        check_codes(["07"], labels_only=True)


# -- labels, corrections, filters (hashing embedder) ---------------------------------------------
def test_every_paper_gets_labels_after_ingest(service):
    for paper in service.papers():
        firsts = [label for label in paper.disciplines if len(label.code) == 4]
        assert 1 <= len(firsts) <= 2, paper.disciplines
        assert all(0.0 <= label.confidence <= 1.0 and label.source == "auto" for label in paper.disciplines)
        assert all(label.code in catalogue() for label in paper.disciplines)
        for label in paper.disciplines:  # a 二级学科 sits under a chosen 一级学科
            assert len(label.code) == 4 or label.code[:4] in {f.code for f in firsts}


def test_correction_wins_and_persists_across_services_and_reingest(service, pdfs, hashing, tmp_path):
    ribo = service.find(DOIS["ribo"])
    labels = service.disciplines.correct(ribo, ["0832", "083201"])
    assert [(label.code, label.confidence, label.source) for label in labels] == [("0832", 1.0, "user"), ("083201", 1.0, "user")]
    with pytest.raises(ValueError, match="unknown"):
        service.disciplines.correct(ribo, ["0832", "0000"])
    assert [label.code for label in service.disciplines.labels(ribo)] == ["0832", "083201"]  # unchanged by the refusal
    service.disciplines.classify([ribo.id])  # re-running the classifier keeps the correction
    assert {label.source for label in service.find(DOIS["ribo"]).disciplines} == {"user"}
    service.close()

    again = Souwen(service.settings, embedder=hashing)
    try:
        assert [label.code for label in again.find(DOIS["ribo"]).disciplines] == ["0832", "083201"]
        # a new version of the paper (other bytes, same DOI) replaces it and keeps the correction
        newer = make_paper(tmp_path / "ribo-v2.pdf", title="rRNA modification enzymes stimulate ribosome assembly (v2)",
                           doi=DOIS["ribo"], sections=RIBO, year=2024)
        assert again.ingest([newer], workers=0).count("replaced") == 1
        replaced = again.find(DOIS["ribo"])
        assert replaced.id != ribo.id
        assert [(label.code, label.source) for label in replaced.disciplines] == [("0832", "user"), ("083201", "user")]
        assert again.disciplines.clear(replaced) is True
        assert {label.source for label in again.find(DOIS["ribo"]).disciplines} == {"auto"}
        assert again.disciplines.clear(replaced) is False
    finally:
        again.close()


def test_corrections_survive_rebuild(service, hashing):
    wheat = service.find(DOIS["wheat"])
    service.disciplines.correct(wheat, ["0901"])
    service.rebuild(workers=0)
    rebuilt = Souwen(service.settings, embedder=hashing)
    try:
        paper = rebuilt.find(DOIS["wheat"])
        assert [(label.code, label.confidence, label.source) for label in paper.disciplines] == [("0901", 1.0, "user")]
        assert rebuilt.disciplines.correction(paper) == ["0901"]
        assert [p.doi for p in rebuilt.papers(Filters(disciplines=("0901",)))] == [DOIS["wheat"]]
        assert rebuilt.disciplines.counts()["0901"] >= 1  # other papers' auto labels may also say 0901
    finally:
        rebuilt.close()


def test_filters_by_discipline_restrict_papers_and_search(service):
    service.disciplines.correct(service.find(DOIS["wheat"]), ["083201"])
    service.disciplines.correct(service.find(DOIS["ribo"]), ["0710"])
    service.disciplines.correct(service.find(DOIS["ndn"]), ["0812", "0810"])
    assert {p.doi for p in service.papers(Filters(disciplines=("08",)))} == {DOIS["wheat"], DOIS["ndn"]}
    for code in ("0832", "083201"):
        assert [p.doi for p in service.papers(Filters(disciplines=(code,)))] == [DOIS["wheat"]]
    assert service.papers(Filters(disciplines=("083202",))) == []
    assert {p.doi for p in service.papers(Filters(disciplines=("0710", "0810")))} == {DOIS["ribo"], DOIS["ndn"]}
    everything = service.search("germinated wheat supplement vitamin", k=10)
    assert {h.paper.doi for h in everything} > {DOIS["wheat"]}
    only = service.search("germinated wheat supplement vitamin", k=10, filters=Filters(disciplines=("0710",)))
    assert only and {h.paper.doi for h in only} == {DOIS["ribo"]}
    report = service.review("ribosome assembly", n=3, filters=Filters(disciplines=("0832",)))
    assert {c.doi for c in report.citations} <= {DOIS["wheat"]}
    counts = service.disciplines.counts()
    assert (counts["08"], counts["0832"], counts["083201"], counts["0812"], counts["07"]) == (2, 1, 1, 1, 1)


# -- the classifier on the real corpus ----------------------------------------------------------
@pytest.mark.slow
@pytest.mark.corpus
def test_classifier_matches_the_hand_labels(corpus_service):
    gold = {e["sha256"]: e for e in json.loads(LABELS.read_text(encoding="utf-8"))["papers"]}
    papers = corpus_service.papers()
    assert {p.sha256 for p in papers} == set(gold)
    strict = lenient = 0
    for paper in papers:
        top = next(label for label in paper.disciplines if len(label.code) == 4)
        assert top.source == "auto" and 0.0 < top.confidence <= 1.0
        strict += top.code == gold[paper.sha256]["primary"]
        lenient += top.code in [gold[paper.sha256]["primary"], *gold[paper.sha256]["also"]]
    assert strict / len(papers) >= 0.8, f"top-1 {strict}/{len(papers)} against the primary labels"
    assert lenient >= strict


@pytest.mark.slow
@pytest.mark.corpus
def test_discipline_filters_on_the_corpus(corpus_service):
    everything = corpus_service.papers()
    biology = corpus_service.papers(Filters(disciplines=("0710",)))
    science = corpus_service.papers(Filters(disciplines=("07",)))
    assert 0 < len(biology) <= len(science) < len(everything)
    assert all(any(label.code.startswith("0710") for label in p.disciplines) for p in biology)
    question = "programmable data plane forwarding"
    hits = corpus_service.search(question, k=10, filters=Filters(disciplines=("0710",)))
    assert hits and all(any(label.code.startswith("0710") for label in h.paper.disciplines) for h in hits)
    assert {h.paper.id for h in hits} != {h.paper.id for h in corpus_service.search(question, k=10)}


# -- CLI ------------------------------------------------------------------------------------------
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli(service, capsys, monkeypatch):
    monkeypatch.setenv("SOUWEN_EMBEDDER__MODEL", "hashing")
    lib = ["--library", str(service.settings.library)]
    service.close()
    code, out, _ = run_cli(capsys, "papers", "--json", *lib)
    assert code == 0
    papers = json.loads(out)
    assert all(p["disciplines"] and set(p["disciplines"][0]) == {"code", "name", "name_en", "confidence", "source"}
               for p in papers)
    assert all(catalogue()[d["code"]].zh == d["name"] for p in papers for d in p["disciplines"])

    code, out, _ = run_cli(capsys, "disciplines", "set", DOIS["ribo"], "0710", "071005", "--json", *lib)
    assert code == 0 and [d["code"] for d in json.loads(out)["disciplines"]] == ["0710", "071005"]
    code, out, _ = run_cli(capsys, "disciplines", "--json", "show", DOIS["ribo"], *lib)
    shown = json.loads(out)
    assert code == 0 and shown["corrected"] and {d["source"] for d in shown["disciplines"]} == {"user"}
    code, out, _ = run_cli(capsys, "papers", "--discipline", "071005", "--json", *lib)
    assert code == 0 and [p["doi"] for p in json.loads(out)] == [DOIS["ribo"]]
    code, out, _ = run_cli(capsys, "search", "ribosome", "--discipline", "0710", "--json", *lib)
    assert code == 0 and {h["doi"] for h in json.loads(out)} == {DOIS["ribo"]}
    code, out, _ = run_cli(capsys, "disciplines", "--counts", "--level", "二级学科", "--json", *lib)
    counts = {d["code"]: d["papers"] for d in json.loads(out)}
    assert code == 0 and counts["071005"] == 1 and sum(v for c, v in counts.items() if len(c) == 2) >= 3
    code, out, _ = run_cli(capsys, "disciplines", *lib)
    assert code == 0 and "0812 计算机科学与技术" in out

    for argv, exit_code, message in (
            (("disciplines", "set", DOIS["ribo"], "9999"), 2, "unknown discipline code"),
            (("disciplines", "set", DOIS["ribo"], "07"), 2, "学科门类"),
            (("disciplines", "show", "10.9999/none"), 4, "no paper"),
            (("papers", "--discipline", "0000"), 2, "unknown discipline code"),
            (("search", "ribosome", "--discipline", "12345"), 2, "unknown discipline code"),
            (("ask", "What grew slower?", "--discipline", "x"), 2, "unknown discipline code"),
            (("review", "ribosomes", "--discipline", "x"), 2, "unknown discipline code")):
        code, _, err = run_cli(capsys, *argv, *lib)
        assert code == exit_code and message in err and "Traceback" not in err, (argv, err)
    code, out, _ = run_cli(capsys, "disciplines", "show", DOIS["ribo"], "--json", *lib)
    assert [d["code"] for d in json.loads(out)["disciplines"]] == ["0710", "071005"]  # refused edits changed nothing

    code, out, _ = run_cli(capsys, "disciplines", "clear", DOIS["ribo"], "--json", *lib)
    cleared = json.loads(out)
    assert code == 0 and cleared["cleared"] and not cleared["corrected"]
    assert {d["source"] for d in cleared["disciplines"]} == {"auto"}
    code, out, _ = run_cli(capsys, "disciplines", "classify", "--all", "--json", *lib)
    assert code == 0 and len(json.loads(out)) == 3


# -- API ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(pdfs, tmp_path_factory):
    root = tmp_path_factory.mktemp("discipline-api")
    library = build_library(root, dict(pdfs))
    srv = Server(library, root / "server.log")
    yield srv
    srv.stop()


def test_api(server):
    with server.client() as http:
        nodes = http.get("/disciplines").json()
        assert len([n for n in nodes if n["level"] == "一级学科"]) >= 110
        assert sum(n["papers"] for n in nodes if n["level"] == "门类") >= 3
        firsts = http.get("/disciplines", params={"level": "一级学科", "with_papers": True}).json()
        assert firsts and all(len(n["code"]) == 4 and n["papers"] > 0 for n in firsts)

        key = DOIS["ribo"]  # a DOI with slashes in the path
        got = http.get(f"/papers/{key}/disciplines")
        assert got.status_code == 200 and got.json()["doi"] == key and got.json()["disciplines"]
        put = http.put(f"/papers/{key}/disciplines", json={"codes": ["0832", "083203"]})
        assert put.status_code == 200, put.text
        assert [(d["code"], d["name"], d["source"]) for d in put.json()["disciplines"]] == [
            ("0832", "食品科学与工程", "user"), ("083203", "农产品加工及贮藏工程", "user")]
        assert http.get(f"/papers/{key}/disciplines").json()["corrected"] is True

        page = http.get("/disciplines/0832/papers").json()
        assert key in [p["doi"] for p in page["papers"]] and page["name"] == "食品科学与工程"
        listed = http.get("/papers", params={"discipline": "083203"}).json()
        assert [p["doi"] for p in listed["papers"]] == [key]
        assert listed["papers"][0]["disciplines"][0]["source"] == "user"
        hits = http.get("/search", params={"q": "germinated wheat vitamin", "discipline": "083203"}).json()
        assert hits and {h["doi"] for h in hits} == {key}
        answer = http.post("/ask", json={"question": "How much slower did the strain grow?", "discipline": ["0832"]})
        assert answer.status_code == 200 and {c["doi"] for c in answer.json()["citations"]} <= {key}
        detail = http.get(f"/papers/{key}")  # the paper routes still work beside /disciplines
        assert detail.status_code == 200 and detail.json()["disciplines"][0]["code"] == "0832"
        assert http.get(f"/papers/{key}/pdf").status_code == 200

        for response, status, words in (
                (http.put(f"/papers/{key}/disciplines", json={"codes": ["9999"]}), 400, "unknown discipline code"),
                (http.put(f"/papers/{key}/disciplines", json={"codes": ["08"]}), 400, "学科门类"),
                (http.put(f"/papers/{key}/disciplines", json={"codes": []}), 422, ""),
                (http.put("/papers/10.9999/none/disciplines", json={"codes": ["0710"]}), 404, "no paper"),
                (http.get("/papers/10.9999/none/disciplines"), 404, "no paper"),
                (http.delete("/papers/10.9999/none/disciplines"), 404, "no paper"),
                (http.get("/disciplines/9999/papers"), 404, "no discipline"),
                (http.get("/papers", params={"discipline": "99"}), 400, "unknown discipline code"),
                (http.get("/search", params={"q": "wheat", "discipline": "abc"}), 400, "unknown discipline code"),
                (http.post("/ask", json={"question": "wheat?", "discipline": ["0000"]}), 400, "unknown discipline code"),
                (http.post("/review", json={"topic": "wheat", "discipline": ["0000"]}), 400, "unknown discipline code")):
            assert response.status_code == status, (response.status_code, response.text)
            assert words in response.text
        assert [d["code"] for d in http.get(f"/papers/{key}/disciplines").json()["disciplines"]] == ["0832", "083203"]

        cleared = http.delete(f"/papers/{key}/disciplines")
        assert cleared.status_code == 200 and cleared.json()["corrected"] is False
        assert {d["source"] for d in cleared.json()["disciplines"]} == {"auto"}
        assert http.get("/papers", params={"discipline": "083203"}).json()["total"] == 0
