"""Hybrid passage retrieval: dense (FAISS) + lexical (BM25) candidates fused by weighted
reciprocal rank, with DOI and year filters applied inside both indexes, plus a cross-language
channel for Chinese questions about English papers.

What was measured (top-5 evidence hit rate on the dev questions, en factoid n=56 / zh factoid
n=10 / zh questions on English papers n=15; 254/64 word-piece chunks; one question is 1.8 / 10 /
6.7 points):

- BM25 carries the ranking. MiniLM alone finds 52-60% (en), BM25 80% after the tokenizer fixes in
  ``assistant.lexical``. Dense weight 0 / 0.1 / 0.2 / 0.3 / 0.5 in the RRF (end to end, library
  built by eval/score_retrieval.py): en factoid 80.4 / 78.6 / 76.8 / 76.8 / 73.2%; multi-paper
  questions 25 / 25 / 33 / 33 / 25%. English therefore defaults to 0: dense hits still follow
  every BM25 hit, a fallback for questions whose words the index does not hold.
- The misses are paraphrases within the right paper (gold at BM25 ranks 6-22, behind
  abstract/discussion chunks with the same terms; 98% of English factoids have it in the top 15).
  These re-rankings stayed at 75-79%: MiniLM over BM25's top 10-50 (score or rank fusion),
  sentence-level MiniLM max-sim, IDF-weighted query coverage of the best 1-3 sentence window,
  BM25 over ~64-token sub-passages, a per-paper cap, and a logistic-regression combination of all
  of these (leave-one-paper-out). What did lift it is the answer scorer's best sentence per
  passage (coverage with neighbours, glossary translations and the papers' abbreviations, plus
  MiniLM on the best candidates) fused by rank with retrieval's order, for the first 20 passages:
  80.4 -> 85.7% (English factoids), 66.7 -> 80% (Chinese questions on English papers). `search`
  does that (``Answerer.search``); ``retrieve`` here is the plain fused list the answerer reads.
- Chinese questions on English papers can only meet them through their Latin-script terms (gene
  names, acronyms, numbers), but with the whole query those few terms lose to Chinese papers that
  share the Chinese words. A third list, BM25 of the query's Latin terms over papers in another
  language (``crosslingual_weight``), lifts those questions from 40 to 47% and leaves zh factoid
  at 90% (weight 0.3-0.5; at 1.0 zh factoid drops to 80%). English questions get the same list of
  their words translated into Chinese.
- An English question about a Chinese paper reaches the paper through its English title and
  abstract, but the answer is in Chinese body text. Passages of the Chinese papers that lead the
  question's own BM25 list, ranked within each paper (by the translated terms at first, by the
  passages' English glosses since), form one more list (``crosslingual_focus_weight``): English
  questions on the corpus's Chinese papers (eval/xling_en_questions.jsonl, 13 written for this,
  none from the dev set) 23.1 -> 61.5% top-5; the dev ones 0 -> 50% (n=2); every other dev figure
  unchanged. The translated list itself is a structured query (one concept per English word, at
  the word's idf: ``_search_translated``), and it weighs as much as the question's own BM25 list
  when a Chinese passage covers the question's words at least 0.8 times as well as the best
  English passage (``crosslingual_lead``): 53.8 -> 69.2% on those 13 (cited gold in `ask` too);
  every dev figure unchanged. Chinese questions on English papers get no focus list (their gloss
  embedding already does this, and a focus list moved them 80 -> 73%) and keep the bag query.
  A Chinese question that BM25 leads to one Chinese paper gets its gloss ranked over that
  paper's glosses (``gloss_focus_weight_zh``; both lists and their figures in ``assistant.focus``).
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.focus import focus_on_leading_papers, focus_within_leading_paper, other_language_mask, rows_of
from assistant.lexical import fit_to_vocabulary, has_cjk, latin_terms, tokenize
from assistant.lexicon import expand_terms, gloss_text, translate_terms
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
    # 学科 codes (assistant.disciplines): a paper matches with a label equal to or under one of them
    # ('07', '0710' and '071010' all work); the caller checks that the codes exist
    disciplines: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.dois or self.paper_ids or self.year_from or self.year_to or self.disciplines)

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
        if self.disciplines:  # paper_labels: the view in which the user's corrections win
            under = " OR ".join("substr(l.code, 1, ?) = ?" for _ in self.disciplines)
            clauses.append(f"EXISTS (SELECT 1 FROM paper_labels l WHERE l.paper_id = p.id AND ({under}))")
            args += [x for code in self.disciplines for x in (len(code), code)]
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
    if first is not None and last is not None and first > last:  # else every search finds nothing, silently
        raise ValueError(f"year range {text!r} runs backwards: write {last}-{first}")
    return first, last


CROSS_CAP = 0.8  # the most the cross-language lists may weigh together (own language: 1.0)


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
    vectors: dict[str, np.ndarray] | None = None,
) -> list[ScoredChunk]:
    """The k best passages for `query`, best first. `vectors`: query embeddings kept across calls
    for the same query (``retrieve_per_paper`` searches one question several times)."""
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
        mask = rows_of(indexes, allowed)
        if not allowed:
            return []
    depth = max(settings.candidates, k)
    words = tokenize(query)
    terms = fit_to_vocabulary(words, indexes.lexical)
    dense = indexes.dense.search(_embed(embedder, query, vectors), depth, allowed=allowed)
    lexical = [(int(indexes.rowids[row]), score)
               for row, score in indexes.lexical.search(terms, depth, mask=mask)]
    zh = query_language(query) == "zh"
    weight = settings.dense_weight_zh if zh else settings.dense_weight_en
    lists = {"dense": dense, "lexical": lexical}
    weights = {"dense": weight, "lexical": 1.0 - weight}
    # Papers in the other language: BM25 of the query's Latin terms (for Chinese queries) and of
    # its words translated through CC-CEDICT (assistant.lexicon).
    leads = False
    translated = translate_terms(terms) if settings.crosslingual_weight > 0 else {}
    if translated or settings.crosslingual_weight > 0 and zh and latin_terms(terms):
        other = other_language_mask(library, indexes, "zh" if zh else "en")
        if mask is not None:
            other = other & mask
        if other.any():
            found = _search_translated(indexes, terms, translated, zh, depth, other)
            lists["crosslingual"] = [(int(indexes.rowids[row]), score) for row, score in found]
            weights["crosslingual"] = settings.crosslingual_weight
            leads = not zh and _translation_leads(indexes, lexical, depth, found, other, settings.crosslingual_lead)
            if zh and settings.crosslingual_dense_weight > 0:
                gloss = gloss_text(query)
                if gloss:
                    other_rows = [int(indexes.rowids[row]) for row in np.flatnonzero(other)]
                    lists["crossdense"] = indexes.dense.search(_embed(embedder, gloss, vectors), depth,
                                                               allowed=other_rows)
                    weights["crossdense"] = settings.crosslingual_dense_weight
    share = weights.get("crosslingual", 0.0) + weights.get("crossdense", 0.0)
    if leads:  # the answer is likely in the other language: its list weighs as the query's own
        weights["crosslingual"] = weights["lexical"]
    elif share > CROSS_CAP:
        # Lists over the other language never outweigh the question's own: in a library with a
        # few Chinese papers, "平均切换时延" must still find the Chinese paper that says it first.
        for name in ("crosslingual", "crossdense"):
            if name in weights:
                weights[name] *= CROSS_CAP / share
    fused = fuse_ranks(lists, weights, settings.rrf_k)
    # passages of the paper the query's own BM25 list leads to, ranked within it (assistant.focus)
    focus_weight = settings.gloss_focus_weight_zh if zh else settings.crosslingual_focus_weight
    if focus_weight > 0 and (focus := focus_within_leading_paper(library, indexes, lexical, query, mask) if zh
                             else focus_on_leading_papers(library, indexes, lexical, words, mask)):
        lists["focus"], weights["focus"] = focus, focus_weight
        fused = fuse_ranks(lists, weights, settings.rrf_k)
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


def _search_translated(indexes, terms: list[str], translated: dict[str, tuple[str, ...]], zh: bool,
                       depth: int, other: np.ndarray) -> list[tuple[int, float]]:
    """BM25 over the rows in `other` (papers in the other language) of the query's translations.

    An English query is a structured query (``LexicalIndex.search_concepts``): each word counts
    once, at its own idf, through the best of its Chinese renderings. As a bag of every rendering,
    a word's wrong senses added up ("paper" -> 纸堆, 纸张, 纸质, 见报) and the rarest won: the
    answering passage of English questions on the corpus's Chinese papers ranked 1st-76th (median
    9th; one not in the list) in this list, 1st-50th (median 2nd) as a structured query. A Chinese query keeps the bag
    of its Latin terms and English stems: a Chinese word's gloss is a phrase ("脱落酸" -> abscisic
    acid) whose words must add up; as a structured query, with or without the lead, top-5 went
    80 -> 73% on the dev Chinese questions on English papers and 60 -> 70% on the project's."""
    if zh:
        return indexes.lexical.search(latin_terms(terms) + expand_terms(terms), depth, mask=other)
    idf = indexes.lexical.idf(list(translated))
    return indexes.lexical.search_concepts([(idf[word], forms) for word, forms in translated.items()],
                                          depth, mask=other)


def _translation_leads(indexes, lexical: list[tuple[int, float]], depth: int, found: list[tuple[int, float]],
                       other: np.ndarray, ratio: float) -> bool:
    """Whether the best passage in the other language (`found`'s first) covers the query at least
    `ratio` times as well as the best one in the query's language, read off the query's own BM25
    list (`lexical`, its first `depth` hits, (rowid, score)): no second search over the library.
    When none of those hits is in the query's language, the last one's score bounds theirs (a
    full list) or none of them matches at all (a shorter one). Both scores add idf x BM25's
    term-frequency part over the query's words, so they compare: an English question whose words
    a Chinese passage covers (through their translations) as well as any English passage does is
    most likely about that Chinese paper. English questions on the corpus's Chinese papers:
    0.56-2.3 (11 of 15 at 1 or more); the dev English factoids on English papers: 0-0.73."""
    if not found:
        return False
    own = next((score for rowid, score in lexical if not other[indexes.row_of[rowid]]), None)
    if own is None:
        own = lexical[-1][1] if len(lexical) >= depth else 0.0
    return found[0][1] >= ratio * own


def _embed(embedder: Embedder, text: str, vectors: dict[str, np.ndarray] | None) -> np.ndarray:
    if vectors is None:
        return embedder.embed_query(text)
    if text not in vectors:
        vectors[text] = embedder.embed_query(text)
    return vectors[text]


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


# A question about several papers ("Which papers ...", "Compare the X study and the Y study",
# "两篇论文……各自") needs evidence from each of them, but one paper's passages usually fill the
# whole ranked list: on the dev multi-paper questions the top 15 held one paper's evidence.
# "Two NLP papers ...", "Compare A and B: ... each ..." are several too; "does each" only before a
# verb ("what consequence does each report?"), not a noun ("how many terminals does each domain hold").
_SEVERAL_EN = re.compile(
    r"\b(?:which|what|the|these|those|all) (?:papers|studies|articles|works|reports)\b"
    r"|\b(?:two|three|both|several)(?: [\w-]+){0,2} (?:papers|studies|articles|works|reports)\b"
    r"|\b(?:paper|study|article)\b[^?]*\b(?:and|with|to|versus|vs\.?) the\b[^?]*\b(?:paper|study|article)\b"
    r"|\b(?:each|either) (?:paper|study|of them)\b|\bwhat did each\b"
    r"|\bdoes each (?:one\b|report|find|show|use|rely|describe|conclude|propose|suggest|claim|measure|apply|offer|make)"
    r"|^\s*compare\b[^?]*\band\b[^?]*\b(?:each|both|respectively)\b"
    r"|\bacross (?:the )?(?:papers|studies)\b", re.I)
_SEVERAL_ZH = re.compile(r"两篇|哪些论文|哪几篇|哪两篇|多篇|几篇|各篇|这些论文|哪些研究|两项研究")
_EACH_ZH = re.compile(r"各自|分别")


def asks_about_several_papers(question: str) -> bool:
    """True for a question that wants an answer from each of several papers."""
    if _SEVERAL_EN.search(question) or _SEVERAL_ZH.search(question):
        return True
    return bool(_EACH_ZH.search(question)) and ("论文" in question or "文章" in question)


# The words that frame a question about several papers rather than say what it is about.
_FRAMING_EN = re.compile(
    r"\b(?:which|what|papers?|stud(?:y|ies)|articles?|works?|reports?|each|either|both|two|three|several|"
    r"these|those|all|did|does|do|find|found|deal|compare|respectively|studied|examined|examines?|investigated|"
    r"investigates?|explored|explores?|described|describes?|addressed|address(?:es)?|they|them|their)\b", re.I)
_FRAMING_ZH = re.compile(r"哪两篇论文|哪些论文|哪几篇|两篇论文|两篇|多篇|几篇|各篇|这些论文|哪些研究|两项研究|论文|各自|分别|"
                         r"(?:研究|探讨|讨论|涉及|关注|报道|报告|发现|得出|提出)了?(?:什么|哪些)?|什么|有何|怎样|它们|他们")


def topic_of_several(question: str) -> str:
    """A several-papers question without its framing ("Which papers deal with DNA methylation, and
    what ... does each report?" -> "with DNA methylation, and ... ?"), for finding the papers.

    The framing words are content words to BM25 and MiniLM alike, and they match papers *about*
    papers: for that question a summarization-evaluation paper ("73% of these papers do not
    perform ...") ranked second, above the restriction-modification paper it meant. On the dev
    multi-paper questions the two papers asked about are then first and second 7 times in 8 (6
    before); the others' rankings are unchanged."""
    topic = " ".join(_FRAMING_ZH.sub(" ", _FRAMING_EN.sub(" ", question)).split())
    return topic if len(topic) >= 3 else question


_CLAUSE_END = re.compile(r"[,，?？;；:：]")
_JOINED = re.compile(r"\s+(?:and|or|versus|vs\.?)\s+|以及|和|与|及|或")


def topics_of_several(question: str) -> list[str]:
    """The topic of a several-papers question, or the topics it joins ("算力网络和标识网络", "the
    glucokinase study and the KCNJ11 study"), each to rank papers by on its own.

    Ranked on the joined topic, papers about one half crowded out the other's: "哪些论文研究了算力
    网络和标识网络？" found two papers on 算力网络 and one of the two on 标识网络. Only the first
    clause is split (", and what did each find?" joins the framing, not two topics)."""
    topic = topic_of_several(question)
    first = _CLAUSE_END.split(topic, maxsplit=1)[0]
    parts = [p.strip() for p in _JOINED.split(first) if len(p.strip()) >= 2]
    return [topic] + parts if len(parts) >= 2 else [topic]


# A third or fourth paper joins when its mass is at least this share of the best paper's. Mass is
# 1/position of a paper's best three passages in the fused list: RRF scores are too flat to tell
# papers apart (ranks 1-3 and 20-22 differ by a quarter). On the dev multi-paper questions, ranked
# by their topic (`topic_of_several`), the two papers asked about are first and second 7 times in 8,
# and the third paper's share is 0.03-0.11.
PAPER_SHARE = 0.2


def retrieve_per_paper(
    library: Library,
    embedder: Embedder,
    query: str,
    settings: RetrievalSettings,
    *,
    k: int,
    filters: Filters = Filters(),
    papers: int = 4,
    each: int | None = None,
) -> list[ScoredChunk]:
    """Passages for a question about several papers: the papers are ranked by their best few
    passages over a deep candidate list for the question's topic (`topic_of_several`), then each
    paper is searched on its own for the question as asked (its framing helps there: "what did each
    find" prefers results) and the lists are interleaved (best paper first), so every relevant paper
    brings its own best evidence. `each`: passages from each paper (then the list holds them all);
    by default the k passages are shared out among the papers."""
    vectors: dict[str, np.ndarray] = {}  # the question is embedded once for all the searches
    share: dict[str, float] = {}  # each paper's mass as a share of the best paper's, best over the topics
    for topic in topics_of_several(query):
        pool = retrieve(library, embedder, topic, settings, k=max(60, 4 * k), filters=filters)
        mass: dict[str, float] = {}
        seen: dict[str, int] = {}
        for position, hit in enumerate(pool, start=1):  # its best three passages: one lucky chunk is not enough
            if seen.get(hit.paper.id, 0) < 3:
                mass[hit.paper.id] = mass.get(hit.paper.id, 0.0) + 1.0 / position
                seen[hit.paper.id] = seen.get(hit.paper.id, 0) + 1
        for paper_id, m in mass.items():
            share[paper_id] = max(share.get(paper_id, 0.0), m / max(mass.values()))
    ranked = sorted(share, key=lambda p: -share[p])
    if not ranked:
        return []
    # the question says several papers: the runner-up always joins, further papers when strong
    chosen = ranked[:2] + [p for p in ranked[2:papers] if share[p] >= PAPER_SHARE]
    per = each or max(2, -(-k // len(chosen)))
    lists = []
    for paper_id in chosen:  # each came from the filtered pool, so narrowing the filters keeps them
        own = replace(filters, paper_ids=(paper_id,))
        lists.append(retrieve(library, embedder, query, settings, k=per, filters=own, vectors=vectors))
    out = [hit for group in itertools.zip_longest(*lists) for hit in group if hit is not None]
    return out if each else out[:k]
