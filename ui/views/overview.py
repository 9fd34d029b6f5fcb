"""Overview: what is in the archive, what is being processed, what failed and why."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from ui import auth, web

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

running = [b for b in (web.load_batch(root, f, catalog) for f in auth.batches(root)[:50]) if not b.finished]
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
                                "added": d.added_at, "sha256": d.id} for d in problems]),
                 hide_index=True, use_container_width=True)
else:
    st.success("No failures.")

st.subheader("Documents added per day")
if docs:
    per_day = Counter(d.added_at[:10] for d in docs)
    st.bar_chart(pd.DataFrame({"documents": per_day}).sort_index())
else:
    st.info("The archive is empty.")

st.subheader("Recent activity")
if auth.team():  # the log names what everyone did: admins read it on the Audit page
    st.stop()
st.dataframe(pd.DataFrame([{"when": a["at"], "who": a["actor"], "action": a["action"],
                            "document": (a["document_id"] or "")[:12], "detail": str(a["detail"])}
                           for a in catalog.audit_log(limit=50)]),
             hide_index=True, use_container_width=True)
