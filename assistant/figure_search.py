"""Figure search (图片检索): find figures by keywords, in Chinese or English.

Each figure is indexed by its caption, the body sentences that mention it ("as shown in Fig. 3"),
and its paper's title and keywords (both languages). Ranked lists are fused by reciprocal
rank, as for passages (``assistant.retrieval.fuse_ranks``):

- BM25 over those texts with the query's own words, and (lighter) with their CC-CEDICT
  translations (``assistant.lexicon``), so "流程图" also finds "flow chart";
- MiniLM over the caption and first mention (a Chinese caption's word-by-word English gloss),
  against the query (English) or its gloss (Chinese);

The index is built on first use per library generation (one embedding pass over the captions,
~1 s for a few hundred figures) and cached with the passage indexes.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from assistant.lexical import LexicalIndex, has_cjk, require_terms, tokenize, whole_words
from assistant.lexicon import expand_terms, gloss_text
from assistant.library import Library
from assistant.protocols import Embedder
from assistant.retrieval import fuse_ranks
from assistant.types import Paper

TRANSLATED_WEIGHT = 0.5  # the query's CC-CEDICT translations, against its own words' 1.0
DENSE_WEIGHT = 0.5  # against BM25's 1.0; dev figure items, gold in top 3 at 0.3 / 0.5 / 1.0: 84 / 84 / 78%
# (as first scored, with a stricter matcher than eval/score_figures_search.py's is_gold)


@dataclass(frozen=True)
class FigureHit:
    figure_id: str
    paper: Paper
    page: int
    label: str
    caption: str
    image_path: str  # absolute path of the PNG
    score: float


class FigureIndex:
    def __init__(self, rows: list, papers: dict[str, Paper], embedder: Embedder):
        self.rows = rows
        self.papers = papers
        docs = []
        dense_texts = []
        for row in rows:
            paper = papers[row["paper_id"]]
            mentions = " ".join(_json_list(row["mentions"]))
            meta = " ".join([paper.title, paper.title_alt, *paper.keywords, *paper.keywords_alt])
            docs.append(tokenize(f"{row['label']} {row['caption']} {mentions} {meta}"))
            dense_texts.append(f"{row['caption']} {mentions[:300]}".strip() or paper.title)
        self.lexical = LexicalIndex(docs)
        english = [not has_cjk(t, share=0.2) for t in dense_texts]  # caption language
        # MiniLM reads a Chinese caption as its word-by-word English gloss (assistant.lexicon): else
        # a Chinese figure could rank only through BM25, while an English one collects the dense and
        # translated lists too, and for "胖树 Spine-Leaf Torus Dragonfly Slim Fly 数据中心拓扑示意图" a
        # Drosophila legend long enough to say "flies" often outranked the figure BM25 put first by far.
        dense_texts = [t if is_english else gloss_text(t) for t, is_english in zip(dense_texts, english)]
        # a Chinese caption with no word in the lexicon has no English reading: MiniLM's vector of its
        # raw characters is noise, so it stays out of the dense list (BM25 still finds it)
        self.readable = np.array([bool(t.strip()) for t in dense_texts], dtype=bool)
        self.chinese = np.array([papers[r["paper_id"]].lang == "zh" for r in rows], dtype=bool)  # paper language
        self.vectors = embedder.embed_documents(dense_texts) if dense_texts else np.zeros((0, embedder.dim), np.float32)


def _json_list(text: str) -> list[str]:
    import json

    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def figure_index(library: Library, embedder: Embedder) -> FigureIndex:
    """The figure index of the library's current generation (built once, then cached)."""
    indexes = library.indexes()
    cached = getattr(indexes, "figure_index", None)
    if cached is None:
        rows = library.catalogue.all_figures()
        papers = {p.id: p for p in library.catalogue.papers()}
        cached = FigureIndex([r for r in rows if r["paper_id"] in papers], papers, embedder)
        indexes.figure_index = cached
    return cached


def search_figures(library: Library, embedder: Embedder, query: str, k: int = 10,
                   paper_ids: Collection[str] | None = None) -> list[FigureHit]:
    """The k best figures for the query; only figures of `paper_ids` when given (a topic's papers)."""
    query = (query or "").strip()
    if not query:
        raise ValueError("give some keywords to search figures for")
    require_terms(query, "search")
    if not 1 <= k <= 100:
        raise ValueError("k must be between 1 and 100")
    index = figure_index(library, embedder)
    if not index.rows:
        return []
    # jieba's parts of a compound: in a caption of a few words one shared part is a strong match,
    # and "系统发育树" (phylogenetic tree) ranked "图3 原型系统拓扑" (prototype system topology) first.
    # The captions keep their parts, so the whole word still finds them.
    terms = whole_words(tokenize(query))
    depth = min(len(index.rows), max(50, 5 * k))
    # Translated words get their own, lighter list: mixed into the query they let an English
    # paper full of "flow" and "switch" outrank the Chinese figure captioned "移动切换流程".
    # ... and they only search papers of the other language (an English query's Chinese words would
    # otherwise match Chinese papers' own English metadata, and vice versa).
    zh = has_cjk(query, share=0.2)
    other = ~index.chinese if zh else index.chinese
    wanted = None if paper_ids is None else set(paper_ids)
    allowed = None if wanted is None else np.array([r["paper_id"] in wanted for r in index.rows], dtype=bool)
    if allowed is not None:
        other = other & allowed
    lists = {"lexical": index.lexical.search(terms, depth, mask=allowed),
             "translated": index.lexical.search(expand_terms(terms), depth, mask=other)}
    probe = gloss_text(query) if zh else query
    if probe:
        # every caption is compared in English (a Chinese one through its gloss; its raw vector was
        # noise that ranked unrelated Chinese figures above the one captioned with the query's words)
        usable = index.readable if allowed is None else allowed & index.readable
        sims = np.where(usable, index.vectors @ embedder.embed_query(probe), -1.0)
        top = [i for i in np.argsort(-sims)[:depth] if usable[i]]
        lists["dense"] = [(int(i), float(sims[i])) for i in top]
    fused = fuse_ranks(lists, {"lexical": 1.0, "translated": TRANSLATED_WEIGHT, "dense": DENSE_WEIGHT}, 60)[:k]
    hits = []
    for row_index, score, _ in fused:
        row = index.rows[row_index]
        hits.append(FigureHit(row["id"], index.papers[row["paper_id"]], row["page"], row["label"], row["caption"],
                              str(library.root / row["image_path"]), round(score, 6)))
    return hits
