"""Fixtures shared by the assistant tests."""
from __future__ import annotations

import pytest

from assistant.factory import fingerprint
from assistant.library import Library
from assistant.settings import ChunkSettings


@pytest.fixture
def lib(tmp_path, hashing):
    """An empty real library under tmp_path for the hashing embedder (fill it with tests.minilib)."""
    library = Library(tmp_path / "lib", fingerprint(hashing, ChunkSettings()), hashing.dim)
    yield library
    library.close()
