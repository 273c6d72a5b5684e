"""`souwen topics ...`: list, create, show, overview, pin, unpin, edit, refresh and delete topics
(专题), each with --json (the schema the API's /topics routes share: ``topic_json``,
``topic_detail_json``).

An unknown topic (or unpinning a paper that is not pinned) exits with 4, like an unknown paper; a
duplicate name or a topic with neither query nor pins exits with 2. What a topic is and how papers
join it is ``assistant.topics``; this module only parses and prints.
"""
from __future__ import annotations

import argparse
import json
import sys

from assistant.cli import emit_json


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """`souwen topics [ACTION]` (no action: the list)."""
    topics = sub.add_parser("topics", parents=[common], help="topics (专题): saved queries with their papers")
    topics.set_defaults(run=run_topics, action="list")
    actions = topics.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", parents=[common], help="the topics with their paper counts")

    p = actions.add_parser("create", parents=[common], help="a new topic; matching papers join at once")
    p.add_argument("name")
    p.add_argument("--query", "-q", default="", help="the saved query (English or 中文)")
    p.add_argument("--description", "-d", default="")
    _filter_options(p)
    p.add_argument("--pin", action="append", default=[], help="pin this paper (DOI or id; repeatable)")

    p = actions.add_parser("show", parents=[common], help="a topic's papers (pinned or matched, with scores)")
    p.add_argument("topic", help="name or id")
    p = actions.add_parser("overview", parents=[common], help="a short cited overview of a topic's papers")
    p.add_argument("topic", help="name or id")
    p.add_argument("-n", type=int, default=5, help="how many papers it covers (default 5)")
    for name, text in (("pin", "pin papers to a topic"), ("unpin", "unpin papers (matching ones stay, as matched)")):
        p = actions.add_parser(name, parents=[common], help=text)
        p.add_argument("topic", help="name or id")
        p.add_argument("keys", nargs="+", help="DOIs or paper ids")
    p = actions.add_parser("edit", parents=[common], help="rename a topic or change its query (re-matches)")
    p.add_argument("topic", help="name or id")
    p.add_argument("--name")
    p.add_argument("--query", "-q")
    p.add_argument("--description", "-d")
    _filter_options(p)
    p = actions.add_parser("refresh", parents=[common], help="re-match the library (one topic, or all)")
    p.add_argument("topic", nargs="?", help="name or id (default: every topic)")
    p = actions.add_parser("delete", parents=[common], help="delete a topic (its papers stay in the library)")
    p.add_argument("topic", help="name or id")


def _filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", help="only papers of these years, e.g. 2020-2024 or 2021")
    p.add_argument("--doi", action="append", default=None, help="only this paper (DOI or id; repeatable)")
    p.add_argument("--discipline", action="append", default=None,
                   help="only papers of this 学科 code, e.g. 0812 (repeatable; `souwen disciplines` lists them)")


# -- JSON schema (shared with assistant.api_topics) --------------------------------------------
def topic_json(topic) -> dict:
    from assistant.topic_matching import filters_json

    return {"id": topic.id, "name": topic.name, "description": topic.description, "query": topic.query,
            "filters": json.loads(filters_json(topic.filters)), "paper_count": topic.papers,
            "created_at": topic.created_at, "updated_at": topic.updated_at}


def member_json(member) -> dict:
    from assistant.citations import doi_link

    p = member.paper
    return {"paper_id": p.id, "doi": p.doi, "title": p.title, "year": p.year, "url": doi_link(p.doi),
            "figures": p.figures, "how": member.how, "score": member.score, "added_at": member.added_at}


def topic_detail_json(service, topic) -> dict:
    members = service.topics.members(topic)
    return {**topic_json(topic), "papers": [member_json(m) for m in members],
            "figure_count": sum(m.paper.figures for m in members)}


# -- commands --------------------------------------------------------------------------------
def run_topics(service, args: argparse.Namespace) -> int:
    return _ACTIONS[args.action or "list"](service, args)  # errors: assistant.cli maps them to exit codes


def topic_filters(service, years: str | None, keys: list[str] | None, codes: list[str] | None = None, base=None):
    """Filters from --year, --doi (each paper must be in the library) and --discipline (known
    codes); None when none is given (unchanged)."""
    from dataclasses import replace

    from assistant.retrieval import Filters, parse_years

    if years is None and keys is None and codes is None:
        return base
    filters = base or Filters()
    if codes is not None:
        from assistant.disciplines import check_codes

        filters = replace(filters, disciplines=check_codes(codes))
    if years is not None:
        first, last = parse_years(years)
        filters = replace(filters, year_from=first, year_to=last)
    if keys is not None:
        papers = [service.find(k) for k in keys]
        filters = replace(filters, dois=tuple(p.doi for p in papers if p.doi),
                          paper_ids=tuple(p.id for p in papers if not p.doi))
    return filters


def _list(service, args) -> int:
    topics = service.topics.list()
    if args.json:
        emit_json([topic_json(t) for t in topics])
        return 0
    if not topics:
        print("no topics yet: souwen topics create NAME --query '...'", file=sys.stderr)
    for t in topics:
        print(f"{t.id}  {t.name}  ({t.papers} papers)  query: {t.query or '-'}")
    return 0


def _create(service, args) -> int:
    filters = topic_filters(service, args.year, args.doi, args.discipline)
    from assistant.retrieval import Filters

    topic = service.topics.create(args.name, args.query, description=args.description,
                                  filters=filters or Filters(), pins=args.pin)
    return _print_topic(service, topic, args)


def _show(service, args) -> int:
    return _print_topic(service, service.topics.get(args.topic), args)


def _print_topic(service, topic, args) -> int:
    detail = topic_detail_json(service, topic)
    if args.json:
        emit_json(detail)
        return 0
    print(f"{topic.name} ({topic.id})\n  query: {topic.query or '-'}")
    if topic.description:
        print(f"  {topic.description}")
    print(f"  {len(detail['papers'])} papers, {detail['figure_count']} figures")
    for m in detail["papers"]:
        score = f"{m['score']:.2f}" if m["score"] is not None else "-"
        print(f"  {m['how']:<8} {score:>5}  {m['year'] or '-'}  {m['doi'] or m['paper_id']}  {m['title'][:70]}")
    return 0


def _overview(service, args) -> int:
    from assistant.answer_commands import print_report, report_json

    report = service.topics.overview(args.topic, n=args.n)
    if args.json:
        emit_json(report_json(report))
    else:
        print_report(report)
    return 0


def _pin(service, args) -> int:
    change = service.topics.pin if args.action == "pin" else service.topics.unpin
    papers = change(args.topic, args.keys)
    topic = service.topics.get(args.topic)
    if args.json:
        emit_json({"topic": topic_json(topic), args.action + "ned": [p.id for p in papers]})
    else:
        print(f"{args.action}ned {len(papers)} papers; {topic.name} has {topic.papers} papers", file=sys.stderr)
    return 0


def _edit(service, args) -> int:
    current = service.topics.get(args.topic)
    filters = topic_filters(service, args.year, args.doi, args.discipline, base=current.filters)
    topic = service.topics.update(current.id, name=args.name, query=args.query, description=args.description,
                                  filters=filters)
    return _print_topic(service, topic, args)


def _refresh(service, args) -> int:
    topics = [service.topics.get(args.topic)] if args.topic else service.topics.list()
    done = [service.topics.refresh(t) for t in topics]
    if args.json:
        emit_json([topic_json(t) for t in done])
    else:
        for t in done:
            print(f"{t.name}: {t.papers} papers", file=sys.stderr)
    return 0


def _delete(service, args) -> int:
    topic = service.topics.delete(args.topic)
    if args.json:
        emit_json(topic_json(topic))
    else:
        print(f"deleted topic {topic.name}", file=sys.stderr)
    return 0


_ACTIONS = {"list": _list, "create": _create, "show": _show, "overview": _overview, "pin": _pin, "unpin": _pin,
            "edit": _edit, "refresh": _refresh, "delete": _delete}
