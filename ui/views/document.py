"""One document: the page image beside its text, matches highlighted in both, metadata, downloads."""

from __future__ import annotations

import streamlit as st

from archive.errors import IndexNotReady, QueryError, SanadError
from search.index import SearchIndex
from ui import auth, listing, matches, web

archive = web.get_archive()
catalog = archive.catalog

params = st.query_params
doc_id = params.get("doc", "")
query = params.get("q", "")

if not doc_id:
    st.title("Document")
    docs = auth.documents(catalog)
    if not docs:
        st.info("The archive is empty. Add documents on the Upload page.")
        st.stop()
    st.write("Open a document from the search results, or choose one here:")
    chosen = st.selectbox("Document", docs, index=None, format_func=lambda d: f"{d.title or d.filename} · {d.id[:12]}")
    if chosen is not None:
        st.query_params.update({"doc": chosen.id, "page": "1"})
        st.rerun()
    st.stop()

candidates = auth.find_document(catalog, doc_id)  # another collection's document is "no such document"
if len(candidates) != 1:
    st.error("No such document." if not candidates else "That short id matches several documents.")
    st.page_link("views/search.py", label="Back to search", icon=":material/search:")
    st.stop()
doc = candidates[0]
pages = catalog.pages(doc.id)
count = max(1, len(pages))
try:
    number = min(max(1, int(params.get("page", "1"))), count)
except ValueError:
    number = 1

# -- header -------------------------------------------------------------------------------------

st.page_link("views/search.py", label="Back to search", icon=":material/arrow_back:", query_params={"q": query} if query else None)
web.show_html(f'<h2 dir="auto" style="margin:0">{web.esc(doc.title or doc.filename)}</h2>'
              f'<div class="sanad-muted"><span dir="auto">{web.esc(", ".join(doc.filenames) or doc.filename)}</span>'
              f" · {web.esc(doc.media_type)} · {doc.size:,} bytes · {count} page(s) · {web.esc(doc.status)}</div>")
if doc.error:
    st.warning(f"Problems reading this document: {doc.error}")


def go_to(n: int) -> None:
    st.query_params["page"] = str(n)


nav = st.columns([2, 2, 2, 5], vertical_alignment="bottom")
nav[0].button("← Previous", disabled=number <= 1, on_click=go_to, args=(number - 1,), key="prev_page")
nav[1].button("Next →", disabled=number >= count, on_click=go_to, args=(number + 1,), key="next_page")
picked = nav[2].number_input("Page", min_value=1, max_value=count, value=number, step=1, key=f"page_{doc.id}_{number}")
if picked != number:
    go_to(int(picked))
    st.rerun()

# -- what matched ---------------------------------------------------------------------------------

page = catalog.page(doc.id, number)
marked = None  # search.searching.PageMarks: the search's own marks of this page
if query.strip():
    try:
        marked = web.open_index(archive).page_marks(query, doc.id, number, readable=auth.current().readable)
        if marked.pages:
            st.caption("Matches on page(s): " + ", ".join(map(str, marked.pages)))
        if marked.matched:
            web.show_html(web.matched_html(marked))
    except QueryError as exc:
        st.warning(f"The search could not be understood: {exc}")
    except SanadError as exc:
        st.warning(f"Matches cannot be highlighted: {exc}")
    web.show_html(f'<div class="sanad-muted">Highlighting: <span dir="auto">{web.esc(query)}</span></div>')

# -- page image and text ----------------------------------------------------------------------------

ZOOMS = {"Fit": 100, "150%": 150, "200%": 200, "300%": 300}

if page is None:
    st.info("This document has no pages (yet).")
else:
    try:
        image = web.page_image(archive, doc, page)
        problem = None
        if image is not None:
            auth.record(catalog, "page-image", doc.id, {"page": number})
    except Exception as exc:  # a page that cannot be drawn must not hide its text
        image, problem = None, exc
    controls = st.columns([3, 2], vertical_alignment="bottom")
    zoom = "Fit"
    if image is not None:
        zoom = controls[0].segmented_control("Zoom", list(ZOOMS), default="Fit", key="page_zoom",
                                             help="Zoom in to read small print; the frame scrolls.") or "Fit"
    beside = controls[1].toggle("Text beside the image", value=True, key="text_beside",
                                help="Off: the image takes the whole width, the text follows below it."
                                ) if image is not None or problem else False
    boxes = [(box, box.kind) for box in marked.boxes(page.text, page.words)] if marked else []
    spans = [(m.start, m.end, m.kind) for m in marked.marks] if marked else []
    if image is None and not problem:
        picture, words = None, st.container()
    elif beside:
        picture, words = st.columns([3, 2])
    else:
        picture, words = st.container(), st.container()
    if problem:
        picture.warning(f"The page image cannot be shown: {problem}")
    if image is not None:
        with picture:
            web.show_html(web.page_view_html(image, boxes, page_w=page.width, page_h=page.height,
                                             alt=f"page {number} of {doc.filename}", zoom=ZOOMS[zoom],
                                             rtl=page.lang == "fa"))
            if boxes:
                kinds = {k for _, k in boxes}
                counted = ", ".join(f"{sum(k == kind for _, k in boxes)} {matches.KIND_LABELS[kind]}"
                                    for kind in matches.MATCH_KINDS if kind in kinds)
                st.caption(f"{len(boxes)} matching word(s) outlined on the page: {counted}.")
                web.show_html(web.legend_html(kinds))
    with words:
        how = {"ocr": "recognised by OCR", "text": "text from the file"}.get(page.method, page.method)
        extra = f", confidence {page.confidence:.0f}%" if page.confidence is not None else ""
        st.caption(f"Page {number} · {how}{extra} · language: {page.lang or 'unknown'}")
        if page.possibly_incomplete:
            st.warning(f"Possibly incomplete: {page.unread_lines} band(s) of ink on this page gave no text; "
                       "compare the text with the page image before quoting it.")
        if page.status == "done":
            if page.text.strip():
                web.show_html(web.text_block(page.text, page.lang, spans))
            else:
                st.info("No text was found on this page.")
        elif page.status == "failed":
            st.error(f"This page could not be read: {page.error}")
        else:
            st.info("This page is still being processed.")

# -- dates -------------------------------------------------------------------------------------------

found_dates = listing.dates_listed(catalog.dates_found(doc.id))
if found_dates:
    from datetime import date as _date

    from search.dates import format_both

    st.subheader("Dates in this document")
    web.show_html("<ul data-testid='dates'>" + "".join(
        f"<li><span dir='auto'>{web.esc(format_both(_date.fromisoformat(d['day'])))}</span>: written "
        + ", ".join(f"<span dir='auto'>{web.esc(t)}</span>" for t in d["written"])
        + f" ({web.esc(', '.join(d['calendars']))}) · page{'s' if len(d['pages']) > 1 else ''} "
        + ", ".join(map(str, d["pages"])) + "</li>"
        for d in found_dates[:50]) + "</ul>")

# -- downloads --------------------------------------------------------------------------------------

st.divider()
st.subheader("Original and text")
st.write("SHA-256 (the document's id; recompute it on the downloaded file to prove it is unchanged):")
st.code(doc.id, language=None)


def log_export(what: str) -> None:
    auth.record(catalog, "download" if what == "original" else "export", doc.id, {"what": what})
    if auth.team():
        return
    catalog.audit(web.current_actor(), "export", doc.id, {"what": what, "filename": doc.filename})


d1, d2, _ = st.columns([1, 1, 3])
original = archive.original_path(doc.id)
d1.download_button("Download original", data=lambda: original.read_bytes(), file_name=doc.filename,
                   mime=doc.media_type, on_click=log_export, args=("original",), key="dl_original")
d2.download_button("Download text (.txt)", data=lambda: web.document_text(doc, catalog.pages(doc.id)),
                   file_name=f"{doc.filename.rsplit('.', 1)[0]}.txt", mime="text/plain; charset=utf-8",
                   on_click=log_export, args=("text",), key="dl_text")

# -- metadata ------------------------------------------------------------------------------------------

st.subheader("Description")
if not auth.may_edit(catalog, doc.id):  # a viewer reads the description and cannot change it
    st.write(f"**Title:** {web.esc(doc.title or '—')}  \n**Source:** {web.esc(doc.source or '—')}  \n"
             f"**Tags:** {web.esc(', '.join(doc.tags) or '—')}")
    st.stop()
with st.form(f"meta_{doc.id}"):
    title = st.text_input("Title", value=doc.title, key=f"title_{doc.id}")
    source = st.text_input("Source / provenance", value=doc.source, key=f"source_{doc.id}")
    tags = st.text_input("Tags (separated by commas)", value=", ".join(doc.tags), key=f"tags_{doc.id}")
    notes = st.text_area("Notes", value=doc.notes, key=f"notes_{doc.id}")
    saved = st.form_submit_button("Save")
if saved:
    new_tags = sorted({t.strip() for t in tags.split(",") if t.strip()})
    try:
        if auth.team():
            from search.access import require_edit

            require_edit(catalog, auth.current(), doc.id)  # the form is hidden too; this is the check
        catalog.update_metadata(doc.id, web.current_actor(), title=title.strip(), source=source.strip(),
                                notes=notes, tags=new_tags)
        SearchIndex(archive.index_dir).update_documents(catalog, [doc.id])
        catalog.mark_indexed([doc.id])
    except SanadError as exc:
        st.error(f"Not saved: {exc}")
    else:
        st.toast("Saved; the change is in the audit log.")
        st.rerun()

with st.expander("Where it came from and what was done to it"):
    st.write("Received as:")
    st.dataframe([{"file name": r.filename, "received": listing.when_text(r.received_at), "by": r.actor,
                   "source": r.source or ""}
                  for r in catalog.receipts(doc.id)], hide_index=True)
    st.write("Audit log:")
    st.dataframe([{k: v for k, v in listing.audit_row(a).items() if k != "document"}
                  for a in catalog.audit_log(doc.id, limit=200)], hide_index=True)
