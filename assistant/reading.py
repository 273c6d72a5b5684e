"""The reading assistant's verbs: summarize papers, extract key points, review a topic.

Built on ``assistant.summaries`` (sentence pools, salience, facets, MMR, citation numbering) and
on the ``Answerer`` (library, embedder, optional LLM, sentence cache, page locator).

- ``summarize``: per paper aim / methods / main results / limitations; with several papers, also
  "Across the papers": where they agree (sentences about the salient terms they share) and where
  they differ (each paper's most salient sentence about terms the others lack).
- ``keypoints``: the n most salient result-like sentences, spread over the papers.
- ``review``: the papers most relevant to a topic, findings grouped by the themes (salient terms)
  they share, and a comparison table paper x aim / method / data / main result, every cell cited.

With an LLM backend, per-paper summaries and key points are written by the model from the chosen
passages and verified like answers (unsupported sentences removed or flagged); themes, table and
the cross-paper comparison stay extractive, so their cells are always exact quotes.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from assistant.answering import Answerer
from assistant.lexical import has_cjk, tokenize
from assistant.lexicon import concepts
from assistant.retrieval import Filters, retrieve
from assistant.sentence_kinds import leans_back
from assistant.summaries import (KEY_TERMS, LABELS, SUMMARY_PLAN, Citer, PaperSentence, Report, author_claims,
                                 choose, facet_picks, facet_scores, key_terms, keyword_line, labels_for, overview,
                                 paper_sentences, salience)
from assistant.types import Answer, Paper
from ingest.textfix import english_words
from prompts import render_prompt

MAX_PAPERS = 20
KEYPOINT_CLAIM_WEIGHT = 0.2  # see keypoints
# A key point is read alone: one that opens by pointing back ("Conversely, those signatures ...",
# "However, 10% of the UMRs ...") loses this much (sentence_kinds.leans_back). Dev summary items,
# 5 key points each: such openers 13 -> 3 of 80, gold keywords found 67.6 -> 67.5% (0.2: 2 of 80,
# 67.5%; 0.3: 66.8%). Summaries keep them: there a sentence follows others of its paper, and the
# same penalty cost their keywords (76.5 -> 75.2%).
LEANS_BACK_PENALTY = 0.1


class ReadingAssistant:
    def __init__(self, answerer: Answerer):
        self.answerer = answerer
        self.library = answerer.library
        self._sentences: dict[str, tuple[list[PaperSentence], np.ndarray]] = {}
        self._keywords: dict[str, PaperSentence | None] = {}  # filled from the same chunk read

    def sentences(self, paper: Paper) -> tuple[list[PaperSentence], np.ndarray]:
        if paper.id not in self._sentences:
            chunks = self.library.catalogue.paper_chunks(paper.id)
            pool = paper_sentences(paper, chunks)
            self._sentences[paper.id] = (pool, salience(pool, self.library.indexes().lexical.idf))
            self._keywords[paper.id] = keyword_line(paper, chunks)
        return self._sentences[paper.id]

    def keywords(self, paper: Paper) -> PaperSentence | None:
        """The paper's printed keyword list, citable (``summaries.keyword_line``), or None."""
        self.sentences(paper)
        return self._keywords[paper.id]

    def key_terms(self, paper: Paper, n: int = KEY_TERMS) -> list[str]:
        """The paper's most distinctive terms as it writes them (``summaries.key_terms``), each once."""
        pool, _ = self.sentences(paper)
        idf = self.library.indexes().lexical.idf
        words = _surface(key_terms(pool, idf, 2 * n), [paper], self, keep_case=True)
        first: dict[str, str] = {}  # two stems can read as one word ("fine", "fine-tun": "fine-tuning")
        for word in words:
            first.setdefault(word.lower(), word)
        return list(first.values())[:n]

    # -- summaries ------------------------------------------------------------------------
    def summarize(self, papers: Sequence[Paper]) -> Report:
        papers = _check_papers(papers)
        citer = Citer(self.answerer.locate_page)
        taken: set[str] = set()
        sections: list[tuple[str, str]] = []
        label = labels_for(papers)
        for paper in papers:
            prefix = f"{_short(paper)} · " if len(papers) > 1 else ""
            pool, sal = self.sentences(paper)
            if not pool:
                sections.append((f"{prefix}{label['summary']}", label["no_text"]))
                continue
            picks = {"overview": overview(pool, sal, taken)}
            picks.update((facet, facet_picks(pool, sal, facet, n, taken)) for facet, n in SUMMARY_PLAN)
            if self.answerer.llm is not None:
                sections += self._llm_sections(prefix, paper, [s for ss in picks.values() for s in ss], citer,
                                               "summarize", {})
            else:
                sections += [(f"{prefix}{label[f]}", citer.cite_all(ss)) for f, ss in picks.items() if ss]
            keywords = self.keywords(paper)
            if keywords is not None:
                sections.append((f"{prefix}{label['keywords']}", citer.cite(keywords)))
            elif terms := self.key_terms(paper):
                sections.append((f"{prefix}{label['key_terms']}", ", ".join(terms)))
        if len(papers) > 1:
            # the synthesis may cite a sentence the per-paper parts used (it keeps its number):
            # short papers have few sentences to spare
            sections += self._synthesis(papers, citer, set(), label)
        title = papers[0].title if len(papers) == 1 else f"{len(papers)} papers"
        return Report("summary", title, tuple(sections), tuple(citer.citations), tuple(papers), self.answerer.backend)

    def keypoints(self, papers: Sequence[Paper], n: int = 5) -> Report:
        papers = _check_papers(papers)
        if not 1 <= n <= 50:
            raise ValueError("the number of key points must be between 1 and 50")
        citer = Citer(self.answerer.locate_page)
        pool: list[PaperSentence] = []
        scores: list[float] = []
        for paper in papers:
            sentences, sal = self.sentences(paper)
            pool += sentences
            # Key points are the claims the authors themselves make in their abstract and
            # conclusions. Dev summary items, gold keywords found in 5 key points (a proxy; no
            # key-point gold exists): 57.8% without this prior, 67.6% with it (en 54.6 -> 68.8%,
            # zh 64.9% either way); abstract weight 0.1 / 0.4: 60.6 / 63.1% (without conclusions).
            scores += list(0.6 * sal + 0.3 * facet_scores(sentences, "results") + 0.1 * facet_scores(sentences, "aim")
                           + KEYPOINT_CLAIM_WEIGHT * author_claims(sentences)
                           - LEANS_BACK_PENALTY * np.array([leans_back(s.text) for s in sentences], dtype=float))
        picks = self._spread(pool, np.array(scores), n, len(papers))
        if self.answerer.llm is not None and picks:
            sections = self._llm_sections("", papers[0], picks, citer, "keypoints", {"n": n})
        else:
            sections = [(labels_for(papers)["keypoints"], "\n".join(f"- {citer.cite(s)}" for s in picks))]
        title = papers[0].title if len(papers) == 1 else f"{len(papers)} papers"
        return Report("keypoints", title, tuple(sections), tuple(citer.citations), tuple(papers), self.answerer.backend)

    # -- review ---------------------------------------------------------------------------
    def review(self, topic: str, n: int = 10, filters: Filters = Filters()) -> Report:
        topic = (topic or "").strip()
        if not topic:
            raise ValueError("the review topic is empty")
        if not 1 <= n <= MAX_PAPERS:
            raise ValueError(f"a review covers 1 to {MAX_PAPERS} papers")
        hits = retrieve(self.library, self.answerer.embedder, topic, self.answerer.settings.retrieval,
                        k=60, filters=filters)
        weight: Counter[str] = Counter()
        papers: dict[str, Paper] = {}
        for hit in hits:
            weight[hit.paper.id] += hit.score
            papers[hit.paper.id] = hit.paper
        chosen = [papers[pid] for pid, _ in weight.most_common(n)]
        label = labels_for(text=topic)
        if not chosen:
            return Report("review", topic, ((label["papers"], label["no_match"]),), (), (), self.answerer.backend)
        wanted = concepts(tokenize(topic))
        citer = Citer(self.answerer.locate_page)
        taken: set[str] = set()
        rows = [(label["paper"], label["aim"], label["method"], label["data"], label["result"])]
        findings: dict[str, list[PaperSentence]] = {}
        for paper in chosen:
            pool, sal = self.sentences(paper)
            relevance = _relevance(pool, wanted)
            cells = [_short(paper)]
            for facet in ("aim", "methods", "data", "results"):
                pick = choose(pool, 0.4 * sal + 0.4 * facet_scores(pool, facet) + 0.2 * relevance, 1, taken)
                cells.append(citer.cite(pick[0]) if pick else "-")
            rows.append(tuple(cells))
            findings[paper.id] = choose(pool, 0.4 * sal + 0.3 * facet_scores(pool, "results") + 0.3 * relevance, 3, set())
        sections = self._themes(chosen, findings, citer, {t for t, _ in wanted}, label)
        return Report("review", topic, tuple(sections), tuple(citer.citations), tuple(chosen),
                      self.answerer.backend, table=tuple(rows))

    # -- helpers --------------------------------------------------------------------------
    def _spread(self, pool, scores, n, paper_count) -> list[PaperSentence]:
        """n sentences by MMR, but first the best of each paper when there are enough slots."""
        picks: list[PaperSentence] = []
        taken: set[str] = set()
        if paper_count > 1 and n >= paper_count:
            by_paper: dict[str, list[int]] = {}
            for i, s in enumerate(pool):
                by_paper.setdefault(s.hit.paper.id, []).append(i)
            for indexes in by_paper.values():
                best = max(indexes, key=lambda i: scores[i])
                picks.append(pool[best])
                taken.add(pool[best].text)
        picks += choose(pool, scores, n - len(picks), taken)
        return picks

    def _synthesis(self, papers: Sequence[Paper], citer: Citer, taken: set[str],
                   label: dict[str, str]) -> list[tuple[str, str]]:
        profiles = {}
        for paper in papers:
            pool, sal = self.sentences(paper)
            counts = Counter(t for s in pool for t in s.terms if len(t) > 2 and not any(ch.isdigit() for ch in t))
            idf = self.library.indexes().lexical.idf(list(counts))
            # the paper's profile: its 60 terms with the highest tf x idf (what it is about)
            ranked = sorted(counts, key=lambda t: -np.log1p(counts[t]) * idf[t])
            profiles[paper.id] = set(ranked[:60])
        shared = Counter(t for terms in profiles.values() for t in terms)
        common = {t for t, c in shared.items() if c >= 2}
        agree, differ = [], []
        for paper in papers:
            pool, sal = self.sentences(paper)
            if not pool:
                continue
            own = profiles[paper.id] - common
            on_common = np.array([len(s.terms & common) for s in pool], float)
            on_own = np.array([len(s.terms & own) for s in pool], float)
            if common:
                agree += choose(pool, sal + on_common / (on_common.max() or 1), 1, taken)
            differ += choose(pool, sal + on_own / (on_own.max() or 1), 1, taken)
        terms = ", ".join(_surface(sorted(common, key=lambda t: -shared[t])[:6], papers, self)) or label["none"]
        out = []
        if agree:
            out.append((f"{label['synthesis']} · {label['common'].format(terms)}", citer.cite_all(agree)))
        if differ:
            out.append((f"{label['synthesis']} · {label['differ']}", citer.cite_all(differ)))
        return out

    def _themes(self, papers, findings, citer, topic: set[str], label: dict[str, str]) -> list[tuple[str, str]]:
        """Group findings by the terms that several papers' findings share: the review's own topic
        words, or specialised ones. An everyday English word ("many", "profiles") names no theme
        even when two papers' findings both use it."""
        counts = Counter(t for fs in findings.values() for t in {t for s in fs for t in s.terms})
        everyday = _everyday_stems()
        themes = [t for t, c in counts.most_common() if c >= 2 and len(t) > 2 and not t.isdigit()
                  and (t in topic or t not in everyday)][:4]
        sections, used = [], set()
        for term in themes:
            members = [s for fs in findings.values() for s in fs if term in s.terms and s.text not in used]
            if len(members) < 2:
                continue
            used.update(s.text for s in members)
            name = _surface([term], papers, self)[0]
            sections.append((label["theme"].format(name), " ".join(citer.cite(s) for s in members)))
        rest = [s for fs in findings.values() for s in fs[:1] if s.text not in used]
        if rest:
            sections.append((label["other"], " ".join(citer.cite(s) for s in rest)))
        return sections

    def _llm_sections(self, prefix, paper, picks, citer, prompt, extra) -> list[tuple[str, str]]:
        """Hand the chosen sentences' passages to the LLM and keep what survives verification."""
        answerer = self.answerer
        passages = list({s.hit.chunk.id: s.hit for s in picks}.values())[: answerer.settings.answer.llm_passages]
        from assistant.citations import number_passages

        text = answerer.llm.complete([{"role": "user", "content": render_prompt(
            answerer.settings.llm.prompt_version, prompt, title=paper.title or paper.doi,
            passages=number_passages(passages), **extra)}], max_tokens=answerer.settings.llm.max_tokens)
        base = Answer(question=paper.title, text="", abstained=False, citations=(), evidence=tuple(passages),
                      backend=answerer.backend)
        checked = answerer.verify(base, text, passages)
        if checked.abstained:
            return [(f"{prefix}{LABELS['en']['summary']}", "The model's text was not supported by the passages; extractive fallback is "
                     "not used silently. Try the extractive backend.")]
        offset = len(citer.citations)
        for c in checked.citations:
            citer.citations.append(type(c)(**{**c.__dict__, "n": c.n + offset}))
        body = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", checked.text)
        label = labels_for([paper])
        return [(f"{prefix}{label['summary'] if prompt == 'summarize' else label['keypoints']}", body)]


@functools.lru_cache(maxsize=1)
def _everyday_stems() -> frozenset[str]:
    """Stems of the whole words of the bundled model's general-English vocabulary (empty without it)."""
    return frozenset(t for w in english_words() for t in tokenize(w))


def _relevance(pool: Sequence[PaperSentence], wanted) -> np.ndarray:
    if not wanted or not pool:
        return np.zeros(len(pool))
    scores = np.array([sum(1 for _, forms in wanted if not forms.isdisjoint(s.terms)) for s in pool], float)
    return scores / len(wanted)


def _check_papers(papers: Sequence[Paper]) -> list[Paper]:
    papers = list({p.id: p for p in papers}.values())
    if not papers:
        raise ValueError("give at least one paper (DOI or id)")
    if len(papers) > MAX_PAPERS:
        raise ValueError(f"at most {MAX_PAPERS} papers at once")
    return papers


def _short(paper: Paper, width: int = 60) -> str:
    title = paper.title or paper.doi or paper.id
    return title if len(title) <= width else title[: width - 1].rstrip() + "…"


def _surface(terms: Sequence[str], papers: Sequence[Paper], assistant: ReadingAssistant,
             keep_case: bool = False) -> list[str]:
    """A readable word for each stemmed term: the commonest word in the papers that stems to it
    (lower-cased unless all capitals, or as written with `keep_case`: "Acinetobacter")."""
    out = []
    for term in terms:
        if has_cjk(term):  # a jieba word reads as it is (a \w+ run of Chinese is a whole clause)
            out.append(term)
            continue
        words: Counter[str] = Counter()
        for paper in papers:
            for s in assistant.sentences(paper)[0]:
                if term in s.terms:
                    for word in re.findall(r"[\w\-]+", s.text):
                        if term in tokenize(word):
                            words[word if keep_case or word.isupper() else word.lower()] += 1
        out.append(words.most_common(1)[0][0] if words else term)
    return out
