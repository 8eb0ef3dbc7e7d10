"""A store as the release before plan versions wrote it (schema 4), built with its own SQL.

The migration tests need a schema-4 store; today's ``Store`` writes schema 5, so this module keeps
the old layout and the old ``add_submission`` (rows keyed by 事業No and 担当課 label).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from hyoka.store import MIGRATIONS
from hyoka.years import FiscalYear

Row = tuple[str, str, str, str, str, str, str | None, str | None]
"""(project_no, department, submitter, rating, achievement, outlook, sheet, cell)"""


class Schema4:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for number in range(4):
            self.conn.execute("BEGIN")
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {number + 1}")
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def add(
        self,
        year: FiscalYear,
        submitter: str,
        rows: Sequence[Row],
        kind: str = "form",
        *,
        sha: str | None = None,
        received_at: str = "2024-06-01T10:00:00",
    ) -> int:
        db = self.conn
        db.execute("BEGIN")
        cur = db.execute(
            "INSERT INTO submissions (fiscal_year, submitter, kind, file_name, file_path, sha256, received_at,"
            " status, row_count, problems, hyoka_version, file_mtime) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                year.start,
                submitter,
                kind,
                f"{submitter or 'import'}.xlsx",
                f"/r/{submitter or 'import'}.xlsx",
                sha or f"{year}{submitter}{len(rows)}",
                received_at,
                "accepted",
                len(rows),
                json.dumps([]),
                "0.4",
                None,
            ),
        )
        sid = cur.lastrowid
        if kind == "import":
            db.executemany(
                "DELETE FROM current WHERE fiscal_year = ? AND project_no = ? AND department = ?",
                {(year.start, r[0], r[1]) for r in rows},
            )
        else:
            db.execute("DELETE FROM current WHERE fiscal_year = ? AND submitter = ?", (year.start, submitter))
        db.executemany(
            "INSERT INTO entries (submission_id, fiscal_year, project_no, department, submitter, rating,"
            " achievement, outlook, sheet, cell) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(sid, year.start, *r) for r in rows],
        )
        db.execute(
            "INSERT OR REPLACE INTO current (fiscal_year, project_no, department, submitter, entry_id)"
            " SELECT fiscal_year, project_no, department, submitter, id FROM entries"
            " WHERE submission_id = ? ORDER BY id",
            (sid,),
        )
        db.execute("COMMIT")
        assert sid is not None
        return sid

    def reject(self, year: FiscalYear, submitter: str) -> None:
        self.conn.execute(
            "INSERT INTO submissions (fiscal_year, submitter, kind, file_name, file_path, sha256, received_at,"
            " status, row_count, problems, hyoka_version) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                year.start,
                submitter,
                "form",
                "x.xlsx",
                "/r/x.xlsx",
                "x",
                "2024-06-02T10:00:00",
                "rejected",
                0,
                "[]",
                "0.4",
            ),
        )
