"""Extractive answering: choose the question's best evidence sentences from retrieved passages.

Every passage is cut into sentences (the chunker's own splitter), each sentence is scored against
the question, and a few are chosen with maximal marginal relevance so that the answer does not say
the same thing twice. The answer is made only of those sentences, verbatim, so it never contains a
word that is not in a paper; citing them is exact by construction.

A sentence's score mixes three signals:

- ``coverage``: the IDF-weighted share of the question's terms (``assistant.lexical.tokenize``:
  stemmed English, jieba-segmented Chinese) that occur in the sentence or its immediate neighbours
  (evidence often spans two sentences: "We measured X. It was 55 ms."). Rare words carry the
  meaning of a question; IDF comes from the library's BM25 index.
- ``dense``: MiniLM cosine between the question and the sentence (an English model: for Chinese it
  is weak, so coverage carries Chinese questions).
- ``prior``: the passage's rank in hybrid retrieval, so a sentence from the best passage wins ties.

The weights were set on the dev questions (eval/score_answers.py prints the effect); the same
scores feed the abstention decision in ``assistant.answering``. Sentence vectors are cached per
chunk id (an LRU), so repeated questions over the same passages skip the embedder.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.lexical import tokenize
from assistant.protocols import Embedder
from assistant.types import ScoredChunk
from ingest.chunking import split_sentences

W_COVERAGE, W_DENSE, W_PRIOR = 0.6, 0.3, 0.1
NEIGHBOUR_SHARE = 0.5  # a term found only in a neighbouring sentence counts half
MIN_CHARS = 25  # shorter fragments ("(Fig. 3).") join the sentence before them
MAX_CHARS = 400  # longer "sentences" are run-on text: cut them at semicolons and glued full stops
_LONG_CUT = re.compile(r"(?<=[;；])\s*|(?<=[a-z0-9)][.!?])(?=[A-Z][a-z])")
_MARKER_LIKE = re.compile(r"\[\d+(?:[,\u2013-]\s*\d+)*\]")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a retrieved passage with its scores against the question."""

    hit: ScoredChunk
    rank: int  # the passage's rank in retrieval, 0 = best
    index: int  # position of the sentence in its passage
    text: str
    coverage: float
    dense: float
    score: float


class SentenceCache:
    """Per chunk: its sentences, their terms and their vectors (LRU; chunks never change in place)."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict[str, tuple[list[str], list[set[str]], np.ndarray]] = OrderedDict()

    def get(self, hits: Sequence[ScoredChunk], embedder: Embedder) -> list[tuple[list[str], list[set[str]], np.ndarray]]:
        missing = [h for h in hits if h.chunk.id not in self._items]
        if missing:
            texts = [split_passage(h.chunk.text) for h in missing]
            flat = [s for group in texts for s in group]
            vectors = embedder.embed_documents(flat) if flat else np.zeros((0, embedder.dim), np.float32)
            start = 0
            for hit, group in zip(missing, texts):
                terms = [set(tokenize(s)) for s in group]
                self._items[hit.chunk.id] = (group, terms, vectors[start:start + len(group)])
                start += len(group)
        out = []
        for hit in hits:
            self._items.move_to_end(hit.chunk.id)
            out.append(self._items[hit.chunk.id])
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return out


def split_passage(text: str) -> list[str]:
    """Sentences of a passage, with tiny fragments joined to the sentence before them."""
    pieces: list[str] = []
    for start, end in split_sentences(text):
        sentence = text[start:end].strip()
        if pieces and (len(sentence) < MIN_CHARS or len(pieces[-1]) < MIN_CHARS // 2):
            pieces[-1] = f"{pieces[-1]} {sentence}" if not _is_cjk(sentence[:1]) else pieces[-1] + sentence
        else:
            pieces.append(sentence)
    out = []
    for piece in pieces:
        if len(piece) > MAX_CHARS:
            # PDF text often loses the space after a full stop ("network.With"): cut there too.
            out.extend(p.strip() for p in _LONG_CUT.split(piece) if p.strip())
        else:
            out.append(piece)
    return out


def _is_cjk(ch: str) -> bool:
    return bool(ch) and "\u3400" <= ch <= "\u9fff"


def score_sentences(
    question: str,
    hits: Sequence[ScoredChunk],
    embedder: Embedder,
    idf: Callable[[Sequence[str]], dict[str, float]],
    cache: SentenceCache,
) -> list[Sentence]:
    """Every sentence of `hits`, scored against `question`, best first."""
    q_terms = list(dict.fromkeys(tokenize(question)))
    weights = idf(q_terms) if q_terms else {}
    total = sum(weights.values()) or 1.0
    query = embedder.embed_query(question)
    scored: list[Sentence] = []
    for rank, (hit, (texts, terms, vectors)) in enumerate(zip(hits, cache.get(hits, embedder))):
        dense = vectors @ query if len(texts) else np.zeros(0)
        prior = 1.0 / (1.0 + 0.25 * rank)
        for i, text in enumerate(texts):
            near = (terms[i - 1] if i > 0 else set()) | (terms[i + 1] if i + 1 < len(terms) else set())
            got = sum(w if t in terms[i] else NEIGHBOUR_SHARE * w if t in near else 0.0 for t, w in weights.items())
            coverage = got / total
            d = float(dense[i])
            score = W_COVERAGE * coverage + W_DENSE * max(0.0, d) + W_PRIOR * prior
            scored.append(Sentence(hit, rank, i, text, coverage, d, score))
    scored.sort(key=lambda s: -s.score)
    return scored


def select_sentences(
    sentences: Sequence[Sentence],
    cache: SentenceCache,
    embedder: Embedder,
    n: int,
    mmr_lambda: float,
    floor: float = 0.75,
) -> list[Sentence]:
    """Up to n sentences by maximal marginal relevance, none scoring under `floor` x the best.

    Returned in reading order: grouped by paper (the best paper first), then by position.
    """
    if not sentences:
        return []
    best = sentences[0].score
    pool = [s for s in sentences[:60] if s.score >= floor * best and len(s.text) >= MIN_CHARS]
    vectors = {}
    for s in pool:
        _, _, vecs = cache.get([s.hit], embedder)[0]
        vectors[(s.hit.chunk.id, s.index)] = vecs[s.index]
    chosen: list[Sentence] = []
    while pool and len(chosen) < n:
        def mmr(s: Sentence) -> float:
            if not chosen:
                return s.score
            v = vectors[(s.hit.chunk.id, s.index)]
            redundancy = max(float(v @ vectors[(c.hit.chunk.id, c.index)]) for c in chosen)
            return mmr_lambda * s.score - (1 - mmr_lambda) * redundancy

        pick = max(pool, key=mmr)
        pool.remove(pick)
        # The same sentence can sit in two overlapping chunks: keep one copy.
        if any(_same_text(pick.text, c.text) for c in chosen):
            continue
        chosen.append(pick)
    first_seen = {}
    for s in chosen:
        first_seen.setdefault(s.hit.paper.id, len(first_seen))
    return sorted(chosen, key=lambda s: (first_seen[s.hit.paper.id], s.hit.chunk.char_start, s.index))


def _same_text(a: str, b: str) -> bool:
    a, b = a.strip().lower(), b.strip().lower()
    return a == b or (min(len(a), len(b)) > 40 and (a in b or b in a))


def strip_markers(text: str) -> str:
    """Remove the paper's own reference markers ("[12]", "[3-5]") so they are not read as ours."""
    return re.sub(r"\s{2,}", " ", _MARKER_LIKE.sub("", text)).strip()
