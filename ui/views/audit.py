"""Audit (team mode, admins only): every login, search, view, download, export and membership
change, with the account, the time and the address; filtered as `sanad audit` filters."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st

from archive import audit
from ui import auth, listing, web

archive = web.get_archive()

st.title("Audit")
if not auth.current().admin:  # the menu offers this page to admins only; a typed URL gets no further
    st.error("Only admins may read the audit log.")
    st.stop()

c1, c2, c3 = st.columns(3)
user = c1.text_input("Account", key="audit_user", placeholder="any")
action = c2.selectbox("Action", [""] + list(audit.ACTIONS) + ["ingest", "edit", "reindex"], key="audit_action",
                      format_func=lambda a: a or "any")
since = c3.date_input("Since", value=None, key="audit_since")
bound = datetime.combine(since, time(0), UTC).isoformat(timespec="seconds") if since else None
rows = audit.entries(archive.catalog, user=user.strip() or None, since=bound, action=action or None, limit=2000)
st.caption(f"{len(rows)} entries, newest first (at most 2,000 shown; `sanad audit --json` has them all).")
st.dataframe(pd.DataFrame([listing.audit_row(e, address=True) for e in rows]), hide_index=True, width="stretch")
