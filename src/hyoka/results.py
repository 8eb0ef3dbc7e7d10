"""A year's results per plan row, combined from the parts in force.

A joint row (several departments report one row) combines each department's text in plan order; a row
is complete when every department that submits it has its part in force (or the row came whole) and
the parts agree on the rating. Parts that disagree (a correction from one department, the other's still
to come) make the row 不一致: it has no rating for the year until they agree.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.problems import HyokaError
from hyoka.scale import RatingScale, same_scale
from hyoka.sheet import (
    SECRETARIAT_SUBMITTER,
    JointConflict,
    SheetDefinition,
    combine_joint,
    compute,
    row_values,
)
from hyoka.store import Part, Store
from hyoka.versions import PRIOR_SEPARATOR
from hyoka.years import FiscalYear


@dataclass(frozen=True)
class RowResult:
    rating: str | None
    achievement: str
    outlook: str
    missing: tuple[str, ...] = ()
    disagreement: tuple[tuple[str, str], ...] = ()
    """(department, rating) of each part, in plan order, when a joint row's parts disagree (不一致)."""
    parts_values: tuple[tuple[str, Mapping[str, object]], ...] = ()
    """A defined sheet's typed values of each part (submitter, values), in plan order (issue 11)."""
    secretariat: Mapping[str, object] = field(default_factory=dict)
    """The secretariat's entry in force for the row (its second-stage columns), or nothing."""

    @property
    def complete(self) -> bool:
        return not self.missing and not self.disagreement and self.rating is not None


def combine(row: PlanRow, parts: Iterable[Part]) -> RowResult:
    by_submitter = {p.submitter: p for p in parts}
    named = [by_submitter[s] for s in row.submitters if s in by_submitter]
    if not named and "" in by_submitter:
        whole = by_submitter[""]
        values = (("", whole.values),) if whole.other_values else ()
        return RowResult(whole.rating, whole.achievement, whole.outlook, parts_values=values)
    missing = tuple(s for s in row.submitters if s not in by_submitter)
    differ = len({p.rating for p in named}) > 1
    return RowResult(
        rating=named[0].rating if named and not differ else None,
        achievement="\n".join(p.achievement for p in named if p.achievement),
        outlook="\n".join(p.outlook for p in named if p.outlook),
        missing=missing,
        disagreement=tuple((p.submitter, p.rating) for p in named) if differ else (),
        parts_values=tuple((p.submitter, p.values) for p in named if p.other_values),
    )


def department_values(definition: SheetDefinition, res: RowResult | None) -> dict[str, object]:
    """A row's department columns: the parts' typed values combined per column's joint rule (不一致 where
    parts that must agree do not); a row stored before typed values holds rating, achievement, outlook."""
    if res is None:
        return {}
    if res.parts_values:
        combined = combine_joint(definition, res.parts_values)
        return {k: ("不一致" if isinstance(v, JointConflict) else v) for k, v in combined.items()}
    stored: dict[str, object] = {"rating": res.rating, "achievement": res.achievement, "outlook": res.outlook}
    out: dict[str, object] = {}
    for k, v in stored.items():
        if not definition.has(k) or definition.column(k).source != "department":
            continue
        if definition.column(k).kind != "text" and isinstance(v, str):
            # A joint row's parts are joined line by line as texts; a choice agrees, so once.
            v = "／".join(dict.fromkeys(line for line in v.split("\n") if line.strip()))
        out[k] = v
    return out


def year_results(plan: Plan, parts: Iterable[Part]) -> dict[RowKey, RowResult]:
    """Every row with something in force → its result, in plan order.

    Rows stored for a year whose plan no longer has them (a department dropped) come last, so that a
    diff can still show them as removed.
    """
    grouped: dict[RowKey, list[Part]] = {}
    secretariat: dict[RowKey, Mapping[str, object]] = {}
    for p in parts:
        if p.submitter == SECRETARIAT_SUBMITTER:  # the second stage, kept beside the departments' parts
            secretariat[(p.project_no, p.department)] = p.other_values
            continue
        grouped.setdefault((p.project_no, p.department), []).append(p)
    results: dict[RowKey, RowResult] = {}
    for row in plan.rows:
        if row.key in grouped:
            results[row.key] = combine(row, grouped.pop(row.key))
        elif row.key in secretariat:  # entered by the secretariat before the departments' returns
            results[row.key] = RowResult(None, "", "", missing=row.submitters)
        if row.key in secretariat:
            results[row.key] = replace(results[row.key], secretariat=secretariat[row.key])
    for key, orphan in grouped.items():
        results[key] = RowResult(
            orphan[0].rating,
            "\n".join(p.achievement for p in orphan if p.achievement),
            "\n".join(p.outlook for p in orphan if p.outlook),
        )
    return results


def with_second_stage(
    results: Mapping[RowKey, RowResult], plan: Plan, key: str, by_project: Mapping[str, str]
) -> dict[RowKey, RowResult]:
    """``results`` with a second-stage value per 事業No (the committee's rating of column ``key``) on
    every row of the project; a row without a result yet gets one that is still missing its parts."""
    out = dict(results)
    for row in plan.rows:
        code = by_project.get(row.project_no)
        if code is None:
            continue
        res = out.get(row.key) or RowResult(None, "", "", missing=row.submitters)
        out[row.key] = replace(res, secretariat={**res.secretariat, key: code})
    return out


def load_year(store: Store, plan: Plan, year: FiscalYear) -> dict[RowKey, RowResult]:
    return year_results(plan, store.current_parts(year))


def ratings(store: Store, plan: Plan, year: FiscalYear) -> dict[RowKey, str]:
    """Rows with a rating in force in ``year`` (a partial joint row carries its first part's rating;
    a 不一致 joint row has none: diff counts it with the rows not yet rated, history shows it blank)."""
    return {
        k: r.rating
        for k, r in year_results(plan, store.current_parts(year, ratings_only=True)).items()
        if r.rating
    }


def ratings_by_id(store: Store, year: FiscalYear) -> dict[int, str]:
    """Rows with a rating in force in ``year``, by row id (the version in force names them)."""
    version = store.version_for(year)
    by_key = version.by_key
    return {by_key[k].row_id: code for k, code in ratings(store, version.plan, year).items() if k in by_key}


def stored_ratings_by_id(store: Store) -> dict[FiscalYear, dict[int, str]]:
    """Every stored year's ratings by row id (diff and history follow the rows through versions)."""
    return {fy: ratings_by_id(store, fy) for fy in store.years()}


class PriorRatings(dict[RowKey, str]):
    """:func:`prior_ratings`: last year's codes as they were given, by this year's row labels.

    ``scale`` is the scale they were given in where it differs from this year's (another plan version
    rated by other codes, or the same codes in another order: :func:`hyoka.scale.same_scale`); then
    the two years' codes are not ranked against each other. None: the same scale (or no other
    version), so that they are ranked as ever."""

    scale: RatingScale | None = None


def rating_scale(sheet: SheetDefinition) -> RatingScale | None:
    """The scale of the sheet's first rating column: the rating 資料1 counts, the 前年度 column shows,
    diff compares by default and collect's rating-jump reads."""
    key = sheet.default_diff_column
    return sheet.scale_of(sheet.column(key)) if key else None


def scale_change(before: SheetDefinition, after: SheetDefinition) -> RatingScale | None:
    """``before``'s :func:`rating_scale` where it differs from ``after``'s; None: the same scale."""
    earlier, later = rating_scale(before), rating_scale(after)
    if earlier is None or later is None or same_scale(earlier, later):
        return None
    return earlier


def prior_ratings(
    store: Store, year: FiscalYear, sheet_for: Callable[[FiscalYear], SheetDefinition] | None = None
) -> PriorRatings:
    """The year before's ratings for the rows of ``year``'s version, by that version's labels.

    Follows the lineage through any number of versions: a renamed or renumbered row takes its
    predecessor's rating, a merged row each predecessor's (``A／B``), a split row its predecessor's.
    Given each year's definition (``sheet_for``, as ``Workspace.sheet_for``): where the year before's
    version rated by another scale, :attr:`PriorRatings.scale` is that scale.
    """
    versions = store.versions()
    if not versions:
        return PriorRatings()
    lineage = store.lineage()
    version = lineage.version_for(year)
    before = year.previous()
    priors = lineage.priors(year, {before: ratings_by_id(store, before)}, before)
    out = PriorRatings(
        {version.by_id[rid].row.key: value for rid, value in priors.items() if rid in version.by_id}
    )
    old = lineage.version_for(before)
    if sheet_for is not None and old is not version and old.sheet_json != version.sheet_json:
        # last year's stored definition that does not read: that year's commands say so
        with contextlib.suppress(HyokaError):
            out.scale = scale_change(sheet_for(before), sheet_for(year))
    return out


def prior_results(store: Store, year: FiscalYear) -> dict[RowKey, RowResult]:
    """The year before's results for the rows of ``year``'s version, by that version's labels (the
    report's 前年度 column): a merged row's rating is its predecessors' joined (``A／B``)."""
    versions = store.versions()
    if not versions:
        return {}
    lineage = store.lineage()
    version = lineage.version_for(year)
    before = year.previous()
    old = lineage.version_for(before)
    by_key = old.by_key
    earlier = {by_key[k].row_id: r for k, r in load_year(store, old.plan, before).items() if k in by_key}
    out: dict[RowKey, RowResult] = {}
    for rid, preds in lineage.links(year, before).items():
        found = [earlier[p] for p in preds if p in earlier]
        row = version.by_id[rid]
        if len(found) == 1:
            out[row.row.key] = found[0]
        elif found:
            rated = [r.rating for r in found if r.rating]
            out[row.row.key] = RowResult(PRIOR_SEPARATOR.join(rated) if rated else None, "", "")
    return out


# --- every column of a row, for diff and history --column (issue 11) ----------------------------------


def row_values_of(
    sheet: SheetDefinition, row: PlanRow | None, res: RowResult, year: FiscalYear
) -> dict[str, object]:
    """One row's values by column key for ``year``: the plan's typed values (目標値 of the year, 方向,
    単位), the departments' parts combined per column (:func:`hyoka.sheet.combine_joint`: a joint
    row's numbers summed, a value the parts disagree on a :class:`~hyoka.sheet.JointConflict`), and
    the computed columns recomputed from them (a joint row's 達成率 is Σ実績 / 目標)."""
    return _RowReader(sheet, year).values(row, res)


class _RowReader:
    """What :func:`row_values_of` asks of the sheet, asked once per year rather than once per row."""

    def __init__(self, sheet: SheetDefinition, year: FiscalYear) -> None:
        self.sheet, self.year = sheet, year
        self.first = sheet.default_diff_column
        self.stored = tuple(k for k in ("rating", "achievement", "outlook") if sheet.has(k))
        self.reads_plan = sheet.reads_plan_values
        self.computes = bool(sheet.computed_order)

    def values(self, row: PlanRow | None, res: RowResult) -> dict[str, object]:
        sheet = self.sheet
        values: dict[str, object] = {}
        if row is not None and self.reads_plan:
            values, _ = row_values(sheet, {}, row.extra_values, self.year)
        if res.parts_values:
            values.update(combine_joint(sheet, res.parts_values))
        else:
            stored = {"rating": res.rating, "achievement": res.achievement, "outlook": res.outlook}
            values.update({k: stored[k] for k in self.stored})
        if self.first is not None:
            values[self.first] = res.rating  # as ratings() has it: None for a 不一致 joint row
        values.update(res.secretariat)  # the second stage (diff --column second_rating)
        if self.computes:
            for key, result in compute(sheet, values).items():
                values[key] = result.value
        return values


def stored_rows_by_id(
    store: Store, sheet_for: Callable[[FiscalYear], SheetDefinition]
) -> dict[FiscalYear, dict[int, dict[str, object]]]:
    """Every stored year's rows by row id, each with :func:`row_values_of` under the sheet of the
    year (``sheet_for``): what ``diff`` and ``history`` compare for any column."""
    out: dict[FiscalYear, dict[int, dict[str, object]]] = {}
    for fy in store.years():
        version = store.version_for(fy)
        reader = _RowReader(sheet_for(fy), fy)
        by_key = version.by_key
        plan_rows = version.plan.by_key
        out[fy] = {
            by_key[k].row_id: reader.values(plan_rows.get(k), res)
            for k, res in load_year(store, version.plan, fy).items()
            if k in by_key
        }
    return out
