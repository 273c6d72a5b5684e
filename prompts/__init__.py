"""Every prompt Souwen sends to a language model, as versioned text files (``prompts/<version>/``).

A prompt is a ``str.format`` template. ``REQUIRED`` names the placeholders each one must use; the
settings object calls ``check_prompts`` when it loads, so a renamed or missing placeholder fails at
start-up instead of in the middle of an answer. No prompt text lives anywhere else in the code.

Passages are always put inside the user message as quoted, numbered data; the system prompt says
that text inside passages is never an instruction (a PDF that says "ignore previous instructions"
changes nothing: tests/assistant/test_answer.py checks it).
"""
from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent

REQUIRED: dict[str, frozenset[str]] = {
    "system": frozenset({"cannot_answer"}),
    "ask": frozenset({"question", "passages", "cannot_answer"}),
    "summarize": frozenset({"title", "passages"}),
    "keypoints": frozenset({"n", "title", "passages"}),
    "synthesis": frozenset({"summaries"}),
    "condense": frozenset({"history", "question"}),
}


class PromptError(ValueError):
    """A prompt set is missing a file or its placeholders differ from REQUIRED."""


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@lru_cache(maxsize=None)
def load_prompt(version: str, name: str) -> str:
    if not version.replace("-", "").replace("_", "").isalnum():
        raise PromptError(f"prompt version {version!r} must be a plain name like v1")
    path = HERE / version / f"{name}.txt"
    if not path.is_file():
        raise PromptError(f"prompt {name!r} of version {version!r} not found at {path}")
    return path.read_text(encoding="utf-8")


def check_prompts(version: str) -> None:
    """Raise PromptError unless every prompt of `version` exists with exactly its placeholders."""
    for name, required in REQUIRED.items():
        found = placeholders(load_prompt(version, name))
        if found != required:
            missing, extra = sorted(required - found), sorted(found - required)
            raise PromptError(f"prompt {version}/{name}.txt: missing placeholders {missing}, unknown {extra}")


def render_prompt(version: str, name: str, **values: object) -> str:
    return load_prompt(version, name).format(**values)
