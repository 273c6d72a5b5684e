"""`souwen records ...`: OA metadata records (papers without PDFs; assistant.records) and their
optional online enrichment (assistant.enrich).

    souwen records add FILE [FILE...] [--format jsonl|csv] [--no-progress] [--json]
    souwen records enrich [--source crossref|openalex] [--limit N] [--mailto EMAIL] [--json]

`records add` prints one line per problem (failed lines with their line numbers, skipped records)
and a summary; the exit code is 1 when some records failed (for `enrich`: some DOIs failed). `records enrich` needs
``SOUWEN_ENRICH__ENABLED=true`` (the only command that uses the network; exit 2 otherwise).

Why not `souwen ingest FILE.jsonl`: ingest reports one outcome per file (pages, figures, one
status) and its API jobs work the same way; a records file holds thousands of records, each with
its own outcome and line number. Keeping records apart keeps both summaries exact.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.cli import EXIT_FAILED_FILES, emit_json


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """Add `souwen records add|enrich`."""
    p = sub.add_parser("records", help="metadata records (DOI, title, abstract, ...) stored without PDFs")
    verbs = p.add_subparsers(dest="records_command", required=True)
    add = verbs.add_parser("add", parents=[common], help="add records from JSONL or CSV files")
    add.add_argument("files", nargs="+", type=Path)
    add.add_argument("--format", choices=["jsonl", "csv"], help="file format (default: from the name or content)")
    add.add_argument("--no-progress", action="store_true", help="no progress bar")
    add.set_defaults(run=run_records_add)
    enrich = verbs.add_parser("enrich", parents=[common],
                              help="fill missing fields from Crossref or OpenAlex by DOI (needs enrich.enabled)")
    enrich.add_argument("--source", choices=["crossref", "openalex"], help="default from settings: openalex")
    enrich.add_argument("--limit", type=int, help="look at most N DOIs up (a later run continues)")
    enrich.add_argument("--mailto", help="your e-mail for the APIs' polite pools (default from settings)")
    enrich.add_argument("--no-progress", action="store_true", help="no progress bar")
    enrich.set_defaults(run=run_records_enrich)


def run_records_add(service, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    show = not args.no_progress and not args.json and sys.stderr.isatty()
    summary = service.ingest_records(args.files, fmt=args.format, show_progress=show)
    if args.json:
        emit_json(summary.to_json())
    else:
        errors = Console(stderr=True)
        for o in summary.outcomes:
            if o.status in ("failed", "skipped"):
                where = f"{o.path}:{o.line}" if o.line else o.path
                colour = "red" if o.status == "failed" else "yellow"
                errors.print(f"[{colour}]{o.status:<8}[/{colour}] {escape(where)}: {escape(o.reason)}", highlight=False)
        counts = ", ".join(f"{summary.count(s)} {s}" for s in ("added", "replaced", "unchanged", "skipped", "failed"))
        rate = len(summary.outcomes) / summary.seconds if summary.seconds else 0.0
        errors.print(f"records: {counts} in {summary.seconds:.1f} s ({rate:.0f} records/s)", highlight=False)
    return EXIT_FAILED_FILES if summary.failed else 0


def run_records_enrich(service, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from assistant.enrich import enrich_records

    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    show = not args.no_progress and not args.json and sys.stderr.isatty()
    summary = enrich_records(service, source=args.source, limit=args.limit, mailto=args.mailto, show_progress=show)
    if args.json:
        emit_json(summary.to_json())
    else:
        errors = Console(stderr=True)
        for o in summary.outcomes:
            if o.status == "enriched":
                errors.print(f"[green]enriched[/green] {escape(o.doi)}: {', '.join(o.fields)}", highlight=False)
            elif o.status == "failed":
                errors.print(f"[red]failed[/red]   {escape(o.doi)}: {escape(o.reason)}", highlight=False)
        counts = ", ".join(f"{summary.count(s)} {s.replace('_', ' ')}" for s in ("enriched", "nothing_new", "not_found", "failed"))
        errors.print(f"enrich ({summary.source}): {counts}; {summary.already_done} done by earlier runs, "
                     f"{summary.complete} complete already; {summary.seconds:.1f} s", highlight=False)
    return EXIT_FAILED_FILES if summary.count("failed") else 0  # the failed DOIs are tried again next run
