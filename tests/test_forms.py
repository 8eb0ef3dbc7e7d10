"""Forms out: layout, protection, drop-down, metadata — and that collect reads them back."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hyoka.collect import collect, import_table
from hyoka.forms import META_SHEET, SHEET_NAME, write_forms
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import SAMPLE
from tests.helpers import header_of

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
        "前年度事業評価",
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
