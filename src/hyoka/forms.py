"""Survey forms (調査票): one Excel workbook per submitting department.

The layout is shared with the reader in :mod:`hyoka.intake` through :data:`COLUMNS`: the reader finds
the header row by these labels, so a department that copies its rows into a fresh workbook with the
same headings is still read. A hidden sheet records the plan fingerprint, fiscal year, department and
form version, so a return can be matched to what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hyoka.files import atomic_write
from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.problems import HyokaError
from hyoka.text import safe_filename
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

FORM_VERSION = "1"
SHEET_NAME = "調査票"
META_SHEET = "_hyoka"
FILE_PREFIX = "調査票"
MAX_PROMPT = 250  # Excel refuses a data-validation message longer than 255 characters


@dataclass(frozen=True)
class Column:
    role: str
    heading: str
    width: float
    input: bool = False


def columns(year: FiscalYear, gannen: bool = True) -> list[Column]:
    """The table's columns, with the committee table's headings."""
    return [
        Column("measure", "施策", 7),
        Column("project", "個別事業・取り組み", 30),
        Column("department", "担当課", 14),
        Column("achievement", f"事業実績・評価理由 ({year.label(gannen)})", 60, input=True),
        Column("prior", "前年度事業評価", 9),
        Column("rating", "事業評価", 9, input=True),
        Column("outlook", "今後の事業計画・展望", 50, input=True),
    ]


def form_filename(year: FiscalYear, submitter: str) -> str:
    return f"{FILE_PREFIX}_{year.short}_{safe_filename(submitter)}.xlsx"


def write_forms(
    ws: Workspace, year: FiscalYear, out: Path | None = None, department: str | None = None
) -> list[Path]:
    """Write one form per submitting department (or only ``department``); returns the paths."""
    plan = ws.plan
    submitters = plan.submitters
    if department is not None:
        from hyoka.text import normalize_code

        wanted = normalize_code(department)
        if wanted not in submitters:
            raise HyokaError(f"提出課「{department}」は計画にありません。提出課: {'、'.join(submitters)}")
        submitters = [wanted]
    from hyoka.results import ratings

    with ws.store() as store:
        prior = ratings(store, plan, year.previous())
    target = out or ws.out_dir / "forms" / year.short
    if target.exists() and not target.is_dir():
        raise HyokaError(f"{target} はファイルです。--out には調査票を置くフォルダを指定してください。")
    paths: list[Path] = []
    taken: set[str] = set()
    for submitter in submitters:
        path = target / _unique(form_filename(year, submitter), taken)
        workbook = build_form(ws, plan, year, submitter, prior)
        atomic_write(path, workbook.save)
        paths.append(path)
    return paths


def _unique(name: str, taken: set[str]) -> str:
    """Two departments whose names differ only in characters Windows forbids (係:1, 係?1), or only
    in case, would get the same file: number the later ones instead of overwriting."""
    stem, suffix = name.rsplit(".", 1)
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem}_{n}.{suffix}"
    taken.add(candidate.casefold())
    return candidate


def build_form(
    ws: Workspace, plan: Plan, year: FiscalYear, submitter: str, prior: Mapping[RowKey, str]
) -> Workbook:
    """The workbook for one department (returned unsaved, so tests can inspect it)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    cfg = ws.config
    scale = cfg.scale
    cols = columns(year, cfg.gannen)
    rows = plan.rows_for(submitter)
    wb = Workbook()
    sheet: Worksheet = wb.active  # type: ignore[assignment]
    sheet.title = SHEET_NAME
    font = cfg.font_gothic
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    input_fill = PatternFill("solid", fgColor="FFF9DB")
    head_fill = PatternFill("solid", fgColor="DDE7F3")
    last_col = get_column_letter(len(cols))

    def line(r: int, text: str, *, size: float = 10, bold: bool = False) -> None:
        cell = sheet.cell(row=r, column=1, value=text)
        cell.font = Font(name=font, size=size, bold=bold)
        cell.alignment = Alignment(vertical="center")

    title = f"{cfg.plan_title} 進捗状況調査票（{year.label(cfg.gannen)}実績）"
    line(1, title, size=14, bold=True)
    line(2, f"{cfg.committee}　／　提出課: {submitter}　／　事務局: {cfg.secretariat}", size=10)
    r = 4
    line(r, "【事業評価の評価基準】", bold=True)
    for level in scale.levels:
        r += 1
        line(r, f"　{level.code}・・・ {level.description}")
    for k, note_line in enumerate(scale.note.splitlines()):
        r += 1
        line(r, ("※" if k == 0 else "　") + note_line)
    r += 2
    instructions = (
        "【記入方法】黄色の欄（事業実績・評価理由、事業評価、今後の事業計画・展望）に記入してください。"
        f"事業評価は一覧（{scale.codes_text}）から選びます。行の追加・削除や見出しの変更はしないでください。"
    )
    line(r, instructions)
    sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(cols))
    sheet.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[r].height = 30
    header = r + 2

    for j, col in enumerate(cols, 1):
        cell = sheet.cell(row=header, column=j, value=col.heading)
        cell.font = Font(name=font, size=10, bold=True)
        cell.fill = head_fill
        cell.border = border
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(j)].width = col.width
    sheet.row_dimensions[header].height = 32

    role_col = {c.role: j for j, c in enumerate(cols, 1)}
    # One style object per kind, shared by every cell (creating them per cell dominated at scale).
    body_font = Font(name=font, size=10)
    centred = Alignment(horizontal="center", vertical="top", wrap_text=True)
    unlocked = Protection(locked=False)
    for i, row in enumerate(rows, 1):
        rr = header + i
        values = _row_values(row, prior)
        for j, col in enumerate(cols, 1):
            cell = sheet.cell(row=rr, column=j, value=values.get(col.role))
            cell.font = body_font
            cell.border = border
            cell.alignment = centred if col.role in ("prior", "rating", "measure") else wrap_top
            if col.input:
                cell.fill = input_fill
                cell.protection = unlocked
        # A library cannot make Excel fit rows to wrapped text (LibreOffice does not either, measured):
        # leave room for about four lines; departments may resize rows (formatRows is allowed).
        sheet.row_dimensions[rr].height = max(60, 15 * (len(row.project_label) // 14 + 1))

    last_row = header + len(rows)
    if rows:
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(scale.codes) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="事業評価",
            error=f"事業評価は {scale.codes_text} のいずれかを選んでください。"[:MAX_PROMPT],
            promptTitle="事業評価",
            prompt=" / ".join(f"{lv.code}: {lv.label or lv.description}" for lv in scale.levels)[:MAX_PROMPT],
            showInputMessage=True,
        )
        letter = get_column_letter(role_col["rating"])
        dv.add(f"{letter}{header + 1}:{letter}{last_row}")
        sheet.add_data_validation(dv)

    sheet.freeze_panes = f"A{header + 1}"
    sheet.print_area = f"A1:{last_col}{max(last_row, header)}"
    print_a4_landscape(sheet, header)
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = "&P / &N"  # type: ignore[union-attr]
    sheet.protection.sheet = True
    # Let the clerk resize rows and columns to read long texts; everything else stays locked.
    sheet.protection.formatRows = False
    sheet.protection.formatColumns = False
    if cfg.form_password:
        sheet.protection.password = cfg.form_password

    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "hidden"
    for key, value in form_meta(plan, year, submitter, header).items():
        meta.append([key, value])
    meta.protection.sheet = True
    return wb


def print_a4_landscape(sheet: Worksheet, title_row: int) -> None:
    """A4 landscape, as wide as the page, with ``title_row`` repeated on every printed page."""
    sheet.print_title_rows = f"{title_row}:{title_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if sheet.sheet_properties.pageSetUpPr is not None:
        sheet.sheet_properties.pageSetUpPr.fitToPage = True


def form_meta(plan: Plan, year: FiscalYear, submitter: str, header_row: int) -> dict[str, str]:
    return {
        "form_version": FORM_VERSION,
        "plan_fingerprint": plan.fingerprint,
        "fiscal_year": str(year.start),
        "fiscal_year_label": year.short,
        "submitter": submitter,
        "header_row": str(header_row),
        "generated_at": datetime.now().isoformat(timespec="seconds"),
    }


def _row_values(row: PlanRow, prior: Mapping[RowKey, str]) -> dict[str, str | None]:
    return {
        "measure": row.measure_label,
        "project": row.project_label,
        "department": row.department,
        "achievement": None,
        "prior": prior.get(row.key),
        "rating": None,
        "outlook": None,
    }
