"""Read a library's catalogue the way an outside tool would: its SQLite file opened read-only.

Tests that check rows no public method returns (authors' affiliations, a table emptied on purpose)
query the file itself rather than the catalogue's private connection, so they also prove that
what they check was committed to disk.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from assistant.library import Library


def query_catalogue(library: Library, sql: str, params: tuple = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` over `library`'s catalogue file, through a new read-only connection."""
    # closing(): a connection used as a context manager only ends its transaction, it stays open
    with closing(sqlite3.connect(f"file:{library.catalogue.path}?mode=ro", uri=True)) as db:
        return db.execute(sql, params).fetchall()
