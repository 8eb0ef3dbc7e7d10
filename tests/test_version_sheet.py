"""The sheet definition belongs to the plan version (issue 11 §2, §14): a column added for R6 leaves
R5 as it was collected; hyoka.toml's definition is the working copy for the next adoption."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from hyoka.store import SCHEMA_VERSION, Part
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import ROOT, sample_r5_parts

R5, R6 = FiscalYear(2023), FiscalYear(2024)
NOTE_COLUMN = """
[[sheet.columns]]
key = "note"
heading = "備考"
source = "department"
type = "text"
max_length = 200
width = 20
form_width = 20
"""
NOTICE = "hyoka.toml の評価表の定義（[sheet]・[scale]・[scales]）は、採用済みの最新の版（R4〜）の定義と異なります。"


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def _add_note_column(ws: Workspace) -> None:
    """hyoka.toml gets Koganei's sheet written out, plus a 備考 column the departments fill in."""
    default = (ROOT / "docs" / "design" / "examples" / "default.toml").read_text(encoding="utf-8")
    config = ws.root / "hyoka.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "\n" + default[default.index("\n[sheet]") :] + NOTE_COLUMN, encoding="utf-8")


def _store_r6_with_notes(ws: Workspace) -> None:
    """R6 returns for every row of the (unchanged) plan, each with a 備考."""
    parts = [
        Part(
            p.project_no,
            p.department,
            p.submitter,
            p.rating,
            p.achievement,
            p.outlook,
            other_values={"note": f"備考{p.project_no}"},
        )
        for p in sample_r5_parts()
    ]
    with Workspace.load(ws.root).store() as store:
        store.add_submission(
            year=R6,
            submitter="",
            kind="import",
            file_name="R6.csv",
            file_path="R6.csv",
            sha256="r6",
            parts=parts,
            replace_rows=True,
        )


def _report_cells(run, root: Path, year: str, out: Path) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Every table cell of the year's 資料1, as text, in document order."""
    import docx

    _ok(run("report", "--year", year, "--out", out, "-w", root))
    (path,) = [p for p in out.glob("*.docx") if "資料1" in p.name or "評価表" in p.name][:1]
    document = docx.Document(str(path))
    return [[c.text for c in row.cells] for table in document.tables for row in table.rows]


def _form_headings(run, root: Path, year: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The heading row of the first department's form for ``year``."""
    from openpyxl import load_workbook

    _ok(run("forms", "--year", year, "-w", root))
    path = sorted((root / "out" / "forms" / year).glob("*.xlsx"))[0]
    wb = load_workbook(path)
    sheet = wb.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        if "担当課" in row:
            return [str(v) for v in row if v is not None]
    raise AssertionError("no heading row")


def test_a_column_added_for_r6_leaves_r5_as_it_was(sample_ws_loaded: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    r5_before = _report_cells(run, ws.root, "R5", tmp_path / "before")
    r5_form_before = _form_headings(run, ws.root, "R5")
    _add_note_column(ws)
    out = _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", ws.root))
    assert "計画マスタの行の変更はありません。\n評価表の定義（hyoka.toml）の変更:\n" in out
    assert "■ 評価表に追加される列（1件）\n  note 備考\n" in out
    assert out.splitlines()[-1] == "令和6年度からの版として採用しました（版 2、行 57）。"
    _store_r6_with_notes(ws)

    assert _report_cells(run, ws.root, "R5", tmp_path / "after") == r5_before
    assert _form_headings(run, ws.root, "R5") == r5_form_before
    assert "備考" not in r5_form_before
    r6_form = [h.replace("令和5年度", "令和6年度") for h in r5_form_before]
    assert _form_headings(run, ws.root, "R6") == [*r6_form, "備考"]

    r6 = _report_cells(run, ws.root, "R6", tmp_path / "r6")
    heads = next(row for row in r6 if "担当課" in row and "備考" in row)
    column = heads.index("備考")
    row = next(r for r in r6 if any("【事業No.1】" in c for c in r))
    assert row[column] == "備考1"

    ws = Workspace.load(ws.root)
    assert not ws.sheet_for(R5).has("note")
    assert [c.key for c in ws.sheet_for(R6).columns][-1] == "note"
    assert ws.lineage.versions[-1].sheet_fingerprint == ws.sheet.fingerprint
    show = _ok(run("sheet", "show", "--year", "R5", "-w", ws.root))
    assert show.splitlines()[0] == "評価表の定義（令和5年度: 計画の版 R4〜）"
    assert "note" not in show and "rating" in show
    assert "  note " in _ok(run("sheet", "show", "--year", "R6", "-w", ws.root))


def test_hyoka_toml_changed_but_not_adopted_is_said_once_and_changes_no_year(
    sample_ws_loaded: Workspace, run
) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    r6_before = _form_headings(run, ws.root, "R6")
    _add_note_column(ws)
    result = run("status", "--year", "R5", "-w", ws.root)
    assert result.exit_code == 0, result.output
    assert result.stderr.count(NOTICE) == 1, result.stderr
    assert "■ 評価表に追加される列（1件）\n  note 備考\n" in result.stderr
    assert "採用するには: hyoka plan adopt plan.csv --from R" in result.stderr
    # Not adopted: R6 still has the sheet of the version in force for it.
    assert _form_headings(run, ws.root, "R6") == r6_before

    store = ws.store_path.read_bytes()
    dry = run("plan", "adopt", "plan.csv", "--from", "R6", "--dry-run", "-w", ws.root)
    assert dry.exit_code == 0, dry.output
    assert "■ 評価表に追加される列（1件）\n  note 備考\n" in dry.stdout
    assert dry.stdout.endswith("（--dry-run のため採用していません）\n")
    assert ws.store_path.read_bytes() == store

    _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", ws.root))
    after = run("status", "--year", "R5", "-w", ws.root)
    assert after.exit_code == 0 and NOTICE[:30] not in after.stderr


def test_a_changed_column_and_a_removed_one_are_listed_by_key(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _add_note_column(ws)
    _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", ws.root))
    config = ws.root / "hyoka.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace(NOTE_COLUMN, "").replace(
        'heading = "今後の事業計画・展望"', 'heading = "今後の方向性"'
    )
    config.write_text(text, encoding="utf-8")
    out = _ok(run("plan", "adopt", "plan.csv", "--from", "R7", "--dry-run", "-w", ws.root))
    assert "■ 評価表からなくなる列（1件）\n  note 備考\n" in out
    assert (
        "■ 評価表の列の変更（1件）\n  outlook 今後の方向性（見出し 今後の事業計画・展望 → 今後の方向性）\n"
        in out
    )


# --- stores written before versions kept their sheet --------------------------------------------------


def _forget_sheets(ws: Workspace, value: str = "{}") -> None:
    """What a store of an earlier hyoka (same schema) holds: no definition with its versions."""
    with sqlite3.connect(ws.store_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        db.execute("UPDATE plan_versions SET sheet = ?", (value,))
    db.close()


def test_a_store_whose_versions_hold_no_sheet_records_hyoka_toml_s_once(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _ok(run("init", tmp_path / "ind", "--sample", "indicator"))
    ws = Workspace.load(tmp_path / "ind")
    _forget_sheets(ws)
    result = run("forms", "--year", "R5", "-w", ws.root)
    assert result.exit_code == 0, result.output
    label = ws.lineage.versions[0].label  # the year hyoka init ran in
    notice = f"計画の版 {label} には評価表の定義が記録されていなかったため、いまの hyoka.toml の定義を記録しました。"
    assert result.stderr.count(notice) == 1, result.stderr
    # The indicator city's sheet, not Koganei's default: the one its years were made with.
    headings = _form_headings(run, ws.root, "R5")
    assert "達成率" in headings and "事業評価" not in headings
    with sqlite3.connect(ws.store_path) as db:
        (stored,) = db.execute("SELECT sheet FROM plan_versions").fetchone()
    db.close()
    assert json.loads(stored) == json.loads(json.dumps(ws.sheet.source, default=str))
    again = run("sheet", "show", "--year", "R5", "-w", ws.root)
    assert again.exit_code == 0 and "記録されていなかった" not in again.output
    assert "  rate " in again.stdout  # 達成率: the indicator sheet


def test_the_notice_of_a_recorded_sheet_is_printed_by_plan_adopt_too(
    sample_ws_loaded: Workspace, run
) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _forget_sheets(ws)
    result = run("plan", "adopt", "plan.csv", "--from", "R6", "--dry-run", "-w", ws.root)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("計画の版 R4〜 には評価表の定義が記録されていなかったため") == 1


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        ("not json", "JSON として読めません"),
        ('["scale"]', "表の形ではありません"),
        ('{"sheet": {"levels": [], "columns": []}}', "1 件の誤り"),
    ],
)
def test_a_stored_definition_that_does_not_read_is_a_japanese_error(
    sample_ws_loaded: Workspace, run, tmp_path: Path, stored: str, reason: str
) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _forget_sheets(ws, stored)
    table = tmp_path / "R5.csv"
    table.write_text("事業No,担当課,事業評価\n1,地域福祉課,A\n", encoding="utf-8")
    for args in (
        ("report", "--year", "R5", "--out", tmp_path / "out"),
        ("forms", "--year", "R5"),
        ("import", table, "--year", "R5"),
    ):
        result = run(*args, "-w", ws.root)
        assert result.exit_code == 1, (args, result.output)
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
        (message,) = [line for line in result.stderr.splitlines() if line.startswith("エラー: ")]
        assert message.startswith(
            "エラー: [エラー] plan-version-sheet-invalid: 計画の版 R4〜 に記録された"
        ), message
        assert f"評価表の定義を読み取れません（{reason}）" in message
        if reason == "1 件の誤り":  # each problem of the stored definition follows, named by its version
            assert (
                "[エラー] sheet-levels-count: 計画の版 R4〜: [[sheet.levels]] が0段あります。"
                in result.stderr
            )
    # Commands that do not need a year's sheet still work; adopting the plan again for the version's
    # year records hyoka.toml's definition, as the message says.
    assert run("plan", "versions", "-w", ws.root).exit_code == 0
    adopt = _ok(run("plan", "adopt", "plan.csv", "--from", "R4", "-w", ws.root))
    assert "記録されていた定義は読めないため、hyoka.toml の定義を記録します" in adopt
    _ok(run("forms", "--year", "R5", "-w", ws.root))


def test_a_form_made_from_another_definition_than_its_year_s_is_warned(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import sys

    root = tmp_path / "ind"
    _ok(run("init", root, "--sample", "indicator"))
    _ok(run("forms", "--year", "R5", "-w", root))
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_city_returns as filler
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    form = sorted((root / "out" / "forms" / "R5").glob("*.xlsx"))[0]
    returned = tmp_path / "returned"
    returned.mkdir()
    shutil.copy2(form, returned / form.name)
    filler.fill(returned / form.name, form.stem.split("_", 2)[2], filler.entries("indicator"))
    # The year's version is adopted again with a wider first column: the form's columns still read.
    config = root / "hyoka.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("width = 14", "width = 15", 1), encoding="utf-8"
    )
    first = Workspace.load(root).lineage.versions[0].from_year.short
    _ok(run("plan", "adopt", "plan.csv", "--from", first, "-w", root))
    result = run("collect", "--year", "R5", "-w", root, returned)
    assert result.exit_code == 0, result.output
    assert result.output.count("form-sheet-changed") == 1, result.output
    assert "この年度の計画の版とは別の評価表の定義から作られています" in result.output
    # A form made from the year's own definition is not warned.
    _ok(run("forms", "--year", "R5", "-w", root))
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy2(form, again / form.name)
    filler.fill(again / form.name, form.stem.split("_", 2)[2], filler.entries("indicator"))
    result = run("collect", "--year", "R5", "-w", root, again)
    assert result.exit_code == 0, result.output
    assert "form-sheet-changed" not in result.output


def test_migration_5_stores_hyoka_toml_s_definition_with_version_1(sample_ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    from tests.test_plan_versions import _schema4_sample

    sample_ws.store_path.unlink()
    _schema4_sample(sample_ws.root)
    result = run("plan", "versions", "-w", sample_ws.root)
    assert result.exit_code == 0, result.output
    assert "記録されていなかった" not in result.output  # the migration recorded it, no later fix-up
    ws = Workspace.load(sample_ws.root)
    assert ws.lineage.versions[0].sheet_fingerprint == ws.sheet.fingerprint
    # Koganei's [scale] (its longer note), not the built-in scale that '{}' would parse to.
    assert ws.sheet_for(R5).scales["default"].note == ws.config.scale.note
    assert "次期(第3期)" in ws.config.scale.note
