"""`souwen users ...` (manage the library's local accounts) and `souwen me ...` (one user's own
favourites, subscriptions and digest), plus the JSON shapes that the CLI and the API share.

    souwen users add NAME          prints the new key once, on stdout (--json: {"user", "key"})
    souwen users list | remove NAME | rotate NAME
    souwen me [--key KEY] show
    souwen me favourites [list | add KEY... [--note TEXT] | remove KEY...]
    souwen me subscriptions                      souwen me unsubscribe ID
    souwen me subscribe --topic T | --query Q [--year 2020-2024]
    souwen me digest [--peek] [--since 2024-05-01]

`me` reads the user's key from $SOUWEN_USER_KEY when --key is not given: keep it out of the shell
history. `users` needs no key: whoever can run the CLI can read the library's files anyway.
What the accounts do is in assistant.accounts; this module only parses and prints.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict

from assistant.cli import EXIT_NOT_FOUND, EXIT_USAGE, emit_json

KEY_ENV = "SOUWEN_USER_KEY"


# -- JSON shapes (the API returns the same) -----------------------------------------------------
def user_json(user) -> dict:
    return asdict(user)


def favourite_json(favourite) -> dict:
    return asdict(favourite)


def subscription_json(sub) -> dict:
    return asdict(sub)


def digest_json(digest) -> dict:
    return {"user": digest.user, "since": digest.since, "until": digest.until, "advanced": digest.advanced,
            "count": digest.count,
            "subscriptions": [asdict(s) for s in digest.sections]}


# -- parsers ------------------------------------------------------------------------------------
def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    users = sub.add_parser("users", help="manage the library's local user accounts (API keys)")
    verbs = users.add_subparsers(dest="users_command", required=True)
    p = verbs.add_parser("add", parents=[common], help="create a user; prints their API key once")
    p.add_argument("name")
    verbs.add_parser("list", parents=[common], help="list the users")
    p = verbs.add_parser("remove", parents=[common], help="delete a user with their favourites and subscriptions")
    p.add_argument("name")
    p = verbs.add_parser("rotate", parents=[common], help="give a user a new key; the old one stops working")
    p.add_argument("name")
    users.set_defaults(run=run_users)

    me = sub.add_parser("me", help="your favourites, subscriptions and digest (needs your key)")
    me.add_argument("--key", help=f"your API key (better: set ${KEY_ENV}, which stays out of shell history)")
    verbs = me.add_subparsers(dest="me_command", required=True)
    verbs.add_parser("show", parents=[common], help="your account")
    p = verbs.add_parser("favourites", parents=[common], help="list, add or remove favourite papers")
    p.add_argument("action", nargs="?", choices=["list", "add", "remove"], default="list")
    p.add_argument("keys", nargs="*", help="DOIs or paper ids")
    p.add_argument("--note", default="", help="a note kept with the favourites added")
    verbs.add_parser("subscriptions", parents=[common], help="list your subscriptions")
    p = verbs.add_parser("subscribe", parents=[common], help="follow a topic or a saved query")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--topic", help="topic id or name")
    what.add_argument("--query", help="a saved query: new papers that match it show in your digest")
    p.add_argument("--year", help="only papers of these years, e.g. 2020-2024 (with --query)")
    p.add_argument("--doi", action="append", default=[], help="only this paper (repeatable; with --query)")
    p = verbs.add_parser("unsubscribe", parents=[common], help="stop a subscription")
    p.add_argument("id")
    p = verbs.add_parser("digest", parents=[common], help="what is new since your last digest")
    p.add_argument("--peek", action="store_true", help="look without marking it read")
    p.add_argument("--since", help="everything since this ISO date or time instead (with --peek: history)")
    me.set_defaults(run=run_me)


# -- runners ------------------------------------------------------------------------------------
def run_users(service, args: argparse.Namespace) -> int:
    from assistant.accounts import Conflict, NotFound

    accounts = service.accounts
    try:
        if args.users_command == "add":
            user, key = accounts.create_user(args.name)
            if args.json:
                emit_json({"user": user_json(user), "key": key})
            else:
                print(key)
                _say(f"created user {user.name!r}; the key above is shown only now (souwen users rotate makes a new one)")
        elif args.users_command == "list":
            users = accounts.users()
            if args.json:
                emit_json([user_json(u) for u in users])
            else:
                for u in users:
                    print(f"{u.name}\tcreated {u.created_at}\tlast digest {u.last_digest_at or '-'}")
                _say(f"{len(users)} users")
        elif args.users_command == "remove":
            user = accounts.remove_user(args.name)
            emit_json(user_json(user)) if args.json else _say(f"removed user {user.name!r} and their data")
        else:
            key = accounts.rotate_key(args.name)
            emit_json({"user": args.name, "key": key}) if args.json else print(key)
            if not args.json:
                _say(f"new key for {args.name!r}; the old one no longer works")
    except Conflict as exc:
        return _fail(exc, EXIT_USAGE)
    except NotFound as exc:
        return _fail(exc, EXIT_NOT_FOUND)
    return 0


def run_me(service, args: argparse.Namespace) -> int:
    from assistant.accounts import NotFound

    key = args.key or os.environ.get(KEY_ENV, "")
    if not key:
        return _fail(f"give your API key: set ${KEY_ENV} (or --key)", EXIT_USAGE)
    user = service.accounts.authenticate(key)
    if user is None:
        return _fail("that API key belongs to no user of this library", EXIT_USAGE)
    try:
        return _run_me(service.accounts, user, args)
    except NotFound as exc:
        return _fail(exc, EXIT_NOT_FOUND)


def _run_me(accounts, user, args: argparse.Namespace) -> int:
    command = args.me_command
    if command == "show":
        data = {**user_json(user), "favourites": len(accounts.favourites(user)),
                "subscriptions": len(accounts.subscriptions(user))}
        emit_json(data) if args.json else print("\n".join(f"{k}: {v}" for k, v in data.items()))
    elif command == "favourites":
        if args.action != "list" and not args.keys:
            return _fail(f"favourites {args.action} needs DOIs or paper ids", EXIT_USAGE)
        if args.action == "add":
            changed = [accounts.add_favourite(user, k, args.note) for k in args.keys]
        elif args.action == "remove":
            changed = [accounts.remove_favourite(user, k) for k in args.keys]
        else:
            changed = accounts.favourites(user)
        if args.json:
            emit_json([favourite_json(f) for f in changed])
        else:
            for f in changed:
                print(f"{f.doi or f.paper_id}\t{f.year or '-'}\t{f.title[:70]}" + (f"\t({f.note})" if f.note else ""))
            _say(f"{len(changed)} favourites{ {'list': '', 'add': ' added', 'remove': ' removed'}[args.action]}")
    elif command in ("subscriptions", "subscribe", "unsubscribe"):
        if command == "subscribe":
            from assistant.retrieval import Filters, parse_years

            first, last = parse_years(args.year)
            ids = tuple(accounts.service.find(key).id for key in args.doi)
            subs = [accounts.subscribe(user, topic=args.topic, query=args.query,
                                       filters=Filters(paper_ids=ids, year_from=first, year_to=last))]
        elif command == "unsubscribe":
            subs = [accounts.unsubscribe(user, args.id)]
        else:
            subs = accounts.subscriptions(user)
        if args.json:
            emit_json([subscription_json(s) for s in subs])
        else:
            for s in subs:
                print(f"{s.id}\t{s.kind}\t{_describe(s)}")
    else:
        digest = accounts.digest(user, since=args.since, advance=not args.peek)
        if args.json:
            emit_json(digest_json(digest))
        else:
            for section in digest.sections:
                print(f"# {_describe(section.subscription)}: {len(section.papers)} new")
                for p in section.papers:
                    print(f"  {p.doi or p.paper_id}\t{p.year or '-'}\t{p.title[:70]}")
            _say(f"{digest.count} new papers since {digest.since}" + ("" if digest.advanced else " (peek: not marked read)"))
    return 0


def _describe(sub) -> str:
    if sub.kind == "topic":
        return f"topic {sub.topic or sub.topic_id}"
    return f"query {sub.query!r}" + "".join(f" {k}={v}" for k, v in sub.filters.items())


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _fail(message, code: int) -> int:
    print(f"souwen: {message}", file=sys.stderr)
    return code
