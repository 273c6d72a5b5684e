"""Parallel single-threaded inference streams (embeddings/streams.py) and their use by the embedder:
every text once, the streams allowed by the cores left free, errors raised, vectors bit-identical
to the one-session path (the real MiniLM, int8 and full precision)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from embeddings.sentence import pad_batch
from embeddings.streams import run_streams


def test_every_item_is_worked_once_by_some_stream():
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def work(runner, item):
        with lock:
            seen.append((runner, item))

    run_streams(["a", "b", "c"], list(range(200)), work)
    assert sorted(item for _, item in seen) == list(range(200))


def test_streams_beyond_the_allowed_count_wait():
    used: set[str] = set()
    run_streams(["first", "second"], list(range(50)), lambda runner, item: used.add(runner), allowed=lambda: 1)
    assert used == {"first"}


def test_a_freed_core_is_taken_up():
    """`allowed()` is asked again while the work goes on: the second stream joins once it may."""
    done = threading.Event()
    used: list[str] = []

    def work(runner, item):
        used.append(runner)
        if item == 5:
            done.set()
        if runner == "first":
            threading.Event().wait(0.01)

    run_streams(["first", "second"], list(range(60)), work, allowed=lambda: 2 if done.is_set() else 1)
    assert set(used[:6]) == {"first"} and "second" in used


def test_an_error_in_any_stream_is_raised_and_stops_the_rest():
    worked: list[int] = []

    def work(runner, item):
        if runner == "second":
            raise ValueError("session failed")
        worked.append(item)
        threading.Event().wait(0.005)

    with pytest.raises(ValueError, match="session failed"):
        run_streams(["first", "second"], list(range(1000)), work)
    assert len(worked) < 999


@pytest.fixture(scope="module")
def texts(minilm):
    sentences = ["Ribosome assembly stalled without RlmE at 37 degrees.", "本研究提出了一种新的标识网络架构。",
                 "The doubling time of the strain was 90 minutes in rich medium and longer in minimal medium."]
    return [" ".join(sentences[: 1 + i % 3]) * (1 + i % 4) for i in range(24)]


def _one_session(embedder, texts):
    """Reference: every text through the embedder's single all-core session."""
    run = embedder._load_runner()
    encodings = embedder._encoding_tokenizer().encode_batch(texts)
    rows = np.vstack([run(pad_batch([e], embedder._pad_id)) for e in encodings])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize("precision", ["int8", "full"])
def test_streams_give_the_vectors_of_one_session(minilm, texts, precision):
    embedder = minilm if precision == "int8" else minilm.full_precision()
    if embedder.threads < 2:
        embedder = type(embedder)(embedder.model, embedder.backend, 1, embedder.cache_dir, threads=2)
    assert np.array_equal(embedder.embed_documents(texts), _one_session(embedder, texts))
    assert len(embedder._streams) == embedder.threads


def test_sharing_cores_leaves_busy_cores_alone(minilm, texts):
    embedder = type(minilm)(minilm.model, minilm.backend, 1, minilm.cache_dir, threads=2)
    expected = embedder.embed_documents(texts)
    asked: list[int] = []

    def busy() -> int:
        asked.append(1)
        return 1  # one parser at work: one stream

    ran = []
    streams = embedder._streams
    embedder._streams = [lambda batch, run=run, k=k: ran.append(k) or run(batch) for k, run in enumerate(streams)]
    with embedder.sharing_cores(busy):
        shared = embedder.embed_documents(texts)
    assert asked and set(ran) == {0}
    assert np.array_equal(shared, expected)
    assert embedder._busy is None  # restored on the way out
