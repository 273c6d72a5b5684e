"""Hybrid passage retrieval: dense (FAISS) + lexical (BM25) candidates fused by weighted
reciprocal rank, with DOI and year filters applied inside both indexes.

Why weighted: on the dev questions BM25 over segmented text finds the evidence far more often than
MiniLM for Chinese queries (MiniLM is English-only), and a plain, equal-weight RRF let the weak
signal drag the strong one down (Chinese top-5: BM25 90%, RRF 60%). The dense weight therefore
depends on the query's language (``RetrievalSettings.dense_weight_en/zh``, calibrated with
``eval/score_retrieval.py``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.lexical import has_cjk, tokenize
from assistant.library import Library
from assistant.protocols import Embedder
from assistant.settings import RetrievalSettings
from assistant.types import ScoredChunk


@dataclass(frozen=True)
class Filters:
    """Restrict a search to some papers. Empty means no restriction."""

    dois: tuple[str, ...] = ()
    paper_ids: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None

    def is_empty(self) -> bool:
        return not (self.dois or self.paper_ids or self.year_from or self.year_to)

    def sql(self) -> tuple[str, list]:
        clauses, args = [], []
        if self.dois:
            clauses.append(f"p.doi IN ({','.join('?' * len(self.dois))})")
            args += [d.lower() for d in self.dois]
        if self.paper_ids:
            clauses.append(f"p.id IN ({','.join('?' * len(self.paper_ids))})")
            args += list(self.paper_ids)
        if self.year_from:
            clauses.append("p.year >= ?")
            args.append(self.year_from)
        if self.year_to:
            clauses.append("p.year <= ?")
            args.append(self.year_to)
        return " AND ".join(clauses), args


def parse_years(text: str | None) -> tuple[int | None, int | None]:
    """'2020-2024' -> (2020, 2024); '2021' -> (2021, 2021); '2020-' -> (2020, None)."""
    if not text:
        return None, None
    start, _, end = text.partition("-")
    try:
        first = int(start) if start.strip() else None
        last = int(end) if end.strip() else (first if not _ else None)
    except ValueError as exc:
        raise ValueError(f"years must look like 2020-2024 or 2021, not {text!r}") from exc
    return first, last


def query_language(query: str) -> str:
    return "zh" if has_cjk(query, share=0.2) else "en"


def retrieve(
    library: Library,
    embedder: Embedder,
    query: str,
    settings: RetrievalSettings,
    *,
    k: int | None = None,
    filters: Filters = Filters(),
) -> list[ScoredChunk]:
    """The k best passages for `query`, best first."""
    k = k or settings.k
    query = query.strip()
    if not query:
        return []
    indexes = library.indexes()
    allowed: list[int] | None = None
    mask: np.ndarray | None = None
    if not filters.is_empty():
        where, args = filters.sql()
        allowed = library.catalogue.chunk_rowids(where, args)
        mask = np.zeros(len(indexes.rowids), dtype=bool)
        for rowid in allowed:
            row = indexes.row_of.get(rowid)
            if row is not None:
                mask[row] = True
        if not allowed:
            return []
    depth = max(settings.candidates, k)
    dense = indexes.dense.search(embedder.embed_query(query), depth, allowed=allowed)
    lexical = [(int(indexes.rowids[row]), score)
               for row, score in indexes.lexical.search(tokenize(query), depth, mask=mask)]
    weight = settings.dense_weight_zh if query_language(query) == "zh" else settings.dense_weight_en
    fused = fuse_ranks({"dense": dense, "lexical": lexical},
                       {"dense": weight, "lexical": 1.0 - weight}, settings.rrf_k)
    top = fused[:k]
    chunks = library.catalogue.chunks([rowid for rowid, *_ in top])
    papers = {}
    hits = []
    for rowid, score, ranks in top:
        chunk = chunks.get(rowid)
        if chunk is None:  # deleted since the index was loaded
            continue
        if chunk.paper_id not in papers:
            papers[chunk.paper_id] = library.catalogue.paper(chunk.paper_id)
        hits.append(ScoredChunk(chunk, papers[chunk.paper_id], score,
                                ranks.get("dense"), ranks.get("lexical")))
    return hits


def fuse_ranks(
    lists: dict[str, Sequence[tuple[int, float]]], weights: dict[str, float], rrf_k: int
) -> list[tuple[int, float, dict[str, int]]]:
    """Weighted reciprocal-rank fusion: sum of weight / (rrf_k + rank) over the lists (rank from 1)."""
    scores: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, hits in lists.items():
        weight = weights.get(name, 1.0)
        for rank, (item, _score) in enumerate(hits, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
            ranks.setdefault(item, {})[name] = rank
    order = sorted(scores, key=lambda item: -scores[item])
    return [(item, scores[item], ranks[item]) for item in order]
