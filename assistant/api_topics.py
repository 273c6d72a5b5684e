"""The /topics routes (专题): list, create, read, change and delete topics, pin and unpin papers,
and a topic's page: its cited overview and its figures.

- ``GET /topics``; ``POST /topics`` (201; 409 when the name is taken, names compared without case);
  ``GET``/``PATCH``/``DELETE /topics/{topic}`` (``{topic}``: the id, or the exact name).
- ``POST /topics/{topic}/papers`` with ``{"keys": [...]}`` pins papers; ``DELETE
  /topics/{topic}/papers/{key}`` unpins one (the rest of the path: DOIs keep their slashes). A
  paper that also matches the query stays, as matched.
- ``GET /topics/{topic}/overview?n=``: the review feature over the topic's papers (the /review
  report schema); ``GET /topics/{topic}/figures?k=``: the figures of its papers, those that match
  the query first (the /figures/search schema).

Unknown topics and papers are 404; a topic with neither query nor pins is 400; field limits are
422. Bodies and answers are the CLI's ``souwen topics --json`` (``assistant.topic_commands``).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from assistant.answer_commands import report_json
from assistant.api_deps import find_paper, get_search_slot, get_service, get_slot
from assistant.api_models import FigureHitOut, ReportOut
from assistant.reading import MAX_PAPERS
from assistant.retrieval import Filters, parse_years
from assistant.service import Souwen
from assistant.topic_commands import topic_detail_json, topic_json
from assistant.topics import MAX_NAME, MAX_QUERY

router = APIRouter(tags=["topics"])

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
QueryText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_QUERY)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("years", check_fields=False)
    @classmethod
    def _check_years(cls, value: str | None) -> str | None:
        parse_years(value)  # a ValueError naming the accepted forms: 422
        return value


class TopicIn(_Body):
    name: Name
    query: QueryText = Field("", description="The saved query (English or 中文); papers that match join.")
    description: Description = ""
    years: str | None = Field(None, max_length=20, description="Only papers of these years: 2020-2024, 2021, 2020-")
    dois: list[Key] = Field(default_factory=list, max_length=MAX_PAPERS, description="Only these papers (DOIs or ids)")
    disciplines: list[Key] = Field(default_factory=list, max_length=50, description="Only papers of these 学科 codes")
    pins: list[Key] = Field(default_factory=list, max_length=200, description="Papers pinned to the topic")


class TopicPatch(_Body):
    name: Name | None = None
    query: QueryText | None = None
    description: Description | None = None
    years: str | None = Field(None, max_length=20)
    dois: list[Key] | None = Field(None, max_length=MAX_PAPERS)
    disciplines: list[Key] | None = Field(None, max_length=50)


class PinIn(_Body):
    keys: list[Key] = Field(min_length=1, max_length=200, description="DOIs or paper ids")


class TopicOut(BaseModel):
    id: str
    name: str
    description: str
    query: str
    filters: dict
    paper_count: int
    created_at: str
    updated_at: str


class MemberOut(BaseModel):
    paper_id: str
    doi: str
    title: str
    year: int | None
    url: str
    figures: int
    how: str
    score: float | None
    added_at: str


class TopicDetailOut(TopicOut):
    papers: list[MemberOut]
    figure_count: int


def _filters(service: Souwen, years: str | None, keys: list[str] | None, codes: list[str] | None,
             base: Filters = Filters()) -> Filters:
    from dataclasses import replace

    filters = base
    if codes is not None:
        from assistant.disciplines import check_codes

        filters = replace(filters, disciplines=check_codes(codes))  # an unknown code: 400
    if years is not None:
        first, last = parse_years(years)
        filters = replace(filters, year_from=first, year_to=last)
    if keys is not None:
        papers = [find_paper(service, key) for key in keys]  # an unknown paper is a 404
        filters = replace(filters, dois=tuple(p.doi for p in papers if p.doi),
                          paper_ids=tuple(p.id for p in papers if not p.doi))
    return filters


@router.get("/topics", response_model=list[TopicOut])
def list_topics(service: Souwen = Depends(get_service)):
    return [topic_json(t) for t in service.topics.list()]


@router.post("/topics", status_code=201, response_model=TopicDetailOut)
def create_topic(body: TopicIn, service: Souwen = Depends(get_service), slot=Depends(get_search_slot)):
    filters = _filters(service, body.years, body.dois or None, body.disciplines or None)
    pins = [find_paper(service, key).id for key in body.pins]
    with slot:
        topic = service.topics.create(body.name, body.query, description=body.description, filters=filters, pins=pins)
    return topic_detail_json(service, topic)


@router.get("/topics/{topic}", response_model=TopicDetailOut)
def get_topic(topic: str, service: Souwen = Depends(get_service)):
    return topic_detail_json(service, service.topics.get(topic))


@router.patch("/topics/{topic}", response_model=TopicDetailOut)
def change_topic(topic: str, body: TopicPatch, service: Souwen = Depends(get_service),
                 slot=Depends(get_search_slot)):
    current = service.topics.get(topic)
    filters = None
    if body.years is not None or body.dois is not None or body.disciplines is not None:
        filters = _filters(service, body.years, body.dois, body.disciplines, base=current.filters)
    with slot:
        changed = service.topics.update(current.id, name=body.name, query=body.query,
                                        description=body.description, filters=filters)
    return topic_detail_json(service, changed)


@router.delete("/topics/{topic}", response_model=TopicOut)
def delete_topic(topic: str, service: Souwen = Depends(get_service)):
    return topic_json(service.topics.delete(topic))


@router.post("/topics/{topic}/papers", response_model=TopicDetailOut)
def pin_papers(topic: str, body: PinIn, service: Souwen = Depends(get_service)):
    current = service.topics.get(topic)
    service.topics.pin(current.id, [find_paper(service, key).id for key in body.keys])
    return topic_detail_json(service, service.topics.get(current.id))


@router.delete("/topics/{topic}/papers/{key:path}", response_model=TopicDetailOut)
def unpin_paper(topic: str, key: str, service: Souwen = Depends(get_service), slot=Depends(get_search_slot)):
    current = service.topics.get(topic)
    paper = find_paper(service, key)
    with slot:
        service.topics.unpin(current.id, [paper.id])
    return topic_detail_json(service, service.topics.get(current.id))


@router.get("/topics/{topic}/overview", response_model=ReportOut)
def topic_overview(topic: str, n: int = Query(5, ge=1, le=MAX_PAPERS, description="papers covered"),
                   service: Souwen = Depends(get_service), slot=Depends(get_slot)):
    current = service.topics.get(topic)
    with slot:
        return report_json(service.topics.overview(current, n=n))


@router.get("/topics/{topic}/figures", response_model=list[FigureHitOut])
def topic_figures(topic: str, request: Request, k: int = Query(12, ge=1, le=100),
                  service: Souwen = Depends(get_service)):
    hits = service.topics.figures(service.topics.get(topic), k=k)
    return [{"rank": i, "figure_id": h.figure_id, "paper_id": h.paper.id, "doi": h.paper.doi, "title": h.paper.title,
             "page": h.page, "label": h.label, "caption": h.caption, "score": h.score,
             "url": request.url_for("figure", figure_id=h.figure_id).path}
            for i, h in enumerate(hits, start=1)]
