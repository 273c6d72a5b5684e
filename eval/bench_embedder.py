"""Benchmarks the embedding backends on the shared corpus: speed, memory, and quality vs torch fp32.

Usage: `python eval/bench_embedder.py [--limit N] [--sweep]`. Text is PyMuPDF page text of
../shared/corpus/pdfs/*.pdf cut into windows of ~200 word-pieces (self-contained on purpose: the
project's parser is not used). Each configuration runs in its own subprocess so peak RSS is its own;
the subprocess writes its vectors, and the parent compares them with torch fp32: mean/min cosine
per window, and top-5 retrieval hit rate over the English factoid dev questions (a hit is a window
holding most of the gold evidence's word 5-grams, matched leniently).

`--sweep` adds speed-only runs (best of 2) on the first 500 windows: batch sizes 16/32/64/128, onnxruntime
intra-op threads 1 vs 2 and graph optimisation level basic vs all, torch without length sorting.

Figures measured on the 2-core dev VM are copied into embeddings/sentence.py next to DEFAULT_BACKEND.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from eval.evidence import contains_evidence, load_questions as load_dev_questions  # noqa: E402

SHARED = ROOT.parent / "shared"
WINDOW = 200  # word-pieces per window, below MiniLM's 254 so nothing is truncated
MAIN_RUNS = [("torch", 32, True), ("onnx-opt", 32, True), ("onnx-int8", 32, True), ("onnx-opt-int8", 32, True)]
SWEEP_SIZE = 500  # windows; speed-only runs (the shared VM was loaded, so keep each run short)


def cut_windows(tokenizer, pdf_dir: Path) -> list[dict]:
    """Page text -> consecutive windows of WINDOW word-pieces, cut at token offsets."""
    import pymupdf  # only the benchmark reads PDFs directly; the project's parser is in ingest/

    manifest = {m["file"]: m["doi"].lower() for m in json.loads((pdf_dir.parent / "manifest.json").read_text())}
    windows = []
    for pdf in sorted(pdf_dir.glob("*.pdf")):
        with pymupdf.open(pdf) as doc:
            for page_no, page in enumerate(doc, start=1):
                text = page.get_text()
                enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
                offsets = enc["offset_mapping"]
                for start in range(0, len(offsets), WINDOW):
                    span = offsets[start:start + WINDOW]
                    windows.append({"doi": manifest.get(pdf.name, pdf.stem), "page": page_no,
                                    "text": text[span[0][0]:span[-1][1]]})
    return windows


def load_questions(windows: list[dict]) -> list[dict]:
    """English factoid dev questions with the indices of the windows holding their evidence."""
    questions = []
    for q in load_dev_questions():
        if q["type"] != "factoid" or q["lang"] != "en":
            continue
        gold = set()
        for g in q["gold"]:
            gold |= {i for i, w in enumerate(windows)
                     if w["doi"] == g["doi"].lower() and contains_evidence(w["text"], g["evidence"])}
        questions.append({"question": q["question"], "gold": sorted(gold)})
    return questions


def run_worker(args: argparse.Namespace) -> None:
    """Child process: embed the windows with one configuration, save vectors and stats."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    sys.path.insert(0, str(ROOT))
    if args.ort_level or args.threads:
        patch_onnxruntime(args.ort_level)
    from embeddings.sentence import SentenceTransformerEmbedder

    data = json.loads(Path(args.data).read_text())
    texts = data["texts"][: args.limit or None]
    emb = SentenceTransformerEmbedder(backend=args.backend, batch_size=args.batch, cache_dir=Path(args.cache),
                                      threads=args.threads or None, sort_by_length=args.sort)
    emb.embed_documents(texts[:8])  # load + warm-up, not timed
    pieces = sum(emb.count_tokens(texts))
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        vectors = emb.embed_documents(texts)
        best = min(best, time.perf_counter() - start)
    queries = np.stack([emb.embed_query(q) for q in data["questions"]]) if data["questions"] else None
    np.save(args.out + ".docs.npy", vectors)
    if queries is not None:
        np.save(args.out + ".queries.npy", queries)
    stats = {"seconds": best, "chunks": len(texts), "pieces": pieces,
             "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    Path(args.out + ".json").write_text(json.dumps(stats))


def patch_onnxruntime(level: str) -> None:
    """Make every InferenceSession use the requested graph optimisation level (sweep only)."""
    import onnxruntime as ort

    original = ort.InferenceSession
    levels = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
              "off": ort.GraphOptimizationLevel.ORT_DISABLE_ALL}

    def session(path, options=None, **kwargs):
        if options is not None and level:
            options.graph_optimization_level = levels[level]
        return original(path, options, **kwargs)

    ort.InferenceSession = session


def spawn(data: Path, work: Path, cache: Path, backend: str, batch: int, sort: bool, limit: int = 0,
          threads: int = 0, ort_level: str = "", repeat: int = 1) -> dict:
    out = work / f"{backend}-b{batch}-s{int(sort)}-l{limit}-t{threads}-{ort_level}"
    cmd = [sys.executable, __file__, "--worker", "--data", str(data), "--cache", str(cache), "--out", str(out),
           "--backend", backend, "--batch", str(batch), "--limit", str(limit), "--threads", str(threads),
           "--ort-level", ort_level, "--repeat", str(repeat)] + (["--sort"] if sort else [])
    if not Path(str(out) + ".json").exists():  # --work DIR resumes an interrupted run
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    stats = json.loads(Path(str(out) + ".json").read_text())
    stats["docs"] = np.load(str(out) + ".docs.npy")
    queries = Path(str(out) + ".queries.npy")
    stats["queries"] = np.load(queries) if queries.exists() else None
    return stats


def hit_rate(docs: np.ndarray, queries: np.ndarray, questions: list[dict], k: int = 5) -> float:
    scored = [q for q in questions if q["gold"]]
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :k]
    hits = sum(bool(set(top[i]) & set(q["gold"])) for i, q in enumerate(questions) if q["gold"])
    return 100.0 * hits / max(1, len(scored))


def print_row(label: str, s: dict, ref: dict | None, questions: list[dict]) -> None:
    speed = f"{s['chunks'] / s['seconds']:8.1f} {s['pieces'] / s['seconds']:9.0f} {s['seconds']:7.1f} {s['rss_mb']:7.0f}"
    if ref is None or s["queries"] is None:
        print(f"{label:28s} {speed}")
        return
    n = len(s["docs"])
    cos = np.sum(s["docs"] * ref["docs"][:n], axis=1)
    print(f"{label:28s} {speed} {cos.mean():8.4f} {cos.min():8.4f} {hit_rate(s['docs'], s['queries'], questions):6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="also run the speed-only sweeps")
    parser.add_argument("--data"), parser.add_argument("--out"), parser.add_argument("--cache")
    parser.add_argument("--backend", default="torch"), parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--sort", action="store_true"), parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0), parser.add_argument("--ort-level", default="")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", help="working directory to reuse (skips finished configurations)")
    args = parser.parse_args()
    if args.worker:
        return run_worker(args)

    os.environ["HF_HUB_OFFLINE"] = "1"
    sys.path.insert(0, str(ROOT))
    from embeddings.sentence import SentenceTransformerEmbedder

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-embedder-"))
    cache = Path(args.cache) if args.cache else work / "onnx-cache"
    tokenizer = SentenceTransformerEmbedder().tokenizer
    windows = cut_windows(tokenizer, SHARED / "corpus" / "pdfs")
    if args.limit:
        windows = windows[: args.limit]
    questions = load_questions(windows)
    data = work / "windows.json"
    data.write_text(json.dumps({"texts": [w["text"] for w in windows], "questions": [q["question"] for q in questions]}))
    found = sum(bool(q["gold"]) for q in questions)
    print(f"{len(windows)} windows; {found}/{len(questions)} en factoid questions have a gold window")

    header = f"{'config':28s} {'chunks/s':>8s} {'wp/s':>9s} {'secs':>7s} {'rss_MB':>7s} {'cos_mean':>8s} {'cos_min':>8s} {'top5%':>6s}"
    print(header)
    ref = None
    for backend, batch, sort in MAIN_RUNS:
        stats = spawn(data, work, cache, backend, batch, sort)
        ref = ref or stats
        print_row(f"{backend} b{batch}{'' if sort else ' unsorted'}", stats, ref, questions)
    if args.sweep:
        sub = SWEEP_SIZE
        runs = [("torch", 32, True, 0, ""), ("torch", 32, False, 0, ""), ("onnx", 32, True, 0, "")]
        runs += [(b, n, True, 0, "") for b in ("onnx-opt", "onnx-opt-int8") for n in (16, 32, 64, 128)]
        runs += [("onnx-opt-int8", 32, True, 1, "all"), ("onnx-opt-int8", 32, True, 2, "basic"),
                 ("onnx-int8", 32, True, 2, "all")]
        for backend, batch, sort, threads, level in runs:
            label = f"[{sub}] {backend} b{batch}{'' if sort else ' unsorted'}{f' t{threads} {level}' if threads else ''}"
            print_row(label, spawn(data, work, cache, backend, batch, sort, sub, threads, level, repeat=2), None, questions)

if __name__ == "__main__":
    main()
