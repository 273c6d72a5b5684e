"""Placeholder for the accounts part of the library platform (issue 6); filled in by its own change."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.service import Souwen


class Accounts:
    def __init__(self, service: Souwen):
        self.service = service
