"""A deterministic, model-free embedder for fast unit tests: sha256 feature hashing of n-grams.

`HashingEmbedder` implements the `Embedder` protocol without torch or any file on disk. Each text
becomes the lower-cased words (Latin and other scripts) and single CJK characters it contains;
unigrams and bigrams of that token stream are hashed with sha256 into `dim` buckets with a
sign bit (so collisions cancel on average instead of piling up), weighted by 1 + log(tf), and the
vector is L2-normalised. Texts sharing words therefore get a positive cosine, which is enough for
retrieval tests to rank an obviously relevant sentence first.

Left out on purpose: any notion of meaning (synonyms, cross-language), IDF, stemming. It is a
real implementation of the protocol for tests, not a retrieval model.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from assistant.protocols import ProgressFn

# CJK ideographs (basic + extension A + compatibility), kana and hangul count one token per
# character, as a Chinese reader (and jieba-free BM25) would; everything else is \w+ runs.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")

# A text with no token at all still needs a unit vector (the protocol promises unit norms).
_EMPTY_FEATURE = "\x00empty"


def tokenize(text: str) -> list[str]:
    """Split lower-cased text into words and single CJK characters."""
    return TOKEN_RE.findall(text.lower())


@lru_cache(maxsize=200_000)
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    """Map a feature to (bucket index, ±1) via sha256: stable across processes, unlike hash()."""
    digest = hashlib.sha256(feature.encode("utf-8")).digest()
    index = int.from_bytes(digest[:8], "little") % dim
    sign = 1.0 if digest[8] & 1 else -1.0
    return index, sign


def extract_features(tokens: list[str]) -> Counter[str]:
    """Count unigrams and (space-joined) bigrams; bigrams add a little word-order signal."""
    features: Counter[str] = Counter(tokens)
    features.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:]))
    return features


class HashingEmbedder:
    """Feature-hashing embedder: deterministic, instant, no model; for tests and dry runs."""

    def __init__(self, dim: int = 384, max_tokens: int = 256):
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = dim
        # Nothing is truncated here, but callers size chunks with max_tokens, so it mirrors MiniLM.
        self.max_tokens = max_tokens
        self.id = f"hashing-sha256-v1-d{dim}"

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed each text into a unit float32 row; `progress` gets the count after each text."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._embed_one(text)
            if progress is not None:
                progress(1)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query the same way as a document (the scheme is symmetric)."""
        return self._embed_one(text)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Count words and CJK characters: a cheap stand-in for word-pieces."""
        return [len(TOKEN_RE.findall(text)) for text in texts]

    def _embed_one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        features = extract_features(tokenize(text)) or Counter({_EMPTY_FEATURE: 1})
        for feature, tf in features.items():
            index, sign = _bucket(feature, self.dim)
            vector[index] += sign * (1.0 + math.log(tf))
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:  # every feature cancelled out (vanishingly rare): fall back to the sentinel
            index, sign = _bucket(_EMPTY_FEATURE, self.dim)
            vector[index] = sign
            norm = 1.0
        return vector / norm

    def __repr__(self) -> str:
        return f"HashingEmbedder(dim={self.dim})"
