"""Team mode: accounts, collections, and the collection filter in the search layer.

Real argon2, the real catalog and index, the real `sanad` command in subprocesses.
"""

from __future__ import annotations

import sqlite3

import pytest

from archive import accounts, audit, collections
from archive.catalog import Catalog
from archive.errors import AuthError, LoginLocked, NotFound, TeamModeNotReady
from search import access as member
from tests.conftest import make_text_pdf

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """An archive with collections A (a walrus report) and B (a walrus memo and a secret word),
    a viewer of A (vera), an editor of B (ed) and an admin (ada), built with the real CLI."""
    from tests.conftest import Sanad

    root = tmp_path_factory.mktemp("team")
    sanad = Sanad(root / "archive")
    files = root / "files"
    files.mkdir()
    a = make_text_pdf(files / "a.pdf", ["walrus harbour report from the north desk"])
    b = make_text_pdf(files / "b.pdf", ["walrus memo about zanzibarite contracts",
                                        "zanzibarite zanzibarite appears twice here"])
    sanad("collections", "create", "A")
    sanad("collections", "create", "B")
    sanad("ingest", "--collection", "A", "--source", "north desk", "--tag", "alpha", str(a))
    sanad("ingest", "--collection", "B", "--source", "secret desk", "--tag", "bravo", str(b))
    for name, admin in (("vera", False), ("ed", False), ("ada", True)):
        args = ["users", "add", name, "--password-stdin"] + (["--admin"] if admin else [])
        proc = _stdin(sanad, args, PASSWORD + "\n")
        assert proc.returncode == 0, proc.stderr
    sanad("collections", "grant", "A", "vera", "--role", "viewer")
    sanad("collections", "grant", "B", "ed", "--role", "editor")
    return sanad


def _stdin(sanad, args, text):
    import subprocess

    return subprocess.run(sanad._cmd(args), cwd=sanad._env().get("PWD"), env=sanad._env(), input=text,
                          capture_output=True, text=True, timeout=120)


def _archive(sanad):
    from archive.archive import Archive

    return Archive(sanad.archive_dir)


def test_migration_puts_a_personal_archive_in_the_default_collection(tmp_path):
    path = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(path)
    from archive.catalog import MIGRATIONS, _split_sql

    for statement in _split_sql(MIGRATIONS[0]):
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO documents (id, filename, media_type, size, added_at, updated_at)"
               " VALUES ('ab' , 'x.pdf', 'application/pdf', 1, '2026', '2026')")
    db.execute("INSERT INTO audit (at, actor, action) VALUES ('2026', 'me', 'ingest')")
    db.commit()
    db.close()
    catalog = Catalog(path)
    assert collections.of_document(catalog, "ab") == ["default"]
    assert [c["name"] for c in collections.listing(catalog)] == ["default"]
    # still append-only, with the new column
    audit.record(catalog, "me", "search", None, {"query": "x"}, "10.0.0.1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with catalog.transaction() as tx:
            tx.execute("UPDATE audit SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with catalog.transaction() as tx:
            tx.execute("DELETE FROM audit")
    assert audit.entries(catalog, action="search")[0].address == "10.0.0.1"
    catalog.close()


def test_users_list_and_collections_list(team):
    users = {u["name"]: u for u in team.json("users", "list")}
    assert users["ada"]["admin"] and not users["vera"]["admin"]
    listed = {c["name"]: c for c in team.json("collections", "list")}
    assert listed["A"]["documents"] == 1 and listed["A"]["members"] == {"vera": "viewer"}
    assert listed["B"]["members"] == {"ed": "editor"}
    hashed = _archive(team).catalog._query("SELECT password FROM users WHERE name = 'vera'")[0][0]
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed


def test_search_as_a_member_sees_only_their_collections(team):
    everyone = team.json("search", "walrus")
    assert {h["filename"] for h in everyone} == {"a.pdf", "b.pdf"}
    vera = team.json("search", "walrus", "--as", "vera")
    assert {h["filename"] for h in vera} == {"a.pdf"}
    assert team.json("search", "zanzibarite", "--as", "vera") == []
    assert {h["filename"] for h in team.json("search", "zanzibarite", "--as", "ed")} == {"b.pdf"}
    assert {h["filename"] for h in team.json("search", "walrus", "--as", "ada")} == {"a.pdf", "b.pdf"}
    # a filter-only query and date order are narrowed too
    assert {h["filename"] for h in team.json("search", "source:secret", "--as", "vera")} == set()
    assert {h["filename"] for h in team.json("search", "walrus", "--sort", "date", "--as", "vera")} == {"a.pdf"}
    text = team("search", "walrus", "--as", "vera").stdout
    assert "1 pages match" in text
    assert any(e.action == "search" and e.detail.get("as") == "vera" for e in audit.entries(_archive(team).catalog))


def test_member_reads_only_readable_documents_and_counts(team):
    from search.index import SearchIndex

    archive = _archive(team)
    catalog = archive.catalog
    vera = collections.access_for(catalog, "vera")
    index = SearchIndex(archive.index_dir)
    results = member.search(index, catalog, vera, "walrus OR zanzibarite", address="10.1.1.1")
    assert results.total == 1 and {h.filename for h in results.hits} == {"a.pdf"}
    # feedback pages come from the filtered ranking: no feedback word of B's pages gets in
    results = member.search(index, catalog, vera, "walrus harbour", feedback=True)
    assert all(h.filename == "a.pdf" for h in results.hits)
    assert collections.facets(catalog, vera) == {"sources": ["north desk"], "tags": ["alpha"]}
    assert collections.counts(catalog, vera)["documents"] == 1
    b_id = next(d.id for d in catalog.list_documents() if d.filename == "b.pdf")
    with pytest.raises(NotFound) as refused:
        member.document(catalog, vera, b_id)
    with pytest.raises(NotFound) as missing:
        member.document(catalog, vera, "0" * 64)
    assert str(refused.value).replace(b_id, "ID") == str(missing.value).replace("0" * 64, "ID")
    with pytest.raises(NotFound):
        member.original(archive, vera, b_id)
    hits = member.search(index, catalog, collections.personal("me"), "walrus").hits
    assert {h.filename for h in member.exported(catalog, vera, "walrus", hits, kind="csv")} == {"a.pdf"}
    actions = [e.action for e in audit.entries(catalog, user="vera")]
    assert {"search", "export"} <= set(actions)
    assert audit.entries(catalog, user="vera", action="search")[-1].address == "10.1.1.1"


def test_a_document_joining_a_collection_is_reindexed(team, tmp_path):
    files = tmp_path / "f"
    files.mkdir()
    c = make_text_pdf(files / "c.pdf", ["walrus census of the western shore"])
    team("collections", "create", "C")
    team("ingest", "--collection", "C", str(c))
    assert "c.pdf" not in {h["filename"] for h in team.json("search", "walrus", "--as", "vera")}
    # the same bytes ingested into A: the document is now in both, and vera finds it
    team("ingest", "--collection", "A", str(c))
    assert "c.pdf" in {h["filename"] for h in team.json("search", "walrus", "--as", "vera")}
    assert collections.of_document(_archive(team).catalog,
                                   team.json("list")[-1]["document_id"]) == ["A", "C"]


def test_revoke_takes_effect_and_is_audited(team):
    team("collections", "grant", "B", "vera", "--role", "viewer")
    assert "b.pdf" in {h["filename"] for h in team.json("search", "walrus", "--as", "vera")}
    team("collections", "revoke", "B", "vera")
    assert "b.pdf" not in {h["filename"] for h in team.json("search", "walrus", "--as", "vera")}
    log = team.json("audit", "--action", "revoke")
    assert log[-1]["detail"] == {"collection": "B", "user": "vera", "old": "viewer"}
    assert team("collections", "revoke", "B", "vera", check=3).returncode == 3


def test_login_lockout_persists_and_sessions_end(team):
    catalog = Catalog(team.archive_dir / "catalog.sqlite")
    accounts.add_user(catalog, "lou", PASSWORD, actor="test")
    user = accounts.authenticate(catalog, "lou", PASSWORD, attempts=10, lockout_minutes=15, address="1.2.3.4")
    assert user.name == "lou"
    for _ in range(9):
        with pytest.raises(AuthError) as wrong:
            accounts.authenticate(catalog, "lou", "wrong password", attempts=10, lockout_minutes=15)
        assert type(wrong.value) is AuthError
    catalog.close()
    catalog = Catalog(team.archive_dir / "catalog.sqlite")  # a restart does not reset the count
    with pytest.raises(LoginLocked):
        accounts.authenticate(catalog, "lou", "wrong password", attempts=10, lockout_minutes=15)
    with pytest.raises(LoginLocked):  # even the right password, while locked
        accounts.authenticate(catalog, "lou", PASSWORD, attempts=10, lockout_minutes=15)
    # an unknown name fails the same way and is recorded
    with pytest.raises(AuthError):
        accounts.authenticate(catalog, "nobody", PASSWORD, attempts=10, lockout_minutes=15)
    failed = audit.entries(catalog, action="login-failed")
    assert {e.actor for e in failed} >= {"lou", "nobody"}
    assert audit.entries(catalog, user="lou", action="login")[0].address == "1.2.3.4"
    # sessions: valid until expired or the account is disabled
    session = accounts.start_session(catalog, "vera", hours=1)
    assert accounts.session_user(catalog, session.token).name == "vera"
    assert accounts.session_user(catalog, accounts.start_session(catalog, "vera", hours=0).token) is None
    assert accounts.session_user(catalog, "forged") is None
    accounts.add_user(catalog, "gone", PASSWORD, actor="test")
    gone = accounts.start_session(catalog, "gone", hours=1)
    accounts.disable_user(catalog, "gone", actor="test")
    assert accounts.session_user(catalog, gone.token) is None
    with pytest.raises(AuthError):
        accounts.authenticate(catalog, "gone", PASSWORD, attempts=10, lockout_minutes=15)
    assert collections.access_for(catalog, "gone").readable == frozenset()
    catalog.close()


def test_team_mode_refuses_to_start_without_accounts_or_oidc(sanad, tmp_path):
    proc = sanad("ui", "--team", check=TeamModeNotReady.exit_code)
    assert "sanad users add NAME --admin" in proc.stderr
    sanad.archive_dir.joinpath("sanad.toml").write_text('auth = "oidc"\n')
    proc = sanad("ui", check=TeamModeNotReady.exit_code)
    assert "[auth]" in proc.stderr and "client_id" in proc.stderr


def test_users_add_rejects_short_passwords_and_duplicates(team):
    assert _stdin(team, ["users", "add", "shorty", "--password-stdin"], "short\n").returncode == 5
    proc = _stdin(team, ["users", "add", "vera", "--password-stdin"], PASSWORD + "\n")
    assert proc.returncode == 5 and "already" in proc.stderr


def test_feedback_words_come_only_from_readable_pages(team, tmp_path):
    """Feedback takes words from the best pages of the first pass; filtered, those are readable
    pages, so a word only a page of B has never joins a member's query."""
    from search import feedback, searching
    from search import index as si
    from search.query import parse_query
    from search.schema import weighting

    files = tmp_path / "filler"
    files.mkdir()
    # enough pages that a word on one page is under FEEDBACK_MAX_DF of them
    fillers = [make_text_pdf(files / f"filler-{i}.pdf", [f"filler page {i} about lighthouse keepers and tides"])
               for i in range(40)]
    team("collections", "create", "F")
    team("ingest", "--collection", "F", *map(str, fillers))
    # A feedback word must stand on several pages (search.feedback.MIN_PAGES): B's word gets
    # them in fb-C, which fred cannot read, and what fred can read gets its own in fb-G.
    team("collections", "create", "fb-C")
    team("ingest", "--collection", "fb-C", *map(str, [
        make_text_pdf(files / f"c-{i}.pdf", [f"walrus contracts signed in zanzibarite ink, copy {i}"]) for i in range(3)]))
    team("collections", "create", "fb-G")
    team("ingest", "--collection", "fb-G", *map(str, [
        make_text_pdf(files / f"g-{i}.pdf", [f"walrus harbour seen from the north desk, note {i}"]) for i in range(3)]))
    _stdin(team, ["users", "add", "fred", "--password-stdin"], PASSWORD + "\n")
    for name in ("A", "fb-G"):
        team("collections", "grant", name, "fred", "--role", "viewer")
    archive = _archive(team)
    sx = si.SearchIndex(archive.index_dir)
    vera = collections.access_for(archive.catalog, "fred").readable

    def feedback_words(readable):
        ix = si.open_whoosh_index(sx.path)
        query = searching.access_filter(parse_query("walrus", sx.schema), readable)
        with ix.searcher(weighting=weighting()) as searcher:
            _, _, final = feedback.feedback_ranking(searcher, query, sx.schema, 10)
        return {leaf.text for leaf in final.leaves() if getattr(leaf, "fieldname", "") == "text"}

    assert "contract" in feedback_words(None) or "contracts" in feedback_words(None)  # B's word, unfiltered
    words = feedback_words(vera)
    assert words and not {"contract", "contracts", "memo", "zanzibarit", "zanzibarite"} & words, words


def test_a_viewer_may_not_edit(team):
    from archive.errors import AccessDenied

    catalog = _archive(team).catalog
    a_id = next(d.id for d in catalog.list_documents() if d.filename == "a.pdf")
    b_id = next(d.id for d in catalog.list_documents() if d.filename == "b.pdf")
    with pytest.raises(AccessDenied):
        member.require_edit(catalog, collections.access_for(catalog, "vera"), a_id)
    member.require_edit(catalog, collections.access_for(catalog, "ed"), b_id)
    with pytest.raises(NotFound):  # not readable: as missing, not "denied"
        member.require_edit(catalog, collections.access_for(catalog, "ed"), a_id)


def test_show_and_list_as_a_member_respect_collections(team):
    from archive.errors import NotFound as missing

    everything = {d["filename"]: d["document_id"] for d in team.json("list")}
    seen = {d["filename"] for d in team.json("list", "--as", "vera")}  # other tests add to A and B
    assert "a.pdf" in seen and "b.pdf" not in seen
    assert {d["filename"] for d in team.json("list", "--as", "ed")} >= {"b.pdf"}
    assert "a.pdf" not in {d["filename"] for d in team.json("list", "--as", "ed")}
    [shown] = team.json("show", everything["a.pdf"][:12], "--as", "vera")
    assert shown["filename"] == "a.pdf"
    # another collection's document is "no document", word for word as a missing one
    refused = team("show", everything["b.pdf"][:12], "--as", "vera", check=missing.exit_code)
    absent = team("show", "0" * 12, "--as", "vera", check=missing.exit_code)
    assert refused.stderr.replace(everything["b.pdf"][:12], "ID") == absent.stderr.replace("0" * 12, "ID")
    assert "zanzibarite" not in refused.stdout + refused.stderr
    team("list", "--as", "nobody-at-all", check=missing.exit_code)
    views = [r for r in team.json("audit", "--action", "view") if r["detail"].get("as") == "vera"]
    assert views and views[-1]["document_id"] == everything["a.pdf"]


def test_ingest_says_whether_a_duplicate_joined_the_collection(team, tmp_path):
    import shutil

    everything = {d["filename"]: d["document_id"] for d in team.json("list")}
    [shown] = team.json("show", everything["a.pdf"][:12])
    copy = tmp_path / "again.pdf"
    shutil.copyfile(shown["original"], copy)
    team("collections", "create", "dup-target")
    [first] = team.json("ingest", "--collection", "dup-target", str(copy))
    assert first["status"] == "duplicate" and first["joined"] is True  # new to dup-target
    [again] = team.json("ingest", "--collection", "dup-target", str(copy))
    assert again["status"] == "duplicate" and again["joined"] is False  # it was there already


def test_the_session_cookie_is_signed_and_expires_and_next_stays_on_this_server(tmp_path):
    import time

    from ui.login_route import safe_next, signer, token_of

    cookie = signer(tmp_path).sign("the-token").decode()
    assert token_of(cookie, tmp_path, hours=1) == "the-token"
    assert token_of(cookie[:-2] + "xx", tmp_path, hours=1) is None  # not signed here
    assert token_of("the-token", tmp_path, hours=1) is None
    other = tmp_path / "other"
    other.mkdir()
    assert token_of(cookie, other, hours=1) is None  # another archive's key
    time.sleep(1.1)
    assert token_of(cookie, tmp_path, hours=0.5 / 3600) is None  # past session_hours
    assert (tmp_path / "session.key").stat().st_mode & 0o077 == 0
    for bad in ("//evil.example/x", "https://evil.example", "/\\evil.example", "evil", "/_sanad/logout", "/\nx"):
        assert safe_next(bad) == "/", bad
    assert safe_next("/document?doc=ab&page=2") == "/document?doc=ab&page=2"
