"""Score `search` on the dev questions: is a passage with the gold evidence in the top k?

Usage::

    python eval/score_retrieval.py [--library DIR] [--k 5] [--ablate] [--questions FILE]

Ingests ../shared/corpus/pdfs into DIR first (a no-op when already there), then for every
factoid / xling / multi question checks whether one of the top-k passages contains the gold evidence (lenient matching, eval/evidence.py). Prints the rate per
question type and language; ``--ablate`` also prints dense-only and BM25-only rates and a sweep
of the dense weight, which is how ``RetrievalSettings.dense_weight_*`` were calibrated.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.retrieval import retrieve  # noqa: E402
from assistant.service import Souwen  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from eval.evidence import CORPUS, contains_evidence, load_questions  # noqa: E402

TYPES = ("factoid", "xling", "multi")


def score(service: Souwen, questions: list[dict], k: int, retrieval=None) -> dict[tuple[str, str], list[float]]:
    """Per (type, lang): one value per question, the share of its gold entries found in the top k."""
    results: dict[tuple[str, str], list[float]] = defaultdict(list)
    for q in questions:
        if q["type"] not in TYPES:
            continue
        # None: what `souwen search` returns (retrieval, then the sentence re-ranking)
        hits = (service.search(q["question"], k=k) if retrieval is None
                else retrieve(service.library, service.embedder, q["question"], retrieval, k=k))
        found = 0
        for gold in q["gold"]:
            # Evidence containment decides, not the DOI: two ACL papers print no DOI at all.
            if any(contains_evidence(h.chunk.text, gold["evidence"]) for h in hits):
                found += 1
        results[(q["type"], q["lang"])].append(found / max(1, len(q["gold"])))
    return results


def print_rates(label: str, results: dict[tuple[str, str], list[float]]) -> None:
    cells = []
    for key in sorted(results):
        values = results[key]
        cells.append(f"{key[0]}/{key[1]} {100 * sum(values) / len(values):5.1f}% (n={len(values)})")
    print(f"{label:<22} " + " | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", type=Path, default=Path("data/eval-library"))
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--ablate", action="store_true")
    parser.add_argument("--questions", type=Path, default=None,
                        help="another question file of the same format (default: the shared dev questions); "
                        "eval/xling_en_questions.jsonl holds English questions on the corpus's Chinese papers")
    args = parser.parse_args()
    if not CORPUS.exists():
        sys.exit(f"the shared corpus is not at {CORPUS}")
    service = Souwen(Settings(library=args.library))
    summary = service.ingest([CORPUS])
    print(f"library: {len(service.papers())} papers ({summary.count('added')} added now, "
          f"{len(summary.failed)} failed) in {args.library}")
    questions = load_questions(args.questions) if args.questions else load_questions()
    started = time.perf_counter()
    results = score(service, questions, args.k)
    elapsed = time.perf_counter() - started
    print(f"top-{args.k} evidence hit rate")
    print_rates("search (settings)", results)
    if args.ablate:
        base = service.settings.retrieval
        print_rates("fused, no sentence rerank", score(service, questions, args.k, base))
        for weight in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0):
            tuned = base.model_copy(update={"dense_weight_en": weight, "dense_weight_zh": weight})
            print_rates(f"dense weight {weight:.1f}", score(service, questions, args.k, tuned))
    n = sum(len(v) for v in results.values())
    print(f"{n} questions, {1000 * elapsed / max(1, n):.0f} ms per search")


if __name__ == "__main__":
    main()
