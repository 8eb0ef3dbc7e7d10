"""The evaluation sheet as a definition: levels above the project, columns, their types, rules and sources.

Pure core (no I/O): :func:`parse_sheet` reads the ``[sheet]``, ``[scales]`` and ``[scale]`` tables of the
TOML-decoded ``hyoka.toml`` and lists every problem of the definition at once; without a ``[sheet]`` the
sheet is :func:`default_sheet`, Koganei's, exactly as the fixed modules have it. The value functions
(:func:`parse_value`, :func:`compute`, :func:`propose`, :func:`check_row`, :func:`combine_joint`) are what
forms, collect, import, the store, the report and diff call per cell and per row.
See ``docs/design/sheet-definition.md`` for the syntax and the wiring.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Literal

from hyoka.problems import Problem, Severity, problem
from hyoka.scale import DEFAULT_SCALE, Rating, RatingScale
from hyoka.text import circled, clean_text, normalize_code
from hyoka.years import FiscalYear

Source = Literal["plan", "department", "secretariat", "committee", "previous", "computed"]
SOURCES: tuple[Source, ...] = ("plan", "department", "secretariat", "committee", "previous", "computed")
Kind = Literal["text", "number", "rating", "choice"]
KINDS: tuple[Kind, ...] = ("text", "number", "rating", "choice")
NumberFormat = Literal["1", "(1)", "①", "1-1", "none"]
NUMBER_FORMATS: tuple[NumberFormat, ...] = ("1", "(1)", "①", "1-1", "none")
Joint = Literal["join", "agree", "sum"]
Compute = Literal["achievement", "progress"]
COMPUTES: tuple[Compute, ...] = ("achievement", "progress")
Change = Literal["up", "down", "same", "changed"]

MAX_LEVELS = 4
MAX_TEXT_CHARS = 20_000
"""Longest text accepted by default (an Excel cell holds 32,767 characters); as validate.MAX_TEXT_CHARS."""
DEFAULT_SCALE_NAME = "default"
"""The name under which the legacy ``[scale]`` table (or :data:`hyoka.scale.DEFAULT_SCALE`) is known."""
SECRETARIAT_SUBMITTER = "@secretariat"
"""The submitter of a stored entry that carries the secretariat's columns (never a department name)."""
PLAN_FIELDS = ("level", "project", "department", "submitter")
"""Reserved ``from`` values of a plan column; ``level:NAME`` names one level; anything else is a heading."""
PROJECT_HEADINGS = ("事業No", "事業名", "新規", "担当課", "提出課")
HIGHER_TOKENS = frozenset({"↑", "高", "上", "増", "+", "UP", "HIGHER", "高いほど良い", "増加"})
LOWER_TOKENS = frozenset({"↓", "低", "下", "減", "-", "DOWN", "LOWER", "低いほど良い", "減少"})
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_YEAR_HEADING = re.compile(r"^(.*?)\s*[(（]\s*([^()（）]+?)\s*[)）]$")
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PLACEHOLDER = re.compile(r"\s*[(（]?\{(?:year|prior_year|year_short)\}[)）]?")


# --- the definition --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One level of the plan above the project, outermost first (基本目標, 基本施策, 施策)."""

    name: str
    numbered: bool = False
    number_format: NumberFormat = "none"

    def label(self, no: str, outer: Sequence[str] = ()) -> str:
        """How the level's number prints: ``1``, ``(1)``, ``①``, ``1-1`` (outer numbers first) or ''."""
        no = clean_text(no).strip()
        if not self.numbered or self.number_format == "none" or not no:
            return ""
        if self.number_format == "(1)":
            return f"({no})"
        if self.number_format == "①":
            return circled(int(no)) if no.isdigit() and int(no) > 0 else f"({no})"
        if self.number_format == "1-1":
            return "-".join([*(o for o in outer if o), no])
        return no


@dataclass(frozen=True)
class TextType:
    max_length: int = MAX_TEXT_CHARS


@dataclass(frozen=True)
class NumberType:
    """A number; ``unit`` '%' makes it a percentage (``50%``, ``５０％`` read as 50)."""

    unit: str = ""
    unit_column: str | None = None  # a plan column holding each row's unit (人, 件, 回)
    decimals: int = 0
    min: Decimal | None = None
    max: Decimal | None = None
    higher_is_better: bool = True
    direction_column: str | None = None  # a column whose value (↑/↓) says it per row

    @property
    def percent(self) -> bool:
        return normalize_code(self.unit) == "%"


@dataclass(frozen=True)
class RatingType:
    scale: str


@dataclass(frozen=True)
class ChoiceType:
    choices: tuple[str, ...]


ColumnType = TextType | NumberType | RatingType | ChoiceType


@dataclass(frozen=True)
class Condition:
    """True when ``column`` holds one of ``values`` (codes for ratings and choices)."""

    column: str
    values: tuple[str, ...]

    def holds(self, values: Mapping[str, object]) -> bool:
        value = values.get(self.column)
        return not _blank(value) and (value in self.values or _match_code(value, self.values) is not None)


@dataclass(frozen=True)
class Band:
    """Values ``at_least`` ≤ v < ``below`` propose ``code``; a missing bound is open."""

    code: str
    at_least: Decimal | None = None
    below: Decimal | None = None

    def contains(self, value: Decimal) -> bool:
        return (self.at_least is None or value >= self.at_least) and (
            self.below is None or value < self.below
        )


@dataclass(frozen=True)
class Override:
    """A proposal that wins over the bands: ``code`` when the condition holds (D when 未実施)."""

    condition: Condition
    code: str


@dataclass(frozen=True)
class Proposal:
    basis: str  # the computed column the bands read
    bands: tuple[Band, ...]
    overrides: tuple[Override, ...] = ()
    severity: Severity = Severity.WARNING
    reason: str | None = None  # the column that must explain a rating other than the proposal


@dataclass(frozen=True)
class Computation:
    kind: Compute
    actual: str
    target: str
    baseline: str | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.actual, self.target, *([self.baseline] if self.baseline else []))


@dataclass(frozen=True)
class Column:
    key: str
    heading: str  # on the form, in exports; ``{year}`` / ``{prior_year}`` / ``{year_short}`` are filled in
    source: Source
    type: ColumnType = TextType()
    width: float = 20.0  # in the report, mm (scaled to the page's text width as today)
    form_width: float | None = None  # Excel character units; None: from ``width``
    form: bool = True
    report: bool = True
    export: bool = True
    report_heading: str | None = None  # with line breaks; None: ``heading``
    plan_from: str | None = None  # plan: level | level:NAME | project | department | submitter | a heading
    per_year: bool = False  # plan: ``目標値(R6)`` before ``目標値``
    previous_of: str | None = None
    computation: Computation | None = None
    required: Severity | None = None
    required_when: tuple[Condition, ...] = ()
    proposal: Proposal | None = None
    joint: Joint = "join"
    summary: bool = False  # rating/choice: counted per level; computed number: mean per level
    legacy_codes: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Today's codes for the default sheet (column-required → achievement-blank, …): not in the TOML."""

    @property
    def kind(self) -> Kind:
        t = self.type
        if isinstance(t, NumberType):
            return "number"
        if isinstance(t, RatingType):
            return "rating"
        if isinstance(t, ChoiceType):
            return "choice"
        return "text"

    @property
    def is_input(self) -> bool:
        """Typed by someone (a department or the secretariat), so read, checked and stored."""
        return self.source in ("department", "secretariat")

    @property
    def title(self) -> str:
        """The heading without its year placeholder, as messages name the column."""
        return _PLACEHOLDER.sub("", self.heading).replace("\n", "").strip()

    @property
    def excel_width(self) -> float:
        return self.form_width if self.form_width is not None else round(self.width * 0.7, 1)

    def heading_for(self, year: FiscalYear, *, gannen: bool = True, report: bool = False) -> str:
        text = (self.report_heading if report and self.report_heading else None) or self.heading
        return (
            text.replace("{year}", year.label(gannen))
            .replace("{prior_year}", year.previous().label(gannen))
            .replace("{year_short}", year.short)
        )


@dataclass(frozen=True)
class SheetDefinition:
    levels: tuple[Level, ...]
    columns: tuple[Column, ...]
    scales: Mapping[str, RatingScale]
    summary_level: str = ""  # the level the summary page groups by (default: the outermost)
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The TOML tables it was read from, stored with the plan version as JSON."""

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def has(self, key: str) -> bool:
        return any(c.key == key for c in self.columns)

    def of_source(self, *sources: Source) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.source in sources)

    @property
    def input_columns(self) -> tuple[Column, ...]:
        """The department's columns: unlocked on the form, read by collect."""
        return self.of_source("department")

    @property
    def secretariat_columns(self) -> tuple[Column, ...]:
        return self.of_source("secretariat")

    @property
    def committee_column(self) -> Column | None:
        """The rating the committee decides at a meeting (entered through ``hyoka opinions``), if any."""
        found = self.of_source("committee")
        return found[0] if found else None

    @functools.cached_property
    def rating_columns(self) -> tuple[Column, ...]:
        # Cached (the definition is frozen): validation asks for it once per row.
        return tuple(c for c in self.columns if c.kind == "rating" and c.is_input)

    @property
    def default_diff_column(self) -> str | None:
        """What ``diff`` and ``history`` compare without ``--column``: the first rating column."""
        ratings = self.rating_columns
        return ratings[0].key if ratings else None

    @property
    def diff_columns(self) -> tuple[Column, ...]:
        return tuple(
            c for c in self.columns if c.kind in ("rating", "choice", "number") and c.source != "plan"
        )

    def scale_of(self, column: Column) -> RatingScale:
        if not isinstance(column.type, RatingType):
            raise KeyError(column.key)
        return self.scales[column.type.scale]

    @property
    def legend_scales(self) -> tuple[tuple[Column, RatingScale], ...]:
        """Each scale used by a column of the report, once, with the first column that uses it."""
        seen: dict[str, tuple[Column, RatingScale]] = {}
        for c in self.columns:
            if isinstance(c.type, RatingType) and c.report and c.source != "previous":
                seen.setdefault(c.type.scale, (c, self.scales[c.type.scale]))
        return tuple(seen.values())

    @functools.cached_property
    def computed_order(self) -> tuple[Column, ...]:
        """Computed columns, each after the computed columns it reads."""
        done: dict[str, Column] = {}
        pending = [c for c in self.columns if c.computation is not None]
        while pending:
            progressed = False
            for c in list(pending):
                assert c.computation is not None
                if all(k in done or self.column(k).computation is None for k in c.computation.inputs):
                    done[c.key] = c
                    pending.remove(c)
                    progressed = True
            if not progressed:  # parse_sheet refuses cycles; never loop forever on a hand-built sheet
                break
        return tuple(done.values())

    @functools.cached_property
    def plan_value_columns(self) -> tuple[Column, ...]:
        """The plan columns that read a plan master heading, units before numbers (row_values' order).
        Cached, as the others below: collect asks for them once per row of every form."""
        ordered = sorted(self.of_source("plan"), key=lambda c: c.kind != "text")
        return tuple(c for c in ordered if c.plan_from is not None and _is_heading(c.plan_from))

    @functools.cached_property
    def _typed_columns(self) -> dict[tuple[Source, ...], tuple[Column, ...]]:
        return {}

    def typed_columns(self, sources: Sequence[Source]) -> tuple[Column, ...]:
        """The input columns of ``sources`` (a department's form, the secretariat's import), in order."""
        key = tuple(sources)
        found = self._typed_columns.get(key)
        if found is None:
            found = self._typed_columns[key] = tuple(
                c for c in self.columns if c.source in key and c.is_input
            )
        return found

    @functools.cached_property
    def heading_rows(self) -> dict[tuple[object, ...], dict[str, int]]:
        """:func:`heading_keys` of the rows seen so far: every returned form repeats the same title
        lines and header row above its table."""
        return {}

    @functools.cached_property
    def heading_patterns(self) -> tuple[tuple[str | None, re.Pattern[str]], ...]:
        """(role, heading pattern) of the columns :func:`heading_keys` looks for."""
        wanted = [
            c for c in self.columns if c.is_input or c.plan_from in ("project", "department", "submitter")
        ]
        return tuple((c.plan_from if c.source == "plan" else c.key, heading_pattern(c)) for c in wanted)

    @functools.cached_property
    def allowed_codes(self) -> dict[str, tuple[str, ...]]:
        """Each rating and choice column's codes, by key."""
        return {c.key: _allowed(c, self.scales) for c in self.columns}

    @property
    def reads_plan_values(self) -> bool:
        """Whether a plan column reads a plan master heading (指標, 目標値): rows then have typed plan values."""
        return any(c.plan_from and _is_heading(c.plan_from) for c in self.of_source("plan"))

    @property
    def plan_headings(self) -> tuple[str, ...]:
        """The headings of the plan master this sheet reads: the level rule, the project's, the extras."""
        extras = [c.plan_from for c in self.of_source("plan") if c.plan_from and _is_heading(c.plan_from)]
        return tuple(dict.fromkeys((*plan_headings(self.levels), *(e for e in extras if e))))

    @property
    def fingerprint(self) -> str:
        return source_fingerprint(self.source)


def source_json(source: Mapping[str, Any]) -> str:
    """A definition's tables as stored with a plan version (``plan_versions.sheet``)."""
    return json.dumps(source, ensure_ascii=False, sort_keys=True, default=str)


def source_fingerprint(source: Mapping[str, Any]) -> str:
    """The fingerprint of a definition's tables: the same for hyoka.toml's and for the JSON stored
    with a version (forms carry it as ``sheet_fingerprint``)."""
    return hashlib.sha256(source_json(source).encode()).hexdigest()[:16]


def _is_heading(value: str) -> bool:
    return value not in PLAN_FIELDS and not value.startswith("level:")


# --- the default sheet (Koganei's, as the fixed modules have it) ---------------------------------------

DEFAULT_LEVELS = (
    Level("基本目標", True, "1"),
    Level("基本施策", False, "none"),
    Level("施策", True, "(1)"),
)


def default_sheet(scale: RatingScale = DEFAULT_SCALE) -> SheetDefinition:
    """Today's sheet: 施策 | 個別事業・取り組み | 担当課 | 事業実績・評価理由 | 前年度事業評価 | 事業評価 | 今後の事業計画・展望.

    Form widths are forms.columns'; report widths are report.evaluation.GRID's in mm (the project column
    is that grid's two columns 13 + 30). ``requires_reason`` of the scale becomes the 今後 column's
    required-when rule; every rule keeps today's code.
    """
    reason_codes = tuple(r.code for r in scale.levels if r.requires_reason)
    rating = RatingType(DEFAULT_SCALE_NAME)
    columns = (
        Column("measure", "施策", "plan", width=11, form_width=16, plan_from="level"),
        Column(
            "project",
            "個別事業・取り組み",
            "plan",
            width=43,
            form_width=30,
            plan_from="project",
            report_heading="【個別事業・取り組み】",
        ),
        Column("department", "担当課", "plan", width=31, form_width=14, plan_from="department"),
        Column(
            "achievement",
            "事業実績・評価理由 ({year})",
            "department",
            TextType(MAX_TEXT_CHARS),
            width=78,
            form_width=60,
            report_heading="事業実績・評価理由\n({year})",
            required=Severity.ERROR,
            legacy_codes={"column-required": "achievement-blank"},
        ),
        Column(
            "prior",
            "前年度\n事業評価",  # as forms print it: broken where the words meet
            "previous",
            rating,
            width=13,
            form_width=9,
            report_heading="前年度\n事業\n評価",
            previous_of="rating",
            joint="agree",
        ),
        Column(
            "rating",
            "事業評価",
            "department",
            rating,
            width=13,
            form_width=9,
            report_heading="事業\n評価",
            required=Severity.ERROR,
            joint="agree",
            summary=True,
            legacy_codes={
                "column-required": "rating-blank",
                "choice-not-in-list": "rating-not-in-scale",
                "choice-normalized": "rating-normalized",
                "joint-value-conflict": "joint-rating-conflict",
            },
        ),
        Column(
            "outlook",
            "今後の事業計画・展望",
            "department",
            TextType(MAX_TEXT_CHARS),
            width=78,
            form_width=50,
            required=Severity.WARNING,
            required_when=(Condition("rating", reason_codes),) if reason_codes else (),
            legacy_codes={"column-required": "outlook-blank", "column-required-when": "reason-missing"},
        ),
    )
    source: dict[str, Any] = {"scale": _scale_source(scale)}
    return SheetDefinition(
        DEFAULT_LEVELS, columns, {DEFAULT_SCALE_NAME: scale}, DEFAULT_LEVELS[0].name, source
    )


def _scale_source(scale: RatingScale) -> dict[str, Any]:
    return {
        "note": scale.note,
        "levels": [
            {
                "code": r.code,
                "label": r.label,
                "description": r.description,
                "requires_reason": r.requires_reason,
            }
            for r in scale.levels
        ],
    }


def plan_headings(levels: Sequence[Level]) -> tuple[str, ...]:
    """The plan master's headings: for each level, outermost first, ``<name>No`` when it is numbered and
    ``<name>``; then ``事業No | 事業名 | 新規 | 担当課 | 提出課``. The default levels give today's headings."""
    out: list[str] = []
    for level in levels:
        if level.numbered:
            out.append(f"{level.name}No")
        out.append(level.name)
    return (*out, *PROJECT_HEADINGS)


# --- reading the definition ------------------------------------------------------------------------


LEVEL_KEYS = ("name", "numbered", "number_format")
COLUMN_KEYS = (
    "key",
    "heading",
    "report_heading",
    "source",
    "type",
    "width",
    "form_width",
    "form",
    "report",
    "export",
    "from",
    "per_year",
    "of",
    "compute",
    "actual",
    "target",
    "baseline",
    "max_length",
    "unit",
    "unit_column",
    "decimals",
    "min",
    "max",
    "higher_is_better",
    "direction_column",
    "scale",
    "choices",
    "required",
    "required_when",
    "proposal",
    "joint",
    "summary",
)
PROPOSAL_KEYS = ("from", "bands", "when", "severity", "reason")
SHEET_KEYS = ("levels", "columns", "summary_level")
SCALE_KEYS = ("levels", "note")
SCALE_LEVEL_KEYS = ("code", "label", "description")


class _Parser:
    """Collects every problem of a definition; each reader returns a usable default after a problem."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, code: str, **params: Any) -> None:
        self.problems.append(problem(code, file=self.file, **params))

    def keys(self, data: Mapping[str, Any], known: Sequence[str], where: str, extra_hint: str = "") -> None:
        for key in data:
            if key in known:
                continue
            near = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
            hint = f"「{near[0]}」の誤りではありませんか。" if near else f"使える項目: {', '.join(known)}。"
            self.add("sheet-key-unknown", where=where, key=key, hint=hint + extra_hint)

    def table(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.add("sheet-value-type", where=where, key=key, expected="表（{ ... } または [見出し]）")
            return None
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.add("sheet-value-missing", where=where, key=key, expected='文字列 "…"')
            return None
        if not isinstance(value, str):
            self.add("sheet-value-type", where=where, key=key, expected='文字列（"…"）')
            return None
        text = clean_text(value).strip()
        if not text and required:
            self.add("sheet-value-missing", where=where, key=key, expected='文字列 "…"')
            return None
        return text

    def flag(self, data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.add("sheet-value-type", where=where, key=key, expected=" true か false（引用符なし）")
            return default
        return value

    def number(self, data: Mapping[str, Any], key: str, where: str) -> Decimal | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add("sheet-value-type", where=where, key=key, expected="数値（引用符なし）")
            return None
        return Decimal(str(value))

    def count(self, data: Mapping[str, Any], key: str, where: str, default: int, low: int, high: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add("sheet-value-type", where=where, key=key, expected=f"{low}から{high}までの整数")
            return default
        return value

    def choice(
        self, data: Mapping[str, Any], key: str, where: str, allowed: Sequence[str], default: str
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            self.add("sheet-value-type", where=where, key=key, expected='文字列（"…"）')
            return default
        if value in allowed:
            return value
        near = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.5)
        hint = f"「{near[0]}」の誤りではありませんか。" if near else ""
        self.add(
            "sheet-value-invalid",
            where=where,
            key=key,
            value=value,
            hint=f"{hint}使える値: {', '.join(allowed)}。",
        )
        return default

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value
        ):
            self.add("sheet-value-type", where=where, key=key, expected='文字列の一覧（["…", "…"]）')
            return ()
        return tuple(clean_text(str(v)).strip() for v in value)

    def items(self, data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
        value = data.get(key, [])
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            self.add("sheet-value-type", where=where, key=key, expected="表の一覧（[[…]] または [{…}, {…}]）")
            return []
        return value


def parse_sheet(
    data: Mapping[str, Any], *, file: str | None = None
) -> tuple[SheetDefinition | None, list[Problem]]:
    """The sheet a TOML-decoded ``hyoka.toml`` defines, and every problem of the definition at once.

    Without a ``[sheet]`` table it is :func:`default_sheet` of the legacy ``[scale]`` (or the built-in
    scale), exactly as today. The sheet is None when any problem is an error.
    """
    p = _Parser(file)
    scales = _parse_scales(p, data)
    if DEFAULT_SCALE_NAME not in scales and "scale" not in data:
        scales[DEFAULT_SCALE_NAME] = DEFAULT_SCALE  # as workspace.py: no [scale] is the built-in scale
    raw = data.get("sheet")
    if raw is None:
        scale = scales.get(DEFAULT_SCALE_NAME, DEFAULT_SCALE)
        return (None if p.problems else default_sheet(scale)), p.problems
    if not isinstance(raw, Mapping):
        p.add("sheet-value-type", where="hyoka.toml", key="sheet", expected="表（[sheet]）")
        return None, p.problems
    p.keys(raw, SHEET_KEYS, "[sheet]")
    levels = _parse_levels(p, raw)
    summary_level = p.text(raw, "summary_level", "[sheet]") or (levels[0].name if levels else "")
    if levels and summary_level not in {lv.name for lv in levels}:
        p.add(
            "sheet-value-invalid",
            where="[sheet]",
            key="summary_level",
            value=summary_level,
            hint=f"[[sheet.levels]] の name（{'、'.join(lv.name for lv in levels)}）のいずれかにしてください。",
        )
    columns = _parse_columns(p, raw, scales, levels)
    source = {k: data[k] for k in ("scale", "scales", "sheet") if k in data}
    if p.problems and any(x.severity == Severity.ERROR for x in p.problems):
        return None, p.problems
    return SheetDefinition(tuple(levels), tuple(columns), scales, summary_level, source), p.problems


def _parse_scales(p: _Parser, data: Mapping[str, Any]) -> dict[str, RatingScale]:
    scales: dict[str, RatingScale] = {}
    if "scale" in data:
        legacy = p.table(data, "scale", "hyoka.toml")
        if legacy is not None:
            # Read exactly as workspace.py reads it today (requires_reason included).
            try:
                scales[DEFAULT_SCALE_NAME] = RatingScale.from_config(legacy)
            except ValueError as exc:
                p.add("sheet-scale-invalid", where="[scale]", reason=str(exc))
    named = p.table(data, "scales", "hyoka.toml")
    for name, body in (named or {}).items():
        where = f"[scales.{name}]"
        if name in scales:
            p.add("sheet-duplicate", where="[scales]", key="名前", value=name, first="[scale]")
            continue
        if not isinstance(body, Mapping):
            p.add("sheet-value-type", where=where, key=name, expected="表（[scales.名前]）")
            continue
        p.keys(body, SCALE_KEYS, where)
        levels = []
        for i, level in enumerate(p.items(body, "levels", where), 1):
            lw = f"{where} の levels {i} 番目"
            hint = ""
            if "requires_reason" in level:
                hint = "理由を必須にするには、理由の列に required_when を書いてください。"
            p.keys(level, SCALE_LEVEL_KEYS, lw, hint)
            code = level.get("code")
            if isinstance(code, bool) or not isinstance(code, str | int) or not normalize_code(code):
                p.add("sheet-value-missing", where=lw, key="code", expected='評価のコード "A" など')
                continue
            label = p.text(level, "label", lw) or ""
            description = p.text(level, "description", lw) or label
            levels.append(Rating(normalize_code(code), label, description))
        note = p.text(body, "note", where) or ""
        try:
            scales[name] = RatingScale(tuple(levels), note)
        except ValueError as exc:
            p.add("sheet-scale-invalid", where=where, reason=str(exc))
    return scales


def _parse_levels(p: _Parser, raw: Mapping[str, Any]) -> list[Level]:
    items = p.items(raw, "levels", "[sheet]")
    if not 1 <= len(items) <= MAX_LEVELS:
        p.add("sheet-levels-count", count=len(items))
    levels: list[Level] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items, 1):
        where = f"[[sheet.levels]] の {i} 番目"
        p.keys(item, LEVEL_KEYS, where)
        name = p.text(item, "name", where, required=True)
        if name is None:
            continue
        if name in seen:
            p.add("sheet-duplicate", where=where, key="name", value=name, first=f"{seen[name]} 番目")
            continue
        if name in PROJECT_HEADINGS or f"{name}No" in PROJECT_HEADINGS:
            p.add(
                "sheet-value-invalid",
                where=where,
                key="name",
                value=name,
                hint=f"計画マスタの事業の見出し（{' | '.join(PROJECT_HEADINGS)}）と重なる名前は使えません。",
            )
            continue
        seen[name] = i
        numbered = p.flag(item, "numbered", where, False)
        fmt = p.choice(item, "number_format", where, NUMBER_FORMATS, "1" if numbered else "none")
        if not numbered and fmt != "none":
            p.add(
                "sheet-value-invalid",
                where=where,
                key="number_format",
                value=fmt,
                hint='番号のない階層（numbered = false）は "none" にしてください。',
            )
        levels.append(Level(name, numbered, fmt))  # type: ignore[arg-type]  # checked against NUMBER_FORMATS
    return levels


@dataclass
class _Draft:
    """A column as read, before the references between columns are resolved."""

    where: str
    data: Mapping[str, Any]
    column: Column


def _parse_columns(
    p: _Parser, raw: Mapping[str, Any], scales: Mapping[str, RatingScale], levels: Sequence[Level]
) -> list[Column]:
    drafts: list[_Draft] = []
    keys: dict[str, str] = {}
    headings: dict[str, str] = {}
    for i, item in enumerate(p.items(raw, "columns", "[sheet]"), 1):
        label = item.get("key") if isinstance(item.get("key"), str) else None
        where = f"[[sheet.columns]] の {i} 番目" + (f'（key = "{label}"）' if label else "")
        draft = _parse_column(p, item, where, scales, levels)
        if draft is None:
            continue
        c = draft.column
        if c.key in keys:
            p.add("sheet-duplicate", where=where, key="key", value=c.key, first=keys[c.key])
            continue
        if c.heading in headings:
            p.add("sheet-duplicate", where=where, key="heading", value=c.heading, first=headings[c.heading])
        keys[c.key], headings[c.heading] = where, where
        if c.source == "committee" and any(d.column.source == "committee" for d in drafts):
            # One rating per project and meeting is what the opinions' tables and workbooks carry.
            first = next(d.where for d in drafts if d.column.source == "committee")
            p.add("sheet-duplicate", where=where, key="source", value="committee", first=first)
        drafts.append(draft)
    if "columns" not in raw:
        p.add("sheet-value-missing", where="[sheet]", key="columns", expected="[[sheet.columns]] の一覧")
    elif drafts and not any(d.column.source == "department" for d in drafts):
        p.add("sheet-no-input")
    by_key = {d.column.key: d for d in drafts}
    resolved = [_resolve(p, d, by_key, scales) for d in drafts]
    _check_cycles(p, {c.key: c for c in resolved})
    return resolved


def _parse_column(
    p: _Parser,
    item: Mapping[str, Any],
    where: str,
    scales: Mapping[str, RatingScale],
    levels: Sequence[Level],
) -> _Draft | None:
    p.keys(item, COLUMN_KEYS, where)
    key = p.text(item, "key", where, required=True)
    heading = p.text(item, "heading", where, required=True)
    if key is not None and not _KEY.fullmatch(key):
        p.add(
            "sheet-value-invalid",
            where=where,
            key="key",
            value=key,
            hint="key は英小文字で始まる英小文字・数字・_ の名前（例: actual, prior_rating）にしてください。",
        )
        key = None
    source: Source = p.choice(item, "source", where, SOURCES, "department")  # type: ignore[assignment]
    if "source" not in item:
        p.add("sheet-value-missing", where=where, key="source", expected=" / ".join(SOURCES))
    width = p.number(item, "width", where)
    form_width = p.number(item, "form_width", where)
    for name, w in (("width", width), ("form_width", form_width)):
        if w is not None and not Decimal(1) <= w <= Decimal(300):
            p.add("sheet-value-type", where=where, key=name, expected="1から300までの数値")
    default_kind = {"computed": "number", "previous": ""}.get(source, "text")
    kind = p.choice(item, "type", where, KINDS, default_kind or "text") if "type" in item else default_kind
    if source == "previous" and "type" in item:
        p.add(
            "sheet-value-invalid",
            where=where,
            key="type",
            value=str(item["type"]),
            hint='前年度の値の列（source = "previous"）は of の列の型を使うので、type は書かないでください。',
        )
    if source == "computed" and kind != "number":
        p.add("sheet-value-invalid", where=where, key="type", value=kind, hint='計算する列は "number" です。')
        kind = "number"
    if source == "committee" and kind != "rating":
        p.add(
            "sheet-value-invalid",
            where=where,
            key="type",
            value=kind,
            hint='委員会が決める列（source = "committee"）は評価の列（type = "rating"）だけです。',
        )
        kind = "rating"
    ctype = _parse_type(p, item, where, kind or "text", scales, source)
    required = _parse_required(p, item, where)
    joint_default: Joint = "join" if kind in ("text", "") else "agree"
    joint = p.choice(item, "joint", where, ("join", "agree", "sum"), joint_default)
    if joint == "sum" and kind != "number":
        p.add(
            "sheet-value-invalid",
            where=where,
            key="joint",
            value=joint,
            hint='"sum" は数値の列だけに使えます。',
        )
    if joint == "join" and kind not in ("text", ""):
        p.add(
            "sheet-value-invalid",
            where=where,
            key="joint",
            value=joint,
            hint='"join" は文章の列だけに使えます。',
        )
    plan_from: str | None = None
    if source == "plan":
        plan_from = p.text(item, "from", where) or heading
        if plan_from and plan_from.startswith("level:") and plan_from[6:] not in {lv.name for lv in levels}:
            p.add(
                "sheet-value-invalid",
                where=where,
                key="from",
                value=plan_from,
                hint=f"level: の後は [[sheet.levels]] の name（{'、'.join(lv.name for lv in levels)}）にしてください。",
            )
    for name in ("from", "per_year"):
        if name in item and source != "plan":
            p.add(
                "sheet-value-invalid",
                where=where,
                key=name,
                value=str(item[name]),
                hint='source = "plan" の列だけに使えます。',
            )
    if source in ("plan", "previous", "computed") and (required is not None or "required_when" in item):
        p.add(
            "sheet-value-invalid",
            where=where,
            key="required",
            value=str(item.get("required", item.get("required_when"))),
            hint="必須の指定は記入する列（department / secretariat）だけに使えます。",
        )
        required = None
    if item.get("summary") is True and kind not in ("rating", "choice", "number"):
        p.add(
            "sheet-value-invalid",
            where=where,
            key="summary",
            value="true",
            hint="集計（summary）は評価・選択・数値の列だけに使えます。",
        )
    if key is None or heading is None:
        return None
    computation = None
    if source == "computed":
        kind_c = p.choice(item, "compute", where, COMPUTES, "achievement")
        if "compute" not in item:
            p.add("sheet-value-missing", where=where, key="compute", expected=" / ".join(COMPUTES))
        actual = p.text(item, "actual", where, required=True) or ""
        target = p.text(item, "target", where, required=True) or ""
        baseline = p.text(item, "baseline", where, required=kind_c == "progress")
        computation = Computation(kind_c, actual, target, baseline)  # type: ignore[arg-type]
    previous_of = p.text(item, "of", where, required=source == "previous") if source == "previous" else None
    if "of" in item and source != "previous":
        p.add(
            "sheet-value-invalid",
            where=where,
            key="of",
            value=str(item["of"]),
            hint='source = "previous" の列だけに使えます。',
        )
    column = Column(
        key=key,
        heading=heading,
        source=source,
        type=ctype,
        width=float(width) if width is not None else 20.0,
        form_width=float(form_width) if form_width is not None else None,
        form=p.flag(item, "form", where, source not in ("secretariat", "committee")),
        report=p.flag(item, "report", where, True),
        export=p.flag(item, "export", where, True),
        report_heading=(p.text(item, "report_heading", where) or None),
        plan_from=plan_from,
        per_year=p.flag(item, "per_year", where, False),
        previous_of=previous_of,
        computation=computation,
        required=required,
        joint=joint,  # type: ignore[arg-type]  # checked above
        summary=p.flag(
            item, "summary", where, kind == "rating" and source in ("department", "secretariat", "committee")
        ),
    )
    return _Draft(where, item, column)


def _parse_type(
    p: _Parser, item: Mapping[str, Any], where: str, kind: str, scales: Mapping[str, RatingScale], source: str
) -> ColumnType:
    own = {
        "text": ("max_length",),
        "number": ("unit", "unit_column", "decimals", "min", "max", "higher_is_better", "direction_column"),
        "rating": ("scale",),
        "choice": ("choices",),
    }
    for other, names in own.items():
        if other == kind:
            continue
        for name in names:
            if name in item and not (name in own.get(kind, ()) or source == "previous"):
                p.add(
                    "sheet-value-invalid",
                    where=where,
                    key=name,
                    value=str(item[name]),
                    hint=f'{name} は type = "{other}" の列の項目です。',
                )
    if kind == "number":
        low, high = p.number(item, "min", where), p.number(item, "max", where)
        if low is not None and high is not None and low > high:
            p.add("sheet-range-invalid", where=where, min=low, max=high)
        return NumberType(
            unit=p.text(item, "unit", where) or "",
            unit_column=p.text(item, "unit_column", where),
            decimals=p.count(item, "decimals", where, 1 if source == "computed" else 0, 0, 6),
            min=low,
            max=high,
            higher_is_better=p.flag(item, "higher_is_better", where, True),
            direction_column=p.text(item, "direction_column", where),
        )
    if kind == "rating":
        name = p.text(item, "scale", where) or DEFAULT_SCALE_NAME
        if name not in scales:
            known = "、".join(scales) or "（なし）"
            near = difflib.get_close_matches(name, list(scales), n=1, cutoff=0.5)
            hint = f"「{near[0]}」の誤りではありませんか。" if near else ""
            p.add("sheet-scale-unknown", where=where, value=name, hint=f"{hint}定義済みの評価基準: {known}。")
        return RatingType(name)
    if kind == "choice":
        choices = p.strings(item, "choices", where)
        if len(choices) < 2:
            p.add("sheet-value-missing", where=where, key="choices", expected='2つ以上の選択肢 ["…", "…"]')
        codes = [normalize_code(c) for c in choices]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            p.add("sheet-duplicate", where=where, key="choices", value="・".join(twice), first="同じ一覧の中")
        return ChoiceType(choices)
    return TextType(p.count(item, "max_length", where, MAX_TEXT_CHARS, 1, 32_000))


def _parse_required(p: _Parser, item: Mapping[str, Any], where: str) -> Severity | None:
    value = item.get("required", False)
    if value is True or value == "error":
        return Severity.ERROR
    if value == "warning":
        return Severity.WARNING
    if value is not False:
        p.add("sheet-value-type", where=where, key="required", expected=' true、false、"warning" のいずれか')
    return None


def _resolve(
    p: _Parser, d: _Draft, by_key: Mapping[str, _Draft], scales: Mapping[str, RatingScale]
) -> Column:
    """Check the references to other columns; a previous column takes the type of its ``of`` column."""
    c, where, item = d.column, d.where, d.data

    def ref(key: str, value: str | None, *kinds: str, sources: Sequence[str] = ()) -> Column | None:
        if value is None:
            return None
        target = by_key.get(value)
        if target is None:
            near = difflib.get_close_matches(value, list(by_key), n=1, cutoff=0.5)
            hint = f"「{near[0]}」の誤りではありませんか。" if near else f"列の key: {', '.join(by_key)}。"
            p.add("sheet-column-unknown", where=where, key=key, value=value, hint=hint)
            return None
        t = target.column
        kind = t.kind if t.source != "previous" or t.previous_of is None else _previous_kind(by_key, t)
        if (kinds and kind not in kinds) or (sources and t.source not in sources):
            p.add(
                "sheet-column-kind",
                where=where,
                key=key,
                value=value,
                actual=f'{_KIND_JA[kind]}（source = "{t.source}"）',
                expected="・".join(_KIND_JA[k] for k in kinds) if kinds else "・".join(sources),
            )
            return None
        return t

    column = c
    if c.source == "previous" and c.previous_of is not None:
        of = ref("of", c.previous_of)
        if of is not None:
            if of.source == "previous":
                p.add(
                    "sheet-column-kind",
                    where=where,
                    key="of",
                    value=of.key,
                    actual="前年度の値",
                    expected="記入・計算・計画",
                )
            column = dataclasses.replace(
                column, type=of.type, joint=of.joint if of.kind != "text" else "join"
            )
    if c.computation is not None:
        for name in ("actual", "target", "baseline"):
            ref(name, getattr(c.computation, name) or None, "number")
    if isinstance(c.type, NumberType):
        ref("unit_column", c.type.unit_column, "text", "choice")
        ref("direction_column", c.type.direction_column, "text", "choice")
    conditions = []
    for i, cond in enumerate(p.items(item, "required_when", where), 1):
        cw = f"{where} の required_when {i} 番目"
        p.keys(cond, ("column", "values"), cw)
        key = p.text(cond, "column", cw, required=True)
        values = p.strings(cond, "values", cw)
        if not values:
            p.add("sheet-value-missing", where=cw, key="values", expected='値の一覧 ["C", "D"]')
        target = ref("required_when", key, "rating", "choice")
        if target is not None:
            values = _check_values(p, cw, target, values, scales, by_key)
            conditions.append(Condition(target.key, values))
    column = dataclasses.replace(column, required_when=tuple(conditions))
    raw_proposal = item.get("proposal")
    if raw_proposal is not None:
        if c.kind != "rating" or not c.is_input:
            p.add(
                "sheet-value-invalid",
                where=where,
                key="proposal",
                value="…",
                hint='提案は記入する評価の列（type = "rating"）だけに書けます。',
            )
        elif not isinstance(raw_proposal, Mapping):
            p.add("sheet-value-type", where=where, key="proposal", expected="表（[sheet.columns.proposal]）")
        else:
            column = dataclasses.replace(
                column, proposal=_parse_proposal(p, raw_proposal, where, c, ref, scales, by_key)
            )
    return column


_KIND_JA = {"text": "文章", "number": "数値", "rating": "評価", "choice": "選択", "": "前年度の値"}


def _previous_kind(by_key: Mapping[str, _Draft], c: Column) -> str:
    of = by_key.get(c.previous_of or "")
    return of.column.kind if of is not None else ""


def _check_values(
    p: _Parser,
    where: str,
    target: Column,
    values: Sequence[str],
    scales: Mapping[str, RatingScale],
    by_key: Mapping[str, _Draft],
) -> tuple[str, ...]:
    allowed = _allowed(target, scales)
    if not allowed:  # the column's scale is unknown: that is said once, at the column
        return tuple(values)
    out = []
    for v in values:
        code = _match_code(v, allowed)
        if code is None:
            p.add(
                "sheet-value-not-in-column",
                where=where,
                key="values",
                value=v,
                column=target.heading,
                choices="・".join(allowed),
            )
        else:
            out.append(code)
    return tuple(out)


def _allowed(column: Column, scales: Mapping[str, RatingScale]) -> tuple[str, ...]:
    if isinstance(column.type, RatingType):
        scale = scales.get(column.type.scale)
        return tuple(scale.codes) if scale is not None else ()
    if isinstance(column.type, ChoiceType):
        return column.type.choices
    return ()


def _parse_proposal(
    p: _Parser,
    raw: Mapping[str, Any],
    where: str,
    c: Column,
    ref: Any,
    scales: Mapping[str, RatingScale],
    by_key: Mapping[str, _Draft],
) -> Proposal | None:
    pw = f"{where} の proposal"
    p.keys(raw, PROPOSAL_KEYS, pw)
    basis = p.text(raw, "from", pw, required=True)
    basis_column = ref("proposal.from", basis, "number", sources=("computed", "department", "secretariat"))
    codes = _allowed(c, scales)
    bands: list[Band] = []
    for i, band in enumerate(p.items(raw, "bands", pw), 1):
        bw = f"{pw} の bands {i} 番目"
        p.keys(band, ("code", "at_least", "below"), bw)
        code = _match_code(p.text(band, "code", bw, required=True) or "", codes)
        if code is None:
            p.add(
                "sheet-value-not-in-column",
                where=bw,
                key="code",
                value=band.get("code", ""),
                column=c.heading,
                choices="・".join(codes),
            )
            continue
        bands.append(Band(code, p.number(band, "at_least", bw), p.number(band, "below", bw)))
    if not bands:
        p.add(
            "sheet-value-missing",
            where=pw,
            key="bands",
            expected='区分の一覧 [{ code = "A", at_least = 100 }, …]',
        )
    _check_bands(p, pw, bands)
    overrides = []
    for i, when in enumerate(p.items(raw, "when", pw), 1):
        ww = f"{pw} の when {i} 番目"
        p.keys(when, ("column", "values", "code"), ww)
        target = ref("proposal.when", p.text(when, "column", ww, required=True), "rating", "choice")
        code = _match_code(p.text(when, "code", ww, required=True) or "", codes)
        values = p.strings(when, "values", ww)
        if code is None and "code" in when:
            p.add(
                "sheet-value-not-in-column",
                where=ww,
                key="code",
                value=when["code"],
                column=c.heading,
                choices="・".join(codes),
            )
        if target is not None and code is not None:
            overrides.append(
                Override(Condition(target.key, _check_values(p, ww, target, values, scales, by_key)), code)
            )
    severity = p.choice(raw, "severity", pw, ("warning", "error"), "warning")
    reason = p.text(raw, "reason", pw)
    reason_column = ref("proposal.reason", reason, "text", sources=("department", "secretariat"))
    if basis_column is None:
        return None
    return Proposal(
        basis_column.key,
        tuple(bands),
        tuple(overrides),
        Severity(severity),
        reason_column.key if reason_column is not None else None,
    )


def _check_bands(p: _Parser, where: str, bands: Sequence[Band]) -> None:
    """The bands must cover every value exactly once: sorted by lower bound, each ends where the next begins."""
    if not bands:
        return
    low = Decimal("-Infinity")
    ordered = sorted(bands, key=lambda b: b.at_least if b.at_least is not None else low)
    for b in ordered:
        if b.at_least is not None and b.below is not None and b.at_least >= b.below:
            p.add("sheet-bands-overlap", where=where, first=b.code, second=b.code)
    if ordered[0].at_least is not None:
        p.add("sheet-bands-gap", where=where, range=f"{_num(ordered[0].at_least)}未満")
    for a, b in itertools.pairwise(ordered):
        end = a.below if a.below is not None else Decimal("Infinity")
        start = b.at_least if b.at_least is not None else low
        if start < end:
            p.add("sheet-bands-overlap", where=where, first=a.code, second=b.code)
        elif start > end:
            p.add("sheet-bands-gap", where=where, range=f"{_num(end)}以上{_num(start)}未満")
    if ordered[-1].below is not None:
        p.add("sheet-bands-gap", where=where, range=f"{_num(ordered[-1].below)}以上")


def _check_cycles(p: _Parser, columns: Mapping[str, Column]) -> None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    reported: set[frozenset[str]] = set()

    def visit(key: str, path: list[str]) -> None:
        c = columns.get(key)
        if c is None or c.computation is None or state.get(key) == 2:
            return
        if state.get(key) == 1:
            cycle = path[path.index(key) :]
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                p.add("sheet-cycle", cycle=" → ".join([*cycle, key]))
            return
        state[key] = 1
        for dep in c.computation.inputs:
            visit(dep, [*path, key])
        state[key] = 2

    for key in columns:
        visit(key, [])


def check_plan_columns(
    sheet: SheetDefinition, headings: Sequence[str], *, file: str | None = None
) -> list[Problem]:
    """Plan columns whose heading the plan master lacks (``目標値`` or any ``目標値(R6)`` will do)."""
    index = year_headings(headings)
    problems = []
    for c in sheet.of_source("plan"):
        if c.plan_from is None or not _is_heading(c.plan_from):
            continue
        if normalize_code(c.plan_from) not in index:
            hint = "（年度ごとの値なら「" + c.plan_from + "(R6)」のような見出し）" if c.per_year else ""
            problems.append(
                problem(
                    "sheet-plan-column-missing", file=file, column=c.heading, heading=c.plan_from, hint=hint
                )
            )
    return problems


def check_plan_values(
    sheet: SheetDefinition,
    rows: Sequence[tuple[int, Mapping[str, object]]],
    *,
    file: str | None = None,
) -> list[Problem]:
    """Every typed plan value of every row (目標値 and each 目標値(R6)…) read through :func:`parse_value`:
    the errors ``plan check`` reports at the plan's line (notices such as 1,200 → 1200 are left out)."""
    found: list[Problem] = []
    typed = [
        c for c in sheet.of_source("plan") if c.kind != "text" and c.plan_from and _is_heading(c.plan_from)
    ]
    if not typed:
        return found
    for line, cells in rows:
        index = year_headings(list(cells))
        for c in typed:
            unit = None
            t = c.type
            if isinstance(t, NumberType) and t.unit_column and sheet.has(t.unit_column):
                unit_from = sheet.column(t.unit_column).plan_from
                unit = clean_text(cells.get(unit_from or "") or "").strip() or None
            for heading in index.get(normalize_code(c.plan_from or ""), {}).values():
                _, problems = parse_value(c, cells[heading], sheet=sheet, unit=unit)
                for x in problems:
                    if x.severity == Severity.ERROR:
                        found.append(dataclasses.replace(x, file=file, row=line))
    return found


# --- per-year plan values ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def split_year_heading(heading: str) -> tuple[str, FiscalYear | None]:
    """``目標値(R6)``, ``目標値（令和6年度）``, ``目標値(2024)`` → (目標値, FY2024); any other heading → (it, None)."""
    text = normalize_code(heading)
    m = _YEAR_HEADING.match(text)
    if m:
        try:
            return m.group(1).strip(), FiscalYear.parse(m.group(2))
        except ValueError:
            pass
    return text, None


def year_headings(headings: Sequence[str]) -> dict[str, dict[FiscalYear | None, str]]:
    """Base heading → {year (None for the plan period) → the heading as written}."""
    index: dict[str, dict[FiscalYear | None, str]] = {}
    for h in headings:
        base, year = split_year_heading(h)
        index.setdefault(base, {}).setdefault(year, h)
    return index


@functools.lru_cache(maxsize=64)
def _year_headings(headings: tuple[str, ...]) -> Mapping[str, Mapping[FiscalYear | None, str]]:
    # Every row of a plan has the same headings: parsed once, not once per row and column (collect
    # of the indicator sheet at 10x spent a third of its validation here).
    return MappingProxyType({k: MappingProxyType(v) for k, v in year_headings(headings).items()})


def plan_value(column: Column, plan_values: Mapping[str, object], year: FiscalYear) -> object:
    """The raw plan value of ``column`` for ``year``: ``目標値(R6)`` for R6 when the column is per year,
    else (or when the plan has no heading for that year) the plan-period ``目標値``; None when absent."""
    if column.plan_from is None:
        return None
    base = normalize_code(column.plan_from)
    found = _year_headings(tuple(plan_values)).get(base, {})
    if column.per_year and year in found:
        return plan_values[found[year]]
    if None in found:
        return plan_values[found[None]]
    return None


# --- cell values -----------------------------------------------------------------------------------------


Value = str | int | float | None


def _num(d: Decimal) -> str:
    """A Decimal as a clerk writes it: 1,200 / 87.5 / -3."""
    if d.is_infinite():
        return "∞" if d > 0 else "-∞"
    text = f"{d:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _to_value(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def _code_text(value: object) -> str:
    return normalize_code(value) if value is not None else ""


def _match_code(raw: object, allowed: Sequence[str]) -> str | None:
    """NFKC + strip, then exact, then case-insensitive: ``ａ`` is the a of a/b/c and ``b`` the B of A–D."""
    text = normalize_code(raw)
    if not text:
        return None
    codes = _codes(tuple(allowed))
    for code, normalized, _ in codes:
        if normalized == text:
            return code
    folded = text.casefold()
    for code, _, casefolded in codes:
        if casefolded == folded:
            return code
    return None


@functools.lru_cache(maxsize=256)
def _codes(allowed: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    # A column's codes, normalised once: every rating and choice cell of a run is matched against them.
    return tuple((code, normalize_code(code), normalize_code(code).casefold()) for code in allowed)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _at(
    code: str, column: Column, cell: str | None, severity: Severity | None = None, **params: Any
) -> Problem:
    """A problem of ``column`` at ``cell``; the default sheet keeps today's codes (with their severities)."""
    legacy = column.legacy_codes.get(code)
    p = problem(legacy or code, cell=cell, column=column.title, **params)
    if severity is not None and legacy is None and severity != p.severity:
        p = dataclasses.replace(p, severity=severity)
    return p


def parse_value(
    column: Column,
    raw: object,
    *,
    sheet: SheetDefinition | None = None,
    unit: str | None = None,
    excel_percent: bool = False,
    cell: str | None = None,
) -> tuple[Value, list[Problem]]:
    """What a raw cell value means for ``column``, with the notices and errors of reading it.

    Blank (None, '') is None for ratings, choices and numbers and '' for text: the required rules
    decide whether blank is allowed. ``unit`` is the row's unit (from the unit column); ``excel_percent``
    says the cell has an Excel percentage format (0.5 shown as 50%), so the value is multiplied by 100.
    Ratings need ``sheet`` for the scale.
    """
    t = column.type
    if isinstance(t, NumberType):
        return _parse_number(column, t, raw, unit, excel_percent, cell)
    if isinstance(t, RatingType | ChoiceType):
        if isinstance(t, RatingType):
            scales = sheet.scales if sheet is not None else {DEFAULT_SCALE_NAME: DEFAULT_SCALE}
            scale = scales.get(t.scale)
            allowed: tuple[str, ...] = tuple(scale.codes) if scale is not None else ()
        else:
            allowed = t.choices
        if isinstance(raw, bool):  # TRUE/FALSE typed into a rating cell
            return None, [_choice_error(column, raw, allowed, cell)]
        if raw is None or not normalize_code(raw):
            return None, []
        code = _match_code(raw, allowed)
        if code is None:
            return None, [_choice_error(column, raw, allowed, cell)]
        shown = clean_text(raw).strip()
        if shown != code:  # say so: the clerk should know that Ａ or " b " was read as A, B
            return code, [_at("choice-normalized", column, cell, value=shown, normalized=code)]
        return code, []
    text = clean_text(raw)  # narrative text is never NFKC'd
    limit = t.max_length if isinstance(t, TextType) else MAX_TEXT_CHARS
    if len(text) > limit:
        return text, [_at("text-too-long", column, cell, length=len(text), limit=limit)]
    return text, []


def _choice_error(column: Column, raw: object, allowed: Sequence[str], cell: str | None) -> Problem:
    listed = "・".join(allowed)
    return _at("choice-not-in-list", column, cell, value=clean_text(raw), choices=listed, codes=listed)


def _parse_number(
    column: Column, t: NumberType, raw: object, unit: str | None, excel_percent: bool, cell: str | None
) -> tuple[Value, list[Problem]]:
    notices: list[Problem] = []
    row_unit = normalize_code(unit if unit is not None else t.unit)
    example = f"1200 や 1,200{row_unit}" if t.decimals == 0 else f"12.5 や 1,200.5{row_unit}"
    if raw is None or (isinstance(raw, str) and not normalize_code(raw)):
        return None, []
    shown = clean_text(raw).strip() if isinstance(raw, str) else str(raw)
    number: Decimal | None = None
    if isinstance(raw, bool):
        number = None
    elif isinstance(raw, int | float | Decimal):
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            number = None
        if number is not None and not number.is_finite():
            number = None
        if number is not None and excel_percent:
            number *= 100
    elif isinstance(raw, str):
        number = _number_from_text(raw, row_unit, t.percent)
        if number is not None and not _PLAIN_NUMBER.fullmatch(raw.strip()):
            notices.append(_at("number-normalized", column, cell, value=shown, number=_num(number)))
    if number is None:
        return None, [_at("number-not-a-number", column, cell, value=shown, example=example)]
    if _too_precise(number, t.decimals):
        hint = (
            "整数で入力してください。"
            if t.decimals == 0
            else f"小数点以下{t.decimals}桁までで入力してください。"
        )
        return None, [_at("number-too-many-decimals", column, cell, number=_num(number), hint=hint)]
    if (t.min is not None and number < t.min) or (t.max is not None and number > t.max):
        if t.min is not None and t.max is not None:
            span = f"{_num(t.min)}以上{_num(t.max)}以下"
        elif t.min is not None:
            span = f"{_num(t.min)}以上"
        else:
            span = f"{_num(t.max)}以下"  # type: ignore[arg-type]  # one of them is set here
        return None, [_at("number-out-of-range", column, cell, number=_num(number), range=span)]
    return _to_value(number), notices


def _too_precise(number: Decimal, decimals: int) -> bool:
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= -decimals:
        return False
    try:
        return number != number.quantize(Decimal(1).scaleb(-decimals))
    except InvalidOperation:
        return True


def _number_from_text(raw: str, unit: str, percent: bool) -> Decimal | None:
    s = normalize_code(raw).replace(" ", "")
    negative = s[:1] in ("△", "▲", "−")  # △3 is minus 3 in Japanese tables
    if negative:
        s = s[1:]
    for suffix in (unit, "%" if percent else ""):
        if suffix and s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    if not _NUMBER.fullmatch(s):
        return None
    value = Decimal(s.replace(",", ""))
    return -value if negative else value


def format_value(column: Column, value: object, *, unit: str | None = None) -> str:
    """How the report and exports print a value: numbers with thousands separators, decimals and the unit."""
    if value is None or value == "":
        return ""
    t = column.type
    if isinstance(t, NumberType) and isinstance(value, int | float) and not isinstance(value, bool):
        d = Decimal(str(value)).quantize(Decimal(1).scaleb(-t.decimals), rounding=ROUND_HALF_UP)
        return f"{d:,.{t.decimals}f}{unit if unit is not None else t.unit}"
    return clean_text(value)


# --- computed columns and proposals --------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    """A computed value (percent, rounded) or None with the reason, in Japanese."""

    value: float | None
    reason: str = ""
    missing_input: bool = False  # an input is blank: say nothing, the required rules speak


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def higher_is_better(column: Column, values: Mapping[str, object]) -> bool:
    """The number column's direction for this row: its ``direction_column`` (↑/↓) wins over the default."""
    t = column.type
    if not isinstance(t, NumberType):
        return True
    if t.direction_column:
        token = normalize_code(values.get(t.direction_column)).upper()
        if token in LOWER_TOKENS:
            return False
        if token in HIGHER_TOKENS:
            return True
    return t.higher_is_better


def row_values(
    sheet: SheetDefinition,
    values: Mapping[str, object],
    plan_values: Mapping[str, object],
    year: FiscalYear,
) -> tuple[dict[str, object], list[Problem]]:
    """The typed values of every plan column (per year where it applies) merged over ``values``."""
    merged: dict[str, object] = dict(values)
    problems: list[Problem] = []
    for c in sheet.plan_value_columns:  # units before numbers
        if c.key in values:
            continue
        raw = plan_value(c, plan_values, year)
        if c.kind == "text":
            merged[c.key] = clean_text(raw)
            continue
        unit = _unit(sheet, c, merged)
        value, found = parse_value(c, raw, sheet=sheet, unit=unit)
        merged[c.key] = value
        # A plan cell read as 1000 from "1,000" is no news for a department; errors are `plan check`'s too.
        problems.extend(x for x in found if x.severity != Severity.INFO)
    return merged, problems


def _unit(sheet: SheetDefinition, column: Column, values: Mapping[str, object]) -> str | None:
    t = column.type
    if isinstance(t, NumberType) and t.unit_column:
        u = values.get(t.unit_column)
        return clean_text(u).strip() if u is not None else None
    return None


def compute(
    sheet: SheetDefinition,
    values: Mapping[str, object],
    plan_values: Mapping[str, object] | None = None,
    year: FiscalYear | None = None,
) -> dict[str, Computed]:
    """Every computed column of the row, in dependency order.

    ``values`` are the row's typed values by column key (department, secretariat, previous); plan
    columns are read from ``plan_values`` (the plan row's cells by heading) for ``year``. Results are in
    percent, rounded half up (四捨五入, as Excel's ROUND) to the column's decimals:
    achievement = 実績 / 目標 × 100 (目標 / 実績 × 100 when lower is better), progress =
    (実績 − 基準) / (目標 − 基準) × 100. 実績 = 目標 is 100 % (also 0 = 0).
    """
    merged = dict(values)
    if plan_values is not None and year is not None:
        merged, _ = row_values(sheet, values, plan_values, year)
    out: dict[str, Computed] = {}
    for c in sheet.computed_order:
        assert c.computation is not None
        result = _compute_one(sheet, c, c.computation, merged)
        out[c.key] = result
        merged[c.key] = result.value
    return out


def _compute_one(
    sheet: SheetDefinition, c: Column, comp: Computation, values: Mapping[str, object]
) -> Computed:
    def heading(key: str) -> str:
        return sheet.column(key).title if sheet.has(key) else key

    inputs = {k: _decimal(values.get(k)) for k in comp.inputs}
    blank = [k for k, v in inputs.items() if v is None]
    if blank:
        return Computed(None, f"「{heading(blank[0])}」が空欄です", missing_input=True)
    actual, target = inputs[comp.actual], inputs[comp.target]
    assert actual is not None and target is not None
    decimals = c.type.decimals if isinstance(c.type, NumberType) else 1
    if comp.kind == "progress":
        base = inputs[comp.baseline or ""]
        assert base is not None
        if target == base:
            return Computed(
                None, f"「{heading(comp.target)}」と「{heading(comp.baseline or '')}」が同じ値です"
            )
        ratio = (actual - base) / (target - base)
    else:
        lower = not higher_is_better(sheet.column(comp.actual), values) if sheet.has(comp.actual) else False
        if actual == target:
            ratio = Decimal(1)
        elif lower:
            if actual == 0:
                return Computed(None, f"「{heading(comp.actual)}」が0です（低いほど良い指標）")
            ratio = target / actual
        else:
            if target == 0:
                return Computed(None, f"「{heading(comp.target)}」が0です")
            ratio = actual / target
    percent = (ratio * 100).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return Computed(_to_value(percent) if decimals == 0 else float(percent))


def propose(column: Column, computed_value: float | None, values: Mapping[str, object]) -> str | None:
    """The rating the bands propose for the (rounded) computed value; an override (D when 未実施) wins.

    None when the column has no proposal or there is nothing to propose from.
    """
    prop = column.proposal
    if prop is None:
        return None
    for o in prop.overrides:
        if o.condition.holds(values):
            return o.code
    d = _decimal(computed_value)
    if d is None:
        return None
    return next((b.code for b in prop.bands if b.contains(d)), None)


def proposals(
    sheet: SheetDefinition, values: Mapping[str, object], computed: Mapping[str, Computed]
) -> dict[str, str | None]:
    """Each rating column with a proposal → its proposed code."""
    out: dict[str, str | None] = {}
    for c in sheet.columns:
        if c.proposal is None:
            continue
        basis = computed.get(c.proposal.basis)
        value = basis.value if basis is not None else _decimal(values.get(c.proposal.basis))
        out[c.key] = propose(c, float(value) if value is not None else None, values)
    return out


# --- the rules of a row ------------------------------------------------------------------------------


def check_row(
    sheet: SheetDefinition,
    values: Mapping[str, object],
    computed: Mapping[str, Computed],
    proposal: Mapping[str, str | None],
    *,
    cells: Mapping[str, str] | None = None,
    sources: Sequence[Source] = ("department",),
    invalid: frozenset[str] = frozenset(),
) -> list[Problem]:
    """The rules over one row's typed values: required, required-when, proposals, computations.

    ``cells`` maps a column key to its cell (``F12``) for the problem's location; ``sources`` says whose
    columns this file carries (a department's form, or the secretariat's import); ``invalid`` the
    columns whose cell :func:`parse_value` already refused (not also reported blank). The caller adds
    file and sheet to the problems.
    """
    cells = cells or {}
    out: list[Problem] = []
    for c in sheet.typed_columns(sources):
        cell = cells.get(c.key)
        if c.key in invalid or not _blank(values.get(c.key)):
            continue
        hit = next((cond for cond in c.required_when if cond.holds(values)), None)
        if hit is not None:
            trigger = clean_text(values.get(hit.column)).strip()
            condition_column = sheet.column(hit.column).title
            out.append(
                _at(
                    "column-required-when",
                    c,
                    cell,
                    condition_column=condition_column,
                    value=trigger,
                    rating=trigger,
                )
            )
        elif c.required is not None:
            listed = "・".join(_allowed(c, sheet.scales))
            hint = f"{listed} のいずれかを選んでください。" if listed else "記入してください。"
            out.append(_at("column-required", c, cell, c.required, hint=hint, codes=listed))
    out.extend(proposal_problems(sheet, values, proposal, cells=cells, sources=sources))
    for key, result in computed.items():
        if result.value is None and not result.missing_input:
            c = sheet.column(key)
            out.append(_at("computed-not-available", c, cells.get(key), reason=result.reason))
    return out


def proposal_problems(
    sheet: SheetDefinition,
    values: Mapping[str, object],
    proposal: Mapping[str, str | None],
    *,
    cells: Mapping[str, str] | None = None,
    sources: Sequence[Source] = ("department",),
) -> list[Problem]:
    """``rating-differs-from-proposal`` for each rating that is not its proposal while the proposal's
    reason column is blank (a part of :func:`check_row`; a joint row's is checked on the combined row)."""
    cells = cells or {}
    out: list[Problem] = []
    for c in sheet.columns:
        if c.proposal is None or c.source not in sources:
            continue
        proposed, rating = proposal.get(c.key), _match_code(values.get(c.key), sheet.allowed_codes[c.key])
        if proposed is None or not rating or rating == proposed:
            continue
        reason = c.proposal.reason
        if reason is not None and not _blank(values.get(reason)):
            continue
        basis = sheet.column(c.proposal.basis).title
        out.append(
            _at(
                "rating-differs-from-proposal",
                c,
                cells.get(c.key),
                c.proposal.severity,
                rating=rating,
                proposal=proposed,
                basis=f"「{basis}」",
                reason=sheet.column(reason).title if reason else "評価の理由の欄",
            )
        )
    return out


@dataclass(frozen=True)
class RowEvaluation:
    values: dict[str, object]
    computed: dict[str, Computed]
    proposals: dict[str, str | None]
    problems: list[Problem]


def evaluate_row(
    sheet: SheetDefinition,
    raw: Mapping[str, object],
    *,
    plan_values: Mapping[str, object] | None = None,
    year: FiscalYear | None = None,
    previous: Mapping[str, object] | None = None,
    cells: Mapping[str, str] | None = None,
    excel_percent: frozenset[str] = frozenset(),
    sources: Sequence[Source] = ("department",),
) -> RowEvaluation:
    """One returned row end to end: parse each input cell, add plan and previous values, compute,
    propose, check. ``previous`` holds last year's typed values by the *previous* column's own key;
    ``excel_percent`` the keys of cells with an Excel percentage format."""
    cells = cells or {}
    values: dict[str, object] = dict(previous or {})
    problems: list[Problem] = []
    invalid: set[str] = set()
    if plan_values is not None and year is not None:
        values, found = row_values(sheet, values, plan_values, year)
        problems.extend(found)
    for c in sheet.typed_columns(sources):
        cell = cells.get(c.key)
        value, found = parse_value(
            c,
            raw.get(c.key),
            sheet=sheet,
            unit=_unit(sheet, c, values),
            excel_percent=c.key in excel_percent,
            cell=cell,
        )
        values[c.key] = value
        problems.extend(found)
        if any(x.severity == Severity.ERROR for x in found):
            invalid.add(c.key)
    computed = compute(sheet, values)
    for key, result in computed.items():
        values[key] = result.value
    proposed = proposals(sheet, values, computed)
    problems.extend(
        check_row(sheet, values, computed, proposed, cells=cells, sources=sources, invalid=frozenset(invalid))
    )
    return RowEvaluation(values, computed, proposed, problems)


# --- joint rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JointConflict:
    """The departments of a joint row gave different values for a column that must agree."""

    column: str
    values: tuple[tuple[str, object], ...]  # (submitter, value) in plan order, blanks left out

    def problem(self, sheet: SheetDefinition, cell: str | None = None, **params: Any) -> Problem:
        """The conflict as a problem naming the first two departments that differ; ``params`` gives the
        default sheet's joint-rating-conflict its ``no`` and ``department``."""
        first, a = self.values[0]
        second, b = next(v for v in self.values[1:] if _agree_key(v[1]) != _agree_key(a))
        c = sheet.column(self.column)
        return _at(
            "joint-value-conflict",
            c,
            cell,
            first=first,
            first_value=a,
            second=second,
            second_value=b,
            first_rating=a,
            second_rating=b,
            **params,
        )


def combine_joint(
    sheet: SheetDefinition, parts_in_plan_order: Sequence[tuple[str, Mapping[str, object]]]
) -> dict[str, object]:
    """One row's values from its departments' parts (submitter, values), per column's ``joint``:
    ``join`` texts in plan order (one per line, blanks skipped, as results.combine does today);
    ``agree`` one value or a :class:`JointConflict`; ``sum`` the numbers' sum (blanks skipped; None when
    all are blank). Columns that are not typed by the departments are not combined."""
    out: dict[str, object] = {}
    for c in sheet.input_columns:
        present = [(who, v.get(c.key)) for who, v in parts_in_plan_order if not _blank(v.get(c.key))]
        if c.joint == "join":
            out[c.key] = "\n".join(clean_text(v) for _, v in present)
        elif c.joint == "sum":
            numbers = [d for _, v in present if (d := _decimal(v)) is not None]
            out[c.key] = _to_value(sum(numbers, Decimal(0))) if numbers else None
        else:
            distinct = list(dict.fromkeys(_agree_key(v) for _, v in present))
            if len(distinct) > 1:
                out[c.key] = JointConflict(c.key, tuple(present))
            else:
                out[c.key] = present[0][1] if present else None
    return out


def evaluate_joint(
    sheet: SheetDefinition,
    parts_in_plan_order: Sequence[tuple[str, Mapping[str, object]]],
    *,
    plan_values: Mapping[str, object] | None = None,
    year: FiscalYear | None = None,
    cells: Mapping[str, str] | None = None,
) -> RowEvaluation:
    """A joint row as one row: its departments' parts combined (:func:`combine_joint`), the plan's
    values of ``year`` added, the computed columns recomputed from the combined inputs (Σ実績 / 目標)
    and the proposals made and checked on them. A column the parts disagree on is None here (its
    :class:`JointConflict` is in the combination, reported by the caller). ``problems`` holds the
    proposal check at ``cells`` (the rating's cell of the part the caller is reading)."""
    combined = combine_joint(sheet, parts_in_plan_order)
    values: dict[str, object] = {
        k: (None if isinstance(v, JointConflict) else v) for k, v in combined.items()
    }
    if plan_values is not None and year is not None:
        values, _ = row_values(sheet, values, plan_values, year)
    computed = compute(sheet, values)
    for key, result in computed.items():
        values[key] = result.value
    proposed = proposals(sheet, values, computed)
    problems = proposal_problems(sheet, values, proposed, cells=cells)
    return RowEvaluation(values, computed, proposed, problems)


def _agree_key(value: object) -> object:
    d = _decimal(value) if isinstance(value, int | float) else None
    return d if d is not None else value


def joint_conflicts(combined: Mapping[str, object]) -> list[JointConflict]:
    return [v for v in combined.values() if isinstance(v, JointConflict)]


# --- diff, forms -----------------------------------------------------------------------------------------


def compare_values(
    sheet: SheetDefinition,
    column: Column,
    before: object,
    after: object,
    values: Mapping[str, object] | None = None,
) -> Change:
    """How a value moved: ratings by the scale's order, numbers by whether higher is better for the row,
    choices and texts only ``changed`` or ``same``."""
    if column.kind == "rating":
        scale = sheet.scale_of(column)
        b, a = _code_text(before), _code_text(after)
        if b in scale.codes and a in scale.codes:
            return scale.direction(b, a)
        return "same" if b == a else "changed"
    if column.kind == "number":
        db, da = _decimal(before), _decimal(after)
        if db is None or da is None:
            return "same" if db == da else "changed"
        if db == da:
            return "same"
        up = da > db
        return "up" if up == higher_is_better(column, values or {}) else "down"
    return "same" if before == after else "changed"


def excel_formula(
    sheet: SheetDefinition, column: Column, refs: Mapping[str, str], *, lower_is_better: bool = False
) -> str:
    """The live formula forms write in a computed column's cell (collect recomputes and never trusts it).

    ``refs`` maps column keys to the row's cells (``G12``); the result is blank while an input is blank
    and where :func:`compute` gives None, and rounded as :func:`compute` rounds (ROUND is half up).
    """
    comp = column.computation
    if comp is None:
        raise KeyError(column.key)
    d = column.type.decimals if isinstance(column.type, NumberType) else 1
    a, t = refs[comp.actual], refs[comp.target]
    blanks = [a, t, *([refs[comp.baseline]] if comp.baseline else [])]
    guard = "OR(" + ",".join(f'{r}=""' for r in blanks) + ")"
    if comp.kind == "progress":
        b = refs[comp.baseline or ""]
        body = f'IF({t}={b},"",ROUND(({a}-{b})/({t}-{b})*100,{d}))'
    elif lower_is_better:
        body = f'IF({a}={t},100,IF({a}=0,"",ROUND({t}/{a}*100,{d})))'
    else:
        body = f'IF({a}={t},100,IF({t}=0,"",ROUND({a}/{t}*100,{d})))'
    return f'=IF({guard},"",{body})'


def excel_proposal_formula(column: Column, refs: Mapping[str, str]) -> str:
    """The formula of the 提案 cell beside a rating with a proposal (shown to the department, never read back)."""
    prop = column.proposal
    if prop is None:
        raise KeyError(column.key)
    v = refs[prop.basis]
    open_band = next((b for b in prop.bands if b.at_least is None), None)
    expr = f'"{open_band.code}"' if open_band is not None else '""'
    for b in sorted((b for b in prop.bands if b.at_least is not None), key=lambda b: b.at_least or 0):
        expr = f'IF({v}>={_num(b.at_least or Decimal(0)).replace(",", "")},"{b.code}",{expr})'
    expr = f'IF({v}="","",{expr})'
    for o in reversed(prop.overrides):
        cond = "OR(" + ",".join(f'{refs[o.condition.column]}="{x}"' for x in o.condition.values) + ")"
        expr = f'IF({cond},"{o.code}",{expr})'
    return "=" + expr


# --- the summary page and `hyoka sheet show` ---------------------------------------------------------

NO_VALUE = "—"
"""The summary's column for rows without a value (the report prints it as 未提出 where that applies)."""


@dataclass(frozen=True)
class ColumnSummary:
    """One summary column over one group of rows: counts per code, or the mean of a number."""

    column: str
    counts: dict[str, int] = field(default_factory=dict)  # code → rows, scale/list order, then others, then —
    mean: float | None = None
    rated: int = 0  # rows with a value
    rows: int = 0


def summarize(sheet: SheetDefinition, rows: Sequence[Mapping[str, object]]) -> dict[str, ColumnSummary]:
    """Each ``summary = true`` column over ``rows`` (one level group's row values): ratings and choices
    counted per code, numbers averaged (rounded half up to the column's decimals)."""
    out: dict[str, ColumnSummary] = {}
    for c in sheet.columns:
        if not c.summary:
            continue
        present = [v for r in rows if not _blank(v := r.get(c.key))]
        if c.kind == "number":
            numbers = [d for v in present if (d := _decimal(v)) is not None]
            mean = None
            if numbers:
                decimals = c.type.decimals if isinstance(c.type, NumberType) else 1
                avg = (sum(numbers, Decimal(0)) / len(numbers)).quantize(
                    Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
                )
                mean = float(avg)
            out[c.key] = ColumnSummary(c.key, mean=mean, rated=len(numbers), rows=len(rows))
            continue
        order = list(_allowed(c, sheet.scales))
        counts: dict[str, int] = dict.fromkeys(order, 0)
        for v in present:
            code = _match_code(v, order) or _code_text(v)
            counts[code] = counts.get(code, 0) + 1
        blank = len(rows) - len(present)
        if blank:
            counts[NO_VALUE] = blank
        out[c.key] = ColumnSummary(c.key, counts=counts, rated=len(present), rows=len(rows))
    return out


_SOURCE_JA = {
    "plan": "計画",
    "department": "各課",
    "secretariat": "事務局",
    "committee": "委員会（会議で決定）",
    "previous": "前年度",
    "computed": "計算",
}


def describe_column(sheet: SheetDefinition, c: Column) -> str:
    """One line of ``hyoka sheet show``: where the value comes from, its type and its rules."""
    parts: list[str] = []
    if c.source == "plan":
        frm = c.plan_from or ""
        names = {"level": "階層の番号", "project": "事業", "department": "担当課", "submitter": "提出課"}
        parts.append(f"計画（{names.get(frm, frm[6:] if frm.startswith('level:') else '「' + frm + '」')}）")
        if c.per_year:
            parts.append("年度別")
    elif c.source == "previous":
        of = sheet.column(c.previous_of) if c.previous_of and sheet.has(c.previous_of) else None
        parts.append(f"前年度の「{of.title if of else c.previous_of}」")
    elif c.computation is not None:
        comp = c.computation
        a, tg = sheet.column(comp.actual).title, sheet.column(comp.target).title
        if comp.kind == "progress":
            b = sheet.column(comp.baseline or "").title
            parts.append(f"計算（({a}−{b})÷({tg}−{b})）")
        else:
            parts.append(f"計算（{a}÷{tg}、低いほど良い指標は{tg}÷{a}）")
    else:
        parts.append(_SOURCE_JA[c.source])
    t = c.type
    if isinstance(t, NumberType):
        unit = f"単位「{sheet.column(t.unit_column).title}」の列" if t.unit_column else (t.unit or "")
        rng = "".join(
            [
                f" {_num(t.min)}以上" if t.min is not None else "",
                f" {_num(t.max)}以下" if t.max is not None else "",
            ]
        )
        parts.append(f"数値 小数{t.decimals}桁{rng} {unit}".rstrip())
        if t.direction_column:
            parts.append(f"方向は「{sheet.column(t.direction_column).title}」の列")
        elif not t.higher_is_better:
            parts.append("低いほど良い")
    elif isinstance(t, RatingType):
        parts.append(f"評価 {t.scale}（{sheet.scales[t.scale].codes_text}）")
    elif isinstance(t, ChoiceType):
        parts.append("選択 " + "・".join(t.choices))
    elif c.is_input:
        parts.append(f"文章 {t.max_length:,}字まで")
    if c.is_input and c.joint == "sum":
        parts.append("共同行は合計")
    if c.required is not None:
        parts.append("必須" if c.required == Severity.ERROR else "空欄は警告")
    for cond in c.required_when:
        parts.append(f"必須（{sheet.column(cond.column).title}が {'・'.join(cond.values)} のとき）")
    if c.proposal is not None:
        prop = c.proposal
        bands = " / ".join(
            "".join(
                [
                    f"{_num(b.at_least)}以上" if b.at_least is not None else "",
                    f"{_num(b.below)}未満" if b.below is not None else "",
                ]
            )
            + f" {b.code}"
            for b in sorted(prop.bands, key=lambda b: b.at_least or Decimal("-Infinity"), reverse=True)
        )
        text = f"提案: {sheet.column(prop.basis).title} {bands}"
        for o in prop.overrides:
            text += (
                f"、{sheet.column(o.condition.column).title}が {'・'.join(o.condition.values)} なら {o.code}"
            )
        reason = f"{sheet.column(prop.reason).title}が空欄なら" if prop.reason else ""
        text += f"（提案と異なり{reason}{'警告' if prop.severity == Severity.WARNING else 'エラー'}）"
        parts.append(text)
    flags = [name for name, on in (("調査票", c.form), ("評価表", c.report), ("出力", c.export)) if not on]
    if flags:
        parts.append("・".join(flags) + "に出さない")
    return " ".join(parts)


def describe_sheet(sheet: SheetDefinition) -> list[str]:
    """The lines ``hyoka sheet show`` prints (the CLI adds nothing but the title)."""
    levels = " / ".join(
        f"{lv.name}（番号 {lv.number_format}）" if lv.numbered else lv.name for lv in sheet.levels
    )
    lines = [f"階層: {levels}", "計画マスタの見出し: " + " | ".join(sheet.plan_headings), "列:"]
    width = max((len(c.key) for c in sheet.columns), default=0)
    for c in sheet.columns:
        lines.append(f"  {c.key.ljust(width)}  {c.title}: {describe_column(sheet, c)}")
    for c, scale in sheet.legend_scales:
        lines.append(
            f"評価基準（{c.title}）: "
            + " / ".join(f"{r.code} {r.label or r.description}" for r in scale.levels)
        )
    return lines


def sheet_changes(before: SheetDefinition, after: SheetDefinition) -> list[str]:
    """What adopting ``after`` changes in the sheet of the version ``before`` (``plan adopt``
    prints it beside the plan's changes): columns added, removed and changed by key, the levels, the
    scales. Empty when the two read the same."""
    out: list[str] = []

    def group(title: str, lines: Sequence[str]) -> None:
        if lines:
            out.append(f"■ {title}（{len(lines)}件）")
            out.extend(f"  {line}" for line in lines)

    old = {c.key: c for c in before.columns}
    new = {c.key: c for c in after.columns}
    group("評価表に追加される列", [f"{k} {c.title}" for k, c in new.items() if k not in old])
    group("評価表からなくなる列", [f"{k} {c.title}" for k, c in old.items() if k not in new])
    group(
        "評価表の列の変更",
        [
            f"{k} {new[k].title}"
            + (f"（見出し {c.title} → {new[k].title}）" if c.title != new[k].title else "")
            for k, c in old.items()
            if k in new and c != new[k]
        ],
    )
    if [c.key for c in before.columns if c.key in new] != [c.key for c in after.columns if c.key in old]:
        group("評価表の列の順序", [" | ".join(c.key for c in after.columns)])
    if before.levels != after.levels or before.summary_level != after.summary_level:
        group("評価表の階層", [" / ".join(lv.name for lv in after.levels)])
    group(
        "評価基準の変更",
        [
            f"{name}: {(scale.codes_text if scale else 'なし')}"
            for name in dict.fromkeys([*before.scales, *after.scales])
            if before.scales.get(name) != (scale := after.scales.get(name))
        ],
    )
    return out


def sheet_to_dict(sheet: SheetDefinition) -> dict[str, Any]:
    """``hyoka sheet show --json``: levels, columns (key, heading, source, type and rules) and scales."""

    def column(c: Column) -> dict[str, Any]:
        out: dict[str, Any] = {"key": c.key, "heading": c.heading, "source": c.source, "type": c.kind}
        if c.source == "previous":
            out["type"] = (
                sheet.column(c.previous_of).kind if c.previous_of and sheet.has(c.previous_of) else ""
            )
            out["of"] = c.previous_of
        if c.plan_from:
            out["from"] = c.plan_from
            out["per_year"] = c.per_year
        t = c.type
        if isinstance(t, RatingType):
            out["scale"] = t.scale
        elif isinstance(t, ChoiceType):
            out["choices"] = list(t.choices)
        elif isinstance(t, NumberType):
            out.update(unit=t.unit or None, unit_column=t.unit_column, decimals=t.decimals)
            out.update(min=_json_number(t.min), max=_json_number(t.max))
        if c.computation is not None:
            out["compute"] = c.computation.kind
        out["required"] = str(c.required) if c.required is not None else None
        out["required_when"] = [{"column": x.column, "values": list(x.values)} for x in c.required_when]
        out["proposal"] = c.proposal.basis if c.proposal is not None else None
        out.update(width=c.width, form=c.form, report=c.report, export=c.export, summary=c.summary)
        out["description"] = describe_column(sheet, c)
        return out

    return {
        "levels": [
            {"name": lv.name, "numbered": lv.numbered, "number_format": lv.number_format}
            for lv in sheet.levels
        ],
        "summary_level": sheet.summary_level,
        "plan_headings": list(sheet.plan_headings),
        "columns": [column(c) for c in sheet.columns],
        "scales": {
            name: {
                "note": scale.note,
                "levels": [
                    {"code": r.code, "label": r.label, "description": r.description} for r in scale.levels
                ],
            }
            for name, scale in sheet.scales.items()
        },
        "fingerprint": sheet.fingerprint,
    }


def _json_number(d: Decimal | None) -> int | float | None:
    return None if d is None else _to_value(d)


_HEADING_NOISE = re.compile(r"[\s【】]")
_ANY_YEAR = "(?:(?:令和|平成|昭和)?(?:\\d+|元)年度|R\\d+|\\d{4})"


def heading_text(value: object) -> str:
    """A heading as collect compares it: NFKC, without spaces, line breaks and 【】."""
    if isinstance(value, str):
        return _heading_text(value)
    return _HEADING_NOISE.sub("", normalize_code(value))


@functools.lru_cache(maxsize=4096)
def _heading_text(value: str) -> str:
    # Every returned form repeats the same title lines and headings: each is worked out once.
    return _HEADING_NOISE.sub("", normalize_code(value))


def heading_pattern(column: Column) -> re.Pattern[str]:
    """What a returned form's heading of ``column`` may say: its heading (or report heading), any year
    in place of ``{year}`` / ``{prior_year}`` / ``{year_short}`` (collect checks the year itself)."""
    options = []
    for text in dict.fromkeys(h for h in (column.heading, column.report_heading) if h):
        parts = re.split(r"(\{(?:year|prior_year|year_short)\})", heading_text(text))
        options.append("".join(_ANY_YEAR if p.startswith("{") else re.escape(p) for p in parts))
    return re.compile("|".join(f"(?:{o})" for o in options))


def heading_keys(sheet: SheetDefinition, headings: Sequence[object]) -> dict[str, int]:
    """Column key → 1-based position of its heading among ``headings`` (a form's header row): the
    typed columns (department, secretariat) and the plan's project and department columns, each the
    first heading that matches; ``no``, ``department``, ``submitter`` also by 事業No / 担当課 / 提出課."""
    key = tuple(headings)
    try:
        known = sheet.heading_rows.get(key)
    except TypeError:  # a value that cannot be a key (none that a reader gives): worked out each time
        return _heading_keys(sheet, headings)
    if known is None:
        if len(sheet.heading_rows) >= 4096:  # a long-running server reading many kinds of file
            sheet.heading_rows.clear()
        known = sheet.heading_rows[key] = _heading_keys(sheet, headings)
    return dict(known)


def _heading_keys(sheet: SheetDefinition, headings: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    texts = [heading_text(h) for h in headings]
    patterns = sheet.heading_patterns
    for j, text in enumerate(texts, 1):
        if not text:
            continue
        if text.upper().startswith("事業NO") and "no" not in found:
            found["no"] = j
            continue
        for role, pattern in patterns:
            if role and role not in found and pattern.fullmatch(text):
                found[role] = j
                break
        else:
            for role, names in (("department", ("担当課", "担当課名")), ("submitter", ("提出課",))):
                if role not in found and text in names:
                    found[role] = j
    return found


# --- what the form's cells carry ----------------------------------------------------------------------

MAX_PROMPT = 250  # Excel refuses a data-validation message longer than 255 characters (as forms.MAX_PROMPT)


@dataclass(frozen=True)
class Validation:
    """An Excel data validation for a typed column, as openpyxl's DataValidation takes it."""

    type: Literal["list", "decimal", "whole", "textLength"]
    formula1: str
    formula2: str | None = None
    operator: Literal["between", "greaterThanOrEqual", "lessThanOrEqual"] | None = None
    title: str = ""
    prompt: str = ""
    error: str = ""


def validation(sheet: SheetDefinition, column: Column) -> Validation | None:
    """The drop-down or range check of a typed column's cells on the form (None for other columns).

    Pasting bypasses validation, so collect checks everything again; this only helps while typing.
    """
    if not column.is_input and column.source != "committee":  # the committee's: on the members' workbooks
        return None
    t, title = column.type, column.title[:32]
    if isinstance(t, RatingType | ChoiceType):
        if isinstance(t, RatingType):
            scale = sheet.scales[t.scale]
            items = scale.codes
            prompt = " / ".join(f"{r.code}: {r.label or r.description}" for r in scale.levels)
        else:
            items = list(t.choices)
            prompt = "・".join(items)
        if column.proposal is not None and column.proposal.reason:
            prompt += f"（提案と異なる評価には「{sheet.column(column.proposal.reason).title}」に理由を記入）"
        listed = "・".join(items)
        return Validation(
            "list",
            '"' + ",".join(items) + '"',
            title=title,
            prompt=prompt[:MAX_PROMPT],
            error=f"{column.title}は {listed} のいずれかを選んでください。"[:MAX_PROMPT],
        )
    if isinstance(t, NumberType):
        kind: Literal["decimal", "whole"] = "whole" if t.decimals == 0 else "decimal"
        digits = "整数" if t.decimals == 0 else f"小数点以下{t.decimals}桁までの数値"
        if t.min is not None and t.max is not None:
            op, f1, f2 = "between", _num(t.min), _num(t.max)
            span = f"{f1}以上{f2}以下の"
        elif t.min is not None:
            op, f1, f2, span = "greaterThanOrEqual", _num(t.min), None, f"{_num(t.min)}以上の"
        elif t.max is not None:
            op, f1, f2, span = "lessThanOrEqual", _num(t.max), None, f"{_num(t.max)}以下の"
        else:
            op, f1, f2, span = "between", "-1E+15", "1E+15", ""
        return Validation(
            kind,
            f1.replace(",", ""),
            f2.replace(",", "") if f2 is not None else None,
            op,  # type: ignore[arg-type]  # one of the literals above
            title=title,
            prompt=f"{span}{digits}を入力してください（単位は不要です）。"[:MAX_PROMPT],
            error=f"{column.title}には{span}{digits}を入力してください。"[:MAX_PROMPT],
        )
    if isinstance(t, TextType) and t.max_length < MAX_TEXT_CHARS:
        return Validation(
            "textLength",
            str(t.max_length),
            operator="lessThanOrEqual",
            title=title,
            error=f"{column.title}は{t.max_length:,}文字までで入力してください。"[:MAX_PROMPT],
        )
    return None


def excel_number_format(column: Column, unit: str | None = None) -> str | None:
    """The cell format of a number column: thousands separators, the decimals, the unit as literal text
    (never Excel's % format, which would store 50 % as 0.5)."""
    t = column.type
    if not isinstance(t, NumberType):
        return None
    text = "#,##0" + ("." + "0" * t.decimals if t.decimals else "")
    shown = unit if unit is not None else t.unit
    if shown:
        text += '"' + shown.replace('"', "") + '"'
    return text
