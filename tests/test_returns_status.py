"""Returns a clerk trips over (issue 9, 2.4 / 2.7 / 2.11): a file named for another department, the
rejected departments in status, and collect taking the year from the forms."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl

from hyoka.collect import collect, decide_year
from hyoka.forms import SHEET_NAME
from hyoka.validate import departments_named_in
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import SAMPLE
from tests.helpers import department_form, header_of, make_form

R5, R6 = FiscalYear(2023), FiscalYear(2024)
SECONDS = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"


def blank_rating(sheet, first, roles) -> None:  # type: ignore[no-untyped-def]
    sheet.cell(first, roles["rating"]).value = None


# --- 2.4 a file named for one department holding another's form ----------------------------------------


def test_file_named_for_another_department_is_taken_with_a_warning(ws_r4: Workspace, tmp_path: Path) -> None:
    form = department_form(ws_r4, tmp_path, "生涯学習課", "A")
    misnamed = form.with_name("調査票_R5_公民館.xlsx")
    form.rename(misnamed)
    (f,) = collect(ws_r4, [misnamed], R5).files
    assert f.status == "accepted" and f.submitter == "生涯学習課"
    assert [[p.code, p.severity, p.file, p.cell] for p in f.problems] == [
        ["form-name-other-department", "warning", "調査票_R5_公民館.xlsx", None]
    ]
    assert f.problems[0].message.startswith(
        "ファイル名は公民館の調査票ですが、中の調査票は生涯学習課のものです。生涯学習課の提出として扱い、"
    )


def test_file_named_for_its_own_department_or_for_none_says_nothing(ws_r4: Workspace, tmp_path: Path) -> None:
    form = department_form(ws_r4, tmp_path, "生涯学習課", "A")
    other = tmp_path / "返信.xlsx"
    shutil.copy(form, other)
    for path in (form, other):
        (f,) = collect(ws_r4, [path], R5, dry_run=True).files
        assert [p.code for p in f.problems] == [], path.name
    sample = collect(ws_r4, [SAMPLE / "returned" / "R5"], R5, dry_run=True)
    assert not any(p.code == "form-name-other-department" for f in sample.files for p in f.problems)


def test_department_inside_another_name_does_not_count() -> None:
    departments = ["福祉課", "地域福祉課", "公民館"]
    assert departments_named_in("調査票_R5_地域福祉課.xlsx", departments) == ["地域福祉課"]
    assert departments_named_in("調査票_R5_福祉課 (1).xlsx", departments) == ["福祉課"]
    assert departments_named_in("調査票_Ｒ５_公民館.xlsx", departments) == ["公民館"]
    assert departments_named_in("回答.xlsx", departments) == []


# --- 2.7 status: 差戻し中, seconds, folders ---------------------------------------------------------


def test_status_counts_a_rejected_department_as_returned(ws_r4: Workspace, tmp_path: Path, run: Any) -> None:
    bad = make_form(ws_r4, tmp_path, blank_rating)
    assert not collect(ws_r4, [bad], R5).ok
    result = run("status", "--year", "R5", "-w", ws_r4.root)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    i = lines.index("【差戻し中】地域安全課  0/2行")
    assert re.fullmatch(rf"    差戻し: 調査票_R5_地域安全課\.xlsx（{SECONDS}、エラー 1件）", lines[i + 1]), (
        lines[i + 1]
    )
    assert "不足" not in lines[i + 2]  # the rows it still owes are the rejected file's
    last = lines[-1]
    assert last.startswith("完了 0/11 課。未提出 10課: 地域福祉課、")
    assert last.endswith("。差戻し中 1課: 地域安全課")


def test_status_returned_while_an_earlier_return_is_in_force(
    ws_r4: Workspace, tmp_path: Path, run: Any
) -> None:
    assert collect(ws_r4, [SAMPLE / "returned" / "R5"], R5).ok
    bad = make_form(ws_r4, tmp_path, blank_rating)
    assert not collect(ws_r4, [bad], R5).ok
    result = run("status", "--year", "R5", "--json", "-w", ws_r4.root)
    assert result.exit_code == 1
    import json

    data = json.loads(result.output)
    (dep,) = [d for d in data["departments"] if d["department"] == "地域安全課"]
    assert (dep["state"], dep["accepted"], dep["expected"]) == ("returned", 2, 2)
    assert [f["file"] for f in dep["files"]] == ["調査票_R5_地域安全課.xlsx"]
    assert [f["path"] for f in dep["rejected"]] == [str(bad.resolve())]
    text = run("status", "--year", "R5", "-w", ws_r4.root).output
    assert "【差戻し中】地域安全課  2/2行" in text
    assert text.splitlines()[-1] == "完了 10/11 課。差戻し中 1課: 地域安全課"


def test_status_shows_seconds_and_the_folder_of_returns_sharing_a_name(
    ws_r4: Workspace, tmp_path: Path, run: Any
) -> None:
    first = make_form(ws_r4, tmp_path / "a")
    second = make_form(
        ws_r4, tmp_path / "b", values={"5": ("別の実績", "A", "継続"), "6": ("別", "B", "継続")}
    )
    assert first.name == second.name
    assert collect(ws_r4, [first], R5).ok and collect(ws_r4, [second], R5).ok
    lines = run("status", "--year", "R5", "-w", ws_r4.root).output.splitlines()
    shown = [line for line in lines if line.startswith("    受付: ")]
    assert len(shown) == 2
    for line, path, state in (
        (shown[0], first, "新しいファイルに置き換え済み"),
        (shown[1], second, "現在有効"),
    ):
        expected = rf"    受付: 調査票_R5_地域安全課\.xlsx（{SECONDS}、フォルダ {re.escape(str(path.parent.resolve()))}、{state}）"
        assert re.fullmatch(expected, line), line


# --- 2.11 collect takes the year from the forms --------------------------------------------------------


def test_collect_without_year_takes_the_year_all_forms_record(ws_r4: Workspace, run: Any) -> None:
    result = run("collect", SAMPLE / "returned" / "R5", "-w", ws_r4.root)
    assert result.exit_code == 0, result.output
    assert "年度は調査票の記録から令和5年度としました。" in result.output
    assert result.output.count("【受付】") == 11


def test_collect_without_year_refuses_forms_of_two_years(ws_r4: Workspace, tmp_path: Path, run: Any) -> None:
    r5 = make_form(ws_r4, tmp_path / "5")
    r6 = make_form(ws_r4, tmp_path / "6", year=R6)
    result = run("collect", r5, r6, "-w", ws_r4.root)
    assert result.exit_code == 2
    assert result.output == (
        "エラー: 調査票の年度がそろっていません（令和5年度: 調査票_R5_地域安全課.xlsx、"
        "令和6年度: 調査票_R6_地域安全課.xlsx）。年度を指定して実行するか、年度ごとにフォルダを分けて回収してください。"
        "\n年度は --year で指定します（例: --year R6）。\n"
    )
    with ws_r4.store() as s:
        assert s.submissions(R5) == [] and s.submissions(R6) == []


def test_collect_without_year_refuses_files_that_record_none(
    ws_r4: Workspace, tmp_path: Path, run: Any
) -> None:
    form = make_form(ws_r4, tmp_path)
    source = openpyxl.load_workbook(form)[SHEET_NAME]
    header, _ = header_of(source)
    copy = openpyxl.Workbook()
    for row in source.iter_rows(min_row=header, values_only=True):
        copy.active.append(row)
    copy.save(tmp_path / "写し.xlsx")
    result = run("collect", tmp_path / "写し.xlsx", "-w", ws_r4.root)
    assert result.exit_code == 2
    assert result.output.startswith(
        "エラー: 年度を調査票から読み取れません（年度の記録がないファイル: 写し.xlsx）。"
    )


def test_decide_year_names_files_of_each_year() -> None:
    assert decide_year([("a.xlsx", R5), ("b.xlsx", None), ("c.xlsx", R5)]) == R5
    many = decide_year([(f"{i}.xlsx", R5) for i in range(5)] + [("x.xlsx", R6)])
    assert not isinstance(many, FiscalYear)
    assert many.code == "form-years-differ"
    assert "令和5年度: 0.xlsx、1.xlsx、2.xlsx ほか2件、令和6年度: x.xlsx" in many.message
    none = decide_year([])
    assert not isinstance(none, FiscalYear) and none.code == "year-not-in-forms"
