"""Benchmark: ingest generated OA metadata records (JSONL) into a fresh library and print records/s.

    python eval/bench_records.py                 # 3000 records, real MiniLM
    python eval/bench_records.py -n 10000 --embedder hashing

The records are synthetic (titles and 1-3 sentence-repeats of an abstract, 10% Chinese) but
shaped like an export: DOIs, authors, years, venues, licences, OA URLs. Reported: storing time
(read, chunk, embed in batches, one transaction per record, indexes rebuilt once), the time of
the after-ingest steps (disciplines, topics) apart, records/s and chunks/s, and the number of
embedder calls (one per batch of assistant.records.BATCH records, never one per record).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOPICS = ["soil organic carbon under no-till farming", "wheat stem rust resistance genes", "coral bleaching and "
          "sea surface temperature", "graph neural networks for molecules", "lithium iron phosphate battery ageing"]
ZH_TOPICS = ["水稻病害的图像识别", "城市交通流量预测", "土壤重金属污染修复"]


def generate(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        if i % 10 == 9:
            topic = ZH_TOPICS[i % 3]
            abstract = f"本文研究{topic}。在{3 + i % 11}个试验点上，方法的准确率达到百分之{60 + i % 37}。" * (1 + i % 3)
            rows.append({"doi": f"10.9999/bench.{i}", "title": f"{topic}研究（{i}）", "abstract": abstract,
                         "authors": "张三; 李四", "year": 2000 + i % 24, "venue": "测试学报"})
            continue
        topic = TOPICS[i % 5]
        abstract = (f"We report measurement {i} on {topic}. The effect size was {i % 97} percent across "
                    f"{3 + i % 11} sites, and it held in {i % 7 + 1} of seven years. ") * (1 + i % 3)
        rows.append({"doi": f"10.9999/bench.{i}", "title": f"Study {i} of {topic}", "abstract": abstract,
                     "authors": [f"Author {i % 50}", f"Author {(i + 7) % 50}"], "year": 2000 + i % 24,
                     "journal": "Journal of Benchmarks", "license": "CC-BY-4.0",
                     "oa_url": f"https://example.org/bench/{i}.pdf"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="records to generate (default 3000)")
    parser.add_argument("--embedder", default="minilm", help="minilm (default) or hashing")
    args = parser.parse_args()

    from assistant.records import BATCH
    from assistant.service import Souwen
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        with open(path, "w", encoding="utf-8") as handle:
            for row in generate(args.n):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        service = Souwen(Settings(library=Path(tmp) / "library", embedder={"model": args.embedder}))
        service.embedder.embed_documents(["warm-up"])  # model load is not part of the rate
        calls = []
        inner = service.embedder.embed_documents

        def counted(texts, progress=None):
            calls.append(len(texts))
            return inner(texts, progress)

        service.embedder.embed_documents = counted
        after_ingest, after_seconds = service.after_ingest, []

        def timed_after(ids):
            start = time.perf_counter()
            after_ingest(ids)
            after_seconds.append(time.perf_counter() - start)

        service.after_ingest = timed_after
        started = time.perf_counter()
        summary = service.ingest_records([path])
        total = time.perf_counter() - started
        chunks = service.library.catalogue.counts()["chunks"]
        store_calls = calls[: -(-args.n // BATCH)]
        print(f"records: {args.n} ({summary.count('added')} added, {summary.count('failed')} failed), "
              f"{chunks} chunks, embedder {service.embedder.id}")
        print(f"storing: {summary.seconds:.1f} s = {args.n / summary.seconds:.0f} records/s, "
              f"{chunks / summary.seconds:.0f} chunks/s; {len(store_calls)} embedder calls for {args.n} records")
        print(f"after-ingest (disciplines, topics): {sum(after_seconds):.1f} s; "
              f"total {total:.1f} s = {args.n / total:.0f} records/s")
        service.close()


if __name__ == "__main__":
    main()
