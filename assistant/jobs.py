"""Background ingest jobs for the API: uploaded PDFs wait in a queue and one worker thread ingests
them, one job at a time, while questions go on being answered.

One worker, not a pool: ingestion is idempotent by the file's sha256 (``Library.add_paper`` checks
it again under its lock), but two runs at once would both parse a file they found new, and each
run takes both cores of a small machine. Serialized, two uploads of the same bytes give one
paper, parsed once: the second job finds it stored and reports it ``unchanged``. Files of a job
are ingested one by one so that ``GET /jobs/{id}`` shows progress; each paper is committed in one
SQLite transaction and the indexes are swapped in after it (``Library.indexes``), so readers never
see half a paper.

Uploads are copied (``store_uploads``) into ``<library>/uploads/<job id>/<n>/<name>``: the job id
is random and the client's file name is reduced to its last part, so no request chooses a path.
They are deleted once ingested (the library keeps its own copy of each PDF). Jobs live in memory
(the most recent ``KEEP``): a restart forgets the jobs, never the papers they stored. The worker
runs at a lower CPU priority, so on a small machine questions go first. No HTTP here:
``assistant.api`` turns requests into ``submit`` calls and jobs into JSON.
"""
from __future__ import annotations

import os
import queue
import re
import shutil
import sys
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from assistant.catalogue import now
from assistant.ingestion import FileOutcome, IngestSummary

KEEP = 1000  # finished jobs remembered for GET /jobs/{id}
UPLOADS = "uploads"  # under the library directory: uploads wait there until their job ingests them


@dataclass
class Job:
    id: str
    folder: Path  # where the uploads of this job are kept until they are ingested
    files: list[tuple[str, Path]]  # (the client's file name, the stored upload)
    status: str = "queued"  # queued | running | done | failed
    outcomes: list[dict] = field(default_factory=list)
    error: str = ""
    created_at: str = field(default_factory=now)
    started_at: str = ""
    finished_at: str = ""

    def to_json(self) -> dict:
        done, total = len(self.outcomes), len(self.files)
        return {"id": self.id, "status": self.status, "files_done": done, "files_total": total,
                "progress": round(done / total, 4) if total else 1.0, "files": list(self.outcomes),
                "error": self.error, "created_at": self.created_at, "started_at": self.started_at,
                "finished_at": self.finished_at}


def outcome_json(name: str, outcome: FileOutcome) -> dict:
    """A file's outcome under the name the client gave it (the server's upload path stays private)."""
    data = asdict(outcome)
    data.pop("path")
    data["warnings"] = list(data["warnings"])
    return {"name": name, **data}


class IngestJobs:
    """A queue of ingest jobs and the one thread that runs them."""

    def __init__(self, ingest: Callable[[Path], IngestSummary], keep: int = KEEP):
        self._ingest = ingest
        self._keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="souwen-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the running job (papers are committed one by one, so an abandoned job loses at
        most the paper in flight) and stop; queued jobs are dropped."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, folder: Path, files: list[tuple[str, Path]]) -> Job:
        job = Job(id=folder.name, folder=folder, files=files)
        with self._lock:
            self._jobs[job.id] = job
            finished = [j.id for j in self._jobs.values() if j.status in ("done", "failed")]
            for old in finished[: max(0, len(self._jobs) - self._keep)]:
                del self._jobs[old]
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        with self._lock:
            statuses = [j.status for j in self._jobs.values()]
        return {s: statuses.count(s) for s in ("queued", "running", "done", "failed")}

    def _work(self) -> None:
        lower_priority()
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._run(job)

    def _run(self, job: Job) -> None:
        job.status, job.started_at = "running", now()
        status, error = "done", ""
        try:
            for name, path in job.files:
                summary = self._ingest(path)
                outcome = summary.outcomes[0] if summary.outcomes else FileOutcome(str(path), "failed", "nothing ingested")
                job.outcomes.append(outcome_json(name, outcome))
                path.unlink(missing_ok=True)
        except Exception as exc:  # noqa: BLE001 - the job reports it; the worker must live on
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            shutil.rmtree(job.folder, ignore_errors=True)
            job.finished_at, job.error = now(), error
            # Last: a client that sees the job finished finds its uploads gone too (a CI run caught
            # the folder still there right after "done").
            job.status = status


def lower_priority(niceness: int = 10) -> None:
    """Make the calling thread (and the parser processes it forks) yield the CPU to questions.

    Measured on 2 cores (eval/bench_load.py --seconds 20 --think 1, 50 clients, while the corpus's
    largest PDF is ingested): 88 questions answered during the job at normal priority (p50 5.4 s),
    249 and 259 at nice 10 (p50 1.2 and 1.7 s); the job took 13-14 s instead of 8 s.
    Linux keeps a nice value per thread, so this leaves the request threads alone; elsewhere the
    call would renice the whole process (or another one), so it is skipped.
    """
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        except OSError:
            pass


def store_uploads(uploads: Sequence[tuple[str | None, BinaryIO]], root: Path) -> tuple[Path, list[tuple[str, Path]]]:
    """Copy uploaded files (client name, stream) into a fresh folder under `root`, named by a random
    job id; return the folder and (client name, stored path) per file."""
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True)
    files = []
    for number, (name, stream) in enumerate(uploads):
        target = folder / str(number) / safe_name(name)  # a folder each: names may repeat
        target.parent.mkdir()
        with open(target, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        files.append((name or target.name, target))
    return folder, files


def safe_name(filename: str | None) -> str:
    """The last part of a client's file name, with only word characters, dots, dashes and spaces
    (the ingest summary and source_path show it; the folder above it is ours)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")[:120]
    return name or "upload.pdf"
