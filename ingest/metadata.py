"""Read bibliographic metadata (DOI, title, authors, year, venue, abstract, keywords, language) offline.

Sources, all inside the PDF: the document info dictionary, XMP, the text of every page (DOIs only)
and the font sizes on page 1 (title). The paper's own DOI is chosen by scoring every DOI seen:
metadata/XMP hits, a "doi:"/doi.org label, page 1, "Cite this" context and repetition in running
headers count for it; appearing in the reference list counts against it (cited works). Authors
come from the byline (``ingest.byline``, which also groups page 1's lines for the title).

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
from ingest.byline import BANNER, line_groups, match_key, pick_authors
from ingest.headings import PUBLISHING_MATTER
from ingest.layout import normalise
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


def looks_like_title(text: str) -> bool:
    """Long enough, not a banner/journal/licence line, not an author or affiliation list."""
    words = len(text.split())
    cjk = len(_CJK.findall(text))
    if cjk:
        return 6 <= cjk <= 80 and not BANNER.search(text)
    return 3 <= words <= 45 and not BANNER.search(text) and not re.search(r"@|\d{3,}", text)


def visual_titles(reads: PageReads, first: list) -> tuple[str, str]:
    """Largest-font title-like text on page 1 (then 2), and the largest one in the other script."""
    for pno in range(min(2, reads.page_count)):
        groups = [g for g in (first if pno == 0 else line_groups(reads.page_dict(pno))) if looks_like_title(g[2])]
        if groups:
            best = max(groups, key=lambda g: (g[0], -g[1]))
            other = [g for g in groups if g[3] != best[3] and (best[3] or g[0] >= 9)]
            alt = max(other, key=lambda g: (g[0], -g[1]))[2] if other else ""
            return best[2], alt
    return "", ""


def pick_title(doc: pymupdf.Document, first: list, reads: PageReads) -> tuple[str, str]:
    """The metadata title when it is real and printed on page 1 (unless truncated), else the visual one."""
    visual, alt = visual_titles(reads, first)
    meta = normalise(doc.metadata.get("title") or "").strip()
    if meta and not _BAD_TITLE.search(meta) and looks_like_title(meta):
        page1 = match_key(" ".join(reads.plain_text(i) for i in range(min(2, len(doc)))))
        if match_key(meta) in page1:
            if match_key(visual).startswith(match_key(meta)) and len(visual) > len(meta):
                return visual, alt  # metadata title cut short (seen: "A loss-of-function mutation in")
            return meta, alt if match_key(alt) != match_key(meta) else ""
    return visual, alt


# What a repository prints on the cover sheet it puts before a paper (eScholarship, institutional
# repositories such as White Rose, Edinburgh, Lancaster): labels of its own record of the paper.
_COVER_LABELS = re.compile(
    r"\b(?:permalink|publication date|peer reviewed|copyright information|citation for published version|"
    r"document version|link to publication|take ?down policy|general rights|this version is available at|"
    r"deposited on|terms of use|powered by|escholarship|research portal|repository)\b", re.IGNORECASE)
COVER_MAX_CHARS = 2000  # a cover sheet is sparse; a first page of the paper holds its abstract


def is_cover_page(text: str) -> bool:
    """Is this (first) page a repository's cover sheet rather than the paper's own first page: three
    or more of its labels ("Permalink", "Publication Date", "Peer reviewed", ...) on a sparse page?
    Its text describes the record, not the research ("Permalink https://escholarship.org/uc/item/
    ...", "eScholarship.org Powered by the California Digital Library") and was indexed as passages."""
    return len(text) <= COVER_MAX_CHARS and len({m.lower() for m in _COVER_LABELS.findall(text)}) >= 3


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
    first = line_groups(reads.page_dict(0))  # page-1 line clusters, shared by title and author picking
    title, alt = pick_title(doc, first, reads)
    if lang == "zh" and not _CJK.search(title) and _CJK.search(alt):
        title, alt = alt, title
    # MDPI's sidebar ("Citation: Shi, C.; ...", "Academic Editor: ...", "Received: ...") is read
    # where it starts, inside the abstract
    abstracts = [a for a in section_text(blocks, r"abstract|summary|摘要") if not PUBLISHING_MATTER.match(a)]
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
