"""Token-aware chunking: a parsed paper's text blocks -> passages that the embedder reads whole.

Chunks are packed from whole sentences up to ``target_tokens`` (counted with the embedder's own
tokenizer, batched once per paper), never past ``max_tokens`` (the embedder's maximum sequence less
its special tokens: all-MiniLM-L6-v2 reads 256 word-pieces and silently drops the rest, which is
how llama-index's 1024-token default leaves two thirds of a paper unembedded). A section heading
always starts a new chunk, and a paragraph end closes one that has reached 3/4 of the target (on
the dev questions this was neutral for retrieval: 80.4% either way, and it keeps passages on one
topic for citations); the last sentences of a chunk are repeated at the start of the next
(``overlap_tokens``) so that evidence straddling a boundary is whole in at least one chunk. Each
chunk keeps its section, page span and character offsets into the paper's body text (the block
texts joined by blank lines; a chunk's span can also hold a caption printed inside one of its
sentences). Tables become chunks of their own. A sentence that a page or column break cuts in two
(the next body block goes on in lower case) is one sentence again (`continues`), so no chunk ends
on "The" and no quote starts in mid-sentence.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import chain, repeat

from assistant.types import Chunk, ParsedPaper, TextBlock
from ingest.textfix import BULLETS, english_words, join_lines

CountTokens = Callable[[Sequence[str]], list[int]]
# Part of the library fingerprint: bump when chunk boundaries change. 9: a Chinese sentence longer
# than the overlap is carried whole when nothing else is (LONG_CARRY); 8: a block that opens with a
# bullet ("• BdDV-1 is ...": a list's item) starts its own line; 7: a short body block left open
# (no sentence end: a byline's line) ends its line, so no sentence runs on from it; 6: footnotes one per line;
# 5: a "；" between English words ends no sentence.
CHUNKER_VERSION = 9
# A Chinese sentence is long in word-pieces (MiniLM reads each character as one), so the overlap
# rarely held one: 89 of 194 size-closed chunks of the corpus's Chinese papers carried nothing on
# (English 132 of 908), and a next chunk opening "这类机制虽然……" had lost what 这类 names. The last
# sentence is carried when it is at most LONG_CARRY times the overlap (Chinese chunks 380 -> 416).
# Dev: `search` Chinese factoids 90 -> 100%, answers unchanged; for English sentences too, dev
# answers citing gold fell 90.1 -> 85.7% (more repeated sentences, fewer distinct passages).
LONG_CARRY = 2

# A sentence ends at . ! ? (followed by space and a capital, digit or bracket) or at a Chinese
# full stop. Abbreviations common in papers are protected so "Fig. 3" and "et al. (2020)" stay whole.
_EN_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9(\[“\"\u3400-\u9fff])")
# Chinese full stops, and the ASCII full stop that some Chinese journals print between two Chinese
# characters ("…的方法.目前…": two of the corpus's five Chinese papers, 159 times), which the English
# rule (a space after the stop) never cut: their "sentences" ran to the token limit and chunks were
# cut mid-sentence. The same stop after a Latin word, a number or a citation mark also ends a
# sentence when Chinese follows ("…方法HMM.该方法…", "…50 GB.为了…", "…[12].本文…": 14 times in the
# corpus's chunks); an abbreviation before it ("et al.") does not.
# A full-width "；" ends a Chinese clause, not an English one: Chinese journals' English abstracts
# print it between list items ("capabilities； improving data transmission efficiency； and ...").
_ZH_END = re.compile(r"(?<=[。！？])|(?<![A-Za-z,]；)(?<=；)|(?<=[A-Za-z]；)(?!\s*[a-z])|"
                     r"(?<=[\u3400-\u9fff][.!?])(?=[\u3400-\u9fff“])")
_LATIN_ZH_END = re.compile(r"(?<=[A-Za-z0-9)）\]][.!?])(?=[\u3400-\u9fff“])")
_ABBREV = re.compile(r"(?:\b(?:et al|Fig|Figs|Eq|Eqs|Ref|Refs|e\.g|i\.e|vs|cf|approx|No|Nos|Tab|Suppl|ca|resp|Dr|Prof)\.|\b[A-Z]\.)$")
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class _Sentence:
    text: str
    page: int
    section: str
    start: int  # char offset in the paper's body text
    end: int
    kind: str
    new_block: bool
    last_page: int = 0  # the page it ends on, when it runs over a page break (else 0: `page`)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in `text` (English and Chinese)."""
    cuts = {0, len(text)} | {m.end() for m in re.finditer("\n", text)}  # a line break ends one (footnotes)
    for match in _EN_END.finditer(text):
        if not _ABBREV.search(text[max(0, match.start() - 8): match.start()]):
            cuts.add(match.end())
    for match in _ZH_END.finditer(text):
        cuts.add(match.end())
    for match in _LATIN_ZH_END.finditer(text):
        if not _ABBREV.search(text[max(0, match.start() - 8): match.start()]):
            cuts.add(match.end())
    points = sorted(cuts)
    spans = []
    for start, end in zip(points, points[1:]):
        while start < end and text[start].isspace():
            start += 1
        stop = end
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if stop > start:
            spans.append((start, stop))
    return spans


def _join(parts: Sequence[str], breaks: Sequence[bool] = ()) -> str:
    """Join sentences: a line break before part i + 1 where `breaks[i]`, else no space between two
    CJK sides and one space otherwise."""
    out = ""
    for part, breaks_before in zip(parts, chain([False], breaks, repeat(False))):
        if out and breaks_before:
            out += "\n"
        elif out and not (_CJK_RE.match(out[-1]) and _CJK_RE.match(part[0])):
            out += " "
        out += part
    return out


def _sentences(paper: ParsedPaper) -> list[_Sentence]:
    sentences: list[_Sentence] = []
    offset = 0
    body: tuple[TextBlock, int] | None = None  # the last body block and the index of its last sentence
    for block in paper.blocks:
        if block.kind == "heading":
            offset += len(block.text) + 2
            body = None
            continue
        first = True
        for start, end in split_sentences(block.text):
            sentence = _Sentence(block.text[start:end], block.page, block.section,
                                 offset + start, offset + end, block.kind, first)
            if first and body is not None and continues(body[0], block):
                # across the captions and tables printed between the two halves, if any
                sentence = _run_on(sentences.pop(body[1]), sentence)
            sentences.append(sentence)
            first = False
        offset += len(block.text) + 2
        if block.kind == "body" and sentences and sentences[-1].kind == "body":
            body = (block, len(sentences) - 1)
    return sentences


_OPEN_END = re.compile(r"[^.!?。！？:：;；]\s*$")


def continues(before: TextBlock, block: TextBlock) -> bool:
    """Does body `block` carry on the sentence that `before` left open (a page or column break in
    mid-sentence: "... the structures were aligned. The" | "contacts between atoms were ...")?

    11.5% of the body-block boundaries of the shared corpus (344 of 2983) fall in mid-sentence.
    Cut there, a chunk could close on "The" and a quote start at "contacts between atoms". Only a
    block that starts with a lower-case letter continues one: a Chinese block cannot be told from a
    new paragraph that way (joining those too, dev answers citing gold fell 82.4 -> 81.3%).
    """
    return (before.kind == block.kind == "body" and before.section == block.section
            and bool(_OPEN_END.search(before.text)) and bool(block.text)
            and block.text[0].islower())


def _run_on(head: _Sentence, tail: _Sentence) -> _Sentence:
    """One sentence from its two halves on either side of a block break."""
    # "regu-" | "lation" is one word again, "state-of-the-" | "art" keeps its hyphen
    text = join_lines([head.text, tail.text], english_words()) if head.text.endswith("-") else _join([head.text, tail.text])
    return replace(head, text=text, end=tail.end,
                   last_page=max(head.last_page or head.page, tail.page))


def _split_long(text: str, count: CountTokens, limit: int) -> list[str]:
    """Cut a text that exceeds `limit` tokens into word (or, for Chinese, character) windows."""
    cjk = bool(_CJK_RE.search(text))
    units = list(text) if cjk else text.split()
    joiner = "" if cjk else " "
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for unit, size in zip(units, count(units)):
        if current and used + size > limit:
            pieces.append(joiner.join(current).strip())
            current, used = [], 0
        current.append(unit)
        used += size
    if current:
        pieces.append(joiner.join(current).strip())
    return [p for p in pieces if p]


def chunk_paper(
    paper: ParsedPaper,
    paper_id: str,
    count_tokens: CountTokens,
    *,
    max_tokens: int,
    target_tokens: int = 160,
    overlap_tokens: int = 32,
    paragraph_share: float = 0.75,
) -> list[Chunk]:
    """Cut a parsed paper into chunks of at most `max_tokens` embedder tokens."""
    target = min(target_tokens, max_tokens)
    sentences = _sentences(paper)
    sizes = count_tokens([s.text for s in sentences]) if sentences else []
    groups: list[list[tuple[_Sentence, int]]] = []
    current: list[tuple[_Sentence, int]] = []
    used = fresh = 0  # tokens in `current`; sentences in it not already in the previous chunk

    def close(carry_over: bool) -> None:
        nonlocal current, used, fresh
        if fresh:
            groups.append(current)
        carry: list[tuple[_Sentence, int]] = []
        total = 0
        if carry_over and fresh:
            for item in reversed(current[1:]):  # never carry a whole chunk
                if total + item[1] > overlap_tokens:
                    break
                carry.insert(0, item)
                total += item[1]
            last, size = current[-1]
            if not carry and len(current) > 1 and size <= LONG_CARRY * overlap_tokens and _CJK_RE.search(last.text):
                carry, total = [current[-1]], size
        current, used, fresh = carry, total, 0

    for sentence, size in zip(sentences, sizes):
        if current and (sentence.section != current[-1][0].section or sentence.kind != current[-1][0].kind):
            close(carry_over=False)  # no overlap across sections or into captions
        elif current and used + size > target:
            close(carry_over=True)
        elif current and sentence.new_block and used >= paragraph_share * target:
            close(carry_over=False)  # a paragraph ends near the target size: end the chunk with it
        current.append((sentence, size))
        used += size
        fresh += 1
    close(carry_over=False)

    chunks: list[Chunk] = []
    for group in groups:
        texts = [s.text for s, _ in group]
        # footnotes are one per line: no full stop ends "∗denotes equal contribution" before "1 Instructions …"
        # a short block left open (a byline's line, a label) ends its line: no sentence runs on from it
        breaks = [s.new_block and (before.new_block and len(before.text) < 60 and bool(_OPEN_END.search(before.text))
                                   or s.text[:1] in BULLETS)  # a list's item ends the line before it
                  for (before, _), (s, _) in zip(group, group[1:])]
        text = "\n".join(texts) if group[0][0].kind == "footnote" else _join(texts, breaks)
        pieces = [text]
        if sum(n for _, n in group) > max_tokens or len(group) == 1 and group[0][1] > max_tokens:
            pieces = _split_long(text, count_tokens, max_tokens)
        first, last = group[0][0], group[-1][0]
        for piece in pieces:
            chunks.append(_make_chunk(paper, paper_id, len(chunks), piece, first, last))
    for table in paper.tables:
        body = f"{table.caption}\n{table.text}".strip() if table.caption else table.text
        for piece in _split_long(body, count_tokens, max_tokens) if body else []:
            fake = _Sentence(piece, table.page, table.label or "Table", 0, 0, "table", True)
            chunks.append(_make_chunk(paper, paper_id, len(chunks), piece, fake, fake))
    return _enforce_limit(chunks, count_tokens, max_tokens)


def _make_chunk(paper: ParsedPaper, paper_id: str, ordinal: int, text: str, first: _Sentence, last: _Sentence) -> Chunk:
    digest = hashlib.sha256(f"{paper.sha256}\x00{ordinal}\x00{text}".encode()).hexdigest()[:20]
    return Chunk(
        id=f"c{digest}", paper_id=paper_id, ordinal=ordinal, text=text, section=first.section,
        page_start=first.page, page_end=max(first.page, last.page, last.last_page), char_start=first.start,
        char_end=max(first.end, last.end), kind="caption" if first.kind == "caption" else first.kind,
    )


def _enforce_limit(chunks: list[Chunk], count_tokens: CountTokens, max_tokens: int) -> list[Chunk]:
    """Re-count the final texts (joining can change word-pieces) and split any chunk still too long."""
    sizes = count_tokens([c.text for c in chunks]) if chunks else []
    if all(n <= max_tokens for n in sizes):
        return chunks
    out: list[Chunk] = []
    for chunk, size in zip(chunks, sizes):
        parts = [chunk.text] if size <= max_tokens else _split_long(chunk.text, count_tokens, int(max_tokens * 0.9))
        for j, part in enumerate(parts):
            suffix = f"-{j}" if len(parts) > 1 else ""
            out.append(Chunk(**{**chunk.__dict__, "text": part, "ordinal": len(out), "id": chunk.id + suffix}))
    return out
