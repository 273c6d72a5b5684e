"""Should Souwen answer, or say that the library does not answer the question?

The hard cases are near misses: a question about a paper that *is* in the library, asking for a
detail the paper never reports ("What was the glycemic index of the smoothie ...?" of a paper on a
wheat supplement in smoothies). Retrieval finds that paper with high scores, so a threshold on the
retrieval score cannot tell. What tells is the question's *content words* that the paper never
uses: "glycemic" appears nowhere in it. Three measurements, all on the best candidate paper:

- ``coverage``: IDF-weighted share of the question's content terms (question words such as "how
  much" / "多少" removed; Chinese terms also count when a CC-CEDICT translation occurs) found
  anywhere in the paper (its chunk terms, cached per library generation);
- ``missing``: the largest IDF among the content terms the paper lacks (one rare missing word, like
  a gene or an assay, is enough to sink a question);
- ``sentence``: the best evidence sentence's score (``assistant.extractive``).

A logistic model turns them into a confidence in 0..1. Its weights and the threshold are fitted by
``eval/score_answers.py --calibrate`` on the dev questions and stored in ``abstain_model.json``
beside this module (the figures that chose them are printed there and quoted in the README).
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from assistant.lexical import tokenize
from assistant.lexicon import concepts
from assistant.types import ScoredChunk

MODEL_PATH = Path(__file__).with_name("abstain_model.json")
PAPERS_CONSIDERED = 3  # the best few distinct papers among the retrieved passages

# Words that shape a question but name nothing a paper must contain (stemmed, as tokenize gives).
_QUESTION_WORDS = frozenset(tokenize(
    "much many often long far well main mainly kind type way paper papers study studies author "
    "authors report reported describe described find found show shown use used compare compared "
    "result results value number amount measure measured according versus whether also two both "
    "each respectively overall specific particular exactly approximately roughly"
)) | frozenset(
    "多长时间 多长 长时间 哪几 几个 几台 几次 几种 几类 哪三大 哪类 哪种 哪些 哪个 哪两 分别 各自 还是 两篇 论文 "
    "研究 研究者 根据 得出 结果 相比 变化 提到 一共 主要 具体 大约 约 多大 多高 多低 怎么 为什么 是否 叫 取 "
    "测得 得到 达到 表现 出 后 会 把 给 者 第 用 时".split()
)


@dataclass(frozen=True)
class EvidenceStrength:
    coverage: float
    missing: float
    sentence: float
    paper_id: str = ""


def content_concepts(question: str) -> list[tuple[str, frozenset[str]]]:
    """The question's content terms, each with the surface forms that count as finding it."""
    terms = [t for t in tokenize(question) if t not in _QUESTION_WORDS]
    parts = {p for t in terms if "-" in t or "." in t for p in tokenize(t.replace("-", " ").replace(".", " "))}
    # "title-similarity" is also split into its parts by tokenize: judge the parts, not the compound.
    terms = [t for t in terms if not (("-" in t or "." in t) and parts)]
    return concepts(terms)


def measure_evidence(
    question: str,
    hits: Sequence[ScoredChunk],
    best_sentence: float,
    paper_terms: Callable[[str], set[str]],
    idf: Callable[[Sequence[str]], dict[str, float]],
) -> EvidenceStrength:
    wanted = content_concepts(question)
    if not hits or not wanted:
        return EvidenceStrength(0.0, 0.0, best_sentence)
    weights = idf([t for t, _ in wanted])
    total = sum(weights.values()) or 1.0
    papers = list(dict.fromkeys(h.paper.id for h in hits))[:PAPERS_CONSIDERED]
    best = EvidenceStrength(-1.0, 0.0, best_sentence)
    for paper_id in papers:
        have = paper_terms(paper_id)
        found = [any(form in have for form in forms) for _, forms in wanted]
        coverage = sum(weights[t] for (t, _), ok in zip(wanted, found) if ok) / total
        missing = max((weights[t] for (t, _), ok in zip(wanted, found) if not ok), default=0.0)
        if coverage > best.coverage:
            best = EvidenceStrength(coverage, missing, best_sentence, paper_id)
    return best


@dataclass(frozen=True)
class AbstainModel:
    """Logistic regression over EvidenceStrength's three measurements, plus the decision threshold."""

    coverage: float
    missing: float
    sentence: float
    bias: float
    threshold: float
    note: str = ""

    def confidence(self, strength: EvidenceStrength) -> float:
        z = (self.coverage * strength.coverage + self.missing * strength.missing
             + self.sentence * strength.sentence + self.bias)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


# Used only until eval/score_answers.py --calibrate has written abstain_model.json.
UNCALIBRATED = AbstainModel(coverage=8.0, missing=-0.4, sentence=4.0, bias=-5.0, threshold=0.5,
                            note="uncalibrated defaults")


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> AbstainModel:
    try:
        data = json.loads(path.read_text())
        return AbstainModel(**{k: data[k] for k in ("coverage", "missing", "sentence", "bias", "threshold")},
                            note=data.get("note", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return UNCALIBRATED


def save_model(model: AbstainModel, path: Path = MODEL_PATH) -> None:
    path.write_text(json.dumps(asdict(model), indent=2) + "\n")
    load_model.cache_clear()
