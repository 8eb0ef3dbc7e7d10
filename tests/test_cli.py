import subprocess
import sys
from pathlib import Path

import typer

from hyoka import __version__
from hyoka.cli import app


def test_version(run) -> None:  # type: ignore[no-untyped-def]
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_every_command_has_japanese_help() -> None:
    from typer.main import get_command

    root = get_command(app)

    def walk(cmd, path):  # type: ignore[no-untyped-def]
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name])

    for path, cmd in walk(root, []):
        text = cmd.help or cmd.short_help or ""
        assert any("\u3040" <= c <= "\u9fff" for c in text), f"{path} has no Japanese help"


def test_init_sample_then_plan_show(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    result = run("init", tmp_path / "ws", "--sample")
    assert result.exit_code == 0, result.output
    result = run("plan", "show", "-w", tmp_path / "ws")
    assert result.exit_code == 0
    assert "事業 41" in result.output and "担当課の行 57" in result.output


def test_init_refuses_existing_and_needs_plan(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    assert run("init", tmp_path / "ws", "--sample").exit_code == 0
    again = run("init", tmp_path / "ws", "--sample")
    assert again.exit_code == 1 and "既にワークスペース" in again.output
    none = run("init", tmp_path / "other")
    assert none.exit_code == 1 and "--plan" in none.output


def test_outside_workspace_says_how_to_make_one(tmp_path: Path, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = run("plan", "show")
    assert result.exit_code == 1
    assert "hyoka init" in result.output
    assert "Traceback" not in result.output


def test_usage_error_exit_code_2(run) -> None:  # type: ignore[no-untyped-def]
    assert run("no-such-command").exit_code == 2


def test_python_dash_m_and_bad_config(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "hyoka.toml").write_text("[committee\nname=", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "hyoka", "plan", "show", "-w", str(ws)],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert proc.returncode == 1
    assert "hyoka.toml" in proc.stderr and "Traceback" not in proc.stderr


def test_app_is_typer() -> None:
    assert isinstance(app, typer.Typer)


def test_placeholders_from_init_are_pointed_out(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import SAMPLE

    assert run("init", tmp_path / "ws", "--plan", SAMPLE / "plan.csv").exit_code == 0
    result = run("forms", "--year", "R6", "-w", tmp_path / "ws")
    assert result.exit_code == 0
    assert "[committee] name が「○○」のまま" in result.output


def test_readme_error_table_lists_every_code_with_severity_and_japanese_title() -> None:
    import re

    from hyoka.problems import CATALOGUE

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Error codes") :]
    rows = {
        m.group(1): (m.group(2), m.group(3).strip())
        for m in re.finditer(r"^\| `([a-z0-9-]+)` \| (\w+) \| ([^|]+) \|", table, re.M)
    }
    expected = {code: (str(t.severity), t.title_ja) for code, t in CATALOGUE.items()}
    assert rows == expected


def test_every_problem_code_has_a_japanese_title() -> None:
    from hyoka.problems import CATALOGUE

    untitled = [code for code, t in CATALOGUE.items() if not t.title_ja]
    assert untitled == []
    assert all(any("\u3040" <= c <= "\u9fff" for c in t.title_ja) for t in CATALOGUE.values())


def test_workspace_that_does_not_exist_is_not_offered_init(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    result = run("plan", "show", "-w", tmp_path / "typo")
    assert result.exit_code == 1
    assert result.output == (
        f"エラー: フォルダ {tmp_path / 'typo'} がありません。-w に指定したフォルダの名前と場所を確かめてください。\n"
    )
    (tmp_path / "empty").mkdir()
    result = run("plan", "show", "-w", tmp_path / "empty")
    assert result.exit_code == 1 and f"hyoka init {tmp_path / 'empty'}" in result.output
