"""The published page, text and open data of a workspace with its own sheet definition ([sheet]).

Everything the report shows comes from the report model's :class:`~hyoka.report.model.SheetView`
(columns, formatted cells, legends, summaries), so the page says what 資料1 says; the plan row of each
table row adds the levels (the page's headings) and the identity fields of the open data. Pure: no I/O.

The page's headings follow the levels: every level but the innermost is a heading (h2, h3, h4,
outermost first) and the table under the innermost of them has a row per plan row, the innermost
level, the project and the department as row headers (merged over the rows they cover, with
``headers``/``id`` so that a screen reader announces each cell with them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.publish.records import Field
from hyoka.report.model import NO_RATING, NOT_SUBMITTED, ColumnView, Evaluation, SheetView, narrative
from hyoka.sheet import Column as SheetColumn
from hyoka.sheet import Level, SheetDefinition
from hyoka.text import clean_text, split_departments
from hyoka.years import FiscalYear

# Plan columns that repeat a row's identity (its level, project, department): row headers in the
# table, and in the open data the identity fields (levels, 事業No, 事業名, 担当課) say them already.
IDENTITY_FROM = ("level", "project", "department", "submitter")
LEVEL_MARKS = ("■", "◆", "●", "▲")  # the text version's marker of each level, outermost first
INDENT = "　"


def is_identity(column: SheetColumn) -> bool:
    frm = column.plan_from or ""
    return column.source == "plan" and (frm in IDENTITY_FROM or frm.startswith("level:"))


def level_heading(level: Level, path: Sequence[tuple[str, str]], i: int) -> str:
    """``基本目標1　name`` for a numbered level (its number as the level prints it: 1, (1), ①, 1-1),
    the name alone for an unnumbered one."""
    no, name = path[i]
    label = level.label(no, [n for n, _ in path[:i] if n])
    return f"{level.name}{label}　{clean_text(name)}" if label else clean_text(name)


# --- the page ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageColumn:
    key: str
    id: str
    lines: tuple[str, ...]  # the heading's lines
    align: str  # left | center | right
    header: bool  # a row header (the level, project, department): <th scope="row">
    code: bool = False  # a rating: its code set bold, as on the default page
    min_em: float = 0.0  # a floor for the browser's layout: texts and row headers (0: none)

    @property
    def label(self) -> str:
        """The heading in one line: shown before each cell where the table is stacked (a phone)."""
        return "".join(self.lines)


@dataclass(frozen=True)
class PageCell:
    column: PageColumn
    lines: tuple[str, ...]
    prose: bool
    header_id: str | None  # a row header's own id
    rowspan: int
    headers: str  # the ids that describe the cell: its column's, then the row headers over it
    missing: bool = False


@dataclass(frozen=True)
class PageTable:
    id: str
    caption: str
    columns: tuple[PageColumn, ...]
    rows: tuple[tuple[PageCell, ...], ...]  # the cells each <tr> holds (a merged header only once)
    min_width: float  # rem: below it the table scrolls inside its region rather than squeezing


@dataclass(frozen=True)
class Section:
    id: str
    depth: int  # 0 for the outermost level: its heading is h2
    heading: str
    children: tuple[Section, ...] = ()
    table: PageTable | None = None

    @property
    def tag(self) -> str:
        return f"h{min(self.depth + 2, 6)}"


def _row_of(plan: Plan) -> dict[RowKey, PlanRow]:
    return {r.key: r for r in plan.rows}


@dataclass
class _Node:
    heading: str
    children: list[tuple[tuple[str, str], ...]] = field(default_factory=list)
    table: PageTable | None = None


def sheet_sections(ev: Evaluation, definition: SheetDefinition, plan: Plan) -> list[Section]:
    """The page's sections in plan order: one per group of each outer level, the tables in the innermost."""
    view = ev.sheet
    assert view is not None
    rows = _row_of(plan)
    nodes: dict[tuple[tuple[str, str], ...], _Node] = {}  # by the levels' path down to the node
    top: list[tuple[tuple[str, str], ...]] = []
    for b, block in enumerate(view.blocks, start=1):
        first = rows.get(block.rows[0].key) if block.rows else None
        path = first.path if first is not None else ()
        parent: tuple[tuple[str, str], ...] | None = None
        for i, level in enumerate(definition.levels[:-1][: len(path)]):
            prefix = path[: i + 1]
            if prefix not in nodes:
                nodes[prefix] = _Node(level_heading(level, path, i))
                (nodes[parent].children if parent is not None else top).append(prefix)
            parent = prefix
        if parent is None:  # a sheet of one level: the table stands under the page's own headings
            parent = (("", f"t{b}"),)
            nodes[parent] = _Node("")
            top.append(parent)
        nodes[parent].table = _table(f"t{b}", ev, view, definition, block.rows, rows)
    numbers = iter(range(1, len(nodes) + 1))

    def build(key: tuple[tuple[str, str], ...], depth: int) -> Section:
        node = nodes[key]
        sid = f"s{next(numbers)}"
        return Section(
            sid, depth, node.heading, tuple(build(c, depth + 1) for c in node.children), node.table
        )

    return [build(key, 0) for key in top]


def _min_em(column: ColumnView, header: bool) -> float:
    """The browser lays the table out by its content (the report's widths in mm are for A4 paper);
    a text and a row header get a floor, so that numbers and codes never squeeze them to a few
    characters a line."""
    if column.prose:
        return 12.0
    if header:
        return 8.0 if column.width >= 30 else 6.0 if column.width >= 14 else 0.0
    return 5.0 if column.align == "left" and column.width >= 20 else 0.0


def _table(
    tid: str,
    ev: Evaluation,
    view: SheetView,
    definition: SheetDefinition,
    block_rows: Sequence[Any],
    plan_rows: Mapping[RowKey, PlanRow],
) -> PageTable:
    by_key = {c.key: c for c in definition.columns}
    columns = tuple(
        PageColumn(
            c.key,
            f"{tid}-c-{c.key}",
            c.heading,
            c.align,
            c.key in by_key and is_identity(by_key[c.key]),
            code=c.key in by_key and by_key[c.key].kind == "rating",
            min_em=_min_em(c, c.key in by_key and is_identity(by_key[c.key])),
        )
        for c in view.columns
    )
    heads = [j for j, c in enumerate(columns) if c.header]
    merged = heads[:-1]  # every row header but the last (the department) spans the rows it covers
    # The run of rows each merged header covers: rows whose header cells up to it read the same.
    spans: dict[tuple[int, int], int] = {}
    starts: dict[tuple[int, int], int] = {}
    for pos, j in enumerate(merged):
        run_start = 0
        for r in range(len(block_rows)):
            key = tuple(block_rows[r].cells[k] for k in merged[: pos + 1])
            if r > 0 and key == tuple(block_rows[r - 1].cells[k] for k in merged[: pos + 1]):
                spans[(run_start, j)] += 1
            else:
                run_start = r
                spans[(r, j)] = 1
            starts[(r, j)] = run_start
    out_rows: list[tuple[PageCell, ...]] = []
    for r, row in enumerate(block_rows):
        missing = bool(row.missing) and ev.draft
        over: list[str] = []  # the ids of the row headers over this row, outermost first
        cells: list[PageCell] = []
        for j, (col, lines) in enumerate(zip(columns, row.cells, strict=True)):
            column = by_key.get(col.key)
            if col.header:
                start = starts.get((r, j), r)
                hid = f"{tid}-r{start + 1}-{col.key}"
                if start == r:
                    cells.append(
                        PageCell(col, lines, False, hid, spans.get((r, j), 1), " ".join([col.id, *over]))
                    )
                over.append(hid)
                continue
            shown = lines
            empty_missing = False
            if not lines and column is not None:
                if column.source == "previous":
                    shown = (NO_RATING,)
                elif missing and column.source == "department":
                    shown, empty_missing = (NOT_SUBMITTED,), True
            prose = column is not None and column.kind == "text" and column.is_input
            cells.append(PageCell(col, shown, prose, None, 1, " ".join([col.id, *over]), empty_missing))
        out_rows.append(tuple(cells))
    caption_row = plan_rows.get(block_rows[0].key) if block_rows else None
    caption = (
        level_heading(definition.levels[-2], caption_row.path, len(definition.levels) - 2)
        if caption_row is not None and len(definition.levels) > 1 and len(caption_row.path) > 1
        else ev.title
    )
    total_mm = sum(c.width for c in view.columns)
    return PageTable(tid, caption, columns, tuple(out_rows), max(48.0, round(total_mm * 0.2, 1)))


def ordered_summaries(view: SheetView) -> list[Any]:
    """The summary tables in 資料1's order: the counts first, then the means."""
    return sorted(view.summaries, key=lambda x: not x.codes)


# --- the text version ----------------------------------------------------------------------------------


def sheet_text_lines(ev: Evaluation, definition: SheetDefinition, plan: Plan) -> list[str]:
    """Legends, summaries and every row in reading order, each level with its marker."""
    view = ev.sheet
    assert view is not None
    lines: list[str] = []
    for legend in view.legends:
        lines += [f"■ {legend.heading.strip('【】')}"]
        lines += [f"{INDENT}{code}：{description}" for code, description in legend.levels]
        lines += [f"{INDENT}※{note}" for note in legend.note]
        lines.append("")
    for summary in ordered_summaries(view):
        lines += summary_lines(ev, view, summary)
        lines.append("")
    rows = _row_of(plan)
    by_key = {c.key: c for c in definition.columns}
    marks = LEVEL_MARKS[: len(definition.levels)]
    last: list[str] = []
    last_project = None
    for block in view.blocks:
        for row in block.rows:
            plan_row = rows.get(row.key)
            path = plan_row.path if plan_row is not None else ()
            heads = [level_heading(lv, path, i) for i, lv in enumerate(definition.levels[: len(path)])]
            for i, head in enumerate(heads):
                if i >= len(last) or last[i] != head:
                    _paragraph(lines, f"{marks[i]} {head}")
                    last = heads[: i + 1] + [""] * (len(heads) - i - 1)
                    last_project = None
            last = heads
            missing = bool(row.missing) and ev.draft
            project = next(
                (
                    "".join(cells)
                    for col, cells in zip(view.columns, row.cells, strict=True)
                    if col.key in by_key and by_key[col.key].plan_from == "project"
                ),
                plan_row.project_label if plan_row is not None else row.key[0],
            )
            if project != last_project:
                _paragraph(lines, f"○ {project}")
                last_project = project
            lines.append(f"{INDENT}・担当課：{clean_text(row.key[1])}")
            for col, cells in zip(view.columns, row.cells, strict=True):
                column = by_key.get(col.key)
                if column is None or is_identity(column):
                    continue
                label = "".join(col.heading)
                shown = cells
                if not cells and column.source == "previous":
                    shown = (NO_RATING,)
                elif not cells and missing and column.source == "department":
                    shown = (NOT_SUBMITTED,)
                if column.kind == "text" and column.is_input:
                    lines.append(f"{INDENT * 2}{label}：")
                    lines += [f"{INDENT * 3}{p}" if p else "" for p in shown] or [f"{INDENT * 3}（記載なし）"]
                else:
                    # A note under a rating (提案C) follows it after a space: 「評価：B　提案C」.
                    lines.append(f"{INDENT * 2}{label}：{'　'.join(shown) or '（記載なし）'}")
    return lines


def _paragraph(lines: list[str], line: str) -> None:
    """``line`` after one empty line (never two: the summaries end with one already)."""
    if lines and lines[-1] != "":
        lines.append("")
    lines.append(line)


def summary_lines(ev: Evaluation, view: SheetView, summary: Any) -> list[str]:
    """One summary table as lines: per group the count of each code, or the mean and n/N."""
    out = [f"■ {summary.heading}の集計（{view.summary_level}ごと）"]
    if not summary.codes:
        out.append(f"{INDENT}{ev.year_label}")
        for label, (mean, rated) in summary.groups:
            out.append(f"{INDENT * 2}{label}：平均 {mean}（値のある行／行数 {rated}）")
        return out
    years = [(ev.year_label, [cells for _, cells in summary.groups])]
    if summary.prior:
        years.append((ev.prior_label, list(summary.prior)))
        if ev.scale_notice:
            out.append(f"{INDENT}{ev.scale_notice}")
    for label_year, table in years:
        out.append(f"{INDENT}{label_year}")
        for (label, _), cells in zip(summary.groups, table, strict=True):
            parts = "、".join(f"{c} {n}件" for c, n in zip(summary.codes, cells, strict=False))
            out.append(f"{INDENT * 2}{label}：{parts}（計 {cells[-1]}件）")
    return out


# --- open data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetField(Field):
    column: str | None = None  # the sheet column it exports (``prior:KEY``: last year's rating of KEY)


def sheet_fields(definition: SheetDefinition) -> tuple[SheetField, ...]:
    """The open data's fields for a defined sheet, stable from year to year:

    年度, 年度開始年; per level (outermost first, ``level1`` …) ``<level name>No`` (numbered levels)
    and ``<level name>`` — the plan master's headings; 事業No, 事業名, 新規, 担当課, 担当課（課ごと）;
    then every column with ``export = true`` that is not one of those identity columns, keyed by the
    column's key and headed by its heading without the year (``目標値({year_short})`` → 目標値); a
    rating column without a previous-year column gets ``prior_<key>`` 「前年度<heading>」; 前年度 last.
    """
    out = [
        SheetField("fiscal_year", "年度", "string"),
        SheetField("fiscal_year_start", "年度開始年", "integer"),
    ]
    for i, level in enumerate(definition.levels, start=1):
        if level.numbered:
            out.append(SheetField(f"level{i}_no", f"{level.name}No", "string"))
        out.append(SheetField(f"level{i}", level.name, "string"))
    out += [
        SheetField("project_no", "事業No", "string"),
        SheetField("project", "事業名", "string"),
        SheetField("is_new", "新規", "boolean"),
        SheetField("department", "担当課", "string"),
        SheetField("departments", "担当課（課ごと）", "list"),
    ]
    taken = {f.key for f in out}
    headings = {f.heading for f in out}
    previous_of = {c.previous_of for c in definition.of_source("previous")}
    for c in definition.columns:
        if not c.export or is_identity(c):
            continue
        kind = {"number": "number", "rating": "code"}.get(c.kind, "string")
        key = c.key if c.key not in taken else f"column_{c.key}"
        heading = c.title if c.title not in headings else f"{c.title}（{c.key}）"
        out.append(SheetField(key, heading, kind, c.key))
        taken.add(key)
        headings.add(heading)
        if c.key == definition.default_diff_column and c.key not in previous_of:
            # The store holds last year's first rating even where the sheet prints no column for it.
            out.append(SheetField(f"prior_{c.key}", f"前年度{c.title}", "code", f"prior:{c.key}"))
    out.append(SheetField("prior_fiscal_year", "前年度", "string"))
    return tuple(out)


def _typed(column: SheetColumn, value: object) -> object:
    """A value as the open data carries it: numbers as numbers, codes and texts as strings, blank None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if column.kind == "number" and not isinstance(value, bool):
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int | float):
            return value
    if column.kind == "text" and column.is_input:
        return "\n".join(narrative(str(value)))
    return clean_text(value)


def sheet_records(
    ev: Evaluation, definition: SheetDefinition, plan: Plan, year: FiscalYear
) -> list[dict[str, Any]]:
    """One dict per department row in plan order, keyed by :func:`sheet_fields`."""
    view = ev.sheet
    assert view is not None
    fields = sheet_fields(definition)
    rows = _row_of(plan)
    # Last year's rating of the first rating column, for a sheet without a previous-year column of it.
    last = {r.key: r.prior for b in ev.blocks for p in b.projects for r in p.rows}
    out: list[dict[str, Any]] = []
    for block in view.blocks:
        for row in block.rows:
            plan_row = rows.get(row.key)
            values = dict(row.values)
            if definition.default_diff_column:
                values[f"prior:{definition.default_diff_column}"] = last.get(row.key)
            record: dict[str, Any] = {}
            for f in fields:
                record[f.key] = _field_value(f, ev, definition, plan_row, row.key, values, year)
            out.append(record)
    return out


def _field_value(
    f: SheetField,
    ev: Evaluation,
    definition: SheetDefinition,
    plan_row: PlanRow | None,
    key: RowKey,
    values: Mapping[str, object],
    year: FiscalYear,
) -> object:
    if f.column is not None:
        if f.column.startswith("prior:"):
            return _typed(definition.column(f.column.removeprefix("prior:")), values.get(f.column))
        column = definition.column(f.column)
        value = _typed(column, values.get(f.column))
        if column.kind == "rating" and column.source != "previous" and value is not None:
            # A draft shows a joint row whose departments disagree as 「不一致」: no code, so none here.
            return value if value in definition.scale_of(column).codes else None
        return value
    path = plan_row.path if plan_row is not None else ()
    if f.key.startswith("level"):
        i = int(f.key.removeprefix("level").removesuffix("_no")) - 1
        if i >= len(path):
            return None
        no, name = path[i]
        return clean_text(no) if f.key.endswith("_no") else clean_text(name)
    department = clean_text(key[1])
    simple: dict[str, object] = {
        "fiscal_year": ev.year_label,
        "fiscal_year_start": year.start,
        "project_no": clean_text(key[0]),
        "project": clean_text(plan_row.project_name) if plan_row is not None else "",
        "is_new": plan_row.is_new if plan_row is not None else False,
        "department": department,
        "departments": list(split_departments(department)) or [department],
        "prior_fiscal_year": ev.prior_label,
    }
    return simple[f.key]
