"""Upload: many files or ZIPs at once, processed in the background with live progress."""

from __future__ import annotations

import streamlit as st

from archive.errors import SanadError
from ui import auth, batches, web

archive = web.get_archive()
root = archive.root.resolve()

st.title("Upload")
if auth.team() and not auth.current().may_upload:  # viewers never get here through the menu either
    st.error("Your role lets you read the archive, not add to it: ask an admin for the editor role.")
    st.stop()
st.write("Add scans, photos, PDFs, Word files or ZIPs of them. Processing carries on in the background: "
         "you may leave this page or close the browser.")

with st.form("upload", clear_on_submit=True):
    files = st.file_uploader("Files (several at once, or ZIP files)", accept_multiple_files=True, key="upload_files")
    source = st.text_input("Where these files came from (source / provenance)",
                           placeholder="e.g. Leaked ministry archive, received 2024-03-02 from contact A")
    tags = st.text_input("Tags (separated by commas)", placeholder="e.g. health, 1399")
    collection = (st.selectbox("Collection", auth.upload_collections(archive.catalog), key="upload_collection")
                  if auth.team() else None)
    submitted = st.form_submit_button("Add to the archive", type="primary")

if submitted:
    if not files:
        st.warning("Choose at least one file first.")
    else:
        tag_list = sorted({t.strip() for t in tags.split(",") if t.strip()})
        folder = None
        try:
            # Written to disk in chunks; the archive then holds each file's bytes once.
            folder = batches.create_batch(root, [(f.name, f) for f in files], source.strip(), tag_list,
                                      collection=collection)
        except SanadError as exc:  # the disk is full: nothing was started, the files can be sent again
            st.error(f"The files could not be saved: {exc}")
        finally:
            count = len(files)
            batches.forget_uploads(files, "upload_files")  # else Streamlit keeps them in memory until the session ends
            del files
        if folder is not None:
            batches.start_ingest(root, folder)
            st.success(f"{count} file(s) received; processing has started.")

STATUS = {"waiting": ":grey[waiting]", "processing": ":blue[processing …]", "ingested": ":green[added]",
          "duplicate": ":violet[duplicate: already in the archive]", "failed": ":red[**failed**]"}


def show_batch(folder, latest: bool) -> bool:
    """Draw one batch; True while it is still being processed."""
    batch = batches.load_batch(root, folder, archive.catalog)
    batches.release_stored_files(folder, batch, archive.store.originals)
    done = sum(f.status in ("ingested", "duplicate", "failed") for f in batch.files)
    failed = sum(f.status == "failed" for f in batch.files)
    label = f"Batch {batch.created} · {done}/{len(batch.files)} files"
    if failed:
        label += f" · {failed} failed"
    if not batch.finished:
        label += " · processing"
    with st.expander(label, expanded=latest or not batch.finished or bool(failed)):
        if batch.source or batch.tags:
            web.show_html(f'<div class="sanad-muted">Source: <span dir="auto">{web.esc(batch.source or "—")}</span>'
                          f' · Tags: {web.esc(", ".join(batch.tags) or "—")}</div>')
        for state in batch.files:
            state = auth.as_uploader_sees(state)
            cols = st.columns([4, 2, 3, 1], vertical_alignment="center")
            with cols[0]:
                web.show_html(f'<span dir="auto" data-testid="batch-file">{web.esc(state.name)}</span>')
            cols[1].write(STATUS.get(state.status, state.status))
            with cols[2]:
                if state.pages_total:
                    st.progress(state.pages_done / state.pages_total,
                                text=f"{state.pages_done} of {state.pages_total} pages")
                if state.status == "failed" and state.error:
                    web.show_html(f'<div class="sanad-error" dir="auto">{web.esc(state.error)}</div>')
                if state.status == "duplicate":
                    st.caption("Same bytes as a document already in the archive: recorded as a new receipt.")
            if state.status == "failed" and not batch.running and (folder / "files" / state.name).exists():
                if cols[3].button("Retry", key=f"retry_{batch.id}_{state.name}"):
                    batches.start_ingest(root, folder, [state.name])
                    st.rerun()
            elif state.document_id and state.status in ("ingested", "duplicate"):
                cols[3].page_link("views/document.py", label="Open",
                                  query_params={"doc": state.document_id, "page": "1"})
    return not batch.finished


folders = auth.batches(root)[:15]
if not folders:
    st.info("Nothing uploaded yet.")
    st.stop()

st.subheader("Recent uploads")
busy = any(not batches.load_batch(root, f, archive.catalog).finished for f in folders)


@st.fragment(run_every=2 if busy else None)
def batch_list() -> None:
    still_busy = False
    for number, folder in enumerate(folders):
        still_busy |= show_batch(folder, latest=number == 0)
    if busy and not still_busy:
        st.rerun()  # everything finished: stop refreshing


batch_list()
