"""The evaluation as one accessible, self-contained web page (inline CSS, no scripts).

:func:`page_view` turns the evaluation into what the page shows — every cell with the ids of the header
cells that describe it, so that a screen reader announces a text with its project and department even
where the 施策 and project cells span several rows. :func:`render_html` fills the Jinja2 template
``publish.html`` (the packaged one, or the workspace's own copy in ``templates/``) with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hyoka.problems import HyokaError
from hyoka.publish.sheet import Section, ordered_summaries
from hyoka.report.model import NO_RATING, NOT_SUBMITTED, ChangeKind, Evaluation, PolicyBlock

TEMPLATE = "publish.html"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("measure", "施策"),
    ("project", "個別事業・取り組み"),
    ("dept", "担当課"),
    ("ach", "事業実績・評価理由"),
    ("prior", "前年度\u200b事業評価"),  # a zero-width space: where the narrow heading may break
    ("rating", "事業評価"),
    ("outlook", "今後の事業計画・展望"),
)
DIRECTION_WORDS: dict[ChangeKind, str] = {
    "up": "上がった",
    "down": "下がった",
    "same": "変わらない",
    "changed": "変更",  # last year rated by another scale: not ranked
}


@dataclass(frozen=True)
class HeaderCell:
    id: str
    text: str
    rowspan: int
    headers: str


@dataclass(frozen=True)
class DataRow:
    measure: HeaderCell | None  # only on the first row of its 施策
    project: HeaderCell | None  # only on the first row of its project
    department: HeaderCell
    headers: str  # the ids a data cell of this row is described by, after its column's own
    achievement: tuple[str, ...]
    prior: str
    rating: str
    outlook: tuple[str, ...]
    missing: bool


@dataclass(frozen=True)
class Column:
    key: str
    id: str
    heading: str
    sub: str  # a second line of the heading (the fiscal year), '' for none

    @property
    def label(self) -> str:
        """The heading in one line: shown before each cell where the table is stacked (a phone)."""
        return f"{self.heading}（{self.sub}）" if self.sub else self.heading


@dataclass(frozen=True)
class TableView:
    id: str
    caption: str
    policy: str
    columns: tuple[Column, ...]
    rows: tuple[DataRow, ...]


@dataclass(frozen=True)
class GoalView:
    id: str
    heading: str
    tables: tuple[TableView, ...]


def page_view(ev: Evaluation) -> list[GoalView]:
    """The page's 基本目標 (h2), each with one table per 基本施策 (h3), in plan order; ids unique."""
    goals: list[tuple[str, list[TableView]]] = []
    for b, block in enumerate(ev.blocks, start=1):
        heading = f"基本目標{block.goal_no}　{block.goal}" if block.goal_no else block.goal
        if not goals or goals[-1][0] != heading:
            goals.append((heading, []))
        goals[-1][1].append(_table(f"t{b}", block, ev))
    return [GoalView(f"g{i}", heading, tuple(tables)) for i, (heading, tables) in enumerate(goals, start=1)]


def _table(tid: str, block: PolicyBlock, ev: Evaluation) -> TableView:
    col = {key: f"{tid}-c-{key}" for key, _ in COLUMNS}
    subs = {"prior": ev.prior_label, "rating": ev.year_label}
    names = dict(block.measures)
    span_of_measure: dict[str, int] = {}
    for project in block.projects:
        span_of_measure[project.measure_no] = span_of_measure.get(project.measure_no, 0) + len(project.rows)
    rows: list[DataRow] = []
    seen_measures: dict[str, str] = {}
    k = 0
    for j, project in enumerate(block.projects, start=1):
        measure_cell = None
        if project.measure_no not in seen_measures:
            mid = f"{tid}-m{len(seen_measures) + 1}"
            seen_measures[project.measure_no] = mid
            name = names.get(project.measure_no, "")
            measure_cell = HeaderCell(
                mid,
                f"({project.measure_no}) {name}".strip(),
                span_of_measure[project.measure_no],
                col["measure"],
            )
        mid = seen_measures[project.measure_no]
        pid = f"{tid}-p{j}"
        new = "【新規】" if project.is_new else ""
        for i, row in enumerate(project.rows):
            k += 1
            did = f"{tid}-d{k}"
            project_cell = (
                HeaderCell(
                    pid, f"{project.heading}{new}{project.name}", len(project.rows), f"{col['project']} {mid}"
                )
                if i == 0
                else None
            )
            missing = bool(row.missing) and ev.draft
            rows.append(
                DataRow(
                    measure=measure_cell if i == 0 else None,
                    project=project_cell,
                    department=HeaderCell(did, row.key[1], 1, f"{col['dept']} {pid}"),
                    headers=f"{mid} {pid} {did}",
                    achievement=row.achievement,
                    prior=row.prior or NO_RATING,
                    rating=NOT_SUBMITTED if missing else (row.rating or NO_RATING),
                    outlook=row.outlook,
                    missing=missing,
                )
            )
    return TableView(
        id=tid,
        caption=block.policy,
        policy=block.policy,
        columns=tuple(Column(key, col[key], heading, subs.get(key, "")) for key, heading in COLUMNS),
        rows=tuple(rows),
    )


def render_html(ev: Evaluation, folders: Sequence[Path], sections: Sequence[Section] = ()) -> str:
    """The page's HTML; a broken workspace template stops with its name and line. ``sections``: the
    levels and tables of a workspace's own sheet (:func:`hyoka.publish.sheet.sheet_sections`)."""
    import jinja2

    from hyoka.report.templates import find_template

    path = find_template(TEMPLATE, folders)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        template = env.get_template(path.name)
        return template.render(
            ev=ev,
            goals=page_view(ev) if ev.sheet is None else [],
            sections=list(sections),
            sheet_summaries=ordered_summaries(ev.sheet) if ev.sheet is not None else [],
            direction_words=DIRECTION_WORDS,
            no_rating=NO_RATING,
        )
    except jinja2.TemplateSyntaxError as exc:
        raise HyokaError(
            f"ひな形 {path} の {exc.lineno}行目に誤りがあります（{exc.message}）。"
            "タグ（{{ … }} や {% … %}）を確認してください。"
        ) from None
    except jinja2.UndefinedError as exc:
        raise HyokaError(
            f"ひな形 {path} で使えない名前が使われています（{exc.message}）。templates/README.md の一覧を確認してください。"
        ) from None
