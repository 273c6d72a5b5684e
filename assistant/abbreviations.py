"""Abbreviations a paper defines ("deep vein thrombosis (DVT)"), so that a question using one form
finds sentences using the other.

Papers define an abbreviation once and then use it: a question asks about "restriction-modification
systems" while the evidence says "R-M systems". The answer-sentence scorer (``assistant.extractive``)
counts either form as finding the question's term. The definitions are found with the Schwartz &
Hearst (2003) algorithm: a short form in parentheses after its long form, whose characters occur
in order in the long form, the first one at the start of a word. Found per paper over all its
passages and cached (papers never change in place).

Measured on the dev questions: answerable questions citing gold 74.7 -> 75.8% (one more English
factoid, none lost). Adding the other form to the BM25 query as well was tried and dropped: extra
query terms weigh the abbreviated concept twice (multi-paper top-5 16.7 -> 8.3%, Chinese questions
on English papers 66.7 -> 60%, English factoids unchanged).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from assistant.lexical import tokenize

_PAREN = re.compile(r"\(([^()]{1,12})\)")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def is_short_form(text: str) -> bool:
    """2-10 characters, one word, starting with a letter or digit, one capital letter at least
    ("Fig. 2", "n = 12" and "P < 0.001" in parentheses are not abbreviations)."""
    text = text.strip()
    return (2 <= len(text) <= 10 and text[0].isalnum() and any(c.isupper() for c in text)
            and not any(c.isspace() or c in "=<>" for c in text))


def match_long_form(short: str, before: str) -> str | None:
    """The shortest tail of `before` that the short form abbreviates (Schwartz & Hearst): every
    letter or digit of the short form, right to left, found in order, the first at a word start."""
    words = _WORD.findall(before)[-min(len(short) + 5, 2 * len(short)):]
    if not words:
        return None
    candidate = " ".join(words)
    chars = [c.lower() for c in short if c.isalnum()]
    s, l = len(chars) - 1, len(candidate) - 1
    while s >= 0:
        c = chars[s]
        while l >= 0 and (candidate[l].lower() != c or (s == 0 and l > 0 and candidate[l - 1].isalnum())):
            l -= 1
        if l < 0:
            return None
        s, l = s - 1, l - 1
    long = candidate[l + 1:].strip()  # from the word start where the first character matched
    if len(long) <= len(short) or long.lower() == short.lower() or not long[0].isalnum():
        return None
    first = long.split()[0]
    if len(long.split()) > len(chars) + 1 or len(first) < 2 or (is_short_form(first) and first.upper() == first):
        return None  # "R-M system N4-methylcytosine (m4C)": another abbreviation is not a long form
    return long


def find_abbreviations(texts: Iterable[str]) -> dict[str, str]:
    """Short form -> long form for every definition "long form (SF)" in `texts` (first one wins)."""
    found: dict[str, str] = {}
    for text in texts:
        for match in _PAREN.finditer(text):
            short = match.group(1).strip()
            if not is_short_form(short) or short in found:
                continue
            long = match_long_form(short, text[max(0, match.start() - 120):match.start()])
            if long:
                found[short] = long
    return found


class AbbreviationCache:
    """Per paper id, its abbreviations (LRU; `load` reads a paper's passage texts)."""

    def __init__(self, load: Callable[[str], Sequence[str]], size: int = 512):
        self._load = load
        self._size = size
        self._items: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, paper_id: str) -> dict[str, str]:
        with self._lock:
            if paper_id in self._items:
                self._items.move_to_end(paper_id)
                return self._items[paper_id]
        return self.learn(paper_id, self._load(paper_id))

    def learn(self, paper_id: str, texts: Sequence[str]) -> dict[str, str]:
        """Find and keep a paper's abbreviations from texts already at hand (a server's warm-up)."""
        found = find_abbreviations(texts)
        with self._lock:
            self._items[paper_id] = found
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def alternate_forms(question: str, abbreviations: dict[str, str]) -> dict[str, set[str]]:
    """Question term -> terms of the other form, for the abbreviations the question uses either way.

    A long form in the question lends each of its terms the short form ("methylcytosin" -> "m4c");
    a short form lends itself the long form's terms."""
    lowered = question.lower()
    own = set(tokenize(question))
    out: dict[str, set[str]] = {}
    for short, long in abbreviations.items():
        # whole terms only: "r-m" but not its parts "r" and "m", which would match anything
        short_terms = [t for t in tokenize(short) if len(t) >= 3]
        long_terms = [t for t in tokenize(long) if len(t) >= 3]
        if not short_terms or not long_terms:
            continue
        if long.lower() in lowered:
            for term in long_terms:
                out.setdefault(term, set()).update(short_terms)
        if re.search(rf"(?<![\w-]){re.escape(short)}(?![\w-])", question) and set(short_terms) <= own:
            for term in short_terms:
                out.setdefault(term, set()).update(long_terms)
    return out


def defined_in(cache: AbbreviationCache, paper_ids: Iterable[str]) -> dict[str, str]:
    """The abbreviations of several papers; for a short form two papers define, the first's."""
    defined: dict[str, str] = {}
    for paper_id in dict.fromkeys(paper_ids):
        for short, long in cache.get(paper_id).items():
            defined.setdefault(short, long)
    return defined
