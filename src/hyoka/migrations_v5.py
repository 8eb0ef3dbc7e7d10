"""Store migration 5 (issues 10 and 11): plan versions, stable row ids, entries with typed values.

Pure: SQL text and the computation of the row ids; the store (an adapter) executes them in one
transaction, in this order (see docs/design/plan-versions.md, "The store migration"):

1. every statement of :data:`SCHEMA_SQL` (the new tables; the schema-4 ``entries`` and ``current``
   renamed aside);
2. ``keys = LEGACY_KEYS_SQL`` and ``first = FIRST_YEAR_SQL``, then :func:`legacy_version` with the
   workspace's plan, and the inserts of :func:`migration_params` (``INSERT_VERSION_SQL``,
   ``INSERT_ROW_SQL``, ``INSERT_LEGACY_SQL``);
3. every statement of :data:`COPY_SQL` (entries and current copied onto row ids, old tables dropped);
4. ``PRAGMA user_version = 5``.

Nothing is lost: every schema-4 entry is copied with its id, submission, year, department, submitter,
sheet and cell; its rating, achievement and outlook become the ``rating``, ``achievement`` and
``outlook`` values of the default sheet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.text import split_departments
from hyoka.versions import PlanVersion, VersionRow, row_record
from hyoka.years import FiscalYear

SCHEMA_SQL = """
CREATE TABLE plan_versions (
    id INTEGER PRIMARY KEY,
    from_year INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    source_file TEXT NOT NULL,
    source_sha256 TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL,
    adopted_at TEXT NOT NULL,
    adopted_by TEXT NOT NULL DEFAULT '',
    hyoka_version TEXT NOT NULL DEFAULT '',
    renames TEXT NOT NULL DEFAULT '[]',
    sheet TEXT NOT NULL DEFAULT '{}',
    forced INTEGER NOT NULL DEFAULT 0,
    replaced_by INTEGER REFERENCES plan_versions(id)
);
CREATE UNIQUE INDEX plan_versions_in_force ON plan_versions (from_year) WHERE replaced_by IS NULL;
CREATE TABLE plan_rows (
    version_id INTEGER NOT NULL REFERENCES plan_versions(id),
    row_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    levels TEXT NOT NULL,
    project_no TEXT NOT NULL,
    project_name TEXT NOT NULL,
    project_index INTEGER NOT NULL,
    is_new INTEGER NOT NULL,
    department TEXT NOT NULL,
    departments TEXT NOT NULL,
    submitters TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    predecessors TEXT NOT NULL DEFAULT '[]',
    declared TEXT NOT NULL DEFAULT '{}',
    dropped INTEGER NOT NULL DEFAULT 0,
    line INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, row_id)
);
CREATE INDEX plan_rows_row ON plan_rows (row_id);
CREATE TABLE legacy_rows (
    project_no TEXT NOT NULL,
    department TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    PRIMARY KEY (project_no, department)
);
DROP INDEX current_submitter;
DROP INDEX entries_submission;
ALTER TABLE current RENAME TO current_v4;
ALTER TABLE entries RENAME TO entries_v4;
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    fiscal_year INTEGER NOT NULL,
    row_id INTEGER NOT NULL,
    submitter TEXT NOT NULL,
    department TEXT NOT NULL,
    values_json TEXT NOT NULL,
    sheet TEXT,
    cell TEXT,
    cells TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE current (
    fiscal_year INTEGER NOT NULL,
    row_id INTEGER NOT NULL,
    submitter TEXT NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES entries(id),
    PRIMARY KEY (fiscal_year, row_id, submitter)
)
"""

LEGACY_KEYS_SQL = (
    "SELECT project_no, department FROM entries_v4 GROUP BY project_no, department ORDER BY MIN(id)"
)
FIRST_YEAR_SQL = "SELECT MIN(fiscal_year) FROM submissions"

INSERT_VERSION_SQL = (
    "INSERT INTO plan_versions (id, from_year, name, source_file, source_sha256, fingerprint, adopted_at,"
    " adopted_by, hyoka_version, renames, sheet) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
INSERT_ROW_SQL = (
    "INSERT INTO plan_rows (version_id, row_id, position, levels, project_no, project_name, project_index,"
    " is_new, department, departments, submitters, extra, predecessors, declared, dropped, line)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
INSERT_LEGACY_SQL = "INSERT INTO legacy_rows (project_no, department, row_id) VALUES (?,?,?)"

COPY_SQL = """
INSERT INTO entries (id, submission_id, fiscal_year, row_id, submitter, department, values_json, sheet,
    cell, cells)
SELECT e.id, e.submission_id, e.fiscal_year, l.row_id, e.submitter, e.department,
    json_object('rating', e.rating, 'achievement', e.achievement, 'outlook', e.outlook),
    e.sheet, e.cell, CASE WHEN e.cell IS NULL THEN '{}' ELSE json_object('rating', e.cell) END
FROM entries_v4 e JOIN legacy_rows l ON l.project_no = e.project_no AND l.department = e.department
ORDER BY e.id;
INSERT OR REPLACE INTO current (fiscal_year, row_id, submitter, entry_id)
SELECT c.fiscal_year, l.row_id, c.submitter, c.entry_id
FROM current_v4 c JOIN legacy_rows l ON l.project_no = c.project_no AND l.department = c.department
ORDER BY c.entry_id;
DROP TABLE current_v4;
DROP TABLE entries_v4;
DROP TABLE legacy_rows;
CREATE INDEX entries_submission ON entries (submission_id);
CREATE INDEX entries_row ON entries (row_id, fiscal_year);
CREATE INDEX current_submitter ON current (fiscal_year, submitter)
"""

DEFAULT_COLUMNS = ("rating", "achievement", "outlook")
"""The default sheet's column keys: today's three input columns."""


def statements(sql: str) -> list[str]:
    """The statements of a block, as the store's migration loop runs them (no ``;`` inside strings)."""
    return [s.strip() for s in sql.split(";") if s.strip()]


def legacy_version(
    plan: Plan,
    legacy_keys: Iterable[tuple[str, str]],
    from_year: FiscalYear,
    *,
    extra: Mapping[int, Mapping[str, str]] | None = None,
) -> tuple[PlanVersion, dict[RowKey, int]]:
    """Version 1 from the plan file, and the row id of every stored (事業No, 担当課) key.

    The plan's rows get ids 1, 2, … in plan order. A stored key attaches by the matching rule of
    new versions: the same label, else the same 事業No and the same set of departments (``A・B``
    stored, ``B、A`` in the file). Keys the plan no longer has become rows of version 1 marked
    dropped, after the plan's rows, in the order they were first stored; they keep the labels the
    entries carry (事業No, 担当課) and, when the project is still in the plan, its name and 施策.
    """
    extra = extra or {}
    rows = [VersionRow(i, r, (), extra=dict(extra.get(r.line, {}))) for i, r in enumerate(plan.rows, start=1)]
    by_label: dict[RowKey, int] = {r.row.key: r.row_id for r in rows}
    by_set: dict[tuple[str, frozenset[str]], int] = {}
    for r in rows:
        by_set.setdefault((r.no, frozenset(r.departments)), r.row_id)
    project: dict[str, PlanRow] = {}
    for plan_row in plan.rows:
        project.setdefault(plan_row.project_no, plan_row)
    assigned: dict[RowKey, int] = {}
    dropped: dict[tuple[str, frozenset[str]], int] = {}
    next_id = len(rows) + 1
    for no, department in legacy_keys:
        key = (no, department)
        if key in assigned:
            continue
        departments = split_departments(department)
        rid = by_label.get(key) or by_set.get((no, frozenset(departments)))
        if rid is None:
            rid = dropped.get((no, frozenset(departments)))
        if rid is None:
            rid = next_id
            next_id += 1
            dropped[(no, frozenset(departments))] = rid
            rows.append(VersionRow(rid, dropped_row(no, department, project.get(no)), (), dropped=True))
        assigned[key] = rid
    version = PlanVersion(1, from_year, tuple(rows), source=plan.source, fingerprint=plan.fingerprint)
    return version, assigned


def dropped_row(no: str, department: str, same_project: PlanRow | None) -> PlanRow:
    p = same_project
    return PlanRow(
        p.goal_no if p else "",
        p.goal if p else "",
        p.policy if p else "",
        p.measure_no if p else "",
        p.measure if p else "",
        no,
        p.project_name if p else "",
        False,
        department,
        split_departments(department),
        p.project_index if p else 0,
        0,
    )


@dataclass(frozen=True)
class MigrationData:
    """Parameters for the inserts of step 2."""

    version: tuple[Any, ...]
    rows: list[tuple[Any, ...]]
    legacy: list[tuple[str, str, int]]


def version_params(
    version: PlanVersion,
    *,
    source_file: str,
    source_sha256: str,
    adopted_at: str,
    adopted_by: str,
    hyoka_version: str,
    sheet: Mapping[str, Any] | None = None,
) -> tuple[Any, ...]:
    """The ``plan_versions`` insert for a version (also what ``plan adopt`` stores)."""
    return (
        version.id,
        version.from_year.start,
        version.name,
        source_file,
        source_sha256,
        version.fingerprint,
        adopted_at,
        adopted_by,
        hyoka_version,
        _json([list(pair) for pair in version.renames]),
        _sheet_json(sheet or {}),
    )


def rows_params(version: PlanVersion) -> list[tuple[Any, ...]]:
    """The ``plan_rows`` inserts of a version, in plan order."""
    out = []
    for position, r in enumerate(version.rows):
        rec = row_record(version.id, position, r)
        out.append(
            (
                rec["version_id"],
                rec["row_id"],
                rec["position"],
                _json(rec["levels"]),
                rec["project_no"],
                rec["project_name"],
                rec["project_index"],
                int(rec["is_new"]),
                rec["department"],
                _json(rec["departments"]),
                _json(rec["submitters"]),
                _json(rec["extra"]),
                _json(rec["predecessors"]),
                _json(rec["declared"]),
                int(rec["dropped"]),
                rec["line"],
            )
        )
    return out


ROW_COLUMNS: Sequence[str] = (
    "version_id",
    "row_id",
    "position",
    "levels",
    "project_no",
    "project_name",
    "project_index",
    "is_new",
    "department",
    "departments",
    "submitters",
    "extra",
    "predecessors",
    "declared",
    "dropped",
    "line",
)
_JSON_COLUMNS = {"levels", "departments", "submitters", "extra", "predecessors", "declared"}


def record_from_db(values: Sequence[Any]) -> dict[str, Any]:
    """A ``plan_rows`` row (selected in :data:`ROW_COLUMNS` order) as :func:`row_from_record` takes it."""
    return {k: (json.loads(v) if k in _JSON_COLUMNS else v) for k, v in zip(ROW_COLUMNS, values, strict=True)}


_PLAIN_COLUMNS = tuple(c for c in ROW_COLUMNS if c not in _JSON_COLUMNS)
_JSON_IN_ORDER = tuple(c for c in ROW_COLUMNS if c in _JSON_COLUMNS)
ROW_SELECT = ", ".join(_PLAIN_COLUMNS) + ", '[' || " + " || ',' || ".join(_JSON_IN_ORDER) + " || ']'"
"""The ``plan_rows`` columns for :func:`record_from_select`: the plain ones, then the JSON ones as one
JSON array (decoded at once: six ``json.loads`` a row were half of reading a 5,800-row plan)."""


def record_from_select(values: Sequence[Any]) -> dict[str, Any]:
    """A ``plan_rows`` row selected as :data:`ROW_SELECT` — the same record as :func:`record_from_db`."""
    record = dict(zip(_PLAIN_COLUMNS, values[:-1], strict=True))
    record.update(zip(_JSON_IN_ORDER, json.loads(values[-1]), strict=True))
    return record


def migration_params(
    version: PlanVersion,
    legacy: Mapping[RowKey, int],
    *,
    source_file: str,
    source_sha256: str = "",
    adopted_at: str,
    adopted_by: str = "",
    hyoka_version: str = "",
    sheet: Mapping[str, Any] | None = None,
) -> MigrationData:
    """``sheet``: hyoka.toml's definition (``SheetDefinition.source``), stored with version 1."""
    return MigrationData(
        version_params(
            version,
            source_file=source_file,
            source_sha256=source_sha256,
            adopted_at=adopted_at,
            adopted_by=adopted_by,
            hyoka_version=hyoka_version,
            sheet=sheet,
        ),
        rows_params(version),
        [(no, department, rid) for (no, department), rid in legacy.items()],
    )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _sheet_json(sheet: Mapping[str, Any]) -> str:
    """A sheet definition's tables as stored (as ``hyoka.sheet.source_json`` writes them: a TOML
    date, which JSON lacks, as its text)."""
    return json.dumps(dict(sheet), ensure_ascii=False, sort_keys=True, default=str)
