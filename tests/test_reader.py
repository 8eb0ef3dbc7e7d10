"""Reading returned files (issue 9): strict workbooks, notes beside the table, plan headings,
feedback copies sent back, files that are not forms, several form sheets, unbounded reads."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from hyoka.collect import collect
from hyoka.forms import META_SHEET, SHEET_NAME
from hyoka.plan import HEADINGS
from hyoka.problems import CATALOGUE, HyokaError
from hyoka.reading import discover
from hyoka.workspace import Workspace, load_plan
from tests.conftest import SAMPLE, read_csv
from tests.helpers import R5, header_of, make_form

STRICT_NAMESPACES = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
}


def make_strict(source: Path, target: Path) -> Path:
    """What Excel's "Strict Open XML Spreadsheet" option writes: the same parts in the strict namespaces."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith((".xml", ".rels")):
                for old, new in STRICT_NAMESPACES.items():
                    data = data.replace(old, new)
            zout.writestr(info, data)
    return target


def codes(ws: Workspace, path: Path) -> list[list[object]]:
    (f,) = collect(ws, [path], R5).files
    return [[p.cell, p.code] for p in f.problems]


def plan_xlsx(path: Path, headings: list[str] | None = None) -> Path:
    rows = read_csv(SAMPLE / "plan.csv")
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(headings or list(rows[0]))
    for r in rows:
        sheet.append(list(r.values()))
    wb.save(path)
    return path


# --- 1.8 strict Open XML -------------------------------------------------------------------------------


def test_strict_open_xml_return_has_its_own_code(ws_r4: Workspace, tmp_path: Path) -> None:
    strict = make_strict(make_form(ws_r4, tmp_path), tmp_path / "strict.xlsx")
    (f,) = collect(ws_r4, [strict], R5).files
    assert [[p.cell, p.code] for p in f.problems] == [[None, "file-strict-ooxml"]]
    assert "Excel ブック (*.xlsx)" in f.problems[0].message


def test_strict_open_xml_plan_master_is_refused_with_the_advice(tmp_path: Path) -> None:
    strict = make_strict(plan_xlsx(tmp_path / "plan.xlsx"), tmp_path / "plan_strict.xlsx")
    with pytest.raises(HyokaError) as caught:
        load_plan(strict)
    assert str(caught.value) == f"plan_strict.xlsx: {CATALOGUE['file-strict-ooxml'].template}"


# --- 2.5 notes below or beside the table ---------------------------------------------------------------


def test_note_below_the_table_is_reported_at_its_own_cell(ws_r4: Workspace, tmp_path: Path) -> None:
    def note(sheet, first, roles):  # type: ignore[no-untyped-def]
        sheet.cell(first + 5, 1).value = "※担当者は6月に交代します"

    path = make_form(ws_r4, tmp_path, note)
    header, _ = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    (f,) = collect(ws_r4, [path], R5).files
    assert [[p.cell, p.code] for p in f.problems] == [[f"A{header + 6}", "row-without-project"]]
    assert "「※担当者は6月に交代します」" in f.problems[0].message


def test_note_beside_the_table_is_reported_at_its_own_cell(ws_r4: Workspace, tmp_path: Path) -> None:
    def note(sheet, first, roles):  # type: ignore[no-untyped-def]
        sheet.cell(first + 3, 12).value = "問合せ先 内線123"

    path = make_form(ws_r4, tmp_path, note)
    header, _ = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    (f,) = collect(ws_r4, [path], R5).files
    assert [[p.cell, p.code] for p in f.problems] == [[f"L{header + 4}", "row-without-project"]]
    assert "「問合せ先 内線123」" in f.problems[0].message


# --- 2.6 plan headings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("heading", "typo"), [("事業No", "事業番号"), ("施策", "施作")])
def test_one_misspelt_plan_heading_is_the_only_one_named(tmp_path: Path, heading: str, typo: str) -> None:
    headings = list(HEADINGS)
    headings[headings.index(heading)] = typo
    _, problems = load_plan(plan_xlsx(tmp_path / "plan.xlsx", headings))
    assert [(p.code, p.row) for p in problems] == [("plan-heading-missing", 1)]
    assert problems[0].message.startswith(f"見出し 「{heading}」 の列がありません。")


@pytest.mark.parametrize(
    ("goal_no", "no"),
    [
        ("基本目標NO", "事業No."),
        ("基本目標Ｎｏ．", "事業ＮＯ"),
        ("基本目標 No", "事業no"),
        ("基本目標No.", "事業Ｎｏ"),
    ],
)
def test_plan_heading_variants_are_accepted(tmp_path: Path, goal_no: str, no: str) -> None:
    headings = list(HEADINGS)
    headings[0], headings[5] = goal_no, no
    measure = headings.index("施策No")
    headings[measure] = "施策ＮＯ．"
    headings[headings.index("担当課")] = "担当課"  # full-width variants of the other headings
    plan, problems = load_plan(plan_xlsx(tmp_path / "plan.xlsx", headings))
    assert problems == []
    assert plan is not None and plan.counts()["rows"] == 57


# --- 2.1 feedback copies sent back -----------------------------------------------------------------------


def _feedback_copy(ws: Workspace, tmp_path: Path) -> Path:
    bad = make_form(ws, tmp_path, lambda s, f, r: setattr(s.cell(f, r["rating"]), "value", "E"))
    (f,) = collect(ws, [bad], R5, feedback_dir=tmp_path / "returned").files
    assert f.status == "rejected" and f.feedback is not None
    return f.feedback


def test_uncorrected_feedback_copy_is_skipped_with_a_reason(ws_r4: Workspace, tmp_path: Path) -> None:
    copy = _feedback_copy(ws_r4, tmp_path)
    assert copy.name == "要修正_調査票_R5_地域安全課.xlsx"
    for named in ([copy.parent], [copy]):
        (f,) = collect(ws_r4, named, R5).files
        assert (f.status, [p.code for p in f.problems]) == ("skipped", ["file-feedback-copy"])


def test_corrected_feedback_copy_is_read_as_a_return(ws_r4: Workspace, tmp_path: Path) -> None:
    copy = _feedback_copy(ws_r4, tmp_path)
    wb = openpyxl.load_workbook(copy)
    sheet = wb[SHEET_NAME]
    header, roles = header_of(sheet)
    sheet.cell(header + 1, roles["rating"]).value = "A"
    wb.save(copy)
    result = collect(ws_r4, [copy.parent], R5)
    (f,) = result.files
    assert (f.status, f.submitter, f.rows) == ("accepted", "地域安全課", 2)


def test_feedback_copy_of_a_form_without_hidden_sheet_is_marked(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, lambda s, f, r: setattr(s.cell(f, r["rating"]), "value", "E"))
    wb = openpyxl.load_workbook(path)
    del wb[META_SHEET]
    wb.save(path)
    (f,) = collect(ws_r4, [path], R5, feedback_dir=tmp_path / "fb").files
    assert f.feedback is not None
    (again,) = collect(ws_r4, [f.feedback], R5).files
    assert [p.code for p in again.problems] == ["file-feedback-copy"]


# --- 2.17 files that are not forms, several form sheets ----------------------------------------------------


def test_files_that_are_not_forms_are_listed_as_skipped(ws_r4: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("scan.pdf", "letter.docx", "old.doc", "list.csv"):
        (folder / name).write_bytes(b"x")
    (folder / ".DS_Store").write_bytes(b"x")
    (folder / "Thumbs.db").write_bytes(b"x")
    assert sorted(p.name for p in discover([folder])) == ["letter.docx", "list.csv", "old.doc", "scan.pdf"]
    result = collect(ws_r4, [folder], R5)
    assert result.ok
    assert sorted((f.name, f.status, [p.code for p in f.problems]) for f in result.files) == [
        ("letter.docx", "skipped", ["file-not-a-form"]),
        ("list.csv", "skipped", ["file-not-a-form"]),
        ("old.doc", "skipped", ["file-not-a-form"]),
        ("scan.pdf", "skipped", ["file-not-a-form"]),
    ]


def test_two_sheets_that_look_like_the_form_warn_naming_both(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path)
    wb = openpyxl.load_workbook(path)
    edited = wb.create_sheet("調査票 (2)")  # Excel's 移動またはコピー, values only
    for row in wb[SHEET_NAME].iter_rows():
        for c in row:
            edited.cell(c.row, c.column).value = c.value
    header, roles = header_of(edited)
    edited.cell(header + 1, roles["rating"]).value = "D"
    wb.save(path)
    result = collect(ws_r4, [path], R5)
    (f,) = result.files
    assert f.status == "accepted"
    assert [[p.sheet, p.code] for p in f.problems] == [["調査票", "sheet-several-forms"]]
    assert "「調査票 (2)」" in f.problems[0].message and "「調査票」" in f.problems[0].message


# --- 2.18 bounded reads -------------------------------------------------------------------------------------


def test_a_file_that_grows_while_read_is_not_read_without_limit(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hyoka.reading as reading_module
    import hyoka.workbook as workbook

    path = make_form(ws_r4, tmp_path)
    monkeypatch.setattr(reading_module, "MAX_FILE_BYTES", 1000)  # the file is larger than the limit
    monkeypatch.setattr(workbook, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(Path, "stat", _lying_stat(Path.stat))
    (f,) = collect(ws_r4, [path], R5).files
    assert [p.code for p in f.problems] == ["file-too-large"]


def _lying_stat(real):  # type: ignore[no-untyped-def]
    """stat that says 10 bytes, as /dev/zero or a file still being copied does."""
    import os

    def fake(self, *a, **kw):  # type: ignore[no-untyped-def]
        st = real(self, *a, **kw)
        if self.suffix == ".xlsx":
            values = list(st)
            values[6] = 10
            return os.stat_result(values)
        return st

    return fake


def test_an_archive_among_the_returns_is_listed_with_the_advice_to_unpack_it(
    ws_r4: Workspace, tmp_path: Path
) -> None:
    # Departments often send their forms zipped (or as .lzh from older Japanese tools): collect must not
    # pass over the archive in silence, and "save it as .xlsx" would be the wrong advice.
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("調査票_R5_公民館.zip", "古い.LZH"):
        (folder / name).write_bytes(b"PK\x03\x04")
    result = collect(ws_r4, [folder], R5)
    assert result.ok
    assert sorted((f.name, f.status, [p.code for p in f.problems]) for f in result.files) == [
        ("古い.LZH", "skipped", ["file-archive"]),
        ("調査票_R5_公民館.zip", "skipped", ["file-archive"]),
    ]
    zipped = next(f for f in result.files if f.name.endswith(".zip"))
    assert zipped.problems[0].message == (
        "ZIPファイル（圧縮ファイル）のため読み飛ばしました。中の調査票を取り込むには、"
        "ファイルを展開（右クリックの「すべて展開」）し、展開してできたフォルダを指定してください。"
    )
