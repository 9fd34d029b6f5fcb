"""Which character encoding a text file is in, decided from its bytes and then checked.

Iranian office files come in Windows-1256, ISO-8859-6, Mac Arabic, UTF-16 without a byte
order mark, or with stray NUL bytes; English ones in Windows-1252. charset-normalizer ranks
the candidates, but on short texts it guesses wildly (a Persian line comes out as cp1006 or
"UTF-16"), and every single-byte codec decodes any bytes into *something*. So each guess is
checked: the text must be letters, digits, punctuation and spaces of the archive's scripts,
without control characters, and a decode into Latin letters loses to one into Arabic-script
words when the bytes above 0x7F read as such. Where the Arabic codecs disagree, the one whose
words are Persian words wins.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from archive.errors import UnsupportedFile
from ingest.textclean import persian_lexicon
from search import letters

# Single-byte codecs tried, most likely first; ties go to the earlier one.
ARABIC_CODECS = ("cp1256", "iso8859_6", "mac_arabic")
LATIN_CODECS = ("cp1252", "latin_1")
LEGACY_CODECS = ARABIC_CODECS + LATIN_CODECS
# What a UTF-16 code unit's high byte is in Latin, Arabic-script and Persian text: ASCII and
# Latin-1, the Arabic block, ZWNJ and punctuation, presentation forms.
_UTF16_HIGH_BYTES = frozenset({0x00, 0x06, 0x20, 0xFB, 0xFC, 0xFD, 0xFE})
_SAMPLE_BYTES = 256 << 10  # statistics on a sample; the whole file is still decoded strictly
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# C0 and C1 controls other than tab, newlines and form feed (the page break of text exports).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_WORD = re.compile(r"[^\W\d_]+(?:[\u200c\u064b-\u065f\u0670][^\W\d_]*)*")


@dataclass(frozen=True)
class Decoded:
    text: str
    # Python's canonical codec name: "ascii", "utf-8", "utf-16-le", "cp1256", "iso8859-6",
    # "mac-arabic", "cp1252", "iso8859-1", ...
    encoding: str
    nuls_removed: int = 0
    # NULs removed between form feeds, so each page of a text export can say how many it lost.
    nuls_by_page: tuple[int, ...] = ()


def decode(data: bytes, declared: str | None = None) -> Decoded:
    """Decode a text file's bytes; raise UnsupportedFile when they are not text in any
    encoding Sanad reads. ``declared`` is what the file says it is (an HTML meta charset): it
    is used when the bytes are not UTF-8 and decode under it into plausible text."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return Decoded(_strict(data, codec, "its byte order mark says", guessed=False),
                           _bom_name(codec, data))
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    nuls = data.count(0)
    nuls_by_page: tuple[int, ...] = ()
    if nuls:
        # Padding or a broken converter: NULs are never part of a letter in UTF-8 or a
        # single-byte code page, so dropping them loses nothing.
        nuls_by_page = tuple(part.count(0) for part in data.split(b"\f"))
        data = data.replace(b"\0", b"")
        if not data.strip():
            raise UnsupportedFile("the file holds nothing but NUL bytes")
    encoding, text = _utf8(data) or _declared(data, declared) or _legacy(data)
    return Decoded(text, codecs.lookup(encoding).name, nuls, nuls_by_page)


def _bom_name(codec: str, data: bytes) -> str:
    if codec == "utf-8-sig":
        return "utf-8"
    return f"{codec}-{'le' if data[:2] == codecs.BOM_UTF16_LE else 'be'}"


def _strict(data: bytes, codec: str, why: str, *, guessed: bool = True) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise UnsupportedFile(f"{why} {codec}, but byte {exc.start} is not valid {codec}") from None
    if not plausible(text, guessed=guessed):
        raise UnsupportedFile(f"{why} {codec}, but the decoded text holds control characters or "
                              "unassigned code points (a binary file?)")
    return text


def _utf16_without_bom(data: bytes) -> Decoded | None:
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:_SAMPLE_BYTES]
    units = len(sample) // 2
    for codec, high in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if sum(high.count(b) for b in _UTF16_HIGH_BYTES) < 0.9 * units:
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if not plausible(text):
            continue
        if not text.isascii() and max(text) < "\u0100" and _is_utf8(text.encode("latin-1")):
            return None  # UTF-8 with a NUL after every byte, not UTF-16: the NULs are stripped
        return Decoded(text, codec)
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8(data: bytes) -> tuple[str, str] | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not plausible(text, guessed=False):
        raise UnsupportedFile("valid UTF-8, but full of control characters (a binary file?)")
    return ("ascii" if text.isascii() else "utf-8"), text


def _declared(data: bytes, declared: str | None) -> tuple[str, str] | None:
    try:
        codec = codecs.lookup(declared).name if declared else None
    except LookupError:
        return None
    if codec is None or codec.startswith(("utf-16", "utf-32")):
        return None  # a UTF-16 page would have had a byte order mark or been found above
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return (codec, text) if plausible(text) else None


def _legacy(data: bytes) -> tuple[str, str]:
    sample = data[:_SAMPLE_BYTES]
    decodes = {}
    for codec in _ranked(sample):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        if plausible(text):
            decodes[codec] = text
    codec = _choose(decodes)
    if codec is None:
        raise UnsupportedFile("not text in UTF-8, UTF-16, Windows-1256, ISO-8859-6, Mac Arabic or "
                              "Windows-1252, and not a known document or image format")
    return codec, _strict(data, codec, "the text reads as")


def _ranked(sample: bytes) -> list[str]:
    """Our codecs, charset-normalizer's ranking first (it weighs how messy each decode is)."""
    from charset_normalizer import from_bytes

    ranked = [m.encoding for m in from_bytes(sample, cp_isolation=list(LEGACY_CODECS))]
    return list(dict.fromkeys([c for c in ranked if c in LEGACY_CODECS] + list(LEGACY_CODECS)))


def _choose(decodes: dict[str, str]) -> str | None:
    arabic = {c: t for c, t in decodes.items() if c in ARABIC_CODECS and _reads_as_arabic(t)}
    if arabic:
        if len(set(arabic.values())) == 1:
            return min(arabic, key=ARABIC_CODECS.index)
        return max(arabic, key=lambda c: (_persian_score(arabic[c]), -ARABIC_CODECS.index(c)))
    # Latin-1 only differs from cp1252 in 0x80-0x9F, where it has controls: it wins only where
    # cp1252 has a hole (0x81, 0x8D, 0x8F, 0x90, 0x9D), and then plausible() has refused it.
    return next((c for c in decodes if c in LATIN_CODECS), None)


def _reads_as_arabic(text: str) -> bool:
    """Do the characters from bytes above 0x7F form Arabic-script words, not bits of Latin ones?"""
    high = [ch for ch in text if ord(ch) > 0x7F]
    arabic = [ch for ch in high if _is_arabic_letter(ch)]
    if len(arabic) < 0.6 * len(high):
        return False
    words = [w for w in _WORD.findall(text) if any(map(_is_arabic_letter, w))]
    mixed = sum(1 for w in words if any(ch.isascii() or _is_latin_letter(ch) for ch in w))
    return bool(words) and mixed <= 0.1 * len(words)


def _persian_score(text: str) -> float:
    """Share of the words that Persian knows, less the harakat a Persian text rarely writes."""
    words = [w for w in _WORD.findall(text) if len(w) > 1 and any(map(_is_arabic_letter, w))]
    if not words:
        return 0.0
    lexicon = persian_lexicon()
    known = sum(_fold(w) in lexicon for w in words) / len(words)
    marks = sum(1 for ch in text if "\u064b" <= ch <= "\u065f") / max(1, sum(map(len, words)))
    return known - marks


# What a Windows-1256 file writes for the Persian yeh and keheh it cannot encode (search.letters).
_CP1256_LETTERS = letters.table({"\u200c": None}, only=("\u064a", "\u0643"))


def _fold(word: str) -> str:
    return word.translate(_CP1256_LETTERS)


def _is_arabic_letter(ch: str) -> bool:
    return "\u0620" <= ch <= "\u064a" or "\u066e" <= ch <= "\u06d3" or "\u06fa" <= ch <= "\u06ff"


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN")


def plausible(text: str, *, guessed: bool = True) -> bool:
    """Could a person have written this? Text, not control codes, symbols or unassigned code
    points, with letters of at most two scripts (a wrong byte order scatters them).

    A decode that was not ``guessed`` (UTF-8 is self-checking, a byte order mark is a
    declaration) only has to be free of control codes, the mark of a binary file.
    """
    text = text.rstrip("\x1a")  # DOS editors end a file with Ctrl-Z
    if len(_CONTROL.findall(text)) * (1000 if guessed else 100) > len(text):
        return False
    if not guessed:
        return True
    sample = text[:_SAMPLE_BYTES]
    letters = digits = symbols = other = 0
    scripts: dict[str, int] = {}
    for ch in sample:
        cat = unicodedata.category(ch)
        if cat[0] == "L":
            letters += 1
            script = unicodedata.name(ch, "?").split(" ", 1)[0]
            scripts[script] = scripts.get(script, 0) + 1
        elif cat == "Nd":
            digits += 1
        elif cat[0] == "S" and ch > "\x7f":  # not <, =, |: markup and tables are text
            symbols += 1
        elif cat in ("Cn", "Co", "Cs"):
            other += 1
    if other or letters + digits == 0 or symbols > 0.1 * (letters + digits + symbols):
        return False
    top_two = sum(sorted(scripts.values(), reverse=True)[:2])
    return top_two >= 0.95 * letters
