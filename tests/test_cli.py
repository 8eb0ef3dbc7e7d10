import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from hyoka import __version__
from hyoka.cli import app
from hyoka.cli_ja import commands, display_width, wrap


def test_version(run) -> None:  # type: ignore[no-untyped-def]
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def _japanese(text: str) -> bool:
    return any("\u3040" <= c <= "\u9fff" for c in text)


COMMANDS = [path for path, _ in commands(get_command(app))]


def test_every_command_and_option_has_japanese_help() -> None:
    # sqlite-utils style: no command, subcommand or option without help text, and all of it Japanese.
    for path, cmd in commands(get_command(app)):
        assert _japanese(cmd.help or cmd.short_help or ""), f"{path} has no Japanese help"
        for param in cmd.params:
            if param.name == "help":
                continue
            assert _japanese(getattr(param, "help", None) or ""), f"{path} {param.name} has no Japanese help"


# Everything click and typer write in English by themselves.
CLICK_VOCABULARY = re.compile(
    r"Usage|Options|Arguments|Commands|required|default|Show this message|exit\b|Error|Missing|"
    r"No such|Possible|Try |for help|Aborted|unexpected|Did you mean|Invalid|\[OPTIONS\]|COMMAND|"
    r"\[ARGS\]|<path>|<str>|<text>|<int>|<float>|<list|<file>|<directory>|\b(?:TEXT|PATH|FILE|INTEGER)\b"
)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "hyoka")
def test_help_is_japanese_and_its_columns_align(run, path: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert CLICK_VOCABULARY.findall(result.output) == []
    assert result.output.startswith("使い方: ")
    sections = re.split(r"\n(?=\S)", result.output)
    for section in sections:
        heading, _, body = section.partition("\n")
        if heading not in ("引数:", "オプション:", "コマンド:"):
            continue
        starts = set()
        for line in body.splitlines():
            if not line.strip():
                continue
            m = re.match(r"(  \S.*?)(\s{2,})\S", line)
            if m:  # a term and its description on one line
                starts.add(display_width(m.group(1) + m.group(2)))
            elif line.startswith("   "):  # a continuation line, or a description below a long term
                starts.add(display_width(line) - display_width(line.lstrip()))
        assert len(starts) == 1, f"{path} {heading} columns start at {starts}:\n{body}"
    assert max(display_width(line) for line in result.output.splitlines()) <= 80


def test_display_width_counts_full_width_characters_twice() -> None:
    assert display_width("年度") == 4
    assert display_width("-y, --year 年度") == 15
    assert display_width("ｱ") == 1  # half-width katakana
    assert wrap("あいうえお、かきくけこ", 10) == ["あいうえ", "お、かきく", "けこ"]  # no line starts with 、


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status"], "エラー: オプション --year / -y を指定してください。"),
        (["collect", "--year", "R5"], "エラー: ファイルまたはフォルダ... を指定してください。"),
        (
            ["status", "--yr", "R5"],
            "エラー: オプション --yr はありません。--year の書き間違いではありませんか。",
        ),
        (["forms", "--year"], "エラー: オプション --year の後に値を指定してください。"),
        (
            ["diff", "--year", "R5", "--all=1"],
            "エラー: オプション --all には値を付けられません（= 以降を消してください）。",
        ),
        (["statsu"], "エラー: コマンド「statsu」はありません。「status」の書き間違いではありませんか。"),
        (["plan", "chek"], "エラー: コマンド「chek」はありません。「check」の書き間違いではありませんか。"),
        (
            ["init", "a", "b"],
            'エラー: 余分な引数があります（b）。値に空白を含むときは "…" で囲んでください。',
        ),
        (["serve", "--port", "80x"], "エラー: --port の値が正しくありません: 「80x」は整数ではありません。"),
        (
            ["serve", "--port", "99999"],
            "エラー: --port の値が正しくありません: 「99999」は 65535 以下で指定してください。",
        ),
    ],
)
def test_usage_errors_are_japanese_and_exit_2(run, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == message
    assert CLICK_VOCABULARY.findall(result.output) == []


def test_the_workspace_may_be_named_before_the_command(run, sample_ws) -> None:  # type: ignore[no-untyped-def]
    before = run("-w", sample_ws.root, "plan", "show")
    after = run("plan", "show", "-w", sample_ws.root)
    assert (before.exit_code, before.output) == (after.exit_code, after.output)
    assert before.exit_code == 0 and "事業No.41" in before.output


def test_serve_on_another_address_without_a_terminal_asks_for_the_password_variable(
    run, sample_ws, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("HYOKA_PASSWORD", raising=False)
    result = run("serve", "--host", "0.0.0.0", "--no-browser", "-w", sample_ws.root)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "エラー: 0.0.0.0 で待ち受けるにはパスワードが必要です。端末から入力できないため、"
        "環境変数 HYOKA_PASSWORD にパスワードを設定してから起動してください。"
    )


def test_usage_error_shows_the_japanese_usage_and_where_help_is(run) -> None:  # type: ignore[no-untyped-def]
    result = run("status")
    assert result.output.splitlines()[:2] == [
        "使い方: root status [オプション]",  # CliRunner names the program "root"
        "説明は `root status --help` で表示できます。",
    ]


def test_usage_errors_in_a_real_process_are_japanese() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hyoka", "status", "--yr"],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.splitlines()[-1]
        == "エラー: オプション --yr はありません。--year の書き間違いではありませんか。"
    )


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
