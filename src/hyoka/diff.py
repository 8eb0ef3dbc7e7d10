"""How ratings moved between years: the diff of two years and each row's history over all years.

Pure core: the functions take the plan, the scale and the ratings already read from the store (one
``{(事業No, 担当課): code}`` mapping per year) and return plain dataclasses. Rows are matched by
(事業No, 担当課); better or worse is decided by the scale's order only, never by the codes' letters.

A row the plan has but the later year has no rating for is not a change: its return has not come in
yet (未提出). It is left out of the comparison and counted apart (:attr:`Diff.unsubmitted`); ``removed``
is kept for rows the plan no longer has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.problems import HyokaError
from hyoka.scale import RatingScale
from hyoka.text import normalize_code, split_departments
from hyoka.years import FiscalYear

Change = Literal["up", "down", "same", "new", "removed"]
CHANGES: tuple[Change, ...] = ("up", "down", "same", "new", "removed")

StoredRatings = Mapping[FiscalYear, Mapping[RowKey, str]]
"""Every stored year → its ratings in force, as :func:`hyoka.results.ratings` returns them."""


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
    before: str | None
    after: str | None
    change: Change
    in_plan: bool = True


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
    ratings: tuple[str | None, ...]
    """Aligned with :attr:`History.years`; None where the year has no rating for the row."""


@dataclass(frozen=True)
class History:
    years: tuple[FiscalYear, ...]
    rows: tuple[HistoryRow, ...]


def compare(
    plan: Plan,
    scale: RatingScale,
    stored: StoredRatings,
    year: FiscalYear,
    against: FiscalYear | None = None,
) -> Diff:
    """Compare ``year`` with ``against`` (by default the year before), row by row.

    Plan rows ``year`` has no rating for are not compared: they are listed in :attr:`Diff.unsubmitted`.
    Raises :class:`HyokaError` when either year has nothing stored, naming the years that do.
    """
    base = against if against is not None else year.previous()
    for fy in (year, base):
        _require_year(stored, fy)
    before, after = stored[base], stored[year]
    _check_codes(scale, {base: before, year: after})
    describe = _Describer(plan)
    unsubmitted = tuple(r.key for r in plan.rows if r.key not in after)
    rows = []
    for key in _row_keys(plan, (before, after)):
        b, a = before.get(key), after.get(key)
        in_plan = key in plan.by_key
        change: Change
        if a is None:
            if in_plan:
                continue  # 未提出: still in the plan, its return is not in yet
            change = "removed"
        elif b is None:
            change = "new"
        else:
            change = scale.direction(b, a)
        project, goal_no, goal = describe(key)
        rows.append(DiffRow(key[0], project, key[1], goal_no, goal, b, a, change, in_plan))
    codes = tuple(scale.codes)
    # Counts per rating cover every row rated in each year, the 未提出 rows' earlier ratings too; the
    # changes cover the compared rows.
    everything = _Group("", "", codes)
    groups: dict[str | None, _Group] = {}
    for key in _row_keys(plan, (before, after)):
        _, goal_no, goal = describe(key)
        group = goal_no if goal else None
        if group not in groups:
            groups[group] = _Group(group, goal, codes)
        for g in (everything, groups[group]):
            g.count(before.get(key), after.get(key))
    for r in rows:
        for g in (everything, groups[r.goal_no if r.goal else None]):
            g.changes[r.change] += 1
    return Diff(
        before_year=base,
        after_year=year,
        codes=codes,
        rows=tuple(rows),
        overall=everything.summary(),
        goals=tuple(g.summary() for g in groups.values()),
        unsubmitted=unsubmitted,
    )


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
    """Every plan row (and every stored row the plan no longer has) with its rating in each stored year.

    ``no`` keeps one project; ``department`` keeps the rows it is responsible for or submits (a joint
    row ``介護福祉課・広報秘書課`` matches either department). No matching row is a :class:`HyokaError`.
    """
    if not stored:
        raise HyokaError(_nothing_stored())
    years = tuple(sorted(stored))
    orphans = (k for fy in years for k in stored[fy] if k not in plan.by_key)
    keys = [*(r.key for r in plan.rows), *orphans]
    wanted_no = normalize_code(no) if no else None
    wanted_dep = normalize_code(department) if department else None
    shown = [
        key
        for key in dict.fromkeys(keys)
        if (wanted_no is None or key[0] == wanted_no)
        and (wanted_dep is None or _responsible(key, plan.by_key.get(key), wanted_dep))
    ]
    if not shown:
        raise HyokaError(_no_match(wanted_no, wanted_dep))
    describe = _Describer(plan)
    rows = []
    for key, ratings in zip(shown, _year_columns(stored, years, shown), strict=True):
        project, goal_no, goal = describe(key)
        rows.append(HistoryRow(key[0], project, key[1], goal_no, goal, ratings))
    return History(years, tuple(rows))


def _year_columns(
    stored: StoredRatings, years: tuple[FiscalYear, ...], keys: list[RowKey]
) -> list[tuple[str | None, ...]]:
    """Each key's rating in each year, in the order of ``keys``: the stored ratings pivoted to
    (事業No, 担当課) × year. pandas is imported here only, so that the CLI starts without it."""
    import pandas as pd

    long = pd.DataFrame(
        [(no, dep, i, code) for i, fy in enumerate(years) for (no, dep), code in stored[fy].items()],
        columns=["no", "department", "year", "rating"],
    )
    wide = long.pivot(index=["no", "department"], columns="year", values="rating").reindex(
        index=pd.MultiIndex.from_tuples(keys, names=["no", "department"]), columns=range(len(years))
    )
    return [
        tuple(None if pd.isna(code) else str(code) for code in row)
        for row in wide.itertuples(index=False, name=None)
    ]


def _row_keys(plan: Plan, years: Iterable[Mapping[RowKey, str]]) -> list[RowKey]:
    """Keys rated in any of ``years``: plan rows in plan order, then rows the plan no longer has."""
    rated = [list(y) for y in years]
    seen = {k for keys in rated for k in keys}
    in_plan = [r.key for r in plan.rows if r.key in seen]
    orphans = [k for keys in rated for k in keys if k not in plan.by_key]
    return list(dict.fromkeys([*in_plan, *orphans]))


class _Describer:
    """Project name and 基本目標 for a key, also for a department row the plan dropped from a project."""

    def __init__(self, plan: Plan) -> None:
        self._by_key = plan.by_key
        # Indexed once: looking projects up per row would make large plans quadratic.
        self._by_no: dict[str, PlanRow] = {}
        for r in plan.rows:
            self._by_no.setdefault(r.project_no, r)

    def __call__(self, key: RowKey) -> tuple[str, str, str]:
        row = self._by_key.get(key) or self._by_no.get(key[0])
        return (row.project_name, row.goal_no, row.goal) if row else ("", "", "")


class _Group:
    """Counts being added up for one 基本目標 (or all rows, or the rows the plan no longer has)."""

    def __init__(self, goal_no: str | None, goal: str, codes: tuple[str, ...]) -> None:
        self.goal_no, self.goal = goal_no, goal
        self.before = dict.fromkeys(codes, 0)
        self.after = dict.fromkeys(codes, 0)
        self.changes: dict[Change, int] = dict.fromkeys(CHANGES, 0)

    def count(self, before: str | None, after: str | None) -> None:
        if before is not None:
            self.before[before] += 1
        if after is not None:
            self.after[after] += 1

    def summary(self) -> GroupSummary:
        return GroupSummary(self.goal_no, self.goal, self.before, self.after, self.changes)


def _check_codes(scale: RatingScale, years: Mapping[FiscalYear, Mapping[RowKey, str]]) -> None:
    # A stored rating outside the scale means hyoka.toml's [scale] changed after collection; its
    # direction would be a guess, so say so instead of ranking it.
    for fy, ratings in years.items():
        for (no, department), code in ratings.items():
            if scale.get(code) is None:
                raise HyokaError(
                    f"{fy.label()}の事業No.{no}（{department}）の評価「{code}」は評価基準（{scale.codes_text}）に"
                    "ありません。hyoka.toml の [scale] を確認してください。"
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


def _require_year(stored: StoredRatings, fy: FiscalYear) -> None:
    if fy in stored:
        return
    if not stored:
        raise HyokaError(_nothing_stored())
    raise HyokaError(
        f"{fy.label()}（{fy.short}）の評価は保存されていません。保存済みの年度: {_years_text(stored)}。"
        "--year と --against で保存済みの年度を指定してください。"
    )


def _no_match(no: str | None, department: str | None) -> str:
    what = "・".join(
        part
        for part in (f"事業No.{no}" if no else "", f"担当課「{department}」" if department else "")
        if part
    )
    return f"{what}に当たる行は計画にも保存済みの評価にもありません。事業Noと担当課名を確認してください。"
