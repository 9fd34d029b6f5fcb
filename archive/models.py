"""Core types shared by every layer: a document, a page, a word box, a receipt."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WordBox:
    """One recognised word on a page image, in pixels of the image that was OCRed."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float  # 0-100, as Tesseract reports it
    line: int = 0  # running line number on the page, for reading order


@dataclass
class Page:
    document_id: str
    number: int  # 1-based
    text: str = ""
    method: str = ""  # "text" (text layer / plain text) or "ocr"
    lang: str = ""  # "fa", "en", "mixed" or ""
    confidence: float | None = None  # mean word confidence for OCR pages
    width: int | None = None  # size of the image the word boxes refer to
    height: int | None = None
    words: list[WordBox] = field(default_factory=list)
    status: str = "pending"  # pending | done | failed
    error: str | None = None
    # The character encoding a text file's page was decoded from ("utf-8", "cp1256", ...), ""
    # for pages that were not decoded from bytes (PDF, office, OCR), and how many NUL bytes were
    # dropped from it, so a reader knows the text is a reading of the bytes, not the bytes.
    encoding: str = ""
    nuls_removed: int = 0
    # OCR pages: bands of ink in which no word was read. A page with any is "possibly incomplete":
    # a line may be missing from its text.
    unread_lines: int = 0

    @property
    def possibly_incomplete(self) -> bool:
        return self.unread_lines > 0


@dataclass
class Receipt:
    """One act of adding a file: the same bytes added twice give two receipts, one document."""

    document_id: str
    filename: str
    received_at: str
    actor: str
    source: str | None = None


@dataclass
class Document:
    id: str  # SHA-256 of the original bytes, hex
    filename: str  # first original file name
    media_type: str
    size: int
    added_at: str
    page_count: int = 0
    title: str = ""
    source: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    status: str = "pending"  # pending | processing | done | failed
    error: str | None = None
    filenames: list[str] = field(default_factory=list)


MATCH_KINDS = ("typed", "translation", "name", "amount", "fuzzy", "feedback")


@dataclass(frozen=True)
class Matched:
    """One word or phrase a hit was found through, and how it came into the query: as typed, a
    glossary translation, a name in the other script, another spelling of an amount, a fuzzy
    variant (of a `word~` or of a name), or a feedback word (it only re-ranked the page)."""

    term: str  # the index term (folded; a stem when only the stem matched)
    kind: str  # one of MATCH_KINDS


@dataclass
class Hit:
    """One search result: a page of a document, with a highlighted snippet."""

    document_id: str
    filename: str
    title: str
    page: int
    score: float
    snippet: str  # plain text around the best matches
    spans: list[tuple[int, int]] = field(default_factory=list)  # matched character ranges in snippet
    span_kinds: list[str] = field(default_factory=list)  # each span's kind (MATCH_KINDS), in order
    lang: str = ""
    source: str = ""
    tags: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # matched index terms, for highlighting boxes
    matched: tuple[Matched, ...] = ()  # why the page matched, feedback words included
    # the query's phrases the page holds in a row, each with its words joined by spaces (for
    # listing a phrase once instead of word by word)
    phrases: tuple[Matched, ...] = ()
    tier: int = 0  # 0: holds words as typed; 1: only alternatives (see search.tiers)
