"""Reading-assistant reports: structured summaries, key points and multi-paper reviews, all cited.

Extractive by default, like answers: every sentence of a report is a sentence of a paper, chosen by

- ``salience``: how much of what the paper is about the sentence carries (the sum of its terms'
  weights in the paper's term profile, tf x library idf, over its damped length: the
  classic centroid summariser, which favours the gene names, methods and measures a paper keeps
  coming back to);
- ``facet cues``: words and section headings that mark an aim ("we aim", "本文提出"), a method
  ("we used", "采用"), data ("participants", "dataset", "样本"), a result ("we found", "结果表明")
  or a limitation ("limitation", "future work", "不足");
- MMR against the sentences already chosen, so a report does not repeat itself.

With an LLM backend the same chosen passages are handed to it with the ``summarize`` /
``keypoints`` / ``synthesis`` prompts and its text is verified like an answer's. A ``Report`` is
rendered by the front ends; its citations use the same objects as answers.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.citations import make_citation
from assistant.extractive import readable
from assistant.lexical import tokenize
from assistant.retrieval import query_language
from assistant.sentence_cache import split_passage
from assistant.sentence_kinds import KEYWORD_LABEL, is_back_matter_heading
from assistant.types import Citation, Paper, ScoredChunk

# A Chinese paper's stated limits and outlook: not "局限性" or "不足" said of earlier work or of a
# measure ("为打破当前网络设备封闭的局限性带来希望", "CPU 空闲率不足") nor "进一步提高" (improves
# further), which had filled the part.
_ZH_OUTLOOK = (r"不足之处|尚存在|存在(?:一定的?)?(?:不足|局限)|局限性在于|局限在于|有待|未来(?:的)?(?:工作|研究)|未来将|"
               r"下一步|今后|进一步(?:的)?(?:研究|工作|探索|优化|完善|改进|验证)")
FACETS: dict[str, tuple[str, str]] = {
    # facet: (cue pattern in the sentence, cue pattern in the section heading)
    "aim": (r"\b(we (aim|sought|set out|investigat|examin|propos|present|explor|ask)|this (study|paper|work) (aim|investigat|examin|propos|present)|here,? we|the (aim|goal|purpose|objective) of|to (determine|investigate|assess|understand|identify) (whether|how|the))|本文|旨在|目的(?:是|在于)|研究目的|提出|针对|为了解决",
            r"abstract|introduction|background|摘要|引言|前言|概述"),
    "methods": (r"\b(we (used|use|performed|applied|developed|designed|built|measured|analy[sz]ed|conducted|constructed|collected)|was (measured|performed|assessed|determined|calculated)|using (a|an|the)|method|approach|protocol|assay|model)\b|采用|方法|基于|设计|构建|实验|测试",
                r"method|material|experiment|procedure|approach|design|implementation|方法|实验|设计|实现|搭建"),
    "data": (r"\b(dataset|data set|data were|participants|patients|samples|cohort|corpus|collected|recruited|strains?|genotypes|subjects|respondents)\b|数据|样本|数据集|患者|受访",
             r"data|participants|sample|dataset|数据|样本"),
    "results": (r"\b(we (found|show|observed|identified|demonstrate)|results? (show|indicate|suggest|reveal)|(significantly|markedly) (increas|decreas|higher|lower|improv|reduc)|increased|decreased|improved|outperform|achiev|reached|led to)|\d+(\.\d+)?\s?%|结果表明|结果显示|实验结果|测试结果|仿真结果|表明|提高|降低|达到|优于|显著",
                r"result|finding|evaluation|performance|结果|测试|评估|性能|分析"),
    "limitations": (r"\b(limitation|limited|however|future (work|studies|research)|remain(s)? (unclear|unknown|to be)|may not|cannot|caveat|further (work|studies|research))\b|" + _ZH_OUTLOOK,
                    r"limitation|discussion|conclusion|outlook|future|讨论|结论|结束语|展望|总结"),
}
# A summary opens with an overview from the authors' own abstract (its most salient sentences, in
# their order), then the body's aim, methods, results and limitations. Dev summary questions, gold
# keywords mentioned: 72.6% without the overview (aim 2 sentences); with it 77.1% (en 67.8 -> 74.3,
# zh 83.1 either way). Two more body sentences instead (results 5) gave 75.1%; the abstract as a
# bonus on every facet's score instead of its own part traded English for Chinese (en 75.3, zh 68.7).
OVERVIEW_SENTENCES = 2
SUMMARY_PLAN = (("aim", 1), ("methods", 2), ("results", 3), ("limitations", 1))
# Headings in the reader's language: Chinese for Chinese papers (summaries, key points) and Chinese
# review topics, English otherwise. `--json` gives the same headings as the text output.
LABELS = {
    "en": {"overview": "Overview", "aim": "Aim", "methods": "Methods", "data": "Data", "results": "Main results",
           "limitations": "Limitations", "keypoints": "Key points", "synthesis": "Across the papers",
           "keywords": "Keywords", "key_terms": "Key terms", "summary": "Summary", "common": "common ground ({})", "differ": "where they differ",
           "theme": "Theme: {}", "other": "Other findings", "paper": "Paper", "method": "Method",
           "result": "Main result", "papers": "Papers", "none": "none",
           "no_text": "This paper has no body text to summarise.",
           "no_match": "No paper in the library matches this topic."},
    "zh": {"overview": "概述", "aim": "研究目的", "methods": "研究方法", "data": "数据", "results": "主要结果",
           "limitations": "局限与展望", "keypoints": "要点", "synthesis": "综合比较", "keywords": "关键词",
           "key_terms": "关键术语",
           "summary": "摘要", "common": "共同点（{}）", "differ": "不同点", "theme": "主题：{}", "other": "其他发现",
           "paper": "论文", "method": "方法", "result": "主要结果", "papers": "论文", "none": "无",
           "no_text": "该论文没有可供总结的正文。", "no_match": "文库中没有与该主题相关的论文。"},
}


def labels_for(papers: Sequence[Paper] = (), text: str = "") -> dict[str, str]:
    """Chinese headings when every paper is Chinese (or, with no papers, `text` is mostly Chinese)."""
    if not papers:
        return LABELS[query_language(text)]
    return LABELS["zh" if all((p.lang or "en") == "zh" for p in papers) else "en"]


# The main sections a paper's subsections belong to (numbered or not): a subheading alone ("Knockout
# of PWWP3 ...", "3.2 性能评估") does not say that its text is results or methods.
_MAIN_SECTION = re.compile(r"^\s*(?:\d{1,2}\.?\s*|[IVX]{1,4}\.\s*|[一二三四五六七八九十]{1,3}[、.．]\s*)?"
                           r"(?:abstract|summary|introduction|background|results?|discussion|conclusions?|methods?|"
                           r"materials|experimental|摘\s*要|引\s*言|前言|结果|讨论|结论|结束语|方法)\b", re.IGNORECASE)
_SKIP_SECTIONS = re.compile(r"reference|supplementary|peer review|参考文献", re.I)  # and back matter (sentence_kinds)


@dataclass(frozen=True)
class PaperSentence:
    hit: ScoredChunk  # the chunk the sentence is cited from (score 0: not a search hit)
    text: str
    terms: frozenset[str]
    section: str
    position: float  # 0 at the start of the paper, 1 at the end
    abstract: bool = False  # a sentence of the paper's abstract (its authors' own summary)


@dataclass(frozen=True)
class Report:
    """A summary, key-point list or review: titled sections of cited text, an optional table."""

    kind: str  # summary | keypoints | review
    title: str
    sections: tuple[tuple[str, str], ...]  # (heading, text with [n] markers)
    citations: tuple[Citation, ...]
    papers: tuple[Paper, ...]
    backend: str = "extractive"
    table: tuple[tuple[str, ...], ...] = ()  # review: header row, then one row per paper

    @property
    def text(self) -> str:
        return "\n".join(f"{heading}: {body}" for heading, body in self.sections)


def paper_sentences(paper: Paper, chunks) -> list[PaperSentence]:
    """A paper's sentences in reading order, each with the chunk it is cited from (no repeats
    from overlapping chunks; references, acknowledgements, bylines and the like left out)."""
    seen: set[str] = set()
    before: list[str] = []  # the previous chunk's sentences
    out: list[PaperSentence] = []
    total = max(1, len(chunks))
    abstract = _squash(paper.abstract)  # in the paper's own language (a Chinese paper's English one is a translation)
    top = ""  # the last main section seen ("Results"), for the subsections under it
    title = _squash(paper.title or "")
    for i, chunk in enumerate(chunks):
        if _MAIN_SECTION.match(chunk.section or ""):
            top = chunk.section
        if chunk.kind in ("meta", "table", "caption", "footnote") or _SKIP_SECTIONS.search(chunk.section or "") \
                or is_back_matter_heading(chunk.section):
            continue
        where = chunk.section or ""
        if top and where != top:  # "A. lwoffii forms less biofilm ..." is read as part of Results
            where = f"{top} › {where}"
        hit = ScoredChunk(chunk, paper, 0.0)
        keys = []
        for text in split_passage(chunk.text):
            key = _squash(text)
            keys.append(key)
            # A chunk's overlap with the one before can start mid-sentence ("变化，并且..."): that
            # tail of a sentence already seen whole is not a sentence of its own.
            if len(text) < 40 or key in seen or any(key in k for k in before):
                continue
            seen.add(key)
            in_abstract = len(key) >= 30 and key in abstract
            if not in_abstract and title and _squash(chunk.section or "") == title:
                continue  # under the title, before any heading: the byline and affiliations ("UCSF, San Francisco")
            out.append(PaperSentence(hit, text, frozenset(tokenize(text)), where, i / total, in_abstract))
        before = keys
    return out


def _squash(text: str) -> str:
    """Letters and digits only, lower-cased: the abstract the metadata kept and the same sentence
    in a chunk differ in spacing, hyphenation and marks."""
    return re.sub(r"\W+", "", text.lower())


def keyword_line(paper: Paper, chunks) -> PaperSentence | None:
    """The paper's own keyword list as printed (after its label, up to the last keyword the metadata
    reader kept, so running text after it is left out), to be cited like a sentence; None when the
    paper prints none. Authors' keywords name what a paper is about in its own terms: with them the
    dev summaries mention 72.6% of the gold keywords instead of 70.1%."""
    keywords = [k for k in (paper.keywords or paper.keywords_alt) if k]
    if not keywords:
        return None
    for i, chunk in enumerate(chunks):
        label = KEYWORD_LABEL.search(chunk.text) if chunk.kind == "body" else None
        if label is None:
            continue
        rest = chunk.text[label.end():]
        start = end = label.end() + len(rest) - len(rest.lstrip(" :：.．"))  # after "Keywords: "
        found = 0
        for keyword in keywords:
            at = chunk.text.find(keyword, end)
            if at >= 0 and at - end < 40:  # the next keyword follows its separator
                end, found = at + len(keyword), found + 1
        if found >= min(2, len(keywords)):
            quote = chunk.text[start:end]
            return PaperSentence(ScoredChunk(chunk, paper, 0.0), quote, frozenset(tokenize(quote)),
                                 chunk.section or "", i / max(1, len(chunks)))
    return None


# A paper that prints no keywords (most English journals here) gets its most distinctive terms
# instead, uncited (they are counts, not quotes): tf x idf over its body sentences, a term in at
# least KEY_TERM_SENTENCES of them (a methods supplier's name is in one). Dev summary questions,
# gold keywords mentioned: en 72.4 -> 73.4% (all 75.1 -> 75.8%), the project's 12 requests 85.4 -> 88.5%.
KEY_TERMS = 10
KEY_TERM_SENTENCES = 3


def key_terms(sentences: Sequence[PaperSentence], idf, n: int = KEY_TERMS) -> list[str]:
    """The paper's most distinctive terms (stems, best first): in many of its sentences, rare elsewhere."""
    counts = Counter(t for s in sentences for t in s.terms  # not numbers, nor initials ("t.y.j")
                     if len(t) > 2 and "." not in t and not any(c.isdigit() for c in t))
    counts = Counter({t: c for t, c in counts.items() if c >= KEY_TERM_SENTENCES})
    weights = idf(list(counts))
    return sorted(counts, key=lambda t: (-math.log1p(counts[t]) * weights.get(t, 0.0), t))[:n]


def salience(sentences: Sequence[PaperSentence], idf) -> np.ndarray:
    """Centroid score of each sentence in its paper's term profile (tf x idf), 0..1."""
    counts = Counter(t for s in sentences for t in s.terms)
    weights = idf(list(counts))
    profile = {t: math.log1p(n) * weights.get(t, 0.0) for t, n in counts.items() if n > 1}
    # Length damping: sum / (n + 4) ** 0.7. On the dev summary questions (keyword coverage) an
    # exponent of 0.3 / 0.5 / 0.7 / 1.0 gave 63.8 / 65.1 / 70.8 / 70.0%: long sentences pile up
    # weight without saying more.
    scores = np.array([sum(profile.get(t, 0.0) for t in s.terms) / (len(s.terms) + 4) ** 0.7 for s in sentences])
    return scores / scores.max() if len(scores) and scores.max() > 0 else scores


# A limitation said as one: the facet's cue words also catch "However, instead of flooding with
# liquid media, plates were flooded with water" (a method) and "include, but are not limited to".
_STATED_LIMITATION = re.compile(
    r"\b(limitations?|limited by|caveats?|shortcomings?|drawbacks?|beyond the scope|(?:were|was|are|is) not able to|"
    r"(?:were|was) unable to|remains? (?:unclear|unknown|to be)|future (?:work|studies|research)|"
    r"(?:further|more) (?:work|studies|research|experiments) (?:is|are|will be) (?:needed|required|warranted))\b|不足|局限|有待",
    re.I)
_NOT_A_LIMITATION = re.compile(r"not limited to", re.I)
# The cue of a sentence that only turns ("however", "may not", "进一步") counts this share. Dev
# summary keywords 75.8 -> 76.4% (at 0.3 the same), the project's 87.5 -> 88.5%; of the 16 + 12
# summaries' limitation lines, 11 changed, 8 of them to a stated limitation or future work.
WEAK_LIMITATION = 0.5


def facet_cues(sentences: Sequence[PaperSentence], facet: str) -> list[bool]:
    """Which sentences hold the facet's cue words ("we aim", "we found", "limitation", "局限", ...)."""
    cue = re.compile(FACETS[facet][0], re.I)
    return [bool(cue.search(s.text)) for s in sentences]


def facet_scores(sentences: Sequence[PaperSentence], facet: str, cues: Sequence[bool] | None = None) -> np.ndarray:
    """Each sentence's score for the facet: its cue words (`cues`, else `facet_cues`), its section's
    name, and where it stands in the paper (aims early, limitations late)."""
    section = re.compile(FACETS[facet][1], re.I)
    scores = []
    for s, cued in zip(sentences, facet_cues(sentences, facet) if cues is None else cues):
        if facet == "limitations" and cued:  # a stated limitation outweighs a "however"
            cued = 1.0 if _STATED_LIMITATION.search(s.text) and not _NOT_A_LIMITATION.search(s.text) else WEAK_LIMITATION
        score = 0.5 * cued + 0.35 * bool(section.search(s.section))
        if facet == "aim":
            score += 0.15 * (1 - s.position)  # aims are stated early
        elif facet == "limitations":
            score += 0.15 * s.position  # and limitations late
        scores.append(score)
    return np.array(scores)


def facet_picks(sentences: Sequence[PaperSentence], salience_scores: np.ndarray, facet: str, n: int,
                taken: set[str]) -> list[PaperSentence]:
    """A summary's sentences for one facet: salience plus the facet's cues (`facet_scores`), by MMR.

    Limitations come only from sentences whose words state one (the facet's cue): a paper that
    states none gets no such part. Picked by score alone, the part had been filled with whatever
    ranked best: on the corpus 7 of 33 summaries' "Limitations" held no limitation (a design
    summary, a result, an NMR peak list: "1H NMR(300 MHz, CDCl3): δ 7.27-7.16 ..."). Now 4 papers
    get none (3 Chinese, whose outlook cue `_ZH_OUTLOOK` no longer takes "局限性" said of earlier
    work or "进一步提高"); 3 quote a weak cue ("However, in vitro growth may not correlate with
    growth in the wild."). Dev summaries' gold keywords: 79.0 -> 78.3% (one Chinese keyword had
    been in a non-limitation); the project's 91.7% unchanged."""
    cues = facet_cues(sentences, facet)
    scores = 0.6 * salience_scores + facet_scores(sentences, facet, cues)
    if facet != "limitations":
        return choose(sentences, scores, n, taken)
    rows = [i for i, cued in enumerate(cues) if cued]
    return choose([sentences[i] for i in rows], scores[rows], n, taken) if rows else []


_CONCLUSIONS = re.compile(r"conclusion|concluding|summary|结论|结束语|总结|结语", re.I)


def author_claims(sentences: Sequence[PaperSentence]) -> np.ndarray:
    """Where the authors state their main claims themselves: 1 for a sentence of their abstract, 0.5
    for one under a conclusions heading, else 0 (a prior for key points)."""
    return np.array([1.0 if s.abstract else 0.5 if _CONCLUSIONS.search(s.section or "") else 0.0 for s in sentences])


def overview(sentences: Sequence[PaperSentence], salience_scores: np.ndarray, taken: set[str]) -> list[PaperSentence]:
    """The abstract's most salient sentences (MMR), in the abstract's order; none when the paper's
    abstract was not found among its sentences."""
    rows = [i for i, s in enumerate(sentences) if s.abstract]
    chosen = choose([sentences[i] for i in rows], salience_scores[rows], OVERVIEW_SENTENCES, taken) if rows else []
    return sorted(chosen, key=sentences.index)


def choose(sentences: Sequence[PaperSentence], scores: np.ndarray, n: int, taken: set[str]) -> list[PaperSentence]:
    """n sentences by MMR over term overlap, skipping those already used elsewhere in the report."""
    order = list(np.argsort(-scores))
    chosen: list[PaperSentence] = []
    while order and len(chosen) < n:
        best_i, best_value = None, -1e9
        for i in order[:80]:
            s = sentences[i]
            overlap = max((len(s.terms & c.terms) / (len(s.terms | c.terms) or 1) for c in chosen), default=0.0)
            value = scores[i] - 0.5 * overlap
            if value > best_value:
                best_i, best_value = i, value
        order.remove(best_i)
        pick = sentences[best_i]
        if pick.text in taken:
            continue
        taken.add(pick.text)
        chosen.append(pick)
    return sorted(chosen, key=lambda s: s.position)


class Citer:
    """Numbers citations across one report: the same sentence cited twice keeps its number."""

    def __init__(self, locate_page):
        self.locate_page = locate_page
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[str, str], int] = {}

    def cite(self, sentence: PaperSentence) -> str:
        key = (sentence.hit.chunk.id, sentence.text)
        if key not in self._numbers:
            n = len(self.citations) + 1
            self._numbers[key] = n
            self.citations.append(make_citation(n, sentence.hit, sentence.text, self.locate_page))
        return f"{readable(sentence.text)} [{self._numbers[key]}]"

    def cite_all(self, sentences: Sequence[PaperSentence]) -> str:
        return " ".join(self.cite(s) for s in sentences)
