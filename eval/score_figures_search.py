"""Score figure search on the `figure` questions of a question file: is the gold figure (same DOI
and page, caption matching the gold caption) among the top k results?

Usage::

    python eval/score_figures_search.py [--library DIR] [--k 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.service import Souwen  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from eval.evidence import CORPUS, QUESTIONS, contains_evidence, load_questions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", type=Path, default=Path("data/eval-library"))
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    service = Souwen(Settings(library=args.library))
    service.ingest([CORPUS])
    questions = [q for q in load_questions(args.questions) if q["type"] == "figure"]
    service.figures("warm up", k=1)
    found: dict[str, list[bool]] = defaultdict(list)
    times = []
    for q in questions:
        start = time.perf_counter()
        hits = service.figures(q["question"], k=args.k)
        times.append(time.perf_counter() - start)
        gold = q["gold"][0]
        found[q["lang"]].append(any(
            (not gold["doi"] or h.paper.doi == gold["doi"].lower()) and h.page == gold["page"]
            and contains_evidence(f"{h.label} {h.caption}", gold["evidence"], 0.5) for h in hits))
    for lang, values in sorted(found.items()):
        print(f"figure/{lang}: gold figure in top {args.k}: {100 * sum(values) / len(values):.1f}% (n={len(values)})")
    allv = [v for vs in found.values() for v in vs]
    print(f"all: {100 * sum(allv) / len(allv):.1f}% (n={len(allv)}; target 85%), "
          f"{1000 * sorted(times)[len(times) // 2]:.0f} ms median per search")


if __name__ == "__main__":
    main()
