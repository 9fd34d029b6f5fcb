"""Team mode with OIDC, end to end: a real OpenID provider (oidc-provider-mock, a Flask and
Authlib server) in its own process, the real `sanad ui` with auth = "oidc", Streamlit's st.login
and Debian's Chromium through Playwright.

The provider says who someone is; the archive alone says what they may do. So a provider's
claims of admin rights or groups grant nothing, an identity with no account reads nothing, and
an unverified e-mail address names no account.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO, Sanad, served, two_collections
from tests.test_ui_browser import browser  # noqa: F401 - the shared Chromium fixture
from tests.test_ui_browser import (CHROMIUM, _free_port, _no_errors, assert_only_this_browser_gets,
                                   saved_download, serve)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("oidc_provider_mock")
pytest.importorskip("authlib")

pytestmark = pytest.mark.timeout(300)

PEOPLE = [
    # claims of rights the archive must ignore: roles come from its catalog
    {"sub": "oona-1", "email": "oona@example.org", "email_verified": True, "groups": ["admins"], "admin": True,
     "roles": ["admin"]},
    {"sub": "ada-1", "email": "ada@example.org", "email_verified": True},
    # someone whose provider lets them type any address, here the admin's
    {"sub": "eve-1", "email": "ada@example.org", "email_verified": False},
    {"sub": "nobody-1", "email": "nobody@example.org", "email_verified": True},
]


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    port = _free_port()
    cmd = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for person in PEOPLE:
        cmd += ["--user-claims", json.dumps(person)]
    base = f"http://127.0.0.1:{port}"
    with served(cmd, tmp_path_factory.mktemp("oidc") / "provider.log", base + "/.well-known/openid-configuration",
                "the OpenID provider"):
        yield base


@pytest.fixture(scope="module")
def team(provider, tmp_path_factory):
    top = tmp_path_factory.mktemp("team-oidc")
    sanad = Sanad(top / "archive")
    two_collections(sanad, top)
    sanad("users", "add", "oona@example.org", "--oidc")
    sanad("users", "add", "ada@example.org", "--oidc", "--admin")
    sanad("collections", "grant", "A", "oona@example.org", "--role", "viewer")
    settings = sanad.archive_dir / "sanad.toml"
    settings.write_text(f'auth = "oidc"\noidc_metadata_url = "{provider}/.well-known/openid-configuration"\n'
                        'oidc_client_id = "sanad-test"\n', encoding="utf-8")
    # the secret from the environment, as the README advises
    os.environ["SANAD_OIDC_CLIENT_SECRET"] = "not-a-real-secret"
    try:
        with serve(sanad.archive_dir, top / "server.log") as base:
            yield base, sanad, settings
    finally:
        os.environ.pop("SANAD_OIDC_CLIENT_SECRET", None)


def _oidc_login(page, base: str, subject: str) -> None:
    page.goto(base + "/")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Subject").wait_for(timeout=30_000)  # the provider's own page
    assert not page.url.startswith(base)
    page.get_by_label("Subject").fill(subject)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(base + "/**", timeout=30_000)


@contextmanager
def _logged_in(browser, base: str, subject: str, **context_options):
    """A new browser context, logged in by the provider as ``subject``: (context, its page)."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    try:
        _oidc_login(page, base, subject)
        page.get_by_text("Logged in as").wait_for(timeout=30_000)
        yield context, page
    finally:
        context.close()


def _search(page, query: str, outcome: str) -> str:
    page.get_by_label("Search words in Persian or English").fill(query)
    page.get_by_role("button", name="Search", exact=True).click()
    sync_api.expect(page.get_by_test_id("effective-query")).to_have_text(query, timeout=30_000)
    page.get_by_text(outcome).first.wait_for(timeout=60_000)
    if "matching" in outcome:  # the count is drawn before the result cards below it
        page.locator(".sanad-snippet").first.wait_for(timeout=60_000)
    sync_api.expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)
    return page.inner_text("body")


def test_team_mode_with_oidc_refuses_to_start_without_a_client_id(tmp_path, provider):
    sanad = Sanad(tmp_path / "archive")
    sanad("users", "add", "ada@example.org", "--oidc", "--admin")
    (sanad.archive_dir / "sanad.toml").write_text(
        f'auth = "oidc"\noidc_metadata_url = "{provider}/.well-known/openid-configuration"\n', encoding="utf-8")
    proc = subprocess.run(sanad._cmd(["ui"]), env=sanad._env(), capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode != 0 and "oidc_client_id" in proc.stderr and "oidc_client_secret" in proc.stderr


def test_a_member_logs_in_through_the_provider_with_the_catalogs_roles(team, browser):
    base, sanad, _ = team
    with _logged_in(browser, base, "oona-1", viewport={"width": 1400, "height": 1000}) as (_, page):
        assert "oona@example.org" in page.inner_text("body")
        body = _search(page, "walrus", "1 matching pages")
        _no_errors(page)
        assert "a.pdf" in body and "b.pdf" not in body
        # the provider's "admin" and "groups" claims grant nothing: no Audit page, no upload
        assert page.get_by_role("link", name="Audit").count() == 0
        assert page.get_by_role("link", name="Upload").count() == 0
        page.goto(base + "/audit")
        page.get_by_text("Logged in as").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name="Audit").count() == 0
        # the login survives loading the page again (Streamlit's signed, HttpOnly cookie)
        page.goto(base + "/")
        page.get_by_text("Logged in as").wait_for(timeout=30_000)
        # revoking the membership counts at the next request
        sanad("collections", "revoke", "A", "oona@example.org")
        assert "a.pdf" not in _search(page, "walrus harbour", "No pages match")
        sanad("collections", "grant", "A", "oona@example.org", "--role", "viewer")
        page.get_by_role("button", name="Log out").click()
        # Streamlit clears its cookie and sends the browser to the provider's end of session
        page.wait_for_url("**/oauth2/end_session**", timeout=30_000)
        page.goto(base + "/")
        page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
        assert "Logged in as" not in page.inner_text("body")
    rows = sanad.json("audit", "--user", "oona@example.org")
    logins = [r for r in rows if r["action"] == "login"]
    assert logins and logins[0]["detail"]["via"] == "oidc"
    assert {"search", "logout"} <= {r["action"] for r in rows}


def test_downloads_need_the_providers_login_too(team, browser):
    base, sanad, _ = team
    doc = next(d["document_id"] for d in sanad.json("list") if d["filename"] == "a.pdf")
    with _logged_in(browser, base, "oona-1", viewport={"width": 1400, "height": 1000},
                    accept_downloads=True) as (context, page):
        page.goto(f"{base}/document?doc={doc}&page=1")
        page.get_by_test_id("page-image").wait_for(timeout=60_000)
        original = saved_download(page, "Download original")
        assert Path(original.path()).read_bytes().startswith(b"%PDF")
        # Streamlit checks its login cookie on its WebSocket only; Sanad checks it on /media
        assert_only_this_browser_gets(context, original.url)
        # a provider's login of an identity the archive has no account for gets nothing either
        other = browser.new_context()
        try:
            _oidc_login(other.new_page(), base, "nobody-1")
            assert other.request.get(original.url).status == 403
        finally:
            other.close()


def test_an_admin_account_logged_in_by_the_provider_reads_the_audit_page(team, browser):
    base, _, _ = team
    with _logged_in(browser, base, "ada-1", viewport={"width": 1400, "height": 1000}) as (_, page):
        assert "b.pdf" in _search(page, "walrus", "2 matching pages")
        page.get_by_role("link", name="Audit").click()
        page.get_by_text("entries, newest first").wait_for(timeout=30_000)
        _no_errors(page)


@pytest.mark.parametrize("subject, reason", [("eve-1", "not verified"), ("nobody-1", "no account")])
def test_an_identity_that_names_no_usable_account_reads_nothing(team, browser, subject, reason):
    base, sanad, _ = team
    context = browser.new_context()
    page = context.new_page()
    try:
        _oidc_login(page, base, subject)
        page.get_by_text("Ask the archive's admin").wait_for(timeout=30_000)
        body = page.inner_text("body")
        assert reason in body and "Logged in as" not in body
        page.goto(base + "/document")
        assert "walrus" not in page.inner_text("body")
    finally:
        context.close()
    failed = [r for r in sanad.json("audit", "--action", "login-failed") if r["detail"].get("via") == "oidc"]
    assert any(reason in r["detail"]["reason"] for r in failed)


def test_an_oidc_login_expires_after_session_hours(team, browser):
    base, _, settings = team
    original = settings.read_text(encoding="utf-8")
    try:
        with _logged_in(browser, base, "oona-1") as (_, page):
            settings.write_text(original + "session_hours = 0.0001\n", encoding="utf-8")  # under a second
            page.reload()
            page.get_by_text("Your login has expired").wait_for(timeout=30_000)
            assert "Logged in as" not in page.inner_text("body")
    finally:
        settings.write_text(original, encoding="utf-8")
