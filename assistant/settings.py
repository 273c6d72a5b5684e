"""The one typed settings object (pydantic-settings, env prefix ``SOUWEN_``, nested with ``__``).

Built once by the CLI or ``app.py`` and passed down section by section; nothing here constructs a
client or loads a model (that is ``assistant.factory``'s job). Examples::

    SOUWEN_LIBRARY=/srv/papers souwen info
    SOUWEN_EMBEDDER__MODEL=sentence-transformers/all-mpnet-base-v2 souwen ingest pdfs/
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EmbedderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        "minilm",
        description="'minilm' (the bundled all-MiniLM-L6-v2), 'hashing' (tests only), or any "
        "sentence-transformers model name or local path.",
    )
    backend: str = Field(
        "auto", description="Inference backend: auto, torch, onnx or onnx-int8 (see embeddings/)."
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Texts per forward pass.")
    cache_dir: Path | None = Field(
        None, description="Where exported ONNX models are kept (default: the user cache dir)."
    )


class ChunkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(
        0,
        ge=0,
        description="Hard ceiling per chunk in the embedder's own tokens; 0 means the embedder's "
        "maximum sequence minus its special tokens, so no word is ever truncated.",
    )
    target_tokens: int = Field(
        256,
        ge=16,
        description="Preferred chunk size (clamped to max_tokens); chunks close at the sentence that "
        "would pass it. Measured on the dev questions: 254-token chunks put BM25's top-5 evidence "
        "rate at 78.6% (en) against 71.4% for 160-token ones.",
    )
    overlap_tokens: int = Field(
        64,
        ge=0,
        description="Tokens of trailing sentences repeated at the start of the next chunk. On the dev "
        "questions 64 against 32 raised the top-5 evidence rate from 76.8% to 80.4% (en) and from "
        "80% to 90% (zh) for ~5% more word-pieces to embed.",
    )


class RetrievalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(10, ge=1, le=200, description="Passages returned by search.")
    candidates: int = Field(
        100, ge=10, le=2000, description="Candidates each signal contributes before fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion damping constant.")
    dense_weight_en: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Weight of the dense (embedding) signal against BM25 for English queries. 0 "
        "keeps dense hits only as a fallback after every BM25 hit: on the dev questions each step "
        "up cost English factoids (0 / 0.1 / 0.2 / 0.5: 80.4 / 78.6 / 76.8 / 73.2% top-5).",
    )
    dense_weight_zh: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="Weight of the dense signal for Chinese queries (MiniLM is English-only, so "
        "BM25 over segmented text carries them).",
    )
    crosslingual_weight: float = Field(
        0.3,
        ge=0.0,
        le=2.0,
        description="RRF weight of a third list for Chinese queries: BM25 of the query's "
        "Latin-script terms (gene names, acronyms, numbers) over papers not in Chinese, so that "
        "questions about English papers are not drowned by Chinese papers; 0 turns it off.",
    )


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workers: int = Field(1, ge=0, le=64, description="Parser processes (0 parses in-process).")
    ocr: bool = Field(True, description="OCR pages without text through tesseract when present.")
    figures: bool = Field(True, description="Extract figures and tables.")
    tables: Literal["off", "fast", "thorough"] = Field(
        "fast",
        description="Table extraction: 'fast' reads ruled tables on pages with a table caption; "
        "'thorough' also runs PyMuPDF's layout model for unruled tables (~0.8 s a page).",
    )
    max_pages: int = Field(2000, ge=1, description="Files with more pages are refused.")
    max_file_mb: int = Field(512, ge=1, description="Files larger than this are refused.")
    keep_pdf: bool = Field(True, description="Copy each PDF into the library (to open citations).")


class Settings(BaseSettings):
    """Everything Souwen can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="SOUWEN_", env_nested_delimiter="__", extra="forbid"
    )

    library: Path = Field(Path("data/library"), description="The library directory.")
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    chunking: ChunkSettings = Field(default_factory=ChunkSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
