"""The HTTP API: one FastAPI app over the same service object the CLI uses (OpenAPI at /docs).

Routes (bodies and answers follow the CLI's ``--json`` schema; models in ``assistant.api_models``):

- ``POST /ask``: a cited answer. With ``"stream": true``, server-sent events: ``event: token``
  (data ``{"text": piece}``) while the answer is written, then one ``event: answer`` (data: the
  answer JSON), or ``event: error`` (data ``{"status", "detail"}``) if the model fails mid-answer.
- ``POST /summarize``, ``POST /keypoints``, ``POST /review``: reports with citations.
- ``GET /papers`` (paged by offset/limit; filters ``year``, ``doi``, ``q`` in the title),
  ``GET``/``DELETE /papers/{key}``, ``GET /papers/{key}/pdf[?page=N]``, ``POST /papers`` (multipart
  upload, field ``files``; 202 and a job), ``GET /jobs/{id}``.
- ``GET /search`` (passages only), ``GET /figures/{id}`` (PNG), ``GET /health``, ``GET /stats``.

Decisions:

- ``{key}`` is a paper id, a DOI or a sha256. DOIs contain slashes, so the routes take the rest of
  the path: ``/papers/10.1093/nar/gkae222`` (or with ``%2F``); a DOI ending in ``/pdf`` must be
  given by its id. A key must match literally (an id prefix of 8+ characters), so SQL wildcards in
  a key never select a paper.
- ``?page=N`` on the PDF answers 307 to the PDF's URL + ``#page=N``: a browser's PDF viewer opens
  that page, which a server cannot do by itself. Without ``page``: the file, inline.
- Uploads are sniffed (``%PDF-`` in the first 1024 bytes; the name does not count: 415), the body
  is cut off as soon as it passes ``api.max_upload_mb`` (413; never spooled whole), stored under
  ``DIR/uploads/<job>/`` and ingested by one worker thread (``assistant.jobs``).
- Files are served only from paths stored in the catalogue, checked to lie inside the library;
  no path is ever built from a request.
- Errors: 400 input the service refuses; 401 missing or wrong key; 404 unknown paper, job or figure;
  409 the library was built with other settings (the message says how to rebuild); 413; 415; 422
  validation; 502 the language model failed.
- Threads: sync routes run in Starlette's thread pool while a job ingests (at a lower CPU
  priority). The catalogue gives each thread its own SQLite connection; ``Library.indexes`` lets
  readers keep the previous indexes while a paper is stored or the new indexes are built, then
  swaps them in one assignment. Answers and searches take one of ``SLOTS`` turns (see there).
- API keys (``api.keys``): when set, every route but /health needs one (Bearer or X-API-Key).
  /docs and /openapi.json stay open: they describe the API, not the library.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assistant.answer_commands import answer_json, report_json
from assistant import api_accounts, api_disciplines, api_insights, api_records, api_topics
from assistant.api_deps import (FairSlots, find_paper, get_search_slot, get_service, get_slot, make_filters, read_upload_form,
                                require_key, stored_file)
from assistant.api_models import (MAX_K, AnswerOut, AskRequest, FigureHitOut, HealthOut, HitOut, JobOut, KeypointsRequest,
                                  PaperDetailOut, PaperOut, PaperPage, ReportOut, ReviewRequest, SummarizeRequest,
                                  TurnIn)
from assistant.answering import MAX_QUESTION_CHARS
from assistant.commands import hit_json, paper_json
from assistant.jobs import UPLOADS, IngestJobs, store_uploads
from assistant.library import LibraryMismatchError
from assistant.protocols import LLMError
from assistant.retrieval import Filters, parse_years
from assistant.service import Souwen
from assistant.settings import Settings
from assistant.types import Answer, Citation, Conflict, NotFound

MAX_UPLOAD_FILES = 20
# Answers and searches run this many at a time; other requests for them wait in their threads,
# and the light routes (papers, jobs, health) are never queued behind them. Retrieval and sentence
# scoring are mostly Python, so threads only fight for the GIL: on 2 cores, 50 clients, warm
# (eval/bench_load.py --warm-up --no-upload), unlimited served 60 questions/s, 4 at a time 71/s,
# 2 at a time 75/s.
SLOTS = max(2, os.cpu_count() or 2)
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}
SSE_DOC = {200: {"description": "The answer; with stream=true, server-sent events (token..., answer)",
                 "content": {"text/event-stream": {"schema": {"type": "string"}}}}}


def create_api(settings: Settings, service: Souwen | None = None) -> FastAPI:
    """The API app. The service (given, or built from `settings`) is opened and its models loaded
    in the lifespan, so the first request is as fast as the others; importing does no work."""
    settings = service.settings if service is not None else settings

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        souwen = service or Souwen(settings)
        app.state.service = souwen
        app.state.startup_error = await run_in_threadpool(warm_up, souwen)
        uploads = Path(settings.library) / UPLOADS
        shutil.rmtree(uploads, ignore_errors=True)  # what a killed server left behind
        # Parse in a worker process even if settings say 0: MuPDF holds the GIL and is not thread-safe.
        workers = max(1, settings.ingest.workers)
        app.state.jobs = IngestJobs(lambda path: souwen.ingest([path], workers=workers))
        app.state.jobs.start()
        try:
            yield
        finally:
            app.state.jobs.stop()
            if service is None:
                souwen.close()

    app = FastAPI(title="Souwen", summary="Search and question open-access papers offline; every "
                  "sentence cited.", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.slots = FairSlots(SLOTS)
    for error, status in ((NotFound, 404), (Conflict, 409), (LibraryMismatchError, 409), (LLMError, 502),
                          (ValueError, 400)):
        app.add_exception_handler(error, _error_handler(status))
    app.add_api_route("/health", health, methods=["GET"], response_model=HealthOut, tags=["service"])
    # api_disciplines first: its /papers/{key}/disciplines must be tried before /papers/{key:path}
    for routes in (api_disciplines.router, router, api_topics.router, api_accounts.router, api_insights.router,
                   api_records.router):
        app.include_router(routes, dependencies=[Depends(require_key)])
    return app


def warm_up(service: Souwen) -> str:
    """Open the library, load every model (embedder, indexes, abstention, jieba, CC-CEDICT) and embed
    passage sentences for up to ``api.warm_seconds`` now, not in the first requests; return the
    reason the library cannot be opened, or ''.

    The sentence vectors of the answer scorer come first, then, with the time left, the
    full-precision ones that re-score near-ties (``answer.sentence_vectors = "rescore"``): cold, those
    cost ~5 ms a sentence, and eval/bench_load.py's p99 rose from 538 ms to 0.85-1.9 s. Both are
    kept in ``DIR/cache/`` for the next start."""
    try:
        service.library.indexes(wait=True)
        for question in ("warm-up question about the library", "预热：图书馆里的问题"):
            service.answerer.gather(question)  # retrieval + sentence scoring, no LLM call
        deadline = time.monotonic() + service.settings.api.warm_seconds
        caches = [(service.answerer.sentence_embedder, service.answerer.cache)]
        if service.answerer.rescorer is not None:
            caches.append(service.answerer.rescorer)  # (full-precision embedder, its cache)
        for embedder, cache in caches:
            saved = sentence_vectors_path(service.library, embedder)
            cache.load(saved)
            cache.prime(_chunks_learning_abbreviations(service), embedder, max(0.0, deadline - time.monotonic()))
            cache.save(saved)
    except LibraryMismatchError as exc:
        return str(exc)
    return ""


def sentence_vectors_path(library, embedder) -> Path:
    """Where warm-up keeps the passages' sentence vectors between runs: named after the library's
    fingerprint (chunking, parser) and the sentence `embedder`, so vectors of other settings are
    never read. v2: int8 sentence vectors embedded one at a time (``embeddings.sentence.INT8_BATCH_SIZE``);
    v3: full-precision ones too (``SentenceTransformerEmbedder.full_precision``)."""
    key = {**library.fingerprint, "sentences": embedder.id, "version": 3}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return library.root / "cache" / f"sentence-vectors-{digest}.npz"


def _chunks_learning_abbreviations(service: Souwen):
    """Every paper's chunks, in turn; each paper's abbreviations are learnt from them on the way."""
    catalogue = service.library.catalogue
    for paper in catalogue.papers():
        chunks = catalogue.paper_chunks(paper.id)
        service.library.abbreviations.learn(paper.id, [c.text for c in chunks])
        yield from chunks


def _error_handler(status: int):
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        detail = f"language model failed: {exc}" if isinstance(exc, LLMError) else str(exc)
        return JSONResponse({"detail": detail}, status_code=status)

    return handle


# -- dependencies ----------------------------------------------------------------------------
# -- routes ----------------------------------------------------------------------------------
router = APIRouter()


async def health(request: Request):
    error = request.app.state.startup_error
    if error:
        return JSONResponse({"status": "error", "detail": error}, status_code=503)
    return {"status": "ok"}


@router.post("/ask", response_model=AnswerOut, responses=SSE_DOC, tags=["answers"])
def ask(body: AskRequest, request: Request, service: Souwen = Depends(get_service), slot=Depends(get_slot)):
    filters = make_filters(service, body.dois, body.years, body.discipline)
    if body.backend not in (None, "extractive"):
        slot = nullcontext()  # see get_slot: a model's answer is mostly waiting
    elif body.backend == "extractive":
        slot = request.app.state.slots
    options = {"k": body.k, "filters": filters, "history": past_answers(body.history), "backend": body.backend}
    if not body.stream:
        with slot:
            return answer_json(service.ask(body.question, **options))
    pieces = service.ask_stream(body.question, **options)
    with slot:  # retrieval, scoring and the model's first piece; their errors still get a 4xx/5xx
        first = next(pieces)
    return StreamingResponse(_events(first, pieces), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def past_answers(turns: list[TurnIn]) -> list[Answer]:
    """A client's conversation so far as the answers the answerer reads (question, text, quotes)."""
    return [Answer(question=t.question, text=t.answer, abstained=False, evidence=(), backend="client",
                   citations=tuple(Citation(n=i, doi="", title="", page=0, quote=c.quote, chunk_id="", paper_id="")
                                   for i, c in enumerate(t.citations, 1) if c.quote))
            for t in turns]


def _events(first: str | Answer, rest: Iterator[str | Answer]) -> Iterator[str]:
    try:
        for piece in itertools.chain([first], rest):
            if isinstance(piece, Answer):
                yield _sse("answer", answer_json(piece))
            else:
                yield _sse("token", {"text": piece})
    except LLMError as exc:  # the 200 is sent already: the failure becomes the last event
        yield _sse("error", {"status": 502, "detail": f"language model failed: {exc}"})


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/summarize", response_model=ReportOut, tags=["answers"])
def summarize(body: SummarizeRequest, service: Souwen = Depends(get_service), slot=Depends(get_slot)):
    ids = [find_paper(service, key).id for key in body.dois]
    with slot:
        return report_json(service.summarize(ids))


@router.post("/keypoints", response_model=ReportOut, tags=["answers"])
def keypoints(body: KeypointsRequest, service: Souwen = Depends(get_service), slot=Depends(get_slot)):
    ids = [find_paper(service, key).id for key in body.dois]
    with slot:
        return report_json(service.keypoints(ids, n=body.n))


@router.post("/review", response_model=ReportOut, tags=["answers"])
def review(body: ReviewRequest, service: Souwen = Depends(get_service), slot=Depends(get_slot)):
    filters = make_filters(service, body.dois, body.years, body.discipline)
    with slot:
        return report_json(service.review(body.topic, n=body.n, filters=filters))


@router.get("/search", response_model=list[HitOut], tags=["answers"])
def search(q: str = Query(..., min_length=1, max_length=MAX_QUESTION_CHARS, description="the question or keywords"),
           k: int | None = Query(None, ge=1, le=MAX_K, description="passages (default 10)"),
           doi: list[str] = Query([], description="only these papers (DOIs or ids; repeatable)"),
           years: str | None = Query(None, max_length=20, description="e.g. 2020-2024"),
           discipline: list[str] = Query([], description="only papers in these 学科 (07, 0710 or 071010; repeatable)"),
           service: Souwen = Depends(get_service), slot=Depends(get_search_slot)):
    if not q.strip():
        raise HTTPException(422, "the query is empty")
    filters = make_filters(service, doi, years, discipline)
    with slot:
        hits = service.search(q, k=k, filters=filters)
    return [hit_json(rank, hit) for rank, hit in enumerate(hits, 1)]


@router.get("/papers", response_model=PaperPage, tags=["papers"])
def list_papers(offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500),
                year: str | None = Query(None, max_length=20, description="e.g. 2020-2024 or 2021"),
                doi: list[str] = Query([], description="only these DOIs (repeatable)"),
                q: str | None = Query(None, max_length=200, description="words in the title"),
                discipline: list[str] = Query([], description="only papers in these 学科 (07, 0710 or 071010; repeatable)"),
                service: Souwen = Depends(get_service)):
    from assistant.disciplines import check_codes

    first, last = parse_years(year)
    papers = service.papers(Filters(dois=tuple(doi), year_from=first, year_to=last,
                                    disciplines=check_codes(discipline)))
    if q and q.strip():
        needle = q.strip().lower()
        papers = [p for p in papers if needle in p.title.lower() or needle in p.title_alt.lower()]
    return {"total": len(papers), "offset": offset, "limit": limit,
            "papers": [paper_json(p) for p in papers[offset:offset + limit]]}


@router.post("/papers", status_code=202, response_model=JobOut, openapi_extra=UPLOAD_BODY, tags=["papers"])
async def upload_papers(request: Request, response: Response):
    settings: Settings = request.app.state.settings
    if request.app.state.startup_error:  # the job could only fail
        raise LibraryMismatchError(request.app.state.startup_error)
    form = await read_upload_form(request, files=MAX_UPLOAD_FILES, what="the PDFs, in the field 'files',")
    try:
        uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if not uploads:
            raise HTTPException(422, "no file in the form: send the PDFs in the field 'files'")
        for upload in uploads:
            head = await upload.read(1024)
            await upload.seek(0)
            if b"%PDF-" not in head:  # what the parser checks too; the file name proves nothing
                raise HTTPException(415, f"{upload.filename!r} is not a PDF (no %PDF- header)")
        folder, files = await run_in_threadpool(store_uploads, [(u.filename, u.file) for u in uploads],
                                                Path(settings.library) / UPLOADS)
    finally:
        await form.close()
    job = request.app.state.jobs.submit(folder, files)
    response.headers["Location"] = request.url_for("get_job", job_id=job.id).path
    return job.to_json()


@router.get("/jobs/{job_id}", response_model=JobOut, name="get_job", tags=["papers"])
def get_job(job_id: str, request: Request):
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r} (jobs are kept in memory until the server restarts)")
    return job.to_json()


@router.get("/papers/{key:path}/pdf", name="paper_pdf", tags=["papers"],
            responses={200: {"content": {"application/pdf": {}}}, 307: {"description": "to the PDF + #page=N"}})
def paper_pdf(key: str, request: Request, page: int | None = Query(None, ge=1, description="open at this page"),
              service: Souwen = Depends(get_service)):
    paper = find_paper(service, key)
    if paper.source == "record":  # a metadata record (assistant.records): the PDF lives elsewhere, if anywhere
        where = f"its open-access full text: {paper.oa_url}" if paper.oa_url else "the record gives no OA URL"
        raise HTTPException(404, f"{paper.id} is a metadata record without a PDF in the library; {where}")
    row = service.library.catalogue.paper_row(paper.id)
    path = stored_file(service.library.root, row["pdf_path"] if row else "", "pdfs")
    if path is None:
        raise HTTPException(404, f"no PDF was kept for {paper.id} (ingested with ingest.keep_pdf off)")
    if page is not None:
        if page > paper.pages:
            raise HTTPException(422, f"page {page} is past the paper's last page ({paper.pages})")
        return RedirectResponse(f"{request.url_for('paper_pdf', key=paper.id)}#page={page}", status_code=307)
    return FileResponse(path, media_type="application/pdf", filename=f"{paper.id}.pdf", content_disposition_type="inline")


@router.get("/papers/{key:path}", response_model=PaperDetailOut, tags=["papers"])
def show_paper(key: str, request: Request, service: Souwen = Depends(get_service)):
    shown = service.show(find_paper(service, key).id)
    paper = shown["paper"]
    figures = [{**{k: f[k] for k in ("id", "page", "kind", "label", "caption", "width", "height")},
                "url": request.url_for("figure", figure_id=f["id"]).path} for f in shown["figures"]]
    return {**paper_json(paper), "figures": figures, "sections": shown["sections"],
            "references": shown["references"], "warnings": shown["warnings"],
            "pdf_url": request.url_for("paper_pdf", key=paper.id).path if shown["pdf_path"] else ""}


@router.delete("/papers/{key:path}", response_model=list[PaperOut], tags=["papers"])
def delete_paper(key: str, service: Souwen = Depends(get_service)):
    return [paper_json(p) for p in service.remove([find_paper(service, key).id])]


@router.get("/figures/search", response_model=list[FigureHitOut], tags=["figures"])
def figure_search(request: Request, q: str = Query(..., min_length=1, max_length=500),
                  k: int = Query(10, ge=1, le=100), service: Souwen = Depends(get_service)):
    """Figures ranked by caption, mentions and paper keywords (图片检索); `url` serves the PNG."""
    return [{"rank": i, "figure_id": h.figure_id, "paper_id": h.paper.id, "doi": h.paper.doi, "title": h.paper.title,
             "page": h.page, "label": h.label, "caption": h.caption, "score": h.score,
             "url": request.url_for("figure", figure_id=h.figure_id).path}
            for i, h in enumerate(service.figures(q.strip() or q, k), start=1)]


@router.get("/figures/{figure_id}", name="figure", tags=["papers"],
            responses={200: {"content": {"image/png": {}}}})
def figure(figure_id: str, service: Souwen = Depends(get_service)):
    paper_id, _, _ = figure_id.rpartition("-f")  # ids are "<paper id>-f<n>"; looked up, never a path
    rows = service.library.catalogue.figures(paper_id) if paper_id else []
    row = next((r for r in rows if r["id"] == figure_id), None)
    path = stored_file(service.library.root, row["image_path"], "figures") if row else None
    if path is None:
        raise HTTPException(404, f"no figure {figure_id!r}")
    return FileResponse(path, media_type="image/png")


@router.get("/stats", tags=["service"])
def stats(request: Request, service: Souwen = Depends(get_service)) -> dict:
    return {**service.info(), "jobs": request.app.state.jobs.counts()}
