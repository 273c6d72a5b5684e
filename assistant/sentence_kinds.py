"""Priors on kinds of sentence: keyword lines, captions, back matter, definitions, back-pointing openers.

Term coverage and MiniLM similarity (``assistant.extractive``) rate a sentence by the words it
shares with the question, and some kinds of line share many words while saying little:

- A paper's **keyword line** lists the topic's words, so it covers a question well, yet it states no
  finding: "Keywords: Deinococcus radiodurans; methyltransferase; ..." answered what the paper
  concluded. It keeps ``KEYWORD_LINE_SHARE`` of its score (it can still win when nothing else does).
- A **figure or table caption** ("Figure 1: Overview of research questions considered in
  LONGEVAL.", "Figure 3. A m4C restriction-modification system inhibits plasmids ...") is short
  and names the topic, so it led answers to "What is LongEval?" that the paper's own definitions
  answer. It keeps ``CAPTION_SHARE``; a caption that states a result still wins when no body
  sentence says as much. Dev questions: cited gold 83.5% at shares 1.0, 0.9 and 0.8 alike.
- For a **definition question** ("What is S2ORC?", "What are ADARs?", "什么是算力网络？"), a
  sentence that defines the asked term ("We introduce S2ORC, a large corpus of ...", "The R-M
  system, comprising DNA methyltransferases ...", "算力网络是……") gains ``DEFINITION_BOOST``.

- **Back matter** (acknowledgements, funding, author contributions and details, competing
  interests, data and code availability, ethics approval) states no finding, yet its long run-on
  lines name places and topics: "What is the population of Malawi?" cited a 600-character
  acknowledgement ("... Lilongwe, Malawi for reviewing this article ..."). Such a sentence keeps
  ``BACK_MATTER_SHARE``, unless the question asks about that matter ("Who funded ...?").

- **Publishing matter** printed around the first page's text (CLC number, received and accepted
  dates, funding items, author bios, correspondence: "混合式度量方法中图法分类号 TP391 收稿日期：
  2023-01-03；", "Foundation Items: The National Natural Science Foundation of China ...") is glued
  into sentences by the page's reading order and names the topic, yet says nothing about it. A
  sentence holding such a label keeps ``FRONT_MATTER_SHARE``.

- For a question about **findings** ("What did the authors find about biofilm formation ...?",
  "... what did each conclude?", "what does each report?", "发现了什么"), a sentence that cites other
  work ("(14, 15)", NAR's "( 32 )", "[9]", "Smith et al., 2010", "文献[3]") is background, not the
  paper's own result: it keeps ``CITING_SHARE``. Dev questions: cited gold unchanged (82.4%),
  multi-paper answers stating the reference's numbers 33.3 -> 41.7% (at 0.6 and 0.8 alike; 0.6
  since the leaning-back rule below also weighs the paper's own "Therefore, the biofilm-forming
  capacity ... were determined."). "report" and the spaced citation: no figure moved, but "...
  what consequence does each report?" no longer quotes "The H3K79 methylation mark was also
  reported to accumulate ... ( 32 )" from a paper's introduction.

- For a question about findings, a sentence under a paper's **introduction**, background or related
  work ("Introduction", "Background", "7 Related work", "0 引言", "1 相关工作") says what others found or
  why the work was done, not what it found: it keeps ``INTRODUCTION_SHARE``. "... How does
  temperature figure in the main conclusion of each?" had quoted the E. coli paper's introduction
  ("RNA helicases, ... and small GTPases stimulate ribosome assembly, in particular at lower
  temperatures (for review ( 42 )).") over its abstract's "We have constructed an Escherichia coli
  strain lacking 10 genes ... This strain exhibits severely compromised growth and ribosome assembly,
  especially at lower temperatures." Dev: cited gold 89.0 -> 90.1% (several-paper en 33.3 -> 50%),
  the rest unchanged, at 0.8 and 0.6 alike; the project's questions unchanged (74.6%).

- **Table text read as prose**: a Chinese "sentence" of 80 or more characters without a comma,
  enumeration comma, semicolon or colon is table cells run together ("模态类型多元网络模态应用主要功能
  IPv4 模态基于IPv4 地址的寻址和转发基于ARP 的地址解析……", a table that PyMuPDF's table finder
  missed); Chinese prose puts a comma every 15-30 characters. So is a run of 12 or more words of
  which 40% or more are numbers ("Cefotaxime (μg/mL) 256 2 8192 16 Chlorhexidine (%) 0.0017 ...",
  led "What did the authors find about biofilm formation?"). It keeps ``TABLE_TEXT_SHARE``. On the
  corpus this marks 4 Chinese and 25 Latin runs: tables, NMR peak lists, journal lines, no prose.

- A sentence that **leans back** on the one before it ("However, ...", "These results ...",
  "In addition, ...", "因此……") is half a thought when read alone: key points
  (``assistant.reading``) weigh it less, and as an answer sentence it keeps ``LEANS_BACK_SHARE``
  ("What are ADARs?" led with "In addition, we provide the first evidence that ADAR mutant
  animals ..."). Dev questions: answers stating the reference's numbers 71.7 -> 74.8%, cited gold
  82.4 -> 83.5% (at 0.9 and 0.7: 73.2 / 72.7% and 82.4%).

- For a question that asks for a **quantity** ("How many ...?", "At what temperature ...?", "What
  rates of bleeding ...?", "多少", "几个"), a sentence that states a number of its own ("52.9 °C",
  "4.7-fold", "exceed 50%", "75 ms"; not a name such as "Kir6.2-S118L", a citation or a pointer such
  as "Fig. 3", "表2", "(14, 15)") gains ``QUANTITY_BOOST``: the answers led with the sentence that
  named the measurement ("Here, we ... measure the optimal GDP-binding temperature ...") and not the
  one that gave it. Dev questions: cited gold 89.0 -> 90.1%, answers stating the reference's
  numbers 78.8 -> 83.8% (at 1.1 / 1.2: 80.9 / 80.5%; at 1.5: 85.2%, but a Chinese factoid lost its
  gold). The project's own 24 quantity questions (``eval/quantity_questions.jsonl``, written from
  the papers without running Souwen, not used to choose the value): numbers 68.4 -> 75.0% (the
  same at 1.2 to 1.5), cited gold unchanged; its own English questions on Chinese papers: cited
  gold 46.2 -> 53.8%. A sentence that gives the number in the unit asked for ("at 20°C" for "at
  what temperature", "4.7-fold" for "how much longer", "%" for "what share", "ms" for "时延") gains
  ``UNIT_BOOST`` on top: dev numbers 83.8 -> 85.2% (the same at 1.3), cited gold unchanged; the
  project's own quantity and Chinese questions (44): cited gold 75.0 -> 77.3%.

- For a question that asks **why** ("Why does an IP address cause mobility problems ...?", "为什么选择
  熵权法……？", "……这是什么原因？"), a sentence that gives a reason ("because", "due to", "in order
  to", "由于", "原因是", "目的是", "为了") gains ``REASON_BOOST``: the answers led with sentences that
  restate the question's topic ("本文利用熵权法去分析静态指标……") before the one that says why
  ("采用熵权法的目的是由于熵权法是一种客观赋权方法……").

Leaves out: definitions of a term other than the one asked about, and questions that ask for a
definition in other words ("Define X", "What does X stand for?").
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.captions import parse_caption_start
from ingest.headings import BYLINE_NAME, bare_name, heading_name
from ingest.headings import PUBLISHING_MATTER as _FRONT_MATTER

KEYWORD_LINE_SHARE = 0.5
CAPTION_SHARE = 0.8
DEFINITION_BOOST = 1.4
BACK_MATTER_SHARE = 0.7
FRONT_MATTER_SHARE = 0.5
CITING_SHARE = 0.6
INTRODUCTION_SHARE = 0.8
LEANS_BACK_SHARE = 0.8
TABLE_TEXT_SHARE = 0.5
QUANTITY_BOOST = 1.3
UNIT_BOOST = 1.15
REASON_BOOST = 1.2
TABLE_TEXT_CHARS = 80  # Chinese characters without a comma-like mark: table cells, not prose
# A first page's byline (three or more names with their affiliation marks, as the parser tells a
# byline from a heading: "Kayla Thomason1☯, Md Ali Babar1☯*, John E. Erickson1☯, ...") and PLOS's
# sidebar citation ("Citation: Thomason K, Babar MA, ..."; MDPI's "Citation: Shi, C.; ..." is
# publishing matter already) carry the title's words: they led answers and summaries of the paper.
BYLINE_NAMES = 3
_PLOS_CITATION = re.compile(r"\b(?i:citation)\s*[:：]\s*[A-Z][\w'-]+\s+[A-Z]{1,3},")

# Also the sections a summary never quotes (assistant.summaries); "a c kno": a kerning-split heading.
_BACK_MATTER = (r"acknowledge?ments?|a\s?c\s?kno|funding|financial support|grants?\b|author(?:s'|s’|’s)?\s*"
                r"(?:contributions?|details|information|affiliations|orcids)|competing (?:financial )?interests?|"
                r"conflicts? of interests?|declarations?|(?:data|code|materials?)(?: and (?:code|materials?))? availability|"
                r"availability of data|ethics? approval|ethical considerations|consent (?:for publication|to participate)|"
                r"致\s*谢|基金|资助|作者贡献|利益冲突|作者简介")
_BACK_SECTION = re.compile(rf"^\s*(?:\d+(?:\.\d+)*\.?\s*)?(?:{_BACK_MATTER})", re.IGNORECASE)
# The question asks about the back matter itself ("Who funded the study?", "Is the code available?")
_ASKS_BACK = re.compile(r"fund|grant|acknowledg|contribut|competing|conflict|availab|ethic|consent|资助|基金|致谢|贡献|"
                        r"github|\burl\b|\blinks?\b|download|website|repositor|网址|链接|下载|代码", re.IGNORECASE)

# A sentence that is nothing but a link, after a footnote mark ("1 https://github.com/..."): where
# something is kept, which only a question about access wants. It quoted a bare URL for "What is LongEval?".
_LINK_ONLY = re.compile(r"^\s*(?:\d{1,3}|[*†‡§¶#])?\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)
# A compliance statement (animal-care or ethics approval, informed consent) states no finding, wherever
# it stands: "Amphibian infection model We performed all investigations involving live vertebrate
# animals following published protocols approved by the ... Institutional Animal Care and Use
# Committee" was quoted for what infection assays found. Eight such sentences on the corpus.
_COMPLIANCE = re.compile(r"\b(?:IACUC|institutional animal care and use committee|institutional review board|"
                         r"ethics? committee|ethic(?:s|al) approval|informed consent|declaration of helsinki)\b|"
                         r"伦理委员会|知情同意", re.IGNORECASE)

KEYWORD_LABEL = re.compile(r"key ?words?|index terms|关\s*键\s*[词字]", re.IGNORECASE)  # also assistant.summaries
_KEYWORD_LINE = re.compile(rf"^\s*(?:{KEYWORD_LABEL.pattern})\s*[:：.—-]", re.IGNORECASE)

# "What is X?", "What are the X?", "Who is X?"; "什么是X？", "X是什么？"
_ASKS_EN = re.compile(r"^\s*(?:what|who)\s+(?:is|are)\s+(?:an?\s+|the\s+)?(.+?)\s*\??\s*$", re.IGNORECASE)
_ASKS_ZH = re.compile(r"^\s*(?:什么是|何为|何谓)(.+?)[？?]?\s*$|^\s*(.+?)是什么[？?]?\s*$")
_ARTICLE = r"(?:an?|the)\s+"


# A question about what the paper found, and a sentence that cites other work (numbered, author-year,
# superscript "fine-tuning38, 39", or Chinese "文献[3]"); "(2) LONGEVAL, a set ..." is a list item.
_ASKS_FINDINGS = re.compile(r"\bfind|\bfound\b|\bshow|\bresults?\b|\bconclu|\bobserv|\breport|发现|结果|结论", re.IGNORECASE)
_NUMBERED = r"\d{1,3}(?:\s*[,\u2013-]\s*\d{1,3})*"  # "14", "14, 15", "3-5": reference or equation numbers
_CITES = re.compile(rf"\(\s?{_NUMBERED}\s?\)(?=\s*[.,;:]|\s*$)|\[{_NUMBERED}\]|"
                    r"et al\.,?\s*\(?(?:19|20)\d\d|[a-z]\d{1,3}(?:,\s?\d{1,3})+\b|文献\s*\[")

# A question that asks for a quantity, and a sentence that states one: a number standing on its own
# ("55 ms", "4.7-fold", "37 °C", "62%"), not part of a name ("Kir6.2-S118L", "MK-D1"), a citation,
# or a pointer to a figure, table or equation ("Fig. 3", "表2", "(14)").
_ASKS_QUANTITY = re.compile(
    r"\bhow\s+(?:much|many|often|long|far|large|big|small|high|low|fast|quickly|strongly|old|frequently)\b|"
    r"\bby\s+how\s+much\b|\b(?:what|which)\s+(?:[\w-]+\s+){0,3}?(?:percentages?|proportions?|share|fractions?|rates?|"
    r"ratios?|temperatures?|concentrations?|doses?|resolutions?|sizes?|accuracy|scores?|values?|levels?|speeds?|"
    r"durations?|thresholds?|costs?|prices?|amounts?|yields?|efficienc(?:y|ies)|precision|recall|lengths?|weights?|"
    r"mass|times?|numbers?|counts?)\b|\bat\s+what\s+\w+|多少|多大|多高|多低|多长|多快|几[个次倍种类台篇天年小时分钟秒]|比例|百分|倍",
    re.IGNORECASE)
_POINTER = re.compile(r"\b(?:fig(?:ure)?s?\.?|tables?|eqs?\.?|equations?|sections?|refs?\.?|supplementary)\s*[A-Z]?\d+[A-Za-z]?|"
                      rf"[图表式]\s*[A-Z]?\d+|\({_NUMBERED}\)", re.IGNORECASE)
_STANDALONE_NUMBER = re.compile(r"(?<![A-Za-z0-9_.\-/])\d+(?:[.,]\d+)*(?![A-Za-z0-9_])|(?<![A-Za-z0-9_.])\d+(?:\.\d+)?(?=\s?(?:%|°|℃|-?fold\b|×))")


# What a quantity question asks for, and the units a sentence states it in: a sentence giving the
# number in the asked unit ("at 20°C" for "at what temperature", "4.7-fold" for "how much longer")
# gains UNIT_BOOST on top of QUANTITY_BOOST.
_UNITS = (
    (re.compile(r"temperature|温度", re.I), re.compile(r"°\s?C|℃|\bdegrees?\b|摄氏")),
    (re.compile(r"percent|proportion|\bshare\b|fraction|比例|百分|占比", re.I), re.compile(r"%|percent|百分之")),
    (re.compile(r"\bfold\b|how much (?:higher|lower|longer|shorter|faster|slower|more|less|greater|smaller)|倍", re.I),
     re.compile(r"fold|×|倍|\btimes\b")),
    (re.compile(r"how long|duration|latency|delay|时延|时长|多久|多长时间|耗时", re.I),
     re.compile(r"\d\s?(?:ms|s|sec|seconds?|min|minutes?|h|hr|hours?|days?|weeks?|months?|years?)\b|毫秒|秒|分钟|小时|天")),
)


# A question that asks why, and a sentence that gives a reason or a purpose.
_ASKS_REASON = re.compile(r"\bwhy\b|\bwhat\s+(?:is|was|are|were)\s+the\s+(?:main\s+)?reasons?\b|\bfor\s+what\s+reason|"
                          r"\bwhat\s+explains\b|\bhow\s+come\b|为什么|为何|何故|什么原因|原因是什么|什么缘故", re.IGNORECASE)
_GIVES_REASON = re.compile(r"\bbecause\b|\bdue\s+to\b|\bowing\s+to\b|\bas\s+a\s+result\s+of\b|\bthe\s+reasons?\b|"
                           r"\bin\s+order\s+to\b|\bso\s+that\b|\bcaused\s+by\b|\battributed\s+to\b|\bexplain(?:s|ed)?\b|"
                           r"\bresults?\s+from\b|\bsince\s+(?!\d|then\b|(?:the\s+)?(?:early|late|mid|beginning|start|inception|discovery)\b)|"
                           r"由于|因为|原因|目的|为了|以便|旨在|归因|之所以|在于", re.IGNORECASE)


def asked_units(question: str) -> tuple[re.Pattern, ...]:
    """The unit patterns of what `question` asks for (temperature, share, fold change, duration)."""
    return tuple(unit for asks, unit in _UNITS if asks.search(question))


def states_quantity(text: str) -> bool:
    """Does the sentence state a number of its own (not a name, citation or figure pointer)?"""
    return bool(_STANDALONE_NUMBER.search(_POINTER.sub(" ", _CITES.sub(" ", text))))

# Table text read as prose: Han characters, and the marks that end a clause
_HAN = re.compile(r"[\u4e00-\u9fff]")
_CLAUSE_MARK = re.compile(r"[，,、；;：:]")
_NUMBER_WORD = re.compile(r"^[<>≤≥~±(]*[\d.,]+%?\)*[,;]?$")


def table_text(text: str) -> bool:
    """Table cells read as a sentence: a long run of Chinese without a clause mark, or 12+ words of
    which 40% or more are numbers ("Cefotaxime (μg/mL) 256 2 8192 16 Chlorhexidine (%) 0.0017 ...")."""
    if len(_HAN.findall(text)) >= TABLE_TEXT_CHARS and not _CLAUSE_MARK.search(text):
        return True
    words = text.split()
    return len(words) >= 12 and sum(bool(_NUMBER_WORD.match(w)) for w in words) >= 0.4 * len(words)


@dataclass(frozen=True)
class Asked:
    """What kind of answer a question wants, as far as sentence kinds go."""

    term: str = ""  # a definition question's subject (`asked_term`)
    findings: bool = False  # the question asks what the paper found
    quantity: bool = False  # the question asks for a quantity ("how many", "at what temperature", "多少")
    units: tuple[re.Pattern, ...] = ()  # for a quantity question, the units it asks in (`asked_units`)
    reason: bool = False  # the question asks why ("why", "为什么", "什么原因")


def read_question(question: str) -> Asked:
    quantity = bool(_ASKS_QUANTITY.search(question))
    return Asked(asked_term(question), bool(_ASKS_FINDINGS.search(question)), quantity,
                 asked_units(question) if quantity else (), bool(_ASKS_REASON.search(question)))


def asked_term(question: str) -> str:
    """What a definition question asks about ("What is a restriction-modification system?" ->
    "restriction-modification system"), or "" for any other question. Only short subjects count:
    "What is the doubling time of the deletion strain?" asks for a value, not a definition."""
    text = unicodedata.normalize("NFKC", question).strip()
    m = _ASKS_EN.match(text)
    if m:
        term = m.group(1).strip(" .")
        return term if len(term.split()) <= 3 and not re.search(r"\b(?:of|in|for|between|with|by)\b", term) else ""
    m = _ASKS_ZH.match(text)
    if m:
        term = (m.group(1) or m.group(2) or "").strip()
        return term if 1 < len(term) <= 12 else ""
    return ""


def defines(text: str, term: str) -> bool:
    """Does `text` define `term`: "X is a/an/the ...", "X, a/an ...", "X (...), which/comprising
    ...", "we introduce/present/propose/develop X", "X是/即/指……"?"""
    if not term:
        return False
    gloss = r"(?:\s*\([^)]{1,80}\))?"  # "restriction-modification (R-M) systems"
    words = term.rstrip("s").split()
    # "ADARs" is defined as "ADAR ..." too; an abbreviation may sit between the words
    name = rf"{gloss}\s+".join(re.escape(w) for w in words) + r"s?(?![A-Za-z0-9-])"  # not "S2ORC-SCIBERT"
    patterns = (
        rf"\b{name}{gloss}\s+(?:is|are|was|were)\s+(?:{_ARTICLE}|one\s+of\b)",
        rf"\b{name}{gloss}\s*,\s*(?:{_ARTICLE}|which\s+(?:is|are)\b|comprising\b|consisting\b)",
        rf"\b(?:introduce|present|propose|develop|describe|release)[sd]?\s+{name}\b",
        rf"{name}{gloss}\s*(?:是|即|指|，即|，是)",
    )
    text = unicodedata.normalize("NFKC", text)
    return any(re.search(p, text, re.IGNORECASE) for p in patterns)


# A sentence that opens by pointing back ("However, ...", "Conversely, those signatures ...", "These
# results ...", "因此……") leans on the one before it: read alone, as a key point, it is half a thought.
_LEANS_BACK = re.compile(
    r"^\s*(?:(?:however|conversely|in particular|in contrast|by contrast|thus|therefore|hence|consequently|"
    r"accordingly|furthermore|moreover|additionally|in addition|similarly|likewise|nevertheless|nonetheless|"
    r"instead|finally|this|these|those|that|such|it|they|its|their)\b|(?:然而|但是|因此|所以|此外|另外|同时|而且|并且|"
    r"这些|这种|这一|其中|该))", re.IGNORECASE)


def leans_back(text: str) -> bool:
    """Does the sentence open by pointing back at the one before it?"""
    return bool(_LEANS_BACK.match(text))


# A paper's introduction, background or related work, once the heading's numbering is stripped
# (`ingest.headings.bare_name`: "1. Introduction", "A Background & Terminology", "0 引言", "1相关工作").
_INTRODUCTION = re.compile(r"(?:introduction|background|related\s+work)\b|引言|相关工作|研究现状|前言")


def introduces(section: str) -> bool:
    """Is `section` a paper's introduction, background or related work?"""
    return bool(_INTRODUCTION.match(bare_name(heading_name(section or ""))))


def asks_about_back_matter(question: str) -> bool:
    return bool(_ASKS_BACK.search(question))


def is_back_matter_heading(section: str) -> bool:
    """Acknowledgements, funding, contributions, interests, availability, ethics (numbered or not)."""
    return bool(_BACK_SECTION.match(section or ""))


def back_matter(section: str, sentences: Sequence[str]) -> list[bool]:
    """Which of a passage's `sentences` are back matter: all of them under such a heading
    (`section`), else those from the first that opens with one run in ("Acknowledgments Dr. Frank
    Davidoff ...", "Authors' contributions All authors ..."): back matter closes a paper. A
    sentence that is only a link (a footnote's URL) or a compliance statement (ethics approval,
    informed consent) counts as back matter wherever it stands."""
    if is_back_matter_heading(section):
        return [True] * len(sentences)
    start = next((i for i, text in enumerate(sentences) if _BACK_SECTION.match(text)), len(sentences))
    return [i >= start or bool(_LINK_ONLY.match(text) or _COMPLIANCE.search(text)) for i, text in enumerate(sentences)]


def kind_share(text: str, asked: Asked | str = "", in_back_matter: bool = False, in_introduction: bool = False) -> float:
    """The factor a sentence's score is multiplied by for its kind (1.0 for an ordinary sentence).
    `asked`: what the question wants (`read_question`; a str: a definition question's term);
    `in_back_matter`: the sentence is back matter (`back_matter`) and the question is not about
    it (`asks_about_back_matter`); `in_introduction`: its section introduces the paper (`introduces`)."""
    asked = Asked(asked) if isinstance(asked, str) else asked
    share = _own_kind_share(text, asked.term, in_back_matter)
    if asked.findings and in_introduction:
        share *= INTRODUCTION_SHARE
    if asked.quantity and states_quantity(text):
        share *= QUANTITY_BOOST * (UNIT_BOOST if any(u.search(text) for u in asked.units) else 1.0)
    if asked.reason and _GIVES_REASON.search(text):
        share *= REASON_BOOST
    return share * CITING_SHARE if asked.findings and _CITES.search(text) else share


def _own_kind_share(text: str, term: str, in_back_matter: bool) -> float:
    if _KEYWORD_LINE.match(text):
        return KEYWORD_LINE_SHARE
    if _FRONT_MATTER.search(text) or _PLOS_CITATION.search(text) or len(BYLINE_NAME.findall(text)) >= BYLINE_NAMES:
        return FRONT_MATTER_SHARE
    if parse_caption_start(text) is not None:  # "Figure 3 shows ..." is body text, not a caption
        return CAPTION_SHARE
    if table_text(text):
        return TABLE_TEXT_SHARE
    if in_back_matter:
        return BACK_MATTER_SHARE
    if leans_back(text):
        return LEANS_BACK_SHARE
    return DEFINITION_BOOST if term and defines(text, term) else 1.0
