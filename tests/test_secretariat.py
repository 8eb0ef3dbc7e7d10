"""The secretariat's second stage (issue 11 §13): its workbook or table in through ``hyoka import``,
stored as entries of ``@secretariat``, shown in 資料1, counted by status; the two-stage city's year."""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

WS = "two"


def _texts(row: Any) -> list[str]:
    """A table row's cells as Word has them (a merged cell once), their paragraphs one a line."""
    from docx.oxml.ns import qn

    return [
        "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.iter(qn("w:p")))
        for tc in row._tr.tc_lst
    ]


def _filler() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_city_returns as filler
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return filler


R4 = [
    ("1", "地域福祉課", "3"),
    ("2", "市民協働課", "5"),
    ("3", "地域福祉課", "3"),
    ("4", "福祉総務課", "4"),
    ("5", "福祉総務課・地域福祉課", "4"),
    ("7", "高齢福祉課", "4"),
]


def _collected(run: Any, tmp_path: Path, *, with_r4: bool = False) -> Path:
    """The two-stage city with every department's R5 return collected (the sample's entries)."""
    ws_dir = tmp_path / WS
    assert run("init", ws_dir, "--sample", "two_stage").exit_code == 0
    if with_r4:  # last year's self ratings, as the secretariat imports them (事業No.6 is new in R5)
        head = ["事業No", "担当課", "自己評価", "取組内容と成果（令和4年度）", "課題"]
        r4 = [[no, d, r, "実施した。", ""] for no, d, r in R4]
        result = run("import", _table(tmp_path / "r4.csv", [head, *r4]), "--year", "R4", "-w", ws_dir)
        assert result.exit_code == 0, result.output
    assert run("forms", "--year", "R5", "-w", ws_dir).exit_code == 0
    filler = _filler()
    data = filler.entries("two_stage")
    returned = tmp_path / "returned"
    returned.mkdir()
    for form in sorted((ws_dir / "out" / "forms" / "R5").glob("調査票_*.xlsx")):
        target = returned / form.name
        shutil.copy2(form, target)
        filler.fill(target, form.stem.split("_", 2)[2], data)
    result = run("collect", "--year", "R5", "-w", ws_dir, returned)
    assert result.exit_code == 0, result.output
    return ws_dir


def _table(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _import(run: Any, ws_dir: Path, path: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run("import", path, "--year", "R5", "-w", ws_dir, "--json")
    data = json.loads(result.output)
    return result.exit_code, [p for f in data["files"] for p in f["problems"]]


def _secretariat_book(run: Any, ws_dir: Path) -> Path:
    result = run("forms", "--year", "R5", "--secretariat", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    return ws_dir / "out" / "forms" / "R5" / "事務局_R5.xlsx"


def _entries(ws_dir: Path) -> list[tuple[str, str, str]]:
    """Every stored secretariat entry (事業No label via row id, values) — the history, oldest first."""
    import sqlite3

    conn = sqlite3.connect(ws_dir / "hyoka.db")
    try:
        return [
            (str(r[0]), r[1], r[2])
            for r in conn.execute(
                "SELECT row_id, submitter, values_json FROM entries WHERE submitter = '@secretariat' ORDER BY id"
            )
        ]
    finally:
        conn.close()


SECOND = {"1": "a", "2": "a", "3": "b", "4": "a", "5": "b", "6": "c", "7": "b"}
COMMENT_6 = "周知の方法を見直し、関係機関からの紹介の仕組みを検討されたい。"


@pytest.mark.slow
def test_the_two_stage_city_s_year_end_to_end(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl
    from docx import Document

    ws_dir = _collected(run, tmp_path, with_r4=True)
    status = run("status", "--year", "R5", "-w", ws_dir)
    assert "事務局（二次評価）: 0 / 7 行" in status.output
    assert status.exit_code == 0  # the departments are all in; the second stage is shown beside them
    refused = run("report", "--year", "R5", "-w", ws_dir)
    assert refused.exit_code == 1
    assert "二次評価が未入力の行 7 行" in refused.output

    # The secretariat fills in its workbook (the departments' values are there, locked, for reading).
    book = _secretariat_book(run, ws_dir)
    wb = openpyxl.load_workbook(book)
    sheet = wb["事務局"]
    assert [c.value for c in sheet[5]][:6] == [
        "1",
        "①【事業No.1】多世代交流イベントの開催",
        "地域福祉課",
        "4",
        "多世代交流イベントを年3回開催し、延べ620人が参加した。",
        "参加者が固定化しつつある。",
    ]
    for r in range(5, 12):
        no = str(sheet.cell(r, 1).value)
        sheet.cell(r, 7).value = SECOND[no]
        if no == "6":
            sheet.cell(r, 8).value = COMMENT_6
    wb.save(book)
    code, problems = _import(run, ws_dir, book)
    assert code == 0, problems
    assert [p["code"] for p in problems] == []
    status = run("status", "--year", "R5", "-w", ws_dir)
    assert "事務局（二次評価）: 7 / 7 行" in status.output

    result = run("report", "--year", "R5", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = Document(str(ws_dir / "out" / "R5" / "進捗状況及び評価表_R5.docx"))
    blocks = [t for t in doc.tables if len(t.rows) > 3 and _texts(t.rows[2])[:1] == ["取組"]]
    assert _texts(blocks[0].rows[2]) == [
        "取組",
        "事業",
        "担当課",
        "自己評価",
        "取組内容と成果\n(令和5年度)",
        "課題",
        "前年度\n自己評価",
        "二次評価",
        "事務局コメント",
    ]
    rows = [_texts(r) for b in blocks for r in b.rows[3:]]
    assert [(r[1][:9], r[3], r[6], r[7], r[8]) for r in rows] == [
        ("①【事業No.1】", "4", "3", "a", ""),
        ("②【事業No.2】", "5", "5", "a", ""),
        ("①【事業No.3】", "3", "3", "b", ""),
        ("②【事業No.4】", "4", "4", "a", ""),
        ("①【事業No.5】", "4", "4", "b", ""),
        ("②【事業No.6】", "2", "—", "c", COMMENT_6),
        ("①【事業No.7】", "3", "4", "b", ""),
    ]
    texts = [p.text for p in doc.paragraphs]
    assert "【評価の基準（自己評価）】" in texts and "【評価の基準（二次評価）】" in texts
    assert "a　計画どおり順調に進んでいる。" in texts
    assert "5・・・　取組がかなり進んだ。" in texts
    counts = next(t for t in doc.tables if _texts(t.rows[0])[:2] == ["基本方針", "a"])
    assert [_texts(r) for r in counts.rows][-1] == ["合計", "3", "3", "1", "7"]

    diff = run("diff", "--year", "R5", "-w", ws_dir, "--format", "json")
    assert diff.exit_code == 0, diff.output
    moved = [(d["no"], d["before"], d["after"], d["change"]) for d in json.loads(diff.output)]
    assert moved == [("1", "3", "4", "up"), ("6", None, "2", "new"), ("7", "4", "3", "down")]
    # The second stage compares too, by its own scale (a best): last year's from a table.
    r4 = _table(
        tmp_path / "s4.csv",
        [
            ["事業No", "担当課", "二次評価"],
            ["1", "地域福祉課", "b"],
            ["3", "地域福祉課", "a"],
            ["7", "高齢福祉課", "b"],
        ],
    )
    assert run("import", r4, "--year", "R4", "-w", ws_dir).exit_code == 0
    diff = run("diff", "--year", "R5", "--column", "second_rating", "-w", ws_dir, "--format", "json")
    assert diff.exit_code == 0, diff.output
    moved = [(d["no"], d["before"], d["after"], d["change"]) for d in json.loads(diff.output)]
    assert [m for m in moved if m[3] in ("up", "down")] == [("1", "b", "a", "up"), ("3", "a", "b", "down")]


def test_a_draft_marks_the_second_stage_not_entered_with_the_column_s_title(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from docx import Document

    ws_dir = _collected(run, tmp_path)
    table = _table(tmp_path / "s.csv", [["事業No", "担当課", "二次評価"], ["1", "地域福祉課", "a"]])
    code, problems = _import(run, ws_dir, table)
    assert code == 0
    assert [(p["code"], p["severity"]) for p in problems] == [("secretariat-rows-not-entered", "info")]
    result = run("report", "--year", "R5", "--draft", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    assert "二次評価が未入力の行が 6 件あります" in result.output
    doc = Document(str(ws_dir / "out" / "R5" / "進捗状況及び評価表_R5_案.docx"))
    block = next(t for t in doc.tables if len(t.rows) > 3 and _texts(t.rows[2])[:1] == ["取組"])
    assert [_texts(r)[7] for r in block.rows[3:]] == [
        "a",
        "二次評価\n未入力",
        "二次評価\n未入力",
        "二次評価\n未入力",
    ]
    assert [(r.text, r.style.name) for p in block.rows[4].cells[7].paragraphs for r in p.runs] == [
        ("二次評価", "未提出"),  # the draft's red mark
        ("未入力", "未提出"),
    ]
    refused = run("report", "--year", "R5", "-w", ws_dir)
    assert refused.exit_code == 1
    assert "  二次評価: 事業No.2（市民協働課）、" in refused.output


# --- each rule from a table with one defect ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "code", "cell"),
    [
        ([["1", "地域福祉課", "", "コメントだけ"]], "column-required", "C2"),
        ([["6", "障害福祉課", "c", ""]], "column-required-when", "D2"),
        ([["1", "地域福祉課", "d", ""]], "choice-not-in-list", "C2"),
        ([["1", "地域福祉課", "a", ""], ["1", "地域福祉課", "b", ""]], "row-duplicate", "A3"),
        ([["99", "地域福祉課", "a", ""]], "project-unknown", "A2"),
    ],
)
def test_each_secretariat_rule_from_one_defect(run, tmp_path: Path, rows, code, cell) -> None:  # type: ignore[no-untyped-def]
    ws_dir = tmp_path / WS
    run("init", ws_dir, "--sample", "two_stage")
    table = _table(tmp_path / "s.csv", [["事業No", "担当課", "二次評価", "事務局コメント"], *rows])
    exit_code, problems = _import(run, ws_dir, table)
    assert exit_code == 1
    assert [(p["code"], p["cell"]) for p in problems if p["severity"] == "error"] == [(code, cell)]
    assert _entries(ws_dir) == []  # nothing of a rejected table is stored


def test_a_table_of_department_and_secretariat_columns_is_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = tmp_path / WS
    run("init", ws_dir, "--sample", "two_stage")
    table = _table(
        tmp_path / "mixed.csv", [["事業No", "担当課", "自己評価", "二次評価"], ["1", "地域福祉課", "4", "a"]]
    )
    result = run("import", table, "--year", "R5", "-w", ws_dir)
    assert result.exit_code == 1
    assert (
        "[エラー] import-mixed-sources: mixed.csv: この表には各課が記入する列（「自己評価」）と"
        in result.output
    )
    assert "事務局が記入する列（「二次評価」）の両方があります" in result.output
    assert "2つに分けて、それぞれ取り込んでください" in result.output


def test_an_empty_secretariat_table_names_the_secretariat_s_columns(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = tmp_path / WS
    run("init", ws_dir, "--sample", "two_stage")
    table = _table(tmp_path / "empty.csv", [["事業No", "担当課", "二次評価", "事務局コメント"]])
    result = run("import", table, "--year", "R5", "-w", ws_dir, "--json")
    problems = [p for f in json.loads(result.output)["files"] for p in f["problems"]]
    assert [(p["code"], p["message"]) for p in problems] == [
        (
            "table-empty",
            "見出しの下に行がありません。事業No・担当課・二次評価・事務局コメントを1行に1件ずつ入力してください。",
        )
    ]


def test_a_changed_department_cell_in_the_secretariat_workbook_is_a_warning(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    ws_dir = _collected(run, tmp_path)
    book = _secretariat_book(run, ws_dir)
    wb = openpyxl.load_workbook(book)
    sheet = wb["事務局"]
    sheet["D5"] = "1"  # the department's 自己評価 (4), locked — changed anyway (protection is no security)
    sheet["G5"] = "a"
    wb.save(book)
    code, problems = _import(run, ws_dir, book)
    assert code == 0
    changed = [p for p in problems if p["code"] == "secretariat-department-cell-changed"]
    assert [(p["cell"], p["severity"]) for p in changed] == [("D5", "warning")]
    assert "保存済みの値は「4」ですが、このファイルでは「1」" in changed[0]["message"]
    from hyoka.results import load_year
    from hyoka.workspace import Workspace
    from hyoka.years import FiscalYear

    ws = Workspace.load(ws_dir)
    with ws.store() as store:
        result = load_year(store, ws.plan, FiscalYear(2023))
    row = result[("1", "地域福祉課")]
    assert row.rating == "4" and dict(row.secretariat) == {"second_rating": "a", "comment": ""}


def test_collect_sends_the_secretariat_workbook_to_import(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = tmp_path / WS
    run("init", ws_dir, "--sample", "two_stage")
    book = _secretariat_book(run, ws_dir)
    result = run("collect", book, "--year", "R5", "-w", ws_dir, "--json")
    assert result.exit_code == 1
    problems = [p for f in json.loads(result.output)["files"] for p in f["problems"]]
    assert [(p["code"], p["sheet"]) for p in problems] == [("form-is-secretariat-workbook", "事務局")]


def test_a_new_secretariat_import_replaces_the_row_s_entry_and_keeps_the_history(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hyoka.results import load_year
    from hyoka.workspace import Workspace
    from hyoka.years import FiscalYear

    ws_dir = _collected(run, tmp_path)
    head = ["事業No", "担当課", "二次評価", "事務局コメント"]
    first = _table(tmp_path / "s1.csv", [head, ["1", "地域福祉課", "b", ""], ["2", "市民協働課", "a", ""]])
    second = _table(tmp_path / "s2.csv", [head, ["1", "地域福祉課", "c", "見直しを求める。"]])
    assert _import(run, ws_dir, first)[0] == 0
    assert _import(run, ws_dir, second)[0] == 0
    # A department's new return leaves the secretariat's entries as they are.
    returned = next((tmp_path / "returned").glob("*地域福祉課.xlsx"))
    returned.touch()
    import openpyxl

    wb = openpyxl.load_workbook(returned)
    wb.save(returned)  # a new file (another sha256) of the same content
    assert run("collect", "--year", "R5", "-w", ws_dir, returned).exit_code == 0
    ws = Workspace.load(ws_dir)
    with ws.store() as store:
        results = load_year(store, ws.plan, FiscalYear(2023))
    assert dict(results[("1", "地域福祉課")].secretariat) == {
        "second_rating": "c",
        "comment": "見直しを求める。",
    }
    assert dict(results[("2", "市民協働課")].secretariat) == {"second_rating": "a", "comment": ""}
    assert results[("1", "地域福祉課")].rating == "4"
    values = [json.loads(v) for _, _, v in _entries(ws_dir)]
    assert [v["second_rating"] for v in values] == ["b", "a", "c"]  # every version kept
    assert all("rating" not in v for v in values)  # only the secretariat's columns


def test_a_department_import_keeps_the_secretariat_s_entry(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hyoka.results import load_year
    from hyoka.workspace import Workspace
    from hyoka.years import FiscalYear

    ws_dir = tmp_path / WS
    run("init", ws_dir, "--sample", "two_stage")
    mine = _table(tmp_path / "s.csv", [["事業No", "担当課", "二次評価"], ["1", "地域福祉課", "a"]])
    assert _import(run, ws_dir, mine)[0] == 0
    theirs = _table(
        tmp_path / "d.csv",
        [
            ["事業No", "担当課", "自己評価", "取組内容と成果（令和5年度）", "課題"],
            ["1", "地域福祉課", "4", "実施した。", ""],
        ],
    )
    code, problems = _import(run, ws_dir, theirs)
    assert code == 0, problems
    ws = Workspace.load(ws_dir)
    with ws.store() as store:
        row = load_year(store, ws.plan, FiscalYear(2023))[("1", "地域福祉課")]
    assert row.rating == "4" and dict(row.secretariat) == {"second_rating": "a", "comment": ""}


# --- the committee as the source of the second stage (issue 12 §4) ---------------------------------

MEETING = """
[[meetings]]
id = "R6-1"
number = 1
date = 2024-08-19
time = "10:00"
place = "市役所 会議室"
report_year = "R5"
members = ["委員A", "委員B"]
agenda = ["令和5年度の評価について"]

[[meetings.materials]]
no = "1"
title = "進捗状況及び評価表"
distribution = "事前配布"
generated = "evaluation"
"""


def _committee_city(run: Any, tmp_path: Path) -> Path:
    """The two-stage city whose 二次評価 the committee decides at its meeting R6-1 (on R5)."""
    ws_dir = _collected(run, tmp_path)
    config = ws_dir / "hyoka.toml"
    text = config.read_text(encoding="utf-8")
    old = 'key = "second_rating"\nheading = "二次評価"\nsource = "secretariat"'
    assert old in text
    config.write_text(
        text.replace(old, 'key = "second_rating"\nheading = "二次評価"\nsource = "committee"') + MEETING,
        encoding="utf-8",
    )
    # The definition belongs to the plan version: the changed one is adopted for R5.
    result = run("plan", "adopt", "plan.csv", "--from", "R5", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    return ws_dir


def _member_book(run: Any, ws_dir: Path, member: str) -> Path:
    result = run("opinions", "forms", "--meeting", "R6-1", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    return ws_dir / "out" / "opinions" / "R6-1" / f"意見票_R6-1_{member}.xlsx"


def _project_rows(sheet: Any) -> dict[str, int]:
    """事業No → the member workbook's row of that project (its hidden key column says project:<no>)."""
    return {
        str(sheet.cell(r, 1).value).split(":", 1)[1]: r
        for r in range(1, sheet.max_row + 1)
        if str(sheet.cell(r, 1).value or "").startswith("project:")
    }


def _second_stage(ws_dir: Path, name: str) -> list[tuple[str, str]]:
    from docx import Document

    doc = Document(str(ws_dir / "out" / "R5" / name))
    blocks = [t for t in doc.tables if len(t.rows) > 3 and _texts(t.rows[2])[:1] == ["取組"]]
    return [(_texts(r)[1][:9], _texts(r)[7]) for b in blocks for r in b.rows[3:]]


def test_sheet_show_names_the_committee_as_the_source(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = tmp_path / WS
    run("init", ws_dir, "--sample", "two_stage")
    config = ws_dir / "hyoka.toml"
    text = config.read_text(encoding="utf-8").replace(
        'heading = "二次評価"\nsource = "secretariat"', 'heading = "二次評価"\nsource = "committee"'
    )
    config.write_text(text, encoding="utf-8")
    result = run("sheet", "show", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    assert (
        "  second_rating  二次評価: 委員会（会議で決定） 評価 second（a・b・c） 必須 調査票に出さない"
        in result.output
    )


def test_the_committee_s_rating_round_trip_through_member_workbooks_and_the_table(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    ws_dir = _committee_city(run, tmp_path)
    book_a = _member_book(run, ws_dir, "委員A")
    wb = openpyxl.load_workbook(book_a)
    sheet = wb["意見"]
    header = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "対象ID")
    heads = [sheet.cell(header, j).value for j in range(1, sheet.max_column + 1)]
    assert heads == ["対象ID", "区分", "対象", "担当課", "自己評価", "二次評価", "意見"]
    rows = _project_rows(sheet)
    assert sheet.cell(rows["1"], 5).value == "4"  # the department's self rating, for reading
    assert sheet.cell(rows["1"], 6).protection.locked is False
    assert sheet.cell(header + 1, 6).protection.locked is True  # 計画全体: no rating
    [dv] = sheet.data_validations.dataValidation
    assert dv.formula1 == '"a,b,c"'
    assert set(str(dv.sqref).split()) == {f"F{r}" for r in rows.values()}
    sheet.cell(rows["1"], 6).value = "a"
    sheet.cell(rows["1"], 7).value = "交流の場を増やしてほしい。"
    sheet.cell(rows["6"], 6).value = "c"  # a rating without an opinion
    wb.save(book_a)
    book_b = book_a.with_name("意見票_R6-1_委員B.xlsx")  # made with 委員A's (forms for every member)
    wb = openpyxl.load_workbook(book_b)
    sheet = wb["意見"]
    sheet.cell(rows["1"], 6).value = "b"  # the members differ on No.1: a proposal only
    sheet.cell(rows["6"], 6).value = "ｃ"  # typed full-width: read as c, with a notice
    wb.save(book_b)
    result = run("opinions", "collect", book_a, book_b, "--meeting", "R6-1", "-w", ws_dir, "--json")
    assert result.exit_code == 0, result.output
    notices = [(p["code"], p["cell"]) for f in json.loads(result.output)["files"] for p in f["problems"]]
    assert notices == [("choice-normalized", f"F{rows['6']}")]

    result = run("report", "--year", "R5", "--meeting", "R6-1", "--draft", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    name = next(p.name for p in (ws_dir / "out" / "R5").glob("*評価表*案.docx"))
    assert _second_stage(ws_dir, name) == [
        ("①【事業No.1】", "二次評価\n未入力"),
        ("②【事業No.2】", "二次評価\n未入力"),
        ("①【事業No.3】", "二次評価\n未入力"),
        ("②【事業No.4】", "二次評価\n未入力"),
        ("①【事業No.5】", "二次評価\n未入力"),
        ("②【事業No.6】", "c"),
        ("①【事業No.7】", "二次評価\n未入力"),
    ]
    # The minutes: the committee's decided ratings, one table (the opinions material has no empty rows).
    table = _table(
        tmp_path / "minutes.csv",
        [["事業No", "意見", "二次評価"], *([no, "", code] for no, code in SECOND.items())],
    )
    result = run("opinions", "import", table, "--meeting", "R6-1", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    result = run("report", "--year", "R5", "--meeting", "R6-1", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    name = next(p.name for p in (ws_dir / "out" / "R5").glob("*評価表*.docx") if "案" not in p.name)
    assert _second_stage(ws_dir, name) == [
        ("①【事業No.1】", "a"),
        ("②【事業No.2】", "a"),
        ("①【事業No.3】", "b"),
        ("②【事業No.4】", "a"),
        ("①【事業No.5】", "b"),
        ("②【事業No.6】", "c"),
        ("①【事業No.7】", "b"),
    ]
    from hyoka.opinions_io import load_opinions
    from hyoka.workspace import Workspace

    answered = load_opinions(Workspace.load(ws_dir), "R6-1").answered
    assert [a.opinion.text for a in answered] == [
        "交流の場を増やしてほしい。"
    ]  # rating-only rows are no opinions


@pytest.mark.parametrize(
    ("rows", "code", "cell"),
    [
        ([["1", "意見", "d"]], "choice-not-in-list", "C2"),
        ([["", "全体への意見", "a"]], "committee-rating-not-project", "C2"),
        ([["1", "意見", "a"], ["1", "別の意見", "b"]], "committee-rating-conflict", "C3"),
    ],
)
def test_each_committee_rating_rule_from_one_defect(run, tmp_path: Path, rows, code, cell) -> None:  # type: ignore[no-untyped-def]
    ws_dir = _committee_city(run, tmp_path)
    table = _table(tmp_path / "m.csv", [["事業No", "意見", "二次評価"], *rows])
    result = run("opinions", "import", table, "--meeting", "R6-1", "-w", ws_dir, "--json")
    assert result.exit_code == 1
    problems = [p for f in json.loads(result.output)["files"] for p in f["problems"]]
    assert [(p["code"], p["cell"]) for p in problems if p["severity"] == "error"] == [(code, cell)]


def test_a_member_s_rating_not_in_the_scale_is_refused_at_its_cell(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    ws_dir = _committee_city(run, tmp_path)
    book = _member_book(run, ws_dir, "委員A")
    wb = openpyxl.load_workbook(book)
    sheet = wb["意見"]
    row = _project_rows(sheet)["3"]
    sheet.cell(row, 6).value = "s"  # pasted over the drop-down
    wb.save(book)
    result = run("opinions", "collect", book, "--meeting", "R6-1", "-w", ws_dir, "--json")
    assert result.exit_code == 1
    problems = [p for f in json.loads(result.output)["files"] for p in f["problems"]]
    assert [(p["code"], p["cell"]) for p in problems] == [("choice-not-in-list", f"F{row}")]


def test_the_secretariat_s_entries_alone_make_no_stored_year(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = tmp_path / WS
    run("init", ws_dir, "--sample", "two_stage")
    table = ROOT / "sample_data" / "two_stage" / "secretariat_R5.csv"
    assert run("import", table, "--year", "R5", "-w", ws_dir).exit_code == 0
    result = run("history", "-w", ws_dir)
    assert result.exit_code == 1
    assert "保存済みの評価がまだありません" in result.output
    status = run("status", "--year", "R5", "-w", ws_dir, "--json")
    second = json.loads(status.output)["secretariat"]
    assert (second["label"], second["entered"], second["rows"], second["missing"]) == (
        "事務局（二次評価）",
        7,
        7,
        [],
    )
