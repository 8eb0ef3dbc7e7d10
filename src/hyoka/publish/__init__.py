"""``hyoka publish``: the evaluation for the city's website — HTML, text, open data, tagged PDF.

Everything comes from the same :class:`~hyoka.report.model.Evaluation` as 資料1, loaded by the same
function, so that publication refuses, and drafts, by the same rule as ``hyoka report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from hyoka.files import atomic_write_text
from hyoka.years import FiscalYear

if TYPE_CHECKING:
    from hyoka.workspace import Workspace


@dataclass
class PublishResult:
    files: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def publication_stem(year: FiscalYear, draft: bool) -> str:
    return f"進捗状況及び評価表_{year.short}" + ("_案" if draft else "")


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

    ev, _meeting = load_evaluation(ws, year, meeting_id=meeting_id, draft=draft, today=today)
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
    result = PublishResult()
    result.files.append(atomic_write_text(target / f"{stem}.html", page))
    # A BOM so that a browser or Notepad that sees no charset still reads the text as UTF-8.
    result.files.append(atomic_write_text(target / f"{stem}.txt", text, encoding="utf-8-sig"))
    result.files.append(atomic_write_text(target / f"{stem}.csv", to_csv(rows, fields), encoding="utf-8-sig"))
    result.files.append(atomic_write_text(target / f"{stem}.json", to_json(ev, year, rows, fields)))
    if ev.missing:
        result.notices.append(f"「案」として作成しました。未提出の行が {len(ev.missing)} 行あります。")
    if to_pdf:
        result.files.extend(_tagged_pdfs(ws, year, meeting_id, draft, pack, target, result, today))
    return result


def _tagged_pdfs(
    ws: Workspace,
    year: FiscalYear,
    meeting_id: str | None,
    draft: bool,
    pack: bool,
    target: Path,
    result: PublishResult,
    today: date | None,
) -> list[Path]:
    """資料1 (and the pack) rendered as for the meeting, then converted to tagged PDF."""
    import tempfile

    from hyoka.report import pdf
    from hyoka.report.build import make_report

    if pdf.find_soffice() is None:
        result.notices.append(pdf.HOW_TO_GET)
        return []
    with tempfile.TemporaryDirectory(prefix="hyoka-publish-") as tmp:
        report = make_report(ws, year, meeting_id=meeting_id, out_dir=Path(tmp), draft=draft, today=today)
        wanted = [report.files[0]]  # make_report writes 資料1 first
        if pack:
            packs = [f for f in report.files if f.name.startswith("会議資料一式_")]
            if packs:
                wanted += packs
            else:
                result.notices.append("会議が設定されていないため、会議資料一式のPDFは作成しませんでした。")
        converted, notice = pdf.convert(wanted, target, tagged=True)
        result.notices.extend(report.notices if draft else [])
        if notice:
            result.notices.append(notice)
    return converted
