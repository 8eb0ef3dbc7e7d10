"""Hostile input, faults and fuzzing: every case ends with a clear message, stores nothing it should
not, and never shows a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import BinaryIO

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyoka.collect import collect
from hyoka.files import atomic_write_text
from hyoka.forms import SHEET_NAME
from hyoka.plan import HEADINGS
from hyoka.problems import HyokaError
from hyoka.store import MIGRATIONS, SCHEMA_VERSION, Store
from hyoka.workbook import ensure_defusedxml
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.helpers import R5, department_form, header_of, make_form

ROOT = Path(__file__).resolve().parents[1]


def codes(ws: Workspace, path: Path) -> list[str]:
    return [p.code for p in collect(ws, [path], R5).files[0].problems]


def counts(ws: Workspace) -> dict[str, int]:
    with ws.store() as s:
        c = s.counts()
    return {"entries": c["entries"], "current": c["current"]}


def rewrite_member(src: Path, dst: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, data if info.filename == member else zin.read(info.filename))
        if member not in zin.namelist():
            zout.writestr(member, data)


# --- hostile files -----------------------------------------------------------------------------------


def test_defusedxml_is_active() -> None:
    import openpyxl as op

    ensure_defusedxml()
    assert op.DEFUSEDXML is True


def test_billion_laughs_is_refused(ws_r4: Workspace, tmp_path: Path) -> None:
    good = make_form(ws_r4, tmp_path)
    lol = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE w [{lol}]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData></worksheet>'
    )
    path = tmp_path / "laughs.xlsx"
    rewrite_member(good, path, "xl/worksheets/sheet1.xml", bomb.encode())
    before = counts(ws_r4)
    start = time.monotonic()
    result = collect(ws_r4, [path], R5)
    assert time.monotonic() - start < 10
    (problem,) = result.files[0].problems
    assert problem.code == "file-corrupt" and "エンティティ" in problem.message
    assert counts(ws_r4) == before


def test_zip_bomb_checked_before_parsing(ws_r4: Workspace, tmp_path: Path) -> None:
    good = make_form(ws_r4, tmp_path)
    path = tmp_path / "bomb.xlsx"
    rewrite_member(good, path, "xl/media/padding.bin", b" " * 600_000_000)
    assert path.stat().st_size < 2_000_000
    start = time.monotonic()
    assert codes(ws_r4, path) == ["file-too-large"]
    assert time.monotonic() - start < 5


def test_dimension_claiming_a_million_rows(ws_r4: Workspace, tmp_path: Path) -> None:
    good = make_form(ws_r4, tmp_path)
    with zipfile.ZipFile(good) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    # One styled, empty cell at the last row of the sheet and a <dimension> to match.
    xml = xml.replace("</sheetData>", '<row r="1048576"><c r="G1048576" s="1"/></row></sheetData>')
    import re

    xml = re.sub(r'<dimension ref="[^"]+"/>', '<dimension ref="A1:G1048576"/>', xml)
    path = tmp_path / "tall.xlsx"
    rewrite_member(good, path, "xl/worksheets/sheet1.xml", xml.encode())
    start = time.monotonic()
    result = collect(ws_r4, [path], R5)
    assert time.monotonic() - start < 10
    assert result.ok and result.files[0].rows == 2


@pytest.mark.slow
def test_hundred_thousand_filled_rows(ws_r4: Workspace, tmp_path: Path) -> None:
    def edit(sheet, first, roles):  # type: ignore[no-untyped-def]
        for i in range(100_000):
            sheet.cell(first + 2 + i, roles["achievement"]).value = f"行{i}"

    path = make_form(ws_r4, tmp_path, edit)
    start = time.monotonic()
    assert codes(ws_r4, path) == ["file-too-many-rows"]
    assert time.monotonic() - start < 30


def test_megabyte_text_is_an_error_not_a_hang(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(
        ws_r4, tmp_path, lambda s, f, r: setattr(s.cell(f, r["outlook"]), "value", "長" * 1_000_000)
    )
    assert codes(ws_r4, path) == ["text-too-long"]


def test_macros_are_never_run_only_values_read(ws_r4: Workspace, tmp_path: Path) -> None:
    good = make_form(ws_r4, tmp_path)
    path = tmp_path / "macro.xlsm"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        zout.writestr(
            "xl/vbaProject.bin", b'Attribute VB_Name = "Module1"\nSub Auto_Open()\nShell "calc"\nEnd Sub'
        )
    result = collect(ws_r4, [path], R5)
    assert result.ok and result.files[0].rows == 2


def test_hostile_department_names_stay_inside_output(tmp_path: Path, sample_ws: Workspace) -> None:
    from hyoka.forms import write_forms

    text = (ROOT / "sample_data/koganei/plan.csv").read_text(encoding="utf-8-sig")
    for bad, name in (
        ("交通対策課", "../../NUL"),
        ("健康課", "a\\b/c:d*e?f"),
        ("指導室", "CON"),
        ("公民館", ".."),
    ):
        text = text.replace(f",{bad},", f",{name},")
    (sample_ws.root / "plan.csv").write_text(text, encoding="utf-8")
    ws = Workspace.load(sample_ws.root)
    out = tmp_path / "forms"
    paths = write_forms(ws, FiscalYear(2024), out)
    assert len(paths) == len(ws.plan.submitters)
    for p in paths:
        assert p.parent == out and p.exists()
        department = p.name.removeprefix("調査票_R6_").removesuffix(".xlsx")
        assert department and department.upper() not in {"CON", "NUL"}
    assert sorted(x.name for x in out.iterdir()) == sorted(p.name for p in paths)


# --- faults --------------------------------------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent(
    """
    import sqlite3, sys, time
    from pathlib import Path
    from hyoka.collect import collect
    from hyoka.workspace import Workspace
    from hyoka.years import FiscalYear

    real = sqlite3.Connection.execute
    class Slow(sqlite3.Connection):
        def execute(self, sql, *args):
            cur = real(self, sql, *args)
            if sql.startswith("INSERT OR REPLACE INTO current"):  # the rows are written by now
                print("INSIDE", flush=True)
                time.sleep(30)
            return cur
    connect = sqlite3.connect
    sqlite3.connect = lambda *a, **k: connect(*a, factory=Slow, **k)
    ws = Workspace.load(Path(sys.argv[1]))
    collect(ws, [Path(sys.argv[2])], FiscalYear(2023))
    """
)


def test_kill_9_during_collect_leaves_store_as_before(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path)
    before = counts(ws_r4)
    script = tmp_path / "slow_collect.py"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(ws_r4.root), str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "INSIDE"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert counts(ws_r4) == before
    with ws_r4.store() as s:
        assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert s.current_parts(R5) == []
    assert collect(ws_r4, [path], R5).files[0].status == "accepted"
    assert counts(ws_r4)["current"] == before["current"] + 2


def test_two_collects_at_once_second_waits_then_fails_clearly(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka import store as store_module

    path = make_form(ws_r4, tmp_path)
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 1)
    holder = sqlite3.connect(ws_r4.root / "hyoka.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        busy = collect(ws_r4, [path], R5)
        assert busy.interrupted is not None and busy.interrupted.reason == "store-failed"
        assert "別の hyoka が使用中" in busy.interrupted.message
        assert busy.files == [] and busy.interrupted.not_processed == [path]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    first = collect(ws_r4, [path], R5)
    second = collect(ws_r4, [path], R5)
    assert [first.files[0].status, second.files[0].status] == ["accepted", "unchanged"]
    assert counts(ws_r4)["current"] == 57 + 2


def test_busy_store_through_cli_is_one_line(ws_r4: Workspace, tmp_path: Path, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hyoka import store as store_module

    path = make_form(ws_r4, tmp_path)
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 1)
    holder = sqlite3.connect(ws_r4.root / "hyoka.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run("collect", path, "--year", "R5", "-w", ws_r4.root)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert "使用中" in result.output and "Traceback" not in result.output


def test_read_only_store_gives_a_message(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka import store as store_module

    path = make_form(ws_r4, tmp_path)
    before = counts(ws_r4)
    real_connect = sqlite3.connect

    def read_only(db: Path, **kw: object) -> sqlite3.Connection:
        return real_connect(f"file:{db}?mode=ro", uri=True, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.sqlite3, "connect", read_only)
    result = collect(ws_r4, [path], R5)
    assert result.interrupted is not None and "読み取り専用" in result.interrupted.message
    assert not result.ok and result.files == []
    monkeypatch.undo()
    assert counts(ws_r4) == before


def test_full_disk_at_commit(ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hyoka import store as store_module

    path = make_form(ws_r4, tmp_path)
    before = counts(ws_r4)
    real_execute = sqlite3.Connection.execute

    class Full(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            if sql == "COMMIT" and self.in_transaction and self.total_changes > 0:
                raise sqlite3.OperationalError("database or disk is full")
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(store_module.sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=Full, **k))
    result = collect(ws_r4, [path], R5)
    assert result.interrupted is not None and "ディスクの空き" in result.interrupted.message
    assert result.files == [] and result.interrupted.not_processed == [path]
    monkeypatch.undo()
    assert counts(ws_r4) == before


def test_output_locked_by_word_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "資料1.docx"
    target.write_text("old", encoding="utf-8")

    def locked(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(HyokaError, match="開いている場合は閉じて"):
        atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["資料1.docx"]


def test_full_disk_while_writing_a_document(tmp_path: Path) -> None:
    import errno

    from hyoka.files import atomic_write

    def write(stream: BinaryIO) -> None:
        stream.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(HyokaError, match="ディスクの空き"):
        atomic_write(tmp_path / "out.docx", write)
    assert list(tmp_path.iterdir()) == []


def test_store_from_older_version_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "hyoka.db"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO submissions (fiscal_year, submitter, kind, file_name, file_path, sha256, received_at, status)"
        " VALUES (2022, '', 'import', 'old.csv', 'old.csv', 'x', '2023-05-01T10:00:00', 'accepted')"
    )
    conn.commit()
    conn.close()
    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        (sub,) = store.submissions()
        assert sub.file_name == "old.csv"
        assert store.conn.execute("SELECT hyoka_version FROM submissions").fetchone()[0] == ""


def test_store_from_newer_version_is_refused(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    assert run("init", tmp_path / "ws", "--sample").exit_code == 0
    conn = sqlite3.connect(tmp_path / "ws" / "hyoka.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    result = run("status", "--year", "R5", "-w", tmp_path / "ws")
    assert result.exit_code == 1 and "新しい版の hyoka" in result.output


def test_not_a_database(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    assert run("init", tmp_path / "ws", "--sample").exit_code == 0
    (tmp_path / "ws" / "hyoka.db").write_bytes(b"this is not sqlite" * 100)
    result = run("status", "--year", "R5", "-w", tmp_path / "ws")
    assert result.exit_code == 1 and "Traceback" not in result.output and "hyoka.db" in result.output


# --- fuzzing ---------------------------------------------------------------------------------------------

_VALUES = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(-5, 99),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["A", "Ｂ", " c ", "E", "=1+1", "①【事業No.5】", "#N/A", "\x0b\x01", "地域安全課"]),
)
_MUTATION = st.one_of(
    st.tuples(st.just("set"), st.integers(1, 30), st.integers(1, 9), _VALUES),
    st.tuples(st.just("delete"), st.integers(1, 30), st.integers(1, 3), st.none()),
    st.tuples(st.just("insert"), st.integers(1, 30), st.integers(1, 3), st.none()),
    st.tuples(st.just("rename"), st.just(0), st.just(0), st.text(min_size=1, max_size=20)),
    st.tuples(st.just("merge"), st.integers(1, 30), st.integers(1, 6), st.none()),
)


@pytest.fixture(scope="module")
def fuzz_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, bytes]:
    from hyoka.collect import import_table
    from hyoka.workspace import init_workspace

    root = tmp_path_factory.mktemp("fuzz")
    ws = init_workspace(root / "ws", None, sample=True)
    import_table(ws, ROOT / "sample_data/koganei/ratings_R4.csv", FiscalYear(2022))
    return ws, make_form(ws, root).read_bytes()


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(_MUTATION, min_size=1, max_size=6))
def test_fuzzed_returns_always_end_with_a_report(
    fuzz_base: tuple[Workspace, bytes],
    tmp_path_factory: pytest.TempPathFactory,
    mutations: list[tuple[object, ...]],
) -> None:
    from typer.testing import CliRunner

    from hyoka.cli import app

    ws, data = fuzz_base
    wb = openpyxl.load_workbook(io.BytesIO(data))
    sheet = wb[SHEET_NAME]
    header, _ = header_of(sheet)
    for kind, a, b, value in mutations:
        row = header - 5 + int(a)  # type: ignore[call-overload]
        if kind == "set":
            # openpyxl refuses some values (and writes to merged cells); a department could not type them either.
            with contextlib.suppress(Exception):
                sheet.cell(max(row, 1), int(b)).value = value  # type: ignore[call-overload]
        elif kind == "delete":
            sheet.delete_rows(max(row, 1), int(b))  # type: ignore[call-overload]
        elif kind == "insert":
            sheet.insert_rows(max(row, 1), int(b))  # type: ignore[call-overload]
        elif kind == "rename":
            sheet.title = (
                "".join(c for c in str(value) if c.isprintable() and c not in "[]:*?/\\")[:31] or "x"
            )
        elif kind == "merge":
            start = max(row, 1)
            sheet.merge_cells(start_row=start, start_column=int(b), end_row=start + 1, end_column=int(b) + 1)  # type: ignore[call-overload]
    path = tmp_path_factory.mktemp("case") / "調査票_R5_地域安全課.xlsx"
    wb.save(path)
    result = CliRunner().invoke(
        app, ["collect", str(path), "--year", "R5", "--dry-run", "--json", "-w", str(ws.root)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.output
    assert '"schema": "hyoka.collect/1"' in result.output


# --- found in review -------------------------------------------------------------------------------------


def test_feedback_marks_merged_cells_and_never_stops_the_run(ws_r4: Workspace, tmp_path: Path) -> None:
    def merge_and_break(sheet, first, roles):  # type: ignore[no-untyped-def]
        sheet.cell(first, roles["rating"]).value = None
        sheet.merge_cells(
            start_row=first, start_column=roles["rating"], end_row=first + 1, end_column=roles["rating"]
        )

    bad = make_form(ws_r4, tmp_path / "bad", merge_and_break)
    good = make_form(ws_r4, tmp_path / "good", department="健康課", values={"7": ("会議を開催", "B", "継続")})
    result = collect(ws_r4, [bad, good], R5, feedback_dir=tmp_path / "fb")
    assert [f.status for f in result.files] == ["rejected", "accepted"]
    assert result.files[0].feedback is not None
    # A feedback folder that is a file: reported as a warning, the run goes on.
    (tmp_path / "fbfile").write_text("x", encoding="utf-8")
    again = collect(ws_r4, [bad], R5, feedback_dir=tmp_path / "fbfile")
    assert [p.code for p in again.files[0].problems][-1] == "feedback-failed"


def test_second_collect_waits_for_the_first_then_fails_clearly(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka import store as store_module

    path = make_form(ws_r4, tmp_path)
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 1)
    with store_module.writer_lock(ws_r4.store_path), pytest.raises(HyokaError, match="回収中"):
        collect(ws_r4, [path], R5)
    assert collect(ws_r4, [path], R5, dry_run=True).files[0].status == "checked"  # a dry run needs no lock
    assert collect(ws_r4, [path], R5).files[0].status == "accepted"


def test_two_collect_processes_at_once_store_each_file_once_and_keep_joint_rows_consistent(
    ws_r4: Workspace, tmp_path: Path
) -> None:
    paths = [
        department_form(ws_r4, tmp_path, "介護福祉課", "A"),
        department_form(ws_r4, tmp_path, "広報秘書課", "B"),
    ]
    cmd = [sys.executable, "-m", "hyoka", "collect", "--year", "R5", "-w", str(ws_r4.root)]
    procs = [
        subprocess.Popen(
            [*cmd, str(p), str(ROOT / "sample_data/koganei/returned/R5")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for p in paths
    ]
    outputs = [proc.communicate(timeout=120)[0].decode("utf-8") for proc in procs]
    with ws_r4.store() as s:
        accepted = [x for x in s.submissions(R5) if x.status == "accepted"]
        parts = s.current_parts(R5)
    hashes = [x.sha256 for x in accepted]
    assert len(hashes) == len(set(hashes))  # no file stored twice
    assert {x.file_name for x in accepted} >= {
        p.name for p in (ROOT / "sample_data/koganei/returned/R5").iterdir()
    }
    # Whichever ran second saw the other's part of the joint row No.9 and said so (since issue 9 1.2
    # a differing part is taken and the row held as 不一致, rather than rejected).
    # 広報秘書課's B differs from 介護福祉課's A whichever ran first; 介護福祉課's run says so only if it ran second.
    joint = {p.submitter: p.rating for p in parts if p.project_no == "9"}
    assert joint == {"介護福祉課": "A", "広報秘書課": "B"}
    order = {x.file_path: x.id for x in accepted}
    kaigo_second = order[str(paths[0].resolve())] > order[str(paths[1].resolve())]
    assert ["joint-rating-differs" in out for out in outputs] == [kaigo_second, True], outputs


def test_same_file_twice_in_one_run_and_feedback_copies_are_skipped(ws_r4: Workspace, tmp_path: Path) -> None:
    import shutil

    from hyoka.reading import discover

    path = make_form(ws_r4, tmp_path / "in")
    shutil.copy(path, path.with_name("コピー.xlsx"))
    # A 要修正_ name without hyoka's mark is a return like any other (issue 9, 2.1): here a third copy.
    (path.parent / "要修正_古い.xlsx").write_bytes(path.read_bytes())
    files = discover([path.parent, path, Path(os.path.relpath(path))])
    assert sorted(f.name for f in files) == sorted([path.name, "コピー.xlsx", "要修正_古い.xlsx"])
    result = collect(ws_r4, files, R5)
    assert sorted(f.status for f in result.files) == ["accepted", "unchanged", "unchanged"]


def test_init_with_the_plan_already_in_the_folder(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "計画.csv").write_bytes((ROOT / "sample_data/koganei/plan.csv").read_bytes())
    result = run("init", folder, "--plan", folder / "計画.csv")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".csv") == ["計画.csv"]
    assert 'file = "計画.csv"' in (folder / "hyoka.toml").read_text(encoding="utf-8")
    before = sorted(Path.cwd().iterdir())
    assert run("init", "", "--sample").exit_code == 1
    assert run("collect", "", "--year", "R5", "-w", folder).exit_code == 1
    assert sorted(Path.cwd().iterdir()) == before  # "" is not the current folder


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('agenda = [\n    "a",', "agenda = 5\nx = ["),
        ("number = 1", 'number = "first"'),
        ("number = 1", "number = 1\nmaterials = 5"),
        ("gannen = true", 'gannen = "false"'),
        ('time = "10:00"', 'time = "25:00"'),
        ("date = 2024-08-19", "date = 1900-01-01"),
        ("requires_reason = false", 'requires_reason = "no"'),
        ("[committee]", "[committee\n"),
    ],
)
def test_wrong_config_values_give_a_japanese_message(tmp_path: Path, run, change: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert run("init", tmp_path / "ws", "--sample").exit_code == 0
    config = tmp_path / "ws" / "hyoka.toml"
    text = config.read_text(encoding="utf-8")
    old = change if change in text else change.split("\n")[0]
    assert old in text, old
    config.write_text(text.replace(old, expected, 1), encoding="utf-8")
    result = run("report", "--year", "R5", "-w", tmp_path / "ws")
    assert result.exit_code == 1, result.output
    assert "hyoka.toml" in result.output and "想定外" not in result.output
    assert "Traceback" not in result.output


def test_forms_never_overwrite_each_other_and_pipes_close_quietly(
    tmp_path: Path, sample_ws: Workspace
) -> None:
    from hyoka.forms import write_forms

    text = (ROOT / "sample_data/koganei/plan.csv").read_text(encoding="utf-8-sig")
    text = (
        text.replace(",交通対策課,", ",係:1,")
        .replace(",健康課,", ",係?1,")
        .replace(",公民館,", ",KAKARI,")
        .replace(",指導室,", ",kakari,")
    )
    (sample_ws.root / "plan.csv").write_text(text, encoding="utf-8")
    ws = Workspace.load(sample_ws.root)
    paths = write_forms(ws, FiscalYear(2024), tmp_path / "f")
    assert len({p.name.casefold() for p in paths}) == len(paths) == len(ws.plan.submitters)
    assert all(p.exists() for p in paths)
    proc = subprocess.run(
        f'"{sys.executable}" -m hyoka plan show -w "{sample_ws.root}" | head -1',
        shell=True,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "想定外" not in proc.stderr


def test_config_sections_of_the_wrong_type() -> None:
    from hyoka.workspace import parse_config

    base = {"committee": {"name": "委員会", "secretariat": "事務局"}, "plan": {"file": "plan.csv"}}
    for broken in ({"scale": 5}, {"meetings": {"date": 1}}, {"format": {"gannen": 1}}, {"committee": 5}):
        with pytest.raises(HyokaError, match=r"hyoka\.toml"):
            parse_config({**base, **broken}, ROOT)


# --- found in the second review ------------------------------------------------------------------------


def test_config_saved_with_a_byte_order_mark(midori_ws: Workspace) -> None:
    config = midori_ws.root / "hyoka.toml"
    config.write_bytes(b"\xef\xbb\xbf" + config.read_bytes())
    assert Workspace.load(midori_ws.root).config.committee == "みどり市地域福祉計画推進会議"


def test_very_long_department_names_fit_the_file_system(tmp_path: Path, sample_ws: Workspace) -> None:
    from hyoka.forms import write_forms

    long_name = "高齢者福祉及び介護保険事業計画推進のための地域包括ケアシステム構築担当" * 3
    text = (
        (ROOT / "sample_data/koganei/plan.csv")
        .read_text(encoding="utf-8-sig")
        .replace(",健康課,", f",{long_name},")
    )
    (sample_ws.root / "plan.csv").write_text(text, encoding="utf-8")
    paths = write_forms(Workspace.load(sample_ws.root), FiscalYear(2024), tmp_path / "f")
    assert all(len(p.name.encode("utf-8")) <= 200 and p.exists() for p in paths)


def test_numbers_excel_turned_into_dates(tmp_path: Path, sample_ws: Workspace) -> None:
    from datetime import datetime

    from hyoka.collect import import_table
    from hyoka.workspace import load_plan

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(list(HEADINGS))
    sheet.append([1, "目標", "基本施策", 1, "施策", datetime(2024, 3, 2), "事業", None, "甲課", None])
    wb.save(tmp_path / "plan.xlsx")
    _plan, problems = load_plan(tmp_path / "plan.xlsx")
    assert [(p.row, p.code) for p in problems] == [(2, "value-is-date")]
    table = openpyxl.Workbook()
    table.active.append(["事業No", "担当課", "事業評価"])
    table.active.append([datetime(2024, 1, 1), "地域福祉課", "A"])
    table.save(tmp_path / "r.xlsx")
    result = import_table(sample_ws, tmp_path / "r.xlsx", FiscalYear(2021), dry_run=True)
    assert [[p.cell, p.code] for p in result.files[0].problems] == [["A2", "value-is-date"]]


def test_import_whose_rows_match_nothing_is_not_called_empty(sample_ws: Workspace, tmp_path: Path) -> None:
    from hyoka.collect import import_table

    path = tmp_path / "bad.csv"
    path.write_text("事業No,担当課,事業評価\n99,地域福祉課,A\n1,存在しない課,A\n", encoding="utf-8")
    codes = [p.code for p in import_table(sample_ws, path, FiscalYear(2021), dry_run=True).files[0].problems]
    assert codes == ["project-unknown", "department-unknown"]


def test_an_older_version_does_not_replace_the_return_in_force(ws_r4: Workspace, tmp_path: Path) -> None:
    newer = make_form(
        ws_r4, tmp_path / "new", values={"5": ("新しい版", "A", "続ける"), "6": ("新しい版", "B", "続ける")}
    )
    older = make_form(
        ws_r4, tmp_path / "old", values={"5": ("古い版", "C", "見直す"), "6": ("古い版", "C", "見直す")}
    )
    os.utime(older, (time.time() - 86_400, time.time() - 86_400))
    assert collect(ws_r4, [newer], R5).ok
    result = collect(ws_r4, [older], R5)
    assert [p.code for p in result.files[0].problems] == ["file-older-than-current"]
    with ws_r4.store() as s:
        assert {p.achievement for p in s.current_parts(R5)} == {"新しい版"}
    os.utime(older)  # saved again: the clerk means it
    assert collect(ws_r4, [older], R5).ok
