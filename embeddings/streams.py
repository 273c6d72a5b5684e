"""Run one-text-per-pass inference on several cores as parallel streams, one single-threaded model
session per core, instead of one session whose operators are split across the cores.

Why: the int8 MiniLM embeds one text per forward pass (see ``embeddings.sentence``). An operator on
one ~200-token text is too small to split well: a 2-thread session waits for its threads at every
operator. Two 1-thread sessions, each on its own texts in its own Python thread (onnxruntime
releases the GIL while it runs), embedded 800 corpus chunks in 9.2-9.4 s against 10.7 s for one
2-thread session (2 cores), with bit-identical vectors (a text's pass does not depend on the
session's thread count or on which session runs it).

The number of streams can follow the cores that other work leaves free: during ingest, parser
processes share the machine, and ``run_streams`` takes an ``allowed()`` callable that it asks
before every text. Stream 0 always runs (progress is guaranteed); stream k waits while
``allowed() <= k``. A stream that was told to wait costs nothing: it sleeps, it does not spin.

Left out: batching several texts per pass (the int8 graph quantizes activations per batch, so a
batch would change each text's vector), and torch (its own intra-op pool serves it).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Runner = TypeVar("Runner")
Item = TypeVar("Item")

PAUSE_SECONDS = 0.02  # how often a stream told to wait asks again whether it may run


def run_streams(runners: Sequence[Runner], items: Sequence[Item], work: Callable[[Runner, Item], None],
                allowed: Callable[[], int] | None = None) -> None:
    """Call ``work(runner, item)`` once per item, each of `runners` in its own thread taking the
    next item in order; ``allowed()`` (optional) says how many streams may run now (at least one
    always does). The first error stops every stream and is raised here."""
    lock = threading.Lock()
    state = {"next": 0, "failed": False}

    def take() -> int | None:
        with lock:
            if state["failed"] or state["next"] >= len(items):
                return None
            state["next"] += 1
            return state["next"] - 1

    def stream(k: int) -> None:
        runner = runners[k]
        while True:
            if k and allowed is not None and allowed() <= k:
                with lock:
                    finished = state["failed"] or state["next"] >= len(items)
                if finished:
                    return
                time.sleep(PAUSE_SECONDS)
                continue
            index = take()
            if index is None:
                return
            try:
                work(runner, items[index])
            except BaseException:
                state["failed"] = True
                raise

    if len(runners) <= 1 or len(items) <= 1:
        for item in items:
            work(runners[0], item)
        return
    with ThreadPoolExecutor(max_workers=len(runners) - 1, thread_name_prefix="souwen-embed") as pool:
        others = [pool.submit(stream, k) for k in range(1, len(runners))]
        try:
            stream(0)
        finally:
            errors = [future.exception() for future in others]  # waits for the other streams
        raised = next((error for error in errors if error is not None), None)
        if raised is not None:
            raise raised
