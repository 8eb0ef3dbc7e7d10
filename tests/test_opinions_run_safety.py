"""Opinion and reply runs with collect's guarantees (issue 12 after issue 9): a run stopped part-way
says truly which files were stored, a file older than the one in force is refused unless named with
--accept-older, and a failing store stops the run with what it did."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from hyoka import opinions_store
from hyoka.opinions_io import H_OPINION_ID, H_REPLY, REPLY_SHEET, import_opinions
from hyoka.workspace import Workspace

from .conftest import SAMPLE

REPLIES = SAMPLE / "replies" / "R6-1"

INTERRUPTIBLE_CLI = textwrap.dedent(
    """
    import sys, time

    import hyoka.opinions_store

    real_add = hyoka.opinions_store.add_file

    def announced_add(*args, **kwargs):
        fid = real_add(*args, **kwargs)
        print("STORED", flush=True, file=sys.stderr)
        time.sleep(0.3)
        return fid

    hyoka.opinions_store.add_file = announced_add

    if __name__ == "__main__":
        from hyoka.cli import main

        sys.argv = ["hyoka", *sys.argv[1:]]
        main()
    """
)


@pytest.fixture
def ws(sample_ws_loaded: Workspace) -> Workspace:
    """Koganei with the meeting R6-1's opinions recorded, no reply yet."""
    assert import_opinions(sample_ws_loaded, SAMPLE / "opinions" / "意見_R6-1.csv", "R6-1").ok
    return sample_ws_loaded


def accepted_replies(ws: Workspace) -> list[str]:
    return [
        str(f["file_name"])
        for f in opinions_store.files(ws.store(), "R6-1")
        if f["kind"] == opinions_store.REPLY_FORM and f["status"] == "accepted"
    ]


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="sends a terminal's Ctrl-C to a process group"
)
@pytest.mark.parametrize("json_out", [False, True])
def test_ctrl_c_part_way_through_replies_collect_says_what_was_stored(
    ws: Workspace, tmp_path: Path, json_out: bool
) -> None:
    folder = tmp_path / "in"
    shutil.copytree(REPLIES, folder)
    files = sorted(folder.iterdir())
    for i, path in enumerate(files):  # oldest first is the order of the run
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    script = tmp_path / "hyoka_cli.py"
    script.write_text(INTERRUPTIBLE_CLI, encoding="utf-8")
    args = [sys.executable, str(script), "replies", "collect", str(folder), "-w", str(ws.root)]
    proc = subprocess.Popen(
        [*args, *(["--json"] if json_out else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    stored_seen = 0
    while stored_seen < 3:
        line = proc.stderr.readline()
        assert line, "the run ended before it was interrupted"
        stored_seen += line.strip() == "STORED"
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err + out
    accepted = accepted_replies(ws)
    names = [p.name for p in files]
    assert 3 <= len(accepted) < len(files)
    assert accepted == names[: len(accepted)]
    rejected = [f for f in opinions_store.files(ws.store(), "R6-1") if f["status"] == "rejected"]
    assert rejected == []
    if json_out:
        data = json.loads(out)
        assert data["valid"] is False
        assert data["interrupted"]["reason"] == "keyboard-interrupt"
        assert [Path(f["file"]).name for f in data["files"]] == accepted
        assert [Path(p).name for p in data["interrupted"]["not_processed"]] == names[len(accepted) :]
    else:
        assert f"  保存したファイル: {len(accepted)}件（{'、'.join(accepted)}）\n" in out
        left = names[len(accepted) :]
        assert f"  保存していないファイル: {len(left)}件（{'、'.join(left)}）\n" in out


def local(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def _reply_version(source: Path, target: Path, text: str, mtime: int) -> Path:
    """The department's reply workbook with every reply set to ``text``, saved at ``mtime``."""
    wb = openpyxl.load_workbook(source)
    sheet = wb[REPLY_SHEET]
    header = next(r for r in range(1, 40) if any(c.value == H_REPLY for c in sheet[r]))
    cols = {c.value: c.column for c in sheet[header]}
    for r in range(header + 1, sheet.max_row + 1):
        if sheet.cell(r, cols[H_OPINION_ID]).value:
            sheet.cell(r, cols[H_REPLY]).value = text
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    os.utime(target, (mtime, mtime))
    return target


def test_an_older_reply_workbook_is_refused_unless_named(ws: Workspace, tmp_path: Path, run: Any) -> None:
    source = REPLIES / "回答票_R6-1_地域福祉課.xlsx"
    old = _reply_version(source, tmp_path / "old" / source.name, "古い版の回答です。", 1_700_000_000)
    new = _reply_version(source, tmp_path / "new" / source.name, "新しい版の回答です。", 1_700_100_000)
    assert run("replies", "collect", new, "-w", ws.root).exit_code == 0
    result = run("replies", "collect", old, "-w", ws.root, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    [refused] = data["files"]
    assert refused["status"] == "rejected"
    assert [p["code"] for p in refused["problems"]] == ["file-older-than-current"]
    assert refused["problems"][0]["message"] == (
        f"受付済みの「{source.name}」（保存 {local(1_700_100_000)}）より古いファイルです（保存 {local(1_700_000_000)}）。"
        "古い版で置き換えないよう取り込みませんでした。この版に戻す場合は、古い版として受け付けるよう指定して取り込んで"
        "ください。"
    )
    text = run("replies", "collect", old, "-w", ws.root)  # the command line adds its option
    assert "      → 古い版として受け付けるには、--accept-older にこのファイルを指定します。\n" in text.stdout

    def in_force() -> set[str]:
        with ws.store() as store:
            return {
                r.text for r in opinions_store.current_replies(store, "R6-1") if r.department == "地域福祉課"
            }

    assert in_force() == {"新しい版の回答です。"}
    # Named with --accept-older, the old version goes in force (the file named twice is read once).
    taken = run("replies", "collect", old, "--accept-older", old, "-w", ws.root, "--json")
    assert taken.exit_code == 0, taken.output
    [accepted] = json.loads(taken.stdout)["files"]
    assert accepted["status"] == "accepted"
    assert [p["code"] for p in accepted["problems"]] == ["older-file-accepted"]
    assert in_force() == {"古い版の回答です。"}


def test_a_failing_store_stops_opinions_import_and_says_nothing_was_stored(
    sample_ws_loaded: Workspace, monkeypatch: pytest.MonkeyPatch, run: Any
) -> None:
    import sqlite3

    from hyoka import store as store_module

    real_execute = sqlite3.Connection.execute

    class Full(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            if sql == "COMMIT" and self.total_changes > 0:
                raise sqlite3.OperationalError("database or disk is full")
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(store_module.sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=Full, **k))
    table = SAMPLE / "opinions" / "意見_R6-1.csv"
    result = run("opinions", "import", table, "--meeting", "R6-1", "-w", sample_ws_loaded.root)
    assert result.exit_code == 1
    assert "  保存したファイル: なし\n" in result.stdout
    assert f"  保存していないファイル: 1件（{table.name}）\n" in result.stdout
    monkeypatch.undo()
    assert opinions_store.files(sample_ws_loaded.store(), "R6-1") == []


def test_replies_collect_waits_for_another_writer_then_fails_clearly(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka import store as store_module
    from hyoka.opinions_io import collect_replies
    from hyoka.problems import HyokaError

    form = REPLIES / "回答票_R6-1_地域福祉課.xlsx"
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 1)
    with store_module.writer_lock(ws.store_path), pytest.raises(HyokaError, match="回収中"):
        collect_replies(ws, [form], "R6-1")
    assert accepted_replies(ws) == []
    assert collect_replies(ws, [form], "R6-1", dry_run=True).files[0].status == "checked"  # no lock needed
    assert collect_replies(ws, [form], "R6-1").files[0].status == "accepted"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sends POSIX signals")
def test_a_killed_replies_collect_leaves_whole_files_and_no_lock(
    ws: Workspace, tmp_path: Path, run: Any
) -> None:
    folder = tmp_path / "in"
    shutil.copytree(REPLIES, folder)
    script = tmp_path / "hyoka_cli.py"
    script.write_text(INTERRUPTIBLE_CLI, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), "replies", "collect", str(folder), "-w", str(ws.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for _ in range(2):
        assert proc.stderr.readline().strip() == "STORED"
    proc.kill()  # kill -9: nothing is reported, but what was stored is whole and the lock goes
    proc.wait(timeout=30)
    stored = accepted_replies(ws)
    assert 2 <= len(stored) < 10
    with ws.store() as store:  # each stored file with all its replies, none half-written
        replies = opinions_store.current_replies(store, "R6-1")
    assert {r.department for r in replies} == {
        name.removeprefix("回答票_R6-1_").removesuffix(".xlsx") for name in stored
    }
    again = run("replies", "collect", folder, "-w", ws.root, "--json")  # does not wait for a lock
    assert again.exit_code == 0, again.output
    statuses = [f["status"] for f in json.loads(again.stdout)["files"]]
    assert statuses.count("unchanged") == len(stored) and statuses.count("accepted") == 10 - len(stored)
