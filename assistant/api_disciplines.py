"""Routes for 学科 (assistant.disciplines): the catalogue with paper counts, the papers of a
discipline, and a paper's labels with the user's corrections.

- ``GET /disciplines[?level=一级学科&with_papers=true]``: catalogue nodes with their paper counts.
- ``GET /disciplines/{code}/papers[?offset=&limit=]``: papers labelled with the code or a code under
  it (07, 0710, 071010); an unknown code is a 404 (it names no resource).
- ``GET /papers/{key}/disciplines``, ``PUT`` (body ``{"codes": [...]}``: the correction, which wins
  over the classifier and is kept under the DOI), ``DELETE`` (drop the correction, label afresh).
  ``{key}`` is an id, DOI or sha256; DOIs keep their slashes (``/papers/10.1093/nar/gkae222/disciplines``),
  so this router is included before the main one, whose ``/papers/{key:path}`` would take the path.
  Unknown codes in a body are a 400, unknown papers a 404.

Filtering papers, search, ask and review by discipline is the ``discipline`` parameter of those routes.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from assistant.api_deps import find_paper, get_service
from assistant.service import Souwen

router = APIRouter(tags=["disciplines"])

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=6)]


class DisciplineNodeOut(BaseModel):
    code: str
    level: str
    name: str
    name_en: str
    parent: str
    papers: int


class LabelOut(BaseModel):
    code: str
    name: str
    name_en: str
    confidence: float
    source: str


class PaperLabelsOut(BaseModel):
    paper_id: str
    doi: str
    title: str
    corrected: bool
    disciplines: list[LabelOut]


class DisciplinePapersOut(BaseModel):
    code: str
    name: str
    name_en: str
    total: int
    offset: int
    limit: int
    papers: list[dict]


class CodesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    codes: list[Code] = Field(min_length=1, max_length=20, description="4-digit 一级学科 or 6-digit 二级学科 codes")


def _labels(service: Souwen, paper) -> dict:
    from assistant.disciplines import label_json

    return {"paper_id": paper.id, "doi": paper.doi, "title": paper.title,
            "corrected": service.disciplines.correction(paper) is not None,
            "disciplines": [label_json(label) for label in service.disciplines.labels(paper)]}


@router.get("/disciplines", response_model=list[DisciplineNodeOut])
def list_disciplines(level: str | None = Query(None, pattern="^(门类|一级学科|二级学科)$",
                                                 description="only this level (门类, 一级学科 or 二级学科)"),
                     with_papers: bool = Query(False, description="only disciplines that have papers"),
                     service: Souwen = Depends(get_service)):
    """The catalogue (学科门类, 一级学科, 二级学科), each node with its number of papers."""
    from assistant.disciplines import catalogue

    counts = service.disciplines.counts()
    return [{"code": d.code, "level": d.level, "name": d.zh, "name_en": d.en, "parent": d.parent,
             "papers": counts.get(d.code, 0)}
            for d in catalogue().values()
            if (level is None or d.level == level) and (not with_papers or counts.get(d.code))]


@router.get("/disciplines/{code}/papers", response_model=DisciplinePapersOut)
def discipline_papers(code: str, offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500),
                      service: Souwen = Depends(get_service)):
    from assistant.commands import paper_json
    from assistant.disciplines import catalogue

    node = catalogue().get(code.strip())
    if node is None:
        raise HTTPException(404, f"no discipline {code!r} in the catalogue (GET /disciplines lists them)")
    papers = service.disciplines.papers_in(node.code)
    return {"code": node.code, "name": node.zh, "name_en": node.en, "total": len(papers), "offset": offset,
            "limit": limit, "papers": [paper_json(p) for p in papers[offset:offset + limit]]}


@router.get("/papers/{key:path}/disciplines", response_model=PaperLabelsOut)
def paper_disciplines(key: str, service: Souwen = Depends(get_service)):
    return _labels(service, find_paper(service, key))


@router.put("/papers/{key:path}/disciplines", response_model=PaperLabelsOut)
def correct_disciplines(key: str, body: CodesIn, service: Souwen = Depends(get_service)):
    """Set the paper's labels by hand: they replace the classifier's, now and after a re-ingest."""
    paper = find_paper(service, key)
    service.disciplines.correct(paper, body.codes)  # unknown codes: ValueError -> 400
    return _labels(service, paper)


@router.delete("/papers/{key:path}/disciplines", response_model=PaperLabelsOut)
def clear_disciplines(key: str, service: Souwen = Depends(get_service)):
    """Drop the paper's correction and label it with the classifier again."""
    paper = find_paper(service, key)
    service.disciplines.clear(paper)
    return _labels(service, paper)
