"""What each `souwen` sub-command does with the service, and how its result is printed.

Text output is for people (rich tables on a terminal); `--json` output is the documented schema in
README.md, built by the `*_json` functions here so that the CLI, the API and tests agree on it.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from rich.console import Console
from rich.table import Column, Table

from assistant.cli import EXIT_FAILED_FILES, EXIT_USAGE, emit_json
from assistant.library import paper_id_for
from assistant.retrieval import Filters, parse_years
from assistant.service import Souwen
from assistant.types import Paper, ScoredChunk

# Piped output (`souwen papers > list.txt`) is 200 columns wide rather than rich's default 80, and
# the columns a user copies into the next command (ids, DOIs, image paths) fold rather than end in
# "…": at 80 columns every DOI of the shared corpus was cut.
PIPED_WIDTH = 200


def stdout_console(**options) -> Console:
    """A rich console on stdout, PIPED_WIDTH columns wide when stdout is not a terminal."""
    return Console(width=None if sys.stdout.isatty() else PIPED_WIDTH, **options)


console = stdout_console()
errors = Console(stderr=True)


def whole(header: str, width: int = 0) -> Column:
    """A table column whose values are never shortened: kept on one line at `width` (values of a
    fixed length, e.g. paper ids) or else wrapped at any character."""
    if width:
        return Column(header, no_wrap=True, min_width=width)
    return Column(header, overflow="fold")


def paper_json(paper: Paper) -> dict:
    from assistant.disciplines import label_json

    data = asdict(paper)
    for key in ("authors", "keywords", "keywords_alt"):
        data[key] = list(data[key])
    data["disciplines"] = [label_json(label) for label in paper.disciplines]
    return data


def hit_json(rank: int, hit: ScoredChunk) -> dict:
    c, p = hit.chunk, hit.paper
    return {"rank": rank, "chunk_id": c.id, "paper_id": p.id, "doi": p.doi, "title": p.title, "year": p.year,
            "page_start": c.page_start, "page_end": c.page_end, "section": c.section, "kind": c.kind,
            "text": c.text, "score": round(hit.score, 6), "dense_rank": hit.dense_rank,
            "lexical_rank": hit.lexical_rank}


def hint_if_empty(service: Souwen) -> None:
    """On stderr: why a command found nothing when the library itself is empty (most often a
    forgotten --library or SOUWEN_LIBRARY, so the default ./data/library was opened)."""
    if service.library.catalogue.counts()["papers"] == 0:
        errors.print(f"note: the library at {service.settings.library} holds no papers: add some with "
                     "`souwen ingest PATH`, or point --library / SOUWEN_LIBRARY at yours", highlight=False, soft_wrap=True)


def run_ingest(service: Souwen, args: argparse.Namespace) -> int:
    show = not args.no_progress and not args.json and sys.stderr.isatty()
    summary = service.ingest(args.paths, recursive=args.recursive, workers=args.workers, show_progress=show)
    if args.json:
        emit_json({"seconds": round(summary.seconds, 2),
                   "counts": {s: summary.count(s) for s in ("added", "replaced", "unchanged", "failed")},
                   "files": [asdict(o) for o in summary.outcomes]})
    else:
        for o in summary.outcomes:
            if o.status == "failed":
                errors.print(f"[red]failed[/red]    {o.path}: {o.reason}", highlight=False)
            elif o.status in ("added", "replaced"):
                note = f" ({'; '.join(o.warnings)})" if o.warnings else ""
                errors.print(f"[green]{o.status:<9}[/green] {o.path}: {o.doi or 'no DOI'}, {o.pages} pages, "
                             f"{o.chunks} chunks, {o.figures} figures{note}", highlight=False)
        counts = ", ".join(f"{summary.count(s)} {s}" for s in ("added", "replaced", "unchanged", "failed"))
        errors.print(f"ingest: {counts} in {summary.seconds:.1f} s", highlight=False)
    return EXIT_FAILED_FILES if summary.failed else 0


def run_rebuild(service: Souwen, args: argparse.Namespace) -> int:
    summary = service.rebuild(workers=args.workers, show_progress=not args.json and sys.stderr.isatty())
    counts = {s: summary.count(s) for s in ("added", "replaced", "unchanged", "failed")}
    if args.json:
        emit_json({"seconds": round(summary.seconds, 2), "counts": counts, "files": [asdict(o) for o in summary.outcomes]})
    else:
        errors.print(f"rebuilt {service.settings.library}: {counts} in {summary.seconds:.1f} s", highlight=False)
    return EXIT_FAILED_FILES if summary.failed else 0


def run_papers(service: Souwen, args: argparse.Namespace) -> int:
    papers = service.papers(_filters(args))
    if args.json:
        emit_json([paper_json(p) for p in papers])
        return 0
    table = Table(whole("id", len(paper_id_for(""))), whole("doi"), "year", "title", "pages", "figures")
    for p in papers:
        table.add_row(p.id, p.doi or "-", str(p.year or "-"), p.title[:70], str(p.pages), str(p.figures))
    console.print(table)
    console.print(f"{len(papers)} papers")
    if not papers:
        hint_if_empty(service)
    return 0


def run_show(service: Souwen, args: argparse.Namespace) -> int:
    shown = service.show(args.key)
    if args.json:
        emit_json({**paper_json(shown["paper"]), **{k: v for k, v in shown.items() if k != "paper"}})
        return 0
    p = shown["paper"]
    console.print(f"[bold]{p.title}[/bold]" + (f"\n{p.title_alt}" if p.title_alt else ""), highlight=False)
    console.print(f"{', '.join(p.authors)}\n{p.venue} {p.year or ''}  https://doi.org/{p.doi}  ({p.pages} pages, id {p.id})",
                  highlight=False)
    if p.abstract:
        console.print(f"\n{p.abstract}", highlight=False, soft_wrap=True)
    if p.keywords:
        console.print(f"\nKeywords: {'; '.join(p.keywords)}", highlight=False)
    console.print(f"\nSections: {' | '.join(shown['sections'])}", highlight=False)
    for f in shown["figures"]:
        console.print(f"  p.{f['page']} {f['label'] or '(no caption)'}: {f['caption'][:90]}  {f['image_path']}", highlight=False)
    return 0


def _filters(args: argparse.Namespace) -> Filters:
    from assistant.disciplines import check_codes

    first, last = parse_years(getattr(args, "year", None))
    return Filters(dois=tuple(getattr(args, "doi", ())), year_from=first, year_to=last,
                   disciplines=check_codes(getattr(args, "discipline", ())))


def run_search(service: Souwen, args: argparse.Namespace) -> int:
    filters = _filters(args)
    if args.batch:
        return _search_batch(service, args, filters)
    if not args.query:
        raise ValueError("give a query, or --batch FILE")
    hits = service.search(args.query, k=args.k, filters=filters)
    if args.json:
        emit_json([hit_json(i, h) for i, h in enumerate(hits, 1)])
        return 0
    if not hits:
        console.print("no passages found")
        hint_if_empty(service)
    for i, h in enumerate(hits, 1):
        pages = f"p.{h.chunk.page_start}" + (f"-{h.chunk.page_end}" if h.chunk.page_end != h.chunk.page_start else "")
        console.print(f"[bold]{i}. {h.paper.title[:80]}[/bold] ({h.paper.year or 'n.d.'}) "
                      f"https://doi.org/{h.paper.doi} {pages} · {h.chunk.section[:40]}", highlight=False)
        console.print(f"   {h.chunk.text[:400]}\n", highlight=False, soft_wrap=True)  # see print_answer
    return 0


def _search_batch(service: Souwen, args: argparse.Namespace, filters: Filters) -> int:
    """One JSON list per input line; a bad line prints {"error": ...} and the run goes on."""
    status = 0
    with open(args.batch, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                question = json.loads(line)["question"]
                if not isinstance(question, str):
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError):
                emit_json({"error": f"line {number}: expected a JSON object with a 'question' string"})
                status = EXIT_USAGE
                continue
            try:
                hits = service.search(question, k=args.k, filters=filters)
            except ValueError as exc:  # an empty or content-free question: this line's error only
                emit_json({"error": f"line {number}: {exc}"})
                status = EXIT_USAGE
                continue
            emit_json([hit_json(i, h) for i, h in enumerate(hits, 1)])
    return status


def run_remove(service: Souwen, args: argparse.Namespace) -> int:
    removed = service.remove(args.keys)
    if args.json:
        emit_json([paper_json(p) for p in removed])
    else:
        for p in removed:
            errors.print(f"removed {p.id} {p.doi} {p.title[:60]}", highlight=False)
    return 0


def run_info(service: Souwen, args: argparse.Namespace) -> int:
    info = service.info()
    if args.json:
        emit_json(info)
        return 0
    for key, value in info.items():
        console.print(f"{key:<12} {json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value}", highlight=False)
    return 0


def run_figures(service: Souwen, args: argparse.Namespace) -> int:
    hits = service.figures(args.query, k=args.k)
    if args.json:
        emit_json([{"rank": i, "figure_id": h.figure_id, "paper_id": h.paper.id, "doi": h.paper.doi,
                    "title": h.paper.title, "page": h.page, "label": h.label, "caption": h.caption,
                    "image_path": h.image_path, "score": h.score} for i, h in enumerate(hits, start=1)])
        return 0
    table = Table("#", "figure", "paper", whole("doi"), "page", whole("image"))
    for i, h in enumerate(hits, start=1):
        table.add_row(str(i), h.caption[:90] or h.label, h.paper.title[:50], h.paper.doi or "-", str(h.page),
                      h.image_path)
    console.print(table)
    if not hits:
        console.print("no figures found")
        hint_if_empty(service)
    return 0
