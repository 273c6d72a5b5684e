"""Routes for OA metadata records (assistant.records): ``POST /records`` stores the records of an
uploaded JSONL or CSV file and answers with the summary (per-line outcomes with reasons).

Decisions:

- Multipart upload, field ``file`` (``files`` is accepted too, like ``POST /papers``); the body is
  cut off as soon as it passes ``api.max_upload_mb`` (413, never spooled whole) and stored under
  ``DIR/uploads/<random>/`` by ``assistant.jobs.store_uploads`` (no client name becomes a path).
- Content is sniffed: a file with NUL bytes or a PDF header is not a records file (415).
- It runs synchronously (in the thread pool) and returns the summary: up to ``MAX_SYNC_RECORDS``
  lines, which with MiniLM take seconds, not minutes (eval/bench_records.py). A bigger file gets
  413 with the CLI command that streams it (``souwen records add``), rather than a job: the ingest
  job queue (``assistant.jobs``) reports one outcome per file, a records file has one per line.
- Enrichment has no route: it calls other servers for minutes, which a CLI run does better.
- A record has no PDF: ``GET /papers/{key}/pdf`` answers 404 with the record's OA URL (assistant.api).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assistant.api_deps import read_upload_form
from assistant.jobs import UPLOADS, store_uploads
from assistant.library import LibraryMismatchError

router = APIRouter(tags=["records"])

MAX_SYNC_RECORDS = 5000
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


class RecordOutcomeOut(BaseModel):
    name: str  # the file name the client gave
    line: int
    status: Literal["added", "replaced", "unchanged", "skipped", "failed"]
    reason: str
    paper_id: str
    doi: str
    title: str
    chunks: int


class RecordSummaryOut(BaseModel):
    seconds: float
    counts: dict[str, int]
    records: list[RecordOutcomeOut]


def _too_large(what: str) -> HTTPException:
    return HTTPException(413, f"{what}; add big files with the CLI, which streams them: "
                              "`souwen records add FILE --library DIR`")


@router.post("/records", response_model=RecordSummaryOut, openapi_extra=UPLOAD_BODY)
async def upload_records(request: Request, format: Literal["jsonl", "csv"] | None = Query(
        None, description="file format (default: from the file name or content)")):
    """Store the metadata records of a JSONL or CSV file; the summary lists each line's outcome."""
    settings = request.app.state.settings
    if request.app.state.startup_error:
        raise LibraryMismatchError(request.app.state.startup_error)
    try:
        form = await read_upload_form(request, files=2, what="the records file, in the field 'file',")
    except HTTPException as exc:
        if exc.status_code == 413:  # the CLI streams files of any size
            raise _too_large(str(exc.detail)) from exc
        raise
    try:
        uploads = [v for k, v in form.multi_items() if k in ("file", "files") and isinstance(v, UploadFile)]
        if len(uploads) != 1:
            raise HTTPException(422, "send exactly one records file in the field 'file'")
        upload = uploads[0]
        head = await upload.read(4096)
        await upload.seek(0)
        if b"\x00" in head or head.lstrip().startswith(b"%PDF-"):
            raise HTTPException(415, f"{upload.filename!r} is not a JSONL or CSV records file (PDFs go to POST /papers)")
        root = Path(settings.library) / UPLOADS
        folder, files = await run_in_threadpool(store_uploads, [(upload.filename or "records.jsonl", upload.file)], root)
    finally:
        await form.close()
    name, path = files[0]
    try:
        lines = await run_in_threadpool(_count_lines, path)
        if lines > MAX_SYNC_RECORDS:
            raise _too_large(f"{lines} lines is over the {MAX_SYNC_RECORDS} records POST /records stores at once")
        service = request.app.state.service
        summary = await run_in_threadpool(lambda: service.ingest_records([path], fmt=format))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    data = summary.to_json()
    for outcome in data["records"]:
        outcome["name"] = name  # the server's upload path stays private
        outcome.pop("path")
    return data


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
