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
rank (0.1 / 0.2 / 0.4 never beat 0). A bonus for stating a number when the question asks "how
many"/"多少", added to the score, cost cited gold then (66 -> 65 / 65 / 64 of 91 at 0.05 / 0.1 /
0.2); as a factor of the kind's prior, for numbers standing on their own (not names, citations or
figure pointers), it is kept (``sentence_kinds.QUANTITY_BOOST``).

The weights were set on the dev questions (eval/score_answers.py prints the effect); the same
scores feed the abstention decision in ``assistant.answering``. Passages are split into sentences
and their vectors cached per chunk id by ``assistant.sentence_cache``. A question about several
papers embeds more of each paper's sentences (``DENSE_POOL_EACH``).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, replace

from assistant.lexical import fit_to_vocabulary, has_cjk, tokenize
from assistant.lexicon import concepts, gloss_text
from assistant.protocols import Embedder
from assistant.sentence_cache import MIN_CHARS, SentenceCache
from assistant.sentence_kinds import (Asked, asks_about_back_matter, back_matter, introduces, kind_share,
                                     read_question)
from assistant.types import ScoredChunk
from ingest.textfix import BULLETS

W_COVERAGE, W_DENSE = 0.4, 0.4
NEIGHBOUR_SHARE = 0.5  # a term found only in a neighbouring sentence counts half
DENSE_POOL = 16  # sentences embedded per question: dev cited-gold is the same as embedding all (80.2%)
# A question about several papers: each paper's sentences cover only its part of the question, so
# ranking by coverage left their answers out of the pool (similarity 0). Each paper gets its own pool,
# nearly all its sentences: dev multi-paper answers stating the reference's numbers 41.7 -> 51.4%
# (16 a paper: 43.1%), cited gold unchanged, ask p95 139 -> 165 ms.
DENSE_POOL_EACH = 48
# Several papers: each paper's sentences weigh the question's terms by how few of its chunks hold
# them (`within_paper_weights`). Dev and project multi-paper questions (22), with 12 passages a
# paper: gold evidence cited in 9 / 10 / 12 of 22 at powers 0 / 1 / 2, every gold paper's in 2 / 2 / 3
# (9 and 1 with 8 passages a paper and no weights, as before).
WITHIN_PAPER_POWER = 2
# A question about one paper (nearly all its passages are that paper's: ONE_PAPER_SHARE) weighs its
# terms within each paper too, more gently: "为什么选择熵权法来计算算力节点的基础性能得分" was answered
# by a sentence naming its topic (算力节点, 基础性能, in most of the paper's passages), not by "采用熵权法
# 的目的是由于……". Dev: cited gold 89.0% unchanged (one gained, one lost: VESPA's "The majority of
# functions are written in Python 2.7" shares only "functions", in most of the paper's passages, with
# its question and left the dense pool; pooling by the plain weights lost one more), answers stating
# the reference's numbers 84.5 -> 87.0%; the project's questions: cited 73.2 -> 74.6% (Chinese
# factoid 72.2 -> 77.8%), abstention unchanged. At power 2 / 0.5, dev factoid cited 92.9 -> 89.3 /
# 91.1%; shares 0.6, 0.8 and 0.99 gave the same figures; for every question (no share), cross-language
# ones lost their gold (dev xling en 50 -> 0%): among several papers' passages, a paper's rare words
# weigh more in its own sentences.
ONE_PAPER_SHARE = 0.8
ONE_PAPER_POWER = 1
RESCORE_TOP = 6  # at most this many near-ties with the best are re-scored at full precision (rescore_with)
# int8 moves a question-sentence cosine by 0.010 on average, 0.035 at p99 (741 dev pairs); a score
NEAR_TIE = 0.02  # by W_DENSE times that, and two sentences' errors can add up
# The lead sentence brings the neighbour that holds the question's terms it lacks, when their IDF
# weight is at least this share of the question's: evidence often spans two sentences ("... the
# handover delay was measured. Its maximum was 75 ms ..."), and coverage already counts such a
# neighbour at NEIGHBOUR_SHARE. Dev answers stating the reference's numbers 77.0 -> 80.9% (factoid en
# 77.6 -> 81.4%, zh 75.0 -> 83.3%, multi en 51.4 -> 58.9%), cited gold 83.5% unchanged, at any share
# from 0.0001 to 0.05 (at 0.1: 79.0%). Taking one of the n places instead of adding one cost cited
# gold (82.4%).
MATE_SHARE = 0.05
FEW_SENTENCES = 3  # an answer shorter than this takes more than one sentence from a passage
PaperCounts = tuple[int, Mapping[str, int]]  # a paper's chunk count, and how many of them hold each term
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
    mate: int = -1  # the neighbouring sentence holding most of the question's terms this one lacks
    mate_share: float = 0.0  # their IDF weight, as a share of the question's


def score_sentences(
    question: str,
    hits: Sequence[ScoredChunk],
    embedder: Embedder,
    idf: Callable[[Sequence[str]], dict[str, float]],
    cache: SentenceCache,
    alternates: dict[str, set[str]] | None = None,
    precise: tuple[Embedder, SentenceCache] | None = None,
    rescore: int = RESCORE_TOP,
    per_paper: bool = False,
    paper_counts: Callable[[str], PaperCounts] | None = None,
    vocabulary: Container[str] = frozenset(),
    one_paper: bool = False,
) -> list[Sentence]:
    """Every sentence of `hits`, scored against `question`, best first. `alternates`: more forms
    that count as finding a question term (the other form of an abbreviation the papers define).
    `precise`: a full-precision embedder (and its own sentence cache) that re-scores the best
    `rescore` sentences (`rescore_with`). `per_paper` (a question about several papers) with
    `paper_counts` (a paper's chunk count and each term's chunk frequency): each paper's sentences
    are scored with term weights for that paper (`within_paper_weights`). `vocabulary`: the
    library's words, into which a Chinese word jieba guessed differently is cut (`fit_to_vocabulary`)."""
    wanted = concepts(fit_to_vocabulary(tokenize(question), vocabulary))  # each with its CC-CEDICT translations
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
    rows = []  # (rank, passage, index, coverage, mate, mate_share): see Sentence
    own_weights = {}  # per paper (a question about several papers, or one paper's): weights, their sum
    plain = (weights, total)
    for rank, passage in enumerate(passages):
        terms = passage.terms
        if (per_paper or one_paper) and paper_counts is not None and wanted:
            paper = hits[rank].paper.id
            if paper not in own_weights:
                weighed = within_paper_weights(wanted, plain[0], paper_counts(paper),
                                               WITHIN_PAPER_POWER if per_paper else ONE_PAPER_POWER)
                own_weights[paper] = (weighed, sum(weighed.values()) or 1.0)
            weights, total = own_weights[paper]
        for i in range(len(passage.texts)):
            got, mate, gain = _cover(wanted, terms, i, weights, total)
            rows.append((rank, passage, i, got, mate, gain))
    # The dense signal is used for English sentences only; otherwise coverage stands in for it.
    # Only the sentences that can still win are embedded: the best by coverage times the kind's
    # prior (ties to better passages); one outside the pool gets no similarity even when its
    # vector is cached from an earlier question (an answer would depend on the questions before).
    pooled: set[tuple[int, int]] = set()
    if english:
        pool = [r for r in sorted(rows, key=lambda r: (-r[3] * kind_share(r[1].texts[r[2]], asked), r[0]))
                if not has_cjk(r[1].texts[r[2]], 0.2)]
        pool = _best_of_each_paper(pool, hits, DENSE_POOL_EACH) if per_paper else pool[:DENSE_POOL]
        cache.embed([(r[1], r[2]) for r in pool], embedder)
        pooled = {(id(r[1]), r[2]) for r in pool}
    scored: list[Sentence] = []
    behind = [[False] * len(p.texts) if back else back_matter(h.chunk.section, p.texts) for h, p in zip(hits, passages)]
    opening = [introduces(h.chunk.section) for h in hits]
    for rank, passage, i, coverage, mate, mate_share in rows:
        dense = (id(passage), i) in pooled
        d = float(passage.vectors[i] @ query) if dense else 0.0
        unpooled = english and not dense and not has_cjk(passage.texts[i], 0.2)  # (else it beat its equals)
        scored.append(Sentence(hits[rank], rank, i, passage.texts[i], coverage, d,
                               _score(passage.texts[i], coverage, d if dense or unpooled else None, asked,
                                      behind[rank][i], opening[rank]), mate, mate_share))
    scored.sort(key=lambda s: (-s.score, s.rank))
    if precise is not None and english and rescore > 0:
        near = [s for s in scored[:DENSE_POOL] if (id(passages[s.rank]), s.index) in pooled
                and s.score >= scored[0].score - NEAR_TIE]
        scored = rescore_with(scored, near[:rescore], probe, *precise, asked=asked, back=back)
    return scored


def _cover(wanted: list[tuple[str, set[str]]], terms: Sequence[set[str]], i: int, weights: dict[str, float],
           total: float) -> tuple[float, int, float]:
    """Sentence i's coverage of the question's terms (`weights`, summing to `total`), with its
    neighbours' at NEIGHBOUR_SHARE; the neighbour holding most of the terms it lacks (-1: none) and
    their weight, as shares of `total`."""
    lacking = [(t, forms) for t, forms in wanted if forms.isdisjoint(terms[i])]
    own = sum(weights[t] for t, forms in wanted if not forms.isdisjoint(terms[i]))
    gains = {j: sum(weights[t] for t, forms in lacking if not forms.isdisjoint(terms[j]))
             for j in (i - 1, i + 1) if 0 <= j < len(terms)}
    near = set().union(*(terms[j] for j in gains)) if gains else set()
    got = own + NEIGHBOUR_SHARE * sum(weights[t] for t, forms in lacking if not forms.isdisjoint(near))
    mate, gain = max(gains.items(), key=lambda jg: (jg[1], -jg[0]), default=(-1, 0.0))
    return got / total, (mate if gain > 0 else -1), gain / total


def within_paper_weights(wanted: list[tuple[str, set[str]]], weights: dict[str, float],
                         counts: PaperCounts, power: float = WITHIN_PAPER_POWER) -> dict[str, float]:
    """The question's term weights for one paper's sentences: each IDF weight times (1 - the share
    of the paper's chunks holding the term) ** `power`.

    A question about several papers names each paper's topic ("... assays with frogs or nematodes,
    how a virus in the pathogen or an RNA-editing gene in the host changes survival"), and the
    topic's words are rare in the library, so they outweighed what is asked of the paper: the
    nematode paper answered with "Here, by analyzing adr-1 and adr-2 null mutants ..." (its topic,
    in every passage) over "Survival of animals lacking both adrs was significantly shorter ...".
    Within its paper a topic word tells no sentence from another."""
    chunks, frequency = counts
    shares = {t: max(frequency.get(f, 0) for f in forms | {t}) / chunks if chunks > 0 else 0.0 for t, forms in wanted}
    # Every term the paper holds is in every passage of it ("What is LongEval?" on a short LongEval
    # paper): no sentence of it is told apart, and all would cover nothing; the library's weights stand.
    if not any(0 < share < 1 for share in shares.values()):
        return weights
    return {t: weights[t] * (1.0 - shares[t]) ** power for t, _ in wanted if t in weights}


def about_one_paper(hits: Sequence[ScoredChunk]) -> bool:
    """Are nearly all the passages (ONE_PAPER_SHARE of them) one paper's?"""
    counts = Counter(h.paper.id for h in hits).most_common(1)
    return bool(counts) and counts[0][1] >= ONE_PAPER_SHARE * len(hits)


def _best_of_each_paper(ranked: list, hits: Sequence[ScoredChunk], n: int) -> list:
    """The first `n` rows of each paper in `ranked` (rows of `score_sentences`), in its order."""
    taken: dict[str, int] = {}
    out = []
    for row in ranked:
        paper = hits[row[0]].paper.id
        if taken.get(paper, 0) < n:
            taken[paper] = taken.get(paper, 0) + 1
            out.append(row)
    return out


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
        fresh[(s.rank, s.index)] = replace(s, dense=dense, score=_score(s.text, s.coverage, dense, asked, behind,
                                                                          introduces(s.hit.chunk.section)))
    rescored = [fresh.get((s.rank, s.index), s) for s in scored]
    rescored.sort(key=lambda s: (-s.score, s.rank))
    return rescored


def _score(text: str, coverage: float, dense: float | None, asked: Asked = Asked(), in_back_matter: bool = False,
           in_introduction: bool = False) -> float:
    """Coverage and dense similarity (`dense` None: coverage alone), times the kind's prior."""
    score = (W_COVERAGE * coverage + W_DENSE * max(0.0, dense) if dense is not None
             else (W_COVERAGE + W_DENSE) * coverage)
    return score * kind_share(text, asked, in_back_matter, in_introduction)


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

    The best sentence leads (the direct answer first), with its mate (`_mate_of`) beside it, and the
    others follow in reading order, grouped by paper (the best paper first).
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
    rest = sorted(chosen[1:], key=lambda s: (first_seen[s.hit.paper.id], s.hit.chunk.char_start, s.index))
    mate = _mate_of(chosen[0], sentences) if chosen else None
    if mate is None:
        return chosen[:1] + rest
    # the lead and its mate in reading order ("We measured X. It was 55 ms."), on top of the n
    return sorted([chosen[0], mate], key=lambda s: s.index) + [s for s in rest if not _same_text(s.text, mate.text)]


def _mate_of(lead: Sentence, sentences: Sequence[Sentence]) -> Sentence | None:
    """The sentence next to `lead` that holds question terms `lead` lacks, when it holds enough."""
    if lead.mate < 0 or lead.mate_share < MATE_SHARE:
        return None
    return next((s for s in sentences if s.hit.chunk.id == lead.hit.chunk.id and s.index == lead.mate), None)


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


# A structured abstract's run-in label before a sentence's first word ("Results  Here, by analyzing
# adr-1 ...", "Conclusions Our data uncover ..."): the parser keeps it in the text (it names the
# part), an answer or summary shows the sentence without it. "Results were similar" keeps its word.
_RUN_IN_LABEL = re.compile(r"^\s*(?:Background|Results|Conclusions?|Methods|Objectives?|Aims?|Purpose|Findings|"
                           r"Interpretation|Significance)\s+(?=[A-Z][a-z]*\b)")


def readable(text: str) -> str:
    """A quoted sentence as an answer or summary shows it: without the paper's reference markers
    (`strip_markers`), a structured abstract's run-in label or a list item's bullet."""
    return _RUN_IN_LABEL.sub("", strip_markers(text).lstrip(BULLETS + " "), count=1)


def strip_markers(text: str) -> str:
    """Remove the paper's own reference markers ("[12]", "[3-5]") so they are not read as ours."""
    return re.sub(r"\s{2,}", " ", _MARKER_LIKE.sub("", text)).strip()
