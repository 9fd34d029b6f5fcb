"""Sanad's web workbench: `sanad ui` runs this with Streamlit.

The archive folder comes from $SANAD_ARCHIVE (set by `sanad ui --archive DIR`).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `streamlit run ui/app.py` only puts ui/ on the path
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from ui import auth, web  # noqa: E402

# A file, not a :material: icon: Streamlit fetches those as favicons from fonts.gstatic.com,
# and the workbench makes no request outside this computer. This one is served from /media.
st.set_page_config(page_title="Sanad", page_icon=str(Path(__file__).with_name("static") / "icon.png"),
                   layout="wide")
st.html(f"<style>{(Path(__file__).with_name('style.css')).read_text(encoding='utf-8')}</style>")

SEARCH = st.Page("views/search.py", title="Search", icon=":material/search:", url_path="search")


def _home() -> None:
    # The default page is served at / only; Search has its own address (/search?q=…), so
    # a search can be bookmarked and sent, and / opens it with whatever ?q= came along.
    st.switch_page(SEARCH, query_params=st.query_params.to_dict())


HOME = st.Page(_home, title="Start", url_path="start", default=True, visibility="hidden")
PAGES = [
    SEARCH,
    st.Page("views/upload.py", title="Upload", icon=":material/upload_file:", url_path="upload"),
    st.Page("views/overview.py", title="Overview", icon=":material/monitoring:", url_path="overview"),
    st.Page("views/glossary.py", title="Glossary", icon=":material/translate:", url_path="glossary"),
    st.Page("views/document.py", title="Document", icon=":material/description:", url_path="document"),
]
AUDIT = st.Page("views/audit.py", title="Audit", icon=":material/policy:", url_path="audit")
MEMBERS = st.Page("views/members.py", title="Members", icon=":material/group:", url_path="members")

# Team mode: the login page until someone has logged in; their rights, read afresh each request.
access = auth.gate(web.get_archive(), [HOME] + PAGES + [MEMBERS, AUDIT])
if auth.team():  # pages left out cannot be reached by their URL either
    PAGES = [p for p in PAGES if (p.url_path != "upload" or access.may_upload)
             and (p.url_path != "glossary" or access.admin)]
    if access.managed is None or access.managed:
        PAGES.append(MEMBERS)
    if access.admin:
        PAGES.append(AUDIT)

with st.sidebar:
    if auth.team():
        st.caption(f"Logged in as **{web.esc(access.user)}**" + (" (admin)" if access.admin else ""))
        auth.logout_control(web.get_archive())
    else:
        st.text_input("Your name (for the audit log)", key="actor", value=web.actor_name(),
                      help="Every edit and export is recorded in the archive's audit log under this name.")
    st.caption(f"Archive: {web.archive_root()}")

st.navigation([HOME] + PAGES).run()
