"""Pieces of the extractive reports that need no corpus: the authors' keyword line."""
from __future__ import annotations

from assistant.summaries import keyword_line
from assistant.types import Chunk, Paper


def chunk(text: str, section: str = "Keywords", kind: str = "body") -> Chunk:
    return Chunk(id=f"c-{len(text)}", paper_id="p1", ordinal=0, text=text, section=section, page_start=1,
                 page_end=1, char_start=0, char_end=len(text), kind=kind)


def paper(*keywords: str) -> Paper:
    return Paper(id="p1", doi="10.1/x", title="T", authors=(), year=2024, pages=1, lang="en", keywords=keywords)


def test_keyword_line_quotes_the_printed_list_and_stops_at_its_last_keyword():
    printed = chunk("Keywords: RNA editing; C. elegans; innate immunity Introduction Double-stranded RNA is ...")
    line = keyword_line(paper("RNA editing", "C. elegans", "innate immunity"), [chunk("Abstract text that mentions RNA editing.", "Abstract"), printed])
    assert line is not None and line.text == "RNA editing; C. elegans; innate immunity"
    assert line.text in printed.text and line.hit.chunk is printed  # a verbatim, citable quote


def test_keyword_line_is_none_without_keywords_or_their_printed_list():
    printed = chunk("关键词：算力网络；算力度量；混合式度量方法中图法分类号 TP391")
    assert keyword_line(paper(), [printed]) is None
    assert keyword_line(paper("算力网络", "算力度量", "混合式度量方法"), [printed]).text == "算力网络；算力度量；混合式度量方法"
    assert keyword_line(paper("graphs", "networks"), [printed]) is None
