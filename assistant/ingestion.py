"""The ingest run: files -> (parallel) parse, chunk, tokenize -> embed -> one catalogue transaction each.

Worker processes (``--workers N``; MuPDF releases no GIL and a malformed file can crash it, so
processes, not threads) parse, chunk and tokenize files ahead of the main process, which embeds and
stores them meanwhile. The embedder runs one single-threaded stream per core that the parsers leave
free (``embeddings.streams``), so parsing and embedding share the cores without waiting for each
other; once the parsers are done or far enough ahead, every core embeds. Every file ends as one ``FileOutcome``:
added, replaced (new version of a stored DOI), unchanged (same bytes already stored: the file is
hashed, never parsed), skipped, or failed with a readable reason — one bad file never stops the run
and never shows a traceback. The indexes are rebuilt and saved once at the end (a run killed before
that leaves them stale, and the next open rebuilds them from the catalogue).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from assistant.lexical import tokenize
from assistant.library import Library, paper_id_for
from assistant.progress import IngestProgress
from assistant.protocols import Embedder
from assistant.settings import ChunkSettings, IngestSettings
from assistant.types import BadPdfError, Chunk, ParsedPaper
from ingest.chunking import chunk_paper


@dataclass(frozen=True)
class FileOutcome:
    path: str
    status: str  # added | replaced | unchanged | skipped | failed
    reason: str = ""
    paper_id: str = ""
    doi: str = ""
    title: str = ""
    pages: int = 0
    chunks: int = 0
    figures: int = 0
    warnings: tuple[str, ...] = ()


@dataclass
class IngestSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def collect_files(paths: Iterable[Path], recursive: bool) -> tuple[list[Path], list[FileOutcome]]:
    """PDF files named by `paths` (folders: their *.pdf files), plus outcomes for paths that fail."""
    files: list[Path] = []
    problems: list[FileOutcome] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            pattern = path.rglob("*") if recursive else path.iterdir()
            files.extend(sorted(p for p in pattern if p.is_file() and p.suffix.lower() == ".pdf"))
        elif path.is_file():
            files.append(path)  # named explicitly: try it whatever its name; sniffing decides
        else:
            problems.append(FileOutcome(str(path), "failed", "no such file or directory"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse(path: Path, settings: IngestSettings) -> ParsedPaper:
    from ingest.parse import parse_pdf  # imported in the worker: PyMuPDF stays out of the CLI's import

    return parse_pdf(path, ocr=settings.ocr, figures=settings.figures, max_pages=settings.max_pages,
                     tables=settings.tables)


def _parse_safely(path: Path, settings: IngestSettings) -> ParsedPaper | str:
    """Parse, turning every failure into a one-line reason (the worker never raises)."""
    try:
        return _parse(path, settings)
    except BadPdfError as exc:
        return exc.reason
    except MemoryError:
        return "the file needs more memory than is available to parse"
    except Exception as exc:  # noqa: BLE001 - a third-party parser can raise anything on odd input
        return f"could not be parsed ({type(exc).__name__}: {str(exc)[:200]})"


@dataclass(frozen=True)
class _Job:
    """What a worker needs to turn a file into a paper ready to embed (pickled to the worker; the
    embedder travels as its configuration and loads only its tokenizer there)."""

    settings: IngestSettings
    chunking: ChunkSettings
    embedder: Embedder
    max_tokens: int


def _prepare_file(path: Path, job: _Job) -> _Prepared | FileOutcome:
    """Parse, chunk and tokenize one file: all of the per-paper work but embedding and storing,
    done in the worker so that it runs on every core while the main process waits."""
    parsed = _parse_safely(path, job.settings)
    if isinstance(parsed, str):
        return FileOutcome(str(path), "failed", parsed)
    chunking = job.chunking
    chunks = chunk_paper(parsed, paper_id_for(parsed.sha256), job.embedder.count_tokens, max_tokens=job.max_tokens,
                         target_tokens=chunking.target_tokens, overlap_tokens=chunking.overlap_tokens)
    if not chunks:
        return FileOutcome(str(path), "failed", "no text could be extracted", warnings=parsed.warnings)
    return _Prepared(parsed, path, chunks, [tokenize(f"{c.section} {c.text}") for c in chunks])


def _prepare_alone(path: Path, job: _Job) -> _Prepared | FileOutcome:
    """Prepare one file in a worker of its own: a crash there is this file's."""
    with _new_pool(1, job) as solo:
        try:
            return solo.submit(_prepare_in_worker, path).result()
        except BrokenProcessPool:
            return FileOutcome(str(path), "failed", "the parser crashed on this file")


def _succeeded(future: Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


def _new_pool(workers: int, job: _Job) -> ProcessPoolExecutor:
    """Parser processes that hold `job` from their start (forked where the platform forks: they
    inherit the tokenizers and jieba's dictionary that `_warm` loaded, instead of loading them)."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(os.getpid(), job))


_WORKER_JOB: _Job | None = None  # set in each worker by _start_worker


def _start_worker(parent: int, job: _Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    _die_with_parent(parent)


def _prepare_in_worker(path: Path) -> _Prepared | FileOutcome:
    """A task sends only its path: a pickled job would carry the embedder's configuration and make
    every task load the tokenizer again (25 ms of CPU a file)."""
    assert _WORKER_JOB is not None, "worker started without its job"
    return _prepare_file(path, _WORKER_JOB)


def _warm(job: _Job) -> None:
    """Load what every worker needs (the counting tokenizer, jieba's dictionary: ~0.8 s of CPU)
    once, before the workers fork, rather than once per worker and again here for the indexes."""
    job.embedder.count_tokens(["warm"])
    tokenize("预热 warm")


def _die_with_parent(parent: int) -> None:
    """Worker start-up: end with the ingest process. A worker waits on its task queue, whose other end
    it inherited too, so a SIGKILLed `souwen ingest` left its workers waiting forever (seen after the
    crash tests: orphans of 145 MB each). Linux kills the worker with its parent (PR_SET_PDEATHSIG);
    elsewhere a thread watches for the parent to go."""
    try:
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL) == 0:  # 1: PR_SET_PDEATHSIG
            if os.getppid() != parent:  # it died before the call
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="souwen-parent-watch", daemon=True).start()


# Files a worker may have parsed ahead of the embedder: each holds its chunks and figure PNGs in
# memory until it is stored.
AHEAD_FILES = 8


class _Parsers:
    """Files prepared by `workers` processes while the main process embeds and stores those before.

    Iterating yields (file, paper ready to embed or its outcome) in input order. Up to AHEAD_FILES
    files a worker are submitted ahead of the one being consumed; `busy()` tells the embedder how
    many parsers are at work now, so that it leaves them their cores and takes them back as soon as
    parsing is done or has run far enough ahead (``SentenceTransformerEmbedder.sharing_cores``).
    """

    def __init__(self, files: list[Path], job: _Job, workers: int):
        self.job, self.workers = job, workers
        self.queue = iter(files)
        self.window: deque[tuple[Path, Future]] = deque()
        self.pool: ProcessPoolExecutor | None = None

    def busy(self) -> int:
        return min(self.workers, sum(not future.done() for _, future in list(self.window)))

    def next_ready(self) -> bool:
        """Is the next file prepared already (or are there none)? If not, embed what is pending."""
        return not self.window or self.window[0][1].done()

    def __iter__(self) -> Iterator[tuple[Path, _Prepared | FileOutcome]]:
        if self.workers <= 0:
            for path in self.queue:
                yield path, _prepare_file(path, self.job)
            return
        _warm(self.job)
        self.pool = _new_pool(self.workers, self.job)
        try:
            self._top_up()
            while self.window:
                path, future = self.window.popleft()
                try:
                    result = future.result()
                except BrokenProcessPool:
                    result = self._recover(path)
                self._top_up()
                yield path, result
        finally:
            self.pool.shutdown(cancel_futures=True)

    def _top_up(self) -> None:
        assert self.pool is not None
        while len(self.window) < AHEAD_FILES * self.workers and (path := next(self.queue, None)) is not None:
            self.window.append((path, self.pool.submit(_prepare_in_worker, path)))

    def _recover(self, path: Path) -> _Prepared | FileOutcome:
        """A worker died (e.g. MuPDF crashed on a file) and took every unfinished file with it; which
        one did it is unknown. This one is retried alone, the others in a new pool (a crasher among
        them comes back here in its turn)."""
        assert self.pool is not None
        self.pool.shutdown(cancel_futures=True)
        result = _prepare_alone(path, self.job)
        self.pool = _new_pool(self.workers, self.job)
        self.window = deque((p, f if _succeeded(f) else self.pool.submit(_prepare_in_worker, p)) for p, f in self.window)
        return result


def ingest_files(
    library: Library,
    embedder: Embedder,
    paths: Iterable[Path],
    ingest: IngestSettings,
    chunking: ChunkSettings,
    *,
    recursive: bool = False,
    show_progress: bool = False,
) -> IngestSummary:
    """Ingest every PDF under `paths` into `library`; never raises for a bad file."""
    started = time.perf_counter()
    summary = IngestSummary()
    files, problems = collect_files(paths, recursive)
    summary.outcomes.extend(problems)
    library.collect_garbage()
    todo: list[Path] = []
    for path in files:
        outcome = _precheck(library, path, ingest)
        if outcome is None:
            todo.append(path)
        else:
            summary.outcomes.append(outcome)
    max_tokens = chunking.max_tokens or embedder.max_tokens
    pending: list[_Prepared] = []

    def flush() -> None:
        # Embed the buffered papers' chunks in one length-sorted call (fewer, fuller batches than
        # one call per paper), then store each paper in its own transaction.
        texts = [c.text for item in pending for c in item.chunks]
        vectors = embedder.embed_documents(texts, progress=progress.chunks_embedded)
        start = 0
        for item in pending:
            end = start + len(item.chunks)
            outcome = _store(library, item, vectors[start:end], ingest)
            start = end
            _record(library, summary, outcome, progress)
        pending.clear()

    parsers = _Parsers(todo, _Job(ingest, chunking, embedder, max_tokens), ingest.workers)
    sharing = getattr(embedder, "sharing_cores", None)  # an optional capability of the embedder
    with IngestProgress(len(todo), enabled=show_progress) as progress, \
            (sharing(parsers.busy) if sharing else contextlib.nullcontext()):
        for path, prepared in parsers:
            if isinstance(prepared, FileOutcome):
                _record(library, summary, prepared, progress)
            else:
                progress.pages_parsed(prepared.parsed.page_count)
                progress.add_chunks(len(prepared.chunks))
                pending.append(prepared)
            # embed rather than wait for the parsers; else gather a call's worth of chunks
            if pending and (not parsers.next_ready() or sum(len(item.chunks) for item in pending) >= EMBED_BUFFER_CHUNKS
                            or len(pending) >= EMBED_BUFFER_PAPERS):
                flush()
        if pending:
            flush()
    if any(o.status in ("added", "replaced") for o in summary.outcomes):
        library.indexes(wait=True)  # rebuild and save the caches once, not once per paper
    summary.seconds = time.perf_counter() - started
    return summary


def _precheck(library: Library, path: Path, ingest: IngestSettings) -> FileOutcome | None:
    """Cheap checks before parsing: size, readability, and whether these bytes are stored already."""
    try:
        size = path.stat().st_size
        if size == 0:
            return FileOutcome(str(path), "failed", "empty file (0 bytes)")
        if size > ingest.max_file_mb * 1024 * 1024:
            return FileOutcome(str(path), "failed", f"file is {size / 2**20:.0f} MB, over the {ingest.max_file_mb} MB limit")
        sha = hash_file(path)
    except OSError as exc:
        return FileOutcome(str(path), "failed", f"cannot read file ({exc.strerror or exc})")
    stored = library.catalogue.paper_by_sha(sha)
    if stored is not None:
        return FileOutcome(str(path), "unchanged", "already in the library", stored.id, stored.doi,
                           stored.title, stored.pages, stored.chunks, stored.figures)
    return None


# Chunks buffered across papers before one embedding call (unless the parsers have nothing ready):
# for batched backends one length-sorted call pads less than several small ones.
EMBED_BUFFER_CHUNKS = 1024
# ... or papers: a buffered paper holds its figure PNGs in memory (a folder of short papers would
# otherwise buffer hundreds of them before reaching the chunk count).
EMBED_BUFFER_PAPERS = 48


@dataclass(frozen=True)
class _Prepared:
    parsed: ParsedPaper
    path: Path
    chunks: list[Chunk]
    terms: list[list[str]]  # each chunk's BM25 terms


def _record(library: Library, summary: IngestSummary, outcome: FileOutcome, progress: IngestProgress) -> None:
    library.catalogue.log_ingest(outcome.path, "", outcome.status, outcome.reason, outcome.paper_id)
    summary.outcomes.append(outcome)
    progress.file_done()


def _store(library: Library, item: _Prepared, vectors, ingest: IngestSettings) -> FileOutcome:
    parsed, path, chunks = item.parsed, item.path, item.chunks
    try:
        status, paper = library.add_paper(parsed, chunks, item.terms, vectors, path if ingest.keep_pdf else None)
    except sqlite3.IntegrityError:
        # Another process stored the same bytes between our hash check and now.
        return FileOutcome(str(path), "unchanged", "already in the library")
    return FileOutcome(str(path), status, "", paper.id, paper.doi, paper.title, paper.pages,
                       len(chunks), paper.figures, parsed.warnings)
