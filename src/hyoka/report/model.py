"""What the evaluation table (資料1) says, as plain data — no Word, no I/O.

:func:`build_evaluation` joins the plan, this year's results, last year's ratings, the scale and the
wording from the config into an :class:`Evaluation`; the renderer only lays it out. Every string that
reaches a document passes :func:`hyoka.text.clean_text` here, once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from hyoka.plan import Plan, PlanRow, Project, RowKey
from hyoka.results import RowResult
from hyoka.scale import Direction, RatingScale
from hyoka.text import circled, clean_text, paragraphs, split_departments
from hyoka.versions import PRIOR_SEPARATOR
from hyoka.workspace import Config, Meeting
from hyoka.years import FiscalYear, format_month

NO_RATING = "—"
"""Shown where a row has no rating: a new project last year, or a department not yet in (draft)."""
NOT_SUBMITTED = "未提出"


@dataclass(frozen=True)
class RowView:
    """One department row of the table."""

    key: RowKey
    departments: tuple[str, ...]  # one line each in the 担当課 cell
    rating: str | None
    prior: str | None
    achievement: tuple[str, ...]  # paragraphs
    outlook: tuple[str, ...]
    missing: tuple[str, ...]  # departments whose part is not in yet (draft only)


@dataclass(frozen=True)
class ProjectView:
    mark: str  # ①
    no: str
    name: str
    is_new: bool
    measure_no: str
    rows: tuple[RowView, ...]

    @property
    def heading(self) -> str:
        return f"{self.mark}【事業No.{self.no}】"


@dataclass(frozen=True)
class PolicyBlock:
    """One 基本施策: the block printed above its table and the projects in it."""

    goal_no: str
    goal: str
    policy: str
    measures: tuple[tuple[str, str], ...]  # (no, name)
    projects: tuple[ProjectView, ...]


@dataclass(frozen=True)
class GoalCount:
    goal_no: str
    goal: str
    this_year: dict[str, int]  # code → rows; NO_RATING for rows without one
    prior_year: dict[str, int]


@dataclass(frozen=True)
class Change:
    goal_no: str
    project: str  # ①【事業No.1】name
    department: str
    before: str
    after: str
    direction: Direction


@dataclass(frozen=True)
class Summary:
    goals: tuple[GoalCount, ...]
    columns: tuple[str, ...]  # scale codes, then NO_RATING when some row has none
    changes: tuple[Change, ...]

    @property
    def total(self) -> GoalCount:
        def add(which: str) -> dict[str, int]:
            return {c: sum(getattr(g, which).get(c, 0) for g in self.goals) for c in self.columns}

        return GoalCount("", "合計", add("this_year"), add("prior_year"))


@dataclass(frozen=True)
class MissingRow:
    """A row the final table cannot show yet: not in (未提出), or a joint row whose parts disagree."""

    project_no: str
    department: str  # the row's 担当課 label
    submitters: tuple[str, ...]  # who still has to send it
    ratings: tuple[tuple[str, str], ...] = ()  # (department, rating) of a 不一致 joint row

    @property
    def disagreeing(self) -> bool:
        return bool(self.ratings)


@dataclass(frozen=True)
class Evaluation:
    title: str
    subtitle: str
    date_text: str
    secretariat: str
    legend: tuple[tuple[str, str], ...]  # (code, description), best first
    note: tuple[str, ...]
    year_label: str  # 令和5年度
    prior_label: str  # 令和4年度
    material_label: str | None  # 資料1, from the meeting's material list
    draft: bool
    blocks: tuple[PolicyBlock, ...]
    summary: Summary
    missing: tuple[MissingRow, ...]


def missing_rows(plan: Plan, results: Mapping[RowKey, RowResult]) -> list[MissingRow]:
    """Rows whose result is not complete, with the departments that still have to send them (or,
    for a 不一致 joint row, whose parts disagree)."""
    out = []
    for row in plan.rows:
        res = results.get(row.key)
        if res is None:
            out.append(MissingRow(row.project_no, row.department, row.submitters))
        elif res.missing:
            out.append(MissingRow(row.project_no, row.department, res.missing))
        elif res.disagreement:
            who = tuple(s for s, _ in res.disagreement)
            out.append(MissingRow(row.project_no, row.department, who, res.disagreement))
        elif not res.complete:
            out.append(MissingRow(row.project_no, row.department, row.submitters))
    return out


def disagreement_mark(ratings: tuple[tuple[str, str], ...]) -> str:
    """The rating cell of a 不一致 row in a draft: each part's rating, in the 担当課 cell's order."""
    return "／".join(r for _, r in ratings) + "（不一致）"


# A paragraph that begins with a mark is a bullet, a heading or a numbered item and is set flush
# left; plain prose gets the template's first-line indent of one character.
_MARKS = frozenset("・●○◎◯◇◆□■△▲▽▼☆★※＊*＃#♪→⇒►▶-－‐―ー〇【［[〔「『（(＜<〈《")
_NUMBERED = re.compile(
    r"(?:[0-9０-９]+|[A-Za-zＡ-Ｚａ-ｚア-ンｱ-ﾝ])[、.．)）](?![0-9０-９])|第[0-9０-９一二三四五六七八九十]+[、　 ]"
)


def indents(paragraph: str) -> bool:
    """Whether a paragraph of a department's text gets a first-line indent: not a blank line, not
    one the department indented itself, not one that begins with a mark (・ ● ※ 【 ① (1) 1. 1、 ア.)."""
    if not paragraph or paragraph[0] in " \t\u3000":
        return False
    first = paragraph[0]
    if first in _MARKS or _NUMBERED.match(paragraph):
        return False
    # ① ⑴ ⒈ ❶ ㈠ and the like: numbers in circles or parentheses are marks too.
    return not (
        unicodedata.category(first) == "No" or "\u2460" <= first <= "\u24ff" or "\u3200" <= first <= "\u32ff"
    )


def narrative(text: str) -> tuple[str, ...]:
    """A department's text as paragraphs: its blank lines kept (a run of them as one), none at the ends."""
    out: list[str] = []
    for line in clean_text(text).split("\n"):
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    while out and not out[-1]:
        out.pop()
    return tuple(out)


def department_lines(label: str) -> tuple[str, ...]:
    """The 担当課 cell's lines: each department of a joint row on its own line, and a parenthesised
    body such as (社会福祉協議会) on the next line so that a narrow column never breaks inside it."""
    lines: list[str] = []
    for dep in split_departments(label) or (clean_text(label),):
        lines.extend(part for part in re.split(r"(?=[(（])", dep) if part)
    return tuple(lines)


def material_label(meeting: Meeting | None) -> str | None:
    """``資料1`` when the meeting lists the evaluation table among its materials."""
    if meeting is None:
        return None
    for m in meeting.materials:
        if m.generated == "evaluation":
            return f"資料{clean_text(m.no)}"
    return None


def build_evaluation(
    *,
    config: Config,
    plan: Plan,
    scale: RatingScale,
    year: FiscalYear,
    results: Mapping[RowKey, RowResult],
    prior: Mapping[RowKey, RowResult],
    meeting: Meeting | None,
    today: date,
    draft: bool,
    period: str = "",
) -> Evaluation:
    """Everything the 資料1 document shows, in plan order. ``period`` is the name of the plan version
    in force (第3期), printed with the plan's title when the version has one."""
    gannen = config.gannen
    blocks = tuple(
        PolicyBlock(
            goal_no=clean_text(policy.goal_no),
            goal=clean_text(policy.goal),
            policy=clean_text(policy.name),
            measures=tuple((clean_text(m.no), clean_text(m.name)) for m in policy.measures),
            projects=tuple(_project(p, m.no, results, prior) for m in policy.measures for p in m.projects),
        )
        for policy in plan.policies()
    )
    day = meeting.day if meeting is not None else today
    return Evaluation(
        title=f"{clean_text(config.plan_title)}{f'（{clean_text(period)}）' if period else ''}の進捗状況及び評価表",
        subtitle=f"({year.label(gannen)}実績報告)",
        date_text=format_month(day, gannen=gannen),
        secretariat=clean_text(config.secretariat),
        legend=tuple((clean_text(r.code), clean_text(r.description)) for r in scale.levels),
        note=tuple(paragraphs(scale.note)),
        year_label=year.label(gannen),
        prior_label=year.previous().label(gannen),
        material_label=material_label(meeting),
        draft=draft,
        blocks=blocks,
        summary=_summary(plan, scale, results, prior),
        missing=tuple(missing_rows(plan, results)),
    )


def _project(
    project: Project, measure_no: str, results: Mapping[RowKey, RowResult], prior: Mapping[RowKey, RowResult]
) -> ProjectView:
    return ProjectView(
        mark=circled(project.index),
        no=clean_text(project.no),
        name=clean_text(project.name),
        is_new=project.is_new,
        measure_no=clean_text(measure_no),
        rows=tuple(_row(r, results.get(r.key), prior.get(r.key)) for r in project.rows),
    )


def _row(row: PlanRow, res: RowResult | None, prior: RowResult | None) -> RowView:
    missing = row.submitters if res is None else res.missing
    return RowView(
        key=row.key,
        departments=department_lines(row.department),
        rating=(
            clean_text(res.rating)
            if res is not None and res.rating
            else clean_text(disagreement_mark(res.disagreement))
            if res is not None and res.disagreement
            else None
        ),
        prior=clean_text(prior.rating) if prior is not None and prior.rating else None,
        achievement=narrative(res.achievement) if res is not None else (),
        outlook=narrative(res.outlook) if res is not None else (),
        missing=tuple(missing),
    )


def _summary(
    plan: Plan,
    scale: RatingScale,
    results: Mapping[RowKey, RowResult],
    prior: Mapping[RowKey, RowResult],
) -> Summary:
    def code(res: RowResult | None) -> str:
        # A rating the scale no longer knows (the scale changed) still counts, in its own column.
        return res.rating if res is not None and res.rating else NO_RATING

    goals = []
    extra: dict[str, None] = {}
    changes = []
    for goal in plan.goals():
        this: dict[str, int] = {}
        last: dict[str, int] = {}
        for policy in goal.policies:
            for row in policy.rows:
                now, before = code(results.get(row.key)), code(prior.get(row.key))
                this[now] = this.get(now, 0) + 1
                # A merged row's prior (A／B): each predecessor's rating counts in its year.
                for part in before.split(PRIOR_SEPARATOR):
                    last[part] = last.get(part, 0) + 1
                for c in (now, *before.split(PRIOR_SEPARATOR)):
                    if c not in scale.codes:
                        extra.setdefault(c, None)
                if now in scale.codes and before in scale.codes and now != before:
                    changes.append(
                        Change(
                            goal_no=clean_text(goal.no),
                            project=clean_text(row.project_label),
                            department=clean_text(row.department),
                            before=before,
                            after=now,
                            direction=scale.direction(before, now),
                        )
                    )
        goals.append(GoalCount(clean_text(goal.no), clean_text(goal.name), this, last))
    # Unknown codes before the "no rating" column, so that — always comes last.
    others = sorted(c for c in extra if c != NO_RATING)
    columns = (*scale.codes, *others, *([NO_RATING] if NO_RATING in extra else []))
    return Summary(tuple(goals), tuple(clean_text(c) for c in columns), tuple(changes))
