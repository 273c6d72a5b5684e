"""End to end through the real `souwen` command: real PDFs made with PyMuPDF, the real MiniLM
model, real FAISS, bm25s and SQLite. Covers the JSON schemas scripts rely on and bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pymupdf as fitz
import pytest

from tests.pdfmaker import make_paper

pytestmark = pytest.mark.slow

WHEAT = {
    "Abstract": ["Germinated wheat was milled into a nutritional supplement for elderly people."],
    "Introduction": ["Malnutrition is common among the elderly and supplements can help."],
    "Results": ["The germinated wheat supplement raised vitamin E content by 35 percent compared with raw wheat.",
                "Protein digestibility improved after 48 hours of germination at 25 degrees."],
    "References": ["[1] Smith J. Cereal chemistry. 2001."],
}
RIBO = {
    "Abstract": ["Ribosomal RNA modification enzymes stimulate large subunit assembly in E. coli."],
    "Results": ["The strain lacking ten modification enzymes grew 4.7 times slower at 37 degrees.",
                "Assembly intermediates accumulated in sucrose gradients."],
}
NDN = {
    "摘要": ["本文提出一种基于可编程平台的标识网络移动性管理机制。"],
    "实验结果": ["移动终端在两个接入点之间反复切换，测得平均切换时延为55毫秒，最大值为75毫秒。"],
}


def souwen(*args: str, library: Path, check_codes=(0,)) -> subprocess.CompletedProcess:
    env = dict(os.environ, SOUWEN_LIBRARY=str(library), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode in check_codes, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pdfs")
    make_paper(folder / "wheat.pdf", title="A nutritional supplement made from germinated wheat", doi="10.1234/wheat.2021.7",
               sections=WHEAT, year=2021)
    make_paper(folder / "ribo.pdf", title="rRNA modification enzymes stimulate ribosome assembly", doi="10.1093/TEST/ribo1.",
               sections=RIBO, year=2024)
    make_paper(folder / "ndn.pdf", title="基于可编程平台的标识网络移动性管理机制", doi="10.3969/j.issn.1673-629X.2023.10.010",
               sections=NDN, year=2023, lang="zh", figure=False)
    (folder / "notes.pdf").write_text("this is a text file with a .pdf name")
    (folder / "empty.pdf").write_bytes(b"")
    whole = make_paper(folder.parent / "whole.pdf", title="Truncated paper", doi="10.5555/trunc", sections=RIBO).read_bytes()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 3])
    doc = fitz.open(folder / "ribo.pdf")
    doc.save(folder / "locked.pdf", encryption=fitz.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="secret")
    return folder


@pytest.fixture(scope="module")
def library(corpus_dir, tmp_path_factory) -> Path:
    lib = tmp_path_factory.mktemp("lib") / "library"
    proc = souwen("ingest", str(corpus_dir), "--json", "--workers", "1", library=lib, check_codes=(1,))
    report = json.loads(proc.stdout)
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert report["counts"]["added"] == 3 + (by_name["truncated.pdf"]["status"] == "added")
    assert report["counts"]["failed"] == 3 + (by_name["truncated.pdf"]["status"] == "failed")
    assert "empty" in by_name["empty.pdf"]["reason"]
    assert "password" in by_name["locked.pdf"]["reason"].lower() or "encrypt" in by_name["locked.pdf"]["reason"].lower()
    assert by_name["notes.pdf"]["status"] == "failed"
    # MuPDF can repair a truncated file: then it is stored, but with a warning that says so
    truncated = by_name["truncated.pdf"]
    assert truncated["status"] == "failed" or any("damaged" in w or "repaired" in w for w in truncated["warnings"])
    return lib


def test_papers_json_schema(library):
    papers = json.loads(souwen("papers", "--json", library=library).stdout)
    assert len(papers) in (3, 4)  # 4 when the truncated copy of wheat.pdf was repaired
    for p in papers:
        assert {"id", "doi", "title", "authors", "year", "pages", "figures"} <= set(p)
    by_doi = {p["doi"]: p for p in papers}
    assert set(by_doi) >= {"10.1234/wheat.2021.7", "10.1093/test/ribo1", "10.3969/j.issn.1673-629x.2023.10.010"}
    assert by_doi["10.1234/wheat.2021.7"]["figures"] >= 1
    assert by_doi["10.1234/wheat.2021.7"]["year"] == 2021
    # the table, piped to a file, shows every id and DOI whole (rich cut them at 80 columns)
    table = souwen("papers", library=library).stdout
    assert all(p["id"] in table and p["doi"] in table for p in papers)


def test_search_json_english_and_chinese(library):
    hits = json.loads(souwen("search", "how much did vitamin E increase in germinated wheat", "-k", "3", "--json",
                             library=library).stdout)
    assert 1 <= len(hits) <= 3
    assert {"doi", "title", "page_start", "page_end", "section", "text", "score"} <= set(hits[0])
    assert hits[0]["doi"] == "10.1234/wheat.2021.7" and "35 percent" in hits[0]["text"]
    assert hits[0]["score"] >= hits[-1]["score"]
    assert "[1] Smith" not in " ".join(h["text"] for h in hits)  # references are never passages
    zh = json.loads(souwen("search", "平均切换时延是多少", "--json", "-k", "2", library=library).stdout)
    assert zh[0]["doi"] == "10.3969/j.issn.1673-629x.2023.10.010" and "55" in zh[0]["text"]


def test_search_filters_and_batch(library, tmp_path):
    only = json.loads(souwen("search", "enzymes", "--doi", "10.1093/test/ribo1", "--json", library=library).stdout)
    assert only and {h["doi"] for h in only} == {"10.1093/test/ribo1"}
    years = json.loads(souwen("search", "wheat", "--year", "2022-2025", "--json", library=library).stdout)
    assert all(h["year"] >= 2022 for h in years)
    for words in ("????", "What is it?", "它是什么？"):  # nothing to look for: an error, not arbitrary passages
        for verb in ("search", "ask"):
            nothing = souwen(verb, words, library=library, check_codes=(2,))
            assert "nothing to look for" in nothing.stderr and not nothing.stdout
    backwards = souwen("search", "wheat", "--year", "2025-2022", library=library, check_codes=(2,))
    assert "runs backwards" in backwards.stderr and "2022-2025" in backwards.stderr
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"question": "ribosome assembly slower growth"}\nnot json\n{"question": "切换时延"}\n'
                     '{"question": "what is it?"}\n')
    lines = souwen("search", "--batch", str(batch), "-k", "2", library=library, check_codes=(2,)).stdout.splitlines()
    assert len(lines) == 4
    first, bad, third, empty = (json.loads(line) for line in lines)
    assert "nothing to look for" in empty["error"]
    # the truncated copy (10.5555/trunc) repeats the ribosome paper's sections: either is right
    assert first[0]["doi"] in ("10.1093/test/ribo1", "10.5555/trunc") and "error" in bad
    assert "ribosom" in first[0]["text"].lower()
    assert third[0]["doi"].startswith("10.3969/")


def test_show_info_reingest_and_remove(library, corpus_dir):
    shown = json.loads(souwen("show", "10.1234/WHEAT.2021.7", "--json", library=library).stdout)
    assert shown["figures"] and Path(shown["figures"][0]["image_path"]).is_file()
    assert any("Smith" in r for r in shown["references"])
    again = json.loads(souwen("ingest", str(corpus_dir / "wheat.pdf"), "--json", library=library).stdout)
    assert again["counts"]["unchanged"] == 1 and again["counts"]["added"] == 0
    info = json.loads(souwen("info", "--json", library=library).stdout)
    assert info["papers"] in (3, 4) and info["chunks"] > 3 and info["fingerprint"]["embedder"]
    souwen("remove", "10.1093/test/ribo1", library=library)
    hits = json.loads(souwen("search", "ribosome assembly", "--json", library=library).stdout)
    assert all(h["doi"] != "10.1093/test/ribo1" for h in hits)
    missing = souwen("show", "10.9999/nope", library=library, check_codes=(4,))
    assert "no paper" in missing.stderr


def test_changed_settings_refuse_then_rebuild(library, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(library, copy)
    before = json.loads(souwen("papers", "--json", library=library).stdout)
    env_chunking = {"SOUWEN_CHUNKING__OVERLAP_TOKENS": "16"}
    os.environ.update(env_chunking)
    try:
        refused = souwen("search", "wheat", library=copy, check_codes=(3,))
        assert "rebuild" in refused.stderr and "overlap_tokens" in refused.stderr
        souwen("rebuild", "--json", library=copy, check_codes=(0,))
        after = json.loads(souwen("papers", "--json", library=copy).stdout)
        assert {p["doi"] for p in after} == {p["doi"] for p in before}
        hits = json.loads(souwen("search", "vitamin E germinated wheat", "--json", library=copy).stdout)
        assert hits[0]["doi"] == "10.1234/wheat.2021.7"
    finally:
        for key in env_chunking:
            os.environ.pop(key)


def test_missing_and_empty_library_say_so(tmp_path):
    """A command on a folder holding no library (a mistyped --library) fails with exit 3 and creates
    nothing; a search or question on an empty library (a forgotten --library) says why nothing was found."""
    missing = tmp_path / "mistyped"
    for args in (("papers", "--json"), ("search", "ribosome"), ("ask", "Why?"), ("info",), ("show", "10.1/x")):
        proc = souwen(*args, library=missing, check_codes=(3,))
        assert "no library at" in proc.stderr and "souwen ingest" in proc.stderr and not proc.stdout
    assert not missing.exists()
    empty = tmp_path / "empty"
    (tmp_path / "nothing").mkdir()
    souwen("ingest", str(tmp_path / "nothing"), library=empty)  # an ingest of no files makes an empty library
    assert (empty / "catalogue.sqlite").is_file()
    searched = souwen("search", "ribosome assembly", library=empty)
    assert "no passages found" in searched.stdout
    assert "holds no papers" in searched.stderr and "souwen ingest" in searched.stderr
    asked = souwen("ask", "How fast do the deletion strains grow?", library=empty)
    assert "do not answer" in asked.stdout and "holds no papers" in asked.stderr
    found = souwen("figures", "growth curves", library=empty)
    assert "no figures found" in found.stdout and "holds no papers" in found.stderr
