"""Abbreviations a paper defines (Schwartz & Hearst), and their use by the answer-sentence scorer:
a question that spells out a term finds the sentence that abbreviates it."""
from __future__ import annotations

from assistant.abbreviations import (AbbreviationCache, alternate_forms, defined_in, find_abbreviations,
                                     is_short_form, match_long_form)
from assistant.extractive import score_sentences
from assistant.sentence_cache import SentenceCache
from assistant.retrieval import retrieve
from assistant.settings import RetrievalSettings
from tests.minilib import paper, store

TEXT = ("The restriction-modification (R-M) system, N4-methylcytosine (m4C) and 5-methylcytosine (5mC). "
        "Multisystem trauma raises the risk of deep vein thrombosis (DVT) (Fig. 2) (P < 0.001) (n = 12). "
        "We sequenced the large subunit (LSU) of the peptidyl transferase center (PTC).")


def test_definitions_are_found_and_false_ones_refused():
    found = find_abbreviations([TEXT])
    assert found == {"R-M": "restriction-modification", "5mC": "5-methylcytosine", "DVT": "deep vein thrombosis",
                     "LSU": "large subunit", "PTC": "peptidyl transferase center"}
    # m4C's letters are not in order in "N4-methylcytosine": no definition rather than a wrong one
    assert "m4C" not in found
    assert not is_short_form("Fig. 2") and not is_short_form("n = 12") and not is_short_form("x")
    assert match_long_form("DVT", "risk of deep vein thrombosis") == "deep vein thrombosis"
    assert match_long_form("XYZ", "nothing matching here") is None


def test_alternate_forms_both_ways():
    defined = find_abbreviations([TEXT])
    spelled = alternate_forms("How often does deep vein thrombosis occur?", defined)
    assert spelled["vein"] == {"dvt"} and spelled["thrombosi"] == {"dvt"}
    short = alternate_forms("How often does DVT occur?", defined)
    assert short["dvt"] == {"deep", "vein", "thrombosi"}
    # parts of a hyphenated short form ("r", "m") never stand for it: they would match anything
    assert alternate_forms("restriction-modification systems", defined)["modif"] == {"r-m"}
    assert alternate_forms("What is a cat?", defined) == {}


def test_cache_reads_each_paper_once_and_first_paper_wins():
    calls = []

    def load(paper_id):
        calls.append(paper_id)
        return {"a": ["antibiotic resistance genes (ARGs)"], "b": ["all random genes (ARGs), ion channel (IC)"]}[paper_id]

    cache = AbbreviationCache(load, size=1)
    assert defined_in(cache, ["a", "b"]) == {"ARGs": "antibiotic resistance genes", "IC": "ion channel"}
    cache.get("b")
    assert calls == ["a", "b"]  # b was cached
    cache.get("a")
    assert calls == ["a", "b", "a"]  # size 1: a had been evicted
    assert cache.learn("c", ["a voltage-gated ion channel (VGIC)"]) == {"VGIC": "voltage-gated ion channel"}
    assert cache.get("c") == {"VGIC": "voltage-gated ion channel"} and calls == ["a", "b", "a"]


def test_spelled_out_question_finds_the_abbreviated_sentence(lib, hashing):
    store(lib, hashing, paper("dvt", "en", [
        "Trauma patients are at risk of deep vein thrombosis (DVT). Prophylaxis choices vary by centre.",
        "Without prophylaxis, DVT rates exceed 50% in multisystem trauma.",
        "Prophylaxis in multisystem trauma patients remains debated in many centres and rates vary.",
    ]))
    question = "Without prophylaxis, how often do multisystem trauma patients develop deep vein thrombosis?"
    hits = retrieve(lib, hashing, question, RetrievalSettings(), k=5)
    alternates = alternate_forms(question, defined_in(lib.abbreviations, [h.paper.id for h in hits]))
    assert alternates["thrombosi"] == {"dvt"}
    idf = lib.indexes().lexical.idf
    plain = score_sentences(question, hits, hashing, idf, SentenceCache())
    widened = score_sentences(question, hits, hashing, idf, SentenceCache(), alternates)
    best = next(s for s in widened if "rates exceed 50%" in s.text)
    before = next(s for s in plain if "rates exceed 50%" in s.text)
    assert best.coverage > before.coverage
    assert "rates exceed 50%" in widened[0].text


def test_a_keyword_line_does_not_outrank_the_finding(lib, hashing):
    """A keyword line lists the question's words but states nothing (assistant.extractive)."""
    store(lib, hashing, paper("rm", "en", [
        "Keywords: Deinococcus radiodurans; restriction-modification system; plasmid transformation.",
        "In Deinococcus, this system lowered plasmid transformation tenfold.",
    ]))
    question = "What did the restriction-modification system of Deinococcus radiodurans do to plasmid transformation?"
    hits = retrieve(lib, hashing, question, RetrievalSettings(), k=5)
    scored = score_sentences(question, hits, hashing, lib.indexes().lexical.idf, SentenceCache())
    keywords = next(s for s in scored if s.text.startswith("Keywords"))
    assert "tenfold" in scored[0].text and keywords.coverage > scored[0].coverage
