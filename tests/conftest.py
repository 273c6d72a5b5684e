"""Shared fixtures: offline guard, the shared corpus, embedders, and small parsed papers.

The real corpus lives beside the project in ../shared (never copied in); tests that need it skip
with a reason when it is absent. Network is refused except loopback, so a test that would download
a model fails loudly instead of passing on a connected machine.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "pdfs"
MANIFEST = SHARED / "corpus" / "manifest.json"
QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"

_real_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1") or "/" in host):
        return _real_connect(self, address)
    raise RuntimeError(f"network access to {address!r} is forbidden in tests (offline-first)")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it lives beside the project, never in it)")
    return CORPUS


@pytest.fixture(scope="session")
def manifest(corpus) -> list[dict]:
    import json

    return json.loads(MANIFEST.read_text())


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 through the default (fastest measured) backend."""
    from embeddings import build_embedder

    return build_embedder("minilm")


@pytest.fixture
def hashing():
    from embeddings import build_embedder

    return build_embedder("hashing")


@pytest.fixture(scope="session")
def corpus_service(corpus, tmp_path_factory, minilm):
    """The whole shared corpus ingested once per test session with the real MiniLM (about a minute)."""
    from assistant.service import Souwen
    from assistant.settings import Settings

    library = tmp_path_factory.mktemp("corpus") / "library"
    souwen = Souwen(Settings(library=library), embedder=minilm)
    summary = souwen.ingest([corpus], workers=1)
    assert summary.count("added") == 33 and not summary.failed, [o for o in summary.outcomes if o.status != "added"]
    yield souwen
    souwen.close()
