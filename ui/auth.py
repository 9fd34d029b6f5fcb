"""Team mode in the workbench: the login page, the person's Access on every request, and the
member-facing reads the views go through.

Personal mode (auth = "none", the default) is unchanged: no login, one person who may do
everything. In team mode ui/app.py calls ``gate`` before any page runs; it shows the login form
until a session is live, then computes the person's Access from the catalog on every rerun, so
revoking a member or disabling an account takes effect at their next click. Who someone is comes
only from their session (local accounts) or Streamlit's st.user (OIDC), never from a request
header such as X-Forwarded-User, which anyone can send.
"""

from __future__ import annotations

import os

import streamlit as st

from archive import accounts, audit, collections, settings
from archive.collections import Access
from archive.errors import AuthError, SanadError
from archive.team import check_team_mode
from search import access as member

TOKEN = "sanad_session_token"
ACCESS = "sanad_access"


def mode(archive) -> str:
    """none | local | oidc: `sanad ui` passes the resolved value in SANAD_AUTH; the archive's
    settings otherwise (a server started with `streamlit run`)."""
    return os.environ.get("SANAD_AUTH") or settings.load(archive.root).auth


def team() -> bool:
    return bool(st.session_state.get("sanad_team"))


def address() -> str | None:
    """The address the request came from, for the audit log. Streamlit gives None for a
    connection from this computer, which is what a reverse proxy on it is: then the proxy's
    X-Forwarded-For is added, as a record only (it grants nothing; the README's proxy setup
    overwrites whatever the browser sent)."""
    try:
        ip = st.context.ip_address
        forwarded = (st.context.headers or {}).get("X-Forwarded-For", "")
    except AttributeError:
        return None
    if ip:
        return ip
    return "localhost" + (f" (forwarded for {forwarded[:100]})" if forwarded else "")


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
    try:
        check_team_mode(archive, how)
    except SanadError as exc:
        st.error(f"The workbench cannot start in team mode: {exc}")
        st.stop()
    user = _user(archive, how)
    if user is None:
        # the pages declared, not run: the address typed (a document's URL) is kept for after the login
        st.navigation(pages, position="hidden")
        _login_page(archive, how)
        st.stop()
    access = collections.access_for(archive.catalog, user)
    st.session_state[ACCESS] = access
    st.session_state["actor"] = user  # existing audit rows (edits, exports) name the account
    return access


def _user(archive, how: str) -> str | None:
    if how == "oidc":
        if not getattr(st.user, "is_logged_in", False):
            return None
        name = st.user.get("email") or st.user.get("sub")
        account = accounts.get_user(archive.catalog, name) if name else None
        # an OIDC identity reads what the account of that name may read; one with no account, nothing
        return name if account is None or not account.disabled else None
    found = accounts.session_user(archive.catalog, st.session_state.get(TOKEN))
    if found is None:
        st.session_state.pop(TOKEN, None)
    return found.name if found else None


def _login_page(archive, how: str) -> None:
    st.title("Sanad")
    if how == "oidc":
        st.write("Log in with your organisation's account to use this archive.")
        if st.button("Log in", type="primary", key="oidc_login"):
            st.login()
        return
    current = settings.load(archive.root)
    with st.form("login", clear_on_submit=True):  # the password is not kept in the page
        st.subheader("Log in")
        name = st.text_input("Name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    st.caption("Accounts are created by the archive's admin (`sanad users add`).")
    if submitted:
        try:
            user = accounts.authenticate(archive.catalog, name, password, attempts=current.login_attempts,
                                         lockout_minutes=current.lockout_minutes, address=address())
        except AuthError as exc:
            st.error(str(exc).split(";")[0] + ".")
            return
        session = accounts.start_session(archive.catalog, user.name, hours=current.session_hours,
                                         address=address())
        st.session_state[TOKEN] = session.token
        st.rerun()


def logout(archive) -> None:
    if mode(archive) == "oidc":
        st.logout()
        return
    token = st.session_state.pop(TOKEN, None)
    if token:
        accounts.end_session(archive.catalog, token, address())
    st.session_state.pop(ACCESS, None)


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


def exported(catalog, access: Access, query: str, hits: list, kind: str, where: str | None, in_team: bool) -> list:
    """The hits an export may hold. Called from a download's data callback, which runs outside
    the script run: the Access and address are the ones the view captured while it ran."""
    if not in_team:
        return hits  # personal mode (audited by the view as before)
    return member.exported(catalog, access, query, hits, kind=kind, address=where)
