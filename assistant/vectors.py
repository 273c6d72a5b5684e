"""Dense search: a FAISS inner-product index keyed by the catalogue's integer chunk ids.

Vectors are L2-normalised, so inner product is cosine similarity. An exact ``IndexFlatIP`` behind
an ``IndexIDMap2`` is used: a personal library holds thousands to a few hundred thousand chunks,
where exact search takes milliseconds and needs no training, and ids let us delete one paper's
vectors. Filters (DOIs, years) are applied inside FAISS with an ``IDSelectorBatch`` so that a
filtered search still returns k hits. Persistence is write-to-temp-then-rename, so a crash never
leaves a half-written index file.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np


class FaissStore:
    """The `VectorStore` protocol over FAISS."""

    def __init__(self, dim: int, index: faiss.Index | None = None):
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def delete(self, ids: Sequence[int]) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(
        self, vector: np.ndarray, k: int, allowed: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """Return up to k (chunk id, cosine) pairs, best first, optionally only among `allowed`."""
        if len(self) == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
        scores, ids = self._index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def save(self, path: Path) -> None:
        """Write the index atomically (temp file in the same directory, fsync, rename)."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, dim: int) -> FaissStore:
        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"{path} holds {index.d}-d vectors, the embedder makes {dim}-d ones")
        return cls(dim, index)
