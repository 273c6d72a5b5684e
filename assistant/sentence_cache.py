"""Sentence vectors per retrieved passage, cached: split a chunk into sentences once, embed only
the sentences an answer may use, and keep the vectors across questions and server restarts.

Extractive answering (``assistant.extractive``) scores every sentence of ~15 passages a question;
the sentences come from `split_passage` (the chunker's splitter, tiny fragments joined, run-on
text cut) and their terms and vectors are kept per chunk id in an LRU (`SentenceCache`), since
chunks never change in place. `prime` fills it ahead of the first questions, `save` and `load`
carry it over a restart.
"""
from __future__ import annotations

import itertools
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.lexical import has_cjk, tokenize
from assistant.protocols import Embedder
from assistant.types import Chunk, ScoredChunk
from ingest.chunking import split_sentences

MIN_CHARS = 25  # shorter fragments ("(Fig. 3).") join the sentence before them
MAX_CHARS = 400  # longer "sentences" are run-on text: cut them at semicolons and glued full stops
_LONG_CUT = re.compile(r"(?<=[;；])\s*|(?<=[a-z0-9)][.!?])(?=[A-Z][a-z])")


@dataclass
class _Passage:
    texts: list[str]
    terms: list[set[str]]
    vectors: np.ndarray  # rows filled on demand; `done` marks which
    done: np.ndarray
    _glossed: list[set[str]] | None = None

    def glossed_terms(self) -> list[set[str]]:
        """Each sentence's terms, a Chinese sentence's with the CC-CEDICT translations of its words
        (stemmed English, ``assistant.lexicon``), for judging an English question's coverage
        (``Answerer.gather``)."""
        if self._glossed is None:
            from assistant.lexicon import expand_terms

            self._glossed = [terms | set(expand_terms([t for t in terms if has_cjk(t)])) if has_cjk(text, 0.2) else terms
                             for text, terms in zip(self.texts, self.terms)]
        return self._glossed


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
