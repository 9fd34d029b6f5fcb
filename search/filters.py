"""The filters of the query language (source:, tag:, lang:, doc:, date:) as Whoosh queries:
they narrow a search and weigh nothing (see search.query)."""

from __future__ import annotations

import re

from archive.errors import QueryError
from search.analysis import fold
from search.clauses import EXACT_AN, or_
from search.engine import Q

_LANGS = {"fa": ("fa", "mixed"), "en": ("en", "mixed"), "mixed": ("mixed",)}


def field_filter(field: str, value: str) -> Q.Query:
    value = value.strip()
    if field == "source":
        terms = [t.text for t in EXACT_AN(value, mode="query")]
        if not terms:
            raise QueryError(f"Nothing to match in source:{value}")
        return Q.Term("source", terms[0]) if len(terms) == 1 else Q.Phrase("source", terms)
    if field == "tag":
        tags = {value.lower(), fold(value)}
        return or_([Q.Term("tags", t) for t in sorted(tags) if t])
    if field == "lang":
        langs = _LANGS.get(value.lower())
        if langs is None:
            raise QueryError(f"lang: must be fa, en or mixed, not {value!r}")
        return or_([Q.Term("lang", lang) for lang in langs])
    if field == "doc":
        doc = fold(value)
        if not re.fullmatch(r"[0-9a-f]{1,64}", doc):
            raise QueryError(f"doc: takes a document id or the start of one (hex digits), not {value!r}")
        return Q.Term("document_id", doc) if len(doc) == 64 else Q.Prefix("document_id", doc)
    return _date_filter(value)


_DATE_PART = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$")


def _date_filter(value: str) -> Q.Query:
    raw = fold(value)
    lo, sep, hi = raw.partition("..")
    if not sep:
        lo = hi = raw
    start = _date_bound(lo, end=False, original=value)
    stop = _date_bound(hi, end=True, original=value)
    if start is None and stop is None:
        raise QueryError("Write dates as date:YYYY-MM-DD or date:YYYY-MM-DD..YYYY-MM-DD")
    if start is not None and stop is not None and start > stop:
        raise QueryError(f"The date range {value} ends before it starts")
    if start == stop:
        return Q.Term("dates", start)
    return Q.TermRange("dates", start, stop)


def _date_bound(text: str, end: bool, original: str) -> str | None:
    """YYYYMMDD for one end of a range; a year or month alone covers the whole period."""
    if not text:
        return None
    m = _DATE_PART.match(text)
    if not m:
        raise QueryError(f"Cannot read the date {original!r}: write date:YYYY-MM-DD (e.g. date:2020-03-24)")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else (12 if end else 1)
    day = int(m.group(3)) if m.group(3) else None
    try:
        if year < 1700:  # a Jalali (Solar Hijri) year such as 1399
            return _jalali_bound(year, month, day, end)
        import datetime as dt
        if day is None:
            nxt = dt.date(year + month // 12, month % 12 + 1, 1)
            day = (nxt - dt.timedelta(days=1)).day if end else 1
        return dt.date(year, month, day).strftime("%Y%m%d")
    except ValueError:
        raise QueryError(f"{original!r} is not a valid date") from None


def _jalali_bound(year: int, month: int, day: int | None, end: bool) -> str:
    import jdatetime
    if day is None:
        day = jdatetime.j_days_in_month[month - 1] if end else 1
        if end and month == 12 and jdatetime.date(year, 1, 1).isleap():
            day = 30
    return jdatetime.date(year, month, day).togregorian().strftime("%Y%m%d")
