"""Evidence strength for the abstention decision (assistant.abstention.measure_evidence): one paper
must cover a question, except a question about several papers, which the papers cover together.
Real SQLite, FAISS and bm25s with the hashing embedder."""
from __future__ import annotations

from assistant.abstention import _common_terms, _derived_in, content_concepts, measure_evidence
from assistant.retrieval import retrieve_per_paper
from assistant.settings import RetrievalSettings
from tests.minilib import paper, store

QUESTION = "Which papers measured frog mortality after chytrid virus infection and nematode survival on bacteria?"


def strength(lib, hashing, several):
    hits = retrieve_per_paper(lib, hashing, QUESTION, RetrievalSettings(), k=6)
    terms = [set(h.chunk.text.lower().split()) for h in hits]
    index = lib.indexes().lexical
    return measure_evidence(QUESTION, hits, terms, 0.5, lib.paper_terms, index.idf, 1.0, index,
                            several=several)


def test_papers_cover_a_several_paper_question_together(lib, hashing):
    store(lib, hashing, paper("frog", "en", ["Frog mortality rose after chytrid virus infection in the assay.",
                                             "Zoospore loads were lower at death in infected frogs."]))
    store(lib, hashing, paper("worm", "en", ["Nematode survival on bacteria was shorter without editing enzymes.",
                                             "Worms lacking both deaminases died sooner on pathogenic bacteria."]))
    alone, together = strength(lib, hashing, False), strength(lib, hashing, True)
    assert alone.coverage < 0.7, "each paper covers only its half of the question"
    assert together.coverage > alone.coverage + 0.25
    assert together.paper_id == alone.paper_id  # the best single paper is still the one named


def test_everyday_words_are_told_from_specific_ones():
    common = _common_terms("Which glycemic index was chosen, and did it appear in Drosophila neurons of 30-day-old flies?")
    assert {"chosen", "appear"} <= common  # phrasing: stems of whole words of the general vocabulary
    assert not common & {"glycem", "drosophila", "30"}  # split into word-pieces, or digits: specific


def test_a_missing_specific_word_weighs_more_than_a_missing_everyday_word(lib, hashing):
    """Both missing words are unseen in the library (the same IDF): only their kind differs."""
    store(lib, hashing, paper("frog", "en", ["Chytrid zoospore infection killed tadpoles in the assay.",
                                             "Tadpoles exposed to zoospores died within two weeks."]))
    store(lib, hashing, paper("worm", "en", ["Nematode survival on bacteria was shorter without editing enzymes."]))
    phrasing = _coverage(lib, hashing, "Which assay showed that chytrid zoospore infection eventually killed tadpoles?", 6)
    specific = _coverage(lib, hashing, "Which assay showed that chytrid zoospore infection killed axolotl tadpoles?", 6)
    assert 0.8 < phrasing < 1.0 and specific < phrasing - 0.1


def test_a_question_word_finds_its_derived_forms():
    """The stemmer keeps "grow" and "growth" apart; the paper's "growth" covers the question's "grow"."""
    assert _derived_in("grow", {"growth", "strain"}) and _derived_in("slow", {"slowli"})
    assert not _derived_in("grow", {"groundwat"}) and not _derived_in("ten", {"tenth"})  # too short to extend


def test_a_chinese_term_and_its_bracketed_latin_name_are_one_concept():
    concepts = dict(content_concepts("拟南芥dana1突变体中的脱落酸（ABA）含量与野生型相比有何变化？"))
    assert "脱落酸" not in concepts and {"aba", "脱落酸", "abscis"} <= concepts["aba"]
    assert "含量" in concepts and "aba" not in concepts["含量"]  # only the term that ends the bracketed run
    two = dict(content_concepts("把载荷换成IL-7或IL-15（两者）时T细胞会怎样？"))
    assert "载荷" in two and "il" in two and not {"载荷", "换成"} & two["il"]


def test_a_glossed_term_is_found_by_its_latin_name_in_a_paper_of_the_other_language(lib, hashing):
    """The English paper says only "ABA"; the question glosses 脱落酸 (abscisic acid) with it."""
    store(lib, hashing, paper("dana", "en", ["ABA content in dana1 mutant plants was markedly reduced under drought.",
                                             "Stomatal density decreased in the overexpressing lines."]))
    glossed = _coverage(lib, hashing, "dana1突变体中的脱落酸（ABA）含量有何变化？", 4)
    apart = _coverage(lib, hashing, "dana1突变体中的脱落酸和ABA含量有何变化？", 4)  # two concepts: 脱落酸 is missed
    assert glossed > apart + 0.05


def _coverage(lib, embedder, question: str, k: int) -> float:
    """The evidence coverage of `question` over passages retrieved per paper (words split on spaces)."""
    hits = retrieve_per_paper(lib, embedder, question, RetrievalSettings(), k=k)
    terms = [set(h.chunk.text.lower().split()) for h in hits]
    index = lib.indexes().lexical
    return measure_evidence(question, hits, terms, 0.5, lib.paper_terms, index.idf, 1.0, index).coverage

