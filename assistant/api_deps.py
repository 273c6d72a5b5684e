"""What the API's routers share: the API-key check, the service, the answer slots, and turning a
request's paper keys into papers and filters. (Its own module so that every router in
``assistant.api_*`` can use it without importing the app.)
"""
from __future__ import annotations

import hmac
import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from assistant.retrieval import Filters, parse_years
from assistant.service import PaperNotFound, Souwen
from assistant.types import Paper

MIN_PREFIX = 8  # shortest paper-id prefix accepted (ids are "p" + 15 hex digits)

_bearer = HTTPBearer(auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


async def require_key(request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                      header: str | None = Depends(_api_key)) -> None:
    keys = request.app.state.settings.api.keys
    if not keys:
        return
    given = (header or (bearer.credentials if bearer else "")).encode()
    # compare_digest against every key: the time taken says nothing about which one nearly matched
    if not any([hmac.compare_digest(given, k.get_secret_value().encode()) for k in keys]):
        raise HTTPException(401, "this server needs an API key: send 'Authorization: Bearer KEY' or "
                            "'X-API-Key: KEY'", headers={"WWW-Authenticate": "Bearer"})


async def get_service(request: Request) -> Souwen:
    return request.app.state.service


async def get_slot(request: Request) -> AbstractContextManager:
    """Held while a request retrieves and scores passages (see SLOTS). Not with a language model:
    its answers take seconds of waiting, not of our CPU, and 2 slots would cap the server at 2."""
    return request.app.state.slots if request.app.state.settings.llm.backend == "extractive" else nullcontext()


async def get_search_slot(request: Request) -> threading.BoundedSemaphore:
    return request.app.state.slots


def find_paper(service: Souwen, key: str) -> Paper:
    """The paper a key names literally (id, 8+ character id prefix, DOI or sha256), else 404."""
    key = key.strip()
    try:
        paper = service.find(key) if key else None
    except PaperNotFound:  # its message names the library's path, which a client need not see
        paper = None
    if paper is None or not (key in (paper.id, paper.sha256) or key.lower() == paper.doi
                             or (len(key) >= MIN_PREFIX and paper.id.startswith(key))):
        raise PaperNotFound(f"no paper with DOI or id {key!r} in the library (ids: 8 characters or more)")
    return paper


def make_filters(service: Souwen, keys: list[str], years: str | None) -> Filters:
    """Filters from DOIs or ids (an unknown one is a 404, not an empty answer) and a year range."""
    first, last = parse_years(years)
    papers = [find_paper(service, key) for key in keys]
    return Filters(paper_ids=tuple(p.id for p in papers), year_from=first, year_to=last)


def stored_file(root: Path, relative: str, folder: str) -> Path | None:
    """A file named by the catalogue, only if it really lies in root/folder (defence in depth)."""
    if not relative:
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to((root / folder).resolve()) and path.is_file() else None
