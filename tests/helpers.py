"""Builders shared by the form, collect and hardening tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import openpyxl

from hyoka.forms import SHEET_NAME, write_forms
from hyoka.intake import column_role
from hyoka.store import Part
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear

R4, R5 = FiscalYear(2022), FiscalYear(2023)
GOOD = {
    "5": ("防災講習会を開催した。", "A", "継続する。"),
    "6": ("防犯講習会を開催した。", "B", "啓発を続ける。"),
}


def store_import(
    ws: Workspace, year: FiscalYear, parts: Sequence[Part], *, sha: str | None = None, name: str | None = None
) -> None:
    """``parts`` stored for ``year`` as an import stores them (each row replacing what was in force),
    from a table named ``name`` (``R5.csv``) with the hash ``sha`` (the year)."""
    name = name or f"{year.short}.csv"
    with ws.store() as store:
        store.add_submission(
            year=year,
            submitter="",
            kind="import",
            file_name=name,
            file_path=name,
            sha256=sha or year.short,
            parts=parts,
            replace_rows=True,
        )


def ratings(rows: Iterable[tuple[str, str, str]]) -> list[Part]:
    """Whole rows carrying only a rating: ``(事業No, 担当課, code)`` each."""
    return [Part(no, department, "", rating, "", "") for no, department, rating in rows]


Edit = Callable[[openpyxl.worksheet.worksheet.Worksheet, int, dict[str, int]], None]


def header_of(ws) -> tuple[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    for r in range(1, 40):
        roles = {column_role(ws.cell(r, c).value): c for c in range(1, 10)}
        if "rating" in roles and "project" in roles:
            return r, {k: v for k, v in roles.items() if k}
    raise AssertionError("no header row")


def make_form(
    ws: Workspace,
    tmp: Path,
    edit: Edit | None = None,
    department: str = "地域安全課",
    values: dict[str, tuple[str, str, str]] | None = None,
    year: FiscalYear = R5,
) -> Path:
    """A filled form for ``department`` with one defect applied by ``edit(sheet, first_data_row, roles)``."""
    (path,) = write_forms(ws, year, tmp / "forms", department=department)
    wb = openpyxl.load_workbook(path)
    sheet = wb[SHEET_NAME]
    header, roles = header_of(sheet)
    fill = values or GOOD
    for r in range(header + 1, sheet.max_row + 1):
        no = str(sheet.cell(r, roles["project"]).value).split("事業No.")[1].split("】")[0]
        achievement, rating, outlook = fill[no]
        sheet.cell(r, roles["achievement"]).value = achievement
        sheet.cell(r, roles["rating"]).value = rating
        sheet.cell(r, roles["outlook"]).value = outlook
    if edit:
        edit(sheet, header + 1, roles)
    wb.save(path)
    return path


def department_form(
    ws: Workspace, tmp: Path, department: str, rating: str, achievement: str = "実績", outlook: str = "展望"
) -> Path:
    """A form of ``department`` with every row filled alike (the joint-row tests need one per side)."""
    values = {r.project_no: (achievement, rating, outlook) for r in ws.plan.rows_for(department)}
    return make_form(ws, tmp / department, department=department, values=values)


def readopt(ws: Workspace) -> Workspace:
    """After a test edits the plan file: adopt it again for the years of the first version (editing
    the file changes no adopted year by itself). Returns the workspace, reloaded."""
    from hyoka.workspace import adopt_plan

    ws = Workspace.load(ws.root)
    if ws.store_path.exists():
        result = adopt_plan(ws, ws.config.plan_file, ws.lineage.versions[0].from_year, force=True)
        assert result.stored or result.errors, result
    return Workspace.load(ws.root)
