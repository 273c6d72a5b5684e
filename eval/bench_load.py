"""Load benchmark of the HTTP API on loopback: many clients ask while one PDF is ingested.

Usage::

    python eval/bench_load.py [--library data/eval-library] [--clients 50] [--seconds 60] [--think 0]

Ingests ../shared/corpus/pdfs into the library first when it is missing (as eval/score_answers.py
does), copies it to a temporary folder and removes one corpus paper from the copy (the largest, or
``--pdf``), so that the paper can be uploaded again for real during the run; the library itself is
never changed. Then it starts ``souwen serve`` on a free loopback port, and ``--clients`` clients
(asyncio + httpx) post the dev questions (../shared/eval/dev_questions.jsonl, in turn) to /ask for
``--seconds``, each waiting ``--think`` seconds between a reply and its next question; after
``--upload-after`` seconds the PDF is posted to /papers and its job polled until done.

Prints requests/s, latency p50/p95/p99/max (all requests, and those that overlapped the ingest
job), the error count by kind, and the ingest job's outcome. A closed loop with no think time
measures the server at saturation: latency is then about clients / throughput (Little's law).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.ingestion import hash_file  # noqa: E402
from assistant.service import Souwen  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from eval.evidence import CORPUS, QUESTIONS, REPO, load_questions  # noqa: E402


def prepare_library(library: Path, pdf: Path | None, workdir: Path) -> tuple[Path, Path]:
    """A copy of `library` without the paper of `pdf` (default: the corpus's largest PDF)."""
    if not (library / "catalogue.sqlite").is_file():
        print(f"building {library} from {CORPUS} (once)...", file=sys.stderr)
        builder = Souwen(Settings(library=library))
        builder.ingest([CORPUS])
        builder.close()
    pdf = pdf or max(CORPUS.glob("*.pdf"), key=lambda p: p.stat().st_size)
    copy = workdir / "library"
    shutil.copytree(library, copy, ignore=shutil.ignore_patterns("uploads"))
    service = Souwen(Settings(library=copy))
    stored = service.library.catalogue.paper_by_sha(hash_file(pdf))
    if stored is not None:
        service.remove([stored.id])
    service.close()
    return copy, pdf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(library: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port),
                                 "--library", str(library)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


async def run_load(base: str, questions: list[str], pdf: Path, args: argparse.Namespace) -> dict:
    results: list[tuple[float, float, str]] = []  # (start, seconds, "ok" or the error kind)
    job: dict = {}
    started = time.monotonic()
    stop = started + args.seconds
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=args.clients + 4, max_keepalive_connections=args.clients + 4)
    async with httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits) as client:
        if args.warm_up:  # each question once, one at a time: passages' sentence vectors get cached
            for question in questions:
                await client.post("/ask", json={"question": question})
            started = time.monotonic()
            stop = started + args.seconds

        async def asker() -> None:
            while time.monotonic() < stop:
                question = questions[next(counter) % len(questions)]
                t0 = time.monotonic()
                try:
                    response = await client.post("/ask", json={"question": question})
                    kind = "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                results.append((t0, time.monotonic() - t0, kind))
                if args.think:
                    await asyncio.sleep(args.think)

        async def uploader() -> None:
            if args.no_upload:
                return
            await asyncio.sleep(args.upload_after)
            t0 = time.monotonic()
            response = await client.post("/papers", files={"files": (pdf.name, pdf.read_bytes(), "application/pdf")})
            if response.status_code != 202:
                job.update(error=f"upload: HTTP {response.status_code} {response.text[:200]}")
                return
            location = response.headers["location"]
            while True:
                state = (await client.get(location)).json()
                if state["status"] in ("done", "failed"):
                    break
                await asyncio.sleep(0.25)
            job.update(state, start=t0, end=time.monotonic())

        await asyncio.gather(uploader(), *[asker() for _ in range(args.clients)])
    return {"results": results, "job": job, "elapsed": time.monotonic() - started}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def report(run: dict, args: argparse.Namespace) -> None:
    results, job = run["results"], run["job"]
    latencies = [s for _, s, kind in results if kind == "ok"]
    errors = collections.Counter(kind for _, _, kind in results if kind != "ok")
    print(f"clients {args.clients}, think {args.think:g} s, {run['elapsed']:.1f} s: {len(results)} requests, "
          f"{len(results) / run['elapsed']:.1f} requests/s, errors {sum(errors.values())} {dict(errors) or ''}")

    def line(label: str, values: list[float]) -> None:
        if values:
            print(f"  {label:<22} n={len(values):<5} p50 {percentile(values, 50) * 1000:7.0f} ms  "
                  f"p95 {percentile(values, 95) * 1000:7.0f} ms  p99 {percentile(values, 99) * 1000:7.0f} ms  "
                  f"max {max(values) * 1000:7.0f} ms  mean {statistics.fmean(values) * 1000:6.0f} ms")

    line("all /ask", latencies)
    if "start" in job:
        during = [s for t0, s, kind in results if kind == "ok" and t0 < job["end"] and t0 + s > job["start"]]
        line("during the ingest job", during)
        files = ", ".join(f"{f['name']}: {f['status']} {f['reason']}".strip() for f in job.get("files", []))
        print(f"ingest job: {job['status']} in {job['end'] - job['start']:.1f} s ({files})")
    elif not args.no_upload:
        print(f"ingest job: {job.get('error') or 'did not finish within the run'}")
    if args.timeline:
        start = min(t0 for t0, _, _ in results)
        buckets = collections.defaultdict(list)
        for t0, seconds, kind in results:
            if kind == "ok":
                buckets[int((t0 + seconds - start) // args.timeline)].append(seconds)
        window = (job["start"] - start, job["end"] - start) if "start" in job else (-1, -1)
        for b in sorted(buckets):
            lo = b * args.timeline
            mark = " ingest" if lo + args.timeline > window[0] and lo < window[1] else ""
            values = buckets[b]
            print(f"  {lo:5.0f}-{lo + args.timeline:<4.0f}s answered {len(values):4d}  p50 {percentile(values, 50) * 1000:6.0f} ms"
                  f"  max {max(values) * 1000:6.0f} ms{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", type=Path, default=REPO / "data" / "eval-library")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--pdf", type=Path, help="the PDF ingested during the run (default: the corpus's largest)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=0.0, help="seconds each client waits between questions")
    parser.add_argument("--upload-after", type=float, default=5.0, help="seconds into the run the PDF is posted")
    parser.add_argument("--warm-up", action="store_true",
                        help="ask every question once before the timed run (the server's steady state)")
    parser.add_argument("--no-upload", action="store_true", help="no ingest during the run (a baseline)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout (counted as an error)")
    parser.add_argument("--timeline", type=float, default=0, help="also print latency per this many seconds of the run")
    args = parser.parse_args()
    questions = [q["question"] for q in load_questions(args.questions)]
    with tempfile.TemporaryDirectory(prefix="souwen-load-") as tmp:
        workdir = Path(tmp)
        library, pdf = prepare_library(args.library, args.pdf, workdir)
        port = free_port()
        server = start_server(library, port, workdir / "server.log")
        try:
            print(f"server on 127.0.0.1:{port}, library copy of {args.library} without {pdf.name}; "
                  f"{len(questions)} questions", file=sys.stderr)
            run = asyncio.run(run_load(f"http://127.0.0.1:{port}", questions, pdf, args))
        finally:
            server.terminate()
            server.wait(30)
        report(run, args)
        if "Traceback" in (workdir / "server.log").read_text():
            print("the server logged a traceback:\n" + (workdir / "server.log").read_text()[-3000:])


if __name__ == "__main__":
    main()
