"""The answering sub-commands of `souwen`: ask, chat, summarize, keypoints, review.

Text output is an answer with [n] markers and a reference list of https://doi.org/ links (quotes
and pages under each); ``--json`` prints the documented schema (``answer_json`` / ``report_json``,
shared with the API); ``--bib FILE`` writes BibTeX for the cited papers. ``ask --batch FILE`` reads
JSONL (a ``question`` per line, optional ``doi`` list, ``year``, ``k``) and prints one JSON answer per
line, loading the models once; a bad line gives ``{"line": n, "error": ...}`` and the batch goes on.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.console import Console

from assistant.citations import doi_link
from assistant.cli import emit_json
from assistant.commands import hint_if_empty, stdout_console
from assistant.retrieval import Filters, parse_years
from assistant.service import Souwen
from assistant.summaries import Report
from assistant.types import Answer, Citation, Paper

console = stdout_console(highlight=False)  # piped review tables keep their DOIs whole too
errors = Console(stderr=True, highlight=False)


# -- JSON schema --------------------------------------------------------------------------
def citation_json(c: Citation) -> dict:
    return {"n": c.n, "doi": c.doi, "title": c.title, "page": c.page, "quote": c.quote, "chunk_id": c.chunk_id,
            "paper_id": c.paper_id, "supported": c.supported, "support": c.support, "url": doi_link(c.doi)}


def paper_ref_json(p: Paper) -> dict:
    return {"paper_id": p.id, "doi": p.doi, "title": p.title, "year": p.year, "url": doi_link(p.doi)}


def answer_json(a: Answer) -> dict:
    return {
        "question": a.question, "answer": a.text, "abstained": a.abstained, "confidence": a.confidence,
        "backend": a.backend, "citations": [citation_json(c) for c in a.citations],
        "evidence": [{"chunk_id": h.chunk.id, "paper_id": h.paper.id, "doi": h.paper.doi, "title": h.paper.title,
                      "page": h.chunk.page_start, "page_end": h.chunk.page_end, "section": h.chunk.section,
                      "text": h.chunk.text, "score": round(h.score, 6)} for h in a.evidence],
        "verification": {"checked": a.checked, "unsupported": list(a.unsupported)},
        "closest_papers": [paper_ref_json(p) for p in a.closest],
        "standalone_question": a.standalone_question,
    }


def report_json(r: Report) -> dict:
    return {"kind": r.kind, "title": r.title, "backend": r.backend,
            "sections": [{"heading": h, "text": t} for h, t in r.sections],
            "table": [list(row) for row in r.table], "citations": [citation_json(c) for c in r.citations],
            "papers": [paper_ref_json(p) for p in r.papers]}


# -- BibTeX -------------------------------------------------------------------------------
def bibtex(papers: Iterable[Paper]) -> str:
    entries, keys = [], set()
    for p in papers:
        surname = re.sub(r"\W", "", (p.authors[0].split()[-1] if p.authors else "")) or "paper"
        word = next((w for w in re.findall(r"[A-Za-z]{4,}", p.title)), "")
        key = f"{surname.lower()}{p.year or ''}{word.lower()}" or p.id
        while key in keys:
            key += "a"
        keys.add(key)
        fields = {"title": p.title, "author": " and ".join(p.authors), "year": p.year or "", "journal": p.venue,
                  "doi": p.doi, "url": doi_link(p.doi)}
        body = ",\n".join(f"  {k} = {{{_bib_escape(str(v))}}}" for k, v in fields.items() if v)
        entries.append(f"@article{{{key},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def _bib_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")


def write_bib(service: Souwen, citations: Sequence[Citation], path: Path | None) -> None:
    if path is None:
        return
    papers = {c.paper_id: service.library.catalogue.paper(c.paper_id) for c in citations}
    path.write_text(bibtex(p for p in papers.values() if p), encoding="utf-8")
    errors.print(f"wrote BibTeX for {len(papers)} papers to {path}")


# -- text output --------------------------------------------------------------------------
def print_references(citations: Sequence[Citation]) -> None:
    if not citations:
        return
    console.print("\nReferences")
    for c in citations:
        flag = "" if c.supported else "  (not supported by the passage)"
        console.print(f"[{c.n}] {c.title or c.doi or c.paper_id}, p. {c.page}. {doi_link(c.doi) or 'no DOI'}{flag}",
                      markup=False, soft_wrap=True)
        console.print(f"    “{c.quote[:300]}{'…' if len(c.quote) > 300 else ''}”", markup=False, soft_wrap=True)


def print_answer(a: Answer) -> None:
    # Prose is printed unwrapped (soft_wrap): rich wraps only at spaces, which Chinese text has
    # just around Latin words, so a sentence broke after "CPU " and again after "30% ". The
    # terminal wraps long lines itself; a file or pipe gets one line per paragraph.
    console.print(a.text, markup=False, soft_wrap=True)
    if a.abstained and a.closest:
        console.print("\nClosest papers:")
        for p in a.closest:
            console.print(f"- {p.title or p.id} ({p.year or 'n.d.'}) {doi_link(p.doi)}", markup=False)
    if a.unsupported:
        console.print(f"\n({len(a.unsupported)} of {a.checked} sentences were not supported by their passages "
                      "and were removed or flagged)")
    print_references(a.citations)


def print_report(r: Report) -> None:
    console.print(r.title, markup=False, style="bold")
    for heading, text in r.sections:
        console.print(f"\n{heading}", style="bold", markup=False)
        console.print(text, markup=False, soft_wrap=True)
    if r.table:
        from rich.table import Table

        table = Table(*r.table[0], show_lines=True)
        for row in r.table[1:]:
            table.add_row(*[cell[:240] for cell in row])
        console.print(table)
    print_references(r.citations)


# -- commands -----------------------------------------------------------------------------
def filters_from(args: argparse.Namespace) -> Filters:
    from assistant.disciplines import check_codes

    first, last = parse_years(getattr(args, "year", None))
    return Filters(dois=tuple(getattr(args, "doi", []) or ()), year_from=first, year_to=last,
                   disciplines=check_codes(getattr(args, "discipline", []) or ()))


def run_ask(service: Souwen, args: argparse.Namespace) -> int:
    if args.batch:
        return _ask_batch(service, args.batch)
    if not args.question:
        raise ValueError("give a question, or --batch FILE")
    filters = filters_from(args)
    if args.json:
        answer = service.ask(args.question, k=args.k, filters=filters)
        emit_json(answer_json(answer))
    else:
        answer = None
        for piece in service.ask_stream(args.question, k=args.k, filters=filters):
            if isinstance(piece, Answer):
                answer = piece
            elif sys.stdout.isatty():
                console.print(piece, end="", markup=False)
        if sys.stdout.isatty():
            console.print("\n")
        print_answer(answer)
        if answer.abstained:
            hint_if_empty(service)
    write_bib(service, answer.citations, args.bib)
    return 0


def _ask_batch(service: Souwen, path: Path) -> int:
    handle = sys.stdin if str(path) == "-" else open(path, encoding="utf-8")
    failed = 0
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                    raise ValueError("each line must be a JSON object with a 'question' string")
                first, last = parse_years(item.get("year"))
                filters = Filters(dois=tuple(item.get("doi") or ()), year_from=first, year_to=last)
                emit_json({"line": number, **answer_json(service.ask(item["question"], k=item.get("k"), filters=filters))})
            except (ValueError, TypeError) as exc:
                failed += 1
                emit_json({"line": number, "error": str(exc)})
    return 2 if failed else 0


def run_chat(service: Souwen, args: argparse.Namespace) -> int:
    """Read questions from stdin (a terminal or a pipe); each follow-up sees the turns before it."""
    history: list[Answer] = []
    interactive = sys.stdin.isatty()
    if interactive:
        errors.print("souwen chat: ask about your papers; /reset forgets the conversation, /quit (or Ctrl-D) ends.")
    while True:
        if interactive:
            errors.print("\n> ", end="")
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question in ("/quit", "/exit"):
            break
        if question == "/reset":
            history.clear()
            continue
        try:
            answer = service.ask(question, history=history)
        except ValueError as exc:  # too long, or nothing to look for: say so, the conversation goes on
            if args.json:
                emit_json({"error": str(exc)})
            else:
                errors.print(f"souwen: {exc}")
            continue
        history.append(answer)
        if args.json:
            emit_json(answer_json(answer))
        else:
            print_answer(answer)
    return 0


def run_summarize(service: Souwen, args: argparse.Namespace) -> int:
    return _report(service, args, service.summarize(args.keys))


def run_keypoints(service: Souwen, args: argparse.Namespace) -> int:
    return _report(service, args, service.keypoints(args.keys, n=args.n))


def run_review(service: Souwen, args: argparse.Namespace) -> int:
    return _report(service, args, service.review(args.topic, n=args.n, filters=filters_from(args)))


def _report(service: Souwen, args: argparse.Namespace, report: Report) -> int:
    if args.json:
        emit_json(report_json(report))
    else:
        print_report(report)
    write_bib(service, report.citations, args.bib)
    return 0
