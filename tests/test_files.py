"""Output files: permissions, full disks and the temporary files a killed run leaves (issue 9: 1.5, 1.6, 2.18)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hyoka.files import atomic_write, atomic_write_text, clean_stale_temps
from hyoka.workspace import Workspace
from tests.conftest import SAMPLE

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes and /dev/full are POSIX")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_new_file_gets_the_mode_the_umask_gives(tmp_path: Path, umask: int, expected: int) -> None:
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "評価比較.csv", "a")
        atomic_write(tmp_path / "資料1.docx", lambda stream: stream.write(b"PK"))
    finally:
        os.umask(old)
    assert _mode(tmp_path / "評価比較.csv") == expected
    assert _mode(tmp_path / "資料1.docx") == expected


@posix_only
@pytest.mark.parametrize("existing", [0o664, 0o644, 0o640])
def test_replaced_file_keeps_its_mode(tmp_path: Path, existing: int) -> None:
    target = tmp_path / "次第.docx"
    target.write_bytes(b"old")
    target.chmod(existing)
    old = os.umask(0o077)
    try:
        atomic_write(target, lambda stream: stream.write(b"new"))
    finally:
        os.umask(old)
    assert target.read_bytes() == b"new"
    assert _mode(target) == existing


@posix_only
def test_every_writer_gives_the_umask_mode(sample_ws_loaded: Workspace, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    out = tmp_path / "out"
    old = os.umask(0o002)
    try:
        assert run("forms", "-w", ws.root, "--year", "R6", "--out", out / "forms").exit_code == 0
        assert run("report", "-w", ws.root, "--year", "R5", "--out", out / "report").exit_code == 0
        assert run("diff", "-w", ws.root, "--year", "R5", "--out", out / "d.xlsx").exit_code == 0
        assert run("diff", "-w", ws.root, "--year", "R5", "--out", out / "d.csv").exit_code == 0
        assert run("history", "-w", ws.root, "--out", out / "h.xlsx").exit_code == 0
        mistakes = SAMPLE / "returned" / "mistakes"
        feedback = ("collect", mistakes, "--year", "R5", "--dry-run", "--feedback", out / "feedback")
        assert run(*feedback, "-w", ws.root).exit_code == 1  # the mistakes are rejected
    finally:
        os.umask(old)
    written = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.parent.name for p in written} == {"forms", "report", "out", "feedback"}
    assert {p.name: _mode(p) for p in written} == {p.name: 0o664 for p in written}


def test_stale_temporary_files_are_removed_fresh_and_foreign_ones_kept(tmp_path: Path) -> None:
    names = [
        ".~hyoka-ab12cd34.docx",  # ours, old: a killed report
        ".~hyoka-x_9y8z7w.xlsx",  # ours (tempfile's alphabet), old
        ".~hyoka-fresh123.docx",  # ours, but a run may still be writing it
        ".~hyoka-notes.txt",  # not our pattern
        "~$資料1.docx",  # Word's lock file
        "資料1.docx",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for name in names:
        if name != ".~hyoka-fresh123.docx":
            os.utime(tmp_path / name, (two_hours_ago, two_hours_ago))
    removed = clean_stale_temps(tmp_path)
    assert sorted(p.name for p in removed) == [".~hyoka-ab12cd34.docx", ".~hyoka-x_9y8z7w.xlsx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])


def test_a_write_in_a_folder_cleans_what_a_killed_run_left(tmp_path: Path) -> None:
    left = tmp_path / ".~hyoka-k1ll3d00.docx"
    left.write_bytes(b"half")
    old = time.time() - 3 * 3600
    os.utime(left, (old, old))
    atomic_write(tmp_path / "資料1.docx", lambda stream: stream.write(b"PK"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["資料1.docx"]


def test_report_and_forms_clean_what_a_killed_report_left(
    sample_ws_loaded: Workspace, tmp_path: Path, run
) -> None:  # type: ignore[no-untyped-def]
    old = time.time() - 2 * 3600
    for folder, args in (
        (tmp_path / "R5", ("report", "--year", "R5")),
        (tmp_path / "R6", ("forms", "--year", "R6")),
    ):
        folder.mkdir()
        left = folder / ".~hyoka-abcd1234.docx"
        left.write_bytes(b"half")
        os.utime(left, (old, old))
        assert run(*args, "--out", folder, "-w", sample_ws_loaded.root).exit_code == 0
        assert not left.exists() and not list(folder.glob(".~hyoka-*"))


def test_writer_handed_a_stream_not_a_path(tmp_path: Path) -> None:
    # A writer written for the old path-taking API must fail loudly, not write "<_io.BytesIO …>".
    with pytest.raises(TypeError):
        atomic_write(tmp_path / "x.docx", lambda tmp: open(str(tmp), "wb"))  # noqa: SIM115


# Every write to one of hyoka's temporary files goes to /dev/full, which fails with ENOSPC like a
# full disk; the store and everything else are written normally.
FULL_DISK = textwrap.dedent(
    """
    import io, os, sys
    real_open = io.open

    def full_open(file, mode="r", *args, **kwargs):
        name = file if isinstance(file, (str, os.PathLike)) else ""
        if isinstance(file, int):
            try:
                name = os.readlink(f"/proc/self/fd/{file}")
            except OSError:
                name = ""
        if ".~hyoka-" in os.fspath(name) and ("w" in mode or "a" in mode or "x" in mode):
            return real_open("/dev/full", "wb" if "b" in mode else "w")
        return real_open(file, mode, *args, **kwargs)

    io.open = full_open
    import builtins
    builtins.open = full_open
    from hyoka.cli import main
    sys.argv = ["hyoka", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.skipif(
    not Path("/dev/full").exists() or not Path("/proc/self/fd").is_dir(), reason="needs /dev/full"
)
@pytest.mark.parametrize(
    "args",
    [
        ("forms", "--year", "R6"),
        ("diff", "--year", "R5", "--format", "xlsx"),
        ("history", "--out", "{out}/x.xlsx"),
        ("report", "--year", "R5"),
    ],
    ids=["forms", "diff-xlsx", "history-xlsx", "report"],
)
def test_full_disk_gives_one_clean_message(
    sample_ws_loaded: Workspace, tmp_path: Path, args: tuple[str, ...]
) -> None:
    argv = [a.format(out=tmp_path) for a in args]
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, *argv, "-w", str(sample_ws_loaded.root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "ディスクの空きが足りない" in proc.stdout + proc.stderr
    assert "Exception ignored" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not [p for p in Path(sample_ws_loaded.root).rglob(".~hyoka-*")]
