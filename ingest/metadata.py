"""Read bibliographic metadata (DOI, title, authors, year, venue, abstract, keywords, language) offline.

Sources, all inside the PDF: the document info dictionary, XMP, the text of every page (DOIs only)
and the font sizes on page 1 (title). The paper's own DOI is chosen by scoring every DOI seen:
metadata/XMP hits, a "doi:"/doi.org label, page 1, "Cite this" context and repetition in running
headers count for it; appearing in the reference list counts against it (cited works).

Leaves out: any network lookup (Crossref enrichment is a separate, optional step).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import pymupdf

from assistant.types import PaperMetadata, TextBlock
from ingest.affiliations import find_affiliations, find_licence
from ingest.layout import normalise
from ingest.paragraphs import join_lines
from ingest.pages import PageReads
from ingest.textfix import count_words, rejoin_split_words

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>{}|\\^`]+")
_LABELLED = re.compile(r"(?:doi|DOI|Doi)\s*[:：]?\s*(10\s*\.\s*\d{4,9}\s*/[^\n]{3,80})")
_GLYPHS = str.maketrans({"−": "-", "‐": "-", "‑": "-", "–": "-", "鄄": "-", "\u200b": None, "\u200d": None,
                         "\x08": None, "\ufeff": None, "\u00ad": None})
_COMPONENT = re.compile(r"\.(sa\d+|fig\d+|g\d{3}|s\d{3}|t\d{3}|supp\d*|video\d+)$")
_BAD_TITLE = re.compile(
    r"^(microsoft (word|powerpoint)|untitled|title|标题|article|manuscript|document|paper|pdf)\b|"
    r"\.(docx?|pdf|tex|dvi|indd|ps)$|^<[0-9a-f]+>$|^[\w\-. ]*\d[\w\-. ]*$", re.I
)
_BANNER = re.compile(
    r"journal|proceedings|conference series|research article|open access|^article$|^review|letters?$|"
    r"^original|preprint|previously published|permalink|copyright|licen[cs]e|doi|https?:|www\.|©|"
    r"学报|期刊|研究与发展|技术与发展|综述|^vol|volume|issn", re.I
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")


def clean_doi(raw: str) -> str:
    """Lower-case a DOI and strip glyph noise and trailing punctuation (unbalanced brackets too)."""
    doi = re.sub(r"\s+", "", raw.translate(_GLYPHS)).lower()
    doi = re.split(r"[,;\"'<>]|\]$", doi)[0]
    while doi and doi[-1] in ".,;:)]}'\"":
        if doi[-1] == ")" and doi.count("(") >= doi.count(")"):
            break
        doi = doi[:-1]
    return doi if re.fullmatch(r"10\.\d{4,9}/\S+", doi) else ""


def find_dois(text: str) -> list[tuple[str, int]]:
    """All DOIs in a text with their positions; repairs DOIs wrapped over a line end or spaced out."""
    text = unicodedata.normalize("NFKC", text.translate(_GLYPHS))
    # ...but not into a following capitalised word: "10.1093/x/ribo1.\nAbstract" ends at "ribo1".
    text = re.sub(r"(10\.\d{4,9}/\S*[-./_])\n(?=[a-z0-9]|[A-Z](?![a-z]))", r"\1", text)
    found = [(clean_doi(m.group()), m.start()) for m in _DOI.finditer(text)]
    seen = {pos for _, pos in found}
    for m in _LABELLED.finditer(text):  # "DOI:10. 13190 / j. jbupt. 2020-203"
        if m.start(1) not in seen:
            spaced = re.match(r"[\d./\sA-Za-z\-_()]+", m.group(1))
            found.append((clean_doi(spaced.group() if spaced else ""), m.start(1)))
    return [(d, p) for d, p in found if d]


def pick_doi(doc: pymupdf.Document, blocks: Sequence[TextBlock], references: Sequence[str], reads: PageReads) -> str:
    """Score every DOI in metadata, XMP and page text; return the paper's own one (or "")."""
    score: Counter[str] = Counter()
    meta_text = " ".join(v for v in doc.metadata.values() if isinstance(v, str)) + " " + doc.get_xml_metadata()
    for doi in {d for d, _ in find_dois(meta_text)}:
        score[doi] += 10
    pages_seen: Counter[str] = Counter()
    # First and last pages suffice: the own DOI sits in the masthead, a running header/footer or a
    # closing "Cite this article" line; reading every page cost ~1.4 s over the 526-page corpus.
    n = len(doc)
    for pno in sorted({0, 1, 2, n - 2, n - 1} & set(range(n))):
        text = reads.plain_text(pno)
        low = text.lower()
        found = find_dois(text)
        first_seen: dict[str, int] = {}
        for doi, pos in found:
            first_seen.setdefault(doi, pos)
        # once per page: a cited DOI repeated in a page's reference list must not outvote the masthead
        for doi, pos in first_seen.items():
            before = low[max(0, pos - 20):pos]
            around = low[max(0, pos - 200):pos + 200]
            score[doi] += 1 + (3 if pno == 0 else 1 if pno == 1 else 0)
            score[doi] += 2 if ("doi" in before) else 0
            score[doi] += 6 if "cite this" in around or "please cite" in around else 0
        pages_seen.update({d for d, _ in found})
    scanned = {0, 1, 2, n - 2, n - 1}
    for block in blocks:  # other pages: their body text is already extracted, so this is free
        if block.page - 1 not in scanned and "10." in block.text:
            low = block.text.lower()
            for doi, pos in find_dois(block.text):
                score[doi] += 1 + (2 if "doi" in low[max(0, pos - 20):pos] else 0)
    for doi, n in pages_seen.items():
        score[doi] += 2 * (n - 1)  # printed in a running header/footer
    for ref in references:
        for doi, _ in find_dois(ref):
            score[doi] -= 3
    if not score:
        return ""
    for doi in list(score):  # make "10.7554/elife.91357.3" a candidate when "....3.sa1" is printed
        score.setdefault(_COMPONENT.sub("", doi), 0)
    best = max(score, key=lambda d: (score[d], -len(d)))
    if score[best] <= 0:
        return ""
    versions = [d for d in score if re.fullmatch(re.escape(best) + r"\.\d{1,2}", d)]
    components = [d for d in score if d != _COMPONENT.sub("", d)]
    for ver in sorted(versions, reverse=True):
        # a versioned DOI whose peer-review/figure components are printed is this exact version
        if any(c.startswith(ver + ".") for c in components):
            return ver
    return best


def _groups(info: dict) -> list[tuple[float, float, str, bool, str]]:
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


def looks_like_title(text: str) -> bool:
    """Long enough, not a banner/journal/licence line, not an author or affiliation list."""
    words = len(text.split())
    cjk = len(_CJK.findall(text))
    if cjk:
        return 6 <= cjk <= 80 and not _BANNER.search(text)
    return 3 <= words <= 45 and not _BANNER.search(text) and not re.search(r"@|\d{3,}", text)


def visual_titles(reads: PageReads, first: list) -> tuple[str, str]:
    """Largest-font title-like text on page 1 (then 2), and the largest one in the other script."""
    for pno in range(min(2, reads.page_count)):
        groups = [g for g in (first if pno == 0 else _groups(reads.page_dict(pno))) if looks_like_title(g[2])]
        if groups:
            best = max(groups, key=lambda g: (g[0], -g[1]))
            other = [g for g in groups if g[3] != best[3] and (best[3] or g[0] >= 9)]
            alt = max(other, key=lambda g: (g[0], -g[1]))[2] if other else ""
            return best[2], alt
    return "", ""


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def pick_title(doc: pymupdf.Document, first: list, reads: PageReads) -> tuple[str, str]:
    """The metadata title when it is real and printed on page 1 (unless truncated), else the visual one."""
    visual, alt = visual_titles(reads, first)
    meta = normalise(doc.metadata.get("title") or "").strip()
    if meta and not _BAD_TITLE.search(meta) and looks_like_title(meta):
        page1 = _norm(" ".join(reads.plain_text(i) for i in range(min(2, len(doc)))))
        if _norm(meta) in page1:
            if _norm(visual).startswith(_norm(meta)) and len(visual) > len(meta):
                return visual, alt  # metadata title cut short (seen: "A loss-of-function mutation in")
            return meta, alt if _norm(alt) != _norm(meta) else ""
    return visual, alt


_NOT_A_NAME = re.compile(
    r"[@{}/:]|univ|institut|大学|学院|研究所|\b(department|school|college|faculty|laborator(y|ies)|cent(er|re)|"
    r"hospital|engineering|biology|sciences?|medicine|genetics|chemistry|physics|research|lab|division|"
    r"program(me)?|unit|foundation|edited|communicated|reviewed|received|article|online|updates?)\b", re.I)
# lower-case words a name may hold (particles); any other lower-case word makes a phrase, not a name
_PARTICLES = {"van", "von", "der", "den", "de", "da", "del", "della", "di", "du", "dos", "das", "le", "la",
              "bin", "ibn", "al", "el", "y", "ter", "zu"}


def split_authors(text: str) -> tuple[str, ...]:
    """Names from an author line: drop affiliation marks, split at commas/and/&/；/· and at "|"
    (where `_groups` found a superscript), keep what looks like a person's name."""
    # Founder fonts print the space glyph as 摇 ("刘宁春1,摇郜摇帅"): drop it beside digits, commas, CJK
    text = re.sub(r"(?<=[\d,，\u4e00-\u9fff])摇|摇(?=[\u4e00-\u9fff])", "", text)
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
            second.extend(_groups(reads.page_dict(1)))
        return second

    from_page = byline_below(first, title) or byline_below(page_two(), title)
    # metadata often names only the corresponding author; the printed byline is then longer
    if len(from_page) > len(from_meta):
        return from_page
    printed = _norm(" ".join(g[2] for g in first))
    if any(_norm(n) in printed for n in from_meta):
        return from_meta  # page 1 prints them as the metadata gives them
    return as_printed(from_meta, printed + _norm(" ".join(g[2] for g in page_two())))


def as_printed(names: tuple[str, ...], printed: str) -> tuple[str, ...]:
    """Metadata names in the order pages 1-2 print them (`printed`: their text, `_norm`ed). Oxford
    journals' metadata lists "Family Given" ("Ero Rya" for "Rya Ero"). All names turn or none, and
    only when those pages print none of them as given: eScholarship's cover page lists "Allen,
    Greg M" and its page 2 prints "Greg M. Allen", as the metadata has it."""
    def turned(name: str) -> str | None:
        words = name.split()
        for order in (words[-1:] + words[:-1], words[1:] + words[:1]):
            if len(words) > 1 and _norm(" ".join(order)) in printed:
                return " ".join(order)
        return None

    if any(_norm(n) in printed for n in names):
        return names
    return tuple(turned(n) or n for n in names)


def byline_below(groups: list, title: str) -> tuple[str, ...]:
    """The names in the first of the two line groups below the group holding `title`."""
    groups = sorted(groups, key=lambda g: g[1])
    key = _norm(title)[:20]
    for i, g in enumerate(groups):
        if key and key in _norm(g[2]):
            for nxt in groups[i + 1:i + 3]:
                if g[1] < nxt[1] and not _BANNER.search(nxt[2]):
                    names = split_authors(nxt[4])
                    if names:
                        return names
            break
    return ()


def section_text(blocks: Sequence[TextBlock], pattern: str) -> list[str]:
    """Body text of blocks whose section matches `pattern` (labels like "Abstract:" stripped)."""
    out = []
    for b in blocks:
        if b.kind == "body" and re.match(pattern, b.section, re.I):
            out.append(re.sub(r"^(abstract|summary|摘\s*要|key\s*words?|keywords|关\s*键\s*词)\s*[:：.．]?\s*", "",
                              b.text, flags=re.I))
    return out


def extract_metadata(
    doc: pymupdf.Document, blocks: Sequence[TextBlock], references: Sequence[str] = (),
    reads: PageReads | None = None,
) -> PaperMetadata:
    """Bibliographic facts of one PDF; `references` (from layout) tells cited DOIs apart, `reads` is
    the parse's shared page text (`ingest.pages`; pages are read on demand without it)."""
    reads = reads if reads is not None else PageReads(doc)
    body = "".join(b.text for b in blocks[:400])
    cjk = len(_CJK.findall(body))
    latin = len(re.findall(r"[A-Za-z]", body))
    lang = "zh" if cjk and cjk / (cjk + latin) > 0.2 else "en"
    first = _groups(reads.page_dict(0))  # page-1 line clusters, shared by title and author picking
    title, alt = pick_title(doc, first, reads)
    if lang == "zh" and not _CJK.search(title) and _CJK.search(alt):
        title, alt = alt, title
    abstracts = section_text(blocks, r"abstract|summary|摘要")
    zh_abs = " ".join(a for a in abstracts if _CJK.search(a[:40]))
    en_abs = " ".join(a for a in abstracts if not _CJK.search(a[:40]))
    keywords, keywords_alt = pick_keywords(section_text(blocks, r"key ?words?|keywords|index terms|关键词"), lang)
    if not en_abs and not zh_abs:  # no "Abstract" label (Nature, PNAS): the first long page-1 paragraph
        first_long = next((b.text for b in blocks if b.page == 1 and b.kind == "body" and len(b.text) >= 400), "")
        zh_abs, en_abs = (first_long, "") if _CJK.search(first_long[:40]) else ("", first_long)
    abstract, abstract_alt = (zh_abs, en_abs) if lang == "zh" else (en_abs, zh_abs)
    authors = pick_authors(doc, title, first, reads)
    # A title set with wide kerning reads "Mutation r at e het erog eneity ... due t o ..." (NAR):
    # repaired as the body text is, against the document's own intact words.
    counts = count_words(b.text for b in blocks)
    title, alt = rejoin_split_words(title, counts), rejoin_split_words(alt, counts)
    return PaperMetadata(
        doi=pick_doi(doc, blocks, references, reads),
        title=title,
        title_alt=alt if lang == "zh" or _CJK.search(alt) else "",
        authors=authors,
        year=pick_year(doc, reads),
        venue=pick_venue(doc),
        abstract=abstract[:5000],
        abstract_alt=abstract_alt[:5000],
        keywords=keywords,
        keywords_alt=keywords_alt,
        lang=lang,
        author_affiliations=find_affiliations(reads, authors),
        licence=find_licence(reads),
    )


_FRONT_MATTER = re.compile(r"^\s*(收稿日期|基金项目|作者简介|中图(法)?分类号|文献标[识志]码|文章编号)")


def pick_keywords(paragraphs: list[str], lang: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(keywords, keywords_alt) from the paragraphs of the keyword sections: a list is the first
    paragraph after its label, so only the first two count (the text after a list in a Chinese
    journal's front matter is body text or 收稿日期 lines); an English list stops at the first
    Chinese character (a two-column page can run the next column's body text into its last line)."""
    heads = paragraphs[:2]
    zh = next((k for k in heads if _CJK.search(k[:20]) and not _FRONT_MATTER.match(k)), "")
    en = next((k for k in heads if not _CJK.search(k[:20])), "")
    if cut := _CJK.search(en):
        en = en[:cut.start()]
    zh_kw, en_kw = split_keywords(zh), split_keywords(en)
    return (zh_kw, en_kw) if lang == "zh" else (en_kw, zh_kw)


def split_keywords(text: str) -> tuple[str, ...]:
    """Keywords from a "Keywords:" paragraph, cut before classification codes or the next section."""
    text = re.split(r"中图分类号|文献标[识志]码|文章编号|doi|\b1\s+Introduction|\bIntroduction\b|Subject Categor|https?://",
                    text, flags=re.I)[0]
    parts = re.split(r"\s*[;；,，·•|]\s*", text)
    return tuple(p.strip(" .。") for p in parts if 1 < len(p.strip(" .。")) <= 60)[:12]


def pick_year(doc: pymupdf.Document, reads: PageReads) -> int | None:
    """The year printed with the citation line/copyright on page 1, else the creation date's year."""
    text = reads.plain_text(0) if len(doc) else ""
    text = re.split(r"\n\s*(?:references|bibliography|参考文献)\s*\n", text, flags=re.I)[0]  # cited years
    years: Counter[str] = Counter()
    for line in text.splitlines():
        strong = re.search(r"©|publish|copyright|accepted|received|\(\d{4}\)|\d{4}\s*年|\d{4};\s*\d", line, re.I)
        weak = re.search(r"vol|doi|\d{4},", line, re.I)
        for y in _YEAR.findall(line):
            years[y] += 3 if strong else 1 if weak else 0.1
    if years:
        return int(max(years, key=lambda y: (years[y], y)))
    created = _YEAR.search(doc.metadata.get("creationDate") or "")
    return int(created.group()) if created else None


def pick_venue(doc: pymupdf.Document) -> str:
    """Journal or proceedings name from the metadata subject (before volume/year/DOI), when present."""
    subject = normalise(doc.metadata.get("subject") or "")
    subject = re.split(r"\s*(?:,|\d|doi|https?:)", subject, maxsplit=1, flags=re.I)[0].strip(" .;:")
    if 3 <= len(subject) <= 120 and not re.match(r"科目|subject", subject, re.I) and len(subject.split()) <= 12:
        return subject
    return ""
