"""Returns in: one defect per tiny workbook, each asserting code and cell; and what is stored when."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from hyoka.collect import collect, import_table
from hyoka.forms import META_SHEET, SHEET_NAME
from hyoka.problems import CATALOGUE
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import SAMPLE
from tests.helpers import GOOD, Edit, department_form, header_of, make_form

R4, R5 = FiscalYear(2022), FiscalYear(2023)


def cell(roles: dict[str, int], role: str, row: int) -> str:
    return f"{openpyxl.utils.get_column_letter(roles[role])}{row}"


def flat(ws: Workspace, path: Path, year: FiscalYear = R5, **kw: object) -> list[list[object]]:
    result = collect(ws, [path], year, **kw)  # type: ignore[arg-type]
    (f,) = result.files
    return [[p.cell, p.code] for p in f.problems]


def stored_count(ws: Workspace) -> dict[str, int]:
    with ws.store() as s:
        counts = s.counts()
    counts.pop("submissions")  # rejections are recorded; rows never
    return counts


# --- row rules: one defect each ------------------------------------------------------------------


def set_(role: str, value: object, offset: int = 0) -> Edit:
    def edit(sheet, first, roles):  # type: ignore[no-untyped-def]
        sheet.cell(first + offset, roles[role]).value = value

    return edit


@pytest.mark.parametrize(
    ("role", "value", "code"),
    [
        ("rating", None, "rating-blank"),
        ("rating", "E", "rating-not-in-scale"),
        ("rating", "A+", "rating-not-in-scale"),
        ("rating", "良", "rating-not-in-scale"),
        ("rating", '=IF(1=1,"A","B")', "formula-no-value"),
        ("achievement", None, "achievement-blank"),
        ("achievement", "   ", "achievement-blank"),
        ("achievement", "x" * 1_000_000, "text-too-long"),
    ],
)
def test_row_error_rejects_file_and_names_cell(
    ws_r4: Workspace, tmp_path: Path, role: str, value: object, code: str
) -> None:
    before = stored_count(ws_r4)
    path = make_form(ws_r4, tmp_path, set_(role, value))
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    assert flat(ws_r4, path) == [[cell(roles, role, header + 1), code]]
    assert stored_count(ws_r4) == before


def test_normalised_codes_are_accepted(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(
        ws_r4,
        tmp_path,
        lambda s, f, r: (
            s.cell(f, r["rating"]).__setattr__("value", "Ａ"),
            s.cell(f + 1, r["rating"]).__setattr__("value", " b "),
        ),
    )
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    result = collect(ws_r4, [path], R5)
    assert result.ok
    assert [[p.cell, p.code, p.message[:11]] for p in result.files[0].problems] == [
        [cell(roles, "rating", header + 1), "rating-normalized", "事業評価「Ａ」を「A」"],
        [cell(roles, "rating", header + 2), "rating-normalized", "事業評価「b」を「B」"],
    ]
    with ws_r4.store() as s:
        assert sorted(p.rating for p in s.current_parts(R5)) == ["A", "B"]


def test_a_zero_width_space_in_a_rating_is_read_away(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, lambda s, f, r: s.cell(f, r["rating"]).__setattr__("value", "A\u200b"))
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    result = collect(ws_r4, [path], R5)
    assert result.ok
    assert [[p.cell, p.code, p.message] for p in result.files[0].problems] == [
        [
            cell(roles, "rating", header + 1),
            "rating-normalized",
            "事業評価「A\u200b」を「A」として読み取りました（全角・小文字・空白・見えない文字は自動で直します）。",
        ]
    ]
    with ws_r4.store() as s:
        assert sorted(p.rating for p in s.current_parts(R5)) == ["A", "B"]


def test_outlook_blank_is_a_warning_and_stored(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, set_("outlook", None))
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    result = collect(ws_r4, [path], R5)
    assert result.ok and result.files[0].status == "accepted"
    assert [[p.cell, p.code] for p in result.files[0].problems] == [
        [cell(roles, "outlook", header + 1), "outlook-blank"]
    ]


def test_reason_required_by_scale(ws_r4: Workspace, tmp_path: Path) -> None:
    values = {"5": ("未実施。", "D", ""), "6": GOOD["6"]}
    path = make_form(ws_r4, tmp_path, values=values)
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    assert flat(ws_r4, path) == [
        [cell(roles, "outlook", header + 1), "reason-missing"],
        [cell(roles, "rating", header + 1), "rating-jump"],
    ]


def test_prior_rating_differs_is_a_warning(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, set_("prior", "C"))
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    result = collect(ws_r4, [path], R5)
    assert result.ok
    assert [[p.cell, p.code] for p in result.files[0].problems] == [
        [cell(roles, "prior", header + 1), "prior-rating-differs"]
    ]
    assert "保存済みの前年度評価は「A」" in result.files[0].problems[0].message


def test_prior_rating_on_new_project(sample_ws: Workspace, tmp_path: Path) -> None:
    path = make_form(
        sample_ws,
        tmp_path,
        set_("prior", "B"),
        department="公民館",
        values={"32": ("交流会を開いた。", "B", "続ける。")},
    )
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    assert flat(sample_ws, path) == [[cell(roles, "prior", header + 1), "prior-rating-on-new"]]


def test_rating_jump_is_info(ws_r4: Workspace, tmp_path: Path) -> None:
    values = {"5": ("課題が大きい。", "C", "改善策を検討する。"), "6": GOOD["6"]}
    path = make_form(ws_r4, tmp_path, values=values)
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    result = collect(ws_r4, [path], R5)
    assert result.ok
    assert [[p.cell, p.code] for p in result.files[0].problems] == [
        [cell(roles, "rating", header + 1), "rating-jump"]
    ]


def test_project_unknown(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, set_("project", "①【事業No.99】存在しない事業"))
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    assert flat(ws_r4, path) == [
        [cell(roles, "project", header + 1), "project-unknown"],
        [None, "row-missing"],
    ]


def test_department_unknown(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, set_("department", "経済課"))
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    assert flat(ws_r4, path) == [
        [cell(roles, "department", header + 1), "department-unknown"],
        [None, "row-missing"],
    ]


def test_row_of_another_department(ws_r4: Workspace, tmp_path: Path) -> None:
    def edit(sheet, first, roles):  # type: ignore[no-untyped-def]
        r = first + 2
        sheet.cell(r, roles["project"]).value = "①【事業No.1】ユニバーサルデザインによるまちづくりの推進"
        sheet.cell(r, roles["department"]).value = "地域福祉課"
        sheet.cell(r, roles["achievement"]).value = "他課の行"
        sheet.cell(r, roles["rating"]).value = "A"

    path = make_form(ws_r4, tmp_path, edit)
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    assert flat(ws_r4, path) == [[cell(roles, "project", header + 3), "row-other-department"]]


def test_duplicate_row(ws_r4: Workspace, tmp_path: Path) -> None:
    def edit(sheet, first, roles):  # type: ignore[no-untyped-def]
        for c in range(1, 8):
            sheet.cell(first + 2, c).value = sheet.cell(first, c).value

    path = make_form(ws_r4, tmp_path, edit)
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    problems = collect(ws_r4, [path], R5).files[0].problems
    assert [[p.cell, p.code] for p in problems] == [[cell(roles, "project", header + 3), "row-duplicate"]]
    assert cell(roles, "project", header + 1) in problems[0].message


def test_row_missing(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, lambda s, f, r: s.delete_rows(f + 1))
    problems = collect(ws_r4, [path], R5).files[0].problems
    assert [[p.cell, p.code] for p in problems] == [[None, "row-missing"]]
    assert "事業No.6（地域安全課）" in problems[0].message


def test_joint_row_part_that_differs_is_taken_with_a_warning(ws_r4: Workspace, tmp_path: Path) -> None:
    # Issue 9 1.2: a disagreeing part is accepted (the row is 不一致 until the parts agree), so that a
    # correction can come in either order; it used to be rejected as joint-rating-conflict.
    kaigo = department_form(ws_r4, tmp_path, "介護福祉課", "A")
    assert collect(ws_r4, [kaigo], R5).ok
    path = department_form(ws_r4, tmp_path, "広報秘書課", "B")
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    (f,) = collect(ws_r4, [path], R5).files
    assert f.status == "accepted"
    joint = [p for p in f.problems if p.code.startswith("joint-")]
    assert [[p.cell, p.code, p.severity] for p in joint] == [
        [cell(roles, "rating", header + 1), "joint-rating-differs", "warning"]
    ]
    assert "広報秘書課は「B」、受付済みの介護福祉課は「A」" in joint[0].message


def test_joint_row_texts_combined_in_plan_order(ws_r4: Workspace, tmp_path: Path) -> None:
    from hyoka.results import load_year

    for dept, text in (("広報秘書課", "人権講座"), ("介護福祉課", "認知症講座")):
        path = department_form(ws_r4, tmp_path, dept, "A", achievement=text, outlook="続ける")
        assert collect(ws_r4, [path], R5).ok
    with ws_r4.store() as s:
        row = load_year(s, ws_r4.plan, R5)[("9", "介護福祉課・広報秘書課")]
    assert row.achievement == "認知症講座\n人権講座"  # plan order, not arrival order
    assert row.complete


# --- file rules ------------------------------------------------------------------------------------


def only_codes(ws: Workspace, path: Path, year: FiscalYear = R5) -> list[str]:
    return [p.code for p in collect(ws, [path], year).files[0].problems]


def test_file_rules(ws_r4: Workspace, tmp_path: Path) -> None:
    good = make_form(ws_r4, tmp_path)
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert only_codes(ws_r4, tmp_path / "old.xls") == ["file-old-xls"]
    # Other bytes than old.xls: an identical file would be reported as already rejected.
    (tmp_path / "renamed.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 513)
    assert only_codes(ws_r4, tmp_path / "renamed.xlsx") == ["file-encrypted"]
    for suffix in (".xlsx", ".xls", ".ods"):  # 0 bytes: a failed save or copy, whatever the name says
        (tmp_path / f"empty{suffix}").write_bytes(b"")
        assert only_codes(ws_r4, tmp_path / f"empty{suffix}") == ["file-empty"]
    (tmp_path / "cut.xlsx").write_bytes(good.read_bytes()[:3000])
    assert only_codes(ws_r4, tmp_path / "cut.xlsx") == ["file-corrupt"]
    (tmp_path / "note.txt").write_text("hello", encoding="utf-8")
    assert only_codes(ws_r4, tmp_path / "note.txt") == ["file-not-excel"]
    docx = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert only_codes(ws_r4, docx) == ["file-not-excel"]
    (tmp_path / "~$form.xlsx").write_bytes(b"lock")
    result = collect(ws_r4, [tmp_path / "~$form.xlsx"], R5)
    assert (
        result.ok and result.files[0].status == "skipped" and result.files[0].problems[0].code == "file-lock"
    )


def test_password_protected_workbook(ws_r4: Workspace, tmp_path: Path) -> None:
    import msoffcrypto.format.ooxml as ooxml

    good = make_form(ws_r4, tmp_path)
    out = io.BytesIO()
    with good.open("rb") as fh:
        ooxml.OOXMLFile(fh).encrypt("secret", out)
    path = tmp_path / "locked.xlsx"
    path.write_bytes(out.getvalue())
    assert only_codes(ws_r4, path) == ["file-encrypted"]


def test_zip_bomb_refused_before_parsing(ws_r4: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * 50_000_000)
    assert path.stat().st_size < 200_000
    assert only_codes(ws_r4, path) == ["file-too-large"]


def test_no_sheet_with_headings(ws_r4: Workspace, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["名前", "値"])
    wb.save(tmp_path / "other.xlsx")
    assert only_codes(ws_r4, tmp_path / "other.xlsx") == ["sheet-not-found"]


def test_form_of_another_year(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, year=FiscalYear(2024))
    assert only_codes(ws_r4, path) == ["form-year-mismatch"]


def test_form_from_another_plan_version_is_a_warning(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path)
    wb = openpyxl.load_workbook(path)
    for row in wb[META_SHEET].iter_rows():
        if row[0].value == "plan_fingerprint":
            row[1].value = "0000000000000000"
    wb.save(path)
    result = collect(ws_r4, [path], R5)
    assert result.ok and [p.code for p in result.files[0].problems] == ["form-plan-changed"]


def test_rows_copied_into_a_fresh_workbook(ws_r4: Workspace, tmp_path: Path) -> None:
    form = openpyxl.load_workbook(make_form(ws_r4, tmp_path))[SHEET_NAME]
    header, _ = header_of(form)
    fresh = openpyxl.Workbook()
    sheet = fresh.active
    sheet.title = "Sheet1"
    sheet.append(["地域安全課からの回答"])
    for row in form.iter_rows(min_row=header, values_only=True):
        sheet.append(list(row))
    fresh.save(tmp_path / "回答.xlsx")
    result = collect(ws_r4, [tmp_path / "回答.xlsx"], R5)
    assert result.ok, result.to_dict()
    assert result.files[0].submitter == "地域安全課" and result.files[0].rows == 2


def test_department_cannot_be_identified(ws_r4: Workspace, tmp_path: Path) -> None:
    fresh = openpyxl.Workbook()
    fresh.active.append(
        ["個別事業・取り組み", "担当課", "事業実績・評価理由", "事業評価", "今後の事業計画・展望"]
    )
    fresh.active.append(
        ["②【事業No.9】市民に対する啓発活動の推進", "介護福祉課・広報秘書課", "実績", "A", "展望"]
    )
    fresh.save(tmp_path / "回答.xlsx")
    assert only_codes(ws_r4, tmp_path / "回答.xlsx") == ["form-department-unknown"]


# --- semantics ---------------------------------------------------------------------------------------


def test_identical_file_changes_nothing(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path)
    assert collect(ws_r4, [path], R5).files[0].status == "accepted"
    with ws_r4.store() as s:
        before = s.counts()
    again = collect(ws_r4, [path], R5)
    assert again.ok and again.files[0].status == "unchanged"
    with ws_r4.store() as s:
        assert s.counts() == before


def test_newer_file_replaces_rows_and_history_keeps_earlier(ws_r4: Workspace, tmp_path: Path) -> None:
    first = make_form(ws_r4, tmp_path / "1")
    assert collect(ws_r4, [first], R5).ok
    second = make_form(ws_r4, tmp_path / "2", values={"5": ("改訂版", "B", "改訂"), "6": GOOD["6"]})
    assert collect(ws_r4, [second], R5).ok
    with ws_r4.store() as s:
        current = {p.project_no: p for p in s.current_parts(R5)}
        assert current["5"].achievement == "改訂版" and current["5"].rating == "B"
        assert len(current) == 2
        history = [x for x in s.submissions(R5) if x.status == "accepted"]
        assert len(history) == 2
        assert (
            s.conn.execute("SELECT COUNT(*) FROM entries WHERE fiscal_year = ?", (R5.start,)).fetchone()[0]
            == 4
        )
        # What a run takes as each department's return in force at its start (one query for all).
        other = make_form(
            ws_r4, tmp_path / "3", department="健康課", values={"7": ("会議を開催", "B", "継続")}
        )
        assert collect(ws_r4, [other], R5).ok
        in_force = s.forms_in_force(R5)
        assert sorted(in_force) == ["健康課", "地域安全課"]
        assert in_force == {who: s.in_force(R5, who) for who in in_force}
        assert in_force["地域安全課"].file_name == second.name


def test_dry_run_stores_nothing(ws_r4: Workspace, tmp_path: Path) -> None:
    with ws_r4.store() as s:
        before = s.counts()
    bad = make_form(ws_r4, tmp_path / "bad", set_("rating", "E"))
    good = make_form(ws_r4, tmp_path / "good", department="健康課", values={"7": ("会議を開催", "B", "継続")})
    result = collect(ws_r4, [bad, good], R5, dry_run=True)
    assert [f.status for f in result.files] == ["rejected", "checked"]
    with ws_r4.store() as s:
        assert s.counts() == before


def test_exception_in_the_middle_leaves_store_as_it_was(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from hyoka import store as store_module

    path = make_form(ws_r4, tmp_path)
    with ws_r4.store() as s:
        before = s.counts()
        before_parts = s.current_parts(R4)
    calls = {"n": 0}
    real_execute = sqlite3.Connection.execute

    class Exploding(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            if sql.startswith("INSERT OR REPLACE INTO current"):
                calls["n"] += 1
                raise RuntimeError("disk went away")  # after the rows are written, inside the transaction
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(
        store_module.sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=Exploding, **k)
    )
    result = collect(ws_r4, [path], R5)
    assert not result.ok and result.files[0].status == "rejected"
    assert [p.code for p in result.files[0].problems] == ["internal-error"]
    assert calls["n"] == 1
    monkeypatch.undo()
    with ws_r4.store() as s:
        assert s.counts() == before
        assert s.current_parts(R4) == before_parts
        assert s.current_parts(R5) == []


def test_feedback_copy_marks_cells(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, set_("rating", "E"))
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    result = collect(ws_r4, [path], R5, feedback_dir=tmp_path / "fb")
    fb = result.files[0].feedback
    assert fb is not None and fb.parent == tmp_path / "fb"
    wb = openpyxl.load_workbook(fb)
    bad = wb[SHEET_NAME][cell(roles, "rating", header + 1)]
    assert bad.fill.fgColor.rgb.endswith("FFC7CE")
    assert "評価基準にありません" in bad.comment.text
    assert wb.sheetnames[0] == "修正のお願い"
    assert path.read_bytes() == path.read_bytes()  # the original is untouched (still readable)


def test_cli_collect_json_and_exit_codes(ws_r4: Workspace, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    bad = make_form(ws_r4, tmp_path / "bad", set_("rating", "E"))
    result = run("collect", bad, "--year", "R5", "--json", "-w", ws_r4.root)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["schema"] == "hyoka.collect/1" and data["valid"] is False
    assert data["files"][0]["problems"][0]["code"] == "rating-not-in-scale"
    good = make_form(ws_r4, tmp_path / "good")
    result = run("collect", good, "--year", "R5", "-w", ws_r4.root)
    assert result.exit_code == 0 and "【受付】" in result.output
    assert run("collect", good, "--year", "R99x", "-w", ws_r4.root).exit_code == 2
    assert run("collect", tmp_path / "nothing-here", "--year", "R5", "-w", ws_r4.root).exit_code == 1


def test_koganei_r5_set_collects_and_status_complete(ws_r4: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    from hyoka.results import load_year

    status = run("status", "--year", "R5", "-w", ws_r4.root)
    assert status.exit_code == 1 and "未提出" in status.output
    result = collect(ws_r4, [SAMPLE / "returned" / "R5"], R5)
    assert result.ok
    assert sum(f.status == "accepted" for f in result.files) == 11
    assert not any(p.severity == "error" for f in result.files for p in f.problems)
    with ws_r4.store() as s:
        rows = load_year(s, ws_r4.plan, R5)
    assert len(rows) == 57 and all(r.complete for r in rows.values())
    status = run("status", "--year", "R5", "-w", ws_r4.root)
    assert status.exit_code == 0, status.output
    assert "完了 11/11 課" in status.output


def test_import_flat_table_with_the_same_rules(sample_ws: Workspace, tmp_path: Path) -> None:
    csv_path = tmp_path / "r4.csv"
    csv_path.write_text(
        "事業No,担当課,事業評価\n1,地域福祉課,Ａ\n2,地域福祉課,E\n99,地域福祉課,A\n", encoding="cp932"
    )
    result = import_table(sample_ws, csv_path, R4)
    assert [[p.cell, p.code] for p in result.files[0].problems] == [
        ["C3", "rating-not-in-scale"],
        ["A4", "project-unknown"],
        [None, "import-rows-missing"],
        ["C2", "rating-normalized"],
    ]
    with sample_ws.store() as s:
        assert s.current_parts(R4) == []


def test_import_needs_rows_and_maps_one_department_of_a_joint_row(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("事業No,担当課,事業評価\n", encoding="utf-8")
    assert [(p.code, p.message) for p in import_table(sample_ws, empty, R4).files[0].problems] == [
        (
            "table-empty",
            "見出しの下に行がありません。事業No・担当課・事業評価を1行に1件ずつ入力してください。",
        )
    ]
    joint = tmp_path / "joint.csv"
    joint.write_text("事業No,担当課,事業評価\n9,介護福祉課,A\n9,広報秘書課,A\n", encoding="utf-8")
    result = import_table(sample_ws, joint, R4)
    assert result.ok and [p.code for p in result.files[0].problems] == ["import-rows-missing"]
    with sample_ws.store() as s:
        parts = s.current_parts(R4)
    assert sorted((p.department, p.submitter) for p in parts) == [
        ("介護福祉課・広報秘書課", "介護福祉課"),
        ("介護福祉課・広報秘書課", "広報秘書課"),
    ]


def test_every_catalogued_code_has_message_title_and_docs() -> None:
    readme = (SAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    for code, kind in CATALOGUE.items():
        assert f"| `{code}` |" in readme, f"{code} is not documented in README.md"
        assert code == code.lower() and " " not in code
        assert kind.title and any("\u3040" <= c <= "\u9fff" for c in kind.template)


def test_joint_conflict_found_between_files_of_one_run(ws_r4: Workspace, tmp_path: Path) -> None:
    paths = [
        department_form(ws_r4, tmp_path, "介護福祉課", "A"),
        department_form(ws_r4, tmp_path, "広報秘書課", "B"),
    ]
    for dry_run in (True, False):
        result = collect(ws_r4, paths, R5, dry_run=dry_run)
        # The second file sees the first's part: accepted, with the warning that the row is 不一致.
        codes = {
            f.submitter: [p.code for p in f.problems if p.code.startswith("joint-")] for f in result.files
        }
        assert codes == {"介護福祉課": [], "広報秘書課": ["joint-rating-differs"]}
        assert result.ok


def test_many_files_are_read_in_worker_processes_with_the_same_result(
    ws_r4: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka import collect as collect_module
    from hyoka import reading as reading_module

    started: list[int] = []

    def start_workers(files: int) -> list[reading_module.Worker]:
        workers = reading_module.start_workers(files)
        started.append(len(workers))
        return workers

    monkeypatch.setattr(collect_module, "start_workers", start_workers)
    monkeypatch.setattr(reading_module, "PARALLEL_MIN_FILES", {"fork": 2, "spawn": 2})
    monkeypatch.setattr(reading_module.os, "cpu_count", lambda: 2)
    files = [SAMPLE / "returned" / "R5", SAMPLE / "returned" / "mistakes"]
    parallel = collect(ws_r4, files, R5, dry_run=True)
    monkeypatch.setattr(reading_module, "PARALLEL_MIN_FILES", {"fork": 10_000, "spawn": 10_000})
    sequential = collect(ws_r4, files, R5, dry_run=True)
    assert started == [2, 0]
    assert len(parallel.files) == 17
    assert [f.to_dict() for f in parallel.files] == [f.to_dict() for f in sequential.files]


def test_a_return_reached_through_a_symbolic_link_is_stored_with_the_file_it_links_to(
    ws_r4: Workspace, tmp_path: Path
) -> None:
    form = make_form(ws_r4, tmp_path / "src")
    folder = tmp_path / "in"
    folder.mkdir()
    link = folder / "調査票_R5_地域安全課.xlsx"
    try:
        link.symlink_to(form)
    except OSError:
        pytest.skip("this file system or user cannot make symbolic links")
    result = collect(ws_r4, [link], R5)
    assert [f.status for f in result.files] == ["accepted"]
    with ws_r4.store() as s:
        paths = [(x.file_name, x.file_path) for x in s.submissions() if x.kind == "form"]
    assert paths == [(link.name, str(form.resolve()))]


# --- a run stopped or failing part-way (issue 9: 1.3, 1.4) -------------------------------------------


def test_a_file_that_fails_while_stored_does_not_count_for_the_rest_of_the_run(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import shutil

    from hyoka.store import Store

    path = make_form(ws_r4, tmp_path)
    copy = path.with_name("写し.xlsx")
    shutil.copy(path, copy)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    os.utime(copy, (1_700_000_100, 1_700_000_100))
    real_add = Store.add_submission
    calls = {"n": 0}

    def fails_once(self: Store, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug while storing")
        return real_add(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "add_submission", fails_once)
    result = collect(ws_r4, [path, copy], R5)
    assert [(f.name, f.status, [p.code for p in f.problems]) for f in result.files] == [
        (path.name, "rejected", ["internal-error"]),
        ("写し.xlsx", "accepted", []),  # not 変更なし: nothing of its twin was stored
    ]
    with ws_r4.store() as s:
        assert {p.achievement for p in s.current_parts(R5)} == {GOOD["5"][0], GOOD["6"][0]}


def test_ctrl_c_while_a_file_is_parsed_is_not_a_rejection(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka import reading as reading_module

    first = make_form(ws_r4, tmp_path / "1")
    second = make_form(ws_r4, tmp_path / "2", department="健康課", values={"7": ("会議を開催", "B", "継続")})
    import os

    os.utime(first, (1_700_000_000, 1_700_000_000))
    real_read = reading_module.read_workbook

    def interrupted_on_second(path: Path, *args: object) -> object:
        if path == second:
            raise KeyboardInterrupt
        return real_read(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(reading_module, "read_workbook", interrupted_on_second)
    result = collect(ws_r4, [first, second], R5)
    assert [(f.name, f.status) for f in result.files] == [(first.name, "accepted")]
    assert result.interrupted is not None and result.interrupted.reason == "keyboard-interrupt"
    assert result.interrupted.not_processed == [second]
    assert not result.ok and result.to_dict()["interrupted"]["not_processed"] == [str(second)]
    with ws_r4.store() as s:
        assert [x.status for x in s.submissions(R5)] == ["accepted"]  # no rejection recorded


# --- which return is in force: future-dated files, deliberate older ones, duplicates (1.7, 2.8) ---------


def two_versions(ws: Workspace, tmp_path: Path) -> tuple[Path, Path]:
    first = make_form(
        ws, tmp_path / "1", values={"5": ("第1版", "A", "続ける"), "6": ("第1版", "B", "続ける")}
    )
    second = make_form(
        ws, tmp_path / "2", values={"5": ("第2版", "A", "続ける"), "6": ("第2版", "B", "続ける")}
    )
    return first, second


def in_force_text(ws: Workspace) -> set[str]:
    with ws.store() as s:
        return {p.achievement for p in s.current_parts(R5)}


def test_a_future_dated_return_does_not_block_the_next_one(ws_r4: Workspace, tmp_path: Path) -> None:
    import os
    import time

    wrong_clock, fixed = two_versions(ws_r4, tmp_path)
    later = time.time() + 30 * 86_400
    os.utime(wrong_clock, (later, later))
    result = collect(ws_r4, [wrong_clock], R5)
    assert result.ok and [p.code for p in result.files[0].problems] == ["file-dated-in-future"]
    result = collect(ws_r4, [fixed], R5)  # saved now, i.e. "before" the wrong timestamp
    assert result.ok, result.to_dict()
    (p,) = result.files[0].problems
    assert p.code == "current-dated-in-future" and wrong_clock.name in p.message
    assert in_force_text(ws_r4) == {"第2版"}


def test_an_older_file_is_accepted_when_named_deliberately(ws_r4: Workspace, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    import os

    older, newer = two_versions(ws_r4, tmp_path)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    assert collect(ws_r4, [newer], R5).ok
    refused = collect(ws_r4, [older], R5).files[0].problems
    assert [p.code for p in refused] == ["file-older-than-current"]
    assert refused[0].message.endswith(
        "この版に戻す場合は、古い版として受け付けるよう指定して取り込んでください。"
    )
    result = run("collect", older, "--year", "R5", "-w", ws_r4.root, "--accept-older", older)
    assert result.exit_code == 0, result.output
    assert "older-file-accepted" in result.output
    assert in_force_text(ws_r4) == {"第1版"}


def test_accept_older_alone_collects_the_file_it_names(ws_r4: Workspace, tmp_path: Path) -> None:
    import os

    older, newer = two_versions(ws_r4, tmp_path)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    assert collect(ws_r4, [newer], R5).ok
    result = collect(ws_r4, [], R5, accept_older=[older])
    assert [(f.name, f.status, [p.code for p in f.problems]) for f in result.files] == [
        (older.name, "accepted", ["older-file-accepted"])
    ]


def test_an_identical_older_file_says_the_newer_return_stays_in_force(
    ws_r4: Workspace, tmp_path: Path
) -> None:
    import os

    older, newer = two_versions(ws_r4, tmp_path)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    assert collect(ws_r4, [older], R5).ok
    assert collect(ws_r4, [newer], R5).ok
    again = collect(ws_r4, [older], R5)
    (f,) = again.files
    assert f.status == "unchanged" and [p.code for p in f.problems] == ["file-duplicate-superseded"]
    assert f"「{newer.name}」" in f.problems[0].message and "有効なまま" in f.problems[0].message
    assert in_force_text(ws_r4) == {"第2版"}
    with ws_r4.store() as store:
        first, second = (s.received_at.strftime("%Y-%m-%d %H:%M:%S") for s in store.submissions(R5))
    # Both versions have the same name and may arrive within a minute: seconds and the folder tell them apart.
    assert f.problems[0].message == (
        f"同じ内容のファイルを受け付け済みです（{first} に受け付け）が、その後に受け付けた新しい"
        f"「{newer.name}」（{second} に受付、フォルダ {newer.parent.resolve()}）が有効なままです。"
        "このファイルでは何も変えていません（この版に戻す場合は、このファイルを古い版として"
        "受け付けるよう指定して取り込み直します）。"
    )
    # The one in force, collected again, is a plain duplicate.
    assert [p.code for p in collect(ws_r4, [newer], R5).files[0].problems] == ["file-duplicate"]
    # Brought back on purpose, the identical older file goes in force again.
    back = collect(ws_r4, [], R5, accept_older=[older]).files[0]
    assert (back.status, [p.code for p in back.problems]) == ("accepted", ["older-file-accepted"])
    assert in_force_text(ws_r4) == {"第1版"}


# --- smaller (2.18): the store gone, files that are not files, repeated rejections, migrations -----------


def test_a_rejected_file_collected_again_is_recorded_once(ws_r4: Workspace, tmp_path: Path) -> None:
    bad = make_form(ws_r4, tmp_path, set_("rating", "E"))
    first = collect(ws_r4, [bad], R5).files[0]
    assert [p.code for p in first.problems] == ["rating-not-in-scale"]
    second = collect(ws_r4, [bad], R5).files[0]
    assert second.status == "rejected"
    assert [p.code for p in second.problems] == ["rating-not-in-scale", "file-already-rejected"]
    with ws_r4.store() as s:
        assert [x.status for x in s.submissions(R5)] == ["rejected"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_or_pipe_is_refused_without_reading_it(ws_r4: Workspace, tmp_path: Path) -> None:
    import os

    assert only_codes(ws_r4, Path("/dev/zero")) == ["file-not-regular"]
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    assert only_codes(ws_r4, fifo) == ["file-not-regular"]  # opening it would wait for a writer


@pytest.mark.parametrize("how", ["missing", "empty"])
def test_a_store_that_went_missing_is_not_silently_recreated(ws_r4: Workspace, run, how: str) -> None:  # type: ignore[no-untyped-def]
    db = ws_r4.store_path
    if how == "missing":
        db.unlink()
    else:
        db.write_bytes(b"")
    result = run("status", "--year", "R4", "-w", ws_r4.root)
    assert result.exit_code == 1
    assert "バックアップから hyoka.db を戻してください" in result.output
    assert "hyoka.db.lock" in result.output and "Traceback" not in result.output
    assert db.exists() is (how == "empty")  # refused before SQLite could create it
    (db.parent / "hyoka.db.lock").unlink()  # the documented way to start afresh
    assert run("status", "--year", "R4", "-w", ws_r4.root).exit_code == 1  # nothing collected: exit 1
    assert db.stat().st_size > 0


def test_a_fresh_workspace_without_a_store_gets_one(sample_ws: Workspace) -> None:
    sample_ws.store_path.unlink()  # nothing was ever stored here: nothing to lose
    with sample_ws.store() as s:
        assert s.counts() == {"submissions": 0, "entries": 0, "current": 0}


def test_two_commands_migrating_an_old_store_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from hyoka import store as store_module
    from hyoka.store import MIGRATIONS, SCHEMA_VERSION, Store

    db = tmp_path / "hyoka.db"
    conn = sqlite3.connect(db)
    for script in MIGRATIONS[:3]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    real_execute = sqlite3.Connection.execute
    raced = {"done": False}

    class Racing(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            if sql == "BEGIN IMMEDIATE" and not raced["done"]:
                raced["done"] = True
                Store.open(db).close()  # another command migrates between our look and our write
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(
        store_module.sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=Racing, **k)
    )
    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raced["done"]


def test_a_fault_while_reading_is_reported_but_not_recorded_as_a_rejection(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka import reading as reading_module

    path = make_form(ws_r4, tmp_path)

    def broken(*args: object) -> object:
        raise RuntimeError("a bug in reading")

    monkeypatch.setattr(reading_module, "read_workbook", broken)
    (f,) = collect(ws_r4, [path], R5).files
    assert (f.status, [p.code for p in f.problems]) == ("rejected", ["internal-error"])
    with ws_r4.store() as s:
        assert s.submissions(R5) == []  # the department is not "sent back" for a fault of hyoka


def test_ctrl_c_that_a_parser_swallows_is_still_not_a_rejection(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib
    import signal

    from hyoka import reading as reading_module
    from hyoka.problems import problem

    path = make_form(ws_r4, tmp_path)

    def swallowing(p: Path, display: str, *args: object) -> object:
        # Ctrl-C while the XML is parsed, caught inside the library, which then fails on its
        # half-built state.
        with contextlib.suppress(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        return problem("file-corrupt", file=display, reason="形式が正しくありません: TypeError")

    monkeypatch.setattr(reading_module, "read_workbook", swallowing)
    result = collect(ws_r4, [path], R5)
    assert result.files == []
    assert result.interrupted is not None and result.interrupted.reason == "keyboard-interrupt"
    with ws_r4.store() as s:
        assert s.submissions(R5) == []


@pytest.mark.parametrize("name", ["typo.xlsx", "missing-folder", "/dev/null"])
def test_a_path_that_is_no_file_is_not_recorded_as_a_rejection(
    ws_r4: Workspace, tmp_path: Path, name: str
) -> None:
    # A mistyped path (or a device) is the clerk's slip, not a department's return: status must not
    # list it as 提出課不明の差戻し for the rest of the year.
    path = Path(name) if name.startswith("/") else tmp_path / name
    (f,) = collect(ws_r4, [path], R5).files
    assert [f.status, [p.code for p in f.problems]] == [
        "rejected",
        ["file-not-regular" if name == "/dev/null" else "file-not-found"],
    ]
    with ws_r4.store() as store:
        assert [s.file_name for s in store.submissions(R5)] == []


def test_an_import_of_some_rows_says_the_other_rows_keep_what_is_stored(
    ws_r4: Workspace, tmp_path: Path
) -> None:
    # After the year's returns are in, importing one corrected row must not claim that the 56 others
    # are left without a rating: they keep their stored ratings.
    assert collect(ws_r4, [SAMPLE / "returned" / "R5"], R5).ok
    one = tmp_path / "one.csv"
    one.write_text("事業No,担当課,事業評価\n9,介護福祉課・広報秘書課,B\n", encoding="utf-8")
    (f,) = import_table(ws_r4, one, R5).files
    assert [p.code for p in f.problems] == ["import-rows-missing"]
    assert f.problems[0].message.endswith(
        "ほか53行）。これらの行は、この年度の評価が保存済みならそのまま残り、保存されていなければ評価がないままです。"
    )
    with ws_r4.store() as s:
        assert len(s.current_parts(R5)) == 57
