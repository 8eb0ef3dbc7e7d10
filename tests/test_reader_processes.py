"""collect's reader processes start light: they import what reading a file needs and nothing else."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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


def test_a_reader_process_that_dies_costs_the_file_it_was_reading_only(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import shutil

    from hyoka import reading
    from hyoka.collect import collect
    from tests.conftest import SAMPLE
    from tests.helpers import R5

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(DYING_READER, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    folder = tmp_path / "in"
    folder.mkdir()
    for i, path in enumerate(sorted((SAMPLE / "returned" / "R5").iterdir())):
        shutil.copy(path, folder / f"{i:02d}_{path.name}")
        os.utime(folder / f"{i:02d}_{path.name}", (1_700_000_000 + i, 1_700_000_000 + i))
    result = collect(ws_r4, [folder], R5, dry_run=True)
    outcomes = [(f.name[:3], f.status, [p.code for p in f.problems]) for f in result.files]
    assert outcomes[5] == ("05_", "rejected", ["internal-error"])
    assert "読み取りのプロセスが終了しました（終了コード 9）" in result.files[5].problems[0].message
    # The other worker's files, and the dead one's queued files (read by the run itself), as ever.
    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", 10_000)
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

    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    workers = reading.start_workers(11)  # as the command line starts them, before the store is read
    assert len(workers) == 2 and all(w.process.is_alive() for w in workers)

    def unreadable(year: object) -> object:
        raise HyokaError("計画の版の定義を読み取れません")

    monkeypatch.setattr(ws_r4, "sheet_for", unreadable)
    with pytest.raises(HyokaError):
        collect(ws_r4, [SAMPLE / "returned" / "R5"], R5, workers=workers)
    assert [w.process.exitcode for w in workers] == [0, 0]  # asked to stop, not left waiting
