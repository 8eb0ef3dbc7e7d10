"""A year's results per plan row, combined from the parts in force.

A joint row (several departments report one row) combines each department's text in plan order; a row
is complete when every department that submits it has its part in force (or the row came whole) and
the parts agree on the rating. Parts that disagree (a correction from one department, the other's still
to come) make the row 不一致: it has no rating for the year until they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.store import Part, Store
from hyoka.years import FiscalYear


@dataclass(frozen=True)
class RowResult:
    rating: str | None
    achievement: str
    outlook: str
    missing: tuple[str, ...] = ()
    disagreement: tuple[tuple[str, str], ...] = ()
    """(department, rating) of each part, in plan order, when a joint row's parts disagree (不一致)."""

    @property
    def complete(self) -> bool:
        return not self.missing and not self.disagreement and self.rating is not None


def combine(row: PlanRow, parts: Iterable[Part]) -> RowResult:
    by_submitter = {p.submitter: p for p in parts}
    named = [by_submitter[s] for s in row.submitters if s in by_submitter]
    if not named and "" in by_submitter:
        whole = by_submitter[""]
        return RowResult(whole.rating, whole.achievement, whole.outlook)
    missing = tuple(s for s in row.submitters if s not in by_submitter)
    differ = len({p.rating for p in named}) > 1
    return RowResult(
        rating=named[0].rating if named and not differ else None,
        achievement="\n".join(p.achievement for p in named if p.achievement),
        outlook="\n".join(p.outlook for p in named if p.outlook),
        missing=missing,
        disagreement=tuple((p.submitter, p.rating) for p in named) if differ else (),
    )


def year_results(plan: Plan, parts: Iterable[Part]) -> dict[RowKey, RowResult]:
    """Every row with something in force → its result, in plan order.

    Rows stored for a year whose plan no longer has them (a department dropped) come last, so that a
    diff can still show them as removed.
    """
    grouped: dict[RowKey, list[Part]] = {}
    for p in parts:
        grouped.setdefault((p.project_no, p.department), []).append(p)
    results = {row.key: combine(row, grouped.pop(row.key)) for row in plan.rows if row.key in grouped}
    for key, orphan in grouped.items():
        results[key] = RowResult(
            orphan[0].rating,
            "\n".join(p.achievement for p in orphan if p.achievement),
            "\n".join(p.outlook for p in orphan if p.outlook),
        )
    return results


def load_year(store: Store, plan: Plan, year: FiscalYear) -> dict[RowKey, RowResult]:
    return year_results(plan, store.current_parts(year))


def ratings(store: Store, plan: Plan, year: FiscalYear) -> dict[RowKey, str]:
    """Rows with a rating in force in ``year`` (a partial joint row carries its first part's rating;
    a 不一致 joint row has none: diff counts it with the rows not yet rated, history shows it blank)."""
    return {k: r.rating for k, r in load_year(store, plan, year).items() if r.rating}
