"""The Insights tab of the web UI (issue 6); filled in by its own change."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.service import Souwen


def build_tab(get_service: Callable[[], Souwen]) -> None:
    """Add the tab to the gr.Blocks being built (nothing yet)."""
