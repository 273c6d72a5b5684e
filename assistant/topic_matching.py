"""Saved queries: a topic's filters as stored JSON, and which papers match its query.

Membership is decided per paper by ``papers_matching`` from what the paper itself says, so a
paper's place in a topic does not depend on how many other papers compete with it:

- ``coverage``: the IDF-weighted share of the query's content terms (``assistant.abstention``'s
  ``content_concepts``: question words dropped, CC-CEDICT translations count) found together in
  one passage: the best of the paper's top passages for the query (``Souwen.search`` restricted to
  the paper: dense + BM25 + cross-language lists) or its title + abstract + keywords;
- ``about``: that share over the title, abstract and keywords alone (both languages);
- ``dense``: MiniLM cosine of the query (a Chinese query's English gloss) with the paper's 3
  closest passages, averaged; 0 for Chinese papers (MiniLM reads English only).

A paper matches when ``coverage >= 0.8`` and (``about >= 0.5`` or ``dense >= 0.42``); a Chinese
query over an English paper (translated words: weaker evidence) needs ``about >= 0.5`` and
``dense >= 0.4``. Measured on the 33 shared papers (data/eval-library), 22 topic queries in
English, Chinese and both, judged by hand: every member has coverage 1.0. Coverage alone also takes
in passing mentions ("wheat" in an ale-yeast paper, "ribosome assembly" in a tRNA-synthetase
paper, "large language models" once in an SH3-motif paper): their ``about`` is 0-0.43 and
``dense`` 0.16-0.44, while members not named in their abstract have ``dense`` 0.54-0.55 (parser 32,
which made the PNAS paper's bold abstract whole and re-cut its passages: that member 0.445, the
highest non-member 0.39; ``DENSE_MIN`` went from 0.45 to 0.42, midway). A
Chinese-only query finds fewer English papers ("DNA修复": 1 of the 4 that "DNA damage repair"
finds): write both ("DNA repair DNA修复"): a query in both scripts is also judged by each part
that has 2+ content terms.

The library-wide refresh (``papers_matching`` without `paper_ids`) scores the papers of the query's
top ``CANDIDATE_PASSAGES`` passages (every corpus member ranked within the top 10); after an ingest
just the new papers are scored. The topics themselves are stored by ``assistant.topics``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.abstention import content_concepts
from assistant.lexical import has_cjk, tokenize
from assistant.retrieval import Filters
from assistant.types import Paper

if TYPE_CHECKING:
    from assistant.service import Souwen

COVERAGE_MIN = 0.8  # every hand-judged corpus member has 1.0 (module docstring)
ABOUT_MIN = 0.5
DENSE_MIN = 0.42
DENSE_CROSS_MIN = 0.4  # the English gloss of a Chinese query scores lower: "DNA修复" 0.40-0.45
PASSAGES = 8  # a paper's top passages for the query, searched for the best-covering one
CANDIDATE_PASSAGES = 400  # refresh: the papers of the query's best passages are scored
_CJK = re.compile(r"[\u3400-\u9fff]+")


@dataclass(frozen=True)
class PaperMatch:
    paper_id: str
    coverage: float
    about: float
    dense: float
    cross: bool  # a Chinese query judged on an English paper through translations

    @property
    def matches(self) -> bool:
        if self.coverage < COVERAGE_MIN:
            return False
        if self.cross:
            return self.about >= ABOUT_MIN and self.dense >= DENSE_CROSS_MIN
        return self.about >= ABOUT_MIN or self.dense >= DENSE_MIN

    @property
    def score(self) -> float:
        return round((self.coverage + max(self.about, self.dense)) / 2, 4)


# -- filters as stored JSON -------------------------------------------------------------------
def filters_json(filters: Filters) -> str:
    return json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in asdict(filters).items() if v},
                      ensure_ascii=False)


def load_filters(data: str | dict | None) -> Filters:
    """Filters from stored JSON, keeping only the fields this version of Filters has (a stored
    field that a later or earlier version lacks is ignored rather than failing the topic)."""
    if isinstance(data, str):
        try:
            data = json.loads(data or "{}")
        except ValueError:
            data = {}
    known = {f.name for f in fields(Filters)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in (data or {}).items() if k in known}
    try:
        return Filters(**values)
    except TypeError:
        return Filters()


# -- membership -------------------------------------------------------------------------------
def query_parts(query: str) -> list[str]:
    """The query, plus its Chinese and its Latin-script parts that name the topic on their own
    (2+ content terms: "DNA修复" stays whole, or "DNA" alone would take in every DNA paper)."""
    zh = " ".join(_CJK.findall(query))
    latin = _CJK.sub(" ", query).strip()
    if not (zh and latin):
        return [query]
    return [query] + [part for part in (zh, latin) if len(content_concepts(part)) >= 2]


def _coverage(wanted, weights: dict[str, float], have: set[str]) -> float:
    found = {t: not forms.isdisjoint(have) for t, forms in wanted}
    # jieba's search mode gives "核糖" beside "核糖体": a found compound finds its parts too
    # (else "核糖体组装" covered only 2/3 of the ribosome-assembly paper).
    for t, _ in wanted:
        if not found[t] and has_cjk(t):
            found[t] = any(found[u] for u, _ in wanted if u != t and t in u)
    total = sum(weights[t] for t, _ in wanted) or 1.0
    return sum(weights[t] for t, _ in wanted if found[t]) / total


def _judge(service: Souwen, part: str, paper: Paper, probe: np.ndarray | None) -> PaperMatch:
    wanted = content_concepts(part)
    if not wanted:
        return PaperMatch(paper.id, 0.0, 0.0, 0.0, False)
    weights = service.library.indexes().lexical.idf([t for t, _ in wanted])
    hits = service.search(part, k=PASSAGES, filters=Filters(paper_ids=(paper.id,)))
    coverage = max((_coverage(wanted, weights, set(tokenize(h.chunk.text))) for h in hits), default=0.0)
    meta = " ".join([paper.title, paper.title_alt, paper.abstract, paper.abstract_alt,
                     *paper.keywords, *paper.keywords_alt])
    about = _coverage(wanted, weights, set(tokenize(meta)))
    # The title, abstract and keywords are a passage too (a short paper may hold its topic only there).
    coverage = max(coverage, about)
    dense = 0.0
    if probe is not None and paper.lang != "zh":
        rowids = service.library.catalogue.chunk_rowids("p.id = ?", [paper.id])
        closest = service.library.indexes().dense.search(probe, 3, allowed=rowids)
        dense = float(np.mean([s for _, s in closest])) if closest else 0.0
    cross = has_cjk(part, share=0.2) and paper.lang != "zh"
    return PaperMatch(paper.id, round(coverage, 4), round(about, 4), round(dense, 4), cross)


def judge_papers(service: Souwen, query: str, papers: Iterable[Paper]) -> list[PaperMatch]:
    """Measure each paper against the query (the best of the query's parts per paper)."""
    from assistant.lexicon import gloss_text

    parts = query_parts(query)
    probes = {}
    for part in parts:
        text = gloss_text(part) if has_cjk(part, share=0.2) else part
        probes[part] = service.embedder.embed_query(text) if text.strip() else None
    judged = []
    for paper in papers:
        options = [_judge(service, part, paper, probes[part]) for part in parts]
        judged.append(max(options, key=lambda m: (m.matches, m.score)))
    return judged


def papers_matching(service: Souwen, query: str, filters: Filters | dict | None = None,
                    paper_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
    """(paper id, score) of the papers that match a saved query, best first; only among
    `paper_ids` when given (new papers), else over the library (the query's best passages)."""
    query = (query or "").strip()
    if not query:
        return []
    filters = filters if isinstance(filters, Filters) else load_filters(filters)
    if paper_ids is not None:
        wanted = set(paper_ids) if not filters.paper_ids else set(paper_ids) & set(filters.paper_ids)
        if not wanted:
            return []
        candidates = service.papers(replace(filters, paper_ids=tuple(sorted(wanted))))
    else:
        hits = service.search(query, k=CANDIDATE_PASSAGES, filters=filters)
        candidates = list({h.paper.id: h.paper for h in hits}.values())
    found = [(m.paper_id, m.score) for m in judge_papers(service, query, candidates) if m.matches]
    return sorted(found, key=lambda item: -item[1])
