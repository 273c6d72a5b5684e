"""Extractive answering: choose the question's best evidence sentences from retrieved passages.

Every passage is cut into sentences (the chunker's own splitter), each sentence is scored against
the question, and a few are chosen with maximal marginal relevance so that the answer does not say
the same thing twice. The answer is made only of those sentences, verbatim, so it never contains a
word that is not in a paper; citing them is exact by construction.

A sentence's score mixes two signals:

- ``coverage``: the IDF-weighted share of the question's terms (``assistant.lexical.tokenize``:
  stemmed English, jieba-segmented Chinese) that occur in the sentence or its immediate neighbours
  (evidence often spans two sentences: "We measured X. It was 55 ms."). Rare words carry the
  meaning of a question; IDF comes from the library's BM25 index.
- ``dense``: MiniLM cosine between the question and the sentence (an English model: for Chinese it
  is weak, so coverage carries Chinese questions).

The sum is multiplied by a prior on the sentence's kind (``assistant.sentence_kinds``: keyword
lines, captions and back matter weigh less, a definition asked for more). Ties go to the sentence
of the better-ranked passage. Measured and dropped on the dev questions: a prior on the passage's
rank (0.1 / 0.2 / 0.4 never beat 0) and a bonus for stating a number when the question asks "how
many"/"多少" (cited gold 66 -> 65 / 65 / 64 of 91 at 0.05 / 0.1 / 0.2).

The weights were set on the dev questions (eval/score_answers.py prints the effect); the same
scores feed the abstention decision in ``assistant.answering``. Sentence vectors are cached per
chunk id (an LRU), so repeated questions over the same passages skip the embedder; the server's
warm-up saves them and reads them back at the next start (``SentenceCache.save`` / ``load``).
"""
from __future__ import annotations

import itertools
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.lexical import has_cjk, tokenize
from assistant.lexicon import concepts, gloss_text
from assistant.protocols import Embedder
from assistant.sentence_kinds import Asked, asks_about_back_matter, back_matter, kind_share, read_question
from assistant.types import Chunk, ScoredChunk
from ingest.chunking import split_sentences

W_COVERAGE, W_DENSE = 0.4, 0.4
NEIGHBOUR_SHARE = 0.5  # a term found only in a neighbouring sentence counts half
DENSE_POOL = 16  # sentences embedded per question: dev cited-gold is the same as embedding all (80.2%)
RESCORE_TOP = 6  # at most this many near-ties with the best are re-scored at full precision (rescore_with)
# int8 moves a question-sentence cosine by 0.010 on average, 0.035 at p99 (741 dev pairs); a score
NEAR_TIE = 0.02  # by W_DENSE times that, and two sentences' errors can add up
FEW_SENTENCES = 3  # an answer shorter than this takes more than one sentence from a passage
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


@dataclass
class _Passage:
    texts: list[str]
    terms: list[set[str]]
    vectors: np.ndarray  # rows filled on demand; `done` marks which
    done: np.ndarray


class SentenceCache:
    """Per chunk: its sentences, their terms, and their vectors embedded on demand (LRU; chunks
    never change in place). Only sentences that might be chosen are embedded: embedding all ~150
    sentences of 15 passages cost 280 ms a question on 2 cores; the best 16 by term coverage choose
    the same answers."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict[str, _Passage] = OrderedDict()
        self._lock = threading.Lock()
        self._stored: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # chunk id -> (indices, vectors), from load

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def passages(self, hits: Sequence[ScoredChunk], dim: int) -> list[_Passage]:
        return self._passages([hit.chunk for hit in hits], dim)

    def _passages(self, chunks: Sequence[Chunk], dim: int) -> list[_Passage]:
        with self._lock:
            out = []
            for chunk in chunks:
                item = self._items.get(chunk.id)
                if item is None:
                    texts = split_passage(chunk.text)
                    item = _Passage(texts, [set(tokenize(t)) for t in texts],
                                    np.zeros((len(texts), dim), np.float32), np.zeros(len(texts), bool))
                    stored = self._stored.pop(chunk.id, None)
                    if stored is not None and stored[1].shape[1] == dim and stored[0].max() < len(texts):
                        item.vectors[stored[0]] = stored[1]
                        item.done[stored[0]] = True
                    self._items[chunk.id] = item
                self._items.move_to_end(chunk.id)
                out.append(item)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return out

    def prime(self, chunks: Iterable[Chunk], embedder: Embedder, seconds: float, batch: int = 64) -> int:
        """Split and embed the English sentences of `chunks` ahead of questions, until the cache is
        full or `seconds` have passed; return the passages primed. A question's first sight of a
        passage otherwise costs its sentence vectors: on the 33-paper corpus (9,672 English
        sentences, 24 s to embed on 2 cores) a cold server answered ~9 questions/s for its first
        seconds, a warm one ~70; primed at start-up, eval/bench_load.py (50 clients, a PDF
        ingested) went from p99 5.2 s to 1.26 s."""
        deadline, done, group = time.monotonic() + seconds, 0, []
        for chunk in itertools.chain(chunks, [None]):
            if chunk is not None:
                group.append(chunk)
                if len(group) < batch:
                    continue
            if not group or time.monotonic() > deadline or done >= self.size:
                break
            passages = self._passages(group, embedder.dim)
            self.embed([(p, i) for p in passages for i, text in enumerate(p.texts) if not has_cjk(text, 0.2)],
                       embedder)
            done, group = done + len(group), []
        return done

    def save(self, path: Path) -> int:
        """Write the sentence vectors embedded so far to `path` (atomically); return how many.
        With `load`, a restarted server skips re-embedding them (~24 s for the 33-paper corpus)."""
        with self._lock:
            rows = [(cid, np.flatnonzero(p.done), p.vectors[p.done]) for cid, p in self._items.items() if p.done.any()]
        if not rows:
            return 0
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(scratch, ids=np.array([r[0] for r in rows]), counts=np.array([len(r[1]) for r in rows]),
                 indices=np.concatenate([r[1] for r in rows]), vectors=np.concatenate([r[2] for r in rows]))
        os.replace(scratch, path)
        return sum(len(r[1]) for r in rows)

    def load(self, path: Path) -> int:
        """Take the vectors `save` wrote (the caller names the file after the library's fingerprint,
        so they come from the same embedder and chunks); passages pick them up when first read.
        Return how many; a missing or unreadable file gives 0."""
        try:
            with np.load(path, allow_pickle=False) as data:
                ids, counts, indices, vectors = data["ids"], data["counts"], data["indices"], data["vectors"]
        except (OSError, ValueError, KeyError):
            return 0
        with self._lock:
            start = 0
            for cid, count in zip(ids.tolist(), counts.tolist()):
                self._stored[cid] = (indices[start:start + count], vectors[start:start + count])
                start += count
        return int(counts.sum())

    def embed(self, wanted: Sequence[tuple[_Passage, int]], embedder: Embedder) -> None:
        """Make sure the given (passage, sentence index) pairs have vectors. A sentence's vector must
        not depend on the sentences embedded with it (else an answer depended on the questions asked
        before: 31 of the 110 dev answers changed with their order); the int8 embedders see to that
        by embedding one text per forward pass (``embeddings.sentence.INT8_BATCH_SIZE``)."""
        todo = list({(id(p), i): (p, i) for p, i in wanted if not p.done[i]}.values())
        if todo:
            vectors = embedder.embed_documents([p.texts[i] for p, i in todo])
            for (passage, i), vector in zip(todo, vectors):
                passage.vectors[i] = vector
                passage.done[i] = True

    def full(self, hit: ScoredChunk, embedder: Embedder) -> _Passage:
        """A passage with every sentence embedded (for checking a model's claims against it)."""
        passage = self.passages([hit], embedder.dim)[0]
        self.embed([(passage, i) for i in range(len(passage.texts))], embedder)
        return passage


def split_passage(text: str) -> list[str]:
    """Sentences of a passage, with tiny fragments joined to the sentence before them. Every
    sentence is an exact slice of `text`, so a quote can always be found in its passage."""
    spans: list[list[int]] = []
    for start, end in split_sentences(text):
        if spans and (end - start < MIN_CHARS or spans[-1][1] - spans[-1][0] < MIN_CHARS // 2):
            spans[-1][1] = end
        else:
            spans.append([start, end])
    out = []
    for start, end in spans:
        piece = text[start:end].strip()
        if len(piece) > MAX_CHARS:
            # PDF text often loses the space after a full stop ("network.With"): cut there too.
            out.extend(p.strip() for p in _LONG_CUT.split(piece) if p.strip())
        else:
            out.append(piece)
    return out


def score_sentences(
    question: str,
    hits: Sequence[ScoredChunk],
    embedder: Embedder,
    idf: Callable[[Sequence[str]], dict[str, float]],
    cache: SentenceCache,
    alternates: dict[str, set[str]] | None = None,
    precise: tuple[Embedder, SentenceCache] | None = None,
    rescore: int = RESCORE_TOP,
) -> list[Sentence]:
    """Every sentence of `hits`, scored against `question`, best first. `alternates`: more forms
    that count as finding a question term (the other form of an abbreviation the papers define).
    `precise`: a full-precision embedder (and its own sentence cache) that re-scores the best
    `rescore` sentences (`rescore_with`)."""
    wanted = concepts(tokenize(question))  # each term with its CC-CEDICT translations
    asked = read_question(question)  # a definition question's subject, a question about findings
    back = asks_about_back_matter(question)
    if alternates:
        wanted = [(t, forms | alternates.get(t, set())) for t, forms in wanted]
    weights = idf([t for t, _ in wanted]) if wanted else {}
    total = sum(weights.values()) or 1.0
    # MiniLM reads English only: English sentences are compared with the question, or for a
    # Chinese question with its word-by-word English gloss (assistant.lexicon.gloss_text).
    english_question = not has_cjk(question, share=0.2)
    probe = question if english_question else gloss_text(question)
    english = bool(probe)
    query = embedder.embed_query(probe) if english else None
    passages = cache.passages(hits, embedder.dim)
    rows = []  # (rank, passage, index, coverage)
    for rank, passage in enumerate(passages):
        terms = passage.terms
        for i in range(len(passage.texts)):
            near = (terms[i - 1] if i > 0 else set()) | (terms[i + 1] if i + 1 < len(terms) else set())
            got = sum(weights[t] if not forms.isdisjoint(terms[i])
                      else NEIGHBOUR_SHARE * weights[t] if not forms.isdisjoint(near) else 0.0
                      for t, forms in wanted)
            rows.append((rank, passage, i, got / total))
    # The dense signal is used for English sentences only; otherwise coverage stands in for it.
    # Only the sentences that can still win are embedded: the best by coverage times the kind's
    # prior (ties to better passages); one outside the pool gets no similarity even when its
    # vector is cached from an earlier question (an answer would depend on the questions before).
    pooled: set[tuple[int, int]] = set()
    if english:
        pool = [r for r in sorted(rows, key=lambda r: (-r[3] * kind_share(r[1].texts[r[2]], asked), r[0]))
                if not has_cjk(r[1].texts[r[2]], 0.2)]
        cache.embed([(p, i) for _, p, i, _ in pool[:DENSE_POOL]], embedder)
        pooled = {(id(p), i) for _, p, i, _ in pool[:DENSE_POOL]}
    scored: list[Sentence] = []
    behind = [[False] * len(p.texts) if back else back_matter(h.chunk.section, p.texts) for h, p in zip(hits, passages)]
    for rank, passage, i, coverage in rows:
        dense = (id(passage), i) in pooled
        d = float(passage.vectors[i] @ query) if dense else 0.0
        unpooled = english and not dense and not has_cjk(passage.texts[i], 0.2)  # (else it beat its equals)
        scored.append(Sentence(hits[rank], rank, i, passage.texts[i], coverage, d,
                               _score(passage.texts[i], coverage, d if dense or unpooled else None, asked,
                                      behind[rank][i])))
    scored.sort(key=lambda s: (-s.score, s.rank))
    if precise is not None and english and rescore > 0:
        near = [s for s in scored[:DENSE_POOL] if (id(passages[s.rank]), s.index) in pooled
                and s.score >= scored[0].score - NEAR_TIE]
        scored = rescore_with(scored, near[:rescore], probe, *precise, asked=asked, back=back)
    return scored


def rescore_with(scored: list[Sentence], top: Sequence[Sentence], probe: str, embedder: Embedder,
                 cache: SentenceCache, asked: Asked = Asked(), back: bool = False) -> list[Sentence]:
    """`scored` with the dense part of the `top` sentences' scores recomputed by a full-precision
    `embedder`, re-sorted.

    int8 vectors sit ~0.01-0.035 cosine from the fp32 ones, as much as separates the best few
    sentences of a question, so int8 decides near-ties by noise. Embedding every candidate in fp32
    costs twice as much per sentence; the cascade (int8 for the pool, fp32 for the sentences within
    NEAR_TIE of the best, at most RESCORE_TOP) keeps the gain. Dev answerable citing gold / ask p50:
    int8 only 79.1% / 80 ms; fp32 for the best 3 / 6: 80.2 / 81.3%, 106 / 134 ms; for those within
    0.01 / 0.02 / 0.04 of the best: 80.2 / 81.3 / 80.2%, 91 / 91 / 103 ms; all 16: 81.3% / 143 ms.
    """
    if not top:
        return scored
    query = embedder.embed_query(probe)
    passages = cache.passages([s.hit for s in top], embedder.dim)
    cache.embed([(p, s.index) for p, s in zip(passages, top)], embedder)
    fresh = {}
    for passage, s in zip(passages, top):
        dense = float(passage.vectors[s.index] @ query)
        behind = not back and back_matter(s.hit.chunk.section, passage.texts)[s.index]
        fresh[(s.rank, s.index)] = replace(s, dense=dense, score=_score(s.text, s.coverage, dense, asked, behind))
    rescored = [fresh.get((s.rank, s.index), s) for s in scored]
    rescored.sort(key=lambda s: (-s.score, s.rank))
    return rescored


def _score(text: str, coverage: float, dense: float | None, asked: Asked = Asked(), in_back_matter: bool = False) -> float:
    """Coverage and dense similarity (`dense` None: coverage alone), times the kind's prior."""
    score = (W_COVERAGE * coverage + W_DENSE * max(0.0, dense) if dense is not None
             else (W_COVERAGE + W_DENSE) * coverage)
    return score * kind_share(text, asked, in_back_matter)


def rerank_by_sentences(hits: Sequence[ScoredChunk], sentences: Sequence[Sentence], weight: float,
                        rrf_k: int = 10) -> list[ScoredChunk]:
    """Passages re-ordered by reciprocal-rank fusion of their retrieval rank and the rank of their
    best evidence sentence (`sentences`: `score_sentences` over these hits). BM25 finds the right
    paper but often ranks a passage that repeats the question's words above the one that answers
    it; the sentence scores see which single sentence (with its neighbours) says it."""
    best: dict[int, float] = {}
    for s in sentences:
        best[s.rank] = max(best.get(s.rank, float("-inf")), s.score)
    by_sentence = {rank: n for n, rank in enumerate(sorted(best, key=lambda r: (-best[r], r)))}
    fused = [1.0 / (rrf_k + i) + (weight / (rrf_k + by_sentence[i]) if i in by_sentence else 0.0)
             for i in range(len(hits))]
    order = sorted(range(len(hits)), key=lambda i: (-fused[i], i))
    return [replace(hits[i], score=round(fused[i], 6)) for i in order]


def select_sentences(
    sentences: Sequence[Sentence],
    cache: SentenceCache,
    embedder: Embedder,
    n: int,
    mmr_lambda: float,
    floor: float = 0.75,
) -> list[Sentence]:
    """Up to n sentences by maximal marginal relevance, none scoring under `floor` x the best.

    The best sentence leads (the direct answer first), the others follow in reading order, grouped
    by paper (the best paper first).
    """
    best = sentences[0].score if sentences else 0.0
    pool = [s for s in sentences[:60] if s.score >= floor * best and len(s.text) >= MIN_CHARS]
    # Redundancy is term overlap (Jaccard), which needs no embedding and works for Chinese too.
    terms = {(s.hit.chunk.id, s.index): set(tokenize(s.text)) for s in pool}
    chosen: list[Sentence] = []
    passed: list[Sentence] = []  # second sentences of a chosen passage, in the order they came up
    while pool and len(chosen) < n:
        def mmr(s: Sentence) -> float:  # the score, less the redundancy with what is chosen
            if not chosen:
                return s.score
            mine = terms[(s.hit.chunk.id, s.index)]
            redundancy = max(len(mine & terms[(c.hit.chunk.id, c.index)]) / (len(mine | terms[(c.hit.chunk.id, c.index)]) or 1)
                             for c in chosen)
            return mmr_lambda * s.score - (1 - mmr_lambda) * redundancy

        pick = max(pool, key=mmr)
        pool.remove(pick)
        # The same sentence can sit in two overlapping chunks: keep one copy. One sentence per
        # passage: a wider answer finds the evidence more often (dev: 75.8% -> 80.2% cited, n=5).
        if any(_same_text(pick.text, c.text) for c in chosen):
            continue
        (passed if any(pick.hit.chunk.id == c.hit.chunk.id for c in chosen) else chosen).append(pick)
    # One passage holding nearly all the evidence (a Chinese paper's English abstract) fills a short
    # answer with its next-best sentences: one sentence missed "China faces three core challenges".
    for s in passed:
        if len(chosen) < min(n, FEW_SENTENCES) and not any(_same_text(s.text, c.text) for c in chosen):
            chosen.append(s)
    first_seen = {}
    for s in chosen:
        first_seen.setdefault(s.hit.paper.id, len(first_seen))
    return chosen[:1] + sorted(chosen[1:], key=lambda s: (first_seen[s.hit.paper.id], s.hit.chunk.char_start, s.index))


def select_per_paper(
    sentences: Sequence[Sentence],
    cache: SentenceCache,
    embedder: Embedder,
    n: int,
    mmr_lambda: float,
    papers: int = 4,
    floor: float = 0.75,
) -> list[Sentence]:
    """For a question about several papers: up to ceil(n / their number) sentences from each of
    the best `papers` papers (in the order retrieval ranked them), each paper judged against its own
    best sentence, so the strongest paper cannot crowd the others out."""
    order = list(dict.fromkeys(s.hit.paper.id for s in sorted(sentences, key=lambda s: s.rank)))[:papers]
    each = max(1, -(-n // max(1, len(order))))
    chosen: list[Sentence] = []
    for paper_id in order:
        own = [s for s in sentences if s.hit.paper.id == paper_id]
        chosen.extend(select_sentences(own, cache, embedder, each, mmr_lambda, floor))
    return chosen


def _same_text(a: str, b: str) -> bool:
    a, b = a.strip().lower(), b.strip().lower()  # one sentence, or one inside a longer copy
    return a == b or (min(len(a), len(b)) > 40 and (a in b or b in a))


def strip_markers(text: str) -> str:
    """Remove the paper's own reference markers ("[12]", "[3-5]") so they are not read as ours."""
    return re.sub(r"\s{2,}", " ", _MARKER_LIKE.sub("", text)).strip()
