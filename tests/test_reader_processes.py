"""collect's reader processes start light: they import what reading a file needs and nothing else."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hyoka.workspace import Workspace
from tests.helpers import make_form

# What a reader process must not load: the store, the plan's versions, forms, the command line.
HEAVY = ("hyoka.cli", "hyoka.collect", "hyoka.store", "hyoka.forms", "hyoka.workspace", "openpyxl", "typer")


def test_reading_a_file_imports_none_of_the_run_s_modules() -> None:
    code = "import sys, hyoka.reading; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert sorted(m for m in HEAVY if m in loaded) == []


SPAWN = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    if __name__ == "__mp_main__":  # this script run again in a spawned child
        Path(sys.argv[1] if len(sys.argv) > 1 else "ran-again").touch()

    if __name__ == "__main__":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from contextlib import nullcontext

        from hyoka.reading import _main_left_out

        hide = sys.argv[2] == "hidden"
        with (_main_left_out() if hide else nullcontext()):
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            future = pool.submit(sorted, [2, 1])
        assert future.result() == [1, 2]
        pool.shutdown()
        assert __file__ and __spec__ is None  # put back after the start
        print("OK")
    """
)


def test_spawned_readers_do_not_run_the_parent_s_script_again(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(SPAWN, encoding="utf-8")
    for how, runs_again in (("hidden", False), ("as-is", True)):  # as-is: what spawn does by itself
        marker = tmp_path / f"ran-again-{how}"
        out = subprocess.run(
            [sys.executable, str(script), str(marker), how], capture_output=True, text=True, timeout=120
        )
        assert (out.returncode, out.stdout.strip()) == (0, "OK"), out.stderr
        assert marker.exists() is runs_again, how


def test_a_read_file_comes_out_of_a_reader_process_as_it_went_in(ws_r4: Workspace, tmp_path: Path) -> None:
    import pickle
    from datetime import datetime

    from hyoka.intake import Cell
    from hyoka.reading import read_one, read_pickled

    path = make_form(ws_r4, tmp_path)
    read = read_one(path, "form", frozenset())
    assert read.sheet is not None and read.sheet.rows
    assert pickle.loads(read_pickled(path, "form", frozenset())) == read
    for value in ("A", 5, 5.5, None, datetime(2024, 3, 31), True):
        cell = pickle.loads(pickle.dumps(Cell(value, "C14")))
        assert (type(cell), cell, type(cell.value)) == (Cell, Cell(value, "C14"), type(value))


DYING_READER = textwrap.dedent(
    """
    import multiprocessing, os
    import hyoka.reading

    real_read = hyoka.reading.read_workbook

    def read(path, *args, **kwargs):
        # In a reader process only: the file that kills it (as memory running out would).
        if multiprocessing.parent_process() is not None and path.name.startswith("05_"):
            os._exit(9)
        return real_read(path, *args, **kwargs)

    hyoka.reading.read_workbook = read
    """
)


METHODS = ["spawn", *(["fork"] if sys.platform == "linux" else [])]
"""How reader processes start (hyoka.reading.start_method): fork only on Linux."""


def dying(real: Any) -> Any:
    """DYING_READER's reader, for a forked worker (which takes the parent's functions as they are)."""
    import multiprocessing
    import os

    def read(path: Path, *args: Any, **kwargs: Any) -> Any:
        if multiprocessing.parent_process() is not None and path.name.startswith("05_"):
            os._exit(9)
        return real(path, *args, **kwargs)

    return read


def wait_until_up(workers: list[Any]) -> None:
    import time

    deadline = time.monotonic() + 60
    while not all(w.up for w in workers) and time.monotonic() < deadline:
        for w in workers:
            w.drain()
        time.sleep(0.01)
    assert [w.up for w in workers] == [True] * len(workers)


@pytest.mark.parametrize("method", METHODS)
def test_a_reader_process_that_dies_costs_the_file_it_was_reading_only(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    import os
    import shutil

    from hyoka import reading
    from hyoka.collect import collect
    from tests.conftest import SAMPLE
    from tests.helpers import R5

    if method == "spawn":
        site = tmp_path / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(DYING_READER, encoding="utf-8")
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    else:
        monkeypatch.setattr(reading, "read_workbook", dying(reading.read_workbook))
    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", {"fork": 2, "spawn": 2})
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    folder = tmp_path / "in"
    folder.mkdir()
    for i, path in enumerate(sorted((SAMPLE / "returned" / "R5").iterdir())):
        shutil.copy(path, folder / f"{i:02d}_{path.name}")
        os.utime(folder / f"{i:02d}_{path.name}", (1_700_000_000 + i, 1_700_000_000 + i))
    # Started and up before the run, as the command line starts them (otherwise the run reads the
    # first files itself while they start, and this small run would need none of them).
    workers = reading.start_workers(11, method)
    wait_until_up(workers)
    result = collect(ws_r4, [folder], R5, dry_run=True, workers=workers)
    outcomes = [(f.name[:3], f.status, [p.code for p in f.problems]) for f in result.files]
    assert outcomes[5] == ("05_", "rejected", ["internal-error"])
    assert "読み取りのプロセスが終了しました（終了コード 9）" in result.files[5].problems[0].message
    # The other worker's files, and the dead one's queued files (read by the run itself), as ever.
    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", {"fork": 10_000, "spawn": 10_000})
    alone = collect(ws_r4, [folder], R5, dry_run=True)
    assert len(result.files) == len(alone.files) == 11
    assert [f.to_dict() for i, f in enumerate(result.files) if i != 5] == [
        f.to_dict() for i, f in enumerate(alone.files) if i != 5
    ]


def test_readers_handed_to_a_run_that_fails_before_reading_are_stopped(
    ws_r4: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyoka import reading
    from hyoka.collect import collect
    from hyoka.problems import HyokaError
    from tests.conftest import SAMPLE
    from tests.helpers import R5

    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", {"fork": 2, "spawn": 2})
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    workers = reading.start_workers(11)  # as the command line starts them, before the store is read
    assert len(workers) == 2 and all(w.process.is_alive() for w in workers)

    def unreadable(year: object) -> object:
        raise HyokaError("計画の版の定義を読み取れません")

    monkeypatch.setattr(ws_r4, "sheet_for", unreadable)
    with pytest.raises(HyokaError):
        collect(ws_r4, [SAMPLE / "returned" / "R5"], R5, workers=workers)
    assert [w.process.exitcode for w in workers] == [0, 0]  # asked to stop, not left waiting


SMALL_PIPES = textwrap.dedent(
    """
    import faulthandler, fcntl, os, shutil, socket, sys
    from pathlib import Path
    import multiprocessing.connection as connection

    from hyoka import reading
    from hyoka.collect import collect
    from hyoka.workspace import Workspace
    from hyoka.years import FiscalYear

    real = connection.Pipe

    def small(duplex=True):  # 4 KB buffers, as small as they get (Windows' pipes hold 8 KB)
        a, b = real(duplex)
        for end in (a, b):
            if duplex:  # a socket pair
                s = socket.socket(fileno=os.dup(end.fileno()))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.close()
            else:
                fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, 4096)
        return a, b

    connection.Pipe = small
    reading.PARALLEL_MIN_FILES = {"fork": 2, "spawn": 2}
    reading.os.cpu_count = lambda: 2
    faulthandler.dump_traceback_later(90, exit=True)  # a hang fails the test instead of stalling it
    folder = Path(sys.argv[2])
    folder.mkdir()
    long = "とても長い名前の課の提出した令和五年度の調査票の写し" * 2  # 255 bytes is the limit
    for round_ in range(20):
        for path in sorted(Path(sys.argv[3]).iterdir()):
            shutil.copy(path, folder / f"{round_:02d}_{long}_{path.name}")
    result = collect(Workspace.load(Path(sys.argv[1])), [folder], FiscalYear(2023), dry_run=True)
    print(len(result.files), sorted({f.status for f in result.files}), result.interrupted)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sets pipe and socket buffers the Linux way")
def test_pipes_as_small_as_windows_ones_do_not_stall_a_run(ws_r4: Workspace, tmp_path: Path) -> None:
    from tests.conftest import SAMPLE

    script = tmp_path / "small_pipes.py"
    script.write_text(SMALL_PIPES, encoding="utf-8")
    args = [
        sys.executable,
        str(script),
        str(ws_r4.root),
        str(tmp_path / "in"),
        str(SAMPLE / "returned" / "R5"),
    ]
    out = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    # Each sample return twenty times under other names: the copies are 変更なし (the same file).
    assert out.stdout.splitlines() == ["220 ['checked', 'unchanged'] None"]


@pytest.mark.parametrize("method", METHODS)
def test_readers_that_die_while_starting_leave_every_file_to_the_run(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    import os
    import time

    from hyoka import reading
    from hyoka.collect import collect
    from tests.conftest import SAMPLE
    from tests.helpers import R5

    if method == "spawn":
        site = tmp_path / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(
            "import os, sys\nif '--multiprocessing-fork' in sys.argv:\n    os._exit(3)\n", encoding="utf-8"
        )
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    else:  # the first thing a forked worker does
        monkeypatch.setattr(reading, "_leave_parent", lambda ends: os._exit(3))
    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", {"fork": 2, "spawn": 2})
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    workers = reading.start_workers(11, method)
    deadline = time.monotonic() + 60
    while any(w.process.exitcode is None for w in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [w.process.exitcode for w in workers] == [3, 3]
    files = [SAMPLE / "returned" / "R5"]
    result = collect(ws_r4, files, R5, dry_run=True, workers=workers)
    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", {"fork": 10_000, "spawn": 10_000})
    assert [f.to_dict() for f in result.files] == [
        f.to_dict() for f in collect(ws_r4, files, R5, dry_run=True).files
    ]
    assert not any(w.takes_files for w in workers)


def test_runs_starting_readers_at_once_leave_the_main_module_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from hyoka import reading

    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", {"fork": 2, "spawn": 2})
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    main = sys.modules["__main__"]
    before = (main.__dict__.get("__file__"), main.__dict__.get("__spec__"))
    started: list[list[reading.Worker]] = []
    threads = [threading.Thread(target=lambda: started.append(reading.start_workers(11))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (main.__dict__.get("__file__"), main.__dict__.get("__spec__")) == before
    assert [len(w) for w in started] == [2, 2, 2, 2]
    for workers in started:
        reading.stop_workers(workers)


def test_readers_fork_only_on_linux_and_only_from_a_single_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from hyoka import reading

    for platform, expected in (("linux", "fork"), ("win32", "spawn"), ("darwin", "spawn")):
        monkeypatch.setattr(reading.sys, "platform", platform)
        monkeypatch.setattr(reading.threading, "active_count", lambda: 1)
        assert reading.start_method() == expected, platform
    monkeypatch.setattr(reading.sys, "platform", "linux")
    monkeypatch.undo()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # as the browser's server threads
    other.start()
    try:
        assert reading.start_method() == "spawn"
    finally:
        stop.set()
        other.join()


def end(pid: int | str, fd: int | str) -> tuple[str, int]:
    """What a descriptor is open on, and which way (a pipe's two ends name the same pipe)."""
    import os

    flags = next(
        line.split()[1]
        for line in Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines()
        if line.startswith("flags:")
    )
    return os.readlink(f"/proc/{pid}/fd/{fd}"), int(flags, 8) & 3


@pytest.mark.skipif(sys.platform != "linux", reason="readers fork on Linux only")
@pytest.mark.parametrize("proc", [True, False], ids=["proc", "without-proc"])
def test_a_forked_reader_keeps_no_file_or_pipe_end_of_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proc: bool
) -> None:
    import fcntl
    import os

    from hyoka import reading

    if not proc:  # a container without /proc: the reader tries every descriptor instead
        listdir = os.listdir

        def no_proc(path: Any = ".") -> list[str]:
            if str(path) == "/proc/self/fd":
                raise FileNotFoundError(path)
            return listdir(path)

        monkeypatch.setattr(reading.os, "listdir", no_proc)

    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", {"fork": 2, "spawn": 2})
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    lock = (tmp_path / "hyoka.db.lock").open("wb")
    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the store's writer lock
    workers = reading.start_workers(11, "fork")
    try:
        wait_until_up(workers)
        lock.close()  # the run is gone: the lock must be free although its readers still run
        with (tmp_path / "hyoka.db.lock").open("wb") as again:
            fcntl.flock(again.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        run_ends = {end("self", c.fileno()) for w in workers for c in (w.files, w.results)}
        for w in workers:
            held = {int(fd): end(w.process.pid, fd) for fd in os.listdir(f"/proc/{w.process.pid}/fd")}
            assert sorted(t for fd, (t, _) in held.items() if fd > 2 and os.path.isfile(t)) == []
            # Its own ends of its pipes only, none of the run's (nor another worker's).
            assert sorted(set(held.values()) & run_ends) == []
    finally:
        reading.stop_workers(workers)
    # Ended by themselves once their pipes closed (not terminated after the wait).
    assert [w.process.exitcode for w in workers] == [0, 0]


@pytest.mark.skipif(not hasattr(__import__("os"), "getpriority"), reason="POSIX priorities")
@pytest.mark.parametrize("method", METHODS)
def test_readers_run_at_a_lower_priority_than_the_run(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    import os

    from hyoka import reading

    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", {"fork": 2, "spawn": 2})
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    workers = reading.start_workers(11, method)
    try:
        wait_until_up(workers)
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        expected = min(mine + reading.READER_NICENESS, 19)
        assert [os.getpriority(os.PRIO_PROCESS, w.process.pid) for w in workers] == [expected, expected]
    finally:
        reading.stop_workers(workers)
