"""Evidence strength for the abstention decision (assistant.abstention.measure_evidence): one paper
must cover a question, except a question about several papers, which the papers cover together.
Real SQLite, FAISS and bm25s with the hashing embedder."""
from __future__ import annotations

from assistant.abstention import measure_evidence
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
