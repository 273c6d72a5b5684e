"""Find a reference list printed without a heading and set it apart from the body text.

``ingest.paragraphs`` diverts the reference list from its heading ("References", "参考文献") on.
Some journals print the list with no heading at all: PNAS sets it in small type under the last
column of the discussion, straight after the acknowledgements ("1. R. T. Abraham, Cell cycle
checkpoint signaling ... Genes Dev. 15, 2177-2196 (2001). 2. S. Ahmed et al., ..."). Those entries
were read as body text: they filled eleven passages of the paper's "Materials and Methods", and
one of them ("K. Rickman, A. Smogorzewska, Advances in understanding DNA processing and protection
at stalled replication forks. J. Cell Biol. ...") led the answer to a question about stalled
replication forks, quoting another paper's title as this paper's finding.

A body block is a piece of reference list when it holds both marks of entries, densely: a numbered
entry opening with an author's initials and surname ("35. K. Rickman,", "2. S. Ahmed et al.,"), and
a journal citation's tail of volume, pages and year ("Genes Dev. 15, 2177-2196 (2001)",
"Elife 7, e37818 (2018)"). Prose cites by number ("(39, 48, 52)") or author and year; a methods
paragraph may name a dataset's paper by journal, volume and pages, but never opens an entry. Only a paper with several such blocks has an
unheaded list: one stray block of citations stays where it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.types import TextBlock

# "15, 2177–2196 (2001)", "7, e37818 (2018)", "12, 2543 (2023)", "47 (3), 4124-4135 (2019)"
_TAIL = re.compile(r"(?<![\d.])\d{1,4}(?:\s*\(\d{1,3}\))?\s*[,:]\s*[eE]?\d{1,6}[A-Za-z]?(?:\s*[–-]\s*[eE]?\d{1,6})?"
                   r"\s*\((?:19|20)\d\d[a-z]?\)")
# "1. R. T. Abraham,", "35. K. Rickman,", "2. S. Ahmed et al.,", "39. T. Kamaletdinova, Z.-Q. Wang"
_STARTS_ENTRY = r"(?:^|(?<=[.)])\s)\d{1,3}\.\s+"  # "35. " at the start or after an entry's final "." / ")"
_ENTRY = re.compile(_STARTS_ENTRY + r"(?:[A-Z]\.\s?(?:-[A-Z]\.\s?)?){1,3}\s?[A-Z][\w'’-]+(?:,| et al\.)")
_CHARS_PER_MARK = 320  # an entry takes 120-250 characters; prose with a stray citation has far more per mark
MIN_BLOCKS = 3  # blocks dense with entry marks before a paper is taken to print an unheaded list


@dataclass(frozen=True)
class Marks:
    entries: int
    tails: int

    @property
    def total(self) -> int:
        return self.entries + self.tails


def count_marks(text: str) -> Marks:
    """The reference-entry marks in `text`: numbered author openings and volume-pages-year tails."""
    return Marks(len(_ENTRY.findall(text)), len(_TAIL.findall(text)))


def is_reference_block(block: TextBlock) -> bool:
    """Is this body block a piece of a reference list (dense with entry marks)?"""
    if block.kind != "body":
        return False
    marks = count_marks(block.text)
    return marks.entries >= 1 and marks.tails >= 1 and len(block.text) <= _CHARS_PER_MARK * marks.total


def divert_unheaded_references(blocks: list[TextBlock], references: list[str]) -> tuple[list[TextBlock], list[str]]:
    """`blocks` without the pieces of a reference list printed with no heading, and `references`
    with that list's entries added; both unchanged when the paper has fewer than MIN_BLOCKS pieces."""
    pieces = [b for b in blocks if is_reference_block(b)]
    if len(pieces) < MIN_BLOCKS:
        return blocks, references
    kept = [b for b in blocks if not any(b is p for p in pieces)]
    return kept, references + split_entries(" ".join(p.text for p in pieces))


def split_entries(text: str) -> list[str]:
    """Cut a run of numbered entries ("1. A. B. Author, ... (2001). 2. C. Author, ...") at each number."""
    starts = [m.start() for m in re.finditer(_STARTS_ENTRY + "[A-Z]", text)]
    if not starts or starts[0] > 0:
        starts = [0] + starts
    cuts = starts + [len(text)]
    return [text[a:b].strip() for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]
