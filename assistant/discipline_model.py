"""The 学科 labelling model: a paper's English text against the discipline catalogue, offline.

Two signals, as ``assistant.disciplines`` describes: dense (MiniLM similarity of the paper's
English title and abstract to each 一级学科's nearest catalogue terms; the terms' vectors are
computed once per embedder and cached, ``DisciplineVectors``) and lexical (catalogue scope terms
found in the paper, weighted by how few 一级学科 list them). ``predict`` standardises and adds
them, turns them into confidences with a softmax, and keeps a second 一级学科 and a 二级学科 only
when they clearly lead.
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.disciplines import DATA, Discipline, Label, catalogue, children, first_level
from assistant.types import Paper

if TYPE_CHECKING:
    from assistant.protocols import Embedder

# How the two signals are mixed and how sharp the confidences are, measured on the 33 hand-labelled
# shared papers (eval/score_disciplines.py). Top-1 against the primary label: dense alone 21/33,
# lexical alone 20/33; z(dense) + w * lexical (idf units): w = 0.05 23, 0.067-0.2 27, 0.4 24. A
# z-scored lexical signal instead (23-24/33) let one stray term ("circuits" of genetic circuits ->
# 0809 电路与系统) outweigh everything else in a paper that matched little.
LEXICAL_WEIGHT = 0.1
TOP_TERMS = 3  # nearest terms averaged per 一级学科 (1: 21/33 dense alone, 3: 21, 5: 22)
# Softmax temperature: 0.5 gives a mean top-1 confidence of 0.85 at 0.82 accuracy (Brier 0.12;
# 0.75: 0.73 and 0.15; 1.0: 0.57 and 0.22), confidence 0.90 when right and 0.66 when wrong.
TEMPERATURE = 0.5
# Not tuned (the hand labels have no 二级学科, and `also` is not a ranking): a second 一级学科 is
# kept at half the first one's confidence or more (2 of the 33 papers), a 二级学科 when it leads
# the next one inside its 一级学科 by this many z-score units.
SECOND_RATIO = 0.5
SUB_MARGIN = 0.6


# -- the two signals ---------------------------------------------------------------------------
def _stems(text: str) -> list[str]:
    """The stemmed English words of a text in order (BM25's tokenizer, without the whole
    hyphenated runs it adds and without Chinese words)."""
    from assistant.lexical import has_cjk, tokenize

    return [t for t in tokenize(text) if "-" not in t and "." not in t and not has_cjk(t)]


@functools.lru_cache(maxsize=1)
def _phrases() -> tuple[dict[str, list[tuple[str, bool]]], dict[str, float]]:
    """Each 一级学科's scope phrases (its names, its 二级学科 names, its scope terms) and each
    phrase's idf over the 一级学科 (a term that five fields list tells little)."""
    table: dict[str, list[tuple[str, bool]]] = {}  # (" stem stem " or the Chinese term, is Chinese)
    for d in first_level():
        names_en = [d.en, *d.scope_en, *(c.en for c in children(d.code))]
        names_zh = [d.zh, *d.scope_zh, *(c.zh for c in children(d.code))]
        found = {" " + " ".join(stems) + " ": False for stems in map(_stems, names_en) if stems}
        found.update({text: True for text in names_zh if len(text) >= 2})
        table[d.code] = list(found.items())
    df = Counter(key for phrases in table.values() for key, _ in phrases)
    n = len(table)
    return table, {k: math.log(1 + n / v) for k, v in df.items()}


def english_text(paper: Paper) -> tuple[str, str]:
    """(title, keywords and venue; abstract) in English, for MiniLM: a Chinese paper's printed
    English title and abstract, or a word-by-word CC-CEDICT gloss when it prints none."""
    from assistant.lexical import has_cjk

    def english(*texts: str) -> str:
        return next((t for t in texts if t and not has_cjk(t, share=0.2)), "")

    title = english(paper.title, paper.title_alt)
    abstract = english(paper.abstract, paper.abstract_alt)
    keywords = [k for k in (*paper.keywords, *paper.keywords_alt) if k and not has_cjk(k)]
    if not title or not abstract:
        from assistant.lexicon import gloss_text

        title = title or gloss_text(paper.title)
        abstract = abstract or gloss_text(paper.abstract[:600])
    head = ". ".join(t for t in (title, "; ".join(keywords), paper.venue) if t)
    return head, abstract


def lexical_scores(paper: Paper) -> np.ndarray:
    """Sum of idf * log(1 + count) of each 一级学科's phrases found in the paper (title and
    keywords count twice), in `first_level()` order."""
    head = " ".join((paper.title, paper.title_alt, *paper.keywords, *paper.keywords_alt))
    body = " ".join((paper.abstract, paper.abstract_alt, paper.venue))
    stem_head, stem_body = " " + " ".join(_stems(head)) + " ", " " + " ".join(_stems(body)) + " "
    table, idf = _phrases()
    scores = np.zeros(len(table), dtype=np.float32)
    for i, phrases in enumerate(table.values()):
        total = 0.0
        for key, zh in phrases:
            if zh:
                count = 2 * head.count(key) + body.count(key)
            else:
                count = 2 * stem_head.count(key) + stem_body.count(key)
            if count:
                total += idf[key] * math.log1p(count)
        scores[i] = total
    return scores


def _z(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def _softmax(values: np.ndarray, temperature: float) -> np.ndarray:
    scaled = (values - values.max()) / temperature
    weights = np.exp(scaled)
    return weights / weights.sum()


class DisciplineVectors:
    """MiniLM vectors of every 一级学科's terms (its names, scope terms and 二级学科 names) and of
    each 二级学科, computed once per embedder and kept in the user cache dir (shared by every
    library: they depend only on the embedder and the data file, whose digest names the file)."""

    def __init__(self, embedder: Embedder, folder: Path | None):
        self.embedder = embedder
        digest = hashlib.sha256(embedder.id.encode() + DATA.read_bytes()).hexdigest()[:16]
        self.path = folder / f"disciplines-{digest}.npy" if folder else None
        self._vectors: np.ndarray | None = None
        terms, owners = self.terms()
        self.owners = np.asarray(owners)
        self.n_terms = len(terms)

    @staticmethod
    def terms() -> tuple[list[str], list[int]]:
        """Each 一级学科's terms and the index (in first_level order) of the 一级学科 it describes."""
        terms, owners = [], []
        for i, d in enumerate(first_level()):
            for term in dict.fromkeys((d.en, *d.scope_en, *(c.en for c in children(d.code)))):
                terms.append(term)
                owners.append(i)
        return terms, owners

    @staticmethod
    def texts() -> list[str]:
        second = [d.en + (f": {', '.join(d.scope_en)}" if d.scope_en else "")
                  for d in catalogue().values() if len(d.code) == 6]
        return DisciplineVectors.terms()[0] + second

    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            texts = self.texts()
            if self.path is not None and self.path.is_file():
                stored = np.load(self.path)
                if stored.shape == (len(texts), self.embedder.dim):
                    self._vectors = stored
            if self._vectors is None:
                self._vectors = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32)
                if self.path is not None:
                    self._save()
        return self._vectors

    def _save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.path.with_name(f"{self.path.stem}.{os.getpid()}.tmp.npy")
            np.save(scratch, self._vectors)
            os.replace(scratch, self.path)
        except OSError:  # a read-only cache only costs recomputing them next time
            pass

    def dense_scores(self, vector: np.ndarray) -> np.ndarray:
        """Per 一级学科: the mean similarity of its TOP_TERMS terms nearest to the paper. (One
        vector of a whole scope list found the right field for 12 of the 33 shared papers, the
        nearest terms for 21: a paper is about a few sub-fields, not about all of them.)"""
        sims = self.vectors()[:self.n_terms] @ vector
        order = np.lexsort((-sims, self.owners))  # by 一级学科, best term first
        out = np.zeros(int(self.owners.max()) + 1, dtype=np.float32)
        start = 0
        for owner, count in zip(*np.unique(self.owners[order], return_counts=True)):
            out[owner] = sims[order[start:start + min(count, TOP_TERMS)]].mean()
            start += count
        return out


def predict(papers: Sequence[Paper], vectors: DisciplineVectors) -> list[list[Label]]:
    """Labels for each paper: one or two 一级学科, each maybe with a 二级学科, best first."""
    if not papers:
        return []
    firsts = first_level()
    seconds = [d for d in catalogue().values() if len(d.code) == 6]
    second_vecs = vectors.vectors()[vectors.n_terms:]
    texts = [english_text(p) for p in papers]
    heads = vectors.embedder.embed_documents([h or a for h, a in texts])
    bodies = vectors.embedder.embed_documents([a or h for h, a in texts])
    results = []
    for i, paper in enumerate(papers):
        dense = 0.5 * vectors.dense_scores(heads[i]) + 0.5 * vectors.dense_scores(bodies[i])
        combined = _z(dense) + LEXICAL_WEIGHT * lexical_scores(paper)
        confidence = _softmax(combined, TEMPERATURE)
        order = np.argsort(-confidence)
        chosen = [order[0]] + ([order[1]] if confidence[order[1]] >= SECOND_RATIO * confidence[order[0]] else [])
        labels = []
        for j in chosen:
            parent = firsts[j]
            labels.append(Label(parent.code, float(confidence[j])))
            sub = _pick_second(parent.code, seconds, second_vecs, heads[i], bodies[i], paper)
            if sub is not None:
                labels.append(Label(sub, float(confidence[j])))
        results.append(labels)
    return results


def _pick_second(parent: str, seconds: list[Discipline], vecs: np.ndarray, head: np.ndarray,
                 body: np.ndarray, paper: Paper) -> str | None:
    """The 二级学科 of `parent` that clearly leads the others (dense + its own terms), or None."""
    rows = [i for i, d in enumerate(seconds) if d.parent == parent]
    if len(rows) < 2:
        return None
    dense = 0.5 * (vecs[rows] @ head) + 0.5 * (vecs[rows] @ body)
    text = " ".join((paper.title, paper.title_alt, paper.abstract, paper.abstract_alt, *paper.keywords,
                     *paper.keywords_alt))
    stems = " " + " ".join(_stems(text)) + " "
    lexical = np.zeros(len(rows), dtype=np.float32)
    for n, i in enumerate(rows):
        d = seconds[i]
        for term in (d.en, *d.scope_en):
            key = " " + " ".join(_stems(term)) + " "
            lexical[n] += math.log1p(stems.count(key)) if key.strip() else 0.0
        for term in (d.zh, *d.scope_zh):
            lexical[n] += math.log1p(text.count(term)) if len(term) >= 2 else 0.0
    score = _z(dense) + _z(lexical)
    order = np.argsort(-score)
    return seconds[rows[order[0]]].code if score[order[0]] - score[order[1]] >= SUB_MARGIN else None
