"""The material 「…からの意見と市の考え方」: the committee's opinions of a meeting with the replies.

Rendered on the same template as 資料1 (``evaluation_base.docx``: A4 landscape, BIZ UD fonts, 「資料n」
and 「案」 in the header, page numbers in the footer), whose cover and legend are replaced by a title
and one table: opinions grouped by level in plan order (計画全体, then each 基本目標 and 基本施策 — for a
sheet with its own levels, each of them but the innermost, by its name), each
with the departments that answer it and their reply. The heading row repeats on every page and rows
never split. Unanswered opinions are marked 「未回答」 in a draft; otherwise the material is refused.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn

from hyoka.opinions import WHOLE, Answered
from hyoka.opinions_io import MeetingOpinions, load_opinions
from hyoka.problems import HyokaError
from hyoka.report.evaluation import HEAD_FILL, LABEL_FILL, STYLES, style_ids, text_width_mm
from hyoka.report.ooxml import Cell, Element, Para, Row, TableSpec, paragraph, table, tiny_paragraph
from hyoka.report.templates import (
    EVALUATION,
    TABLES_MARKER,
    apply_fonts,
    document_title,
    find_template,
    render_docxtpl,
    save_docx,
)
from hyoka.text import clean_text, safe_filename
from hyoka.workspace import Workspace
from hyoka.years import format_date

DEFAULT_TITLE = "委員会からの意見と市の考え方"
UNANSWERED = "未回答"
GRID = (12.0, 48.0, 92.0, 27.0, 88.0)  # No | 対象 | 意見 | 担当課 | 対応・市の考え方, for 267 mm
POLICY_FILL = "F2F2F2"
USED_STYLES = (
    STYLES.heading,
    STYLES.explain,
    STYLES.table_text,
    STYLES.prose,
    STYLES.table_center,
    STYLES.table_head,
    STYLES.block_text,
    STYLES.project,
    STYLES.missing_mark,
)


def opinions_filename(meeting_id: str, label: str | None, *, draft: bool = False) -> str:
    prefix = f"{safe_filename(label)}_" if label else ""
    return f"{prefix}意見と市の考え方_{safe_filename(meeting_id)}{'_案' if draft else ''}.docx"


def title_for(ws: Workspace, meeting_id: str) -> tuple[str, str | None]:
    """The title and 資料番号 of the material that answers ``meeting_id`` in hyoka.toml, if any."""
    for m in ws.config.meetings:
        for mat in m.materials:
            if mat.generated == "opinions" and mat.answers == meeting_id:
                return mat.title, f"資料{mat.no}"
    return DEFAULT_TITLE, None


def unanswered_message(mo: MeetingOpinions) -> str:
    lines = [
        f"会議 {mo.meeting.id} の意見に、まだ回答のない課があるため「意見と市の考え方」を作成できません。"
    ]
    for d in mo.departments:
        if d.missing:
            lines.append(f"  {d.department}: 未回答 {len(d.missing)}件")
    lines.append(
        "回答票を回収してから再度実行するか、「案」として作成してください（未回答の意見には「未回答」と表示されます）。"
    )
    return "\n".join(lines)


def check_answerable(ws: Workspace, meeting_id: str, *, draft: bool) -> MeetingOpinions:
    mo = load_opinions(ws, meeting_id)
    if not mo.answered and not draft:
        raise HyokaError(
            f"会議 {mo.meeting.id} の意見が記録されていません。hyoka opinions import か hyoka opinions collect で"
            "取り込んでから作成してください（「案」なら意見のないまま作成できます）。",
            hint="draft",
        )
    if not mo.complete and not draft:
        raise HyokaError(unanswered_message(mo), hint="draft")
    return mo


def render_opinions(
    ws: Workspace,
    meeting_id: str,
    out_dir: Path,
    *,
    draft: bool = False,
    title: str | None = None,
    material_label: str | None = None,
    templates: list[Path],
    today: date | None = None,
) -> tuple[Path, Any]:
    """Write the material; returns its path and the python-docx Document (for the pack)."""
    mo = check_answerable(ws, meeting_id, draft=draft)
    cfg = ws.config
    if title is None:
        title, material_label = title_for(ws, meeting_id)
    template = find_template(EVALUATION, templates)
    m = mo.meeting
    nendo = m.fiscal_year.label(cfg.gannen)
    tpl = render_docxtpl(
        template,
        {
            "title": title,
            "subtitle": "",
            "date": format_date(today or date.today(), gannen=cfg.gannen),
            "secretariat": cfg.secretariat,
            "legend_heading": "",
            "levels": [],
            "note": [],
            "year": m.report_year.label(cfg.gannen),
            "prior_year": "",
            "material_label": material_label or "",
            "draft_mark": "案" if draft else "",
            "gap": "　" if draft and material_label else "",
            "tables": TABLES_MARKER,
        },
    )
    doc = tpl.docx
    apply_fonts(doc, cfg.font_mincho, cfg.font_gothic)
    ids = style_ids(doc, template, USED_STYLES)
    width = text_width_mm(doc)
    s = STYLES
    intro = (
        f"{nendo}第{m.number}回{cfg.committee}（{format_date(m.day, gannen=cfg.gannen)}）でいただいた"
        f"「{cfg.plan_title}の進捗状況及び評価表（{m.report_year.label(cfg.gannen)}実績）」への意見と、"
        "それに対する市の対応・考え方です。"
    )
    elements: list[Element] = [
        paragraph(Para.of(title, s.heading), ids),
        paragraph(Para.of(intro, s.explain), ids),
    ]
    if mo.answered:
        elements.append(table(opinions_table(mo, width), ids))
    else:
        elements.append(paragraph(Para.of("（意見はまだ記録されていません）", s.explain), ids))
    elements.append(tiny_paragraph())
    _replace_body(doc, elements)
    props = doc.core_properties
    props.title = document_title(title, draft=draft)
    props.author, props.last_modified_by = cfg.secretariat, "hyoka"
    props.subject = f"{nendo}第{m.number}回 意見と市の考え方"
    out = out_dir / opinions_filename(m.id, material_label, draft=draft)
    return save_docx(tpl, out), doc


def _replace_body(doc: Any, elements: list[Element]) -> None:
    """Drop the template's cover and legend; the section (page, header, footer) stays."""
    body = doc.element.body
    sect = body.find(qn("w:sectPr"))
    for node in list(body):
        if node is not sect:
            body.remove(node)
    for node in elements:
        sect.addprevious(node)


def opinions_table(mo: MeetingOpinions, width: float) -> TableSpec:
    s = STYLES
    factor = width / sum(GRID)
    spec = TableSpec(widths_mm=tuple(w * factor for w in GRID))

    def head(text: str) -> Cell:
        return Cell((Para.of(text, s.table_head),), fill=HEAD_FILL, borders="all")

    spec.rows.append(
        Row(
            (head("No"), head("対象"), head("委員会からの意見"), head("担当課"), head("対応・市の考え方")),
            header=True,
        )
    )
    # The level headings open above the current opinion (the default sheet: its 基本目標 and 基本施策;
    # another sheet: each of its levels but the innermost), a new one printed where it changes.
    open_groups: tuple[str, ...] | None = None
    for n, a in enumerate(mo.answered, 1):
        info = mo.index.info(a.opinion.subject)
        groups = info.groups if info else ()
        if a.opinion.subject.kind == WHOLE and open_groups is None:
            spec.rows.append(_group_row("計画全体・評価全般", LABEL_FILL))
            open_groups = ()
        for i, g in enumerate(groups):
            if open_groups is None or open_groups[: i + 1] != groups[: i + 1]:
                spec.rows.append(_group_row(g, LABEL_FILL if i == 0 else POLICY_FILL))
                open_groups = groups[: i + 1]
        spec.rows.extend(_opinion_rows(mo, n, a))
    return spec


def _group_row(text: str, fill: str) -> Row:
    # Kept with the opinion below it, so that a level's heading never ends a page.
    return Row((Cell((Para.of(text, STYLES.block_text),), span=5, fill=fill, borders="all"),), keep_next=True)


def _paras(text: str, style: str) -> list[Para]:
    return [Para.of(line, style) for line in clean_text(text).split("\n")] or [Para(())]


def _opinion_rows(mo: MeetingOpinions, n: int, a: Answered) -> list[Row]:
    """One row per answer, in plan order, under the opinion's merged No, 対象 and 意見 cells: departments
    that replied in the same words share one row (named one per line, as 資料1 names them together),
    each unanswered department has its own; each row is kept whole on its page, and an opinion many
    departments answer can still run over several pages."""
    s = STYLES
    o = a.opinion
    info = mo.index.info(o.subject)
    label = info.label if info else o.subject.code
    opinion = _paras(o.text, s.prose)
    if o.member:
        opinion.append(Para.of(f"（{o.member}）", s.table_text, align="right"))
    got = {r.department: r for r in a.replies}
    answers: dict[str, tuple[list[str], str | None]] = {}
    for d in o.departments:
        r = got.get(d)
        key = f"\0{d}" if r is None else clean_text(r.text).strip()
        answers.setdefault(key, ([], None if r is None else r.text))[0].append(d)
    joint = len(answers) > 1
    rows = []
    for i, (who, text) in enumerate(answers.values()):
        reply = (
            [Para(((UNANSWERED, s.missing_mark),), s.table_text)] if text is None else _paras(text, s.prose)
        )
        merge = "restart" if i == 0 else "continue"
        rows.append(
            Row(
                (
                    Cell(
                        (Para.of(str(n), s.table_center),) if i == 0 else (), vmerge=merge if joint else None
                    ),
                    Cell(
                        (Para.of(label, s.project),) if i == 0 else (),
                        valign="top",
                        vmerge=merge if joint else None,
                    ),
                    Cell(tuple(opinion) if i == 0 else (), valign="top", vmerge=merge if joint else None),
                    Cell(tuple(Para.of(d, s.table_text) for d in who), valign="top"),
                    Cell(tuple(reply), valign="top"),
                )
            )
        )
    return rows
