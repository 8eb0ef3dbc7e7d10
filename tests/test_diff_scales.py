"""hyoka diff / history when a column's definition differs between the years compared: each year's
ratings read by that year's scale; a scale that differs (other codes, or the same codes in another
order) is not ranked — a row whose code changed is 変更, said once; a number whose unit changed is 変更."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import MIDORI
from tests.helpers import ratings, store_import
from tests.test_diff_column import indicator  # noqa: F401 - the fixture: two years of 実績値

R4, R5, R6 = FiscalYear(2022), FiscalYear(2023), FiscalYear(2024)
GOLDEN = Path(__file__).parent / "data" / "golden"
A_TO_D = ("A", "B", "C", "D")
S_TO_C = ("S", "A", "B", "C")
NOTICE = (
    "令和5年度と令和6年度では「事業評価」の評価基準が異なります（令和5年度は A・B・C・D、"
    "令和6年度は S・A・B・C）。上がった・下がったは判定せず、評価が変わった行は「変更」としています。"
)
HISTORY_NOTICE = (
    "令和5年度と令和6年度では「事業評価」の評価基準が異なります（令和5年度は A・B・C・D、"
    "令和6年度は S・A・B・C）。同じ記号でも意味が同じとは限りません。各年度の評価はその年度の評価基準で読んでください。"
)
R5_ROWS = [
    ("A-1", "高齢福祉課", "A"),
    ("A-1", "障がい福祉課", "B"),
    ("A-3", "危機管理室", "D"),  # D is no code of R6's scale
    ("A-3", "高齢福祉課", "C"),
    ("B-1", "市民協働課", "A"),
    ("B-2", "学校教育課", "B"),
]
R6_ROWS = [
    ("A-1", "高齢福祉課", "S"),  # S is no code of R5's scale
    ("A-1", "障がい福祉課", "B"),
    ("A-3", "危機管理室", "C"),
    ("A-3", "高齢福祉課", "A"),  # C → A: "up" by R6's order, but R6's A is not R5's A
    ("B-1", "市民協働課", "A"),
    ("B-2", "学校教育課", "C"),
]


def _scale_toml(codes: tuple[str, ...]) -> str:
    levels = "".join(f'\n[[scale.levels]]\ncode = "{c}"\nlabel = "評価{c}"\n' for c in codes)
    return f"[scale]\n{levels}\n"


def _set_scale(root: Path, codes: tuple[str, ...]) -> None:
    """hyoka.toml's [scale] replaced by one of ``codes`` (best first)."""
    config = root / "hyoka.toml"
    text = config.read_text(encoding="utf-8")
    start, end = text.index("[scale]"), text.index("[[meetings]]")
    config.write_text(text[:start] + _scale_toml(codes) + text[end:], encoding="utf-8")


def _store(root: Path, year: FiscalYear, rows: list[tuple[str, str, str]]) -> None:
    store_import(Workspace.load(root), year, ratings(rows))


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def _two_scales(
    tmp_path: Path,
    run,  # type: ignore[no-untyped-def]
    before: tuple[str, ...],
    after: tuple[str, ...],
    r5: list[tuple[str, str, str]],
    r6: list[tuple[str, str, str]],
    r4: list[tuple[str, str, str]] | None = None,
) -> Path:
    """みどり市 rating R5 (and R4) by ``before``, then a plan version from R6 whose scale is ``after``."""
    root = tmp_path / "midori"
    shutil.copytree(MIDORI, root)
    _set_scale(root, before)
    Workspace.load(root).store().close()  # the first version records hyoka.toml's definition
    if r4 is not None:
        _store(root, R4, r4)
    _store(root, R5, r5)
    _set_scale(root, after)
    out = _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", root))
    assert ("■ 評価基準の変更（1件）\n" in out) == (before != after)
    _store(root, R6, r6)
    return root


@pytest.fixture
def midori_rescaled(tmp_path: Path, run) -> Path:  # type: ignore[no-untyped-def]
    """R5 rated A–D, R6 (a new plan version) rates S/A/B/C."""
    return _two_scales(tmp_path, run, A_TO_D, S_TO_C, R5_ROWS, R6_ROWS)


# --- diff ------------------------------------------------------------------------------------------


def test_each_year_is_read_by_its_own_scale_and_changed_codes_are_not_ranked(
    midori_rescaled: Path,
    run,  # type: ignore[no-untyped-def]
) -> None:
    result = run("diff", "--year", "R6", "--all", "-f", "json", "-w", midori_rescaled)
    data = json.loads(_ok(result))
    assert [(r["no"], r["department"], r["before"], r["after"], r["change"]) for r in data] == [
        ("A-1", "高齢福祉課", "A", "S", "changed"),
        ("A-1", "障がい福祉課", "B", "B", "same"),
        ("A-3", "危機管理室", "D", "C", "changed"),
        ("A-3", "高齢福祉課", "C", "A", "changed"),
        ("B-1", "市民協働課", "A", "A", "same"),
        ("B-2", "学校教育課", "B", "C", "changed"),
    ]
    assert all(set(r) == {"no", "project", "department", "before", "after", "change"} for r in data)
    # JSON stays a plain list: the notice goes to standard error, once.
    assert result.stderr == f"[お知らせ] diff-scale-differs: {NOTICE}\n"


def test_the_table_says_once_that_the_scales_differ(midori_rescaled: Path, run) -> None:  # type: ignore[no-untyped-def]
    result = run("diff", "--year", "R6", "-w", midori_rescaled)
    expected = (GOLDEN / "diff_scales_differ.txt").read_text(encoding="utf-8")
    assert _ok(result) == expected
    assert result.stdout.count("評価基準が異なります") == 1
    assert result.stderr == ""  # the table carries the notice itself


def test_csv_marks_the_rows_changed_and_the_notice_goes_to_standard_error(
    midori_rescaled: Path,
    run,  # type: ignore[no-untyped-def]
) -> None:
    result = run("diff", "--year", "R6", "-f", "csv", "-w", midori_rescaled)
    rows = list(csv.reader(_ok(result).removeprefix("\ufeff").splitlines()))
    assert rows[0] == [
        "基本目標No",
        "基本目標",
        "事業No",
        "事業名",
        "担当課",
        "令和5年度",
        "令和6年度",
        "変化",
    ]
    assert [r[2:] for r in rows[1:]] == [
        ["A-1", "見守りネットワークの運営", "高齢福祉課", "A", "S", "変更"],
        ["A-3", "避難支援プランの作成", "危機管理室", "D", "C", "変更"],
        ["A-3", "避難支援プランの作成", "高齢福祉課", "C", "A", "変更"],
        ["B-2", "福祉教育の推進", "学校教育課", "B", "C", "変更"],
    ]
    assert result.stderr == f"[お知らせ] diff-scale-differs: {NOTICE}\n"


def test_xlsx_and_markdown_carry_the_notice(midori_rescaled: Path, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md = tmp_path / "diff.md"
    _ok(run("diff", "--year", "R6", "-o", md, "-w", midori_rescaled))
    text = md.read_text(encoding="utf-8").splitlines()
    assert text[:3] == ["# 事業評価の比較 令和5年度 → 令和6年度（評価が変わった行 4 行）", "", NOTICE]
    assert "| 区分 | 変更 | 変化なし | 新規 | 廃止 |" in text
    xlsx = tmp_path / "diff.xlsx"
    _ok(run("diff", "--year", "R6", "-o", xlsx, "-w", midori_rescaled))
    wb = openpyxl.load_workbook(xlsx)
    first = wb["比較"]
    assert first.auto_filter.ref == "A2:H6"  # the notice is below the filtered rows
    assert first.cell(8, 1).value == NOTICE
    assert [c.value for c in wb["評価ごとの行数"][2]] == ["区分", "年度", "S", "A", "B", "C", "D", "計"]
    assert [c.value for c in wb["変化の内訳"][3]] == ["全体", 4, 2, 0, 0]
    wb.close()


def test_a_code_outside_its_own_year_s_scale_is_still_an_error_naming_the_year(
    tmp_path: Path,
    run,  # type: ignore[no-untyped-def]
) -> None:
    r5 = [*R5_ROWS[:1], ("A-3", "危機管理室", "S"), *R5_ROWS[3:]]  # S is R6's code, not R5's
    root = _two_scales(tmp_path, run, A_TO_D, S_TO_C, r5, R6_ROWS)
    result = run("diff", "--year", "R6", "-w", root)
    assert result.exit_code == 1
    assert result.output == (
        "エラー: 令和5年度の事業No.A-3（危機管理室）の評価「S」は評価基準（A・B・C・D）にありません。"
        "hyoka.toml の [scale] を確認してください。\n"
    )
    r6 = [*R6_ROWS[:2], ("A-3", "危機管理室", "D")]
    root = _two_scales(tmp_path / "again", run, A_TO_D, S_TO_C, R5_ROWS, r6)
    result = run("diff", "--year", "R6", "-w", root)
    assert result.exit_code == 1
    assert result.output == (
        "エラー: 令和6年度の事業No.A-3（危機管理室）の評価「D」は評価基準（S・A・B・C）にありません。"
        "hyoka.toml の [scale] を確認してください。\n"
    )


def test_the_same_codes_in_another_order_are_not_ranked_either(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    r5 = [("A-1", "高齢福祉課", "2"), ("A-1", "障がい福祉課", "3"), ("B-1", "市民協働課", "1")]
    r6 = [("A-1", "高齢福祉課", "4"), ("A-1", "障がい福祉課", "3"), ("B-1", "市民協働課", "5")]
    root = _two_scales(tmp_path, run, ("1", "2", "3", "4", "5"), ("5", "4", "3", "2", "1"), r5, r6)
    result = run("diff", "--year", "R6", "--all", "-f", "json", "-w", root)
    data = json.loads(_ok(result))
    assert [(r["no"], r["department"], r["before"], r["after"], r["change"]) for r in data] == [
        ("A-1", "高齢福祉課", "2", "4", "changed"),  # "up" by R6's order alone
        ("A-1", "障がい福祉課", "3", "3", "same"),
        ("B-1", "市民協働課", "1", "5", "changed"),
    ]
    assert result.stderr == (
        "[お知らせ] diff-scale-differs: 令和5年度と令和6年度では「事業評価」の評価基準が異なります"
        "（令和5年度は 1・2・3・4・5、令和6年度は 5・4・3・2・1）。上がった・下がったは判定せず、"
        "評価が変わった行は「変更」としています。\n"
    )


def test_the_same_scale_in_both_versions_ranks_as_before(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    root = _two_scales(tmp_path, run, S_TO_C, S_TO_C, R6_ROWS[:2], [("A-1", "高齢福祉課", "A"), R6_ROWS[1]])
    result = run("diff", "--year", "R6", "-w", root)
    out = _ok(result)
    assert "評価基準が異なります" not in out and result.stderr == ""
    assert "↓低下" in out and "変更" not in out
    assert ["区分", "上昇", "低下", "変化なし", "新規", "廃止"] in [line.split() for line in out.splitlines()]


# --- history ---------------------------------------------------------------------------------------


def test_history_says_it_once_for_each_pair_of_adjacent_years_whose_scales_differ(
    tmp_path: Path,
    run,  # type: ignore[no-untyped-def]
) -> None:
    r4 = [("A-1", "高齢福祉課", "B"), ("A-3", "危機管理室", "D")]
    root = _two_scales(tmp_path, run, A_TO_D, S_TO_C, R5_ROWS, R6_ROWS, r4=r4)
    result = run("history", "--no", "A-3", "-w", root)
    lines = _ok(result).splitlines()
    assert lines[:3] == ["事業評価の推移 令和4年度～令和6年度（4 行）", "", HISTORY_NOTICE]
    assert lines[6:8] == [
        "A-3     避難支援プランの作成  危機管理室    D          D          C",
        "A-3     避難支援プランの作成  高齢福祉課               C          A",
    ]
    assert "令和4年度と令和5年度" not in result.stdout  # the same scale: nothing to say
    data = json.loads(_ok(run("history", "--no", "A-3", "-f", "json", "-w", root)))
    assert data[0]["ratings"] == {"R4": "D", "R5": "D", "R6": "C"}
    result = run("history", "-f", "csv", "-w", root)
    assert result.stderr == f"[お知らせ] diff-scale-differs: {HISTORY_NOTICE}\n"


# --- numbers whose unit changed ----------------------------------------------------------------------


def _change_unit(ws: Workspace, no: str, unit: str) -> None:
    """A plan version from R6 in which row ``no`` counts in ``unit``."""
    path = ws.config.plan_file
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["事業No"] == no:
            row["単位"] = unit
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


UNIT_NOTICE = (
    "「実績値」の単位が令和5年度と令和6年度で異なる行があります（事業No.4 人 → 回）。"
    "その行は増減と改善・悪化を判定せず「変更」としています。"
)


def test_a_number_whose_unit_changed_is_changed_without_a_delta(indicator: Workspace, run) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _change_unit(indicator, "4", "回")
    _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", indicator.root))
    result = run("diff", "--year", "R6", "--column", "actual", "-f", "json", "-w", indicator.root)
    data = json.loads(_ok(result))
    assert data[-1] == {
        "no": "4", "project": "離乳食教室", "department": "健康推進課", "before": 90, "after": 90,
        "change": "changed", "delta": None,
    }  # fmt: skip
    assert result.stderr == f"[お知らせ] diff-unit-differs: {UNIT_NOTICE}\n"
    result = run("diff", "--year", "R6", "--column", "actual", "-f", "csv", "-w", indicator.root)
    assert (
        _ok(result).splitlines()[-1] == "1,安心して子育てできるまち,4,離乳食教室,健康推進課,90人,90回,,変更"
    )
    table = _ok(run("diff", "--year", "R6", "--column", "actual", "-w", indicator.root))
    assert table.count(UNIT_NOTICE) == 1
    history = run("history", "--column", "actual", "--no", "4", "-w", indicator.root)
    assert _ok(history).splitlines()[2] == (
        "「実績値」の単位が令和5年度と令和6年度で異なる行があります（事業No.4 人 → 回）。"
        "値はそれぞれの年度の単位で示しています。"
    )
    assert history.stdout.splitlines()[-1].endswith("90人       90回")
    # The other rows kept their unit: ranked and counted as before.
    assert [(r["no"], r["change"]) for r in data[:-1]] == [("1", "down"), ("2", "up"), ("3", "up")]


def _table(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_a_rating_column_other_than_the_default_follows_the_same_rule(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The two-stage city's secretariat scale a/b/c becomes s/a/b/c for R6."""
    from hyoka.workspace import init_workspace

    root = init_workspace(tmp_path / "two_stage", None, sample=True, sample_name="two_stage").root
    for year, second in ((R5, "b"), (R6, "a")):
        if year == R6:
            config = root / "hyoka.toml"
            text = config.read_text(encoding="utf-8")
            start, end = text.index("[scales.second]"), text.index("\n[sheet]\n")
            levels = "".join(f'\n[[scales.second.levels]]\ncode = "{c}"\nlabel = "{c}"\n' for c in "sabc")
            config.write_text(f"{text[:start]}[scales.second]\n{levels}\n{text[end:]}", encoding="utf-8")
            _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", root))
        work = f"取組内容と成果（{year.label()}）"
        own = _table(
            tmp_path / f"d{year.short}.csv",
            [["事業No", "担当課", "自己評価", work], ["1", "地域福祉課", "3", "x"]],
        )
        theirs = _table(
            tmp_path / f"s{year.short}.csv", [["事業No", "担当課", "二次評価"], ["1", "地域福祉課", second]]
        )
        for table in (own, theirs):
            assert run("import", table, "--year", year.short, "-w", root).exit_code == 0
    result = run("diff", "--year", "R6", "--column", "second_rating", "-f", "json", "-w", root)
    data = json.loads(_ok(result))
    assert [(r["no"], r["before"], r["after"], r["change"]) for r in data] == [("1", "b", "a", "changed")]
    assert result.stderr == (
        "[お知らせ] diff-scale-differs: 令和5年度と令和6年度では「二次評価」の評価基準が異なります"
        "（令和5年度は a・b・c、令和6年度は s・a・b・c）。上がった・下がったは判定せず、"
        "評価が変わった行は「変更」としています。\n"
    )


# --- the web pages -----------------------------------------------------------------------------------


def test_the_web_pages_show_the_notice_and_offer_the_changed_rows(midori_rescaled: Path) -> None:
    from lxml import html as lxml_html

    from tests.test_web import _client

    client, _guard = _client(Workspace.load(midori_rescaled))
    with client:
        page = lxml_html.fromstring(client.get("/diff?year=R6").text)
        assert [p.text_content() for p in page.xpath("//p[@role='note']")] == [NOTICE]
        options = page.xpath("//select[@id='change']/option")
        assert ("changed", "変更") in [(o.get("value"), o.text) for o in options]
        rows = page.xpath("//table[@class='grid']")[0].xpath(".//tbody/tr")
        assert [[td.text_content() for td in r.xpath("./td")][-3:] for r in rows] == [
            ["A", "S", "変更"],
            ["D", "C", "変更"],
            ["C", "A", "変更"],
            ["B", "C", "変更"],
        ]
        only = lxml_html.fromstring(client.get("/diff?year=R6&change=changed").text)
        assert len(only.xpath("//table[@class='grid']")[0].xpath(".//tbody/tr")) == 4
        history = lxml_html.fromstring(client.get("/history").text)
        assert [p.text_content() for p in history.xpath("//p[@role='note']")] == [HISTORY_NOTICE]
