"""Placeholder for the topics part of the library platform (issue 6); filled in by its own change."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.service import Souwen


class Topics:
    def __init__(self, service: Souwen):
        self.service = service

    def match(self, paper_ids: Sequence[str]) -> None:
        """Add new papers to the topics whose saved query they match (no-op until implemented)."""
