"""Read OA metadata records (JSONL or CSV) into validated, normalised ``MetadataRecord`` objects.

A record is what a catalogue export gives for a paper without its PDF: DOI, title, abstract,
authors, year, venue, licence, OA URL (and keywords and language when present). Files are read
as a stream, one line (JSONL) or row (CSV) at a time, so a 100,000-line file is never in memory
at once. Every line ends as a record or a ``RecordError`` with its line number and a reason: a
bad line is skipped, never the rest of the file. Decoding is per line, so one line of bad UTF-8
costs that line only; a UTF-8 byte-order mark is tolerated.

Normalising: column names are matched case-insensitively with common aliases (``license`` /
``licence``, ``url`` / ``oa_url`` / ``pdf_url``, ``journal`` / ``venue``, ``publication_year``,
...); DOIs are cleaned as the PDF path cleans them (``ingest.metadata.clean_doi``: lower-case, no
``https://doi.org/`` or ``doi:`` prefix, no trailing punctuation); authors come as a JSON list
(of names, or of ``{"name", "affiliations"}`` objects) or as a ``"A; B"`` string; the language
is ``zh`` or ``en``, detected from the title and abstract when not given (the rule the PDF path
uses: more than 20% CJK letters is Chinese). OA URLs must be http(s): the UI links them.

Leaves out: storing (``assistant.records``) and any network look-up (``assistant.enrich``).
"""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIELDS = ("doi", "title", "abstract", "authors", "year", "venue", "licence", "oa_url", "keywords", "lang")
# Column names as they appear in common exports (OpenAlex, Crossref, Zotero/CSV dumps), after
# lower-casing and turning "-" and " " into "_".
ALIASES = {
    "doi": "doi", "doi_url": "doi",
    "title": "title", "display_name": "title", "article_title": "title",
    "abstract": "abstract", "summary": "abstract", "description": "abstract",
    "authors": "authors", "author": "authors", "creators": "authors", "author_names": "authors",
    "year": "year", "publication_year": "year", "pub_year": "year", "date": "year",
    "publication_date": "year", "published": "year", "issued": "year",
    "venue": "venue", "journal": "venue", "container_title": "venue", "source_title": "venue",
    "publication": "venue", "journal_title": "venue",
    "licence": "licence", "license": "licence", "lic": "licence",
    "oa_url": "oa_url", "url": "oa_url", "pdf_url": "oa_url", "link": "oa_url", "oa_link": "oa_url",
    "best_oa_url": "oa_url", "fulltext_url": "oa_url", "open_access_url": "oa_url",
    "keywords": "keywords", "keyword": "keywords", "subjects": "keywords", "tags": "keywords",
    "lang": "lang", "language": "lang",
}
MAX_TITLE = 2000
MAX_ABSTRACT = 100_000  # characters; longer is not an abstract (chunking splits long ones anyway)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|2100)(?!\d)")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi\s*[:：]\s*|urn:doi:)", re.I)


@dataclass(frozen=True)
class MetadataRecord:
    """One validated, normalised record; `line` is where it starts in its file (1-based)."""

    title: str
    doi: str = ""
    abstract: str = ""
    authors: tuple[str, ...] = ()
    affiliations: tuple[tuple[str, ...], ...] = ()  # one tuple per author (empty when unknown)
    year: int | None = None
    venue: str = ""
    licence: str = ""
    oa_url: str = ""
    keywords: tuple[str, ...] = ()
    lang: str = "en"
    line: int = 0

    def canonical(self) -> dict:
        """The record's content as plain JSON data (what its hash and its stored copy are made of)."""
        return {"doi": self.doi, "title": self.title, "abstract": self.abstract, "authors": list(self.authors),
                "affiliations": [list(a) for a in self.affiliations], "year": self.year, "venue": self.venue,
                "licence": self.licence, "oa_url": self.oa_url, "keywords": list(self.keywords), "lang": self.lang}


@dataclass(frozen=True)
class RecordError:
    """A line that could not be read as a record, and why."""

    line: int
    reason: str


def detect_format(path: Path) -> str:
    """'jsonl' or 'csv', from the file name, else from the first non-blank character."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    with open(path, "rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "jsonl" if head[:1] == b"{" else "csv"


def read_records(path: Path, fmt: str | None = None) -> Iterator[MetadataRecord | RecordError]:
    """Stream the records of a JSONL or CSV file, a record or an error per non-blank line/row."""
    fmt = fmt or detect_format(path)
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown records format {fmt!r} (jsonl or csv)")
    yield from (_read_jsonl(path) if fmt == "jsonl" else _read_csv(path))


def _lines(path: Path, bad: set[int]) -> Iterator[str]:
    """The file's lines decoded one by one (BOM dropped); undecodable lines are noted in `bad`."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                bad.add(number)
                yield raw.decode("utf-8", errors="replace")


def _read_jsonl(path: Path) -> Iterator[MetadataRecord | RecordError]:
    bad: set[int] = set()
    for number, text in enumerate(_lines(path, bad), start=1):
        if not text.strip():
            continue
        if number in bad:
            yield RecordError(number, "not valid UTF-8")
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield RecordError(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            yield RecordError(number, f"expected a JSON object, got {type(data).__name__}")
            continue
        yield make_record(data, number)


def _read_csv(path: Path) -> Iterator[MetadataRecord | RecordError]:
    bad: set[int] = set()
    lines = _lines(path, bad)
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(lines, dialect=dialect)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        yield RecordError(1, f"unreadable CSV header ({exc})")
        return
    if not header:
        return
    if not any(_field(name) == "title" for name in header):
        yield RecordError(1, f"the CSV header has no title column (columns: {', '.join(map(str, header))[:200]})")
        return
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RecordError(start, f"unreadable CSV row ({exc})")
            continue
        if any(n in bad for n in range(start, reader.line_num + 1)):
            yield RecordError(start, "not valid UTF-8")
        elif None in row:
            yield RecordError(start, f"{len(row[None])} more field(s) than the header has columns")
        elif any((v or "").strip() for v in row.values()):
            yield make_record(row, start)


def _field(name: Any) -> str:
    key = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    return ALIASES.get(key, "")


def make_record(data: dict, line: int) -> MetadataRecord | RecordError:
    """Validate and normalise one record's fields (JSON object or CSV row)."""
    fields: dict[str, Any] = {}
    for name, value in data.items():
        field = _field(name)
        if field and value not in (None, "", []) and field not in fields:  # the first alias given wins
            fields[field] = value
    try:
        title = _text(fields.get("title"), "title")
        if not title:
            return RecordError(line, "no title")
        if len(title) > MAX_TITLE:
            return RecordError(line, f"title is {len(title)} characters (over {MAX_TITLE})")
        abstract = _text(fields.get("abstract"), "abstract")
        if len(abstract) > MAX_ABSTRACT:
            return RecordError(line, f"abstract is {len(abstract)} characters (over {MAX_ABSTRACT})")
        doi = normalise_doi(fields.get("doi"))
        authors, places = _authors(fields.get("authors"))
        oa_url = _text(fields.get("oa_url"), "OA URL")
        if oa_url and not re.match(r"https?://\S+$", oa_url, re.I):
            return RecordError(line, f"OA URL must be an http(s) URL, got {oa_url[:80]!r}")
        return MetadataRecord(
            title=title, doi=doi, abstract=abstract, authors=authors, affiliations=places,
            year=_year(fields.get("year")), venue=_text(fields.get("venue"), "venue"),
            licence=_text(fields.get("licence"), "licence"), oa_url=oa_url,
            keywords=_keywords(fields.get("keywords")),
            lang=_lang(fields.get("lang"), f"{title} {abstract}"), line=line,
        )
    except ValueError as exc:
        return RecordError(line, str(exc))


def normalise_doi(value: Any) -> str:
    """A DOI as the PDF path stores it (lower-case, bare), '' when none is given; ValueError when
    something that is not a DOI is given."""
    raw = _text(value, "DOI")
    if not raw:
        return ""
    from urllib.parse import unquote

    from ingest.metadata import clean_doi  # the PDF path's rule (imports PyMuPDF: only when needed)

    doi = clean_doi(_DOI_PREFIX.sub("", unquote(raw.strip())))
    if not doi:
        raise ValueError(f"not a DOI: {raw[:80]!r}")
    return doi


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):  # Crossref: "title": ["..."]
        value = value[0] if value else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, got {type(value).__name__}")
    text = unicodedata.normalize("NFC", value).replace("\x00", "")
    return re.sub(r"\s+", " ", text).strip()


def _year(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"year must be a number or a date, got {type(value).__name__}")
    found = _YEAR.search(str(value))
    if not found:
        raise ValueError(f"year {str(value)[:40]!r} is not a year between 1500 and 2100")
    return int(found.group())


def _authors(value: Any) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Author names and their affiliations from a JSON list or a 'A; B' (or JSON-in-CSV) string."""
    if value in (None, ""):
        return (), ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"authors look like JSON but are not ({exc.msg})") from None
        else:
            sep = ";" if ";" in text else "；" if "；" in text else "|" if "|" in text else None
            value = [p for p in (text.split(sep) if sep else [text])]
    if not isinstance(value, list):
        raise ValueError(f"authors must be a list or a 'A; B' string, got {type(value).__name__}")
    names, places = [], []
    for item in value:
        affiliations: list[str] = []
        if isinstance(item, dict):
            name = item.get("name") or item.get("display_name") or " ".join(
                str(item.get(k, "")) for k in ("given", "family") if item.get(k))
            raw = item.get("affiliations", item.get("affiliation", []))
            raw = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
            affiliations = [_text(a.get("name") if isinstance(a, dict) else a, "affiliation") for a in raw]
        elif isinstance(item, str):
            name = item
        else:
            raise ValueError(f"an author must be a name or an object, got {type(item).__name__}")
        name = _text(name, "author")
        if name:
            names.append(name)
            places.append(tuple(a for a in affiliations if a))
    return tuple(names), tuple(places) if any(places) else ()


def _keywords(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = re.split(r"\s*[;；,，|]\s*", value)
    if not isinstance(value, list):
        raise ValueError(f"keywords must be a list or a 'a; b' string, got {type(value).__name__}")
    words = (_text(v, "keyword") for v in value)
    return tuple(dict.fromkeys(w for w in words if w))


def _lang(value: Any, text: str) -> str:
    given = _text(value, "language").lower() if value not in (None, "") else ""
    if given.startswith("zh") or given in ("chi", "zho", "chinese", "中文", "汉语", "cn"):
        return "zh"
    if given in ("en", "eng", "english", "英文") or given.startswith("en-"):
        return "en"
    return detect_lang(text)


def detect_lang(text: str) -> str:
    """'zh' when more than 20% of the letters are CJK (the rule ingest.metadata applies to PDFs)."""
    cjk = len(_CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk and cjk / (cjk + latin) > 0.2 else "en"
