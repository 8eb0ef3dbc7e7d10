"""資料1 — the evaluation table — rendered on top of ``templates/evaluation_base.docx``.

The cover, the header (「資料1」, 「案」) and the footer come from the template through docxtpl, so a
clerk can change their wording in Word. The summary page and one table per 基本施策 are built here as
raw table XML and put where the template says ``{{ tables }}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn

from hyoka.files import atomic_write
from hyoka.problems import HyokaError
from hyoka.report.model import (
    NO_RATING,
    NOT_SUBMITTED,
    Evaluation,
    PolicyBlock,
    ProjectView,
    RowView,
    Summary,
    department_lines,
)
from hyoka.report.ooxml import Cell, Element, Para, Row, TableSpec, paragraph, table, tiny_paragraph
from hyoka.report.templates import TABLES_MARKER, apply_fonts, render_docxtpl


@dataclass(frozen=True)
class Styles:
    """Style names in the template (what a clerk sees in Word's style list)."""

    cover_title: str = "表紙 表題"
    cover_subtitle: str = "表紙 副題"
    cover_date: str = "表紙 日付"
    cover_secretariat: str = "表紙 事務局"
    legend_heading: str = "評価基準 見出し"
    legend: str = "評価基準"
    note: str = "評価基準 注記"
    heading: str = "見出し 集計"
    heading2: str = "見出し 集計2"
    explain: str = "集計 説明"
    table_text: str = "表 本文"
    prose: str = "表 文章"
    table_center: str = "表 中央"
    table_head: str = "表 列見出し"
    block_label: str = "表 区分"
    block_text: str = "表 区分名"
    project: str = "表 事業"
    rating: str = "表 評価"
    header_right: str = "ヘッダー 右"
    page_number: str = "ページ番号"
    material_label: str = "資料番号"
    draft_mark: str = "案"
    new_mark: str = "新規"
    missing_mark: str = "未提出"


STYLES = Styles()
BODY_STYLES = (
    STYLES.heading,
    STYLES.heading2,
    STYLES.explain,
    STYLES.table_text,
    STYLES.prose,
    STYLES.table_center,
    STYLES.table_head,
    STYLES.block_label,
    STYLES.block_text,
    STYLES.project,
    STYLES.rating,
    STYLES.new_mark,
    STYLES.missing_mark,
)

# Column widths in mm for A4 landscape with 15 mm side margins (267 mm); scaled to the template's
# text width when a clerk changes the margins. 担当課 fits 「(社会福祉協議会)」 on one line at 10 pt.
# The project column is two grid columns so that the block's label cells (基本目標, 基本施策,
# 施策(n)) can be narrower than it.
GRID = (11.0, 13.0, 30.0, 31.0, 78.0, 13.0, 13.0, 78.0)
CHAR_MM = 10 * 25.4 / 72  # one full-width character at the 10 pt of 「表 文章」
PROSE_LINE_SPACING = 1.15  # the narrative cells' line spacing, set in the template's 「表 文章」 style
LINE_MM = CHAR_MM * 1.35 * PROSE_LINE_SPACING  # BIZ UD fonts set single lines at about 1.3 em
LABEL_FILL = "E7E6E6"
HEAD_FILL = "D9D9D9"
TOTAL_FILL = "F2F2F2"
ARROWS = {"up": "↑ 上昇", "down": "↓ 低下", "same": ""}


def cover_context(ev: Evaluation) -> dict[str, Any]:
    """Names the template may use (also listed in the message for a misspelt one)."""
    return {
        "title": ev.title,
        "subtitle": ev.subtitle,
        "date": ev.date_text,
        "secretariat": ev.secretariat,
        "levels": [{"code": c, "description": d} for c, d in ev.legend],
        "note": list(ev.note),
        "year": ev.year_label,
        "prior_year": ev.prior_label,
        "material_label": ev.material_label or "",
        "draft_mark": "案" if ev.draft else "",
        "gap": "　" if ev.draft and ev.material_label else "",
        "tables": TABLES_MARKER,
    }


def render_evaluation(
    ev: Evaluation, template: Path, out: Path, *, mincho: str, gothic: str
) -> tuple[Path, Any]:
    """Write 資料1 to ``out`` (atomically); returns the path and the python-docx Document."""
    tpl = render_docxtpl(template, cover_context(ev))
    doc = tpl.docx
    apply_fonts(doc, mincho, gothic)
    ids = style_ids(doc, template, BODY_STYLES)
    width = text_width_mm(doc)
    elements = [*summary_elements(ev, ids, width), *table_elements(ev, ids, width)]
    _put_at_marker(doc, elements)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = ev.title, ev.secretariat, "hyoka"
    props.subject = f"{ev.year_label}実績報告"
    return atomic_write(out, lambda tmp: tpl.save(str(tmp))), doc


def text_width_mm(doc: Any) -> float:
    """Width between the margins of the template's last section (where the tables go)."""
    section = doc.sections[-1]
    return float((section.page_width - section.left_margin - section.right_margin) / 36000)


def _scaled(widths: tuple[float, ...], width: float) -> tuple[float, ...]:
    factor = width / sum(widths)
    return tuple(w * factor for w in widths)


def style_ids(doc: Any, template: Path, names: tuple[str, ...]) -> dict[str, str]:
    """Style name → id; a style missing from an edited template is named in the message."""
    ids = {}
    by_name = {s.name: s for s in doc.styles}
    for name in names:
        style = by_name.get(name)
        if style is None:
            raise HyokaError(
                f"テンプレート {template} にスタイル「{name}」がありません。"
                "Wordでスタイル名を変更・削除した場合は元に戻すか、templates フォルダのこのファイルを削除して"
                "標準のテンプレートを使ってください。"
            )
        ids[name] = style.style_id
    return ids


def _put_at_marker(doc: Any, elements: list[Element]) -> None:
    body = doc.element.body
    marker = next(
        (
            p
            for p in body.iter(qn("w:p"))
            if "".join(t.text or "" for t in p.iter(qn("w:t"))).strip() == TABLES_MARKER
        ),
        None,
    )
    if marker is None:
        # A clerk removed {{ tables }}: the tables still go in, after everything else.
        anchor = body.find(qn("w:sectPr"))
        for node in elements:
            anchor.addprevious(node)
        return
    for node in elements:
        marker.addprevious(node)
    marker.getparent().remove(marker)


# --- the summary page --------------------------------------------------------------------------------


def summary_elements(ev: Evaluation, ids: dict[str, str], width: float) -> list[Element]:
    s, summary = STYLES, ev.summary
    out = [
        paragraph(Para.of("事業評価の集計", s.heading, page_break_before=True), ids),
        paragraph(
            Para.of(
                f"基本目標ごとの事業評価の件数です（担当課ごとの行数。各評価の左が{ev.year_label}、右が{ev.prior_label}）。",
                s.explain,
            ),
            ids,
        ),
        table(_count_table(ev, summary, width), ids),
    ]
    ups = sum(1 for c in summary.changes if c.direction == "up")
    downs = sum(1 for c in summary.changes if c.direction == "down")
    out.append(
        paragraph(
            Para.of(
                f"{ev.prior_label}から評価が変わった事業（{len(summary.changes)}件：上昇 {ups}件、低下 {downs}件）",
                s.heading2,
            ),
            ids,
        )
    )
    if summary.changes:
        out.append(table(_changes_table(ev, summary, width), ids))
    else:
        out.append(
            paragraph(Para.of(f"{ev.prior_label}から評価が変わった事業はありません。", s.explain), ids)
        )
    return out


def _count_table(ev: Evaluation, summary: Summary, width: float) -> TableSpec:
    s = STYLES
    columns = (*summary.columns, "計")
    goal_width = min(62.0, width * 0.25)
    count_width = min(22.0, (width - goal_width) / (2 * len(columns)))
    spec = TableSpec(widths_mm=(goal_width, *([count_width] * (2 * len(columns)))))

    def head(text: str) -> Cell:
        return Cell(tuple(Para.of(t, s.table_head) for t in text.split("\n")), fill=HEAD_FILL)

    top = [Cell((Para.of("基本目標", s.table_head),), vmerge="restart", fill=HEAD_FILL)]
    for code in columns:
        text = f"{NO_RATING}（評価なし）" if code == NO_RATING else code
        top.append(Cell((Para.of(text, s.table_head),), span=2, fill=HEAD_FILL))
    second = [Cell(vmerge="continue", fill=HEAD_FILL)]
    for _ in columns:
        second += [head(ev.year_label), head(ev.prior_label)]
    spec.rows.append(Row(tuple(top), header=True))
    spec.rows.append(Row(tuple(second), header=True))
    for goal in (*summary.goals, summary.total):
        is_total = goal.goal_no == ""
        fill = TOTAL_FILL if is_total else None
        name = goal.goal if is_total else f"{goal.goal_no}　{goal.goal}"
        cells = [Cell((Para.of(name, s.block_text if is_total else s.table_text),), fill=fill)]
        for code in columns:
            for counts in (goal.this_year, goal.prior_year):
                n = sum(counts.values()) if code == "計" else counts.get(code, 0)
                cells.append(Cell((Para.of(str(n), s.table_center),), fill=fill))
        spec.rows.append(Row(tuple(cells), height_mm=8))
    return spec


def _changes_table(ev: Evaluation, summary: Summary, width: float) -> TableSpec:
    s = STYLES
    spec = TableSpec(widths_mm=_scaled((18.0, 110.0, 52.0, 22.0, 22.0, 24.0), min(width, 248.0)))
    heads = ("基本目標", "事業", "担当課", ev.prior_label, ev.year_label, "変化")
    spec.rows.append(
        Row(tuple(Cell((Para.of(h, s.table_head),), fill=HEAD_FILL) for h in heads), header=True)
    )
    for c in summary.changes:
        spec.rows.append(
            Row(
                (
                    Cell((Para.of(c.goal_no, s.table_center),)),
                    Cell((Para.of(c.project, s.table_text),)),
                    Cell(tuple(Para.of(d, s.table_text) for d in department_lines(c.department))),
                    Cell((Para.of(c.before, s.rating),)),
                    Cell((Para.of(c.after, s.rating),)),
                    Cell((Para.of(ARROWS[c.direction], s.table_center),)),
                )
            )
        )
    return spec


# --- one table per 基本施策 --------------------------------------------------------------------------


def table_elements(ev: Evaluation, ids: dict[str, str], width: float) -> list[Element]:
    out: list[Element] = []
    grid = _scaled(GRID, width)
    for block in ev.blocks:
        # Each 基本施策 starts on a new page; the 1 pt paragraph carries the break (a table cannot).
        out.append(tiny_paragraph(page_break_before=True))
        out.append(table(block_table(ev, block, grid), ids))
    out.append(tiny_paragraph())
    return out


def block_table(ev: Evaluation, block: PolicyBlock, grid: tuple[float, ...] = GRID) -> TableSpec:
    s = STYLES
    spec = TableSpec(widths_mm=grid)
    labels = [("基本目標", f"{block.goal_no}　{block.goal}"), ("基本施策", block.policy)]
    labels += [(f"施策({no})", name) for no, name in block.measures]
    # The block and the column heads are the table's leading rows, marked tblHeader, so that Word
    # and LibreOffice repeat them at the top of every page this 基本施策 runs over.
    for label, value in labels:
        spec.rows.append(
            Row(
                (
                    Cell((Para.of(label, s.block_label),), span=2, fill=LABEL_FILL, borders="all"),
                    Cell((Para.of(value, s.block_text),), span=3, borders="all"),
                    Cell(span=3, borders="none"),
                ),
                header=True,
                height_mm=6.5,
            )
        )
    spec.rows.append(Row((Cell(span=8, borders="none"),), header=True, height_mm=2.5, exact_height=True))

    def head(*lines: str, span: int = 1) -> Cell:
        return Cell(tuple(Para.of(t, s.table_head) for t in lines), span=span, fill=HEAD_FILL, borders="all")

    spec.rows.append(
        Row(
            (
                head("施策"),
                head("【個別事業・取り組み】", span=2),
                head("担当課"),
                head("事業実績・評価理由", f"({ev.year_label})"),
                head("前年度", "事業", "評価"),
                head("事業", "評価"),
                head("今後の事業計画・展望"),
            ),
            header=True,
        )
    )
    # Rows that could be taller than the room under the repeated heads may break across pages:
    # Word cuts off the end of a row that must not split but does not fit on one page.
    page_lines = _lines_per_page(len(labels))
    text_chars = int((min(grid[4], grid[7]) - 2.4) / CHAR_MM)  # less the cell margins
    for project in block.projects:
        spec.rows.extend(_project_rows(ev, project, text_chars, page_lines))
    return spec


def _lines_per_page(block_rows: int) -> int:
    """Text lines that fit under the repeated heads on an A4 landscape page (with some margin)."""
    room = 210.0 - 29.0 - block_rows * 7.0 - 2.5 - 14.0
    return int(room / LINE_MM) - 2


def _line_count(texts: tuple[str, ...], chars_per_line: int) -> int:
    return sum(-(-len(t) // max(chars_per_line, 1)) for t in texts)


def _project_rows(
    ev: Evaluation, project: ProjectView, text_chars: int = 21, page_lines: int = 24
) -> list[Row]:
    s = STYLES
    rows = []
    n = len(project.rows)
    project_paras = [Para.of(project.heading, s.project)]
    if project.is_new:
        project_paras.append(Para((("【新規】", s.new_mark),), s.project))
    project_paras.append(Para.of(project.name, s.project))
    for i, row in enumerate(project.rows):
        merge = None if n == 1 else ("restart" if i == 0 else "continue")
        first = i == 0
        cells = (
            Cell((Para.of(f"({project.measure_no})", s.table_center),) if first else (), vmerge=merge),
            Cell(tuple(project_paras) if first else (), span=2, vmerge=merge, valign="top"),
            Cell(tuple(Para.of(d, s.table_text) for d in row.departments)),
            Cell(_text_paras(ev, row, row.achievement), valign="top"),
            Cell((Para.of(row.prior or NO_RATING, s.rating),)),
            Cell((_rating_para(ev, row),)),
            Cell(_text_paras(ev, row, row.outlook, note_missing=False), valign="top"),
        )
        lines = max(_line_count(row.achievement, text_chars), _line_count(row.outlook, text_chars))
        # keep-with-next on all but the last row keeps a project's rows on one page where they fit,
        # so that the merged project cell (whose text shows only on its first page) stays readable.
        rows.append(Row(cells, keep_next=i < n - 1, cant_split=lines <= page_lines))
    return rows


def _rating_para(ev: Evaluation, row: RowView) -> Para:
    if row.rating:
        return Para.of(row.rating, STYLES.rating)
    return Para(((NOT_SUBMITTED, STYLES.missing_mark),), STYLES.table_center)


def _text_paras(
    ev: Evaluation, row: RowView, texts: tuple[str, ...], *, note_missing: bool = True
) -> tuple[Para, ...]:
    s = STYLES
    paras = [Para.of(t, s.prose) for t in texts]
    if row.missing and ev.draft and note_missing:
        if texts:
            who = "・".join(row.missing)
            paras.append(Para(((f"（{who} {NOT_SUBMITTED}）", s.missing_mark),), s.prose))
        else:
            paras.append(Para(((NOT_SUBMITTED, s.missing_mark),), s.prose))
    return tuple(paras)
