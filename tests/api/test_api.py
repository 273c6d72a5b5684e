"""The HTTP API through a real server: `souwen serve` in a subprocess on a loopback port, driven
with httpx. Small libraries are made from PDFs generated with PyMuPDF; most servers use the hashing
embedder (fast, deterministic), and one test runs the real MiniLM end to end.

Covers every route, the bad input the issue lists (empty or long questions, k bounds, unknown DOIs,
non-PDF and oversized uploads, path traversal through every parameter), uploads as background
jobs (progress, duplicates, questions answered while a job runs), API keys, a library built with
other settings, and a failing language model.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.pdfmaker import make_paper
from tests.samples import free_port, make_samples

REPO = Path(__file__).resolve().parents[2]

VITAMIN_Q = "How much did the germinated wheat supplement raise vitamin E content?"


class Server:
    """`souwen serve` in a subprocess; its output goes to a log file shown when a test fails."""

    def __init__(self, library: Path, log: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SOUWEN_")}
        self.env = {**clean, "HF_HUB_OFFLINE": "1", "SOUWEN_EMBEDDER__MODEL": "hashing", **env}
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", "serve", "--port", str(self.port), "--library", str(library)],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while True:
            assert self.proc.poll() is None, f"server exited:\n{log.read_text()[-3000:]}"
            try:
                httpx.get(f"{self.url}/health", timeout=2)
                return
            except httpx.HTTPError:
                assert time.monotonic() < deadline, f"server did not start:\n{log.read_text()[-3000:]}"
                time.sleep(0.3)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, **kwargs)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        assert "Traceback" not in self.log.read_text(), self.log.read_text()[-3000:]


def build_library(folder: Path, papers: dict[str, Path], embedder: str = "hashing") -> Path:
    from assistant.service import Souwen
    from assistant.settings import Settings

    library = folder / "library"
    service = Souwen(Settings(library=library, embedder={"model": embedder}))
    try:
        summary = service.ingest(list(papers.values()), workers=0)
        assert not summary.failed, summary.failed
    finally:
        service.close()
    return library


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    return make_samples(tmp_path_factory.mktemp("pdfs"), ("wheat", "ribo", "ndn", "sorghum"))


@pytest.fixture(scope="module")
def server(pdfs, tmp_path_factory):
    """A hashing-embedder server over wheat, ribo and ndn, with a 1 MB upload limit."""
    root = tmp_path_factory.mktemp("api")
    library = build_library(root, {k: pdfs[k] for k in ("wheat", "ribo", "ndn")})
    # The server answers extractively; the OpenAI endpoint (for a per-request backend) is a closed port.
    srv = Server(library, root / "server.log", SOUWEN_API__MAX_UPLOAD_MB="1",
                 SOUWEN_LLM__BASE_URL=f"http://127.0.0.1:{free_port()}/v1", SOUWEN_LLM__RETRIES="0")
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    with server.client() as c:
        yield c


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def wait_for_job(client: httpx.Client, location: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(location).json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def upload(client: httpx.Client, *paths: Path) -> httpx.Response:
    return client.post("/papers", files=[("files", (p.name, p.read_bytes(), "application/pdf")) for p in paths])


# -- service routes ------------------------------------------------------------------------------
def test_health_stats_and_openapi(client, server):
    assert client.get("/health").json()["status"] == "ok"
    # the warm-up kept the sentence vectors it embedded, for the next start (assistant.api.warm_up)
    library = Path(server.proc.args[server.proc.args.index("--library") + 1])
    assert list((library / "cache").glob("sentence-vectors-*.npz"))
    stats = client.get("/stats").json()
    assert stats["papers"] == 3 and stats["chunks"] > 0 and stats["embedder"].startswith("hashing")
    assert set(stats["jobs"]) == {"queued", "running", "done", "failed"}
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/ask", "/summarize", "/keypoints", "/review", "/papers", "/papers/{key}", "/papers/{key}/pdf",
                  "/jobs/{job_id}", "/search", "/figures/{figure_id}", "/health", "/stats"):
        assert route in paths, route


# -- papers ---------------------------------------------------------------------------------------
def test_papers_paged_and_filtered(client):
    page = client.get("/papers").json()
    assert page["total"] == 3 and len(page["papers"]) == 3
    assert {"id", "doi", "title", "authors", "year", "figures", "chunks", "sha256"} <= set(page["papers"][0])
    second = client.get("/papers", params={"offset": 1, "limit": 1}).json()
    assert second["total"] == 3 and [p["id"] for p in second["papers"]] == [page["papers"][1]["id"]]
    assert [p["doi"] for p in client.get("/papers", params={"year": "2021"}).json()["papers"]] == ["10.1234/wheat.2021.7"]
    assert client.get("/papers", params={"year": "2022-"}).json()["total"] == 2
    assert client.get("/papers", params={"q": "RIBOSOME"}).json()["papers"][0]["doi"] == "10.1093/test/ribo1"
    assert client.get("/papers", params={"doi": "10.1093/TEST/ribo1"}).json()["total"] == 1
    assert client.get("/papers", params={"limit": 0}).status_code == 422
    assert client.get("/papers", params={"limit": 501}).status_code == 422
    assert client.get("/papers", params={"offset": -1}).status_code == 422
    assert client.get("/papers", params={"year": "last year"}).status_code == 400


def test_show_paper_by_doi_with_slashes_or_id(client):
    shown = client.get("/papers/10.1234/wheat.2021.7").json()
    assert shown["doi"] == "10.1234/wheat.2021.7" and shown["title"].startswith("A nutritional supplement")
    assert "Results" in shown["sections"] and shown["pdf_url"] == f"/papers/{shown['id']}/pdf"
    assert client.get("/papers/10.1234%2Fwheat.2021.7").json()["id"] == shown["id"]
    assert client.get("/papers/10.1234/WHEAT.2021.7").json()["id"] == shown["id"]
    assert client.get(f"/papers/{shown['id']}").json()["doi"] == shown["doi"]
    assert client.get(f"/papers/{shown['id'][:8]}").json()["doi"] == shown["doi"]
    figure = shown["figures"][0]
    assert figure["url"] == f"/figures/{figure['id']}" and "image_path" not in figure
    png = client.get(figure["url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_pdf_and_page_redirect(client):
    pdf = client.get("/papers/10.1234/wheat.2021.7/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    paper_id = client.get("/papers/10.1234/wheat.2021.7").json()["id"]
    jump = client.get("/papers/10.1234/wheat.2021.7/pdf", params={"page": 1})
    assert jump.status_code == 307 and jump.headers["location"].endswith(f"/papers/{paper_id}/pdf#page=1")
    followed = client.get("/papers/10.1234/wheat.2021.7/pdf", params={"page": 1}, follow_redirects=True)
    assert followed.status_code == 200 and followed.content[:5] == b"%PDF-"
    assert client.get("/papers/10.1234/wheat.2021.7/pdf", params={"page": 99}).status_code == 422
    assert client.get("/papers/10.1234/wheat.2021.7/pdf", params={"page": 0}).status_code == 422


def test_unknown_papers_jobs_and_figures_are_404(client):
    assert client.get("/papers/10.9999/nope").status_code == 404
    assert client.get("/papers/10.9999/nope/pdf").status_code == 404
    assert client.delete("/papers/10.9999/nope").status_code == 404
    assert client.get("/jobs/0123456789abcdef").status_code == 404
    assert client.get("/figures/p0000000000000000-f0").status_code == 404
    for route, body in (("/ask", {"question": VITAMIN_Q, "dois": ["10.9999/nope"]}),
                        ("/summarize", {"dois": ["10.1234/wheat.2021.7", "10.9999/nope"]}),
                        ("/keypoints", {"dois": ["10.9999/nope"]}),
                        ("/review", {"topic": "wheat", "dois": ["10.9999/nope"]})):
        response = client.post(route, json=body)
        assert response.status_code == 404 and "10.9999/nope" in response.json()["detail"], route
        assert "/tmp" not in response.text  # no server paths in messages
    assert client.get("/search", params={"q": "wheat", "doi": "10.9999/nope"}).status_code == 404


TRAVERSALS = [
    "/papers/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/papers/..%2F..%2F..%2F..%2Fetc%2Fpasswd/pdf",
    "/papers/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/papers/%2e%2e%2f%2e%2e%2fcatalogue.sqlite/pdf",
    "/papers/pdfs%2F..%2F..%2Fcatalogue.sqlite/pdf", "/papers/..%5C..%5Cetc%5Cpasswd",
    "/figures/..%2F..%2Fcatalogue.sqlite", "/figures/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/figures/p-f..%2F..%2Fcatalogue.sqlite", "/papers/../../etc/passwd", "/figures/../catalogue.sqlite",
    "/papers/%25", "/papers/p%25/pdf", "/papers/_", "/papers/p", "/jobs/..%2F..%2Fcatalogue.sqlite",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_traversal_or_wildcards(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404, 422), (path, response.status_code)
    assert b"root:" not in response.content and b"SQLite format" not in response.content
    assert response.headers["content-type"].startswith("application/json")


def test_delete_with_a_wildcard_deletes_nothing(client):
    for key in ("%25", "p%25", "_%25", "p"):
        assert client.delete(f"/papers/{key}").status_code == 404
    assert client.get("/papers").json()["total"] == 3


# -- answers --------------------------------------------------------------------------------------
def test_search(client):
    hits = client.get("/search", params={"q": "vitamin E germinated wheat", "k": 3}).json()
    assert 1 <= len(hits) <= 3 and hits[0]["rank"] == 1
    assert {"chunk_id", "paper_id", "doi", "title", "page_start", "page_end", "text", "score", "dense_rank"} <= set(hits[0])
    only = client.get("/search", params={"q": "assembly", "doi": "10.1093/test/ribo1"}).json()
    assert only and {h["doi"] for h in only} == {"10.1093/test/ribo1"}
    assert all(h["year"] == 2023 for h in client.get("/search", params={"q": "切换时延", "years": "2023"}).json())
    for params in ({"q": "wheat", "k": 0}, {"q": "wheat", "k": 101}, {"q": ""}, {"q": "   "}, {}, {"q": "x" * 2001}):
        assert client.get("/search", params=params).status_code == 422, params


def test_answer_slots_are_served_first_come_first_served():
    from assistant.api_deps import FairSlots

    slots, served, threads = FairSlots(1), [], []
    slots.__enter__()  # the one slot is taken
    for n in range(5):
        def wait_turn(n=n):
            with slots:
                served.append(n)
        threads.append(threading.Thread(target=wait_turn))
        threads[-1].start()
        while len(slots._waiters) < n + 1:  # queued in this order
            time.sleep(0.001)
    slots.__exit__(None, None, None)
    for thread in threads:
        thread.join(10)
    assert served == [0, 1, 2, 3, 4]
    with slots:  # and free again afterwards
        assert slots._free == 0
    assert slots._free == 1


def test_ask_json(client):
    answer = client.post("/ask", json={"question": VITAMIN_Q, "k": 5}).json()
    assert set(answer) == {"question", "answer", "abstained", "confidence", "backend", "citations", "evidence",
                           "verification", "closest_papers", "standalone_question"}
    assert not answer["abstained"] and "35 percent" in answer["answer"] and "[1]" in answer["answer"]
    cite = answer["citations"][0]
    assert cite["doi"] == "10.1234/wheat.2021.7" and cite["url"] == "https://doi.org/10.1234/wheat.2021.7"
    assert cite["page"] == 1 and "35 percent" in cite["quote"]
    filtered = client.post("/ask", json={"question": VITAMIN_Q, "dois": ["10.1093/test/ribo1"]}).json()
    assert all(e["doi"] == "10.1093/test/ribo1" for e in filtered["evidence"])


def test_ask_follow_up_reads_the_history_the_client_sends(client):
    first = client.post("/ask", json={"question": VITAMIN_Q}).json()
    turn = {"question": first["question"], "answer": first["answer"], "citations": first["citations"]}
    follow = client.post("/ask", json={"question": "and what about protein digestibility?", "history": [turn]}).json()
    # read together with the previous question (the wheat supplement), without repeating its quotes
    assert "germinated wheat" in follow["standalone_question"]
    assert "48 hours" in follow["answer"] and not follow["abstained"]
    assert not {c["quote"] for c in first["citations"]} & {c["quote"] for c in follow["citations"]}
    alone = client.post("/ask", json={"question": "and what about protein digestibility?"}).json()
    assert alone["standalone_question"] == ""


def test_ask_with_another_backend_fails_loudly_when_it_is_unreachable(client):
    response = client.post("/ask", json={"question": VITAMIN_Q, "backend": "openai"})
    assert response.status_code == 502 and "127.0.0.1" in response.json()["detail"]
    assert client.post("/ask", json={"question": VITAMIN_Q, "backend": "extractive"}).json()["citations"]
    assert client.post("/ask", json={"question": VITAMIN_Q, "backend": "gpt"}).status_code == 422


@pytest.mark.parametrize("body", [
    {"question": ""}, {"question": "   \n "}, {"question": "x" * 2001}, {"question": VITAMIN_Q, "k": 0},
    {"question": VITAMIN_Q, "k": 101}, {"question": VITAMIN_Q, "k": "many"}, {"question": VITAMIN_Q, "years": "soon"},
    {"question": VITAMIN_Q, "dois": "10.1234/wheat.2021.7"}, {"question": VITAMIN_Q, "colour": "blue"}, {},
])
def test_ask_rejects_bad_input(client, body):
    response = client.post("/ask", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_a_question_that_names_nothing_is_400(client):
    for body in ({"question": "????"}, {"question": "What is it?", "stream": True}):
        response = client.post("/ask", json=body)
        assert response.status_code == 400 and "nothing to look for" in response.json()["detail"], response.text
    assert client.get("/search", params={"q": "为什么？"}).status_code == 400


def test_ask_rejects_a_body_that_is_not_json(client):
    response = client.post("/ask", content=b"question=hello", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422


def test_ask_streams_tokens_then_the_answer(client):
    with client.stream("POST", "/ask", json={"question": VITAMIN_Q, "stream": True}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = sse_events(text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"token"} and len(kinds) >= 2
    final = events[-1][1]
    streamed = "".join(data["text"] for kind, data in events if kind == "token")
    assert "35 percent" in streamed and final["citations"] and not final["abstained"]
    assert final["answer"] == client.post("/ask", json={"question": VITAMIN_Q}).json()["answer"]


def test_summarize_keypoints_review(client):
    summary = client.post("/summarize", json={"dois": ["10.1234/wheat.2021.7", "10.1093/test/ribo1"]}).json()
    assert summary["kind"] and summary["sections"] and summary["citations"]
    assert {p["doi"] for p in summary["papers"]} == {"10.1234/wheat.2021.7", "10.1093/test/ribo1"}
    points = client.post("/keypoints", json={"dois": ["10.1234/wheat.2021.7"], "n": 2}).json()
    assert points["sections"] and all(c["doi"] == "10.1234/wheat.2021.7" for c in points["citations"])
    review = client.post("/review", json={"topic": "germinated wheat vitamin", "n": 2}).json()
    assert review["table"] and review["papers"]
    assert client.post("/summarize", json={"dois": []}).status_code == 422
    assert client.post("/summarize", json={"dois": ["x"] * 21}).status_code == 422
    assert client.post("/keypoints", json={"dois": ["10.1234/wheat.2021.7"], "n": 0}).status_code == 422
    assert client.post("/review", json={"topic": "  "}).status_code == 422
    assert client.post("/review", json={"topic": "wheat", "n": 21}).status_code == 422


# -- uploads and jobs -----------------------------------------------------------------------------
def test_upload_that_is_not_a_pdf_is_415(client, tmp_path):
    fake = tmp_path / "notes.pdf"
    fake.write_text("plain text wearing a .pdf name")
    response = upload(client, fake)
    assert response.status_code == 415 and "not a PDF" in response.json()["detail"]
    assert client.post("/papers", json={"files": ["a.pdf"]}).status_code == 415
    only_fields = b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--B--\r\n'
    response = client.post("/papers", content=only_fields, headers={"content-type": "multipart/form-data; boundary=B"})
    assert response.status_code == 422


def test_upload_over_the_limit_is_413(client):
    big = b"%PDF-1.7\n" + b"0" * (2 * 2**20)
    response = client.post("/papers", files={"files": ("big.pdf", big, "application/pdf")})
    assert response.status_code == 413 and "1 MB" in response.json()["detail"]

    def chunked():  # no Content-Length: the server must count the bytes as they arrive
        yield b'--B\r\nContent-Disposition: form-data; name="files"; filename="big.pdf"\r\n\r\n'
        for start in range(0, len(big), 1 << 16):
            yield big[start:start + (1 << 16)]
        yield b"\r\n--B--\r\n"

    response = client.post("/papers", content=chunked(), headers={"content-type": "multipart/form-data; boundary=B"})
    assert response.status_code == 413


def test_upload_runs_a_job_and_the_paper_can_be_found_then_deleted(client, pdfs):
    response = upload(client, pdfs["sorghum"])
    assert response.status_code == 202 and response.json()["status"] in ("queued", "running", "done")
    location = response.headers["location"]
    assert location == f"/jobs/{response.json()['id']}"
    job = wait_for_job(client, location)
    assert job["status"] == "done" and job["progress"] == 1.0 and job["files_done"] == job["files_total"] == 1
    outcome = job["files"][0]
    assert outcome["name"] == "sorghum.pdf" and outcome["status"] == "added" and outcome["doi"] == "10.1234/sorghum.2021"
    assert "path" not in outcome  # the server's upload path stays private
    listed = client.get("/papers", params={"q": "sorghum"}).json()["papers"]
    assert [p["id"] for p in listed] == [outcome["paper_id"]]
    hits = client.get("/search", params={"q": "cultivar Kola grain yield drought"}).json()
    assert hits[0]["doi"] == "10.1234/sorghum.2021"  # the finished job's paper is in the indexes
    removed = client.delete("/papers/10.1234/sorghum.2021").json()
    assert [p["id"] for p in removed] == [outcome["paper_id"]]
    assert client.get("/papers/10.1234/sorghum.2021").status_code == 404
    assert client.get(f"/papers/{outcome['paper_id']}/pdf").status_code == 404
    assert all(h["doi"] != "10.1234/sorghum.2021" for h in client.get("/search", params={"q": "cultivar Kola"}).json())


def test_an_upload_name_cannot_choose_where_the_file_goes(client, server, pdfs):
    library = Path(server.proc.args[server.proc.args.index("--library") + 1])
    response = client.post("/papers", files={"files": ("../../../escaped.pdf", pdfs["wheat"].read_bytes(), "application/pdf")})
    job = wait_for_job(client, response.headers["location"])
    assert job["files"][0]["name"] == "../../../escaped.pdf" and job["files"][0]["status"] == "unchanged"
    assert not list(library.parent.parent.rglob("escaped.pdf"))  # stored inside uploads/, then deleted
    assert not (library / "uploads" / job["id"]).exists()


def test_concurrent_uploads_of_the_same_file_make_one_paper(server, pdfs, tmp_path):
    copy = make_paper(tmp_path / "millet.pdf", title="Heat tolerance of pearl millet landraces", doi="10.1234/millet.2022",
                      sections={"Results": ["Pollen viability of the landrace Tifleaf fell by 40 percent at 42 degrees."]})
    responses: list[httpx.Response] = []

    def send():
        with server.client() as c:
            responses.append(upload(c, copy))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with server.client() as c:
        assert [r.status_code for r in responses] == [202] * 3
        jobs = [wait_for_job(c, r.headers["location"]) for r in responses]
        statuses = sorted(job["files"][0]["status"] for job in jobs)
        assert statuses == ["added", "unchanged", "unchanged"], jobs
        assert len({job["files"][0]["paper_id"] for job in jobs}) == 1
        assert c.get("/papers", params={"doi": "10.1234/millet.2022"}).json()["total"] == 1
        c.delete("/papers/10.1234/millet.2022")


def test_questions_are_answered_while_a_job_ingests(server, tmp_path):
    long_sections = {f"Section {i}": [f"Paragraph {i}.{j}: the barley trial {i} measured yield, protein and "
                                      f"germination over {j + 3} seasons in plots of {i * 7} square metres." * 3
                                      for j in range(8)] for i in range(12)}
    files = [make_paper(tmp_path / f"barley{n}.pdf", title=f"Barley field trial series {n}", doi=f"10.1234/barley.{n}",
                        sections=long_sections, figure=False) for n in range(4)]
    answered_while_running = 0
    with server.client() as c:
        response = upload(c, *files)
        assert response.status_code == 202
        location = response.headers["location"]
        while True:
            before = c.get(location).json()["status"]
            answer = c.post("/ask", json={"question": VITAMIN_Q})
            after = c.get(location).json()["status"]
            assert answer.status_code == 200 and "35 percent" in answer.json()["answer"]
            answered_while_running += before == "running" and after == "running"
            if after in ("done", "failed"):
                break
        job = wait_for_job(c, location)
        assert job["status"] == "done" and [f["status"] for f in job["files"]] == ["added"] * 4
        assert answered_while_running >= 1
        for n in range(4):
            c.delete(f"/papers/10.1234/barley.{n}")


# -- settings that change the server --------------------------------------------------------------
def test_api_keys(pdfs, tmp_path):
    keyed = Server(build_library(tmp_path, {"wheat": pdfs["wheat"]}), tmp_path / "keyed.log",
                   SOUWEN_API__KEYS='["s3cret-one", "s3cret-two"]')
    try:
        with keyed.client() as c:
            assert c.get("/health").status_code == 200
            refused = c.get("/papers")
            assert refused.status_code == 401 and "API key" in refused.json()["detail"]
            assert c.post("/ask", json={"question": VITAMIN_Q}).status_code == 401
            assert c.get("/papers", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert c.get("/papers", headers={"X-API-Key": "s3cret-on"}).status_code == 401
            assert c.get("/papers", headers={"Authorization": "Bearer s3cret-one"}).status_code == 200
            assert c.get("/papers", headers={"X-API-Key": "s3cret-two"}).status_code == 200
            assert c.get("/figures/x", headers={"X-API-Key": "s3cret-two"}).status_code == 404
            assert c.get("/figures/x").status_code == 401
            # the browser UI asks for a key too: its config is refused until a login with one
            assert c.get("/ui/config").status_code == 401
            assert c.post("/ui/login", data={"username": "me", "password": "wrong"}).status_code == 400
            assert c.post("/ui/login", data={"username": "me", "password": "s3cret-two"}).status_code == 200
            assert c.get("/ui/config").status_code == 200
    finally:
        keyed.stop()


def test_library_built_with_other_settings_is_409_with_the_rebuild_hint(pdfs, tmp_path):
    library = build_library(tmp_path, {"wheat": pdfs["wheat"]})  # hashing vectors
    other = Server(library, tmp_path / "other.log", SOUWEN_CHUNKING__TARGET_TOKENS="128")
    try:
        with other.client() as c:
            health = c.get("/health")
            assert health.status_code == 503 and "souwen rebuild" in health.json()["detail"]
            for response in (c.get("/papers"), c.post("/ask", json={"question": VITAMIN_Q}), upload(c, pdfs["ribo"])):
                assert response.status_code == 409 and "souwen rebuild" in response.json()["detail"]
    finally:
        other.stop()


def test_a_failing_language_model_is_502(pdfs, tmp_path):
    closed = free_port()  # nothing listens there
    failing = Server(build_library(tmp_path, {"wheat": pdfs["wheat"]}), tmp_path / "llm.log", SOUWEN_LLM__BACKEND="openai",
                     SOUWEN_LLM__BASE_URL=f"http://127.0.0.1:{closed}/v1", SOUWEN_LLM__RETRIES="0",
                     SOUWEN_LLM__TIMEOUT_S="5")
    try:
        with failing.client() as c:
            for body in ({"question": VITAMIN_Q}, {"question": VITAMIN_Q, "stream": True}):
                response = c.post("/ask", json=body)
                assert response.status_code == 502 and "language model failed" in response.json()["detail"]
                assert "SOUWEN_LLM__BASE_URL" in response.json()["detail"]  # says what to fix
    finally:
        failing.stop()


# -- the real model -------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_minilm_upload_ask_cite_and_open_the_page(pdfs, tmp_path, minilm):
    library = build_library(tmp_path, {"ribo": pdfs["ribo"]}, embedder="minilm")
    real = Server(library, tmp_path / "minilm.log", SOUWEN_EMBEDDER__MODEL="minilm")
    try:
        with real.client() as c:
            assert c.get("/stats").json()["embedder"].startswith("sentence-transformers/all-MiniLM-L6-v2")
            job = wait_for_job(c, upload(c, pdfs["wheat"]).headers["location"])
            assert job["files"][0]["status"] == "added"
            answer = c.post("/ask", json={"question": "By how much did germination raise the vitamin E content of wheat?"}).json()
            assert not answer["abstained"] and "35 percent" in answer["answer"], answer["answer"]
            cite = next(c_ for c_ in answer["citations"] if "35 percent" in c_["quote"])
            assert cite["doi"] == "10.1234/wheat.2021.7" and cite["url"] == "https://doi.org/10.1234/wheat.2021.7"
            jump = c.get(f"/papers/{cite['paper_id']}/pdf", params={"page": cite["page"]})
            assert jump.status_code == 307 and jump.headers["location"].endswith(f"#page={cite['page']}")
            with c.stream("POST", "/ask", json={"question": "How much slower did the strain lacking ten "
                                                "modification enzymes grow?", "stream": True}) as response:
                events = sse_events(response.read().decode())
            assert events[-1][0] == "answer" and "4.7 times slower" in events[-1][1]["answer"]
            zh = c.get("/search", params={"q": "平均切换时延", "k": 3})
            assert zh.status_code == 200  # Chinese query on an English-only library: no error
    finally:
        real.stop()


def test_figure_search_route(client):
    hits = client.get("/figures/search", params={"q": "growth of the test strains", "k": 3}).json()
    assert hits and {"figure_id", "doi", "page", "caption", "score", "url"} <= set(hits[0])
    png = client.get(hits[0]["url"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/figures/search", params={"q": "x", "k": 0}).status_code == 422
    assert client.get("/figures/search", params={"q": "   "}).status_code == 400
    assert "nothing to look for" in client.get("/figures/search", params={"q": "????"}).json()["detail"]
