"""``hyoka publish``: the evaluation for the city's website — HTML, text, open data, tagged PDF.

Everything comes from the same :class:`~hyoka.report.model.Evaluation` as 資料1, loaded by the same
function, so that publication refuses, and drafts, by the same rule as ``hyoka report``.

Every file is made (the PDFs in a temporary folder) before any is written to the output folder, so
that a refusal — a meeting material that is not there, for the pack — leaves the folder as it was
rather than new pages beside last time's PDFs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from hyoka.files import atomic_write_bytes
from hyoka.years import FiscalYear

if TYPE_CHECKING:
    from hyoka.report.model import Evaluation
    from hyoka.workspace import Meeting, Workspace

DRAFT_SUFFIX = "_案"


@dataclass
class PublishResult:
    files: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def notice(self, text: str) -> None:
        """Add ``text`` unless it is there already (資料1 is made by the report, which says some of the same)."""
        if text and text not in self.notices:
            self.notices.append(text)


def publication_stem(year: FiscalYear, draft: bool) -> str:
    return f"進捗状況及び評価表_{year.short}" + (DRAFT_SUFFIX if draft else "")


def make_publication(
    ws: Workspace,
    year: FiscalYear,
    *,
    meeting_id: str | None = None,
    out_dir: Path | None = None,
    draft: bool = False,
    pack: bool = False,
    to_pdf: bool = True,
    today: date | None = None,
) -> PublishResult:
    """Write the page, the text version, CSV and JSON, and (with LibreOffice) the tagged PDF."""
    from hyoka.publish.html import render_html
    from hyoka.publish.records import FIELDS, Field, records, to_csv, to_json
    from hyoka.publish.sheet import sheet_fields, sheet_records, sheet_sections, sheet_text_lines
    from hyoka.publish.text import render_text
    from hyoka.report import templates
    from hyoka.report.build import load_evaluation

    ev, meeting = load_evaluation(ws, year, meeting_id=meeting_id, draft=draft, today=today)
    target = out_dir if out_dir is not None else ws.out_dir / year.short / "publish"
    stem = publication_stem(year, draft)
    folders = templates.search_path(ws.root)
    if ev.sheet is None:
        fields: Sequence[Field] = FIELDS
        rows = records(ev, year)
        page, text = render_html(ev, folders), render_text(ev)
    else:  # the workspace's own sheet: its levels, columns, legends and summaries
        definition, plan = ws.sheet_for(year), ws.version(year).plan
        fields = sheet_fields(definition)
        rows = sheet_records(ev, definition, plan, year)
        page = render_html(ev, folders, sheet_sections(ev, definition, plan))
        text = render_text(ev, sheet_text_lines(ev, definition, plan))
    made: list[tuple[str, bytes]] = [
        (f"{stem}.html", page.encode("utf-8")),
        # A BOM so that a browser or Notepad that sees no charset still reads the text as UTF-8.
        (f"{stem}.txt", text.encode("utf-8-sig")),
        (f"{stem}.csv", to_csv(rows, fields).encode("utf-8-sig")),
        (f"{stem}.json", to_json(ev, year, rows, fields).encode("utf-8")),
    ]
    result = PublishResult()
    _meeting_notices(ws, ev, year, meeting, result)
    with tempfile.TemporaryDirectory(prefix="hyoka-publish-") as tmp:
        pdfs = _tagged_pdfs(ws, ev, year, meeting, draft, pack, Path(tmp), result, today) if to_pdf else []
        made += [(p.name, p.read_bytes()) for p in pdfs]
    for name, data in made:
        result.files.append(atomic_write_bytes(target / name, data))
    if not draft:
        result.notice(_older_drafts(target))
    return result


def _meeting_notices(
    ws: Workspace, ev: Evaluation, year: FiscalYear, meeting: Meeting | None, result: PublishResult
) -> None:
    """What the clerk should know before putting the files on the website: a draft, and the date."""
    if ev.missing:
        from hyoka.report.model import draft_notice

        result.notice(draft_notice(ev.missing))
    if meeting is None:
        result.notice(
            f"{ev.year_label}を報告する会議が hyoka.toml にないため、日付は今日の日付（{ev.date_text}）です。"
            "会議の日付にするには hyoka.toml に [[meetings]] を設定し、その会議を指定して作成してください。"
        )
    elif meeting.report_year != year:
        result.notice(
            f"会議 {meeting.id} は {meeting.report_year.label(ws.config.gannen)} を報告する会議として設定されています。"
        )


def _older_drafts(target: Path) -> str:
    """A draft left in the folder beside the file that now replaces it (it must not go on the website)."""
    if not target.is_dir():
        return ""
    older = sorted(
        p.name
        for p in target.iterdir()
        if p.is_file()
        and p.stem.endswith(DRAFT_SUFFIX)
        and (p.with_name(p.stem.removesuffix(DRAFT_SUFFIX) + p.suffix)).is_file()
    )
    if not older:
        return ""
    return (
        "出力先に以前の「案」のファイルが残っています。ホームページには載せないでください（不要なら削除してください）: "
        + "、".join(older)
    )


def _tagged_pdfs(
    ws: Workspace,
    ev: Evaluation,
    year: FiscalYear,
    meeting: Meeting | None,
    draft: bool,
    pack: bool,
    tmp: Path,
    result: PublishResult,
    today: date | None,
) -> list[Path]:
    """資料1 (and the pack) rendered as for the meeting, converted to tagged PDF in ``tmp``.

    資料1 alone needs nothing but the evaluation; the pack is made by the report, which refuses while
    one of the meeting's materials is not there (before anything is written to the output folder).
    """
    from hyoka.report import evaluation, pdf, templates
    from hyoka.report.build import evaluation_filename, make_report

    if pdf.find_soffice() is None:
        result.notice(pdf.HOW_TO_GET)
        return []
    documents = tmp / "docx"
    if pack and meeting is None:
        result.notice("会議が設定されていないため、会議資料一式のPDFは作成しませんでした。")
    if pack and meeting is not None:
        report = make_report(ws, year, meeting_id=meeting.id, out_dir=documents, draft=draft, today=today)
        for notice in report.notices:
            result.notice(notice)
        wanted = [report.files[0]]  # make_report writes 資料1 first
        wanted += [f for f in report.files if f.name.startswith("会議資料一式_")]
    else:
        folders = templates.search_path(ws.root)
        table, _doc = evaluation.render_evaluation(
            ev,
            templates.find_template(templates.EVALUATION, folders),
            documents / evaluation_filename(ev.material_label, year, draft=draft),
            mincho=ws.config.font_mincho,
            gothic=ws.config.font_gothic,
        )
        wanted = [table]
    converted, notice = pdf.convert(wanted, tmp / "pdf", tagged=True, kept="")
    result.notice(notice)
    return converted
