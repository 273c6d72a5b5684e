"""学科: the Chinese graduate discipline catalogue, each paper's discipline labels, and the user's
corrections.

The catalogue is data (``assistant/data/disciplines.json``: 学科门类, the 2022 一级学科 and the
1997/2008 二级学科, with Chinese and English names and a general scope per 一级学科). A paper is
labelled offline from its title, abstract, keywords and venue by two signals:

- dense: MiniLM similarity between the paper's English text (a Chinese paper's printed English
  title and abstract, else a CC-CEDICT gloss) and each 一级学科's scope; MiniLM reads English only.
- lexical: the catalogue's scope terms found in the paper, English phrases by their stems in
  order, Chinese terms as written, each weighted by how few 一级学科 list it (an idf).

Both are standardised over the 一级学科 and added; a softmax gives the confidences. A second
一级学科 is kept only when it comes close to the first, and a 二级学科 only when one clearly
leads inside the chosen 一级学科 (the model: ``assistant.discipline_model``). Labels go to
``paper_disciplines`` (source 'auto').

A user's correction is kept in ``discipline_corrections`` under the paper's DOI (its sha256 when it
has none), so it outlives a new version of the PDF and ``souwen rebuild``. It is written into the
paper's labels at once (source 'user', confidence 1) and by ``classify`` for a re-ingested paper;
readers use the view ``paper_labels`` (catalogue migration 4), which applies the corrections itself,
so they also win in a rebuilt catalogue, whose corrections are copied in after its papers were
labelled.

Left out: 专业学位 categories; labels from citations or full text (the abstract says what a paper
is about, the body mostly how).
"""
from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.catalogue import now
from assistant.types import DisciplineLabel, Paper

if TYPE_CHECKING:
    from assistant.discipline_model import DisciplineVectors
    from assistant.service import Souwen

DATA = Path(__file__).parent / "data" / "disciplines.json"


@dataclass(frozen=True)
class Discipline:
    """One node of the catalogue: a 学科门类 (2 digits), 一级学科 (4) or 二级学科 (6)."""

    code: str
    level: str  # 门类 | 一级学科 | 二级学科
    zh: str
    en: str
    parent: str  # "" for a 门类
    scope_en: tuple[str, ...] = ()
    scope_zh: tuple[str, ...] = ()


Label = DisciplineLabel  # a paper's discipline, confidence (0..1) and source (auto | user)


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Discipline]:
    """Every node of the catalogue by code, in catalogue order."""
    entries = json.loads(DATA.read_text(encoding="utf-8"))["entries"]
    return {e["code"]: Discipline(e["code"], e["level"], e["zh"], e["en"], e["parent"],
                                  tuple(e.get("scope_en", ())), tuple(e.get("scope_zh", ()))) for e in entries}


def first_level() -> list[Discipline]:
    return [d for d in catalogue().values() if len(d.code) == 4]


def children(code: str) -> list[Discipline]:
    return [d for d in catalogue().values() if d.parent == code]


def check_codes(codes: Sequence[str], *, labels_only: bool = False) -> tuple[str, ...]:
    """The codes, stripped and de-duplicated, or ValueError naming the unknown ones. With
    `labels_only`, 门类 codes are refused too: a paper is labelled with 一级/二级学科."""
    cleaned = tuple(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    known = catalogue()
    unknown = [c for c in cleaned if c not in known]
    if unknown:
        raise ValueError(f"unknown discipline code(s): {', '.join(unknown)} (see `souwen disciplines` for the "
                         "catalogue: 2-digit 门类, 4-digit 一级学科, 6-digit 二级学科)")
    if labels_only:
        broad = [c for c in cleaned if len(c) == 2]
        if broad:
            raise ValueError(f"{', '.join(broad)} is a 学科门类; label a paper with a 4-digit 一级学科 "
                             "or a 6-digit 二级学科")
    return cleaned


def label_json(label: Label) -> dict:
    """What `papers --json` and the API show for a label."""
    node = catalogue().get(label.code)
    return {"code": label.code, "name": node.zh if node else "", "name_en": node.en if node else "",
            "confidence": round(label.confidence, 4), "source": label.source}


def paper_key(paper: Paper) -> str:
    """What a correction is stored under: the DOI (it survives a new version of the PDF), else the sha256."""
    return paper.doi or paper.sha256


class Disciplines:
    """The service's 学科 part: labels papers after ingest, reads and corrects their labels."""

    def __init__(self, service: Souwen):
        self.service = service
        self._vectors: DisciplineVectors | None = None

    @property
    def _db(self):
        return self.service.library.catalogue

    def vectors(self) -> DisciplineVectors:
        embedder = self.service.embedder
        if self._vectors is None or self._vectors.embedder is not embedder:
            from assistant.discipline_model import DisciplineVectors
            from embeddings.sentence import default_cache_dir

            folder = self.service.settings.embedder.cache_dir or default_cache_dir()
            self._vectors = DisciplineVectors(embedder, folder / "disciplines")
        return self._vectors

    def classify(self, paper_ids: Sequence[str]) -> dict[str, list[Label]]:
        """Label these papers (auto labels, or the user's correction where one is stored); their labels."""
        from assistant.discipline_model import predict  # numpy and the model only when labelling

        papers = [p for p in (self._db.paper(i) for i in dict.fromkeys(paper_ids)) if p is not None]
        corrected = self._corrections([paper_key(p) for p in papers])
        todo = [p for p in papers if paper_key(p) not in corrected]
        predicted = dict(zip((p.id for p in todo), predict(todo, self.vectors())))
        out = {}
        with self._db.transaction() as db:
            for p in papers:
                codes = corrected.get(paper_key(p))
                labels = [Label(c, 1.0, "user") for c in codes] if codes is not None else predicted[p.id]
                db.execute("DELETE FROM paper_disciplines WHERE paper_id=?", (p.id,))
                db.executemany("INSERT OR REPLACE INTO paper_disciplines VALUES (?,?,?,?)",
                               [(p.id, label.code, label.confidence, label.source) for label in labels])
                out[p.id] = labels
        return out

    def labels(self, paper: Paper) -> list[Label]:
        rows = self._db.read("SELECT code, confidence, source FROM paper_labels WHERE paper_id=? "
                             "ORDER BY confidence DESC, code", (paper.id,))
        return [Label(r[0], r[1], r[2]) for r in rows]

    def correction(self, paper: Paper) -> list[str] | None:
        return self._corrections([paper_key(paper)]).get(paper_key(paper))

    def _corrections(self, keys: Sequence[str]) -> dict[str, list[str]]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = self._db.read(f"SELECT paper_key, codes FROM discipline_corrections WHERE paper_key IN ({marks})",
                             list(keys))
        return {r[0]: json.loads(r[1]) for r in rows}

    def correct(self, paper: Paper, codes: Sequence[str]) -> list[Label]:
        """Store the user's labels for a paper (they replace its auto labels, now and after re-ingest)."""
        codes = check_codes(codes, labels_only=True)
        if not codes:
            raise ValueError("give at least one discipline code (4-digit 一级学科 or 6-digit 二级学科)")
        with self._db.transaction() as db:
            db.execute("INSERT OR REPLACE INTO discipline_corrections VALUES (?,?,?)",
                       (paper_key(paper), json.dumps(list(codes)), now()))
            for other in self._db.find_papers(paper_key(paper)):  # every stored version of the paper
                db.execute("DELETE FROM paper_disciplines WHERE paper_id=?", (other.id,))
                db.executemany("INSERT INTO paper_disciplines VALUES (?,?,1.0,'user')", [(other.id, c) for c in codes])
        return self.labels(paper)

    def clear(self, paper: Paper) -> bool:
        """Drop the user's labels for a paper and label it afresh; False when it had none."""
        with self._db.transaction() as db:
            gone = db.execute("DELETE FROM discipline_corrections WHERE paper_key=?", (paper_key(paper),)).rowcount
        if gone:
            self.classify([paper.id])
        return bool(gone)

    def counts(self) -> dict[str, int]:
        """Papers per node of the catalogue (a paper counts once under each 门类/一级/二级 it falls in)."""
        out: dict[str, int] = {}
        for size in (2, 4, 6):
            rows = self._db.read(
                "SELECT substr(code, 1, ?) AS c, COUNT(DISTINCT paper_id) FROM paper_labels "
                "WHERE length(code) >= ? GROUP BY c", (size, size))
            out.update({r[0]: r[1] for r in rows})
        return out

    def papers_in(self, code: str) -> list[Paper]:
        from assistant.retrieval import Filters

        return self.service.papers(Filters(disciplines=check_codes([code])))
