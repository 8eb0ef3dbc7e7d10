"""The evaluation as open data: one record per department row, with stable, documented field names.

Pure: an :class:`~hyoka.report.model.Evaluation` in, plain dicts and strings out. The same fields in the
same order feed the CSV (Japanese headings, for the residents who open it in Excel) and the JSON
(English keys, for programs); both are documented in the README's 「ホームページへの掲載」 section and
stay the same from year to year.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hyoka.export import spreadsheet_text
from hyoka.report.model import Evaluation
from hyoka.text import split_departments
from hyoka.years import FiscalYear

SCHEMA = "hyoka.opendata/1"


@dataclass(frozen=True)
class Field:
    key: str  # JSON key
    heading: str  # CSV heading
    kind: str  # string | integer | number | boolean | code | list


FIELDS: tuple[Field, ...] = (
    Field("fiscal_year", "年度", "string"),
    Field("fiscal_year_start", "年度開始年", "integer"),
    Field("goal_no", "基本目標No", "string"),
    Field("goal", "基本目標", "string"),
    Field("policy", "基本施策", "string"),
    Field("measure_no", "施策No", "string"),
    Field("measure", "施策", "string"),
    Field("project_no", "事業No", "string"),
    Field("project", "事業名", "string"),
    Field("is_new", "新規", "boolean"),
    Field("department", "担当課", "string"),
    Field("departments", "担当課（課ごと）", "list"),
    Field("achievement", "事業実績・評価理由", "string"),
    Field("rating", "事業評価", "code"),
    Field("outlook", "今後の事業計画・展望", "string"),
    Field("prior_fiscal_year", "前年度", "string"),
    Field("prior_rating", "前年度事業評価", "code"),
)


def records(ev: Evaluation, year: FiscalYear) -> list[dict[str, Any]]:
    """One dict per department row in plan order, keyed by :data:`FIELDS`.

    Ratings are their scale codes (``None`` where there is none: a new project's prior year, or a
    row not yet in, or its departments disagreeing, for a draft); texts keep their paragraphs as line
    breaks.
    """
    codes = {code for code, _ in ev.legend}
    out: list[dict[str, Any]] = []
    for block in ev.blocks:
        measures = dict(block.measures)
        for project in block.projects:
            for row in project.rows:
                department = row.key[1]
                out.append(
                    {
                        "fiscal_year": ev.year_label,
                        "fiscal_year_start": year.start,
                        "goal_no": block.goal_no,
                        "goal": block.goal,
                        "policy": block.policy,
                        "measure_no": project.measure_no,
                        "measure": measures.get(project.measure_no, ""),
                        "project_no": project.no,
                        "project": project.name,
                        "is_new": project.is_new,
                        "department": department,
                        "departments": list(split_departments(department)) or [department],
                        "achievement": "\n".join(row.achievement),
                        # A draft shows a disagreement as 「A／C（不一致）」: no code, so none here.
                        "rating": row.rating if row.rating in codes else None,
                        "outlook": "\n".join(row.outlook),
                        "prior_fiscal_year": ev.prior_label,
                        "prior_rating": row.prior,
                    }
                )
    return out


def to_csv(rows: list[dict[str, Any]], fields: Sequence[Field] = FIELDS) -> str:
    """CSV with Japanese headings; the caller writes it as UTF-8 with a BOM so that Excel opens it.

    As in hyoka's other CSV exports, a text that a spreadsheet would run as a formula (``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return first) gets a leading ``'`` — in every text field, the
    names from the plan too; numbers stay numbers. The JSON carries every text exactly.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([f.heading for f in fields])
    for row in rows:
        writer.writerow([_cell(f, row[f.key]) for f in fields])
    return buf.getvalue()


def _cell(field: Field, value: Any) -> str:
    """Numbers as numbers; every text — a name, a list, a code — made literal for a spreadsheet."""
    if value is None:
        return ""
    if field.kind == "boolean":
        return "1" if value else "0"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if field.kind == "list":
        return spreadsheet_text("・".join(value))
    return spreadsheet_text(str(value))


def to_json(
    ev: Evaluation, year: FiscalYear, rows: list[dict[str, Any]], fields: Sequence[Field] = FIELDS
) -> str:
    """The JSON document; for a workspace's own sheet also every scale its rating columns use."""
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "title": ev.title,
        "draft": ev.draft,  # a draft (「案」) is for checking, never open data
        "fiscal_year": ev.year_label,
        "fiscal_year_start": year.start,
        "publisher": ev.secretariat,
        "scale": [{"code": code, "description": text} for code, text in ev.legend],
        "fields": [{"key": f.key, "heading": f.heading, "type": f.kind} for f in fields],
        "records": rows,
    }
    if ev.prior_legend:  # last year rated by another scale: what its prior_rating codes mean
        document["prior_scale"] = [{"code": code, "description": text} for code, text in ev.prior_legend]
    if ev.sheet is not None:
        document["scales"] = [
            {
                "heading": legend.heading.strip("【】"),
                "levels": [{"code": c, "description": d} for c, d in legend.levels],
            }
            for legend in ev.sheet.legends
        ]
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
