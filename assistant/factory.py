"""Builds the objects that settings describe: the embedder and the library (nothing else does).

Construction only: no model is loaded here (embedders load lazily on first use), so `souwen papers`
and `souwen info` stay fast.
"""
from __future__ import annotations

from assistant.library import LEXICAL_VERSION, SCHEMA_VERSION, Library
from assistant.protocols import Embedder
from assistant.settings import ChunkSettings, EmbedderSettings, Settings


def build_embedder(settings: EmbedderSettings) -> Embedder:
    from embeddings import build_embedder as build

    backend = "" if settings.backend == "auto" else settings.backend
    return build(settings.model, backend, settings.cache_dir, settings.batch_size)


def fingerprint(embedder: Embedder, chunking: ChunkSettings) -> dict:
    """What shapes the stored chunks and vectors: change any of it and the index must be rebuilt."""
    from ingest.chunking import CHUNKER_VERSION
    from ingest.parse import PARSER_VERSION

    return {
        "embedder": embedder.id,
        "dim": embedder.dim,
        "chunking": {"max_tokens": chunking.max_tokens or "embedder max", "target_tokens": chunking.target_tokens,
                     "overlap_tokens": chunking.overlap_tokens, "version": CHUNKER_VERSION},
        "parser": PARSER_VERSION,
        "lexical": LEXICAL_VERSION,
        "schema": SCHEMA_VERSION,
    }


def open_library(settings: Settings, embedder: Embedder) -> Library:
    return Library(settings.library, fingerprint(embedder, settings.chunking), embedder.dim)
