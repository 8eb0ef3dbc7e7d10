"""次第 and 配布資料一覧, rendered with docxtpl from templates a clerk can edit in Word.

The context is built here from the meeting in ``hyoka.toml``; every string is cleaned once, and
docxtpl renders with ``autoescape=True`` (without it ``&`` and ``<`` in data are silently dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyoka.report.templates import apply_fonts, render_docxtpl, save_docx
from hyoka.text import clean_text
from hyoka.workspace import Config, Meeting
from hyoka.years import format_date, format_time

ON_THE_DAY = "当日配布"
"""Meeting key in hyoka.toml: list 「— 当日配布」 in 配布資料一覧 when nothing is handed out on the day."""


@dataclass(frozen=True)
class Styles:
    title: str = "次第 表題"
    meta: str = "次第 日時場所"
    item: str = "次第 項目"
    subitem: str = "次第 議題"
    text: str = "次第 本文"
    list_title: str = "一覧 表題"
    cell: str = "一覧 表"
    cell_center: str = "一覧 表 中央"
    cell_head: str = "一覧 列見出し"
    header_right: str = "ヘッダー 右"
    draft_mark: str = "案"  # character style: the boxed 「案」 of a draft, as on 資料1


STYLES = Styles()


def meeting_context(config: Config, meeting: Meeting, *, draft: bool = False) -> dict[str, Any]:
    """What the 次第 and 配布資料一覧 templates may use.

    A meeting with ``show_empty_distributions``: some committees' lists always say what is handed
    out on the day; with nothing to hand out, the list then ends with a row 「— 当日配布」.
    """
    gannen = config.gannen
    materials = [
        {
            "no": clean_text(m.no),
            "title": clean_text(m.title),
            "distribution": clean_text(m.distribution),
        }
        for m in meeting.materials
    ]
    if meeting.show_empty_distributions and not any(m["distribution"] == ON_THE_DAY for m in materials):
        materials.append({"no": "—", "title": "", "distribution": ON_THE_DAY})
    month_day = f"{meeting.day.month}月{meeting.day.day}日"
    return {
        "committee": clean_text(config.committee),
        "plan_title": clean_text(config.plan_title),
        "secretariat": clean_text(config.secretariat),
        "nendo": meeting.fiscal_year.label(gannen),
        "number": meeting.number,
        "date": format_date(meeting.day, gannen=gannen),
        "time": format_time(meeting.start),
        "place": clean_text(meeting.place),
        "agenda": [clean_text(a) for a in meeting.agenda],
        "materials": materials,
        "month_day": month_day,
        "meeting_label": f"第{meeting.number}回\n({month_day})",
        "report_year": meeting.report_year.label(gannen),
        "draft_mark": "案" if draft else "",
    }


def render_meeting_doc(
    template: Path, context: dict[str, Any], out: Path, *, mincho: str, gothic: str, title: str
) -> tuple[Path, Any]:
    """Render one of the meeting templates to ``out`` (atomically); the path and the Document, which
    the pack takes as it is instead of reading the file back."""
    tpl = render_docxtpl(template, context)
    apply_fonts(tpl.docx, mincho, gothic)
    props = tpl.docx.core_properties
    props.title, props.author, props.last_modified_by = title, context["secretariat"], "hyoka"
    return save_docx(tpl, out), tpl.docx
