"""What the API's routers share: the API-key check, the service, the answer slots, and turning a
request's paper keys into papers and filters. (Its own module so that every router in
``assistant.api_*`` can use it without importing the app.)
"""
from __future__ import annotations

import collections
import hmac
import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from assistant.accounts import KEY_PREFIX
from assistant.retrieval import Filters, parse_years
from assistant.service import PaperNotFound, Souwen
from assistant.types import Paper

MIN_PREFIX = 8  # shortest paper-id prefix accepted (ids are "p" + 15 hex digits)

_bearer = HTTPBearer(auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


def presented_key(bearer: HTTPAuthorizationCredentials | None, header: str | None) -> str:
    return header or (bearer.credentials if bearer else "")


def is_admin_key(settings, given: str) -> bool:
    """Whether `given` is one of settings ``api.keys`` (the server's admin keys)."""
    # compare_digest against every key: the time taken says nothing about which one nearly matched
    return any([hmac.compare_digest(given.encode(), k.get_secret_value().encode()) for k in settings.api.keys])


def admits(state, given: str) -> bool:
    """Whether a key opens the library (the API routes and the UI's login): anything when
    ``api.keys`` is empty, else an admin key or a registered user's key."""
    settings = state.settings
    if not settings.api.keys or is_admin_key(settings, given):
        return True
    # A user's key: a prefix check, then one indexed SQLite read of users.key_hash (WAL readers never
    # wait for writers): about 20 us measured, cheap enough to run here without the thread pool.
    return given.startswith(KEY_PREFIX) and state.service.accounts.authenticate(given) is not None


async def require_key(request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                      header: str | None = Depends(_api_key)) -> None:
    """With ``api.keys`` set: an admin key, or a registered user's key (assistant.accounts), else 401."""
    if admits(request.app.state, presented_key(bearer, header)):
        return
    raise HTTPException(401, "this server needs an API key: send 'Authorization: Bearer KEY' or "
                        "'X-API-Key: KEY'", headers={"WWW-Authenticate": "Bearer"})


async def get_service(request: Request) -> Souwen:
    return request.app.state.service


class FairSlots:
    """At most `n` holders at a time, served first come, first served.

    threading.Semaphore is not fair: a woken waiter that finds its slot taken by a newcomer waits
    again at the back of the queue, so under load some requests wait many turns. Here a release
    hands the slot straight to the oldest waiter.
    """

    def __init__(self, n: int):
        self._free = n
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._guard = threading.Lock()

    def __enter__(self) -> None:
        with self._guard:
            if self._free and not self._waiters:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by __exit__ when this waiter is the oldest

    def __exit__(self, *exc) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()  # the slot passes on without ever being free
            else:
                self._free += 1


async def get_slot(request: Request) -> AbstractContextManager:
    """Held while a request retrieves and scores passages (see SLOTS). Not with a language model:
    its answers take seconds of waiting, not of our CPU, and 2 slots would cap the server at 2."""
    return request.app.state.slots if request.app.state.settings.llm.backend == "extractive" else nullcontext()


async def get_search_slot(request: Request) -> FairSlots:
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


def make_filters(service: Souwen, keys: list[str], years: str | None, disciplines: list[str] = ()) -> Filters:
    """Filters from DOIs or ids (an unknown one is a 404, not an empty answer), a year range and
    学科 codes (an unknown one is a 400)."""
    from assistant.disciplines import check_codes

    first, last = parse_years(years)
    papers = [find_paper(service, key) for key in keys]
    return Filters(paper_ids=tuple(p.id for p in papers), year_from=first, year_to=last,
                   disciplines=check_codes(disciplines))


def stored_file(root: Path, relative: str, folder: str) -> Path | None:
    """A file named by the catalogue, only if it really lies in root/folder (defence in depth)."""
    if not relative:
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to((root / folder).resolve()) and path.is_file() else None


FORM_SLACK = 64 * 1024  # multipart boundaries and part headers on top of the files' bytes


def too_large(settings) -> HTTPException:
    return HTTPException(413, f"upload over the {settings.api.max_upload_mb} MB limit (api.max_upload_mb)")


async def read_upload_form(request: Request, *, files: int, what: str):
    """An upload's multipart form, refused with 415 when it is not multipart (`what` says what to
    send), and with 413 as soon as the body passes ``api.max_upload_mb`` (never spooled whole)."""
    settings = request.app.state.settings
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, f"send {what} as multipart/form-data")
    limit = settings.api.max_upload_mb * 2**20 + FORM_SLACK
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large(settings)
    received = 0

    async def receive():
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise too_large(settings)
        return message

    return await Request(request.scope, receive).form(max_files=files, max_fields=files)
