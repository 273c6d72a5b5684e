"""The library directory: catalogue + dense and lexical indexes + figure PNGs + PDFs, kept in step.

Layout of ``DIR``::

    catalogue.sqlite        papers, chunks (text, terms, vectors), figures, tables, ingest log
    index/state.json        {"generation": G, "faiss": "vectors-G.faiss", "bm25": "bm25-G"}
    index/vectors-G.faiss   FAISS cache of the chunk vectors (ids = chunk rowids)
    index/bm25-G/           bm25s cache of the chunk terms (+ row -> chunk id map)
    figures/<paper id>/     figure PNGs
    pdfs/<paper id>.pdf     a copy of each ingested PDF (to open a citation at its page)
    records/<paper id>.json each metadata record stored without a PDF (for `souwen rebuild`)

SQLite is the truth; the index files are caches stamped with the catalogue's generation and
rebuilt from it when stale, so a crash between a paper's commit and the index save costs a
rebuild, never a paper. The library's fingerprint (embedder, chunking, parser, tokeniser versions)
is stored in the catalogue; opening it with different settings fails with instructions.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from collections import Counter
from collections.abc import Set as AbstractSet
from pathlib import Path

import numpy as np

from assistant.abbreviations import AbbreviationCache
from assistant.catalogue import Catalogue, PaperRecord, now
from assistant.types import Chunk, Paper, ParsedPaper
from assistant.lexical import LexicalIndex
from assistant.vectors import FaissStore

SCHEMA_VERSION = 1
LEXICAL_VERSION = 2  # bump when assistant.lexical.tokenize changes its output
RECORDS = "records"  # records/<paper id>.json: the metadata records stored (assistant.records)


class LibraryMismatchError(Exception):
    """The library was built with other settings than the ones in force."""


def write_json_atomic(path: Path, data: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def copy_atomic(source: Path, target: Path) -> None:
    tmp = target.with_suffix(target.suffix + ".tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def paper_id_for(sha256: str) -> str:
    """A paper's stable id: derived from the file's content hash, the same on every machine."""
    return "p" + sha256[:15]


def catalogue_path(root: Path | str) -> Path:
    """Where a library directory keeps its SQLite catalogue."""
    return Path(root) / "catalogue.sqlite"


def library_exists(root: Path | str) -> bool:
    """Does `root` hold a library (its catalogue), as opposed to nothing or an unrelated folder?"""
    return catalogue_path(root).is_file()


class Indexes:
    """The dense and lexical indexes over every chunk, and the chunk id of each BM25 row."""

    def __init__(self, dense: FaissStore, lexical: LexicalIndex, rowids: np.ndarray):
        self.dense = dense
        self.lexical = lexical
        self.rowids = rowids
        self.row_of = {int(r): i for i, r in enumerate(rowids)}
        self.generation = -1
        self.term_counts: dict[str, tuple[int, Counter[str]]] = {}  # per paper, filled on demand
        self.glossed: dict[str, tuple[list[int], LexicalIndex]] = {}  # per paper (assistant.retrieval), on demand


class Library:
    """One library directory. Thread-safe for one writer and many readers."""

    def __init__(self, root: Path, fingerprint: dict, dim: int):
        self.root = Path(root)
        self.dim = dim
        self.fingerprint = fingerprint
        self.root.mkdir(parents=True, exist_ok=True)
        for sub in ("index", "figures", "pdfs"):
            (self.root / sub).mkdir(exist_ok=True)
        self.catalogue = Catalogue(catalogue_path(self.root))
        self._check_fingerprint()
        self._lock = threading.RLock()
        self._indexes: Indexes | None = None
        self._refresher: threading.Thread | None = None  # the background index rebuild, if any
        self._refresh_guard = threading.Lock()

    def _check_fingerprint(self) -> None:
        stored = self.catalogue.get_meta("fingerprint")
        if stored is None:
            self.catalogue.set_meta("fingerprint", json.dumps(self.fingerprint, sort_keys=True))
            return
        old = json.loads(stored)
        if old != self.fingerprint:
            diff = {k: (old.get(k), self.fingerprint.get(k)) for k in set(old) | set(self.fingerprint)
                    if old.get(k) != self.fingerprint.get(k)}
            changes = "; ".join(f"{k}: library has {a!r}, settings give {b!r}" for k, (a, b) in sorted(diff.items()))
            raise LibraryMismatchError(
                f"The library at {self.root} was built with other settings ({changes}). "
                f"Either use the settings it was built with, or rebuild it: `souwen rebuild --library {self.root}` "
                "re-ingests its stored PDFs with the current settings (or ingest into a new --library DIR)."
            )

    @functools.cached_property
    def abbreviations(self) -> AbbreviationCache:
        """Abbreviations each paper defines (assistant.abbreviations), read from its passages."""
        return AbbreviationCache(lambda paper_id: [c.text for c in self.catalogue.paper_chunks(paper_id)])

    def close(self) -> None:
        if self._refresher is not None:
            self._refresher.join(60)  # let a background rebuild finish its save
        self.catalogue.close()

    # -- indexes ------------------------------------------------------------------------------
    def indexes(self, wait: bool = False) -> Indexes:
        """The current indexes: loaded from disk when their stamp matches, else rebuilt and saved.

        A reader that finds the catalogue changed (another process or thread stored a paper) keeps
        the previous indexes and leaves the rebuild to one background thread at a lower CPU
        priority: no question waits for it or holds one of the API's answer slots while it runs
        (seconds for the 33-paper corpus), and the rebuilt indexes replace the old ones in one
        assignment. A writer asks with `wait=True` after storing and gets the new indexes; so does
        the first caller, who has none yet.
        """
        current = self._indexes
        if current is not None and current.generation == self.catalogue.generation():
            return current
        if current is not None and not wait:
            self._refresh_soon()
            return current
        with self._lock:
            generation = self.catalogue.generation()
            if self._indexes is not None and getattr(self._indexes, "generation", -1) == generation:
                return self._indexes
            loaded = self._load_indexes(generation)
            if loaded is None:
                loaded = self._build_indexes()
                self._save_indexes(loaded, generation)
            loaded.generation = generation
            self._indexes = loaded
            return loaded

    def _refresh_soon(self) -> None:
        with self._refresh_guard:
            if self._refresher is None or not self._refresher.is_alive():
                self._refresher = threading.Thread(target=self._refresh, name="souwen-indexes", daemon=True)
                self._refresher.start()

    def _refresh(self) -> None:
        from assistant.jobs import lower_priority

        lower_priority()
        try:
            self.indexes(wait=True)
        except Exception:  # noqa: BLE001 - a closed library, a busy disk: the next reader tries again
            pass

    def paper_terms(self, paper_id: str) -> AbstractSet[str]:
        """A paper's lexical terms (what it talks about, for abstention): the keys of its counts."""
        return self.paper_term_counts(paper_id)[1].keys()

    def paper_term_counts(self, paper_id: str) -> tuple[int, Counter[str]]:
        """A paper's chunk count and how many of its chunks hold each term, cached with the indexes
        (dropped when the library changes)."""
        indexes = self.indexes()
        counts = indexes.term_counts.get(paper_id)
        if counts is None:
            counts = indexes.term_counts[paper_id] = self.catalogue.paper_term_counts(paper_id)
        return counts

    def _load_indexes(self, generation: int) -> Indexes | None:
        state_path = self.root / "index" / "state.json"
        try:
            state = json.loads(state_path.read_text())
            if state.get("generation") != generation:
                return None
            dense = FaissStore.load(self.root / "index" / state["faiss"], self.dim)
            bm25_dir = self.root / "index" / state["bm25"]
            rowids = np.load(bm25_dir / "rowids.npy")
            return Indexes(dense, LexicalIndex.load(str(bm25_dir), len(rowids)), rowids)
        except (OSError, ValueError, KeyError, RuntimeError):
            return None  # missing or damaged cache: the catalogue has everything to rebuild it

    def _build_indexes(self) -> Indexes:
        rowids, terms, vectors = [], [], []
        for rowid, text_terms, blob in self.catalogue.index_rows():
            rowids.append(rowid)
            terms.append(text_terms.split())
            vectors.append(np.frombuffer(blob, dtype=np.float32))
        dense = FaissStore(self.dim)
        if rowids:
            dense.add(rowids, np.vstack(vectors))
        return Indexes(dense, LexicalIndex(terms), np.asarray(rowids, dtype=np.int64))

    def _save_indexes(self, indexes: Indexes, generation: int) -> None:
        index_dir = self.root / "index"
        faiss_name, bm25_name = f"vectors-{generation}.faiss", f"bm25-{generation}"
        indexes.dense.save(index_dir / faiss_name)
        tmp_dir = index_dir / f"{bm25_name}.tmp"
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir()
        indexes.lexical.save(str(tmp_dir))
        np.save(tmp_dir / "rowids.npy", indexes.rowids)
        shutil.rmtree(index_dir / bm25_name, ignore_errors=True)
        os.replace(tmp_dir, index_dir / bm25_name)
        write_json_atomic(index_dir / "state.json", {"generation": generation, "faiss": faiss_name, "bm25": bm25_name})
        for old in index_dir.iterdir():  # only after the new state points at the new files
            if old.name not in (faiss_name, bm25_name, "state.json"):
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)

    # -- papers -------------------------------------------------------------------------------
    def add_paper(self, parsed: ParsedPaper, chunks: list[Chunk], terms: list[list[str]],
                  vectors: np.ndarray, source: Path | None) -> tuple[str, Paper]:
        """Store a parsed, chunked, embedded paper. Returns (status, paper): status is "added",
        "unchanged" (same bytes already stored) or "replaced" (a new version of a stored DOI)."""
        with self._lock:
            existing = self.catalogue.paper_by_sha(parsed.sha256)
            if existing is not None:
                return "unchanged", existing
            meta = parsed.metadata
            paper_id = paper_id_for(parsed.sha256)
            replaces = [p.id for p in self.catalogue.papers("p.doi=?", (meta.doi,))] if meta.doi else []
            figures = self._write_figures(paper_id, parsed)
            pdf_path = ""
            if source is not None:
                pdf_path = f"pdfs/{paper_id}.pdf"
                copy_atomic(source, self.root / pdf_path)
            paper = Paper(
                id=paper_id, doi=meta.doi, title=meta.title, authors=meta.authors, year=meta.year,
                pages=parsed.page_count, lang=meta.lang, venue=meta.venue, title_alt=meta.title_alt,
                abstract=meta.abstract, abstract_alt=meta.abstract_alt, keywords=meta.keywords,
                keywords_alt=meta.keywords_alt, sha256=parsed.sha256, source_path=parsed.source_path,
                figures=len(figures), chunks=len(chunks), added_at=now(), licence=meta.licence,
            )
            tables = [{"id": f"{paper_id}-t{i}", "paper_id": paper_id, "page": t.page, "label": t.label,
                       "caption": t.caption, "text": t.text} for i, t in enumerate(parsed.tables)]
            record = PaperRecord(paper, pdf_path, parsed.references, parsed.warnings, chunks, terms,
                                 vectors, figures, tables, author_affiliations=meta.author_affiliations)
            self.catalogue.write_paper(record, replaces=replaces)
            for old in replaces:
                self._delete_files(old)
            return ("replaced" if replaces else "added"), paper

    def _write_figures(self, paper_id: str, parsed: ParsedPaper) -> list[dict]:
        folder = self.root / "figures" / paper_id
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for ordinal, fig in enumerate(parsed.figures):
            name = f"{ordinal:03d}-p{fig.page}.png"
            tmp = folder / (name + ".tmp")
            tmp.write_bytes(fig.png)
            os.replace(tmp, folder / name)
            rows.append({"id": f"{paper_id}-f{ordinal}", "paper_id": paper_id, "ordinal": ordinal,
                         "page": fig.page, "bbox": json.dumps([round(v, 1) for v in fig.bbox]),
                         "kind": fig.kind, "label": fig.label, "caption": fig.caption,
                         "mentions": json.dumps(list(fig.mentions), ensure_ascii=False),
                         "image_path": f"figures/{paper_id}/{name}", "width": fig.width, "height": fig.height})
        return rows

    def remove_paper(self, paper_id: str) -> None:
        with self._lock:
            self.catalogue.delete_paper(paper_id)
            self._delete_files(paper_id)

    def _delete_files(self, paper_id: str) -> None:
        shutil.rmtree(self.root / "figures" / paper_id, ignore_errors=True)
        (self.root / "pdfs" / f"{paper_id}.pdf").unlink(missing_ok=True)
        (self.root / RECORDS / f"{paper_id}.json").unlink(missing_ok=True)

    # -- metadata records (assistant.records) ---------------------------------------------------
    def add_record(self, record: PaperRecord, copy: dict) -> tuple[str, Paper]:
        """Store a metadata-only paper (source 'record') and keep `copy` (its JSON, for a rebuild)
        in records/<id>.json. Returns (status, paper): "unchanged" (this record is stored),
        "skipped" (a PDF holds its DOI: the full text wins, and `paper` is that PDF), "replaced"
        (an older record of its DOI) or "added"."""
        paper = record.paper
        with self._lock:
            existing = self.catalogue.paper_by_sha(paper.sha256)
            if existing is not None:
                return "unchanged", existing
            same_doi = self.catalogue.papers("p.doi=?", (paper.doi,)) if paper.doi else []
            pdf = next((p for p in same_doi if p.source != "record"), None)
            if pdf is not None:
                return "skipped", pdf
            self._write_record_copy(paper.id, copy)  # before the row, like a PDF copy (see collect_garbage)
            replaces = [p.id for p in same_doi]
            self.catalogue.write_paper(record, replaces=replaces)
            for old in replaces:
                self._delete_files(old)
            return ("replaced" if replaces else "added"), paper

    def update_record(self, record: PaperRecord, copy: dict, rechunk: bool) -> None:
        """Rewrite a stored record in place (Catalogue.update_record) with its stored copy."""
        with self._lock:
            self._write_record_copy(record.paper.id, copy)
            self.catalogue.update_record(record, rechunk)

    def _write_record_copy(self, paper_id: str, copy: dict) -> None:
        # tmp + rename without fsync: a killed process never leaves half a file, and fsync per
        # record made a 5,000-record file spend most of its time waiting on the disk.
        folder = self.root / RECORDS
        folder.mkdir(exist_ok=True)
        tmp = folder / f"{paper_id}.json.tmp"
        tmp.write_text(json.dumps(copy, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / f"{paper_id}.json")

    def collect_garbage(self) -> int:
        """Delete figure folders and PDFs of papers that are not in the catalogue (left by a crash)."""
        with self._lock:  # add_paper writes a paper's files before its row: never between the two
            known = {p.id for p in self.catalogue.papers()}
            removed = 0
            records = list((self.root / RECORDS).iterdir()) if (self.root / RECORDS).is_dir() else []
            for path in list((self.root / "figures").iterdir()) + list((self.root / "pdfs").iterdir()) + records:
                if path.name.split(".")[0] not in known:
                    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                    removed += 1
            return removed

    def disk_usage(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
