"""Survey forms (調査票): one Excel workbook per submitting department.

The layout is shared with the reader in :mod:`hyoka.intake` through :data:`COLUMNS`: the reader finds
the header row by these labels, so a department that copies its rows into a fresh workbook with the
same headings is still read. A hidden sheet records the plan fingerprint, fiscal year, department and
form version, so a return can be matched to what was sent.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyoka.files import atomic_write
from hyoka.plan import Plan, RowKey, plan_row_values
from hyoka.problems import HyokaError, Problem, problem
from hyoka.sheet import (
    ChoiceType,
    JointConflict,
    NumberType,
    RatingType,
    SheetDefinition,
    Validation,
    combine_joint,
    excel_formula,
    excel_number_format,
    excel_proposal_formula,
    higher_is_better,
    validation,
)
from hyoka.sheet import Column as SheetColumn
from hyoka.text import safe_filename, text_em, wrapped_lines
from hyoka.workbook import META_SHEET as META_SHEET  # the form's sheets, re-exported for writers
from hyoka.workbook import SHEET_NAME as SHEET_NAME
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.dimensions import RowDimension
    from openpyxl.worksheet.worksheet import Worksheet

FORM_VERSION = "1"
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


def _import_openpyxl_without_numpy() -> None:
    """Import openpyxl as though numpy were not installed (it stays importable afterwards).

    openpyxl imports numpy whenever it can (pandas brings it) only so that numpy numbers may be cell
    values, which hyoka never writes: 0.05–0.1 s of every ``hyoka forms`` process."""
    if "openpyxl" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
    try:
        import openpyxl  # noqa: F401
    finally:
        del sys.modules["numpy"]


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
    previous = previous_values(ws, year)
    target = out or ws.out_dir / "forms" / year.short
    if target.exists() and not target.is_dir():
        raise HyokaError(f"{target} はファイルです。出力先には調査票を置くフォルダを指定してください。")
    result = FormsResult(
        problems=form_warnings(plan, year, submitters, prior, today or date.today(), ws.config.gannen)
    )
    taken: set[str] = set()
    for index, submitter in enumerate(submitters):
        path = target / _unique(form_filename(year, submitter), taken)
        workbook = build_form(ws, plan, year, submitter, prior, previous)
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


def form_columns(sheet: SheetDefinition) -> list[SheetColumn]:
    """The sheet's columns the department's form shows, in order (a 提案 cell follows its rating)."""
    return [c for c in sheet.columns if c.form and c.source != "secretariat"]


def _form_layout(
    sheet: SheetDefinition, year: FiscalYear, gannen: bool
) -> list[tuple[Column, SheetColumn | None]]:
    """(layout column, sheet column) in order; the 提案 cell beside a rating with a proposal has None."""
    out: list[tuple[Column, SheetColumn | None]] = []
    for c in form_columns(sheet):
        heading = c.heading_for(year, gannen=gannen)
        if "\n" not in heading and "\n" in (c.report_heading or "") and text_em(heading) * 2 > c.excel_width:
            # Too long for its narrow column: broken where the report breaks it (前年度 / 自己評価).
            heading = c.heading_for(year, gannen=gannen, report=True)
        out.append((Column(c.key, heading, c.excel_width, c.source == "department"), c))
        if c.proposal is not None and c.source == "department":
            out.append((Column(PROPOSAL_ROLE + c.key, f"{c.title}の提案", 8), None))
    return out


PROPOSAL_ROLE = "proposal:"


def previous_values(ws: Workspace, year: FiscalYear) -> dict[RowKey, dict[str, object]]:
    """Last year's typed values that the sheet's previous columns show (前年度実績値), by this year's
    row labels: the rows followed through the plan versions, a joint row's parts combined per column.
    The previous rating comes from ``prior_ratings``; a value the departments did not agree on is left out."""
    from hyoka.results import prior_results

    definition = ws.sheet_for(year)
    wanted = {
        c.previous_of
        for c in definition.of_source("previous")
        if c.previous_of is not None and c.previous_of != definition.default_diff_column
    }
    if not wanted:
        return {}
    with ws.store() as store:
        earlier = prior_results(store, year)
    out: dict[RowKey, dict[str, object]] = {}
    for key, res in earlier.items():
        if res.parts_values:
            combined = combine_joint(definition, res.parts_values)
            out[key] = {k: v for k, v in combined.items() if k in wanted and not isinstance(v, JointConflict)}
    return out


def build_form(
    ws: Workspace,
    plan: Plan,
    year: FiscalYear,
    submitter: str,
    prior: Mapping[RowKey, str],
    previous: Mapping[RowKey, Mapping[str, object]] | None = None,
) -> Workbook:
    """The workbook for one department (returned unsaved, so tests can inspect it).

    Its columns are the sheet's (hyoka.toml's [sheet], or Koganei's): only the department's cells are
    unlocked (yellow); ratings and choices have drop-downs, numbers a range check and their unit,
    computed columns a live formula (grey), and a rating with a proposal the proposal beside it.
    """
    _import_openpyxl_without_numpy()
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.utils import get_column_letter

    cfg = ws.config
    definition = ws.sheet_for(year)
    layout = _form_layout(definition, year, cfg.gannen)
    cols = [col for col, _ in layout]
    rows = plan.rows_for(submitter)
    wb = Workbook()
    sheet: Worksheet = wb.active  # type: ignore[assignment]
    sheet.title = SHEET_NAME
    font = cfg.font_gothic
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    input_fill = PatternFill("solid", fgColor="FFF9DB")
    computed_fill = PatternFill("solid", fgColor="EDEDED")
    head_fill = PatternFill("solid", fgColor="DDE7F3")
    last_col = get_column_letter(len(cols))

    def line(r: int, text: str, *, size: float = 10, bold: bool = False) -> None:
        cell = sheet.cell(row=r, column=1, value=text)
        cell.font = Font(name=font, size=size, bold=bold)
        cell.alignment = Alignment(vertical="center")

    title = f"{cfg.plan_title} 進捗状況調査票（{year.label(cfg.gannen)}実績）"
    line(1, title, size=14, bold=True)
    line(2, f"{cfg.committee}　／　提出課: {submitter}　／　事務局: {cfg.secretariat}", size=10)
    r = 3
    ratings = [c for c in form_columns(definition) if isinstance(c.type, RatingType) and c.is_input]
    seen_scales: set[str] = set()
    for c in ratings:
        assert isinstance(c.type, RatingType)
        if c.type.scale in seen_scales:
            continue
        seen_scales.add(c.type.scale)
        scale = definition.scales[c.type.scale]
        r += 1
        # Koganei's form says 【事業評価の評価基準】 as it always has; a defined sheet names the column.
        legend = (
            f"【{c.title}の評価基準】" if "sheet" not in definition.source else f"【評価の基準（{c.title}）】"
        )
        line(r, legend, bold=True)
        for level in scale.levels:
            r += 1
            line(r, f"　{level.code}・・・ {level.description}")
        for k, note_line in enumerate(scale.note.splitlines()):
            r += 1
            line(r, ("※" if k == 0 else "　") + note_line)
    r += 2
    inputs = [c for c in form_columns(definition) if c.source == "department"]
    how = "".join(
        f"{c.title}は一覧（{definition.scales[c.type.scale].codes_text}）から選びます。"
        for c in inputs
        if isinstance(c.type, RatingType)
    )
    how += "".join(
        f"{c.title}は一覧（{'・'.join(c.type.choices)}）から選びます。"
        for c in inputs
        if isinstance(c.type, ChoiceType)
    )
    computed = [c for c in form_columns(definition) if c.computation is not None]
    if computed:
        how += "、".join(c.title for c in computed) + "は入力に応じて自動で計算されます（灰色の欄）。"
    if any(c.proposal is not None for c in inputs):
        how += "「提案」と異なる評価にするときは、理由を記入してください。"
    instructions = (
        f"【記入方法】黄色の欄（{'、'.join(c.title for c in inputs)}）に記入してください。"
        f"{how}行の追加・削除や見出しの変更はしないでください。"
    )
    line(r, instructions)
    sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(cols))
    sheet.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    across = sum(col.width for col in cols)
    sheet.row_dimensions[r].height = max(
        30.0, wrapped_lines(instructions, _em_per_line(across)) * LINE_PT + 2
    )
    header = r + 2

    for j, col in enumerate(cols, 1):
        cell = sheet.cell(row=header, column=j, value=col.heading)
        cell.font = Font(name=font, size=10, bold=True)
        cell.fill = head_fill
        cell.border = border
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(j)].width = col.width
    sheet.row_dimensions[header].height = 32

    letters = {col.role: get_column_letter(j) for j, col in enumerate(cols, 1)}
    # One style object per kind, shared by every cell (creating them per cell dominated at scale).
    body_font = Font(name=font, size=10)
    centred = Alignment(horizontal="center", vertical="top", wrap_text=True)
    right = Alignment(horizontal="right", vertical="top", wrap_text=True)
    unlocked = Protection(locked=False)
    styles = _CellStyles()
    prior_of = definition.default_diff_column
    for i, row in enumerate(rows, 1):
        rr = header + i
        values = plan_row_values(definition, row, year)
        for c in definition.of_source("previous"):
            if c.previous_of is not None and c.previous_of == prior_of:
                values[c.key] = prior.get(row.key)
            elif c.previous_of is not None:  # last year's typed value (前年度実績値)
                values[c.key] = (previous or {}).get(row.key, {}).get(c.previous_of)
        refs = {key: f"{letter}{rr}" for key, letter in letters.items()}
        for j, (col, spec) in enumerate(layout, 1):
            cell = sheet.cell(row=rr, column=j, value=_cell_value(values.get(col.role)))
            style: dict[str, object] = {"font": body_font, "border": border}
            if spec is None:  # the 提案 beside a rating
                rating = definition.column(col.role.removeprefix(PROPOSAL_ROLE))
                if all(k in refs for k in _proposal_inputs(rating)):
                    cell.value = excel_proposal_formula(rating, refs)
                styles.apply(cell, alignment=centred, fill=computed_fill, **style)
                continue
            unit = _row_unit(definition, spec, values)
            if spec.kind == "number":
                style["alignment"] = right
                fmt = excel_number_format(spec, unit)
                if fmt:
                    style["number_format"] = fmt
            elif spec.kind in ("rating", "choice"):
                style["alignment"] = centred
            else:
                style["alignment"] = wrap_top
            if spec.computation is not None:
                if all(k in refs for k in spec.computation.inputs):
                    actual = definition.column(spec.computation.actual)
                    lower = not higher_is_better(actual, values)
                    cell.value = excel_formula(definition, spec, refs, lower_is_better=lower)
                style["fill"] = computed_fill
            if col.input:
                style["fill"] = input_fill
                style["protection"] = unlocked
            styles.apply(cell, **style)

    last_row = header + len(rows)
    # Sized to the static texts, with room left for the department's; rows stay resizable
    # (formatRows is allowed on the protected sheet) for a department that writes more.
    fit_rows(sheet, range(header + 1, last_row + 1))
    if rows:
        for col, spec in layout:
            if spec is None or spec.source != "department":
                continue
            v = validation(definition, spec)
            if v is None:
                continue
            letter = letters[col.role]
            _add_validation(sheet, v, f"{letter}{header + 1}:{letter}{last_row}")

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
    if "sheet" in definition.source:  # Koganei's forms stay as they were
        meta.append(["sheet_fingerprint", definition.fingerprint])
    meta.protection.sheet = True
    return wb


class _CellStyles:
    """Each combination of styles a body cell gets, registered with the workbook once.

    Assigning ``cell.font`` (or fill, border, …) makes openpyxl hash the style object in full to find
    its index in the workbook's list, every time: for the same few objects on every cell that was
    most of the time of ``hyoka forms``. The first cell of a combination is styled through openpyxl;
    the others get a copy of its style indices (``StyleArray``), which is what openpyxl itself
    stores per cell. Only for cells without a style yet, and only within one workbook.
    """

    def __init__(self) -> None:
        from openpyxl.styles.cell_style import StyleArray

        self._array = StyleArray
        self._arrays: dict[tuple[tuple[str, object], ...], Any] = {}

    def apply(self, cell: Any, **style: object) -> None:
        key = tuple((name, value if isinstance(value, str) else id(value)) for name, value in style.items())
        array = self._arrays.get(key)
        if array is not None:
            cell._style = self._array(array)
            return
        for name, value in style.items():
            setattr(cell, name, value)
        self._arrays[key] = self._array(cell._style)


def _cell_value(value: object) -> str | int | float | None:
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)


def _proposal_inputs(rating: SheetColumn) -> tuple[str, ...]:
    prop = rating.proposal
    if prop is None:
        return ()
    return (prop.basis, *(o.condition.column for o in prop.overrides))


def _row_unit(definition: SheetDefinition, column: SheetColumn, values: Mapping[str, object]) -> str | None:
    t = column.type
    if isinstance(t, NumberType) and t.unit_column:
        unit = values.get(t.unit_column)
        return str(unit).strip() if unit else None
    return None


def _add_validation(sheet: Worksheet, v: Validation, cells: str, *more: str) -> None:
    """The sheet definition's check of a column as Excel's data validation over ``cells`` (a range),
    and ``more`` ranges (the rows of a workbook that takes the value on some rows only)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(
        type=v.type,
        formula1=v.formula1,
        formula2=v.formula2,
        operator=v.operator,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=v.title,
        error=v.error,
        promptTitle=v.title if v.prompt else None,
        prompt=v.prompt or None,
        showInputMessage=bool(v.prompt),
    )
    for ref in (cells, *more):
        dv.add(ref)
    sheet.add_data_validation(dv)


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
            sheet.row_dimensions[r] = _fitted_row(sheet, r, height)


def _fitted_row(sheet: Worksheet, index: int, height: float) -> RowDimension:
    """A row of the estimated height, written without ``customHeight``: Excel and LibreOffice take the
    height as the row's fitted one and still grow it to what the department types (a row written with
    customHeight="1", as openpyxl writes every row given a height, stays as it is and prints cut off)."""
    return _fitted_row_class()(sheet, index=index, ht=height)


@functools.cache
def _fitted_row_class() -> type[RowDimension]:
    from openpyxl.worksheet.dimensions import RowDimension

    class FittedRow(RowDimension):
        @property
        def customHeight(self) -> bool:
            return False

    return FittedRow


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


SECRETARIAT_PREFIX = "事務局"
SECRETARIAT_KIND = "secretariat"
"""The ``kind`` in the hidden sheet of the secretariat's workbook, and of its stored import."""


def secretariat_filename(year: FiscalYear) -> str:
    return f"{SECRETARIAT_PREFIX}_{year.short}.xlsx"


def make_secretariat_form(ws: Workspace, year: FiscalYear, out: Path | None = None) -> Path:
    """Write the secretariat's workbook (``事務局_R5.xlsx``): every row of the plan, the departments'
    stored values locked for reading, the secretariat's columns (二次評価, 事務局コメント) to fill in.
    It is read back by ``hyoka import`` like a flat table (事業No | 担当課 | the secretariat's headings)."""
    definition = ws.sheet_for(year)
    if not definition.secretariat_columns:
        raise HyokaError(
            '評価表の定義に事務局が入力する列（source = "secretariat"）がありません。'
            "hyoka.toml の [[sheet.columns]] を確認してください。"
        )
    from hyoka.results import department_values, load_year

    plan = ws.version(year).plan
    with ws.store() as store:
        results = load_year(store, plan, year)
    target = out or ws.out_dir / "forms" / year.short
    if target.exists() and not target.is_dir():
        raise HyokaError(f"{target} はファイルです。出力先には調査票を置くフォルダを指定してください。")
    # What the departments sent (combined per joint rule) and what the secretariat entered so far.
    stored = {key: {**department_values(definition, r), **r.secretariat} for key, r in results.items()}
    workbook = build_secretariat_form(ws, plan, year, stored)
    path = target / secretariat_filename(year)
    atomic_write(path, workbook.save)
    return path


def build_secretariat_form(
    ws: Workspace, plan: Plan, year: FiscalYear, stored: Mapping[RowKey, Mapping[str, object]]
) -> Workbook:
    """The secretariat's workbook (returned unsaved): 事業No, the plan's project and department columns,
    the departments' typed columns (locked, as stored), then the secretariat's (unlocked, yellow)."""
    _import_openpyxl_without_numpy()
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.utils import get_column_letter

    cfg = ws.config
    definition = ws.sheet_for(year)
    shown = [
        c
        for c in definition.columns
        if c.plan_from in ("project", "department") or c.source in ("department", "secretariat")
    ]
    cols = [Column("no", "事業No", 8)] + [
        Column(c.key, c.heading_for(year, gannen=cfg.gannen), c.excel_width, c.source == "secretariat")
        for c in shown
    ]
    wb = Workbook()
    sheet: Worksheet = wb.active  # type: ignore[assignment]
    sheet.title = SECRETARIAT_PREFIX
    font = cfg.font_gothic
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    input_fill = PatternFill("solid", fgColor="FFF9DB")
    head_fill = PatternFill("solid", fgColor="DDE7F3")
    title = sheet.cell(
        row=1, column=1, value=f"{cfg.plan_title} 事務局の評価（{year.label(cfg.gannen)}実績）"
    )
    title.font = Font(name=font, size=14, bold=True)
    names = "、".join(c.title for c in definition.secretariat_columns)
    note = sheet.cell(
        row=2,
        column=1,
        value=f"【記入方法】黄色の欄（{names}）に記入し、hyoka import で取り込んでください。"
        "各課の欄は保存済みの内容で、変更しても取り込まれません。",
    )
    note.font = Font(name=font, size=10)
    header = 4
    for j, col in enumerate(cols, 1):
        cell = sheet.cell(row=header, column=j, value=col.heading)
        cell.font = Font(name=font, size=10, bold=True)
        cell.fill = head_fill
        cell.border = border
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(j)].width = col.width
    body = Font(name=font, size=10)
    wrap = Alignment(wrap_text=True, vertical="top")
    centred = Alignment(horizontal="center", vertical="top")
    read_only = PatternFill("solid", fgColor="F2F2F2")  # the departments' values: for reading only
    unlocked = Protection(locked=False)
    kinds = {c.key: (c.kind, c.source) for c in shown}
    for i, row in enumerate(plan.rows, 1):
        r = header + i
        values = {**plan_row_values(definition, row, year), **stored.get(row.key, {})}
        values["no"] = row.project_no
        for j, col in enumerate(cols, 1):
            cell = sheet.cell(row=r, column=j, value=_cell_value(values.get(col.role)))
            cell.font = body
            cell.border = border
            kind, source = kinds.get(col.role, ("text", "plan"))
            cell.alignment = centred if kind in ("rating", "choice") or col.role == "no" else wrap
            if source == "department":
                cell.fill = read_only
            if col.input:
                cell.fill = input_fill
                cell.protection = unlocked
    last = header + len(plan.rows)
    fit_rows(sheet, range(header + 1, last + 1), min_height=30)
    for j, col in enumerate(cols, 1):
        c = definition.column(col.role) if definition.has(col.role) else None
        v = validation(definition, c) if c is not None and c.source == "secretariat" else None
        if v is None or not plan.rows:
            continue
        letter = get_column_letter(j)
        _add_validation(sheet, v, f"{letter}{header + 1}:{letter}{last}")
    sheet.freeze_panes = f"A{header + 1}"
    print_a4_landscape(sheet, header)
    sheet.protection.sheet = True
    sheet.protection.formatRows = False
    sheet.protection.formatColumns = False
    if cfg.form_password:
        sheet.protection.password = cfg.form_password
    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "hidden"
    fields = {**form_meta(plan, year, SECRETARIAT_PREFIX, header), "kind": SECRETARIAT_KIND}
    for key, value in fields.items():
        meta.append([key, value])
    meta.protection.sheet = True
    return wb
