"""The `souwen` command line: ingest, papers, show, search, remove, info, rebuild, and the
answering verbs ask, chat, summarize, keypoints, review — each with --json; serve starts the HTTP API.

Exit codes: 0 success; 1 some files failed to ingest; 2 bad usage or input; 3 there is no library
at that place, or it cannot be opened with these settings (the message says how to rebuild it); 4 a paper was not found;
5 the language model backend failed (unreachable, timed out; the message says what to fix).
JSON goes to stdout, progress and messages to stderr, so scripts can pipe the output.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.settings import Settings

EXIT_FAILED_FILES, EXIT_USAGE, EXIT_LIBRARY, EXIT_NOT_FOUND, EXIT_LLM = 1, 2, 3, 4, 5
ANSWER_COMMANDS = ("ask", "chat", "summarize", "keypoints", "review")
# Commands that only read or change what is stored: on a directory holding no library they say so
# instead of creating an empty one (a mistyped --library left empty library folders behind).
NEEDS_LIBRARY = ("papers", "show", "search", "remove", "figures", "info", "rebuild", "stats", *ANSWER_COMMANDS)
# The library platform's verbs: each module adds its sub-commands (add_parsers) and names the
# function that runs them (set_defaults(run=...)); modules import nothing heavy at the top.
PLATFORM_COMMANDS = ("discipline_commands", "topic_commands", "account_commands", "insight_commands", "record_commands")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", type=Path, help="library directory (default: $SOUWEN_LIBRARY or ./data/library)")
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser = argparse.ArgumentParser(prog="souwen", description="Souwen (搜问): search and ask your open-access papers offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="add PDFs (files or folders) to the library")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("-r", "--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--workers", type=int, help="parser processes (default: one per core, at most 4)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")

    p = sub.add_parser("papers", parents=[common], help="list the papers in the library")
    p.add_argument("--discipline", action="append", default=[], metavar="CODE",
                   help="only papers in this 学科 (门类 07, 一级学科 0710 or 二级学科 071010; repeatable)")
    p = sub.add_parser("show", parents=[common], help="one paper's metadata, sections and figures")
    p.add_argument("key", help="DOI or paper id")

    p = sub.add_parser("search", parents=[common], help="find passages (dense + BM25)")
    p.add_argument("query", nargs="?", help="the question or keywords")
    p.add_argument("-k", type=int, default=None, help="passages to return (default 10)")
    p.add_argument("--doi", action="append", default=[], help="only this DOI (repeatable)")
    p.add_argument("--year", help="years, e.g. 2020-2024 or 2021")
    p.add_argument("--discipline", action="append", default=[], metavar="CODE",
                   help="only papers in this 学科 (门类 07, 一级学科 0710 or 二级学科 071010; repeatable)")
    p.add_argument("--batch", type=Path, help="JSONL file with a 'question' per line; prints one JSON list per line")

    p = sub.add_parser("remove", parents=[common], help="delete papers with their chunks, vectors and figures")
    p.add_argument("keys", nargs="+", help="DOIs or paper ids")
    p = sub.add_parser("figures", parents=[common], help="search figures by keywords (captions, mentions, keywords)")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=10, help="figures to return (default 10)")
    sub.add_parser("info", parents=[common], help="counts, model, fingerprint, disk use")
    p = sub.add_parser("rebuild", parents=[common], help="re-ingest the stored PDFs with the current settings")
    p.add_argument("--workers", type=int, help="parser processes")

    answering = argparse.ArgumentParser(add_help=False, parents=[common])
    answering.add_argument("--backend", choices=["extractive", "openai", "llamacpp"],
                           help="who writes the text (default from settings: extractive)")
    answering.add_argument("--bib", type=Path, help="write BibTeX of the cited papers to this file")
    p = sub.add_parser("ask", parents=[answering], help="answer a question with cited passages")
    p.add_argument("question", nargs="?")
    p.add_argument("-k", type=int, default=None, help="passages read for the answer (default 15)")
    p.add_argument("--doi", action="append", default=[], help="only this DOI (repeatable)")
    p.add_argument("--year", help="years, e.g. 2020-2024 or 2021")
    p.add_argument("--discipline", action="append", default=[], metavar="CODE",
                   help="only papers in this 学科 (门类 07, 一级学科 0710 or 二级学科 071010; repeatable)")
    p.add_argument("--batch", type=Path, help="JSONL file ('-' for stdin), a 'question' per line; one JSON answer per line")
    sub.add_parser("chat", parents=[answering], help="questions from stdin; follow-ups use the conversation")
    p = sub.add_parser("summarize", parents=[answering], help="structured summary of one or more papers")
    p.add_argument("keys", nargs="+", help="DOIs or paper ids")
    p = sub.add_parser("keypoints", parents=[answering], help="the key points of one or more papers")
    p.add_argument("keys", nargs="+", help="DOIs or paper ids")
    p.add_argument("-n", type=int, default=5, help="how many points (default 5)")
    p = sub.add_parser("review", parents=[answering], help="themes and a comparison table over a topic's papers")
    p.add_argument("topic")
    p.add_argument("-n", type=int, default=10, help="how many papers (default 10)")
    p.add_argument("--doi", action="append", default=[], help="only this DOI (repeatable)")
    p.add_argument("--year", help="years, e.g. 2020-2024")
    p.add_argument("--discipline", action="append", default=[], metavar="CODE",
                   help="only papers in this 学科 (门类 07, 一级学科 0710 or 二级学科 071010; repeatable)")

    import importlib

    for name in PLATFORM_COMMANDS:
        importlib.import_module(f"assistant.{name}").add_parsers(sub, common)

    p = sub.add_parser("serve", help="serve the HTTP API and the web UI (assistant/serve_command.py)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--library", type=Path, help="library directory (default: $SOUWEN_LIBRARY or ./data/library)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from assistant.library import LibraryMismatchError, library_exists
    from assistant.protocols import LLMError
    from assistant.service import Souwen
    from assistant.types import NotFound

    overrides: dict = {"library": args.library} if args.library else {}
    try:
        settings = Settings(**overrides)
        if getattr(args, "backend", None):  # the rest of the llm section stays as the environment set it
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": args.backend})})
    except Exception as exc:  # noqa: BLE001 - pydantic's message names the bad setting
        print(f"souwen: invalid settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "serve":  # the app's lifespan builds its own service
        from assistant.serve_command import run_serve

        return run_serve(settings, args)
    if args.command in NEEDS_LIBRARY and not library_exists(settings.library):
        print(f"souwen: no library at {settings.library}: add papers with `souwen ingest PATH`, "
              "or point --library / SOUWEN_LIBRARY at yours", file=sys.stderr)
        return EXIT_LIBRARY
    service = Souwen(settings)
    try:
        if getattr(args, "run", None):
            return args.run(service, args)
        if args.command in ANSWER_COMMANDS:
            from assistant import answer_commands as commands
        else:
            from assistant import commands
        return getattr(commands, f"run_{args.command}")(service, args)
    except LLMError as exc:
        print(f"souwen: language model failed: {exc}", file=sys.stderr)
        return EXIT_LLM
    except LibraryMismatchError as exc:
        print(f"souwen: {exc}", file=sys.stderr)
        return EXIT_LIBRARY
    except NotFound as exc:  # a paper, topic, user or subscription
        print(f"souwen: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except ValueError as exc:
        print(f"souwen: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("souwen: interrupted; papers already stored are kept", file=sys.stderr)
        return 130
    finally:
        service.close()


def emit_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
