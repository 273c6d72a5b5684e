"""Local users, favourites, subscriptions and digests (assistant.accounts, api_accounts,
account_commands): keys hashed at rest, CRUD, digests at the one-second boundary, a saved query's
digest through the real MiniLM, isolation between users through a real server on loopback, admin
and user keys with ``api.keys``, the CLI, and user data surviving `souwen rebuild`.

Small libraries are made from PyMuPDF-generated papers (tests.pdfmaker); the hashing embedder is
used where matching is not what is tested.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from assistant.accounts import GRACE, NotFound, hash_key
from assistant.cli import main
from assistant.retrieval import Filters
from assistant.service import PaperNotFound, Souwen
from assistant.settings import Settings
from tests.api.test_api import Server, build_library
from tests.samples import make_samples
from tests.sqlfile import query_catalogue

DOIS = {"wheat": "10.1234/wheat.2021.7", "ribo": "10.1093/test/ribo1", "ndn": "10.3969/j.issn.1673-629x.2023.10.010",
        "sorghum": "10.1234/sorghum.2021"}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    return make_samples(tmp_path_factory.mktemp("account-pdfs"), ("wheat", "ribo", "ndn", "sorghum"))


@pytest.fixture
def service(tmp_path, pdfs, hashing):
    souwen = Souwen(Settings(library=tmp_path / "library", embedder={"model": "hashing"}), embedder=hashing)
    assert not souwen.ingest([pdfs["wheat"], pdfs["ribo"]], workers=0).failed
    yield souwen
    souwen.close()


def stamp(text: str, seconds: float = 0) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(text) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def digest_dois(digest) -> list[str]:
    return sorted(p.doi for section in digest.sections for p in section.papers)


# -- keys --------------------------------------------------------------------------------------
def test_keys_are_hashed_at_rest_and_rotation_invalidates_the_old_key(service):
    accounts = service.accounts
    alice, key = accounts.create_user("alice")
    bob, bob_key = accounts.create_user("鲍勃")  # names may be Chinese
    assert key.startswith("sw_") and len(key) >= 40 and key != bob_key
    assert accounts.authenticate(key) == alice and accounts.authenticate(bob_key) == bob
    new_key = accounts.rotate_key("alice")
    assert accounts.authenticate(key) is None, "the old key still works after a rotation"
    assert accounts.authenticate(new_key).id == alice.id
    for wrong in ("", "sw_", key[:-1], new_key + "x", new_key.upper(), "x" * 5000, hash_key(new_key)):
        assert accounts.authenticate(wrong) is None, wrong
    service.close()
    # No key (nor its random part) anywhere in the library's SQLite files, WAL included; the hash is.
    library = service.settings.library
    stored = b"".join(p.read_bytes() for p in library.glob("catalogue.sqlite*"))
    for plain in (key, bob_key, new_key):
        assert plain.encode() not in stored and plain[3:].encode() not in stored
    with sqlite3.connect(library / "catalogue.sqlite") as db:
        hashes = {name: h for name, h in db.execute("SELECT name, key_hash FROM users")}
    assert hashes == {"alice": hash_key(new_key), "鲍勃": hash_key(bob_key)}


def test_user_names_are_checked_and_removal_cascades(service):
    accounts = service.accounts
    for bad in ("", "  ", "two words", "a/b", "x" * 65, "-dash-first"):
        with pytest.raises(ValueError):
            accounts.create_user(bad)
    user, key = accounts.create_user("carol")
    with pytest.raises(ValueError, match="exists"):
        accounts.create_user("carol")
    accounts.add_favourite(user, DOIS["wheat"])
    accounts.subscribe(user, query="germinated wheat")
    assert [u.name for u in accounts.users()] == ["carol"]
    assert accounts.remove_user("carol").id == user.id
    assert accounts.authenticate(key) is None and accounts.users() == []
    assert query_catalogue(service.library, "SELECT COUNT(*) FROM favourites") == [(0,)]
    assert query_catalogue(service.library, "SELECT COUNT(*) FROM subscriptions") == [(0,)]
    with pytest.raises(NotFound):
        accounts.remove_user("carol")
    with pytest.raises(NotFound):
        accounts.rotate_key("nobody")


# -- favourites and subscriptions ---------------------------------------------------------------
def test_favourites_crud(service):
    accounts = service.accounts
    alice, _ = accounts.create_user("alice")
    bob, _ = accounts.create_user("bob")
    wheat = accounts.add_favourite(alice, DOIS["wheat"].upper(), note="for the review")  # DOIs: any case
    assert (wheat.doi, wheat.note) == (DOIS["wheat"], "for the review")
    ribo_id = service.find(DOIS["ribo"]).id
    accounts.add_favourite(alice, ribo_id[:10])  # an id prefix
    assert accounts.add_favourite(alice, DOIS["wheat"], note="new note").note == "new note"  # again: note only
    assert [f.doi for f in accounts.favourites(alice)] == [DOIS["wheat"], DOIS["ribo"]]  # in the order added
    assert accounts.favourites(bob) == []
    with pytest.raises(PaperNotFound):
        accounts.add_favourite(alice, "10.9999/not.here")
    with pytest.raises(ValueError):
        accounts.add_favourite(alice, DOIS["wheat"], note="x" * 2001)
    with pytest.raises(NotFound):
        accounts.remove_favourite(bob, DOIS["wheat"])  # alice's, not bob's
    assert accounts.remove_favourite(alice, DOIS["wheat"]).doi == DOIS["wheat"]
    assert [f.doi for f in accounts.favourites(alice)] == [DOIS["ribo"]]
    with pytest.raises(NotFound):
        accounts.remove_favourite(alice, DOIS["wheat"])


def test_subscriptions_crud(service):
    accounts = service.accounts
    alice, _ = accounts.create_user("alice")
    bob, _ = accounts.create_user("bob")
    topic = service.topics.create("Cereals", "germinated wheat")
    by_name = accounts.subscribe(alice, topic="Cereals")
    assert (by_name.kind, by_name.topic_id, by_name.topic) == ("topic", topic.id, "Cereals")
    assert accounts.subscribe(alice, topic=topic.id).id == by_name.id  # the same topic twice is one
    query = accounts.subscribe(alice, query="ribosome assembly", filters=Filters(year_from=2020, year_to=2024))
    assert (query.kind, query.query, query.filters) == ("query", "ribosome assembly", {"year_from": 2020, "year_to": 2024})
    other = accounts.subscribe(alice, query="ribosome assembly")
    assert other.id != query.id  # other filters: another subscription
    assert [s.id for s in accounts.subscriptions(alice)] == [by_name.id, query.id, other.id]
    for bad in ({}, {"topic": "Cereals", "query": "wheat"}, {"query": "  "}, {"query": "q" * 501},
                {"topic": "Cereals", "filters": Filters(year_from=2020)}):
        with pytest.raises(ValueError):
            accounts.subscribe(alice, **bad)
    with pytest.raises(NotFound):
        accounts.subscribe(alice, topic="No such topic")
    with pytest.raises(NotFound):
        accounts.unsubscribe(bob, query.id)  # alice's
    assert accounts.subscriptions(bob) == []
    assert accounts.unsubscribe(alice, query.id).id == query.id
    assert [s.id for s in accounts.subscriptions(alice)] == [by_name.id, other.id]
    service.topics.delete("Cereals")  # a topic that goes takes its subscriptions along
    assert [s.id for s in accounts.subscriptions(alice)] == [other.id]


# -- digests ------------------------------------------------------------------------------------
def test_topic_digest_new_then_nothing_and_peek_does_not_advance(service, pdfs):
    accounts = service.accounts
    alice, _ = accounts.create_user("alice")
    service.topics.create("Crops", "drought tolerance of sorghum cultivars")
    accounts.subscribe(alice, topic="Crops")
    before = accounts.digest(alice)  # the topic's query matches nothing in wheat/ribo
    assert before.count == 0 and before.advanced
    service.topics.pin("Crops", [DOIS["wheat"]])  # joins the topic now
    assert not service.ingest([pdfs["sorghum"]], workers=0).failed  # joins it if its query matches
    joined = {m.paper.doi for m in service.topics.members(service.topics.get("Crops"))}
    assert DOIS["wheat"] in joined
    peek = accounts.digest(alice, advance=False)
    assert not peek.advanced and digest_dois(peek) == sorted(joined)
    again = accounts.digest(alice, advance=False)
    assert digest_dois(again) == digest_dois(peek), "a peek changed what the next digest shows"
    first = accounts.digest(alice)
    assert digest_dois(first) == sorted(joined) and first.since == before.until
    assert accounts.digest(alice).count == 0  # nothing new since
    # an explicit `since` lists everything since then, seen or not
    assert digest_dois(accounts.digest(alice, since=before.since, advance=False)) == sorted(joined)
    with pytest.raises(ValueError):
        accounts.digest(alice, since="last tuesday")


def test_digest_at_the_one_second_boundary(service, pdfs, monkeypatch):
    """A paper stamped in the same second as the last digest, or stamped before it but committed
    after it (it waited for the write lock), shows up in the next digest exactly once."""
    import assistant.accounts as accounts_module

    assert not service.ingest([pdfs["ndn"]], workers=0).failed
    accounts = service.accounts
    alice, _ = accounts.create_user("alice")
    topic = service.topics.create("Boundary", "lattice quantum chromodynamics")
    assert service.topics.members(topic) == []  # papers join below, at chosen times
    accounts.subscribe(alice, topic="Boundary")
    wheat, ribo, ndn = (service.find(DOIS[name]).id for name in ("wheat", "ribo", "ndn"))
    t1 = stamp(alice.created_at, 60)

    def join(paper_id: str, at: str) -> None:
        with service.library.catalogue.transaction() as db:
            db.execute("INSERT INTO topic_papers VALUES (?,?,?,?,?)", (topic.id, paper_id, "pinned", None, at))

    join(wheat, t1)
    monkeypatch.setattr(accounts_module, "now", lambda: t1)  # the digest runs in second t1 too
    assert digest_dois(accounts.digest(alice)) == [DOIS["wheat"]]
    join(ndn, t1)  # the same second as that digest, committed after it
    join(ribo, stamp(t1, -30))  # stamped 30 s before that digest, committed after it
    monkeypatch.setattr(accounts_module, "now", lambda: stamp(t1, 1))
    second = accounts.digest(alice)
    assert digest_dois(second) == sorted([DOIS["ndn"], DOIS["ribo"]]), "a paper was lost, or wheat repeated"
    monkeypatch.setattr(accounts_module, "now", lambda: stamp(t1, 2))
    assert accounts.digest(alice).count == 0
    # Once the last digest is more than GRACE later, the seen-list is pruned: nothing it held can
    # fall inside a later digest's window again.
    later = stamp(t1, GRACE.total_seconds() * 3)
    monkeypatch.setattr(accounts_module, "now", lambda: later)
    assert accounts.digest(alice).count == 0
    assert query_catalogue(service.library, "SELECT COUNT(*) FROM digest_seen") == [(0,)]


def test_concurrent_digests_never_return_a_paper_twice(service, monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from assistant.accounts import Accounts

    accounts = service.accounts
    alice, _ = accounts.create_user("alice")
    service.topics.create("Both", "", pins=[DOIS["wheat"], DOIS["ribo"]])
    accounts.subscribe(alice, topic="Both")
    # All four digests read their candidates before any of them marks them seen.
    barrier, match = threading.Barrier(4), Accounts._matching

    def match_together(self, sub, rows):
        barrier.wait(20)
        return match(self, sub, rows)

    monkeypatch.setattr(Accounts, "_matching", match_together)
    with ThreadPoolExecutor(4) as pool:
        digests = list(pool.map(lambda _: accounts.digest(alice), range(4)))
    delivered = [doi for d in digests for doi in digest_dois(d)]
    assert sorted(delivered) == sorted([DOIS["wheat"], DOIS["ribo"]])  # each once, across the four


@pytest.mark.slow
def test_query_digest_with_minilm(tmp_path, pdfs, minilm):
    """A saved query's digest on a real library: a new paper that matches shows up, others do not."""
    service = Souwen(Settings(library=tmp_path / "library"), embedder=minilm)
    try:
        assert not service.ingest([pdfs["wheat"]], workers=0).failed
        accounts = service.accounts
        alice, _ = accounts.create_user("alice")
        bob, _ = accounts.create_user("bob")
        drought = accounts.subscribe(alice, query="drought tolerance of sorghum cultivars")
        accounts.subscribe(bob, query="ribosome assembly", filters=Filters(year_from=2025))  # no 2024 paper
        assert accounts.digest(alice).count == 0  # wheat was there before; it matches nothing anyway
        assert not service.ingest([pdfs["sorghum"], pdfs["ribo"], pdfs["ndn"]], workers=0).failed
        digest = accounts.digest(alice)
        assert [s.subscription.id for s in digest.sections] == [drought.id]
        assert digest_dois(digest) == [DOIS["sorghum"]]
        assert digest.sections[0].papers[0].score > 0
        assert accounts.digest(alice).count == 0
        assert accounts.digest(bob).count == 0  # ribosome assembly matches, but not its year filter
    finally:
        service.close()


# -- over HTTP: isolation, admin and user keys ---------------------------------------------------
@pytest.fixture(scope="module")
def shared_library(pdfs, tmp_path_factory) -> Path:
    return build_library(tmp_path_factory.mktemp("accounts-api"), {k: pdfs[k] for k in ("wheat", "ribo", "ndn")})


def make_users(library: Path, *names: str) -> dict[str, str]:
    service = Souwen(Settings(library=library, embedder={"model": "hashing"}))
    try:
        return {name: service.accounts.create_user(name)[1] for name in names}
    finally:
        service.close()


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_users_cannot_reach_each_others_data_over_http(shared_library, tmp_path):
    keys = make_users(shared_library, "ann", "ben")
    server = Server(shared_library, tmp_path / "server.log")
    try:
        with server.client() as c:
            a, b = bearer(keys["ann"]), {"X-API-Key": keys["ben"]}
            for headers in ({}, bearer("wrong"), bearer("sw_" + "A" * 43), {"X-API-Key": keys["ann"][:-2]}):
                for method, path in (("GET", "/me"), ("GET", "/me/favourites"), ("GET", "/me/digest"),
                                     ("POST", "/me/favourites"), ("DELETE", "/me/subscriptions/x")):
                    r = c.request(method, path, headers=headers, json={"paper": DOIS["wheat"]})
                    assert r.status_code == 401, (method, path, headers, r.text)
            assert c.get("/me", headers=a).json()["name"] == "ann"
            assert c.get("/me", headers=b).json()["name"] == "ben"
            r = c.post("/me/favourites", headers=a, json={"paper": DOIS["wheat"], "note": "ann's"})
            assert r.status_code == 201 and r.json()["doi"] == DOIS["wheat"]
            assert c.post("/me/favourites", headers=a, json={"paper": "10.9/none"}).status_code == 404
            sub = c.post("/me/subscriptions", headers=a, json={"query": "germinated wheat", "years": "2020-2024"})
            assert sub.status_code == 201 and sub.json()["filters"] == {"year_from": 2020, "year_to": 2024}
            sub_id = sub.json()["id"]
            for body in ({}, {"query": "x", "topic": "y"}, {"query": "x", "years": "soon"}, {"query": "x", "user_id": "u1"}):
                assert c.post("/me/subscriptions", headers=a, json=body).status_code in (400, 422), body
            assert c.post("/me/subscriptions", headers=a, json={"topic": "none"}).status_code == 404
            # ben sees none of it and can change none of it; ann's ids are 404 for him, as unknown ones are
            assert c.get("/me/favourites", headers=b).json() == []
            assert c.get("/me/subscriptions", headers=b).json() == []
            assert c.delete(f"/me/favourites/{DOIS['wheat']}", headers=b).status_code == 404
            assert c.delete(f"/me/subscriptions/{sub_id}", headers=b).status_code == 404
            assert c.delete("/me/subscriptions/s0000000000000000", headers=b).status_code == 404
            digest = c.get("/me/digest", headers=b).json()
            assert digest["user"] == "ben" and digest["subscriptions"] == []
            # ann's data is intact; her digest is hers (peek first: it does not advance)
            assert [f["note"] for f in c.get("/me/favourites", headers=a).json()] == ["ann's"]
            assert [s["id"] for s in c.get("/me/subscriptions", headers=a).json()] == [sub_id]
            peek = c.get("/me/digest", params={"peek": "true"}, headers=a).json()
            assert peek["advanced"] is False and [s["subscription"]["id"] for s in peek["subscriptions"]] == [sub_id]
            assert c.get("/me", headers=a).json()["last_digest_at"] is None
            assert c.get("/me/digest", headers=a).json()["advanced"] is True
            assert c.get("/me", headers=a).json()["last_digest_at"] is not None
            assert c.get("/me/digest", params={"since": "yesterday"}, headers=a).status_code == 400
            # DOIs keep their slashes in the path
            assert c.delete(f"/me/favourites/{DOIS['wheat']}", headers=a).json()["doi"] == DOIS["wheat"]
            assert c.delete(f"/me/subscriptions/{sub_id}", headers=a).status_code == 200
            # no admin keys configured: user management over HTTP is refused, whoever asks
            for headers in ({}, a):
                r = c.post("/users", headers=headers, json={"name": "eve"})
                assert r.status_code == 403 and "souwen users" in r.json()["detail"]
                assert c.get("/users", headers=headers).status_code == 403
                assert c.delete("/users/ben", headers=headers).status_code == 403
            assert c.get("/search", params={"q": "wheat"}).status_code == 200  # no api.keys: open library
    finally:
        server.stop()


def test_admin_keys_manage_users_and_user_keys_open_the_library(shared_library, tmp_path):
    keys = make_users(shared_library, "cid")
    server = Server(shared_library, tmp_path / "server.log", SOUWEN_API__KEYS='["admin-secret"]')
    try:
        with server.client() as c:
            user = bearer(keys["cid"])
            assert c.get("/search", params={"q": "wheat"}).status_code == 401
            assert c.get("/search", params={"q": "wheat"}, headers=bearer("sw_nope")).status_code == 401
            assert c.get("/search", params={"q": "wheat"}, headers=user).status_code == 200
            assert c.get("/papers", headers={"X-API-Key": keys["cid"]}).status_code == 200
            assert c.get("/me", headers=user).json()["name"] == "cid"
            assert c.get("/me", headers=bearer("admin-secret")).status_code == 401  # an admin is not a user
            # admin-only routes refuse a user's key
            assert c.post("/users", headers=user, json={"name": "dan"}).status_code == 403
            assert c.get("/users", headers=user).status_code == 403
            assert c.delete("/users/cid", headers=user).status_code == 403
            admin = bearer("admin-secret")
            made = c.post("/users", headers=admin, json={"name": "dan"})
            assert made.status_code == 201 and made.json()["user"]["name"] == "dan"
            dan = bearer(made.json()["key"])
            assert c.get("/me", headers=dan).json()["name"] == "dan"
            assert c.post("/users", headers=admin, json={"name": "dan"}).status_code == 409
            assert c.post("/users", headers=admin, json={"name": "no spaces please"}).status_code == 422
            assert "dan" in [u["name"] for u in c.get("/users", headers=admin).json()]
            rotated = c.post("/users/dan/key", headers=admin).json()["key"]
            assert c.get("/me", headers=dan).status_code == 401
            assert c.get("/me", headers=bearer(rotated)).status_code == 200
            assert c.delete("/users/dan", headers=admin).json()["name"] == "dan"
            assert c.get("/search", params={"q": "wheat"}, headers=bearer(rotated)).status_code == 401
            assert c.delete("/users/dan", headers=admin).status_code == 404
    finally:
        server.stop()


# -- the CLI, and user data through a rebuild ---------------------------------------------------
def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_users_and_me(tmp_path, pdfs, capsys, monkeypatch):
    monkeypatch.setenv("SOUWEN_EMBEDDER__MODEL", "hashing")
    monkeypatch.delenv("SOUWEN_USER_KEY", raising=False)
    lib = str(build_library(tmp_path, {k: pdfs[k] for k in ("wheat", "ribo")}))
    code, out, err = run(capsys, "users", "add", "alice", "--library", lib)
    key = out.strip()
    assert code == 0 and key.startswith("sw_") and "shown only now" in err  # the key alone on stdout
    code, out, _ = run(capsys, "users", "add", "bob", "--library", lib, "--json")
    bob = json.loads(out)
    assert code == 0 and bob["user"]["name"] == "bob" and bob["key"].startswith("sw_")
    assert run(capsys, "users", "add", "alice", "--library", lib)[0] == 2  # taken
    assert run(capsys, "users", "add", "two words", "--library", lib)[0] == 2
    code, out, _ = run(capsys, "users", "list", "--library", lib, "--json")
    assert [u["name"] for u in json.loads(out)] == ["alice", "bob"] and key not in out

    # `me` takes the key from the environment (or --key); none or a wrong one is a usage error
    code, _, err = run(capsys, "me", "favourites", "--library", lib)
    assert code == 2 and "SOUWEN_USER_KEY" in err
    assert run(capsys, "me", "--key", "sw_wrong", "show", "--library", lib)[0] == 2
    monkeypatch.setenv("SOUWEN_USER_KEY", key)
    code, out, _ = run(capsys, "me", "favourites", "add", DOIS["wheat"], DOIS["ribo"], "--note", "read",
                       "--library", lib, "--json")
    assert code == 0 and [f["doi"] for f in json.loads(out)] == [DOIS["wheat"], DOIS["ribo"]]
    assert run(capsys, "me", "favourites", "add", "10.9/none", "--library", lib)[0] == 4
    assert run(capsys, "me", "favourites", "add", "--library", lib)[0] == 2  # which paper?
    code, out, _ = run(capsys, "me", "favourites", "remove", DOIS["ribo"], "--library", lib, "--json")
    assert code == 0 and json.loads(out)[0]["doi"] == DOIS["ribo"]
    code, out, _ = run(capsys, "me", "favourites", "--library", lib)
    assert code == 0 and DOIS["wheat"] in out and DOIS["ribo"] not in out
    code, out, _ = run(capsys, "me", "subscribe", "--query", "germinated wheat", "--year", "2020-2024",
                       "--library", lib, "--json")
    sub = json.loads(out)[0]
    assert code == 0 and sub["filters"] == {"year_from": 2020, "year_to": 2024}
    assert run(capsys, "me", "subscribe", "--query", "x", "--year", "soon", "--library", lib)[0] == 2
    assert run(capsys, "me", "subscribe", "--topic", "no such topic", "--library", lib)[0] == 4
    code, out, _ = run(capsys, "me", "digest", "--peek", "--library", lib, "--json")
    peek = json.loads(out)
    assert code == 0 and peek["advanced"] is False and peek["subscriptions"][0]["subscription"]["id"] == sub["id"]
    code, out, _ = run(capsys, "me", "show", "--library", lib, "--json")
    assert json.loads(out)["last_digest_at"] is None and json.loads(out)["favourites"] == 1
    assert run(capsys, "me", "digest", "--library", lib, "--json")[0] == 0
    code, out, _ = run(capsys, "me", "show", "--library", lib, "--json")
    assert json.loads(out)["last_digest_at"] is not None

    # bob, with his own key, sees none of alice's data and cannot remove her subscription
    monkeypatch.setenv("SOUWEN_USER_KEY", bob["key"])
    code, out, _ = run(capsys, "me", "subscriptions", "--library", lib, "--json")
    assert code == 0 and json.loads(out) == []
    assert run(capsys, "me", "unsubscribe", sub["id"], "--library", lib)[0] == 4
    assert run(capsys, "me", "favourites", "remove", DOIS["wheat"], "--library", lib)[0] == 4

    code, out, _ = run(capsys, "users", "rotate", "alice", "--library", lib)
    assert code == 0 and out.strip().startswith("sw_") and out.strip() != key
    assert run(capsys, "me", "--key", key, "show", "--library", lib)[0] == 2  # the old key is dead
    assert run(capsys, "me", "--key", out.strip(), "show", "--library", lib)[0] == 0
    assert run(capsys, "users", "remove", "bob", "--library", lib)[0] == 0
    assert run(capsys, "users", "remove", "bob", "--library", lib)[0] == 4
    assert run(capsys, "me", "--key", bob["key"], "show", "--library", lib)[0] == 2


def test_user_data_survives_rebuild(tmp_path, pdfs, capsys, monkeypatch):
    monkeypatch.setenv("SOUWEN_EMBEDDER__MODEL", "hashing")
    lib = build_library(tmp_path, {k: pdfs[k] for k in ("wheat", "ribo")})
    service = Souwen(Settings(library=lib))
    try:
        alice, key = service.accounts.create_user("alice")
        service.accounts.add_favourite(alice, DOIS["ribo"], note="keep me")
        service.topics.create("Ribosomes", "ribosome assembly", pins=[DOIS["ribo"]])
        subs = [service.accounts.subscribe(alice, topic="Ribosomes"),
                service.accounts.subscribe(alice, query="vitamin E in wheat", filters=Filters(year_from=2021))]
        service.accounts.digest(alice)
    finally:
        service.close()
    code, _, err = run(capsys, "rebuild", "--library", str(lib))
    assert code == 0, err
    monkeypatch.setenv("SOUWEN_USER_KEY", key)
    code, out, _ = run(capsys, "me", "favourites", "--library", str(lib), "--json")
    assert code == 0 and [(f["doi"], f["note"]) for f in json.loads(out)] == [(DOIS["ribo"], "keep me")]
    code, out, _ = run(capsys, "me", "subscriptions", "--library", str(lib), "--json")
    assert [s["id"] for s in json.loads(out)] == [s.id for s in subs]
    code, out, _ = run(capsys, "me", "show", "--library", str(lib), "--json")
    assert json.loads(out)["name"] == "alice" and json.loads(out)["last_digest_at"] is not None
