"""Feedback workbooks: a copy of a rejected return with each offending cell red and commented.

The clerk sends it back as it is; the department sees what to fix where it has to be fixed. The
original file is never touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hyoka.files import atomic_write
from hyoka.forms import print_a4_landscape
from hyoka.problems import SEVERITY_LABEL, SEVERITY_ORDER, Problem, Severity
from hyoka.text import safe_filename

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

FEEDBACK_SHEET = "hyoka指摘事項"
FEEDBACK_PREFIX = "要修正_"
FILL = {Severity.ERROR: "FFC7CE", Severity.WARNING: "FFEB9C", Severity.INFO: "DDEBF7"}


def feedback_path(out_dir: Path, source: Path) -> Path:
    return out_dir / f"{FEEDBACK_PREFIX}{safe_filename(source.stem)}{source.suffix.lower()}"


def write_feedback(source: Path, problems: list[Problem], out_dir: Path) -> Path | None:
    """Write the marked-up copy; None when the file cannot be opened at all (encrypted, corrupt)."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    try:
        wb = openpyxl.load_workbook(source, keep_vba=source.suffix.lower() == ".xlsm")
    except Exception:  # the rejection message already says why it cannot be opened
        return None
    by_cell: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        if p.sheet and p.cell and p.sheet in wb.sheetnames:
            by_cell.setdefault((p.sheet, p.cell), []).append(p)
    for (sheet, ref), found in by_cell.items():
        cell = _writable(wb[sheet], ref)
        worst = min(found, key=lambda p: SEVERITY_ORDER[p.severity])
        cell.fill = PatternFill("solid", fgColor=FILL[worst.severity])
        text = "\n".join(f"【{SEVERITY_LABEL[p.severity]}】{p.message}" for p in found)
        cell.comment = Comment(text, "hyoka", width=320, height=140)

    summary = wb.create_sheet(FEEDBACK_SHEET, 0)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    summary.append([f"{source.name} の指摘事項（エラー {errors} 件）"])
    summary.append(["色の付いたセルにコメントがあります。エラーをすべて直して、もう一度提出してください。"])
    summary.append([])
    summary.append(["区分", "場所", "内容（直し方）", "コード"])
    for p in problems:
        place = " ".join(
            x for x in (f"シート「{p.sheet}」" if p.sheet else "", f"セル {p.cell}" if p.cell else "") if x
        )
        summary.append([SEVERITY_LABEL[p.severity], place or "ファイル全体", p.message, p.code])
    for col, width in zip("ABCD", (8, 24, 70, 22), strict=True):
        summary.column_dimensions[col].width = width
    for row in summary.iter_rows(min_row=4):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    summary["A1"].font = Font(bold=True, size=13)
    for c in summary[4]:
        c.font = Font(bold=True)
    print_a4_landscape(summary, 4)
    wb.active = 0
    target = feedback_path(out_dir, source)
    atomic_write(target, wb.save)
    return target


def _writable(sheet: Worksheet, ref: str) -> Cell:
    """The cell to mark: a department may have merged cells, and only a range's top-left takes notes."""
    for merged in sheet.merged_cells.ranges:
        if ref in merged:
            return sheet.cell(merged.min_row, merged.min_col)  # type: ignore[return-value]
    cell: Cell = sheet[ref]
    return cell
