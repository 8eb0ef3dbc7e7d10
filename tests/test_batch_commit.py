"""collect commits the files of a run in batches (issue 15): each file still whole or not at all,
and what the run reports as stored is exactly what was committed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from hyoka import store as store_module
from hyoka.collect import collect
from hyoka.workspace import Workspace
from tests.conftest import SAMPLE
from tests.helpers import R5
from tests.test_run_safety import distinct_files


def count_commits(monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> dict[str, int]:
    """Count the store's COMMITs that write (and make the ``fail_at``-th one fail as a full disk)."""
    commits = {"n": 0}
    real_execute = sqlite3.Connection.execute

    class Counting(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            if sql == "COMMIT" and self.total_changes > 0:
                commits["n"] += 1
                if commits["n"] == fail_at:
                    raise sqlite3.OperationalError("database or disk is full")
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(
        store_module.sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=Counting, **k)
    )
    return commits


def test_a_run_of_many_files_commits_in_batches(ws_r4: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    commits = count_commits(monkeypatch)
    result = collect(ws_r4, [SAMPLE / "returned" / "R5"], R5)
    assert result.ok
    assert [f.status for f in result.files] == ["accepted"] * 11
    # The first file alone, then batches of 2, 4 and the last 4: four commits for eleven files.
    assert commits["n"] == 4
    monkeypatch.undo()
    with ws_r4.store() as s:
        assert len([x for x in s.submissions(R5) if x.status == "accepted"]) == 11


def test_a_batch_whose_commit_fails_is_reported_as_not_stored(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run
) -> None:  # type: ignore[no-untyped-def]
    files = distinct_files(ws_r4, tmp_path / "in", 7)
    count_commits(monkeypatch, fail_at=3)  # commits after files 1 and 3 pass; files 4–7 fail together
    result = run("collect", tmp_path / "in", "--year", "R5", "-w", ws_r4.root, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    names = [f.name for f in files]
    assert [(Path(f["file"]).name, f["status"]) for f in data["files"]] == [
        (n, "accepted") for n in names[:3]
    ]
    assert data["interrupted"]["reason"] == "store-failed"
    assert "ディスクの空き" in data["interrupted"]["message"]
    assert [Path(f).name for f in data["interrupted"]["not_processed"]] == names[3:]
    monkeypatch.undo()
    with ws_r4.store() as s:
        stored = [x.file_name for x in s.submissions(R5) if x.status == "accepted" and x.kind == "form"]
    assert stored == names[:3]


def test_a_dry_run_writes_nothing(ws_r4: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    commits = count_commits(monkeypatch)
    result = collect(ws_r4, [SAMPLE / "returned" / "R5"], R5, dry_run=True)
    assert {f.status for f in result.files} == {"checked"}
    assert commits["n"] == 0
