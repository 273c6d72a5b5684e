"""The CLI's text output: prose is printed whole, not wrapped by rich at the few spaces a Chinese
sentence has (around its Latin words), which broke sentences in mid-clause."""
from __future__ import annotations

import io

from rich.console import Console

from assistant import answer_commands
from assistant.types import Answer, Citation

SENTENCE = ("在第1 步得到算力节点基础性能得分后，第2 步利用基于决策树的CART 算法来给排好序的算力节点的分数进行分段，"
            "CPU 空闲率大于30% 的算力节点才会被选中。")


def test_chinese_answers_and_quotes_are_not_broken_at_their_latin_words(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(answer_commands, "console", Console(file=out, width=60, highlight=False))
    citation = Citation(n=1, doi="10.1/x", title="算力网络中高效算力资源度量方法", page=3, quote=SENTENCE,
                        chunk_id="c1", paper_id="p1")
    answer_commands.print_answer(Answer(question="怎样分段？", text=SENTENCE + " [1]", abstained=False,
                                        citations=(citation,), evidence=(), backend="extractive"))
    lines = out.getvalue().splitlines()
    assert SENTENCE + " [1]" in lines  # the answer: one line
    assert f"    “{SENTENCE}”" in lines  # the quote under References: one line
    assert "[1] 算力网络中高效算力资源度量方法, p. 3. https://doi.org/10.1/x" in lines  # with its link
