"""The service object: one entry point that the CLI (and later the API and UI) call.

It owns the settings, the lazily built embedder and the open library, and exposes the use cases as
verbs (ingest, papers, show, search, remove, info). Returning domain objects, not formatted text,
keeps every front end a thin layer.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answering import Answerer
from assistant.factory import build_embedder, open_library
from assistant.ingestion import IngestSummary, ingest_files
from assistant.library import Library, catalogue_path, library_exists
from assistant.protocols import LLM, Embedder
from assistant.figure_search import FigureHit, search_figures
from assistant.reading import ReadingAssistant
from assistant.retrieval import Filters
from assistant.settings import Settings
from assistant.summaries import Report
from assistant.types import Answer, NotFound, Paper, ScoredChunk

if TYPE_CHECKING:
    from assistant.accounts import Accounts
    from assistant.disciplines import Disciplines
    from assistant.insights import Insights
    from assistant.topics import Topics


class PaperNotFound(NotFound):
    """No paper matches the DOI or id a user gave."""


class Souwen:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, llm: LLM | None = None):
        self.settings = settings
        self._embedder = embedder
        self._library: Library | None = None
        self._llm = llm
        self._answerer: Answerer | None = None
        self._reader: ReadingAssistant | None = None
        self._platform: dict[str, object] = {}  # the platform parts below, built on first use
        self._others: dict[str, Answerer] = {}  # answerers of backends asked for per request
        self._guard = threading.Lock()

    # -- the library platform (issue 6): one object per capability, each given this service --
    def _part(self, name: str, build):
        if name not in self._platform:
            self._platform[name] = build(self)
        return self._platform[name]

    @property
    def disciplines(self) -> Disciplines:
        """学科: the catalogue, per-paper labels and the user's corrections (assistant.disciplines)."""
        from assistant.disciplines import Disciplines

        return self._part("disciplines", Disciplines)

    @property
    def topics(self) -> Topics:
        """专题: saved queries with pinned and matching papers (assistant.topics)."""
        from assistant.topics import Topics

        return self._part("topics", Topics)

    @property
    def accounts(self) -> Accounts:
        """Local users, their API keys, favourites, subscriptions and digests (assistant.accounts)."""
        from assistant.accounts import Accounts

        return self._part("accounts", Accounts)

    @property
    def insights(self) -> Insights:
        """Trends, distributions and collaboration networks (assistant.insights)."""
        from assistant.insights import Insights

        return self._part("insights", Insights)

    def after_ingest(self, paper_ids: Sequence[str]) -> None:
        """What every new paper gets, whether it came as a PDF or a metadata record: discipline
        labels first (topic filters may name a discipline), then topic membership."""
        if paper_ids:
            self.disciplines.classify(paper_ids)
            self.topics.match(paper_ids)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = build_embedder(self.settings.embedder)
        return self._embedder

    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = open_library(self.settings, self.embedder)
        return self._library

    @property
    def llm(self) -> LLM | None:
        """The configured language model, or None for the extractive backend (built lazily)."""
        if self._llm is None and self.settings.llm.backend != "extractive":
            from assistant.llm import build_llm

            self._llm = build_llm(self.settings.llm)
        return self._llm

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None or self._answerer.library is not self.library:
            self._answerer = Answerer(self.library, self.embedder, self.settings, self.llm)
        return self._answerer

    def answerer_for(self, backend: str | None = None) -> Answerer:
        """The answerer of another backend than the configured one (one per backend, built on first
        use, sharing the library, the embedder and the sentence cache); None: the configured one."""
        if backend is None or backend == self.settings.llm.backend:
            return self.answerer
        with self._guard:
            other = self._others.get(backend)
            if other is None or other.library is not self.library:
                from assistant.llm import build_llm

                settings = self.settings.model_copy(
                    update={"llm": self.settings.llm.model_copy(update={"backend": backend})})
                other = Answerer(self.library, self.embedder, settings, build_llm(settings.llm))
                other.cache = self.answerer.cache  # sentence vectors do not depend on the writer
                self._others[backend] = other
        return other

    def ask(self, question: str, *, k: int | None = None, filters: Filters = Filters(),
            history: Sequence[Answer] = (), backend: str | None = None) -> Answer:
        return self.answerer_for(backend).ask(question, k=k, filters=filters, history=history)

    def ask_stream(self, question: str, *, k: int | None = None, filters: Filters = Filters(),
                   history: Sequence[Answer] = (), backend: str | None = None) -> Iterator[str | Answer]:
        return self.answerer_for(backend).stream(question, k=k, filters=filters, history=history)

    @property
    def reader(self) -> ReadingAssistant:
        if self._reader is None or self._reader.answerer is not self.answerer:
            self._reader = ReadingAssistant(self.answerer)
        return self._reader

    def summarize(self, keys: Sequence[str]) -> Report:
        return self.reader.summarize([self.find(k) for k in keys])

    def keypoints(self, keys: Sequence[str], n: int = 5) -> Report:
        return self.reader.keypoints([self.find(k) for k in keys], n)

    def review(self, topic: str, n: int = 10, filters: Filters = Filters()) -> Report:
        return self.reader.review(topic, n, filters)

    def figures(self, query: str, k: int = 10, paper_ids: Sequence[str] | None = None) -> list[FigureHit]:
        """Figures ranked by caption, mentions and paper keywords (assistant.figure_search); only
        those of `paper_ids` when given (a topic's papers)."""
        return search_figures(self.library, self.embedder, query, k, paper_ids=paper_ids)

    def close(self) -> None:
        self._platform.clear()
        self._others.clear()
        if self._library is not None:
            self._library.close()
            self._library = None

    def ingest(self, paths: Iterable[Path], *, recursive: bool = False, workers: int | None = None,
               show_progress: bool = False) -> IngestSummary:
        ingest = self.settings.ingest
        if workers is not None:
            ingest = ingest.model_copy(update={"workers": workers})
        summary = ingest_files(self.library, self.embedder, paths, ingest, self.settings.chunking,
                               recursive=recursive, show_progress=show_progress)
        self.after_ingest([o.paper_id for o in summary.outcomes if o.status in ("added", "replaced")])
        return summary

    def ingest_records(self, paths: Iterable[Path], *, fmt: str | None = None, show_progress: bool = False):
        """Store OA metadata records (JSONL/CSV) as papers without PDFs (assistant.records)."""
        from assistant.records import ingest_record_files

        return ingest_record_files(self, paths, fmt=fmt, show_progress=show_progress)

    def restore_records(self, old_root: Path) -> list:
        """Re-ingest the records kept by the library at `old_root` (a rebuild); their outcomes."""
        from assistant.ingestion import FileOutcome
        from assistant.records import restore_records

        done = restore_records(self, old_root)
        return [FileOutcome(o.path, o.status, o.reason, o.paper_id, o.doi, o.title, chunks=o.chunks)
                for o in done.outcomes]

    def papers(self, filters: Filters = Filters()) -> list[Paper]:
        where, args = filters.sql()
        return self.library.catalogue.papers(where, args)

    def find(self, key: str) -> Paper:
        found = self.library.catalogue.find_papers(key)
        if not found:
            raise PaperNotFound(f"no paper with DOI or id {key!r} in {self.settings.library}")
        if len(found) > 1 and not any(p.doi == key.lower() for p in found):
            raise PaperNotFound(f"{key!r} matches {len(found)} papers; give a longer id")
        return found[0]

    def show(self, key: str) -> dict:
        paper = self.find(key)
        row = self.library.catalogue.paper_row(paper.id)
        figures = [
            {"id": f["id"], "page": f["page"], "kind": f["kind"], "label": f["label"], "caption": f["caption"],
             "image_path": str(self.library.root / f["image_path"]), "width": f["width"], "height": f["height"]}
            for f in self.library.catalogue.figures(paper.id)
        ]
        sections = list(dict.fromkeys(c.section for c in self.library.catalogue.paper_chunks(paper.id) if c.section))
        return {"paper": paper, "figures": figures, "sections": sections,
                "references": json.loads(row["refs"]), "warnings": json.loads(row["warnings"]),
                "pdf_path": str(self.library.root / row["pdf_path"]) if row["pdf_path"] else ""}

    def search(self, query: str, *, k: int | None = None, filters: Filters = Filters()) -> list[ScoredChunk]:
        return self.answerer.search(query, k=k or self.settings.retrieval.k, filters=filters)

    def remove(self, keys: Iterable[str]) -> list[Paper]:
        removed = []
        for key in keys:
            paper = self.find(key)
            self.library.remove_paper(paper.id)
            removed.append(paper)
        if removed:
            self.library.indexes(wait=True)  # save caches that no longer hold the removed chunks
        return removed

    def rebuild(self, *, workers: int | None = None, show_progress: bool = False) -> IngestSummary:
        """Re-ingest the library's stored PDFs with the current settings, then swap it in.

        The new library is built beside the old one and renamed over it only when complete, so an
        interrupted rebuild leaves the old library as it was.
        """
        import shutil

        from assistant.catalogue import Catalogue

        root = Path(self.settings.library)
        if not library_exists(root):
            raise ValueError(f"no library at {root} to rebuild")
        old = Catalogue(catalogue_path(root))
        pdfs = [root / path for path in old.stored_pdfs()]
        old.close()
        staging = root.with_name(root.name + ".rebuild")
        shutil.rmtree(staging, ignore_errors=True)
        builder = Souwen(self.settings.model_copy(update={"library": staging}), self._embedder)
        try:
            summary = builder.ingest(pdfs, workers=workers, show_progress=show_progress)
            summary.outcomes.extend(builder.restore_records(root))  # metadata records (assistant.records)
            builder.library.catalogue.copy_user_data(catalogue_path(root))
        finally:
            builder.close()
        self.close()
        retired = root.with_name(root.name + ".old")
        shutil.rmtree(retired, ignore_errors=True)
        root.rename(retired)
        staging.rename(root)
        shutil.rmtree(retired, ignore_errors=True)
        return summary

    def info(self) -> dict:
        lib = self.library
        return {"library": str(lib.root.resolve()), **lib.catalogue.counts(),
                "embedder": self.embedder.id, "fingerprint": lib.fingerprint,
                "generation": lib.catalogue.generation(), "disk_bytes": lib.disk_usage()}
