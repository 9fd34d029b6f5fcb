"""Glossary: the investigator's own English <-> Persian translations for cross-language search."""

from __future__ import annotations

import streamlit as st

from search.crosslingual import archive_glossary
from search.glossary import SHIPPED_PATH
from ui import web

archive = web.get_archive()
path = archive.root / "glossary.tsv"

st.title("Glossary")
st.markdown(
    "English words in a search are also looked up in Persian through this glossary, and Persian "
    "words in English. Sanad ships a glossary for prisons, health, supplies, ministries and legal terms; "
    "lines you add here extend it, and an English term you list replaces the shipped entry. "
    "One entry per line: the English term, a **tab**, then Persian terms separated by `|`. "
    "You can also edit the file with any text editor:")
st.text(str(path))

current = path.read_text(encoding="utf-8") if path.exists() else ""
with st.form("glossary"):
    edited = st.text_area("Your entries", value=current, height=300,
                          placeholder="detention centre\tبازداشتگاه|مرکز بازداشت")
    if st.form_submit_button("Save", type="primary"):
        path.write_text(edited if edited.endswith("\n") or not edited else edited + "\n", encoding="utf-8")
        archive.catalog.audit(web.current_actor(), "glossary-edit", None,
                              {"lines": len([x for x in edited.splitlines() if x.strip()])})
        st.success("Saved. New searches use it at once.")

glossary = archive_glossary(archive.root)
for warning in glossary.warnings:
    st.warning(warning)

term = st.text_input("Try a word or phrase (English or Persian)")
if term.strip():
    found = glossary.expansions_english(term) or glossary.expansions_persian(term)
    if found:
        web.show_html("<div dir='auto'>" + ", ".join(
            f"<span dir='auto'>{web.esc(e.term)}</span> <small>({web.esc(e.source)})</small>" for e in found)
            + "</div>")
    else:
        st.info("No translation found.")
st.caption(f"Shipped glossary: {len(glossary)} entries ({SHIPPED_PATH.name}).")
