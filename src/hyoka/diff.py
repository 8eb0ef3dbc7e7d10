"""How ratings moved between years: the diff of two years and each row's history over all years.

Pure core: the functions take the plan versions (:class:`hyoka.versions.Lineage`), the scale and the
ratings already read from the store (one ``{row_id: code}`` mapping per year) and return plain
dataclasses. Rows are matched by their identity through the versions (a renamed or renumbered row is one
row); better or worse is decided by the scale's order only, never by the codes' letters. ``compare`` and
``history`` take one plan and ratings by (事業No, 担当課), for callers that have no versions.

Each year is read by its own definition (``sheet_for``): a year's ratings are checked against that
year's scale. Where the scale of the compared column differs between the two years (other codes, or the
same codes in another order), a rating is not ranked: a row whose code changed is ``changed``, and the
comparison carries a :class:`ScaleChange` to say so once. A number whose unit differs between the years
(the row's ``unit_column`` value, or the column's ``unit``) is ``changed`` too, without a delta
(:class:`UnitChange`). Where the definitions agree, everything is as it was.

A row the plan has but the later year has no rating for is not a change: its return has not come in
yet (未提出). It is left out of the comparison and counted apart (:attr:`Diff.unsubmitted`); ``removed``
is kept for rows the plan no longer has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Literal

from hyoka.migrations_v5 import legacy_version
from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.problems import HyokaError, Problem, problem
from hyoka.scale import RatingScale, same_scale
from hyoka.sheet import Column, NumberType, RatingType, SheetDefinition, compare_values
from hyoka.text import normalize_code, split_departments
from hyoka.versions import PRIOR_SEPARATOR, Lineage, PlanVersion, VersionRow
from hyoka.years import FiscalYear

Change = Literal["up", "down", "same", "new", "removed", "merged", "changed"]
CHANGES: tuple[Change, ...] = ("up", "down", "same", "new", "removed", "merged", "changed")
"""``changed``: a choice (or a value that cannot be ranked) that is not the same; never for a rating
in its scale or two numbers. For numbers ``up`` is *better* (higher, or lower where lower is better)."""

Value = str | int | float
"""A compared value: a rating's or choice's code, a number (``--column`` of a number column)."""

StoredRatings = Mapping[FiscalYear, Mapping[RowKey, str]]
"""Every stored year → its ratings in force, as :func:`hyoka.results.ratings` returns them."""

StoredById = Mapping[FiscalYear, Mapping[int, str]]
"""Every stored year → its ratings in force by row id (:func:`hyoka.results.stored_ratings_by_id`)."""

StoredRows = Mapping[FiscalYear, Mapping[int, Mapping[str, object]]]
"""Every stored year → each row's values by column key, by row id: the departments' combined
values, the plan's and the computed ones (:func:`hyoka.results.stored_rows_by_id`)."""

SheetFor = Callable[[FiscalYear], SheetDefinition]
"""The sheet definition of a year (``Workspace.sheet_for``: the plan version's in force)."""

MAX_LISTED_ROWS = 10
"""Rows a :class:`UnitChange` notice names before it says how many more."""


@dataclass(frozen=True)
class ScaleChange:
    """The compared rating column's scale differs between two years: other codes, or the same codes
    in another order. Its ratings are not ranked across the two years."""

    column: str
    """The column's heading (``事業評価``)."""
    before_year: FiscalYear
    after_year: FiscalYear
    before_codes: tuple[str, ...]
    after_codes: tuple[str, ...]

    def notice(self, *, gannen: bool = True, history: bool = False) -> Problem:
        """``diff-scale-differs``, said once for the pair of years (a diff, or a history's pair)."""
        before, after = self.before_year.label(gannen), self.after_year.label(gannen)
        if history:
            consequence = (
                "同じ記号でも意味が同じとは限りません。各年度の評価はその年度の評価基準で読んでください。"
            )
        else:
            consequence = "上がった・下がったは判定せず、評価が変わった行は「変更」としています。"
        return problem(
            "diff-scale-differs",
            column=self.column,
            before=before,
            after=after,
            before_codes="・".join(self.before_codes),
            after_codes="・".join(self.after_codes),
            consequence=consequence,
        )


@dataclass(frozen=True)
class UnitChange:
    """Rows of the compared number column whose unit differs between two years (人 → 回): their
    numbers are not compared (no delta, no better or worse)."""

    column: str
    before_year: FiscalYear
    after_year: FiscalYear
    rows: tuple[tuple[str, str, str], ...]
    """(事業No, the earlier year's unit, the later year's unit) of each such row, in plan order."""

    def notice(self, *, gannen: bool = True, history: bool = False) -> Problem:
        """``diff-unit-differs``, once for the pair of years, naming the rows (the first ten)."""
        listed = "、".join(
            f"事業No.{no} {before or '単位なし'} → {after or '単位なし'}"
            for no, before, after in self.rows[:MAX_LISTED_ROWS]
        )
        if len(self.rows) > MAX_LISTED_ROWS:
            listed += f" ほか{len(self.rows) - MAX_LISTED_ROWS}行"
        if history:
            consequence = "値はそれぞれの年度の単位で示しています。"
        else:
            consequence = "その行は増減と改善・悪化を判定せず「変更」としています。"
        return problem(
            "diff-unit-differs",
            column=self.column,
            before=self.before_year.label(gannen),
            after=self.after_year.label(gannen),
            rows=listed,
            consequence=consequence,
        )


@dataclass(frozen=True)
class DiffRow:
    """One (事業No, 担当課) row compared; ``before``/``after`` is None where the year lacks it.

    ``new``: rated in the later year only. ``removed``: rated in the earlier year only, and the plan no
    longer has the row. A plan row without a rating in the later year is not a DiffRow at all.
    """

    no: str
    project: str
    department: str
    goal_no: str
    goal: str
    before: Value | None
    after: Value | None
    change: Change
    in_plan: bool = True
    before_no: str | None = None
    """The row's 事業No in the earlier year, when its identity moved (renumbered, merged)."""
    before_department: str | None = None
    """The row's 担当課 in the earlier year, when its identity moved (renamed, merged)."""
    delta: int | float | None = None
    """A number column's after − before (None for ratings, choices and rows without both numbers)."""
    unit: str | None = None
    """A number column's unit for this row (its ``unit_column``), for printing."""
    before_unit: str | None = None
    """The earlier year's unit, where it differs from :attr:`unit` (None: the same unit)."""

    @property
    def before_unit_or_unit(self) -> str | None:
        return self.before_unit if self.before_unit is not None else self.unit


@dataclass(frozen=True)
class GroupSummary:
    """Counts for one 基本目標, or for all rows (:attr:`Diff.overall`, whose goal_no and goal are '').

    ``before`` and ``after`` count every row rated in that year — also a row the later year has no
    rating for yet (未提出), which is not compared; ``changes`` counts the compared rows.
    ``goal_no`` None groups the rows of projects the plan no longer has.
    """

    goal_no: str | None
    goal: str
    before: dict[str, int]
    after: dict[str, int]
    changes: dict[Change, int]


@dataclass(frozen=True)
class Diff:
    before_year: FiscalYear
    after_year: FiscalYear
    codes: tuple[str, ...]
    rows: tuple[DiffRow, ...]
    overall: GroupSummary
    goals: tuple[GroupSummary, ...]
    unsubmitted: tuple[RowKey, ...] = ()
    """Plan rows without a rating in the later year (未提出), in plan order: not compared, counted apart."""
    column: Column | None = None
    """The column compared (``--column``); None for the default: the first rating column, as ever."""
    scale_change: ScaleChange | None = None
    """Set when the two years' scales of the column differ: then no row is ``up`` or ``down``."""
    unit_change: UnitChange | None = None
    """Set when some rows' unit differs between the two years: those rows are ``changed``."""

    @property
    def notices(self) -> tuple[ScaleChange | UnitChange, ...]:
        """What to say once about the comparison (each gives its Japanese notice)."""
        return tuple(c for c in (self.scale_change, self.unit_change) if c is not None)

    @property
    def changed(self) -> tuple[DiffRow, ...]:
        return tuple(r for r in self.rows if r.change != "same")


@dataclass(frozen=True)
class HistoryRow:
    no: str
    project: str
    department: str
    goal_no: str
    goal: str
    ratings: tuple[Value | None, ...]
    """Aligned with :attr:`History.years`; None where the year has no rating (value) for the row."""
    note: str = ""
    """Earlier labels of the row (``旧: 介護福祉課``), when it was renamed or renumbered."""
    units: tuple[str | None, ...] = ()
    """A number column's unit per year for this row (aligned with the years), for printing."""


@dataclass(frozen=True)
class History:
    years: tuple[FiscalYear, ...]
    rows: tuple[HistoryRow, ...]
    column: Column | None = None
    """The column shown (``--column``); None for the default: the first rating column."""
    notices: tuple[ScaleChange | UnitChange, ...] = ()
    """Each pair of adjacent years whose scale (or some rows' unit) of the column differs."""


def compare(
    plan: Plan,
    scale: RatingScale,
    stored: StoredRatings,
    year: FiscalYear,
    against: FiscalYear | None = None,
) -> Diff:
    """Compare ``year`` with ``against`` (by default the year before) under one plan, row by row
    (labels as keys). Rows the plan does not have are compared as rows it dropped."""
    lineage, by_id = _single_version(plan, stored, year)
    return compare_versions(lineage, scale, by_id, year, against)


def _single_version(plan: Plan, stored: StoredRatings, year: FiscalYear) -> tuple[Lineage, StoredById]:
    keys = [k for fy in sorted(stored) for k in stored[fy]]
    version, ids = legacy_version(plan, keys, year)
    by_id = {fy: {ids[k]: code for k, code in ratings.items()} for fy, ratings in stored.items()}
    return Lineage([version]), by_id


def compare_versions(
    lineage: Lineage,
    scale: RatingScale,
    stored: StoredById,
    year: FiscalYear,
    against: FiscalYear | None = None,
    *,
    base_scale: RatingScale | None = None,
    title: str = "評価",
) -> Diff:
    """Compare ``year`` with ``against`` (by default the year before), row by row, through the lineage.

    A renamed or renumbered row is one row (``before_no``/``before_department`` say what it was); a
    row continuing several is ``merged`` (its before shows each rating, ``A／B``); a row with no
    predecessor rated is ``new``; rows of the earlier year no row descends from are ``removed``, with
    their labels of that year. Plan rows ``year`` has no rating for are not compared: they are listed
    in :attr:`Diff.unsubmitted`. Raises :class:`HyokaError` when either year has nothing stored.

    ``scale`` is ``year``'s scale, ``base_scale`` the other year's (default: the same). Each year's
    ratings are checked against its own; where the two differ (:func:`same_scale`), ratings are not
    ranked: a row whose code changed is ``changed`` and :attr:`Diff.scale_change` says so
    (``title`` names the column there).
    """
    base = _base(year, against)
    for fy in (year, base):
        _require_year(stored, fy)
    before, after = stored[base], stored[year]
    earlier = base_scale or scale
    _check_codes(
        {
            base: (earlier, _labelled(before, lineage.version_for(base))),
            year: (scale, _labelled(after, lineage.version_for(year))),
        },
    )
    found = _compare(lineage, stored, year, base, _codes(earlier, scale), _rating_direction(earlier, scale))
    return replace(found, scale_change=_scale_change(title, base, year, earlier, scale))


def _scale_change(
    title: str, base: FiscalYear, year: FiscalYear, before: RatingScale, after: RatingScale
) -> ScaleChange | None:
    if same_scale(before, after):
        return None
    return ScaleChange(title, base, year, tuple(before.codes), tuple(after.codes))


def _codes(before: RatingScale, after: RatingScale) -> tuple[str, ...]:
    """The codes counted per year: the later scale's, then the earlier's the later does not have."""
    return (*after.codes, *(c for c in before.codes if c not in after.codes))


def _rating_direction(before: RatingScale, after: RatingScale) -> Direction:
    """Ranked by the scale's order where both years have the same scale; otherwise only whether the
    code changed."""
    if same_scale(before, after):
        return lambda _rid, b, a: (after.direction(str(b), str(a)), None)
    return lambda _rid, b, a: ("same" if str(b) == str(a) else "changed", None)


def _base(year: FiscalYear, against: FiscalYear | None) -> FiscalYear:
    base = against if against is not None else year.previous()
    if base == year:
        raise HyokaError(f"比べる2つの年度が同じです（{year.label()}）。別の年度を指定してください。")
    return base


Direction = Callable[[int, Value | None, Value], tuple[Change, int | float | None]]
"""How one row moved (row id, the one predecessor's value, the later value) → change and delta."""


def _compare(
    lineage: Lineage,
    stored: Mapping[FiscalYear, Mapping[int, Value | None]],
    year: FiscalYear,
    base: FiscalYear,
    codes: tuple[str, ...],
    direction: Direction,
    column: Column | None = None,
    units: Mapping[int, str | None] | None = None,
    before_units: Mapping[int, str | None] | None = None,
) -> Diff:
    """The comparison itself, for any column: ``stored`` holds each year's value by row id (a row
    present with None has its return in force but this column blank).

    ``units``/``before_units``: a number column's unit per row in each year; a row whose unit differs
    is ``changed`` without a delta, and listed in :attr:`Diff.unit_change`."""
    before, after = stored[base], stored[year]
    new_version, old_version = lineage.version_for(year), lineage.version_for(base)
    links = lineage.links(year, base)
    old_by_id = old_version.by_id
    everything = _Group("", "", codes)
    groups: dict[str | None, _Group] = {}
    counted: set[int] = set()
    units = units or {}
    unit_rows: list[tuple[str, str, str]] = []

    def group_of(r: VersionRow) -> list[_Group]:
        key = r.row.goal_no if r.row.goal else None
        if key not in groups:
            groups[key] = _Group(key, r.row.goal, codes)
        return [everything, groups[key]]

    rows: list[DiffRow] = []
    unsubmitted: list[RowKey] = []
    for r in new_version.rows:
        preds = [p for p in links.get(r.row_id, ()) if p in before]
        a = after.get(r.row_id)
        if a is None and not r.dropped:
            unsubmitted.append(r.row.key)
        if a is None and not preds:
            continue
        targets = group_of(r)
        for g in targets:
            g.count(None, a)
        for p in preds:
            if p not in counted:
                counted.add(p)
                for g in targets:
                    g.count(before[p], None)
        known = [v for p in preds if (v := before[p]) is not None]
        b: Value | None = PRIOR_SEPARATOR.join(str(v) for v in known) if len(known) > 1 else None
        if len(known) == 1:
            b = known[0]
        change: Change
        delta: int | float | None = None
        unit, before_unit = units.get(r.row_id), None
        if before_units is not None and len(known) == 1 and len(preds) == 1:
            old = before_units.get(preds[0])
            before_unit = (old or "") if old != unit else None  # '': the earlier year had no unit
        if a is None:
            if not r.dropped:
                continue  # 未提出: still in the plan, its return is not in yet
            change = "removed"
        elif not preds:
            change = "new"
        elif not known:
            change = "changed"  # the column was blank last year (another column's return was in)
        elif len(preds) > 1:
            change = "merged"
        elif before_unit is not None:
            change = "changed"  # 90人 → 90回: not the same quantity, so neither better nor worse
            unit_rows.append((r.no, before_unit, unit or ""))
        else:
            change, delta = direction(r.row_id, b, a)
        olds = [old_by_id[p] for p in preds if p in old_by_id]
        old_nos = "・".join(dict.fromkeys(o.no for o in olds))
        old_departments = "・".join(dict.fromkeys(o.department for o in olds))
        moved_no = bool(olds) and old_nos != r.no
        moved_department = bool(olds) and (
            len(olds) > 1 or frozenset(olds[0].departments) != frozenset(r.departments)
        )
        rows.append(
            DiffRow(
                r.no,
                r.row.project_name,
                r.department,
                r.row.goal_no,
                r.row.goal,
                b,
                a,
                change,
                not r.dropped,
                old_nos if moved_no or moved_department else None,
                old_departments if moved_no or moved_department else None,
                delta,
                unit,
                before_unit,
            )
        )
    reached = {p for preds in links.values() for p in preds}
    for o in old_version.rows:
        if o.row_id in reached or before.get(o.row_id) is None:
            continue
        for g in group_of(o):
            g.count(before[o.row_id], None)
        rows.append(
            DiffRow(
                o.no,
                o.row.project_name,
                o.department,
                o.row.goal_no,
                o.row.goal,
                before[o.row_id],
                None,
                "removed",
                False,
                unit=(before_units if before_units is not None else units).get(o.row_id),
            )
        )
    for row in rows:
        for g in (everything, groups[row.goal_no if row.goal else None]):
            g.changes[row.change] += 1
    return Diff(
        before_year=base,
        after_year=year,
        codes=codes,
        rows=tuple(rows),
        overall=everything.summary(),
        goals=tuple(g.summary() for g in groups.values()),
        unsubmitted=tuple(unsubmitted),
        column=column,
        unit_change=UnitChange(column.title, base, year, tuple(unit_rows)) if column and unit_rows else None,
    )


def _labelled(ratings: Mapping[int, str], version: PlanVersion) -> dict[RowKey, str]:
    by_id = version.by_id
    return {
        (by_id[rid].no, by_id[rid].department) if rid in by_id else ("?", "?"): code
        for rid, code in ratings.items()
    }


def select_rows(
    diff: Diff,
    *,
    goal_no: str | None = None,
    change: str | None = None,
    department: str | None = None,
) -> Diff:
    """The same comparison with only some of its rows: one 基本目標, one kind of change, one department.

    ``change`` is one of :data:`CHANGES`, or ``"all"`` for every compared row; the summaries stay those
    of the whole comparison. Raises ValueError (with a Japanese message) for an unknown ``change``.
    """
    if change is not None and change != "all" and change not in CHANGES:
        raise ValueError(f"変化の種類「{change}」はありません（{'・'.join(CHANGES)}・all のどれか）。")
    wanted_dep = normalize_code(department) if department else None
    rows = tuple(
        r
        for r in diff.rows
        if (goal_no is None or r.goal_no == goal_no)
        and (change in (None, "all") or r.change == change)
        and (wanted_dep is None or _responsible((r.no, r.department), None, wanted_dep))
    )
    return replace(diff, rows=rows)


def history(
    plan: Plan,
    stored: StoredRatings,
    *,
    no: str | None = None,
    department: str | None = None,
) -> History:
    """Every plan row (and every stored row the plan no longer has) with its rating in each stored
    year, under one plan (labels as keys). See :func:`history_versions`."""
    if not stored:
        raise HyokaError(_nothing_stored())
    lineage, by_id = _single_version(plan, stored, max(stored))
    return history_versions(lineage, by_id, no=no, department=department)


def history_versions(
    lineage: Lineage,
    stored: Mapping[FiscalYear, Mapping[int, Value | None]],
    *,
    no: str | None = None,
    department: str | None = None,
    units: Mapping[FiscalYear, Mapping[int, str | None]] | None = None,
) -> History:
    """One line per row across every stored year, under its latest labels, with earlier labels
    noted (``旧: 介護福祉課``); a row dropped at a later version still shows its years.

    ``no`` keeps one project; ``department`` keeps the rows it is responsible for or submits (a joint
    row ``介護福祉課・広報秘書課`` matches either department) — under any of the labels the row had.
    No matching row is a :class:`HyokaError`.
    """
    if not stored:
        raise HyokaError(_nothing_stored())
    years = tuple(sorted(stored))
    chain = lineage.history_chain(years)
    wanted_no = normalize_code(no) if no else None
    wanted_dep = normalize_code(department) if department else None
    labels: dict[int, list[VersionRow]] = {}
    if wanted_no is not None or wanted_dep is not None:
        for v in lineage.versions:
            for r in v.rows:
                labels.setdefault(r.row_id, []).append(r)
    rows = []
    for c in chain:
        ratings = tuple(stored[fy].get(c.row_id) for fy in years)
        if c.row.dropped and all(v is None for v in ratings):
            continue
        if wanted_no is not None or wanted_dep is not None:
            seen = labels.get(c.row_id, [c.row])
            if wanted_no is not None and all(r.no != wanted_no for r in seen):
                continue
            if wanted_dep is not None and not any(
                _responsible((r.no, r.department), r.row, wanted_dep) for r in seen
            ):
                continue
        latest = c.row.row
        rows.append(
            HistoryRow(
                latest.project_no,
                latest.project_name,
                latest.department,
                latest.goal_no,
                latest.goal,
                ratings,
                c.note,
                tuple((units or {}).get(fy, {}).get(c.row_id) for fy in years) if units else (),
            )
        )
    if not rows:
        raise HyokaError(_no_match(wanted_no, wanted_dep))
    return History(years, tuple(rows))


# --- any column of the sheet (--column) ------------------------------------------------------------------


class ColumnError(HyokaError):
    """``--column`` names no column that diff and history can compare (a usage error)."""

    def __init__(self, found: Problem) -> None:
        self.problem = found
        super().__init__(found.message)


def diff_column(sheet: SheetDefinition, key: str | None = None) -> Column:
    """The column ``diff`` and ``history`` compare: ``key``, or the sheet's first rating column.

    Ratings, choices and numbers typed by someone or computed (達成率) can be compared; plan columns
    (the same every year), previous ones (last year's value again) and texts cannot. Raises
    :class:`ColumnError` (``diff-column-unknown``, listing the keys that can be used) otherwise.
    """
    usable = comparable_columns(sheet)
    wanted = normalize_code(key) if key is not None else sheet.default_diff_column
    found = next((c for c in usable if c.key == wanted), None)
    if found is not None:
        return found
    listed = "、".join(f"{c.key}（{c.title}）" for c in usable) or "なし"
    what = f"列「{key}」" if key is not None else "評価の列"
    if key is not None and sheet.has(wanted or ""):
        reason = "は比べられる列ではありません（文章・計画の値・前年度の値の列は比べられません）"
    else:
        reason = "は評価表の定義にありません"
    raise ColumnError(problem("diff-column-unknown", column=what, reason=reason, keys=listed))


def comparable_columns(sheet: SheetDefinition) -> tuple[Column, ...]:
    """The columns ``--column`` accepts, in the sheet's order."""
    return tuple(c for c in sheet.diff_columns if c.source != "previous")


def column_values(
    rows: StoredRows, column: Column, own: Mapping[FiscalYear, Column] | None = None
) -> tuple[dict[FiscalYear, dict[int, Value | None]], dict[FiscalYear, dict[int, str | None]]]:
    """Each year's value of ``column`` by row id (None where the row's cell is blank), and the row's
    unit for a number column with a ``unit_column``.

    ``own``: the column as each year's definition has it (:func:`own_columns`). Where the column's
    own ``unit`` differs between those years, every row of a year gets that year's unit."""
    values: dict[FiscalYear, dict[int, Value | None]] = {}
    units: dict[FiscalYear, dict[int, str | None]] = {}
    own = own or {}
    numbers = {fy: c.type for fy, c in own.items() if isinstance(c.type, NumberType)}
    differ = isinstance(column.type, NumberType) and len({t.unit for t in numbers.values()}) > 1
    for fy, by_id in rows.items():
        values[fy] = {rid: _value(v.get(column.key)) for rid, v in by_id.items()}
        t = numbers.get(fy, column.type)
        if not isinstance(t, NumberType):
            continue
        fallback = (t.unit or None) if differ else None
        if t.unit_column:
            units[fy] = {rid: _unit_text(v.get(t.unit_column)) or fallback for rid, v in by_id.items()}
        elif differ:
            units[fy] = dict.fromkeys(by_id, fallback)
    return values, units


def own_columns(
    sheet_for: SheetFor | None, column: Column, years: Iterable[FiscalYear]
) -> dict[FiscalYear, Column]:
    """``column`` as each year's definition has it (same key and kind); a year whose definition
    lacks it, or has it of another kind, reads it as ``column``."""
    found: dict[FiscalYear, Column] = {}
    for fy in years:
        sheet = sheet_for(fy) if sheet_for is not None else None
        mine = sheet.column(column.key) if sheet is not None and sheet.has(column.key) else column
        found[fy] = mine if mine.kind == column.kind else column
    return found


def _own_scale(sheet_for: SheetFor | None, fy: FiscalYear, column: Column) -> RatingScale | None:
    if sheet_for is None:
        return None
    sheet = sheet_for(fy)
    mine = sheet.column(column.key) if sheet.has(column.key) else None
    if mine is None or not isinstance(mine.type, RatingType) or mine.type.scale not in sheet.scales:
        return None
    return sheet.scale_of(mine)


def _value(v: object) -> Value | None:
    if v is None or v == "" or isinstance(v, bool):
        return None
    if isinstance(v, int | float | str):
        return v
    return None  # a JointConflict: the row's departments disagree, so it has no value (不一致)


def _unit_text(v: object) -> str | None:
    return str(v).strip() or None if v is not None else None


def compare_column(
    lineage: Lineage,
    sheet: SheetDefinition,
    column: Column,
    rows: StoredRows,
    year: FiscalYear,
    against: FiscalYear | None = None,
    *,
    sheet_for: SheetFor | None = None,
) -> Diff:
    """:func:`compare_versions` for any column :func:`diff_column` accepts. The default column gives
    exactly the default comparison. A rating moves by its scale's order; a number ``up`` (better) or
    ``down`` by whether higher is better for the row (its direction column), with the delta; a choice
    is ``changed`` or ``same`` (拡充 and 縮小 are decisions, not better and worse).

    ``sheet`` is ``year``'s definition; ``sheet_for`` gives the other year's (without it, ``sheet``
    stands for both): a rating is checked against its own year's scale and not ranked where the two
    scales differ, a number whose unit differs between the years is ``changed``."""
    base = _base(year, against)
    own = own_columns(sheet_for, column, (base, year)) if sheet_for is not None else None
    values, units = column_values(rows, column, own)
    if column.kind == "rating":
        scale = sheet.scale_of(column)
        base_scale = _own_scale(sheet_for, base, column) or scale
        ratings = {
            fy: {rid: str(v) for rid, v in by_id.items() if v is not None} for fy, by_id in values.items()
        }
        if column.key == sheet.default_diff_column:
            return compare_versions(
                lineage, scale, ratings, year, against, base_scale=base_scale, title=column.title
            )
        for fy in (year, base):
            _require_year(rows, fy)
        _check_codes(
            {
                base: (base_scale, _labelled(ratings[base], lineage.version_for(base))),
                year: (scale, _labelled(ratings[year], lineage.version_for(year))),
            }
        )
        found = _compare(
            lineage,
            values,
            year,
            base,
            _codes(base_scale, scale),
            _rating_direction(base_scale, scale),
            column,
        )
        return replace(found, scale_change=_scale_change(column.title, base, year, base_scale, scale))
    for fy in (year, base):
        _require_year(rows, fy)
    later = rows[year]
    codes: tuple[str, ...] = ()
    if column.kind == "choice":
        codes = tuple(getattr(column.type, "choices", ()))

    def direction(rid: int, b: Value | None, a: Value) -> tuple[Change, int | float | None]:
        change: Change = compare_values(sheet, column, b, a, later.get(rid, {}))
        return change, _delta(b, a) if column.kind == "number" else None

    number = column.kind == "number"
    return _compare(
        lineage,
        values,
        year,
        base,
        codes,
        direction,
        column,
        units.get(year),
        units.get(base, {}) if number and units else None,
    )


def _delta(before: Value | None, after: Value) -> int | float | None:
    try:
        b, a = Decimal(str(before)), Decimal(str(after))
    except InvalidOperation:
        return None
    d = a - b
    return int(d) if d == d.to_integral_value() else float(d)


def history_column(
    lineage: Lineage,
    sheet: SheetDefinition,
    column: Column,
    rows: StoredRows,
    *,
    no: str | None = None,
    department: str | None = None,
    sheet_for: SheetFor | None = None,
) -> History:
    """:func:`history_versions` for any column :func:`diff_column` accepts (the default column gives
    exactly the default history).

    With ``sheet_for``, each year's values are read by that year's definition (a number with its
    own unit) and :attr:`History.notices` names each pair of adjacent years whose scale of the column
    differs, or in which some rows' unit differs."""
    years = sorted(rows)
    own = own_columns(sheet_for, column, years) if sheet_for is not None else None
    values, units = column_values(rows, column, own)
    if column.key == sheet.default_diff_column and column.kind == "rating":
        ratings = {fy: {rid: v for rid, v in by_id.items() if v is not None} for fy, by_id in values.items()}
        found = history_versions(lineage, ratings, no=no, department=department)
    else:
        found = history_versions(lineage, values, no=no, department=department, units=units or None)
        found = replace(found, column=column)
    notices: list[ScaleChange | UnitChange] = []
    for i, (before, after) in enumerate(zip(found.years, found.years[1:], strict=False)):
        if column.kind == "rating":
            old, new = _own_scale(sheet_for, before, column), _own_scale(sheet_for, after, column)
            scale = _scale_change(column.title, before, after, old, new) if old and new else None
            notices.extend([scale] if scale is not None else [])
        if column.kind == "number" and units:
            moved = tuple(
                (r.no, r.units[i] or "", r.units[i + 1] or "")
                for r in found.rows
                if r.units
                and r.ratings[i] is not None
                and r.ratings[i + 1] is not None
                and r.units[i] != r.units[i + 1]
            )
            if moved:
                notices.append(UnitChange(column.title, before, after, moved))
    return replace(found, notices=tuple(notices))


class _Group:
    """Counts being added up for one 基本目標 (or all rows, or the rows the plan no longer has)."""

    def __init__(self, goal_no: str | None, goal: str, codes: tuple[str, ...]) -> None:
        self.goal_no, self.goal = goal_no, goal
        self.before = dict.fromkeys(codes, 0)
        self.after = dict.fromkeys(codes, 0)
        self.changes: dict[Change, int] = dict.fromkeys(CHANGES, 0)

    def count(self, before: Value | None, after: Value | None) -> None:
        # Codes only: a number column has none, a choice no longer in the definition is not counted.
        if isinstance(before, str) and before in self.before:
            self.before[before] += 1
        if isinstance(after, str) and after in self.after:
            self.after[after] += 1

    def summary(self) -> GroupSummary:
        return GroupSummary(self.goal_no, self.goal, self.before, self.after, self.changes)


def _check_codes(years: Mapping[FiscalYear, tuple[RatingScale, Mapping[RowKey, str]]]) -> None:
    # A stored rating outside its year's scale means the scale changed after collection; its
    # direction would be a guess, so say so instead of ranking it.
    for fy, (scale, ratings) in years.items():
        for (no, department), code in ratings.items():
            if scale.get(code) is None:
                raise HyokaError(
                    problem(
                        "diff-rating-not-in-scale",
                        year=fy.label(),
                        no=no,
                        department=department,
                        rating=code,
                        codes=scale.codes_text,
                    ).message
                )


def _responsible(key: RowKey, row: PlanRow | None, department: str) -> bool:
    names = {key[1], *split_departments(key[1])}
    if row is not None:
        names.update(row.submitters)
    return department in names


def _years_text(years: Iterable[FiscalYear]) -> str:
    return "、".join(f"{fy.label()}（{fy.short}）" for fy in sorted(years))


def _nothing_stored() -> str:
    return (
        "保存済みの評価がまだありません。調査票を回収する（hyoka collect）か、"
        "過去の評価を取り込んで（hyoka import）ください。"
    )


def _require_year(stored: Mapping[FiscalYear, object], fy: FiscalYear) -> None:
    if fy in stored:
        return
    if not stored:
        raise HyokaError(_nothing_stored())
    raise HyokaError(
        f"{fy.label()}（{fy.short}）の評価は保存されていません。保存済みの年度: {_years_text(stored)}。"
        "比べる年度には保存済みの年度を指定してください。",
        hint="years",
    )


def _no_match(no: str | None, department: str | None) -> str:
    what = "・".join(
        part
        for part in (f"事業No.{no}" if no else "", f"担当課「{department}」" if department else "")
        if part
    )
    return f"{what}に当たる行は計画にも保存済みの評価にもありません。事業Noと担当課名を確認してください。"
