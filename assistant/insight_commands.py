"""`souwen stats`: the library's trends, distributions and collaboration networks (图解研究趋势).

    souwen stats                                  overview (counts; --json)
    souwen stats years [--by discipline|topic]    papers per year (--png FILE draws it)
    souwen stats disciplines | licences           distributions (--png FILE)
    souwen stats authors | institutions [-n 20]   the most prolific (--png FILE)
    souwen stats network coauthors|institutions [--format json|graphml|png] [--out FILE]

Every verb takes --discipline CODE, --topic NAME and --year 2020-2024 to look at part of the
library. Text goes to stdout, JSON with --json (or --format json); a file that cannot be written is
exit code 2 with the reason. `souwen info` (library counts, model) is another command.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

KINDS = ("coauthors", "institutions")


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """Add `souwen stats` and its verbs to the `souwen` parser."""
    # Leaf options default to SUPPRESS so `stats --json years` and `stats years --json` both work
    # (a sub-parser's defaults would otherwise overwrite what the parent parser read).
    leaf = argparse.ArgumentParser(add_help=False)
    leaf.add_argument("--library", type=Path, default=argparse.SUPPRESS, help="library directory")
    leaf.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")
    leaf.add_argument("--discipline", default="", help="only papers of this 学科 code (e.g. 0710, 071010)")
    leaf.add_argument("--topic", default="", help="only papers of this topic (name or id)")
    leaf.add_argument("--year", help="only these years, e.g. 2020-2024 or 2021")
    chart = argparse.ArgumentParser(add_help=False, parents=[leaf])
    chart.add_argument("--png", type=Path, help="also draw the chart into this PNG file")

    p = sub.add_parser("stats", parents=[common], help="trends, distributions and collaboration networks")
    p.set_defaults(run=run_overview)
    verbs = p.add_subparsers(dest="stats_verb")
    v = verbs.add_parser("years", parents=[chart], help="papers per year")
    v.add_argument("--by", choices=["discipline", "topic"], help="one series per 一级学科 or per topic")
    v.set_defaults(run=run_years)
    verbs.add_parser("disciplines", parents=[chart], help="papers per 一级学科").set_defaults(run=run_disciplines)
    verbs.add_parser("licences", parents=[chart], help="papers per open-access licence").set_defaults(run=run_licences)
    for name, run in (("authors", run_authors), ("institutions", run_institutions)):
        v = verbs.add_parser(name, parents=[chart], help=f"the {name} with most papers")
        v.add_argument("-n", type=int, default=20, help="how many (default 20)")
        v.set_defaults(run=run)
    v = verbs.add_parser("network", parents=[leaf], help="co-author or institution collaboration network")
    v.add_argument("kind", choices=KINDS)
    v.add_argument("--format", choices=["json", "graphml", "png"], default="json", help="default json")
    v.add_argument("--out", type=Path, help="write here (default stdout; needed for png)")
    v.set_defaults(run=run_network)


def _scope(args):
    from assistant.insights import Scope
    from assistant.retrieval import parse_years

    first, last = parse_years(getattr(args, "year", None))
    return Scope(discipline=getattr(args, "discipline", ""), topic=getattr(args, "topic", ""),
                 year_from=first, year_to=last)


def _fail(message: str) -> int:
    print(f"souwen: {message}", file=sys.stderr)
    return 2


def _emit(args, data, lines: list[str]) -> None:
    if getattr(args, "json", False):
        from assistant.cli import emit_json

        emit_json(data)
    else:
        print("\n".join(lines) if lines else "(nothing yet: no paper in scope has this)")


def _draw(args, draw) -> int:
    """Run a PNG drawing when --png was given; an unwritable path is a usage error."""
    if getattr(args, "png", None) is None:
        return 0
    try:
        path = draw(args.png)
    except OSError as exc:
        return _fail(f"cannot write {args.png}: {exc.strerror or exc}")
    print(f"wrote {path}", file=sys.stderr)
    return 0


def run_overview(service, args) -> int:
    data = service.insights.overview()
    span = "-".join(map(str, data["years"])) or "none"
    _emit(args, data, [f"papers: {data['papers']} (years {span}; {data['undated']} undated)",
                       f"authors: {data['authors']}", f"institutions: {data['institutions']} "
                       f"(papers with one: {data['with_institutions']})",
                       f"papers with an OA licence: {data['with_licence']}",
                       f"papers with a discipline: {data['with_discipline']}", f"topics: {data['topics']}",
                       "more: souwen stats years|disciplines|licences|authors|institutions|network"])
    return 0


def run_years(service, args) -> int:
    from assistant import charts

    rows = service.insights.years(args.by, _scope(args))
    _emit(args, rows, [f"{r['year']}  {r['papers']:>4}  {r['name']}" if args.by else f"{r['year']}  {r['papers']:>4}"
                       for r in rows])
    title = "Papers per year" + (f" by {args.by}" if args.by else "")
    return _draw(args, lambda path: charts.years_png(rows, path, title))


def run_disciplines(service, args) -> int:
    from assistant import charts

    rows = service.insights.disciplines(_scope(args))
    _emit(args, rows, [f"{r['papers']:>4}  {r['code']}  {r['name']}  {r['name_en']}".rstrip() for r in rows])
    labels = [charts.discipline_label(r) for r in rows]
    return _draw(args, lambda path: charts.bar_png(labels, [r["papers"] for r in rows], path, "Papers per discipline"))


def run_licences(service, args) -> int:
    from assistant import charts

    rows = service.insights.licences(_scope(args))
    _emit(args, rows, [f"{r['papers']:>4}  {r['licence']}" for r in rows])
    return _draw(args, lambda path: charts.bar_png(*charts.bars(rows, "licence"), path, "Open-access licences"))


def _ranked(service, args, what: str) -> int:
    from assistant import charts

    if args.n < 1:
        return _fail(f"-n must be at least 1, not {args.n}")
    rows = getattr(service.insights, what)(args.n, _scope(args))
    extra = (lambda r: ", ".join(r["institutions"])) if what == "authors" else (lambda r: r["country"])
    _emit(args, rows, [f"{r['papers']:>4}  {r['name']}" + (f"  ({extra(r)})" if extra(r) else "") for r in rows])
    return _draw(args, lambda path: charts.bar_png(*charts.bars(rows, "name"), path, f"Top {what}"))


def run_authors(service, args) -> int:
    return _ranked(service, args, "authors")


def run_institutions(service, args) -> int:
    return _ranked(service, args, "institutions")


def run_network(service, args) -> int:
    import json

    from assistant import charts
    from assistant.insights import graphml_bytes, network_json

    graph = service.insights.network(args.kind, _scope(args))
    fmt = "json" if getattr(args, "json", False) and args.format == "json" else args.format
    if fmt == "png" and args.out is None:
        return _fail("--format png needs --out FILE")
    try:
        if fmt == "png":
            charts.network_png(graph, args.out, f"{args.kind.capitalize()} network")
        else:
            data = graphml_bytes(graph) if fmt == "graphml" else \
                (json.dumps(network_json(graph), ensure_ascii=False) + "\n").encode("utf-8")
            if args.out is None:
                sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
                sys.stdout.flush()
                return 0
            tmp = args.out.with_name(args.out.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(args.out)
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc.strerror or exc}")
    print(f"wrote {args.out}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} links", file=sys.stderr)
    return 0
