from pathlib import Path

import openpyxl

from hyoka.plan import HEADINGS
from hyoka.workspace import Workspace, load_plan
from tests.conftest import SAMPLE


def test_koganei_plan_counts() -> None:
    plan, problems = load_plan(SAMPLE / "plan.csv")
    assert problems == []
    assert plan is not None
    c = plan.counts()
    assert (c["goals"], c["policies"], c["projects"], c["rows"]) == (3, 9, 41, 57)
    joint = plan.by_key[("9", "介護福祉課・広報秘書課")]
    assert joint.submitters == ("介護福祉課", "広報秘書課")
    assert joint.project_label == "②【事業No.9】市民に対する啓発活動の推進"
    assert plan.by_key[("23", "地域福祉課")].project_label.startswith("①【事業No.23】【新規】")
    assert plan.by_key[("40", "地域福祉課(社会福祉協議会)")].submitters == ("社会福祉協議会",)
    assert [r.project_no for r in plan.rows][:4] == ["1", "2", "3", "4"]


def _write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_plan_check_lists_every_defect_with_its_row(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    head = list(HEADINGS)
    base = ["1", "目標", "基本施策A", "1", "施策X"]
    path = _write_xlsx(
        tmp_path / "bad.xlsx",
        [
            head,
            [*base, "1", "事業一", "", "甲課", ""],
            [*base, "1", "事業いち", "", "乙課", ""],  # 3: same No, other name
            [
                "1",
                "目標",
                "基本施策B",
                "1",
                "施策X",
                "2",
                "事業二",
                "",
                "甲課",
                "",
            ],  # 4: 施策 under two 基本施策
            [*base, "1", "事業一", "", "甲課", ""],  # 5: duplicate (No, 担当課)
            [*base, "3", "事業三", "はい", "甲課", ""],  # 6: unknown 新規
            [*base, "4", "", "", "甲課", ""],  # 7: blank name
        ],
    )
    result = run("plan", "check", path)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    _plan, problems = load_plan(path)
    assert [(p.row, p.code) for p in problems] == [
        (3, "plan-project-conflict"),
        (4, "plan-measure-conflict"),
        (5, "plan-duplicate-row"),
        (6, "plan-new-flag-unknown"),
        (7, "plan-cell-blank"),
    ]
    for line in ("3行目", "4行目", "5行目", "6行目", "7行目"):
        assert line in result.output


def test_plan_check_missing_headings(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.csv"
    path.write_text("事業No,事業名\n1,a\n", encoding="utf-8")
    result = run("plan", "check", path)
    assert result.exit_code == 1
    assert "基本目標No" in result.output and "担当課" in result.output


def test_plan_csv_encodings(tmp_path: Path) -> None:
    text = (SAMPLE / "plan.csv").read_text(encoding="utf-8-sig")
    for enc in ("utf-8", "utf-8-sig", "cp932"):
        path = tmp_path / f"plan-{enc}.csv"
        path.write_bytes(text.encode(enc))
        plan, problems = load_plan(path)
        assert problems == [] and plan is not None and len(plan.rows) == 57


def test_second_city_loads_and_shows(midori_ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    plan = midori_ws.plan
    four = plan.project("A-3")
    assert [r.department for r in four] == ["危機管理室", "高齢福祉課", "障がい福祉課", "こども家庭課"]
    assert plan.by_key[("A-2", "市民協働課・福祉総務課")].is_joint
    result = run("plan", "show", "-w", midori_ws.root)
    assert result.exit_code == 0, result.output
    assert "事業 6" in result.output and "担当課の行 10" in result.output
    assert "【事業No.A-2】【新規】孤立防止の声かけ運動" in result.output
