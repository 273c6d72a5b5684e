"""Sentence vectors kept between runs: what a warm-up embedded is saved and read back, not re-embedded."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assistant.abstention import measure_evidence
from assistant.lexical import tokenize
from assistant.extractive import DENSE_POOL, NEAR_TIE, RESCORE_TOP, score_sentences
from assistant.sentence_cache import SentenceCache
from assistant.types import Chunk, Paper, ScoredChunk


class Counting:
    """An embedder wrapper that counts the texts it embeds."""

    def __init__(self, inner):
        self.inner, self.dim, self.texts = inner, inner.dim, 0

    def embed_documents(self, texts, *args, **kwargs):
        self.texts += len(texts)
        return self.inner.embed_documents(texts)


def chunks() -> list[Chunk]:
    texts = ["Yeast cells grew faster at 30 degrees. The doubling time fell to 90 minutes.",
             "Ribosome assembly stalled without RlmE. Other enzymes had smaller roles in assembly.",
             "本研究提出了一种新的标识网络。It also reports an English sentence about mobility."]
    return [Chunk(id=f"p1-c{i}", paper_id="p1", ordinal=i, text=t, section="Results", page_start=1, page_end=1,
                  char_start=0, char_end=len(t)) for i, t in enumerate(texts)]


def test_saved_vectors_are_read_back_instead_of_embedded(tmp_path, hashing):
    first, embedder = SentenceCache(), Counting(hashing)
    first.prime(chunks(), embedder, seconds=60)
    assert embedder.texts > 0
    path = tmp_path / "cache" / "sentence-vectors.npz"
    assert first.save(path) == embedder.texts

    again, second = SentenceCache(), Counting(hashing)
    assert again.load(path) == embedder.texts
    again.prime(chunks(), second, seconds=60)
    assert second.texts == 0  # every English sentence came from the file
    for before, after in zip(first._passages(chunks(), hashing.dim), again._passages(chunks(), hashing.dim)):
        assert np.array_equal(before.done, after.done) and np.allclose(before.vectors, after.vectors)


def test_a_missing_or_broken_file_loads_nothing(tmp_path):
    cache = SentenceCache()
    assert cache.load(tmp_path / "absent.npz") == 0
    (tmp_path / "broken.npz").write_bytes(b"not a numpy file")
    assert cache.load(tmp_path / "broken.npz") == 0
    assert cache.save(tmp_path / "empty.npz") == 0 and not (tmp_path / "empty.npz").exists()


def test_a_sentence_vector_does_not_depend_on_what_was_embedded_with_it(minilm):
    """The int8 model quantizes activations per batch: embedded beside other sentences, a sentence
    got another vector, and an answer depended on the questions asked before it."""
    alone, together = SentenceCache(), SentenceCache()
    passage = alone._passages(chunks()[:2], minilm.dim)[1]
    alone.embed([(passage, 1)], minilm)
    crowd = together._passages(chunks()[:2], minilm.dim)
    together.embed([(p, i) for p in crowd for i in range(len(p.texts))], minilm)
    assert passage.done[1] and crowd[1].done.all()
    assert np.array_equal(passage.vectors[1], crowd[1].vectors[1])


def test_full_precision_is_the_same_model_without_int8(minilm):
    full = minilm.full_precision()
    assert full.id == minilm.id.removesuffix("-int8") and full.full_precision() is full
    assert minilm.full_precision() is full  # built once
    a, b = minilm.embed_documents(["Ribosome assembly stalled without RlmE."])[0], full.embed_documents(
        ["Ribosome assembly stalled without RlmE."])[0]
    assert 0.95 < float(a @ b) < 1.0  # the same model, and int8 really differs


def test_only_the_questions_own_pool_is_scored_with_vectors(hashing):
    """A sentence whose vector is cached from an earlier question, but which is not among this
    question's best DENSE_POOL by coverage, is scored by coverage alone, as on a cold cache."""
    sentences = [f"Sample {n} of the strain grew in medium number {n} at thirty degrees." for n in range(40)]
    doc = Paper(id="p1", doi="10.1/p1", title="growth", authors=(), year=2024, pages=1, lang="en")
    hits = [ScoredChunk(Chunk(id=f"c{n}", paper_id="p1", ordinal=n, text=" ".join(sentences[4 * n:4 * n + 4]),
                              section="Results", page_start=1, page_end=1, char_start=0, char_end=1), doc, 1.0)
            for n in range(10)]

    def idf(terms):
        return dict.fromkeys(terms, 1.0)

    question = "Which medium did the strain grow in at thirty degrees?"
    warm = SentenceCache()
    warm.prime([h.chunk for h in hits], hashing, seconds=60)  # every sentence has a vector already
    assert all(p.done.all() for p in warm.passages(hits, hashing.dim))
    cold, primed = (score_sentences(question, hits, hashing, idf, cache) for cache in (SentenceCache(), warm))
    assert sum(s.dense != 0 for s in primed) == DENSE_POOL
    assert [(s.text, round(s.score, 6)) for s in cold] == [(s.text, round(s.score, 6)) for s in primed]


def test_the_answer_settings_choose_the_sentence_vectors(minilm):
    from assistant.answering import Answerer
    from assistant.settings import Settings

    plain = Settings()
    full = plain.model_copy(update={"answer": plain.answer.model_copy(update={"sentence_vectors": "full"})})
    only = plain.model_copy(update={"answer": plain.answer.model_copy(update={"sentence_vectors": "embedder"})})
    assert plain.answer.sentence_vectors == "rescore"
    assert Answerer(None, minilm, plain).sentence_embedder is minilm
    assert Answerer(None, minilm, plain).rescorer[0] is minilm.full_precision()
    assert Answerer(None, minilm, full).sentence_embedder is minilm.full_precision()
    assert Answerer(None, minilm, full).rescorer is None and Answerer(None, minilm, only).rescorer is None


class Scripted:
    """An embedder whose question vector is e0 and whose sentence vectors are e0 for sentences
    with one of `liked` words in them, else a fixed mix (every other sentence ties)."""

    dim = 4

    def __init__(self, liked=()):
        self.liked, self.texts = liked, []

    def embed_query(self, text):
        return np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)

    def embed_documents(self, texts, *args, **kwargs):
        self.texts += list(texts)
        return np.array([[1.0, 0, 0, 0] if any(w in t for w in self.liked) else [0.6, 0.8, 0, 0] for t in texts],
                        dtype=np.float32)


def test_near_ties_are_decided_by_full_precision_vectors():
    """int8 noise (~0.01-0.035 cosine) decides between sentences whose scores are that close; the
    full-precision embedder re-scores those near-ties, and only those."""
    doc = Paper(id="p1", doi="10.1/p1", title="growth", authors=(), year=2024, pages=1, lang="en")
    texts = ["The strain grew in medium A at thirty degrees.", "The strain grew in medium B at thirty degrees.",
             "The strain grew in medium C at thirty degrees.", "Plates were photographed after two days."]
    hits = [ScoredChunk(Chunk(id=f"c{n}", paper_id="p1", ordinal=n, text=t, section="Results", page_start=1,
                              page_end=1, char_start=0, char_end=len(t)), doc, 1.0) for n, t in enumerate(texts)]

    def idf(terms):
        return dict.fromkeys(terms, 1.0)

    question = "Which medium did the strain grow in at thirty degrees?"
    quantized, precise = Scripted(), Scripted(liked=("medium C",))
    plain = score_sentences(question, hits, quantized, idf, SentenceCache())
    assert [s.text[19:27] for s in plain[:3]] == ["medium A", "medium B", "medium C"]  # a tie: passage order
    assert plain[3].score < plain[0].score - NEAR_TIE
    rescored = score_sentences(question, hits, quantized, idf, SentenceCache(), precise=(precise, SentenceCache()))
    assert rescored[0].text == texts[2] and rescored[0].dense == 1.0
    assert sorted(precise.texts) == sorted(texts[:3])  # the far-behind sentence was not re-embedded
    capped = Scripted(liked=("medium C",))
    score_sentences(question, hits, quantized, idf, SentenceCache(), precise=(capped, SentenceCache()), rescore=2)
    assert len(capped.texts) == 2 <= RESCORE_TOP


def test_the_full_precision_model_embeds_one_text_per_pass(minilm):
    """Its vectors decide answers, which must not depend on what was embedded before them."""
    full = minilm.full_precision()
    texts = [t for c in chunks()[:2] for t in c.text.split(". ")]
    assert full.batch_size == 1
    assert np.array_equal(full.embed_documents(texts[:1])[0], full.embed_documents(texts)[0])


def test_an_english_sentence_left_out_of_the_dense_pool_does_not_outrank_it(hashing):
    """Only the best DENSE_POOL sentences by coverage are embedded. An English sentence left out,
    scored by coverage alone, used to outrank the pool's equals (coverage alone counts in full,
    coverage with a similarity below 1 does not): for "What is S2ORC?", where every sentence names
    S2ORC, the 17th sentence by passage rank could lead the answer."""
    paper = Paper(id="p1", doi="10.1/p1", title="A corpus", authors=(), year=2020, pages=1, lang="en")
    hits = []
    for i in range(DENSE_POOL + 4):
        text = f"The corpus named zeta{i} holds many papers of kind {i}."
        chunk = Chunk(id=f"c{i}", paper_id="p1", ordinal=i, text=text, section="Results", page_start=1, page_end=1,
                      char_start=0, char_end=len(text))
        hits.append(ScoredChunk(chunk, paper, 1.0 / (i + 1)))
    scored = score_sentences("corpus papers", hits, hashing, lambda terms: {t: 1.0 for t in terms}, SentenceCache())
    pooled = [s for s in scored if s.rank < DENSE_POOL]
    left_out = [s for s in scored if s.rank >= DENSE_POOL]
    assert len(left_out) == 4 and max(s.score for s in left_out) < max(s.score for s in pooled)


def test_a_question_about_several_papers_embeds_each_papers_own_candidates(hashing):
    """Each paper of a several-paper question is judged against its own best sentence, but the
    shared pool took the best DENSE_POOL sentences by coverage overall: a paper whose sentences cover
    only its own part of the question got no similarity at all, and its answer sentence lost."""
    def paper(pid: str) -> Paper:
        return Paper(id=pid, doi=f"10.1/{pid}", title=pid, authors=(), year=2020, pages=1, lang="en")

    hits = []
    for i in range(DENSE_POOL + 4):  # the first paper matches every word of the question
        text = f"Yeast strain growth at low temperature was measured in run {i}."
        hits.append(ScoredChunk(Chunk(id=f"a{i}", paper_id="a", ordinal=i, text=text, section="Results", page_start=1,
                                      page_end=1, char_start=0, char_end=len(text)), paper("a"), 1.0 / (i + 1)))
    text = "Ribosome assembly stalled at low temperature."  # the second only its part
    hits.append(ScoredChunk(Chunk(id="b0", paper_id="b", ordinal=0, text=text, section="Results", page_start=1,
                                  page_end=1, char_start=0, char_end=len(text)), paper("b"), 0.01))
    question = "How does low temperature affect yeast strain growth and ribosome assembly?"
    idf = lambda terms: {t: 1.0 for t in terms}  # noqa: E731
    shared = score_sentences(question, hits, hashing, idf, SentenceCache())
    each = score_sentences(question, hits, hashing, idf, SentenceCache(), per_paper=True)
    second = [next(s for s in scored if s.hit.paper.id == "b") for scored in (shared, each)]
    assert second[0].dense == 0.0 and second[1].dense > 0.0
    assert second[1].score > second[0].score
    assert shared[0].text == each[0].text and shared[0].score == each[0].score  # the first paper's best stands


def test_each_paper_weighs_the_question_by_what_tells_its_own_sentences_apart(hashing):
    """A several-papers question names each paper's topic, and those rare words outweighed what is
    asked: the nematode paper answered with a sentence naming its mutants (in every passage of it)
    over the one that reports survival. Within its paper a topic word tells no sentence apart."""
    from collections import Counter

    from assistant.extractive import within_paper_weights

    def paper(pid: str) -> Paper:
        return Paper(id=pid, doi=f"10.1/{pid}", title=pid, authors=(), year=2020, pages=1, lang="en")

    texts = ["Nematode adr mutants were grown on pathogenic bacteria in slow killing assays.",
             "Nematode adr mutants showed altered collagen gene expression in the cuticle.",
             "Survival was significantly shorter for animals lacking both enzymes."]
    hits = [ScoredChunk(Chunk(id=f"n{i}", paper_id="n", ordinal=i, text=t, section="Results", page_start=1,
                              page_end=1, char_start=0, char_end=len(t)), paper("n"), 1.0 / (i + 1))
            for i, t in enumerate(texts)]
    question = "Which papers tested frogs or nematode adr mutants, and how did survival change in each?"
    idf = lambda terms: {t: 1.0 for t in terms}  # noqa: E731
    counts = {"n": (3, Counter(t for text in texts for t in set(tokenize(text))))}
    plain = score_sentences(question, hits, hashing, idf, SentenceCache(), per_paper=True)
    own = score_sentences(question, hits, hashing, idf, SentenceCache(), per_paper=True, paper_counts=counts.get)
    def coverage(scored, start):  # of the question's terms, by weight, that the sentence holds
        return next(x.coverage for x in scored if x.text.startswith(start))

    assert coverage(plain, "Survival") < coverage(plain, "Nematode adr mutants were grown")
    assert coverage(own, "Survival") > coverage(own, "Nematode adr mutants were grown")
    # the weights themselves: a word in two of three chunks keeps (1/3)**2 of its weight, one in a
    # single chunk (2/3)**2, a word the paper never uses (the other paper's topic) all of it
    wanted = [("nematod", {"nematod"}), ("surviv", {"surviv"}), ("frog", {"frog"})]
    weights = within_paper_weights(wanted, {"nematod": 1.0, "surviv": 1.0, "frog": 1.0},
                                   (3, Counter({"nematod": 2, "surviv": 1})))
    assert weights == pytest.approx({"nematod": 1 / 9, "surviv": 4 / 9, "frog": 1.0})


def test_a_question_about_one_paper_weighs_its_words_within_that_paper(hashing):
    """"为什么选择熵权法来计算算力节点的基础性能得分?" was answered by a sentence naming the paper's topic
    (算力节点, 基础性能: in most of its passages) over the one that says why (采用熵权法的目的是……). When
    nearly all passages are one paper's, the topic's words weigh less within it (ONE_PAPER_POWER)."""
    from collections import Counter

    from assistant.extractive import about_one_paper

    doc = Paper(id="z", doi="10.1/z", title="算力度量", authors=(), year=2023, pages=1, lang="zh")
    texts = ["由于静态指标代表算力节点的基础性能，所以要结合动态指标度量算力节点。",
             "算力节点的基础性能由静态指标度量。",
             "动态指标反映算力节点的当前状态。",
             "算力节点的基础性能和动态性能共同决定匹配结果。",
             "采用熵权法的目的是由于熵权法是一种客观赋权方法，与指标本身无关。"]
    hits = [ScoredChunk(Chunk(id=f"z{i}", paper_id="z", ordinal=i, text=t, section="方法", page_start=1,
                              page_end=1, char_start=0, char_end=len(t)), doc, 1.0 / (i + 1))
            for i, t in enumerate(texts)]
    question = "为什么采用熵权法计算算力节点的基础性能？"
    idf = lambda terms: {t: 1.0 for t in terms}  # noqa: E731
    counts = {"z": (5, Counter(t for text in texts for t in set(tokenize(text))))}
    plain = score_sentences(question, hits, hashing, idf, SentenceCache(), paper_counts=counts.get)
    own = score_sentences(question, hits, hashing, idf, SentenceCache(), paper_counts=counts.get, one_paper=True)
    assert not plain[0].text.startswith("采用熵权法"), plain[0].text
    assert own[0].text.startswith("采用熵权法"), [s.text for s in own]
    # the share that makes a question one paper's
    other = replace(hits[0], paper=replace(doc, id="y"), chunk=replace(hits[0].chunk, id="y0", paper_id="y"))
    assert about_one_paper(hits) and about_one_paper(hits * 3 + [other])
    assert not about_one_paper(hits[:3] + [other]) and not about_one_paper([])  # 3 of 4
    # a question whose every term is in every passage of the paper keeps the library's weights
    # (within the paper they would all be 0, and every sentence's coverage with them)
    everywhere = {"z": (5, Counter({t: 5 for text in texts for t in tokenize(text)}))}
    same = score_sentences(question, hits, hashing, idf, SentenceCache(), paper_counts=everywhere.get, one_paper=True)
    assert [(x.text, x.coverage) for x in same] == [(x.text, x.coverage) for x in plain]


def test_an_english_question_finds_its_words_in_a_chinese_passage_through_their_glosses(hashing):
    """A Chinese sentence's words are also matched by their CC-CEDICT translations when an English
    question is judged on them (abstention's coverage): "computing power" finds "算力", which no
    English word translates to."""
    doc = Paper(id="p1", doi="10.1/p1", title="算力度量", authors=(), year=2023, pages=1, lang="zh")
    text = "全面性指算力度量需考虑静态指标和动态指标，还要考虑算力节点当前的工作状态。本文提出了一种新的度量方法。"
    hit = ScoredChunk(Chunk(id="zh-c0", paper_id="p1", ordinal=0, text=text, section="引言", page_start=1,
                            page_end=1, char_start=0, char_end=len(text)), doc, 1.0)
    passage = SentenceCache().passages([hit], hashing.dim)[0]
    assert "算力" in passage.terms[0] and {"comput", "power"} <= passage.glossed_terms()[0]
    assert "comput" not in passage.terms[0]  # a Chinese question still matches the words themselves

    def coverage(terms):
        return measure_evidence("What does comprehensiveness require of computing power measurement?", [hit],
                                [set().union(*terms)], 0.5, lambda paper_id: set(),
                                lambda words: dict.fromkeys(words, 1.0)).coverage

    assert coverage(passage.glossed_terms()) >= 0.9 and coverage(passage.terms) < coverage(passage.glossed_terms()) - 0.2
