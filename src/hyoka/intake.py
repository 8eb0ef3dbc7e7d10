"""Reading returned forms and flat rating tables into plain rows (the adapter side of collect/import).

The header row is found by its labels, not by position, so the distributed form, a form whose rows
were copied into a fresh workbook, and a flat table (``事業No | 担当課 | 事業評価 | …``) are all read by
the same code. Values come back raw; only codes are normalised later, narrative text only cleaned.
Every loop is bounded by the layout or by a run of empty rows, never by the sheet's ``<dimension>``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hyoka.book import open_any
from hyoka.problems import Problem, problem
from hyoka.sheet import SheetDefinition, heading_keys
from hyoka.tables import decode_csv
from hyoka.text import clean_text, normalize_code
from hyoka.workbook import META_SHEET, SHEET_NAME, WorkbookError, failure_reason, read_bounded

HEADER_SEARCH_ROWS = 40
EMPTY_RUN_END = 30
MAX_DATA_ROWS = 20_000
_NO_IN_LABEL = re.compile(r"事業\s*No\.?\s*([^\]】\s]+)\s*】", re.IGNORECASE)
_YEAR_IN_HEADING = re.compile(r"[(（]\s*((?:令和|平成)\s*(?:\d+|元)\s*年度)\s*[)）]")


def column_role(heading: object) -> str | None:
    """Which column a heading names; spaces, line breaks and 【】 are ignored."""
    if heading is None:
        return None
    return _role(heading if isinstance(heading, str) else str(heading))


@lru_cache(maxsize=4096)
def _role(heading: str) -> str | None:
    # Every file repeats the same headings and title lines: each is worked out once per process.
    text = re.sub(r"[\s【】]", "", unicodedata.normalize("NFKC", heading))
    if not text:
        return None
    if text.upper().startswith("事業NO"):
        return "no"
    if text.startswith("個別事業"):
        return "project"
    if text in ("担当課", "担当課名"):
        return "department"
    if text.startswith("提出課"):
        return "submitter"
    if text.startswith("事業実績"):
        return "achievement"
    if text.startswith("前年度"):
        return "prior"
    if text in ("事業評価", "評価", "今年度事業評価"):
        return "rating"
    if text.startswith("今後の事業計画"):
        return "outlook"
    return None


@dataclass(frozen=True)
class Cell:
    value: Any
    ref: str

    def __reduce__(self) -> tuple[type[Cell], tuple[Any, str]]:
        # A reader process pickles every cell it read: as its two fields, a third of the default's
        # time both ways (the default keeps a state dict per cell).
        return (Cell, (self.value, self.ref))


@dataclass
class ReadRow:
    line: int
    no: Cell
    department: Cell
    rating: Cell
    achievement: Cell
    outlook: Cell
    prior: Cell | None = None
    submitter: Cell | None = None
    # With a sheet definition: every typed column's cell by column key (the form's input cells).
    cells: dict[str, Cell] = field(default_factory=dict)
    # A row without a project: its first non-empty cell in any column (a note below or beside the table).
    note: Cell | None = None

    @functools.cached_property
    def project_no(self) -> str:
        """事業No from its own column, or from ``①【事業No.12】name`` in the project column.
        (Cached: collect asks for it twice per row, and each label is a new string.)"""
        raw = self.no.value
        if isinstance(raw, str) and raw.isascii():  # 1-2-3: NFKC changes nothing, no label to look in
            return normalize_code(raw)
        m = _NO_IN_LABEL.search(unicodedata.normalize("NFKC", str(raw or "")))
        return normalize_code(m.group(1)) if m else normalize_code(raw)


@dataclass
class ReadSheet:
    file: str
    sheet: str | None
    header_row: int
    roles: dict[str, int]
    rows: list[ReadRow] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    heading_year: str | None = None  # e.g. 令和5年度, from the 事業実績 heading
    notes: list[Problem] = field(default_factory=list)  # warnings about the file found while reading
    formulas: dict[str, str] | None = None  # cell -> formula saved without a value; None: not known


FEEDBACK_MARK = "feedback_input_fingerprint"
"""Key in the hidden sheet of a feedback copy: the fingerprint of the department's input when written."""


def input_fingerprint(sheet: ReadSheet) -> str:
    """What the department typed (every read row's cells as cleaned text), hashed.

    A feedback copy records it when written; a copy whose input still has it was sent back unchanged.
    Cleaned text makes it independent of the reader (a number read as 5 or 5.0, a formula without a
    value read as None or "").
    """
    data = [
        [c.ref, clean_text(c.value)]
        for row in sheet.rows
        for c in (row.no, row.department, row.rating, row.achievement, row.outlook, row.note)
        if c is not None and c.ref
    ]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:32]


def column_letter(col: int) -> str:
    """1 → A, 27 → AA (openpyxl's get_column_letter, without importing openpyxl on the read path)."""
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _ref(col: int, row: int) -> str:
    return f"{_letters(col)}{row}"


@lru_cache(maxsize=256)
def _letters(col: int) -> str:
    return column_letter(col)


def read_rows(
    grid_rows: Any,
    file: str,
    sheet: str | None,
    required: tuple[str, ...],
    definition: SheetDefinition | None = None,
) -> ReadSheet | Problem | None:
    """Find the header in ``grid_rows`` (an iterator of value tuples) and read the rows under it.

    With a ``definition`` (a workspace's own [sheet]) the header is found by the sheet's headings and
    each row carries every typed column's cell by key; ``required`` are then column keys.
    Returns None when this sheet has no header, a Problem when it has too many rows.
    """
    found: ReadSheet | None = None
    inputs: list[tuple[str, int]] = []  # with a definition: (column key, position) of its input cells
    empty_run = 0
    for index, values in enumerate(grid_rows, 1):
        if found is None:
            if index > HEADER_SEARCH_ROWS:
                return None
            roles: dict[str, int] = {}
            if definition is not None:
                roles = heading_keys(definition, values)
            for j, v in enumerate(values, 1) if definition is None else ():
                role = column_role(v)
                if role and role not in roles:
                    roles[role] = j
            has_id = "no" in roles or "project" in roles
            if has_id and all(r in roles for r in required):
                found = ReadSheet(file, sheet, index, roles)
                if definition is not None:
                    inputs = [
                        (c.key, at)
                        for c in definition.columns
                        if c.is_input and (at := roles.get(c.key)) is not None
                    ]
                if "achievement" in roles:
                    m = _YEAR_IN_HEADING.search(
                        unicodedata.normalize("NFKC", str(values[roles["achievement"] - 1]))
                    )
                    found.heading_year = m.group(1).replace(" ", "") if m else None
            continue
        if not any(v is not None and str(v).strip() for v in values):
            empty_run += 1
            if empty_run >= EMPTY_RUN_END:
                break
            continue
        empty_run = 0
        if len(found.rows) >= MAX_DATA_ROWS:
            return problem("file-too-many-rows", file=file, sheet=sheet, limit=MAX_DATA_ROWS)
        row = _row(found.roles, values, index)
        if definition is not None:
            width = len(values)
            row.cells = {
                key: Cell(values[at - 1] if at <= width else None, _ref(at, index)) for key, at in inputs
            }
        found.rows.append(row)
    return found


def _row(roles: dict[str, int], values: tuple[Any, ...], line: int) -> ReadRow:
    def cell(role: str) -> Cell:
        j = roles.get(role)
        if j is None:
            return Cell(None, "")
        return Cell(values[j - 1] if j <= len(values) else None, _ref(j, line))

    id_role = "no" if "no" in roles else "project"
    note: Cell | None = None
    j = roles[id_role]
    if j > len(values) or values[j - 1] is None or not str(values[j - 1]).strip():
        k = next((k for k, v in enumerate(values, 1) if v is not None and str(v).strip()), None)
        note = Cell(values[k - 1], _ref(k, line)) if k is not None else None
    return ReadRow(
        line=line,
        no=cell(id_role),
        department=cell("department"),
        rating=cell("rating"),
        achievement=cell("achievement"),
        outlook=cell("outlook"),
        prior=cell("prior") if "prior" in roles else None,
        submitter=cell("submitter") if "submitter" in roles else None,
        note=note,
    )


def form_sheet_order(names: list[str]) -> list[str]:
    """Sheets that may hold the form, the distributed ``調査票`` first, then in tab order."""
    return sorted((n for n in names if n != META_SHEET), key=lambda n: n != SHEET_NAME)


def has_header(grid_rows: Any, required: tuple[str, ...]) -> bool:
    """Whether the first rows hold the form's headings (reads no further than the header search)."""
    for index, values in enumerate(grid_rows, 1):
        if index > HEADER_SEARCH_ROWS:
            return False
        roles = {column_role(v) for v in values}
        if ("no" in roles or "project" in roles) and all(r in roles for r in required):
            return True
    return False


def several_forms(display: str, read: str, others: list[str]) -> Problem:
    names = "・".join(f"「{n}」" for n in [read, *others])
    return problem("sheet-several-forms", file=display, sheet=read, read=read, sheets=names)


def read_workbook(
    path: Path,
    display: str,
    required: tuple[str, ...],
    definition: SheetDefinition | None = None,
    data: bytes | None = None,
) -> ReadSheet | Problem:
    """The form sheet (``調査票`` first, else the first sheet with the headings), plus the hidden metadata.

    When another sheet has the headings too (an edited copy ``調査票 (2)``), the first is read and a
    warning names both. Values come from calamine (see :mod:`hyoka.book`), or openpyxl where calamine
    cannot be trusted with the file. ``data``: the file's bytes, when the caller has read them.
    """
    try:
        book = open_any(path, display, data)
    except WorkbookError as exc:
        return exc.problem
    try:
        meta: dict[str, str] = {}
        names = book.names
        if META_SHEET in names:
            for values in book.rows(META_SHEET, 50):
                if len(values) >= 2 and values[0]:
                    meta[str(values[0])] = clean_text(values[1])
        found: ReadSheet | None = None
        others: list[str] = []
        for name in form_sheet_order(names):
            if book.states.get(name) == "veryHidden":
                continue
            if found is not None:
                if has_header(book.rows(name, HEADER_SEARCH_ROWS), required):
                    others.append(name)
                continue
            result = read_rows(book.rows(name), display, name, required, definition)
            if isinstance(result, Problem):
                return result
            if result is not None:
                result.meta = meta
                if book.formulas is not None:
                    result.formulas = book.formulas.get(name, {})
                found = result
        if found is None:
            return problem("sheet-not-found", file=display, headings=" | ".join(_labels(required)))
        if others:
            found.notes.append(several_forms(display, found.sheet or "", others))
        return found
    except WorkbookError as exc:
        return exc.problem
    except Exception as exc:
        # A workbook that opened but whose sheets are damaged inside: read-only mode parses lazily,
        # and openpyxl and the XML parsers raise many types for it, all the same to the clerk.
        return problem("file-corrupt", file=display, reason=failure_reason(exc))
    finally:
        book.close()


def read_csv(
    path: Path,
    display: str,
    required: tuple[str, ...],
    definition: SheetDefinition | None = None,
    data: bytes | None = None,
) -> ReadSheet | Problem:
    import csv
    import io

    try:
        text = decode_csv(read_bounded(path, display) if data is None else data)
        rows = (tuple(r) for r in csv.reader(io.StringIO(text)))
        result = read_rows(rows, display, None, required, definition)
    except WorkbookError as exc:
        return exc.problem
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        return problem("file-corrupt", file=display, reason=str(exc))
    except Exception as exc:  # decode_csv raises HyokaError for an unknown encoding
        return problem("file-corrupt", file=display, reason=str(exc))
    if result is None:
        return problem("sheet-not-found", file=display, headings=" | ".join(_labels(required)))
    return result


def formulas_at(path: Path, sheet: str, refs: list[str]) -> dict[str, str]:
    """The formulas behind cells that read as empty (a formula whose value was never calculated)."""
    from openpyxl.utils.cell import coordinate_from_string

    if not refs:
        return {}
    wanted = {coordinate_from_string(r) for r in refs}
    max_row = max(row for _, row in wanted)
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        found: dict[str, str] = {}
        for row in wb[sheet].iter_rows(min_row=1, max_row=max_row):
            for c in row:
                coord = getattr(c, "coordinate", None)
                if coord is None:
                    continue
                col_letter = "".join(ch for ch in coord if ch.isalpha())
                if (col_letter, c.row) in wanted and isinstance(c.value, str) and c.value.startswith("="):
                    found[coord] = c.value
        return found
    finally:
        wb.close()


def _labels(required: tuple[str, ...]) -> list[str]:
    names = {"rating": "事業評価", "department": "担当課", "achievement": "事業実績・評価理由"}
    # An imported table names its projects by 事業No; a form by its 個別事業・取り組み column.
    first = "事業No" if "department" in required else "個別事業・取り組み（または事業No）"
    return [first, *(names.get(r, r) for r in required)]
