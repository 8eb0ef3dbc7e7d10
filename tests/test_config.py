"""hyoka.toml: the strict schema (unknown keys are errors, with line and nearest key), all problems at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hyoka.workspace import (
    CONFIG_NAME,
    ConfigError,
    Workspace,
    check_config,
    default_config,
    init_workspace,
    key_lines,
)
from tests.conftest import MIDORI, SAMPLE


def _problems(text: str) -> list[tuple[str, int | None]]:
    return [(p.code, p.row) for p in check_config(tomllib.loads(text), text)]


def _load_error(tmp_path: Path, text: str) -> ConfigError:
    ws = init_workspace(tmp_path / "ws", None, sample=True)
    (ws.root / CONFIG_NAME).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Workspace.load(ws.root)
    return info.value


SAMPLE_TEXT = (SAMPLE / CONFIG_NAME).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "text",
    [SAMPLE_TEXT, (MIDORI / CONFIG_NAME).read_text(encoding="utf-8"), default_config("plan.csv")],
    ids=["sample", "midori", "init-template"],
)
def test_shipped_configs_pass_the_strict_check(text: str) -> None:
    assert check_config(tomllib.loads(text), text) == []


def test_init_template_with_its_meeting_uncommented_passes(tmp_path: Path) -> None:
    # The template's commented meeting is what a clerk switches on: show_empty_distributions must sit in
    # [[meetings]] (under [[meetings.materials]] it did nothing).
    text = default_config("plan.csv")
    meeting = text[text.index("# [[meetings]]") :]
    on = text.replace(meeting, "\n".join(line.removeprefix("# ") for line in meeting.splitlines()))
    assert check_config(tomllib.loads(on), on) == []
    data = tomllib.loads(on)
    assert data["meetings"][0]["show_empty_distributions"] is False
    assert "show_empty_distributions" not in data["meetings"][0]["materials"][0]


def test_require_reason_typo_is_an_error_with_line_and_suggestion(tmp_path: Path) -> None:
    text = SAMPLE_TEXT.replace("\nrequires_reason = true\n", "\nrequire_reason = true\n", 1)
    line = text.splitlines().index("require_reason = true") + 1
    error = _load_error(tmp_path, text)
    assert [(p.code, p.row) for p in error.problems] == [("config-key-unknown", line)]
    assert error.problems[0].message == (
        "「require_reason」は[[scale.levels]]（3番目）では使えません（hyoka の知らない名前です）。"
        "「requires_reason」の書き間違いではありませんか。"
    )


def test_every_problem_is_listed_at_once() -> None:
    text = (
        "[comittee]\n"  # 1
        'name = "x"\n'  # 2
        "[plan]\n"  # 3
        'fiel = "plan.csv"\n'  # 4
        "[format]\n"  # 5
        'gannen = "yes"\n'  # 6
        "[[meetings]]\n"  # 7
        "date = 2024-08-19\n"  # 8
        "[[meetings]]\n"  # 9
        "date = 2025-08-19\n"  # 10
        "number = 0\n"  # 11
        "[[meetings.materials]]\n"  # 12
        'titel = "資料"\n'  # 13
        'distribution = "郵送"\n'  # 14
        "zzz = 1\n"  # 15
    )
    assert _problems(text) == [
        ("config-key-unknown", 1),
        ("config-key-unknown", 4),
        ("config-key-missing", 3),
        ("config-wrong-type", 6),
        ("config-wrong-type", 11),
        ("config-key-unknown", 13),
        ("config-wrong-type", 14),
        ("config-key-unknown", 15),
        ("config-key-missing", 12),
    ]


def test_unknown_section_names_the_nearest_heading() -> None:
    text = '[comittee]\nname = "x"\n'
    (found,) = [p for p in check_config(tomllib.loads(text), text) if p.code == "config-key-unknown"]
    assert found.row == 1
    assert "見出し「[comittee]」" in found.message and "「[committee]」の書き間違い" in found.message


def test_unknown_key_without_a_near_one_lists_the_known_keys() -> None:
    text = '[committee]\nname = "x"\nsecretariat = "y"\nwebsite = "z"\n[plan]\nfile = "p.csv"\n'
    (found,) = check_config(tomllib.loads(text), text)
    assert (found.code, found.row) == ("config-key-unknown", 4)
    assert found.message.endswith("ここに書ける設定: name、plan_title、secretariat。")


def test_key_lines_follow_arrays_of_tables_and_skip_multiline_strings() -> None:
    text = (
        'note = """\n'  # 1
        "fake = 1\n"  # 2 (inside a string)
        '"""\n'  # 3
        "[[meetings]]\n"  # 4
        "id = 'a'\n"  # 5
        "[[meetings.materials]]\n"  # 6
        "no = '1'\n"  # 7
        "[[meetings.materials]]\n"  # 8
        "no = '2'\n"  # 9
        "[[meetings]]  # second\n"  # 10
        "id = 'b'\n"  # 11
        "[[meetings.materials]]\n"  # 12
        '  "no" = "1"\n'  # 13
    )
    lines = key_lines(text)
    assert ("fake",) not in lines
    assert lines[("note",)] == 1
    assert lines[("meetings", 0, "id")] == 5
    assert lines[("meetings", 0, "materials", 1, "no")] == 9
    assert lines[("meetings", 1)] == 10
    assert lines[("meetings", 1, "materials", 0, "no")] == 13


def test_impossible_date_is_named_as_such(tmp_path: Path) -> None:
    text = SAMPLE_TEXT.replace("date = 2024-08-19", "date = 2024-02-30")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("date = 2024-02-30"))
    error = _load_error(tmp_path, text)
    assert [(p.code, p.row) for p in error.problems] == [("config-date-impossible", line)]
    assert error.problems[0].message.startswith("2024-02-30 は存在しない日付です。")


def test_toml_syntax_errors_are_japanese_with_their_line(tmp_path: Path) -> None:
    error = _load_error(tmp_path, "[committee]\nname = 小金井\n")
    assert [(p.code, p.row) for p in error.problems] == [("config-syntax", 2)]
    assert not any(c.isascii() and c.isalpha() for c in error.problems[0].message)
    error = _load_error(tmp_path / "b", "[committee\n")
    assert [(p.code, p.row) for p in error.problems] == [("config-syntax", 1)]
    assert "見出しを閉じる ] がありません" in str(error)


def test_error_names_the_file_and_counts_the_problems(tmp_path: Path) -> None:
    text = SAMPLE_TEXT.replace("[format]", "[fromat]").replace("gannen = true", "ganen = true")
    error = _load_error(tmp_path, text)
    assert str(error).startswith(f"{tmp_path / 'ws' / CONFIG_NAME}: 設定ファイルに1件の誤りがあります。")


def test_a_blank_required_setting_is_reported_at_its_line() -> None:
    text = '[committee]\nname = "  "\nsecretariat = "事務局"\n[plan]\nfile = "plan.csv"\n'
    (found,) = check_config(tomllib.loads(text), text)
    assert (found.code, found.row, found.message) == (
        "config-key-missing",
        2,
        "[committee]に name を設定してください。",
    )
