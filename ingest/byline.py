"""Read a paper's byline: page 1's same-size line groups, and the author names in them.

`line_groups` clusters a page's lines by font size and position (the title is the largest group,
the byline usually the next one below it) and marks superscript affiliation marks with "|", which
separate names. `pick_authors` prefers the PDF's metadata authors unless the printed byline is
longer, in the order the page prints them. Shared with `ingest.metadata` (titles): `line_groups`,
`match_key` and `BANNER`.

Leaves out: affiliations (``ingest.affiliations``) and any lookup of names outside the PDF.
"""
from __future__ import annotations

import re
import unicodedata

import pymupdf

from ingest.layout import normalise
from ingest.pages import PageReads
from ingest.textfix import join_lines

_CJK = re.compile(r"[\u3400-\u9fff]")
# Lines that are journal banners, licences or headers, never a title or a byline.
BANNER = re.compile(
    r"journal|proceedings|conference series|research article|open access|^article$|^review|letters?$|"
    r"^original|preprint|previously published|permalink|copyright|licen[cs]e|doi|https?:|www\.|©|"
    r"学报|期刊|研究与发展|技术与发展|综述|^vol|volume|issn", re.I
)


def match_key(text: str) -> str:
    """Text reduced to lower-case letters and digits, for comparing titles and names as printed."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def line_groups(info: dict) -> list[tuple[float, float, str, bool, str]]:
    """Same-size line clusters of a page (its `get_text("dict")`): (size, top y, joined text, has
    CJK, byline text), reading order. The byline text marks superscripts (affiliation marks) with
    "|": they separate names ("Gong^a Wang^b" is "Gong | Wang", not "Gonga Wangb")."""
    lines = []
    marks = []  # boxes of lines that hold nothing but affiliation marks ("1,2", "*"), set in smaller type
    for block in info["blocks"]:
        for ln in block.get("lines", ()):
            spans = [s for s in ln["spans"] if s["text"].strip()]
            if spans and abs(ln["dir"][1]) < 0.1:
                size = max(s["size"] for s in spans)
                marked = "".join("|" if s["text"].strip() and (s["flags"] & 1 or s["size"] < 0.8 * size) else s["text"]
                                 for s in ln["spans"])
                baseline = max(s["bbox"][3] for s in spans if s["size"] >= 0.8 * size)
                text = normalise("".join(s["text"] for s in ln["spans"])).strip()
                lines.append((round(size, 1), ln["bbox"], text, normalise(marked).strip(), baseline))
                if _MARK_LINE.fullmatch(text):
                    marks.append((size, ln["bbox"]))
    out = []
    for size in sorted({ln[0] for ln in lines}, reverse=True):
        same = sorted((ln for ln in lines if abs(ln[0] - size) < 0.01), key=lambda ln: (ln[1][1], ln[1][0]))
        cluster: list = []
        for ln in same:
            if cluster and ln[1][1] - cluster[-1][1][3] > 1.2 * size:
                out.append(cluster)
                cluster = []
            cluster.append(ln)
        if cluster:
            out.append(cluster)
    return [
        (c[0][0], c[0][1][1], text, bool(_CJK.search(text)), _byline_text(c, marks))
        for c in out
        if (text := join_lines([ln[2] for ln in c], set()).strip())
    ]


# A line of affiliation marks only: digits, letters a-h, commas and footnote symbols.
_MARK_LINE = re.compile(r"[\d\sa-h,*†‡§¶#♠♢♡∗✉⁎]{1,12}")


def _byline_text(cluster: list, marks: list) -> str:
    """A cluster's marked text read row by row, left to right, with the mark-only lines of smaller
    type that sit in its rows as "|". Ordered by their tops, a line that starts with a raised mark
    ("³, Eugene V. Koonin") came before the one left of it ("Yuri I. Wolf"), and the mark line
    between two names was in another size's cluster: the names ran together."""
    size = cluster[0][0]
    rows: list[list] = []  # [baseline, [(x0, x1, text)]]
    for ln in sorted(cluster, key=lambda ln: ln[4]):
        if rows and ln[4] - rows[-1][0] <= 0.5 * size:
            rows[-1][1].append((ln[1][0], ln[1][2], ln[3]))
        else:
            rows.append([ln[4], [(ln[1][0], ln[1][2], ln[3])]])
    for mark_size, box in marks:
        middle = (box[1] + box[3]) / 2
        for baseline, items in rows:
            left, right = min(i[0] for i in items) - size, max(i[1] for i in items) + size
            if mark_size < 0.8 * size and baseline - size <= middle <= baseline and left <= box[0] <= right:
                items.append((box[0], box[2], "|"))
                break
    return " ".join(text for _, items in rows for _, _, text in sorted(items, key=lambda i: i[0]))


_NOT_A_NAME = re.compile(
    r"[@{}/:]|univ|institut|大学|学院|研究所|\b(department|school|college|faculty|laborator(y|ies)|cent(er|re)|"
    r"hospital|engineering|biology|sciences?|medicine|genetics|chemistry|physics|research|lab|division|"
    r"program(me)?|unit|foundation|edited|communicated|reviewed|received|article|online|updates?)\b", re.I)
# lower-case words a name may hold (particles); any other lower-case word makes a phrase, not a name
_PARTICLES = {"van", "von", "der", "den", "de", "da", "del", "della", "di", "du", "dos", "das", "le", "la",
              "bin", "ibn", "al", "el", "y", "ter", "zu"}


def split_authors(text: str) -> tuple[str, ...]:
    """Names from an author line: drop affiliation marks, split at commas/and/&/；/· and at "|"
    (where `line_groups` found a superscript), keep what looks like a person's name."""
    text = re.sub(r"[\d*†‡§¶#♠♢♡∗✉⁎]+|\(\s*\d.*?\)", " ", text)
    parts = re.split(r"\s*(?:,|，|、|;|；|\||·|•|\band\b|&)\s*", text)
    names: list[str] = []
    for part in parts:
        part = re.sub(r"\s+", " ", part).strip(" .")
        if _NOT_A_NAME.search(part):
            if names:
                break  # affiliations follow the byline: what comes after is theirs ("Molecular Pharmacology")
            continue
        names += [n for n in (_cjk_names(part) if _CJK.search(part) else [part]) if 2 <= len(n) <= 40 and _is_name(n)]
    # the same "name" twice is an affiliation's city ("New York"), not two namesake authors
    return tuple(n for n in names if names.count(n) == 1)


def _cjk_names(part: str) -> list[str]:
    """Chinese names in one byline piece: space-separated, except that a letter-spaced two-character
    name ("郜 帅") is one name ("柴若楠 郜 帅 兰江雨" holds three)."""
    names: list[str] = []
    single = ""
    for token in part.split():
        if len(token) == 1 and _CJK.match(token):
            single += token
            if len(single) == 2:
                names.append(single)
                single = ""
        else:
            names.append(single + token if single else token)
            single = ""
    return names + ([single] if single else [])


def _is_name(name: str) -> bool:
    """A Chinese name, or a Latin one of two or more words, each capitalised or a particle."""
    if _CJK.search(name):
        return True
    words = name.split()
    return len(words) >= 2 and all(w[:1].isupper() or w.lower() in _PARTICLES for w in words)


def pick_authors(doc: pymupdf.Document, title: str, first: list, reads: PageReads) -> tuple[str, ...]:
    """Metadata authors when present, else the text group just below the title on page 1 (page 2
    after a cover page: IOP and eScholarship put the title and byline there)."""
    meta = (doc.metadata.get("author") or "").strip()
    # a single ASCII token ("CNKI", "admin") is a producer or login, not an author list
    usable = meta and not re.fullmatch(r"作者|author|[\w.\-]+", meta, re.I)
    from_meta = split_authors(meta) if usable else ()
    second: list = []  # page 2's groups, read once and only when needed

    def page_two() -> list:
        if not second and reads.page_count > 1:
            second.extend(line_groups(reads.page_dict(1)))
        return second

    from_page = byline_below(first, title) or byline_below(page_two(), title)
    # metadata often names only the corresponding author; the printed byline is then longer
    if len(from_page) > len(from_meta):
        return from_page
    printed = match_key(" ".join(g[2] for g in first))
    if any(match_key(n) in printed for n in from_meta):
        return from_meta  # page 1 prints them as the metadata gives them
    return as_printed(from_meta, printed + match_key(" ".join(g[2] for g in page_two())))


def as_printed(names: tuple[str, ...], printed: str) -> tuple[str, ...]:
    """Metadata names in the order pages 1-2 print them (`printed`: their text, `match_key`ed). Oxford
    journals' metadata lists "Family Given" ("Ero Rya" for "Rya Ero"). All names turn or none, and
    only when those pages print none of them as given: eScholarship's cover page lists "Allen,
    Greg M" and its page 2 prints "Greg M. Allen", as the metadata has it."""
    def turned(name: str) -> str | None:
        words = name.split()
        for order in (words[-1:] + words[:-1], words[1:] + words[:1]):
            if len(words) > 1 and match_key(" ".join(order)) in printed:
                return " ".join(order)
        return None

    if any(match_key(n) in printed for n in names):
        return names
    return tuple(turned(n) or n for n in names)


def byline_below(groups: list, title: str) -> tuple[str, ...]:
    """The names in the first of the two line groups below the group holding `title`."""
    groups = sorted(groups, key=lambda g: g[1])
    key = match_key(title)[:20]
    for i, g in enumerate(groups):
        if key and key in match_key(g[2]):
            for nxt in groups[i + 1:i + 3]:
                if g[1] < nxt[1] and not BANNER.search(nxt[2]):
                    names = split_authors(nxt[4])
                    if names:
                        return names
            break
    return ()
