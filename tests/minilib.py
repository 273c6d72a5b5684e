"""Small libraries for fast retrieval and answering tests: papers made from paragraphs (no PDF),
chunked and stored into a real Library (SQLite, FAISS, bm25s) with whatever embedder the test uses."""
from __future__ import annotations

import hashlib

from assistant.lexical import tokenize
from assistant.library import Library, paper_id_for
from assistant.types import PaperMetadata, ParsedPaper, TextBlock
from ingest.chunking import chunk_paper


def paper(name: str, lang: str, paragraphs: list[str]) -> ParsedPaper:
    """A parsed paper named `name` (DOI 10.1/name), one page and one Results block per paragraph."""
    sha = hashlib.sha256(name.encode()).hexdigest()
    blocks = tuple(TextBlock(page=i + 1, text=t, section="Results") for i, t in enumerate(paragraphs))
    return ParsedPaper(sha256=sha, source_path=f"{name}.pdf", page_count=len(paragraphs),
                       metadata=PaperMetadata(doi=f"10.1/{name}", title=name, year=2022, lang=lang),
                       blocks=blocks)


def store(lib: Library, embedder, parsed: ParsedPaper) -> None:
    """Chunk (small chunks, no overlap), embed and add `parsed` to `lib`."""
    chunks = chunk_paper(parsed, paper_id_for(parsed.sha256), embedder.count_tokens, max_tokens=60,
                         target_tokens=40, overlap_tokens=0)
    vectors = embedder.embed_documents([c.text for c in chunks])
    lib.add_paper(parsed, chunks, [tokenize(f"{c.section} {c.text}") for c in chunks], vectors, None)
