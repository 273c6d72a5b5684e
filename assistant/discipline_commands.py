"""`souwen disciplines ...`: the 学科 catalogue, a paper's labels, the user's corrections and
re-classification (assistant.disciplines). Every verb takes --json.

    souwen disciplines [--counts] [--level 门类|一级学科|二级学科]   the catalogue tree (with paper counts)
    souwen disciplines show KEY                                    a paper's labels
    souwen disciplines set KEY CODE [CODE ...]                     correct them (kept under the DOI)
    souwen disciplines clear KEY                                   drop the correction, label afresh
    souwen disciplines classify [KEY ...] [--all]                  run the classifier again

Filtering papers, search, ask and review by discipline is `--discipline CODE` on those verbs.
"""
from __future__ import annotations

import argparse
from pathlib import Path

LEVELS = ("门类", "一级学科", "二级学科")


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """Add `disciplines` and its verbs to the `souwen` parser."""
    p = sub.add_parser("disciplines", parents=[common], help="学科: the discipline catalogue and paper labels")
    p.add_argument("--counts", action="store_true", help="papers per discipline (only disciplines with papers)")
    p.add_argument("--level", choices=LEVELS, default="一级学科", help="deepest level shown (default 一级学科)")
    p.set_defaults(run=run_tree)
    # The verbs' --library/--json leave the namespace alone when not given, so that
    # `souwen disciplines --json show KEY` keeps the --json given before the verb.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", type=Path, default=argparse.SUPPRESS, help="library directory")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")
    verbs = p.add_subparsers(dest="verb")
    v = verbs.add_parser("show", parents=[common], help="a paper's discipline labels")
    v.add_argument("key", help="DOI or paper id")
    v.set_defaults(run=run_show)
    v = verbs.add_parser("set", parents=[common], help="correct a paper's labels (they win over the classifier)")
    v.add_argument("key", help="DOI or paper id")
    v.add_argument("codes", nargs="+", help="4-digit 一级学科 or 6-digit 二级学科 codes")
    v.set_defaults(run=run_set)
    v = verbs.add_parser("clear", parents=[common], help="drop a paper's correction and label it afresh")
    v.add_argument("key", help="DOI or paper id")
    v.set_defaults(run=run_clear)
    v = verbs.add_parser("classify", parents=[common], help="run the classifier again (corrections are kept)")
    v.add_argument("keys", nargs="*", help="DOIs or paper ids (default: papers without labels)")
    v.add_argument("--all", action="store_true", help="every paper in the library")
    v.set_defaults(run=run_classify)


def _paper_labels(service, paper) -> dict:
    from assistant.disciplines import label_json

    return {"paper_id": paper.id, "doi": paper.doi, "title": paper.title,
            "corrected": service.disciplines.correction(paper) is not None,
            "disciplines": [label_json(label) for label in service.disciplines.labels(paper)]}


def _print_labels(shown: dict) -> None:
    from assistant.commands import console

    console.print(f"[bold]{shown['title'][:80]}[/bold] ({shown['doi'] or shown['paper_id']})", highlight=False)
    if not shown["disciplines"]:
        console.print("  no labels (run `souwen disciplines classify`)")
    for d in shown["disciplines"]:
        console.print(f"  {d['code']:<7} {d['name']} ({d['name_en']})  {d['confidence']:.2f} {d['source']}",
                      highlight=False)


def run_tree(service, args: argparse.Namespace) -> int:
    from assistant.cli import emit_json
    from assistant.commands import console
    from assistant.disciplines import catalogue

    depth = {"门类": 2, "一级学科": 4, "二级学科": 6}[args.level]
    counts = service.disciplines.counts() if args.counts else {}
    nodes = [d for d in catalogue().values() if len(d.code) <= depth and (not args.counts or counts.get(d.code))]
    if args.json:
        emit_json([{"code": d.code, "level": d.level, "name": d.zh, "name_en": d.en, "parent": d.parent,
                    **({"papers": counts.get(d.code, 0)} if args.counts else {})} for d in nodes])
        return 0
    for d in nodes:
        indent = "  " * (len(d.code) // 2 - 1)
        count = f"  [{counts.get(d.code, 0)}]" if args.counts else ""
        console.print(f"{indent}{d.code} {d.zh} {d.en}{count}", highlight=False)
    if args.counts and not nodes:
        console.print("no labelled papers")
    return 0


def run_show(service, args: argparse.Namespace) -> int:
    from assistant.cli import emit_json

    shown = _paper_labels(service, service.find(args.key))
    emit_json(shown) if args.json else _print_labels(shown)
    return 0


def run_set(service, args: argparse.Namespace) -> int:
    from assistant.cli import emit_json

    paper = service.find(args.key)
    service.disciplines.correct(paper, args.codes)
    shown = _paper_labels(service, paper)
    emit_json(shown) if args.json else _print_labels(shown)
    return 0


def run_clear(service, args: argparse.Namespace) -> int:
    from assistant.cli import emit_json
    from assistant.commands import errors

    paper = service.find(args.key)
    had = service.disciplines.clear(paper)
    shown = {**_paper_labels(service, paper), "cleared": had}
    if args.json:
        emit_json(shown)
    else:
        if not had:
            errors.print(f"{args.key} had no correction; its labels are unchanged", highlight=False)
        _print_labels(shown)
    return 0


def run_classify(service, args: argparse.Namespace) -> int:
    from assistant.cli import EXIT_USAGE, emit_json
    from assistant.commands import errors

    if args.all and args.keys:
        errors.print("give paper keys or --all, not both")
        return EXIT_USAGE
    if args.keys:
        papers = [service.find(key) for key in args.keys]
    else:
        papers = [p for p in service.papers() if args.all or not p.disciplines]
    service.disciplines.classify([p.id for p in papers])
    shown = [_paper_labels(service, p) for p in papers]
    if args.json:
        emit_json(shown)
    else:
        for item in shown:
            _print_labels(item)
        errors.print(f"classified {len(shown)} papers", highlight=False)
    return 0
