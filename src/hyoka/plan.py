"""The plan master: 基本目標 → 基本施策 → 施策 → 個別事業, each with its responsible departments.

Pure core: :func:`build_plan` takes the rows of the flat table (as read by :mod:`hyoka.tables`) and
returns the :class:`Plan` and every problem it found, never raising for bad input.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from hyoka.problems import Problem, problem
from hyoka.sheet import DEFAULT_LEVELS, Level, SheetDefinition, row_values
from hyoka.tables import Table
from hyoka.text import circled, normalize_code, split_departments
from hyoka.years import FiscalYear

H_GOAL_NO, H_GOAL, H_POLICY, H_MEASURE_NO, H_MEASURE = "基本目標No", "基本目標", "基本施策", "施策No", "施策"
H_NO, H_NAME, H_NEW, H_DEPARTMENT, H_SUBMITTER = "事業No", "事業名", "新規", "担当課", "提出課"
HEADINGS = (
    H_GOAL_NO,
    H_GOAL,
    H_POLICY,
    H_MEASURE_NO,
    H_MEASURE,
    H_NO,
    H_NAME,
    H_NEW,
    H_DEPARTMENT,
    H_SUBMITTER,
)
REQUIRED = (H_GOAL_NO, H_GOAL, H_POLICY, H_MEASURE_NO, H_MEASURE, H_NO, H_NAME, H_DEPARTMENT)

NEW_YES = {"新規", "○", "〇", "◯", "1", "TRUE", "YES", "Y"}
NEW_NO = {"", "0", "FALSE", "NO", "N", "-", "ー", "－"}

# How a cell that Excel turned into a date (3-2 typed as 事業No) reads back.
_EXCEL_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")

RowKey = tuple[str, str]
"""(事業No, 担当課 label): identifies a department row across years."""


@dataclass(frozen=True)
class PlanRow:
    """One project × responsible department (a joint row names several departments)."""

    goal_no: str
    goal: str
    policy: str
    measure_no: str
    measure: str
    project_no: str
    project_name: str
    is_new: bool
    department: str
    submitters: tuple[str, ...]
    project_index: int
    line: int = 0
    # The plan's levels as (number, name), outermost first; the default sheet's three levels are
    # goal / policy / measure. Other levels map onto them: the outermost is the goal, the innermost the
    # measure, those between are the policy (joined); with two levels the policy is ''.
    path: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    measure_mark: str = field(default="", compare=False)  # the innermost level's number as it prints
    # Every other heading's cell (指標, 単位, 目標値(R6), …), read once: what the sheet's plan columns read.
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def extra_values(self) -> dict[str, str]:
        return dict(self.extra)

    @property
    def key(self) -> RowKey:
        return (self.project_no, self.department)

    @property
    def departments(self) -> tuple[str, ...]:
        return split_departments(self.department)

    @property
    def is_joint(self) -> bool:
        return len(self.submitters) > 1

    @property
    def project_label(self) -> str:
        """``①【事業No.1】name`` with 【新規】 where it applies."""
        new = "【新規】" if self.is_new else ""
        return f"{circled(self.project_index)}【事業No.{self.project_no}】{new}{self.project_name}"

    @property
    def measure_label(self) -> str:
        """``(1)`` — the number as the committee prints it (measure_no never carries brackets); for
        another sheet, as its innermost level's ``number_format`` says (``1-2``, ``①``, or '')."""
        return self.measure_mark if self.path else f"({self.measure_no})"  # a row built by hand


@dataclass(frozen=True)
class Project:
    no: str
    name: str
    is_new: bool
    index: int
    rows: tuple[PlanRow, ...]


@dataclass(frozen=True)
class Measure:
    no: str
    name: str
    projects: tuple[Project, ...]


@dataclass(frozen=True)
class Policy:
    name: str
    goal_no: str
    goal: str
    measures: tuple[Measure, ...]

    @property
    def rows(self) -> list[PlanRow]:
        return [r for m in self.measures for p in m.projects for r in p.rows]


@dataclass(frozen=True)
class Goal:
    no: str
    name: str
    policies: tuple[Policy, ...]


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]
    source: str = ""
    by_key: dict[RowKey, PlanRow] = field(init=False, repr=False, compare=False)
    # Indexes built once: collect looks up every returned row by 事業No and forms/collect/status ask
    # for each department's rows, so a scan of the plan per call grows with rows × departments.
    _by_no: dict[str, tuple[PlanRow, ...]] = field(init=False, repr=False, compare=False)
    _by_submitter: dict[str, tuple[PlanRow, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {r.key: r for r in self.rows})
        by_no: dict[str, list[PlanRow]] = {}
        by_submitter: dict[str, list[PlanRow]] = {}
        for r in self.rows:
            by_no.setdefault(r.project_no, []).append(r)
            for s in r.submitters:
                by_submitter.setdefault(s, []).append(r)
        object.__setattr__(self, "_by_no", {k: tuple(v) for k, v in by_no.items()})
        object.__setattr__(self, "_by_submitter", {k: tuple(v) for k, v in by_submitter.items()})

    @cached_property
    def fingerprint(self) -> str:
        """Short hash of the structure; forms carry it so a return from another plan version shows.

        Cached: every form written and every file collected asks for it, and hashing the whole plan
        each time made forms and collect grow with departments × rows.
        """
        data = [[r.project_no, r.project_name, r.department, "・".join(r.submitters)] for r in self.rows]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:16]

    @property
    def submitters(self) -> list[str]:
        """Departments that fill in forms, in plan order."""
        return list(self._by_submitter)

    def rows_for(self, submitter: str) -> list[PlanRow]:
        return list(self._by_submitter.get(submitter, ()))

    def project(self, no: str) -> list[PlanRow]:
        return list(self._by_no.get(no, ()))

    @property
    def project_nos(self) -> list[str]:
        return list(dict.fromkeys(r.project_no for r in self.rows))

    def goals(self) -> list[Goal]:
        """The tree, in the order of the file."""
        return [
            Goal(
                goal_rows[0].goal_no,
                goal_rows[0].goal,
                tuple(
                    Policy(
                        pol_rows[0].policy,
                        pol_rows[0].goal_no,
                        pol_rows[0].goal,
                        tuple(
                            Measure(
                                m_rows[0].measure_no,
                                m_rows[0].measure,
                                tuple(
                                    Project(
                                        p[0].project_no,
                                        p[0].project_name,
                                        p[0].is_new,
                                        p[0].project_index,
                                        tuple(p),
                                    )
                                    for p in _groups(m_rows, lambda r: r.project_no)
                                ),
                            )
                            for m_rows in _groups(pol_rows, lambda r: r.measure_no)
                        ),
                    )
                    for pol_rows in _groups(goal_rows, lambda r: r.policy)
                ),
            )
            for goal_rows in _groups(list(self.rows), lambda r: r.goal_no)
        ]

    def policies(self) -> list[Policy]:
        return [p for g in self.goals() for p in g.policies]

    def counts(self) -> dict[str, int]:
        goals = self.goals()
        departments = {d for r in self.rows for d in (*r.departments, *r.submitters)}
        return {
            "goals": len(goals),
            "policies": sum(len(g.policies) for g in goals),
            "measures": sum(len(p.measures) for g in goals for p in g.policies),
            "projects": len(self.project_nos),
            "rows": len(self.rows),
            "departments": len(departments),
            "submitters": len(self.submitters),
        }


def _groups(rows: Sequence[PlanRow], key: Callable[[PlanRow], str]) -> Iterator[list[PlanRow]]:
    """Rows grouped by key in first-seen order (a key that comes back later joins its group)."""
    groups: dict[str, list[PlanRow]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return iter(groups.values())


def measure_number(value: str) -> str:
    """The 施策No without the brackets it is printed in: ``(1)``, ``（２）`` and ``1`` are all ``1``,
    so that labels, which add the brackets, never show ``((1))``."""
    text = normalize_code(value)  # NFKC: （２） → (2)
    m = re.fullmatch(r"\(\s*(.*?)\s*\)", text)
    return m.group(1) if m and m.group(1) else text


def parse_new_flag(value: str) -> bool | None:
    v = normalize_code(value).upper()
    if v in NEW_YES:
        return True
    if v in NEW_NO:
        return False
    return None


def level_headings(levels: Sequence[Level]) -> tuple[tuple[str | None, str], ...]:
    """(number heading or None, name heading) per level, outermost first (the rule of sheet.plan_headings)."""
    return tuple((f"{lv.name}No" if lv.numbered else None, lv.name) for lv in levels)


def headings_for(levels: Sequence[Level]) -> tuple[str, ...]:
    """The plan master's headings for these levels; the default levels give :data:`HEADINGS`."""
    out = [h for pair in level_headings(levels) for h in pair if h is not None]
    return (*out, H_NO, H_NAME, H_NEW, H_DEPARTMENT, H_SUBMITTER)


def build_plan(table: Table, levels: Sequence[Level] = DEFAULT_LEVELS) -> tuple[Plan | None, list[Problem]]:
    """Check the flat table and build the plan; every problem is reported, none raised.

    ``levels`` are the sheet's levels above the project (default: 基本目標 / 基本施策 / 施策); the
    headings follow them (``<name>No`` for a numbered level, then ``<name>``).
    """
    src = table.source
    pairs = level_headings(levels)
    headings = headings_for(levels)
    required = (*(h for pair in pairs for h in pair if h is not None), H_NO, H_NAME, H_DEPARTMENT)
    missing = [h for h in required if h not in table.headings]
    if missing:
        found = problem(
            "plan-heading-missing",
            file=src,
            sheet=table.sheet,
            row=table.heading_line,
            missing="・".join(f"「{h}」" for h in missing),
            headings=" | ".join(headings),
        )
        return None, [found]
    known = set(headings)
    extras = [h for h in table.headings if h and h not in known]
    problems: list[Problem] = []
    projects: dict[str, tuple[int, str, str, str]] = {}  # no -> (line, name, measure, policy)
    measures: dict[tuple[str, str], tuple[int, str]] = {}  # (goal, measure_no/name) -> (line, policy)
    seen_keys: dict[RowKey, int] = {}
    index_in_measure: dict[tuple[str, str, str], list[str]] = {}
    rows: list[PlanRow] = []
    number_headings = [n for n, _ in pairs if n is not None]
    for line, raw in table.rows:
        cells = {h: raw.get(h, "").strip() for h in headings}  # read_table has cleaned them
        blank = [h for h in required if not cells[h]]
        for h in blank:
            problems.append(problem("plan-cell-blank", file=src, row=line, heading=h))
        if blank:
            continue
        dated = [h for h in (*number_headings, H_NO) if _EXCEL_DATE.fullmatch(cells[h])]
        for h in dated:
            problems.append(problem("value-is-date", file=src, row=line, heading=h, value=cells[h]))
        if dated:
            continue
        no = normalize_code(cells[H_NO])
        department = normalize_code(cells[H_DEPARTMENT])
        is_new = parse_new_flag(cells[H_NEW])
        if is_new is None:
            problems.append(problem("plan-new-flag-unknown", file=src, row=line, value=cells[H_NEW]))
            is_new = False
        path = tuple(((measure_number(cells[n]) if n is not None else ""), cells[name]) for n, name in pairs)
        goal_no = normalize_code(cells[pairs[0][0]]) if pairs[0][0] is not None else path[0][1]
        goal = path[0][1]
        measure_no = path[-1][0] or path[-1][1]
        measure = path[-1][1]
        policy = " ／ ".join(name for _, name in path[1:-1])
        outer = [n for n, _ in path[:-1] if n]
        mark = levels[-1].label(path[-1][0], outer)
        first = projects.setdefault(no, (line, cells[H_NAME], measure, policy))
        if first[1] != cells[H_NAME]:
            problems.append(_conflict(src, line, no, first[0], first[1], cells[H_NAME], "事業名"))
        elif (first[2], first[3]) != (measure, policy):
            problems.append(_conflict(src, line, no, first[0], first[2], measure, levels[-1].name))
        m_first = measures.setdefault((goal_no, measure), (line, policy))
        if m_first[1] != policy:
            problems.append(
                problem(
                    "plan-measure-conflict",
                    file=src,
                    row=line,
                    measure=measure,
                    first=m_first[1],
                    line_first=m_first[0],
                    second=policy,
                )
            )
        key = (no, department)
        if key in seen_keys:
            problems.append(
                problem(
                    "plan-duplicate-row",
                    file=src,
                    row=line,
                    no=no,
                    department=department,
                    line_first=seen_keys[key],
                )
            )
            continue
        seen_keys[key] = line
        siblings = index_in_measure.setdefault((goal_no, policy, measure_no), [])
        if no not in siblings:
            siblings.append(no)
        submitters = split_departments(cells[H_SUBMITTER]) or split_departments(department)
        rows.append(
            PlanRow(
                goal_no,
                goal,
                policy,
                measure_no,
                measure,
                no,
                cells[H_NAME],
                is_new,
                department,
                submitters,
                siblings.index(no) + 1,
                line,
                path=path,
                measure_mark=mark,
                extra=tuple((h, raw.get(h, "").strip()) for h in extras),
            )
        )
    if not rows and not problems:
        problems.append(problem("plan-empty", file=src))
    return (Plan(tuple(rows), src) if rows else None), problems


def _conflict(src: str, line: int, no: str, line_first: int, first: str, second: str, what: str) -> Problem:
    return problem(
        "plan-project-conflict",
        file=src,
        row=line,
        no=no,
        line_first=line_first,
        first=first,
        second=second,
        what=what,
    )


def plan_row_values(definition: SheetDefinition, row: PlanRow, year: FiscalYear) -> dict[str, object]:
    """The sheet's plan columns for one row, as forms and the report show them: the level's number
    and name, the project label, the departments, and the plan master's other columns typed (目標値
    for ``year`` where the column is per year)."""
    typed, _ = row_values(definition, {}, row.extra_values, year)
    out: dict[str, object] = {}
    for c in definition.of_source("plan"):
        frm = c.plan_from or ""
        if frm == "level":
            out[c.key] = f"{row.measure_label} {row.measure}".strip()
        elif frm.startswith("level:"):
            out[c.key] = _level_text(definition, row, frm.removeprefix("level:"))
        elif frm == "project":
            out[c.key] = row.project_label
        elif frm == "department":
            out[c.key] = row.department
        elif frm == "submitter":
            out[c.key] = "・".join(row.submitters)
        else:
            out[c.key] = typed.get(c.key)
    return out


def _level_text(definition: SheetDefinition, row: PlanRow, name: str) -> str:
    names = [lv.name for lv in definition.levels]
    if name not in names or len(row.path) != len(names):
        return ""
    i = names.index(name)
    no, text = row.path[i]
    outer = [n for n, _ in row.path[:i] if n]
    return f"{definition.levels[i].label(no, outer)} {text}".strip()
