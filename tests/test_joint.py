"""Correcting a joint row (seed No.9, 介護福祉課・広報秘書課) in any order, through the CLI as a clerk runs it.

The Koganei R5 returns are all in (No.9 rated A by both departments); the departments then agree on B.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

from hyoka.collect import collect
from hyoka.results import load_year, ratings
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import SAMPLE
from tests.helpers import department_form
from tests.test_report import DRAFT, TABLE_NAME, evaluation_rows

R5 = FiscalYear(2023)
JOINT = ("9", "介護福祉課・広報秘書課")
KAIGO, KOUHOU = "介護福祉課", "広報秘書課"


def hyoka(ws: Workspace, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """One hyoka command as its own process, as the clerk runs it."""
    return subprocess.run(
        [sys.executable, "-m", "hyoka", *(str(a) for a in args), "-w", str(ws.root)],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def complete_ws(ws_r4: Workspace) -> Workspace:
    """Every R5 return of the sample accepted; No.9 is A from both departments."""
    assert collect(ws_r4, [SAMPLE / "returned" / "R5"], R5).ok
    assert joint_parts(ws_r4) == {KAIGO: "A", KOUHOU: "A"}
    return ws_r4


def joint_parts(ws: Workspace) -> dict[str, str]:
    with ws.store() as s:
        return {p.submitter: p.rating for p in s.current_parts(R5) if (p.project_no, p.department) == JOINT}


def problems_of(out: str, code: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if f"] {code}:" in line]


def test_correct_joint_row_first_one_department_then_the_other(
    complete_ws: Workspace, tmp_path: Path
) -> None:
    ws = complete_ws
    first = hyoka(ws, "collect", department_form(ws, tmp_path / "1", KAIGO, "B"), "--year", "R5")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "【受付】調査票_R5_介護福祉課.xlsx（介護福祉課、10行）" in first.stdout
    (differs,) = problems_of(first.stdout, "joint-rating-differs")
    assert "[警告] joint-rating-differs: 調査票_R5_介護福祉課.xlsx シート「調査票」 セル F15:" in differs
    assert "介護福祉課は「B」、受付済みの広報秘書課は「A」" in differs
    assert joint_parts(ws) == {KAIGO: "B", KOUHOU: "A"}

    held = hyoka(ws, "status", "--year", "R5")
    assert held.returncode == 1
    assert "【不一致】介護福祉課  10/10行" in held.stdout
    assert "【不一致】広報秘書課  3/3行" in held.stdout
    assert "    不一致: 事業No.9（介護福祉課・広報秘書課）介護福祉課「B」、広報秘書課「A」" in held.stdout
    assert held.stdout.rstrip().endswith(
        "完了 9/11 課。不一致 1行: 事業No.9（介護福祉課「B」、広報秘書課「A」）"
    )

    second = hyoka(ws, "collect", department_form(ws, tmp_path / "2", KOUHOU, "B"), "--year", "R5")
    assert second.returncode == 0, second.stdout + second.stderr
    assert problems_of(second.stdout, "joint-rating-differs") == []
    (resolved,) = problems_of(second.stdout, "joint-rating-resolved")
    assert "事業No.9（介護福祉課・広報秘書課）の評価が担当課の間でそろいました（「B」）" in resolved
    assert joint_parts(ws) == {KAIGO: "B", KOUHOU: "B"}
    done = hyoka(ws, "status", "--year", "R5")
    assert done.returncode == 0, done.stdout
    assert "不一致" not in done.stdout


def test_correct_joint_row_in_the_other_order(complete_ws: Workspace, tmp_path: Path) -> None:
    ws = complete_ws
    first = hyoka(ws, "collect", department_form(ws, tmp_path / "1", KOUHOU, "B"), "--year", "R5")
    assert first.returncode == 0, first.stdout + first.stderr
    (differs,) = problems_of(first.stdout, "joint-rating-differs")
    assert "広報秘書課は「B」、受付済みの介護福祉課は「A」" in differs
    status = hyoka(ws, "status", "--year", "R5", "--json")
    assert status.returncode == 1
    data = json.loads(status.stdout)
    assert data["complete"] is False
    assert data["disagreements"] == [
        {"no": "9", "department": "介護福祉課・広報秘書課", "ratings": {KAIGO: "A", KOUHOU: "B"}}
    ]
    states = {d["department"]: d["state"] for d in data["departments"]}
    assert states[KAIGO] == states[KOUHOU] == "disagreeing"

    second = hyoka(ws, "collect", department_form(ws, tmp_path / "2", KAIGO, "B"), "--year", "R5")
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(problems_of(second.stdout, "joint-rating-resolved")) == 1
    assert joint_parts(ws) == {KAIGO: "B", KOUHOU: "B"}
    assert hyoka(ws, "status", "--year", "R5").returncode == 0


def test_correct_joint_row_with_both_forms_in_one_run(complete_ws: Workspace, tmp_path: Path) -> None:
    ws = complete_ws
    forms = [
        department_form(ws, tmp_path / "1", KAIGO, "B"),
        department_form(ws, tmp_path / "2", KOUHOU, "B"),
    ]
    run = hyoka(ws, "collect", *forms, "--year", "R5")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("【受付】") == 2
    # The first file differs from what is in force; the second sees the first's part and agrees.
    assert len(problems_of(run.stdout, "joint-rating-differs")) == 1
    assert len(problems_of(run.stdout, "joint-rating-resolved")) == 1
    assert joint_parts(ws) == {KAIGO: "B", KOUHOU: "B"}
    assert hyoka(ws, "status", "--year", "R5").returncode == 0


def test_import_corrects_a_joint_row_whole(complete_ws: Workspace, tmp_path: Path) -> None:
    ws = complete_ws
    assert (
        hyoka(ws, "collect", department_form(ws, tmp_path / "1", KAIGO, "B"), "--year", "R5").returncode == 0
    )
    table = tmp_path / "correction.csv"
    table.write_text("事業No,担当課,事業評価\n9,介護福祉課・広報秘書課,C\n", encoding="utf-8")
    result = hyoka(ws, "import", table, "--year", "R5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "joint-rating" not in result.stdout
    assert joint_parts(ws) == {"": "C"}  # the whole row replaces both departments' parts
    with ws.store() as s:
        assert load_year(s, ws.plan, R5)[JOINT].rating == "C"
    assert hyoka(ws, "status", "--year", "R5").returncode == 0


def test_parts_of_one_import_that_disagree_are_an_error(complete_ws: Workspace, tmp_path: Path) -> None:
    table = tmp_path / "parts.csv"
    table.write_text("事業No,担当課,事業評価\n9,介護福祉課,B\n9,広報秘書課,C\n", encoding="utf-8")
    result = hyoka(complete_ws, "import", table, "--year", "R5")
    assert result.returncode == 1
    (conflict,) = problems_of(result.stdout, "joint-rating-conflict")
    assert conflict.startswith("[エラー] joint-rating-conflict: parts.csv セル C3:")
    assert "この表の中で介護福祉課は「B」、広報秘書課は「C」" in conflict
    assert joint_parts(complete_ws) == {KAIGO: "A", KOUHOU: "A"}


def test_report_refuses_a_disagreeing_row_and_marks_it_in_a_draft(
    complete_ws: Workspace, tmp_path: Path
) -> None:
    ws = complete_ws
    assert (
        hyoka(ws, "collect", department_form(ws, tmp_path / "1", KOUHOU, "B"), "--year", "R5").returncode == 0
    )
    refused = hyoka(ws, "report", "--year", "R5", "--out", tmp_path / "final")
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[:3] == [
        "エラー: 令和5年度の回答がそろっていないため、評価表を作成できません（不一致 1 行）。",
        "担当課の間で評価が異なる行（不一致。評価を揃えた調査票を出し直してもらってください）:",
        "  事業No.9（介護福祉課・広報秘書課）: 介護福祉課「A」、広報秘書課「B」",
    ]
    assert not (tmp_path / "final").exists()
    draft = hyoka(ws, "report", "--year", "R5", "--draft", "--out", tmp_path / "draft")
    assert draft.returncode == 0, draft.stderr
    assert "お知らせ: 「案」として作成しました。不一致の行が 1 行あります。" in draft.stdout
    rows = {
        r.project.split("】")[0] + "】": r
        for r in evaluation_rows(Document(str(tmp_path / "draft" / DRAFT[TABLE_NAME])))
    }
    assert rows["②【事業No.9】"].rating == "A／B（不一致）"


def test_a_disagreeing_row_has_no_rating_for_diff_and_history(complete_ws: Workspace, tmp_path: Path) -> None:
    ws = complete_ws
    assert collect(ws, [department_form(ws, tmp_path / "1", KAIGO, "B")], R5).ok
    with ws.store() as s:
        assert JOINT not in ratings(s, ws.plan, R5)
    out = hyoka(ws, "history", "--no", "9", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["ratings"] == {"R4": "A", "R5": None}


def test_import_of_one_departments_line_says_the_other_part_goes(
    complete_ws: Workspace, tmp_path: Path
) -> None:
    table = tmp_path / "one.csv"
    table.write_text("事業No,担当課,事業評価\n9,介護福祉課,B\n", encoding="utf-8")
    result = hyoka(complete_ws, "import", table, "--year", "R5")
    assert result.returncode == 0, result.stdout + result.stderr
    (warning,) = problems_of(result.stdout, "import-joint-part-only")
    assert warning.startswith(
        "[警告] import-joint-part-only: one.csv セル C2: 事業No.9（介護福祉課・広報秘書課）"
    )
    assert (
        "この表には介護福祉課の分しかありません。取り込むとこの行は表の内容で置き換わり、受付済みの広報秘書課の分はなくなります"
        in warning
    )
    assert joint_parts(complete_ws) == {KAIGO: "B"}
    status = hyoka(complete_ws, "status", "--year", "R5")
    assert "    不足: 事業No.9（介護福祉課・広報秘書課）" in status.stdout
