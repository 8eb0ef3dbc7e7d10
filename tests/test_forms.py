"""Forms out: layout, protection, drop-down, metadata — and that collect reads them back."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hyoka.collect import collect, import_table
from hyoka.forms import LINE_PT, META_SHEET, MIN_ROW_PT, ROW_PAD_PT, SHEET_NAME, make_forms, write_forms
from hyoka.store import Part
from hyoka.text import wrapped_lines
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import SAMPLE
from tests.helpers import header_of, make_form, readopt

R4, R5, R6 = FiscalYear(2022), FiscalYear(2023), FiscalYear(2024)


def test_one_form_per_submitter_with_layout(sample_ws: Workspace) -> None:
    import_table(sample_ws, SAMPLE / "ratings_R4.csv", R4)
    paths = write_forms(sample_ws, R5)
    assert len(paths) == len(sample_ws.plan.submitters) == 11
    path = next(p for p in paths if p.name == "調査票_R5_介護福祉課.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET_NAME]
    header, roles = header_of(ws)
    assert [ws.cell(header, c).value for c in range(1, 8)] == [
        "施策",
        "個別事業・取り組み",
        "担当課",
        "事業実績・評価理由 (令和5年度)",
        "前年度\n事業評価",
        "事業評価",
        "今後の事業計画・展望",
    ]
    rows = [[ws.cell(r, c).value for c in range(1, 8)] for r in range(header + 1, ws.max_row + 1)]
    assert len(rows) == len(sample_ws.plan.rows_for("介護福祉課")) == 10
    joint = next(r for r in rows if r[2] == "介護福祉課・広報秘書課")
    assert joint[1] == "②【事業No.9】市民に対する啓発活動の推進"
    assert joint[4] == "A"  # prior year's rating from the store
    # Title, scale legend and instructions come before the table.
    top = " ".join(str(ws.cell(r, 1).value or "") for r in range(1, header))
    assert "令和5年度" in top and "介護福祉課" in top and "A・・・ ほぼ施策内容を達成した。" in top
    # Only the three input columns are unlocked; the sheet is protected.
    assert ws.protection.sheet
    first = header + 1
    unlocked = {c for c in range(1, 8) if not ws.cell(first, c).protection.locked}
    assert unlocked == {roles["achievement"], roles["rating"], roles["outlook"]}
    # Drop-down with the scale's codes on 事業評価, arrow shown.
    dv = ws.data_validations.dataValidation[0]
    assert dv.formula1 == '"A,B,C,D"' and not dv.showDropDown
    assert f"{openpyxl.utils.get_column_letter(roles['rating'])}{first}" in str(dv.sqref)
    assert ws.freeze_panes == f"A{first}"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows == f"${header}:${header}"
    meta = dict(wb[META_SHEET].iter_rows(values_only=True))
    assert wb[META_SHEET].sheet_state == "hidden"
    assert meta["submitter"] == "介護福祉課" and meta["fiscal_year"] == "2023"
    assert meta["plan_fingerprint"] == sample_ws.plan.fingerprint and meta["form_version"] == "1"


def test_file_names_are_safe_for_any_department(tmp_path: Path, sample_ws: Workspace) -> None:
    plan_text = (
        (SAMPLE / "plan.csv").read_text(encoding="utf-8-sig").replace("交通対策課", "CON/..\\交通:対策*課?")
    )
    (sample_ws.root / "plan.csv").write_text(plan_text, encoding="utf-8")
    ws = Workspace.load(sample_ws.root)
    out = tmp_path / "forms"
    for path in write_forms(ws, R5, out):
        assert path.parent == out
        assert not any(c in path.name for c in '<>:"/\\|?*')


def test_department_option_and_unknown_department(sample_ws: Workspace) -> None:
    from hyoka.problems import HyokaError

    assert [p.name for p in write_forms(sample_ws, R6, department="公民館")] == ["調査票_R6_公民館.xlsx"]
    with pytest.raises(HyokaError, match="提出課「経済課」は計画にありません"):
        write_forms(sample_ws, R6, department="経済課")


def fill_like_a_person(path: Path, values: dict[str, tuple[str, str, str]]) -> None:
    """Type into the unlocked cells (texts and rating), keyed by the 事業No shown in the row."""
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET_NAME]
    header, roles = header_of(ws)
    for r in range(header + 1, ws.max_row + 1):
        label = str(ws.cell(r, roles["project"]).value)
        no = label.split("事業No.")[1].split("】")[0]
        achievement, rating, outlook = values[no]
        ws.cell(r, roles["achievement"]).value = achievement
        ws.cell(r, roles["rating"]).value = rating
        ws.cell(r, roles["outlook"]).value = outlook
    wb.save(path)


def test_round_trip_forms_fill_collect(sample_ws: Workspace) -> None:
    (path,) = write_forms(sample_ws, R6, department="公民館")
    fill_like_a_person(path, {"32": ("①実績＆<報告>\n２段落目", "Ｂ", "今後も継続。")})
    result = collect(sample_ws, [path], R6)
    assert result.ok, result.to_dict()
    with sample_ws.store() as store:
        (part,) = store.current_parts(R6)
    assert (part.project_no, part.department, part.rating) == ("32", "公民館", "B")
    assert part.achievement == "①実績＆<報告>\n２段落目"  # narrative text verbatim
    assert part.outlook == "今後も継続。"


def test_second_city_forms_fill_collect(midori_ws: Workspace) -> None:
    paths = write_forms(midori_ws, R6)
    assert {p.name for p in paths} >= {"調査票_R6_高齢福祉課.xlsx", "調査票_R6_社会福祉協議会.xlsx"}
    for path in paths:
        wb = openpyxl.load_workbook(path)
        dv = wb[SHEET_NAME].data_validations.dataValidation[0]
        assert dv.formula1 == '"S,A,B,C"'
        rows = {
            str(r[1]).split("事業No.")[1].split("】")[0]
            for r in wb[SHEET_NAME].iter_rows(values_only=True)
            if r[1] and "事業No." in str(r[1])
        }
        fill_like_a_person(path, {no: ("実績", "S", "展望") for no in rows})
    result = collect(midori_ws, [p.parent for p in paths][:1], R6)
    assert result.ok, [f.to_dict() for f in result.files if f.status != "accepted"]
    with midori_ws.store() as store:
        parts = store.current_parts(R6)
    assert len(parts) == sum(len(r.submitters) for r in midori_ws.plan.rows)


# --- what the clerk and the department see -------------------------------------------------------------


def _rewrite_plan(ws: Workspace, old: str, new: str, count: int = -1) -> Workspace:
    text = (SAMPLE / "plan.csv").read_text(encoding="utf-8-sig")
    assert old in text
    (ws.root / "plan.csv").write_text(text.replace(old, new, count), encoding="utf-8")
    return readopt(Workspace.load(ws.root))


def _table(path: Path) -> tuple[openpyxl.worksheet.worksheet.Worksheet, int, dict[str, int]]:
    sheet = openpyxl.load_workbook(path)[SHEET_NAME]
    header, roles = header_of(sheet)
    return sheet, header, roles


def test_measure_cell_names_the_measure_and_the_prior_heading_breaks_between_words(
    sample_ws: Workspace,
) -> None:
    (path,) = write_forms(sample_ws, R6, department="地域安全課")
    sheet, header, roles = _table(path)
    assert [sheet.cell(r, 1).value for r in (header + 1, header + 2)] == [
        "(1) 防災・防犯活動への参加促進",
        "(1) 防災・防犯活動への参加促進",
    ]
    assert sheet.cell(header, roles["prior"]).value == "前年度\n事業評価"
    assert sheet.cell(header, roles["prior"]).alignment.wrap_text


def test_measure_numbers_written_in_brackets_are_not_bracketed_twice(
    sample_ws: Workspace, tmp_path: Path, run
) -> None:  # type: ignore[no-untyped-def]
    # 施策No typed as printed: (1) and full-width （２）.
    text = (SAMPLE / "plan.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    fixed = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[3] = "(1)" if cells[3] == "1" else "（２）" if cells[3] == "2" else cells[3]
        fixed.append(",".join(cells))
    (sample_ws.root / "plan.csv").write_text("\n".join(fixed) + "\n", encoding="utf-8")
    ws = Workspace.load(sample_ws.root)
    assert {r.measure_no for r in ws.plan.rows} >= {"1", "2"}
    assert {r.measure_label for r in ws.plan.rows} >= {"(1)", "(2)"}
    (path,) = write_forms(ws, R6, department="交通対策課")
    sheet, header, _roles = _table(path)
    assert sheet.cell(header + 1, 1).value == "(2) 移動支援の充実"
    shown = run("plan", "show", "-w", ws.root).output
    assert "施策(1) 暮らしやすいまちづくり" in shown and "((" not in shown
    from docx import Document

    from hyoka.report.build import make_report
    from tests.conftest import load_sample_years

    load_sample_years(ws)
    make_report(ws, R5, out_dir=tmp_path)
    doc = Document(str(tmp_path / "資料1_進捗状況及び評価表_R5.docx"))
    texts = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "施策(2)" in texts and "(2)" in texts
    assert not any("((" in t or "（（" in t for t in texts)


def test_rows_are_as_tall_as_their_static_texts_and_stay_resizable(sample_ws: Workspace) -> None:
    long_name = "地域の見守りと支え合いの仕組みづくりを関係機関と連携して推進する事業" * 3
    ws = _rewrite_plan(sample_ws, "自主防災組織の育成", long_name)
    (path,) = write_forms(ws, R6, department="地域安全課")
    sheet, header, roles = _table(path)
    label = sheet.cell(header + 1, roles["project"]).value
    assert long_name in label
    width = sheet.column_dimensions[openpyxl.utils.get_column_letter(roles["project"])].width
    lines = wrapped_lines(label, (width * 7 - 6) / (10 * 96 / 72))
    assert lines >= 7
    assert sheet.row_dimensions[header + 1].height == lines * LINE_PT + ROW_PAD_PT
    assert sheet.row_dimensions[header + 2].height == MIN_ROW_PT  # room for the department's text
    assert sheet.protection.sheet and not sheet.protection.formatRows  # resizable on the protected sheet


def test_data_rows_are_sized_but_not_fixed_so_excel_still_grows_them(sample_ws: Workspace) -> None:
    """A row written with customHeight="1" keeps its height however much the department types, and
    the printout cuts the text off: hyoka's estimate is written as the row's height without it."""
    import re
    import zipfile

    (path,) = write_forms(sample_ws, R6, department="地域安全課")
    sheet, header, _roles = _table(path)
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'<row r="(\d+)"[^>]*>', xml)}
    data = [rows[r] for r in range(header + 1, sheet.max_row + 1) if r in rows]
    assert data and all('ht="' in row and "customHeight" not in row for row in data)


def test_feedback_copy_rows_grow_to_the_departments_text(ws_r4: Workspace, tmp_path: Path) -> None:
    long_text = "\n".join(["防災講習会を各地区で開催し、参加者の防災意識の向上を図った。" * 4] * 5)

    def edit(sheet, first, roles):  # type: ignore[no-untyped-def]
        sheet.cell(first, roles["achievement"]).value = long_text
        sheet.cell(first + 1, roles["rating"]).value = "E"

    path = make_form(ws_r4, tmp_path, edit)
    (f,) = collect(ws_r4, [path], R5, feedback_dir=tmp_path / "fb").files
    assert f.feedback is not None
    sheet, header, roles = _table(f.feedback)
    width = sheet.column_dimensions[openpyxl.utils.get_column_letter(roles["achievement"])].width
    lines = wrapped_lines(long_text, (width * 7 - 6) / (10 * 96 / 72))
    assert lines >= 10
    assert sheet.row_dimensions[header + 1].height == lines * LINE_PT + ROW_PAD_PT
    assert sheet.row_dimensions[header + 2].height == MIN_ROW_PT


def test_a_year_far_from_today_is_warned(sample_ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    result = make_forms(sample_ws, FiscalYear(2073), today=date(2026, 12, 1))
    assert [p.code for p in result.problems if p.code == "year-far-from-today"] == ["year-far-from-today"]
    assert result.problems[0].message == (
        "令和55年度は今年度（令和8年度）から47年離れています。年度の指定に誤りがないか確認してください"
        "（調査票は令和55年度のものとして作成しました）。"
    )
    assert len(result.paths) == 11
    near = make_forms(sample_ws, FiscalYear.of(date.today()), department="公民館")
    assert "year-far-from-today" not in [p.code for p in near.problems]
    out = run("forms", "--year", "R55", "-d", "公民館", "-w", sample_ws.root)
    assert out.exit_code == 0
    assert "year-far-from-today" in out.output and "令和55年度は今年度" in out.output
    bad = run("forms", "--year", "平成35", "-w", sample_ws.root)
    assert bad.exit_code == 2
    assert "平成は31年までです（平成31年＝令和元年）。平成35年度は令和5年度にあたります。" in bad.output


def test_rows_without_a_prior_rating_are_named(sample_ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    # R5 partly in: only 地域安全課 (No.5, No.6) and the first department of joint row No.9.
    with sample_ws.store() as store:
        store.add_submission(
            year=R5,
            submitter="",
            kind="import",
            file_name="r5.csv",
            file_path="r5.csv",
            sha256="r5",
            parts=[
                Part("5", "地域安全課", "", "A", "", ""),
                Part("6", "地域安全課", "", "B", "", ""),
            ],
            replace_rows=True,
        )
    assert [p.code for p in make_forms(sample_ws, R6, department="地域安全課").problems] == []
    result = make_forms(sample_ws, R6, department="地域福祉課")
    (warning,) = result.problems
    rows = [r for r in sample_ws.plan.rows_for("地域福祉課") if not r.is_new]
    assert warning.code == "prior-rating-missing" and len(rows) > 10
    examples = "、".join(f"事業No.{r.project_no} 地域福祉課" for r in rows[:10])
    assert warning.message == (
        f"令和5年度の評価が保存されていない行が{len(rows)}行あります（{examples} ほか{len(rows) - 10}行）。"
        "これらの行の前年度事業評価は空欄です。令和5年度の回収を済ませてから調査票を作り直すと記入されます。"
    )
    everyone = make_forms(sample_ws, R6).problems
    n = sum(1 for r in sample_ws.plan.rows if not r.is_new) - 2
    assert [p.code for p in everyone] == ["prior-rating-missing"] and f"{n}行あります" in everyone[0].message
    # 公民館's only row is 新規: no prior rating is expected.
    assert make_forms(sample_ws, R6, department="公民館").problems == []
    out = run("forms", "--year", "R6", "-d", "指導室", "-w", sample_ws.root)
    assert out.exit_code == 0 and "[警告] prior-rating-missing" in out.output
    assert "（事業No.8 指導室" in out.output


def test_forms_failing_part_way_say_which_were_written(
    sample_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hyoka.forms
    from hyoka.problems import HyokaError

    real = hyoka.forms.atomic_write
    calls: list[Path] = []

    def full_after_two(path: Path, write):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 3:
            raise HyokaError(f"ディスクの空きが足りないため {path} を書き込めませんでした。")
        return real(path, write)

    monkeypatch.setattr(hyoka.forms, "atomic_write", full_after_two)
    with pytest.raises(HyokaError) as caught:
        make_forms(sample_ws, R6, tmp_path / "out")
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 2
    assert str(caught.value).splitlines() == [
        f"ディスクの空きが足りないため {calls[2]} を書き込めませんでした。",
        f"作成済みの調査票（2件）: {calls[0].name}、{calls[1].name}",
        f"作成していない調査票: {len(sample_ws.plan.submitters) - 2}件（{calls[2].name} から後）",
    ]
