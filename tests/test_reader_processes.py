"""collect's reader processes start light: they import what reading a file needs and nothing else."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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

        from hyoka.collect import _main_left_out

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
