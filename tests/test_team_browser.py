"""Team mode in a real browser: `sanad ui --team` in a subprocess, Debian's Chromium via Playwright.

Collections A (a walrus report) and B (a walrus memo, source "secret desk"); vera is a viewer of
A, ada an admin. Everything set up with the real `sanad` command.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, Sanad, two_collections
from tests.test_ui_browser import browser  # noqa: F401 - the shared Chromium fixture
from tests.test_ui_browser import (CHROMIUM, SCREENSHOTS, _no_errors, _wait, assert_only_this_browser_gets, download,
                                   saved_download, serve)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.timeout(300)
PASSWORD = "correct horse battery"


def _add_user(sanad: Sanad, name: str, admin: bool = False) -> None:
    args = ["users", "add", name, "--password-stdin"] + (["--admin"] if admin else [])
    proc = subprocess.run(sanad._cmd(args), env=sanad._env(), input=PASSWORD + "\n", capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    top = tmp_path_factory.mktemp("team-ui")
    sanad = Sanad(top / "archive")
    ids = two_collections(sanad, top)
    for name, admin in (("vera", False), ("ada", True), ("lou", False)):
        _add_user(sanad, name, admin)
    sanad("collections", "grant", "A", "vera", "--role", "viewer")

    with serve(sanad.archive_dir, top / "server.log", "--team") as base:
        yield base, sanad, ids


def _login(page, base: str, name: str, password: str = PASSWORD, path: str = "/", expect_ok: bool = True):
    page.goto(base + path)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    if expect_ok:
        page.get_by_text("Logged in as").wait_for(timeout=30_000)


def _search(page, query: str, outcome: str) -> str:
    """Search in the page's own session and wait for ``outcome`` ("N matching pages" or "No pages
    match"): the previous results stay on screen while the new run is under way."""
    box = page.get_by_label("Search words in Persian or English")
    box.fill(query)
    page.get_by_role("button", name="Search", exact=True).click()
    sync_api.expect(page.get_by_test_id("effective-query")).to_have_text(query, timeout=30_000)
    page.get_by_text(outcome).first.wait_for(timeout=60_000)
    if "matching" in outcome:
        # the count is drawn before the result cards below it
        page.locator(".sanad-snippet").first.wait_for(timeout=60_000)
    sync_api.expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)
    return page.inner_text("body")


def _audit(sanad: Sanad, user: str) -> list[dict]:
    return sanad.json("audit", "--user", user)


def test_a_forged_identity_header_grants_nothing(team, browser):
    base, _, _ = team
    context = browser.new_context(extra_http_headers={"X-Forwarded-User": "ada", "Remote-User": "ada",
                                                      "X-Auth-Request-User": "ada"})
    page = context.new_page()
    try:
        page.goto(base + "/?q=walrus")
        page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
        body = page.inner_text("body")
        assert "walrus" not in body.replace("?q=walrus", "") and "Logged in as" not in body
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1200, "height": 760})
        page.screenshot(path=str(SCREENSHOTS / "team-login.png"), full_page=False)
    finally:
        context.close()


def test_a_viewer_sees_only_their_collection(team, browser):
    base, sanad, ids = team
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        _login(page, base, "vera")
        body = _search(page, "walrus", "1 matching pages")
        _no_errors(page)
        assert "a.pdf" in body and "b.pdf" not in body
        assert "1 matching pages" in body
        assert "secret desk" not in page.content() and "bravo" not in page.content()
        # the Source filter offers only A's sources
        page.get_by_label("Source").click()
        options = page.get_by_role("option").all_inner_texts()
        assert "north desk" in options and "secret desk" not in options
        page.keyboard.press("Escape")
        assert "b.pdf" not in _search(page, "zanzibarite", "No pages match")
        # export holds A's rows only
        _search(page, "walrus", "1 matching pages")
        rows = list(csv.DictReader(io.StringIO(download(page, "Download CSV").read_text(encoding="utf-8-sig"))))
        assert [r["filename"] for r in rows] == ["a.pdf"]
        # A's document opens with its page image; no upload page, no edit form
        page.get_by_role("link", name="Page 1").first.click()
        page.get_by_test_id("page-image").wait_for(timeout=60_000)
        _no_errors(page)
        assert page.get_by_role("button", name="Save").count() == 0
        original = saved_download(page, "Download original")
        assert Path(original.path()).read_bytes().startswith(b"%PDF")
        assert_only_this_browser_gets(context, original.url)
        assert page.get_by_role("link", name="Upload").count() == 0
    finally:
        context.close()
    actions = {row["action"] for row in _audit(sanad, "vera")}
    assert {"login", "search", "export", "view", "page-image", "download"} <= actions, actions
    searches = [row for row in _audit(sanad, "vera") if row["action"] == "search"]
    assert searches[0]["detail"]["query"] and searches[0]["address"].startswith("localhost")


def test_a_direct_url_to_another_collections_document_is_refused(team, browser):
    base, _, ids = team
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, base, "vera", path=f"/document?doc={ids['b.pdf']}&page=1")
        try:
            page.get_by_text("No such document.").wait_for(timeout=30_000)
        except Exception:
            raise AssertionError(page.url + "\n" + page.inner_text("body"))
        assert "zanzibarite" not in page.inner_text("body")
        # exactly as a missing one (the login is kept by the cookie)
        page.goto(base + "/document?doc=" + "0" * 64)
        page.get_by_text("No such document.").wait_for(timeout=30_000)
    finally:
        context.close()


def test_revoking_a_member_takes_effect_on_their_next_request(team, browser):
    base, sanad, _ = team
    sanad("collections", "grant", "B", "vera", "--role", "viewer")
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, base, "vera")
        assert "b.pdf" in _search(page, "walrus", "2 matching pages")
        sanad("collections", "revoke", "B", "vera")
        body = _search(page, "walrus harbour", "1 matching pages")  # the same session, the next request
        # The previous run's cards can stay on screen for a moment under the new count (a CI run
        # on a loaded machine caught b.pdf's card there): wait for the new run's cards.
        sync_api.expect(page.locator("body")).not_to_contain_text("b.pdf", timeout=30_000)
        assert "a.pdf" in body
    finally:
        context.close()


def test_ten_wrong_passwords_lock_the_login(team, browser):
    base, sanad, _ = team
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(base + "/")
        def failures():
            return len([r for r in _audit(sanad, "lou") if r["action"] == "login-failed"])

        for attempt in range(1, 11):
            page.get_by_label("Name", exact=True).fill("lou")
            page.get_by_label("Password", exact=True).fill(f"not the password {attempt}")
            page.get_by_label("Password", exact=True).press("Enter")
            _wait(lambda: failures() == attempt or None, 60, f"wrong password {attempt} to be recorded")
            page.get_by_test_id("login-error").wait_for(timeout=30_000)
        page.get_by_text("locked").first.wait_for(timeout=30_000)
        page.get_by_label("Name", exact=True).fill("lou")
        page.get_by_label("Password", exact=True).fill(PASSWORD)  # the right one, while locked
        page.get_by_label("Password", exact=True).press("Enter")
        _wait(lambda: failures() == 11 or None, 60, "the locked attempt to be recorded")
        page.get_by_text("locked").first.wait_for(timeout=30_000)
        assert "Logged in as" not in page.inner_text("body")
    finally:
        context.close()
    failed = [row for row in _audit(sanad, "lou") if row["action"] == "login-failed"]
    assert len(failed) >= 11 and any(row["detail"].get("locked") for row in failed)


def test_admins_read_the_audit_page(team, browser):
    base, _, _ = team
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        _login(page, base, "ada", path="/audit")
        page.get_by_role("heading", name="Audit").wait_for(timeout=30_000)
        page.get_by_text("entries, newest first").wait_for(timeout=30_000)
        _no_errors(page)
        page.get_by_test_id("stDataFrame").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # the table's canvas is painted after it is placed
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "team-audit.png"), full_page=False)
    finally:
        context.close()
    context = browser.new_context()
    page = context.new_page()
    try:  # a member typing the URL gets the search page, not the log
        _login(page, base, "vera", path="/audit")
        assert page.get_by_role("heading", name="Audit").count() == 0
    finally:
        context.close()


def test_team_mode_server_logs_no_secrets(team):
    _, sanad, _ = team
    text = json.dumps(_audit(sanad, "vera"))
    assert PASSWORD not in text


def test_a_login_survives_a_reload_and_logging_out_ends_it(team, browser):
    base, sanad, _ = team
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, base, "vera")
        [cookie] = [c for c in context.cookies() if c["name"] == "sanad_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        import time

        hours = (cookie["expires"] - time.time()) / 3600
        assert 7.5 < hours <= 8.01, hours  # session_hours
        assert "sanad_session" not in page.evaluate("document.cookie")  # no script can read it
        page.reload()
        page.get_by_text("Logged in as").wait_for(timeout=30_000)
        assert "a.pdf" in _search(page, "walrus", "1 matching pages")

        page.get_by_test_id("logout").click()
        page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
        assert not [c for c in context.cookies() if c["name"] == "sanad_session"]
        page.goto(base + "/?q=walrus")
        page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
    finally:
        context.close()
    # the old cookie, replayed after the logout, is a session the catalog no longer holds
    replay = browser.new_context()
    replay.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    page = replay.new_page()
    try:
        page.goto(base + "/")
        page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
        assert "Logged in as" not in page.inner_text("body")
    finally:
        replay.close()
    assert "logout" in {row["action"] for row in _audit(sanad, "vera")}


def test_a_disabled_account_is_out_at_its_next_request(team, browser):
    base, sanad, _ = team
    _add_user(sanad, "dora")
    sanad("collections", "grant", "A", "dora", "--role", "viewer")
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, base, "dora")
        assert "a.pdf" in _search(page, "walrus", "1 matching pages")
        sanad("users", "disable", "dora")
        page.get_by_label("Search words in Persian or English").fill("harbour")
        page.get_by_role("button", name="Search", exact=True).click()  # the same page, the next request
        page.get_by_text("Your session has ended").wait_for(timeout=30_000)
        sync_api.expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
        # the earlier results go once the run has ended and the page has dropped its stale elements
        sync_api.expect(page.locator("body")).not_to_contain_text("a.pdf", timeout=30_000)
        page.reload()
        page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
    finally:
        context.close()


def test_the_login_form_refuses_other_sites_and_other_sites_destinations(team, browser):
    import urllib.error
    import urllib.request

    base, _, _ = team
    form = f"name=ada&password={PASSWORD.replace(' ', '+')}&next=%2F".encode()
    for origin in ({"Origin": "http://evil.example"}, {}):
        request = urllib.request.Request(base + "/_sanad/login", data=form, headers=origin, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
    # a destination on another site is replaced by the workbench's own start page
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, base, "ada", path="/_sanad/login?next=//evil.example/x")
        assert page.url.rstrip("/") in (base, base + "/search"), page.url
    finally:
        context.close()


def _idle(page) -> None:
    """Wait until the page's script run has ended (a loaded machine draws slowly)."""
    sync_api.expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)


def _members_form(page, form: str):
    return page.locator(f"[data-testid='stForm']:has-text('{form}')")


def _pick(page, label: str, option: str, scope=None) -> None:
    """Choose `option` in a select box, and check that the box shows it.

    On a loaded machine a rerun can start after `_idle` has seen none running (Streamlit shows
    its status only after a moment) and redraw the box while its list is open: the list closes
    and the typed letters go nowhere. A user would open it again, and so does this, twice at most.
    """
    for _ in range(3):
        _idle(page)
        field = (scope or page).get_by_label(label, exact=True)
        # a rerun leaves the previous run's form on screen until the new one is drawn
        sync_api.expect(field).to_have_count(1, timeout=30_000)
        field.click()
        page.keyboard.type(option)  # the list only draws the options that fit; typing narrows it
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=15_000)
            _idle(page)
            sync_api.expect(field).to_have_value(option, timeout=10_000)
            return
        except (sync_api.TimeoutError, AssertionError):
            page.keyboard.press("Escape")
    raise AssertionError(f"{option!r} could not be chosen in {label!r}")


def test_an_admin_manages_members_and_accounts_and_every_change_is_audited(team, browser):
    base, sanad, _ = team
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    try:
        _login(page, base, "ada", path="/members")
        page.get_by_role("heading", name="Members").wait_for(timeout=30_000)
        _no_errors(page)
        # a new account, then a role for it in B
        add = _members_form(page, "Add an account")
        add.get_by_label("Account name", exact=True).fill("mina")
        add.get_by_label("Password", exact=True).fill(PASSWORD)
        add.get_by_role("button", name="Add").click()
        page.get_by_text("Account mina added.").wait_for(timeout=60_000)
        _pick(page, "Collection", "B")
        grant = _members_form(page, "Give a role")
        _pick(page, "Account", "mina", grant)
        _pick(page, "Role", "editor", grant)
        grant.get_by_role("button", name="Grant").click()
        page.get_by_text("mina is now editor of B.").wait_for(timeout=30_000)
        assert any(c["name"] == "B" and c["members"].get("mina") == "editor" for c in sanad.json("collections", "list"))
        revoke = _members_form(page, "Take a role away")
        _pick(page, "Member", "mina", revoke)
        revoke.get_by_role("button", name="Revoke").click()
        page.get_by_text("mina is no longer a member of B").wait_for(timeout=30_000)
        disable = _members_form(page, "Disable an account")
        _pick(page, "Account", "mina", disable)
        disable.get_by_role("button", name="Disable").click()
        page.get_by_text("Account mina disabled").wait_for(timeout=30_000)
        _no_errors(page)
    finally:
        context.close()
    assert [u["disabled"] for u in sanad.json("users", "list") if u["name"] == "mina"] == [True]
    rows = [r for r in _audit(sanad, "ada") if r["detail"].get("user") == "mina"]
    assert [r["action"] for r in rows][-4:] == ["user-add", "grant", "revoke", "user-disable"]
    assert all(r["address"] and r["address"].startswith("localhost") for r in rows)


def test_members_page_is_for_managers_only(team, browser):
    base, sanad, _ = team
    _add_user(sanad, "cal")
    sanad("collections", "grant", "A", "cal", "--role", "admin")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:  # an admin of A manages A's members, no other collection's, and no accounts
        _login(page, base, "cal", path="/members")
        page.get_by_role("heading", name="Members").wait_for(timeout=30_000)
        page.get_by_label("Collection", exact=True).click()
        assert page.get_by_role("option").all_inner_texts() == ["A"]
        page.keyboard.press("Escape")
        assert page.get_by_role("heading", name="Accounts").count() == 0
    finally:
        context.close()
    context = browser.new_context()
    page = context.new_page()
    try:  # a viewer is offered no Members page, and typing its URL does not draw it
        _login(page, base, "vera", path="/members")
        assert page.get_by_role("link", name="Members").count() == 0
        assert page.get_by_role("heading", name="Members").count() == 0
    finally:
        context.close()


def test_a_file_already_in_another_collection_shows_as_added_to_an_uploader_who_cannot_read_it(
        team, browser, tmp_path):
    import shutil

    from tests.test_ui_browser import _wait_for_ingests

    base, sanad, ids = team
    _add_user(sanad, "eddie")
    sanad("collections", "grant", "B", "eddie", "--role", "editor")
    [shown] = sanad.json("show", ids["a.pdf"][:12])
    copy = tmp_path / "harbour-copy.pdf"  # A's document, under another name
    shutil.copyfile(shown["original"], copy)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        _login(page, base, "eddie", path="/upload")
        page.locator('input[type="file"]').set_input_files([str(copy)])
        page.get_by_text(copy.name, exact=True).first.wait_for(timeout=30_000)
        page.get_by_role("button", name="Add to the archive").click()
        page.get_by_text("processing has started").wait_for(timeout=30_000)
        _wait_for_ingests(sanad.archive_dir)
        page.reload()
        page.get_by_test_id("batch-file").first.wait_for(timeout=30_000)
        page.get_by_text("added", exact=True).first.wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "duplicate" not in body and "already in the archive" not in body
    finally:
        context.close()
    # the document is now in B as well: its bytes are stored once
    assert ids["a.pdf"] in {d["document_id"] for d in sanad.json("list", "--as", "eddie")}
    assert ids["b.pdf"] not in {d["document_id"] for d in sanad.json("list", "--as", "vera")}
