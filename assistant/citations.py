"""Citations that can be trusted: number the passages, parse [n] markers back, check support.

The model (or the extractive composer) sees passages as opaque keys ``[1]``, ``[2]``... that map to
chunk ids. After it writes, ``check_answer`` cuts the text into sentences, keeps only markers that
were really given (a model inventing ``[7]`` out of 5 passages gets it dropped), and checks each
sentence against the passages it cites:

- lexical support: the share of the sentence's terms (``assistant.lexical.tokenize``) that occur in
  the cited passage;
- embedding support: the best MiniLM cosine between the sentence and a sentence of the passage.

A sentence is supported when either signal clears its bar (``LEXICAL_BAR``, ``DENSE_BAR``).
Unsupported sentences are removed or flagged (``AnswerSettings.unsupported``); the answer reports
how many were checked and which failed. Each citation's quote is the passage sentence closest to
what was claimed, so a reader can verify it without opening the PDF; its page is the page that
sentence is printed on (``page_of_quote``).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.lexical import tokenize
from assistant.protocols import Embedder
from assistant.sentence_cache import SentenceCache
from assistant.types import Citation, ScoredChunk
from ingest.chunking import split_sentences

CANNOT_ANSWER = {
    "en": "The papers in the library do not answer this question.",
    "zh": "文库中的论文没有回答这个问题。",
}
LEXICAL_BAR = 0.6  # share of the sentence's terms found in the passage
DENSE_BAR = 0.75  # MiniLM cosine to the closest passage sentence
_MARKERS = re.compile(r"[\[【]\s*(\d+(?:\s*[,，;]\s*\d+)*)\s*[\]】]")

PageLocator = Callable[[ScoredChunk, str], int]


@dataclass(frozen=True)
class CheckedSentence:
    text: str  # without markers
    passages: tuple[int, ...]  # 1-based indexes into the passages given to the model
    supported: bool
    support: float
    quotes: tuple[str, ...]  # per cited passage, its sentence closest to `text`


def number_passages(hits: Sequence[ScoredChunk]) -> str:
    """The evidence block shown to a model: each passage as quoted data under its [n] key."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        source = hit.paper.title or hit.paper.doi or hit.paper.id
        text = hit.chunk.text.replace('"""', "'''")
        blocks.append(f'[{n}] ({source}, p. {hit.chunk.page_start})\n"""\n{text}\n"""')
    return "\n\n".join(blocks)


def is_cannot_answer(text: str) -> bool:
    flat = re.sub(r"\W+", " ", text).strip().lower()
    return any(re.sub(r"\W+", " ", s).strip().lower() in flat for s in CANNOT_ANSWER.values()) or not flat


def cited_sentences(text: str, given: int) -> list[tuple[str, tuple[int, ...]]]:
    """Split an answer into (sentence without markers, valid passage numbers) pairs."""
    out = []
    for start, end in split_sentences(text.strip()):
        raw = text.strip()[start:end]
        numbers = []
        for match in _MARKERS.finditer(raw):
            for part in re.split(r"[,，;]", match.group(1)):
                n = int(part)
                if 1 <= n <= given and n not in numbers:
                    numbers.append(n)
        sentence = re.sub(r"\s+([.。!?！？,，;；:])", r"\1", _MARKERS.sub("", raw)).strip()
        if sentence.strip(" .。"):
            if out and not numbers and len(sentence) < 3:
                continue
            out.append((sentence, tuple(numbers)))
    return out


def check_answer(
    text: str, hits: Sequence[ScoredChunk], embedder: Embedder, cache: SentenceCache
) -> list[CheckedSentence]:
    """Check every sentence of a model's answer against the passages it cites."""
    pairs = cited_sentences(text, len(hits))
    if not pairs:
        return []
    vectors = embedder.embed_documents([s for s, _ in pairs])
    checked = []
    for (sentence, numbers), vector in zip(pairs, vectors):
        terms = set(tokenize(sentence))
        best, quotes = 0.0, []
        for n in numbers:
            passage = cache.full(hits[n - 1], embedder)
            texts, passage_terms, passage_vectors = passage.texts, passage.terms, passage.vectors
            all_terms = set().union(*passage_terms) if passage_terms else set()
            lexical = len(terms & all_terms) / len(terms) if terms else 0.0
            sims = passage_vectors @ vector if len(texts) else np.zeros(1)
            closest = int(np.argmax(sims)) if len(texts) else 0
            dense = float(sims[closest]) if len(texts) else 0.0
            quotes.append(texts[closest] if texts else hits[n - 1].chunk.text[:300])
            support = max(lexical / LEXICAL_BAR, dense / DENSE_BAR)
            best = max(best, min(1.0, support))
        checked.append(CheckedSentence(sentence, numbers, bool(numbers) and best >= 1.0, best, tuple(quotes)))
    return checked


def make_citation(n: int, hit: ScoredChunk, quote: str, locate_page: PageLocator,
                  supported: bool = True, support: float = 1.0) -> Citation:
    return Citation(
        n=n, doi=hit.paper.doi, title=hit.paper.title, page=locate_page(hit, quote), quote=quote,
        chunk_id=hit.chunk.id, paper_id=hit.paper.id, supported=supported, support=round(support, 3),
    )


def renumber(sentences: Sequence[tuple[str, Sequence[int]]]) -> tuple[str, dict[int, int]]:
    """Join sentences with markers renumbered 1, 2, ... in order of first use; returns the text and
    the mapping old passage number -> new marker."""
    mapping: dict[int, int] = {}
    parts = []
    for sentence, numbers in sentences:
        for n in numbers:
            mapping.setdefault(n, len(mapping) + 1)
        markers = "".join(f"[{mapping[n]}]" for n in numbers)
        parts.append(f"{sentence} {markers}".strip() if markers else sentence)
    joined = ""
    for part in parts:
        cjk = bool(joined) and "\u3400" <= joined[-1] <= "\u9fff" or joined.endswith("]") and "\u3400" <= part[:1] <= "\u9fff"
        joined += ("" if not joined or cjk else " ") + part
    return joined, mapping


def doi_link(doi: str) -> str:
    return f"https://doi.org/{doi}" if doi else ""
