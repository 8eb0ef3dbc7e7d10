import contextlib
from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyoka.years import FiscalYear, format_date, format_month, format_time, parse_time


@pytest.mark.parametrize(
    "text", ["R5", "r5", "令和5", "令和5年度", "2023", "FY2023", "fy2023", "Ｒ５", " R5 ", "2023年度"]
)
def test_same_fiscal_year_many_spellings(text: str) -> None:
    fy = FiscalYear.parse(text)
    assert fy == FiscalYear(2023)
    assert fy.label() == "令和5年度"
    assert fy.short == "R5"
    assert (fy.first_day, fy.last_day) == (date(2023, 4, 1), date(2024, 3, 31))


def test_gannen_is_configurable() -> None:
    assert FiscalYear.parse("令和元年度") == FiscalYear(2019) == FiscalYear.parse("R1")
    assert FiscalYear(2019).label() == "令和元年度"
    assert FiscalYear(2019).label(gannen=False) == "令和1年度"


def test_fiscal_year_era_boundaries() -> None:
    assert FiscalYear(2018).label() == "平成30年度"
    assert FiscalYear.parse("H30") == FiscalYear(2018)
    assert FiscalYear(1988).label() == "昭和63年度"
    assert FiscalYear(1989).label() == "平成元年度"


def test_fiscal_year_of_day() -> None:
    assert FiscalYear.of(date(2024, 3, 31)) == FiscalYear(2023)
    assert FiscalYear.of(date(2024, 4, 1)) == FiscalYear(2024)


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2024, 8, 19), "令和6年8月19日(月)"),
        (date(2019, 4, 30), "平成31年4月30日(火)"),
        (date(2019, 5, 1), "令和元年5月1日(水)"),
        (date(1989, 1, 7), "昭和64年1月7日(土)"),
        (date(1989, 1, 8), "平成元年1月8日(日)"),
    ],
)
def test_dates_change_era_by_day(day: date, text: str) -> None:
    assert format_date(day) == text


def test_month_and_time() -> None:
    assert format_month(date(2024, 8, 19)) == "令和6年8月"
    assert format_time(time(10, 0)) == "午前10時00分"
    assert format_time(time(13, 30)) == "午後1時30分"
    assert format_time(time(12, 0)) == "午後0時00分"
    assert parse_time("10:00") == time(10, 0)
    assert parse_time("午後1時30分") == time(13, 30)


@pytest.mark.parametrize("bad", ["", "R", "令和", "abc", "R0", "12345", "FY"])
def test_bad_years_raise_value_error_in_japanese(bad: str) -> None:
    with pytest.raises(ValueError, match="年度"):
        FiscalYear.parse(bad)


@given(st.integers(min_value=1927, max_value=2150))
def test_label_parses_back(start: int) -> None:
    fy = FiscalYear(start)
    assert FiscalYear.parse(fy.label()) == fy
    assert FiscalYear.parse(fy.short) == fy
    assert FiscalYear.parse(f"FY{start}") == fy


@given(st.text(max_size=12))
def test_parse_never_raises_anything_but_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        FiscalYear.parse(text)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            "平成35",
            "平成は31年までです（平成31年＝令和元年）。平成35年度は令和5年度にあたります。R5 または 令和5年度 と指定してください。",
        ),
        (
            "H32年度",
            "平成は31年までです（平成31年＝令和元年）。平成32年度は令和2年度にあたります。R2 または 令和2年度 と指定してください。",
        ),
        (
            "昭和70",
            "昭和は64年までです（昭和64年＝平成元年）。昭和70年度は平成7年度にあたります。H7 または 平成7年度 と指定してください。",
        ),
    ],
)
def test_a_year_past_the_end_of_its_era_names_the_era_that_followed(text: str, hint: str) -> None:
    with pytest.raises(ValueError) as info:
        FiscalYear.parse(text)
    assert str(info.value) == f"年度「{text}」はありません。{hint}"


@pytest.mark.parametrize(
    ("year", "today", "far"),
    [
        (FiscalYear(2073), date(2026, 12, 1), True),  # R55
        (FiscalYear(2029), date(2026, 12, 1), True),
        (FiscalYear(2028), date(2026, 12, 1), False),
        (FiscalYear(2024), date(2026, 12, 1), False),
        (FiscalYear(2023), date(2026, 12, 1), True),
        (FiscalYear(2024), date(2027, 3, 31), False),  # still FY2026
    ],
)
def test_years_far_from_today(year: FiscalYear, today: date, far: bool) -> None:
    assert year.is_far_from(today) is far
