"""Find monetary and other amounts in Persian and English text and give each one canonical term.

`۵٬۴۰۰٬۰۰۰`, `5,400,000`, `5.4 million`, `۵/۴ میلیون` and `۵ میلیون و ۴۰۰ هزار` all become the
index term `5400000`, so a search for any spelling finds the others.

What counts as an amount (the brief left this open):
- a number written with thousands separators (`٬` or `,`, or `.` with at least two groups);
- a number followed by a multiplier word (thousand/million/billion/trillion, هزار/میلیون/میلیارد/
  تریلیون), possibly chained (`۱۰ هزار میلیارد`) or compounded with و/and (`۵ میلیون و ۴۰۰ هزار`);
- a plain number next to a currency word or sign (`۵۴۰۰۰۰۰ ریال`, `$5400`).
A bare number (`1399`, `400`) is not an amount: it is indexed as a number by the analyzer anyway.
Dates, letter numbers (`۱۲۳۴/ص/۹۹`) and codes glued to letters (`N95`, `COVID-19`) are never amounts.
`/` is read as a decimal point (`۵/۴ میلیون`) only before a multiplier word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from search.dates import find_dates, fold

MULTIPLIERS = {
    "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
    "mn": 10**6, "bn": 10**9,
    "هزار": 10**3, "میلیون": 10**6, "ملیون": 10**6, "میلیارد": 10**9, "ملیارد": 10**9,
    "تریلیون": 10**12,
}
CURRENCY_WORDS = [
    "ریال", "تومان", "دلار", "یورو", "درهم", "rial", "rials", "toman", "tomans", "tomen",
    "dollar", "dollars", "usd", "eur", "euro", "euros", "irr", "irt",
]
CURRENCY_SIGNS = "$€£﷼"


@dataclass
class FoundAmount:
    value: int | Decimal
    text: str  # the original text matched
    start: int
    end: int


def _alternation(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


# A number: grouped with , or ٬ ; grouped with . (2+ groups); or plain; optional decimal part.
_NUMBER = (
    r"(?:\d{1,3}(?:[,٬]\d{3})+(?:[.٫]\d+)?"
    r"|\d{1,3}(?:\.\d{3}){2,}(?:٫\d+)?"
    r"|\d+(?:[.٫/]\d+)?)"
)
_SP = r"[ \t\u00a0]*"
_MULT = rf"(?:{_alternation(MULTIPLIERS)})(?:s)?"
_GROUP = rf"{_NUMBER}(?:{_SP}{_MULT})*"
_AMOUNT = re.compile(
    rf"(?<![\w\-/.,٬٫])(?<![\w][\-])"
    rf"(?:[{re.escape(CURRENCY_SIGNS)}]{_SP})?"
    rf"({_GROUP}(?:[ \t\u00a0]+(?:و|and)[ \t\u00a0]+{_GROUP})*)"
    rf"(?:{_SP}({_alternation(CURRENCY_WORDS)}))?"
    rf"(?![\w]|[,٬.٫/]\d)",
    re.IGNORECASE,
)
_SINGLE = re.compile(
    rf"(?:[{re.escape(CURRENCY_SIGNS)}]{_SP})?({_GROUP})(?:{_SP}({_alternation(CURRENCY_WORDS)}))?(?!\w)",
    re.IGNORECASE,
)
_GROUP_RE = re.compile(rf"({_NUMBER})((?:{_SP}{_MULT})*)", re.IGNORECASE)
_MULT_RE = re.compile(_alternation(MULTIPLIERS), re.IGNORECASE)


def _number_value(num: str, slash_is_decimal: bool) -> Decimal | None:
    """`5,400,000` -> 5400000, `5.4` -> 5.4, `5/4` -> 5.4 (only if slash_is_decimal)."""
    if "/" in num and not slash_is_decimal:
        return None
    s = num.replace("٬", "").replace(",", "").replace("٫", ".").replace("/", ".")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", s):  # 5.400.000
        s = s.replace(".", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _as_value(d: Decimal) -> int | Decimal:
    return int(d) if d == d.to_integral_value() else d.normalize()


def _parse(folded: str) -> tuple[Decimal | None, bool]:
    """Value of a matched amount (folded text) and whether it had a multiplier or grouping."""
    total = Decimal(0)
    marked = False
    last_scale = None
    for g in _GROUP_RE.finditer(folded):
        num, mults = g.group(1), g.group(2)
        scale = 1
        for word in _MULT_RE.findall(mults):
            scale *= MULTIPLIERS[word.lower()]
        value = _number_value(num, slash_is_decimal=scale > 1)
        if value is None:
            return None, False
        if last_scale is not None and scale >= last_scale:
            return None, False  # `5 million and 3 million` is a list, not one amount
        last_scale = scale
        marked = marked or scale > 1 or bool(re.search(r"[,٬]|\.\d{3}\.", num))
        total += value * scale
    return total, marked


def find_amounts(text: str) -> list[FoundAmount]:
    """Every amount in `text`, in order of position."""
    folded = fold(text)
    date_spans = [(d.start, d.end) for d in find_dates(text)]
    found = []
    pos = 0
    while (m := _AMOUNT.search(folded, pos)) is not None:
        start, end = m.start(), m.end()
        value, marked = _parse(m.group(1))
        if value is None:  # `1,200 and 3,400`: not one compound amount; take the first part alone
            m = _SINGLE.match(folded, start)
            end = m.end()
            value, marked = _parse(m.group(1))
        pos = max(end, start + 1)
        if value is None or any(s < end and start < e for s, e in date_spans):
            continue
        has_currency = bool(m.group(2)) or folded[start] in CURRENCY_SIGNS
        if marked or has_currency:
            found.append(FoundAmount(_as_value(value), text[start:end], start, end))
    return found


def amount_terms(value: int | Decimal) -> list[str]:
    """Canonical index term(s) for an amount: `5400000` for five million four hundred thousand."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return [str(int(d))]
    return [format(d.normalize(), "f")]


_TOKEN_PATTERNS = [
    re.compile(r"\d{1,3}(?:[,٬]\d{3})+(?:[.٫]\d+)?"),
    re.compile(r"\d{1,3}(?:\.\d{3}){2,}"),
    re.compile(r"\d+(?:[.٫]\d+)?"),
]


def normalize_number_token(tok: str) -> str | None:
    """One token that is a number, in any digits and separators, as ASCII digits; else None.

    `۵٬۴۰۰٬۰۰۰` -> `5400000`, `5,400,000` -> `5400000`, `۵٫۴` -> `5.4`, `۱۴۰۲` -> `1402`,
    `0912` -> `0912` (leading zeros kept: phone numbers and codes). `N95`, `1399/01/05`, `1,2` -> None.
    """
    t = fold(tok.strip())
    if not any(p.fullmatch(t) for p in _TOKEN_PATTERNS):
        return None
    if re.fullmatch(r"\d+", t):
        return t
    value = _number_value(t, slash_is_decimal=False)
    if value is None:
        return None
    return amount_terms(_as_value(value))[0]
