"""Topics (专题): a name, a description, a saved query with filters, pinned papers, and every
paper of the library that matches the query — now and as new papers arrive.

Membership (which papers match the saved query, judged per paper from what each paper says)
is ``assistant.topic_matching``. ``refresh`` re-judges the library; ``match`` (after each ingest)
judges just the new papers and costs one COUNT when there are no topics. Storage is the ``topics`` and ``topic_papers``
tables (catalogue migration 2), copied by ``souwen rebuild``. Not here: the overview's text (the
review feature, ``assistant.reading``) and the front ends (topic_commands, api_topics, ui_topics).
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.catalogue import now
from assistant.retrieval import Filters
from assistant.topic_matching import filters_json, load_filters, papers_matching
from assistant.types import Conflict, NotFound, Paper

if TYPE_CHECKING:
    from assistant.figure_search import FigureHit
    from assistant.service import Souwen
    from assistant.summaries import Report

MAX_NAME, MAX_QUERY = 80, 500


class TopicNotFound(NotFound):
    """No topic has this id or name, or a paper is not pinned to the topic."""


class TopicExists(Conflict):
    """Another topic already has this name (names are compared without case)."""


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    description: str
    query: str
    filters: Filters
    created_at: str
    updated_at: str
    papers: int = 0  # members, pinned or matched


@dataclass(frozen=True)
class Member:
    paper: Paper
    how: str  # pinned | matched
    score: float | None
    added_at: str


# -- the topics store -------------------------------------------------------------------------
class Topics:
    def __init__(self, service: Souwen):
        self.service = service

    @property
    def _catalogue(self):
        return self.service.library.catalogue

    def _rows(self, sql: str, args: Sequence = ()) -> list:
        return list(self._catalogue.read(sql, args))  # WAL: the last committed state, no transaction

    # -- reading --------------------------------------------------------------------------
    _SELECT = "SELECT t.*, (SELECT COUNT(*) FROM topic_papers tp WHERE tp.topic_id = t.id) AS n FROM topics t "

    def list(self) -> list[Topic]:
        return [_topic(r) for r in self._rows(self._SELECT + "ORDER BY t.name")]

    def get(self, key: str) -> Topic:
        """A topic by id or exact name."""
        key = (key or "").strip()
        rows = self._rows(self._SELECT + "WHERE t.id = ? OR t.name = ? ORDER BY t.id = ? DESC", (key, key, key))
        if not rows:
            raise TopicNotFound(f"no topic named {key!r} (souwen topics lists them)")
        return _topic(rows[0])

    def members(self, topic: Topic) -> list[Member]:
        """The topic's papers: pinned first, then matched, best score first."""
        rows = {r["paper_id"]: r for r in self._rows("SELECT * FROM topic_papers WHERE topic_id = ?", (topic.id,))}
        papers = self._catalogue.papers("p.id IN (SELECT paper_id FROM topic_papers WHERE topic_id = ?)", (topic.id,))
        members = [Member(p, rows[p.id]["how"], rows[p.id]["score"], rows[p.id]["added_at"]) for p in papers]
        return sorted(members, key=lambda m: (m.how != "pinned", -(m.score or 0.0), m.paper.title))

    def paper_ids(self, topic: Topic) -> tuple[str, ...]:
        return tuple(r[0] for r in self._rows("SELECT paper_id FROM topic_papers WHERE topic_id = ?", (topic.id,)))

    # -- changing -------------------------------------------------------------------------
    def create(self, name: str, query: str = "", *, description: str = "", filters: Filters = Filters(),
               pins: Sequence[str] = ()) -> Topic:
        name, query, description = _check(name, query, description, pins)
        pinned = [self.service.find(key) for key in pins]  # an unknown paper fails before anything is stored
        if self._rows("SELECT 1 FROM topics WHERE lower(name) = lower(?)", (name,)):
            raise TopicExists(f"a topic named {name!r} already exists")
        topic_id = "t" + secrets.token_hex(8)
        at = now()
        with self._catalogue.transaction() as db:
            db.execute("INSERT INTO topics (id, name, description, query, filters, created_at, updated_at) "
                       "VALUES (?,?,?,?,?,?,?)", (topic_id, name, description, query, filters_json(filters), at, at))
            for paper in pinned:
                db.execute("INSERT OR REPLACE INTO topic_papers VALUES (?,?,?,?,?)", (topic_id, paper.id, "pinned", None, at))
        topic = self.get(topic_id)
        self.refresh(topic)
        return self.get(topic_id)

    def update(self, key: str, *, name: str | None = None, query: str | None = None,
               description: str | None = None, filters: Filters | None = None) -> Topic:
        """Change a topic; a new query or filters re-match the library."""
        topic = self.get(key)
        pinned = [m for m in self.members(topic) if m.how == "pinned"]
        new_name, new_query, new_description = _check(
            topic.name if name is None else name, topic.query if query is None else query,
            topic.description if description is None else description, pinned)
        if new_name.lower() != topic.name.lower() and self._rows(
                "SELECT 1 FROM topics WHERE lower(name) = lower(?) AND id != ?", (new_name, topic.id)):
            raise TopicExists(f"a topic named {new_name!r} already exists")
        new_filters = topic.filters if filters is None else filters
        with self._catalogue.transaction() as db:
            db.execute("UPDATE topics SET name=?, description=?, query=?, filters=?, updated_at=? WHERE id=?",
                       (new_name, new_description, new_query, filters_json(new_filters), now(), topic.id))
        updated = self.get(topic.id)
        if new_query != topic.query or new_filters != topic.filters:
            self.refresh(updated)
        return self.get(topic.id)

    def delete(self, key: str) -> Topic:
        topic = self.get(key)
        with self._catalogue.transaction() as db:
            db.execute("DELETE FROM topics WHERE id = ?", (topic.id,))  # topic_papers go by FK cascade
        return topic

    def pin(self, key: str, paper_keys: Sequence[str]) -> list[Paper]:
        """Pin papers to a topic: they stay whatever the query says."""
        topic = self.get(key)
        papers = [self.service.find(k) for k in paper_keys]
        at = now()
        with self._catalogue.transaction() as db:
            for paper in papers:
                db.execute("INSERT INTO topic_papers VALUES (?,?,?,?,?) ON CONFLICT(topic_id, paper_id) "
                           "DO UPDATE SET how='pinned'", (topic.id, paper.id, "pinned", None, at))
        return papers

    def unpin(self, key: str, paper_keys: Sequence[str]) -> list[Paper]:
        """Unpin papers; one that also matches the query stays, as matched."""
        topic = self.get(key)
        papers = [self.service.find(k) for k in paper_keys]
        pinned = {r[0] for r in self._rows("SELECT paper_id FROM topic_papers WHERE topic_id=? AND how='pinned'",
                                           (topic.id,))}
        for paper in papers:
            if paper.id not in pinned:
                raise TopicNotFound(f"{paper.doi or paper.id} is not pinned to the topic {topic.name!r}")
        ids = [p.id for p in papers]
        still = dict(papers_matching(self.service, topic.query, topic.filters, paper_ids=ids))
        with self._catalogue.transaction() as db:
            for paper in papers:
                if paper.id in still:
                    db.execute("UPDATE topic_papers SET how='matched', score=? WHERE topic_id=? AND paper_id=?",
                               (still[paper.id], topic.id, paper.id))
                else:
                    db.execute("DELETE FROM topic_papers WHERE topic_id=? AND paper_id=?", (topic.id, paper.id))
        return papers

    def refresh(self, topic: Topic) -> Topic:
        """Re-match the whole library: matched papers that no longer match leave, pins stay."""
        found = dict(papers_matching(self.service, topic.query, topic.filters))
        self._store_matches(topic, found, replace_all=True)
        return self.get(topic.id)

    def match(self, paper_ids: Sequence[str]) -> None:
        """Add new papers to the topics whose saved query they match (after every ingest)."""
        if not paper_ids or not self._rows("SELECT 1 FROM topics LIMIT 1"):
            return
        for topic in self.list():
            found = dict(papers_matching(self.service, topic.query, topic.filters, paper_ids=paper_ids))
            self._store_matches(topic, found, replace_all=False)

    def _store_matches(self, topic: Topic, found: dict[str, float], *, replace_all: bool) -> None:
        at = now()
        with self._catalogue.transaction() as db:
            if replace_all:
                current = [r[0] for r in db.execute(
                    "SELECT paper_id FROM topic_papers WHERE topic_id=? AND how='matched'", (topic.id,))]
                for paper_id in current:
                    if paper_id not in found:
                        db.execute("DELETE FROM topic_papers WHERE topic_id=? AND paper_id=?", (topic.id, paper_id))
            for paper_id, score in found.items():
                # a paper already there keeps how (pinned stays pinned) and when it joined
                db.execute("INSERT INTO topic_papers VALUES (?,?,?,?,?) ON CONFLICT(topic_id, paper_id) "
                           "DO UPDATE SET score=excluded.score", (topic.id, paper_id, "matched", score, at))

    # -- what a topic page shows --------------------------------------------------------------
    def overview(self, key: str | Topic, n: int = 5) -> Report:
        """A short cited overview of the topic's papers (the review feature, restricted to them)."""
        from assistant.reading import MAX_PAPERS
        from assistant.summaries import Report

        topic = key if isinstance(key, Topic) else self.get(key)
        ids = self.paper_ids(topic)
        if not ids:  # Filters(paper_ids=()) would mean the whole library
            return Report("review", topic.name, (("Papers", "This topic has no papers yet."),), (), ())
        n = max(1, min(n, len(ids), MAX_PAPERS))
        report = self.service.review(topic.query or topic.name, n, filters=Filters(paper_ids=ids))
        return replace(report, title=topic.name)

    def figures(self, key: str | Topic, k: int = 12) -> list[FigureHit]:
        """Figures of the topic's papers, those that match the query first."""
        from assistant.figure_search import FigureHit

        topic = key if isinstance(key, Topic) else self.get(key)
        ids = self.paper_ids(topic)
        if not ids:
            return []
        hits = self.service.figures(topic.query or topic.name, k=min(max(k, 1), 100), paper_ids=ids)
        shown = {h.figure_id for h in hits}
        papers = {p.id: p for p in self._catalogue.papers(f"p.id IN ({','.join('?' * len(ids))})", ids)}
        for paper_id in ids:  # then the rest of its papers' figures, unranked
            for row in self._catalogue.figures(paper_id):
                if len(hits) >= k:
                    return hits
                if row["id"] not in shown:
                    hits.append(FigureHit(row["id"], papers[paper_id], row["page"], row["label"], row["caption"],
                                          str(self.service.library.root / row["image_path"]), 0.0))
        return hits


def _check(name: str, query: str, description: str, pins: Sequence) -> tuple[str, str, str]:
    name, query, description = (name or "").strip(), (query or "").strip(), (description or "").strip()
    if not name:
        raise ValueError("a topic needs a name")
    for what, text, limit in (("name", name, MAX_NAME), ("query", query, MAX_QUERY), ("description", description, 2000)):
        if len(text) > limit:
            raise ValueError(f"a topic {what} has at most {limit} characters")
    if not query and not pins:
        raise ValueError("a topic needs a query or pinned papers")
    return name, query, description


def _topic(row) -> Topic:
    return Topic(row["id"], row["name"], row["description"], row["query"], load_filters(row["filters"]),
                 row["created_at"], row["updated_at"], row["n"])
