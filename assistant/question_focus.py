"""What a question asks for, and whether a paper names it: evidence measures for abstention.

``question_focus`` reads the asked-for word of a wh-question: "mortality" in "What was the 30-day
in-hospital mortality of ...?", "resolution" in "At what resolution were ...?", the noun beside a
Chinese question's "多少" ("丢包率是多少" -> 丢包率, "作者收集了多少台服务器" -> 服务器). A paper
that never names it is weaker evidence (``focus_missing``): near misses often ask for a quantity
the paper on the topic never reports. ``latin_missing``: a Chinese question names a Latin-script
term ("IC50", "Km") that the English paper it is judged on never prints. Both are features of the
abstention model (``assistant.abstention``), which says how they were chosen and what they gave.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from assistant.lexical import has_cjk, latin_terms, tag_words, tokenize

# Words that name a share as the kind of answer ("what fraction of ...": the paper says "90.4%"):
# question words for abstention, and answer kinds here.
SHARE_WORDS = "proportion percentage percent share fraction"


# Words that name the kind of answer, not a property the paper must name ("what proportion of ...":
# the paper says "62%").
_ANSWER_KINDS = frozenset(f"{SHARE_WORDS} number amount value level kind type sort way size degree extent".split())
_PREPOSITION = r"(?:of|in|for|between|among|at|on|that|when|after|before|from|to|with|by|across|during|under)"
_FOCUS = (
    # "What was the 30-day in-hospital mortality of ...", "What is the estimated diameter of ..."
    re.compile(rf"^(?:what|which)\s+(?:was|were|is|are)\s+the\s+([\w\- ]+?)\s+{_PREPOSITION}\s", re.I),
    # "At what resolution were ...", "At what temperature did ..."
    re.compile(r"^(?:at|in|to|by|with|for|on|under)\s+what\s+([\w\-]+)", re.I),
    # "What inter-annotator agreement did ...", "What oral bioavailability in rats did ..."
    re.compile(rf"^(?:what|which)\s+([\w\-]+(?:\s+[\w\-]+)?)(?:\s+{_PREPOSITION}\s+[\w\-]+)?\s+"
               r"(?:did|does|do|was|were|is|are|has|have|had)\s", re.I),
)


def question_focus(question: str) -> str:
    """What a wh-question asks for: the last word of its asked-for phrase ("mortality" in "What was
    the 30-day in-hospital mortality of ...", "丢包率" in "...切换时的丢包率是多少？"), or "" when the
    question has no such phrase (yes/no and how questions) or it only names the kind of answer
    ("proportion")."""
    if has_cjk(question):
        return _chinese_focus(question)
    m = next((m for p in _FOCUS if (m := p.match(unicodedata.normalize("NFKC", question).strip()))), None)
    words = m.group(1).split() if m else []
    head = words[-1].lower() if words else ""
    return "" if len(head) < 3 or head in _ANSWER_KINDS or not head.isascii() else head


# What a Chinese question asks for sits beside its "多少" (or 多大, 多高 ...): the noun before it
# ("丢包率是多少", "准确率达到了多少", "吞吐量下降了多少"), or the noun counted after it when a verb
# of its own stands before ("作者收集了多少台服务器"). Words between a noun and the marker that only
# link them: copulas, "respectively", "reach", aspect particles.
_ZH_MARKERS = frozenset("多少 多大 多高 多快 多长 多久".split())
_ZH_LINKS = frozenset("是 为 有 约 约为 分别 分别是 分别为 达到 能 可 了 共 一共 总共".split())


def _is_noun(word: str, tag: str) -> bool:
    return (tag.startswith("n") and has_cjk(word) and len(word) >= 2) or (tag == "eng" and len(word) >= 2)


def _chinese_focus(question: str) -> str:
    """The noun a Chinese question asks a quantity of (jieba's words and tags): "包率" of
    "...丢包率是多少？" (jieba cuts 丢 / 包率), "mfu" of "利用率（MFU）是多少", "服务器" of
    "收集了多少台服务器"; "" when there is no such noun."""
    words = [(w, t) for w, t in tag_words(question) if w.strip()]
    k = next((i for i, (w, _) in enumerate(words) if w in _ZH_MARKERS), None)
    if k is None:
        return ""
    after = ""
    for w, t in words[k + 1:]:
        if t in ("q", "m", "uj"):  # "多少台服务器", "多大的带宽"
            continue
        after = w if _is_noun(w, t) else ""
        break
    verb = False
    for w, t in reversed(words[:k]):
        if w in _ZH_LINKS or t in ("x", "ul", "d"):  # x: punctuation, the brackets of "利用率（MFU）"
            continue
        if _is_noun(w, t):
            return after if verb and after else (w.lower() if t == "eng" else w)
        if t.startswith("v") and not verb:  # "吞吐量下降了多少": the noun before the verb
            verb = True
            continue
        break
    return after


def focus_missing(question: str, have: set[str]) -> bool:
    """Does a paper (its terms `have`) never name what `question` asks for?

    The near misses that cover every other word are caught here: "What was the 30-day in-hospital
    mortality of patients admitted through the medical short stay ward ...?" of a paper on that
    ward that reports no mortality, "At what resolution were cryo-EM structures ... determined?"
    of a paper with no structure. Weighed as one more word, the asked-for word hardly moves the
    coverage (an everyday word, one of ten). Dev questions, leave-one-out at 5% of answerable
    questions declined: abstain declined 63% -> 74%.
    """
    focus = question_focus(question)
    if not focus:
        return False
    if has_cjk(focus):  # the word, or all its two-character parts ("网络带宽": 网络, 带宽)
        parts = [t for t in tokenize(focus) if t != focus and len(t) >= 2]
        return focus not in have and not (parts and all(t in have for t in parts))
    forms = set(tokenize(focus))
    return bool(forms) and forms.isdisjoint(have) and not any(derived_in(f, have) for f in forms)


def latin_missing(wanted: Sequence[tuple[str, frozenset[str]]], have: set[str]) -> bool:
    """Does an English paper (its terms `have`) lack one of a Chinese question's Latin-script terms?

    In a Chinese question those terms ("IC50", "Km", "kcat", "DSF", "Tm") are its only words that an
    English paper must print as they are; the translated words match loosely (through CC-CEDICT,
    within two passages). A paper that never prints "IC50" reports no IC50. Dev Chinese questions on
    English papers: each of the four whose paper does not answer them names a term that paper lacks
    ("IC50", "Km" and "kcat", "DSF" and "Tm", "flooding"); none of the 15 it answers does. Judged:
    letters (and digits) only, at least two characters, not a bare number (a compound such as
    "5′-CCGCGG-3′" is judged by its parts, as the tokenizer also gives them).

    Fitted with the other features on the dev questions and the project's own (137, 19 abstain), at
    3.5% of answerable declined: leave-one-out abstain declined 68 -> 79% (false declines 4% both);
    dev Chinese questions on English papers cited gold 73.3 -> 93.3%, none declined. Fitted on the
    dev questions alone it did as well there, but moved the false declines onto same-language
    questions: the project's own several-paper questions were declined 10 -> 30%.
    """
    judged = {t for t in latin_terms([t for t, _ in wanted]) if t.isalnum() and len(t) >= 2 and not t.isdigit()}
    latin = [(t, forms) for t, forms in wanted if t in judged]
    return any(forms.isdisjoint(have) and not any(derived_in(f, have) for f in forms) for _, forms in latin)


def derived_in(term: str, have: set[str]) -> bool:
    """Is a word derived from English `term` by a short suffix among `have`? The stemmer keeps
    "grow" and "growth", "slow" and "slowly" apart: a question's "grow" must find a paper's "growth"."""
    if len(term) < 4 or not term.isascii() or not term.isalpha():
        return False
    return any(len(w) - len(term) <= 2 and w.startswith(term) for w in have if w[:1] == term[0])
