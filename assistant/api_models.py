"""The pydantic models of the HTTP edge: what each route of ``assistant.api`` accepts and returns.

Requests are checked here (question length, k bounds, DOI list sizes, year ranges; unknown fields
refused), so bad input gets a 422 that names the field before any work is done. Responses mirror
the CLI's ``--json`` schema in README.md field for field: the routes fill them with the same dicts
(``answer_json``, ``report_json``, ``paper_json``, ``hit_json``), so /docs documents both, and the
CLI and the API cannot drift apart. The domain stays in frozen dataclasses; pydantic stops here.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from assistant.answering import MAX_QUESTION_CHARS
from assistant.reading import MAX_PAPERS
from assistant.retrieval import parse_years

MAX_TURNS = 20  # earlier turns a follow-up may carry (the answerer reads the last three)
MAX_K = 100  # passages per question or search (the answer settings allow at most 100 passages)

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
KeyList = Annotated[list[Key], Field(max_length=MAX_PAPERS, description="DOIs or paper ids")]
Years = Annotated[str | None, Field(None, max_length=20, description="e.g. 2020-2024, 2021 or 2020-")]
Disciplines = Annotated[list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=6)]],
                        Field(max_length=50, description="Only papers in these 学科 (07, 0710 or 071010).")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("years", check_fields=False)
    @classmethod
    def _check_years(cls, value: str | None) -> str | None:
        parse_years(value)  # raises ValueError with the accepted forms
        return value


class QuoteIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a client may send back whole citation objects

    quote: Annotated[str, StringConstraints(max_length=5000)] = ""


class TurnIn(BaseModel):
    """One earlier turn, as /ask returned it (its `question`, `answer` text and `citations`)."""

    model_config = ConfigDict(extra="ignore")

    question: Question
    answer: Annotated[str, StringConstraints(max_length=20000)] = ""
    citations: list[QuoteIn] = Field(default_factory=list, max_length=100)


class AskRequest(_Request):
    question: Question = Field(description="The question, in English or Chinese.")
    k: int | None = Field(None, ge=1, le=MAX_K, description="Passages read for the answer (default 15).")
    dois: KeyList = Field(default_factory=list, description="Only these papers (DOIs or ids).")
    years: Years = None
    discipline: Disciplines = Field(default_factory=list)
    stream: bool = Field(False, description="Server-sent events: `token` pieces, then one `answer`.")
    backend: Literal["extractive", "openai", "llamacpp"] | None = Field(
        None, description="Who writes this answer (default: the server's `llm.backend`). The model's endpoint "
        "or file stays the server's setting; a backend that fails is a 502, never a silent fallback.")
    history: list[TurnIn] = Field(default_factory=list, max_length=MAX_TURNS,
                                  description="The conversation so far, oldest first: follow-ups such as "
                                  "'and in wheat?' are read with it, and sentences already cited are not repeated.")


class SummarizeRequest(_Request):
    dois: Annotated[list[Key], Field(min_length=1, max_length=MAX_PAPERS, description="DOIs or paper ids")]


class KeypointsRequest(SummarizeRequest):
    n: int = Field(5, ge=1, le=50, description="How many key points.")


class ReviewRequest(_Request):
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    n: int = Field(10, ge=1, le=MAX_PAPERS, description="How many papers.")
    dois: KeyList = Field(default_factory=list, description="Only these papers (DOIs or ids).")
    years: Years = None
    discipline: Disciplines = Field(default_factory=list)


# -- responses (the README's JSON schema) ---------------------------------------------------------
class CitationOut(BaseModel):
    n: int
    doi: str
    title: str
    page: int
    quote: str
    chunk_id: str
    paper_id: str
    supported: bool
    support: float
    url: str


class PaperRefOut(BaseModel):
    paper_id: str
    doi: str
    title: str
    year: int | None
    url: str


class EvidenceOut(BaseModel):
    chunk_id: str
    paper_id: str
    doi: str
    title: str
    page: int
    page_end: int
    section: str
    text: str
    score: float


class VerificationOut(BaseModel):
    checked: int
    unsupported: list[str]


class AnswerOut(BaseModel):
    question: str
    answer: str
    abstained: bool
    confidence: float
    backend: str
    citations: list[CitationOut]
    evidence: list[EvidenceOut]
    verification: VerificationOut
    closest_papers: list[PaperRefOut]
    standalone_question: str


class SectionOut(BaseModel):
    heading: str
    text: str


class ReportOut(BaseModel):
    kind: str
    title: str
    backend: str
    sections: list[SectionOut]
    table: list[list[str]]
    citations: list[CitationOut]
    papers: list[PaperRefOut]


class DisciplineLabelOut(BaseModel):
    code: str
    name: str
    name_en: str
    confidence: float
    source: str


class PaperOut(BaseModel):
    id: str
    doi: str
    title: str
    authors: list[str]
    year: int | None
    pages: int
    lang: str
    venue: str
    title_alt: str
    abstract: str
    abstract_alt: str
    keywords: list[str]
    keywords_alt: list[str]
    sha256: str
    source_path: str
    figures: int
    chunks: int
    added_at: str
    licence: str = Field("", description="OA licence, SPDX-like (CC-BY-4.0), where the PDF or record states it.")
    oa_url: str = Field("", description="Where the open-access full text lives (metadata records).")
    source: str = Field("pdf", description="'pdf', or 'record': a metadata-only OA record (its abstract is the text).")
    disciplines: list[DisciplineLabelOut] = []


class PaperPage(BaseModel):
    total: int
    offset: int
    limit: int
    papers: list[PaperOut]


class FigureOut(BaseModel):
    id: str
    page: int
    kind: str
    label: str
    caption: str
    url: str = Field(description="GET it for the PNG (the CLI prints a local image_path instead).")
    width: int
    height: int


class PaperDetailOut(PaperOut):
    figures: list[FigureOut]  # type: ignore[assignment]  # as in `souwen show --json`: the list
    sections: list[str]
    references: list[str]
    warnings: list[str]
    pdf_url: str = Field(description="The stored PDF ('' when none was kept); the CLI prints pdf_path.")


class FigureHitOut(BaseModel):
    rank: int
    figure_id: str
    paper_id: str
    doi: str
    title: str
    page: int
    label: str
    caption: str
    score: float
    url: str


class HitOut(BaseModel):
    rank: int
    chunk_id: str
    paper_id: str
    doi: str
    title: str
    year: int | None
    page_start: int
    page_end: int
    section: str
    kind: str
    text: str
    score: float
    dense_rank: int | None
    lexical_rank: int | None


class FileOutcomeOut(BaseModel):
    name: str = Field(description="The uploaded file's name.")
    status: Literal["added", "replaced", "unchanged", "skipped", "failed"]
    reason: str
    paper_id: str
    doi: str
    title: str
    pages: int
    chunks: int
    figures: int
    warnings: list[str]


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="'done' once every file was tried (see each file's status); 'failed' if the job broke.")
    files_done: int
    files_total: int
    progress: float = Field(description="files_done / files_total")
    files: list[FileOutcomeOut]
    error: str
    created_at: str
    started_at: str
    finished_at: str


class HealthOut(BaseModel):
    status: Literal["ok", "error"]
    detail: str = ""
