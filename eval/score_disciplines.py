"""Score the discipline classifier (assistant.disciplines) against the hand labels of the shared
corpus (tests/platform/discipline_labels.json): top-1 accuracy against `primary` (strict) and
against `primary` + `also` (lenient), overall and per language, with the confusions.

Read-only: labels are predicted in memory, nothing is written to the library.

    python eval/score_disciplines.py [--library data/eval-library] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LABELS = REPO / "tests" / "platform" / "discipline_labels.json"


def score(service, labels_path: Path = LABELS) -> dict:
    """Predictions and accuracies for the labelled papers found in the service's library."""
    from assistant.discipline_model import DisciplineVectors, predict
    from assistant.disciplines import catalogue

    gold = {e["sha256"]: e for e in json.loads(labels_path.read_text(encoding="utf-8"))["papers"]}
    papers = [p for p in service.library.catalogue.papers() if p.sha256 in gold]
    predicted = predict(papers, DisciplineVectors(service.embedder, None))
    names = catalogue()
    rows = []
    for paper, labels in zip(papers, predicted):
        g = gold[paper.sha256]
        firsts = [label for label in labels if len(label.code) == 4]
        top = firsts[0].code
        rows.append({"doi": paper.doi, "title": paper.title[:70], "lang": g["lang"], "primary": g["primary"],
                     "also": g["also"], "top": top, "top_name": names[top].zh, "confidence": round(firsts[0].confidence, 3),
                     "labels": [[label.code, round(label.confidence, 3)] for label in labels],
                     "strict": top == g["primary"], "lenient": top in [g["primary"], *g["also"]]})
    summary = {}
    for lang in ("all", "en", "zh"):
        chosen = [r for r in rows if lang == "all" or r["lang"] == lang]
        if chosen:
            summary[lang] = {"n": len(chosen), "strict": sum(r["strict"] for r in chosen) / len(chosen),
                             "lenient": sum(r["lenient"] for r in chosen) / len(chosen)}
    confusions = Counter((r["primary"], r["top"]) for r in rows if not r["strict"])
    return {"summary": summary, "papers": rows, "missing": len(gold) - len(papers),
            "confusions": [{"gold": g, "predicted": p, "n": n} for (g, p), n in confusions.most_common()]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=REPO / "data" / "eval-library")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from assistant.service import Souwen
    from assistant.settings import Settings

    service = Souwen(Settings(library=args.library))
    try:
        result = score(service)
    finally:
        service.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    for r in result["papers"]:
        mark = "ok " if r["strict"] else ("~  " if r["lenient"] else "XX ")
        print(f"{mark} {r['lang']} gold {r['primary']} top {r['top']} {r['top_name']:<10} {r['labels']}  {r['title']}")
    print()
    for lang, s in result["summary"].items():
        print(f"{lang:>3}: n={s['n']:>2}  top-1 strict {s['strict']:.1%}  lenient {s['lenient']:.1%}")
    if result["confusions"]:
        print("confusions (gold -> predicted):", ", ".join(f"{c['gold']}->{c['predicted']} x{c['n']}"
                                                          for c in result["confusions"]))
    if result["missing"]:
        print(f"{result['missing']} labelled papers are not in the library")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
