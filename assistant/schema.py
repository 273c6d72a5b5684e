"""The catalogue's SQLite schema as numbered migrations: ``Catalogue`` runs those a file has not seen
(``PRAGMA user_version`` counts them), each in one transaction, so an old library is upgraded in
place when it is opened. Append a new entry for every change; never edit a released one. Scripts
are split on ";", so no trigger bodies.

1: papers, chunks (text, lexical terms, vector), figures, tables, the ingest log.
2-4: the library platform (issue 6): provenance, authors, disciplines, topics, users, digests.
"""
from __future__ import annotations

MIGRATIONS = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE papers (
        id TEXT PRIMARY KEY, doi TEXT NOT NULL DEFAULT '', sha256 TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL DEFAULT '', title_alt TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]', year INTEGER, venue TEXT NOT NULL DEFAULT '',
        abstract TEXT NOT NULL DEFAULT '', abstract_alt TEXT NOT NULL DEFAULT '',
        keywords TEXT NOT NULL DEFAULT '[]', keywords_alt TEXT NOT NULL DEFAULT '[]',
        lang TEXT NOT NULL DEFAULT 'en', pages INTEGER NOT NULL DEFAULT 0,
        source_path TEXT NOT NULL DEFAULT '', pdf_path TEXT NOT NULL DEFAULT '',
        refs TEXT NOT NULL DEFAULT '[]', warnings TEXT NOT NULL DEFAULT '[]',
        added_at TEXT NOT NULL
    );
    CREATE INDEX papers_doi ON papers(doi);
    CREATE TABLE chunks (
        rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL, kind TEXT NOT NULL, section TEXT NOT NULL,
        page_start INTEGER NOT NULL, page_end INTEGER NOT NULL,
        char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
        text TEXT NOT NULL, terms TEXT NOT NULL, vector BLOB NOT NULL
    );
    CREATE INDEX chunks_paper ON chunks(paper_id);
    CREATE TABLE figures (
        id TEXT PRIMARY KEY, paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL, page INTEGER NOT NULL, bbox TEXT NOT NULL, kind TEXT NOT NULL,
        label TEXT NOT NULL, caption TEXT NOT NULL, mentions TEXT NOT NULL,
        image_path TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL
    );
    CREATE INDEX figures_paper ON figures(paper_id);
    CREATE TABLE tables (
        id TEXT PRIMARY KEY, paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        page INTEGER NOT NULL, label TEXT NOT NULL, caption TEXT NOT NULL, text TEXT NOT NULL
    );
    CREATE TABLE ingest_log (
        id INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', paper_id TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    """,
    # 2: the library platform (issue 6). Paper provenance (licence, OA URL, pdf | record), authors
    # with their affiliations, discipline labels and the user's corrections, topics (专题), local
    # users with favourites and subscriptions. User data that must outlive a paper's re-ingest or
    # `souwen rebuild` is listed in USER_TABLES.
    """
    ALTER TABLE papers ADD COLUMN licence TEXT NOT NULL DEFAULT '';
    ALTER TABLE papers ADD COLUMN oa_url TEXT NOT NULL DEFAULT '';
    ALTER TABLE papers ADD COLUMN source TEXT NOT NULL DEFAULT 'pdf';
    CREATE TABLE paper_authors (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE, position INTEGER NOT NULL,
        name TEXT NOT NULL, affiliations TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (paper_id, position)
    );
    CREATE INDEX paper_authors_name ON paper_authors(name);
    CREATE TABLE paper_disciplines (
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE, code TEXT NOT NULL,
        confidence REAL NOT NULL, source TEXT NOT NULL DEFAULT 'auto', PRIMARY KEY (paper_id, code)
    );
    CREATE INDEX paper_disciplines_code ON paper_disciplines(code);
    CREATE TABLE discipline_corrections (
        paper_key TEXT PRIMARY KEY, codes TEXT NOT NULL, at TEXT NOT NULL
    );
    CREATE TABLE topics (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
        query TEXT NOT NULL DEFAULT '', filters TEXT NOT NULL DEFAULT '{}', owner TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE TABLE topic_papers (
        topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        how TEXT NOT NULL, score REAL, added_at TEXT NOT NULL, PRIMARY KEY (topic_id, paper_id)
    );
    CREATE TABLE users (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, key_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL, last_digest_at TEXT
    );
    CREATE TABLE favourites (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        note TEXT NOT NULL DEFAULT '', at TEXT NOT NULL, PRIMARY KEY (user_id, paper_id)
    );
    CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        topic_id TEXT REFERENCES topics(id) ON DELETE CASCADE, query TEXT NOT NULL DEFAULT '',
        filters TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL
    );
    CREATE INDEX subscriptions_user ON subscriptions(user_id);
    """,
    # 3: digests (assistant.accounts). The papers each subscription has already considered, kept
    # while they lie within accounts.GRACE of the user's last digest, so that a paper stamped in the
    # same second as a digest (or committed a moment after its stamp) is neither lost nor repeated.
    """
    CREATE TABLE digest_seen (
        subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        added_at TEXT NOT NULL, PRIMARY KEY (subscription_id, paper_id)
    );
    """,
    # 4: each paper's 学科 labels with the user's corrections winning (assistant.disciplines). The
    # corrections are keyed by DOI (sha256 without one) and copied into a rebuilt catalogue after its
    # papers were labelled, so paper_disciplines alone can be stale there; this view never is.
    """
    CREATE VIEW paper_labels AS
    SELECT p.id AS paper_id, j.value AS code, 1.0 AS confidence, 'user' AS source
      FROM papers p JOIN discipline_corrections c ON c.paper_key = CASE WHEN p.doi != '' THEN p.doi ELSE p.sha256 END
      JOIN json_each(c.codes) j
    UNION ALL
    SELECT d.paper_id, d.code, d.confidence, d.source FROM paper_disciplines d JOIN papers p ON p.id = d.paper_id
     WHERE NOT EXISTS (SELECT 1 FROM discipline_corrections c
                        WHERE c.paper_key = CASE WHEN p.doi != '' THEN p.doi ELSE p.sha256 END)
    """,
]
# What people made (not what ingest derives from the PDFs): `souwen rebuild` copies these tables
# into the rebuilt catalogue, in this order (parents first). Paper ids come from the file's hash, so
# rows that name a paper still name it after the rebuild.
USER_TABLES = ("discipline_corrections", "topics", "topic_papers", "users", "favourites", "subscriptions")
