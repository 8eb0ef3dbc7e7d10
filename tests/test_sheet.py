"""The sheet definition (hyoka.sheet): parsing every rule of hyoka.toml's [sheet], values, computations,
proposals, row rules and joint rows. Pure: no workbook, no store."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hyoka import forms, plan
from hyoka.problems import CATALOGUE, Problem, Severity
from hyoka.scale import DEFAULT_SCALE, RatingScale
from hyoka.sheet import (
    ChoiceType,
    Column,
    Computed,
    JointConflict,
    Level,
    NumberType,
    SheetDefinition,
    TextType,
    check_plan_columns,
    check_row,
    combine_joint,
    compare_values,
    compute,
    default_sheet,
    describe_sheet,
    evaluate_row,
    excel_formula,
    excel_number_format,
    excel_proposal_formula,
    format_value,
    parse_sheet,
    parse_value,
    plan_headings,
    plan_value,
    propose,
    split_year_heading,
    summarize,
    validation,
)
from hyoka.years import FiscalYear

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "design" / "examples"
R5, R6 = FiscalYear(2023), FiscalYear(2024)


def example(name: str) -> dict[str, Any]:
    with (EXAMPLES / f"{name}.toml").open("rb") as f:
        return tomllib.load(f)


def sheet_of(name: str) -> SheetDefinition:
    sheet, problems = parse_sheet(example(name))
    assert problems == []
    assert sheet is not None
    return sheet


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def minimal(**column: Any) -> dict[str, Any]:
    """A valid one-level sheet with a department rating, plus ``column`` (when given) as its last column."""
    columns: list[dict[str, Any]] = [
        {"key": "project", "heading": "事業", "source": "plan", "from": "project"},
        {"key": "rating", "heading": "評価", "source": "department", "type": "rating", "required": True},
        {"key": "base", "heading": "基準値", "source": "plan", "type": "number"},
    ]
    if column:
        columns.append(column)
    return {"sheet": {"levels": [{"name": "施策"}], "columns": columns}}


def parse_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    sheet, problems = parse_sheet(data)
    assert sheet is None or not any(p.severity == Severity.ERROR for p in problems)
    return [(p.code, p.message) for p in problems]


# --- the shipped definitions ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "indicator", "two_stage"])
def test_example_definitions_parse_without_problems(name: str) -> None:
    sheet = sheet_of(name)
    assert sheet.input_columns


def test_no_sheet_table_is_todays_sheet() -> None:
    sheet, problems = parse_sheet({})
    assert problems == [] and sheet == default_sheet(DEFAULT_SCALE)
    scale = RatingScale.from_config(example("default")["scale"])
    sheet, problems = parse_sheet({"scale": example("default")["scale"]})
    assert problems == [] and sheet == default_sheet(scale)


def test_default_sheet_is_todays_columns() -> None:
    sheet = default_sheet(DEFAULT_SCALE)
    today = forms.columns(R5)
    assert [c.heading_for(R5) for c in sheet.columns] == [c.heading for c in today]
    assert [c.excel_width for c in sheet.columns] == [c.width for c in today]
    assert [c.key for c in sheet.input_columns] == ["achievement", "rating", "outlook"]
    assert [c.key for c in sheet.columns if c.source == "department"] == [c.role for c in today if c.input]
    assert [c.width for c in sheet.columns] == [11, 43, 31, 78, 13, 13, 78]  # report.evaluation.GRID, 13 + 30
    assert [c.heading_for(R5, report=True) for c in sheet.columns] == [
        "施策",
        "【個別事業・取り組み】",
        "担当課",
        "事業実績・評価理由\n(令和5年度)",
        "前年度\n事業\n評価",
        "事業\n評価",
        "今後の事業計画・展望",
    ]
    outlook = sheet.column("outlook")
    assert [(c.column, c.values) for c in outlook.required_when] == [("rating", ("C", "D"))]
    assert sheet.column("prior").previous_of == "rating"
    assert sheet.default_diff_column == "rating"
    assert [lv.name for lv in sheet.levels] == ["基本目標", "基本施策", "施策"]


def test_explicit_default_definition_equals_the_default_sheet() -> None:
    data = example("default")
    assert sheet_of("default") == default_sheet(RatingScale.from_config(data["scale"]))


def test_requires_reason_of_the_scale_becomes_the_outlook_rule() -> None:
    scale = RatingScale.from_config(
        {"levels": [{"code": "S"}, {"code": "A"}, {"code": "B"}, {"code": "C", "requires_reason": True}]}
    )
    assert default_sheet(scale).column("outlook").required_when[0].values == ("C",)
    none = RatingScale.from_config({"levels": [{"code": "A"}, {"code": "B"}]})
    assert default_sheet(none).column("outlook").required_when == ()


# --- the plan master's headings and per-year values ----------------------------------------------------


def test_plan_headings_follow_the_levels() -> None:
    assert plan_headings(default_sheet().levels) == plan.HEADINGS
    assert plan_headings((Level("基本方針", True, "1"), Level("取組", False))) == (
        "基本方針No",
        "基本方針",
        "取組",
        "事業No",
        "事業名",
        "新規",
        "担当課",
        "提出課",
    )
    assert sheet_of("indicator").plan_headings[:4] == ("基本目標No", "基本目標", "施策No", "施策")
    assert {"指標", "単位", "方向", "目標値"} <= set(sheet_of("indicator").plan_headings)


@pytest.mark.parametrize(
    ("fmt", "no", "outer", "label"),
    [("1", "3", (), "3"), ("(1)", "3", (), "(3)"), ("①", "3", (), "③"), ("①", "3-2", (), "(3-2)"),
     ("1-1", "2", ("1",), "1-2"), ("none", "3", (), "")],
)  # fmt: skip
def test_level_number_formats(fmt: Any, no: str, outer: tuple[str, ...], label: str) -> None:
    assert Level("施策", True, fmt).label(no, outer) == label
    assert Level("基本施策", False).label(no) == ""


@pytest.mark.parametrize(
    ("heading", "base", "year"),
    [("目標値(R6)", "目標値", R6), ("目標値（令和6年度）", "目標値", R6), ("目標値(2024)", "目標値", R6),
     ("目標値", "目標値", None), ("人数(人)", "人数(人)", None)],
)  # fmt: skip
def test_year_heading_convention(heading: str, base: str, year: FiscalYear | None) -> None:
    assert split_year_heading(heading) == (base, year)


def test_per_year_plan_value_falls_back_to_the_plan_period() -> None:
    target = sheet_of("indicator").column("target")
    cells = {"目標値(R5)": "800", "目標値（R6）": "1000", "目標値": "900"}
    assert plan_value(target, cells, R5) == "800"
    assert plan_value(target, cells, R6) == "1000"
    assert plan_value(target, cells, FiscalYear(2025)) == "900"
    assert plan_value(target, {"目標値(R5)": "800"}, R6) is None


def test_plan_column_missing_from_the_plan_master() -> None:
    sheet = sheet_of("indicator")
    headings = [*plan_headings(sheet.levels), "指標", "単位", "目標値(R6)"]
    found = check_plan_columns(sheet, headings, file="plan.csv")
    assert [(p.code, p.file) for p in found] == [("sheet-plan-column-missing", "plan.csv")]
    assert "「方向」" in found[0].message


# --- a broken definition: every problem at once, one defect per case -----------------------------------


def test_broken_definition_lists_every_problem_at_once() -> None:
    data = {
        "scales": {"grade": {"levels": [{"code": "A"}, {"code": "B"}]}},
        "sheet": {
            "levels": [{"name": "目標"}, {"name": "目標"}],
            "columns": [
                {"key": "rating", "heading": "評価", "source": "department", "type": "rating", "scale": "grde"},
                {"key": "actual", "heading": "実績", "source": "department", "type": "number", "min": 5, "max": 1},
                {"key": "rate", "heading": "率", "source": "computed", "compute": "achievement", "actual": "actul",
                 "target": "rate"},
                {"key": "note", "heading": "理由", "source": "department", "widht": 30,
                 "required_when": [{"column": "rating", "values": ["Z"]}]},
            ],
        },
    }  # fmt: skip
    sheet, problems = parse_sheet(data, file="hyoka.toml")
    assert sheet is None
    assert codes(problems) == [
        "sheet-duplicate",  # two levels named 目標
        "sheet-scale-unknown",  # grde
        "sheet-range-invalid",  # min 5 > max 1
        "sheet-key-unknown",  # widht
        "sheet-column-unknown",  # actul
        "sheet-cycle",  # rate reads itself
    ]
    assert all(p.file == "hyoka.toml" for p in problems)
    unknown = next(p for p in problems if p.code == "sheet-key-unknown")
    assert "「widht」" in unknown.message and "「width」の誤り" in unknown.message
    scale = next(p for p in problems if p.code == "sheet-scale-unknown")
    assert "「grade」の誤り" in scale.message
    column = next(p for p in problems if p.code == "sheet-column-unknown")
    assert "「actul」" in column.message and "「actual」の誤り" in column.message


@pytest.mark.parametrize(
    ("column", "code", "named"),
    [
        ({"key": "x", "heading": "X", "source": "department", "widht": 3}, "sheet-key-unknown", "「width」の誤り"),
        ({"key": "x", "heading": "X", "source": "dept"}, "sheet-value-invalid", "department"),
        ({"key": "x", "heading": "X"}, "sheet-value-missing", "source"),
        ({"key": "X-1", "heading": "X", "source": "department"}, "sheet-value-invalid", "X-1"),
        ({"heading": "X", "source": "department"}, "sheet-value-missing", "key"),
        ({"key": "x", "heading": "X", "source": "department", "width": "30"}, "sheet-value-type", "width"),
        ({"key": "x", "heading": "X", "source": "department", "form": "yes"}, "sheet-value-type", "form"),
        ({"key": "x", "heading": "X", "source": "department", "type": "rating", "scale": "nope"},
         "sheet-scale-unknown", "nope"),
        ({"key": "x", "heading": "X", "source": "department", "type": "number", "min": 10, "max": 1},
         "sheet-range-invalid", "min（10）"),
        ({"key": "x", "heading": "X", "source": "department", "type": "choice", "choices": ["a"]},
         "sheet-value-missing", "choices"),
        ({"key": "x", "heading": "X", "source": "department", "type": "choice", "choices": ["継続", "継続"]},
         "sheet-duplicate", "継続"),
        ({"key": "x", "heading": "X", "source": "department", "type": "text", "unit": "件"},
         "sheet-value-invalid", "unit"),
        ({"key": "x", "heading": "X", "source": "department", "joint": "sum"}, "sheet-value-invalid", "sum"),
        ({"key": "x", "heading": "X", "source": "previous", "of": "nope"}, "sheet-column-unknown", "nope"),
        ({"key": "x", "heading": "X", "source": "previous"}, "sheet-value-missing", "of"),
        ({"key": "x", "heading": "X", "source": "computed", "compute": "achievement", "actual": "rating",
          "target": "rating"}, "sheet-column-kind", "rating"),
        ({"key": "x", "heading": "X", "source": "computed", "compute": "progress", "actual": "base",
          "target": "base"},
         "sheet-value-missing", "baseline"),
        ({"key": "x", "heading": "X", "source": "computed", "compute": "ratio", "actual": "base",
          "target": "base"},
         "sheet-value-invalid", "ratio"),
        ({"key": "x", "heading": "X", "source": "department", "required_when": [{"column": "nope", "values": ["A"]}]},
         "sheet-column-unknown", "nope"),
        ({"key": "x", "heading": "X", "source": "department", "required_when": [{"column": "rating", "values": ["Z"]}]},
         "sheet-value-not-in-column", "「Z」"),
        ({"key": "x", "heading": "X", "source": "plan", "required": True}, "sheet-value-invalid", "required"),
        ({"key": "x", "heading": "X", "source": "department", "of": "rating"}, "sheet-value-invalid", "of"),
        ({"key": "rating", "heading": "X", "source": "department"}, "sheet-duplicate", "rating"),
        ({"key": "x", "heading": "評価", "source": "department"}, "sheet-duplicate", "評価"),
        ({"key": "x", "heading": "X", "source": "department", "required": "maybe"}, "sheet-value-type", "required"),
        ({"key": "x", "heading": "X", "source": "department", "type": "text", "proposal": {"from": "rating"}},
         "sheet-value-invalid", "proposal"),
        ({"key": "x", "heading": "X", "source": "plan", "from": "level:基本目標"}, "sheet-value-invalid", "level:"),
        ({"key": "x", "heading": "X", "source": "department", "summary": True}, "sheet-value-invalid", "summary"),
    ],
)  # fmt: skip
def test_one_defect_in_a_column(column: dict[str, Any], code: str, named: str) -> None:
    found = parse_problems(minimal(**column))
    assert {c for c, _ in found} == {code}, found  # a column read twice (actual and target) is said twice
    assert named in found[0][1]


def test_computed_columns_in_a_cycle() -> None:
    data = minimal()
    data["sheet"]["columns"] += [
        {
            "key": "a",
            "heading": "A",
            "source": "computed",
            "compute": "achievement",
            "actual": "b",
            "target": "b",
        },
        {
            "key": "b",
            "heading": "B",
            "source": "computed",
            "compute": "achievement",
            "actual": "a",
            "target": "a",
        },
    ]
    found = parse_problems(data)
    assert [c for c, _ in found] == ["sheet-cycle"]
    assert "a → b → a" in found[0][1]


@pytest.mark.parametrize(
    ("count", "problems"), [(0, ["sheet-levels-count"]), (4, []), (5, ["sheet-levels-count"])]
)
def test_one_to_four_levels(count: int, problems: list[str]) -> None:
    data = minimal()
    data["sheet"]["levels"] = [{"name": f"階層{i}"} for i in range(count)]
    data["sheet"]["summary_level"] = "階層0" if count else None
    if not count:
        del data["sheet"]["summary_level"]
    assert [c for c, _ in parse_problems(data)] == problems


@pytest.mark.parametrize(
    ("level", "code"),
    [({"name": "施策", "numbered": False, "number_format": "(1)"}, "sheet-value-invalid"),
     ({"name": "施策", "numbered": True, "number_format": "1)"}, "sheet-value-invalid"),
     ({"name": "施策", "numbred": True}, "sheet-key-unknown"),
     ({"numbered": True}, "sheet-value-missing"),
     ({"name": "事業", "numbered": True}, "sheet-value-invalid")],
)  # fmt: skip
def test_one_defect_in_a_level(level: dict[str, Any], code: str) -> None:
    data = minimal()
    data["sheet"]["levels"] = [level]
    data["sheet"]["summary_level"] = "施策"
    assert [c for c, _ in parse_problems(data)][:1] == [code]


def test_sheet_without_department_columns() -> None:
    data = minimal()
    data["sheet"]["columns"][1]["source"] = "secretariat"
    assert [c for c, _ in parse_problems(data)] == ["sheet-no-input"]


def test_scale_problems() -> None:
    data = minimal()
    data["scales"] = {
        "one": {"levels": [{"code": "A"}]},
        "req": {"levels": [{"code": "A", "requires_reason": True}, {"code": "B"}]},
    }
    found = parse_problems(data)
    assert [c for c, _ in found] == ["sheet-scale-invalid", "sheet-key-unknown"]
    assert "required_when" in found[1][1]
    bad_legacy = parse_problems({"scale": {"levels": []}})
    assert [c for c, _ in bad_legacy] == ["sheet-scale-invalid"]


def proposal_data(bands: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data = minimal()
    data["sheet"]["columns"][1]["proposal"] = {"from": "rate", "bands": bands, **extra}
    data["sheet"]["columns"] += [
        {"key": "actual", "heading": "実績値", "source": "department", "type": "number"},
        {"key": "target", "heading": "目標値", "source": "plan", "type": "number"},
        {"key": "rate", "heading": "達成率", "source": "computed", "compute": "achievement", "actual": "actual",
         "target": "target", "unit": "%"},
        {"key": "reason", "heading": "評価理由", "source": "department"},
    ]  # fmt: skip
    return data


@pytest.mark.parametrize(
    ("bands", "code", "named"),
    [
        ([{"code": "A", "at_least": 100}, {"code": "B", "at_least": 80, "below": 100}, {"code": "C", "below": 80}],
         None, ""),
        ([{"code": "A", "at_least": 100}, {"code": "B", "at_least": 80, "below": 101}, {"code": "C", "below": 80}],
         "sheet-bands-overlap", "「B」と「A」"),
        ([{"code": "A", "at_least": 100}, {"code": "B", "at_least": 80, "below": 90}, {"code": "C", "below": 80}],
         "sheet-bands-gap", "90以上100未満"),
        ([{"code": "A", "at_least": 100}, {"code": "B", "at_least": 80, "below": 100}], "sheet-bands-gap", "80未満"),
        ([{"code": "B", "at_least": 80, "below": 100}, {"code": "C", "below": 80}], "sheet-bands-gap", "100以上"),
        ([{"code": "E", "at_least": 100}, {"code": "C", "below": 100}], "sheet-value-not-in-column", "「E」"),
        ([], "sheet-value-missing", "bands"),
    ],
)  # fmt: skip
def test_proposal_bands(bands: list[dict[str, Any]], code: str | None, named: str) -> None:
    found = parse_problems(proposal_data(bands))
    assert [c for c, _ in found][:1] == ([code] if code else [])
    if code:
        assert named in found[0][1]


def test_proposal_refers_to_unknown_columns() -> None:
    bands = [{"code": "A", "at_least": 100}, {"code": "C", "below": 100}]
    found = parse_problems(
        proposal_data(bands, reason="reasn", when=[{"column": "state", "values": ["x"], "code": "D"}])
    )
    assert [c for c, _ in found] == ["sheet-column-unknown", "sheet-column-unknown"]
    assert "「state」" in found[0][1] and "「reason」の誤り" in found[1][1]


def test_unknown_top_level_key_of_the_sheet() -> None:
    data = minimal()
    data["sheet"]["colums"] = []
    found = parse_problems(data)
    assert [c for c, _ in found] == ["sheet-key-unknown"] and "「columns」の誤り" in found[0][1]


# --- scales -------------------------------------------------------------------------------------------


def test_one_best_and_five_best_scales_order_correctly() -> None:
    sheet = sheet_of("two_stage")
    five = sheet.scales["self"]
    assert five.codes == ["5", "4", "3", "2", "1"] and five.get("5").label == "かなり進んだ"  # type: ignore[union-attr]
    assert five.direction("2", "5") == "up" and five.direction("5", "4") == "down"
    column = sheet.column("self_rating")
    assert compare_values(sheet, column, "3", "4") == "up"
    data = {"scales": {"k": {"levels": [{"code": c} for c in "12345"]}}, **minimal()}
    data["sheet"]["columns"][1]["scale"] = "k"
    one_best, _ = parse_sheet(data)
    assert one_best is not None
    assert compare_values(one_best, one_best.column("rating"), "3", "4") == "down"
    assert one_best.scales["k"].rank("1") == 0


def test_lower_case_scale_codes_read_from_any_case() -> None:
    sheet = sheet_of("two_stage")
    second = sheet.column("second_rating")
    assert parse_value(second, "ｂ", sheet=sheet) == ("b", parse_value(second, "ｂ", sheet=sheet)[1])
    value, found = parse_value(second, "B", sheet=sheet, cell="H5")
    assert value == "b" and [(p.code, p.cell) for p in found] == [("choice-normalized", "H5")]
    assert parse_value(sheet.column("self_rating"), 4.0, sheet=sheet) == ("4", [])


def test_legend_lists_every_scale_used_once() -> None:
    assert [(c.key, s.codes) for c, s in sheet_of("two_stage").legend_scales] == [
        ("self_rating", ["5", "4", "3", "2", "1"]),
        ("second_rating", ["a", "b", "c"]),
    ]
    assert len(default_sheet().legend_scales) == 1


# --- cell values -----------------------------------------------------------------------------------------

COUNT = Column("count", "件数", "department", NumberType(unit="件", decimals=0))
SHARE = Column("share", "割合", "department", NumberType(unit="%", decimals=1, min=None))


@pytest.mark.parametrize(
    ("column", "raw", "value", "found"),
    [
        (COUNT, "１，２００件", 1200, ["number-normalized"]),
        (COUNT, "1,200", 1200, ["number-normalized"]),
        (COUNT, 1200, 1200, []),
        (COUNT, 1200.0, 1200, []),
        (COUNT, "1200", 1200, []),
        (COUNT, "1200.5", None, ["number-too-many-decimals"]),
        (COUNT, 1200.5, None, ["number-too-many-decimals"]),
        (COUNT, "約50", None, ["number-not-a-number"]),
        (COUNT, "50程度", None, ["number-not-a-number"]),
        (COUNT, "12,00", None, ["number-not-a-number"]),
        (COUNT, "-3", -3, []),
        (COUNT, "△3", -3, ["number-normalized"]),
        (COUNT, "50%", None, ["number-not-a-number"]),
        (COUNT, True, None, ["number-not-a-number"]),
        (COUNT, "", None, []),
        (COUNT, "　", None, []),
        (COUNT, None, None, []),
        (SHARE, "50%", 50, ["number-normalized"]),
        (SHARE, "５０％", 50, ["number-normalized"]),
        (SHARE, "87.5", 87.5, []),
        (SHARE, "87.55", None, ["number-too-many-decimals"]),
    ],
)
def test_number_parsing(column: Column, raw: object, value: object, found: list[str]) -> None:
    got, problems = parse_value(column, raw, cell="G7")
    assert got == value and type(got) is type(value)
    assert codes(problems) == found
    assert all(p.cell == "G7" and "「" + column.heading + "」" in p.message for p in problems)


def test_number_normalized_names_the_number_read() -> None:
    _, found = parse_value(COUNT, "１，２００件", cell="G7")
    assert "「１，２００件」を 1,200 として" in found[0].message


def test_number_with_the_rows_unit_and_an_excel_percentage() -> None:
    actual = sheet_of("indicator").column("actual")
    assert parse_value(actual, "12人", unit="人")[0] == 12
    assert codes(parse_value(actual, "12件", unit="人")[1]) == ["number-not-a-number"]
    assert parse_value(SHARE, 0.575, excel_percent=True) == (57.5, [])


@pytest.mark.parametrize(
    ("low", "high", "raw", "code", "span"),
    [(0, None, "-3", "number-out-of-range", "0以上"), (None, 100, 101, "number-out-of-range", "100以下"),
     (0, 100, 150, "number-out-of-range", "0以上100以下"), (0, 100, 100, None, "")],
)  # fmt: skip
def test_number_range(low: int | None, high: int | None, raw: object, code: str | None, span: str) -> None:
    column = Column(
        "n",
        "人数",
        "department",
        NumberType(min=None if low is None else Decimal(low), max=None if high is None else Decimal(high)),
    )
    value, found = parse_value(column, raw, cell="B2")
    assert codes(found) == ([code] if code else [])
    if code:
        assert value is None and found[0].cell == "B2" and span in found[0].message


def test_choice_normalisation_is_for_codes_only() -> None:
    sheet = sheet_of("indicator")
    outlook = sheet.column("outlook")
    assert parse_value(outlook, "継続", sheet=sheet) == ("継続", [])
    assert parse_value(outlook, " 継続　", sheet=sheet, cell="L3") == (
        "継続",
        [],
    )  # blanks only: silent, as today
    choice = Column("kind", "区分", "department", ChoiceType(("ＡＢ", "ＣＤ")))
    value, found = parse_value(choice, "ab", cell="L3")
    assert value == "ＡＢ" and [(p.code, p.cell) for p in found] == [("choice-normalized", "L3")]
    value, found = parse_value(outlook, "現状維持", sheet=sheet, cell="L3")
    assert value is None and codes(found) == ["choice-not-in-list"]
    assert "拡充・継続・改善・縮小・廃止" in found[0].message
    reason = sheet.column("reason")
    assert parse_value(reason, "①ＡＢＣ㈱\r\n", sheet=sheet) == ("①ＡＢＣ㈱", [])  # never NFKC'd


def test_text_too_long() -> None:
    column = Column("memo", "補足", "department", TextType(max_length=5))
    value, found = parse_value(column, "あいうえおか", cell="C4")
    assert value == "あいうえおか" and [(p.code, p.cell) for p in found] == [("text-too-long", "C4")]
    assert "補足が6文字" in found[0].message


def test_numbers_print_with_separators_and_units() -> None:
    sheet = sheet_of("indicator")
    assert format_value(sheet.column("actual"), 1200, unit="件") == "1,200件"
    assert format_value(_tenths(sheet.column("actual")), 1200, unit="件") == "1,200.0件"
    assert format_value(sheet.column("rate"), 87.46) == "87.5%"
    assert format_value(COUNT, 1234567) == "1,234,567件"
    assert format_value(COUNT, None) == ""


# --- computing and proposing -----------------------------------------------------------------------


def rate(values: dict[str, object], plan_values: dict[str, object] | None = None) -> Computed:
    sheet = sheet_of("indicator")
    return compute(sheet, values, plan_values or {}, R6)["rate"]


@pytest.mark.parametrize(
    ("plan_values", "actual", "value", "reason"),
    [
        ({"目標値(R6)": "1000", "方向": "↑"}, 875, 87.5, ""),
        ({"目標値(R6)": "3", "方向": "↑"}, 2, 66.7, ""),  # 66.666… rounded half up
        ({"目標値(R6)": "8", "方向": "↑"}, 7.0, 87.5, ""),
        ({"目標値(R6)": "1000", "方向": "↑"}, 1200, 120.0, ""),
        ({"目標値(R6)": "0", "方向": "↑"}, 5, None, "「目標値」が0です"),
        ({"目標値(R6)": "0", "方向": "↑"}, 0, 100.0, ""),  # met: 0 of 0
        ({"目標値(R6)": "10", "方向": "↓"}, 20, 50.0, ""),  # lower is better: 目標 / 実績
        ({"目標値(R6)": "10", "方向": "↓"}, 5, 200.0, ""),
        ({"目標値(R6)": "0", "方向": "↓"}, 4, 0.0, ""),
        ({"目標値(R6)": "5", "方向": "↓"}, 0, None, "「実績値」が0です（低いほど良い指標）"),
        ({"目標値(R6)": "", "方向": "↑"}, 5, None, "「目標値」が空欄です"),
        ({"目標値(R6)": "5", "方向": "↑"}, None, None, "「実績値」が空欄です"),
    ],
)
def test_achievement(
    plan_values: dict[str, object], actual: object, value: float | None, reason: str
) -> None:
    result = rate({"actual": actual}, plan_values)
    assert (result.value, result.reason) == (value, reason)
    assert result.missing_input == ("空欄" in reason)


def progress_sheet() -> SheetDefinition:
    data = minimal()
    data["sheet"]["columns"] += [
        {"key": "target", "heading": "目標値", "source": "plan", "type": "number"},
        {"key": "actual", "heading": "実績値", "source": "department", "type": "number"},
        {"key": "progress", "heading": "進捗率", "source": "computed", "compute": "progress", "actual": "actual",
         "target": "target", "baseline": "base", "unit": "%", "decimals": 0},
    ]  # fmt: skip
    sheet, problems = parse_sheet(data)
    assert problems == [] and sheet is not None
    return sheet


@pytest.mark.parametrize(
    ("base", "target", "actual", "value", "reason"),
    [(50, 100, 75, 50, ""), (50, 0, 20, 60, ""), (50, 100, 40, -20, ""), (50, 50, 60, None, "同じ値")],
)  # fmt: skip
def test_progress_from_the_baseline(
    base: int, target: int, actual: int, value: int | None, reason: str
) -> None:
    result = compute(progress_sheet(), {"base": base, "target": target, "actual": actual})["progress"]
    assert result.value == value and reason in result.reason
    assert result.value is None or type(result.value) is int  # decimals = 0


@pytest.mark.parametrize(
    ("computed", "status", "proposal"),
    [(100.0, "実施", "A"), (120.0, "実施", "A"), (99.9, "実施", "B"), (80.0, "実施", "B"), (79.9, "実施", "C"),
     (-5.0, "実施", "C"), (None, "実施", None), (None, "未実施", "D"), (120.0, "未実施", "D")],
)  # fmt: skip
def test_proposal_from_bands_and_not_done(computed: float | None, status: str, proposal: str | None) -> None:
    rating = sheet_of("indicator").column("rating")
    assert propose(rating, computed, {"status": status}) == proposal
    assert propose(default_sheet().column("rating"), computed, {}) is None


def test_live_excel_formulas() -> None:
    sheet = sheet_of("indicator")
    refs = {"actual": "I12", "target": "H12", "rate": "J12", "status": "G12"}
    assert excel_formula(sheet, sheet.column("rate"), refs) == (
        '=IF(OR(I12="",H12=""),"",IF(I12=H12,100,IF(H12=0,"",ROUND(I12/H12*100,1))))'
    )
    assert excel_formula(sheet, sheet.column("rate"), refs, lower_is_better=True) == (
        '=IF(OR(I12="",H12=""),"",IF(I12=H12,100,IF(I12=0,"",ROUND(H12/I12*100,1))))'
    )
    assert excel_proposal_formula(sheet.column("rating"), refs) == (
        '=IF(OR(G12="未実施"),"D",IF(J12="","",IF(J12>=100,"A",IF(J12>=80,"B","C"))))'
    )
    p = progress_sheet()
    assert excel_formula(p, p.column("progress"), {"actual": "D2", "target": "C2", "base": "B2"}) == (
        '=IF(OR(D2="",C2="",B2=""),"",IF(C2=B2,"",ROUND((D2-B2)/(C2-B2)*100,0)))'
    )


# --- the rules of a row -----------------------------------------------------------------------------

INDICATOR_CELLS = {"status": "F5", "actual": "G5", "rating": "I5", "reason": "J5", "outlook": "K5"}
GOOD = {"status": "実施", "actual": "1200", "rating": "A", "reason": "", "outlook": "継続"}
PLAN_ROW = {"指標": "相談件数", "単位": "件", "方向": "↑", "目標値(R6)": "1,000"}


def indicator_problems(**changes: object) -> list[tuple[str, str | None]]:
    raw = {**GOOD, **changes}
    ev = evaluate_row(sheet_of("indicator"), raw, plan_values=PLAN_ROW, year=R6, cells=INDICATOR_CELLS)
    return [(p.code, p.cell) for p in ev.problems]


def test_a_good_indicator_row_has_no_problem() -> None:
    ev = evaluate_row(sheet_of("indicator"), GOOD, plan_values=PLAN_ROW, year=R6, cells=INDICATOR_CELLS)
    assert ev.problems == []
    assert ev.values["target"] == 1000 and ev.values["actual"] == 1200 and ev.values["rate"] == 120.0
    assert ev.proposals == {"rating": "A"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status": ""}, [("column-required", "F5")]),
        ({"outlook": "現状維持"}, [("choice-not-in-list", "K5")]),  # not also reported blank
        ({"actual": ""}, [("column-required-when", "G5")]),  # required when 実施
        ({"actual": "", "status": "未実施", "rating": "D", "reason": "中止"}, []),
        ({"actual": "約1200"}, [("number-not-a-number", "G5")]),
        ({"actual": "-1"}, [("number-out-of-range", "G5")]),
        ({"actual": "1200.25"}, [("number-too-many-decimals", "G5")]),
        ({"actual": "1,200件"}, [("number-normalized", "G5")]),
        ({"rating": "B"}, [("rating-differs-from-proposal", "I5")]),
        ({"rating": "B", "reason": "指標の一部に未達成があるため"}, []),
        (
            {"rating": "C", "reason": ""},
            [("column-required-when", "J5"), ("rating-differs-from-proposal", "I5")],
        ),
        ({"actual": "800", "rating": "B"}, []),
        ({"actual": "700", "rating": "C"}, [("column-required-when", "J5")]),
        ({"rating": "E"}, [("choice-not-in-list", "I5")]),
        ({"rating": ""}, [("column-required", "I5")]),
    ],
)
def test_one_defect_in_an_indicator_row(changes: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert indicator_problems(**changes) == expected


def test_required_when_names_the_column_and_the_value() -> None:
    ev = evaluate_row(
        sheet_of("indicator"),
        {**GOOD, "actual": "700", "rating": "C"},
        plan_values=PLAN_ROW,
        year=R6,
        cells=INDICATOR_CELLS,
    )
    assert ev.problems[0].message == "「評価理由」が空欄です。「評価」が「C」の場合は必ず記入してください。"


def test_differing_from_the_proposal_is_an_error_where_the_city_wants_it() -> None:
    data = example("indicator")
    columns = data["sheet"]["columns"]
    next(c for c in columns if c["key"] == "rating")["proposal"]["severity"] = "error"
    sheet, problems = parse_sheet(data)
    assert sheet is not None and problems == []
    ev = evaluate_row(sheet, {**GOOD, "rating": "B"}, plan_values=PLAN_ROW, year=R6, cells=INDICATOR_CELLS)
    assert [(p.code, p.severity, p.cell) for p in ev.problems] == [
        ("rating-differs-from-proposal", "error", "I5")
    ]
    assert (
        "「達成率」からの提案は「A」" in ev.problems[0].message and "「評価理由」" in ev.problems[0].message
    )


def test_a_computation_that_cannot_be_done_is_said() -> None:
    plan_row = {**PLAN_ROW, "目標値(R6)": "0"}
    ev = evaluate_row(sheet_of("indicator"), GOOD, plan_values=plan_row, year=R6, cells=INDICATOR_CELLS)
    assert [(p.code, p.severity) for p in ev.problems] == [("computed-not-available", "info")]
    assert "「目標値」が0です" in ev.problems[0].message


def test_a_plan_value_that_is_not_a_number_is_an_error() -> None:
    ev = evaluate_row(sheet_of("indicator"), GOOD, plan_values={**PLAN_ROW, "目標値(R6)": "約1000"}, year=R6)
    assert codes(ev.problems) == ["number-not-a-number"]


def test_check_row_on_typed_values() -> None:
    sheet = sheet_of("indicator")
    values = {"status": "実施", "actual": 50, "target": 100, "rating": "A", "reason": "", "outlook": "継続"}
    computed = compute(sheet, values)
    assert computed["rate"].value == 50.0
    found = check_row(sheet, {**values, "rate": 50.0}, computed, {"rating": "C"}, cells=INDICATOR_CELLS)
    assert [(p.code, p.cell) for p in found] == [("rating-differs-from-proposal", "I5")]


def test_secretariat_columns_are_checked_only_in_the_secretariats_input() -> None:
    sheet = sheet_of("two_stage")
    raw = {"self_rating": "4", "work": "実施した", "issues": "", "second_rating": "", "comment": ""}
    dept = evaluate_row(sheet, raw, cells={"self_rating": "D5", "work": "E5", "issues": "F5"})
    assert [(p.code, p.cell, p.severity) for p in dept.problems] == [("column-required", "F5", "warning")]
    low = evaluate_row(sheet, {**raw, "self_rating": "２"}, cells={"self_rating": "D5", "issues": "F5"})
    assert [(p.code, p.cell, p.severity) for p in low.problems] == [
        ("choice-normalized", "D5", "info"),
        ("column-required-when", "F5", "error"),
    ]
    second = evaluate_row(
        sheet,
        {"second_rating": "C", "comment": ""},
        cells={"second_rating": "C2", "comment": "D2"},
        sources=("secretariat",),
    )
    assert [(p.code, p.cell) for p in second.problems] == [
        ("choice-normalized", "C2"),
        ("column-required-when", "D2"),
    ]
    assert second.values["second_rating"] == "c"
    assert [c.key for c in sheet.secretariat_columns] == ["second_rating", "comment"]
    assert not sheet.column("second_rating").form


# --- the default sheet keeps today's codes ---------------------------------------------------------------

DEFAULT_CELLS = {"achievement": "D9", "rating": "F9", "outlook": "G9"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"achievement": "実施した", "rating": "A", "outlook": "継続"}, []),
        ({"achievement": "", "rating": "A", "outlook": "継続"}, [("achievement-blank", "D9", "error")]),
        ({"achievement": "実施した", "rating": "A", "outlook": ""}, [("outlook-blank", "G9", "warning")]),
        ({"achievement": "実施した", "rating": "C", "outlook": ""}, [("reason-missing", "G9", "error")]),
        ({"achievement": "実施した", "rating": "", "outlook": "継続"}, [("rating-blank", "F9", "error")]),
        (
            {"achievement": "実施した", "rating": "E", "outlook": "継続"},
            [("rating-not-in-scale", "F9", "error")],
        ),
        (
            {"achievement": "実施した", "rating": "Ａ", "outlook": "継続"},
            [("rating-normalized", "F9", "info")],
        ),
        (
            {"achievement": "あ" * 20_001, "rating": "A", "outlook": "継続"},
            [("text-too-long", "D9", "error")],
        ),
    ],
)
def test_default_sheet_rules_keep_todays_codes(
    raw: dict[str, object], expected: list[tuple[str, str, str]]
) -> None:
    ev = evaluate_row(default_sheet(), raw, cells=DEFAULT_CELLS)
    assert [(p.code, p.cell, p.severity) for p in ev.problems] == expected


def test_default_sheet_messages_are_todays() -> None:
    ev = evaluate_row(
        default_sheet(), {"achievement": "x", "rating": "D", "outlook": ""}, cells=DEFAULT_CELLS
    )
    assert ev.problems[0].message == CATALOGUE["reason-missing"].template.format(rating="D")
    ev = evaluate_row(default_sheet(), {"achievement": "あ" * 20_001, "rating": "A", "outlook": "x"})
    assert ev.problems[0].message == CATALOGUE["text-too-long"].template.format(
        column="事業実績・評価理由", length=20_001, limit=20_000
    )
    ev = evaluate_row(default_sheet(), {"achievement": "x", "rating": "", "outlook": "x"})
    assert ev.problems[0].message == CATALOGUE["rating-blank"].template.format(codes="A・B・C・D")


# --- joint rows -------------------------------------------------------------------------------------------


def test_joint_rows_sum_agree_and_join() -> None:
    sheet = sheet_of("indicator")
    parts: list[tuple[str, dict[str, object]]] = [
        ("介護福祉課", {"status": "実施", "actual": 120, "rating": "A", "reason": "", "outlook": "継続"}),
        (
            "地域福祉課",
            {"status": "実施", "actual": 80.5, "rating": "A", "reason": "説明会を開いた", "outlook": "継続"},
        ),
    ]
    combined = combine_joint(sheet, parts)
    assert combined == {
        "status": "実施",
        "actual": 200.5,
        "rating": "A",
        "reason": "説明会を開いた",
        "outlook": "継続",
    }
    rated = copy.deepcopy(parts)
    rated[1][1]["rating"] = "B"
    conflict = combine_joint(sheet, rated)["rating"]
    assert conflict == JointConflict("rating", (("介護福祉課", "A"), ("地域福祉課", "B")))
    assert isinstance(conflict, JointConflict)
    found = conflict.problem(sheet, "I5")
    assert (found.code, found.cell) == ("joint-value-conflict", "I5")
    assert "介護福祉課は「A」、地域福祉課は「B」" in found.message
    blank = combine_joint(sheet, [("a", {"actual": None}), ("b", {"actual": ""})])
    assert blank["actual"] is None and blank["rating"] is None and blank["reason"] == ""


def test_a_joint_row_is_computed_and_proposed_on_its_combined_values() -> None:
    from hyoka.sheet import evaluate_joint

    sheet = sheet_of("indicator")
    plan = {"単位": "人", "方向": "↑", "目標値(R5)": "900"}
    parts: list[tuple[str, dict[str, object]]] = [
        ("健康推進課", {"status": "実施", "actual": 500, "rating": "A", "reason": "", "outlook": "継続"}),
        ("子育て支援課", {"status": "実施", "actual": 380, "rating": "A", "reason": "", "outlook": "継続"}),
    ]
    ev = evaluate_joint(sheet, parts, plan_values=plan, year=R5, cells={"rating": "J15"})
    # Each share alone (500 / 900 = 55.6%) would propose C; the row's 880 / 900 = 97.8% proposes B.
    assert (ev.values["actual"], ev.values["rate"], ev.proposals["rating"]) == (880, 97.8, "B")
    assert [(p.code, p.cell, p.severity) for p in ev.problems] == [
        ("rating-differs-from-proposal", "J15", Severity.WARNING)
    ]
    parts[1][1]["reason"] = "健診の案内を個別に送った。"  # one department's reason is the row's
    assert evaluate_joint(sheet, parts, plan_values=plan, year=R5).problems == []
    parts[1][1]["outlook"] = "拡充"  # a choice they disagree on is no value here (the caller reports it)
    assert evaluate_joint(sheet, parts, plan_values=plan, year=R5).values["outlook"] is None


def test_joint_numbers_that_must_agree() -> None:
    data = minimal(key="n", heading="人数", source="department", type="number", joint="agree")
    sheet, _ = parse_sheet(data)
    assert sheet is not None
    assert combine_joint(sheet, [("a", {"n": 3}), ("b", {"n": 3.0})])["n"] == 3
    assert isinstance(combine_joint(sheet, [("a", {"n": 3}), ("b", {"n": 4})])["n"], JointConflict)


def test_default_sheet_joint_texts_in_plan_order_and_todays_conflict_code() -> None:
    sheet = default_sheet()
    parts: list[tuple[str, dict[str, object]]] = [
        ("介護福祉課", {"achievement": "一", "rating": "A", "outlook": ""}),
        ("広報秘書課", {"achievement": "二", "rating": "B", "outlook": "三"}),
    ]
    combined = combine_joint(sheet, parts)
    assert combined["achievement"] == "一\n二" and combined["outlook"] == "三"
    conflict = combined["rating"]
    assert isinstance(conflict, JointConflict)
    found = conflict.problem(sheet, "F9", no="9", department="介護福祉課・広報秘書課")
    assert found.code == "joint-rating-conflict"
    assert found.message.startswith(
        "事業No.9（介護福祉課・広報秘書課）は共同で報告する行ですが、この表の中で介護福祉課は「A」"
    )  # the wording of joint-rating-conflict since a stored part no longer counts against a file


# --- diff --------------------------------------------------------------------------------------------


def test_number_changes_follow_higher_is_better_per_row() -> None:
    sheet = sheet_of("indicator")
    actual = sheet.column("actual")
    assert compare_values(sheet, actual, 10, 12, {"direction": "↑"}) == "up"
    assert compare_values(sheet, actual, 10, 12, {"direction": "↓"}) == "down"
    assert compare_values(sheet, actual, 10, 10.0, {}) == "same"
    assert compare_values(sheet, sheet.column("outlook"), "継続", "拡充") == "changed"
    assert compare_values(sheet, sheet.column("rating"), "B", "A") == "up"
    assert [c.key for c in sheet.diff_columns] == [
        "status",
        "actual",
        "rate",
        "rating",
        "outlook",
        "prior_rating",
        "prior_actual",
    ]


def test_the_definition_is_stored_with_its_fingerprint() -> None:
    a, b = sheet_of("indicator"), sheet_of("indicator")
    assert a.fingerprint == b.fingerprint and a.fingerprint != sheet_of("two_stage").fingerprint
    assert set(a.source) == {"scales", "sheet"}
    again, problems = parse_sheet(dict(a.source))
    assert problems == [] and again == a


@pytest.mark.parametrize("name", ["default", "indicator", "two_stage"])
def test_design_document_shows_the_example_files_as_they_are(name: str) -> None:
    doc = (EXAMPLES.parent / "sheet-definition.md").read_text(encoding="utf-8")
    text = (EXAMPLES / f"{name}.toml").read_text(encoding="utf-8").rstrip("\n")
    assert f"```toml\n{text}\n```" in doc


def test_every_code_the_design_document_lists_is_catalogued() -> None:
    import re

    doc = (EXAMPLES.parent / "sheet-definition.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 10. Problem codes") : doc.index("## 11.")]
    listed = set(re.findall(r"`([a-z]+(?:-[a-z]+)+)`", section))
    assert listed and listed <= set(CATALOGUE)


def test_the_default_sheets_source_reparses_to_itself() -> None:
    scale = RatingScale.from_config(example("default")["scale"])
    sheet = default_sheet(scale)
    again, problems = parse_sheet(sheet.source)
    assert problems == [] and again == sheet


# --- the summary page and sheet show -----------------------------------------------------------------


def test_summary_counts_each_rating_column_and_averages_computed_ones() -> None:
    sheet = sheet_of("indicator")
    rows: list[dict[str, object]] = [
        {"rating": "A", "rate": 120.0},
        {"rating": "B", "rate": 85.0},
        {"rating": "A", "rate": None},
        {"rating": None, "rate": 80.05},
    ]
    found = summarize(sheet, rows)
    assert set(found) == {"rate", "rating"}
    assert found["rating"].counts == {"A": 2, "B": 1, "C": 0, "D": 0, "—": 1}
    assert (found["rate"].mean, found["rate"].rated, found["rate"].rows) == (
        95.0,
        3,
        4,
    )  # 285.05 / 3 = 95.0166…
    two = summarize(sheet_of("two_stage"), [{"self_rating": "5", "second_rating": "x"}])
    assert two["self_rating"].counts == {"5": 1, "4": 0, "3": 0, "2": 0, "1": 0}
    assert two["second_rating"].counts == {"a": 0, "b": 0, "c": 0, "x": 1}  # an unknown code still counts


def test_sheet_show_lines() -> None:
    lines = describe_sheet(sheet_of("indicator"))
    assert lines[0] == "階層: 基本目標（番号 1） / 施策（番号 1-1）"
    assert (
        "  rate          達成率: 計算（実績値÷目標値、低いほど良い指標は目標値÷実績値） 数値 小数1桁 %"
        in lines
    )
    rating = next(line for line in lines if line.startswith("  rating "))
    assert rating.endswith(
        "提案: 達成率 100以上 A / 80以上100未満 B / 80未満 C、実施状況が 未実施 なら D（提案と異なり評価理由が空欄なら警告）"
    )
    assert lines[-1] == "評価基準（評価）: A 目標達成 / B 概ね達成 / C 未達成 / D 未実施"
    doc = (EXAMPLES.parent / "sheet-definition.md").read_text(encoding="utf-8")
    assert "\n".join(lines) in doc


def test_sheet_show_of_a_progress_column() -> None:
    lines = describe_sheet(progress_sheet())
    assert "  progress  進捗率: 計算（(実績値−基準値)÷(目標値−基準値)） 数値 小数0桁 %" in lines


# --- form cells ------------------------------------------------------------------------------------


def test_default_rating_validation_is_todays() -> None:
    sheet = default_sheet()
    v = validation(sheet, sheet.column("rating"))
    assert v is not None
    assert (v.type, v.formula1, v.title) == ("list", '"A,B,C,D"', "事業評価")
    assert v.error == "事業評価は A・B・C・D のいずれかを選んでください。"
    assert v.prompt == "A: ほぼ達成 / B: ある程度達成・要改善 / C: 大きな課題 / D: 未実施"
    assert validation(sheet, sheet.column("achievement")) is None  # 20,000 characters: no Excel limit needed
    assert validation(sheet, sheet.column("prior")) is None  # not typed


def _tenths(column: Column) -> Column:
    """The column with one decimal place (the sample's counts have none)."""
    assert isinstance(column.type, NumberType)
    return dataclasses.replace(column, type=dataclasses.replace(column.type, decimals=1))


def test_number_validation_and_format() -> None:
    sheet = sheet_of("indicator")
    v = validation(sheet, _tenths(sheet.column("actual")))
    assert v is not None and (v.type, v.operator, v.formula1, v.formula2) == (
        "decimal",
        "greaterThanOrEqual",
        "0",
        None,
    )
    assert v.error == "実績値には0以上の小数点以下1桁までの数値を入力してください。"
    whole = validation(
        sheet, Column("n", "人数", "department", NumberType(min=Decimal(0), max=Decimal(1000)))
    )
    assert whole is not None and (whole.type, whole.operator, whole.formula1, whole.formula2) == (
        "whole",
        "between",
        "0",
        "1000",
    )
    assert excel_number_format(_tenths(sheet.column("actual")), "件") == '#,##0.0"件"'
    assert excel_number_format(sheet.column("actual"), "件") == '#,##0"件"'
    assert excel_number_format(sheet.column("rate")) == '#,##0.0"%"'
    assert excel_number_format(COUNT) == '#,##0"件"'
    assert excel_number_format(sheet.column("reason")) is None
    rating = validation(sheet, sheet.column("rating"))
    assert rating is not None and rating.prompt.endswith("（提案と異なる評価には「評価理由」に理由を記入）")


def test_conditions_on_choices_that_nfkc_would_change() -> None:
    data = minimal(key="kind", heading="区分", source="department", type="choice", choices=["ＡＢ", "ＣＤ"])
    data["sheet"]["columns"].append(
        {
            "key": "note",
            "heading": "補足",
            "source": "department",
            "required_when": [{"column": "kind", "values": ["AB"]}],
        }
    )
    sheet, problems = parse_sheet(data)
    assert problems == [] and sheet is not None
    assert sheet.column("note").required_when[0].values == ("ＡＢ",)
    ev = evaluate_row(sheet, {"rating": "A", "kind": "ＡＢ", "note": ""}, cells={"note": "E2"})
    assert [(p.code, p.cell) for p in ev.problems] == [("column-required-when", "E2")]
    assert "「区分」が「ＡＢ」の場合" in ev.problems[0].message
