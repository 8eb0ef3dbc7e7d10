"""Survey forms (調査票): one Excel workbook per submitting department.

The layout is shared with the reader in :mod:`hyoka.intake` through :data:`COLUMNS`: the reader finds
the header row by these labels, so a department that copies its rows into a fresh workbook with the
same headings is still read. A hidden sheet records the plan fingerprint, fiscal year, department and
form version, so a return can be matched to what was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hyoka.files import atomic_write
from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.problems import HyokaError, Problem, problem
from hyoka.text import safe_filename, wrapped_lines
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
MAX_EXAMPLES = 10  # rows named in a warning; the rest are counted
# Row heights, estimated as the report does (hyoka.text.wrapped_lines): neither Excel nor LibreOffice
# fits a row with a height of its own to wrapped text, and one without a height does not grow when a
# library writes it. A 10 pt character is 96/72 × 10 px wide; a column of width w is about 7w px.
BODY_PT = 10
LINE_PT = 14.0  # a 10 pt line of a Japanese gothic font, with its leading
ROW_PAD_PT = 4.0
MIN_ROW_PT = 60.0  # room for about four lines in the empty input cells of a blank form
MAX_ROW_PT = 409.0  # Excel's limit
DEFAULT_WIDTH = 8.43  # Excel's default column width


@dataclass(frozen=True)
class Column:
    role: str
    heading: str
    width: float
    input: bool = False


def columns(year: FiscalYear, gannen: bool = True) -> list[Column]:
    """The table's columns, with the committee table's headings."""
    return [
        Column("measure", "施策", 16),
        Column("project", "個別事業・取り組み", 30),
        Column("department", "担当課", 14),
        Column("achievement", f"事業実績・評価理由 ({year.label(gannen)})", 60, input=True),
        # Broken where the words meet: the narrow column would otherwise wrap inside 事業評価.
        Column("prior", "前年度\n事業評価", 9),
        Column("rating", "事業評価", 9, input=True),
        Column("outlook", "今後の事業計画・展望", 50, input=True),
    ]


def form_filename(year: FiscalYear, submitter: str) -> str:
    return f"{FILE_PREFIX}_{year.short}_{safe_filename(submitter)}.xlsx"


@dataclass
class FormsResult:
    """The forms written and what the clerk should know about them (warnings, never errors)."""

    paths: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def write_forms(
    ws: Workspace, year: FiscalYear, out: Path | None = None, department: str | None = None
) -> list[Path]:
    """Write one form per submitting department (or only ``department``); returns the paths."""
    return make_forms(ws, year, out, department).paths


def make_forms(
    ws: Workspace,
    year: FiscalYear,
    out: Path | None = None,
    department: str | None = None,
    *,
    today: date | None = None,
) -> FormsResult:
    """Write one form per submitting department (or only ``department``), with the warnings: a year
    far from today's (R55 for R5), rows whose prior-year rating is not stored yet."""
    plan = ws.version(year).plan
    submitters = plan.submitters
    if department is not None:
        from hyoka.text import normalize_code

        wanted = normalize_code(department)
        if wanted not in submitters:
            raise HyokaError(f"提出課「{department}」は計画にありません。提出課: {'、'.join(submitters)}")
        submitters = [wanted]
    from hyoka.results import prior_ratings

    with ws.store() as store:
        prior = prior_ratings(store, year)
    target = out or ws.out_dir / "forms" / year.short
    if target.exists() and not target.is_dir():
        raise HyokaError(f"{target} はファイルです。--out には調査票を置くフォルダを指定してください。")
    result = FormsResult(
        problems=form_warnings(plan, year, submitters, prior, today or date.today(), ws.config.gannen)
    )
    taken: set[str] = set()
    for index, submitter in enumerate(submitters):
        path = target / _unique(form_filename(year, submitter), taken)
        workbook = build_form(ws, plan, year, submitter, prior)
        try:
            atomic_write(path, workbook.save)
        except HyokaError as exc:  # a full disk part-way: say which forms exist and which do not
            if not result.paths:
                raise
            done = "、".join(p.name for p in result.paths)
            raise HyokaError(
                f"{exc}\n作成済みの調査票（{len(result.paths)}件）: {done}\n"
                f"作成していない調査票: {len(submitters) - index}件（{path.name} から後）"
            ) from exc
        result.paths.append(path)
    return result


def form_warnings(
    plan: Plan,
    year: FiscalYear,
    submitters: list[str],
    prior: Mapping[RowKey, str],
    today: date,
    gannen: bool = True,
) -> list[Problem]:
    """What the clerk should check before sending the forms out."""
    found: list[Problem] = []
    current = FiscalYear.of(today)
    if year.is_far_from(today):
        found.append(
            problem(
                "year-far-from-today",
                year=year.label(gannen),
                current=current.label(gannen),
                distance=abs(year.start - current.start),
            )
        )
    rows = dict.fromkeys(r for s in submitters for r in plan.rows_for(s))  # a joint row once
    without = [r for r in rows if not r.is_new and r.key not in prior]
    if without:
        shown = "、".join(f"事業No.{r.project_no} {r.department}" for r in without[:MAX_EXAMPLES])
        more = len(without) - MAX_EXAMPLES
        found.append(
            problem(
                "prior-rating-missing",
                prior=year.previous().label(gannen),
                count=len(without),
                examples=shown + (f" ほか{more}行" if more > 0 else ""),
            )
        )
    return found


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
            cell.alignment = centred if col.role in ("prior", "rating") else wrap_top
            if col.input:
                cell.fill = input_fill
                cell.protection = unlocked

    last_row = header + len(rows)
    # Sized to the static texts, with room left for the department's; rows stay resizable
    # (formatRows is allowed on the protected sheet) for a department that writes more.
    fit_rows(sheet, range(header + 1, last_row + 1))
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


def fit_rows(
    sheet: Worksheet, rows: Iterable[int], min_height: float = MIN_ROW_PT, *, grow_only: bool = False
) -> None:
    """Give each row the height its wrapped texts need (at least ``min_height``), estimated from
    the column widths: written by a library, a row is otherwise as tall as its fixed height.
    ``grow_only`` keeps a row someone made taller as it is."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, float] = {}
    for r in rows:
        lines = 1
        for cell in sheet[r]:
            value = cell.value
            if not isinstance(value, str) or not value:
                continue
            col = cell.column
            if not isinstance(col, int):
                continue
            if col not in widths:
                width = sheet.column_dimensions[get_column_letter(col)].width
                widths[col] = width if width else DEFAULT_WIDTH
            lines = max(lines, wrapped_lines(value, _em_per_line(widths[col])))
        height = min(MAX_ROW_PT, max(min_height, lines * LINE_PT + ROW_PAD_PT))
        current = sheet.row_dimensions[r].height
        if not (grow_only and current and current > height):
            sheet.row_dimensions[r].height = height


def _em_per_line(width: float) -> float:
    """Full-width characters per line in a column of Excel width ``width`` (less the cell margins)."""
    return (width * 7 - 6) / (BODY_PT * 96 / 72)


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
        "measure": f"{row.measure_label} {row.measure}",
        "project": row.project_label,
        "department": row.department,
        "achievement": None,
        "prior": prior.get(row.key),
        "rating": None,
        "outlook": None,
    }
