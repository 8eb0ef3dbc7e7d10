"""The store: an SQLite database in the workspace that keeps every accepted row of every year.

Nothing is overwritten: each accepted file is a *submission* whose rows (``entries``) stay forever;
``current`` points at the entries in force. A newer file from the same department moves the pointers,
the earlier submission stays in the history. Rejected files are recorded (name, time, problems) but none
of their rows are. The journal stays in the default rollback mode because WAL does not work on the
network shares clerks keep their folders on.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from hyoka import __version__, migrations_v5
from hyoka.plan import Plan
from hyoka.problems import HyokaError
from hyoka.sheet import SECRETARIAT_SUBMITTER, source_fingerprint, source_json
from hyoka.text import split_departments
from hyoka.versions import Lineage, PlanVersion, VersionRow, read_extra, row_from_record
from hyoka.years import FiscalYear

BUSY_TIMEOUT_S = 30
_VERSIONS_CACHE: dict[object, tuple[tuple[object, ...], list[PlanVersion]]] = {}
"""Plan versions read, by store path, with the stamp they were read at (see Store.versions)."""


MIGRATIONS: tuple[str, ...] = (
    # 1: the first layout
    """
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        fiscal_year INTEGER NOT NULL,
        submitter TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('form', 'import')),
        file_name TEXT NOT NULL,
        file_path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        received_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        row_count INTEGER NOT NULL DEFAULT 0,
        problems TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        fiscal_year INTEGER NOT NULL,
        project_no TEXT NOT NULL,
        department TEXT NOT NULL,
        submitter TEXT NOT NULL,
        rating TEXT NOT NULL,
        achievement TEXT NOT NULL,
        outlook TEXT NOT NULL,
        sheet TEXT,
        cell TEXT
    );
    CREATE TABLE current (
        fiscal_year INTEGER NOT NULL,
        project_no TEXT NOT NULL,
        department TEXT NOT NULL,
        submitter TEXT NOT NULL,
        entry_id INTEGER NOT NULL REFERENCES entries(id),
        PRIMARY KEY (fiscal_year, project_no, department, submitter)
    );
    """,
    # 2: which hyoka accepted a file (for audits), and lookups by year
    """
    ALTER TABLE submissions ADD COLUMN hyoka_version TEXT NOT NULL DEFAULT '';
    CREATE INDEX submissions_year ON submissions (fiscal_year, status, submitter);
    CREATE INDEX submissions_sha ON submissions (sha256);
    """,
    # 3: a department's rows and a submission's entries without scanning the year (collect at scale)
    """
    CREATE INDEX entries_submission ON entries (submission_id);
    CREATE INDEX current_submitter ON current (fiscal_year, submitter);
    """,
    # 4: when the file was last saved, so that an older version cannot quietly replace a newer one
    """
    ALTER TABLE submissions ADD COLUMN file_mtime REAL;
    """,
    # 5: plan versions, stable row ids, entries with typed values (issues 10 and 11). Special-cased in
    # Store._migrate: between these statements and migrations_v5.COPY_SQL the plan becomes version 1.
    migrations_v5.SCHEMA_SQL,
    # the committee's opinions and the departments' replies (hyoka.opinions_store): own tables only.
    # Every file read is kept (accepted or rejected); what is in force is the latest accepted file
    # per (meeting, kind, source), so nothing is ever overwritten.
    """
    CREATE TABLE opinion_files (
        id INTEGER PRIMARY KEY,
        meeting TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('opinions-import', 'opinions-form', 'replies-form')),
        source TEXT NOT NULL,
        file_name TEXT NOT NULL,
        file_path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        received_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        row_count INTEGER NOT NULL DEFAULT 0,
        problems TEXT NOT NULL DEFAULT '[]',
        hyoka_version TEXT NOT NULL DEFAULT '',
        file_mtime REAL
    );
    CREATE INDEX opinion_files_meeting ON opinion_files (meeting, kind, source, status);
    CREATE TABLE opinions (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES opinion_files(id),
        meeting TEXT NOT NULL,
        opinion_key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        subject TEXT NOT NULL,
        member TEXT NOT NULL,
        text TEXT NOT NULL,
        departments TEXT NOT NULL,
        rating TEXT NOT NULL DEFAULT '',
        sheet TEXT,
        cell TEXT
    );
    CREATE INDEX opinions_file ON opinions (file_id);
    CREATE TABLE opinion_replies (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES opinion_files(id),
        meeting TEXT NOT NULL,
        opinion_key TEXT NOT NULL,
        department TEXT NOT NULL,
        text TEXT NOT NULL,
        sheet TEXT,
        cell TEXT
    );
    CREATE INDEX opinion_replies_file ON opinion_replies (file_id);
    """,
)
V5 = 4  # the index of migration 5 in MIGRATIONS
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Part:
    """One department's part of a row (``submitter`` is '' when the row came whole, by import).

    ``row_id`` is the row's stable identity (plan versions); ``project_no`` and ``department`` are its
    labels in the version in force for the year. A part without ``row_id`` is resolved by its labels
    when stored. ``values`` holds the typed values per column key; for the default sheet they are
    ``rating``, ``achievement`` and ``outlook``, kept as fields so that the code reading them works.
    """

    project_no: str
    department: str
    submitter: str
    rating: str
    achievement: str
    outlook: str
    sheet: str | None = None
    cell: str | None = None
    row_id: int | None = None
    other_values: Mapping[str, object] = field(default_factory=dict)
    """Values of columns other than the default sheet's three (issue 11)."""
    cells: Mapping[str, str] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, object]:
        """Every value by column key, as stored in ``entries.values_json``."""
        return {
            "rating": self.rating,
            "achievement": self.achievement,
            "outlook": self.outlook,
            **self.other_values,
        }


PlanForMigration = Callable[[], tuple[Plan, Iterable[tuple[int, Mapping[str, str]]], str, Mapping[str, Any]]]
"""The working copy for migration 5: the plan, its table rows (for plan_rows.extra), its sha256, and
hyoka.toml's sheet definition (``SheetDefinition.source``, stored with version 1)."""


@dataclass(frozen=True)
class Submission:
    id: int
    fiscal_year: FiscalYear
    submitter: str
    kind: str
    file_name: str
    file_path: str
    sha256: str
    received_at: datetime
    status: str
    row_count: int
    problems: list[dict[str, object]]
    file_mtime: float | None = None


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.plan_for_migration: PlanForMigration | None = None
        self._versions: list[PlanVersion] | None = None
        self._batching = False  # inside batch(): transactions are savepoints
        self._open = False  # batch(): a write transaction is open (BEGIN done, no COMMIT yet)

    @classmethod
    def open(cls, path: Path, plan_for_migration: PlanForMigration | None = None) -> Store:
        """Open (or create, or migrate) the store; refuse to create it afresh where one evidently had
        data. Migration 5 needs the plan (the workspace's working copy), which becomes version 1 of
        the plan; without it a store holding rows stays at schema 4."""
        _refuse_lost_store(path)
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn, path)
            store.plan_for_migration = plan_for_migration
            try:
                store._migrate()
            except BaseException:
                conn.close()
                raise
        except sqlite3.DatabaseError as exc:
            raise HyokaError(_db_message(path, exc)) from None
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self._refuse_newer(self._version())
        if self._version() == SCHEMA_VERSION:
            return
        # Several commands may open an old store at once: the version is read again inside the write
        # transaction, so that only the first migrates and the others find the work done.
        with self.transaction():
            version = self._version()
            self._refuse_newer(version)
            for number in range(version, SCHEMA_VERSION):
                if number == V5:  # plan versions: the working copy becomes version 1
                    self._migrate_v5()
                    continue
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise HyokaError(
                f"{self.path} は新しい版の hyoka（データ形式 {version}）で作られています。"
                f"hyoka を更新してください（この版が扱えるのは形式 {SCHEMA_VERSION} までです）。"
            )

    def _migrate_v5(self) -> None:
        """Schema 4 → 5 in the open transaction: the plan file becomes version 1, stored rows attach to
        it (docs/design/plan-versions.md §9)."""
        db = self.conn
        for statement in migrations_v5.statements(migrations_v5.SCHEMA_SQL):
            db.execute(statement)
        keys = [(r[0], r[1]) for r in db.execute(migrations_v5.LEGACY_KEYS_SQL)]
        first = db.execute(migrations_v5.FIRST_YEAR_SQL).fetchone()[0]
        plan_info = None
        if self.plan_for_migration is not None:
            try:
                plan_info = self.plan_for_migration()
            except HyokaError as exc:
                if keys:
                    raise HyokaError(
                        "保存済みのデータを新しい形式に移すには、誤りのない計画マスタが必要です。"
                        f"計画マスタを直してから、もう一度実行してください。\n{exc}"
                    ) from None
        elif keys:
            raise HyokaError(
                f"{self.path.name} のデータを新しい形式に移すには計画マスタが必要です。"
                "ワークスペースのフォルダで実行してください。"
            )
        if plan_info is not None:
            plan, table_rows, sha, sheet = plan_info
            version, legacy = migrations_v5.legacy_version(
                plan,
                keys,
                FiscalYear(first) if first else FiscalYear.of(datetime.now().date()),
                extra=read_extra(table_rows),
            )
            data = migrations_v5.migration_params(
                version,
                legacy,
                source_file=Path(plan.source).name if plan.source else "",
                source_sha256=sha,
                adopted_at=_now(),
                adopted_by=_user(),
                hyoka_version=__version__,
                sheet=sheet,
            )
            db.execute(migrations_v5.INSERT_VERSION_SQL, data.version)
            db.executemany(migrations_v5.INSERT_ROW_SQL, data.rows)
            db.executemany(migrations_v5.INSERT_LEGACY_SQL, data.legacy)
        for statement in migrations_v5.statements(migrations_v5.COPY_SQL):
            db.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing write; waits for another hyoka writing the same store.

        Inside :meth:`batch` it is a savepoint of the batch's write transaction instead: just as whole
        or not at all, but durable only with the next :meth:`commit`."""
        if self._batching:
            with self._savepoint():
                yield self.conn
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise HyokaError(_db_message(self.path, exc)) from None
        try:
            yield self.conn
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise HyokaError(_db_message(self.path, exc)) from None
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise HyokaError(_db_message(self.path, exc)) from None

    def _rollback(self) -> None:
        # After some failures (disk full, I/O error) SQLite has already rolled back by itself.
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self._open = False
        self._versions = None  # it may have been read with writes that are now undone

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the transactions made inside into write transactions that :meth:`commit` ends.

        Each transaction inside stays whole or not at all (a savepoint), but none is durable before
        the next :meth:`commit`: an fsync per commit is what a run of many small writes waits for
        (collect at 100x: 298 files, 2.2 s of commits). Whatever is not committed when the batch
        ends (an exception, an early return) is rolled back, so the caller commits exactly what it
        reports as stored. The write lock is held from the first write to the commit."""
        if self._batching:
            raise RuntimeError("Store.batch() does not nest")
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            # A rollback that fails leaves it to SQLite: closing the connection rolls back.
            with suppress(sqlite3.DatabaseError):
                self._rollback()

    def commit(self) -> bool:
        """Make the batch's writes so far durable; True if there were any (False: nothing to commit).

        Raises HyokaError when the commit fails, or when SQLite rolled the batch back by itself
        (a full disk, an I/O error): then none of the writes since the last commit were stored."""
        if not self._open:
            return False
        if not self.conn.in_transaction:  # rolled back by SQLite after a failed write
            self._open = False
            raise HyokaError(f"{self.path.name} への書き込みが取り消されました。もう一度実行してください。")
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise HyokaError(_db_message(self.path, exc)) from None
        self._open = False
        return True

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        if not self._open:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise HyokaError(_db_message(self.path, exc)) from None
            self._open = True
        try:
            self.conn.execute("SAVEPOINT hyoka_write")
            yield
            self.conn.execute("RELEASE hyoka_write")
        except BaseException as exc:
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK TO hyoka_write")
                    self.conn.execute("RELEASE hyoka_write")
                except sqlite3.DatabaseError:
                    self._rollback()
            if isinstance(exc, sqlite3.DatabaseError):
                raise HyokaError(_db_message(self.path, exc)) from None
            raise

    # --- writing -------------------------------------------------------------------------------------

    def add_submission(
        self,
        *,
        year: FiscalYear,
        submitter: str,
        kind: str,
        file_name: str,
        file_path: str,
        sha256: str,
        parts: Sequence[Part],
        problems: Sequence[dict[str, object]] = (),
        replace_rows: bool = False,
        file_mtime: float | None = None,
    ) -> int:
        """Store an accepted file in one transaction and make its rows current.

        A form replaces everything its department had in force for the year; an import
        (``replace_rows``) replaces, for each row it carries, whatever was in force for that row.
        """
        with self.transaction() as db:
            sid = self._insert_submission(
                db,
                year,
                submitter,
                kind,
                file_name,
                file_path,
                sha256,
                "accepted",
                len(parts),
                problems,
                file_mtime,
            )
            resolved = self._resolve(db, year, parts)
            versions = self.versions()
            first = versions[0] if versions else None
            if first is not None and year < first.from_year:
                # The first version governs every year before its own; it starts with the earliest
                # year stored, as a migrated store's version 1 does.
                db.execute("UPDATE plan_versions SET from_year = ? WHERE id = ?", (year.start, first.id))
                self._versions = None
            if replace_rows:
                # The secretariat's entry of a row and the departments' parts have different owners:
                # an import of either replaces only its own kind (issue 11 §13).
                ours = "=" if submitter == SECRETARIAT_SUBMITTER else "<>"
                db.executemany(
                    f"DELETE FROM current WHERE fiscal_year = ? AND row_id = ? AND submitter {ours} ?",
                    [
                        (year.start, rid, SECRETARIAT_SUBMITTER)
                        for rid in dict.fromkeys(rid for _, rid in resolved)
                    ],
                )
            else:
                db.execute(
                    "DELETE FROM current WHERE fiscal_year = ? AND submitter = ?", (year.start, submitter)
                )
            db.executemany(
                "INSERT INTO entries (submission_id, fiscal_year, row_id, submitter, department, values_json,"
                " sheet, cell, cells) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        sid,
                        year.start,
                        rid,
                        p.submitter,
                        p.department,
                        _json(p.other_values if p.submitter == SECRETARIAT_SUBMITTER else p.values),
                        p.sheet,
                        p.cell,
                        _json(dict(p.cells) if p.cells else ({"rating": p.cell} if p.cell else {})),
                    )
                    for p, rid in resolved
                ],
            )
            db.execute(
                "INSERT OR REPLACE INTO current (fiscal_year, row_id, submitter, entry_id)"
                " SELECT fiscal_year, row_id, submitter, id FROM entries"
                " WHERE submission_id = ? ORDER BY id",
                (sid,),
            )
        return sid

    def add_rejection(
        self,
        *,
        year: FiscalYear,
        submitter: str,
        kind: str,
        file_name: str,
        file_path: str,
        sha256: str,
        problems: Sequence[dict[str, object]],
    ) -> int:
        with self.transaction() as db:
            return self._insert_submission(
                db, year, submitter, kind, file_name, file_path, sha256, "rejected", 0, problems
            )

    def rejected_with_hash(self, year: FiscalYear, sha256: str) -> Submission | None:
        """The first recorded rejection of an identical file for the year, if any."""
        row = self.conn.execute(
            "SELECT * FROM submissions WHERE fiscal_year = ? AND status = 'rejected' AND sha256 = ?"
            " ORDER BY id LIMIT 1",
            (year.start, sha256),
        ).fetchone()
        return _submission(row) if row else None

    @staticmethod
    def _insert_submission(
        db: sqlite3.Connection,
        year: FiscalYear,
        submitter: str,
        kind: str,
        file_name: str,
        file_path: str,
        sha256: str,
        status: str,
        row_count: int,
        problems: Sequence[dict[str, object]],
        file_mtime: float | None = None,
    ) -> int:
        cur = db.execute(
            "INSERT INTO submissions (fiscal_year, submitter, kind, file_name, file_path, sha256, received_at,"
            " status, row_count, problems, hyoka_version, file_mtime) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                year.start,
                _storable(submitter),
                kind,
                _storable(file_name),
                _storable(file_path),
                sha256,
                datetime.now().isoformat(timespec="seconds"),
                status,
                row_count,
                _storable(json.dumps(list(problems), ensure_ascii=False)),
                __version__,
                file_mtime,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    # --- reading -------------------------------------------------------------------------------------

    def _resolve(
        self, db: sqlite3.Connection, year: FiscalYear, parts: Sequence[Part]
    ) -> list[tuple[Part, int]]:
        """Each part with its row id: its own, else the row of the version in force with its labels
        (the same label, else the same 事業No and set of departments). A part whose labels the version
        has no row for (a direct write of a row the plan no longer has) becomes a dropped row of it."""
        if all(p.row_id is not None for p in parts):
            return [(p, p.row_id) for p in parts if p.row_id is not None]
        version = self.version_for(year)
        by_set: dict[tuple[str, frozenset[str]], int] = {}
        for r in version.rows:
            by_set.setdefault((r.no, frozenset(r.departments)), r.row_id)
        by_no = {r.no: r.row for r in reversed(version.rows) if not r.dropped}
        out: list[tuple[Part, int]] = []
        added: dict[tuple[str, frozenset[str]], int] = {}
        next_id = self.max_row_id() + 1
        position = len(version.rows)
        for p in parts:
            if p.row_id is not None:
                out.append((p, p.row_id))
                continue
            key = (p.project_no, frozenset(split_departments(p.department)))
            hit = version.by_key.get((p.project_no, p.department))
            rid = hit.row_id if hit else by_set.get(key, added.get(key))
            if rid is None:
                rid = added[key] = next_id
                next_id += 1
                row = VersionRow(
                    rid,
                    migrations_v5.dropped_row(p.project_no, p.department, by_no.get(p.project_no)),
                    (),
                    dropped=True,
                )
                params = list(
                    migrations_v5.rows_params(PlanVersion(version.id, version.from_year, (row,)))[0]
                )
                params[2] = position
                position += 1
                db.execute(migrations_v5.INSERT_ROW_SQL, params)
            out.append((p, rid))
        if added:
            self._versions = None
        return out

    def current_parts(self, year: FiscalYear, *, ratings_only: bool = False) -> list[Part]:
        """The parts in force for ``year``, labelled as the version in force for it names their rows.

        Parts of rows that version has no place for (an adoption forced over stored returns) are left
        out: they stay stored, but not in that year's documents. ``ratings_only``: each part with its
        rating and nothing else (the prior year's ratings of collect, forms and diff: SQLite picks the
        rating out of the stored JSON, which Python would otherwise decode with every text).
        """
        versions = self.versions()
        if not versions:
            return []
        version = Lineage(versions).version_for(year)
        by_id = version.by_id
        if ratings_only:
            picked = self.conn.execute(
                "SELECT e.row_id, e.submitter, json_extract(e.values_json, '$.rating'), e.sheet, e.cell"
                " FROM current c JOIN entries e ON e.id = c.entry_id WHERE c.fiscal_year = ? ORDER BY e.id",
                (year.start,),
            ).fetchall()
            return [
                Part(by_id[rid].no, by_id[rid].department, submitter, _text(rating), "", "", sheet, cell, rid)
                for rid, submitter, rating, sheet, cell in picked
                if rid in by_id
            ]
        rows = self.conn.execute(
            "SELECT e.row_id, e.submitter, e.values_json, e.sheet, e.cell, e.cells"
            " FROM current c JOIN entries e ON e.id = c.entry_id WHERE c.fiscal_year = ? ORDER BY e.id",
            (year.start,),
        ).fetchall()
        out = []
        for rid, submitter, values_json, sheet, cell, cells in rows:
            row = by_id.get(rid)
            if row is None:
                continue
            values = json.loads(values_json)
            out.append(
                Part(
                    row.no,
                    row.department,
                    submitter,
                    _text(values.pop("rating", "")),
                    _text(values.pop("achievement", "")),
                    _text(values.pop("outlook", "")),
                    sheet,
                    cell,
                    rid,
                    values,
                    json.loads(cells) if cells else {},
                )
            )
        return out

    # --- plan versions -------------------------------------------------------------------------------

    def _versions_stamp(self) -> tuple[object, ...]:
        """What changes whenever a version or a row is added or a version moves (a cheap query)."""
        heads = self.conn.execute(
            "SELECT MAX(id), group_concat(from_year), group_concat(COALESCE(replaced_by, 0)),"
            " group_concat(fingerprint), group_concat(adopted_at), group_concat(sheet) FROM plan_versions"
        ).fetchone()
        rows = self.conn.execute("SELECT COUNT(*) FROM plan_rows").fetchone()
        return (str(self.path.resolve()) if str(self.path) != ":memory:" else id(self), *heads, *rows)

    def versions(self, *, replaced: bool = False) -> list[PlanVersion]:
        """Every adopted version in force for some year, oldest first (``replaced``: also replaced ones).

        Read once per process while the versions stay as they are: at 100x a plan has 5,800 rows and
        every command opens the store more than once."""
        if self._versions is None and not replaced:
            stamp = self._versions_stamp()
            cached = _VERSIONS_CACHE.get(stamp[0])
            if cached is not None and cached[0] == stamp:
                self._versions = cached[1]
            else:
                self._versions = self._read_versions(replaced=False)
                _VERSIONS_CACHE[stamp[0]] = (stamp, self._versions)
        if replaced:
            return self._read_versions(replaced=True)
        assert self._versions is not None
        return list(self._versions)

    def _read_versions(self, *, replaced: bool) -> list[PlanVersion]:
        sql = "SELECT * FROM plan_versions" + ("" if replaced else " WHERE replaced_by IS NULL")
        heads = self.conn.execute(sql + " ORDER BY from_year, id").fetchall()
        rows: dict[int, list[VersionRow]] = {}
        columns = migrations_v5.ROW_SELECT
        where = (
            ""
            if replaced
            else " WHERE version_id IN (SELECT id FROM plan_versions WHERE replaced_by IS NULL)"
        )
        for r in self.conn.execute(f"SELECT {columns} FROM plan_rows{where} ORDER BY version_id, position"):
            rows.setdefault(r[0], []).append(row_from_record(migrations_v5.record_from_select(tuple(r))))
        return [
            PlanVersion(
                h["id"],
                FiscalYear(h["from_year"]),
                tuple(rows.get(h["id"], ())),
                name=h["name"],
                renames=tuple((o, n) for o, n in json.loads(h["renames"])),
                source=h["source_file"],
                fingerprint=h["fingerprint"],
                sheet_json=h["sheet"],
                sheet_fingerprint=_sheet_fingerprint(h["sheet"]),
            )
            for h in heads
        ]

    def source_sha256(self, version_id: int) -> str:
        """The sha256 of the file a version was adopted from ('' when not known)."""
        row = self.conn.execute(
            "SELECT source_sha256 FROM plan_versions WHERE id = ?", (version_id,)
        ).fetchone()
        return str(row[0]) if row else ""

    def version_info(self) -> list[dict[str, Any]]:
        """The ``plan_versions`` rows as stored (for ``plan versions``), oldest first, with the
        fingerprint of each one's sheet definition."""
        rows = [dict(r) for r in self.conn.execute("SELECT * FROM plan_versions ORDER BY from_year, id")]
        return [{**r, "sheet_fingerprint": _sheet_fingerprint(r["sheet"])} for r in rows]

    def lineage(self) -> Lineage:
        versions = self.versions()
        if not versions:
            raise HyokaError("計画の版がまだ採用されていません。計画マスタを採用してください。")
        return Lineage(versions)

    def version_for(self, year: FiscalYear) -> PlanVersion:
        return self.lineage().version_for(year)

    def move_first_version(self, year: FiscalYear) -> None:
        """Start the first version at ``year`` (earlier): it is in force for every year before its own
        anyway, so no year changes version; a version adopted for a year before it then sorts after it."""
        versions = self.versions()
        if versions and year < versions[0].from_year:
            with self.transaction() as db:
                db.execute(
                    "UPDATE plan_versions SET from_year = ? WHERE id = ?", (year.start, versions[0].id)
                )
            self._versions = None

    def record_missing_sheets(self, sheet: Mapping[str, Any]) -> list[int]:
        """Store ``sheet`` (hyoka.toml's definition) with every version that has none (``'{}'``: adopted
        by a hyoka that did not yet keep the definition with the version, whose every year was made
        with hyoka.toml's). Returns the ids of the versions in force it was recorded for; a second call
        finds nothing to do, also when another command did it in between."""
        missing = "SELECT id FROM plan_versions WHERE sheet = '{}'"
        if not self.conn.execute(missing).fetchone():
            return []
        with self.transaction() as db:
            ids = [r[0] for r in db.execute(missing + " AND replaced_by IS NULL ORDER BY from_year, id")]
            db.execute("UPDATE plan_versions SET sheet = ? WHERE sheet = '{}'", (source_json(sheet),))
        self._versions = None
        return ids

    def max_row_id(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(row_id), 0) FROM plan_rows").fetchone()[0])

    def next_version_id(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM plan_versions").fetchone()[0])

    def stored_row_ids(self) -> dict[FiscalYear, set[int]]:
        """Every row id with stored entries, by year (nothing stored is ever deleted)."""
        found: dict[FiscalYear, set[int]] = {}
        for fy, rid in self.conn.execute("SELECT DISTINCT fiscal_year, row_id FROM entries"):
            found.setdefault(FiscalYear(fy), set()).add(rid)
        return found

    def add_version(
        self,
        version: PlanVersion,
        *,
        source_file: str,
        source_sha256: str = "",
        replacing: PlanVersion | None = None,
        relinked: Sequence[PlanVersion] = (),
        forced: bool = False,
        sheet: Mapping[str, Any] | None = None,
    ) -> None:
        """Store an adopted version in one transaction: its rows; the version it replaces marked (and
        kept); later versions' predecessors re-matched against it (``relinked``)."""
        with self.transaction() as db:
            params = list(
                migrations_v5.version_params(
                    version,
                    source_file=source_file,
                    source_sha256=source_sha256,
                    adopted_at=_now(),
                    adopted_by=_user(),
                    hyoka_version=__version__,
                    sheet=sheet,
                )
            )
            if replacing is not None:
                # The unique index allows one version in force per year: mark the old one first.
                db.execute("UPDATE plan_versions SET replaced_by = id WHERE id = ?", (replacing.id,))
            db.execute(migrations_v5.INSERT_VERSION_SQL, params)
            if forced:
                db.execute("UPDATE plan_versions SET forced = 1 WHERE id = ?", (version.id,))
            db.executemany(migrations_v5.INSERT_ROW_SQL, migrations_v5.rows_params(version))
            if replacing is not None:
                db.execute(
                    "UPDATE plan_versions SET replaced_by = ? WHERE id = ?", (version.id, replacing.id)
                )
            for later in relinked:
                db.executemany(
                    "UPDATE plan_rows SET predecessors = ? WHERE version_id = ? AND row_id = ?",
                    [(_json(list(r.predecessors)), later.id, r.row_id) for r in later.rows],
                )
        self._versions = None

    def years(self) -> list[FiscalYear]:
        """Every year with the departments' rows in force, oldest first (the secretariat's second stage
        alone does not make a year stored: it has no ratings to compare or show in history)."""
        rows = self.conn.execute(
            "SELECT DISTINCT fiscal_year FROM current WHERE submitter <> ? ORDER BY fiscal_year",
            (SECRETARIAT_SUBMITTER,),
        ).fetchall()
        return [FiscalYear(r[0]) for r in rows]

    def submissions(self, year: FiscalYear | None = None) -> list[Submission]:
        sql = "SELECT * FROM submissions"
        args: tuple[int, ...] = ()
        if year is not None:
            sql += " WHERE fiscal_year = ?"
            args = (year.start,)
        return [_submission(r) for r in self.conn.execute(sql + " ORDER BY id", args).fetchall()]

    def in_force(self, year: FiscalYear, submitter: str) -> Submission | None:
        """The department's accepted form whose rows are in force (its latest)."""
        row = self.conn.execute(
            "SELECT * FROM submissions WHERE fiscal_year = ? AND submitter = ? AND kind = 'form'"
            " AND status = 'accepted' ORDER BY id DESC LIMIT 1",
            (year.start, submitter),
        ).fetchone()
        return _submission(row) if row else None

    def forms_in_force(self, year: FiscalYear) -> dict[str, Submission]:
        """:meth:`in_force` of every department at once (collect asks it for every file)."""
        rows = self.conn.execute(
            "SELECT * FROM submissions WHERE id IN (SELECT MAX(id) FROM submissions WHERE fiscal_year = ?"
            " AND kind = 'form' AND status = 'accepted' GROUP BY submitter)",
            (year.start,),
        ).fetchall()
        return {r["submitter"]: _submission(r) for r in rows}

    def accepted_hashes(self, year: FiscalYear) -> set[str]:
        rows = self.conn.execute(
            "SELECT sha256 FROM submissions WHERE fiscal_year = ? AND status = 'accepted'", (year.start,)
        ).fetchall()
        return {r[0] for r in rows}

    def accepted_with_hash(self, year: FiscalYear, sha256: str) -> Submission | None:
        row = self.conn.execute(
            "SELECT * FROM submissions WHERE fiscal_year = ? AND status = 'accepted' AND sha256 = ?"
            " ORDER BY id LIMIT 1",
            (year.start, sha256),
        ).fetchone()
        return _submission(row) if row else None

    def counts(self) -> dict[str, int]:
        return {
            table: self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("submissions", "entries", "current")
        }


@contextmanager
def writer_lock(store_path: Path, timeout: float | None = None) -> Iterator[None]:
    """One collect or import at a time per store: a second one waits, then stops with a message.

    Per-file transactions keep each file whole, but a run decides against what is in force when
    it starts (identical files, joint rows), so two runs at once could each accept what the other
    makes invalid. An OS file lock is released by the OS when a process dies, even by kill -9.
    """
    wait = BUSY_TIMEOUT_S if timeout is None else timeout
    lock_path = store_path.with_name(store_path.name + ".lock")
    try:
        fh = lock_path.open("a+b")
    except OSError as exc:
        raise HyokaError(
            f"{lock_path} を作れません（{exc.strerror}）。フォルダの権限を確認してください。"
        ) from None
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fh):
            if time.monotonic() >= deadline:
                raise HyokaError(
                    f"別の hyoka が同じワークスペースで回収中です（{wait}秒待ちました）。"
                    "その処理が終わってから、もう一度実行してください。"
                )
            time.sleep(0.2)
        yield
    finally:
        fh.close()  # closing the file releases the lock


def _try_lock(fh: BinaryIO) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _storable(text: str) -> str:
    """SQLite refuses lone surrogates (how Python carries file-name bytes that are not UTF-8): each
    becomes U+FFFD. Callers that want the bytes kept escape them before (see collect.readable)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def _refuse_lost_store(path: Path) -> None:
    """A store that is missing or empty where collect or import once wrote is refused, not re-created.

    The rule: ``hyoka.db.lock`` is made by the first collect or import that writes (``init`` does not
    make it) and hyoka never removes it, so beside a missing or 0-byte store it means the data went
    away (deleted, a failed copy, a sync conflict). Re-creating the store silently would show an
    empty year and bury the backup under new submissions.
    """
    lock = path.with_name(path.name + ".lock")
    try:
        empty = not path.exists() or path.stat().st_size == 0
        had_data = lock.exists()
    except OSError:
        return  # opening the store reports what is wrong with the folder
    if empty and had_data:
        state = "ありません" if not path.exists() else "空（0バイト）です"
        raise HyokaError(
            f"{path} が{state}。このワークスペースでは回収・取り込みが行われていたため（{lock.name} があります）、"
            f"保存済みのデータが失われた可能性があります。バックアップから {path.name} を戻してください。"
            f"データのない状態から始め直す場合は、{lock.name} を削除してから実行してください。"
        )


_ENCODER = json.JSONEncoder(ensure_ascii=False)
"""``json.dumps(value, ensure_ascii=False)``, without building an encoder per call (collect writes
two JSON texts per entry, 11,000 entries at 100x)."""


def _json(value: object) -> str:
    return _ENCODER.encode(value)


def _sheet_fingerprint(text: str) -> str:
    """The fingerprint of a version's stored definition ('' when none is recorded or it is not JSON:
    reading the definition reports that)."""
    try:
        source = json.loads(text)
    except ValueError:
        return ""
    return source_fingerprint(source) if isinstance(source, dict) and source else ""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no user name in this environment: the version is stored without it
        return ""


def _submission(r: sqlite3.Row) -> Submission:
    return Submission(
        id=r["id"],
        fiscal_year=FiscalYear(r["fiscal_year"]),
        submitter=r["submitter"],
        kind=r["kind"],
        file_name=r["file_name"],
        file_path=r["file_path"],
        sha256=r["sha256"],
        received_at=datetime.fromisoformat(r["received_at"]),
        status=r["status"],
        row_count=r["row_count"],
        problems=json.loads(r["problems"]),
        file_mtime=r["file_mtime"],
    )


def _db_message(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (
            f"{path.name} は別の hyoka が使用中です（{BUSY_TIMEOUT_S}秒待ちました）。"
            "他の人の処理が終わってから、もう一度実行してください。"
        )
    if "readonly" in text or "read-only" in text:
        return f"{path} に書き込めません（読み取り専用）。フォルダの権限を確認してください。"
    if "disk" in text and "full" in text:
        # True of the one write that failed; what a run stored before it, the run itself reports.
        return (
            f"ディスクの空きが足りないため {path.name} に書き込めませんでした（この書き込みは取り消しました）。"
            "空きを作ってから、もう一度実行してください。"
        )
    if "unable to open" in text:
        return f"{path} を開けません。ワークスペースのフォルダがあるか、書き込めるかを確認してください。"
    if "not a database" in text or "malformed" in text:
        return f"{path} はhyokaのデータファイルとして読めません（{text}）。バックアップから戻してください。"
    return f"{path.name} の読み書きに失敗しました（{text}）。"
