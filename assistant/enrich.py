"""Optional online enrichment of metadata records by DOI, from OpenAlex or Crossref (off by default).

``souwen records enrich`` looks each stored record's DOI up (``https://api.openalex.org/works/doi:{doi}``
or ``https://api.crossref.org/works/{doi}``) and fills **only the fields the record lacks**:
abstract (OpenAlex ships an inverted index, rebuilt here into text; Crossref's JATS markup is
stripped), licence, OA URL, year, venue, authors with affiliations. What a look-up added is kept
beside the record (``records/<id>.json``: ``enriched``), so it survives a replaced record and a
rebuild; the paper is updated in place (same id: favourites and topics that name it stay) and its
chunks are re-embedded only when its abstract changed.

Being a good client, and never losing a run:

- nothing happens unless ``enrich.enabled`` is set; requests are spaced to ``enrich.rate_per_second``
  and carry ``mailto`` (the polite pools) when given;
- a 429 or 5xx is retried after its ``Retry-After`` (else 1, 2, 4 ... s), ``enrich.retries`` times;
  a DOI that still fails, times out or returns garbage is reported and left for the next run;
- every settled DOI (enriched, nothing new, not found: 404) is appended to ``DIR/enrich.jsonl``
  as it happens, so a run that is interrupted or hits ``--limit`` continues where it stopped.

Leaves out: PDF papers (their metadata comes from the PDF), fields a record already has (never
overwritten), and any look-up by title (only DOIs identify a work reliably).
"""
from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from assistant.catalogue import now
from assistant.records import (ENRICH_LOG, build_record, fill_missing, paper_record, record_from_copy, record_papers,
                               stored_copy)
from ingest.records import MAX_ABSTRACT

if TYPE_CHECKING:
    from assistant.service import Souwen

URLS = {"crossref": "https://api.crossref.org/works/{doi}", "openalex": "https://api.openalex.org/works/doi:{doi}"}
SETTLED = ("enriched", "nothing_new", "not_found")  # not looked up again by a later run
USER_AGENT = "Souwen/0.1 (offline-first research assistant; https://github.com/)"


@dataclass(frozen=True)
class EnrichOutcome:
    doi: str
    paper_id: str
    status: str  # enriched | nothing_new | not_found | failed
    fields: tuple[str, ...] = ()
    reason: str = ""


@dataclass
class EnrichSummary:
    source: str
    outcomes: list[EnrichOutcome] = field(default_factory=list)
    already_done: int = 0  # DOIs a previous run settled
    complete: int = 0  # records that lack nothing enrichment could fill
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_json(self) -> dict:
        counts = {s: self.count(s) for s in ("enriched", "nothing_new", "not_found", "failed")}
        return {"source": self.source, "seconds": round(self.seconds, 2), "counts": counts,
                "already_done": self.already_done, "complete": self.complete,
                "records": [{**o.__dict__, "fields": list(o.fields)} for o in self.outcomes]}


# -- parsing the two APIs' work objects --------------------------------------------------------
def strip_jats(text: str) -> str:
    """Plain text from a Crossref JATS abstract (a leading "Abstract" title dropped)."""
    text = re.sub(r"<(jats:)?title>.*?</(jats:)?title>", " ", text, count=1, flags=re.S)
    text = re.sub(r"</?(jats:)?(p|sec|list-item|list)\b[^>]*>", " ", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def inverted_to_text(index: dict) -> str:
    """OpenAlex's abstract_inverted_index ({word: [positions]}) back to running text."""
    slots: dict[int, str] = {}
    for word, positions in index.items():
        for position in positions or []:
            if isinstance(position, int):
                slots[position] = word
    return " ".join(slots[i] for i in sorted(slots))


def licence_name(raw: str) -> str:
    """'CC-BY-4.0' from a Creative Commons URL, 'CC-BY' from OpenAlex's 'cc-by'; else as given."""
    raw = (raw or "").strip()
    found = re.search(r"creativecommons\.org/licenses/([a-z\-]+)/(\d\.\d)", raw, re.I)
    if found:
        return f"CC-{found.group(1).upper()}-{found.group(2)}"
    if re.search(r"creativecommons\.org/publicdomain/zero", raw, re.I):
        return "CC0-1.0"
    if re.fullmatch(r"cc[-_a-z0-9]*", raw, re.I):
        return raw.upper().replace("_", "-")
    return raw


def _http(url: str | None) -> str:
    return url if isinstance(url, str) and re.match(r"https?://\S+$", url, re.I) else ""


def _year(parts) -> int | None:
    try:
        year = int(parts[0][0])
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return year if 1500 <= year <= 2100 else None


def parse_crossref(reply: dict) -> dict:
    """The fields enrichment can fill, from a Crossref /works/{doi} reply."""
    work = reply.get("message") if isinstance(reply.get("message"), dict) else reply
    out: dict = {}
    if isinstance(work.get("abstract"), str):
        out["abstract"] = strip_jats(work["abstract"])
    venue = work.get("container-title") or []
    if venue and isinstance(venue[0], str):
        out["venue"] = venue[0].strip()
    for key in ("published", "issued", "published-online", "published-print"):
        year = _year((work.get(key) or {}).get("date-parts"))
        if year:
            out["year"] = year
            break
    licences = [lic for lic in work.get("license") or [] if isinstance(lic, dict) and lic.get("URL")]
    licences.sort(key=lambda lic: lic.get("content-version") != "vor")  # the published version's first
    if licences:
        out["licence"] = licence_name(licences[0]["URL"])
    if out.get("licence", "").startswith("CC"):  # an OA URL only when the licence says it is open
        pdfs = [link.get("URL") for link in work.get("link") or [] if link.get("content-type") == "application/pdf"]
        out["oa_url"] = _http(next(iter(pdfs), None)) or _http(((work.get("resource") or {}).get("primary") or {}).get("URL"))
    names, places = [], []
    for author in work.get("author") or []:
        name = author.get("name") or " ".join(author[k] for k in ("given", "family") if author.get(k))
        if name:
            names.append(name.strip())
            places.append([a["name"] for a in author.get("affiliation") or [] if isinstance(a, dict) and a.get("name")])
    out["authors"], out["affiliations"] = names, places
    return out


def parse_openalex(work: dict) -> dict:
    """The fields enrichment can fill, from an OpenAlex work."""
    out: dict = {}
    if isinstance(work.get("abstract_inverted_index"), dict):
        out["abstract"] = inverted_to_text(work["abstract_inverted_index"])
    if isinstance(work.get("publication_year"), int):
        out["year"] = work["publication_year"]
    primary = work.get("primary_location") or {}
    best = work.get("best_oa_location") or {}
    host = work.get("host_venue") or {}  # older replies
    venue = (primary.get("source") or {}).get("display_name") or host.get("display_name")
    if venue:
        out["venue"] = venue
    licence = best.get("license") or primary.get("license") or host.get("license")
    if licence:
        out["licence"] = licence_name(licence)
    out["oa_url"] = (_http((work.get("open_access") or {}).get("oa_url")) or _http(best.get("pdf_url"))
                     or _http(best.get("landing_page_url")))
    names, places = [], []
    for authorship in work.get("authorships") or []:
        name = (authorship.get("author") or {}).get("display_name")
        if name:
            names.append(name)
            institutions = [i["display_name"] for i in authorship.get("institutions") or [] if i.get("display_name")]
            raw = authorship.get("raw_affiliation_strings") or [authorship.get("raw_affiliation_string")]
            places.append(institutions or [r for r in raw if r])
    out["authors"], out["affiliations"] = names, places
    return out


# -- fetching ----------------------------------------------------------------------------------
def retry_after(response: httpx.Response) -> float | None:
    """Seconds a 429/503 asks us to wait (Retry-After as seconds or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


class Fetcher:
    """GETs one work per DOI, spaced to the rate limit, retrying 429/5xx/connection errors."""

    def __init__(self, source: str, settings, client: httpx.Client, mailto: str,
                 sleep: Callable[[float], None] = time.sleep):
        self.source, self.settings, self.client, self.sleep = source, settings, client, sleep
        self.params = {"mailto": mailto} if mailto else {}
        self._last = 0.0

    def get(self, doi: str) -> tuple[str, dict | str]:
        """("ok", reply) | ("not_found", reason) | ("failed", reason)."""
        url = URLS[self.source].format(doi=quote(doi, safe="/"))
        reason = ""
        for attempt in range(self.settings.retries + 1):
            gap = 1.0 / self.settings.rate_per_second - (time.monotonic() - self._last)
            if gap > 0:
                self.sleep(gap)
            self._last = time.monotonic()
            wait = float(2 ** attempt)
            try:
                response = self.client.get(url, params=self.params, timeout=self.settings.timeout_s)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {str(exc)[:120]}"
            else:
                if response.status_code == 200:
                    try:
                        reply = response.json()
                    except ValueError:
                        return "failed", "the reply is not JSON"
                    return ("ok", reply) if isinstance(reply, dict) else ("failed", "the reply is not a JSON object")
                if response.status_code == 404:
                    return "not_found", f"{self.source} has no work with this DOI (404)"
                if response.status_code != 429 and response.status_code < 500:
                    return "failed", f"HTTP {response.status_code}"
                reason = f"HTTP {response.status_code}"
                wait = retry_after(response) or wait
            if attempt == self.settings.retries:
                break
            if wait > self.settings.max_wait_s:
                return "failed", f"{reason}; asked to wait {wait:.0f} s (over enrich.max_wait_s); left for the next run"
            self.sleep(wait)
        return "failed", f"{reason} after {self.settings.retries + 1} tries; left for the next run"


# -- the run -----------------------------------------------------------------------------------
def settled_dois(service: Souwen, source: str) -> set[str]:
    done: set[str] = set()
    path = service.library.root / ENRICH_LOG
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: that DOI is simply looked up again
            if isinstance(entry, dict) and entry.get("source") == source and entry.get("status") in SETTLED:
                done.add(entry.get("doi", ""))
    return done


def enrich_records(service: Souwen, *, source: str | None = None, limit: int | None = None,
                   mailto: str | None = None, client: httpx.Client | None = None,
                   sleep: Callable[[float], None] = time.sleep, show_progress: bool = False) -> EnrichSummary:
    """Fill the missing fields of the library's records from `source`; never raises for one DOI."""
    settings = service.settings.enrich
    if not settings.enabled:
        raise ValueError("online enrichment is off: set SOUWEN_ENRICH__ENABLED=true (settings enrich.enabled) "
                         "to let Souwen look DOIs up at OpenAlex or Crossref")
    source = source or settings.source
    if source not in URLS:
        raise ValueError(f"unknown enrichment source {source!r} (crossref or openalex)")
    started = time.perf_counter()
    summary = EnrichSummary(source)
    done = settled_dois(service, source)
    todo = []
    for paper in record_papers(service):
        copy = stored_copy(service.library, paper.id)
        if not paper.doi or copy is None:
            continue
        if paper.doi in done:
            summary.already_done += 1
        elif _lacks(paper, copy):
            todo.append((paper, copy))
        else:
            summary.complete += 1
    todo = todo[:limit] if limit is not None else todo
    own = client is None
    client = client or httpx.Client(headers={"User-Agent": USER_AGENT}, follow_redirects=True)
    fetcher = Fetcher(source, settings, client, settings.mailto if mailto is None else mailto, sleep)
    changed: list[str] = []
    rechunked = False
    from tqdm import tqdm

    try:
        for paper, copy in tqdm(todo, desc=f"enrich ({source})", unit=" DOI", disable=not show_progress):
            outcome, text_changed = _enrich_one(service, fetcher, paper, copy)
            summary.outcomes.append(outcome)
            if outcome.status in SETTLED:
                _log(service, outcome, source)
            if outcome.status == "enriched":
                changed.append(paper.id)
                rechunked = rechunked or text_changed
    finally:
        if own:
            client.close()
        if rechunked:
            service.library.indexes(wait=True)  # swap the re-embedded abstracts in once
    service.after_ingest(changed)  # an abstract can change a paper's discipline and topics
    summary.seconds = time.perf_counter() - started
    return summary


def _lacks(paper, copy: dict) -> bool:
    record = copy.get("record") or {}
    no_places = not any(record.get("affiliations") or []) and not any((copy.get("enriched") or {}).get("affiliations") or [])
    return not all((paper.abstract, paper.licence, paper.oa_url, paper.year, paper.venue, paper.authors)) or no_places


def _enrich_one(service: Souwen, fetcher: Fetcher, paper, copy: dict) -> tuple[EnrichOutcome, bool]:
    status, reply = fetcher.get(paper.doi)
    if status != "ok":
        return EnrichOutcome(paper.doi, paper.id, status, reason=str(reply)), False
    try:
        extra = parse_crossref(reply) if fetcher.source == "crossref" else parse_openalex(reply)
    except (AttributeError, TypeError, KeyError, IndexError) as exc:  # a reply of an unexpected shape
        return EnrichOutcome(paper.doi, paper.id, "failed", reason=f"unexpected reply ({type(exc).__name__})"), False
    if len(extra.get("abstract", "")) > MAX_ABSTRACT:
        extra.pop("abstract")
    record = record_from_copy(copy)
    if record is None:
        return EnrichOutcome(paper.doi, paper.id, "failed", reason="the stored record is unreadable"), False
    enriched = dict(copy.get("enriched") or {})
    before = fill_missing(record, enriched)
    for name, value in extra.items():
        if value and not enriched.get(name):
            enriched[name] = value
    after = fill_missing(record, enriched)
    fields = tuple(f for f in ("abstract", "licence", "oa_url", "year", "venue", "authors", "affiliations")
                   if getattr(after, f) != getattr(before, f))
    if not fields:
        return EnrichOutcome(paper.doi, paper.id, "nothing_new"), False
    library = service.library
    new_paper, chunks, terms = build_record(after, paper.sha256, paper.source_path, service.embedder,
                                            service.settings.chunking)
    rechunk = "abstract" in fields
    vectors = service.embedder.embed_documents([c.text for c in chunks]) if rechunk else None
    new_copy = {**copy, "enriched": enriched, "enriched_by": fetcher.source}
    library.update_record(paper_record(new_paper, after, chunks, terms, vectors), new_copy, rechunk)
    return EnrichOutcome(paper.doi, paper.id, "enriched", fields), rechunk


def _log(service: Souwen, outcome: EnrichOutcome, source: str) -> None:
    entry = {"doi": outcome.doi, "source": source, "status": outcome.status, "fields": list(outcome.fields), "at": now()}
    with open(service.library.root / ENRICH_LOG, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
