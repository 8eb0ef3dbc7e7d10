"""Packaging: the wheel carries the templates and the sample, and the Koganei cycle runs from it.

The wheel is built from the checkout, installed into a fresh venv in a temporary folder without any
network access, and the installed ``hyoka`` runs the cycle in a folder outside the repository, so
nothing can be read from the checkout by accident. The new venv sees the current venv's
dependencies through a ``.pth`` path line: such a line adds the folder to ``sys.path`` but does not
run the ``.pth`` files inside it, so the checkout's editable install stays out and ``import hyoka``
finds the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""

pytestmark = pytest.mark.slow


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # --no-build-isolation: hatchling comes from this venv (the dev extra), not from an index.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            out,
            ROOT,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    (found,) = out.glob("hyoka-*.whl")
    return found


def test_wheel_carries_templates_and_sample(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {n for n in names if n.startswith("hyoka/_data/templates/")}
    assert {
        f"hyoka/_data/templates/{t}"
        for t in ("agenda.docx", "evaluation_base.docx", "materials_list.docx", "publish.html")
    } <= templates
    assert "hyoka/_data/sample_data/koganei/plan.csv" in names
    assert "hyoka/_data/sample_data/koganei/hyoka.toml" in names
    assert any(n.startswith("hyoka/_data/sample_data/koganei/returned/R5/") for n in names)
    assert "hyoka/cli.py" in names


def test_koganei_cycle_from_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    python = venv / BIN / f"python{EXE}"
    hyoka = venv / BIN / f"hyoka{EXE}"
    new_site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (new_site / "_hyoka_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    env["PATH"] = str(venv / BIN) + os.pathsep + env.get("PATH", "")
    env["PYTHONIOENCODING"] = "utf-8"
    # This venv's pip installs into the new interpreter; --no-index: nothing may come from the network.
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            wheel,
        ],
        tmp_path,
        env,
    )

    where = json.loads(
        _run(
            [
                python,
                "-c",
                "import json, hyoka, hyoka.resources as r; print(json.dumps([hyoka.__file__, str(r.sample_dir())]))",
            ],
            tmp_path,
            env,
        )
    )
    package, sample = Path(where[0]), Path(where[1])
    assert package.is_relative_to(venv), package
    assert sample.is_relative_to(venv) and (sample / "plan.csv").is_file(), sample

    work = tmp_path / "work"
    work.mkdir()
    assert not work.is_relative_to(ROOT)
    _run([hyoka, "init", "ws", "--sample"], work, env)
    ws = work / "ws"
    shown = _run([hyoka, "plan", "show"], ws, env)
    assert "事業 41 " in shown and "担当課の行 57 " in shown

    _run([hyoka, "import", sample / "ratings_R4.csv", "--year", "R4"], ws, env)
    _run([hyoka, "forms", "--year", "R6"], ws, env)
    assert len(list((ws / "out" / "forms" / "R6").glob("調査票_R6_*.xlsx"))) == 11
    _run([hyoka, "collect", sample / "returned" / "R5", "--year", "R5"], ws, env)
    changes = json.loads(_run([hyoka, "diff", "--year", "R5", "--format", "json"], ws, env))
    assert len(changes) == 6
    assert {c["change"] for c in changes} == {"up", "down"}

    has_report = (
        subprocess.run([hyoka, "report", "--help"], cwd=ws, env=env, capture_output=True).returncode == 0
    )
    if has_report:
        _run([hyoka, "report", "--year", "R5"], ws, env)
        documents = list((ws / "out" / "R5").glob("*.docx"))
        assert any("進捗状況及び評価表" in d.name for d in documents), documents
