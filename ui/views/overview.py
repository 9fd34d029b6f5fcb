"""Overview: what is in the archive, what is being processed, what failed and why."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import auth, batches, listing, web

archive = web.get_archive()
catalog = archive.catalog
root = archive.root.resolve()

st.title("Overview")
counts = auth.counts(catalog)
c = st.columns(5)
c[0].metric("Documents", counts["documents"])
c[1].metric("Pages", counts["pages"])
c[2].metric("Ready", counts.get("done", 0))
c[3].metric("Processing", counts.get("processing", 0) + counts.get("pending", 0))
c[4].metric("Failed", counts.get("failed", 0))

running = [b for b in (batches.load_batch(root, f, catalog) for f in auth.batches(root)[:50]) if not b.finished]
if running:
    files = sum(len(b.files) for b in running)
    st.info(f"{len(running)} upload batch(es) with {files} file(s) are being processed; see the Upload page.")

docs = auth.documents(catalog)
problems = [d for d in docs if d.status == "failed" or d.error]
st.subheader("Failures")
if problems:
    st.write("These documents could not be read, completely or in part. Their originals are kept; "
             "retry them from the Upload page after fixing the cause.")
    st.dataframe(pd.DataFrame([{"file": d.filename, "status": d.status, "reason": d.error or "",
                                "added": listing.when_text(d.added_at), "sha256": d.id} for d in problems]),
                 hide_index=True, width="stretch")
else:
    st.success("No failures.")

st.subheader("Timeline")
if docs:
    by = st.radio("Count documents by", ["Date of the letter", "Day added to the archive"], horizontal=True,
                  key="timeline_by", help="A document's date is the first date written on it (Persian dates "
                                          "are converted); documents with no date found are counted apart.")
    if by.startswith("Date"):
        dated = catalog.document_days()
        days = [dated[d.id] for d in docs if d.id in dated]
        chart, unit = listing.timeline(days)
        if days:
            st.bar_chart(chart, x_label=f"{unit} of the letter", y_label="documents")
        undated = len(docs) - len(days)
        st.caption(f"{len(days)} document(s) by the first date written on them"
                   + (f"; {undated} with no date found are not shown." if undated else "."))
    else:
        per_day = pd.Series([d.added_at[:10] for d in docs]).value_counts().sort_index()
        st.bar_chart(pd.DataFrame({"documents": per_day}), x_label="day added", y_label="documents")
else:
    st.info("The archive is empty.")

st.subheader("Recent activity")
if auth.team():  # the log names what everyone did: admins read it on the Audit page
    st.stop()
names = {d.id: d.filename for d in docs}
st.dataframe(pd.DataFrame([listing.audit_row(a, names) for a in catalog.audit_log(limit=50)]),
             hide_index=True, width="stretch")
