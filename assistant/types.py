"""Domain types shared by every layer: what a parsed PDF, a paper, a chunk and a hit look like.

Frozen dataclasses only (no behaviour beyond tiny derived properties); pydantic stays at the
settings and HTTP edges. Page numbers are 1-based everywhere, as printed on a citation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

BBox = tuple[float, float, float, float]


class NotFound(LookupError):
    """Something a user named is not in the library (a paper, topic, user, favourite, subscription;
    or it belongs to another user): HTTP 404, exit code 4."""


class Conflict(ValueError):
    """A name that is taken (a topic, a user): HTTP 409, exit code 2."""


class BadPdfError(Exception):
    """A file that cannot be ingested, with a reason a user can read (no traceback)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TextBlock:
    """One paragraph-sized piece of body text, in reading order."""

    page: int
    text: str
    section: str = ""  # the heading this block falls under ("" before the first heading)
    kind: str = "body"  # body | heading | caption | table | footnote


@dataclass(frozen=True)
class FigureImage:
    """A raster or vector figure rendered to PNG, with its caption when one was found."""

    page: int
    bbox: BBox
    kind: str  # raster | vector
    png: bytes = field(repr=False)
    label: str = ""  # "Figure 3", "图2", "Table 1"; "" when no caption was paired
    caption: str = ""
    mentions: tuple[str, ...] = ()  # body sentences that refer to the label
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class TableText:
    """A table that PyMuPDF found, flattened to text (markdown rows)."""

    page: int
    bbox: BBox
    text: str
    label: str = ""
    caption: str = ""


@dataclass(frozen=True)
class PaperMetadata:
    """Bibliographic facts read from the PDF itself (no network)."""

    doi: str = ""  # lower-case, no trailing punctuation; "" when not found
    title: str = ""
    title_alt: str = ""  # the other-language title (e.g. the English title of a Chinese paper)
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str = ""
    abstract: str = ""
    abstract_alt: str = ""
    keywords: tuple[str, ...] = ()
    keywords_alt: tuple[str, ...] = ()
    lang: str = "en"  # en | zh
    # (author, affiliations as printed) in byline order, where the PDF gives them (ingest.affiliations)
    author_affiliations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    licence: str = ""  # "CC-BY-4.0" style, from the licence statement the PDF prints


@dataclass(frozen=True)
class ParsedPaper:
    """Everything the parser extracts from one PDF."""

    sha256: str
    source_path: str
    page_count: int
    metadata: PaperMetadata
    blocks: tuple[TextBlock, ...]  # body text in reading order, references excluded
    references: tuple[str, ...] = ()
    figures: tuple[FigureImage, ...] = ()
    tables: tuple[TableText, ...] = ()
    ocr_pages: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DisciplineLabel:
    """One of a paper's 学科 (a catalogue code, assistant.disciplines), with its confidence (0..1)
    and where it came from: auto (the classifier) or user (a correction, confidence 1)."""

    code: str
    confidence: float
    source: str = "auto"


@dataclass(frozen=True)
class Paper:
    """A paper as stored in the catalogue."""

    id: str  # sha256-derived, stable across machines
    doi: str
    title: str
    authors: tuple[str, ...]
    year: int | None
    pages: int
    lang: str
    venue: str = ""
    title_alt: str = ""
    abstract: str = ""
    abstract_alt: str = ""
    keywords: tuple[str, ...] = ()
    keywords_alt: tuple[str, ...] = ()
    sha256: str = ""
    source_path: str = ""
    figures: int = 0
    chunks: int = 0
    added_at: str = ""
    licence: str = ""  # "CC-BY-4.0" style where the PDF or record states it
    oa_url: str = ""  # where the open-access full text lives (metadata records)
    source: str = "pdf"  # pdf | record (a metadata-only OA record: its abstract is the text)
    disciplines: tuple[DisciplineLabel, ...] = ()  # best first


@dataclass(frozen=True)
class Chunk:
    """A token-bounded passage of one paper: the unit that is embedded, indexed and cited."""

    id: str
    paper_id: str
    ordinal: int
    text: str
    section: str
    page_start: int
    page_end: int
    char_start: int  # offsets into the paper's concatenated body text
    char_end: int
    kind: str = "body"  # body | caption | table | abstract | meta | footnote


@dataclass(frozen=True)
class ScoredChunk:
    """A search hit: a chunk, its paper, and the fused score with the per-signal ranks."""

    chunk: Chunk
    paper: Paper
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """What an answer's [n] marker resolves to: a quote from one passage of one paper, on a page."""

    n: int
    doi: str
    title: str
    page: int
    quote: str
    chunk_id: str
    paper_id: str
    supported: bool = True  # the cited passage supports the sentences that carry this marker
    support: float = 1.0  # the weakest support score of those sentences (0..1)


@dataclass(frozen=True)
class Answer:
    """A cited answer, or an abstention that lists the closest papers."""

    question: str
    text: str  # sentences with [n] markers (the "cannot answer" sentence when abstained)
    abstained: bool
    citations: tuple[Citation, ...]
    evidence: tuple[ScoredChunk, ...]  # the passages considered, best first
    backend: str  # extractive | openai:<model> | llamacpp:<file>
    confidence: float = 0.0  # the evidence score that the abstention threshold is compared with
    checked: int = 0  # answer sentences checked against their cited passages
    unsupported: tuple[str, ...] = ()  # sentences removed (or flagged) as unsupported
    closest: tuple[Paper, ...] = ()  # when abstained: the papers nearest to the question
    standalone_question: str = ""  # chat: the follow-up rewritten with the conversation so far
