"""Fiscal years (年度, April–March) and Japanese dates.

An era "owns" the fiscal years from the calendar year it began in: FY2019 is 令和元年度 (as municipal
practice writes it) and FY1988 is 昭和63年度. Calendar dates change era on the exact day.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: date


# Newest first: lookups walk down until the era has begun.
ERAS = (
    Era("令和", "R", date(2019, 5, 1)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("昭和", "S", date(1926, 12, 25)),
)
WEEKDAYS = "月火水木金土日"
FAR_YEARS = 2
"""A fiscal year more than this many years from today's deserves a warning where forms are made."""


def _era_number(n: int, gannen: bool) -> str:
    return "元" if n == 1 and gannen else str(n)


@dataclass(frozen=True, order=True)
class FiscalYear:
    """A fiscal year, identified by the calendar year in which it starts (April)."""

    start: int

    @classmethod
    def parse(cls, text: str | int) -> FiscalYear:
        """Read ``R5``, ``r5``, ``令和5``, ``令和5年度``, ``令和元年度``, ``H30``, ``2023``, ``FY2023``.

        Raises ``ValueError`` with a Japanese message when the text is not a fiscal year.
        """
        raw = str(text)
        s = unicodedata.normalize("NFKC", raw).strip().upper().replace(" ", "")
        s = s.removesuffix("年度").removesuffix("年")
        m = re.fullmatch(r"(?:FY)?(\d{4})", s)
        if m:
            year = int(m.group(1))
            if ERAS[-1].start.year < year <= 2200:  # FY1926 began in 大正, which hyoka does not write
                return cls(year)
        for newer, era in zip((None, *ERAS), ERAS, strict=False):
            m = re.fullmatch(rf"(?:{era.name}|{era.letter})(\d{{1,3}}|元)", s)
            if m:
                n = 1 if m.group(1) == "元" else int(m.group(1))
                # An era's last year is the one its successor began in (平成31年 = 令和元年).
                last = newer.start.year - era.start.year + 1 if newer else 200
                if 1 <= n <= last:
                    return cls(era.start.year + n - 1)
                if newer is not None and n > last:
                    raise ValueError(f"年度「{raw}」はありません。{_past_era_hint(era, newer, n, last)}")
        raise ValueError(f"年度「{raw}」を読み取れません。R5、令和5年度、2023 のように指定してください。")

    def is_far_from(self, today: date, years: int = FAR_YEARS) -> bool:
        """More than ``years`` fiscal years before or after the one ``today`` falls in (a typo such
        as R55 for R5 is the likely cause)."""
        return abs(self.start - FiscalYear.of(today).start) > years

    @classmethod
    def of(cls, day: date) -> FiscalYear:
        """The fiscal year a calendar day falls in."""
        return cls(day.year if day.month >= 4 else day.year - 1)

    @property
    def era(self) -> Era:
        return next(e for e in ERAS if e.start.year <= self.start)

    @property
    def era_year(self) -> int:
        return self.start - self.era.start.year + 1

    def label(self, gannen: bool = True) -> str:
        """令和5年度 / 令和元年度."""
        return f"{self.era.name}{_era_number(self.era_year, gannen)}年度"

    @property
    def short(self) -> str:
        """R5 — used in file names and option values."""
        return f"{self.era.letter}{self.era_year}"

    @property
    def first_day(self) -> date:
        return date(self.start, 4, 1)

    @property
    def last_day(self) -> date:
        return date(self.start + 1, 3, 31)

    def previous(self) -> FiscalYear:
        return FiscalYear(self.start - 1)

    def next(self) -> FiscalYear:
        return FiscalYear(self.start + 1)

    def __str__(self) -> str:
        return self.short


def _past_era_hint(era: Era, newer: Era, n: int, last: int) -> str:
    """平成35 → 令和5: the era ended in its ``last`` year, which was the first of ``newer``."""
    year = FiscalYear(era.start.year + n - 1)
    return (
        f"{era.name}は{last}年までです（{era.name}{last}年＝{newer.name}元年）。"
        f"{era.name}{n}年度は{year.label()}にあたります。{year.short} または {year.label(gannen=False)} と指定してください。"
    )


def era_of(day: date) -> Era:
    return next(e for e in ERAS if e.start <= day)


def format_date(day: date, *, weekday: bool = True, gannen: bool = True) -> str:
    """令和6年8月19日(月)."""
    era = era_of(day)
    text = f"{era.name}{_era_number(day.year - era.start.year + 1, gannen)}年{day.month}月{day.day}日"
    return f"{text}({WEEKDAYS[day.weekday()]})" if weekday else text


def format_month(day: date, *, gannen: bool = True) -> str:
    """令和6年8月."""
    era = era_of(day)
    return f"{era.name}{_era_number(day.year - era.start.year + 1, gannen)}年{day.month}月"


def format_time(t: time) -> str:
    """午前10時00分 / 午後1時30分 (noon is 午後0時)."""
    half = "午前" if t.hour < 12 else "午後"
    return f"{half}{t.hour % 12}時{t.minute:02d}分"


def parse_time(text: str) -> time:
    """``10:00`` or ``10時00分`` or ``午後1時30分``."""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    pm = s.startswith("午後")
    s = s.removeprefix("午前").removeprefix("午後")
    m = re.fullmatch(r"(\d{1,2})(?::|時)(\d{1,2})?分?", s)
    if not m:
        raise ValueError(f"時刻「{text}」を読み取れません。10:00 のように指定してください。")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if pm and hour < 12:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"時刻「{text}」は 0:00 から 23:59 の間で指定してください。")
    return time(hour, minute)
