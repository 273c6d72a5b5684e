"""Score answers on a question file (the format of ../shared/eval/dev_questions.jsonl).

Usage::

    python eval/score_answers.py [--library DIR] [--questions FILE ...] [--calibrate] [--types ...]

Ingests ../shared/corpus/pdfs into DIR first (a no-op when already there), then per question type
and language prints:

- ``cited``: answerable questions (factoid, multi, xling) whose answer cites a passage containing
  gold evidence (lenient matching, eval/evidence.py); for multi also ``all-gold`` (every gold
  passage cited);
- ``quotes``: citations whose quote really is in the cited passage (normalised containment);
- ``declined``: abstain questions declined, and answerable questions wrongly declined;
- ``keywords``: for summary questions, the share of gold keywords found in the summary of the paper
  the question names (found by retrieval, not taken from the gold);
- latency p50/p95 of ``ask`` once the models are loaded.

``--calibrate`` first fits the abstention model (assistant/abstention.py) on these questions:
logistic regression on the evidence measurements in abstention.FEATURES, threshold set so that at most
``--max-false-decline`` of answerable questions are declined; it prints a leave-one-out estimate
(each question judged by a model fitted without it) before writing abstain_model.json. The shipped
model is fitted on the dev questions and the project's own (``CALIBRATION_HINT``): 27 more
answerable questions of the kinds the dev set has fewest of.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant import abstention  # noqa: E402
from assistant.extractive import strip_markers  # noqa: E402
from assistant.service import Souwen  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from eval.evidence import CORPUS, QUESTIONS, contains_evidence, load_questions, normalise  # noqa: E402

ANSWERABLE = ("factoid", "multi", "xling")


def features(service: Souwen, questions: list[dict]) -> list[tuple[dict, list[float]]]:
    out = []
    for q in questions:
        if q["type"] in ANSWERABLE + ("abstain",):
            _, _, s = service.answerer.gather(q["question"])
            values = s.features()
            out.append((q, [values[name] for name in abstention.FEATURES]))
    return out


CALIBRATION_HINT = "../shared/eval/dev_questions.jsonl eval/xling_en_questions.jsonl eval/multi_questions.jsonl"


def calibrate(service: Souwen, questions: list[dict], max_false_decline: float) -> abstention.AbstainModel:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rows = features(service, questions)
    x = np.array([f for _, f in rows])
    y = np.array([0 if q["type"] == "abstain" else 1 for q, _ in rows])

    def fit(xs, ys):
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(xs, ys)
        probs = model.predict_proba(xs)[:, 1]
        answerable = np.sort(probs[ys == 1])
        # the highest threshold that declines at most max_false_decline of the answerable questions,
        # midway between the last answerable question it declines and the first it keeps: 1e-6 below
        # that one, a rounding of the int8 sentence scores could decline it too
        cut = int(np.floor(max_false_decline * len(answerable)))
        if cut >= len(answerable):
            return model, 0.5
        below = float(answerable[cut - 1]) if cut else float(answerable[cut]) - 0.02
        return model, (below + float(answerable[cut])) / 2

    decisions = []
    for i in range(len(rows)):  # leave-one-out: an honest estimate for unseen questions
        keep = np.arange(len(rows)) != i
        model, threshold = fit(x[keep], y[keep])
        decisions.append(model.predict_proba(x[i:i + 1])[0, 1] < threshold)
    decisions = np.array(decisions)
    loo_abstain = decisions[y == 0].mean()
    loo_false = decisions[y == 1].mean()
    model, threshold = fit(x, y)
    probs = model.predict_proba(x)[:, 1]
    fit_abstain = (probs[y == 0] < threshold).mean()
    fit_false = (probs[y == 1] < threshold).mean()
    note = (f"fitted on {len(rows)} questions ({int((y == 0).sum())} abstain): declines "
            f"{fit_abstain:.0%} of abstain and {fit_false:.0%} of answerable; leave-one-out "
            f"{loo_abstain:.0%} / {loo_false:.0%}")
    print("calibration:", note)
    weights = {name: round(float(w), 4) for name, w in zip(abstention.FEATURES, model.coef_[0])}
    fitted = abstention.AbstainModel(weights=weights, bias=round(float(model.intercept_[0]), 4),
                                     threshold=round(threshold, 4), note=note)
    abstention.save_model(fitted)
    return fitted


def quote_in_passage(quote: str, passage: str) -> bool:
    return normalise(quote) in normalise(passage) or normalise(quote).replace(" ", "") in normalise(passage).replace(" ", "")


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACED_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d.,])")  # "1 000" (NFKC makes thin spaces plain)


def numbers_in(text: str) -> set[str]:
    """The numbers a text states ("4,809", "4 809" and "4809" alike; "0.742"), for the
    reference-answer check. A space-separated group also counts as its parts ("Table 2 100 cells")."""
    text = unicodedata.normalize("NFKC", text)
    spaced = {n.replace(" ", "") for n in _SPACED_THOUSANDS.findall(text)}
    return {n.replace(",", "") for n in _NUMBER.findall(text)} | spaced


def states_reference_numbers(answer: str, reference: str) -> float | None:
    """Share of the reference answer's numbers that the answer states; None when it has none.

    A second view of answer quality beside "cited gold": an answer that quotes an equivalent
    sentence ("covers 97% of all possible ... variants" for the gold "9003 of the 9280 (97%)")
    misses the gold passage but states the answer."""
    wanted = numbers_in(reference)
    return len(wanted & numbers_in(strip_markers(answer))) / len(wanted) if wanted else None


def score(service: Souwen, questions: list[dict]) -> None:
    table: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    latencies = []
    for q in questions:
        key = (q["type"], q["lang"])
        if q["type"] == "summary":
            table[key]["keywords"].append(summary_keywords(service, q))
            continue
        if q["type"] not in ANSWERABLE + ("abstain",):
            continue
        start = time.perf_counter()
        answer = service.ask(q["question"])
        latencies.append(time.perf_counter() - start)
        chunks = service.library.catalogue.chunks_by_id([c.chunk_id for c in answer.citations])
        cited = [chunks[c.chunk_id].text for c in answer.citations if c.chunk_id in chunks]
        for c in answer.citations:
            table[key]["quotes"].append(c.chunk_id in chunks and quote_in_passage(c.quote, chunks[c.chunk_id].text))
        table[key]["declined"].append(answer.abstained)
        if q["type"] in ANSWERABLE:
            found = [any(contains_evidence(text, g["evidence"]) for text in cited) for g in q["gold"]]
            table[key]["cited"].append(any(found))
            table[key]["all-gold"].append(all(found))
            stated = states_reference_numbers(answer.text, q.get("answer", ""))
            if stated is not None and not answer.abstained:
                table[key]["numbers"].append(stated)
    print(f"{'type/lang':<14}{'n':>4}  {'cited':>7}  {'all-gold':>8}  {'numbers':>7}  {'quotes':>7}  {'declined':>8}  {'keywords':>8}")
    totals: dict[str, list] = defaultdict(list)
    for key in sorted(table):
        cells = table[key]
        n = len(cells.get("declined") or cells.get("keywords") or [])
        row = f"{key[0] + '/' + key[1]:<14}{n:>4}"
        for name, width in (("cited", 7), ("all-gold", 8), ("numbers", 7), ("quotes", 7), ("declined", 8), ("keywords", 8)):
            values = cells.get(name, [])
            row += f"  {rate(values):>{width}}"
            bucket = name if not (name == "declined" and key[0] != "abstain") else "false-declined"
            totals[bucket] += values
        print(row)
    print(f"answerable cited gold: {rate(totals['cited'])} (n={len(totals['cited'])}; target 80%)")
    print(f"answers stating the reference answer's numbers: {rate(totals['numbers'])} "
          f"(n={len(totals['numbers'])} answered questions whose reference has numbers; no target)")
    print(f"quotes in their passage: {rate(totals['quotes'])} (n={len(totals['quotes'])}; target 95%)")
    abstain = [v for (t, _), c in table.items() if t == "abstain" for v in c["declined"]]
    print(f"abstain declined: {rate(abstain)} (n={len(abstain)}; target 75%); "
          f"answerable declined: {rate(totals['false-declined'])} (target at most 10%)")
    if totals["keywords"]:
        print(f"summary keyword coverage: {rate(totals['keywords'])} (n={len(totals['keywords'])}; target 70%)")
    if latencies:
        ordered = sorted(latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"ask latency ({service.answerer.backend}): p50 {statistics.median(ordered) * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms over {len(ordered)} questions (target p50 < 150 ms)")


def summary_keywords(service: Souwen, q: dict) -> float:
    """Summarise the paper the question is about (the top paper for the question) and return the
    share of gold keywords the summary mentions."""
    hits = service.search(q["question"], k=5)
    if not hits:
        return 0.0
    summary = service.summarize([hits[0].paper.id])
    text = normalise(summary.text)
    found = [normalise(k) in text or normalise(k).replace(" ", "") in text.replace(" ", "") for k in q.get("keywords", [])]
    return sum(found) / max(1, len(found))


def rate(values: list) -> str:
    values = [float(v) for v in values]
    return f"{100 * sum(values) / len(values):.1f}%" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", type=Path, default=Path("data/eval-library"))
    parser.add_argument("--questions", type=Path, nargs="+", default=[QUESTIONS],
                        help="question files (JSONL), scored together; the abstention model is fitted on the dev "
                             "questions and the project's own: --calibrate --questions " + CALIBRATION_HINT)
    parser.add_argument("--calibrate", action="store_true", help="fit the abstention model first")
    parser.add_argument("--max-false-decline", type=float, default=0.035,
                        help="share of answerable questions the threshold may decline (the target allows 0.10). On the "
                             "137 calibration questions leave-one-out meets both targets from 0.025 to 0.06 (79%% of "
                             "abstain declined, 2-7%% of answerable); 0.035 (threshold 0.51) keeps a margin below the "
                             "near misses and answers 'Who funded the VESPA work?' (confidence 0.516), which 0.06 "
                             "(threshold 0.54) declined")
    parser.add_argument("--types", nargs="*", default=None, help="only these question types")
    args = parser.parse_args()
    service = Souwen(Settings(library=args.library))
    summary = service.ingest([CORPUS])
    print(f"library: {len(service.papers())} papers ({summary.count('added')} added now) in {args.library}")
    questions = [q for path in args.questions for q in load_questions(path)]
    if args.types:
        questions = [q for q in questions if q["type"] in args.types]
    if args.calibrate:
        calibrate(service, questions, args.max_false_decline)
    service.ask("warm-up question about the library")  # load models before timing
    service.answerer.cache.clear()  # calibration filled it with these very questions: time cold
    score(service, questions)


if __name__ == "__main__":
    main()
