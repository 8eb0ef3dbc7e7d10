"""Library messages never name a command-line option: the front ends add their own words (hints)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from hyoka.problems import CATALOGUE, HINTS, HyokaError

SRC = Path(__file__).resolve().parents[1] / "src" / "hyoka"
FRONT_ENDS = {SRC / "cli.py", SRC / "cli_ja.py"}
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _library_files() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if p not in FRONT_ENDS and (SRC / "web") not in p.parents]


def test_no_library_message_names_a_command_line_option() -> None:
    found = []
    for path in _library_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            for line in node.value.splitlines():  # the commented template of hyoka.toml may name them
                option = OPTION.search(line)
                if option and JAPANESE.search(line) and not line.lstrip().startswith("#"):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}: {option.group()}")
    assert found == []


def test_no_catalogued_message_names_a_command_line_option() -> None:
    assert [code for code, kind in CATALOGUE.items() if OPTION.search(kind.template)] == []


def test_every_hint_has_the_words_of_both_front_ends() -> None:
    from hyoka.cli import CLI_HINTS
    from hyoka.web.words import WEB_HINTS

    assert set(CLI_HINTS) == set(HINTS) == set(WEB_HINTS)


def test_the_cli_s_words_under_problems_are_for_catalogued_codes() -> None:
    from hyoka.cli import PROBLEM_HINTS

    assert set(PROBLEM_HINTS) <= set(CATALOGUE)
    from hyoka.collect import OLDER_CODES

    assert set(PROBLEM_HINTS) == OLDER_CODES  # the web page offers its button for the same problems


def test_an_unknown_hint_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        HyokaError("x", hint="no-such-hint")


def test_the_cli_adds_its_option_to_a_refusal(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("init", str(tmp_path / "w")).exit_code == 1
    result = run("init", str(tmp_path / "w"))
    assert result.output.splitlines()[-2:] == [
        "エラー: 計画マスタを指定してください（見本の計画で試すこともできます）。",
        "作成するには `hyoka init フォルダ名 --plan 計画マスタ.xlsx`（見本は `hyoka init フォルダ名 --sample`）。",
    ]


def test_the_web_page_adds_its_control() -> None:
    from hyoka.web.words import said

    assert said(HyokaError("作れません。", hint="draft")) == (
        "作れません。\n「案」として作るには、「…「案」として作る」の欄にチェックを入れて作成してください。"
    )
    assert said(HyokaError("作れません。")) == "作れません。"
