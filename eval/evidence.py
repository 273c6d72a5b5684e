"""Shared helpers for the eval scripts: locate ../shared, load dev questions, match gold evidence.

Evidence is copied verbatim from PyMuPDF's text layer, so it may carry ligatures, soft hyphens or
hyphenated line breaks that our cleaned passages no longer have. Matching is therefore lenient, as
shared/README.md prescribes: NFKC, lower-case, drop U+00AD, join ``-\\s+``, collapse whitespace
(drop it for Chinese), then a passage contains the evidence when most of the evidence's word
5-grams (10-character shingles for Chinese) occur in it.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "pdfs"
MANIFEST = SHARED / "corpus" / "manifest.json"
QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("\u00ad", "")
    text = re.sub(r"-\s+", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    if _CJK.search(text):
        # drop spaces next to CJK characters (PDF text puts spaces between Chinese glyphs)
        text = re.sub(r"(?<=[\u3400-\u9fff\uff00-\uffef]) | (?=[\u3400-\u9fff\uff00-\uffef])", "", text)
    return text


def shingles(text: str) -> set[str]:
    text = normalise(text)
    if len(_CJK.findall(text)) > len(text) * 0.2:
        compact = text.replace(" ", "")
        return {compact[i:i + 10] for i in range(max(1, len(compact) - 9))}
    words = re.findall(r"\w+", text)
    if len(words) < 5:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + 5]) for i in range(len(words) - 4)}


def contains_evidence(passage: str, evidence: str, share: float = 0.6) -> bool:
    """True when most of the evidence's shingles occur in the passage."""
    wanted = shingles(evidence)
    if not wanted:
        return False
    if len(wanted) == 1:
        return next(iter(wanted)) in normalise(passage) or next(iter(wanted)) in normalise(passage).replace(" ", "")
    have = shingles(passage)
    return len(wanted & have) / len(wanted) >= share
