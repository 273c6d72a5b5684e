"""Passages of the paper a question leads to, ranked within it over their English glosses.

BM25 over the whole library finds the right paper, but within it the passages that share the
paper's topic words ("标识网络", "可编程平台") outrank the one that answers, and a question phrased
in other words than the paper ("实测" for its "测量", an English question for Chinese body text)
matches the answer weakly or not at all. Each passage of a leading paper has a word-by-word English
gloss (``assistant.lexicon.gloss_text``, CC-CEDICT's first sense), indexed per paper on its first
query; glossing maps Chinese synonyms to shared English words ("实测" -> "take measurements",
"测量" -> "measurement": one stem). Two lists for `assistant.retrieval.retrieve` come from it:

- ``focus_on_leading_papers``: an English question, its own words over the glosses of each Chinese
  paper among its first BM25 hits (``crosslingual_focus_weight``). English questions on the
  corpus's Chinese papers (eval/xling_en_questions.jsonl) top-5 23.1 -> 61.5%.
- ``focus_within_leading_paper``: a Chinese question that BM25 leads to one Chinese paper (all of
  its first FOCUS_DEPTH hits), its own gloss over that paper's glosses (``gloss_focus_weight_zh``).
  The project's Chinese factoids (eval/zh_questions.jsonl) top-5 50 -> 70% (60 -> 80% at
  chunker 9); the dev set's unchanged (90%, 100% at chunker 9; mean reciprocal rank 0.79 -> 0.74,
  one answer 1st -> 2nd), answers unchanged.
  Without the one-paper gate, Chinese questions on English papers lost (`ask` cited gold 92 -> 84%,
  dev and project, n=25): their first hits spread over Chinese papers that share everyday words.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.lexical import LexicalIndex, tokenize
from assistant.lexicon import gloss_text
from assistant.library import Library

FOCUS_DEPTH = 5  # hits of the query's own BM25 list whose papers may be focused on
FOCUS_PAPERS = 2  # at most this many of them (English questions)
FOCUS_PASSAGES = 5  # passages each focused paper contributes


def rows_of(indexes, rowids: Sequence[int]) -> np.ndarray:
    """A bool per index row: True for the rows of these chunk rowids (rowids not indexed are skipped)."""
    rows = np.zeros(len(indexes.rowids), dtype=bool)
    for rowid in rowids:
        row = indexes.row_of.get(rowid)
        if row is not None:
            rows[row] = True
    return rows


def other_language_mask(library: Library, indexes, lang: str) -> np.ndarray:
    """Rows of chunks whose paper is not in `lang`, cached on the indexes object (one SQL query
    per index generation; a bool per chunk, so it scales to millions of chunks)."""
    cache = getattr(indexes, "_language_masks", None)
    if cache is None:
        cache = {}
        indexes._language_masks = cache
    if lang not in cache:
        cache[lang] = rows_of(indexes, library.catalogue.chunk_rowids("COALESCE(p.lang, '') != ?", [lang]))
    return cache[lang]


def focus_on_leading_papers(library: Library, indexes, lexical: list[tuple[int, float]], own: list[str],
                            mask: np.ndarray | None) -> list[tuple[int, float]]:
    """For an English query: the passages of each Chinese paper that leads the query's own BM25
    list (FOCUS_PAPERS among its first FOCUS_DEPTH hits; through the paper's English title,
    abstract and keywords), FOCUS_PASSAGES per paper, ranked within the paper by BM25 of the
    query's own words over the passages' glosses.

    Why: the answer sits in Chinese body text, ranked over all Chinese papers behind passages sharing
    everyday words (dev evidence 9th, 12th); a paper no English word of the question leads to, none.
    Glosses rank better than translated terms: CC-CEDICT renders "guarantee" as 保修/保准/保管,
    not the paper's 保证, which glosses back to "guarantee". English questions on Chinese papers
    (15: eval/xling_en_questions.jsonl and dev), evidence first within the gold paper 2 -> 6 times,
    top 3 6 -> 9; in `retrieve`'s top 30 up for 5 of the 13, down for none.
    """
    if not own or not lexical:
        return []
    allowed = other_language_mask(library, indexes, "en")
    if mask is not None:
        allowed = allowed & mask
    out: list[tuple[int, float]] = []
    focused = 0
    for paper_id in dict.fromkeys(_leading_papers(library, lexical)):
        rows = rows_of(indexes, library.catalogue.chunk_rowids("c.paper_id = ?", [paper_id])) & allowed
        if not rows.any():
            continue  # a paper in the question's own language: its own lists rank it already
        out += search_glosses(library, indexes, paper_id, own, FOCUS_PASSAGES, rows)
        focused += 1
        if focused == FOCUS_PAPERS:
            break
    return sorted(out, key=lambda hit: -hit[1])


def focus_within_leading_paper(library: Library, indexes, lexical: list[tuple[int, float]], query: str,
                               mask: np.ndarray | None) -> list[tuple[int, float]]:
    """For a Chinese query whose first FOCUS_DEPTH BM25 hits are all one Chinese paper's: that
    paper's FOCUS_PASSAGES passages ranked by BM25 of the query's gloss over their glosses."""
    leading = _leading_papers(library, lexical)
    if len(leading) < FOCUS_DEPTH or len(set(leading)) != 1:
        return []  # a question BM25 does not lead to one paper (e.g. a Chinese question on English papers)
    terms = tokenize(gloss_text(query))
    chinese = ~other_language_mask(library, indexes, "zh")
    rows = rows_of(indexes, library.catalogue.chunk_rowids("c.paper_id = ?", [leading[0]])) & chinese
    if mask is not None:
        rows &= mask
    if not terms or not rows.any():
        return []
    return search_glosses(library, indexes, leading[0], terms, FOCUS_PASSAGES, rows)


def _leading_papers(library: Library, lexical: list[tuple[int, float]]) -> list[str]:
    """The paper of each of the first FOCUS_DEPTH hits, in order (repeats kept)."""
    chunks = library.catalogue.chunks([rowid for rowid, _ in lexical[:FOCUS_DEPTH]])
    return [chunks[rowid].paper_id for rowid, _ in lexical[:FOCUS_DEPTH] if rowid in chunks]


def search_glosses(library: Library, indexes, paper_id: str, terms: list[str], depth: int,
                   rows: np.ndarray) -> list[tuple[int, float]]:
    """BM25 of English `terms` over the English glosses of one paper's passages among `rows`, as
    (chunk rowid, score), best first."""
    cached = indexes.glossed.get(paper_id)
    if cached is None:  # 10-30 ms for a corpus paper (57-160 passages), kept with the indexes
        rowids = [r for r in library.catalogue.chunk_rowids("c.paper_id = ?", [paper_id]) if r in indexes.row_of]
        chunks = library.catalogue.chunks(rowids)
        rowids = [r for r in rowids if r in chunks]
        cached = indexes.glossed[paper_id] = (rowids, LexicalIndex([tokenize(gloss_text(chunks[r].text)) for r in rowids]))
    rowids, index = cached
    within = rows[[indexes.row_of[r] for r in rowids]] if rowids else None
    return [(rowids[i], score) for i, score in index.search(terms, depth, mask=within)]
