"""hyoka diff / history --column: any rating, choice, number or computed column of the year's sheet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyoka.store import Part
from hyoka.workspace import Workspace, init_workspace
from hyoka.years import FiscalYear
from tests.helpers import store_import

R5, R6 = FiscalYear(2023), FiscalYear(2024)


def _city(tmp_path: Path, name: str) -> Workspace:
    return init_workspace(tmp_path / name, None, sample=True, sample_name=name)


def _store(ws: Workspace, year: FiscalYear, parts: list[Part]) -> None:
    store_import(ws, year, parts)


def _indicator_part(no: str, submitter: str, rating: str, actual: int | None, outlook: str = "継続") -> Part:
    department = {"3": "健康推進課・子育て支援課"}.get(no, submitter)
    values: dict[str, object] = {"status": "実施" if actual is not None else "未実施"}
    if actual is not None:
        values["actual"] = actual
    return Part(no, department, submitter, rating, "", outlook, other_values=values)


@pytest.fixture
def indicator(tmp_path: Path) -> Workspace:
    """Two years of the indicator city: No.1 待機児童数 (lower is better) 8 → 12; No.2 相談件数
    1150 → 1400; No.3 a joint row whose 実績値 sum (500 + 380 → 520 + 400); No.4 unchanged."""
    ws = _city(tmp_path, "indicator")
    for year, rows in (
        (R5, [("1", "保育課", "A", 8, "継続"), ("2", "子育て支援課", "B", 1150, "改善")]),
        (R6, [("1", "保育課", "C", 12, "継続"), ("2", "子育て支援課", "A", 1400, "継続")]),
    ):
        joint = (500, 380) if year == R5 else (520, 400)
        _store(
            ws,
            year,
            [
                *(_indicator_part(*r) for r in rows),
                _indicator_part("3", "健康推進課", "B", joint[0]),
                _indicator_part("3", "子育て支援課", "B", joint[1]),
                _indicator_part("4", "健康推進課", "B", 90, "拡充"),
            ],
        )
    return ws


def _json(run, *args: str | Path) -> object:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_number_moves_up_or_down_by_the_row_s_direction_with_its_delta(run, indicator: Workspace) -> None:  # type: ignore[no-untyped-def]
    data = _json(
        run, "diff", "--year", "R6", "--column", "actual", "--all", "-f", "json", "-w", indicator.root
    )
    assert data == [
        # 待機児童数 is lower-is-better (方向 ↓): 8 → 12 is worse
        {"no": "1", "project": "保育所の整備", "department": "保育課", "before": 8, "after": 12,
         "change": "down", "delta": 4},
        {"no": "2", "project": "子育て相談の実施", "department": "子育て支援課", "before": 1150, "after": 1400,
         "change": "up", "delta": 250},
        # the joint row: 500 + 380 → 520 + 400
        {"no": "3", "project": "乳幼児健診の受診勧奨", "department": "健康推進課・子育て支援課", "before": 880,
         "after": 920, "change": "up", "delta": 40},
        {"no": "4", "project": "離乳食教室", "department": "健康推進課", "before": 90, "after": 90,
         "change": "same", "delta": 0},
    ]  # fmt: skip


def test_a_computed_column_is_recomputed_from_each_year_s_values_and_targets(
    run, indicator: Workspace
) -> None:  # type: ignore[no-untyped-def]
    data = _json(run, "diff", "--year", "R6", "--column", "rate", "-f", "json", "-w", indicator.root)
    assert [(r["no"], r["before"], r["after"], r["change"], r["delta"]) for r in data] == [  # type: ignore[union-attr, index]
        ("1", 125.0, 41.7, "down", -83.3),  # 10 / 8 against R6's 5 / 12
        ("2", 95.8, 107.7, "up", 11.9),  # 1150 / 1200, 1400 / 1300
        ("3", 97.8, 100.0, "up", 2.2),  # Σ 880 / 900, Σ 920 / 920
        ("4", 60.0, 56.3, "down", -3.7),  # 90 / 150, 90 / 160
    ]


def test_the_table_prints_numbers_with_units_better_worse_and_the_delta(run, indicator: Workspace) -> None:  # type: ignore[no-untyped-def]
    result = run("diff", "--year", "R6", "--column", "actual", "-f", "csv", "-w", indicator.root)
    assert result.exit_code == 0, result.output
    lines = result.output.removeprefix("\ufeff").splitlines()  # not a terminal: the file's bytes
    assert lines[0] == "基本目標No,基本目標,事業No,事業名,担当課,令和5年度,令和6年度,増減,変化"
    assert lines[1:] == [
        "1,安心して子育てできるまち,1,保育所の整備,保育課,8人,12人,4人増,悪化",
        '1,安心して子育てできるまち,2,子育て相談の実施,子育て支援課,"1,150件","1,400件",250件増,改善',
        "1,安心して子育てできるまち,3,乳幼児健診の受診勧奨,健康推進課・子育て支援課,880人,920人,40人増,改善",
    ]


def test_a_choice_is_changed_without_a_direction(run, indicator: Workspace) -> None:  # type: ignore[no-untyped-def]
    data = _json(run, "diff", "--year", "R6", "--column", "outlook", "-f", "json", "-w", indicator.root)
    assert data == [
        {"no": "2", "project": "子育て相談の実施", "department": "子育て支援課", "before": "改善", "after": "継続",
         "change": "changed"},
    ]  # fmt: skip
    result = run("diff", "--year", "R6", "--column", "outlook", "-w", indicator.root)
    assert "今後の方向性ごとの行数" in result.output


def test_the_default_column_is_the_first_rating_column_unchanged(run, indicator: Workspace) -> None:  # type: ignore[no-untyped-def]
    default = _json(run, "diff", "--year", "R6", "-f", "json", "-w", indicator.root)
    assert default == _json(
        run, "diff", "--year", "R6", "--column", "rating", "-f", "json", "-w", indicator.root
    )
    assert [(r["no"], r["before"], r["after"], r["change"]) for r in default] == [  # type: ignore[union-attr, index]
        ("1", "A", "C", "down"),
        ("2", "B", "A", "up"),
    ]


def test_a_five_best_scale_moves_up_when_the_number_grows(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = _city(tmp_path, "two_stage")
    for year, (first, second) in ((R5, ("3", "4")), (R6, ("4", "2"))):
        _store(
            ws,
            year,
            [
                Part("1", "地域福祉課", "地域福祉課", first, "", "", other_values={"work": "x"}),
                Part("2", "市民協働課", "市民協働課", second, "", "", other_values={"work": "y"}),
            ],
        )
    for args in ((), ("--column", "self_rating")):
        data = _json(run, "diff", "--year", "R6", *args, "-f", "json", "-w", ws.root)
        assert [(r["no"], r["before"], r["after"], r["change"]) for r in data] == [  # type: ignore[union-attr, index]
            ("1", "3", "4", "up"),  # 5 かなり進んだ is the best
            ("2", "4", "2", "down"),
        ]


def test_history_of_a_number_column_has_values_by_year(run, indicator: Workspace) -> None:  # type: ignore[no-untyped-def]
    data = _json(run, "history", "--column", "actual", "--no", "3", "-f", "json", "-w", indicator.root)
    assert data == [
        {"no": "3", "project": "乳幼児健診の受診勧奨", "department": "健康推進課・子育て支援課",
         "values": {"R5": 880, "R6": 920}},
    ]  # fmt: skip
    result = run("history", "--column", "actual", "--no", "3", "-f", "csv", "-w", indicator.root)
    assert result.output.splitlines()[1].endswith(",880人,920人")


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("nope", "は評価表の定義にありません"),
        ("reason", "は比べられる列ではありません（文章・計画の値・前年度の値の列は比べられません）"),
        ("target", "は比べられる列ではありません（文章・計画の値・前年度の値の列は比べられません）"),
        ("prior_rating", "は比べられる列ではありません（文章・計画の値・前年度の値の列は比べられません）"),
    ],
)
def test_a_column_that_cannot_be_compared_is_a_usage_error_listing_the_keys(
    run,  # type: ignore[no-untyped-def]
    indicator: Workspace,
    key: str,
    reason: str,
) -> None:
    from hyoka.diff import ColumnError, diff_column

    listed = "status（実施状況）、actual（実績値）、rate（達成率）、rating（評価）、outlook（今後の方向性）"
    with pytest.raises(ColumnError) as caught:
        diff_column(indicator.sheet_for(R6), key)
    assert caught.value.problem.code == "diff-column-unknown"
    assert caught.value.problem.message == f"列「{key}」{reason}。比べられる列: {listed}。"
    for command in (("diff", "--year", "R6"), ("history",)):
        result = run(*command, "--column", key, "-w", indicator.root)
        assert result.exit_code == 2
        assert result.output.strip() == f"エラー: 列「{key}」{reason}。比べられる列: {listed}。"


def test_the_default_sheet_accepts_rating_and_lists_it(run, sample_ws: Workspace) -> None:  # type: ignore[no-untyped-def]
    result = run("diff", "--year", "R5", "--column", "outlook", "-w", sample_ws.root)
    assert result.exit_code == 2
    assert result.output.strip() == (
        "エラー: 列「outlook」は比べられる列ではありません（文章・計画の値・前年度の値の列は比べられません）。"
        "比べられる列: rating（事業評価）。"
    )


def test_the_web_pages_compare_the_column_chosen(indicator: Workspace, sample_ws: Workspace) -> None:
    from lxml import html as lxml_html

    from tests.test_web import _client

    client, _guard = _client(indicator)
    with client:
        page = lxml_html.fromstring(client.get("/diff?year=R6&column=actual").text)
        options = page.xpath("//select[@id='column']/option")
        assert [(o.get("value"), o.text, o.get("selected") is not None) for o in options] == [
            ("status", "実施状況", False),
            ("actual", "実績値", True),
            ("rate", "達成率", False),
            ("rating", "評価", False),
            ("outlook", "今後の方向性", False),
        ]
        rows = page.xpath("//table[@class='grid']")[0].xpath(".//tbody/tr")
        assert [td.text_content() for td in rows[0].xpath("./td")][-4:] == [
            "8人",
            "12人",
            "4人増",
            "悪化",
        ]
        export = client.get("/diff/export?year=R6&column=actual&format=csv")
        assert "増減" in export.content.decode("utf-8-sig").splitlines()[0]
        history = lxml_html.fromstring(client.get("/history?column=actual&no=3").text)
        cells = history.xpath("//table[@class='grid']//tbody/tr/td")
        assert [c.text_content() for c in cells][-2:] == ["880人", "920人"]
    client, _guard = _client(sample_ws)
    with client:  # one column to compare: no selector
        assert 'id="column"' not in client.get("/history").text
