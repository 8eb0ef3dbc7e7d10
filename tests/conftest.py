"""Shared fixtures: the Koganei sample workspace and the made-up second city (みどり市)."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hyoka.cli import app
from hyoka.collect import import_table
from hyoka.store import Part
from hyoka.workspace import Workspace, init_workspace
from hyoka.years import FiscalYear

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "koganei"
MIDORI = Path(__file__).parent / "data" / "midori"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def run() -> Callable[..., object]:
    """Run the CLI in-process; returns the click Result (exit_code, output)."""
    runner = CliRunner()

    def _run(*args: str | Path) -> object:
        return runner.invoke(app, [str(a) for a in args])

    return _run


@pytest.fixture
def sample_ws(tmp_path: Path) -> Workspace:
    """A fresh Koganei workspace with nothing stored."""
    return init_workspace(tmp_path / "ws", None, sample=True)


def sample_r5_parts(skip: Callable[[dict[str, str]], bool] = lambda r: False) -> list[Part]:
    """The sample's R5 entries as stored parts (each department's part of a joint row apart)."""
    return [
        Part(
            r["事業No"],
            r["担当課"],
            r["提出課"],
            r["事業評価"],
            r["事業実績・評価理由"],
            r["今後の事業計画・展望"],
        )
        for r in read_csv(SAMPLE / "entries_R5.csv")
        if not skip(r)
    ]


def load_sample_years(ws: Workspace) -> None:
    """Store the sample's R4 ratings and R5 entries directly (without going through collect)."""
    r4 = [
        Part(r["事業No"], r["担当課"], "", r["事業評価"], "", "") for r in read_csv(SAMPLE / "ratings_R4.csv")
    ]
    r5 = sample_r5_parts()
    with ws.store() as store:
        store.add_submission(
            year=FiscalYear(2022),
            submitter="",
            kind="import",
            file_name="ratings_R4.csv",
            file_path="ratings_R4.csv",
            sha256="r4",
            parts=r4,
            replace_rows=True,
        )
        store.add_submission(
            year=FiscalYear(2023),
            submitter="",
            kind="import",
            file_name="entries_R5.csv",
            file_path="entries_R5.csv",
            sha256="r5",
            parts=r5,
            replace_rows=True,
        )


@pytest.fixture
def sample_ws_loaded(sample_ws: Workspace) -> Workspace:
    """The Koganei workspace with R4 ratings and all R5 entries in force."""
    load_sample_years(sample_ws)
    return sample_ws


@pytest.fixture
def midori_ws(tmp_path: Path) -> Workspace:
    """The made-up second city's workspace (cp932 plan CSV, S/A/B/C scale)."""
    root = tmp_path / "midori"
    shutil.copytree(MIDORI, root)
    ws = Workspace.load(root)
    ws.store().close()
    return ws


@pytest.fixture
def ws_r4(sample_ws: Workspace) -> Workspace:
    """Koganei with the R4 ratings stored (No.5 A, No.6 B for 地域安全課)."""
    assert import_table(sample_ws, SAMPLE / "ratings_R4.csv", FiscalYear(2022)).ok
    return sample_ws


@pytest.fixture(autouse=True)
def _run_in_a_scratch_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that wrongly writes to the current folder must not litter the checkout."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
