"""OA metadata records in the library: papers without a PDF whose title and abstract are the text.

A library can hold far more papers than PDFs: a JSONL or CSV export of records (read and
validated by ``ingest.records``) becomes papers with ``source='record'`` whose title + abstract
are chunked like a PDF's body (kind ``abstract``, page 1, sized to the embedder's maximum by
``ingest.chunking``), embedded, indexed for BM25 and cited like any passage: DOI, title, page 1
and a quote from the abstract. Nothing opens a PDF for them: their chunks span one page, so
``Answerer.locate_page`` never reads a file, ``GET /papers/{key}/pdf`` answers 404 with the OA URL,
and the UI's citation chip links the OA URL.

Identity and versions (mirroring PDFs, whose id comes from the file's bytes):

- A record's id comes from the SHA-256 of its canonical JSON (normalised fields, sorted keys), so
  re-ingesting the same record is a no-op ("unchanged"), whatever file or line it comes from.
- A different record with the DOI of a stored record replaces it ("replaced"), as a new PDF with
  a stored DOI replaces the old PDF.
- **A PDF's full text always wins.** A record never replaces a PDF paper: a record whose DOI a PDF
  holds is "skipped" with that reason; a PDF ingested later replaces a record with its DOI
  (``Library.add_paper`` replaces every paper of the DOI).
- Enrichment (``assistant.enrich``) fills a record's missing fields in place, keeping its id; what
  it added is kept beside the record and re-applied when the record is replaced or rebuilt.

Storing runs in batches: records are read as a stream, ``BATCH`` at a time are chunked and
embedded in one embedder call, then written one transaction each through ``Library.add_record``
(``Catalogue.write_paper`` owns its transaction), and the indexes are rebuilt once at the end.
Each stored record is copied to ``DIR/records/<id>.json`` so that ``souwen rebuild`` re-ingests it.

Leaves out: reading files (``ingest.records``), network look-ups (``assistant.enrich``), HTTP and
CLI (``assistant.api_records``, ``assistant.record_commands``).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.catalogue import PaperRecord, now
from assistant.library import RECORDS, Library, paper_id_for
from assistant.types import Chunk, Paper, PaperMetadata, ParsedPaper, TextBlock
from ingest.records import MetadataRecord, RecordError, make_record, read_records

if TYPE_CHECKING:
    from assistant.service import Souwen

BATCH = 256  # records chunked and embedded per embedder call
ENRICH_LOG = "enrich.jsonl"  # DOIs that assistant.enrich has settled, one JSON line each
STATUSES = ("added", "replaced", "unchanged", "skipped", "failed")
_END = re.compile(r"[.!?。！？]$")


@dataclass(frozen=True)
class RecordOutcome:
    path: str
    line: int
    status: str  # added | replaced | unchanged | skipped | failed
    reason: str = ""
    paper_id: str = ""
    doi: str = ""
    title: str = ""
    chunks: int = 0


@dataclass
class RecordSummary:
    outcomes: list[RecordOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[RecordOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def to_json(self) -> dict:
        return {"seconds": round(self.seconds, 2), "counts": {s: self.count(s) for s in STATUSES},
                "records": [o.__dict__ for o in self.outcomes]}


def record_hash(record: MetadataRecord) -> str:
    """SHA-256 of the record's canonical JSON: the same content gives the same id everywhere."""
    canonical = json.dumps(record.canonical(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def fill_missing(record: MetadataRecord, extra: dict) -> MetadataRecord:
    """The record with the fields it lacks taken from `extra` (an enrichment); never overwrites."""
    changes: dict = {}
    for name in ("abstract", "venue", "licence", "oa_url"):
        if not getattr(record, name) and extra.get(name):
            changes[name] = extra[name]
    if record.year is None and extra.get("year"):
        changes["year"] = int(extra["year"])
    names, places = extra.get("authors") or [], extra.get("affiliations") or []
    if not record.authors and names:
        changes["authors"] = tuple(names)
        changes["affiliations"] = tuple(tuple(p) for p in places) if any(places) else ()
    elif record.authors and not record.affiliations and len(names) == len(record.authors) and any(places):
        changes["affiliations"] = tuple(tuple(p) for p in places)
    return replace(record, **changes) if changes else record


def record_text(record: MetadataRecord) -> str:
    """Title + abstract as one passage (the title ends as a sentence of its own)."""
    title = record.title
    if record.abstract and not _END.search(title):
        title += "。" if record.lang == "zh" else "."
    return f"{title}{'' if record.lang == 'zh' else ' '}{record.abstract}".strip()


def build_record(record: MetadataRecord, sha: str, source_path: str, embedder, chunking,
                 ) -> tuple[Paper, list[Chunk], list[list[str]]]:
    """The paper, chunks and lexical terms of one record (vectors are added by the caller, in batches)."""
    from assistant.lexical import tokenize
    from ingest.chunking import chunk_paper

    paper_id = paper_id_for(sha)
    section = "摘要" if record.lang == "zh" else "Abstract"
    meta = PaperMetadata(doi=record.doi, title=record.title, authors=record.authors, year=record.year,
                         venue=record.venue, abstract=record.abstract, keywords=record.keywords, lang=record.lang)
    parsed = ParsedPaper(sha256=sha, source_path=source_path, page_count=1, metadata=meta,
                         blocks=(TextBlock(page=1, text=record_text(record), section=section, kind="abstract"),))
    max_tokens = chunking.max_tokens or embedder.max_tokens
    chunks = chunk_paper(parsed, paper_id, embedder.count_tokens, max_tokens=max_tokens,
                         target_tokens=chunking.target_tokens, overlap_tokens=chunking.overlap_tokens)
    keywords = " ".join(record.keywords)  # searchable, never quoted
    terms = [tokenize(f"{c.section} {keywords} {c.text}") for c in chunks]
    paper = Paper(id=paper_id, doi=record.doi, title=record.title, authors=record.authors, year=record.year,
                  pages=0, lang=record.lang, venue=record.venue, abstract=record.abstract,
                  keywords=record.keywords, sha256=sha, source_path=source_path, chunks=len(chunks),
                  added_at=now(), licence=record.licence, oa_url=record.oa_url, source="record")
    return paper, chunks, terms


def paper_record(paper: Paper, record: MetadataRecord, chunks, terms, vectors) -> PaperRecord:
    places = record.affiliations or tuple(() for _ in record.authors)
    return PaperRecord(paper, "", (), (), chunks, terms, vectors, (), (),
                       author_affiliations=tuple(zip(record.authors, places)))


def stored_copy(library: Library, paper_id: str) -> dict | None:
    """What records/<id>.json holds: {"record", "enriched", "enriched_by", "source_path"}."""
    try:
        return json.loads((library.root / RECORDS / f"{paper_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class _Pending:
    path: str
    record: MetadataRecord
    sha: str
    copy: dict


class RecordWriter:
    """Stores records in batches; `add` queues one, `finish` stores the rest and swaps the indexes in."""

    def __init__(self, service: Souwen, progress=None):
        self.library = service.library
        self.embedder = service.embedder
        self.chunking = service.settings.chunking
        self.summary = RecordSummary()
        self.pending: list[_Pending] = []
        self.progress = progress
        self._started = time.perf_counter()

    def fail(self, path: str, error: RecordError) -> None:
        self._record(RecordOutcome(path, error.line, "failed", error.reason))

    def add(self, path: str, record: MetadataRecord, enriched: dict | None = None, enriched_by: str = "") -> None:
        sha = record_hash(record)
        stored = self.library.catalogue.paper_by_sha(sha)
        if stored is not None:  # cheap checks first: nothing to embed for these
            self._record(RecordOutcome(path, record.line, "unchanged", "already in the library", stored.id,
                                       stored.doi, stored.title, stored.chunks))
            return
        if record.doi:
            same = self.library.catalogue.papers("p.doi=?", (record.doi,))
            pdf = next((p for p in same if p.source != "record"), None)
            if pdf is not None:
                self._record(_skipped(path, record, pdf))
                return
            if enriched is None:  # carry an older version's enrichment over to this one
                older = next((stored_copy(self.library, p.id) for p in same), None) or {}
                enriched, enriched_by = older.get("enriched") or {}, older.get("enriched_by", "")
        copy = {"record": record.canonical(), "enriched": enriched or {}, "enriched_by": enriched_by,
                "source_path": f"{path}:{record.line}"}
        self.pending.append(_Pending(path, record, sha, copy))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        built = []
        for item in self.pending:
            effective = fill_missing(item.record, item.copy["enriched"])
            built.append((item, effective, *build_record(effective, item.sha, item.copy["source_path"],
                                                         self.embedder, self.chunking)))
        texts = [c.text for *_, chunks, _ in built for c in chunks]
        vectors = self.embedder.embed_documents(texts)  # one call per batch, length-sorted inside
        start = 0
        for item, effective, paper, chunks, terms in built:
            end = start + len(chunks)
            status, stored = self.library.add_record(paper_record(paper, effective, chunks, terms, vectors[start:end]),
                                                     item.copy)
            start = end
            if status == "skipped":
                self._record(_skipped(item.path, item.record, stored))
            else:
                reason = "already in the library" if status == "unchanged" else ""
                self._record(RecordOutcome(item.path, item.record.line, status, reason, stored.id, stored.doi,
                                           stored.title, len(chunks) if status != "unchanged" else stored.chunks))
        self.pending.clear()

    def finish(self) -> RecordSummary:
        self.flush()
        if any(o.status in ("added", "replaced") for o in self.summary.outcomes):
            self.library.indexes(wait=True)  # rebuild and save the caches once, not once per batch
        self.summary.seconds = time.perf_counter() - self._started
        return self.summary

    def _record(self, outcome: RecordOutcome) -> None:
        self.summary.outcomes.append(outcome)
        if self.progress is not None:
            self.progress.update(1)


def _skipped(path: str, record: MetadataRecord, pdf: Paper) -> RecordOutcome:
    return RecordOutcome(path, record.line, "skipped", f"the PDF {pdf.id} of DOI {record.doi} is in the library "
                         "(its full text wins over a record)", pdf.id, pdf.doi, pdf.title, pdf.chunks)


def ingest_record_files(service: Souwen, paths: Iterable[Path], fmt: str | None = None,
                        show_progress: bool = False) -> RecordSummary:
    """Read, validate and store every record of `paths`; a bad line or file never stops the run.
    New and replaced papers then get the after-ingest steps (disciplines, topics)."""
    from tqdm import tqdm

    paths = [Path(p) for p in paths]
    with tqdm(desc="records", unit=" rec", disable=not show_progress, dynamic_ncols=True) as bar:
        writer = RecordWriter(service, bar)
        for path in paths:
            if not path.is_file():
                writer.fail(str(path), RecordError(0, "no such file"))
                continue
            try:
                for item in read_records(path, fmt):
                    if isinstance(item, RecordError):
                        writer.fail(str(path), item)
                    else:
                        writer.add(str(path), item)
            except OSError as exc:
                writer.fail(str(path), RecordError(0, f"cannot read file ({exc.strerror or exc})"))
        summary = writer.finish()
    service.after_ingest([o.paper_id for o in summary.outcomes if o.status in ("added", "replaced")])
    return summary


def restore_records(service: Souwen, old_root: Path) -> RecordSummary:
    """Re-ingest the records kept in `old_root`/records (with their enrichment) into the service's
    library: what `souwen rebuild` does after re-ingesting the PDFs."""
    writer = RecordWriter(service)
    folder = Path(old_root) / RECORDS
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            copy = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            writer.fail(str(path), RecordError(0, f"unreadable stored record ({exc})"))
            continue
        record = record_from_copy(copy)
        if record is None:
            writer.fail(str(path), RecordError(0, "unreadable stored record"))
        else:
            writer.add(copy.get("source_path", str(path)), record, copy.get("enriched") or {},
                       copy.get("enriched_by", ""))
    summary = writer.finish()
    log = Path(old_root) / ENRICH_LOG
    if log.is_file():  # which DOIs were looked up already: a rebuild does not repeat them
        shutil.copyfile(log, service.library.root / ENRICH_LOG)
    service.after_ingest([o.paper_id for o in summary.outcomes if o.status in ("added", "replaced")])
    return summary


def record_from_copy(copy: dict) -> MetadataRecord | None:
    """The record a records/<id>.json holds (as normalised when it was stored), or None."""
    try:
        data = dict(copy["record"])
        places = data.pop("affiliations", None) or []
        if places:  # back to the {"name", "affiliations"} objects that make_record reads
            data["authors"] = [{"name": n, "affiliations": list(a)} for n, a in zip(data["authors"], places)]
    except (KeyError, TypeError, ValueError):
        return None
    record = make_record(data, 0)
    return None if isinstance(record, RecordError) else record


def record_papers(service: Souwen, dois: Sequence[str] = ()) -> list[Paper]:
    """The library's record papers (optionally only those DOIs), oldest first."""
    papers = service.library.catalogue.papers("p.source='record'")
    wanted = {d.lower() for d in dois}
    return [p for p in papers if not wanted or p.doi in wanted]
