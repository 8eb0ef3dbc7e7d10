"""Where the year's returns stand, per submitting department."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyoka.plan import Plan, PlanRow
from hyoka.store import Part, Store, Submission
from hyoka.years import FiscalYear


@dataclass
class DepartmentStatus:
    submitter: str
    expected: list[PlanRow]
    missing: list[PlanRow]
    accepted_files: list[Submission] = field(default_factory=list)
    rejected_files: list[Submission] = field(default_factory=list)

    @property
    def accepted_rows(self) -> int:
        return len(self.expected) - len(self.missing)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def heard_from(self) -> bool:
        return bool(self.accepted_files or self.rejected_files) or self.accepted_rows > 0


def covered(row: PlanRow, submitter: str, parts: list[Part]) -> bool:
    """A row counts for a department when its own part is in force, or the row came whole by import."""
    submitters = {p.submitter for p in parts}
    return submitter in submitters or ("" in submitters and not (submitters & set(row.submitters)))


def year_status(store: Store, plan: Plan, year: FiscalYear) -> list[DepartmentStatus]:
    by_key: dict[tuple[str, str], list[Part]] = {}
    for p in store.current_parts(year):
        by_key.setdefault((p.project_no, p.department), []).append(p)
    submissions = [s for s in store.submissions(year) if s.kind == "form"]
    result = []
    for submitter in plan.submitters:
        rows = plan.rows_for(submitter)
        missing = [r for r in rows if not covered(r, submitter, by_key.get(r.key, []))]
        mine = [s for s in submissions if s.submitter == submitter]
        last_accepted = max((s.id for s in mine if s.status == "accepted"), default=0)
        result.append(
            DepartmentStatus(
                submitter,
                rows,
                missing,
                [s for s in mine if s.status == "accepted"],
                # Rejections after the last accepted file still need the clerk's attention.
                [s for s in mine if s.status == "rejected" and s.id > last_accepted],
            )
        )
    return result
