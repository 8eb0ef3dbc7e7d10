"""``hyoka report`` in one call: load, check, render every document, compose the pack, convert.

The CLI calls :func:`make_report` and prints what it returns; everything that can go wrong for a
reason the clerk can fix is a :class:`~hyoka.problems.HyokaError` with a Japanese message.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hyoka.problems import HyokaError
from hyoka.report import agenda, evaluation, pack, pdf, templates
from hyoka.report.model import (
    EarlierOpinions,
    Evaluation,
    MissingRow,
    build_evaluation,
    descendants,
    draft_notice,
)
from hyoka.results import load_year, prior_results, with_second_stage
from hyoka.text import safe_filename
from hyoka.workspace import Material, Meeting, Workspace
from hyoka.years import FiscalYear


@dataclass
class ReportResult:
    files: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


# A draft's files end in 「_案」, so that a draft never replaces (or is taken for) the final document.
DRAFT_SUFFIX = "_案"
# A 資料1 of about 1,000 rows and more: worth a garbage collection before the pack is built.
LARGE_DOCX_BYTES = 1_000_000


def evaluation_filename(label: str | None, year: FiscalYear, *, draft: bool = False) -> str:
    prefix = f"{safe_filename(label)}_" if label else ""
    return f"{prefix}進捗状況及び評価表_{year.short}{DRAFT_SUFFIX if draft else ''}.docx"


def meeting_filenames(meeting: Meeting, *, draft: bool = False) -> tuple[str, str, str]:
    mid = safe_filename(meeting.id) + (DRAFT_SUFFIX if draft else "")
    return f"次第_{mid}.docx", f"配布資料一覧_{mid}.docx", f"会議資料一式_{mid}.docx"


def missing_message(year_label: str, missing: list[MissingRow] | tuple[MissingRow, ...]) -> str:
    """Which departments still owe which rows, and which joint rows disagree — what the clerk chases
    before the meeting."""
    absent = [r for r in missing if not r.disagreeing]
    differing = [r for r in missing if r.disagreeing]
    counts = "、".join(
        f"{what} {len(rows)} 行" for what, rows in (("未提出", absent), ("不一致", differing)) if rows
    )
    lines = [f"{year_label}の回答がそろっていないため、評価表を作成できません（{counts}）。"]
    by_department: dict[str, list[MissingRow]] = {}
    for row in absent:
        for who in row.submitters:
            by_department.setdefault(who, []).append(row)
    if by_department:
        lines.append("未提出の担当課と行:")
    for who, rows in by_department.items():
        items = "、".join(
            f"事業No.{r.project_no}" + ("" if r.department == who else f"（{r.department}）") for r in rows
        )
        lines.append(f"  {who}: {items}")
    if differing:
        lines.append("担当課の間で評価が異なる行（不一致。評価を揃えた調査票を出し直してもらってください）:")
    for r in differing:
        ratings = "、".join(f"{who}「{rating}」" for who, rating in r.ratings)
        lines.append(f"  事業No.{r.project_no}（{r.department}）: {ratings}")
    lines.append(
        "回収してから再度実行するか、「案」として作成してください（未提出の行には「未提出」、"
        "不一致の行には各課の評価と「不一致」と表示されます）。"
    )
    return "\n".join(lines)


def absent_materials(meeting: Meeting | None) -> list[Material]:
    """The meeting's materials whose ``file`` in hyoka.toml is not there."""
    if meeting is None:
        return []
    return [m for m in meeting.materials if not m.generated and m.file is not None and not m.file.is_file()]


def absent_message(absent: list[Material]) -> str:
    lines = ["hyoka.toml に書かれた会議資料のファイルが見つからないため、何も作成しませんでした。"]
    lines += [f"  資料{m.no}「{m.title}」: {m.file}" for m in absent]
    lines.append(
        "hyoka.toml の [[meetings.materials]] の file を直すか、ファイルをその場所に置いてから再度実行してください"
        "（「案」として作成すると、このファイルを除いて作成します）。"
    )
    return "\n".join(lines)


def load_evaluation(
    ws: Workspace,
    year: FiscalYear,
    *,
    meeting_id: str | None = None,
    draft: bool = False,
    today: date | None = None,
) -> tuple[Evaluation, Meeting | None]:
    """The evaluation of ``year`` and the meeting it is reported at; refused while rows are missing.

    One loader for every output of the table (Word, the published HTML, text and open data), so that
    they all refuse, and draft, by the same rule.
    """
    config, version = ws.config_for(year), ws.version(year)
    plan = version.plan
    meeting = config.meeting(meeting_id, year)
    committee = ws.sheet_for(year).committee_column
    with ws.store() as store:
        results = load_year(store, plan, year)
        prior = prior_results(store, year)
        if committee is not None:  # the committee's rating, stored with the meetings reporting on the year
            from hyoka.opinions_io import committee_values

            results = with_second_stage(results, plan, committee.key, committee_values(ws, store, year))
    earlier = (
        earlier_opinions(ws, year) if config.report_opinions != "none" or config.report_opinion_counts else []
    )
    ev = build_evaluation(
        config=config,
        plan=plan,
        scale=config.scale,
        year=year,
        results=results,
        prior=prior,
        meeting=meeting,
        today=today or date.today(),
        draft=draft,
        period=version.name,
        sheet=ws.sheet_for(year),
        earlier_opinions=earlier,
        prior_sheet=ws.sheet_for(year.previous()),
    )
    del results, prior  # the model has what it needs; the rest only costs memory for a large plan
    if ev.missing and not draft:
        raise HyokaError(missing_message(ev.year_label, ev.missing), hint="draft")
    if ev.sheet is not None and ev.sheet.unentered and not draft:
        raise HyokaError(unentered_message(ev.year_label, ev.sheet.unentered), hint="draft")
    return ev, meeting


def opinion_meetings(ws: Workspace, year: FiscalYear) -> list[Meeting]:
    """The meetings whose opinions 資料1 of ``year`` shows: ``[report] opinion_meetings``, else every
    meeting that reported on the year before (where the committee commented on last year's table)."""
    config = ws.config
    if config.report_opinion_meetings:
        known = {m.id: m for m in config.meetings}
        unknown = [m for m in config.report_opinion_meetings if m not in known]
        if unknown:
            listed = "、".join(m.id for m in config.meetings) or "（なし）"
            raise HyokaError(
                f"hyoka.toml の [report] opinion_meetings の会議「{'」「'.join(unknown)}」は [[meetings]] にありません。"
                f"設定済みの会議: {listed}"
            )
        chosen = [known[m] for m in config.report_opinion_meetings]
    else:
        chosen = [m for m in config.meetings if m.report_year == year.previous()]
    return sorted(chosen, key=lambda m: m.day)


def earlier_opinions(ws: Workspace, year: FiscalYear) -> list[EarlierOpinions]:
    """The opinions (with their replies) of :func:`opinion_meetings`, each with the rows of ``year``
    that descend from the rows it was given about."""
    from hyoka.opinions_io import load_opinions

    out = []
    lineage = ws.lineage
    for meeting in opinion_meetings(ws, year):
        mo = load_opinions(ws, meeting.id)
        if not mo.answered:
            continue
        label = f"{meeting.fiscal_year.label(ws.config.gannen)}第{meeting.number}回"
        out.append(
            EarlierOpinions(label, mo.index, mo.answered, descendants(lineage, year, meeting.report_year))
        )
    return out


def unentered_message(year_label: str, rows: tuple[tuple[str, str, str], ...]) -> str:
    """The rows whose required secretariat column (二次評価) is still blank, per column."""
    by_column: dict[str, list[str]] = {}
    for no, department, title in rows:
        by_column.setdefault(title, []).append(f"事業No.{no}（{department}）")
    counts = "、".join(f"{title}が未入力の行 {len(items)} 行" for title, items in by_column.items())
    lines = [f"{year_label}の事務局の入力がそろっていないため、評価表を作成できません（{counts}）。"]
    for title, items in by_column.items():
        lines.append(f"  {title}: {'、'.join(items)}")
    lines.append(
        "事務局の入力（記入用の表か一覧表）と委員会で決める評価（意見の一覧表か委員の意見票）を取り込んでから"
        "再度実行するか、「案」として作成してください"
        "（未入力の欄には「二次評価 未入力」のように列の見出しと「未入力」を表示します）。"
    )
    return "\n".join(lines)


def make_report(
    ws: Workspace,
    year: FiscalYear,
    *,
    meeting_id: str | None = None,
    out_dir: Path | None = None,
    draft: bool = False,
    to_pdf: bool = False,
    templates_dir: Path | None = None,
    today: date | None = None,
) -> ReportResult:
    """Write 資料1, and for a configured meeting 次第, 配布資料一覧 and the pack; optionally PDFs."""
    config = ws.config
    ev, meeting = load_evaluation(ws, year, meeting_id=meeting_id, draft=draft, today=today)
    # A material file that is not there: the list would name it and the pack lack it. Checked before
    # anything is written; a draft is made without it.
    absent = absent_materials(meeting)
    if absent and not draft:
        raise HyokaError(absent_message(absent), hint="draft")
    answering = _check_opinion_materials(ws, meeting, draft=draft)

    folders = templates.search_path(ws.root, templates_dir)
    target = out_dir if out_dir is not None else ws.out_dir / year.short
    fonts = {"mincho": config.font_mincho, "gothic": config.font_gothic}
    result = ReportResult()
    if ev.missing:
        result.notices.append(draft_notice(ev.missing))
    if ev.scale_notice:  # what the summary page says above the counts, said on the terminal too
        result.notices.append(ev.scale_notice)
    if ev.sheet is not None and ev.sheet.unentered:
        titles = "・".join(dict.fromkeys(t for _, _, t in ev.sheet.unentered))
        result.notices.append(
            f"「案」として作成しました。{titles}が未入力の行が {len(ev.sheet.unentered)} 件あります。"
        )

    table_path, table_doc = evaluation.render_evaluation(
        ev,
        templates.find_template(templates.EVALUATION, folders),
        target / evaluation_filename(ev.material_label, year, draft=draft),
        **fonts,
    )
    result.files.append(table_path)

    if meeting is None:
        result.notices.append(
            f"{ev.year_label}を報告する会議が hyoka.toml にないため、次第・配布資料一覧・会議資料一式は作成しませんでした"
            "（評価表の日付は今日の日付です）。作成するには hyoka.toml に [[meetings]] を設定し、その会議を指定して作成してください。"
        )
    else:
        if meeting.report_year != year:
            result.notices.append(
                f"会議 {meeting.id} は {meeting.report_year.label(config.gannen)} を報告する会議として設定されています。"
            )
        agenda_name, list_name, pack_name = meeting_filenames(meeting, draft=draft)
        context = agenda.meeting_context(config, meeting, draft=draft)
        agenda_path, agenda_doc = agenda.render_meeting_doc(
            templates.find_template(templates.AGENDA, folders),
            context,
            target / agenda_name,
            title=templates.document_title(
                f"{context['nendo']}第{meeting.number}回{context['committee']}次第", draft=draft
            ),
            **fonts,
        )
        list_path, list_doc = agenda.render_meeting_doc(
            templates.find_template(templates.MATERIALS_LIST, folders),
            context,
            target / list_name,
            title=templates.document_title(f"{context['committee']} 配布資料一覧", draft=draft),
            **fonts,
        )
        result.files += [agenda_path, list_path]
        parts = [agenda_path, list_path]
        loaded: dict[Path, Any] = {table_path: table_doc, agenda_path: agenda_doc, list_path: list_doc}
        for material in meeting.materials:
            label = f"資料{material.no}「{material.title}」"
            if material.generated == "evaluation":
                parts.append(table_path)
            elif material.generated == "opinions" and material in answering:
                from hyoka.report.opinions import render_opinions

                opinions_path, opinions_doc = render_opinions(
                    ws,
                    answering[material],
                    target,
                    draft=draft,
                    title=material.title,
                    material_label=f"資料{material.no}",
                    templates=folders,
                    today=today,
                )
                result.files.append(opinions_path)
                parts.append(opinions_path)
                loaded[opinions_path] = opinions_doc
            elif material.file is None:
                continue  # listed in 配布資料一覧 only
            elif material in absent:  # a draft: made without it
                result.notices.append(
                    f"{label} のファイルが見つからないため、一式に含めませんでした（一覧には記載しています）: "
                    f"{material.file}"
                )
            elif material.file.suffix.lower() != ".docx":
                result.notices.append(
                    f"{label} はWord文書（.docx）ではないため一式には含めず、一覧にのみ記載しました: {material.file}"
                )
            else:
                parts.append(material.file)
        # Rendering leaves cyclic garbage (templates, the Jinja environment) that would still be
        # held while the pack is serialised: at 100x that is what pushes the peak over 400 MB. For
        # a small 資料1 the collection costs more time (about 15 ms) than the memory it frees.
        if table_path.stat().st_size > LARGE_DOCX_BYTES:
            gc.collect()
        pack_path, warnings = pack.compose(
            parts,
            target / pack_name,
            loaded=loaded,
            title=templates.document_title(
                f"{context['nendo']}第{meeting.number}回{context['committee']} 会議資料", draft=draft
            ),
        )
        result.files.append(pack_path)
        result.notices.extend(warnings)

    if to_pdf:
        converted, notice = pdf.convert(result.files, target)
        result.pdfs.extend(converted)
        if notice:
            result.notices.append(notice)
    return result


def _check_opinion_materials(ws: Workspace, meeting: Meeting | None, *, draft: bool) -> dict[Material, str]:
    """The materials ``generated = "opinions"`` of the meeting → the meeting they answer; refused
    (before anything is written) while their opinions lack replies, unless a draft."""
    if meeting is None:
        return {}
    found: dict[Material, str] = {}
    for material in meeting.materials:
        if material.generated != "opinions":
            continue
        if not material.answers:
            raise HyokaError(
                f"hyoka.toml の会議 {meeting.id} の資料{material.no}「{material.title}」に answers がありません。"
                '意見をいただいた会議のIDを answers = "R6-1" のように書いてください。'
            )
        from hyoka.report.opinions import check_answerable

        check_answerable(ws, material.answers, draft=draft)
        found[material] = material.answers
    return found
