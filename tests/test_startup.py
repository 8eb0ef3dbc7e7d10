"""What a hyoka process imports before it works (issue 15: `hyoka --help` under 0.1 s, the Koganei cycle
under 2 s): typer's pydantic coercion is replaced for str/bool/Path parameters, and the heavy libraries
are imported only by the commands that use them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer.main
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from hyoka.cli import app
from hyoka.cli_ja import PlainParam, commands
from hyoka.workspace import Workspace

HEAVY = ("pydantic", "openpyxl", "docx", "docxtpl", "lxml", "python_calamine")

PROBE = textwrap.dedent(
    """
    import atexit, json, sys

    atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr))
    sys.argv = ["hyoka", *sys.argv[1:]]
    from hyoka.cli import main

    main()
    """
)


def imported(tmp_path: Path, *args: str | Path) -> set[str]:
    import json

    script = tmp_path / "probe.py"
    script.write_text(PROBE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))  # a submodule's package is in it too


def test_help_imports_neither_pydantic_nor_the_library(tmp_path: Path) -> None:
    found = imported(tmp_path, "--help")
    assert [m for m in (*HEAVY, "hyoka.workspace", "hyoka.problems") if m in found] == []


def test_diff_and_status_import_no_pydantic_and_no_office_library(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    for args in (("diff", "--year", "R5"), ("status", "--year", "R5")):
        found = imported(tmp_path, *args, "-w", sample_ws.root)
        assert [m for m in HEAVY if m in found] == [], args


def test_collect_reads_without_openpyxl_or_pydantic(sample_ws: Workspace, tmp_path: Path) -> None:
    found = imported(tmp_path, "collect", tmp_path / "none.xlsx", "--year", "R5", "-w", sample_ws.root)
    assert [m for m in ("pydantic", "openpyxl", "docx") if m in found] == []


def plain_params() -> list[tuple[tuple[str, ...], object]]:
    root = typer.main.get_command(app)
    return [
        (path, p)
        for path, cmd in commands(root)
        for p in cmd.params
        if isinstance(getattr(p, "_runtime_param", None), PlainParam)
    ]


def test_every_parameter_but_numbers_is_coerced_without_pydantic() -> None:
    root = typer.main.get_command(app)
    others = [
        (path, p.name, p.type_descriptor.annotation)  # type: ignore[attr-defined]
        for path, cmd in commands(root)
        for p in cmd.params
        if not isinstance(getattr(p, "_runtime_param", None), PlainParam)
    ]
    assert others == [(("serve",), "port", int)]


@pytest.mark.parametrize("value", ["R5", "令和5年度", " a b ", "-", "", "調査票_R5_地域福祉課.xlsx"])
def test_plain_coercion_gives_what_typer_s_gives(value: str, tmp_path: Path) -> None:
    existing = tmp_path / "exists.csv"
    existing.write_text("x", encoding="utf-8")
    for path, p in plain_params():
        ctx = typer.main.get_command(app).make_context("hyoka", [], resilient_parsing=True)
        ours = p._runtime_param  # type: ignore[attr-defined]
        theirs = build_runtime_param(p.type_descriptor)  # type: ignore[attr-defined]
        multi = p.multiple or p.nargs == -1  # type: ignore[attr-defined]
        for raw in (value, str(existing), str(tmp_path / "missing.csv"), str(tmp_path)):
            given: object = [raw, raw] if multi else raw
            results = []
            for runtime in (ours, theirs):
                try:
                    results.append(("ok", runtime.coerce(given, param=p, ctx=ctx)))
                except BadParameter as exc:
                    results.append(("error", exc.message))
            assert results[0] == results[1], (path, p.name, raw)  # type: ignore[attr-defined]


def test_forms_imports_openpyxl_without_numpy(sample_ws: Workspace, tmp_path: Path) -> None:
    found = imported(tmp_path, "forms", "--year", "R5", "-w", sample_ws.root, "--out", tmp_path / "f")
    assert "openpyxl" in found
    assert [m for m in ("numpy", "pydantic", "docx") if m in found] == []


EXIT_PROBE = textwrap.dedent(
    """
    import atexit, sys, tempfile, weakref
    from pathlib import Path

    marker = Path(sys.argv[1])
    atexit.register(lambda: marker.write_text("atexit ran", encoding="utf-8"))
    holder = tempfile.TemporaryDirectory()  # cleaned by weakref.finalize at exit
    (Path(holder.name) / "x").write_text("x")
    print("TEMP " + holder.name, flush=True)
    print("buffered, not flushed", end="")
    sys.argv = ["hyoka", *sys.argv[2:]]
    from hyoka.cli import main

    main()
    """
)


@pytest.mark.parametrize(("args", "status"), [(["--help"], 0), (["nosuch-command"], 2)])
def test_a_process_ends_as_sys_exit_would_without_the_teardown(
    tmp_path: Path, args: list[str], status: int
) -> None:
    script = tmp_path / "probe.py"
    script.write_text(EXIT_PROBE, encoding="utf-8")
    marker = tmp_path / "marker.txt"
    done = subprocess.run(
        [sys.executable, str(script), str(marker), *args], capture_output=True, text=True, encoding="utf-8"
    )
    assert done.returncode == status
    assert marker.read_text(encoding="utf-8") == "atexit ran"
    first, _, rest = done.stdout.partition("\n")
    assert not Path(first.removeprefix("TEMP ")).exists()  # weakref.finalize ran too
    assert rest.startswith("buffered, not flushed")
    if status == 0:
        assert rest.splitlines()[-1].split()[0] == "replies"  # the help's last line: all of it was flushed
    else:
        assert "nosuch-command" in done.stderr


def test_a_thread_still_running_gets_the_ordinary_exit(tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, threading, time
            def late():
                time.sleep(0.3)
                print("thread finished", flush=True)
            threading.Thread(target=late).start()
            sys.argv = ["hyoka", "--version"]
            from hyoka.cli import main
            main()
            """
        ),
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith("thread finished")


TEARDOWN_PROBE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path

    marker, real_exit = Path(sys.argv[1]), os._exit

    def exit_now(status):  # the process ends here only when the teardown is skipped
        marker.write_text("os._exit", encoding="utf-8")
        real_exit(status)

    os._exit = exit_now
    if sys.argv[2] == "profiled":
        sys.setprofile(lambda frame, event, arg: None)
    sys.argv = ["hyoka", "--version"]
    from hyoka.cli import main

    main()
    """
)


@pytest.mark.parametrize(("mode", "skipped"), [("plain", True), ("profiled", False)])
def test_the_teardown_is_skipped_unless_a_profiler_waits_for_it(
    tmp_path: Path, mode: str, skipped: bool
) -> None:
    script = tmp_path / "probe.py"
    script.write_text(TEARDOWN_PROBE, encoding="utf-8")
    marker = tmp_path / "marker.txt"
    done = subprocess.run([sys.executable, str(script), str(marker), mode], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("hyoka ")
    assert marker.exists() is skipped
