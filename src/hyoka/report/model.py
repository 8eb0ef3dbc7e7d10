"""What the evaluation table (資料1) says, as plain data — no Word, no I/O.

:func:`build_evaluation` joins the plan, this year's results, last year's ratings, the scale and the
wording from the config into an :class:`Evaluation`; the renderer only lays it out. Every string that
reaches a document passes :func:`hyoka.text.clean_text` here, once.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from hyoka.opinions import GOAL, PROJECT, WHOLE, Answered, SubjectIndex
from hyoka.plan import Plan, PlanRow, Project, RowKey, plan_row_values
from hyoka.problems import Severity, problem
from hyoka.results import RowResult, department_values, rating_scale, scale_change
from hyoka.scale import RatingScale
from hyoka.sheet import (
    NO_VALUE,
    ColumnSummary,
    NumberType,
    RatingType,
    SheetDefinition,
    compute,
    format_value,
    proposals,
    summarize,
)
from hyoka.sheet import Column as SheetColumn
from hyoka.text import circled, clean_text, normalize_code, paragraphs, split_departments
from hyoka.versions import PRIOR_SEPARATOR, Lineage
from hyoka.workspace import Config, Meeting
from hyoka.years import FiscalYear, format_month

NO_RATING = "—"
"""Shown where a row has no rating: a new project last year, or a department not yet in (draft)."""
NOT_SUBMITTED = "未提出"
PROPOSAL_NOTE = "提案{code}"
"""Under a rating that differs from its proposal (``提案C``): what the numbers proposed (short enough
for the rating column's width on one line)."""
UNENTERED = "未入力"
SCALE_DIFFERS_COUNTED = "件数は各年度の評価基準の記号で数えています。"
SCALE_DIFFERS_CHANGES = "上がった・下がったは判定せず、評価が変わった事業は「変更」としています。"
SCALE_DIFFERS_MEANING = "同じ記号でも意味が同じとは限りません。"

ChangeKind = Literal["up", "down", "same", "changed"]
"""How a rating moved from last year: by the scale's order, or ``changed`` where last year rated by
another scale (its codes are not ranked against this year's)."""
"""After a secretariat column's title in a draft where the secretariat has not entered it (二次評価 未入力)."""


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
class OpinionView:
    """An opinion of an earlier meeting, shown in 資料1 with the city's reply ([report] opinions)."""

    meeting: str  # 令和6年度第1回
    subject: str  # what it was given about, as labelled then (基本施策 …, ①【事業No.37】…)
    member: str
    text: tuple[str, ...]  # paragraphs
    reply: tuple[str, ...]  # the replies combined in plan order (【課】 before each of a joint answer)
    answered: bool  # every department routed to has replied


@dataclass(frozen=True)
class ProjectView:
    mark: str  # ①
    no: str
    name: str
    is_new: bool
    measure_no: str
    rows: tuple[RowView, ...]
    opinions: tuple[OpinionView, ...] = ()  # the earlier meeting's opinions on it (its predecessors)

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
    opinions: tuple[OpinionView, ...] = ()  # the earlier meeting's opinions on its 基本目標, itself, its 施策


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
    direction: ChangeKind


@dataclass(frozen=True)
class Summary:
    goals: tuple[GoalCount, ...]
    columns: tuple[str, ...]  # scale codes, then NO_RATING when some row has none
    changes: tuple[Change, ...]
    ranked: bool = True  # False: last year rated by another scale, every change is ``changed``

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


def draft_notice(missing: Sequence[MissingRow]) -> str:
    """What a draft made with rows still missing tells the clerk (report and publish alike)."""
    differing = sum(r.disagreeing for r in missing)
    counts = "、".join(
        f"{what}の行が {n} 行"
        for what, n in (("未提出", len(missing) - differing), ("不一致", differing))
        if n
    )
    return f"「案」として作成しました。{counts}あります。"


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
    sheet: SheetView | None = None  # a workspace with its own [sheet]: its columns (else Koganei's table)
    legend_heading: str = "【事業評価の評価基準】"  # the cover's, above ``legend``
    # [report] opinions: "none", "under_row" or "column"; the opinions sit on the projects and blocks.
    opinions_layout: str = "none"
    opinions_label: str = ""  # 令和6年度第1回 (the meetings whose opinions are shown and counted)
    # [report] opinion_counts: per 基本目標 of the summary (goal no → opinions), and the total.
    opinion_counts: OpinionCounts | None = None
    # Last year's plan version rated by another scale: said once on the summary page
    # (diff-scale-differs), and that scale's levels (code, description), best first; else empty.
    scale_notice: str = ""
    prior_legend: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OpinionCounts:
    """The earlier meetings' opinions per 基本目標 (an opinion on a level or project under it counts
    there); ``total`` also counts those on the whole evaluation and on rows the plan no longer has."""

    by_goal: Mapping[str, int]
    total: int
    whole: int


# --- a workspace's own sheet ([sheet] in hyoka.toml) -----------------------------------------------------


@dataclass(frozen=True)
class ColumnView:
    key: str
    heading: tuple[str, ...]  # lines
    width: float  # mm, before scaling to the page
    align: str  # left | center | right
    prose: bool = False  # a narrative text: paragraphs, as today's 事業実績


@dataclass(frozen=True)
class SheetRowView:
    key: RowKey
    cells: tuple[tuple[str, ...], ...]  # per column: its lines (paragraphs)
    missing: tuple[str, ...]
    # Every column's typed value by key (plan, typed, previous, computed): what the open data exports.
    values: Mapping[str, object] = field(default_factory=dict, compare=False)
    opinions: tuple[OpinionView, ...] = ()  # on a project's last row: the earlier opinions on the project
    # The second stage's required columns (secretariat, committee) still blank, (key, mark): a draft
    # shows 「二次評価 未入力」 there.
    unentered: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SheetBlock:
    """The rows under one group of the outer levels (every level but the innermost)."""

    labels: tuple[tuple[str, str], ...]  # (level name, its number and name)
    rows: tuple[SheetRowView, ...]
    opinions: tuple[OpinionView, ...] = ()  # the earlier opinions on its levels, before its rows


@dataclass(frozen=True)
class LegendView:
    heading: str  # 【評価の基準（自己評価）】
    levels: tuple[tuple[str, str], ...]
    note: tuple[str, ...]


@dataclass(frozen=True)
class SummaryTable:
    """One summary column over the summary level's groups: counts per code, or a mean."""

    heading: str
    codes: tuple[str, ...]  # empty for a mean
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (group label, cells in order of codes, then 計)
    # Last year's cells per group (same order), for the first rating column, whose prior the store holds.
    prior: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class SheetView:
    columns: tuple[ColumnView, ...]
    blocks: tuple[SheetBlock, ...]
    legends: tuple[LegendView, ...]
    summaries: tuple[SummaryTable, ...]
    summary_level: str
    # [report] opinion_counts: per group of the summary level (label, opinions), in plan order.
    opinion_groups: tuple[tuple[str, int], ...] = ()
    # Rows a final table cannot show yet for the secretariat's input: (事業No, 担当課, column title), for
    # each secretariat column that is required (an error); a ``required = "warning"`` column is only
    # marked in a draft.
    unentered: tuple[tuple[str, str, str], ...] = ()


def build_sheet_view(
    definition: SheetDefinition,
    plan: Plan,
    year: FiscalYear,
    results: Mapping[RowKey, RowResult],
    prior: Mapping[RowKey, RowResult],
    gannen: bool,
    placed: PlacedOpinions | None = None,
    show_opinions: bool = False,
    prior_scale: RatingScale | None = None,
) -> SheetView:
    """資料1's table, legend and summary as the sheet defines them; with ``placed`` (the earlier
    meetings' opinions) a project's under its last row and a level's atop the block of its first row
    where ``show_opinions``, and their counts per summary group. ``prior_scale``: the scale last
    year's ratings were given in where it differs from this year's (each year counted by its own)."""
    shown = [c for c in definition.columns if c.report]
    columns = tuple(
        ColumnView(
            c.key,
            tuple(c.heading_for(year, gannen=gannen, report=True).split("\n")),
            c.width,
            "right" if c.kind == "number" else "center" if c.kind in ("rating", "choice") else "left",
            prose=c.kind == "text" and c.is_input,
        )
        for c in shown
    )
    prior_of = definition.default_diff_column
    groups: dict[tuple[tuple[str, str], ...], list[SheetRowView]] = {}
    labels_of: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
    level_index = next(
        (i for i, lv in enumerate(definition.levels) if lv.name == definition.summary_level), 0
    )
    summary_rows: dict[tuple[str, str], list[dict[str, object]]] = {}
    prior_rows: dict[tuple[str, str], list[dict[str, object]]] = {}
    last_of_project = {r.project_no: r.key for r in plan.rows}
    block_of: dict[RowKey, tuple[tuple[str, str], ...]] = {}
    group_of: dict[RowKey, tuple[str, str]] = {}
    second_stage = [c for c in definition.of_source("secretariat", "committee") if c.required is not None]
    unentered: list[tuple[str, str, str]] = []
    for row in plan.rows:
        res = results.get(row.key)
        values = plan_row_values(definition, row, year)
        values.update(department_values(definition, res))
        if res is not None:
            values.update(res.secretariat)  # the second stage (its keys are never the departments')
        before = prior.get(row.key)
        earlier = department_values(definition, before) if before is not None and before.parts_values else {}
        for c in definition.of_source("previous"):
            if (
                c.previous_of is not None and c.previous_of in earlier
            ):  # last year's typed value (前年度実績値)
                values[c.key] = earlier[c.previous_of]
            elif c.previous_of is not None and c.previous_of == prior_of and before is not None:
                values[c.key] = before.rating
        computed = compute(definition, values)
        for key, result in computed.items():
            values[key] = result.value
        # On the row as shown: a joint row's proposal is that of its summed 実績値.
        proposed = proposals(definition, values, computed)
        cells = []
        for c in shown:
            t = c.type
            unit = None
            if isinstance(t, NumberType) and t.unit_column:
                unit = clean_text(values.get(t.unit_column) or "").strip()
            text = format_value(c, values.get(c.key), unit=unit)
            if c.key == "department":
                cells.append(department_lines(row.department))
            elif c.kind == "text" and c.is_input:
                cells.append(narrative(text))
            elif text and c.key in proposed and proposed[c.key] not in (None, text):
                # A rating other than its proposal (a reason was given): the committee sees both.
                cells.append((text, PROPOSAL_NOTE.format(code=proposed[c.key])))
            else:
                cells.append((text,) if text else ())
        outer = row.path[:-1] if len(row.path) > 1 else ()
        group = groups.setdefault(outer, [])
        labels_of.setdefault(
            outer,
            tuple(
                (
                    lv.name,
                    f"{lv.label(no, [n for n, _ in outer[:i] if n])}　{name}".strip("　"),
                )
                for i, (lv, (no, name)) in enumerate(zip(definition.levels, outer, strict=False))
            ),
        )
        missing = row.submitters if res is None else res.missing
        ops: tuple[OpinionView, ...] = ()
        if placed is not None and show_opinions and last_of_project.get(row.project_no) == row.key:
            ops = tuple(placed.projects.get(row.project_no, ()))
        blank = [c for c in second_stage if _blank_value(values.get(c.key))]
        unentered.extend(
            (row.project_no, row.department, c.title) for c in blank if c.required is Severity.ERROR
        )
        marks = tuple((c.key, f"{c.title} {UNENTERED}") for c in blank)
        group.append(SheetRowView(row.key, tuple(cells), tuple(missing), dict(values), ops, marks))
        block_of[row.key] = outer
        if row.path:
            no, name = row.path[min(level_index, len(row.path) - 1)]
            lv = definition.levels[min(level_index, len(definition.levels) - 1)]
            summary_rows.setdefault((lv.label(no), name), []).append(values)
            group_of[row.key] = (lv.label(no), name)
            last: dict[str, object] = {}
            if prior_of and before is not None and before.rating:
                last[prior_of] = before.rating
            prior_rows.setdefault((lv.label(no), name), []).append(last)
    on_block: dict[tuple[tuple[str, str], ...], list[OpinionView]] = {}
    if placed is not None and show_opinions:
        for first_row, view in placed.levels:
            if first_row in block_of:
                on_block.setdefault(block_of[first_row], []).append(view)
    blocks = tuple(SheetBlock(labels_of[k], tuple(v), tuple(on_block.get(k, ()))) for k, v in groups.items())
    opinion_groups: tuple[tuple[str, int], ...] = ()
    if placed is not None:
        per_group = {g: 0 for g in summary_rows}
        for anchor in placed.anchors:
            if anchor in group_of:
                per_group[group_of[anchor]] += 1
        opinion_groups = tuple((f"{no}　{name}".strip("　"), n) for (no, name), n in per_group.items())
    legends = tuple(
        LegendView(
            f"【評価の基準（{c.title}）】",
            tuple((clean_text(r.code), clean_text(r.description)) for r in scale.levels),
            tuple(paragraphs(scale.note)),
        )
        for c, scale in definition.legend_scales
    )
    return SheetView(
        columns,
        blocks,
        legends,
        _sheet_summaries(definition, summary_rows, prior_rows, prior_of, prior_scale),
        definition.summary_level,
        opinion_groups,
        tuple(unentered),
    )


def _blank_value(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet_summaries(
    definition: SheetDefinition,
    groups: Mapping[tuple[str, str], list[dict[str, object]]],
    prior_groups: Mapping[tuple[str, str], list[dict[str, object]]] | None = None,
    prior_of: str | None = None,
    prior_scale: RatingScale | None = None,
) -> tuple[SummaryTable, ...]:
    per_group = {g: summarize(definition, rows) for g, rows in groups.items()}
    everything = summarize(definition, [r for rows in groups.values() for r in rows])
    prior_groups = prior_groups or {}
    last_year = definition
    if prior_scale is not None and prior_of is not None:
        # Last year's ratings counted under last year's codes: this year's codes first, then the
        # codes only last year had (as diff's 評価ごとの行数).
        t = definition.column(prior_of).type
        assert isinstance(t, RatingType)
        last_year = dataclasses.replace(definition, scales={**definition.scales, t.scale: prior_scale})
    last_group = {g: summarize(last_year, rows) for g, rows in prior_groups.items()}
    last_total = summarize(last_year, [r for rows in prior_groups.values() for r in rows])
    out = []
    for c in definition.columns:
        if not c.summary or c.key not in everything:
            continue
        total = everything[c.key]
        if c.kind == "number":
            rows = [
                (f"{no}　{name}".strip("　"), _mean_cells(c, per_group[(no, name)][c.key]))
                for no, name in groups
            ]
            rows.append(("合計", _mean_cells(c, total)))
            out.append(SummaryTable(c.title, (), tuple(rows)))
            continue
        with_prior = c.key == prior_of and c.key in last_total and last_total[c.key].rated > 0
        codes = tuple(dict.fromkeys([*total.counts, *(last_total[c.key].counts if with_prior else ())]))
        if NO_VALUE in codes:  # rows without a value last
            codes = (*(k for k in codes if k != NO_VALUE), NO_VALUE)
        table = []
        for (no, name), summary in ((g, per_group[g][c.key]) for g in groups):
            cells = (*(str(summary.counts.get(k, 0)) for k in codes), str(summary.rows))
            table.append((f"{no}　{name}".strip("　"), cells))
        table.append(("合計", (*(str(total.counts.get(k, 0)) for k in codes), str(total.rows))))
        prior: list[tuple[str, ...]] = []
        if with_prior:
            for s in [*(last_group[g][c.key] for g in groups), last_total[c.key]]:
                prior.append((*(str(s.counts.get(k, 0)) for k in codes), str(s.rows)))
        heads = tuple(NOT_SUBMITTED if k == NO_VALUE else k for k in codes)
        out.append(SummaryTable(c.title, heads, tuple(table), tuple(prior)))
    return tuple(out)


def _mean_cells(column: SheetColumn, summary: ColumnSummary) -> tuple[str, ...]:
    shown = format_value(column, summary.mean) if summary.mean is not None else NO_RATING
    return (shown, f"{summary.rated}/{summary.rows}")


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


# --- the opinions of an earlier meeting, on the rows they descend to ---------------------------------


@dataclass(frozen=True)
class EarlierOpinions:
    """One earlier meeting's opinions, as 資料1 needs them: what they were about in the plan version
    that meeting reported on, and which rows of the report's year descend from those rows."""

    label: str  # 令和6年度第1回
    index: SubjectIndex  # the subjects of the plan version the meeting reported on
    answered: Sequence[Answered]  # in plan order, with the replies
    descendants: Mapping[RowKey, tuple[RowKey, ...]]  # that version's row → the report year's rows


def descendants(lineage: Lineage, year: FiscalYear, earlier: FiscalYear) -> dict[RowKey, tuple[RowKey, ...]]:
    """Every row of ``earlier``'s version → the rows of ``year``'s version that descend from it
    (renamed, renumbered, merged or split: the lineage the 前年度 column follows)."""
    old, new = lineage.version_for(earlier).by_id, lineage.version_for(year).by_id
    out: dict[RowKey, list[RowKey]] = {}
    for rid, preds in lineage.links(year, earlier).items():
        for p in preds:
            if p in old:
                out.setdefault(old[p].row.key, []).append(new[rid].row.key)
    return {k: tuple(v) for k, v in out.items()}


@dataclass
class PlacedOpinions:
    """The earlier opinions where 資料1 prints them (:func:`place_opinions`), and their counts."""

    projects: dict[str, list[OpinionView]]
    policies: dict[str, list[OpinionView]]
    counts: OpinionCounts
    # For a workspace's own sheet, whose blocks are its outer levels: each level's opinion with the
    # first row it lies on now, and the first row of every counted opinion.
    levels: list[tuple[RowKey, OpinionView]]
    anchors: list[RowKey]


def place_opinions(plan: Plan, earlier: Sequence[EarlierOpinions]) -> PlacedOpinions:
    """Each earlier opinion on the rows of ``plan`` that descend from its subject: a project's on the
    projects (by 事業No) its rows became, a level's on the 基本施策 blocks holding them (a 基本目標's on
    the first of them only, so that it is printed once). Counted once in the 基本目標 where it lies
    now; on the whole evaluation, or on rows that ended, in the total only."""
    position = {r.key: i for i, r in enumerate(plan.rows)}
    by_key = {r.key: r for r in plan.rows}
    projects: dict[str, list[OpinionView]] = {}
    policies: dict[str, list[OpinionView]] = {}
    by_goal: dict[str, int] = {}
    levels: list[tuple[RowKey, OpinionView]] = []
    anchors: list[RowKey] = []
    total = whole = 0
    for meeting in earlier:
        for a in meeting.answered:
            o = a.opinion
            total += 1
            info = meeting.index.info(o.subject)
            if o.subject.kind == WHOLE or info is None:
                whole += o.subject.kind == WHOLE
                continue
            keys = {k for r in info.rows for k in meeting.descendants.get(r.key, ())}
            rows = sorted((by_key[k] for k in keys if k in by_key), key=lambda r: position[r.key])
            if not rows:
                continue
            by_goal[rows[0].goal_no] = by_goal.get(rows[0].goal_no, 0) + 1
            anchors.append(rows[0].key)
            reply = combined_reply(a)
            if a.missing:
                reply = (*reply, f"（{'・'.join(a.missing)} 未回答）")
            if o.subject.kind == PROJECT:
                for no in dict.fromkeys(r.project_no for r in rows):
                    # The subject is named only where the project had another number then.
                    same = normalize_code(no) == normalize_code(o.subject.key)
                    subject = "" if same else f"（当時の{clean_text(info.label)}）"
                    projects.setdefault(no, []).append(
                        _opinion_view(meeting.label, subject, o.member, o.text, reply, a)
                    )
                continue
            view = _opinion_view(meeting.label, clean_text(info.label), o.member, o.text, reply, a)
            levels.append((rows[0].key, view))
            names = list(dict.fromkeys(r.policy for r in rows))
            for name in names[:1] if o.subject.kind == GOAL else names:
                policies.setdefault(name, []).append(view)
    return PlacedOpinions(projects, policies, OpinionCounts(by_goal, total, whole), levels, anchors)


def combined_reply(a: Answered) -> tuple[str, ...]:
    """The replies as paragraphs, in plan order; departments that answered in the same words are
    named together once (【地域福祉課・健康課】), so that a level's joint answer stays short in 資料1."""
    if len(a.opinion.departments) <= 1:
        return narrative(a.text())
    by_text: dict[str, list[str]] = {}
    for r in a.replies:
        by_text.setdefault(clean_text(r.text).strip(), []).append(r.department)
    out: list[str] = []
    for text, who in by_text.items():
        out.append(f"【{'・'.join(clean_text(d) for d in who)}】")
        out.extend(narrative(text))
    return tuple(out)


def _opinion_view(
    label: str, subject: str, member: str, text: str, reply: tuple[str, ...], a: Answered
) -> OpinionView:
    return OpinionView(label, subject, clean_text(member).strip(), narrative(text), reply, a.complete)


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
    sheet: SheetDefinition | None = None,
    earlier_opinions: Sequence[EarlierOpinions] = (),
    prior_sheet: SheetDefinition | None = None,
) -> Evaluation:
    """Everything the 資料1 document shows, in plan order. ``period`` is the name of the plan version
    in force (第3期), printed with the plan's title when the version has one. ``sheet`` is the year's
    sheet definition (``Workspace.sheet_for``); None: hyoka.toml's. ``earlier_opinions``: the meetings
    whose opinions ``[report] opinions`` / ``opinion_counts`` show. ``prior_sheet`` is the year
    before's definition: where its first rating column's scale differs from this year's (other codes,
    or the same codes in another order), the summary counts each year under its own codes, marks no
    change 上昇/低下 (a changed code is 変更) and :attr:`Evaluation.scale_notice` says so once."""
    gannen = config.gannen
    definition = sheet if sheet is not None else config.sheet
    prior_scale = scale_change(prior_sheet, definition) if prior_sheet is not None else None
    layout = config.report_opinions
    placed = place_opinions(plan, earlier_opinions) if earlier_opinions else None
    shown = placed is not None and layout != "none"

    def on_project(no: str) -> tuple[OpinionView, ...]:
        return tuple(placed.projects.get(no, ())) if placed is not None and shown else ()

    blocks = tuple(
        PolicyBlock(
            goal_no=clean_text(policy.goal_no),
            goal=clean_text(policy.goal),
            policy=clean_text(policy.name),
            measures=tuple((clean_text(m.no), clean_text(m.name)) for m in policy.measures),
            projects=tuple(
                _project(p, m.no, results, prior, on_project(p.no))
                for m in policy.measures
                for p in m.projects
            ),
            opinions=tuple(placed.policies.get(policy.name, ())) if placed is not None and shown else (),
        )
        for policy in plan.policies()
    )
    day = meeting.day if meeting is not None else today
    own = "sheet" in definition.source
    legend_heading = "【事業評価の評価基準】"
    if own and definition.legend_scales:
        first, scale = definition.legend_scales[0]  # the cover's legend: the first scale (the rest follow)
        legend_heading = f"【評価の基準（{first.title}）】"
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
        summary=_summary(plan, scale, results, prior, prior_scale),
        missing=tuple(missing_rows(plan, results)),
        sheet=(
            build_sheet_view(definition, plan, year, results, prior, gannen, placed, shown, prior_scale)
            if own
            else None
        ),
        legend_heading=legend_heading,
        opinions_layout=layout if shown else "none",
        opinions_label="・".join(clean_text(e.label) for e in earlier_opinions),
        opinion_counts=placed.counts if placed is not None and config.report_opinion_counts else None,
        scale_notice=_scale_notice(definition, year, prior_scale, gannen, own),
        prior_legend=(
            tuple((clean_text(r.code), clean_text(r.description)) for r in prior_scale.levels)
            if prior_scale is not None
            else ()
        ),
    )


def _scale_notice(
    definition: SheetDefinition, year: FiscalYear, prior_scale: RatingScale | None, gannen: bool, own: bool
) -> str:
    """``diff-scale-differs`` in 資料1's words: the table of changes (Koganei's layout) marks 変更."""
    key = definition.default_diff_column
    scale = rating_scale(definition)
    if prior_scale is None or key is None or scale is None:
        return ""
    consequence = SCALE_DIFFERS_COUNTED + (SCALE_DIFFERS_MEANING if own else SCALE_DIFFERS_CHANGES)
    return clean_text(
        problem(
            "diff-scale-differs",
            column=definition.column(key).title,
            before=year.previous().label(gannen),
            after=year.label(gannen),
            before_codes="・".join(prior_scale.codes),
            after_codes="・".join(scale.codes),
            consequence=consequence,
        ).message
    )


def _project(
    project: Project,
    measure_no: str,
    results: Mapping[RowKey, RowResult],
    prior: Mapping[RowKey, RowResult],
    opinions: tuple[OpinionView, ...] = (),
) -> ProjectView:
    return ProjectView(
        mark=circled(project.index),
        no=clean_text(project.no),
        name=clean_text(project.name),
        is_new=project.is_new,
        measure_no=clean_text(measure_no),
        rows=tuple(_row(r, results.get(r.key), prior.get(r.key)) for r in project.rows),
        opinions=opinions,
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
    prior_scale: RatingScale | None = None,
) -> Summary:
    """Counts per 基本目標 and the changed ratings. ``prior_scale``: last year's, where it differs
    from ``scale``: each year counted under its own codes, a changed code ``changed``."""
    earlier = prior_scale or scale

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
                if now in scale.codes and before in earlier.codes and now != before:
                    changes.append(
                        Change(
                            goal_no=clean_text(goal.no),
                            project=clean_text(row.project_label),
                            department=clean_text(row.department),
                            before=before,
                            after=now,
                            direction="changed" if prior_scale else scale.direction(before, now),
                        )
                    )
        goals.append(GoalCount(clean_text(goal.no), clean_text(goal.name), this, last))
    # Then the codes only last year's scale had (all of them, as diff's counts), and unknown codes
    # before the "no rating" column, so that — always comes last.
    only_before = [c for c in earlier.codes if c not in scale.codes]
    others = sorted(c for c in extra if c != NO_RATING and c not in only_before)
    columns = (*scale.codes, *only_before, *others, *([NO_RATING] if NO_RATING in extra else []))
    return Summary(
        tuple(goals), tuple(clean_text(c) for c in columns), tuple(changes), ranked=prior_scale is None
    )
