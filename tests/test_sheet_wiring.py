"""Issue 11 wired into the commands: hyoka.toml's [sheet], the plan master's levels, forms, report, samples."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from hyoka.problems import Problem
from hyoka.sheet import default_sheet
from hyoka.workspace import CONFIG_NAME, ConfigError, Workspace, check_config, parse_config
from tests.conftest import ROOT, SAMPLE

EXAMPLES = ROOT / "docs" / "design" / "examples"
BASE = '[committee]\nname = "架空市委員会"\nsecretariat = "架空市福祉課"\n[plan]\nfile = "plan.csv"\n'


def _config(text: str) -> object:
    return parse_config(tomllib.loads(text), Path("."), text)


def test_a_workspace_without_sheet_has_the_default_sheet_of_its_scale() -> None:
    text = (SAMPLE / CONFIG_NAME).read_text(encoding="utf-8")
    config = _config(text)
    assert config.sheet == default_sheet(config.scale)  # type: ignore[attr-defined]
    assert config.sheet.scales["default"] == config.scale  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["default", "indicator", "two_stage"])
def test_the_example_definitions_read_through_the_strict_schema(name: str) -> None:
    text = BASE + (EXAMPLES / f"{name}.toml").read_text(encoding="utf-8")
    assert check_config(tomllib.loads(text), text) == []
    sheet = _config(text).sheet  # type: ignore[attr-defined]
    assert sheet.columns[0].key == "measure"


def test_every_problem_of_the_definition_is_listed_at_once_with_the_schema_s() -> None:
    text = (
        BASE
        + '[sheet]\nsummary_level = "zz"\n[[sheet.levels]]\nname = "方針"\nwidht = 3\n'
        + '[[sheet.columns]]\nkey = "x"\nheading = "実績"\nsource = "plann"\n'
        + '[scales.s]\n[[scales.s.levels]]\ncode = "a"\nrequires_reason = true\n'
    )
    with pytest.raises(ConfigError) as info:
        _config(text)
    found = [(p.code, p.row) for p in info.value.problems]
    assert ("config-key-unknown", 10) in found  # widht, at its line
    assert ("config-key-unknown", 18) in found  # requires_reason in a named scale
    codes = [c for c, _ in found]
    assert codes.count("sheet-value-invalid") == 2  # summary_level, source
    assert "sheet-scale-invalid" in codes  # a scale of one level
    assert "sheet-key-unknown" not in codes  # the schema reports unknown keys once
    hint = next(p for p in info.value.problems if p.row == 18).message
    assert "required_when" in hint


def test_a_broken_definition_stops_every_command(tmp_path: Path) -> None:
    from hyoka.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", None, sample=True)
    path = ws.root / CONFIG_NAME
    path.write_text(
        path.read_text(encoding="utf-8") + '\n[sheet]\n[[sheet.levels]]\nname = "方針"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        Workspace.load(ws.root)
    assert [p.code for p in info.value.problems] == ["sheet-value-missing"]  # no [[sheet.columns]]


# --- the plan master follows the sheet's levels --------------------------------------------------------


def _table(headings: list[str], *rows: list[str]) -> object:
    from hyoka.tables import Table

    return Table(
        "plan.csv", headings, 1, [(i, dict(zip(headings, r, strict=True))) for i, r in enumerate(rows, 2)]
    )


def test_a_two_level_plan_reads_its_headings_numbers_and_extra_columns() -> None:
    from hyoka.plan import build_plan
    from hyoka.sheet import Level

    levels = (Level("基本目標", True, "1"), Level("施策", True, "1-1"))
    heads = [
        "基本目標No",
        "基本目標",
        "施策No",
        "施策",
        "事業No",
        "事業名",
        "新規",
        "担当課",
        "提出課",
        "指標",
        "目標値(R6)",
    ]
    plan, problems = build_plan(
        _table(heads, ["2", "支え合い", "3", "見守り", "7", "協定", "", "高齢福祉課", "", "協定数", "30"]),  # type: ignore[arg-type]
        levels,
    )
    assert problems == []
    assert plan is not None
    row = plan.rows[0]
    assert row.path == (("2", "支え合い"), ("3", "見守り"))
    assert row.measure_label == "2-3"
    assert (row.goal_no, row.measure_no, row.policy) == ("2", "3", "")
    assert row.extra_values == {"指標": "協定数", "目標値(R6)": "30"}


def test_a_plan_without_a_level_s_heading_names_the_sheet_s_headings() -> None:
    from hyoka.plan import build_plan
    from hyoka.sheet import Level

    levels = (Level("基本方針", True, "1"), Level("取組", True, "①"))
    heads = ["基本目標No", "基本目標", "取組No", "取組", "事業No", "事業名", "新規", "担当課", "提出課"]
    plan, problems = build_plan(_table(heads, ["1", "a", "1", "b", "1", "c", "", "課", ""]), levels)  # type: ignore[arg-type]
    assert plan is None
    assert [p.code for p in problems] == ["plan-heading-missing"]
    assert "「基本方針No」・「基本方針」" in problems[0].message
    assert "基本方針No | 基本方針 | 取組No | 取組 | 事業No" in problems[0].message


def test_the_default_levels_keep_today_s_plan_rows(sample_ws: Workspace) -> None:
    row = sample_ws.plan.rows[0]
    assert (row.goal_no, row.policy, row.measure_no, row.measure_label) == (
        "1",
        "福祉を支える基盤の整備",
        "1",
        "(1)",
    )
    assert row.extra == ()


# --- the sample cities ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "projects", "first"), [("indicator", 8, "施策"), ("two_stage", 7, "取組")])
def test_init_sample_sets_up_an_invented_city(
    run, tmp_path: Path, name: str, projects: int, first: str
) -> None:  # type: ignore[no-untyped-def]
    result = run("init", tmp_path / name, "--sample", name)
    assert result.exit_code == 0, result.output
    ws = Workspace.load(tmp_path / name)
    assert ws.sheet.columns[0].heading == first
    assert ws.plan.counts()["projects"] == projects
    # The sample's definition is the documented example's, word for word.
    example = tomllib.loads((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8"))
    assert ws.sheet.source == {k: example[k] for k in ("scale", "scales", "sheet") if k in example}


def test_init_refuses_an_unknown_sample(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("init", tmp_path / "x", "--sample", "nagoya")
    assert result.exit_code == 1
    assert "見本「nagoya」はありません。使える見本: koganei、indicator、two_stage" in result.output
    assert not (tmp_path / "x").exists()


def test_sheet_show_prints_sources_and_rules(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init", tmp_path / "ind", "--sample", "indicator")
    result = run("sheet", "show", "-w", tmp_path / "ind")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "評価表の定義"
    assert (
        "  rate          達成率: 計算（実績値÷目標値、低いほど良い指標は目標値÷実績値） 数値 小数1桁 %"
        in lines
    )
    data = json.loads(run("sheet", "show", "-w", tmp_path / "ind", "--json").output)
    assert [c["key"] for c in data["columns"]][:3] == ["measure", "project", "department"]
    assert data["columns"][6]["per_year"] is True


def test_sheet_show_of_koganei_is_the_default_sheet(run, sample_ws: Workspace) -> None:  # type: ignore[no-untyped-def]
    result = run("sheet", "show", "-w", sample_ws.root)
    assert (
        "  prior        前年度事業評価: 前年度の「事業評価」 評価 default（A・B・C・D）"
        in result.output.splitlines()
    )


def test_sheet_check_lists_the_plan_s_missing_column_and_bad_values(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init", tmp_path / "ind", "--sample", "indicator")
    plan = tmp_path / "ind" / "plan.csv"
    text = plan.read_text(encoding="utf-8-sig")
    text = text.replace(",指標,", ",指標名,", 1).replace(",待機児童数,人,↓,10,", ",待機児童数,人,↓,約10,", 1)
    plan.write_text(text, encoding="utf-8-sig")
    result = run("sheet", "check", "-w", tmp_path / "ind")
    assert result.exit_code == 1
    codes = [line.split(":")[0] for line in result.output.splitlines() if line.startswith("[エラー]")]
    assert codes == ["[エラー] sheet-plan-column-missing", "[エラー] number-not-a-number"]
    assert "plan.csv 2行目" in result.output
    assert result.output.splitlines()[-1] == "評価表の定義に 2 件のエラーがあります。"


def test_sheet_check_lists_every_problem_of_the_definition(run, sample_ws: Workspace) -> None:  # type: ignore[no-untyped-def]
    path = sample_ws.root / CONFIG_NAME
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n[sheet]\n[[sheet.levels]]\nname = "方針"\nnumberd = true\n'
        + '[[sheet.columns]]\nkey = "r"\nheading = "評価"\nsource = "department"\ntype = "rating"\nscale = "nope"\n',
        encoding="utf-8",
    )
    result = run("sheet", "check", "-w", sample_ws.root)
    assert result.exit_code == 1
    codes = [line.split(":")[0] for line in result.output.splitlines() if line.startswith("[")]
    assert codes == ["[エラー] config-key-unknown", "[エラー] sheet-scale-unknown"]


# --- forms from the sheet --------------------------------------------------------------------------


def _indicator(tmp_path: Path) -> Workspace:
    from hyoka.workspace import init_workspace

    return init_workspace(tmp_path / "ind", None, sample=True, sample_name="indicator")


def _form(ws: Workspace, submitter: str) -> object:
    from hyoka.forms import build_form
    from hyoka.years import FiscalYear

    return build_form(ws, ws.plan, FiscalYear(2023), submitter, {})


def test_the_indicator_form_has_the_sheet_s_columns_formulas_and_checks(tmp_path: Path) -> None:
    ws = _indicator(tmp_path)
    sheet = _form(ws, "保育課")["調査票"]  # type: ignore[index]
    header = next(r for r in range(1, 30) if sheet.cell(r, 1).value == "施策")
    heads = [sheet.cell(header, j).value for j in range(1, sheet.max_column + 1)]
    assert heads == [
        "施策", "事業", "担当課", "指標", "単位", "目標値(R5)", "実施状況", "実績値", "達成率",
        "評価", "評価の提案", "評価理由", "今後の方向性", "前年度\n評価", "前年度\n実績値",
    ]  # fmt: skip
    r = header + 1
    row = {h: sheet.cell(r, j) for j, h in enumerate(heads, 1)}
    assert row["施策"].value == "1-1 子育て支援の充実"
    assert row["目標値(R5)"].value == 10  # the R5 target of 待機児童数, typed
    assert row["目標値(R5)"].number_format == '#,##0"人"'
    # 待機児童数 is lower-is-better (方向 ↓): the live formula is 目標 / 実績.
    assert row[
        "達成率"
    ].value == '=IF(OR(H15="",F15=""),"",IF(H15=F15,100,IF(H15=0,"",ROUND(F15/H15*100,1))))'.replace(
        "15", str(r)
    )
    assert row["評価の提案"].value.startswith(f'=IF(OR(G{r}="未実施"),"D",IF(I{r}="",""')
    unlocked = [h for h, c in row.items() if not c.protection.locked]
    assert unlocked == ["実施状況", "実績値", "評価", "評価理由", "今後の方向性"]
    checks = {str(d.sqref): (d.type, d.formula1) for d in sheet.data_validations.dataValidation}
    assert checks == {
        f"G{r}": ("list", '"実施,未実施"'),
        f"H{r}": ("whole", "0"),
        f"J{r}": ("list", '"A,B,C,D"'),
        f"L{r}": ("textLength", "400"),
        f"M{r}": ("list", '"拡充,継続,改善,縮小,廃止"'),
    }
    legend = [sheet.cell(i, 1).value for i in range(1, header)]
    assert "【評価の基準（評価）】" in legend
    assert "\u3000A・・・ 目標を達成した（達成率100%以上）。" in legend


def test_a_higher_is_better_row_divides_actual_by_target(tmp_path: Path) -> None:
    ws = _indicator(tmp_path)
    sheet = _form(ws, "子育て支援課")["調査票"]  # type: ignore[index]
    header = next(r for r in range(1, 30) if sheet.cell(r, 1).value == "施策")
    r = header + 1
    assert sheet.cell(r, 2).value == "②【事業No.2】子育て相談の実施"
    assert (
        sheet.cell(r, 9).value
        == f'=IF(OR(H{r}="",F{r}=""),"",IF(H{r}=F{r},100,IF(F{r}=0,"",ROUND(H{r}/F{r}*100,1))))'
    )


def test_the_two_stage_form_leaves_the_secretariat_s_columns_out(tmp_path: Path) -> None:
    from hyoka.workspace import init_workspace

    ws = init_workspace(tmp_path / "two", None, sample=True, sample_name="two_stage")
    sheet = _form(ws, "地域福祉課")["調査票"]  # type: ignore[index]
    header = next(r for r in range(1, 30) if sheet.cell(r, 1).value == "取組")
    heads = [sheet.cell(header, j).value for j in range(1, sheet.max_column + 1)]
    assert heads == [
        "取組",
        "事業",
        "担当課",
        "自己評価",
        "取組内容と成果（令和5年度）",
        "課題",
        "前年度\n自己評価",
    ]
    assert sheet.cell(header + 1, 1).value == "① 交流の場づくり"
    checks = [(d.type, d.formula1) for d in sheet.data_validations.dataValidation]
    assert checks == [("list", '"5,4,3,2,1"')]


# --- 資料1 from the sheet -------------------------------------------------------------------------------


def _store_parts(ws: Workspace, rows: list[tuple[str, str, str, str]], year: int = 2023) -> None:
    """Ratings and 今後 as the store holds them today (事業No, 担当課, 評価, 今後の方向性)."""
    from hyoka.store import Part
    from hyoka.years import FiscalYear

    parts = []
    for no, department, rating, outlook in rows:
        row = next(r for r in ws.plan.rows if r.project_no == no)
        for s in row.submitters:
            parts.append(Part(no, department, s, rating, "", outlook))
    with ws.store() as store:
        store.add_submission(
            year=FiscalYear(year),
            submitter="",
            kind="import",
            file_name="t.csv",
            file_path="t.csv",
            sha256="t",
            parts=parts,
            replace_rows=True,
        )


def _texts(row: object) -> list[str]:
    """A table row's cells as Word has them (a merged cell once), their paragraphs one a line."""
    from docx.oxml.ns import qn

    return [
        "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.iter(qn("w:p")))
        for tc in row._tr.tc_lst  # type: ignore[attr-defined]
    ]


def test_the_indicator_report_has_the_sheet_s_columns_legend_and_counts(tmp_path: Path) -> None:
    from docx import Document
    from docx.table import Table as DocxTable

    from hyoka.report.build import make_report
    from hyoka.years import FiscalYear

    ws = _indicator(tmp_path)
    _store_parts(
        ws,
        [
            ("1", "保育課", "B", "継続"),
            ("2", "子育て支援課", "A", "拡充"),
            ("3", "健康推進課・子育て支援課", "B", "継続"),
        ],
    )
    result = make_report(ws, FiscalYear(2023), draft=True)
    doc = Document(str(result.files[0]))
    texts = [p.text for p in doc.paragraphs]
    assert "【評価の基準（評価）】" in texts  # the cover's legend names the column
    assert "A・・・　目標を達成した（達成率100%以上）。" in texts
    tables = [DocxTable(t, doc) for t in doc.element.body.iter(qn_tbl())]
    counts = next(
        t for t in tables if t.rows[0].cells[0].text == "基本目標" and t.rows[0].cells[1].text == "A"
    )
    assert [[c.text for c in r.cells] for r in counts.rows] == [
        ["基本目標", "A", "B", "C", "D", "未提出", "計"],
        ["1　安心して子育てできるまち", "1", "2", "0", "0", "1", "4"],
        ["2　地域で支え合うまち", "0", "0", "0", "0", "4", "4"],
        ["合計", "1", "2", "0", "0", "5", "8"],
    ]
    block = next(t for t in tables if _texts(t.rows[0])[:2] == ["基本目標", "1　安心して子育てできるまち"])
    heads = _texts(block.rows[2])
    assert heads == [
        "施策", "事業", "担当課", "指標", "単位", "目標値\n(R5)", "実績値", "達成率", "評価", "評価理由",
        "今後の方向性", "前年度\n評価", "前年度\n実績値",
    ]  # fmt: skip
    first = _texts(block.rows[3])
    assert first[:6] == [
        "1-1 子育て支援の充実",
        "①【事業No.1】保育所の整備",
        "保育課",
        "待機児童数",
        "人",
        "10人",
    ]
    assert first[8] == "B" and first[10] == "継続"
    joint = next(t for r in block.rows if len(t := _texts(r)) > 1 and "【事業No.3】" in t[1])
    assert joint[2] == "健康推進課\n子育て支援課"
    assert joint[10] == "継続"  # the two parts' choice, once
    target = block.rows[3].cells[5].paragraphs[0]
    assert target.alignment is not None and int(target.alignment) == 2  # right-aligned


def qn_tbl() -> str:
    from docx.oxml.ns import qn

    return qn("w:tbl")


def test_the_two_stage_report_prints_both_scales(tmp_path: Path) -> None:
    from docx import Document

    from hyoka.report.build import make_report
    from hyoka.workspace import init_workspace
    from hyoka.years import FiscalYear

    ws = init_workspace(tmp_path / "two", None, sample=True, sample_name="two_stage")
    doc = Document(str(make_report(ws, FiscalYear(2023), draft=True).files[0]))
    texts = [p.text for p in doc.paragraphs]
    assert "【評価の基準（自己評価）】" in texts
    assert "5・・・　取組がかなり進んだ。" in texts
    assert "【評価の基準（二次評価）】" in texts
    assert "c　進め方の見直し・改善が必要である。" in texts
    assert "※二次評価は事務局が行います。" in texts
    assert "自己評価の集計" in texts and "二次評価の集計" in texts


def test_plan_show_follows_the_sheet_s_levels(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init", tmp_path / "two", "--sample", "two_stage")
    lines = run("plan", "show", "-w", tmp_path / "two").output.splitlines()
    assert lines[0].startswith("計画の版: ")
    assert lines[1:5] == [
        "基本方針1 誰もが参加できる地域づくり",
        "  取組① 交流の場づくり",
        "    ①【事業No.1】多世代交流イベントの開催",
        "      - 地域福祉課",
    ]
    assert lines[-1] == "基本方針 2 / 取組 4 / 事業 7 / 担当課の行 7 / 担当課 5（調査票の提出課 5）"


# --- reading a returned form of a defined sheet (intake) and its rules, one defect per workbook -----------


def _indicator_sheet() -> object:
    from hyoka.sheet import parse_sheet

    sheet, problems = parse_sheet(tomllib.loads((EXAMPLES / "indicator.toml").read_text(encoding="utf-8")))
    assert problems == []
    return sheet


HEADS = ["事業", "担当課", "実施状況", "実績値", "評価", "評価理由", "今後の方向性"]


def _evaluate(
    tmp_path: Path, row: list[object], plan: dict[str, object] | None = None
) -> list[tuple[str, str | None]]:
    """A tiny workbook with the indicator sheet's headings and one row, read and checked."""
    import openpyxl

    from hyoka.intake import read_workbook
    from hyoka.sheet import evaluate_row
    from hyoka.years import FiscalYear

    definition = _indicator_sheet()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADS)  # type: ignore[union-attr]
    ws.append(row)  # type: ignore[union-attr]
    path = tmp_path / "r.xlsx"
    wb.save(path)
    read = read_workbook(path, "r.xlsx", ("status",), definition)  # type: ignore[arg-type]
    assert not isinstance(read, Problem), read
    (only,) = read.rows
    raw = {k: c.value for k, c in only.cells.items()}
    cells = {k: c.ref for k, c in only.cells.items()}
    plan_values = plan or {"指標": "相談件数", "単位": "件", "方向": "↑", "目標値(R5)": "1200"}
    ev = evaluate_row(definition, raw, plan_values=plan_values, year=FiscalYear(2023), cells=cells)  # type: ignore[arg-type]
    return [(p.code, p.cell) for p in ev.problems]


def test_intake_finds_the_sheet_s_columns_by_heading(tmp_path: Path) -> None:
    assert (
        _evaluate(tmp_path, ["①【事業No.2】子育て相談", "子育て支援課", "実施", 1200, "A", None, "継続"])
        == []
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (["x", "課", "実施", "約50", "A", None, "継続"], [("number-not-a-number", "D2")]),
        (["x", "課", "実施", "１，２００件", "A", None, "継続"], [("number-normalized", "D2")]),
        (["x", "課", "実施", -3, "A", None, "継続"], [("number-out-of-range", "D2")]),
        (["x", "課", "実施", 12.25, "A", None, "継続"], [("number-too-many-decimals", "D2")]),
        (["x", "課", "実施", None, "A", None, "継続"], [("column-required-when", "D2")]),
        (["x", "課", None, 1200, "A", None, "継続"], [("column-required", "C2")]),
        (["x", "課", "実施", 1200, "E", None, "継続"], [("choice-not-in-list", "E2")]),
        (["x", "課", "実施", 1200, "ａ", None, "継続"], [("choice-normalized", "E2")]),
        (["x", "課", "実施", 1200, "A", None, "現状維持"], [("choice-not-in-list", "G2")]),
        (["x", "課", "実施", 600, "C", None, "継続"], [("column-required-when", "F2")]),
        (["x", "課", "実施", 1000, "A", None, "継続"], [("rating-differs-from-proposal", "E2")]),
        (["x", "課", "実施", 1000, "A", "事業の内容は達成した。", "継続"], []),
        (["x", "課", "未実施", None, "A", None, "継続"], [("rating-differs-from-proposal", "E2")]),
    ],
    ids=[
        "about-50", "full-width-1200", "negative", "decimals", "actual-blank-when-carried-out", "status-blank",
        "rating-E", "rating-fullwidth", "outlook-unknown", "C-without-reason", "A-but-proposal-B",
        "A-with-reason", "not-carried-out-not-D",
    ],
)  # fmt: skip
def test_each_rule_of_the_indicator_sheet_from_one_defect(
    tmp_path: Path, row: list[object], expected: list[tuple[str, str]]
) -> None:
    assert _evaluate(tmp_path, row) == expected


def test_a_lower_is_better_target_of_zero_is_not_available(tmp_path: Path) -> None:
    plan = {"指標": "待機児童数", "単位": "人", "方向": "↓", "目標値(R5)": "10"}
    assert _evaluate(tmp_path, ["x", "課", "実施", 0, "A", None, "継続"], plan) == [
        ("computed-not-available", None)
    ]


def test_the_secretariat_workbook_unlocks_only_the_secretariat_s_columns(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    from hyoka.sheet import heading_keys

    run("init", tmp_path / "two", "--sample", "two_stage")
    result = run("forms", "--year", "R5", "--secretariat", "-w", tmp_path / "two")
    assert result.exit_code == 0, result.output
    path = tmp_path / "two" / "out" / "forms" / "R5" / "事務局_R5.xlsx"
    sheet = openpyxl.load_workbook(path)["事務局"]
    heads = [c.value for c in sheet[4]]
    assert heads == [
        "事業No",
        "事業",
        "担当課",
        "自己評価",
        "取組内容と成果（令和5年度）",
        "課題",
        "二次評価",
        "事務局コメント",
    ]
    first = list(sheet[5])
    assert [c.value for c in first[:3]] == ["1", "①【事業No.1】多世代交流イベントの開催", "地域福祉課"]
    assert [c.protection.locked for c in first] == [True] * 6 + [False, False]
    assert [(str(d.sqref), d.formula1) for d in sheet.data_validations.dataValidation] == [
        ("G5:G11", '"a,b,c"'),
        ("H5:H11", "1000"),  # 事務局コメント: 1,000 characters at most
    ]
    # What import reads back: the identity and the secretariat's columns by their headings.
    ws = Workspace.load(tmp_path / "two")
    keys = heading_keys(ws.sheet, heads)
    assert (keys["no"], keys["second_rating"], keys["comment"]) == (1, 7, 8)
    # Worked out once per header row (every returned form repeats it); each caller gets its own copy.
    keys["no"] = 99
    assert heading_keys(ws.sheet, heads) == {**keys, "no": 1}
    assert list(ws.sheet.heading_rows) == [tuple(heads)]


def test_a_sheet_without_secretariat_columns_has_no_secretariat_workbook(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init", tmp_path / "ind", "--sample", "indicator")
    result = run("forms", "--year", "R5", "--secretariat", "-w", tmp_path / "ind")
    assert result.exit_code == 1
    assert '事務局が入力する列（source = "secretariat"）がありません' in result.output


# --- rendered through LibreOffice -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    __import__("hyoka.report.pdf", fromlist=["find_soffice"]).find_soffice() is None
    or __import__("shutil").which("pdftotext") is None,
    reason="LibreOffice and pdftotext are not installed",
)
def test_the_filled_indicator_form_computes_its_rate_and_proposal_in_libreoffice(tmp_path: Path) -> None:
    import subprocess

    from hyoka.report import pdf

    form = ROOT / "sample_data" / "indicator" / "returned" / "調査票_R5_健康推進課.xlsx"
    (written,), notice = pdf.convert([form], tmp_path)
    assert notice == ""
    text = subprocess.run(
        ["pdftotext", "-layout", str(written), "-"], capture_output=True, text=True, check=True
    )
    line = next(t for t in text.stdout.splitlines() if "離乳食教室" in t)
    # 実績 90 / 目標 150 → 60.0%, proposed C (rated B, with its reason)
    assert "150人" in line and "90人" in line and "60.0%" in line
    assert line.split("60.0%")[1].split()[:2] == ["B", "C"]


def test_the_indicator_sample_s_returns_read_as_typed_values(tmp_path: Path) -> None:
    """The filled sample forms (scripts/make_city_returns.py) through intake and the sheet's rules:
    what collect will store once the store holds typed values."""
    from hyoka.intake import read_workbook
    from hyoka.sheet import combine_joint, compute, evaluate_row, proposals
    from hyoka.years import FiscalYear

    ws = _indicator(tmp_path)
    definition = ws.sheet
    required = tuple(c.key for c in definition.input_columns)
    parts: dict[str, list[tuple[str, dict[str, object]]]] = {}
    found: list[tuple[str, str, str | None]] = []
    for path in sorted((ROOT / "sample_data" / "indicator" / "returned").glob("*.xlsx")):
        read = read_workbook(path, path.name, required, definition)
        assert not isinstance(read, Problem), read
        submitter = read.meta["submitter"]
        for row in read.rows:
            plan_row = next(r for r in ws.plan.rows_for(submitter) if r.project_no == row.project_no)
            ev = evaluate_row(
                definition,
                {k: c.value for k, c in row.cells.items()},
                plan_values=plan_row.extra_values,
                year=FiscalYear(2023),
                cells={k: c.ref for k, c in row.cells.items()},
            )
            found += [(p.code, row.project_no, p.cell) for p in ev.problems]
            parts.setdefault(row.project_no, []).append((submitter, ev.values))
    # 1,150件 is read as 1150 with a notice; No.4's B differs from its proposal C but has a reason.
    assert [f for f in found if f[1] != "3"] == [("number-normalized", "2", "H14")]
    # Each part of the joint row No.3 alone is a share of a summed 実績値 (500, 380 of 900), so its own
    # proposal (C) is not the row's: the rule must be checked on the combined row (below: B).
    assert [f for f in found if f[1] == "3"] == [
        ("rating-differs-from-proposal", "3", "J14"),
        ("rating-differs-from-proposal", "3", "J15"),
    ]
    assert parts["2"][0][1]["actual"] == 1150 and parts["2"][0][1]["rate"] == 95.8
    assert parts["1"][0][1]["rate"] == 125.0  # 待機児童数: target 10, actual 8, lower is better
    assert parts["8"][0][1]["rating"] == "D"
    # The joint row: 500 + 380 against 900.
    joint = next(r for r in ws.plan.rows if r.project_no == "3")
    combined = combine_joint(definition, sorted(parts["3"], key=lambda p: joint.submitters.index(p[0])))
    assert combined["actual"] == 880
    values = {**combined, "target": 900, "direction": "↑"}
    rate = compute(definition, values)["rate"].value
    assert rate == 97.8
    assert proposals(definition, {**values, "rate": rate}, compute(definition, values))["rating"] == "B"


def test_plan_check_checks_the_columns_the_sheet_reads(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init", tmp_path / "ind", "--sample", "indicator")
    plan = tmp_path / "ind" / "plan.csv"
    plan.write_text(
        plan.read_text(encoding="utf-8-sig").replace(",単位,", ",単位名,", 1), encoding="utf-8-sig"
    )
    result = run("plan", "check", "-w", tmp_path / "ind", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [p["code"] for p in data["problems"]] == ["sheet-plan-column-missing"]
    assert "「単位」" in data["problems"][0]["message"]


def test_the_first_rating_s_counts_stand_beside_last_year_s(tmp_path: Path) -> None:
    from docx import Document
    from docx.table import Table as DocxTable

    from hyoka.report.build import make_report
    from hyoka.years import FiscalYear

    ws = _indicator(tmp_path)
    _store_parts(ws, [("1", "保育課", "C", "継続"), ("5", "地域福祉課", "A", "継続")], year=2022)
    _store_parts(ws, [("1", "保育課", "B", "継続")])
    doc = Document(str(make_report(ws, FiscalYear(2023), draft=True).files[0]))
    texts = [p.text for p in doc.paragraphs]
    assert "基本目標ごとの評価の件数です（各評価の左が令和4年度、右が令和5年度）。" in texts
    tables = [DocxTable(t, doc) for t in doc.element.body.iter(qn_tbl())]
    counts = next(t for t in tables if _texts(t.rows[0])[:2] == ["基本目標", "A"])
    assert [_texts(r) for r in counts.rows] == [
        ["基本目標", "A", "B", "C", "D", "未提出", "計"],
        ["", "令和4年度", "令和5年度", "令和4年度", "令和5年度", "令和4年度", "令和5年度", "令和4年度", "令和5年度",
         "令和4年度", "令和5年度", "令和4年度", "令和5年度"],
        ["1　安心して子育てできるまち", "0", "0", "0", "1", "1", "0", "0", "0", "3", "3", "4", "4"],
        ["2　地域で支え合うまち", "1", "0", "0", "0", "0", "0", "0", "0", "3", "4", "4", "4"],
        ["合計", "1", "0", "0", "1", "1", "0", "0", "0", "6", "7", "8", "8"],
    ]  # fmt: skip
    # The 前年度評価 column carries last year's rating.
    block = next(t for t in tables if _texts(t.rows[0])[:2] == ["基本目標", "1　安心して子育てできるまち"])
    assert _texts(block.rows[3])[11] == "C"


def test_an_adopted_version_keeps_the_sheet_s_levels_and_plan_columns(tmp_path: Path) -> None:
    from hyoka.years import FiscalYear

    ws = _indicator(tmp_path)
    with ws.store():
        pass  # the first version is adopted from the working copy
    fresh = Workspace.load(ws.root)
    row = fresh.version(FiscalYear(2023)).plan.rows[0]
    assert row.path == (("1", "安心して子育てできるまち"), ("1", "子育て支援の充実"))
    assert row.measure_label == "1-1"
    assert row.extra_values["指標"] == "待機児童数"
    assert row.extra_values["目標値(R5)"] == "10"


# --- the whole year of an invented city: init → forms → fill → collect → report ------------------------


def _filler() -> object:
    """scripts/make_city_returns.py: fills a sample city's forms as its departments would."""
    import importlib
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module("make_city_returns")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def _returns(
    tmp_path: Path,
    ws_dir: Path,
    year: str,
    changes: dict[tuple[str, str], dict[str, str]] | None = None,
    departments: tuple[str, ...] = (),
) -> Path:
    """The year's forms (made now, so that last year's values are on them) filled from the sample's
    entries with ``changes`` ((事業No, 提出課) → {heading: value}); ``departments`` only (all: ())."""
    import shutil

    from typer.testing import CliRunner

    from hyoka.cli import app

    filler = _filler()
    made = CliRunner().invoke(app, ["forms", "--year", year, "-w", str(ws_dir)])
    assert made.exit_code == 0, made.output
    data = {k: {**v, **(changes or {}).get(k, {})} for k, v in filler.entries("indicator").items()}  # type: ignore[attr-defined]
    returned = tmp_path / f"returned_{year}"
    returned.mkdir(exist_ok=True)
    for form in sorted((ws_dir / "out" / "forms" / year).glob("*.xlsx")):
        submitter = form.stem.split("_", 2)[2]
        if departments and submitter not in departments:
            continue
        target = returned / form.name
        shutil.copy2(form, target)
        filler.fill(target, submitter, data)  # type: ignore[attr-defined]
    return returned


def _collect(run, ws_dir: Path, year: str, *paths: Path) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Collect ``paths`` one after the other: every problem, with its file's department as ``file``."""
    found = []
    for path in paths:
        result = run("collect", "--year", year, "-w", ws_dir, path, "--json")
        assert result.exit_code == 0, result.output
        for f in json.loads(result.output)["files"]:
            found += [{**p, "file": f["file"].split("_")[-1]} for p in f["problems"]]
    return found


def _where(found: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    return [(p["file"], p["code"], p["cell"], p["severity"]) for p in found]


def test_the_indicator_city_s_year_end_to_end(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from docx import Document

    ws_dir = tmp_path / "ind"
    assert run("init", ws_dir, "--sample", "indicator").exit_code == 0
    returned = _returns(tmp_path, ws_dir, "R5")
    result = run("collect", "--year", "R5", "-w", ws_dir, returned)
    assert result.exit_code == 0, result.output
    assert "令和5年度: 受付 6件" in result.output
    assert "セル H14: 「実績値」の「1,150件」を 1,150 として読み取りました" in result.output
    # The joint row No.3 (500 + 380 of 900 → 97.8% → B) is rated B by both: its parts alone (55.6%,
    # 42.2% → C) are not checked against the proposal.
    assert "rating-differs-from-proposal" not in result.output
    result = run("report", "--year", "R5", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = Document(str(next((ws_dir / "out" / "R5").glob("*評価表_R5.docx"))))
    tables = [t for t in doc.tables if _texts(t.rows[0])[:1] == ["基本目標"] and len(t.rows) > 3]
    block = next(t for t in tables if _texts(t.rows[0])[1:2] == ["1　安心して子育てできるまち"])
    rows = [_texts(r) for r in block.rows[3:]]
    assert [r[6:9] + r[10:11] for r in rows] == [
        ["8人", "125.0%", "A", "継続"],
        ["1,150件", "95.8%", "B", "改善"],
        ["880人", "97.8%", "B", "継続"],  # the joint row: 500 + 380
        ["90人", "60.0%", "B\n提案C", "拡充"],  # rated B with a reason: the proposal is shown too
    ]
    counts = next(t for t in doc.tables if _texts(t.rows[0])[:2] == ["基本目標", "A"])
    assert [_texts(r) for r in counts.rows][-1] == ["合計", "3", "3", "1", "1", "8"]
    # Next year's forms show last year's rating and 実績値 beside this year's cells.
    assert run("forms", "--year", "R6", "-w", ws_dir).exit_code == 0
    import openpyxl

    sheet = openpyxl.load_workbook(ws_dir / "out" / "forms" / "R6" / "調査票_R6_健康推進課.xlsx").active
    grid = [
        [c.value.replace("\n", "") if isinstance(c.value, str) else c.value for c in r]
        for r in sheet.iter_rows()
    ]
    head = next(i for i, r in enumerate(grid) if "前年度実績値" in r)
    rows = {r[1].split("】")[0]: r for r in grid[head + 1 :] if r[1]}
    at = grid[head].index
    assert [rows[k][at("前年度評価")] for k in ("①【事業No.3", "②【事業No.4")] == ["B", "B"]
    assert [rows[k][at("前年度実績値")] for k in ("①【事業No.3", "②【事業No.4")] == [880, 90]

    # The next year: R6's forms carry R5's values; 待機児童数 (lower is better) rose from 8 to 12, the
    # joint row's parts 520 + 410 against R6's target 920.
    returned = _returns(
        tmp_path,
        ws_dir,
        "R6",
        {
            ("1", "保育課"): {"実績値": "12", "評価": "C", "評価理由": "転入が増え、待機児童が増えた。"},
            ("2", "子育て支援課"): {"実績値": "1400", "評価": "A", "今後の方向性": "継続"},
            ("3", "健康推進課"): {"実績値": "520", "評価": "A"},
            ("3", "子育て支援課"): {"実績値": "410", "評価": "A"},
        },
    )
    result = run("collect", "--year", "R6", "-w", ws_dir, returned)
    assert result.exit_code == 0, result.output
    ratings = json.loads(run("diff", "--year", "R6", "--column", "rating", "-f", "json", "-w", ws_dir).output)
    assert ratings == [
        {"no": "1", "project": "保育所の整備", "department": "保育課", "before": "A", "after": "C", "change": "down"},
        {"no": "2", "project": "子育て相談の実施", "department": "子育て支援課", "before": "B", "after": "A",
         "change": "up"},
        {"no": "3", "project": "乳幼児健診の受診勧奨", "department": "健康推進課・子育て支援課", "before": "B",
         "after": "A", "change": "up"},
    ]  # fmt: skip
    assert ratings == json.loads(run("diff", "--year", "R6", "-f", "json", "-w", ws_dir).output)
    actual = json.loads(run("diff", "--year", "R6", "--column", "actual", "-f", "json", "-w", ws_dir).output)
    assert actual == [
        {"no": "1", "project": "保育所の整備", "department": "保育課", "before": 8, "after": 12,
         "change": "down", "delta": 4},  # more children waiting: worse
        {"no": "2", "project": "子育て相談の実施", "department": "子育て支援課", "before": 1150, "after": 1400,
         "change": "up", "delta": 250},
        {"no": "3", "project": "乳幼児健診の受診勧奨", "department": "健康推進課・子育て支援課", "before": 880,
         "after": 930, "change": "up", "delta": 50},  # 500 + 380 → 520 + 410
    ]  # fmt: skip
    rate = json.loads(run("diff", "--year", "R6", "--column", "rate", "-f", "json", "-w", ws_dir).output)
    assert [(r["no"], r["before"], r["after"], r["change"]) for r in rate][:3] == [
        ("1", 125.0, 41.7, "down"),  # 10 / 8 → 5 / 12
        ("2", 95.8, 107.7, "up"),
        ("3", 97.8, 101.1, "up"),  # Σ 880 / 900 → Σ 930 / 920
    ]
    # R6's report: the 前年度 columns hold R5's values, the joint row its sum.
    result = run("report", "--year", "R6", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = Document(str(next((ws_dir / "out" / "R6").glob("*評価表_R6.docx"))))
    tables = [t for t in doc.tables if _texts(t.rows[0])[:1] == ["基本目標"] and len(t.rows) > 3]
    block = next(t for t in tables if _texts(t.rows[0])[1:2] == ["1　安心して子育てできるまち"])
    joint = next(r for r in (_texts(r) for r in block.rows[3:]) if "【事業No.3】" in r[1])
    assert joint[5:9] + joint[-2:] == ["920人", "930人", "101.1%", "A", "B", "880人"]


def test_a_joint_row_s_proposal_is_checked_once_the_row_is_whole(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = tmp_path / "ind"
    run("init", ws_dir, "--sample", "indicator")
    # Both rate No.3 A without a reason: 500 + 380 of 900 is 97.8%, which proposes B.
    a = {"評価": "A", "評価理由": ""}
    returned = _returns(
        tmp_path,
        ws_dir,
        "R5",
        {("3", "健康推進課"): a, ("3", "子育て支援課"): a},
        ("健康推進課", "子育て支援課"),
    )
    first, second = sorted(returned.glob("*健康推進課.xlsx")), sorted(returned.glob("*子育て支援課.xlsx"))
    found = _collect(run, ws_dir, "R5", *first, *second)
    # Nothing when the first part comes in (the row is not whole); on the combined row when the second does.
    assert _where(found) == [
        ("子育て支援課.xlsx", "rating-differs-from-proposal", "J15", "warning"),
        ("子育て支援課.xlsx", "number-normalized", "H14", "info"),
    ]
    assert found[0]["message"].startswith("「評価」は「A」ですが、「達成率」からの提案は「B」です。")
    # The report's joint row: the summed 実績値, its 達成率 and the proposal made from them.
    from docx import Document

    result = run("report", "--year", "R5", "--draft", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = Document(str(next((ws_dir / "out" / "R5").glob("*評価表_R5*.docx"))))
    block = next(
        t for t in doc.tables if _texts(t.rows[0])[:2] == ["基本目標", "1　安心して子育てできるまち"]
    )
    joint = next(r for r in (_texts(r) for r in block.rows[3:]) if "【事業No.3】" in r[1])
    assert joint[5:9] == ["900人", "880人", "97.8%", "A\n提案B"]


def test_a_joint_row_s_choice_that_differs_from_the_part_in_force_is_a_warning(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from docx import Document

    ws_dir = tmp_path / "ind"
    run("init", ws_dir, "--sample", "indicator")
    returned = _returns(tmp_path, ws_dir, "R5", {("3", "子育て支援課"): {"今後の方向性": "拡充"}})
    first, second = sorted(returned.glob("*健康推進課.xlsx")), sorted(returned.glob("*子育て支援課.xlsx"))
    others = [p for p in sorted(returned.glob("*.xlsx")) if p not in first + second]
    found = [
        p for p in _collect(run, ws_dir, "R5", *first, *second, *others) if p["code"].startswith("joint")
    ]
    assert _where(found) == [("子育て支援課.xlsx", "joint-value-differs", "M15", "warning")]
    assert found[0]["message"] == (
        "事業No.3（健康推進課・子育て支援課）は共同で報告する行ですが、「今後の方向性」がこの調査票の子育て支援課は"
        "「拡充」、受付済みの健康推進課は「継続」と異なります。受け付けましたが、値がそろうまで評価表のこの欄は"
        "「不一致」と表示されます。担当課間で値を揃え、直す側の課に調査票を出し直してもらってください。"
    )
    # The rating agrees, so the report is made; the choice the parts disagree on shows 不一致.
    result = run("report", "--year", "R5", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = Document(str(next((ws_dir / "out" / "R5").glob("*評価表_R5.docx"))))
    block = next(
        t for t in doc.tables if _texts(t.rows[0])[:2] == ["基本目標", "1　安心して子育てできるまち"]
    )
    joint = next(r for r in (_texts(r) for r in block.rows[3:]) if "【事業No.3】" in r[1])
    assert joint[6:11] == ["880人", "97.8%", "B", "", "不一致"]


def test_collect_refuses_a_number_it_cannot_read_naming_the_cell(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    ws_dir = tmp_path / "ind"
    run("init", ws_dir, "--sample", "indicator")
    run("forms", "--year", "R5", "-w", ws_dir, "-d", "保育課")
    form = next((ws_dir / "out" / "forms" / "R5").glob("*保育課.xlsx"))
    wb = openpyxl.load_workbook(form)
    sheet = wb["調査票"]
    for ref, value in (("G14", "実施"), ("H14", "約50"), ("J14", "A"), ("M14", "継続")):
        sheet[ref] = value
    wb.save(form)
    result = run("collect", "--year", "R5", "-w", ws_dir, form, "--json")
    assert result.exit_code == 1
    problems = [p for f in json.loads(result.output)["files"] for p in f["problems"]]
    assert [(p["code"], p["cell"]) for p in problems if p["severity"] == "error"] == [
        ("number-not-a-number", "H14")
    ]


def test_last_year_s_typed_values_fill_the_previous_columns(tmp_path: Path) -> None:
    from docx import Document

    from hyoka.report.build import make_report
    from hyoka.store import Part
    from hyoka.years import FiscalYear

    ws = _indicator(tmp_path)
    with ws.store() as store:
        store.add_submission(
            year=FiscalYear(2022),
            submitter="",
            kind="import",
            file_name="r4.csv",
            file_path="r4.csv",
            sha256="r4",
            parts=[
                Part("2", "子育て支援課", "", "C", "", "継続", other_values={"actual": 900, "status": "実施"})
            ],
            replace_rows=True,
        )
    doc = Document(str(make_report(ws, FiscalYear(2023), draft=True).files[0]))
    block = next(
        t for t in doc.tables if _texts(t.rows[0])[:2] == ["基本目標", "1　安心して子育てできるまち"]
    )
    row = next(t for r in block.rows if len(t := _texts(r)) > 1 and "【事業No.2】" in t[1])
    assert row[-2:] == ["C", "900件"]  # 前年度評価, 前年度実績値 with the row's unit
