"""Search: one box for Persian and English, filters beside it, results grouped by document."""

from __future__ import annotations

import streamlit as st

from archive.errors import IndexNotReady, QueryError, SanadError
from ui import auth, web

PER_PAGE = 20
EXPORT_LIMIT = 1000
LANGS = {"Any language": "", "Persian / فارسی": "fa", "English": "en"}

archive = web.get_archive()
catalog = archive.catalog

st.title("Search")

# /search?q=... opens with that query run (an address to bookmark or send); coming back from a
# document keeps it.
if "search_text" not in st.session_state:
    st.session_state.search_text = st.query_params.get("q", "")
if "search_page" not in st.session_state:
    st.session_state.search_page = 1

facets = auth.facets(catalog)  # team mode: only the readable collections' sources and tags
with st.form("search"):
    st.text_input("Search words in Persian or English", key="search_text",
                  placeholder='e.g. زندان   or   "health supplies"   or   تهران -اصفهان')
    c1, c2, c3, c4, c5 = st.columns([2, 3, 3, 2, 2])
    lang = c1.selectbox("Language", list(LANGS), key="search_lang")
    source = c2.selectbox("Source", [""] + facets["sources"], key="search_source",
                          format_func=lambda s: s or "Any source")
    tags = c3.multiselect("Tags", facets["tags"], key="search_tags")
    date_from = c4.date_input("Dated from", value=None, key="search_from",
                              help="A date written in the document (Persian dates are converted).")
    date_to = c5.date_input("Dated until", value=None, key="search_to")
    o1, o2 = st.columns([3, 2])
    sort = o1.radio("Order", ["Best match first", "Newest added first"], horizontal=True, key="search_sort")
    expand = o2.toggle("Also search translations and other spellings", value=True, key="search_expand",
                       help="English words are looked up in Persian and the other way round (through the "
                            "glossary), names in the other script, amounts in every spelling. Pages found "
                            "only this way rank below pages with the words you typed.")
    if st.form_submit_button("Search", type="primary"):
        st.session_state.search_page = 1

with st.expander("How to search"):
    st.markdown(
        "- Words: pages with more of your words come first. `AND` between words to require both, "
        "`OR` for either, `-word` or `NOT word` to leave a word out.\n"
        '- `"exact phrase"` in quotes; `word*` for any ending; `word~` for similar spellings.\n'
        "- Filters can also be typed: `source:…` `tag:…` `lang:fa` `lang:en` "
        "`date:2020-01-01..2020-12-31` (Persian dates such as `date:1399-01-05` work too).")

text = st.session_state.search_text
query = web.build_query(text, lang=LANGS[lang], source=source, tags=tags, date_from=date_from, date_to=date_to)
if query != st.query_params.get("q", ""):  # the address holds the filters too: it repeats this search
    st.query_params["q"] = query

if not text.strip():
    counts = auth.counts(catalog)
    if counts["documents"]:
        st.info(f"Type a word or a phrase above to search {counts['documents']} documents "
                f"({counts['pages']} pages). Persian and English are searched together.")
    else:
        st.info("The archive is empty. Add documents on the Upload page, then search them here.")
    st.stop()

if not web.has_words(text):
    st.warning("Type at least one word or number: punctuation alone cannot be searched.")
    st.stop()

web.show_html(f'<div class="sanad-muted">Searching for: <code dir="auto" data-testid="effective-query">'
              f"{web.esc(query)}</code></div>")

try:
    index = web.open_index(archive)
    page_no = st.session_state.search_page
    results = auth.search(index, catalog, query, limit=page_no * PER_PAGE,
                          sort="date" if sort.startswith("Newest") else "relevance", expand=expand)
except IndexNotReady:
    st.info("The search index is being built by the upload in progress: search again in a few seconds.")
    st.stop()
except QueryError as exc:
    st.warning(f"This search could not be understood: {exc}. Check quotes and brackets, or search plain words.")
    st.stop()
except SanadError as exc:
    st.error(f"The search failed: {exc}")
    st.stop()

if results.expansions:
    web.show_html('<div class="sanad-muted" data-testid="expansions">Also searched: ' + "; ".join(
        f'<span dir="auto">{web.esc(e.text)}</span> → ' + ", ".join(f'<span dir="auto">{web.esc(a)}</span>' for a in e.added)
        + f" <small>({web.esc(e.kind)})</small>" for e in results.expansions)
        + " — turn this off with the switch above; edit translations on the Glossary page.</div>")

if not results.total:
    st.info("No pages match. Try fewer words, another spelling, `word*`, or remove a filter.")
    st.stop()

pages = max(1, -(-results.total // PER_PAGE))
shown = results.hits[(page_no - 1) * PER_PAGE:page_no * PER_PAGE]
groups: dict[str, list] = {}
for hit in shown:
    groups.setdefault(hit.document_id, []).append(hit)
st.markdown(f"**{results.total_text}** matching pages · results page {page_no} of {pages} "
            f"· {len(groups)} documents on this results page")
web.show_html(web.legend_html({m.kind for hit in shown for m in hit.matched}))

for doc_id, hits in groups.items():
    first = hits[0]
    with st.container(border=True, key=f"result-{doc_id[:16]}"):
        tags_html = ", ".join(f"<code>{web.esc(t)}</code>" for t in first.tags) or "no tags"
        web.show_html(
            f'<div class="sanad-doc-title" dir="auto">{web.esc(first.title or first.filename)}</div>'
            f'<div class="sanad-muted"><span dir="auto">{web.esc(first.filename)}</span>'
            f' · {web.esc(first.source) if first.source else "no source"} · {tags_html}'
            f' · <span title="SHA-256">{web.esc(doc_id[:12])}</span></div>')
        for hit in hits:
            left, right = st.columns([1, 9], vertical_alignment="center")
            left.page_link("views/document.py", label=f"Page {hit.page}", icon=":material/description:",
                           query_params={"doc": doc_id, "page": str(hit.page), "q": query})
            with right:
                web.show_html(web.snippet_html(hit) + web.matched_html(hit))

prev_col, mid, next_col = st.columns([1, 3, 1])
if prev_col.button("← Previous", disabled=page_no <= 1, key="prev_results"):
    st.session_state.search_page = page_no - 1
    st.rerun()
if next_col.button("Next →", disabled=page_no >= pages, key="next_results"):
    st.session_state.search_page = page_no + 1
    st.rerun()


# -- export -----------------------------------------------------------------------------------

# captured now: the download's data callback runs outside this script run
reader, reader_address, in_team = auth.current(), auth.address(), auth.team()


def _export_rows(kind: str):
    everything = index.search(query, limit=EXPORT_LIMIT, sort="date" if sort.startswith("Newest") else "relevance",
                              expand=expand, readable=reader.readable)
    return web.export_rows(auth.exported(catalog, reader, query, everything.hits, kind, reader_address, in_team))


def _log_export(kind: str) -> None:
    if auth.team():  # recorded with the address by auth.exported
        return
    catalog.audit(web.current_actor(), "export", None,
                  {"what": "search results", "format": kind, "query": query,
                   "results": min(results.total, EXPORT_LIMIT)})


st.divider()
st.caption(f"Export these results (up to {EXPORT_LIMIT} pages) with document, file name, page, snippet, "
           "SHA-256 and source:")
e1, e2, _ = st.columns([1, 1, 4])
e1.download_button("Download CSV", data=lambda: web.to_csv(_export_rows("csv")), file_name="sanad-results.csv",
                   mime="text/csv", on_click=_log_export, args=("csv",), key="export_csv")
e2.download_button("Download JSON", data=lambda: web.to_json(query, _export_rows("json")),
                   file_name="sanad-results.json", mime="application/json", on_click=_log_export,
                   args=("json",), key="export_json")
