"""Feedback workbooks: a copy of a rejected return with each offending cell red and commented.

The clerk sends it back as it is; the department sees what to fix where it has to be fixed. The
original file is never touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyoka.files import atomic_write
from hyoka.forms import fit_rows, print_a4_landscape
from hyoka.problems import SEVERITY_LABEL, SEVERITY_ORDER, Problem, Severity
from hyoka.text import clean_text, safe_filename

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

FEEDBACK_SHEET = "修正のお願い"
FEEDBACK_PREFIX = "要修正_"
FILL = {Severity.ERROR: "FFC7CE", Severity.WARNING: "FFEB9C", Severity.INFO: "DDEBF7"}


CONVERTED_SUFFIXES = (".xls", ".ods")
"""Returns whose feedback copy is written as .xlsx (openpyxl writes no other format)."""


def feedback_path(out_dir: Path, source: Path) -> Path:
    suffix = source.suffix.lower()
    suffix = ".xlsx" if suffix in CONVERTED_SUFFIXES else suffix
    return out_dir / f"{FEEDBACK_PREFIX}{safe_filename(source.stem)}{suffix}"


def _load(source: Path) -> Workbook:
    """The return as an openpyxl workbook; an .xls/.ods return's values copied into a new one."""
    import openpyxl

    if source.suffix.lower() not in CONVERTED_SUFFIXES:
        return openpyxl.load_workbook(source, keep_vba=source.suffix.lower() == ".xlsm")
    from hyoka.book import open_book

    book = open_book(source)
    if book is None:
        raise ValueError("not readable")
    try:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)  # type: ignore[arg-type]
        for name in book.names:
            sheet = wb.create_sheet(name)
            sheet.sheet_state = book.states.get(name, "visible")
            for values in book.rows(name):
                sheet.append(list(values))
        return wb
    finally:
        book.close()


def write_feedback(source: Path, problems: list[Problem], out_dir: Path) -> Path | None:
    """Write the marked-up copy; None when the file cannot be opened at all (encrypted, corrupt)."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    try:
        wb = _load(source)
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
        text = "\n".join(f"【{SEVERITY_LABEL[p.severity]}】{p.for_department}" for p in found)
        cell.comment = Comment(text, "hyoka", width=320, height=140)

    _fit_table_rows(wb)
    mark_feedback_copy(wb)
    # For the department: what to fix, where and in which project — the codes are the clerk's.
    summary = wb.create_sheet(FEEDBACK_SHEET, 0)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    others = len(problems) - errors
    summary.append([f"調査票の修正のお願い（{source.name}）"])
    summary.append(
        [
            f"直していただきたい点が {errors} 件"
            + (f"、確認していただきたい点が {others} 件" if others else "")
            + "あります。色の付いたセル（赤: 要修正、黄: 要確認）にも直し方をコメントで書いています。"
            "すべて直したらこのファイルを保存し、事務局に提出してください（このシートは残したままでかまいません）。"
        ]
    )
    summary.append([])
    summary.append(["区分", "場所", "事業", "直していただきたいこと"])
    projects = _projects_by_row(wb, problems)
    for p in problems:
        place = " ".join(
            x for x in (f"シート「{p.sheet}」" if p.sheet else "", f"セル {p.cell}" if p.cell else "") if x
        )
        project = projects.get((p.sheet or "", _row_of(p.cell)), "") if p.cell else ""
        summary.append(
            [SEVERITY_LABEL[p.severity], place or "ファイル全体", project or None, p.for_department]
        )
    for col, width in zip("ABCD", (8, 24, 40, 70), strict=True):
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


def _row_of(ref: str | None) -> int:
    digits = "".join(ch for ch in ref or "" if ch.isdigit())
    return int(digits) if digits else 0


def _form_table(sheet: Any) -> tuple[int, dict[str, int]]:
    """The header row and column roles of a sheet with the form's headings (0 when it has none)."""
    from hyoka.intake import HEADER_SEARCH_ROWS, column_role

    for r, values in enumerate(sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), 1):
        found = {role: j for j, v in enumerate(values, 1) if (role := column_role(v))}
        if "project" in found or "no" in found:
            return r, found
    return 0, {}


def _fit_table_rows(wb: Any) -> None:
    """Rows of the form as tall as the department's texts, so that the printed copy shows them whole."""
    from hyoka.intake import EMPTY_RUN_END, MAX_DATA_ROWS

    for sheet in wb.worksheets:
        if sheet.sheet_state != "visible":
            continue
        header, _ = _form_table(sheet)
        if not header:
            continue
        rows, empty = [], 0
        last = min(sheet.max_row, header + MAX_DATA_ROWS)
        for r, values in enumerate(
            sheet.iter_rows(min_row=header + 1, max_row=last, values_only=True), header + 1
        ):
            if any(isinstance(v, str) and v.strip() for v in values):
                rows.append(r)
                empty = 0
            else:
                empty += 1
                if empty >= EMPTY_RUN_END:
                    break
        fit_rows(sheet, rows, grow_only=True)


def _projects_by_row(wb: Any, problems: list[Problem]) -> dict[tuple[str, int], str]:
    """(sheet, row) → ``①【事業No.5】name（担当課）`` for the rows the problems point at, read from the
    sheet's own project and 担当課 columns, so that the summary names the project of each marked cell."""
    wanted: dict[str, set[int]] = {}
    for p in problems:
        if p.sheet and p.sheet in wb.sheetnames and p.cell:
            wanted.setdefault(p.sheet, set()).add(_row_of(p.cell))
    out: dict[tuple[str, int], str] = {}
    for name, rows in wanted.items():
        sheet = wb[name]
        header, roles = _form_table(sheet)
        id_col = roles.get("project", roles.get("no"))
        if id_col is None:
            continue
        dep_col = roles.get("department")
        for r in sorted(x for x in rows if x > header):
            label = clean_text(sheet.cell(r, id_col).value)
            dep = clean_text(sheet.cell(r, dep_col).value) if dep_col else ""
            if label:
                out[(name, r)] = f"{label}（{dep}）" if dep else label
    return out


def _writable(sheet: Worksheet, ref: str) -> Cell:
    """The cell to mark: a department may have merged cells, and only a range's top-left takes notes."""
    for merged in sheet.merged_cells.ranges:
        if ref in merged:
            return sheet.cell(merged.min_row, merged.min_col)  # type: ignore[return-value]
    cell: Cell = sheet[ref]
    return cell


def mark_feedback_copy(wb: Workbook) -> None:
    """Record in the hidden sheet the fingerprint of the department's input as this copy holds it.

    collect reads a file with the mark whose input still has that fingerprint as the copy hyoka wrote
    (sent back unchanged, skipped), and any other as a corrected return.
    """
    from hyoka.intake import FEEDBACK_MARK, ReadSheet, form_sheet_order, input_fingerprint, read_rows
    from hyoka.workbook import META_SHEET

    fingerprint = None
    for name in form_sheet_order(wb.sheetnames):
        ws = wb[name]
        if ws.sheet_state == "veryHidden":
            continue
        # A formula is saved without a value, so collect will read it as empty.
        grid = (tuple(None if c.data_type == "f" else c.value for c in row) for row in ws.iter_rows())
        read = read_rows(grid, "", name, ("rating",))
        if isinstance(read, ReadSheet):
            fingerprint = input_fingerprint(read)
            break
    if fingerprint is None:
        return
    if META_SHEET in wb.sheetnames:
        meta = wb[META_SHEET]
    else:
        meta = wb.create_sheet(META_SHEET)
        meta.sheet_state = "hidden"
        meta.protection.sheet = True
    for row in meta.iter_rows(min_row=1, max_row=meta.max_row, max_col=2):
        if row[0].value == FEEDBACK_MARK:
            row[1].value = fingerprint
            return
    meta.append([FEEDBACK_MARK, fingerprint])
