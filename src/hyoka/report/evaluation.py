"""資料1 — the evaluation table — rendered on top of ``templates/evaluation_base.docx``.

The cover, the header (「資料1」, 「案」) and the footer come from the template through docxtpl, so a
clerk can change their wording in Word. The summary page and one table per 基本施策 are built here as
raw table XML and put where the template says ``{{ tables }}``.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn

from hyoka.problems import HyokaError
from hyoka.report.model import (
    NO_RATING,
    NOT_SUBMITTED,
    Evaluation,
    OpinionView,
    PolicyBlock,
    ProjectView,
    RowView,
    SheetBlock,
    SheetView,
    Summary,
    department_lines,
    indents,
)
from hyoka.report.ooxml import Cell, Element, Para, Row, TableSpec, paragraph, table, tiny_paragraph
from hyoka.report.templates import TABLES_MARKER, apply_fonts, document_title, render_docxtpl, save_docx
from hyoka.text import text_em


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
# With the earlier meeting's opinions as a column of their own ([report] opinions = "column"): the
# narrative columns give up what the opinion column takes.
GRID_OPINIONS = (11.0, 13.0, 26.0, 29.0, 62.0, 12.0, 12.0, 62.0, 40.0)
CHAR_MM = 10 * 25.4 / 72  # one full-width character at the 10 pt of 「表 文章」
PROSE_LINE_SPACING = 1.15  # the narrative cells' line spacing, set in the template's 「表 文章」 style
# BIZ UD明朝 sets a single line at 1.0 em (its ascent and descent fill the em square; measured in
# LibreOffice's PDF: 11.5 pt per line at 10 pt × 1.15); 4 % to spare for Word.
LINE_MM = CHAR_MM * 1.02 * PROSE_LINE_SPACING
BLOCK_ROW_MM = 6.6  # a row of the block above the table (基本目標, 基本施策, 施策(n)): 6.5 mm at least
HEAD_ROW_MM = 10.5  # the column heads (前年度/事業/評価 on three lines: 10.1 mm measured)
LABEL_FILL = "E7E6E6"
HEAD_FILL = "D9D9D9"
TOTAL_FILL = "F2F2F2"
ARROWS = {"up": "↑ 上昇", "down": "↓ 低下", "same": "", "changed": "変更"}
HEAD_PT = 9.0  # the size of 「表 列見出し」 in the standard template
COUNT_PAD_MM = 0.8  # the count table's cell margins, narrower than the others' to hold the year labels
GOAL_MIN_MM = 40.0  # the narrowest 基本目標 column of the count table


def cover_context(ev: Evaluation) -> dict[str, Any]:
    """Names the template may use (also listed in the message for a misspelt one)."""
    return {
        "title": ev.title,
        "subtitle": ev.subtitle,
        "date": ev.date_text,
        "secretariat": ev.secretariat,
        "legend_heading": ev.legend_heading,
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
    names = (
        BODY_STYLES if ev.sheet is None else (*BODY_STYLES, STYLES.legend_heading, STYLES.legend, STYLES.note)
    )
    ids = style_ids(doc, template, names)
    width = text_width_mm(doc)
    if ev.sheet is not None:
        elements = [
            *sheet_summary_elements(ev, ev.sheet, ids, width),
            *sheet_table_elements(ev, ev.sheet, ids, width),
        ]
    else:
        elements = [*summary_elements(ev, ids, width), *table_elements(ev, ids, width)]
    _put_at_marker(doc, elements)
    props = doc.core_properties
    props.title = document_title(ev.title, draft=ev.draft)
    props.author, props.last_modified_by = ev.secretariat, "hyoka"
    props.subject = f"{ev.year_label}実績報告"
    return save_docx(tpl, out), doc


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
                f"基本目標ごとの事業評価の件数です（担当課ごとの行数。各評価の左が{ev.prior_label}、右が{ev.year_label}）。",
                s.explain,
            ),
            ids,
        ),
    ]
    if ev.scale_notice:  # last year rated by another scale: said once, above the counts
        out.append(paragraph(Para.of(ev.scale_notice, s.explain), ids))
    out.append(table(_count_table(ev, summary, width), ids))
    if ev.opinion_counts is not None:
        out.append(paragraph(Para.of(opinion_count_note(ev), s.explain), ids))
    if _no_rating_head(summary) == NOT_SUBMITTED and summary.total.prior_year.get(NO_RATING, 0):
        # The column counts the rows without a rating in either year; last year's were not 未提出.
        note = f"※{ev.prior_label}の「{NOT_SUBMITTED}」は、{ev.prior_label}の評価がない行（新規事業など）の数です。"
        out.append(paragraph(Para.of(note, s.explain), ids))
    ups = sum(1 for c in summary.changes if c.direction == "up")
    downs = sum(1 for c in summary.changes if c.direction == "down")
    moved = f"：上昇 {ups}件、低下 {downs}件" if summary.ranked else ""
    out.append(
        paragraph(
            Para.of(f"{ev.prior_label}から評価が変わった事業（{len(summary.changes)}件{moved}）", s.heading2),
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


OPINION_COUNT_HEAD = "委員会意見"


def opinion_count_note(ev: Evaluation, level: str = "基本目標") -> str:
    """What the summary's opinion column counts (the meetings, and where a level's opinion counts)."""
    counts = ev.opinion_counts
    assert counts is not None
    where = f"{ev.opinions_label}の委員会" if ev.opinions_label else "前年度の評価を報告した会議"
    what = "基本目標・基本施策・施策・事業" if ev.sheet is None else "計画の各階層・事業"
    note = f"※「{OPINION_COUNT_HEAD}」は、{where}でいただいた意見の件数です（{what}への意見は、その{level}に数えます）。"
    groups = ev.sheet.opinion_groups if ev.sheet is not None else ()
    counted = sum(n for _, n in groups) if ev.sheet is not None else sum(counts.by_goal.values())
    others = counts.total - counted
    if others:
        note += f"評価全般への意見など {others} 件は合計にのみ含みます。"
    return note


def _text_mm(text: str, pt: float) -> float:
    return text_em(text) * pt * 25.4 / 72


def _no_rating_head(summary: Summary) -> str:
    """未提出 where this year has rows without a rating (a draft); else the rows last year had none
    for (新規 projects), which were not 未提出."""
    return NOT_SUBMITTED if summary.total.this_year.get(NO_RATING, 0) else "評価なし"


def _count_table(ev: Evaluation, summary: Summary, width: float) -> TableSpec:
    s = STYLES
    columns = (*summary.columns, "計")
    heads = [_no_rating_head(summary) if code == NO_RATING else code for code in columns]
    years = (ev.prior_label, ev.year_label)  # left to right, as a change reads: last year → this year
    op_counts = ev.opinion_counts
    n = 2 * len(columns) + (1 if op_counts is not None else 0)  # + the committee's opinions
    pad = 2 * COUNT_PAD_MM + 1.0  # the cell margins and a little air
    # Every head on one line: a count column holds the longer year label, a pair of them the rating.
    need = max(
        *(_text_mm(y, HEAD_PT) + pad for y in years), *((_text_mm(h, HEAD_PT) + pad) / 2 for h in heads)
    )
    goal_width = min(62.0, width * 0.25)
    count_width = min(22.0, (width - goal_width) / n)
    year_lines: list[tuple[str, ...]] = [(y,) for y in years]
    if count_width < need:
        # The 基本目標 names may wrap (they are text); the heads should not.
        goal_width = max(GOAL_MIN_MM, width - n * need)
        count_width = (width - goal_width) / n
        if count_width < need:  # a long scale: the year labels on two lines, broken before 年度
            year_lines = [(y[:-2], y[-2:]) if y.endswith("年度") else (y,) for y in years]
    spec = TableSpec(widths_mm=(goal_width, *([count_width] * n)), pad_h_mm=COUNT_PAD_MM)

    def head(lines: tuple[str, ...]) -> Cell:
        return Cell(tuple(Para.of(t, s.table_head) for t in lines), fill=HEAD_FILL)

    top = [Cell((Para.of("基本目標", s.table_head),), vmerge="restart", fill=HEAD_FILL)]
    for text in heads:
        top.append(Cell((Para.of(text, s.table_head),), span=2, fill=HEAD_FILL))
    second = [Cell(vmerge="continue", fill=HEAD_FILL)]
    for _ in columns:
        second += [head(lines) for lines in year_lines]
    if op_counts is not None:
        top.append(Cell((Para.of(OPINION_COUNT_HEAD, s.table_head),), vmerge="restart", fill=HEAD_FILL))
        second.append(Cell(vmerge="continue", fill=HEAD_FILL))
    spec.rows.append(Row(tuple(top), header=True))
    spec.rows.append(Row(tuple(second), header=True))
    for goal in (*summary.goals, summary.total):
        is_total = goal.goal_no == ""
        fill = TOTAL_FILL if is_total else None
        name = goal.goal if is_total else f"{goal.goal_no}　{goal.goal}"
        cells = [Cell((Para.of(name, s.block_text if is_total else s.table_text),), fill=fill)]
        for code in columns:
            for counts in (goal.prior_year, goal.this_year):
                n_rows = sum(counts.values()) if code == "計" else counts.get(code, 0)
                cells.append(Cell((Para.of(str(n_rows), s.table_center),), fill=fill))
        if op_counts is not None:
            n_opinions = op_counts.total if is_total else op_counts.by_goal.get(goal.goal_no, 0)
            cells.append(Cell((Para.of(str(n_opinions), s.table_center),), fill=fill))
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
    grid = _scaled(GRID_OPINIONS if ev.opinions_layout == "column" else GRID, width)
    for block in ev.blocks:
        # Each 基本施策 starts on a new page; the 1 pt paragraph carries the break (a table cannot).
        out.append(tiny_paragraph(page_break_before=True))
        out.append(table(block_table(ev, block, grid), ids))
    out.append(tiny_paragraph())
    return out


def block_table(ev: Evaluation, block: PolicyBlock, grid: tuple[float, ...] | None = None) -> TableSpec:
    s = STYLES
    column = ev.opinions_layout == "column"
    if grid is None:
        grid = GRID_OPINIONS if column else GRID
    spec = TableSpec(widths_mm=grid)
    extra = 1 if column else 0  # the opinion column
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
                    Cell(span=3 + extra, borders="none"),
                ),
                header=True,
                height_mm=6.5,
            )
        )
    spec.rows.append(
        Row((Cell(span=8 + extra, borders="none"),), header=True, height_mm=2.5, exact_height=True)
    )

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
                *([head("前年度の委員会意見", "と市の考え方")] if column else []),
            ),
            header=True,
        )
    )
    page = _Page(
        room=_lines_per_page(len(labels)),
        text_chars=int((min(grid[4], grid[7]) - 2.4) / CHAR_MM),  # less the cell margins
        label_chars=int((grid[1] + grid[2] - 2.4) / CHAR_MM),
        department_chars=int((grid[3] - 2.4) / CHAR_MM),
        opinion_chars=int((grid[8] - 2.4) / CHAR_MM) if column else 0,
        side_label_chars=int((sum(grid[:4]) - 2.4) / CHAR_MM),
    )
    for opinion in block.opinions:  # on the 基本目標, the 基本施策 or a 施策: before the projects
        spec.rows.append(_opinion_row(ev, opinion, page, extra=extra)[0])
    for project in block.projects:
        used, number = page.used, page.number
        groups = _project_rows(ev, project, page)
        for rows in groups:
            spec.rows.extend(rows)
        if not column and project.opinions:
            # The project's last group moves with its first opinion when that does not fit under it
            # (keep-with-next on the group's last row), so that an opinion does not stand alone at the
            # top of a page, away from the rows it is about.
            group_lines = page.used - (used if page.number == number else 0.0)
            last = len(spec.rows) - 1
            for i, opinion in enumerate(project.opinions):
                row, moved = _opinion_row(
                    ev, opinion, page, extra=0, project=project, group_lines=group_lines if i == 0 else None
                )
                if moved:
                    spec.rows[last] = replace(spec.rows[last], keep_next=True)
                spec.rows.append(row)
    return spec


# --- the earlier meeting's opinions ([report] opinions) ------------------------------------------------

OPINION_HEAD = "委員会からの意見"
REPLY_HEAD = "対応・市の考え方"
REPLY_HEAD_LINES = ("対応・", "市の考え方")  # in the two rating columns' width


def _opinion_source(ev: Evaluation, opinion: OpinionView) -> str:
    return f"{opinion.meeting}{f'（{opinion.member}）' if opinion.member else ''}"


def _opinion_texts(opinion: OpinionView) -> list[_Text]:
    return [_Text(t) for t in opinion.text] or [_Text("")]


def _reply_texts(opinion: OpinionView) -> list[_Text]:
    return [_Text(t) for t in opinion.reply] or [_Text("（未回答）")]


def _opinion_row(
    ev: Evaluation,
    opinion: OpinionView,
    page: _Page,
    *,
    extra: int,
    project: ProjectView | None = None,
    group_lines: float | None = None,
) -> tuple[Row, bool]:
    """A row under a project's rows (or at the top of a 基本施策 for a level's opinion): the label and
    who gave it under 施策…担当課, the opinion under 事業実績, the reply under 今後の事業計画. It starts
    a page when the estimate says it does not fit on this one, and then names its project."""
    s = STYLES
    op, rep = _opinion_texts(opinion), _reply_texts(opinion)
    label = [OPINION_HEAD, _opinion_source(ev, opinion)]
    if opinion.subject:
        label.append(opinion.subject)
    body = max(page.column_lines(op), page.column_lines(rep)) if not extra else 0
    if extra:  # the reply cell is wider by the opinion column
        chars = int(page.text_chars * 1.6)
        body = max(
            sum(t.lines(page.text_chars) for t in op),
            sum(t.lines(chars) for t in rep),
        )
    lines = max(body, page.label_lines(tuple(label), page.side_label_chars)) + CELL_PAD_LINES
    moved = False
    if lines > page.left:
        # With the project's last rows when they began lower on this page and fit with it on one;
        # else alone at the top of the next page, naming its project.
        moved = group_lines is not None and 0 < group_lines < page.used and group_lines + lines <= page.room
        page.new_page()
        if moved:
            page.used = group_lines or 0.0
        elif project is not None:
            label.insert(1, f"{project.heading}{project.name}")
            lines += SINGLE_LINE
    page.place(lines)
    label_paras = (Para.of(label[0], s.block_label), *(Para.of(t, s.table_text) for t in label[1:]))
    row = Row(
        (
            Cell(label_paras, span=4, fill=LABEL_FILL, valign="top"),
            Cell(_paras(op), valign="top"),
            Cell(
                tuple(Para.of(t, s.block_label) for t in REPLY_HEAD_LINES),
                span=2,
                fill=LABEL_FILL,
                valign="top",
            ),
            Cell(_paras(rep), span=1 + extra, valign="top"),
        )
    )
    return row, moved


def _opinion_cell_paras(ev: Evaluation, project: ProjectView) -> tuple[Para, ...]:
    """The opinion column of a project: each opinion with who gave it, then the reply."""
    s = STYLES
    out: list[Para] = []
    for opinion in project.opinions:
        out.append(Para.of(f"【{_opinion_source(ev, opinion)}】", s.block_label))
        if opinion.subject:
            out.append(Para.of(opinion.subject, s.table_text))
        out.extend(_paras(_opinion_texts(opinion)))
        out.append(Para.of(f"【{REPLY_HEAD}】", s.block_label))
        out.extend(_paras(_reply_texts(opinion)))
    return tuple(out)


def _opinion_cell_lines(ev: Evaluation, project: ProjectView, page: _Page) -> float:
    if not project.opinions or not page.opinion_chars:
        return 0.0
    n = 0.0
    for opinion in project.opinions:
        heads = (
            f"【{_opinion_source(ev, opinion)}】",
            f"【{REPLY_HEAD}】",
            *([opinion.subject] if opinion.subject else []),
        )
        n += page.label_lines(heads, page.opinion_chars)
        n += sum(t.lines(page.opinion_chars) for t in (*_opinion_texts(opinion), *_reply_texts(opinion)))
    return n + CELL_PAD_LINES


def _lines_per_page(block_rows: int) -> int:
    """Text lines that fit under the repeated heads on an A4 landscape page (LINE_MM leaves the margin).

    Measured on LibreOffice's rendering of the standard template: 15 mm top and 14 mm bottom margins,
    block rows of 6.6 mm, a 2.5 mm gap and the column heads.
    """
    room = 210.0 - 15.0 - 14.0 - block_rows * BLOCK_ROW_MM - 2.5 - HEAD_ROW_MM
    return int(room / LINE_MM)


# --- a project's rows across pages ---------------------------------------------------------------------
#
# Heights are estimated in lines of the narrative cells (LINE_MM, measured on LibreOffice's rendering
# with a few per cent to spare): the estimate decides where hyoka starts a new row and where it expects a
# page to end. Rows never split (a row taller than the page would be cut off), so a project's rows are
# laid out in page groups: the rows the estimate puts on one page share one merged 施策 and project
# cell and keep with the next, so that they move to a new page together rather than lose their label.
# A project that fits on the rest of the page is one group. One that does not starts here when at
# least MIN_FILL of the page is left (else on the next page) and goes on in groups labelled （続き）,
# each after a page break; a department row that does not fit is cut where the page ends, its text
# continued in the next group. So 「（続き）」 is written only after a page break, and pages are filled.

CONTINUED = "（続き）"
SINGLE_LINE = 1 / PROSE_LINE_SPACING  # a single-spaced 10 pt line (担当課, 事業) in narrative lines
RATING_LINES = 1.2 / PROSE_LINE_SPACING  # the 12 pt rating
CELL_PAD_LINES = 1.4 / LINE_MM  # the cell's top and bottom margins and the border
MIN_CHUNK_LINES = 4  # a cut row leaves at least this many lines at a page's foot
MIN_FILL = 0.2  # a project that does not fit starts on this page when this much of the page is left
WRAP_SLACK_EM = 0.15  # per paragraph: justification and line-start rules can push a character over
# Characters that may not begin a line in Japanese text (行頭禁則): a cut never leaves one first.
NO_LINE_START = frozenset(
    "、。，．,.・：；:;？！?!）)」』】〕］]｝}〉》ーゝゞ々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…‥"
)


@dataclass(frozen=True)
class _Text:
    """One paragraph of a narrative cell, or the part of it that one table row holds."""

    text: str
    missing: bool = False  # the red 未提出 note of a draft
    continued: bool = False  # the rest of a paragraph begun in the row above: no first-line indent

    @property
    def indent(self) -> bool:
        return not (self.missing or self.continued) and indents(self.text)

    def lines(self, chars: int) -> int:
        em = text_em(self.text) + (1.0 if self.indent else 0.0) + WRAP_SLACK_EM
        return max(1, math.ceil(em / max(chars, 1)))


@dataclass
class _Page:
    """Where one 基本施策 table's rows are estimated to fall: the lines used on the current page."""

    room: float  # lines under the repeated heads
    text_chars: int  # characters per line in a narrative cell
    label_chars: int  # … in the project cell
    department_chars: int  # … in the 担当課 cell
    opinion_chars: int = 0  # … in the opinion column ([report] opinions = "column")
    side_label_chars: int = 20  # … in the label cell of an opinion row (施策 to 担当課)
    used: float = 0.0
    number: int = 0  # pages this table has begun on before the current one

    @property
    def left(self) -> float:
        return self.room - self.used

    def new_page(self) -> None:
        if self.used > 0:
            self.number += 1
        self.used = 0.0

    def place(self, lines: float) -> None:
        """Rows that must stay together: here, or at the top of the next page."""
        if lines > self.left:
            self.new_page()
        self.used += lines

    def column_lines(self, items: list[_Text]) -> int:
        return sum(t.lines(self.text_chars) for t in items)

    def label_lines(self, texts: tuple[str, ...], chars: int) -> float:
        return sum(max(1, math.ceil(text_em(t) / max(chars, 1))) for t in texts) * SINGLE_LINE

    def row_lines(self, label: tuple[str, ...], row: RowView, ach: list[_Text], out: list[_Text]) -> float:
        return (
            max(
                self.column_lines(ach),
                self.column_lines(out),
                self.label_lines(label, self.label_chars),
                self.label_lines(row.departments, self.department_chars),
                RATING_LINES,
            )
            + CELL_PAD_LINES
        )


@dataclass
class _Piece:
    """One table row of a project: a department row, or the part of its texts one page holds."""

    row: RowView
    ach: list[_Text]
    out: list[_Text]
    ratings: bool  # the first piece of a department row carries its ratings


def _project_rows(ev: Evaluation, project: ProjectView, page: _Page) -> list[list[Row]]:
    """The project's rows in page groups: the first goes on where the page is; each later one is
    （続き） and begins a new page (a page break before its first row, which Word and LibreOffice
    honour inside a table: so the mark is at the top of a page wherever the renderer ended the last)."""
    label = _label_texts(project)
    label_lines = page.label_lines(label, page.label_chars) + CELL_PAD_LINES
    columns = [
        (_column(ev, row, row.achievement), _column(ev, row, row.outlook, note_missing=False))
        for row in project.rows
    ]
    heights = [page.row_lines((), row, a, o) for row, (a, o) in zip(project.rows, columns, strict=True)]
    side = _opinion_cell_lines(ev, project, page)  # the opinion column, beside the first row
    if side > page.room:
        side = 0.0  # taller than a page: the row is cut by the renderer (it cannot be helped)
    total = max(sum(heights), label_lines, side)
    if side > page.left:
        page.new_page()  # the opinion cell does not break: the project starts where it fits
    if total > page.left and page.left < MIN_FILL * page.room:
        page.new_page()  # too little room left to begin it here
    groups: list[list[_Piece]] = [[]]
    group_used = 0.0  # lines of the current group, which shares one label cell
    start = page.number

    def close_group() -> None:
        nonlocal group_used
        page.new_page()
        groups.append([])
        group_used = 0.0

    for row, (ach, out) in zip(project.rows, columns, strict=True):
        first = True
        while True:
            own = (*label, CONTINUED) if page.number != start else label
            body = page.row_lines((), row, ach, out)
            # The group's label cell spans its rows: a group is as tall as its rows or its label.
            need = (
                max(
                    group_used + body,
                    page.label_lines(own, page.label_chars) + CELL_PAD_LINES,
                    side if len(groups) == 1 and not groups[0] else 0.0,  # beside the first row
                )
                - group_used
            )
            if need <= page.left:
                groups[-1].append(_Piece(row, ach, out, first))
                page.used += need
                group_used += need
                break
            lines_left = page.left - CELL_PAD_LINES
            fits_a_page = page.row_lines(own, row, ach, out) <= page.room
            if lines_left < MIN_CHUNK_LINES or (fits_a_page and page.left < MIN_FILL * page.room):
                close_group()
                continue
            ach_now, ach_rest = _take(ach, lines_left, page.text_chars)
            out_now, out_rest = _take(out, lines_left, page.text_chars)
            if not (ach_now or out_now):
                if page.used == 0:  # not one line of a paragraph fits a whole page: take it all
                    ach_now, ach_rest, out_now, out_rest = ach[:1], ach[1:], out[:1], out[1:]
                else:
                    close_group()
                    continue
            groups[-1].append(_Piece(row, ach_now, out_now, first))
            ach, out, first = ach_rest, out_rest, False
            close_group()
            if not (ach or out):
                break
    groups = [g for g in groups if g]
    return [_group_rows(ev, project, g, continued=i > 0) for i, g in enumerate(groups)]


def _label_texts(project: ProjectView) -> tuple[str, ...]:
    return (project.heading, *(["【新規】"] if project.is_new else []), project.name)


def _group_rows(ev: Evaluation, project: ProjectView, pieces: list[_Piece], *, continued: bool) -> list[Row]:
    """The rows one page holds of a project: 施策 and the project merged over them."""
    s = STYLES
    rows = []
    n = len(pieces)
    for i, piece in enumerate(pieces):
        merge = None if n == 1 else ("restart" if i == 0 else "continue")
        first = i == 0
        extra = (CONTINUED,) if continued else ()
        cells = (
            Cell(
                (Para.of(f"({project.measure_no})", s.table_center, page_break_before=continued),)
                if first
                else (),
                vmerge=merge,
            ),
            Cell(_label_paras(project, extra) if first else (), span=2, vmerge=merge, valign="top"),
            *_row_cells(ev, piece.row, piece.ach, piece.out, ratings=piece.ratings),
        )
        # keep-with-next on all but the last row keeps the group on one page, so that the merged
        # label cell (whose text shows only on its first page) stays readable; a continued group
        # begins a new page.
        if ev.opinions_layout == "column":
            # Not merged over the group: a merged cell taller than its rows made LibreOffice ignore
            # the page break of the （続き） row after it.
            paras = _opinion_cell_paras(ev, project) if first and not continued else ()
            cells = (*cells, Cell(paras, valign="top"))
        rows.append(Row(cells, keep_next=i < n - 1))
    return rows


def _label_paras(project: ProjectView, extra: tuple[str, ...]) -> tuple[Para, ...]:
    s = STYLES
    paras = [Para.of(project.heading, s.project)]
    if project.is_new:
        paras.append(Para((("【新規】", s.new_mark),), s.project))
    paras.append(Para.of(project.name, s.project))
    paras.extend(Para.of(t, s.project) for t in extra)
    return tuple(paras)


def _row_cells(
    ev: Evaluation, row: RowView, ach: list[_Text], out: list[_Text], *, ratings: bool
) -> tuple[Cell, ...]:
    """担当課, the two narrative cells and the ratings (left empty in a row that continues the text)."""
    s = STYLES
    return (
        Cell(tuple(Para.of(d, s.table_text) for d in row.departments)),
        Cell(_paras(ach), valign="top"),
        Cell((Para.of(row.prior or NO_RATING, s.rating),) if ratings else ()),
        Cell((_rating_para(ev, row),) if ratings else ()),
        Cell(_paras(out), valign="top"),
    )


def _cut_index(text: str, em: float) -> int:
    """How many characters of ``text`` fit in ``em``."""
    used = 0.0
    for i, ch in enumerate(text):
        used += 1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5
        if used > em:
            return i
    return len(text)


def _take(items: list[_Text], budget: float, chars: int) -> tuple[list[_Text], list[_Text]]:
    """The paragraphs that fit in ``budget`` lines, the last one cut where the lines end; and the rest."""
    taken: list[_Text] = []
    rest = list(items)
    used = 0
    while rest:
        item = rest[0]
        n = item.lines(chars)
        if used + n <= budget:
            taken.append(rest.pop(0))
            used += n
            continue
        lines = int(budget - used)
        if lines >= 1 and not item.missing and item.text:
            cut = _cut_index(item.text, lines * chars - (1.0 if item.indent else 0.0) - WRAP_SLACK_EM)
            while 0 < cut < len(item.text) and item.text[cut] in NO_LINE_START:
                cut -= 1
            if cut > 0:
                taken.append(_Text(item.text[:cut], continued=item.continued))
                rest[0] = _Text(item.text[cut:], continued=True)
        break
    return taken, rest


def _column(
    ev: Evaluation, row: RowView, texts: tuple[str, ...], *, note_missing: bool = True
) -> list[_Text]:
    items = [_Text(t) for t in texts]
    if row.missing and ev.draft and note_missing:
        who = "・".join(row.missing)
        items.append(_Text(f"（{who} {NOT_SUBMITTED}）" if texts else NOT_SUBMITTED, missing=True))
    return items


def _paras(items: list[_Text]) -> tuple[Para, ...]:
    s = STYLES
    return tuple(
        Para(((t.text, s.missing_mark),), s.prose)
        if t.missing
        else Para.of(t.text, s.prose, no_indent=not t.indent)
        for t in items
    )


def _rating_para(ev: Evaluation, row: RowView) -> Para:
    if row.rating:
        return Para.of(row.rating, STYLES.rating)
    return Para(((NOT_SUBMITTED, STYLES.missing_mark),), STYLES.table_center)


# --- a workspace's own sheet: its columns, legends and summary ----------------------------------------


def sheet_summary_elements(
    ev: Evaluation, view: SheetView, ids: dict[str, str], width: float
) -> list[Element]:
    """The legends of the other scales (the cover prints the first), then one count or mean table per
    summary column, by the summary level."""
    s = STYLES
    out: list[Element] = []
    for legend in view.legends[1:]:
        out.append(paragraph(Para.of(legend.heading, s.legend_heading), ids))
        for code, description in legend.levels:
            out.append(paragraph(Para.of(f"{code}　{description}", s.legend), ids))
        for line in legend.note:
            out.append(paragraph(Para.of(f"※{line}", s.note), ids))
    first = True
    for summary in sorted(view.summaries, key=lambda x: not x.codes):  # counts first, then means
        if not first:
            out.append(paragraph(Para.of("", s.explain), ids))
        out.append(paragraph(Para.of(f"{summary.heading}の集計", s.heading, page_break_before=first), ids))
        first = False
        what = "件数" if summary.codes else "平均（値のある行の数／行数）"
        when = f"各評価の左が{ev.prior_label}、右が{ev.year_label}" if summary.prior else ev.year_label
        out.append(
            paragraph(
                Para.of(f"{view.summary_level}ごとの{summary.heading}の{what}です（{when}）。", s.explain),
                ids,
            )
        )
        if summary.prior and ev.scale_notice:  # said once, above the counts it is about
            out.append(paragraph(Para.of(ev.scale_notice, s.explain), ids))
        out.append(table(_summary_table(ev, view, summary, width), ids))
    if ev.opinion_counts is not None:
        if not first:
            out.append(paragraph(Para.of("", s.explain), ids))
        out.append(paragraph(Para.of(f"{OPINION_COUNT_HEAD}の件数", s.heading, page_break_before=first), ids))
        first = False
        out.append(table(_sheet_opinion_counts(ev, view, width), ids))
        out.append(paragraph(Para.of(opinion_count_note(ev, view.summary_level), s.explain), ids))
    if not view.summaries and ev.opinion_counts is None:
        out.append(tiny_paragraph())
    return out


def _sheet_opinion_counts(ev: Evaluation, view: SheetView, width: float) -> TableSpec:
    s = STYLES
    counts = ev.opinion_counts
    assert counts is not None
    group_width = min(90.0, width * 0.35)
    spec = TableSpec(widths_mm=(group_width, min(24.0, width - group_width)))
    head = (view.summary_level, OPINION_COUNT_HEAD)
    spec.rows.append(Row(tuple(Cell((Para.of(h, s.table_head),), fill=HEAD_FILL) for h in head), header=True))
    for label, n in (*view.opinion_groups, ("合計", counts.total)):
        fill = TOTAL_FILL if label == "合計" else None
        spec.rows.append(
            Row(
                (
                    Cell((Para.of(label, s.block_text if fill else s.table_text),), fill=fill),
                    Cell((Para.of(str(n), s.table_center),), fill=fill),
                ),
                height_mm=8,
            )
        )
    return spec


def _summary_table(ev: Evaluation, view: SheetView, summary: Any, width: float) -> TableSpec:
    """One summary column's table: counts per code (last year's left of this year's where the store
    holds them, as Koganei's table), or the mean and the rows with a value."""
    s = STYLES
    heads = (*summary.codes, "計") if summary.codes else ("平均", "行")
    pairs = 2 if summary.prior else 1
    group_width = min(90.0, width * 0.35)
    cell_width = min(24.0, (width - group_width) / (len(heads) * pairs))
    spec = TableSpec(widths_mm=(group_width, *([cell_width] * (len(heads) * pairs))))
    if pairs == 1:
        top = tuple(Cell((Para.of(h, s.table_head),), fill=HEAD_FILL) for h in (view.summary_level, *heads))
        spec.rows.append(Row(top, header=True))
    else:
        first = [Cell((Para.of(view.summary_level, s.table_head),), vmerge="restart", fill=HEAD_FILL)]
        first += [Cell((Para.of(h, s.table_head),), span=2, fill=HEAD_FILL) for h in heads]
        second = [Cell(vmerge="continue", fill=HEAD_FILL)]
        for _ in heads:
            second += [
                Cell((Para.of(y, s.table_head),), fill=HEAD_FILL) for y in (ev.prior_label, ev.year_label)
            ]
        spec.rows.append(Row(tuple(first), header=True))
        spec.rows.append(Row(tuple(second), header=True))
    for i, (label, cells) in enumerate(summary.groups):
        fill = TOTAL_FILL if label == "合計" else None
        shown = cells
        if pairs == 2:
            last = summary.prior[i]
            shown = tuple(v for pair in zip(last, cells, strict=True) for v in pair)
        spec.rows.append(
            Row(
                (
                    Cell((Para.of(label, s.block_text if fill else s.table_text),), fill=fill),
                    *(Cell((Para.of(c, s.table_center),), fill=fill) for c in shown),
                ),
                height_mm=8,
            )
        )
    return spec


def sheet_table_elements(ev: Evaluation, view: SheetView, ids: dict[str, str], width: float) -> list[Element]:
    out: list[Element] = []
    grid = _scaled(tuple(c.width for c in view.columns), width)
    for block in view.blocks:
        out.append(tiny_paragraph(page_break_before=True))
        out.append(table(sheet_block_table(ev, view, block, grid), ids))
    out.append(tiny_paragraph())
    return out


def sheet_block_table(
    ev: Evaluation, view: SheetView, block: SheetBlock, grid: tuple[float, ...]
) -> TableSpec:
    """One group of the outer levels: its labels above the table, the column heads, a row per plan row;
    numbers right-aligned with their units, ratings and choices centred, texts as paragraphs."""
    s = STYLES
    n = len(view.columns)
    spec = TableSpec(widths_mm=grid)
    label_span = 1 if n < 4 else 2
    value_span = max(1, min(n - label_span, n // 2))
    for label, value in block.labels:
        cells = [
            Cell((Para.of(label, s.block_label),), span=label_span, fill=LABEL_FILL, borders="all"),
            Cell((Para.of(value, s.block_text),), span=value_span, borders="all"),
        ]
        if n - label_span - value_span > 0:
            cells.append(Cell(span=n - label_span - value_span, borders="none"))
        spec.rows.append(Row(tuple(cells), header=True, height_mm=6.5))
    if block.labels:
        spec.rows.append(Row((Cell(span=n, borders="none"),), header=True, height_mm=2.5, exact_height=True))
    spec.rows.append(
        Row(
            tuple(
                Cell(tuple(Para.of(t, s.table_head) for t in c.heading), fill=HEAD_FILL, borders="all")
                for c in view.columns
            ),
            header=True,
        )
    )
    spans = _opinion_spans(grid)
    for opinion in block.opinions:
        spec.rows.append(_sheet_opinion_row(ev, opinion, spans))
    for row in block.rows:
        cells = []
        marks = dict(row.unentered) if ev.draft else {}
        for c, lines in zip(view.columns, row.cells, strict=True):
            if c.key in marks:  # a draft: the second stage not entered yet, in red, one line a word
                align = s.table_center if c.align == "center" else s.table_text
                words = marks[c.key].split(" ")
                cells.append(Cell(tuple(Para(((w, s.missing_mark),), align) for w in words), valign="top"))
            elif c.prose:
                paras = tuple(Para.of(t, s.prose, no_indent=not indents(t)) for t in lines)
                if not lines and row.missing and ev.draft:
                    paras = (Para(((NOT_SUBMITTED, s.missing_mark),), s.prose),)
                cells.append(Cell(paras, valign="top"))
            elif c.align == "right":
                cells.append(
                    Cell(tuple(Para.of(t, s.table_text, align="right") for t in lines), valign="top")
                )
            elif c.align == "center":
                cells.append(
                    Cell(
                        # A line under the rating (提案C) is a note: the table's small centred text.
                        tuple(Para.of(t, s.table_center if i else s.rating) for i, t in enumerate(lines))
                        or (Para.of(NO_RATING if c.key.startswith("prior") else "", s.rating),)
                    )
                )
            else:
                cells.append(Cell(tuple(Para.of(t, s.table_text) for t in lines), valign="top"))
        spec.rows.append(Row(tuple(cells), keep_next=bool(row.opinions)))
        for opinion in row.opinions:
            spec.rows.append(_sheet_opinion_row(ev, opinion, spans))
    return spec


def _opinion_spans(grid: tuple[float, ...]) -> tuple[int, ...]:
    """How an opinion row divides a sheet's columns: the label over about the first fifth, the opinion
    to about the middle, the reply over the rest (fewer cells where the sheet has fewer columns)."""
    n = len(grid)
    if n < 3:
        return (n,)
    total, cum = sum(grid), 0.0
    cuts: list[int] = []
    for i, w in enumerate(grid[:-1], 1):
        cum += w
        if (not cuts and cum >= 0.2 * total) or (len(cuts) == 1 and cum >= 0.55 * total):
            cuts.append(i)
    if len(cuts) < 2:  # one very wide column: one for each part
        cuts = [1, 2]
    return (cuts[0], cuts[1] - cuts[0], n - cuts[1])


def _sheet_opinion_row(ev: Evaluation, opinion: OpinionView, spans: tuple[int, ...]) -> Row:
    """An earlier opinion under a project's last row (or atop a block for a level's), as in
    Koganei's table: the label and who gave it, the opinion, the reply with its heading."""
    s = STYLES
    label = [Para.of(OPINION_HEAD, s.block_label), Para.of(_opinion_source(ev, opinion), s.table_text)]
    if opinion.subject:
        label.append(Para.of(opinion.subject, s.table_text))
    text = _paras(_opinion_texts(opinion))
    reply = (Para.of(f"【{REPLY_HEAD}】", s.block_label), *_paras(_reply_texts(opinion)))
    if len(spans) == 1:
        return Row((Cell((*label, *text, *reply), span=spans[0], valign="top"),))
    return Row(
        (
            Cell(tuple(label), span=spans[0], fill=LABEL_FILL, valign="top"),
            Cell(text, span=spans[1], valign="top"),
            Cell(reply, span=spans[2], valign="top"),
        )
    )
