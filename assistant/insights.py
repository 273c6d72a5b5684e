"""Trends, distributions and collaboration networks of the library (图解研究趋势, institution analytics).

Pure data, read from the catalogue: papers per year (overall, per 一级学科, per topic), the
discipline and OA licence distributions, top authors and institutions, and the co-author and
institution collaboration networks as networkx graphs (nodes carry paper counts, edges the number
of joint papers), exported as node-link JSON or GraphML. Drawing is in ``assistant.charts``.

Authors come from ``paper_authors`` (filled at ingest with their affiliations, or by a metadata
record) and, for papers without those rows, from the paper's author list. Names are merged only
when they are the same name up to case, spacing, dots and hyphen glyphs ("Ross G. DOUGLAS" and
"Ross G. Douglas"); "J. Smith" and "John Smith" stay two people, since nothing printed says they are
one. An affiliation becomes its institution with ``ingest.affiliations.institution_of``.

Leaves out: author disambiguation beyond that, citation counts, anything needing the network.
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from ingest.affiliations import INSTITUTION_WORDS as _INSTITUTION
from ingest.affiliations import country_of, institution_of

if TYPE_CHECKING:
    import networkx as nx

    from assistant.service import Souwen

NO_LICENCE = "none stated"
UNLABELLED = "unlabelled"
MAX_AUTHORS = 100  # a consortium paper's 1,000 names would say nothing about who works with whom


@dataclass(frozen=True)
class Scope:
    """Which papers a statistic looks at: a 一级学科 code (or prefix), a topic (id or name), years."""

    discipline: str = ""
    topic: str = ""
    year_from: int | None = None
    year_to: int | None = None


@dataclass(frozen=True)
class PaperFacts:
    """What the statistics need of one paper."""

    id: str
    year: int | None
    licence: str
    authors: tuple[str, ...]  # as printed
    institutions: tuple[str, ...]  # normalised, distinct


def name_key(name: str) -> str:
    """The key two spellings of one name share: case, spacing, dots and hyphen glyphs ignored."""
    text = unicodedata.normalize("NFKC", name).replace("\u00ad", "")
    text = re.sub(r"[‐‑–—-]", "-", text)
    text = re.sub(r"[.\s]+", " ", text).strip(" ,;")
    return re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", text).casefold()


_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "del", "della", "du", "le", "la", "bin", "al", "el", "dos", "y"}
_PLACES = {"new york", "san francisco", "los angeles", "hong kong", "new jersey", "new zealand", "united states"}


def plausible_name(name: str) -> bool:
    """Whether an author-list entry can be a person's name. The byline reader sometimes keeps a
    city, a state code or an editor's line ("Boston", "MA", "Edited by …" in the corpus); those
    must not become top authors or network nodes. Chinese names (2-4 characters) pass."""
    text = unicodedata.normalize("NFKC", name).strip()
    if re.fullmatch(r"[\u4e00-\u9fff·]{2,6}", text):
        return True
    words = text.split()
    if not 2 <= len(words) <= 6 or re.search(r"[\d@/:()]", text) or text.casefold() in _PLACES:
        return False
    if _INSTITUTION.search(text) or country_of(text):
        return False
    return all(w[:1].isupper() or w.casefold() in _PARTICLES for w in words)


def institution_key(name: str) -> str:
    return re.sub(r"^the\s+", "", name_key(name))


def _display(spellings: Counter) -> str:
    """The commonest spelling, preferring mixed case ("Ross G. Douglas" over "Ross G. DOUGLAS")."""
    return max(spellings, key=lambda s: (spellings[s], not s.isupper(), s))


class Insights:
    def __init__(self, service: Souwen):
        self.service = service

    @property
    def _db(self):
        return self.service.library.catalogue

    # -- what the papers are -------------------------------------------------------------------
    def discipline_names(self) -> dict[str, dict[str, str]]:
        """code -> {"zh", "en"} from assistant/data/disciplines.json ({} when it is not there)."""
        return _discipline_names()

    def papers(self, scope: Scope = Scope()) -> list[PaperFacts]:
        """The papers in scope with their authors and institutions."""
        where, args = ["1=1"], []
        if scope.discipline:
            code = scope.discipline.strip()
            if not re.fullmatch(r"\d{2,6}", code):
                raise ValueError(f"a discipline is a code like 0812 (一级学科) or 081201, not {code!r}")
            where.append("p.id IN (SELECT paper_id FROM paper_labels WHERE substr(code, 1, ?) = ?)")
            args += [len(code), code]
        if scope.topic:
            where.append("p.id IN (SELECT paper_id FROM topic_papers WHERE topic_id = ?)")
            args.append(self._topic_id(scope.topic))
        for year in (scope.year_from, scope.year_to):
            if year is not None and not 0 <= year <= 9999:  # SQLite cannot even compare 20-digit numbers
                raise ValueError(f"years must lie between 0 and 9999, not {year}")
        if scope.year_from is not None:
            where.append("p.year >= ?")
            args.append(scope.year_from)
        if scope.year_to is not None:
            where.append("p.year <= ?")
            args.append(scope.year_to)
        rows = list(self._db.read(f"SELECT p.id, p.year, p.licence, p.authors FROM papers p "
                                  f"WHERE {' AND '.join(where)} ORDER BY p.id", args))
        listed: dict[str, list] = defaultdict(list)
        for pid, name, places in self._db.read(
                "SELECT paper_id, name, affiliations FROM paper_authors ORDER BY paper_id, position"):
            listed[pid].append((name, _places(places)))
        out = []
        for pid, year, licence, authors in rows:
            pairs = listed.get(pid) or [(a, ()) for a in json.loads(authors or "[]")]
            names = tuple(dict.fromkeys(n for n, _ in pairs if plausible_name(n)))
            insts = tuple(dict.fromkeys(i for _, places in pairs for i in places if i))
            out.append(PaperFacts(pid, year, licence or "", names, insts))
        return out

    def _topic_id(self, key: str) -> str:
        row = self._db.read("SELECT id FROM topics WHERE id = ? OR name = ? ORDER BY id = ? DESC",
                            (key, key, key)).fetchone()
        if row is None:
            raise ValueError(f"no topic named {key!r} (souwen topics lists them)")
        return row[0]

    def primary_disciplines(self) -> dict[str, str]:
        """paper id -> its main 一级学科 code: a user's label first, then the most confident."""
        best: dict[str, tuple] = {}
        for pid, code, conf, source in self._db.read(
                "SELECT paper_id, code, confidence, source FROM paper_labels"):
            rank = (source == "user", conf or 0.0)
            if pid not in best or rank > best[pid][0]:
                best[pid] = (rank, code[:4])
        return {pid: code for pid, (_, code) in best.items()}

    # -- counts -------------------------------------------------------------------------------
    def overview(self) -> dict:
        papers = self.papers()
        years = [p.year for p in papers if p.year]
        authors = {name_key(a) for p in papers for a in p.authors}
        insts = {institution_key(i) for p in papers for i in p.institutions}
        return {"papers": len(papers), "years": [min(years), max(years)] if years else [],
                "undated": len(papers) - len(years), "authors": len(authors), "institutions": len(insts),
                "with_institutions": sum(1 for p in papers if p.institutions),
                "with_licence": sum(1 for p in papers if p.licence),
                "with_discipline": len(self.primary_disciplines()),
                "topics": self._db.read("SELECT COUNT(*) FROM topics").fetchone()[0]}

    def years(self, by: str | None = None, scope: Scope = Scope()) -> list[dict]:
        """Rows {"year", "group", "name", "papers"}, by year then group. `by`: None (group "all"),
        "discipline" (each paper under its main 一级学科) or "topic" (under each topic it is in)."""
        papers = [p for p in self.papers(scope) if p.year]
        groups: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        if by is None:
            groups = {p.id: ["all"] for p in papers}
            names["all"] = "all papers"
        elif by == "discipline":
            primary = self.primary_disciplines()
            catalogue = self.discipline_names()
            groups = {p.id: [primary.get(p.id, UNLABELLED)] for p in papers}
            names = {c: catalogue.get(c, {}).get("zh", c) for g in groups.values() for c in g}
        elif by == "topic":
            for tid, name, pid in self._db.read(
                    "SELECT t.id, t.name, tp.paper_id FROM topics t JOIN topic_papers tp ON tp.topic_id = t.id"):
                groups.setdefault(pid, []).append(tid)
                names[tid] = name
        else:
            raise ValueError(f"years can be grouped by discipline or topic, not {by!r}")
        counts = Counter((p.year, g) for p in papers for g in groups.get(p.id, ()))
        return [{"year": y, "group": g, "name": names.get(g, g), "papers": n} for (y, g), n in sorted(counts.items())]

    def disciplines(self, scope: Scope = Scope()) -> list[dict]:
        """Papers per 一级学科 (a paper with two labels counts under both), most first."""
        ids = {p.id for p in self.papers(scope)}
        per: dict[str, set[str]] = defaultdict(set)
        for pid, code in self._db.read("SELECT paper_id, code FROM paper_labels"):
            if pid in ids:
                per[code[:4]].add(pid)
        names = self.discipline_names()
        parent = {c: names.get(c, {}).get("parent", "") for c in per}
        return sorted(({"code": c, "name": names.get(c, {}).get("zh", c), "name_en": names.get(c, {}).get("en", ""),
                        "category": parent[c], "papers": len(v)} for c, v in per.items()),
                      key=lambda r: (-r["papers"], r["code"]))

    def licences(self, scope: Scope = Scope()) -> list[dict]:
        counts = Counter(p.licence or NO_LICENCE for p in self.papers(scope))
        return [{"licence": k, "papers": n} for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def authors(self, n: int = 20, scope: Scope = Scope()) -> list[dict]:
        """The authors with most papers: {"name", "papers", "institutions"}."""
        papers, spell, insts = self._people(self.papers(scope))
        ranked = sorted(papers, key=lambda k: (-len(papers[k]), _display(spell[k])))[:max(0, n)]
        return [{"name": _display(spell[k]), "papers": len(papers[k]),
                 "institutions": [i for i, _ in insts[k].most_common(3)]} for k in ranked]

    def institutions(self, n: int = 20, scope: Scope = Scope()) -> list[dict]:
        """The institutions with most papers: {"name", "country", "papers"}."""
        papers, spell = self._institutions(self.papers(scope))
        ranked = sorted(papers, key=lambda k: (-len(papers[k]), _display(spell[k])))[:max(0, n)]
        return [{"name": _display(spell[k]), "country": self._countries().get(k, ""), "papers": len(papers[k])}
                for k in ranked]

    # -- networks -----------------------------------------------------------------------------
    def coauthor_network(self, scope: Scope = Scope()) -> nx.Graph:
        """Authors (node attrs: name, papers) joined by the papers they wrote together (weight)."""
        import networkx as nx

        facts = self.papers(scope)
        papers, spell, _ = self._people(facts)
        graph = nx.Graph(kind="coauthors")
        for key, ids in papers.items():
            graph.add_node(key, name=_display(spell[key]), papers=len(ids))
        for p in facts:
            keys = list(dict.fromkeys(name_key(a) for a in p.authors))[:MAX_AUTHORS]
            _join(graph, keys)
        return graph

    def institution_network(self, scope: Scope = Scope()) -> nx.Graph:
        """Institutions (node attrs: name, country, papers) joined by their joint papers (weight)."""
        import networkx as nx

        facts = self.papers(scope)
        papers, spell = self._institutions(facts)
        countries = self._countries()
        graph = nx.Graph(kind="institutions")
        for key, ids in papers.items():
            graph.add_node(key, name=_display(spell[key]), country=countries.get(key, ""), papers=len(ids))
        for p in facts:
            _join(graph, list(dict.fromkeys(institution_key(i) for i in p.institutions)))
        return graph

    def network(self, kind: str, scope: Scope = Scope()) -> nx.Graph:
        if kind == "coauthors":
            return self.coauthor_network(scope)
        if kind == "institutions":
            return self.institution_network(scope)
        raise ValueError(f"a network is of coauthors or institutions, not {kind!r}")

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _people(facts: Sequence[PaperFacts]):
        papers: dict[str, set[str]] = defaultdict(set)
        spell: dict[str, Counter] = defaultdict(Counter)
        insts: dict[str, Counter] = defaultdict(Counter)
        for p in facts:
            for a in p.authors:
                key = name_key(a)
                papers[key].add(p.id)
                spell[key][a.strip()] += 1
                insts[key].update(p.institutions if len(p.institutions) == 1 else ())
        return papers, spell, insts

    @staticmethod
    def _institutions(facts: Sequence[PaperFacts]):
        papers: dict[str, set[str]] = defaultdict(set)
        spell: dict[str, Counter] = defaultdict(Counter)
        for p in facts:
            for i in p.institutions:
                papers[institution_key(i)].add(p.id)
                spell[institution_key(i)][i] += 1
        return papers, spell

    def _countries(self) -> dict[str, str]:
        out: dict[str, Counter] = defaultdict(Counter)
        for (places,) in self._db.read("SELECT affiliations FROM paper_authors"):
            for text in _raw_places(places):
                country = country_of(text)
                if country:
                    out[institution_key(institution_of(text))][country] += 1
        return {k: c.most_common(1)[0][0] for k, c in out.items()}


def _join(graph, keys: list[str]) -> None:
    for a, b in combinations(keys, 2):
        if graph.has_edge(a, b):
            graph[a][b]["weight"] += 1
        else:
            graph.add_edge(a, b, weight=1)


def _raw_places(stored: str) -> list[str]:
    """Affiliation texts of one paper_authors row (strings, or {"name"/"institution": …} objects)."""
    try:
        items = json.loads(stored or "[]")
    except ValueError:
        return []
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            item = item.get("institution") or item.get("name") or item.get("text") or ""
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


def _places(stored: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(institution_of(t) for t in _raw_places(stored)))


def _discipline_names() -> dict[str, dict[str, str]]:
    from importlib import resources

    try:
        data = json.loads(resources.files("assistant").joinpath("data/disciplines.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("entries", []) if isinstance(data, dict) else data
    return {e["code"]: {"zh": e.get("zh", e["code"]), "en": e.get("en", ""), "parent": e.get("parent", "")}
            for e in entries if isinstance(e, dict) and "code" in e}


def network_json(graph: nx.Graph) -> dict:
    """Node-link JSON: {"nodes": [{"id", "name", "papers", …}], "links": [{"source", "target", "weight"}]}."""
    import networkx as nx

    return nx.node_link_data(graph, edges="links")


def graphml_bytes(graph: nx.Graph) -> bytes:
    import networkx as nx

    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8")
    return buffer.getvalue()
