"""Members (team mode): who may read and change each collection, and, for the archive's admins,
the accounts themselves. Offered to admins of the archive and of a collection; each change is
checked against the person's rights when it is made and recorded in the audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from archive import accounts, collections
from archive.errors import SanadError
from ui import auth, web

archive = web.get_archive()
catalog = archive.catalog
access = auth.current()

st.title("Members")
managed = [c["name"] for c in collections.listing(catalog) if access.managed is None or c["name"] in access.managed]
if not auth.team() or not (access.admin or managed):  # offered to managers only; a typed URL gets no further
    st.error("Only admins may manage members.")
    st.stop()


def change(what, done: str) -> None:
    """Make one change as this person, from this address; say how it went."""
    try:
        what()
    except SanadError as exc:
        st.error(str(exc)[:1].upper() + str(exc)[1:] + ".")
    else:
        st.session_state["members_done"] = done
        st.rerun()


if done := st.session_state.pop("members_done", None):
    st.success(done)

users = accounts.list_users(catalog)
active = [u.name for u in users if not u.disabled]

st.header("Collections")
if access.admin:
    with st.form("create_collection", clear_on_submit=True):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        new = c1.text_input("New collection", placeholder="letters-2024")
        if c2.form_submit_button("Create") and new.strip():
            change(lambda: collections.create(catalog, new.strip(), actor=access.user),
                   f"Collection {new.strip()} created.")
    managed = [c["name"] for c in collections.listing(catalog)]

if managed:
    name = st.selectbox("Collection", managed, key="members_collection")
    row = next(c for c in collections.listing(catalog) if c["name"] == name)
    st.caption(f"{row['documents']} documents · {len(row['members'])} members")
    st.dataframe(pd.DataFrame([{"member": u, "role": r} for u, r in row["members"].items()],
                              columns=["member", "role"]), hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left.form("grant"):
        st.subheader("Give a role")
        who = st.selectbox("Account", active, key="grant_user")
        role = st.selectbox("Role", collections.ROLES, key="grant_role",
                            help="viewer: search, read, download · editor: also upload, edit, tag · "
                                 "admin: also manage this collection's members")
        if st.form_submit_button("Grant") and who:
            if name not in (access.managed if access.managed is not None else [name]):
                st.error("You do not manage this collection.")  # rights read at this request, not at drawing
            else:
                change(lambda: collections.grant(catalog, name, who, role, actor=access.user, address=auth.address()),
                       f"{who} is now {role} of {name}.")
    with right.form("revoke"):
        st.subheader("Take a role away")
        gone = st.selectbox("Member", list(row["members"]), key="revoke_user")
        if st.form_submit_button("Revoke") and gone:
            if name not in (access.managed if access.managed is not None else [name]):
                st.error("You do not manage this collection.")
            else:
                change(lambda: collections.revoke(catalog, name, gone, actor=access.user, address=auth.address()),
                       f"{gone} is no longer a member of {name}; it counts at their next click.")

if not access.admin:
    st.stop()

st.header("Accounts")
st.dataframe(pd.DataFrame([{"account": u.name, "admin": u.admin, "disabled": u.disabled, "created": u.created_at}
                           for u in users]), hide_index=True, width="stretch")
oidc = auth.mode(archive) == "oidc"
left, right = st.columns(2)
with left.form("add_user", clear_on_submit=True):  # the password is not kept in the page
    st.subheader("Add an account")
    new_name = st.text_input("Account name", help="with OIDC, the address (or claim) the provider gives"
                             if oidc else "letters, digits, '.', '-', '_' or '@'")
    password = None if oidc else st.text_input("Password", type="password",
                                               help=f"at least {accounts.MIN_PASSWORD} characters")
    admin = st.checkbox("Admin of the whole archive")
    if st.form_submit_button("Add"):
        change(lambda: accounts.add_user(catalog, new_name, password, admin=admin, actor=access.user,
                                         address=auth.address()),
               f"Account {new_name.strip()} added.")
with right.form("disable_user"):
    st.subheader("Disable an account")
    target = st.selectbox("Account", [u for u in active if u != access.user], key="disable_target")
    if st.form_submit_button("Disable") and target:
        change(lambda: accounts.disable_user(catalog, target, actor=access.user, address=auth.address()),
               f"Account {target} disabled; its sessions have ended.")
