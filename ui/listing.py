"""What the workbench lists as text: audit rows, the dates of a document, the Overview timeline.

Kept apart from ui/web.py (rendering and batches) so each stays small; nothing here touches
Streamlit.
"""

from __future__ import annotations

from datetime import UTC, datetime

_SHOWN_LENGTH = 80  # characters of one value of an audit detail (a note, a query) shown in a row


def when_text(at: str) -> str:
    """An ISO time stamp as a person reads it: 2026-12-01 16:03:13 UTC."""
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return str(at or "")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.tzinfo is not None else "")


def _value_text(value) -> str:
    if isinstance(value, dict):
        if set(value) == {"old", "new"}:  # an edit: what it was and what it became
            return f"{_value_text(value['old']) or '(empty)'} → {_value_text(value['new']) or '(empty)'}"
        return ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = " ".join(str(value).split())
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH - 1] + "…"


def detail_text(detail, shown: str = "") -> str:
    """An audit entry's detail (a dict) as one line: `format: csv · query: masks · results: 4`.
    Empty values are left out, and a SHA-256 or file name the row's document column ``shown``
    says already."""
    if not isinstance(detail, dict):
        return _value_text(detail) if detail else ""
    parts = []
    for key, value in detail.items():
        if value in (None, "", [], {}) or key == "sha256" or (key == "filename" and value == shown):
            continue
        parts.append(f"{str(key).replace('_', ' ')}: {_value_text(value)}")
    return " · ".join(parts)


def audit_row(entry, names: dict[str, str] | None = None, *, address: bool = False) -> dict:
    """One audit entry (a catalog.audit_log dict or an archive.audit.Entry) as a readable row:
    the time in UTC, the document by its file name when known, the detail as text."""
    get = entry.get if isinstance(entry, dict) else (lambda key: getattr(entry, key, None))
    doc_id = get("document_id") or ""
    row = {"when": when_text(get("at")), "who": get("actor") or "", "action": get("action") or ""}
    if address:
        row["from"] = get("address") or ""
    row["document"] = (names or {}).get(doc_id) or doc_id[:12]
    row["detail"] = detail_text(get("detail"), row["document"])
    return row


def dates_listed(found: list[dict]) -> list[dict]:
    """The dates of a document, each day once: how it was written (each spelling once), the
    calendars and the pages it is on, in the order the days first appear."""
    days: dict[str, dict] = {}
    for d in found:
        entry = days.setdefault(d["day"], {"day": d["day"], "written": [], "calendars": [], "pages": []})
        for key, value in (("written", d["text"]), ("calendars", d["calendar"]), ("pages", d["page"])):
            if value not in entry[key]:
                entry[key].append(value)
    return list(days.values())


def timeline(days: list[str]):
    """(bar chart data, unit) counting ISO days by month, or by year past ten years, with the
    empty months or years in between kept so the bars stand where they belong in time."""
    import pandas as pd

    if not days:
        return pd.DataFrame({"documents": []}), "month"
    months = sorted(d[:7] for d in days)
    first, last = pd.Period(months[0], "M"), pd.Period(months[-1], "M")
    unit, freq, key = ("month", "M", lambda d: d[:7]) if (last - first).n < 120 else ("year", "Y", lambda d: d[:4])
    counts: dict[str, int] = {}
    for d in days:
        counts[key(d)] = counts.get(key(d), 0) + 1
    span = pd.period_range(pd.Period(min(counts), freq), pd.Period(max(counts), freq), freq=freq)
    return pd.DataFrame({"documents": [counts.get(str(p), 0) for p in span]}, index=[str(p) for p in span]), unit
