"""The shared corpus end to end: ingest all 33 real OA PDFs with the real MiniLM model, then check
the catalogue against the manifest and retrieval against the dev questions.

The retrieval floors below are regression guards set under the measured rates (eval/score_retrieval.py
prints the figures); they are not the targets, which the closing notes report against.
"""
from __future__ import annotations

import contextlib
import json

import pytest

from eval.evidence import contains_evidence, load_questions
from tests.sqlfile import query_catalogue

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(corpus_service):
    return corpus_service


def test_catalogue_matches_manifest(service, manifest):
    papers = {p.sha256: p for p in service.papers()}
    import hashlib

    from tests.conftest import CORPUS

    right_doi = 0
    for entry in manifest:
        sha = hashlib.sha256((CORPUS / entry["file"]).read_bytes()).hexdigest()
        paper = papers[sha]
        assert paper.pages == entry["pages"]
        if paper.doi == entry["doi"].lower():
            right_doi += 1
        else:
            # the only accepted miss: a PDF that prints no DOI at all (ACL anthology papers) -> empty, never wrong
            assert paper.doi == "", (entry["file"], paper.doi, entry["doi"])
        assert (paper.figures > 0) == entry["has_figures"], entry["file"]
        assert paper.chunks > 0 and paper.lang == entry["lang"]
    assert right_doi >= 31


def test_chinese_chunks_overlap_their_neighbours(service):
    """A Chinese sentence is long in word-pieces; chunks of the Chinese papers now repeat the last
    sentence before them (ingest.chunking.LONG_CARRY): the passage that opens "这类机制虽然不需要消费
    者……" holds the "属性加密" sentence that 这类 refers to. Neighbours in one section sharing a
    sentence: 207 of 307 (100 of 271 before; many of the rest are paragraph ends)."""
    rows = query_catalogue(
        service.library, "SELECT c.paper_id, c.section, c.text FROM chunks c JOIN papers p ON p.id = c.paper_id "
        "WHERE p.lang = 'zh' AND c.kind = 'body' ORDER BY c.paper_id, c.ordinal")
    pairs = [(a[2], b[2]) for a, b in zip(rows, rows[1:]) if a[:2] == b[:2]]
    shared = sum(b[:15] in a for a, b in pairs)
    print(json.dumps({"zh_neighbours": len(pairs), "sharing_a_sentence": shared}))
    assert shared >= 0.6 * len(pairs)
    assert any(text.find("属性加密") < text.find("这类机制虽然不需要消费者") for _, _, text in rows
               if "这类机制虽然不需要消费者" in text and "属性加密" in text)


def test_chunks_fit_the_model_and_skip_references(service, minilm):
    lib = service.library
    texts = [row[0] for row in query_catalogue(lib, "SELECT text FROM chunks")]
    assert max(minilm.count_tokens(texts)) <= minilm.max_tokens
    indexes = lib.indexes()
    assert len(indexes.dense) == len(texts) == len(indexes.rowids)


def _rate(service, questions, kind, lang, k=5):
    items = [q for q in questions if q["type"] == kind and q["lang"] == lang]
    found = 0
    for q in items:
        hits = service.search(q["question"], k=k)
        found += all(any(contains_evidence(h.chunk.text, g["evidence"]) for h in hits) for g in q["gold"])
    return found / len(items)


@contextlib.contextmanager
def _retrieval_settings(service, **values):
    """The service's retrieval settings changed to `values` for the block, then restored."""
    settings = service.settings.retrieval
    before = {name: getattr(settings, name) for name in values}
    try:
        for name, value in values.items():
            setattr(settings, name, value)
        yield
    finally:
        for name, value in before.items():
            setattr(settings, name, value)


def test_factoid_retrieval_rates(service, corpus):
    questions = load_questions()
    en, zh = _rate(service, questions, "factoid", "en"), _rate(service, questions, "factoid", "zh")
    with _retrieval_settings(service, sentence_rerank_depth=0):  # the same searches without the sentence re-ranking
        plain = _rate(service, questions, "factoid", "en")
    print(json.dumps({"factoid_en_top5": en, "factoid_zh_top5": zh, "factoid_en_top5_plain": plain}))
    assert en >= 0.83 and zh >= 0.8  # measured 91.1% and 100% at parser 64, chunker 9 (targets: 85% each)
    assert en > plain  # measured 80.4% without it


def test_english_questions_reach_the_chinese_body_text(service):
    """English questions whose answers are in the Chinese papers' body text (13 written for the
    project, eval/xling_en_questions.jsonl): the focus list over the Chinese paper the question's
    own words lead to (assistant.retrieval) finds them, which the translated terms alone did not; and
    where a Chinese passage covers the question's words better than any English one, the list of
    its translated words weighs as much as its own."""
    from pathlib import Path

    questions = load_questions(Path(__file__).resolve().parents[2] / "eval" / "xling_en_questions.jsonl")
    focused = _rate(service, questions, "xling", "en")
    with _retrieval_settings(service, crosslingual_focus_weight=0.0):
        unfocused = _rate(service, questions, "xling", "en")
    with _retrieval_settings(service, crosslingual_lead=1000.0):  # the translated list never weighs fully
        unled = _rate(service, questions, "xling", "en")
    print(json.dumps({"xling_en_top5": focused, "xling_en_top5_unfocused": unfocused, "xling_en_top5_unled": unled}))
    assert focused >= 0.6 and focused > unfocused  # measured 69.2% and 61.5%
    assert focused > unled  # measured 53.8%


def test_chinese_questions_led_to_one_paper_find_paraphrased_answers(service):
    """Chinese factoids written for the project (eval/zh_questions.jsonl) ask in other words than
    the paper ("实测" for "测量", "存储资源" for "硬盘存储"): the passages of the one paper BM25 leads
    to, ranked by the question's English gloss over theirs (assistant.focus), lift them."""
    from pathlib import Path

    questions = load_questions(Path(__file__).resolve().parents[2] / "eval" / "zh_questions.jsonl")
    focused = _rate(service, questions, "factoid", "zh")
    with _retrieval_settings(service, gloss_focus_weight_zh=0.0):
        unfocused = _rate(service, questions, "factoid", "zh")
        dev_unfocused = _rate(service, load_questions(), "factoid", "zh")
    print(json.dumps({"own_zh_factoid_top5": focused, "own_zh_factoid_top5_unfocused": unfocused}))
    assert focused >= 0.6 and focused > unfocused  # measured 80% and 60% at chunker 9 (70% and 50% at 8)
    assert _rate(service, load_questions(), "factoid", "zh") >= dev_unfocused  # dev: 100% either way (90% at 8)


def test_search_filters_on_real_papers(service):
    hits = service.search("doubling time deletion strain", k=5)
    assert hits and all(h.chunk.page_start >= 1 for h in hits)
    from assistant.retrieval import Filters

    only = service.search("doubling time deletion strain", k=5, filters=Filters(dois=("10.1093/nar/gkae222",)))
    assert only and {h.paper.doi for h in only} == {"10.1093/nar/gkae222"}
    recent = service.search("drought tolerance", k=5, filters=Filters(year_from=2023))
    assert all(h.paper.year is not None and h.paper.year >= 2023 for h in recent)
