"""Local user accounts: API keys (hashed at rest), favourites, subscriptions and digests.

A user is a name with one API key. The key (``sw_`` + 43 URL-safe characters, 256 random bits) is
shown once when the account is made or its key rotated; the catalogue keeps only its HMAC-SHA256.
Every method that reads or changes a user's data takes the ``User`` that ``authenticate`` returned
and scopes its SQL by that user's id, so one user can never reach another's rows: an id or paper
that is not theirs is ``NotFound``, exactly like one that does not exist.

A digest lists, per subscription, the papers that are new since the user's last digest (for a
new account: since it was made): papers that joined a subscribed topic (``topic_papers.added_at``),
or papers added to the library that match a saved query (``assistant.topic_matching.papers_matching``).
Timestamps have one-second resolution and a paper is stamped before its transaction commits (it may
wait for the write lock), so "added after the last digest" alone would lose or repeat papers at the
boundary. Instead each digest looks back ``GRACE`` before the last one and skips the papers the
subscription has already considered (table ``digest_seen``, migration 3); marking them and moving
``users.last_digest_at`` happen in one transaction, and only rows this transaction marked are
returned, so two digests at once never return the same paper twice.

Known gap: `souwen rebuild` re-ingests every PDF with a new ``papers.added_at``, so each saved
query's next digest lists its matching papers again once (topic digests are not affected:
``topic_papers`` keeps its stamps). The fix belongs in the rebuild: carry ``added_at`` over by id.

Left out: passwords, sessions and roles (a key is the whole identity; admins are the keys in
settings ``api.keys``), e-mail delivery of digests, and the HTTP/CLI layers
(``assistant.api_accounts``, ``assistant.account_commands``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from assistant.catalogue import now
from assistant.retrieval import Filters
from assistant.types import Conflict, NotFound

if TYPE_CHECKING:
    from assistant.service import Souwen

KEY_PREFIX = "sw_"  # recognisable in logs and by secret scanners; authenticate() skips other strings
MAX_KEY_CHARS = 128
NAME = re.compile(r"^\w[\w.@-]{0,63}$")  # letters (any script), digits, . @ - _; no spaces or slashes
MAX_NOTE_CHARS = 2000
MAX_QUERY_CHARS = 500
# How far before the last digest the next one looks for papers it has not yet considered. It covers
# the gap between a paper's timestamp and its commit (a writer waits up to 30 s for SQLite's lock).
GRACE = timedelta(minutes=15)
# Keys are 256-bit random strings, not passwords: nobody can guess one or invert its hash, so a slow
# salted hash (bcrypt, scrypt) would add nothing but milliseconds on every request. A fast keyed
# hash without salt is deterministic, so authenticate() is one indexed lookup (users.key_hash is
# UNIQUE). The HMAC key only separates this use of SHA-256 from any other; it is not a secret.
_HASH_KEY = b"souwen user API key v1"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    created_at: str
    last_digest_at: str | None = None


@dataclass(frozen=True)
class Favourite:
    paper_id: str
    doi: str
    title: str
    year: int | None
    note: str
    at: str


@dataclass(frozen=True)
class Subscription:
    id: str
    kind: str  # "topic" | "query"
    created_at: str
    topic_id: str | None = None
    topic: str = ""  # the topic's name
    query: str = ""
    filters: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class DigestPaper:
    paper_id: str
    doi: str
    title: str
    year: int | None
    added_at: str  # when it joined the topic or the library
    score: float | None = None  # the saved query's match score


@dataclass(frozen=True)
class DigestSection:
    subscription: Subscription
    papers: tuple[DigestPaper, ...]


@dataclass(frozen=True)
class Digest:
    user: str
    since: str
    until: str
    advanced: bool  # False for a peek: last_digest_at was left as it was
    sections: tuple[DigestSection, ...]

    @property
    def count(self) -> int:
        return sum(len(s.papers) for s in self.sections)


def hash_key(key: str) -> str:
    return hmac.new(_HASH_KEY, key.encode(), hashlib.sha256).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_since(text: str) -> str:
    """An ISO date or time (naive means UTC) as the catalogue's timestamp format."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"since must be an ISO date or time like 2024-05-01T12:00:00Z, not {text!r}") from exc
    return _stamp(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))


class Accounts:
    def __init__(self, service: Souwen):
        self.service = service

    @property
    def _db(self):
        # Reads of this module's own tables; writes go through the catalogue's transaction().
        return self.service.library.catalogue

    def _transaction(self):
        return self.service.library.catalogue.transaction()

    # -- users (the CLI and the admin routes) ---------------------------------------------------
    def create_user(self, name: str) -> tuple[User, str]:
        """A new user and their API key (the only time the key is seen: keep it)."""
        name = (name or "").strip()
        if not NAME.match(name):
            raise ValueError(f"a user name is 1-64 letters, digits or . @ - _ (no spaces), not {name!r}")
        key, user = new_key(), User(id="u" + secrets.token_hex(8), name=name, created_at=now())
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone():
                raise Conflict(f"a user named {name!r} exists already")
            db.execute("INSERT INTO users (id, name, key_hash, created_at) VALUES (?,?,?,?)",
                       (user.id, name, hash_key(key), user.created_at))
        return user, key

    def users(self) -> list[User]:
        return [_user(r) for r in self._db.read("SELECT * FROM users ORDER BY name")]

    def user(self, name: str) -> User:
        row = self._db.read("SELECT * FROM users WHERE name=?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no user named {name!r}")
        return _user(row)

    def remove_user(self, name: str) -> User:
        """Delete a user with their favourites and subscriptions (foreign keys cascade)."""
        user = self.user(name)
        with self._transaction() as db:
            db.execute("DELETE FROM users WHERE id=?", (user.id,))
        return user

    def rotate_key(self, name: str) -> str:
        """A new key for the user; the old one stops working at once."""
        user, key = self.user(name), new_key()
        with self._transaction() as db:
            if not db.execute("UPDATE users SET key_hash=? WHERE id=?", (hash_key(key), user.id)).rowcount:
                raise NotFound(f"no user named {name!r}")  # removed meanwhile
        return key

    def authenticate(self, key: str | None) -> User | None:
        """The user whose key this is, else None (cheap: a prefix check, then one indexed lookup)."""
        key = (key or "").strip()
        if not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_CHARS:
            return None
        digest = hash_key(key)
        row = self._db.read("SELECT * FROM users WHERE key_hash=?", (digest,)).fetchone()
        # The lookup matched on the hash already; compare_digest keeps the check itself constant-time.
        if row is None or not hmac.compare_digest(row["key_hash"], digest):
            return None
        return _user(row)

    # -- favourites ----------------------------------------------------------------------------
    def add_favourite(self, user: User, key: str, note: str = "") -> Favourite:
        """Favourite a paper by DOI or id (PaperNotFound if the library lacks it); again: new note."""
        if len(note) > MAX_NOTE_CHARS:
            raise ValueError(f"a note is at most {MAX_NOTE_CHARS} characters")
        paper = self.service.find(key)
        try:
            with self._transaction() as db:
                db.execute("INSERT INTO favourites (user_id, paper_id, note, at) VALUES (?,?,?,?) ON CONFLICT"
                           "(user_id, paper_id) DO UPDATE SET note=excluded.note", (user.id, paper.id, note, now()))
        except sqlite3.IntegrityError as exc:  # the paper (or the user) was removed meanwhile
            raise NotFound(f"{key!r} is no longer in the library") from exc
        return next(f for f in self.favourites(user) if f.paper_id == paper.id)

    def favourites(self, user: User) -> list[Favourite]:
        rows = self._db.read("SELECT f.note, f.at, p.id, p.doi, p.title, p.year FROM favourites f "
                             "JOIN papers p ON p.id=f.paper_id WHERE f.user_id=? ORDER BY f.at, f.rowid", (user.id,))
        return [Favourite(r["id"], r["doi"], r["title"], r["year"], r["note"], r["at"]) for r in rows]

    def remove_favourite(self, user: User, key: str) -> Favourite:
        paper = self.service.find(key)
        found = [f for f in self.favourites(user) if f.paper_id == paper.id]
        if not found:
            raise NotFound(f"{key!r} is not among your favourites")
        with self._transaction() as db:
            db.execute("DELETE FROM favourites WHERE user_id=? AND paper_id=?", (user.id, paper.id))
        return found[0]

    # -- subscriptions -------------------------------------------------------------------------
    def subscribe(self, user: User, *, topic: str | None = None, query: str | None = None,
                  filters: Filters | None = None) -> Subscription:
        """Follow a topic (by id or name) or a saved query with filters (stored as topics store
        theirs, assistant.topics.filters_json); the same one twice is one."""
        from assistant.topic_matching import filters_json

        topic, query = (topic or "").strip(), (query or "").strip()
        if bool(topic) == bool(query):
            raise ValueError("subscribe to a topic or to a query (one of them)")
        if topic and filters and not filters.is_empty():
            raise ValueError("filters belong to a query; a topic has its own")
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"a query is at most {MAX_QUERY_CHARS} characters")
        with self._transaction() as db:
            topic_id = None
            if topic:
                row = db.execute("SELECT id FROM topics WHERE id=? OR name=? ORDER BY id=? DESC",
                                 (topic, topic, topic)).fetchone()
                if row is None:
                    raise NotFound(f"no topic {topic!r}")
                topic_id = row["id"]
            text = filters_json(filters or Filters()) if query else "{}"
            same = db.execute("SELECT id FROM subscriptions WHERE user_id=? AND topic_id IS ? AND query=? AND filters=?",
                              (user.id, topic_id, query, text)).fetchone()
            sub_id = same["id"] if same else "s" + secrets.token_hex(8)
            if not same:
                db.execute("INSERT INTO subscriptions (id, user_id, topic_id, query, filters, created_at) "
                           "VALUES (?,?,?,?,?,?)", (sub_id, user.id, topic_id, query, text, now()))
        return self.subscription(user, sub_id)

    def subscriptions(self, user: User) -> list[Subscription]:
        rows = self._db.read("SELECT s.*, t.name AS topic_name FROM subscriptions s LEFT JOIN topics t "
                             "ON t.id=s.topic_id WHERE s.user_id=? ORDER BY s.created_at, s.rowid", (user.id,))
        return [_subscription(r) for r in rows]

    def subscription(self, user: User, sub_id: str) -> Subscription:
        found = [s for s in self.subscriptions(user) if s.id == sub_id]
        if not found:
            raise NotFound(f"you have no subscription {sub_id!r}")
        return found[0]

    def unsubscribe(self, user: User, sub_id: str) -> Subscription:
        sub = self.subscription(user, sub_id)
        with self._transaction() as db:
            db.execute("DELETE FROM subscriptions WHERE id=? AND user_id=?", (sub.id, user.id))
        return sub

    # -- digest --------------------------------------------------------------------------------
    def digest(self, user: User, since: str | None = None, advance: bool = True) -> Digest:
        """What is new for the user's subscriptions since their last digest (or `since`, an ISO
        time: then everything since it, seen or not). `advance=False` is a peek: nothing changes."""
        stored = self._db.read("SELECT * FROM users WHERE id=?", (user.id,)).fetchone()
        if stored is None:
            raise NotFound("this user no longer exists")
        until = now()
        if since is not None:
            start = look_from = parse_since(since)
            skip_seen = False
        elif stored["last_digest_at"]:
            start, skip_seen = stored["last_digest_at"], True
            look_from = _stamp(datetime.fromisoformat(start) - GRACE)
        else:  # a new account: since it was made
            start = look_from = stored["created_at"]
            skip_seen = True
        plans = []
        for sub in self.subscriptions(user):
            # A subscription made after the last digest starts from it, like a new account does.
            frm = start if skip_seen and sub.created_at >= start else look_from
            plans.append((sub, self._candidates(sub, frm, skip_seen)))
        found = [(sub, self._matching(sub, rows)) for sub, rows in plans]
        if not advance:
            return Digest(user.name, start, until, False, tuple(DigestSection(s, tuple(p)) for s, p in found))
        return self._advance(user, start, until, plans, found, only_fresh=skip_seen)

    def _candidates(self, sub: Subscription, look_from: str, skip_seen: bool) -> list:
        """(paper columns, added_at) of the papers that joined the topic, or the library, since
        `look_from`, minus those this subscription has considered already."""
        if sub.topic_id:
            source, args = "SELECT paper_id, added_at FROM topic_papers WHERE topic_id=? AND added_at >= ?", [sub.topic_id]
        else:
            source, args = "SELECT id AS paper_id, added_at FROM papers WHERE added_at >= ?", []
        sql = (f"SELECT p.id, p.doi, p.title, p.year, x.added_at FROM ({source}) x JOIN papers p ON p.id=x.paper_id"
               + (" WHERE x.paper_id NOT IN (SELECT paper_id FROM digest_seen WHERE subscription_id=?)" if skip_seen else "")
               + " ORDER BY x.added_at, p.id")
        return list(self._db.read(sql, args + [look_from] + ([sub.id] if skip_seen else [])))

    def _matching(self, sub: Subscription, rows: Sequence) -> list[DigestPaper]:
        papers = [DigestPaper(r["id"], r["doi"], r["title"], r["year"], r["added_at"]) for r in rows]
        if sub.topic_id or not papers:
            return papers
        from assistant.topic_matching import papers_matching

        scores = dict(papers_matching(self.service, sub.query, sub.filters, paper_ids=[p.paper_id for p in papers]))
        return [DigestPaper(p.paper_id, p.doi, p.title, p.year, p.added_at, round(float(scores[p.paper_id]), 6))
                for p in papers if p.paper_id in scores]

    def _advance(self, user: User, start: str, until: str, plans: list, found: list, only_fresh: bool) -> Digest:
        """Mark every considered paper seen and move last_digest_at, in one transaction. Unless an
        explicit `since` asked for everything, return only the papers this transaction marked (a
        concurrent digest may have taken the others)."""
        sections = []
        with self._transaction() as db:
            if db.execute("UPDATE users SET last_digest_at=max(coalesce(last_digest_at, ''), ?) WHERE id=?",
                          (until, user.id)).rowcount == 0:
                raise NotFound("this user no longer exists")
            live = {r[0] for r in db.execute("SELECT id FROM subscriptions WHERE user_id=?", (user.id,))}
            for (sub, rows), (_, papers) in zip(plans, found):
                if sub.id not in live:
                    continue  # unsubscribed meanwhile
                fresh = {r["id"] for r in rows if db.execute(
                    "INSERT OR IGNORE INTO digest_seen (subscription_id, paper_id, added_at) VALUES (?,?,?)",
                    (sub.id, r["id"], r["added_at"])).rowcount}
                sections.append(DigestSection(sub, tuple(p for p in papers if p.paper_id in fresh or not only_fresh)))
            # Older rows can no longer fall inside the look-back window of any later digest.
            horizon = _stamp(datetime.fromisoformat(until) - GRACE)
            db.execute("DELETE FROM digest_seen WHERE added_at < ? AND subscription_id IN "
                       "(SELECT id FROM subscriptions WHERE user_id=?)", (horizon, user.id))
        return Digest(user.name, start, until, True, tuple(sections))


def _user(row) -> User:
    return User(row["id"], row["name"], row["created_at"], row["last_digest_at"])


def _subscription(row) -> Subscription:
    return Subscription(id=row["id"], kind="topic" if row["topic_id"] else "query", created_at=row["created_at"],
                        topic_id=row["topic_id"], topic=row["topic_name"] or "", query=row["query"],
                        filters=json.loads(row["filters"]))
