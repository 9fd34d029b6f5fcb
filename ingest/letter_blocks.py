"""Synthetic letters laid out as offices print them, with side blocks, for layout and word-order checks.

ingest/letters.py draws every line right-aligned across the page. Real letters are not like that:
the number, date and attachments sit in a block at the top left, level with the organisation's
name at the right; the signature sits at the left under the body; the cc list starts at the right
beside the signature's last line. Item lines mix Persian, digits and Latin terms
(`۲- تعداد ۱۰۰٬۰۰۰ عدد ماسک N95`). `make_block_letter` builds such a letter and `render_blocks`
draws it; the ground truth lists the lines block by block, in reading order: right header, left
header, body, signature, cc list.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from ingest.letters import A4_MM, Fonts, Letter, draw_rtl, fa, facts

# (name, unit, quantity range, step): the item lines of the letter the issue was reported on.
_BLOCK_ITEMS = [
    ("ماسک جراحی", "عدد", (10, 900), 1000),
    ("ماسک N95", "عدد", (2, 400), 1000),
    ("دستکش پلاستیکی", "جفت", (5, 90), 1000),
    ("مایع ضدعفونی‌کننده دست", "لیتر", (2, 90), 100),
    ("گان یک‌بار مصرف", "عدد", (2, 50), 100),
    ("تب‌سنج دیجیتال", "دستگاه", (12, 180), 1),
    ("تشخیص سریع COVID-19", "کیت", (2, 30), 100),
]


@dataclass(frozen=True)
class Placed:
    """One printed line: its row on the page, and the right edge it is aligned to (mm from the left)."""

    text: str
    row: int
    right_mm: float


def make_block_letter(seed: int) -> tuple[Letter, list[Placed]]:
    """The letter (ground truth in reading order) and where each of its lines is printed."""
    f = facts(seed)
    rng = random.Random(seed * 7 + 1)
    number = f"{fa(f.ref)}/ص/{fa(f.year % 100, 2)}"
    date = f"{fa(f.year)}/{fa(f.month, 2)}/{fa(f.day, 2)}"
    amount = fa(f.amount, group=True)
    right, left_block = A4_MM[0] - 20, 20 + rng.uniform(38, 50)  # text's right edge, left block's right edge
    placed: list[Placed] = []

    def block(lines: list[str], row: int, edge: float) -> int:
        placed.extend(Placed(t, row + k, edge) for k, t in enumerate(lines))
        return row + len(lines)

    row = block(["بسمه تعالی", "سازمان زندان‌ها و اقدامات تأمینی", "اداره کل زندان‌های استان"], 0, right)
    block([f"شماره: {number}", f"تاریخ: {date}", "پیوست: ندارد"], 0, left_block)
    numbers: list[str] = []
    items = []
    for k, (name, unit, (lo, hi), step) in enumerate(_BLOCK_ITEMS, start=1):
        q = fa(rng.randint(lo, hi) * step, group=True)
        numbers.append(q)
        items.append(f"{fa(k)}- تعداد {q} {unit} {name}")
    body = [
        f"جناب آقای دکتر {f.addressee}",
        f"{f.deputy} وزارت بهداشت",
        "موضوع: درخواست اقلام بهداشتی",
        "با سلام و احترام",
        "نظر به شیوع بیماری COVID-19 خواهشمند است دستور فرمایید اقلام زیر ارسال گردد:",
        *items,
        f"برآورد هزینه این اقلام مبلغ {amount} ریال است.",
    ]
    row = block(body, row + 1, right)
    sign_right = 20 + rng.uniform(55, 70)
    row = block([f.signer, "مدیرکل زندان‌های استان"], row + 1, sign_right)
    block(["رونوشت:", "معاونت بهداشت و درمان جهت استحضار", "دفتر حراست جهت اطلاع"], row - 1, right)
    reading = [p.text for p in placed]  # the order the blocks were added in is the reading order
    letter = Letter(lines=reading, numbers=numbers + [amount], dates=[date], lang="fa", seed=seed,
                    reference=number, amount=amount)
    return letter, placed


def render_blocks(placed: list[Placed], font: str = "nazli", dpi: int = 300, point_size: float = 13) -> Image.Image:
    """An A4 grayscale page with each line drawn right-to-left from its block's right edge."""
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    fonts = Fonts(font, round(point_size * dpi / 72))
    pitch = round(fonts.px * 1.9)
    top = round(20 / 25.4 * dpi) + round(fonts.px * 1.1)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for p in placed:
        draw_rtl(draw, p.text, round(p.right_mm / 25.4 * dpi), top + p.row * pitch, fonts)
    page.info["dpi"] = (dpi, dpi)
    return page
