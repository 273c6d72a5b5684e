"""Routes for local user accounts: a user's own data under ``/me``, user management under ``/users``.

- ``GET /me``; ``GET``/``POST /me/favourites``, ``DELETE /me/favourites/{key}`` (a DOI keeps its
  slashes); ``GET``/``POST /me/subscriptions``, ``DELETE /me/subscriptions/{id}``;
  ``GET /me/digest[?peek=true][&since=ISO]``. These need a user's key (``Authorization: Bearer
  KEY`` or ``X-API-Key: KEY``; 401 without one). The user comes from the key alone, never from
  the path or the body, and every query is scoped by that user's id: another user's subscription
  or favourite is a 404, the same as one that does not exist (a 403 would say that it does).
- ``POST /users`` (the answer carries the new key, the only time it is shown), ``GET /users``,
  ``DELETE /users/{name}``, ``POST /users/{name}/key`` (rotate): only with an admin key from
  settings ``api.keys``. Without admin keys (a local single-user set-up) they answer 403 and point
  to ``souwen users``: whoever runs the CLI can read the library's files anyway, while an open
  HTTP port without keys would let anyone on it mint accounts. A user's key gets 403 here.

The JSON shapes are those of ``souwen me/users --json`` (assistant.account_commands).
"""
from __future__ import annotations


from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from assistant.account_commands import digest_json, favourite_json, subscription_json, user_json
# The domain dataclasses are the response models: FastAPI documents and validates them as they are.
from assistant.accounts import MAX_NOTE_CHARS, MAX_QUERY_CHARS, NAME, DigestSection, Favourite, Subscription, User
from assistant.api_deps import get_service, is_admin_key, make_filters, presented_key
from assistant.service import Souwen

router = APIRouter(tags=["users"])
_bearer = HTTPBearer(auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)
UNAUTHORISED = {"headers": {"WWW-Authenticate": "Bearer"}}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FavouriteIn(_Body):
    paper: str = Field(..., min_length=1, max_length=300, description="the paper's DOI or id")
    note: str = Field("", max_length=MAX_NOTE_CHARS)


class SubscriptionIn(_Body):
    topic: str | None = Field(None, max_length=300, description="a topic's id or name")
    query: str | None = Field(None, max_length=MAX_QUERY_CHARS, description="a saved query")
    years: str | None = Field(None, max_length=20, description="for a query: only these years, e.g. 2020-2024")
    dois: list[str] = Field(default_factory=list, max_length=50, description="for a query: only these papers")


class UserIn(_Body):
    name: str = Field(..., min_length=1, max_length=64, pattern=NAME.pattern,
                      description="letters (any script), digits or . @ - _; no spaces")


class MeOut(BaseModel):
    """The user's own fields (as ``User``) and how much they keep."""

    id: str
    name: str
    created_at: str
    last_digest_at: str | None
    favourites: int
    subscriptions: int


class NewKeyOut(BaseModel):
    user: User
    key: str = Field(..., description="the API key: shown only now")


class DigestOut(BaseModel):
    user: str
    since: str
    until: str
    advanced: bool
    count: int
    subscriptions: list[DigestSection]


def current_user(bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                 header: str | None = Depends(_api_key), service: Souwen = Depends(get_service)) -> User:
    user = service.accounts.authenticate(presented_key(bearer, header))
    if user is None:
        raise HTTPException(401, "this route needs a user's API key (souwen users add NAME): send "
                            "'Authorization: Bearer KEY' or 'X-API-Key: KEY'", **UNAUTHORISED)
    return user


def require_admin(request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                  header: str | None = Depends(_api_key), service: Souwen = Depends(get_service)) -> None:
    settings = request.app.state.settings
    if not settings.api.keys:
        raise HTTPException(403, "managing users over HTTP needs an admin key (settings api.keys, "
                            "SOUWEN_API__KEYS); on this server use `souwen users add|list|remove|rotate`")
    given = presented_key(bearer, header)
    if not is_admin_key(settings, given):
        if service.accounts.authenticate(given) is not None:
            raise HTTPException(403, "managing users needs an admin key (api.keys), not a user's key")
        raise HTTPException(401, "this route needs an admin key (api.keys)", **UNAUTHORISED)


# -- a user's own data --------------------------------------------------------------------------
@router.get("/me", response_model=MeOut)
def me(user: User = Depends(current_user), service: Souwen = Depends(get_service)):
    accounts = service.accounts
    return {**user_json(user), "favourites": len(accounts.favourites(user)),
            "subscriptions": len(accounts.subscriptions(user))}


@router.get("/me/favourites", response_model=list[Favourite])
def list_favourites(user: User = Depends(current_user), service: Souwen = Depends(get_service)):
    return [favourite_json(f) for f in service.accounts.favourites(user)]


@router.post("/me/favourites", response_model=Favourite, status_code=201)
def add_favourite(body: FavouriteIn, user: User = Depends(current_user), service: Souwen = Depends(get_service)):
    return favourite_json(service.accounts.add_favourite(user, body.paper, body.note))  # unknown paper: 404


@router.delete("/me/favourites/{key:path}", response_model=Favourite)
def remove_favourite(key: str, user: User = Depends(current_user), service: Souwen = Depends(get_service)):
    return favourite_json(service.accounts.remove_favourite(user, key))


@router.get("/me/subscriptions", response_model=list[Subscription])
def list_subscriptions(user: User = Depends(current_user), service: Souwen = Depends(get_service)):
    return [subscription_json(s) for s in service.accounts.subscriptions(user)]


@router.post("/me/subscriptions", response_model=Subscription, status_code=201)
def subscribe(body: SubscriptionIn, user: User = Depends(current_user), service: Souwen = Depends(get_service)):
    filters = make_filters(service, body.dois, body.years)  # an unknown DOI: 404, bad years: 400
    return subscription_json(service.accounts.subscribe(user, topic=body.topic, query=body.query, filters=filters))


@router.delete("/me/subscriptions/{sub_id}", response_model=Subscription)
def unsubscribe(sub_id: str, user: User = Depends(current_user), service: Souwen = Depends(get_service)):
    return subscription_json(service.accounts.unsubscribe(user, sub_id))


@router.get("/me/digest", response_model=DigestOut)
def digest(peek: bool = Query(False, description="look without marking the digest read"),
           since: str | None = Query(None, max_length=40, description="everything since this ISO time instead"),
           user: User = Depends(current_user), service: Souwen = Depends(get_service)):
    return digest_json(service.accounts.digest(user, since=since, advance=not peek))


# -- user management (admin keys only) ----------------------------------------------------------
@router.post("/users", response_model=NewKeyOut, status_code=201, dependencies=[Depends(require_admin)])
def create_user(body: UserIn, service: Souwen = Depends(get_service)):
    user, key = service.accounts.create_user(body.name)
    return {"user": user_json(user), "key": key}


@router.get("/users", response_model=list[User], dependencies=[Depends(require_admin)])
def list_users(service: Souwen = Depends(get_service)):
    return [user_json(u) for u in service.accounts.users()]


@router.delete("/users/{name}", response_model=User, dependencies=[Depends(require_admin)])
def remove_user(name: str, service: Souwen = Depends(get_service)):
    return user_json(service.accounts.remove_user(name))


@router.post("/users/{name}/key", response_model=NewKeyOut, dependencies=[Depends(require_admin)])
def rotate_key(name: str, service: Souwen = Depends(get_service)):
    key = service.accounts.rotate_key(name)
    return {"user": user_json(service.accounts.user(name)), "key": key}
