"""Writing diff and history results: terminal table, CSV, Excel (.xlsx), Markdown and JSON.

An adapter at the edge. :func:`diff_document` and :func:`history_document` turn the core's dataclasses
into a :class:`Document` (titled tables plus the JSON records); :func:`render` and :func:`save` write it
in one format. openpyxl is imported only when an .xlsx is written, so the CLI starts fast.

JSON shapes (stable, for machines):

- diff: a list of ``{"no", "project", "department", "before", "after", "change"}``; ``before``/``after``
  are null where the year has no rating, ``change`` is one of up, down, same, new, removed (and
  changed where the two years' scales differ). Plan rows the later year has no rating for yet (未提出)
  are not in the list: they are not a change.
- history: a list of ``{"no", "project", "department", "ratings": {"R4": "B", "R5": "A"}}`` with every
  stored year as a key, oldest first, null where the year has no rating. (The short year keys are for
  machines; every human-facing format heads its columns 令和4年度.)

What a document says once about the whole comparison (the two years' scales differ:
:attr:`Document.notices`) is printed under the title in the table and Markdown, below the first table
in .xlsx and on the web page; CSV and JSON are data and leave it out (:data:`NOTE_FORMATS`), so the
CLI says it on standard error.

In CSV, .xlsx, the table and Markdown, 事業No and 基本目標No are numbers when every one of the plan is
an integer (so they sort 2 before 10 and Excel shows no "number stored as text" marks), text otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from hyoka.diff import Change, Diff, DiffRow, GroupSummary, History, Value
from hyoka.files import atomic_write, atomic_write_bytes
from hyoka.problems import Problem
from hyoka.sheet import Column, format_value

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from hyoka.plan import Plan

FORMATS = ("table", "csv", "xlsx", "json", "md")
NOTE_FORMATS = ("table", "xlsx", "md")
"""The formats that carry a document's notices (CSV and JSON hold the data only)."""
SUFFIX_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".md": "md", ".txt": "table"}
XLSX_TITLE_ROWS = 1  # the title above each sheet's table; the headings follow on the next row

CHANGE_LABELS: dict[Change, str] = {
    "up": "上昇",
    "down": "低下",
    "same": "変化なし",
    "new": "新規",
    "removed": "廃止",
    "merged": "統合",
}
# Arrows only in a row's 変化 cell: they are ambiguous-width, so they stay out of aligned headings.
CHANGE_MARKS: dict[Change, str] = {"up": "↑", "down": "↓"}
# --column of a number: up is better, which for a lower-is-better row is a smaller number, so the
# words say better and worse (and no arrow suggests the number's own movement); 増減 gives that.
NUMBER_CHANGE_LABELS: dict[Change, str] = {"up": "改善", "down": "悪化"}
OTHER_CHANGE_LABELS: dict[Change, str] = {"changed": "変更"}

# A spreadsheet reads a cell starting with these as a formula (or, for tab and CR, mangles it).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_WIDTH = 60

Cell = str | int


@dataclass(frozen=True)
class Sheet:
    """One titled table: a sheet in .xlsx, the whole file in CSV, a block in the terminal and Markdown."""

    title: str
    headings: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    text_columns: tuple[int, ...] | None = None
    """Columns shown in the terminal and Markdown, where width is scarce (None: all)."""
    empty: str = ""
    """Printed instead of a table without rows."""
    notes: tuple[str, ...] = ()
    """Lines after the table, in every format but CSV (in .xlsx below the table, after a blank row)."""


@dataclass(frozen=True)
class Document:
    title: str
    sheets: tuple[Sheet, ...]
    records: tuple[dict[str, object], ...]
    notices: tuple[Problem, ...] = ()
    """Said once about the whole document (``diff-scale-differs``), under the title."""


# --- documents -----------------------------------------------------------------------------------------


def integer_numbers(plan: Plan | None) -> tuple[bool, bool]:
    """Whether every 基本目標No and every 事業No of the plan is an integer (then they are written as
    numbers); a plan with any other number (``10-2``, ``A1``) keeps them all as text."""
    if plan is None or not plan.rows:
        return False, False
    return all(r.goal_no.isdecimal() for r in plan.rows), all(r.project_no.isdecimal() for r in plan.rows)


def _number(value: str, numeric: bool) -> Cell:
    return int(value) if numeric and value.isdecimal() else value


IDENTITY_HEADS = ("基本目標No", "基本目標", "事業No", "事業名", "担当課")
"""The columns that say which row a line of a diff is (every diff document starts with them)."""


class _Labelled(Protocol):
    """A diff or history row: the labels of the plan row it is (frozen dataclasses: read-only)."""

    @property
    def goal_no(self) -> str: ...
    @property
    def goal(self) -> str: ...
    @property
    def no(self) -> str: ...
    @property
    def project(self) -> str: ...
    @property
    def department(self) -> str: ...


def _identity(r: _Labelled, goal_numeric: bool, no_numeric: bool) -> tuple[Cell, ...]:
    """A diff row's :data:`IDENTITY_HEADS` cells (numbers as numbers where the plan's all are)."""
    return (_number(r.goal_no, goal_numeric), r.goal, _number(r.no, no_numeric), r.project, r.department)


def diff_document(
    diff: Diff, *, show_all: bool = False, gannen: bool = True, plan: Plan | None = None
) -> Document:
    """The changed rows (every row with ``show_all``), then counts per rating and per change.

    ``plan`` decides whether the numbers are written as numbers (:func:`integer_numbers`). A diff of
    another column than the default (``--column``) is :func:`column_diff_document`.
    """
    if diff.column is not None:
        return column_diff_document(diff, diff.column, show_all=show_all, gannen=gannen, plan=plan)
    before, after = diff.before_year.label(gannen), diff.after_year.label(gannen)
    shown = diff.rows if show_all else diff.changed
    goal_numeric, no_numeric = integer_numbers(plan)
    moved = any(r.before_no is not None for r in shown)  # 備考 only where a row's identity moved
    rows = Sheet(
        "比較",
        (*IDENTITY_HEADS, before, after, "変化", *(("備考",) if moved else ())),
        tuple(
            (
                *_identity(r, goal_numeric, no_numeric),
                _code(r.before),
                _code(r.after),
                _change_cell(r.change),
                *((_earlier_labels(r),) if moved else ()),
            )
            for r in shown
        ),
        text_columns=(2, 3, 4, 5, 6, 7, *((8,) if moved else ())),
        empty="評価が変わった行はありません。",
    )
    groups = (diff.overall, *diff.goals)
    counts = Sheet(
        "評価ごとの行数",
        ("区分", "年度", *diff.codes, "計"),
        tuple(
            (_group_label(g, g is diff.overall), label, *by_code.values(), sum(by_code.values()))
            for g in groups
            for label, by_code in ((before, g.before), (after, g.after))
        ),
    )
    # 統合 only where a version merged rows: the table of a year without merges stays as it was.
    kinds = [c for c in CHANGE_LABELS if c != "merged" or diff.overall.changes.get("merged")]
    if diff.scale_change is not None:  # not ranked: 変更 in place of 上昇 and 低下
        kinds = ["changed", *(c for c in kinds if c not in ("up", "down"))]
    labels = {**CHANGE_LABELS, **OTHER_CHANGE_LABELS}
    changes = Sheet(
        "変化の内訳",
        ("区分", *(labels[c] for c in kinds)),
        tuple((_group_label(g, g is diff.overall), *(g.changes[c] for c in kinds)) for g in groups),
        notes=_unsubmitted_notes(diff, after),
    )
    what = f"全 {len(shown)} 行" if show_all else f"評価が変わった行 {len(shown)} 行"
    return Document(
        title=f"事業評価の比較 {before} → {after}（{what}）",
        sheets=(rows, counts, changes),
        notices=tuple(c.notice(gannen=gannen) for c in diff.notices),
        records=tuple(_diff_record(r) for r in shown),
    )


def column_diff_document(
    diff: Diff, column: Column, *, show_all: bool = False, gannen: bool = True, plan: Plan | None = None
) -> Document:
    """A diff of one column of the sheet (``--column``): as :func:`diff_document`, the values printed as
    the report prints them (numbers with their units), a number's 増減, counts per code for ratings and
    choices. JSON: the default's keys, with ``delta`` (after − before, or null) for a number column."""
    before, after = diff.before_year.label(gannen), diff.after_year.label(gannen)
    shown = diff.rows if show_all else diff.changed
    goal_numeric, no_numeric = integer_numbers(plan)
    moved = any(r.before_no is not None for r in shown)
    number = column.kind == "number"
    labels = _change_labels(column)
    rows = Sheet(
        "比較",
        (
            *IDENTITY_HEADS,
            before,
            after,
            *(("増減",) if number else ()),
            "変化",
            *(("備考",) if moved else ()),
        ),
        tuple(
            (
                *_identity(r, goal_numeric, no_numeric),
                _value_text(column, r.before, r.before_unit_or_unit),
                _value_text(column, r.after, r.unit),
                *((_delta_text(column, r.delta, r.unit),) if number else ()),
                CHANGE_MARKS.get(r.change, "") * (not number) + labels[r.change],
                *((_earlier_labels(r),) if moved else ()),
            )
            for r in shown
        ),
        text_columns=tuple(range(2, 8 + number + moved)),
        empty=f"「{column.title}」が変わった行はありません。",
    )
    groups = (diff.overall, *diff.goals)
    sheets = [rows]
    if diff.codes:
        sheets.append(
            Sheet(
                f"{column.title}ごとの行数",
                ("区分", "年度", *diff.codes, "計"),
                tuple(
                    (_group_label(g, g is diff.overall), label, *by_code.values(), sum(by_code.values()))
                    for g in groups
                    for label, by_code in ((before, g.before), (after, g.after))
                ),
            )
        )
    always: tuple[Change, ...] = ("changed", "same", "new", "removed")
    if column.kind != "choice" and diff.scale_change is None:  # scales that differ are not ranked
        always = ("up", "down", "same", "new", "removed")
    order: tuple[Change, ...] = ("up", "down", "changed", "same", "new", "removed", "merged")
    kinds = [c for c in order if c in always or diff.overall.changes.get(c)]
    unsubmitted: tuple[str, ...] = ()
    if diff.unsubmitted:
        unsubmitted = (
            f"{after}の「{column.title}」がない行（未提出・空欄）: {len(diff.unsubmitted)} 行 — 比較していません。",
        )
    sheets.append(
        Sheet(
            "変化の内訳",
            ("区分", *(labels[c] for c in kinds)),
            tuple((_group_label(g, g is diff.overall), *(g.changes[c] for c in kinds)) for g in groups),
            notes=unsubmitted,
        )
    )
    what = f"全 {len(shown)} 行" if show_all else f"「{column.title}」が変わった行 {len(shown)} 行"
    return Document(
        title=f"「{column.title}」の比較 {before} → {after}（{what}）",
        sheets=tuple(sheets),
        notices=tuple(c.notice(gannen=gannen) for c in diff.notices),
        records=tuple(_diff_record(r, delta=number) for r in shown),
    )


def _diff_record(r: DiffRow, *, delta: bool = False) -> dict[str, object]:
    """One row of a diff's JSON (the default comparison's and a column's); ``delta`` for a number column."""
    return {
        "no": r.no,
        "project": r.project,
        "department": r.department,
        "before": r.before,
        "after": r.after,
        "change": r.change,
        **({"delta": r.delta} if delta else {}),
        # Only when the row's identity moved (renamed, renumbered, merged): the JSON of a year
        # without such rows stays as it was.
        **(
            {"before_no": r.before_no, "before_department": r.before_department}
            if r.before_no is not None
            else {}
        ),
    }


def _code(value: Value | None) -> str:
    """A rating's code as the default diff and history print it ('' where the year has none)."""
    return "" if value is None else str(value)


def _change_labels(column: Column) -> dict[Change, str]:
    labels = {**CHANGE_LABELS, **OTHER_CHANGE_LABELS}
    if column.kind == "number":
        labels.update(NUMBER_CHANGE_LABELS)
    return labels


def _value_text(column: Column, value: Value | None, unit: str | None) -> Cell:
    if value is None:
        return ""
    if isinstance(value, str):  # a code, or a merged row's values joined (A／B)
        return value
    return format_value(column, value, unit=unit)


def _delta_text(column: Column, delta: int | float | None, unit: str | None) -> str:
    """``380.0人増``, ``2.0人減``, ``±0``: no leading sign, which a spreadsheet would read as a formula."""
    if delta is None:
        return ""
    if delta == 0:
        return "±0"
    return format_value(column, abs(delta), unit=unit) + ("増" if delta > 0 else "減")


def _earlier_labels(r: DiffRow) -> str:
    """``旧: No.37``, ``旧: 地域安全課``: what the row was called in the earlier year, if it moved."""
    if r.before_no is None:
        return ""
    parts = []
    if r.before_no != r.no:
        parts.append(f"No.{r.before_no}")
    if r.before_department is not None and r.before_department != r.department:
        parts.append(r.before_department)
    return "旧: " + " ".join(parts) if parts else ""


def _unsubmitted_notes(diff: Diff, after: str) -> tuple[str, ...]:
    """The plan rows the later year has no rating for: not compared, counted here (none: no line)."""
    if not diff.unsubmitted:
        return ()
    return (
        f"未提出（{after}の評価がない行）: {len(diff.unsubmitted)} 行 — 比較していません。"
        f"{after}の提出状況は hyoka status で確認できます。",
    )


def history_document(history: History, *, gannen: bool = True, plan: Plan | None = None) -> Document:
    """Each row's ratings side by side, one column per stored year (令和3年度 令和4年度 …).

    A history of another column than the default (``--column``) prints its values as the report
    does and its JSON has ``values`` (``{"R4": 900, "R5": 880}``) where the default has ``ratings``.
    """
    years = [fy.short for fy in history.years]  # the JSON keys
    column = history.column
    goal_numeric, no_numeric = integer_numbers(plan)
    notes = any(r.note for r in history.rows)  # 備考 only where a row was renamed or renumbered
    sheet = Sheet(
        "推移",
        (*IDENTITY_HEADS, *(fy.label(gannen) for fy in history.years), *(("備考",) if notes else ())),
        tuple(
            (
                *_identity(r, goal_numeric, no_numeric),
                *(
                    (_code(code) for code in r.ratings)
                    if column is None
                    else (
                        _value_text(column, v, r.units[i] if r.units else None)
                        for i, v in enumerate(r.ratings)
                    )
                ),
                *((r.note,) if notes else ()),
            )
            for r in history.rows
        ),
        text_columns=(2, 3, 4, *range(5, 5 + len(years) + (1 if notes else 0))),
    )
    first, last = history.years[0], history.years[-1]
    span = first.label(gannen) if first == last else f"{first.label(gannen)}～{last.label(gannen)}"
    what = "事業評価" if column is None else f"「{column.title}」"
    return Document(
        title=f"{what}の推移 {span}（{len(history.rows)} 行）",
        sheets=(sheet,),
        notices=tuple(c.notice(gannen=gannen, history=True) for c in history.notices),
        records=tuple(
            {
                "no": r.no,
                "project": r.project,
                "department": r.department,
                ("ratings" if column is None else "values"): dict(zip(years, r.ratings, strict=True)),
                **({"note": r.note} if r.note else {}),
            }
            for r in history.rows
        ),
    )


def _change_cell(change: Change) -> str:
    return CHANGE_MARKS.get(change, "") + {**CHANGE_LABELS, **OTHER_CHANGE_LABELS}[change]


def _group_label(group: GroupSummary, overall: bool) -> str:
    if overall:
        return "全体"
    if group.goal_no is None:
        return "計画にない事業"
    return f"基本目標{group.goal_no} {group.goal}"


# --- formats -------------------------------------------------------------------------------------------


def format_for(fmt: str | None, out: Path | None) -> str:
    """The format asked for, or the one ``out``'s suffix names; ValueError when they disagree."""
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(
            f"出力形式には {'・'.join(FORMATS)} のいずれかを指定してください（「{fmt}」は使えません）。"
        )
    implied = SUFFIX_FORMATS.get(out.suffix.lower()) if out is not None else None
    if out is not None and implied is None:
        accepted = "・".join(f"{suffix}（{name}）" for suffix, name in SUFFIX_FORMATS.items())
        what = f"拡張子「{out.suffix}」" if out.suffix else "拡張子のない名前"
        raise ValueError(
            f"保存先 {out.name} の{what}では保存できません。{accepted} のいずれかの名前にしてください。"
        )
    if fmt is None:
        return implied or "table"
    if out is not None and implied is not None and implied != fmt:
        raise ValueError(
            f"出力形式 {fmt} と出力ファイルの拡張子「{out.suffix}」が合いません。どちらかを直してください。"
        )
    return fmt


def render(doc: Document, fmt: str) -> str:
    """The document as text in a text format (table, csv, json, md), without a final line end.

    CSV here has no BOM: it is for the terminal or a pipe; :func:`save` adds the BOM for Excel.
    """
    if fmt == "table":
        return render_table(doc)
    if fmt == "csv":
        return render_csv(doc.sheets[0]).removesuffix("\r\n")
    if fmt == "json":
        return json.dumps(list(doc.records), ensure_ascii=False, indent=2)
    if fmt == "md":
        return render_markdown(doc)
    raise ValueError(f"{fmt} は文字として出力できません。ファイルに保存してください。")


def save(doc: Document, fmt: str, path: Path) -> Path:
    """Write the document to ``path`` atomically; CSV gets a BOM so that Excel reads it as UTF-8."""
    if fmt == "xlsx":
        sheets = doc.sheets
        if doc.notices and sheets:  # below the first table, before its own notes
            first = sheets[0]
            notes = (*(p.message for p in doc.notices), *first.notes)
            sheets = (replace(first, notes=notes), *sheets[1:])
        return atomic_write(path, lambda stream: write_xlsx(sheets, stream, title=doc.title))
    return atomic_write_bytes(path, file_bytes(doc, fmt))


def file_bytes(doc: Document, fmt: str) -> bytes:
    """A text format as a file holds it: CSV as Excel reads it (BOM, CRLF), the others UTF-8.

    Also what ``> file.csv`` gets: the CLI writes these bytes when its output is not a terminal.
    """
    if fmt == "csv":
        return (render(doc, fmt) + "\r\n").encode("utf-8-sig")
    return (render(doc, fmt) + "\n").encode("utf-8")


def display_width(text: str) -> int:
    """Columns the text takes in a terminal: wide (全角) characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def _columns(sheet: Sheet) -> tuple[list[str], list[list[Cell]]]:
    keep = sheet.text_columns if sheet.text_columns is not None else range(len(sheet.headings))
    return [sheet.headings[i] for i in keep], [[row[i] for i in keep] for row in sheet.rows]


def _text_block(sheet: Sheet) -> list[str]:
    headings, rows = _columns(sheet)
    if not rows:
        return [sheet.empty] if sheet.empty else []
    cells = [[str(c) for c in row] for row in rows]
    numeric = [all(isinstance(row[i], int) for row in rows) for i in range(len(headings))]
    widths = [max(display_width(t) for t in [h, *(row[i] for row in cells)]) for i, h in enumerate(headings)]

    def line(texts: Sequence[str]) -> str:
        return "  ".join(_pad(t, w, n) for t, w, n in zip(texts, widths, numeric, strict=True)).rstrip()

    return [line(headings), line(["-" * w for w in widths]), *(line(row) for row in cells)]


def render_table(doc: Document) -> str:
    """A plain-text table aligned for double-width Japanese characters (the main table untitled)."""
    lines = [doc.title, ""]
    if doc.notices:
        lines += [*(p.message for p in doc.notices), ""]
    for i, sheet in enumerate(doc.sheets):
        if i:
            lines += ["", f"【{sheet.title}】"]
        lines += _text_block(sheet)
        if sheet.notes:
            lines += ["", *sheet.notes]
    return "\n".join(lines)


def _md_cell(value: Cell) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def render_markdown(doc: Document) -> str:
    lines = [f"# {_md_cell(doc.title)}"]
    if doc.notices:
        lines += ["", *(_md_cell(p.message) for p in doc.notices)]
    for sheet in doc.sheets:
        lines += ["", f"## {sheet.title}", ""]
        headings, rows = _columns(sheet)
        if not rows:
            lines.append(sheet.empty or "（なし）")
        else:
            numeric = [all(isinstance(row[i], int) for row in rows) for i in range(len(headings))]
            lines.append("| " + " | ".join(_md_cell(h) for h in headings) + " |")
            lines.append("| " + " | ".join("---:" if n else "---" for n in numeric) + " |")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        if sheet.notes:
            lines += ["", *(_md_cell(note) for note in sheet.notes)]
    return "\n".join(lines)


def spreadsheet_text(value: str) -> str:
    """``value`` as a spreadsheet keeps it: a leading ``'`` stops it being read as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def render_csv(sheet: Sheet) -> str:
    """Every column of the sheet, CRLF line ends as Excel writes them, formula-like text made literal."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(sheet.headings)
    writer.writerows([spreadsheet_text(c) if isinstance(c, str) else c for c in row] for row in sheet.rows)
    return buffer.getvalue()


def write_xlsx(sheets: Sequence[Sheet], path: Path | BinaryIO, *, title: str = "") -> None:
    """One worksheet per sheet: a title row, a bold header with borders, filter and frozen panes,
    widths fitted to the (Japanese) text; printed A4 landscape, fit to the page width, with the header
    row repeated on every page."""
    from openpyxl import Workbook

    wb = Workbook()
    blank = wb.worksheets[0]  # the empty sheet every new workbook starts with
    for i, sheet in enumerate(sheets):
        heading = title if i == 0 or not title else f"{title} — {sheet.title}"
        _fill_worksheet(wb.create_sheet(sheet.title), sheet, heading or sheet.title)
    wb.remove(blank)
    wb.save(path)


def _fill_worksheet(ws: Worksheet, sheet: Sheet, title: str) -> None:
    from openpyxl.styles import Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    title_cell = ws.cell(1, 1, title)
    title_cell.data_type = "s"
    title_cell.font = Font(bold=True, size=14)
    head = XLSX_TITLE_ROWS + 1
    for c, heading in enumerate(sheet.headings, 1):
        cell = ws.cell(head, c, heading)
        cell.font, cell.border = bold, box
    for r, row in enumerate(sheet.rows, head + 1):
        for c, value in enumerate(row, 1):
            cell = ws.cell(r, c, value)
            cell.border = box
            if isinstance(value, str):
                # openpyxl would store '=…' as a formula; a string cell is shown as typed, and
                # quotePrefix keeps Excel from turning it into one when the clerk edits the cell.
                cell.data_type = "s"
                if value.startswith(FORMULA_PREFIXES):
                    cell.quotePrefix = True
    last = head + len(sheet.rows)
    ws.freeze_panes = f"A{head + 1}"
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(sheet.headings))}{last}"
    for i, heading in enumerate(sheet.headings):
        width = max(display_width(str(t)) for t in [heading, *(row[i] for row in sheet.rows)])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(width + 2, XLSX_MAX_WIDTH)
    # Printing: A4 landscape, all columns on the page width, as many pages down as it takes, and
    # the header row again at the top of each page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = f"{head}:{head}"
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "&P / &N"  # type: ignore[union-attr]  # openpyxl always creates it
    # Below the filtered range, after a blank row; long lines overflow to the right, widths stay fitted.
    for r, note in enumerate(sheet.notes, last + 2):
        cell = ws.cell(r, 1, note)
        cell.data_type = "s"
        if note.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
