"""Amounts: every spelling of a sum lands on one canonical index term."""

from __future__ import annotations

from decimal import Decimal

import pytest

from search.amounts import amount_terms, find_amounts, normalize_number_token


def values(text):
    return [a.value for a in find_amounts(text)]


@pytest.mark.parametrize("text", [
    "۵٬۴۰۰٬۰۰۰",
    "5,400,000",
    "۵,۴۰۰,۰۰۰",
    "5.400.000",
    "5.4 million",
    "5.4 Million",
    "۵/۴ میلیون",
    "۵٫۴ میلیون",
    "5٫4 million",
    "۵ میلیون و ۴۰۰ هزار",
    "5 million and 400 thousand",
    "۵۴۰۰ هزار",
    "5400000 rials",
    "۵۴۰۰۰۰۰ ریال",
    "$5,400,000",
    "۵٬۴۰۰ هزار",
])
def test_every_spelling_is_5400000(text):
    found = find_amounts(f"مبلغ {text} پرداخت شد")
    assert [a.value for a in found] == [5400000]
    assert found[0].text.startswith(text.split()[0])
    assert amount_terms(found[0].value) == ["5400000"]


def test_offsets_and_currency_included():
    text = "مبلغ ۵ میلیون و ۴۰۰ هزار ریال برای خرید ماسک"
    [a] = find_amounts(text)
    assert a.text == "۵ میلیون و ۴۰۰ هزار ریال"
    assert text[a.start:a.end] == a.text


@pytest.mark.parametrize("text,value", [
    ("۲ میلیارد و ۵۰۰ میلیون تومان", 2_500_000_000),
    ("۱۰ هزار میلیارد ریال", 10_000_000_000_000),
    ("1.5 billion dollars", 1_500_000_000),
    ("3 thousand", 3000),
    ("1,234,567.89", Decimal("1234567.89")),
    ("۱۲٬۵۰۰٫۵ ریال", Decimal("12500.5")),
    ("۵ میلیون و ۴۰۰ هزار و ۵۰۰ ریال", 5_400_500),
    ("۲۰۰ میلیون", 200_000_000),
])
def test_values(text, value):
    assert values(text) == [value]


def test_single_letter_m_is_not_million():
    assert values("€2.5m") == []  # `m` alone could be metres or minutes


def test_value_types():
    assert isinstance(values("5,400,000")[0], int)
    assert isinstance(values("1,234.5")[0], Decimal)


def test_separate_amounts_stay_separate():
    assert values("1,200 and 3,400 units") == [1200, 3400]
    assert values("۲ میلیون و ۳ میلیون") == [2_000_000, 3_000_000]
    assert values("مبلغ ۵٬۰۰۰ ریال و ۷٬۰۰۰ ریال") == [5000, 7000]


@pytest.mark.parametrize("text", [
    "تاریخ ۱۳۹۹/۰۱/۰۵",
    "date 2020-03-25",
    "شماره ۱۲۳۴/ص/۹۹",
    "N95 masks",
    "COVID-19 cases",
    "in 1399 there were 400 prisoners",
    "tel 021-8888-1234",
    "IP 192.168.1.1",
    "section 5.4",
    "۱/۲ of the budget",
    "۹۹/۱/۵",
    "1,2,3",
])
def test_not_amounts(text):
    assert find_amounts(text) == []


def test_amount_terms():
    assert amount_terms(5400000) == ["5400000"]
    assert amount_terms(Decimal("5400000.0")) == ["5400000"]
    assert amount_terms(Decimal("5.40")) == ["5.4"]
    assert amount_terms(Decimal("1E+6")) == ["1000000"]


def test_all_spellings_share_one_term():
    spellings = ["۵٬۴۰۰٬۰۰۰ ریال", "5,400,000", "5.4 million", "۵/۴ میلیون", "۵ میلیون و ۴۰۰ هزار"]
    terms = {t for s in spellings for a in find_amounts(s) for t in amount_terms(a.value)}
    assert terms == {"5400000"}


@pytest.mark.parametrize("tok,expected", [
    ("۵٬۴۰۰٬۰۰۰", "5400000"),
    ("5,400,000", "5400000"),
    ("5.400.000", "5400000"),
    ("۵٫۴", "5.4"),
    ("5.40", "5.4"),
    ("۱۴۰۲", "1402"),
    ("١٤٠٢", "1402"),
    ("0912", "0912"),
    ("007", "007"),
    ("N95", None),
    ("COVID-19", None),
    ("1399/01/05", None),
    ("1,2", None),
    ("12,34", None),
    ("abc", None),
    ("", None),
    ("۵/۴", None),
])
def test_normalize_number_token(tok, expected):
    assert normalize_number_token(tok) == expected
