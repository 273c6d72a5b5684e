"""Sentence vectors kept between runs: what a warm-up embedded is saved and read back, not re-embedded."""
from __future__ import annotations

import numpy as np

from assistant.extractive import SentenceCache
from assistant.types import Chunk


class Counting:
    """An embedder wrapper that counts the texts it embeds."""

    def __init__(self, inner):
        self.inner, self.dim, self.texts = inner, inner.dim, 0

    def embed_documents(self, texts, *args, **kwargs):
        self.texts += len(texts)
        return self.inner.embed_documents(texts)


def chunks() -> list[Chunk]:
    texts = ["Yeast cells grew faster at 30 degrees. The doubling time fell to 90 minutes.",
             "Ribosome assembly stalled without RlmE. Other enzymes had smaller roles in assembly.",
             "本研究提出了一种新的标识网络。It also reports an English sentence about mobility."]
    return [Chunk(id=f"p1-c{i}", paper_id="p1", ordinal=i, text=t, section="Results", page_start=1, page_end=1,
                  char_start=0, char_end=len(t)) for i, t in enumerate(texts)]


def test_saved_vectors_are_read_back_instead_of_embedded(tmp_path, hashing):
    first, embedder = SentenceCache(), Counting(hashing)
    first.prime(chunks(), embedder, seconds=60)
    assert embedder.texts > 0
    path = tmp_path / "cache" / "sentence-vectors.npz"
    assert first.save(path) == embedder.texts

    again, second = SentenceCache(), Counting(hashing)
    assert again.load(path) == embedder.texts
    again.prime(chunks(), second, seconds=60)
    assert second.texts == 0  # every English sentence came from the file
    for before, after in zip(first._passages(chunks(), hashing.dim), again._passages(chunks(), hashing.dim)):
        assert np.array_equal(before.done, after.done) and np.allclose(before.vectors, after.vectors)


def test_a_missing_or_broken_file_loads_nothing(tmp_path):
    cache = SentenceCache()
    assert cache.load(tmp_path / "absent.npz") == 0
    (tmp_path / "broken.npz").write_bytes(b"not a numpy file")
    assert cache.load(tmp_path / "broken.npz") == 0
    assert cache.save(tmp_path / "empty.npz") == 0 and not (tmp_path / "empty.npz").exists()
