"""The committee's opinions on an evaluation and the departments' replies (市の考え方) — pure core.

An opinion belongs to a meeting and is about a *subject*: the whole evaluation, a level of the plan
(a 基本目標, a 基本施策, a 施策 — for a sheet with its own ``[[sheet.levels]]``, any of those levels,
named and numbered as the sheet prints them) or a project. It is routed to the departments that must answer it: a
project's submitting departments; for a level, those of every project under it (in plan order); for
the whole evaluation, the secretariat. The secretariat may narrow (or, for the whole evaluation,
name) the departments. A reply is one department's answer to one opinion; the answers of several
departments to one opinion are combined in plan order, as a joint row's texts are.

No I/O here: the adapters (:mod:`hyoka.opinions_io`, :mod:`hyoka.opinions_store`,
:mod:`hyoka.report.opinions`) read and write; this module decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hyoka.plan import Plan, PlanRow
from hyoka.sheet import DEFAULT_LEVELS, Level
from hyoka.text import normalize_code, split_departments

# The default sheet's (Koganei's) subjects keep their own kinds, as stores hold them: goal / policy /
# measure. A sheet with other levels ([[sheet.levels]]) has one kind for all of them: ``level``, whose
# key is ``<depth>:<ids>`` (depth 1 the outermost; ids the path's numbers, or names where a level is not
# numbered, joined by ``/``): ``level:1:2`` is 基本方針2, ``level:2:2/1`` its 取組①.
WHOLE, GOAL, POLICY, MEASURE, LEVEL, PROJECT = "whole", "goal", "policy", "measure", "level", "project"
KINDS = (WHOLE, GOAL, POLICY, MEASURE, LEVEL, PROJECT)
KIND_LABELS = {WHOLE: "全体", GOAL: "基本目標", POLICY: "基本施策", MEASURE: "施策", PROJECT: "事業"}
H_OPINION_NO, H_PROJECT_NO = "意見No", "事業No"


def is_default_levels(levels: Sequence[Level]) -> bool:
    return tuple(levels) == DEFAULT_LEVELS


def level_columns(levels: Sequence[Level]) -> tuple[str, ...]:
    """The flat table's columns that name a level, outermost first: the outermost level's
    ``<name>No`` when it is numbered (else ``<name>``), then every inner level's ``<name>`` — whose
    cell holds the level's number (``2``, or as printed: ``②``), or its name. The default levels
    give 基本目標No | 基本施策 | 施策."""
    return tuple(f"{lv.name}No" if i == 0 and lv.numbered else lv.name for i, lv in enumerate(levels))


@dataclass(frozen=True)
class Subject:
    """What an opinion is about. ``key``: '' (whole), 基本目標No, 基本施策, ``基本施策/施策No``, 事業No;
    for a level of a sheet with its own levels ``<depth>:<numbers>`` (see :data:`LEVEL`)."""

    kind: str
    key: str = ""

    @property
    def code(self) -> str:
        return f"{self.kind}:{self.key}"

    @classmethod
    def parse(cls, code: str) -> Subject:
        kind, _, key = code.partition(":")
        if kind not in KINDS:
            raise ValueError(f"unknown subject kind: {code}")
        return cls(kind, key)


@dataclass(frozen=True)
class Opinion:
    key: str  # stable within the meeting: 'T<n>' from an imported table, '<member>|<subject>' from a form
    meeting: str
    subject: Subject
    text: str
    departments: tuple[str, ...]  # who must answer, in plan order
    member: str = ""
    seq: int = 0  # order within its source (the table's line, the form's row)
    rating: str = ""  # a committee rating (second stage), where the sheet has one
    sheet: str | None = None
    cell: str | None = None


@dataclass(frozen=True)
class Reply:
    opinion_key: str
    department: str
    text: str
    sheet: str | None = None
    cell: str | None = None


# --- the subjects of a plan, in plan order ----------------------------------------------------------


@dataclass(frozen=True)
class SubjectInfo:
    subject: Subject
    label: str  # as printed: 全体 / 基本目標1 福祉のまちづくり / 基本施策 … / 施策(1) … / ①【事業No.1】…
    departments: tuple[str, ...]
    goal: str = ""  # the 基本目標 it lies in, as a heading (「基本目標1 福祉のまちづくり」); '' for the whole
    policy: str = ""  # the 基本施策 it lies in; '' for the whole and a 基本目標
    rows: tuple[PlanRow, ...] = ()
    depth: int = 0  # 0 whole, 1 goal, 2 policy, 3 measure, 4 project (another sheet: 1.. its levels)
    kind_label: str = ""  # 区分 as the member workbook prints it: 全体, the level's name, 事業
    # The headings of the levels the material groups it under (every level but the innermost), outermost
    # first: (「基本目標1 福祉のまちづくり」, 「基本施策　…」) for the default sheet.
    groups: tuple[str, ...] = ()
    path: tuple[tuple[str, str], ...] = ()  # a level's (number, name) path, outermost first


def _submitters(rows: Iterable[PlanRow]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for r in rows for s in r.submitters))


def goal_heading(goal_no: str, goal: str) -> str:
    return f"基本目標{goal_no} {goal}"


def subjects(plan: Plan, secretariat: str, levels: Sequence[Level] = DEFAULT_LEVELS) -> list[SubjectInfo]:
    """Every subject an opinion can have, in plan order (a level before what lies under it)."""
    whole = SubjectInfo(Subject(WHOLE), "計画全体・評価全般", (secretariat,), kind_label=KIND_LABELS[WHOLE])
    if not is_default_levels(levels):
        return [whole, *_level_subjects(plan.rows, tuple(levels), ())]
    return [whole, *_default_subjects(plan)]


def _default_subjects(plan: Plan) -> list[SubjectInfo]:
    out: list[SubjectInfo] = []
    for g in plan.goals():
        g_rows = tuple(r for p in g.policies for r in p.rows)
        heading = goal_heading(g.no, g.name)
        out.append(
            SubjectInfo(
                Subject(GOAL, g.no),
                heading,
                _submitters(g_rows),
                heading,
                "",
                g_rows,
                1,
                "基本目標",
                (heading,),
            )
        )
        for pol in g.policies:
            p_rows = tuple(pol.rows)
            groups = (heading, f"基本施策　{pol.name}")
            out.append(
                SubjectInfo(
                    Subject(POLICY, pol.name),
                    f"基本施策 {pol.name}",
                    _submitters(p_rows),
                    heading,
                    pol.name,
                    p_rows,
                    2,
                    "基本施策",
                    groups,
                )
            )
            for m in pol.measures:
                m_rows = tuple(r for p in m.projects for r in p.rows)
                out.append(
                    SubjectInfo(
                        Subject(MEASURE, f"{pol.name}/{m.no}"),
                        f"施策({m.no}) {m.name}",
                        _submitters(m_rows),
                        heading,
                        pol.name,
                        m_rows,
                        3,
                        "施策",
                        groups,
                    )
                )
                for pr in m.projects:
                    out.append(
                        SubjectInfo(
                            Subject(PROJECT, pr.no),
                            pr.rows[0].project_label,
                            _submitters(pr.rows),
                            heading,
                            pol.name,
                            pr.rows,
                            4,
                            "事業",
                            groups,
                        )
                    )
    return out


def level_key(node: Sequence[tuple[str, str]]) -> str:
    return f"{len(node)}:" + "/".join(no or name for no, name in node)


def level_label(levels: Sequence[Level], node: Sequence[tuple[str, str]]) -> str:
    """``基本方針1 誰もが参加できる地域づくり``: the level's name, its number as the sheet prints it, its name."""
    lv = levels[len(node) - 1]
    no, name = node[-1]
    return f"{lv.name}{lv.label(no, [n for n, _ in node[:-1] if n])} {name}".strip()


def _level_subjects(
    rows: Sequence[PlanRow], levels: tuple[Level, ...], prefix: tuple[tuple[str, str], ...]
) -> list[SubjectInfo]:
    """The subjects under ``prefix`` (a path of the sheet's levels), in plan order: each level, then
    what lies under it; under the innermost, its projects."""
    depth = len(prefix)
    groups = tuple(level_label(levels, prefix[: i + 1]) for i in range(min(depth, len(levels) - 1)))
    if depth == len(levels):
        out = []
        by_no: dict[str, list[PlanRow]] = {}
        for r in rows:
            by_no.setdefault(r.project_no, []).append(r)
        for p_rows in by_no.values():
            first = p_rows[0]
            out.append(
                SubjectInfo(
                    Subject(PROJECT, first.project_no),
                    first.project_label,
                    _submitters(p_rows),
                    groups[0] if groups else "",
                    "",
                    tuple(p_rows),
                    depth + 1,
                    KIND_LABELS[PROJECT],
                    groups,
                )
            )
        return out
    children: dict[tuple[str, str], list[PlanRow]] = {}
    for r in rows:
        if len(r.path) == len(levels):  # a row built by hand has no path
            children.setdefault(r.path[depth], []).append(r)
    out = []
    for step, c_rows in children.items():
        node = (*prefix, step)
        label = level_label(levels, node)
        own = (*groups, label) if depth < len(levels) - 1 else groups
        out.append(
            SubjectInfo(
                Subject(LEVEL, level_key(node)),
                label,
                _submitters(c_rows),
                own[0] if own else "",
                "",
                tuple(c_rows),
                depth + 1,
                levels[depth].name,
                own,
                node,
            )
        )
        out.extend(_level_subjects(c_rows, levels, node))
    return out


def _legacy_codes(items: Sequence[SubjectInfo], levels: tuple[Level, ...]) -> dict[str, str]:
    """What :func:`_default_subjects` called each level of another sheet (the plan's goal / policy /
    measure mapping of ``PlanRow``: the outermost level, those between joined, the innermost)."""
    out: dict[str, str] = {}
    last = len(levels)
    for info in items:
        node = info.path
        if info.subject.kind != LEVEL or not node:
            continue
        code = info.subject.code
        if len(node) == 1:
            no, name = node[0]
            out.setdefault(f"{GOAL}:{normalize_code(no) if levels[0].numbered else name}", code)
        if len(node) == last:
            policy = " ／ ".join(name for _, name in node[1:-1])
            no, name = node[-1]
            out.setdefault(f"{MEASURE}:{policy}/{no or name}", code)
        elif len(node) == last - 1 and len(node) > 1:
            out.setdefault(f"{POLICY}:{' ／ '.join(name for _, name in node[1:])}", code)
    return out


@dataclass(frozen=True)
class SubjectIndex:
    """The subjects of a plan by code, with their plan order."""

    infos: Mapping[str, SubjectInfo]
    order: Mapping[str, int]
    departments: tuple[str, ...]  # every department that may answer, in plan order
    levels: tuple[Level, ...] = DEFAULT_LEVELS  # the sheet's levels the subjects follow
    # For a sheet with its own levels, the code an opinion on each level had before subjects followed
    # the levels (goal:/policy:/measure:, as the default sheet's) → its code now: a store recorded then
    # reads without a migration.
    aliases: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan, secretariat: str, levels: Sequence[Level] = DEFAULT_LEVELS) -> SubjectIndex:
        items = subjects(plan, secretariat, levels)
        deps = tuple(dict.fromkeys([*plan.submitters, secretariat]))
        aliases = {} if is_default_levels(levels) else _legacy_codes(items, tuple(levels))
        return cls(
            {i.subject.code: i for i in items},
            {i.subject.code: n for n, i in enumerate(items)},
            deps,
            tuple(levels),
            aliases,
        )

    def code_of(self, subject: Subject) -> str:
        return self.aliases.get(subject.code, subject.code)

    @property
    def default_levels(self) -> bool:
        return is_default_levels(self.levels)

    @property
    def level_columns(self) -> tuple[str, ...]:
        return level_columns(self.levels)

    def info(self, subject: Subject) -> SubjectInfo | None:
        return self.infos.get(self.code_of(subject))

    def dept_order(self, department: str) -> int:
        try:
            return self.departments.index(department)
        except ValueError:
            return len(self.departments)


def find_subject(
    plan: Plan, *, project_no: str = "", policy: str = "", goal_no: str = "", measure: str = ""
) -> tuple[Subject | None, str]:
    """The most specific subject named (事業No, else 施策, else 基本施策, else 基本目標No, else the
    whole evaluation); ``(None, heading)`` naming the column whose value the plan does not have."""
    project_no, policy, goal_no, measure = (normalize_code(v) for v in (project_no, policy, goal_no, measure))
    if project_no:
        return (Subject(PROJECT, project_no), "") if plan.project(project_no) else (None, "事業No")
    if measure:
        found = _measure_rows(plan, measure)
        if policy:
            found = [r for r in found if normalize_code(r.policy) == policy]
        if len({r.policy for r in found}) != 1:  # none, or one of several 基本施策 (see measure_policies)
            return None, "施策"
        return Subject(MEASURE, f"{found[0].policy}/{found[0].measure_no}"), ""
    if policy:
        for r in plan.rows:
            if normalize_code(r.policy) == policy:
                return Subject(POLICY, r.policy), ""
        return None, "基本施策"
    if goal_no:
        for r in plan.rows:
            if normalize_code(r.goal_no) == goal_no:
                return Subject(GOAL, r.goal_no), ""
        return None, "基本目標No"
    return Subject(WHOLE), ""


def find_level_subject(
    index: SubjectIndex, values: Sequence[str], project_no: str = ""
) -> tuple[Subject | None, int, tuple[str, ...]]:
    """The subject a row of the flat table names, for a sheet with its own levels: the project, else
    the innermost level filled in (``values``: the cells of :func:`level_columns`), among those whose
    outer levels match the cells filled in beside it, else the whole evaluation. ``(None, i, ())``:
    column ``i`` (``len(values)``: 事業No) names nothing of the plan; ``(None, i, parents)``: it names a
    level under several of its outer level (their labels)."""
    project_no = normalize_code(project_no)
    if project_no:
        found = index.info(Subject(PROJECT, project_no))
        return (Subject(PROJECT, project_no), -1, ()) if found else (None, len(values), ())
    filled = [(i, normalize_code(v)) for i, v in enumerate(values) if normalize_code(v)]
    if not filled:
        return Subject(WHOLE), -1, ()
    j = filled[-1][0]
    levels = index.levels

    def matches(node: tuple[tuple[str, str], ...], i: int, value: str) -> bool:
        no, name = node[i]
        outer = [n for n, _ in node[:i] if n]
        printed = levels[i].label(no, outer)
        return value in {normalize_code(name), *(normalize_code(x) for x in (no, printed) if x)}

    found_infos = [
        info
        for info in index.infos.values()
        if info.subject.kind == LEVEL
        and len(info.path) == j + 1
        and all(matches(info.path, i, v) for i, v in filled)
    ]
    if len(found_infos) == 1:
        return found_infos[0].subject, -1, ()
    if not found_infos:
        return None, j, ()
    parents = tuple(dict.fromkeys(level_label(levels, i.path[:j]) if j else i.label for i in found_infos))
    return None, j, parents


def _measure_rows(plan: Plan, measure: str) -> list[PlanRow]:
    """The rows of the 施策 named by its name, its printed label, or its number (``1``, ``(1)``)."""
    return [
        r
        for r in plan.rows
        if measure
        in (
            normalize_code(r.measure),
            normalize_code(f"{r.measure_label}{r.measure}"),
            normalize_code(r.measure_no),
            normalize_code(f"({r.measure_no})"),
        )
    ]


def measure_policies(plan: Plan, measure: str) -> tuple[str, ...]:
    """The 基本施策 (in plan order) that have a 施策 named ``measure``: more than one when it is named
    without its 基本施策 by a number or a name they share."""
    return tuple(dict.fromkeys(r.policy for r in _measure_rows(plan, normalize_code(measure))))


def route(index: SubjectIndex, subject: Subject, named: str = "") -> tuple[tuple[str, ...], list[str]]:
    """The departments that answer an opinion on ``subject``: all of the subject's, or those ``named``
    (``・``/``、``-separated) among them — for the whole evaluation any department of the plan.
    Returns the departments in plan order and the names that cannot be used."""
    info = index.info(subject)
    allowed = info.departments if info else ()
    if not named.strip():
        return allowed, []
    pool = index.departments if subject.kind == WHOLE else allowed
    wanted = split_departments(named)
    bad = [d for d in wanted if d not in pool]
    chosen = tuple(d for d in pool if d in wanted)
    return chosen, bad


def ordered(index: SubjectIndex, opinions: Iterable[Opinion]) -> list[Opinion]:
    """Opinions in plan order of their subjects; within a subject, by member form before table, then seq."""
    end = len(index.order)
    return sorted(
        opinions, key=lambda o: (index.order.get(index.code_of(o.subject), end), o.seq, o.member, o.key)
    )


@dataclass(frozen=True)
class Answered:
    """An opinion with its replies combined in plan order."""

    opinion: Opinion
    replies: tuple[Reply, ...]  # in the opinion's department order
    missing: tuple[str, ...]  # departments whose reply is still owed

    @property
    def complete(self) -> bool:
        return not self.missing

    def text(self) -> str:
        """The combined reply: one department's text as it is; several, each under its name."""
        if len(self.opinion.departments) <= 1:
            return "\n".join(r.text for r in self.replies)
        return "\n".join(f"【{r.department}】\n{r.text}" for r in self.replies)


def answer(opinions: Sequence[Opinion], replies: Iterable[Reply]) -> list[Answered]:
    by_key: dict[tuple[str, str], Reply] = {(r.opinion_key, r.department): r for r in replies}
    out = []
    for o in opinions:
        got = tuple(by_key[(o.key, d)] for d in o.departments if (o.key, d) in by_key)
        missing = tuple(d for d in o.departments if (o.key, d) not in by_key)
        out.append(Answered(o, got, missing))
    return out


@dataclass
class DepartmentReplies:
    department: str
    routed: list[Opinion] = field(default_factory=list)
    missing: list[Opinion] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def reply_status(index: SubjectIndex, answered: Iterable[Answered]) -> list[DepartmentReplies]:
    """Per department (plan order), the opinions routed to it and those it has not answered."""
    by_dep: dict[str, DepartmentReplies] = {}
    for a in answered:
        for d in a.opinion.departments:
            entry = by_dep.setdefault(d, DepartmentReplies(d))
            entry.routed.append(a.opinion)
            if d in a.missing:
                entry.missing.append(a.opinion)
    return sorted(by_dep.values(), key=lambda e: index.dept_order(e.department))


def opinion_label(index: SubjectIndex, o: Opinion) -> str:
    info = index.info(o.subject)
    return info.label if info else o.subject.code
