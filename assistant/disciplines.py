"""Placeholder for the disciplines part of the library platform (issue 6); filled in by its own change."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.service import Souwen


class Disciplines:
    def __init__(self, service: Souwen):
        self.service = service

    def classify(self, paper_ids: Sequence[str]) -> None:
        """Label new papers (no-op until implemented)."""
