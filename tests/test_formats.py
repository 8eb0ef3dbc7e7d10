"""Returns, imports and plans in .xls and .ods (issue 15), read through calamine, and hostile files
against the new reader."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from hyoka.collect import collect, import_table
from hyoka.workspace import Workspace, init_workspace, load_plan
from hyoka.years import FiscalYear
from tests.conftest import SAMPLE
from tests.helpers import R5, header_of, make_form

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) がないため省略")


def convert(files: list[Path], fmt: str, out: Path, profile: Path) -> list[Path]:
    """Files as LibreOffice saves them in ``fmt`` (xls = Excel 97-2003, ods)."""
    assert SOFFICE is not None
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(out),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    converted = [out / f"{f.stem}.{fmt}" for f in files]
    assert all(p.exists() for p in converted)
    return converted


def stored(ws: Workspace, year: FiscalYear = R5) -> list[tuple[str, ...]]:
    with ws.store() as s:
        return sorted(
            (p.project_no, p.department, p.submitter, p.rating or "", p.achievement, p.outlook)
            for p in s.current_parts(year)
        )


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) がないため省略")
    root = tmp_path_factory.mktemp("converted")
    returns = sorted((SAMPLE / "returned" / "R5").glob("*.xlsx"))
    folders = {}
    for fmt in ("xls", "ods"):
        convert(returns, fmt, root / fmt, root / "profile")
        folders[fmt] = root / fmt
    return folders


@needs_soffice
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_sample_returns_saved_as_xls_or_ods_store_the_same(
    tmp_path: Path, converted: dict[str, Path], fmt: str
) -> None:
    results = {}
    for kind, folder in (("xlsx", SAMPLE / "returned" / "R5"), (fmt, converted[fmt])):
        ws = init_workspace(tmp_path / kind, None, sample=True)
        assert import_table(ws, SAMPLE / "ratings_R4.csv", FiscalYear(2022)).ok
        result = collect(ws, [folder], R5)
        assert result.to_dict()["counts"] == {"accepted": 11}
        assert [(f.submitter, [p.code for p in f.problems]) for f in result.files if f.problems] == [
            ("自立生活支援課", ["rating-jump"])
        ]
        results[kind] = stored(ws)
    assert len(results["xlsx"]) == 58
    assert results[fmt] == results["xlsx"]


@needs_soffice
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_defect_in_an_xls_or_ods_return_names_the_same_cell(
    ws_r4: Workspace, tmp_path: Path, fmt: str
) -> None:
    bad = make_form(ws_r4, tmp_path, lambda s, f, r: setattr(s.cell(f, r["rating"]), "value", "E"))
    (as_xlsx,) = collect(ws_r4, [bad], R5, dry_run=True).files
    (path,) = convert([bad], fmt, tmp_path / fmt, tmp_path / "profile")
    (f,) = collect(ws_r4, [path], R5, feedback_dir=tmp_path / "fb").files
    assert f.status == "rejected"
    assert [[p.sheet, p.cell, p.code] for p in f.problems] == [
        *([p.sheet, p.cell, p.code] for p in as_xlsx.problems),
        [None, None, "feedback-converted"],
    ]
    assert f.feedback is not None and f.feedback.name == f"要修正_{bad.stem}.xlsx"
    assert f".{fmt}" in f.problems[-1].message and f.feedback.name in f.problems[-1].message
    wb = openpyxl.load_workbook(f.feedback)
    assert wb["調査票"][as_xlsx.problems[0].cell].comment is not None
    # The copy carries the mark: sent back unchanged it is skipped.
    (again,) = collect(ws_r4, [f.feedback], R5).files
    assert [p.code for p in again.problems] == ["file-feedback-copy"]


@needs_soffice
@pytest.mark.slow
def test_plan_master_and_import_in_ods(tmp_path: Path) -> None:
    plan_xlsx, table_xlsx = tmp_path / "plan.xlsx", tmp_path / "ratings_R4.xlsx"
    for csv_path, target in ((SAMPLE / "plan.csv", plan_xlsx), (SAMPLE / "ratings_R4.csv", table_xlsx)):
        from tests.conftest import read_csv

        rows = read_csv(csv_path)
        wb = openpyxl.Workbook()
        wb.active.append(list(rows[0]))
        for r in rows:
            wb.active.append(list(r.values()))
        wb.save(target)
    plan_ods, table_ods = convert([plan_xlsx, table_xlsx], "ods", tmp_path / "ods", tmp_path / "profile")
    plan, problems = load_plan(plan_ods)
    assert problems == [] and plan is not None and plan.counts()["rows"] == 57
    ws = init_workspace(tmp_path / "ws", plan_ods, sample=False)
    result = import_table(ws, table_ods, FiscalYear(2022))
    assert result.ok and result.files[0].rows == 57


# --- hostile files against the new reader -----------------------------------------------------------------


def test_corrupt_xls_has_the_xls_message(ws_r4: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "noise.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4000))
    assert [p.code for p in collect(ws_r4, [path], R5).files[0].problems] == ["file-old-xls"]


@needs_soffice
@pytest.mark.slow
def test_truncated_xls_is_refused(ws_r4: Workspace, tmp_path: Path) -> None:
    (path,) = convert([make_form(ws_r4, tmp_path)], "xls", tmp_path / "xls", tmp_path / "profile")
    cut = tmp_path / "cut.xls"
    cut.write_bytes(path.read_bytes()[:5000])
    assert [p.code for p in collect(ws_r4, [cut], R5).files[0].problems] in (
        ["file-old-xls"],
        ["file-corrupt"],
    )


def _ods(path: Path, content: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
    return path


def test_ods_zip_bomb_is_refused_before_parsing(ws_r4: Workspace, tmp_path: Path) -> None:
    path = _ods(tmp_path / "bomb.ods", b"<a>" + b" " * 100_000_000 + b"</a>")
    assert path.stat().st_size < 300_000
    assert [p.code for p in collect(ws_r4, [path], R5).files[0].problems] == ["file-too-large"]


def test_ods_billion_laughs_is_refused(ws_r4: Workspace, tmp_path: Path) -> None:
    lol = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    content = (
        f'<?xml version="1.0"?><!DOCTYPE d [{lol}]>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
        "<office:body>&l9;</office:body></office:document-content>"
    )
    path = _ods(tmp_path / "laughs.ods", content.encode())
    (problem,) = collect(ws_r4, [path], R5).files[0].problems
    assert problem.code == "file-corrupt" and "エンティティ" in problem.message


def test_ods_with_a_huge_repeated_range_is_refused(ws_r4: Workspace, tmp_path: Path) -> None:
    content = (
        '<?xml version="1.0"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        '<office:body><office:spreadsheet><table:table table:name="調査票">'
        '<table:table-row table:number-rows-repeated="1000000">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    path = _ods(tmp_path / "wide.ods", content.encode())
    assert [p.code for p in collect(ws_r4, [path], R5).files[0].problems] == ["file-too-large"]


def test_sparse_xlsx_does_not_abort_the_process(tmp_path: Path) -> None:
    """calamine aborts the process on a sheet spanning A1:XFD1048576; hyoka must not hand it one."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.active["XFD1048576"] = "y"
    path = tmp_path / "sparse.xlsx"
    wb.save(path)
    code = (
        "import sys; from pathlib import Path; from hyoka.intake import read_workbook;"
        "r = read_workbook(Path(sys.argv[1]), 'sparse.xlsx', ('rating',)); print(r.code)"
    )
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stdout.strip()) == (0, "sheet-not-found")


def test_a_far_cell_whose_reference_is_not_its_first_attribute_does_not_abort_the_process(
    tmp_path: Path,
) -> None:
    """The sheet scan measured the extent only from cells written ``<c r="…"`` first, as Excel writes
    them; ``<c t="s" r="XFD1048576">`` is as valid, and calamine reads it (and aborted)."""
    import re

    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.active["XFD1048576"] = "y"
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    path = tmp_path / "sparse.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<c r="(XFD1048576)"([^>]*)>', rb'<c\2 r="\1">', data)
                assert n == 1
            zout.writestr(item, data)
    code = (
        "import sys; from pathlib import Path; from hyoka.intake import read_workbook;"
        "r = read_workbook(Path(sys.argv[1]), 'sparse.xlsx', ('rating',)); print(r.code)"
    )
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stdout.strip()) == (0, "sheet-not-found")


@pytest.mark.parametrize("suffix", [".ods", ".xlsx"])
def test_a_zip_that_is_both_an_xlsx_and_an_ods_is_refused_without_aborting(
    tmp_path: Path, suffix: str
) -> None:
    """calamine tells a file's format from its bytes, trying .xlsx before .ods: a small, measured
    content.xml beside an .xlsx spanning A1:XFD1048576 (or the other way round) would be read as the
    format that was not measured, and abort the process."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.active["XFD1048576"] = "y"
    sparse = tmp_path / "sparse.xlsx"
    wb.save(sparse)
    path = tmp_path / f"both{suffix}"
    small = (
        '<?xml version="1.0"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"><office:body/>'
        "</office:document-content>"
    )
    with zipfile.ZipFile(sparse) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("content.xml", small)
        for item in zin.infolist():
            z.writestr(item, zin.read(item.filename))
    code = (
        "import sys; from pathlib import Path; from hyoka.reading import read_one;"
        "r = read_one(Path(sys.argv[1]), 'form', frozenset()); print(r.failure.code, r.failure.message)"
    )
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split(" ", 1) == [
        "file-corrupt",
        "ファイルが壊れていて読み込めません（.xlsx・.ods の部品が一つのファイルに混在しています）。"
        "提出元に再送を依頼してください。\n",
    ]


def test_an_xlsx_named_ods_is_read_as_what_it_holds(ws_r4: Workspace, tmp_path: Path) -> None:
    form = make_form(ws_r4, tmp_path / "src")
    renamed = tmp_path / "in" / f"{form.stem}.ods"
    renamed.parent.mkdir()
    shutil.copy(form, renamed)
    assert [f.to_dict()["status"] for f in collect(ws_r4, [renamed], R5, dry_run=True).files] == ["checked"]


def test_returned_forms_are_read_by_calamine(ws_r4: Workspace, tmp_path: Path) -> None:
    from hyoka.book import Book, open_book

    book = open_book(make_form(ws_r4, tmp_path))
    assert isinstance(book, Book) and book.names == ["調査票", "_hyoka"]
    assert book.states == {"調査票": "visible", "_hyoka": "hidden"}
    book.close()


def test_formula_without_value_is_found_in_the_sheet_xml(ws_r4: Workspace, tmp_path: Path) -> None:
    from hyoka.book import open_book

    path = make_form(
        ws_r4, tmp_path, lambda s, f, r: setattr(s.cell(f, r["rating"]), "value", '=IF(1<2,"A","B")')
    )
    header, roles = header_of(openpyxl.load_workbook(path)["調査票"])
    ref = f"{openpyxl.utils.get_column_letter(roles['rating'])}{header + 1}"
    book = open_book(path)
    assert book is not None and book.formulas == {"調査票": {ref: '=IF(1<2,"A","B")'}, "_hyoka": {}}
    book.close()


@needs_soffice
@pytest.mark.slow
def test_password_protected_xls_keeps_its_own_message(ws_r4: Workspace, tmp_path: Path) -> None:
    """An encrypted BIFF8 workbook carries a FILEPASS record after its first BOF (LibreOffice cannot
    write one from the command line, so the record is put in place of the one after BOF)."""
    import struct

    import olefile

    (path,) = convert([make_form(ws_r4, tmp_path)], "xls", tmp_path / "xls", tmp_path / "profile")
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        data = bytearray(ole.openstream("Workbook").read())
        _, bof_length = struct.unpack_from("<HH", data, 0)
        struct.pack_into("<H", data, 4 + bof_length, 0x002F)  # the next record becomes FILEPASS
        ole.write_stream("Workbook", bytes(data))
    assert [p.code for p in collect(ws_r4, [path], R5).files[0].problems] == ["file-encrypted"]


def test_read_ahead_stops_when_the_run_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hyoka.collect as collect_module
    import hyoka.reading as reading_module

    read: list[str] = []

    def slow_read(path: Path, mode: str, known: frozenset[str]) -> object:
        read.append(path.name)
        time.sleep(0.05)
        return reading_module.Read()

    monkeypatch.setattr(collect_module, "read_one", slow_read)
    files = [tmp_path / f"{i}.xlsx" for i in range(20)]
    reader = collect_module._Reader(files, "form", frozenset())
    assert next(iter(reader))[0] == files[0]
    reader.close()  # as when storing a file fails or Ctrl-C stops the run
    assert len(read) <= 3 < 1 + collect_module.READ_AHEAD  # the files queued but not started are not read
