"""The workspace: a folder with ``hyoka.toml``, the plan master and the store.

Every command finds it from the current folder upward, or from ``-w DIR``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import shutil
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any

from hyoka import sheet
from hyoka.files import os_reason
from hyoka.plan import H_NO, Plan, build_plan, headings_for
from hyoka.problems import HyokaError, Problem, problem
from hyoka.resources import SAMPLES, sample_dir
from hyoka.scale import DEFAULT_SCALE, RatingScale
from hyoka.sheet import (
    DEFAULT_LEVELS,
    DEFAULT_SCALE_NAME,
    SheetDefinition,
    check_plan_columns,
    check_plan_values,
    default_sheet,
    parse_sheet,
)
from hyoka.store import Store
from hyoka.tables import read_table
from hyoka.text import clean_text
from hyoka.versions import Lineage, PlanVersion
from hyoka.years import FiscalYear, parse_time

CONFIG_NAME = "hyoka.toml"
STORE_NAME = "hyoka.db"
DISTRIBUTIONS = ("事前配布", "当日配布")
EARLIEST_DAY = date(1926, 12, 25)
# How 資料1 shows the committee's opinions of the earlier meeting: not at all, in a row under the
# project's rows, or in a column of its own.
REPORT_OPINIONS = ("none", "under_row", "column")  # 昭和: the oldest era hyoka writes


@dataclass(frozen=True)
class Material:
    no: str
    title: str
    distribution: str = "事前配布"
    file: Path | None = None
    generated: str | None = (
        None  # "evaluation": the table hyoka renders (資料1); "opinions": 意見と市の考え方
    )
    answers: str | None = None  # for generated = "opinions": the id of the meeting whose opinions it answers


@dataclass(frozen=True)
class Meeting:
    id: str
    number: int
    day: date
    start: time
    place: str
    agenda: tuple[str, ...]
    materials: tuple[Material, ...]
    report_year: FiscalYear
    # Some committees' lists always say what is handed out on the day: with nothing to hand out,
    # the 配布資料一覧 then ends with a row 「— 当日配布」.
    show_empty_distributions: bool = False
    members: tuple[str, ...] = ()  # the committee members (or 委員A…) who get an opinion workbook

    @property
    def fiscal_year(self) -> FiscalYear:
        return FiscalYear.of(self.day)


@dataclass(frozen=True)
class Config:
    committee: str
    plan_title: str
    secretariat: str
    plan_file: Path
    scale: RatingScale
    meetings: tuple[Meeting, ...]
    font_mincho: str = "BIZ UD明朝"
    font_gothic: str = "BIZ UDゴシック"
    gannen: bool = True
    form_password: str = ""
    # 資料1 with the committee's opinions of earlier meetings ([report] opinions, opinion_counts,
    # opinion_meetings): "none" (the default: the table as ever), "under_row" or "column".
    report_opinions: str = "none"
    report_opinion_counts: bool = False
    report_opinion_meetings: tuple[str, ...] = ()  # () = the meetings that reported the year before
    # The evaluation sheet: hyoka.toml's [sheet], or (without one) Koganei's sheet of ``scale``.
    sheet: SheetDefinition = field(default_factory=default_sheet)

    def placeholders(self) -> list[str]:
        """Settings still holding the ○○ that `hyoka init` writes for the clerk to replace."""
        values = {"[committee] name": self.committee, "[committee] secretariat": self.secretariat}
        return [key for key, value in values.items() if "○○" in value]

    def meeting(self, meeting_id: str | None, year: FiscalYear) -> Meeting | None:
        """The meeting named, or the last one that reports on ``year``."""
        if meeting_id:
            for m in self.meetings:
                if m.id == meeting_id:
                    return m
            known = "、".join(m.id for m in self.meetings) or "（なし）"
            raise HyokaError(f"会議「{meeting_id}」は hyoka.toml にありません。設定済みの会議: {known}")
        matching = [m for m in self.meetings if m.report_year == year]
        # A later meeting of the same year that does not table the evaluation (one that answers the
        # committee's opinions) is not where the year is reported.
        tabling = [m for m in matching if any(x.generated == "evaluation" for x in m.materials)]
        return max(tabling or matching, key=lambda m: m.day) if matching else None


# --- the schema of hyoka.toml: every section and key hyoka knows, in one place ----------------------
#
# A key not listed here is an error (a typo such as `require_reason` must never weaken a check by being
# ignored). A later feature adds its key here, and parse_config reads it.


@dataclass(frozen=True)
class Key:
    """One setting: its kind (how it is written) and whether it must be given."""

    kind: str  # text | bool | count | date | time | year | texts | any (its value checked elsewhere)
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A section written ``[name]`` (or the body of one ``[[name]]`` entry)."""

    keys: Mapping[str, Key | Table | Tables | Named]
    loose: bool = (
        False  # a table of the sheet definition: a value of another shape is hyoka.sheet's to report
    )


@dataclass(frozen=True)
class Tables:
    """An array of tables, written ``[[name]]`` once per entry."""

    table: Table


@dataclass(frozen=True)
class Named:
    """Tables under names the clerk chooses, written ``[name.NAME]`` (the scales: ``[scales.self]``)."""

    table: Table


EXPECTED = {
    "text": '文字列（"…"）',
    "bool": " true か false（引用符なし）",
    "count": "1以上の整数",
    "date": " 2024-08-19 のような日付",
    "time": ' "10:00" のような時刻',
    "year": ' "R5" のような年度',
    "texts": '文字列の一覧（["議題1", "議題2"]）',
    "any": "",
}


def _keys(names: Iterable[str], **sub: Key | Table | Tables | Named) -> Table:
    """A table of the sheet definition: its keys are known here, their values checked by hyoka.sheet."""
    return Table({**{n: Key("any") for n in names if n not in sub}, **sub}, loose=True)


_CONDITION = Tables(_keys(("column", "values")))
SHEET_SCHEMA = _keys(
    sheet.SHEET_KEYS,
    levels=Tables(_keys(sheet.LEVEL_KEYS)),
    columns=Tables(
        _keys(
            sheet.COLUMN_KEYS,
            required_when=_CONDITION,
            proposal=_keys(
                sheet.PROPOSAL_KEYS,
                bands=Tables(_keys(("code", "at_least", "below"))),
                when=Tables(_keys(("column", "values", "code"))),
            ),
        )
    ),
)
SCALES_SCHEMA = Named(_keys(sheet.SCALE_KEYS, levels=Tables(_keys(sheet.SCALE_LEVEL_KEYS))))

SCHEMA = Table(
    {
        "committee": Table(
            {
                "name": Key("text", required=True),
                "plan_title": Key("text"),
                "secretariat": Key("text", required=True),
            }
        ),
        "plan": Table({"file": Key("text", required=True)}),
        "report": Table(
            {
                "font_mincho": Key("text"),
                "font_gothic": Key("text"),
                "opinions": Key("text", choices=REPORT_OPINIONS),
                "opinion_counts": Key("bool"),
                "opinion_meetings": Key("texts"),
            }
        ),
        "format": Table({"gannen": Key("bool")}),
        "forms": Table({"password": Key("text")}),
        "scale": Table(
            {
                "note": Key("text"),
                "levels": Tables(
                    Table(
                        {
                            "code": Key("text", required=True),
                            "label": Key("text"),
                            "description": Key("text"),
                            "requires_reason": Key("bool"),
                        }
                    )
                ),
            }
        ),
        "scales": SCALES_SCHEMA,
        "sheet": SHEET_SCHEMA,
        "meetings": Tables(
            Table(
                {
                    "id": Key("text"),
                    "number": Key("count"),
                    "date": Key("date", required=True),
                    "time": Key("time"),
                    "place": Key("text"),
                    "report_year": Key("year"),
                    "agenda": Key("texts"),
                    "show_empty_distributions": Key("bool"),
                    "members": Key("texts"),
                    "materials": Tables(
                        Table(
                            {
                                "no": Key("text"),
                                "title": Key("text", required=True),
                                "distribution": Key("text", choices=DISTRIBUTIONS),
                                "file": Key("text"),
                                "generated": Key("text", choices=("evaluation", "opinions")),
                                "answers": Key("text"),
                            }
                        )
                    ),
                }
            )
        ),
    }
)

Path_ = tuple[str | int, ...]  # a place in the file: keys, and the 0-based index of an [[array]] entry


def _heading(path: Path_) -> str:
    """How a table's place is written in the file: ``[committee]``, ``[[meetings.materials]]``（1・2番目）."""
    names = [p for p in path if isinstance(p, str)]
    numbers = [p + 1 for p in path if isinstance(p, int)]
    if not names:
        return "設定ファイル"
    if not numbers:
        return f"[{'.'.join(names)}]"
    return f"[[{'.'.join(names)}]]（{'の'.join(f'{n}番目' for n in numbers)}）"


def _written(name: str, spec: Key | Table | Tables | Named, parent: Path_) -> str:
    """A key as the clerk writes it: a section at the top as its heading, a key by its name."""
    if not parent and isinstance(spec, Table):
        return f"[{name}]"
    if isinstance(spec, Tables):
        names = [p for p in parent if isinstance(p, str)]
        return f"[[{'.'.join([*names, name])}]]"
    return name


def _value_ok(key: Key, value: Any) -> bool:
    if key.kind == "text":
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    if key.kind == "bool":
        return isinstance(value, bool)
    if key.kind == "count":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if key.kind == "date":
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value))
            except ValueError:
                return False
        return bool(value >= EARLIEST_DAY)
    if key.kind == "time":
        if isinstance(value, time):
            return True
        try:
            parse_time(str(value))
        except ValueError:
            return False
        return isinstance(value, str)
    if key.kind == "year":
        try:
            FiscalYear.parse(value)
        except ValueError:
            return False
        return isinstance(value, str | int) and not isinstance(value, bool)
    if key.kind == "texts":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if key.kind == "any":
        return True
    raise AssertionError(key.kind)


def check_config(data: Mapping[str, Any], text: str = "", file: str = CONFIG_NAME) -> list[Problem]:
    """Every problem of a parsed hyoka.toml at once: unknown keys, values of the wrong kind, missing ones.

    ``text`` is the file's text, used only to name the line of each problem (tomllib gives none).
    """
    lines = key_lines(text)
    found: list[Problem] = []

    def line(path: Path_) -> int | None:
        for end in range(len(path), 0, -1):
            if path[:end] in lines:
                return lines[path[:end]]
        return None

    def add(code: str, path: Path_, **params: Any) -> None:
        found.append(problem(code, file=file, row=line(path), **params))

    def table(spec: Table, value: Mapping[str, Any], path: Path_) -> None:
        for name, item in value.items():
            sub = spec.keys.get(name)
            if sub is None:
                _unknown(spec, name, item, path)
            else:
                entry(sub, name, item, (*path, name), path)
        for name, sub in spec.keys.items():
            if isinstance(sub, Key) and sub.required and name not in value:
                add("config-key-missing", path, where=_heading(path), key=name)

    def _unknown(spec: Table, name: str, item: Any, path: Path_) -> None:
        is_table = isinstance(item, Mapping) or (
            isinstance(item, list) and bool(item) and all(isinstance(i, Mapping) for i in item)
        )
        if not path and is_table:
            bracket = "[[{}]]" if isinstance(item, list) else "[{}]"
            shown = "見出し「" + bracket.format(name) + "」"
        else:
            shown = f"「{name}」"
        close = difflib.get_close_matches(name, list(spec.keys), n=1, cutoff=0.6)
        if name == "requires_reason" and "scales" in path:
            hint = "名前のある評価基準では、理由を必須にするには理由の列に required_when を書いてください。"
        elif close:
            hint = f"「{_written(close[0], spec.keys[close[0]], path)}」の書き間違いではありませんか。"
        else:
            known = "、".join(_written(k, s, path) for k, s in spec.keys.items())
            hint = f"ここに書ける設定: {known}。"
        add("config-key-unknown", (*path, name), where=_heading(path), key=shown, hint=hint)

    def entry(spec: Key | Table | Tables | Named, name: str, value: Any, path: Path_, parent: Path_) -> None:
        if isinstance(spec, Named):
            if isinstance(value, Mapping):  # its type otherwise: hyoka.sheet says it
                for sub_name, body in value.items():
                    if isinstance(body, Mapping):
                        table(spec.table, body, (*path, sub_name))
            return
        if isinstance(spec, Tables) and spec.table.loose and isinstance(value, Mapping):
            value = [value]  # the sheet definition also takes one table where a list is expected
        if isinstance(spec, Table) and spec.loose and not isinstance(value, Mapping):
            return  # a sheet-definition value of another shape: hyoka.sheet reports it
        if (
            isinstance(spec, Tables)
            and spec.table.loose
            and not (isinstance(value, list) and all(isinstance(v, Mapping) for v in value))
        ):
            return
        if isinstance(spec, Table):
            if isinstance(value, Mapping):
                table(spec, value, path)
            else:
                add(
                    "config-wrong-type",
                    path,
                    where=_heading(parent),
                    key=name,
                    expected=f"表（見出し [{'.'.join(str(p) for p in path)}] の下に 名前 = 値）",
                )
            return
        if isinstance(spec, Tables):
            if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
                for i, item in enumerate(value):
                    table(spec.table, item, (*path, i))
            else:
                heading = _written(name, spec, parent)
                add(
                    "config-wrong-type",
                    path,
                    where=_heading(parent),
                    key=name,
                    expected=f"表の並び（1件ごとに見出し {heading} を書き、その下に 名前 = 値）",
                )
            return
        if not _value_ok(spec, value):
            expected = EXPECTED[spec.kind]
            if spec.kind == "date" and isinstance(value, date):
                expected = f" {EARLIEST_DAY.isoformat()} 以降の日付"
            add("config-wrong-type", path, where=_heading(parent), key=name, expected=expected)
        elif spec.kind == "text" and spec.required and not clean_text(str(value)).strip():
            add("config-key-missing", path, where=_heading(parent), key=name)
        elif spec.choices and str(value) not in spec.choices:
            expected = " " + " か ".join(spec.choices)
            add("config-wrong-type", path, where=_heading(parent), key=name, expected=expected)

    table(SCHEMA, data, ())
    if "scale" in data and isinstance(data["scale"], Mapping) and "levels" not in data["scale"]:
        add("config-key-missing", ("scale",), where="[scale]", key="[[scale.levels]]（評価の一覧）")
    return found


_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)


def _key_parts(text: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", text)]


def key_lines(text: str) -> dict[Path_, int]:
    """The 1-based line of each table heading and ``key =`` line, by its place (see ``Path_``).

    A small scan, not a TOML parser: it follows ``[a.b]`` and ``[[a.b]]`` headings (counting the
    entries of each array of tables) and skips the inside of multi-line strings.
    """
    found: dict[Path_, int] = {}
    counts: dict[Path_, int] = {}
    current: Path_ = ()
    in_string: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if in_string is not None:
            if raw.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(raw)
        if header and not _KEY.match(raw):
            names = _key_parts(header.group(2))
            path: Path_ = ()
            for name in names[:-1]:
                path = (*path, name)
                if path in counts:
                    path = (*path, counts[path] - 1)
            path = (*path, names[-1])
            if header.group(1) == "[[":
                counts[path] = counts.get(path, 0) + 1
                found.setdefault(path, number)
                path = (*path, counts[path] - 1)
            found.setdefault(path, number)
            current = path
            continue
        key = _KEY.match(raw)
        if key:
            found.setdefault((*current, *_key_parts(key.group(1))), number)
            rest = raw[key.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_string = quote
    return found


_TOML_REASONS = [
    (
        r"Invalid date or datetime",
        "日付・時刻の書き方が正しくありません（2024-08-19 のように書いてください）",
    ),
    (r"Invalid value", '値の書き方が正しくありません（文字列は "…" で囲んでください）'),
    (r"Invalid statement", "行の書き方が正しくありません（名前 = 値 か [見出し] で書いてください）"),
    (
        r"Expected newline or end of document after a statement",
        '値の後ろに余分な文字があります（1行に 名前 = 値 は1つだけ。文字列は "…" で囲んでください）',
    ),
    (r"Expected '=' after a key", "名前の後に = がありません"),
    (r"Cannot declare (.*) twice", "同じ見出し [{0}] が2回あります"),
    (r"Cannot overwrite a value", "同じ名前の設定が2回あります"),
    (r"Expected '\]' at the end of a table declaration", "見出しを閉じる ] がありません"),
    (r"Expected '\]\]' at the end of an array declaration", "見出しを閉じる ]] がありません"),
    (r"Cannot (?:mutate immutable|redefine) namespace", "同じ名前が見出しと設定の両方に使われています"),
    (
        r"Invalid initial character for a key part",
        "名前に使えない文字があります（名前は半角の英数字と _ - で書きます）",
    ),
    (r"Unclosed array", "一覧（[ ... ]）を閉じる ] がありません"),
    (r"Duplicate inline table key", "{ } の中に同じ名前が2回あります"),
    (r"Unclosed inline table", "{ } を閉じる } がありません"),
    (r"Unescaped '\\\\' in a string", "文字列の中の \\ は \\\\ と書くか、'…' で囲んでください"),
    (r"Invalid hex value|Escaped character is not", "文字列の中の \\u の書き方が正しくありません"),
    (r"Unterminated string", "文字列を閉じる引用符がありません"),
    (r"Illegal character", "文字列に使えない文字（制御文字）があります"),
    (r"Found invalid character (.*)", "使えない文字 {0} があります"),
    (r"Expected (.*)", "{0} がありません"),
]
_IMPOSSIBLE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def toml_problem(exc: tomllib.TOMLDecodeError, text: str, file: str = CONFIG_NAME) -> Problem:
    """A TOML syntax error in Japanese, at its line; an impossible date such as 2024-02-30 as such."""
    message = str(exc)
    where = re.search(r"\(at line (\d+), column (\d+)\)", message)
    lines = text.splitlines()
    row = int(where.group(1)) if where else max(len(lines), 1)
    column = int(where.group(2)) if where else 1
    reason = message.split(" (at ")[0]
    if reason.startswith("Invalid date or datetime") and 0 < row <= len(lines):
        token = _IMPOSSIBLE_DATE.match(lines[row - 1][column - 1 :])
        if token:
            try:
                date.fromisoformat(token.group(0))
            except ValueError:
                return problem("config-date-impossible", file=file, row=row, value=token.group(0))
    for pattern, japanese in _TOML_REASONS:
        m = re.match(pattern, reason)
        if m:
            detail = japanese.format(*m.groups())
            break
    else:
        detail = "書き方が正しくありません"
    return problem("config-syntax", file=file, row=row, detail=detail)


class ConfigError(HyokaError):
    """hyoka.toml has problems: all of them, listed."""

    def __init__(self, path: Path | str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(p.render() for p in problems)
        super().__init__(
            f"{path}: 設定ファイルに{len(problems)}件の誤りがあります。すべて直してから、もう一度実行してください。\n{lines}"
        )


# --- reading hyoka.toml: every value checked for its type, with a message naming where it is ---------


def _wrong(where: str, key: str, expected: str) -> HyokaError:
    return HyokaError(f"hyoka.toml の [{where}] の {key} は{expected}で書いてください。")


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise HyokaError(
            f"hyoka.toml の [{name}] は表（[{name}] の見出しの下に 名前 = 値）で書いてください。"
        )
    return value


def _str(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    """A text value (cleaned: it ends up in Excel and Word); required when there is no default."""
    value = data.get(key, default)
    if value is None:
        raise HyokaError(f"hyoka.toml の [{where}] に {key} を設定してください。")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _wrong(where, key, '文字列（"…"）')
    text = clean_text(str(value)).strip()
    if not text and default is None:
        raise HyokaError(f"hyoka.toml の [{where}] に {key} を設定してください。")
    return text


def _bool(data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise _wrong(where, key, " true か false（引用符なし）")
    return value


def _int(data: Mapping[str, Any], key: str, where: str, default: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _wrong(where, key, "1以上の整数")
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _wrong(where, key, "一覧（[ ... ]）")
    return value


def parse_config(
    data: Mapping[str, Any], root: Path, text: str = "", source: Path | str = CONFIG_NAME
) -> Config:
    """The config from a parsed hyoka.toml (``text``: the file, for line numbers).

    Every problem of the file is raised at once, as a :class:`ConfigError` naming ``source``.
    """
    problems = check_config(data, text)
    definition, sheet_problems = parse_sheet(data, file=CONFIG_NAME)
    # Unknown keys of the definition are the schema's (above, with their line); the rest is the sheet's.
    problems += [p for p in sheet_problems if p.code != "sheet-key-unknown"]
    if any(p.severity == "error" for p in problems):
        raise ConfigError(source, [p for p in problems if p.severity == "error"])
    committee = _section(data, "committee")
    plan = _section(data, "plan")
    report = _section(data, "report")
    forms = _section(data, "forms")
    fmt = _section(data, "format")
    try:
        scale = RatingScale.from_config(_section(data, "scale")) if "scale" in data else DEFAULT_SCALE
    except ValueError as exc:
        raise HyokaError(f"hyoka.toml の [scale]: {exc}") from None
    meetings = _list(data, "meetings", "meetings")
    if definition is not None:
        scale = definition.scales.get(DEFAULT_SCALE_NAME, scale)
    return Config(
        committee=_str(committee, "name", "committee"),
        plan_title=_str(committee, "plan_title", "committee", "地域福祉計画") or "地域福祉計画",
        secretariat=_str(committee, "secretariat", "committee"),
        plan_file=root / _str(plan, "file", "plan"),
        scale=scale,
        meetings=tuple(_meeting(m, i, root) for i, m in enumerate(meetings, 1)),
        font_mincho=_str(report, "font_mincho", "report", "BIZ UD明朝") or "BIZ UD明朝",
        font_gothic=_str(report, "font_gothic", "report", "BIZ UDゴシック") or "BIZ UDゴシック",
        gannen=_bool(fmt, "gannen", "format", True),
        form_password=_str(forms, "password", "forms", ""),
        report_opinions=_str(report, "opinions", "report", "none") or "none",
        report_opinion_counts=_bool(report, "opinion_counts", "report", False),
        report_opinion_meetings=tuple(
            clean_text(str(m)).strip() for m in _list(report, "opinion_meetings", "report")
        ),
        sheet=definition or default_sheet(scale),
    )


def _meeting(m: Any, i: int, root: Path) -> Meeting:
    where = f"meetings の {i} 番目"
    if not isinstance(m, Mapping):
        raise HyokaError(
            f"hyoka.toml の [[meetings]] の {i} 番目は表（[[meetings]] の下に 名前 = 値）で書いてください。"
        )
    day = m.get("date")
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date):
        try:
            day = date.fromisoformat(str(day))
        except ValueError:
            raise _wrong(where, "date", " 2024-08-19 のような日付") from None
    if day < EARLIEST_DAY:
        raise _wrong(where, "date", f" {EARLIEST_DAY.isoformat()} 以降の日付")
    try:
        raw_time = m.get("time", "10:00")
        start = raw_time if isinstance(raw_time, time) else parse_time(_str(m, "time", where, "10:00"))
        report_year = (
            FiscalYear.parse(_str(m, "report_year", where))
            if "report_year" in m
            else FiscalYear.of(day).previous()
        )
    except ValueError as exc:
        raise HyokaError(f"hyoka.toml の [{where}]: {exc}") from None
    materials = []
    for j, mat in enumerate(_list(m, "materials", where), 1):
        mat_where = f"{where} の資料 {j} 番目"
        if not isinstance(mat, Mapping):
            raise HyokaError(
                f"hyoka.toml の [{mat_where}] は表（[[meetings.materials]] の下に 名前 = 値）で書いてください。"
            )
        distribution = _str(mat, "distribution", mat_where, "事前配布")
        if distribution not in DISTRIBUTIONS:
            raise _wrong(mat_where, "distribution", " 事前配布 か 当日配布")
        file = _str(mat, "file", mat_where, "")
        generated = _str(mat, "generated", mat_where, "")
        materials.append(
            Material(
                no=_str(mat, "no", mat_where, str(j)),
                title=_str(mat, "title", mat_where),
                distribution=distribution,
                file=(root / file) if file else None,
                generated=generated or None,
                answers=_str(mat, "answers", mat_where, "") or None,
            )
        )
    number = _int(m, "number", where, i)
    agenda = _list(m, "agenda", where)
    members = _list(m, "members", where)
    if not all(isinstance(x, str) for x in members):
        raise _wrong(where, "members", '文字列の一覧（["委員A", "委員B"]）')
    if not all(isinstance(a, str) for a in agenda):
        raise _wrong(where, "agenda", '文字列の一覧（["議題1", "議題2"]）')
    return Meeting(
        id=_str(m, "id", where, f"{FiscalYear.of(day).short}-{number}"),
        number=number,
        day=day,
        start=start,
        place=_str(m, "place", where, ""),
        agenda=tuple(clean_text(a).strip() for a in agenda),
        materials=tuple(materials),
        report_year=report_year,
        show_empty_distributions=_bool(m, "show_empty_distributions", where, False),
        members=tuple(clean_text(x).strip() for x in members),
    )


@dataclass
class Workspace:
    root: Path
    config: Config
    notices: list[Problem] = field(default_factory=list, init=False, repr=False, compare=False)
    """Notices a command prints once (``plan-version-sheet-recorded``), collected while it runs."""
    _sheets: dict[int, SheetDefinition] = field(default_factory=dict, init=False, repr=False, compare=False)
    _configs: dict[int, Config] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, root: Path) -> Workspace:
        path = root / CONFIG_NAME
        try:
            # utf-8-sig: Windows Notepad long saved UTF-8 with a byte-order mark.
            text = path.read_text(encoding="utf-8-sig")
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(path, [toml_problem(exc, text)]) from None
        except UnicodeDecodeError:
            raise HyokaError(f"{path}: 設定ファイルは UTF-8 で保存してください。") from None
        except OSError as exc:
            raise HyokaError(f"{path}: 設定ファイルを読み込めません（{os_reason(exc)}）。") from None
        return cls(root, parse_config(data, root, text, path))

    @classmethod
    def find(cls, explicit: Path | None = None, start: Path | None = None) -> Workspace:
        if explicit is not None:
            if explicit.is_file():
                raise HyokaError(
                    f"-w には {CONFIG_NAME} のあるフォルダを指定してください（{explicit} はファイルです）。"
                )
            if not explicit.is_dir():
                raise HyokaError(
                    f"フォルダ {explicit} がありません。-w に指定したフォルダの名前と場所を確かめてください。"
                )
            if not (explicit / CONFIG_NAME).is_file():
                raise HyokaError(
                    f"{explicit} は hyoka のワークスペースではありません（{CONFIG_NAME} がありません）。"
                    f"`hyoka init {explicit}` で作成してください。"
                )
            return cls.load(explicit.resolve())
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).is_file():
                return cls.load(folder)
        raise HyokaError(
            "ワークスペースが見つかりません。ワークスペースのフォルダで実行するか、そのフォルダを指定してください。"
            "新しく作るには計画マスタからワークスペースを作成します。",
            hint="init-plan",
        )

    @cached_property
    def plan(self) -> Plan:
        plan, problems = load_plan(self.config.plan_file, self.config.sheet)
        if plan is None or any(p.severity == "error" for p in problems):
            lines = "\n".join(p.render() for p in problems)
            raise HyokaError(f"計画マスタに誤りがあります。`hyoka plan check` で確認してください。\n{lines}")
        return plan

    @property
    def scale(self) -> RatingScale:
        return self.config.scale

    @property
    def sheet(self) -> SheetDefinition:
        """hyoka.toml's sheet definition: the working copy for the next plan version."""
        return self.config.sheet

    def sheet_for(self, year: FiscalYear) -> SheetDefinition:
        """The sheet definition every command working on ``year`` reads: the one stored with the plan
        version in force for that year (hyoka.toml's is the working copy for the next adoption)."""
        return self.version_sheet(self.version(year))

    def version_sheet(self, version: PlanVersion) -> SheetDefinition:
        """The definition adopted with ``version``; one that no longer reads is an error, never
        silently another sheet."""
        found = self._sheets.get(version.id)
        if found is not None:
            return found
        import json

        def invalid(reason: str, errors: Sequence[Problem] = ()) -> HyokaError:
            head = problem("plan-version-sheet-invalid", version=version.label, reason=reason)
            return HyokaError("\n".join([head.render(), *(p.render() for p in errors)]))

        try:
            data = json.loads(version.sheet_json)
        except ValueError:
            raise invalid("JSON として読めません") from None
        if not isinstance(data, dict):
            raise invalid("表の形ではありません")
        if not data:  # '{}': Workspace.store() records hyoka.toml's before any version is read
            raise invalid("定義が記録されていません")
        definition, problems = parse_sheet(data, file=f"計画の版 {version.label}")
        errors = [p for p in problems if p.severity == "error"]
        if definition is None or errors:
            raise invalid(f"{len(errors)} 件の誤り", errors)
        self._sheets[version.id] = definition
        return definition

    def config_for(self, year: FiscalYear) -> Config:
        """hyoka.toml's settings with the sheet (and its default scale) of ``year``'s plan version:
        what the functions taking a ``Config`` (the report) read for that year."""
        version = self.version(year)
        found = self._configs.get(version.id)
        if found is None:
            definition = self.version_sheet(version)
            scale = definition.scales.get(DEFAULT_SCALE_NAME, self.config.scale)
            found = self._configs[version.id] = dataclasses.replace(
                self.config, sheet=definition, scale=scale
            )
        return found

    def sheet_problems(self) -> list[Problem]:
        """What ``hyoka sheet check`` adds to hyoka.toml's own check: the plan columns the sheet reads
        that the plan master lacks, and its typed values (目標値 …) that do not read as numbers."""
        path = self.config.plan_file
        if not path.is_file():
            return []
        table = read_table(path, H_NO, headings_for(self.sheet.levels))
        return [
            *check_plan_columns(self.sheet, table.headings, file=table.source),
            *check_plan_values(self.sheet, table.rows, file=table.source),
        ]

    @property
    def store_path(self) -> Path:
        return self.root / STORE_NAME

    def store(self) -> Store:
        """The store, migrated; a store without any plan version adopts the working copy as version 1."""
        store = Store.open(self.store_path, self._plan_for_migration)
        try:
            if not store.versions():
                from hyoka.versions import first_version, read_extra

                plan = self.plan
                table = read_table(self.config.plan_file, H_NO)
                store.add_version(
                    first_version(plan, FiscalYear.of(date.today()), extra=read_extra(table.rows)),
                    source_file=self.config.plan_file.name,
                    source_sha256=file_sha256(self.config.plan_file),
                    sheet=self.sheet.source,
                )
            else:
                self._record_missing_sheets(store)
        except BaseException:
            store.close()
            raise
        return store

    def _record_missing_sheets(self, store: Store) -> None:
        """The rule for versions adopted before versions kept their sheet (stored ``'{}'``): each of
        their years was made with hyoka.toml's definition, so the first command that opens the store
        records hyoka.toml's, as it is then, with them — once, with a notice."""
        ids = store.record_missing_sheets(self.sheet.source)
        if ids:
            labels = {v.id: v.label for v in store.versions()}
            self.notices.append(
                problem(
                    "plan-version-sheet-recorded",
                    versions="、".join(labels.get(i, str(i)) for i in ids),
                )
            )

    def _plan_for_migration(self) -> tuple[Plan, Any, str, Mapping[str, Any]]:
        table = read_table(self.config.plan_file, H_NO)
        return self.plan, table.rows, file_sha256(self.config.plan_file), self.sheet.source

    # --- plan versions -------------------------------------------------------------------------------

    @cached_property
    def lineage(self) -> Lineage:
        """Every adopted version of the plan (read once per command)."""
        with self.store() as store:
            return store.lineage()

    def version(self, year: FiscalYear) -> PlanVersion:
        """The version of the plan in force for ``year``."""
        return self.lineage.version_for(year)

    def forget_versions(self) -> None:
        """After an adoption: the next ``lineage`` reads the store again."""
        self.__dict__.pop("lineage", None)
        self._sheets.clear()
        self._configs.clear()

    def working_copy_notice(self) -> Problem | None:
        """``plan-working-copy-changed`` when the plan file differs from the latest adopted version;
        ``plan-working-copy-older`` when it is an earlier version's (a later one was adopted from
        another file, e.g. uploaded in the browser); None when it is the latest's, or there is no
        store yet. A broken file is reported as changed."""
        if not self.store_path.exists():
            return None
        versions = self.lineage.versions
        latest = versions[-1]
        with self.store() as store:
            adopted = {v.id: store.source_sha256(v.id) for v in versions}
        sha = file_sha256(self.config.plan_file)
        if adopted[latest.id] and adopted[latest.id] == sha:
            return None  # the very file adopted: no need to read the plan
        plan, problems = load_plan(self.config.plan_file, self.config.sheet)
        valid = plan is not None and not any(p.severity == "error" for p in problems)
        if valid and plan is not None and plan.fingerprint == latest.fingerprint:
            return None
        older = next(
            (
                v
                for v in reversed(versions[:-1])
                if (adopted[v.id] and adopted[v.id] == sha)
                or (valid and plan is not None and plan.fingerprint == v.fingerprint)
            ),
            None,
        )
        if older is not None:
            return problem(
                "plan-working-copy-older",
                plan_file=self.config.plan_file.name,
                old=older.label,
                version=latest.label,
                source=latest.source or "不明",
            )
        return problem(
            "plan-working-copy-changed", plan_file=self.config.plan_file.name, version=latest.label
        )

    def sheet_notice(self) -> tuple[Problem, list[str]] | None:
        """``sheet-working-copy-changed`` when hyoka.toml's sheet definition differs from the one
        stored with the latest adopted version, with the change report (columns by key); None when
        they are the same or there is no store yet."""
        if not self.store_path.exists():
            return None
        latest = self.lineage.versions[-1]
        if latest.sheet_fingerprint == self.sheet.fingerprint:
            return None
        from hyoka.sheet import sheet_changes

        try:
            adopted = self.version_sheet(latest)
        except HyokaError:
            adopted = None  # the stored one does not read: the commands for its years say so
        if adopted == self.sheet:
            return None  # written differently, read the same: nothing a year would show
        changes = sheet_changes(adopted, self.sheet) if adopted is not None else []
        return problem("sheet-working-copy-changed", version=latest.label), changes

    def next_adoption_year(self) -> FiscalYear:
        """The year a changed working copy would be adopted from: after the latest version's year,
        or the current fiscal year if later."""
        latest = self.lineage.versions[-1].from_year
        now = FiscalYear.of(date.today())
        return max(latest.next(), now)

    @property
    def out_dir(self) -> Path:
        return self.root / "out"


def file_sha256(path: Path) -> str:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def load_plan(path: Path, sheet: SheetDefinition | None = None) -> tuple[Plan | None, list[Any]]:
    """The plan master read with the sheet's levels (default: Koganei's), and every problem: with a
    ``sheet``, also the columns it reads that the file lacks and its typed values that do not read."""
    levels = sheet.levels if sheet is not None else DEFAULT_LEVELS
    table = read_table(path, H_NO, headings_for(levels))
    plan, problems = build_plan(table, levels)
    if sheet is not None and plan is not None:
        problems += check_plan_columns(sheet, table.headings, file=table.source)
        problems += check_plan_values(sheet, table.rows, file=table.source)
    return plan, problems


def init_workspace(
    root: Path, plan_file: Path | None, sample: bool, sample_name: str = "koganei"
) -> Workspace:
    """Create a workspace; with ``sample`` the Koganei sample's plan and meeting (or the invented
    ``indicator`` / ``two_stage`` cities' plan and sheet, by ``sample_name``).

    A plan file that already lies in the folder is used where it is, so that there is only ever
    one plan file for the clerk to edit; one from elsewhere is copied in.
    """
    if root.exists() and not root.is_dir():
        raise HyokaError(f"{root} はファイルです。ワークスペースにするフォルダを指定してください。")
    if (root / CONFIG_NAME).exists():
        raise HyokaError(
            f"{root} には既にワークスペースがあります（{CONFIG_NAME}）。別のフォルダを指定してください。"
        )
    if sample and plan_file:
        raise HyokaError(
            "見本と計画マスタは同時に指定できません。どちらか一方にしてください。", hint="init-plan"
        )
    if not sample and plan_file is None:
        raise HyokaError("計画マスタを指定してください（見本の計画で試すこともできます）。", hint="init-plan")
    if sample and sample_name not in SAMPLES:
        raise HyokaError(f"見本「{sample_name}」はありません。使える見本: {'、'.join(SAMPLES)}")
    if plan_file is not None:
        plan, problems = load_plan(plan_file)
        if plan is None or any(p.severity == "error" for p in problems):
            lines = "\n".join(p.render() for p in problems)
            raise HyokaError(f"計画マスタに誤りがあるため作成を中止しました。\n{lines}")
    try:
        root.mkdir(parents=True, exist_ok=True)
        if sample:
            src = sample_dir(sample_name)
            shutil.copy2(src / "plan.csv", root / "plan.csv")
            shutil.copy2(src / CONFIG_NAME, root / CONFIG_NAME)
            if (src / "materials").is_dir():
                shutil.copytree(src / "materials", root / "materials", dirs_exist_ok=True)
        else:
            assert plan_file is not None
            if plan_file.resolve().parent == root.resolve():
                target = plan_file
            else:
                target = root / ("plan" + plan_file.suffix.lower())
                shutil.copy2(plan_file, target)
            (root / CONFIG_NAME).write_text(default_config(target.name), encoding="utf-8")
    except OSError as exc:
        raise HyokaError(
            f"{root} に書き込めません（{os_reason(exc)}）。フォルダの場所と権限を確認してください。"
        ) from None
    ws = Workspace.load(root.resolve())
    ws.store().close()
    return ws


def default_config(plan_name: str) -> str:
    levels = "\n".join(
        f'[[scale.levels]]\ncode = "{r.code}"\nlabel = "{r.label}"\n'
        f'description = "{r.description}"\n'
        f"requires_reason = {'true' if r.requires_reason else 'false'}\n"
        for r in DEFAULT_SCALE.levels
    )
    return f"""# hyoka の設定ファイル（UTF-8 で保存してください）。
# 「○○」の所を自分の市の値に書き換えてください。# から行末まではメモで、hyoka は読みません。
# 名前の書き間違い（例: requires_reason を require_reason）はエラーになり、行番号とともに表示されます。

[committee]
name = "○○市地域福祉推進委員会"        # 委員会名（次第・資料の表題に使います）
plan_title = "地域福祉計画"            # 評価表の表題「○○の進捗状況及び評価表」の○○
secretariat = "○○部地域福祉課"         # 事務局（評価表の表紙に記載）

[plan]
file = "{plan_name}"                   # 計画マスタのファイル（このフォルダからの位置。.xlsx または .csv）

[report]
font_mincho = "BIZ UD明朝"              # 本文の明朝体
font_gothic = "BIZ UDゴシック"          # 見出しのゴシック体
# 前年度の会議でいただいた意見と市の考え方を評価表に載せるときは、次の # を外します（既定は載せない）。
# opinions = "under_row"               # "under_row": 事業の行の下 / "column": 右端の列 / "none": 載せない
# opinion_counts = true                # 集計のページに基本目標ごとの意見の件数
# opinion_meetings = ["R6-1"]          # どの会議の意見か（省略時: 前年度を報告した会議）

[format]
gannen = true                          # true: 1年を「元年」と書く（false: 「1年」）

[forms]
password = ""                          # 調査票のシート保護のパスワード（空欄ならパスワードなし）

# 事業評価の評価基準（良い順に [[scale.levels]] を並べます）。
#   code: 評価の記号 / label: 短い名前 / description: 評価表の凡例に載せる説明
#   requires_reason = true の評価は「今後の事業計画・展望」の記入が必須になります。
[scale]
note = "{DEFAULT_SCALE.note}"   # 評価表の凡例の下に載せる注意書き

{levels}
# 会議（次第・配布資料一覧を作るときに使います）。使うときは行頭の # を消してください。
# [[meetings]]
# id = "R6-1"                          # 会議のID（report --meeting で指定します）
# number = 1                           # 第何回の会議か
# date = 2024-08-19                    # 開催日（引用符なし）
# time = "10:00"                       # 開始時刻
# place = "市役所○階 会議室"           # 会場
# report_year = "R5"                   # 報告する年度（省略時は開催日の前年度）
# show_empty_distributions = false     # true: 当日配布の資料がなくても一覧に「— 当日配布」の行を入れる
# members = ["委員A", "委員B"]          # 委員（hyoka opinions forms で委員ごとの意見票を作ります）
# agenda = ["地域福祉計画の進捗状況及び評価表(令和5年度実績報告)", "次回日程について"]   # 議題（次第に載せます）
#
# [[meetings.materials]]               # 配布資料（1件ごとにこの見出しを書きます）
# no = "1"                             # 資料番号（「資料1」の 1）
# title = "地域福祉計画 進捗状況調査表(R5実績)"   # 資料名
# distribution = "事前配布"            # 事前配布 か 当日配布
# generated = "evaluation"             # evaluation: hyoka が作る評価表（資料1）。Word の資料なら代わりに file = "materials/資料2.docx"
#                                      # opinions: 前の会議の「意見と市の考え方」（answers = "R6-1" のように意見をいただいた会議のID）
"""


# --- adopting a plan version -------------------------------------------------------------------------


@dataclass
class AdoptResult:
    """What ``plan adopt`` found and did: the file's problems, the change report, the blockers."""

    file: Path
    from_year: FiscalYear
    previous: str = ""  # the label of the version in force before from_year ('' for the first)
    replacing: str = ""  # the label of the version this one replaces, if any
    plan_problems: list[Problem] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    sheet_changes: list[str] = field(default_factory=list)
    """What hyoka.toml's sheet definition changes against the version's before (or the one replaced)."""
    problems: list[Problem] = field(default_factory=list)
    blockers: list[Problem] = field(default_factory=list)
    suspected: list[tuple[str, str]] = field(default_factory=list)
    stored: bool = False
    version_id: int = 0
    rows: int = 0

    @property
    def errors(self) -> bool:
        return any(p.severity == "error" for p in (*self.plan_problems, *self.problems))


def adopt_plan(
    ws: Workspace,
    file: Path,
    from_year: FiscalYear,
    *,
    renames: Sequence[tuple[str, str]] = (),
    name: str = "",
    dry_run: bool = False,
    force: bool = False,
) -> AdoptResult:
    """Check ``file``, compare it with the version in force before ``from_year`` and, unless it is a
    dry run or there are errors (or stored rows would lose their place, unless ``force``), store it
    as the version in force from ``from_year`` (replacing the one adopted for that year, if any).
    Nothing stored is ever deleted."""
    from hyoka.store import writer_lock
    from hyoka.versions import (
        accumulate_renames,
        adopt,
        adoption_blockers,
        read_declared,
        read_extra,
        relink,
        render_changes,
        version_for,
    )

    result = AdoptResult(file, from_year)
    plan, plan_problems = load_plan(file, ws.sheet)
    result.plan_problems = list(plan_problems)
    if plan is None or result.errors:
        return result
    table = read_table(file, H_NO)
    with ExitStack() as stack:
        if not dry_run:
            stack.enter_context(writer_lock(ws.store_path))
        store = stack.enter_context(ws.store())
        versions = store.versions()
        if versions and from_year < versions[0].from_year:
            # The first version governs every year before its own: start it before the new one.
            start = min([from_year.previous(), *store.stored_row_ids()])
            if dry_run:
                first = versions[0]
                versions = [
                    PlanVersion(
                        first.id,
                        start,
                        first.rows,
                        first.name,
                        first.renames,
                        first.source,
                        first.fingerprint,
                        first.sheet_json,
                        first.sheet_fingerprint,
                    ),
                    *versions[1:],
                ]
            else:
                store.move_first_version(start)
                versions = store.versions()
        replacing = next((v for v in versions if v.from_year == from_year), None)
        history = [v for v in versions if v.from_year < from_year]
        previous = version_for(history, from_year.previous()) if history else None
        later = [v for v in versions if v.from_year > from_year]
        adoption = adopt(
            previous,
            plan,
            version_id=store.next_version_id(),
            from_year=from_year,
            next_row_id=store.max_row_id() + 1,
            renames=renames,
            history=history,
            declared=read_declared(table.rows),
            extra=read_extra(table.rows),
            name=name or (replacing.name if replacing else ""),
            replacing=replacing,
        )
        result.previous = previous.label if previous else ""
        result.replacing = replacing.label if replacing else ""
        result.changes = render_changes(adoption.changes)
        before = replacing or previous
        if before is not None:
            from hyoka.sheet import sheet_changes

            try:
                result.sheet_changes = sheet_changes(ws.version_sheet(before), ws.sheet)
            except HyokaError:  # the version's own no longer reads: adopting records hyoka.toml's
                result.sheet_changes = [
                    "■ 評価表の定義（記録されていた定義は読めないため、hyoka.toml の定義を記録します）"
                ]
        result.problems = list(adoption.problems)
        result.suspected = list(adoption.changes.suspected_renames)
        labels: dict[int, Any] = {}
        for v in versions:
            labels.update(v.by_id)
        gannen = ws.config.gannen
        result.blockers = [
            b.problem(gannen)
            for b in adoption_blockers(
                store.stored_row_ids(),
                adoption.version.rows,
                from_year,
                until=later[0].from_year if later else None,
                labels=labels,
            )
        ]
        result.version_id = adoption.version.id
        result.rows = len(adoption.version.rows)
        if dry_run or result.errors or (result.blockers and not force):
            return result
        relinked = []
        if later:
            steps = [v.renames for v in history] + [adoption.version.renames] + [later[0].renames]
            relinked.append(relink(adoption.version, later[0], accumulate_renames(steps)))
        store.add_version(
            adoption.version,
            source_file=file.name,
            source_sha256=file_sha256(file),
            replacing=replacing,
            relinked=relinked,
            forced=bool(result.blockers),
            sheet=ws.sheet.source,
        )
        result.stored = True
    ws.forget_versions()
    return result
