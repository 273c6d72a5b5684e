"""Routes of the insights (图解研究趋势): `/stats/...` trends, distributions and networks.

    GET /stats/years[?by=discipline|topic]     papers per year (rows: year, group, name, papers)
    GET /stats/disciplines | /stats/licences   distributions
    GET /stats/authors?n= | /stats/institutions?n=
    GET /stats/network/{coauthors|institutions}?format=json|graphml   (GraphML as a download)

Every route takes `discipline`, `topic` and `years` ("2020-2024") to look at part of the library.
`GET /stats` (library counts and jobs) stays in assistant.api; these paths are all below it, so
nothing collides. The numbers are those of `souwen stats --json` (both call assistant.insights).
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from assistant.api_deps import get_service
from assistant.insights import Scope, graphml_bytes, network_json
from assistant.retrieval import parse_years
from assistant.service import Souwen

router = APIRouter(prefix="/stats", tags=["insights"])


class YearRow(BaseModel):
    year: int
    group: str
    name: str
    papers: int


class DisciplineRow(BaseModel):
    code: str
    name: str
    name_en: str
    category: str
    papers: int


class LicenceRow(BaseModel):
    licence: str
    papers: int


class AuthorRow(BaseModel):
    name: str
    papers: int
    institutions: list[str]


class InstitutionRow(BaseModel):
    name: str
    country: str
    papers: int


def scope(discipline: str = Query("", max_length=6, description="a 学科 code, e.g. 0710 (一级) or 071010"),
          topic: str = Query("", max_length=200, description="a topic's name or id"),
          years: str | None = Query(None, max_length=20, description="e.g. 2020-2024 or 2021")) -> Scope:
    try:
        first, last = parse_years(years)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return Scope(discipline=discipline.strip(), topic=topic.strip(), year_from=first, year_to=last)


async def _run(fn, *args):
    """Catalogue reads off the event loop; a bad discipline code or unknown topic is a 422."""
    try:
        return await run_in_threadpool(fn, *args)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/years", response_model=list[YearRow])
async def years(by: Literal["discipline", "topic"] | None = None, where: Scope = Depends(scope),
                service: Souwen = Depends(get_service)):
    return await _run(service.insights.years, by, where)


@router.get("/disciplines", response_model=list[DisciplineRow])
async def disciplines(where: Scope = Depends(scope), service: Souwen = Depends(get_service)):
    return await _run(service.insights.disciplines, where)


@router.get("/licences", response_model=list[LicenceRow])
async def licences(where: Scope = Depends(scope), service: Souwen = Depends(get_service)):
    return await _run(service.insights.licences, where)


@router.get("/authors", response_model=list[AuthorRow])
async def authors(n: int = Query(20, ge=1, le=1000), where: Scope = Depends(scope),
                  service: Souwen = Depends(get_service)):
    return await _run(service.insights.authors, n, where)


@router.get("/institutions", response_model=list[InstitutionRow])
async def institutions(n: int = Query(20, ge=1, le=1000), where: Scope = Depends(scope),
                       service: Souwen = Depends(get_service)):
    return await _run(service.insights.institutions, n, where)


@router.get("/network/{kind}", responses={200: {"content": {"application/json": {}, "application/xml": {}},
                                                "description": "node-link JSON, or GraphML"}})
async def network(kind: Literal["coauthors", "institutions"], format: Literal["json", "graphml"] = "json",
                  where: Scope = Depends(scope), service: Souwen = Depends(get_service)):
    graph = await _run(service.insights.network, kind, where)
    if format == "graphml":
        return Response(graphml_bytes(graph), media_type="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{kind}.graphml"'})
    return network_json(graph)
