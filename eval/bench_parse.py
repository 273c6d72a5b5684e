"""Time `ingest.parse.parse_pdf` on the shared corpus in CPU seconds, total and per stage.

Usage: python eval/bench_parse.py [--corpus ../shared/corpus/pdfs] [--repeat 1] [--profile N]
Prints CPU seconds (`time.process_time`, so a benchmark running beside this one does not skew
it), pages per CPU second, and the CPU time of each stage that parse_pdf calls (figures, layout,
metadata, tables, page reading), measured by wrapping the functions parse_pdf imports. With
`--profile N` it also prints the N costliest functions from cProfile (slower by ~1.5x).
Leaves out: OCR cost (the corpus has a text layer on every page) and wall-clock time.
"""
from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest.parse as parse  # noqa: E402

_STAGES = {"figures": "extract_figures", "layout": "extract_blocks", "metadata": "extract_metadata",
           "tables": "extract_tables", "page reading": "read_pages"}


def time_stages(spent: dict[str, float]) -> None:
    """Wrap the stage functions parse_pdf calls so that each call adds its CPU time to `spent`."""
    for stage, name in _STAGES.items():
        fn = getattr(parse, name, None)
        if fn is None:
            continue

        def timed(*args, _fn=fn, _stage=stage, **kwargs):
            start = time.process_time()
            try:
                return _fn(*args, **kwargs)
            finally:
                spent[_stage] += time.process_time() - start

        setattr(parse, name, functools.wraps(fn)(timed))


def main() -> int:
    """Parse every corpus PDF `--repeat` times; print totals and stages."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pdfs")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    args = ap.parse_args()
    files = sorted(args.corpus.glob("*.pdf"))
    if not files:
        print(f"no PDFs in {args.corpus}", file=sys.stderr)
        return 1
    spent: dict[str, float] = defaultdict(float)
    time_stages(spent)
    prof = cProfile.Profile() if args.profile else None
    pages = 0
    start = time.process_time()
    for _ in range(args.repeat):
        for path in files:
            if prof:
                prof.enable()
            paper = parse.parse_pdf(path)
            if prof:
                prof.disable()
            pages += paper.page_count
    cpu = time.process_time() - start
    print(f"{len(files)} files x {args.repeat}, {pages} pages: {cpu:.2f} s CPU = {pages / cpu:.1f} pages/CPU-s")
    for stage, secs in spent.items():
        print(f"  {stage:<13} {secs:6.2f} s")
    rest = cpu - sum(spent.values()) if "page reading" not in spent else None
    if rest is not None:
        print(f"  {'other':<13} {rest:6.2f} s")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
