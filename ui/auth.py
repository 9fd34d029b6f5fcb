"""Team mode in the workbench: who is using this session, the person's Access on every request,
and the member-facing reads the views go through.

Personal mode (auth = "none", the default) is unchanged: no login, one person who may do
everything. In team mode ui/app.py calls ``gate`` before any page runs. With local accounts the
login itself happens on the web server (ui/login_route.py), which sets a signed, HttpOnly
session cookie; here the cookie's session is looked up in the catalog on every rerun. With OIDC
Streamlit's st.login does the login and its cookie carries the provider's ID token claims; the
claim named by ``oidc_name_claim`` picks the archive's account, whose roles are the catalog's.
Either way the person's Access is computed afresh on every rerun, so revoking a member or
disabling an account takes effect at their next click. Who someone is comes only from those
cookies, never from a request header such as X-Forwarded-User, which anyone can send.
"""

from __future__ import annotations

import os

import streamlit as st

from archive import accounts, audit, collections, settings
from archive.collections import Access
from archive.errors import SanadError
from archive.team import check_team_mode
from search import access as member
from ui.login_route import COOKIE, LOGIN, LOGOUT, address_of, token_of

ACCESS = "sanad_access"
OIDC_LOGIN = "sanad_oidc_login"


def mode(archive) -> str:
    """none | local | oidc: `sanad ui` passes the resolved value in SANAD_AUTH; the archive's
    settings otherwise (a server started with `streamlit run`)."""
    return os.environ.get("SANAD_AUTH") or settings.load(archive.root).auth


def team() -> bool:
    return bool(st.session_state.get("sanad_team"))


def address() -> str | None:
    """The address the request came from, for the audit log (see login_route.address_of)."""
    try:
        ip = st.context.ip_address
        forwarded = (st.context.headers or {}).get("X-Forwarded-For", "")
    except AttributeError:
        return None
    return address_of(ip, forwarded)


def gate(archive, pages: list) -> Access:
    """The person using this session; in team mode, the login page until they have logged in."""
    from ui import web

    how = mode(archive)
    if how == "none":
        access = collections.personal(web.actor_name(st.session_state.get("actor")))
        st.session_state[ACCESS] = access
        st.session_state["sanad_team"] = False
        return access
    st.session_state["sanad_team"] = True
    st.session_state.pop(ACCESS, None)  # nothing of a previous run is trusted
    try:
        check_team_mode(archive, how)
    except SanadError as exc:
        st.error(f"The workbench cannot start in team mode: {exc}")
        st.stop()
    user = _oidc_user(archive) if how == "oidc" else _local_user(archive)
    if user is None:
        # the pages declared, not run: the address typed (a document's URL) is kept for after the login
        st.navigation(pages, position="hidden")
        st.stop()
    access = collections.access_for(archive.catalog, user)
    st.session_state[ACCESS] = access
    st.session_state["actor"] = user  # existing audit rows (edits, exports) name the account
    return access


def _local_user(archive) -> str | None:
    """The account of this browser's session cookie, while the catalog holds it live. The server
    sends a browser without one to the login form before this script runs; this page is for a
    session that ended while its tab stayed open (logged out elsewhere, expired, disabled)."""
    current = settings.load(archive.root)
    token = token_of(_cookie(COOKIE), archive.root, current.session_hours)
    found = accounts.session_user(archive.catalog, token)
    if found is not None:
        return found.name
    st.title("Sanad")
    st.info("Your session has ended. Log in again to go on.")
    st.html(f'<a href="{LOGIN}" data-testid="login-link">Log in</a>')  # this tab, not a new one
    return None


def _cookie(name: str) -> str | None:
    try:
        return (st.context.cookies or {}).get(name)
    except AttributeError:  # no browser connection (a script run in a test harness)
        return None


def _oidc_user(archive) -> str | None:
    """The account named by the provider's ID token, once the provider has logged the person in.
    Nothing but the name is taken from the token: no roles, no groups."""
    current = settings.load(archive.root)
    if not getattr(st.user, "is_logged_in", False):
        _oidc_login_page()
        return None
    claims = st.user.to_dict()
    name, problem = accounts.oidc_account(archive.catalog, claims, current.oidc_name_claim, current.session_hours)
    if problem == accounts.EXPIRED:
        _oidc_login_page("Your login has expired. Log in again to go on.")
        return None
    issued = claims.get("iat")
    seen = (name, issued, problem is None)
    if st.session_state.get(OIDC_LOGIN) != seen:  # one audit row per login, not per rerun
        st.session_state[OIDC_LOGIN] = seen
        detail = {"via": "oidc", "issuer": str(claims.get("iss", ""))[:200]}
        audit.record(archive.catalog, name or "?", "login" if problem is None else "login-failed",
                     None, detail | ({"reason": problem} if problem else {}), address())
    if problem:
        st.title("Sanad")
        st.error(f"You are logged in at your organisation as {name or '?'}, but {problem}. "
                 "Ask the archive's admin.")
        if st.button("Log out", key="oidc_logout"):
            st.logout()
        return None
    return name


def _oidc_login_page(message: str = "") -> None:
    st.title("Sanad")
    if message:
        st.info(message)
    st.write("Log in with your organisation's account to use this archive.")
    if st.button("Log in", type="primary", key="oidc_login"):
        st.login()


def logout_control(archive) -> None:
    """The sidebar's Log out: a link to the server's logout, which ends the session in the
    catalog and clears the cookie (a script cannot clear an HttpOnly cookie); st.logout with OIDC."""
    if mode(archive) == "oidc":
        if st.button("Log out", key="logout"):
            audit.record(archive.catalog, current().user, "logout", None, {"via": "oidc"}, address())
            st.session_state.pop(OIDC_LOGIN, None)
            st.logout()
        return
    # A form posted by this tab (st.link_button would open a new one); ui/login_route.py checks
    # that the post comes from this server's page.
    st.html(f'<form method="post" action="{LOGOUT}" class="sanad-logout">'
            '<button type="submit" data-testid="logout">Log out</button></form>')


def current() -> Access:
    """This session's Access. Without one (a page run without app.py, or code running outside the
    script run, such as a download's data callback) it fails closed: nothing in team mode."""
    from ui import web

    access = st.session_state.get(ACCESS)
    if access is None:
        if mode(web.get_archive()) != "none":
            return collections.Access("", frozenset(), frozenset(), frozenset())
        access = collections.personal(web.current_actor())
    return access


# -- what the views read, narrowed and audited in team mode ---------------------------------------

def search(index, catalog, text: str, **options):
    if not team():
        return index.search(text, **options)
    return member.search(index, catalog, current(), text, address=address(), **options)


def facets(catalog) -> dict:
    return collections.facets(catalog, current())


def counts(catalog) -> dict:
    return collections.counts(catalog, current())


def documents(catalog) -> list:
    ids = collections.readable_ids(catalog, current())
    return [d for d in catalog.list_documents() if ids is None or d.id in ids]


def find_document(catalog, prefix: str) -> list:
    """Documents whose id starts with ``prefix`` that this person may read: one of another
    collection is as absent as a missing one. The view is audited in team mode."""
    ids = collections.readable_ids(catalog, current())
    found = [d for d in (catalog.find_documents(prefix) if len(prefix) >= 4 else []) if ids is None or d.id in ids]
    if team() and len(found) == 1:
        audit.record(catalog, current().user, "view", found[0].id, {}, address())
    return found


def record(catalog, action: str, document_id: str | None = None, detail: dict | None = None) -> None:
    """An audit row in team mode (page images, downloads); nothing in personal mode."""
    if team():
        audit.record(catalog, current().user, action, document_id, detail or {}, address())


def may_edit(catalog, doc_id: str) -> bool:
    return current().may_edit(collections.of_document(catalog, doc_id))


def upload_collections(catalog) -> list[str]:
    """Collections this person may add documents to (every one for an admin)."""
    access = current()
    if access.editable is None:
        return [c["name"] for c in collections.listing(catalog)]
    return sorted(access.editable)


def batches(root) -> list:
    """The upload batches whose collection this person may read (their file names are theirs)."""
    import json

    from ui import web

    out = []
    for folder in web.list_batches(root):
        try:
            manifest = json.loads((folder / web.MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if current().may_read([manifest.get("collection") or collections.DEFAULT]):
            out.append(folder)
    return out


def as_uploader_sees(state):
    """A batch file's outcome as the uploader may learn it. In team mode a file whose bytes the
    archive held already, in collections the uploader may not read, has just joined theirs: it
    shows as added, never as a duplicate, which would tell them another investigation has it.
    A duplicate is reported only when the document was in this collection before."""
    import dataclasses

    if team() and state.status == "duplicate" and state.joined:
        return dataclasses.replace(state, status="ingested")
    return state


def exported(catalog, access: Access, query: str, hits: list, kind: str, where: str | None, in_team: bool) -> list:
    """The hits an export may hold. Called from a download's data callback, which runs outside
    the script run: the Access and address are the ones the view captured while it ran."""
    if not in_team:
        return hits  # personal mode (audited by the view as before)
    return member.exported(catalog, access, query, hits, kind=kind, address=where)
