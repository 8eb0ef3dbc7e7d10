"""Where the year's returns stand, per submitting department.

A department is 完了 when every row it submits is in force; 未提出 when nothing of it has come in;
差戻し中 when its latest form was rejected — also when an earlier return is still in force (its rows
count, but the correction it sent is still owed); 不足 when rows are missing; 不一致 when a joint row it
shares has parts that disagree. The year is complete only when every department is 完了.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from hyoka.plan import Plan, PlanRow
from hyoka.results import combine
from hyoka.sheet import SECRETARIAT_SUBMITTER, SheetDefinition
from hyoka.store import Part, Store, Submission
from hyoka.text import clean_text
from hyoka.years import FiscalYear

STATE_LABELS = {
    "complete": "完了",
    "not-submitted": "未提出",
    "returned": "差戻し中",
    "short": "不足",
    "disagreeing": "不一致",
}


@dataclass(frozen=True)
class Disagreement:
    """A joint row whose departments' parts in force rate it differently (不一致)."""

    row: PlanRow
    ratings: tuple[tuple[str, str], ...]  # (department, rating) in plan order


@dataclass
class DepartmentStatus:
    submitter: str
    expected: list[PlanRow]
    missing: list[PlanRow]
    accepted_files: list[Submission] = field(default_factory=list)
    rejected_files: list[Submission] = field(default_factory=list)  # after its last accepted form
    disagreeing: list[Disagreement] = field(default_factory=list)

    @property
    def accepted_rows(self) -> int:
        return len(self.expected) - len(self.missing)

    @property
    def returned(self) -> bool:
        """差戻し中: the department's latest form was rejected."""
        return bool(self.rejected_files)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.disagreeing and not self.returned

    @property
    def heard_from(self) -> bool:
        return bool(self.accepted_files or self.rejected_files) or self.accepted_rows > 0

    @property
    def state(self) -> str:
        if self.returned:
            return "returned"
        if not self.heard_from:
            return "not-submitted"
        if self.missing:
            return "short"
        if self.disagreeing:
            return "disagreeing"
        return "complete"


@dataclass(frozen=True)
class SecretariatStatus:
    """The secretariat's second stage: rows whose required secretariat columns (二次評価) are entered.

    Shown beside the departments; it does not make the year incomplete (the year's status is the
    departments' returns), but a final report waits for it (see ``report.build``)."""

    label: str  # 事務局（二次評価）
    rows: int
    missing: list[PlanRow]
    rejected: list[Submission]  # secretariat imports rejected after the last accepted one

    @property
    def entered(self) -> int:
        return self.rows - len(self.missing)


@dataclass
class YearStatus:
    departments: list[DepartmentStatus]
    disagreements: list[Disagreement]
    unattributed: list[Submission]  # rejected files whose department could not be told
    shared_names: frozenset[str] = frozenset()  # file names two different files of the year share
    secretariat: SecretariatStatus | None = None  # a sheet with secretariat columns only

    @property
    def complete(self) -> bool:
        return all(d.complete for d in self.departments) and not self.disagreements

    def in_state(self, state: str) -> list[DepartmentStatus]:
        return [d for d in self.departments if d.state == state]

    def folder(self, s: Submission) -> str | None:
        """The file's folder, where another return of the year has the same name (else None)."""
        return str(PurePath(s.file_path).parent) if s.file_name in self.shared_names else None


def covered(row: PlanRow, submitter: str, parts: list[Part]) -> bool:
    """A row counts for a department when its own part is in force, or the row came whole by import."""
    submitters = {p.submitter for p in parts}
    return submitter in submitters or ("" in submitters and not (submitters & set(row.submitters)))


def secretariat_status(
    sheet: SheetDefinition, plan: Plan, parts: list[Part], submissions: list[Submission]
) -> SecretariatStatus | None:
    columns = sheet.secretariat_columns
    if not columns:
        return None
    needed = [c for c in columns if c.required is not None] or list(columns)
    entries = {
        (p.project_no, p.department): p.other_values for p in parts if p.submitter == SECRETARIAT_SUBMITTER
    }

    def entered(row: PlanRow) -> bool:
        values = entries.get(row.key)
        return values is not None and all(clean_text(values.get(c.key)).strip() for c in needed)

    mine = [s for s in submissions if s.submitter == SECRETARIAT_SUBMITTER]
    last = max((s.id for s in mine if s.status == "accepted"), default=0)
    return SecretariatStatus(
        f"事務局（{'・'.join(c.title for c in needed)}）",
        len(plan.rows),
        [r for r in plan.rows if not entered(r)],
        [s for s in mine if s.status == "rejected" and s.id > last],
    )


def year_status(
    store: Store, plan: Plan, year: FiscalYear, sheet: SheetDefinition | None = None
) -> YearStatus:
    """``sheet`` (the year's definition) adds the secretariat's progress when it has secretariat columns."""
    by_key: dict[tuple[str, str], list[Part]] = {}
    current = store.current_parts(year)
    for p in current:
        by_key.setdefault((p.project_no, p.department), []).append(p)
    disagreements = []
    for row in plan.rows:
        if row.is_joint and row.key in by_key:
            ratings = combine(row, by_key[row.key]).disagreement
            if ratings:
                disagreements.append(Disagreement(row, ratings))
    everything = store.submissions(year)
    submissions = [s for s in everything if s.kind == "form"]
    departments = []
    for submitter in plan.submitters:
        rows = plan.rows_for(submitter)
        missing = [r for r in rows if not covered(r, submitter, by_key.get(r.key, []))]
        mine = [s for s in submissions if s.submitter == submitter]
        last_accepted = max((s.id for s in mine if s.status == "accepted"), default=0)
        departments.append(
            DepartmentStatus(
                submitter,
                rows,
                missing,
                [s for s in mine if s.status == "accepted"],
                # Rejections after the last accepted file still need the clerk's attention.
                [s for s in mine if s.status == "rejected" and s.id > last_accepted],
                [d for d in disagreements if submitter in dict(d.ratings)],
            )
        )
    unattributed = [s for s in submissions if s.status == "rejected" and not s.submitter]
    paths: dict[str, set[str]] = {}
    for s in submissions:
        paths.setdefault(s.file_name, set()).add(s.file_path)
    shared = frozenset(name for name, where in paths.items() if len(where) > 1)
    second = secretariat_status(sheet, plan, current, everything) if sheet is not None else None
    return YearStatus(departments, disagreements, unattributed, shared, second)
