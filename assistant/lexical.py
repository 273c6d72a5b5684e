"""Lexical search: bilingual tokenisation and a BM25 index (bm25s) over chunk texts.

Chinese has no spaces, so CJK runs are segmented with jieba (search mode, which also emits the
shorter words inside long compounds so that a query's "移动性" meets a passage's "移动性管理"),
while Latin runs are split on word characters, lower-cased and Snowball-stemmed. Only CJK runs go
through jieba: it is the slow part, and English text needs none of it. jieba runs as jieba-rs
(`rjieba`): the same dictionary and algorithm in Rust. On the 5,901 Chinese runs of the corpus's
chunks it cut word for word as Python jieba did (plain and search mode), loads in 0.1 s of CPU
instead of 0.65 s (once per ingest and per server start) and cuts ~7x faster. On mixed text it
keeps hyphenated Latin words whole ("IL-7"), where Python jieba split them.

Measured on the dev questions (top-5 evidence hit rate, 2,647 chunks of 254/64 word-pieces, BM25
alone): a Latin run used to swallow the Chinese that follows it ("dana1突变体中的脱落酸" was one
term), so Latin runs now stop at CJK characters: zh factoid 70 -> 80%, zh questions on English
papers 6.7 -> 33%. Text is NFKC-normalised first so that full-width "－"/"Ｐ４" and ligatures
("ﬁ") meet their ASCII spellings. BM25 uses k1=0.9, b=0.4 (Anserini's defaults, not tuned here):
en factoid 78.6 -> 80.4%, zh 80 -> 90% against bm25s' 1.5/0.75; no other k1/b, BM25 variant
(Robertson, ATIRE, BM25+, BM25L), Dirichlet LM, character bigrams or plain jieba cut did better.

The index is derived state: the catalogue keeps each chunk's tokens, so the index can always be
rebuilt from it (see ``assistant.library``).
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Container, Sequence

import numpy as np

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A Latin run must stop at CJK characters (\w matches them too): see the module docstring.
_RUN_RE = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+(?:[.\-][^\W_{_CJK}]+)*", re.UNICODE)
_LATIN_TERM_RE = re.compile(r"[a-z0-9]")
# Anserini's BM25 defaults; see the module docstring for the figures.
BM25_K1, BM25_B = 0.9, 0.4
_CJK_RE = re.compile(rf"[{_CJK}]")

# Function words that carry no topic; BM25's idf already damps them, dropping them keeps
# the query's few content words in charge and the index smaller.
_EN_STOP = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how in into
    is it its may might of on or our such than that the their them then there these they this those
    to was were what when where which while who why will with would we you your i not no""".split()
)
_ZH_STOP = frozenset(
    "的 了 和 与 及 或 在 是 为 对 中 等 其 该 这 那 也 并 而 以 于 从 被 由 之 一种 一个 什么 哪些 "
    "如何 多少 是否 哪个 怎样 有 有何 何 吗 呢 么 我们 本文 进行 通过 使用 采用 可以".split()
)


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer, the Snowball stemmers bm25s recommends

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=1)
def _jieba():
    import rjieba  # jieba-rs: see the module docstring

    rjieba.cut("")  # loads the dictionary now, not inside the first timed call
    return rjieba


def segment(text: str) -> list[str]:
    """jieba's word segmentation (not the search-mode overlaps of `tokenize`), unnormalised."""
    return list(_jieba().cut(text))


# jieba's part-of-speech tags of words that shape a Chinese sentence without naming anything:
# pronouns and demonstratives (这篇, 该), localizers (里, 中), prepositions, conjunctions, particles,
# adverbs (大约, 最多能), numerals and classifiers (几倍, 多少), interjections, onomatopoeia.
FUNCTION_TAGS = frozenset("r f p c u uj ul ud uz ug uv d m q y e o zg".split())


def tag_words(text: str) -> list[tuple[str, str]]:
    """jieba's words of `text` (NFKC) with their part-of-speech tags ("n" noun, "v" verb, "eng" ...)."""
    return list(_jieba().tag(unicodedata.normalize("NFKC", text)))


def function_words(text: str) -> set[str]:
    """The Chinese words of `text` that jieba tags as function words (``FUNCTION_TAGS``), or that
    are made of function characters alone: jieba's dictionary tags "这是" ("this is") a verb, and
    in "……这是什么原因？" it weighed as much as a rare term the paper lacks."""
    return _function_of(tag_words(text))


def _function_of(tagged: list[tuple[str, str]]) -> set[str]:
    return {word for word, tag in tagged
            if tag in FUNCTION_TAGS or (has_cjk(word) and all(_is_function_char(c) for c in word))}


def phrasing_words(text: str) -> set[str]:
    """The Chinese words that phrase a question rather than name its topic: `function_words` and
    the words jieba tags plain verbs ("用来", "占", "需要"; not verbal nouns such as "管理")."""
    tagged = tag_words(text)
    # a verb jieba's dictionary holds: a guess across a word boundary ("数据集来评估" -> "集来",
    # tagged a verb) is cut into its dictionary words instead (abstention.resegment_unseen)
    return _function_of(tagged) | {word for word, tag in tagged
                                   if tag == "v" and has_cjk(word) and dictionary_words(word) == [word]}


def has_cjk(text: str, share: float = 0.0) -> bool:
    """True when the text holds CJK characters (more than `share` of its non-space characters)."""
    cjk = len(_CJK_RE.findall(text))
    if share <= 0.0:
        return cjk > 0
    visible = sum(1 for c in text if not c.isspace())
    return visible > 0 and cjk / visible > share


def tokenize(text: str) -> list[str]:
    """Split mixed Chinese/English text into BM25 terms (stemmed English words, jieba words)."""
    terms: list[str] = []
    latin: list[str] = []
    text = unicodedata.normalize("NFKC", text)
    for run in _RUN_RE.findall(text.lower()):
        if _CJK_RE.match(run):
            for word in _jieba().cut_for_search(run):
                if word not in _ZH_STOP and (len(word) > 1 or not _is_function_char(word)):
                    terms.append(word)
        else:
            for part in run.replace(".", "-").split("-"):
                if part and part not in _EN_STOP:
                    latin.append(part)
            if "-" in run or "." in run:
                terms.append(run)  # keep "sh3-binding", "wedge100bf-32x" whole as well
    if latin:
        terms.extend(_stemmer().stemWords(latin))
    return terms


def dictionary_words(word: str) -> list[str]:
    """A Chinese word cut into jieba's dictionary words alone, without its HMM guessing at new
    words; function characters left out as `tokenize` leaves them out. A word jieba made up
    across a word boundary of the question ("数据集来评估" gives "集来", "熵权法来" gives "权法来")
    comes apart ("集", "来"); a dictionary word stays whole."""
    return [w for w in _jieba().cut(unicodedata.normalize("NFKC", word), hmm=False)
            if w not in _ZH_STOP and (len(w) > 1 or not _is_function_char(w))]


def known_words(word: str, vocabulary: Container[str]) -> list[str]:
    """A Chinese query word that no document holds and jieba only guessed (no dictionary word),
    cut into the longest words the documents do hold, left to right ("权法来" -> "权法", "来":
    the papers' "熵权法" is cut "熵", "权法"); `[word]` when no piece of two or more characters
    is known, or when the word is known or a dictionary word ("示意图" is not cut into "意图").

    jieba guesses new words from the characters around them, so the question's "熵权法来计算"
    and the paper's "熵权法的目的" give different words for the same term."""
    if not has_cjk(word) or len(word) < 3 or word in vocabulary or len(dictionary_words(word)) <= 1:
        return [word]
    pieces, i = [], 0
    while i < len(word):
        j = next((j for j in range(len(word), i + 1, -1) if word[i:j] in vocabulary), i + 1)
        pieces.append(word[i:j])
        i = j
    if not any(len(p) > 1 for p in pieces):
        return [word]
    return [p for p in pieces if p in vocabulary and p not in _ZH_STOP and (len(p) > 1 or not _is_function_char(p))]


def fit_to_vocabulary(terms: Sequence[str], vocabulary: Container[str]) -> list[str]:
    """Query `terms` with each guessed Chinese word that no document holds cut into known words
    (`known_words`); `terms` as they are when there is no vocabulary to fit."""
    if not vocabulary:
        return list(terms)
    return [piece for term in terms for piece in known_words(term, vocabulary)]


def whole_words(terms: Sequence[str]) -> list[str]:
    """`terms` without the Chinese words that only sit inside a longer Chinese word among them.

    jieba's search mode also yields the parts of a compound ("系统发育" gives "系统" and "发育",
    "突变体" gives "突变" and "变体"): for matching a query as a whole, each part would count the
    concept again, and a part can mean something else ("突变": sudden change). Used by figure
    search and by abstention's coverage of a question (assistant.abstention.content_concepts)."""
    cjk = [t for t in terms if has_cjk(t)]
    return [t for t in terms if not has_cjk(t) or not any(t != o and t in o for o in cjk)]


def latin_terms(terms: Sequence[str]) -> list[str]:
    """The terms written in Latin letters or digits (gene names, numbers, acronyms): the part of a
    Chinese query that can match an English passage without translation."""
    return [t for t in terms if _LATIN_TERM_RE.match(t)]


def _is_function_char(ch: str) -> bool:
    return ch in "的了和与及或在是为对中等其该这那也并而以于从被由之有何吗呢么"


class LexicalIndex:
    """BM25 over pre-tokenised documents; rows are positions in the list it was built from."""

    def __init__(self, documents: Sequence[Sequence[str]]):
        import bm25s

        self.size = len(documents)
        self._bm25 = bm25s.BM25(method="lucene", k1=BM25_K1, b=BM25_B)
        if self.size:
            # Empty token lists would make bm25s drop rows and shift positions: pad them.
            corpus = [list(doc) if doc else ["\u0000"] for doc in documents]
            self._bm25.index(corpus, show_progress=False)
        self._vocab = self._bm25.vocab_dict if self.size else {}

    def save(self, folder: str) -> None:
        """Write the bm25s index into `folder` (nothing for an empty index)."""
        if self.size:
            self._bm25.save(folder)

    @classmethod
    def load(cls, folder: str, size: int) -> LexicalIndex:
        """Read an index written by `save`; `size` is its row count (0: an empty index)."""
        index = cls([])
        if size:
            import bm25s

            index._bm25 = bm25s.BM25.load(folder)
            index._vocab = index._bm25.vocab_dict
            index.size = size
        return index

    def __contains__(self, term: str) -> bool:
        """Whether any document holds the term."""
        return term in self._vocab

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25 (Lucene) inverse document frequency of each term; unseen terms get the maximum."""
        n = max(1, self.size)
        indptr = self._bm25.scores["indptr"] if self.size else None
        out = {}
        for term in terms:
            row = self._vocab.get(term)
            df = int(indptr[row + 1] - indptr[row]) if row is not None and indptr is not None else 0
            out[term] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return out

    def search_concepts(self, concepts: Sequence[tuple[float, Sequence[str]]], k: int,
                        mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """BM25 of a translated query, one concept per source word (a structured query, after
        Pirkola 1998): a row earns, for each (weight, surface forms) pair, `weight` times the
        term-frequency part of BM25 (the precomputed score over the term's idf) of the best of the
        forms. A word with five translations counts once, not five times, and how much it counts
        comes from `weight` (its idf in its own language), not from the rarity of a wrong sense."""
        if not self.size:
            return []
        store = self._bm25.scores
        data, indices, indptr = store["data"], store["indices"], store["indptr"]
        total = np.zeros(self.size, dtype=np.float32)
        for weight, forms in concepts:
            best = np.zeros(self.size, dtype=np.float32)
            for term, idf in self.idf([f for f in dict.fromkeys(forms) if f in self._vocab]).items():
                row = self._vocab[term]
                rows = indices[indptr[row]:indptr[row + 1]]
                best[rows] = np.maximum(best[rows], data[indptr[row]:indptr[row + 1]] / idf)
            total += weight * best
        return self._top(total, k, mask)

    def search(self, query_terms: Sequence[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Return up to k (row, score) pairs with a positive score, best first."""
        terms = [t for t in dict.fromkeys(query_terms) if t in self._vocab]
        if not terms or not self.size:
            return []
        return self._top(np.asarray(self._bm25.get_scores(terms), dtype=np.float32), k, mask)

    @staticmethod
    def _top(scores: np.ndarray, k: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, int(np.count_nonzero(scores > 0)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top]


def require_terms(text: str, what: str) -> str:
    """`text` if it names something to look for; else a ValueError. "????", "what?" or "它是什么"
    have no term once question words and punctuation are set aside, so any passage would match as
    well as any other: they were answered "no" with five arbitrary "closest papers"."""
    if text.strip() and not set(tokenize(text)) - (function_words(text) if has_cjk(text) else set()):
        raise ValueError(f"the {what} names nothing to look for (only question words or punctuation): "
                         "name a topic, a method or a result")
    return text
