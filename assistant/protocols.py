"""The small seams between layers: embedder, vector store, PDF parser, language model.

Each is a `typing.Protocol` with one to three methods so that a test double (the hashing embedder,
an in-memory store) is a real implementation, and so that heavy models stay behind a lazy loader.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.types import ParsedPaper

ProgressFn = Callable[[int], None]  # called with the number of items just finished


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors; `id` names the model for the fingerprint."""

    id: str
    dim: int
    max_tokens: int  # longest input (in the model's own tokens) that is read in full

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@runtime_checkable
class VectorStore(Protocol):
    """Holds one vector per chunk id and finds the nearest ones."""

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None: ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    def delete(self, ids: Sequence[int]) -> None: ...


class PdfParser(Protocol):
    """Reads one PDF into a ParsedPaper, or raises BadPdfError with a readable reason."""

    def __call__(self, path: Path) -> ParsedPaper: ...


Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class LLMError(RuntimeError):
    """A language model backend failed (unreachable, timed out, bad reply), with a readable reason."""


@runtime_checkable
class LLM(Protocol):
    """A chat model. `id` names backend and model (e.g. 'openai:qwen2.5' or 'llamacpp:gemma3.gguf')."""

    id: str

    def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str: ...

    def stream(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> Iterator[str]: ...
