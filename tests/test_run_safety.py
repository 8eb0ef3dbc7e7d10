"""A collect run that is killed, interrupted or fails part-way: locks, worker processes, and what the
clerk is told (subprocess tests where real signals and processes matter)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hyoka.workspace import Workspace
from tests.conftest import SAMPLE
from tests.helpers import R5, make_form

RETURNS = SAMPLE / "returned" / "R5"

SLOW_COLLECT = textwrap.dedent(
    """
    import multiprocessing, sys, time
    from pathlib import Path
    from hyoka.collect import collect
    from hyoka.workspace import Workspace
    from hyoka.years import FiscalYear

    seen = []

    def on_file(path):
        if not seen:
            pids = [p.pid for p in multiprocessing.active_children()]
            print("WORKERS " + " ".join(map(str, pids)), flush=True)
        seen.append(path)
        time.sleep(0.3)

    if __name__ == "__main__":
        import os

        import hyoka.reading

        os.cpu_count = lambda: 2  # worker processes even on a one-core machine
        hyoka.reading.PARALLEL_MIN_FILES = {"fork": 24, "spawn": 24}  # the worker path, whatever size the run needs for it
        ws = Workspace.load(Path(sys.argv[1]))
        collect(ws, [Path(sys.argv[2])], FiscalYear(2023), on_file=on_file)
        print("DONE", flush=True)
    """
)


def thirty_three_files(folder: Path) -> Path:
    """The 11 sample returns three times over, under other names (the script lowers the threshold for
    worker processes to this size, so that the path that starts processes is the one killed)."""
    folder.mkdir()
    for round_ in range(3):
        for path in sorted(RETURNS.iterdir()):
            shutil.copy(path, folder / f"{round_}_{path.name}")
    assert len(list(folder.iterdir())) == 33
    return folder


def alive(pid: int) -> bool:
    """A process that still runs (a zombie waiting to be reaped does not hold files)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and sends POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_collect_does_not_keep_the_workspace_locked(
    ws_r4: Workspace, tmp_path: Path, sig: signal.Signals
) -> None:
    folder = thirty_three_files(tmp_path / "in")
    script = tmp_path / "slow_collect.py"
    script.write_text(SLOW_COLLECT, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(ws_r4.root), str(folder)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line[0] == "WORKERS"
        workers = [int(pid) for pid in line[1:]]
        assert len(workers) >= 2
        os.kill(proc.pid, sig)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -sig
    # The workers go with their parent, and the lock goes with them.
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)]
    one = make_form(ws_r4, tmp_path)
    started = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-m", "hyoka", "collect", str(one), "--year", "R5", "-w", str(ws_r4.root), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    assert [f["status"] for f in json.loads(second.stdout)["files"]] == ["accepted"]
    assert elapsed < 10  # the lock wait is 30 s: this did not wait for it


# --- Ctrl-C and a failing store part-way: say exactly what was stored -------------------------------

SLOWED_READING = textwrap.dedent(
    """
    import sys, time
    import hyoka.reading
    import hyoka.store

    # Parsing is slowed in every process, so that Ctrl-C reaches the workers while they parse (this
    # is a sitecustomize: reader processes do not run the parent's script, but they do start Python);
    # each store is announced and then lingers.
    real_read = hyoka.reading.read_workbook

    def slow_read(*args, **kwargs):
        time.sleep(0.15)
        return real_read(*args, **kwargs)

    hyoka.reading.read_workbook = slow_read
    real_add = hyoka.store.Store.add_submission

    def announced_add(self, **kwargs):
        sid = real_add(self, **kwargs)
        print("STORED", flush=True, file=sys.stderr)
        time.sleep(0.3)
        return sid

    hyoka.store.Store.add_submission = announced_add
    """
)
INTERRUPTIBLE_CLI = textwrap.dedent(
    """
    import os, sys

    import hyoka.reading

    os.cpu_count = lambda: 2  # from 24 files on, worker processes even on a one-core machine
    hyoka.reading.PARALLEL_MIN_FILES = {"fork": 24, "spawn": 24}
    from hyoka.cli import main

    sys.argv = ["hyoka", *sys.argv[1:]]
    main()
    """
)


def distinct_files(ws: Workspace, folder: Path, count: int) -> list[Path]:
    """``count`` different returns (one department's form, each with its own text), oldest first."""
    folder.mkdir()
    files = []
    for i in range(count):
        path = make_form(
            ws, folder / f"src{i}", values={"5": (f"版{i}", "A", "続ける"), "6": (f"版{i}", "B", "続ける")}
        )
        target = folder / f"調査票_R5_地域安全課_{i:02d}.xlsx"
        path.rename(target)
        os.utime(target, (1_700_000_000 + i, 1_700_000_000 + i))
        files.append(target)
    return files


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="sends a terminal's Ctrl-C to a process group"
)
@pytest.mark.parametrize(
    ("count", "json_out"),
    [(11, False), (26, True)],  # read in this process; from 24 files on, in worker processes
)
def test_ctrl_c_part_way_says_what_was_stored(
    ws_r4: Workspace, tmp_path: Path, count: int, json_out: bool
) -> None:
    files = distinct_files(ws_r4, tmp_path / "in", count)
    script = tmp_path / "hyoka_cli.py"
    script.write_text(INTERRUPTIBLE_CLI, encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SLOWED_READING, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    args = [
        sys.executable,
        str(script),
        "collect",
        str(tmp_path / "in"),
        "--year",
        "R5",
        "-w",
        str(ws_r4.root),
    ]
    proc = subprocess.Popen(
        [*args, *(["--json"] if json_out else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal would make it
    )
    assert proc.stderr is not None
    stored_seen = 0
    while stored_seen < 3:
        line = proc.stderr.readline()
        assert line, "the run ended before it was interrupted"
        stored_seen += line.strip() == "STORED"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the parent and its reader workers alike
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Traceback" not in out
    with ws_r4.store() as s:
        accepted = [
            x.file_name for x in s.submissions() if x.fiscal_year.start == 2023 and x.status == "accepted"
        ]
        rejected = [x for x in s.submissions() if x.status == "rejected"]
    assert 3 <= len(accepted) < len(files)
    assert rejected == []  # Ctrl-C while parsing is never a rejection of a good file
    names = [f.name for f in files]
    if json_out:
        data = json.loads(out)
        assert data["valid"] is False
        assert data["interrupted"]["reason"] == "keyboard-interrupt"
        assert [Path(f["file"]).name for f in data["files"]] == names[: len(accepted)]
        assert {f["status"] for f in data["files"]} == {"accepted"}
        assert [Path(f).name for f in data["interrupted"]["not_processed"]] == names[len(accepted) :]
    else:
        assert f"保存したファイル: {len(accepted)}件（{'、'.join(accepted[:10])}" in out
        left = len(files) - len(accepted)
        assert f"保存していないファイル: {left}件（{names[len(accepted)]}" in out
        assert "変わっていません" not in out + err


def test_full_disk_part_way_is_reported_with_the_files_stored(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run
) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from hyoka import store as store_module

    files = distinct_files(ws_r4, tmp_path / "in", 3)
    commits = {"n": 0}
    real_execute = sqlite3.Connection.execute

    class FullAfterOne(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            if sql == "COMMIT" and self.total_changes > 0:
                commits["n"] += 1
                if commits["n"] == 2:
                    raise sqlite3.OperationalError("database or disk is full")
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(
        store_module.sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=FullAfterOne, **k)
    )
    result = run("collect", tmp_path / "in", "--year", "R5", "-w", ws_r4.root, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [(Path(f["file"]).name, f["status"]) for f in data["files"]] == [(files[0].name, "accepted")]
    assert data["interrupted"]["reason"] == "store-failed"
    assert "ディスクの空き" in data["interrupted"]["message"]
    assert "変わっていません" not in data["interrupted"]["message"]
    assert [Path(f).name for f in data["interrupted"]["not_processed"]] == [files[1].name, files[2].name]
    commits["n"] = 0
    text = run("collect", tmp_path / "in", "--year", "R5", "-w", ws_r4.root)
    assert text.exit_code == 1
    assert f"保存したファイル: 1件（{files[1].name}）" in text.stdout  # the first is unchanged now
    assert f"保存していないファイル: 1件（{files[2].name}）" in text.stdout
    monkeypatch.undo()
    with ws_r4.store() as s:
        assert [x.file_name for x in s.submissions() if x.status == "accepted" and x.kind == "form"] == [
            files[0].name,
            files[1].name,
        ]


# --- the run's view changes only with a commit; names that are not UTF-8 --------------------------

CP932_NAME = "調査票_R5_地域安全課.xlsx".encode("cp932")  # as a zip made on Japanese Windows unpacks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a file system that takes any bytes")
def test_a_file_name_that_is_not_utf8_is_stored_and_shown_with_replacement_characters(
    ws_r4: Workspace, tmp_path: Path
) -> None:
    form = make_form(ws_r4, tmp_path / "src")
    folder = tmp_path / "in"
    folder.mkdir()
    raw = os.path.join(os.fsencode(folder), CP932_NAME)
    with open(raw, "wb") as fh:
        fh.write(form.read_bytes())
    copy = folder / "写し.xlsx"
    shutil.copy(form, copy)
    os.utime(raw, (1_700_000_000, 1_700_000_000))  # the cp932-named file is taken first
    os.utime(copy, (1_700_000_100, 1_700_000_100))
    shown = CP932_NAME.decode("utf-8", "replace")
    assert "\ufffd" in shown
    cmd = [sys.executable, "-m", "hyoka"]
    done = subprocess.run(
        [*cmd, "collect", str(folder), "--year", "R5", "-w", str(ws_r4.root), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert [(Path(f["file"]).name, f["status"]) for f in data["files"]] == [
        (shown, "accepted"),
        ("写し.xlsx", "unchanged"),  # truly unchanged: its twin was stored
    ]
    with ws_r4.store() as s:
        (sub,) = [x for x in s.submissions() if x.kind == "form"]
        assert sub.file_name == shown and sub.status == "accepted"
        assert sub.file_path.endswith(
            "\\x92\\xb2\\x8d\\xb8\\x95[_R5_\\x92n\\x88\\xe6\\x88\\xc0\\x91S\\x89\\xdb.xlsx"
        )
        assert len(s.current_parts(R5)) == 2
    status = subprocess.run(
        [*cmd, "status", "--year", "R5", "-w", str(ws_r4.root)], capture_output=True, text=True, timeout=60
    )
    assert f"受付: {shown}" in status.stdout
