"""Reading a whole Whoosh index back to find damage: what `sanad verify` does to the index.

Whoosh keeps no checksums of its own. Its table of contents (``_MAIN_<n>.toc``) is a pickle;
each segment is one compound file (``<segment>.seg``) holding a term index (``.trm``), posting
lists (``.pst``), stored fields (``_stored.col``) and per-page columns (field lengths, page
numbers, dates). A random overwrite mostly makes a read fail (a pickle, a zlib stream or a
struct that no longer decodes), but bytes of a length column or an uncompressed posting block
decode to plausible garbage. So everything is read, and what is read is checked against what
it must agree with: every term's entry against its postings (page count, total weight, first
and last page), every posting's positions against its frequency, each page's field lengths
against the sum of its terms' frequencies, the term index's hash lookup against its own
listing. The catalog check (pages and their text) is search.index.SearchIndex.check's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from search import engine, postings
from search.engine import byte_to_length, length_to_byte

MAX_PER_PART = 3  # damage lines reported per segment and part: one broken block breaks many terms


@dataclass(frozen=True)
class Damage:
    file: str  # the file (or a compound segment's part) that is damaged
    what: str  # what could not be read, or what disagreed

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def check_segments(ix) -> list[Damage]:
    """Every damaged part of the index ``ix`` (opened through search.engine.open_index); [] when all of it
    reads back consistently. The table of contents is read by whoever opened ``ix``."""
    found: list[Damage] = []
    for segment in engine.segments(ix):
        found += check_segment(ix.storage, ix.schema, segment)
    return found


def check_segment(storage, schema, segment) -> list[Damage]:
    name = segment.segment_id()
    seg_file = segment.make_filename(".seg") if segment.is_compound() else name
    if segment.is_compound() and not storage.file_exists(seg_file):
        return [Damage(seg_file, f"segment {name} is listed in the table of contents but its file is missing")]
    try:
        reader = engine.segment_reader(storage, schema, segment)
    except Exception as exc:  # noqa: BLE001 - any failure to open is damage
        return [Damage(seg_file, f"segment {name} cannot be opened ({describe(exc)})")]
    report = _Report(seg_file, name)
    try:
        if segment.is_compound():
            _check_parts(reader, segment, report)
        _check_stored(reader, report)
        lengths = _check_terms(reader, schema, report)
        _check_lengths(reader, schema, segment, lengths, report)
    finally:
        try:
            reader.close()
        except Exception:  # noqa: BLE001 - closing a damaged reader may fail too; nothing to keep
            pass
    return report.found


class _Report:
    """The damage found in one segment, a few lines per part."""

    def __init__(self, seg_file: str, name: str):
        self.seg_file, self.name = seg_file, name
        self.found: list[Damage] = []
        self._counts: dict[str, int] = {}

    def add(self, part: str, what: str) -> None:
        self._counts[part] = self._counts.get(part, 0) + 1
        if self._counts[part] <= MAX_PER_PART:
            self.found.append(Damage(f"{self.seg_file} ({self.name}{part})", what))
        elif self._counts[part] == MAX_PER_PART + 1:
            self.found.append(Damage(f"{self.seg_file} ({self.name}{part})", "more damage in this part not listed"))


def _check_parts(reader, segment, report: _Report) -> None:
    """A compound file's directory: every part lies inside the file."""
    found = engine.compound_parts(reader)
    if found is None:
        return
    size, parts = found  # the directory follows the parts
    for part, where in parts.items():
        offset, length = where["offset"], where["length"]
        if offset < 0 or length < 0 or offset + length > size:
            report.add(part[len(report.name):], "the part lies outside the segment file (truncated?)")


def _check_stored(reader, report: _Report) -> None:
    for docnum in range(reader.doc_count_all()):
        try:
            if reader.is_deleted(docnum):
                continue
            fields = reader.stored_fields(docnum)
            if not isinstance(fields, dict) or not isinstance(fields.get("key"), str):
                report.add("._stored.col", f"page {docnum}'s stored fields decode to something else")
        except Exception as exc:  # noqa: BLE001
            report.add("._stored.col", f"page {docnum}'s stored fields cannot be read ({describe(exc)})")


def _check_terms(reader, schema, report: _Report) -> dict[str, np.ndarray]:
    """Every term's entry and postings, positions included; returns each scorable field's sum of
    frequencies per page (what its length column must hold)."""
    count = reader.doc_count_all()
    lengths: dict[str, np.ndarray] = {}
    for field_name in schema.names():
        field = schema[field_name]
        if not field.indexed:
            continue
        sums = np.zeros(count, dtype=np.float64)
        try:
            terms = list(_field_terms(reader, field_name))
        except Exception as exc:  # noqa: BLE001
            report.add(".trm", f"the terms of field {field_name!r} cannot be listed ({describe(exc)})")
            continue
        for btext, info in terms:
            problem = _check_term(reader, field, field_name, btext, info, count, sums)
            if problem:
                part, what = problem
                report.add(part, f"{field_name}:{btext.decode('utf-8', 'replace')!r}: {what}")
        if field.scorable:
            lengths[field_name] = sums
    return lengths


def _field_terms(reader, field_name: str):
    """(term bytes, entry) of every term of the field, as the term index lists them (the
    reader's own listing converts its prefix, which fails for numeric fields)."""
    yield from engine.field_terms(reader, field_name)


def _check_term(reader, field, field_name: str, btext: bytes, info, count: int, sums) -> tuple[str, str] | None:
    try:
        again = engine.hashed_term_info(reader, field_name, btext)  # through the hash table
        if again.doc_frequency() != info.doc_frequency():
            return ".trm", "its entry differs between the term list and a lookup"
    except Exception as exc:  # noqa: BLE001
        return ".trm", f"a lookup of the listed term fails ({describe(exc)})"
    try:
        found = postings.every_posting(reader, field_name, btext, info)
    except Exception as exc:  # noqa: BLE001
        return ".pst", f"its postings cannot be read ({describe(exc)})"
    ids, weights = found.ids, found.weights
    if len(ids) != info.doc_frequency():
        return ".pst", f"{len(ids)} postings where its entry says {info.doc_frequency()}"
    if len(ids) and (ids[0] < 0 or ids[-1] >= count or (len(ids) > 1 and np.any(np.diff(ids) <= 0))):
        return ".pst", "its pages are out of order or out of the segment"
    if len(ids) and (ids[0] != info.min_id() or ids[-1] != info.max_id()):
        return ".pst", "its first or last page differs from its entry"
    if not np.isclose(weights.sum(), info.weight(), rtol=1e-6) or np.any(weights <= 0):
        return ".pst", "its frequencies do not add up to its entry's"
    problem = _check_values(field, found)
    if problem:
        return ".pst", problem
    sums[ids] += weights
    return None


def _check_values(field, found: postings.Postings) -> str | None:
    """Each posting's encoded positions decode, as many as its frequency."""
    fmt = field.format
    if not fmt.supports("positions") or found.values is None:
        return None
    positions = fmt.decoder("positions")
    frequency = fmt.decoder("frequency")
    chars = fmt.decoder("characters") if fmt.supports("characters") else None
    for i, weight in enumerate(found.weights.tolist()):
        try:
            value = found.values[i]
            where = positions(value)
            if frequency(value) != len(where) or len(where) != round(weight):
                return f"page {int(found.ids[i])}: {len(where)} positions for frequency {weight:g}"
            if any(b < a for a, b in zip(where, where[1:])) or (where and where[0] < 0):
                return f"page {int(found.ids[i])}: positions out of order"
            if chars is not None and any(s < 0 or e < s for _, s, e in chars(value)):
                return f"page {int(found.ids[i])}: character ranges out of order"
        except Exception as exc:  # noqa: BLE001
            return f"page {int(found.ids[i])}: its positions cannot be decoded ({describe(exc)})"
    return None


def _check_lengths(reader, schema, segment, lengths: dict[str, np.ndarray], report: _Report) -> None:
    """Each page's stored field length is the sum of its terms' frequencies (as one logarithmic
    byte), and the segment's total is their sum."""
    for field_name, sums in lengths.items():
        part = f"._{field_name}_len.col"
        try:
            stored = np.array([reader.doc_field_length(d, field_name, 0) or 0 for d in range(len(sums))])
        except Exception as exc:  # noqa: BLE001
            report.add(part, f"the lengths of field {field_name!r} cannot be read ({describe(exc)})")
            continue
        expected = np.array([_byte_length(s) for s in sums.tolist()])
        wrong = np.flatnonzero(stored != expected)
        if len(wrong):
            report.add(part, f"{len(wrong)} page(s) have lengths of field {field_name!r} that disagree"
                             f" with their terms (first: page {int(wrong[0])})")
        total = engine.segment_field_total(segment, field_name)
        if total is not None and round(sums.sum()) != total:
            report.add(part, f"field {field_name!r} totals {round(sums.sum())} words where the table of"
                             f" contents says {total}")


def _byte_length(length: float) -> int:
    return byte_to_length(length_to_byte(int(round(length))))
