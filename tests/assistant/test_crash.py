"""Atomic ingest: SIGKILL a real `souwen ingest` process at several points; the library must stay
loadable, hold only complete papers, and finish cleanly when the ingest is run again."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.service import Souwen
from assistant.settings import Settings
from tests.pdfmaker import make_paper

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pdf_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crash-pdfs")
    for i in range(8):
        paragraphs = [f"Paper {i} paragraph {j}: the measured growth rate of strain {i}-{j} was {i * 10 + j} percent "
                      f"higher under condition {j}, which supports hypothesis {i}." * 3 for j in range(40)]
        make_paper(folder / f"paper-{i}.pdf", title=f"Crash test paper number {i}", doi=f"10.5555/crash.{i}",
                   sections={"Introduction": paragraphs[:10], "Results": paragraphs[10:]}, year=2020 + i % 4)
    return folder


def _committed_papers(library: Path) -> int:
    try:
        with sqlite3.connect(library / "catalogue.sqlite", timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
    except sqlite3.Error:
        return 0


def _start(pdf_dir: Path, library: Path) -> subprocess.Popen:
    env = dict(os.environ, SOUWEN_LIBRARY=str(library), HF_HUB_OFFLINE="1")
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(pdf_dir), "--workers", "1", "--json"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (the ingest's parser workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _kill_when(proc: subprocess.Popen, library: Path, papers: int | None, seconds: float | None) -> int:
    """SIGKILL the ingest once `papers` are committed or after `seconds`; with neither, as soon as
    a parser worker runs."""
    started = time.monotonic()
    workers: list[int] = []
    while proc.poll() is None and time.monotonic() - started < 300:
        if seconds is not None and time.monotonic() - started >= seconds:
            break
        if papers is not None and _committed_papers(library) >= papers:
            break
        if papers is None and seconds is None and (workers := _children(proc.pid)):
            break
        time.sleep(0.02)
    workers = workers or _children(proc.pid)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    code = proc.wait()
    # the killed ingest's workers end with it (they once waited forever on their task queue)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()], "parser workers outlived the killed ingest"
    return code


def _check_consistent(library: Path, minilm) -> int:
    service = Souwen(Settings(library=library), embedder=minilm)
    try:
        lib = service.library
        papers = lib.catalogue.papers()
        for paper in papers:
            assert paper.chunks > 0, f"half-ingested paper visible: {paper.id}"
            for figure in lib.catalogue.figures(paper.id):
                assert (lib.root / figure["image_path"]).is_file()
        indexes = lib.indexes()
        assert len(indexes.dense) == len(indexes.rowids) == lib.catalogue.counts()["chunks"]
        if papers:
            hits = service.search("measured growth rate of strain", k=3)
            assert hits and hits[0].paper.id in {p.id for p in papers}
        return len(papers)
    finally:
        service.close()


@pytest.mark.parametrize("papers,seconds", [(None, 1.5), (None, None), (1, None), (3, None), (8, None)],
                         ids=["during-startup", "while-parsing", "after-first-paper", "mid-run", "during-index-save"])
def test_sigkill_leaves_library_loadable_and_resumable(pdf_dir, tmp_path, minilm, papers, seconds):
    library = tmp_path / "library"
    code = _kill_when(_start(pdf_dir, library), library, papers, seconds)
    if papers != 8:  # the last point may race the end of the run; the others must really be killed
        assert code == -signal.SIGKILL
    survived = _check_consistent(library, minilm)
    if papers is not None:
        assert survived >= papers
    # running the same ingest again completes the library: every paper exactly once
    finish = _start(pdf_dir, library)
    assert finish.wait(timeout=600) == 0
    assert _check_consistent(library, minilm) == 8
