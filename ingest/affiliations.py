"""Authors' affiliations and the open-access licence, read from the PDF's own text (no network).

Affiliations: the first page (the second only when the first has none) and any "Author details" /
"AUTHOR AFFILIATIONS" section are read as text where small raised spans become markers
(``⟦1,2⟧``); numbers, letters and footnote symbols that open a line ("1 Department of …",
"²…", "a …", "†Allen Institute …", "(1. 北京交通大学…；2. …)") become markers too. An entry is a marker
followed by text naming an institution; an unmarked parenthesised or short block naming one (the
Chinese "（北京邮电大学 网络与交换技术国家重点实验室，北京 100876）" style) is an entry for every
author. Each author of the metadata byline is found in the marked text and given the entries its
markers name; when no author carries a marker, every author gets every entry (right at the level
of the paper, which is what institution counts use). A Chinese paper prints its affiliations twice;
the English copies are dropped so that one institution is not counted twice.

`institution_of` turns an affiliation into its institution ("Department of Biology, University of
Oxford, Oxford OX1 3RB, UK" -> "University of Oxford"; "北京邮电大学 网络与交换技术国家重点实验室" ->
"北京邮电大学"), `country_of` names the country where it is obvious; both are pure string
functions (the insights read stored affiliations with them), so this module imports no PyMuPDF.

Leaves out: e-mail domains, ORCID look-ups, disambiguating two institutions of the same name.
"""
from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u9fff]")
INSTITUTION_WORDS = re.compile(
    r"universit|universidad|universidade|institut|college|hospital|laborator|\bcent(?:er|re)\b|school|academy|"
    r"faculty|department|\bdept\b|foundation|clinic|ministry|council|agency|corporation|company|"
    r"\binc\b|\bltd\b|gmbh|\bllc\b|observatory|museum|\bETH\b|UCSF|\bMIT\b|"
    r"大学|学院|研究院|研究所|实验室|科学院|医院|公司|研究中心", re.I)  # not 中心 alone: "信息中心网络" is a topic
# not affiliations although they name a university: credits, notes, publisher lines
_NOT = re.compile(
    r"^\W*(present|current|permanent)\s+address|^\W*(these|the)\s+authors|contributed equally|^\W*correspond|"
    r"to whom|^\W*e-?mail|^\W*tel\b|^\W*editor|^\W*edited by|downloaded from|university press|published by|"
    r"citation:|et al\b|\(\d{4}\)|^\W*received|^\W*accepted|copyright|licen[cs]e|^\W*x \(formerly|通信作者|"
    r"作者简介|收稿日期|基金项目|previously published|escholarship|permalink", re.I)
_MARK = "⟦{}⟧"
_SYMBOLS = "*†‡§¶#∗☯✉♠♢♡♣♦⊥∥"
_LABEL = re.compile(r"⟦([^⟧]*)⟧")
_SECTION = re.compile(r"^\s*(author details|author affiliations|affiliations)\s*$", re.I | re.M)


def _is_marker(text: str) -> bool:
    """Footnote-mark text: digits, single letters and symbols separated by commas."""
    t = text.strip()
    return bool(t) and not re.search(r"[a-z]{2}", t) and bool(re.fullmatch(rf"(?:(?:\d{{1,2}}|[a-z]|[{_SYMBOLS}])[,\s]*)+", t))


def marked_lines(info: dict) -> list[list[str]]:
    """A page's text blocks (from its `get_text("dict")`) as lists of lines; small or superscript
    marker spans become ⟦…⟧."""
    out = []
    for block in info["blocks"]:
        lines = [ln for ln in block.get("lines", ()) if abs(ln["dir"][1]) < 0.1]
        spans = [s for ln in lines for s in ln["spans"] if s["text"].strip()]
        if not spans:
            continue
        body = max(s["size"] for s in spans)
        texts = []
        for ln in lines:
            parts: list[str] = []
            last_small = False
            for i, s in enumerate(ln["spans"]):
                small = s["flags"] & 1 or s["size"] < 0.8 * body
                after = next((t["text"] for t in ln["spans"][i + 1:] if t["text"]), " ")
                before = "".join(parts)[-1:]
                # a letter mark sits on a name ("Gong^a") or opens an entry ("^aGuangdong …"); a small
                # letter glued to the next word or to other small letters ("Department o|f") is a font change
                letter_ok = before.isalpha() and not last_small or not before.strip() or before in "⟧,;:"
                last_small = bool(small)
                if small and _is_marker(s["text"]) and not (
                        s["text"].strip().isalpha() and (after[:1].islower() or not letter_ok)):
                    parts.append(_MARK.format(",".join(re.findall(rf"\d{{1,2}}|[a-z]|[{_SYMBOLS}]", s["text"]))))
                else:
                    parts.append(s["text"])
            text = re.sub(r"⟧\s*,?\s*⟦", ",", "".join(parts))  # "^1^☯" -> one marker
            texts.append(unicodedata.normalize("NFKC", text).replace("\u00ad", ""))
        out.append(texts)
    return out


def _plain_markers(text: str) -> str:
    """Markers printed at body size: "1 Department …", "(1. 北京…; 2. 鹏城…)", "†Allen …", "a Guangdong …"."""
    text = re.sub(r"(^|[(（;；]\s*|[.,]\s+)(\d{1,2})\s*[.．]?\s*(?=[A-Z\u4e00-\u9fff])", r"\1⟦\2⟧", text)
    text = re.sub(rf"(^|[,;]\s+)([{_SYMBOLS}])\s*(?=[A-Z])", r"\1⟦\2⟧", text)
    return text


def _clean(entry: str) -> str:
    entry = re.sub(r"\s+", " ", entry).strip(" ;,.")
    entry = re.sub(r"^(and|以及)\s+|[;,]\s*and$", "", entry).strip(" ;,.")
    entry = re.sub(r"^[(（]\s*|\s*[)）]$", "", entry) if entry.count("(") + entry.count("（") != \
        entry.count(")") + entry.count("）") or entry[:1] in "(（" else entry
    entry = re.sub(r"\s*(?:[;；]\s*)?[\w.+-]+@[\w.-]+\s*(\([^)]*\))?", "", entry)  # trailing e-mails
    entry = entry.replace("Ｒ", "R").strip(" ;,.；，")
    return entry


def _is_affiliation(text: str) -> bool:
    """Names an organisation, starts like one (not mid-sentence, not after a name), not a credit line."""
    if not ((len(text.split()) >= 2 or len(_CJK.findall(text)) >= 4) and len(text) <= 400):
        return False
    if not INSTITUTION_WORDS.search(text[:200]) or _NOT.search(text):
        return False
    if _CJK.match(text):  # "郜帅，侯心迪，刘宁春 ( 北京交通大学…": a byline that runs into the affiliation
        key = INSTITUTION_WORDS.search(text)
        return not re.search(r"[，,、 ]", text[:key.start()]) if key else False
    return bool(re.match(r"[A-Z0-9\u00c0-\u024f]", text))


def _marked(lines: list[str]) -> dict[str, list[str]]:
    """Entries that follow a marker in one block: {"1": ["Department of …"], "a": [...]}."""
    text = " ".join(_plain_markers(ln.strip()) for ln in lines)
    text = re.sub(r"\b(?:Author affiliations|Affiliations)\s*:\s*", "", text, flags=re.I)
    pieces = re.split(r"(⟦[^⟧]*⟧)", text)
    found: dict[str, list[str]] = {}
    for label, body in zip(pieces[1::2], pieces[2::2]):
        entry = _clean(body)  # "… Canada; ⟦b⟧…": the markers split the list
        if _is_affiliation(entry):
            for key in _LABEL.match(label).group(1).split(","):
                found.setdefault(key, []).append(entry)
    return found


def _unmarked(lines: list[str]) -> list[str]:
    """Entries without markers: a parenthesised (Chinese-style) block, a short block, or address
    lines (with a country) inside a block that also holds the byline, up to the abstract."""
    text = " ".join(ln.strip() for ln in lines)
    entry = _clean(text)
    # a Chinese affiliation prints its city's postcode ("北京 100876"); a title naming a 实验室 does not
    chinese_ok = not _CJK.search(entry[:6]) or re.search(r"\d{6}", entry)
    if "⟦" not in text and _is_affiliation(entry) and len(entry) <= 250 and chinese_ok and \
            (text[:1] in "(（" or len(lines) <= 3):
        if not re.search(r"\.\s+[A-Z][a-z]+\s+[a-z]+\s+[a-z]+", entry):  # a sentence, not an address
            return [entry]
    out = []
    for line in lines:
        if re.match(r"\s*(abstract|summary|摘\s*要|introduction)\b", line, re.I):
            break
        entry = _clean(line)
        if "⟦" in entry:
            continue
        if _is_affiliation(entry) and len(entry) <= 200 and country_of(entry):
            out.append(entry)
    return out


def entries_of(blocks: list[list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """Affiliation entries of some blocks: (by marker label, unmarked)."""
    marked: dict[str, list[str]] = {}
    unmarked: list[str] = []
    for lines in blocks:
        for key, found in _marked(lines).items():
            marked.setdefault(key, []).extend(found)
        unmarked += _unmarked(lines)
    every = [e for es in marked.values() for e in es] + unmarked
    if any(_CJK.search(e) for e in every):
        # a Chinese paper prints its affiliations in Chinese and again in English: keep the Chinese
        marked = {k: [e for e in es if _CJK.search(e)] for k, es in marked.items()}
        marked = {k: es for k, es in marked.items() if es}
        unmarked = [e for e in unmarked if _CJK.search(e)]
    return {k: list(dict.fromkeys(v)) for k, v in marked.items()}, list(dict.fromkeys(unmarked))


def _compact(text: str) -> str:
    return re.sub(r"[\s.\-‐]+", "", unicodedata.normalize("NFKC", text)).lower()


def labels_of(blocks: list[list[str]], author: str) -> list[str]:
    """The marker labels printed right after an author's name in the byline."""
    key = _compact(author)
    if len(key) < 2:
        return []
    found = _find_labels(blocks, re.escape(key))
    if not found and re.search(r"[a-z][a-h]$", author):  # "Xingzhi Xua": the byline's "a" mark kept in the name
        found = _find_labels(blocks, re.escape(key[:-1]))
    words = _compact(author.split()[0]), _compact(author.split()[-1])
    if not found and len(author.split()) >= 2 and min(map(len, words)) >= 2:  # "Daniel Weld" v. "Daniel S. Weld"
        found = _find_labels(blocks, re.escape(words[0]) + r"\w{0,3}" + re.escape(words[1]))
    return found


def _find_labels(blocks: list[list[str]], pattern: str) -> list[str]:
    # marks are small ("Gong⟦a,1⟧") or, for symbols, often body size ("SHARMA†⟦1⟧", "Weld†‡")
    mark = re.compile(pattern + rf",?([{_SYMBOLS}]*)(?:⟦([^⟧]*)⟧|(\d{{1,2}}(?:,\d{{1,2}})*)(?!\d))?")
    # all blocks as one text: a byline's marks may sit in the next block ("刘宁春" | "⟦1,⟧郜帅 ⟦1,2⟧…")
    for m in mark.finditer(_compact(" ".join(" ".join(lines) for lines in blocks))):
        if m.group(1) or m.group(2) or m.group(3):  # group 3: marks printed at body size ("MacDonald1,2")
            return list(m.group(1)) + (m.group(2) or m.group(3) or "").split(",")
    return []


def find_affiliations(reads, authors) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(author, affiliations) for the byline's authors, in order; () when the PDF gives none.

    `reads` is the parse's page text (`ingest.pages.PageReads`: page_count, page_dict, plain_text).
    Marked entries on page 1, else on page 2 (cover pages: eScholarship, IOP), else in an "Author
    details" section near the end, else unmarked entries on page 1, then page 2."""
    n = reads.page_count
    if not authors or not n:
        return ()
    pages = [marked_lines(reads.page_dict(i)) for i in range(min(2, n))]
    found = [entries_of(blocks) for blocks in pages]
    blocks, entries = next(((b, m) for b, (m, _) in zip(pages, found) if m), ([], {}))
    if not entries:  # "AUTHOR AFFILIATIONS See affiliation list on p. 17": the back matter
        for pno in range(n - 1, max(1, n - 6), -1):
            if _SECTION.search(reads.plain_text(pno)):
                section = marked_lines(reads.page_dict(pno))
                start = next((i for i, b in enumerate(section) if _SECTION.search("\n".join(b))), 0)
                entries = entries_of(section[start:start + 12])[0]
                if entries:
                    blocks = pages[0]
                    break
    if not entries:
        unmarked = next((u for _, u in found if u), [])
        return tuple((name, tuple(unmarked)) for name in authors) if unmarked else ()
    every = tuple(dict.fromkeys(e for es in entries.values() for e in es))
    per_author = []
    for name in authors:
        labels = [lab for lab in labels_of(blocks + pages[-1], name) if lab in entries]
        per_author.append((name, tuple(dict.fromkeys(e for lab in labels for e in entries[lab]))))
    if not any(places for _, places in per_author):
        per_author = [(name, every) for name, _ in per_author]
    return tuple(per_author)


# -- normalisation --------------------------------------------------------------------------------
_UNI_WORDS = r"(?:University|Universit[éy]|Universidad|Universidade|Università|Universität|Universiteit|Universitet|Uniwersytet)"
_CAP = r"[A-Z][\w'’.\-]*"
_STOP = r"(?!(?:School|College|Faculty|Department|Hospital|Medical|Institute|Center|Centre|Library|Press)\b)"
_UNIVERSITY = re.compile(
    rf"((?<![\w.])(?:(?!The\b)(?![A-Z]{{2,}}\b){_CAP}\s+){{0,4}}{_UNI_WORDS}"
    rf"(?:(?:\s+(?:of|at|de|del|do|da|di|des|für|zu|of the|in))?\s+{_STOP}{_CAP}"
    rf"(?:\s+(?:at|of)\s+{_STOP}{_CAP})*)*)")
_SUBUNIT = re.compile(
    r"^(?:the\s+)?(?:\w+\s+)?(?:department|dept|school|faculty|division|section|program(?:me)?|group|unit|"
    r"(?:state\s+|moe\s+)?key\s+lab|laborator|lab\b|chair|graduate|college of|institute (?:of|for)|"
    r"cent(?:er|re) (?:for|of)|département|departamento|laboratório|institut de|programa)", re.I)
_STRONG = re.compile(r"institut|hospital|academy|laborator|cent(?:er|re)|foundation|company|corporation|"
                     r"\binc\b|\bllc\b|\bltd\b|gmbh|clinic|council|agency|museum|observatory|\bETH\b", re.I)
_COMPANY = re.compile(r"\b(?:GmbH|Inc|LLC|Ltd|Co|Corp|Corporation|Company|AG|S\.A|plc)\b\.?", re.I)
_ALIASES = {"UCSF": "University of California, San Francisco", "MIT": "Massachusetts Institute of Technology",
            "ETH Zürich": "ETH Zürich", "ETH Zurich": "ETH Zürich", "TUM": "Technical University of Munich"}
_NAMED_SCHOOL = re.compile(r"^(?:[A-Z][\w'’.\-]*\s+){1,3}(?:Medical|Business|Law) School\b")
_CJK_INST = re.compile(r"[\u4e00-\u9fff]{2,16}?(?:大学|科学院|研究院|研究所|实验室|医院|公司|学院)")


def institution_of(affiliation: str) -> str:
    """The institution an affiliation belongs to (its university, institute, hospital, company)."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", affiliation)).strip()
    if not text:
        return ""
    if _CJK.search(text[:12]):
        m = _CJK_INST.search(re.sub(r"\s+", "", text))
        if m:
            name = m.group()
            more = re.match(r"[\u4e00-\u9fff]{2,14}?研究所", re.sub(r"\s+", "", text)[m.end():])
            return name + more.group() if name.endswith("科学院") and more else name
        return re.split(r"[,，、;；\s]", text)[0]
    segments = [s.strip(" .") for s in re.split(r"[,;]", text) if s.strip(" .")]
    for seg in segments:
        m = _UNIVERSITY.search(seg)
        if m and len(m.group(1).split()) >= 2:  # a bare "University" names nothing
            return m.group(1).strip()
    for seg in segments:
        bare = re.sub(r"\s*\([^)]*\)", "", seg).strip()
        for alias, name in _ALIASES.items():
            # "TUM Graduate School", "(TUM-IAS)"; not "Broad Institute of MIT and Harvard"
            if re.fullmatch(rf"{re.escape(alias)}(?:\s.*)?", bare) or re.search(rf"\({re.escape(alias)}[\s\-)]", seg):
                return name
    company = [s.strip() for s in segments if _COMPANY.search(s)]
    if company:
        return company[0]
    # hierarchy runs from the lab to the institution: the last organisation named is the institution
    orgs = [re.sub(r"\s*\([^)]*\)$", "", s).strip() for s in segments if _STRONG.search(s) or _NAMED_SCHOOL.search(s)]
    named = [s for s in orgs if not _SUBUNIT.match(s) or _NAMED_SCHOOL.search(s)]
    if named or orgs:
        return re.sub(r"^the\s+", "", (named or orgs)[-1], flags=re.I)
    return segments[0]


_COUNTRIES = {
    "usa": "USA", "u.s.a": "USA", "united states": "USA", "united states of america": "USA", "us": "USA",
    "uk": "UK", "u.k": "UK", "united kingdom": "UK", "england": "UK", "scotland": "UK", "wales": "UK",
    "china": "China", "p. r. china": "China", "pr china": "China", "people's republic of china": "China",
    "中国": "China", "germany": "Germany", "canada": "Canada", "france": "France", "spain": "Spain",
    "italy": "Italy", "japan": "Japan", "korea": "South Korea", "south korea": "South Korea",
    "republic of korea": "South Korea", "estonia": "Estonia", "singapore": "Singapore", "ireland": "Ireland",
    "denmark": "Denmark", "switzerland": "Switzerland", "israel": "Israel", "australia": "Australia",
    "russia": "Russia", "russian federation": "Russia", "brazil": "Brazil", "argentina": "Argentina",
    "south africa": "South Africa", "malawi": "Malawi", "ghana": "Ghana", "india": "India",
    "netherlands": "Netherlands", "the netherlands": "Netherlands", "sweden": "Sweden", "norway": "Norway",
    "finland": "Finland", "belgium": "Belgium", "austria": "Austria", "portugal": "Portugal",
    "poland": "Poland", "mexico": "Mexico", "new zealand": "New Zealand", "taiwan": "Taiwan",
}
_US_STATE = re.compile(r"\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|"
                       r"NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\s+\d{5}\b")


def country_of(affiliation: str) -> str:
    """The country an affiliation names (last segment first), or "" when it is not obvious."""
    text = unicodedata.normalize("NFKC", affiliation)
    for seg in reversed([s.strip(" .()") for s in re.split(r"[,;，；]", text)]):
        name = _COUNTRIES.get(re.sub(r"\s+", " ", re.sub(r"[\d]+", "", seg)).strip(" .").lower())
        if name:
            return name
    if _US_STATE.search(text):
        return "USA"
    if _CJK.search(text) and (re.search(r"\d{6}", text) or re.search(r"北京|上海|深圳|杭州|省|市", text)):
        return "China"
    return ""


# -- licence --------------------------------------------------------------------------------------
_CC_URL = re.compile(r"creativecommons\.org/(?:licenses/([a-z\-]+)/(\d\.\d)|publicdomain/(zero)/(1\.0))", re.I)
_CC_NAME = re.compile(
    r"creative\s*commons\s+(?:\(CC\)\s+)?attribution((?:[\s\-]+(?:non-?commercial|no-?deriv(?:ative)?s?|share-?alike))*)"
    r"(?:\s+\(CC[\s\-]BY[\w\s\-]*\))?(?:\s+licen[cs]e)?\s*(\d\.\d)?", re.I)
_CC_SHORT = re.compile(r"\bCC[\s\-]?BY((?:-(?:NC|ND|SA))*)(?:\s+licen[cs]e)?(?:\s+(\d\.\d))?\b|\bCC0\b", re.I)
_PARTS = (("non", "NC"), ("deriv", "ND"), ("share", "SA"))


def detect_licence(text: str) -> str:
    """An SPDX-like id ("CC-BY-4.0", "CC-BY-NC-ND-4.0", "CC0-1.0", "CC-BY" without a version) from
    the licence statement in a PDF's text, or "" when it states no Creative Commons licence. The
    licence's URL is the most exact source, then its name ("Creative Commons Attribution 4.0
    International License"), then the short form ("CC BY-NC 4.0")."""
    text = re.sub(r"(\w)-\s+(\w)", r"\1\2", unicodedata.normalize("NFKC", text))  # "Attri- bution"
    flat = re.sub(r"\s*/\s*", "/", text)
    found = _CC_URL.search(flat)
    if found:
        if found.group(3):
            return "CC0-1.0"
        return "CC-" + found.group(1).upper() + "-" + found.group(2)
    found = _CC_NAME.search(text)
    if found:
        extra = found.group(1).lower()
        parts = "".join(f"-{code}" for key, code in _PARTS if key in extra)
        return f"CC-BY{parts}" + (f"-{found.group(2)}" if found.group(2) else "")
    found = _CC_SHORT.search(text)
    if found:
        if found.group().upper() == "CC0":
            return "CC0-1.0"
        return "CC-BY" + (found.group(1) or "").upper() + (f"-{found.group(2)}" if found.group(2) else "")
    return ""


def find_licence(reads) -> str:
    """The licence stated on the first two or the last two pages (where publishers print it);
    `reads` is the parse's page text (`ingest.pages.PageReads`)."""
    n = reads.page_count
    pages = sorted({0, 1, n - 2, n - 1} & set(range(n)))
    text = " ".join(reads.plain_text(p) for p in pages)
    return detect_licence(re.sub(r"\s+", " ", text))
