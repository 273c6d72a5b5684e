"""The SQLite catalogue: papers, chunks (with their vectors and lexical terms), figures, tables and
the ingest log — the library's single source of truth.

Every paper is written in one transaction (paper, chunks, figures, tables, and a bumped
``generation``), so a process killed mid-ingest leaves either the whole paper or none of it. The
FAISS and BM25 files are caches rebuilt from here when their generation stamp is stale. WAL mode
lets readers (search) run while an ingest writes. Schema changes are versioned in ``assistant.schema``.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from assistant.schema import MIGRATIONS, USER_TABLES
from assistant.types import Chunk, DisciplineLabel, Paper

PAPER_COLUMNS = ("id, doi, sha256, title, title_alt, authors, year, venue, abstract, abstract_alt, keywords,"
                 " keywords_alt, lang, pages, source_path, pdf_path, refs, warnings, added_at, licence, oa_url, source")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _insert_authors(db: sqlite3.Connection, paper_id: str, authors: Sequence[tuple[str, Sequence[str]]]) -> None:
    for position, (name, places) in enumerate(authors):
        db.execute("INSERT INTO paper_authors VALUES (?,?,?,?)",
                   (paper_id, position, name, json.dumps(list(places), ensure_ascii=False)))


def _insert_chunks(db: sqlite3.Connection, paper_id: str, record: PaperRecord) -> list[int]:
    """Insert a paper's chunks with their terms and vectors; return their row ids (index ids)."""
    vectors = np.ascontiguousarray(record.vectors, dtype=np.float32)
    rowids = []
    for chunk, terms, vector in zip(record.chunks, record.terms, vectors):
        cursor = db.execute(
            "INSERT INTO chunks (id, paper_id, ordinal, kind, section, page_start, page_end,"
            " char_start, char_end, text, terms, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (chunk.id, paper_id, chunk.ordinal, chunk.kind, chunk.section, chunk.page_start,
             chunk.page_end, chunk.char_start, chunk.char_end, chunk.text, " ".join(terms), vector.tobytes()),
        )
        rowids.append(int(cursor.lastrowid))
    return rowids


@dataclass(frozen=True)
class PaperRecord:
    """What `Catalogue.write_paper` stores for one paper (rows for each table)."""

    paper: Paper
    pdf_path: str
    references: Sequence[str]
    warnings: Sequence[str]
    chunks: Sequence[Chunk]
    terms: Sequence[Sequence[str]]
    vectors: np.ndarray
    figures: Sequence[dict]
    tables: Sequence[dict]
    # (name, affiliations) in author order, where the PDF or record gives them
    author_affiliations: Sequence[tuple[str, Sequence[str]]] = ()


class Catalogue:
    """Typed access to the SQLite file; safe to share between threads (one connection each)."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._open: dict[int, sqlite3.Connection] = {}  # thread id -> its connection, for close()
        self._guard = threading.Lock()
        self._migrate()

    @property
    def _db(self) -> sqlite3.Connection:
        # One connection per thread (the API serves requests from a thread pool while an ingest
        # job writes). On one shared connection, two threads logging ingests failed 176,000 times
        # in 8 s with "cannot start a transaction within a transaction", and a reader would see
        # another thread's uncommitted paper. Per thread, WAL gives each reader the last committed state
        # and SQLite's busy timeout queues the writers.
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
            db.execute("PRAGMA foreign_keys=ON")
            with self._guard:
                alive = {t.ident for t in threading.enumerate()}
                for ident in [i for i in self._open if i not in alive]:
                    self._open.pop(ident).close()  # its thread has ended
                self._open[threading.get_ident()] = db
            self._local.db = db
        return db

    def close(self) -> None:
        with self._guard:
            for db in self._open.values():
                db.close()
            self._open.clear()

    @contextmanager
    def transaction(self):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction() as db:
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # -- papers -----------------------------------------------------------------------------
    def write_paper(self, record: PaperRecord, replaces: Iterable[str] = ()) -> list[int]:
        """Store one paper in a single transaction (removing `replaces` first); return chunk ids."""
        p = record.paper
        with self.transaction() as db:
            for old in replaces:
                db.execute("DELETE FROM papers WHERE id=?", (old,))
            row = (p.id, p.doi, p.sha256, p.title, p.title_alt, json.dumps(p.authors, ensure_ascii=False),
                   p.year, p.venue, p.abstract, p.abstract_alt, json.dumps(p.keywords, ensure_ascii=False),
                   json.dumps(p.keywords_alt, ensure_ascii=False), p.lang, p.pages, p.source_path,
                   record.pdf_path, json.dumps(list(record.references), ensure_ascii=False),
                   json.dumps(list(record.warnings), ensure_ascii=False), p.added_at or now(),
                   p.licence, p.oa_url, p.source)
            db.execute(f"INSERT INTO papers ({PAPER_COLUMNS}) VALUES ({','.join('?' * len(row))})", row)
            _insert_authors(db, p.id, record.author_affiliations)
            rowids = _insert_chunks(db, p.id, record)
            for row in record.figures:
                db.execute("INSERT INTO figures VALUES (:id,:paper_id,:ordinal,:page,:bbox,:kind,"
                           ":label,:caption,:mentions,:image_path,:width,:height)", row)
            for row in record.tables:
                db.execute("INSERT INTO tables VALUES (:id,:paper_id,:page,:label,:caption,:text)", row)
            self._bump_generation(db)
        return rowids

    def update_record(self, record: PaperRecord, rechunk: bool) -> None:
        """Rewrite a metadata record's fields in place (same id: favourites, topics and labels that
        name it stay), with new chunks and vectors when `rechunk` (its text changed)."""
        p = record.paper
        with self.transaction() as db:
            db.execute("UPDATE papers SET title=?, authors=?, year=?, venue=?, abstract=?, keywords=?, lang=?,"
                       " licence=?, oa_url=? WHERE id=? AND source='record'",
                       (p.title, json.dumps(p.authors, ensure_ascii=False), p.year, p.venue, p.abstract,
                        json.dumps(p.keywords, ensure_ascii=False), p.lang, p.licence, p.oa_url, p.id))
            db.execute("DELETE FROM paper_authors WHERE paper_id=?", (p.id,))
            _insert_authors(db, p.id, record.author_affiliations)
            if rechunk:
                db.execute("DELETE FROM chunks WHERE paper_id=?", (p.id,))
                _insert_chunks(db, p.id, record)
                self._bump_generation(db)  # the indexes must pick the new chunks up

    def read(self, sql: str, args: Sequence = ()) -> sqlite3.Cursor:
        """Run a read-only query on this thread's connection (the platform parts' own tables);
        writes go through `transaction()`."""
        return self._db.execute(sql, args)

    def delete_paper(self, paper_id: str) -> list[int]:
        """Delete a paper with its chunks, figures and tables; return the deleted chunk ids."""
        with self.transaction() as db:
            ids = [r[0] for r in db.execute("SELECT rowid FROM chunks WHERE paper_id=?", (paper_id,))]
            db.execute("DELETE FROM papers WHERE id=?", (paper_id,))
            self._bump_generation(db)
        return ids

    @staticmethod
    def _bump_generation(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(value AS INTEGER) + 1"
        )

    def papers(self, where: str = "", args: Sequence = ()) -> list[Paper]:
        sql = (
            "SELECT p.*, (SELECT COUNT(*) FROM figures f WHERE f.paper_id=p.id) AS n_figures,"
            " (SELECT COUNT(*) FROM chunks c WHERE c.paper_id=p.id) AS n_chunks FROM papers p "
            + (f"WHERE {where} " if where else "") + "ORDER BY p.added_at, p.id"
        )
        rows = list(self._db.execute(sql, args))
        # Each paper's 学科 labels (assistant.disciplines; corrections win), best first: one more query.
        labels: dict[str, list[DisciplineLabel]] = {}
        for r in self._db.execute("SELECT d.paper_id, d.code, d.confidence, d.source FROM paper_labels d "
                                  "JOIN papers p ON p.id=d.paper_id " + (f"WHERE {where} " if where else "")
                                  + "ORDER BY d.confidence DESC, d.code", args):
            labels.setdefault(r[0], []).append(DisciplineLabel(r[1], r[2], r[3]))
        return [replace(_paper_from_row(r), disciplines=tuple(labels.get(r["id"], ()))) for r in rows]

    def paper(self, paper_id: str) -> Paper | None:
        found = self.papers("p.id=?", (paper_id,))
        return found[0] if found else None

    def find_papers(self, key: str) -> list[Paper]:
        """Papers whose id, id prefix, DOI or sha256 is `key`."""
        key = key.strip()
        if not key:
            return []
        # An id prefix is matched literally (substr, not LIKE): "%" or "_" must not match every id,
        # and at least 8 characters are needed, so "p" cannot pick a paper either.
        prefix = key if len(key) >= 8 else "\x00"
        return self.papers(
            "p.id=? OR p.doi=? OR p.sha256=? OR substr(p.id, 1, ?)=?",
            (key, key.lower(), key, len(prefix), prefix),
        )

    def paper_row(self, paper_id: str) -> sqlite3.Row | None:
        return self._db.execute("SELECT * FROM papers WHERE id=?", (paper_id,)).fetchone()

    def stored_pdfs(self) -> list[str]:
        """Library-relative paths of the PDF copies kept for the papers (for a rebuild)."""
        return [r[0] for r in self._db.execute("SELECT pdf_path FROM papers WHERE pdf_path != ''")]

    def paper_by_sha(self, sha256: str) -> Paper | None:
        found = self.papers("p.sha256=?", (sha256,))
        return found[0] if found else None

    # -- chunks, figures -------------------------------------------------------------------
    def chunks(self, rowids: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by index row id (what the FAISS and BM25 indexes return)."""
        return self._chunks_where("rowid", rowids)

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by their stable id (what citations carry)."""
        return self._chunks_where("id", ids)

    def _chunks_where(self, column: str, keys: Sequence) -> dict:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = self._db.execute(f"SELECT rowid, * FROM chunks WHERE {column} IN ({marks})", list(keys))
        return {r[column]: _chunk_from_row(r) for r in rows}

    def paper_chunks(self, paper_id: str) -> list[Chunk]:
        rows = self._db.execute("SELECT * FROM chunks WHERE paper_id=? ORDER BY ordinal", (paper_id,))
        return [_chunk_from_row(r) for r in rows]

    def paper_term_counts(self, paper_id: str) -> tuple[int, Counter[str]]:
        """A paper's chunk count and, for every lexical term of its chunks, how many hold it (what
        the paper talks about, for abstention; how specific a term is within it, for answers)."""
        counts: Counter[str] = Counter()
        chunks = 0
        for (text,) in self._db.execute("SELECT terms FROM chunks WHERE paper_id=?", (paper_id,)):
            counts.update(set(text.split()))
            chunks += 1
        return chunks, counts

    def chunk_rowids(self, where: str = "", args: Sequence = ()) -> list[int]:
        sql = "SELECT c.rowid FROM chunks c JOIN papers p ON p.id=c.paper_id"
        return [r[0] for r in self._db.execute(sql + (f" WHERE {where}" if where else ""), args)]

    def index_rows(self) -> Iterable[tuple[int, str, bytes]]:
        """All (chunk id, lexical terms, vector bytes), in chunk id order, for rebuilding indexes."""
        return self._db.execute("SELECT rowid, terms, vector FROM chunks ORDER BY rowid")

    def all_figures(self) -> list[sqlite3.Row]:
        return list(self._db.execute("SELECT * FROM figures ORDER BY paper_id, ordinal"))

    def figures(self, paper_id: str) -> list[sqlite3.Row]:
        return list(self._db.execute("SELECT * FROM figures WHERE paper_id=? ORDER BY ordinal", (paper_id,)))

    def counts(self) -> dict[str, int]:
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("papers", "chunks", "figures", "tables")}

    def copy_user_data(self, source: Path) -> None:
        """Copy USER_TABLES from another catalogue file (a rebuild keeps what people made) and the
        papers' dates added; rows naming a paper this catalogue does not hold are left behind."""
        db = self._db
        db.execute("ATTACH DATABASE ? AS old", (str(source),))
        try:
            with self.transaction():
                for table in USER_TABLES:
                    columns = [r[1] for r in db.execute(f"PRAGMA main.table_info({table})")]
                    keep = " WHERE paper_id IN (SELECT id FROM main.papers)" if "paper_id" in columns else ""
                    names = ", ".join(columns)
                    db.execute(f"INSERT OR IGNORE INTO main.{table} ({names}) SELECT {names} FROM old.{table}{keep}")
                # A rebuilt paper was not newly added: keep its date, or every digest of a saved
                # query would list the whole library again after a rebuild.
                db.execute("UPDATE main.papers SET added_at=(SELECT o.added_at FROM old.papers o WHERE o.id=main.papers.id)"
                           " WHERE id IN (SELECT id FROM old.papers)")
        finally:
            db.execute("DETACH DATABASE old")

    # -- ingest log -------------------------------------------------------------------------
    def log_ingest(self, path: str, sha256: str, status: str, reason: str = "", paper_id: str = "") -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO ingest_log (path, sha256, status, reason, paper_id, at) VALUES (?,?,?,?,?,?)",
                       (path, sha256, status, reason, paper_id, now()))


def _paper_from_row(r: sqlite3.Row) -> Paper:
    return Paper(
        id=r["id"], doi=r["doi"], title=r["title"], authors=tuple(json.loads(r["authors"])),
        year=r["year"], pages=r["pages"], lang=r["lang"], venue=r["venue"], title_alt=r["title_alt"],
        abstract=r["abstract"], abstract_alt=r["abstract_alt"], keywords=tuple(json.loads(r["keywords"])),
        keywords_alt=tuple(json.loads(r["keywords_alt"])), sha256=r["sha256"],
        source_path=r["source_path"], figures=r["n_figures"], chunks=r["n_chunks"], added_at=r["added_at"],
        licence=r["licence"], oa_url=r["oa_url"], source=r["source"],
    )


def _chunk_from_row(r: sqlite3.Row) -> Chunk:
    return Chunk(
        id=r["id"], paper_id=r["paper_id"], ordinal=r["ordinal"], text=r["text"], section=r["section"],
        page_start=r["page_start"], page_end=r["page_end"], char_start=r["char_start"],
        char_end=r["char_end"], kind=r["kind"],
    )
