"""Writing diff and history results: terminal table, CSV, Excel (.xlsx), Markdown and JSON.

An adapter at the edge. :func:`diff_document` and :func:`history_document` turn the core's dataclasses
into a :class:`Document` (titled tables plus the JSON records); :func:`render` and :func:`save` write it
in one format. openpyxl is imported only when an .xlsx is written, so the CLI starts fast.

JSON shapes (stable, for machines):

- diff: a list of ``{"no", "project", "department", "before", "after", "change"}``; ``before``/``after``
  are null where the year has no rating, ``change`` is one of up, down, same, new, removed. Plan rows
  the later year has no rating for yet (未提出) are not in the list: they are not a change.
- history: a list of ``{"no", "project", "department", "ratings": {"R4": "B", "R5": "A"}}`` with every
  stored year as a key, oldest first, null where the year has no rating.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from hyoka.diff import Change, Diff, GroupSummary, History
from hyoka.files import atomic_write, atomic_write_text

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FORMATS = ("table", "csv", "xlsx", "json", "md")
SUFFIX_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".md": "md", ".txt": "table"}

CHANGE_LABELS: dict[Change, str] = {
    "up": "上昇",
    "down": "低下",
    "same": "変化なし",
    "new": "新規",
    "removed": "廃止",
}
# Arrows only in a row's 変化 cell: they are ambiguous-width, so they stay out of aligned headings.
CHANGE_MARKS: dict[Change, str] = {"up": "↑", "down": "↓"}

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


# --- documents -----------------------------------------------------------------------------------------


def diff_document(diff: Diff, *, show_all: bool = False, gannen: bool = True) -> Document:
    """The changed rows (every row with ``show_all``), then counts per rating and per change."""
    before, after = diff.before_year.label(gannen), diff.after_year.label(gannen)
    shown = diff.rows if show_all else diff.changed
    rows = Sheet(
        "比較",
        ("基本目標No", "基本目標", "事業No", "事業名", "担当課", before, after, "変化"),
        tuple(
            (
                r.goal_no,
                r.goal,
                r.no,
                r.project,
                r.department,
                r.before or "",
                r.after or "",
                _change_cell(r.change),
            )
            for r in shown
        ),
        text_columns=(2, 3, 4, 5, 6, 7),
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
    changes = Sheet(
        "変化の内訳",
        ("区分", *CHANGE_LABELS.values()),
        tuple((_group_label(g, g is diff.overall), *g.changes.values()) for g in groups),
        notes=_unsubmitted_notes(diff, after),
    )
    what = f"全 {len(shown)} 行" if show_all else f"評価が変わった行 {len(shown)} 行"
    return Document(
        title=f"事業評価の比較 {before} → {after}（{what}）",
        sheets=(rows, counts, changes),
        records=tuple(
            {
                "no": r.no,
                "project": r.project,
                "department": r.department,
                "before": r.before,
                "after": r.after,
                "change": r.change,
            }
            for r in shown
        ),
    )


def _unsubmitted_notes(diff: Diff, after: str) -> tuple[str, ...]:
    """The plan rows the later year has no rating for: not compared, counted here (none: no line)."""
    if not diff.unsubmitted:
        return ()
    return (
        f"未提出（{after}の評価がない行）: {len(diff.unsubmitted)} 行 — 比較していません。"
        f"提出状況は hyoka status --year {diff.after_year.short} で確認できます。",
    )


def history_document(history: History) -> Document:
    """Each row's ratings side by side, one column per stored year (R3 R4 R5 …)."""
    years = [fy.short for fy in history.years]
    sheet = Sheet(
        "推移",
        ("基本目標No", "基本目標", "事業No", "事業名", "担当課", *years),
        tuple(
            (r.goal_no, r.goal, r.no, r.project, r.department, *(code or "" for code in r.ratings))
            for r in history.rows
        ),
        text_columns=(2, 3, 4, *range(5, 5 + len(years))),
    )
    first, last = history.years[0], history.years[-1]
    span = first.label() if first == last else f"{first.label()}～{last.label()}"
    return Document(
        title=f"事業評価の推移 {span}（{len(history.rows)} 行）",
        sheets=(sheet,),
        records=tuple(
            {
                "no": r.no,
                "project": r.project,
                "department": r.department,
                "ratings": dict(zip(years, r.ratings, strict=True)),
            }
            for r in history.rows
        ),
    )


def _change_cell(change: Change) -> str:
    return CHANGE_MARKS.get(change, "") + CHANGE_LABELS[change]


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
            f"--format には {'・'.join(FORMATS)} のいずれかを指定してください（「{fmt}」は使えません）。"
        )
    implied = SUFFIX_FORMATS.get(out.suffix.lower()) if out is not None else None
    if fmt is None:
        return implied or "table"
    if out is not None and implied is not None and implied != fmt:
        raise ValueError(
            f"--format {fmt} と出力ファイルの拡張子「{out.suffix}」が合いません。どちらかを直してください。"
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
    raise ValueError(f"{fmt} は文字として出力できません。--out でファイルに保存してください。")


def save(doc: Document, fmt: str, path: Path) -> Path:
    """Write the document to ``path`` atomically; CSV gets a BOM so that Excel reads it as UTF-8."""
    if fmt == "xlsx":
        return atomic_write(path, lambda tmp: write_xlsx(doc.sheets, tmp))
    if fmt == "csv":
        return atomic_write_text(path, render(doc, fmt) + "\r\n", encoding="utf-8-sig")
    return atomic_write_text(path, render(doc, fmt) + "\n")


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


def write_xlsx(sheets: Sequence[Sheet], path: Path | BinaryIO) -> None:
    """One worksheet per sheet: bold frozen header, autofilter, widths fitted to the (Japanese) text."""
    from openpyxl import Workbook

    wb = Workbook()
    blank = wb.worksheets[0]  # the empty sheet every new workbook starts with
    for sheet in sheets:
        _fill_worksheet(wb.create_sheet(sheet.title), sheet)
    wb.remove(blank)
    wb.save(path)


def _fill_worksheet(ws: Worksheet, sheet: Sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    ws.append(list(sheet.headings))
    for cell in ws[1]:
        cell.font = bold
    for r, row in enumerate(sheet.rows, 2):
        for c, value in enumerate(row, 1):
            cell = ws.cell(r, c, value)
            if isinstance(value, str):
                # openpyxl would store '=…' as a formula; a string cell is shown as typed, and
                # quotePrefix keeps Excel from turning it into one when the clerk edits the cell.
                cell.data_type = "s"
                if value.startswith(FORMULA_PREFIXES):
                    cell.quotePrefix = True
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.headings))}{len(sheet.rows) + 1}"
    for i, heading in enumerate(sheet.headings):
        width = max(display_width(str(t)) for t in [heading, *(row[i] for row in sheet.rows)])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(width + 2, XLSX_MAX_WIDTH)
    # Below the filtered range, after a blank row; long lines overflow to the right, widths stay fitted.
    for r, note in enumerate(sheet.notes, len(sheet.rows) + 3):
        cell = ws.cell(r, 1, note)
        cell.data_type = "s"
        if note.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
