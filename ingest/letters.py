"""Synthetic Persian letters with exact ground truth: the demo archive's scans, OCR benchmarks, tests.

A letter is generated from a seed (names, dates, quantities and amounts vary, the layout does not),
rendered right-aligned and right-to-left with Pillow's raqm layout engine, and optionally degraded
the way scans and phone photos are. The text of each rendered line is known exactly, so OCR output
can be scored line by line.

    python -m ingest.letters OUTDIR [--count N] [--fonts nazli,titr,...] [--kinds clean,blur,...]
"""

from __future__ import annotations

import argparse
import io
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_FILES = {
    "nazli": "/usr/share/fonts/truetype/farsiweb/nazli.ttf",
    "nazlib": "/usr/share/fonts/truetype/farsiweb/nazlib.ttf",
    "titr": "/usr/share/fonts/truetype/farsiweb/titr.ttf",
    "homa": "/usr/share/fonts/truetype/farsiweb/homa.ttf",
    "naskh": "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
    "notosans": "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "dejavu": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # LibreOffice's default on Linux
    # A second tuning set (bench/ocr.py, MORE_TUNING_FONTS), from Debian packages the project does
    # not otherwise need: fonts-freefarsi, fonts-hosny-amiri, fonts-sil-harmattan.
    "freefarsi": "/usr/share/fonts/truetype/freefarsi/FreeFarsi.ttf",
    "amiri": "/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf",
    "harmattan": "/usr/share/fonts/truetype/harmattan/Harmattan-Regular.ttf",
    "dejavu_bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "freefarsi_bold": "/usr/share/fonts/truetype/freefarsi/FreeFarsi-Bold.ttf",
    "amiri_bold": "/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Bold.ttf",
    "harmattan_bold": "/usr/share/fonts/truetype/harmattan/Harmattan-Bold.ttf",
    # Held out from all tuning of the OCR (see bench/ocr.py, HELD_OUT_FONTS).
    "kufi": "/usr/share/fonts/truetype/noto/NotoKufiArabic-Regular.ttf",
    "notosans_bold": "/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf",
    "naskh_bold": "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Bold.ttf",
    "dejavu_cond": "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "latin": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "latin_bold": "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
}
PERSIAN_FONTS = ["nazli", "titr", "homa", "naskh", "notosans", "dejavu"]

# Kinds accepted by degrade(); "clean" means the rendered page as is.
DEGRADATIONS = ["blur", "rotate1", "rotate2", "noise", "jpeg", "dpi150", "shading", "scan",
                "rot90", "rot180", "rot270", "photocopy", "phone", "fax"]
# The letter types of issue #13 that bench.ocr reports on (besides "clean").
LETTER_TYPES = ["photocopy", "phone", "fax"]

ZWNJ = "\u200c"
THOUSANDS = "\u066c"  # ARABIC THOUSANDS SEPARATOR, what Persian typists use in amounts
_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

A4_MM = (210, 297)


def fa(value: int | str, width: int = 0, group: bool = False) -> str:
    """Persian digits for a number; optional zero padding and ٬ grouping."""
    if group:
        text = f"{int(value):,}".replace(",", THOUSANDS)
    else:
        text = str(value).zfill(width)
    return text.translate(_FA_DIGITS)


@dataclass
class Letter:
    lines: list[str]
    numbers: list[str] = field(default_factory=list)  # exact strings as printed (amounts, counts, ...)
    dates: list[str] = field(default_factory=list)  # as printed, e.g. ۱۳۹۹/۰۱/۰۵
    lang: str = "fa"
    seed: int = 0
    reference: str = ""  # the letter number, e.g. ۱۲۳۴/ص/۹۹
    amount: str = ""  # the rial amount as printed

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# --- content -------------------------------------------------------------------------------------

_PROVINCES = ["تهران", "اصفهان", "خراسان رضوی", "فارس", "آذربایجان شرقی", "خوزستان", "گیلان",
              "کرمان", "مازندران", "همدان", "یزد", "سیستان و بلوچستان"]
_PROVINCES_EN = ["Tehran", "Isfahan", "Razavi Khorasan", "Fars", "East Azerbaijan", "Khuzestan",
                 "Gilan", "Kerman", "Mazandaran", "Hamadan", "Yazd", "Sistan and Baluchestan"]
_FIRST = ["علی", "محمد", "حسین", "رضا", "مهدی", "سعید", "مجید", "حمید", "فاطمه", "مریم", "زهرا",
          "اصغر", "کاظم", "ناصر", "بهروز", "داوود"]
_FIRST_MALE = [n for n in _FIRST if n not in ("فاطمه", "مریم", "زهرا")]
_LAST = ["احمدی", "رضایی", "کریمی", "جهانگیری", "محمدی", "حسینی", "موسوی", "نوروزی", "صادقی",
         "رحیمی", "کاظمی", "عباسی", "قاسمی", "یزدانی", "طاهری", "فرهادی"]
_DEPUTIES = ["معاون محترم بهداشت", "معاون محترم درمان", "معاون محترم غذا و دارو",
             "مدیرکل محترم تجهیزات پزشکی"]
_SIGNER_TITLES = ["مدیرکل زندان‌ها و اقدامات تأمینی و تربیتی استان", "معاون بهداشت و درمان اداره کل زندان‌های استان"]

# (Persian name, unit, English name, English unit, quantity range)
_ITEMS = [
    ("ماسک N95", "عدد", "N95 masks", "pieces", (2, 40), 1000),
    ("ماسک جراحی سه‌لایه", "عدد", "three-layer surgical masks", "pieces", (10, 200), 1000),
    ("مایع ضدعفونی‌کننده دست", "لیتر", "hand disinfectant", "litres", (2, 90), 100),
    ("محلول ضدعفونی سطوح", "لیتر", "surface disinfectant", "litres", (5, 60), 100),
    ("دستکش یک‌بار مصرف", "جفت", "disposable gloves", "pairs", (5, 90), 1000),
    ("دستگاه تب‌سنج دیجیتال", "دستگاه", "digital thermometers", "units", (12, 180), 1),
    ("دستگاه پالس‌اکسیمتر", "دستگاه", "pulse oximeters", "units", (8, 95), 1),
    ("دستگاه اکسیژن‌ساز", "دستگاه", "oxygen concentrators", "units", (3, 40), 1),
    ("کیت تشخیص سریع COVID-19", "کیت", "COVID-19 rapid test kits", "kits", (2, 30), 100),
    ("گان یک‌بار مصرف", "عدد", "disposable gowns", "pieces", (2, 50), 100),
]

_MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]


@dataclass
class Facts:
    """The events of one letter, shared by its Persian and English renderings."""

    ref: int
    year: int
    month: int
    day: int
    deadline_day: int
    province: int
    addressee: str
    deputy: str
    signer: str
    signer_title: str
    prisoners: int
    items: list[tuple[int, int]]  # (index in _ITEMS, quantity)
    amount: int
    phone: str


def facts(seed: int) -> Facts:
    rng = random.Random(seed)
    chosen = rng.sample(range(len(_ITEMS)), 4)
    if 0 not in chosen:  # every letter asks for N95 masks: the Latin term OCR must keep
        chosen[0] = 0
    items = []
    for i in chosen:
        lo, hi = _ITEMS[i][4]
        items.append((i, rng.randint(lo, hi) * _ITEMS[i][5]))
    day = rng.randint(1, 28)
    return Facts(
        ref=rng.randint(100, 9999),
        year=rng.choice([1398, 1399, 1400]),
        month=rng.randint(1, 12),
        day=day,
        deadline_day=rng.randint(1, 28),
        province=rng.randrange(len(_PROVINCES)),
        addressee=f"{rng.choice(_FIRST_MALE)} {rng.choice(_LAST)}",
        deputy=rng.choice(_DEPUTIES),
        signer=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        signer_title=rng.choice(_SIGNER_TITLES),
        prisoners=rng.randint(8, 95) * 100,
        items=items,
        amount=rng.randint(12, 990) * 100_000,
        phone=f"{rng.randint(11, 87):03d}-{rng.randint(3000000, 8999999)}",
    )


def make_letter(seed: int) -> Letter:
    """A Persian official letter from a prisons authority asking the health ministry for supplies."""
    f = facts(seed)
    province = _PROVINCES[f.province]
    number = f"{fa(f.ref)}/ص/{fa(f.year % 100, 2)}"
    date = f"{fa(f.year)}/{fa(f.month, 2)}/{fa(f.day, 2)}"
    deadline_month = f.month % 12 + 1
    deadline = f"{fa(f.year if f.month < 12 else f.year + 1)}/{fa(deadline_month, 2)}/{fa(f.deadline_day, 2)}"
    amount = fa(f.amount, group=True)
    prisoners = fa(f.prisoners, group=True)
    phone = fa(f.phone)

    lines = [
        "بسمه تعالی",
        "سازمان زندان‌ها و اقدامات تأمینی و تربیتی کشور",
        f"اداره کل زندان‌های استان {province}",
        f"شماره: {number}",
        f"تاریخ: {date}",
        "پیوست: ندارد",
        f"جناب آقای دکتر {f.addressee}",
        f"{f.deputy} وزارت بهداشت، درمان و آموزش پزشکی",
        "موضوع: درخواست تأمین اقلام بهداشتی و تجهیزات پزشکی",
        "با سلام و احترام",
        "نظر به شیوع بیماری COVID-19 و لزوم حفظ سلامت مددجویان و کارکنان",
        f"زندان‌های استان که بیش از {prisoners} نفر جمعیت دارند، خواهشمند است",
        "دستور فرمایید اقلام زیر در اسرع وقت به این اداره کل ارسال گردد:",
    ]
    numbers = [prisoners]
    for k, (i, qty) in enumerate(f.items, start=1):
        name, unit = _ITEMS[i][0], _ITEMS[i][1]
        q = fa(qty, group=True)
        numbers.append(q)
        lines.append(f"{fa(k)}- {name} به تعداد {q} {unit}")
    lines += [
        f"برآورد هزینه این اقلام مبلغ {amount} ریال است که از محل",
        "اعتبارات مقابله با بیماری‌های واگیر قابل پرداخت خواهد بود.",
        f"خواهشمند است نتیجه را حداکثر تا تاریخ {deadline} به این اداره کل اعلام فرمایید.",
        f"{f.signer}",
        f"{f.signer_title} {province}",
        "رونوشت:",
        "معاونت بهداشت و درمان سازمان زندان‌ها جهت استحضار",
        "دفتر حراست اداره کل جهت اطلاع",
        f"تلفن: {phone}",
    ]
    numbers += [amount, phone]
    return Letter(lines=lines, numbers=numbers, dates=[date, deadline], lang="fa", seed=seed,
                  reference=number, amount=amount)


def make_english_report(seed: int) -> Letter:
    """An English report page about the same events, for language-detection tests."""
    f = facts(seed)
    province = _PROVINCES_EN[f.province]
    # The Jalali year starts in March: close enough for a synthetic report's Gregorian date.
    greg_year = f.year + 621
    date = f"{f.day} {_MONTHS_EN[(f.month + 2) % 12]} {greg_year}"
    lines = [
        "Prisons Organization - Health Supplies Report",
        f"Reference: {f.ref}/S/{f.year % 100:02d}",
        f"Date: {date}",
        f"Region: {province} Province",
        "Subject: Request for protective equipment during the COVID-19 outbreak",
        f"The provincial prisons hold more than {f.prisoners:,} inmates and staff need",
        "protection. The directorate asked the Ministry of Health for:",
    ]
    numbers = [f"{f.prisoners:,}"]
    for i, qty in f.items:
        lines.append(f"- {qty:,} {_ITEMS[i][3]} of {_ITEMS[i][2]}")
        numbers.append(f"{qty:,}")
    lines += [
        f"Estimated cost: {f.amount:,} rials, paid from the epidemic response budget.",
        "Copies were sent to the health deputy and the security office.",
    ]
    numbers.append(f"{f.amount:,}")
    return Letter(lines=lines, numbers=numbers, dates=[date], lang="en", seed=seed,
                  reference=f"{f.ref}/S/{f.year % 100:02d}", amount=f"{f.amount:,}")


# --- rendering -----------------------------------------------------------------------------------

def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONT_FILES.get(name, name)
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)


# Runs shown left to right inside a right-to-left line: Latin words and numbers (dates, amounts and
# phone numbers keep their separators).
_LTR_UNIT = re.compile(r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]|[A-Za-z]|[0-9۰-۹]+(?:[/٬.:\-][0-9۰-۹]+)*")
_LATIN = re.compile(r"[A-Za-z0-9]")


def _units(line: str) -> list[tuple[str, bool]]:
    """Split a line into (text, is_ltr) units in logical order."""
    units, pos = [], 0
    for m in _LTR_UNIT.finditer(line):
        if m.start() > pos:
            units.append((line[pos:m.start()], False))
        units.append((m.group(), True))
        pos = m.end()
    if pos < len(line):
        units.append((line[pos:], False))
    return units


class Fonts:
    """A Persian font plus a Latin fallback.

    Pillow has no font fallback, and these Persian fonts lack Latin letters (all of them) or even
    '-' and '/' (the Noto Arabic ones), so such characters are drawn in a Latin font.
    """

    def __init__(self, name: str, px: int):
        bold = name in ("titr", "nazlib", "notosans_bold", "naskh_bold")
        self.main = _font(name, px)
        self.latin = _font("latin_bold" if bold else "latin", round(px * 0.85))
        self.px = px
        self._notdef = self._signature("\uffff")
        self._missing: dict[str, bool] = {}

    def _signature(self, ch: str) -> tuple:
        mask = self.main.getmask(ch)
        return mask.size, bytes(Image.Image()._new(mask).tobytes())

    def font_for(self, ch: str) -> ImageFont.FreeTypeFont:
        if _LATIN.match(ch):
            return self.latin
        if ch not in self._missing:
            self._missing[ch] = not ch.isspace() and self._signature(ch) == self._notdef
        return self.latin if self._missing[ch] else self.main

    def pieces(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        """`text` cut where the font changes."""
        out: list[tuple[str, ImageFont.FreeTypeFont]] = []
        for ch in text:
            f = self.font_for(ch)
            if out and out[-1][1] is f:
                out[-1] = (out[-1][0] + ch, f)
            else:
                out.append((ch, f))
        return out

    def width(self, text: str, direction: str, draw: ImageDraw.ImageDraw) -> float:
        return sum(draw.textlength(t, font=f, direction=direction) for t, f in self.pieces(text))

    def line_width(self, line: str, rtl: bool, draw: ImageDraw.ImageDraw) -> float:
        if not rtl:
            return draw.textlength(line, font=self.main)
        return sum(self.width(t, "ltr" if ltr else "rtl", draw) for t, ltr in _units(line))


def render(letter: Letter, font: str = "nazli", dpi: int = 300, point_size: float = 13) -> Image.Image:
    """An A4 grayscale page at `dpi`, one ground-truth line per printed line.

    Persian lines are right-aligned and laid out right-to-left; English lines are left-aligned.
    The point size shrinks until the longest line fits the text width and all lines fit the page.
    """
    rtl = letter.lang != "en"
    if not rtl:
        font = "latin"
    width = round(A4_MM[0] / 25.4 * dpi)
    height = round(A4_MM[1] / 25.4 * dpi)
    margin = round(20 / 25.4 * dpi)
    scratch = ImageDraw.Draw(Image.new("L", (1, 1)))

    size = point_size
    while True:
        fonts = Fonts(font, round(size * dpi / 72))
        pitch = round(fonts.px * 1.9)
        widest = max(fonts.line_width(line, rtl, scratch) for line in letter.lines)
        if (widest <= width - 2 * margin and pitch * len(letter.lines) <= height - 2 * margin) or size < 7:
            break
        size -= 0.5

    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    baseline = margin + round(fonts.px * 1.1)
    for line in letter.lines:
        if rtl:
            draw_rtl(draw, line, width - margin, baseline, fonts)
        else:
            draw.text((margin, baseline), line, font=fonts.main, fill=0, anchor="ls")
        baseline += pitch
    page.info["dpi"] = (dpi, dpi)
    return page


def draw_rtl(draw: ImageDraw.ImageDraw, line: str, right: int, baseline: int, fonts: Fonts) -> None:
    # In a right-to-left line, units follow one another from right to left in logical order; a
    # left-to-right unit is drawn from its own left edge.
    x = right
    for text, ltr in _units(line):
        if ltr:
            x -= fonts.width(text, "ltr", draw)
            left = x
            for piece, f in fonts.pieces(text):
                draw.text((left, baseline), piece, font=f, fill=0, anchor="ls", language="fa")
                left += draw.textlength(piece, font=f)
        else:
            for piece, f in fonts.pieces(text):
                draw.text((x, baseline), piece, font=f, fill=0, direction="rtl", anchor="rs", language="fa")
                x -= draw.textlength(piece, font=f, direction="rtl")


# --- degradations --------------------------------------------------------------------------------

def degrade(image: Image.Image, kind: str, seed: int = 0) -> Image.Image:
    """A copy of `image` damaged like a scan or a photo; `kind` is one of DEGRADATIONS or "clean"."""
    rng = np.random.default_rng(seed)
    img = image.convert("L")
    if kind == "clean":
        return img.copy()
    if kind == "blur":
        return img.filter(ImageFilter.GaussianBlur(1.6))
    if kind in ("rotate1", "rotate2"):
        angle = float(kind[-1]) * (1 if rng.random() < 0.5 else -1)
        return img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    if kind == "noise":
        return _salt_and_pepper(img, rng, 0.04)
    if kind == "jpeg":
        return _jpeg(img, 20)
    if kind == "dpi150":
        out = img.resize((img.width // 2, img.height // 2), Image.LANCZOS)
        out.info["dpi"] = (150, 150)
        return out
    if kind == "shading":
        return _shading(img, rng)
    if kind == "scan":
        out = img.rotate(1.2, resample=Image.BICUBIC, expand=True, fillcolor=255)
        out = out.filter(ImageFilter.GaussianBlur(1.0))
        out = _salt_and_pepper(out, rng, 0.01)
        return _jpeg(out, 35)
    if kind in ("rot90", "rot180", "rot270"):
        # Counter-clockwise, as PIL counts: a page scanned sideways or upside down.
        return img.rotate(int(kind[3:]), expand=True)
    if kind == "photocopy":
        return _photocopy(img, rng)
    if kind == "phone":
        return _phone_photo(img, rng)
    if kind == "fax":
        return _fax(img, rng)
    raise ValueError(f"unknown degradation {kind!r}; choose from clean, {', '.join(DEGRADATIONS)}")


def _salt_and_pepper(img: Image.Image, rng: np.random.Generator, amount: float) -> Image.Image:
    a = np.array(img)
    r = rng.random(a.shape)
    a[r < amount / 2] = 0
    a[r > 1 - amount / 2] = 255
    return Image.fromarray(a)


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("L")


def _shading(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Uneven lighting of a phone photo: a dim corner, grey paper, lower contrast, sensor noise."""
    h, w = img.height, img.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    dist = np.hypot(xx - cx, yy - cy) / np.hypot(w, h)
    light = 0.95 - 0.55 * dist  # from ~0.95 near the lamp down to ~0.4 in the far corner
    a = np.asarray(img, dtype=np.float32)
    a = 40 + a * 0.8  # ink is never black, paper never white
    a = a * light + rng.normal(0, 6, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _photocopy(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A noisy photocopy: turned 1.5 degrees, 0.8 px blur, grey toner noise and specks, JPEG q35."""
    angle = 1.5 * (1 if rng.random() < 0.5 else -1)
    out = img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    out = out.filter(ImageFilter.GaussianBlur(0.8))
    a = np.asarray(out, dtype=np.float32) * 0.9 + 12 + rng.normal(0, 14, (out.height, out.width))
    out = _salt_and_pepper(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), rng, 0.006)
    return _jpeg(out, 35)


def _phone_photo(img: Image.Image, rng: np.random.Generator, width: int = 1600) -> Image.Image:
    """A phone photo of the sheet on a desk: perspective, a 3 degree turn, uneven light, sensor
    noise, JPEG q60, `width` pixels wide (3:4, as phones take them)."""
    height = round(width * 4 / 3)
    sheet_w = round(width * rng.uniform(0.74, 0.82))
    sheet_h = round(sheet_w * img.height / img.width)
    small = img.resize((sheet_w, sheet_h), Image.LANCZOS)
    # Where the sheet's corners land (top-left, top-right, bottom-right, bottom-left): centred,
    # turned by 3 degrees, then each corner pulled apart as a camera held at a slant does.
    cx, cy = width / 2 + rng.uniform(-0.03, 0.03) * width, height / 2 + rng.uniform(-0.03, 0.03) * height
    t = np.deg2rad(3.0 * (1 if rng.random() < 0.5 else -1))
    corners = []
    for x, y in ((-sheet_w / 2, -sheet_h / 2), (sheet_w / 2, -sheet_h / 2), (sheet_w / 2, sheet_h / 2),
                 (-sheet_w / 2, sheet_h / 2)):
        xr, yr = x * np.cos(t) - y * np.sin(t), x * np.sin(t) + y * np.cos(t)
        corners.append((cx + xr + rng.uniform(-0.045, 0.045) * width, cy + yr + rng.uniform(-0.03, 0.03) * height))
    src = [(0, 0), (sheet_w, 0), (sheet_w, sheet_h), (0, sheet_h)]
    coeffs = _perspective_coefficients(corners, src)
    sheet = small.transform((width, height), Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=255)
    mask = Image.new("L", small.size, 255).transform((width, height), Image.PERSPECTIVE, coeffs,
                                                       Image.BILINEAR, fillcolor=0)
    desk = rng.normal(0, 1, (height // 16 + 1, width // 16 + 1)).astype(np.float32)
    desk = Image.fromarray(np.clip(95 + 18 * desk, 0, 255).astype(np.uint8)).resize((width, height), Image.BICUBIC)
    photo = Image.composite(sheet, desk.filter(ImageFilter.GaussianBlur(3)), mask)
    photo = photo.filter(ImageFilter.GaussianBlur(0.6))  # the lens
    return _jpeg(_shading(photo, rng), 60)


def _perspective_coefficients(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> tuple:
    """PIL's PERSPECTIVE data: maps each output point (x, y) in `dst` to the input point in `src`."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return tuple(np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64)))


def _fax(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A 150 dpi fax: slightly turned, halved in resolution, thresholded to black and white (ragged
    strokes, thin parts broken), specks of line noise, saved as JPEG."""
    angle = rng.uniform(-0.6, 0.6)
    out = img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    out = out.resize((out.width // 2, out.height // 2), Image.BILINEAR)
    a = np.asarray(out, dtype=np.float32) + rng.normal(0, 18, (out.height, out.width))
    a = np.where(a > 150, 255, 0).astype(np.uint8)
    streaks = rng.random(a.shape[0]) < 0.004  # a dirty scan bar: a few rows speckled across the page
    a[streaks] = np.where(rng.random((int(streaks.sum()), a.shape[1])) < 0.15, 0, a[streaks])
    out = _salt_and_pepper(Image.fromarray(a), rng, 0.002)
    out = _jpeg(out, 75)
    out.info["dpi"] = (150, 150)
    return out


# --- CLI -----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--count", type=int, default=4, help="number of letters (seeds 0..N-1)")
    ap.add_argument("--fonts", default=",".join(PERSIAN_FONTS[:4]))
    ap.add_argument("--kinds", default="clean,scan,rot90",
                    help=f"comma-separated: clean,{','.join(DEGRADATIONS)}")
    ap.add_argument("--english", action="store_true", help="also write one English report per seed")
    args = ap.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    fonts = args.fonts.split(",")
    kinds = args.kinds.split(",")
    for seed in range(args.count):
        letter = make_letter(seed)
        font = fonts[seed % len(fonts)]
        page = render(letter, font)
        for kind in kinds:
            img = degrade(page, kind, seed)
            ext = "jpg" if kind in ("jpeg", "scan") else "png"
            stem = args.outdir / f"letter-{seed:03d}-{font}-{kind}"
            img.save(f"{stem}.{ext}", **({"quality": 80} if ext == "jpg" else {}))
            Path(f"{stem}.gt.txt").write_text(letter.text + "\n", encoding="utf-8")
        if args.english:
            report = make_english_report(seed)
            stem = args.outdir / f"report-{seed:03d}-en"
            render(report).save(f"{stem}.png")
            Path(f"{stem}.gt.txt").write_text(report.text + "\n", encoding="utf-8")
        print(f"seed {seed}: {font}, {len(kinds)} image(s)")


if __name__ == "__main__":
    main()
