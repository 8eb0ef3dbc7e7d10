"""hyoka diff and hyoka history: the core's verdicts, every format read back, and the CLI's exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from hyoka.diff import compare, history
from hyoka.export import Document, Sheet, display_width, render_table
from hyoka.problems import HyokaError
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.helpers import ratings, store_import

R4, R5, R6 = FiscalYear(2022), FiscalYear(2023), FiscalYear(2024)
JSON_KEYS = {"no", "project", "department", "before", "after", "change"}
DIFF_HEADINGS = ["基本目標No", "基本目標", "事業No", "事業名", "担当課", "令和4年度", "令和5年度", "変化"]

SAMPLE_CHANGES = [
    ("11", "地域福祉課", "B", "A", "up"),
    ("14", "地域福祉課", "B", "A", "up"),
    ("18", "自立生活支援課", "D", "A", "up"),
    ("23", "地域福祉課", "B", "A", "up"),
    ("24", "地域福祉課", "A", "B", "down"),
    ("41", "地域福祉課", "A", "B", "down"),
]


def _flat(records: list[dict[str, str | None]]) -> list[tuple[str | None, ...]]:
    return [(r["no"], r["department"], r["before"], r["after"], r["change"]) for r in records]


def _json(run, *args: str | Path) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == 0, result.output
    data: list[dict[str, object]] = json.loads(result.output)
    return data


def _store(ws: Workspace, year: FiscalYear, rows: list[tuple[str, str, str]]) -> None:
    store_import(ws, year, ratings(rows))


def _ratings(ws: Workspace, year: FiscalYear) -> dict[tuple[str, str], str]:
    from hyoka.results import ratings

    with ws.store() as store:
        return ratings(store, ws.plan, year)


def _rename_projects(ws: Workspace, names: dict[str, str]) -> None:
    """Give sample projects names a spreadsheet would take for formulas."""
    path = ws.config.plan_file
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["事業名"] = names.get(row["事業No"], row["事業名"])
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # Editing the plan file changes no adopted year: adopt it again for the years it governs.
    from hyoka.workspace import adopt_plan

    assert adopt_plan(ws, path, ws.lineage.versions[0].from_year).stored


FORMULA_NAMES = {"11": "=SUM(A1)", "14": "+81-3", "18": "@cmd", "23": "-1+2"}


# --- the sample (Koganei): R4 → R5 ---------------------------------------------------------------------


def test_sample_diff_lists_exactly_the_six_changes(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    records = _json(run, "diff", "--year", "R5", "--format", "json", "-w", sample_ws_loaded.root)
    assert all(set(r) == JSON_KEYS for r in records)
    assert _flat(records) == SAMPLE_CHANGES  # type: ignore[arg-type]
    assert records[0]["project"] == "権利擁護センターの運営（仮称）"


def test_all_includes_unchanged_rows(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    records = _json(run, "diff", "-y", "R5", "--all", "-f", "json", "-w", sample_ws_loaded.root)
    assert len(records) == 57
    assert sum(r["change"] == "same" for r in records) == 51
    assert [r for r in _flat(records) if r[4] != "same"] == SAMPLE_CHANGES  # type: ignore[arg-type]


def test_against_names_the_base_year_and_reverses_directions(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    records = _json(run, "diff", "-y", "R4", "--against", "R5", "-f", "json", "-w", sample_ws_loaded.root)
    flipped = {"up": "down", "down": "up"}
    assert _flat(records) == [(no, dep, a, b, flipped[c]) for no, dep, b, a, c in SAMPLE_CHANGES]  # type: ignore[arg-type]


def test_table_lists_changes_then_summary(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    result = run("diff", "--year", "R5", "-w", sample_ws_loaded.root)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.splitlines()[0] == "事業評価の比較 令和4年度 → 令和5年度（評価が変わった行 6 行）"
    # 事業No is a number (every 事業No of the plan is an integer): right-aligned like the counts.
    assert "    18  福祉マップの見直し" in out and "↑上昇" in out and "↓低下" in out
    assert out.index("↓低下") < out.index("【評価ごとの行数】") < out.index("【変化の内訳】")
    lines = out.splitlines()
    # Counts per rating, both years, overall and per 基本目標 (A B C D 計).
    assert [line.split()[-5:] for line in lines if line.startswith("全体")] == [
        ["27", "28", "0", "2", "57"],
        ["29", "27", "0", "1", "57"],
        ["4", "2", "51", "0", "0"],
    ]
    assert sum(line.startswith("基本目標") for line in lines) == 3 * 2 + 3


def test_terminal_table_aligns_double_width_text() -> None:
    doc = Document(
        "表題",
        (Sheet("s", ("No", "名前", "件数"), (("1", "ab", 3), ("10", "地域福祉課", 12))),),
        (),
    )
    assert render_table(doc).splitlines() == [
        "表題",
        "",
        "No  名前        件数",
        "--  ----------  ----",
        "1   ab             3",
        "10  地域福祉課    12",
    ]
    assert display_width("地域福祉課（仮称）A") == 19


def test_csv_has_bom_and_keeps_formula_like_text_as_text(
    sample_ws_loaded: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _rename_projects(sample_ws_loaded, FORMULA_NAMES)
    out = tmp_path / "diff.csv"
    result = run("diff", "--year", "R5", "--format", "csv", "--out", out, "-w", sample_ws_loaded.root)
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert rows[0] == DIFF_HEADINGS
    assert [(r[2], r[4], r[5], r[6]) for r in rows[1:]] == [c[:4] for c in SAMPLE_CHANGES]
    assert [r[3] for r in rows[1:5]] == ["'=SUM(A1)", "'+81-3", "'@cmd", "'-1+2"]
    assert rows[1][0:2] == ["1", "福祉のまちづくり"] and rows[1][7] == "↑上昇"
    # Written to a redirect or pipe (not a terminal: CliRunner's stdout), the same bytes as --out.
    shown = run("diff", "--year", "R5", "-f", "csv", "-w", sample_ws_loaded.root)
    assert shown.stdout_bytes == data


def test_xlsx_has_bold_filtered_frozen_header_and_no_formulas(
    sample_ws_loaded: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _rename_projects(sample_ws_loaded, FORMULA_NAMES)
    out = tmp_path / "diff.xlsx"  # the format follows the suffix
    result = run("diff", "--year", "R5", "--out", out, "-w", sample_ws_loaded.root)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["比較", "評価ごとの行数", "変化の内訳"]
    ws = wb["比較"]
    assert ws["A1"].value == "事業評価の比較 令和4年度 → 令和5年度（評価が変わった行 6 行）"
    assert [c.value for c in ws[2]] == DIFF_HEADINGS
    assert all(c.font.bold for c in ws[2])
    assert ws.auto_filter.ref == "A2:H8" and ws.freeze_panes == "A3"
    assert ws.column_dimensions["D"].width > 10
    assert [(str(r[2]), r[4], r[5], r[6]) for r in ws.iter_rows(min_row=3, values_only=True)] == [
        c[:4] for c in SAMPLE_CHANGES
    ]
    names = [ws.cell(row, 4) for row in range(3, 7)]
    assert [c.value for c in names] == list(FORMULA_NAMES.values())
    assert all(c.data_type == "s" for c in names)
    counts = wb["評価ごとの行数"]
    assert [c.value for c in counts[2]] == ["区分", "年度", "A", "B", "C", "D", "計"]
    assert [c.value for c in counts[3]] == ["全体", "令和4年度", 27, 28, 0, 2, 57]
    assert counts.auto_filter.ref == "A2:G10"
    wb.close()


def test_xlsx_without_out_goes_to_the_out_folder(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    result = run("diff", "--year", "R5", "-f", "xlsx", "-w", sample_ws_loaded.root)
    assert result.exit_code == 0, result.output
    path = sample_ws_loaded.root / "out" / "評価比較_R5_R4.xlsx"
    assert path.is_file() and str(path) in result.output


def test_markdown_has_tables(sample_ws_loaded: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "diff.md"
    result = run("diff", "--year", "R5", "-f", "md", "-o", out, "-w", sample_ws_loaded.root)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 事業評価の比較 令和4年度 → 令和5年度")
    assert (
        "| 事業No | 事業名 | 担当課 | 令和4年度 | 令和5年度 | 変化 |\n| ---: | --- | --- | --- | --- | --- |"
        in text
    )
    assert "| 18 | 福祉マップの見直し | 自立生活支援課 | D | A | ↑上昇 |" in text
    assert "| 全体 | 令和4年度 | 27 | 28 | 0 | 2 | 57 |" in text


def test_json_to_file_is_the_same_list(sample_ws_loaded: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "diff.json"
    assert run("diff", "--year", "R5", "-o", out, "-w", sample_ws_loaded.root).exit_code == 0
    assert _flat(json.loads(out.read_text(encoding="utf-8"))) == SAMPLE_CHANGES


# --- new and removed rows, another scale ------------------------------------------------------------------


def test_second_city_directions_follow_the_scale_not_the_alphabet(midori_ws: Workspace) -> None:
    plan, scale = midori_ws.plan, midori_ws.scale
    assert scale.codes == ["S", "A", "B", "C"]
    before = {("A-1", "高齢福祉課"): "A", ("A-1", "障がい福祉課"): "S", ("A-3", "危機管理室"): "C"}
    after = {("A-1", "高齢福祉課"): "S", ("A-1", "障がい福祉課"): "A", ("A-3", "危機管理室"): "B"}
    diff = compare(plan, scale, {R5: before, R6: after}, R6)
    assert [(r.no, r.department, r.before, r.after, r.change) for r in diff.rows] == [
        ("A-1", "高齢福祉課", "A", "S", "up"),
        ("A-1", "障がい福祉課", "S", "A", "down"),
        ("A-3", "危機管理室", "C", "B", "up"),
    ]
    assert diff.overall.after == {"S": 1, "A": 1, "B": 1, "C": 0}


def test_new_and_removed_rows(midori_ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    _store(
        midori_ws,
        R5,
        [
            ("A-1", "高齢福祉課", "A"),
            ("A-1", "障がい福祉課", "S"),
            ("A-3", "危機管理室", "B"),
            ("A-3", "高齢福祉課", "B"),  # still in the plan, not yet returned for R6: 未提出, not removed
            ("Z-9", "旧福祉課", "C"),  # a project the plan no longer has
        ],
    )
    _store(
        midori_ws,
        R6,
        [
            ("A-1", "高齢福祉課", "S"),
            ("A-1", "障がい福祉課", "A"),
            ("A-2", "市民協働課・福祉総務課", "B"),  # a 新規 project
            ("A-3", "危機管理室", "B"),
            ("B-1", "市民協働課", "C"),
        ],
    )
    records = _json(run, "diff", "--year", "R6", "-f", "json", "-w", midori_ws.root)
    assert all(set(r) == JSON_KEYS for r in records)
    assert _flat(records) == [  # type: ignore[arg-type]
        ("A-1", "高齢福祉課", "A", "S", "up"),
        ("A-1", "障がい福祉課", "S", "A", "down"),
        ("A-2", "市民協働課・福祉総務課", None, "B", "new"),
        ("B-1", "市民協働課", None, "C", "new"),
        ("Z-9", "旧福祉課", "C", None, "removed"),
    ]
    assert records[-1]["project"] == ""
    table = run("diff", "--year", "R6", "-w", midori_ws.root).output
    assert "計画にない事業" in table
    # Five plan rows have no R6 rating (A-3 ×3, B-2, B-3): counted apart, not compared.
    assert table.splitlines()[-1].startswith("未提出（令和6年度の評価がない行）: 5 行 — 比較していません。")
    assert "廃止」と表示" not in table
    counts = [line.split() for line in table.splitlines() if line.startswith("全体")]
    assert counts == [
        ["全体", "令和5年度", "1", "1", "2", "1", "5"],  # every R5 rating, A-3 高齢福祉課 (B) too
        ["全体", "令和6年度", "1", "1", "2", "1", "5"],
        ["全体", "1", "1", "1", "2", "1"],  # up, down, same, new, removed: the compared rows
    ]
    goal1 = [line.split()[-5:] for line in table.splitlines() if line.startswith("基本目標1 ")]
    assert goal1[0] == ["1", "1", "2", "0", "4"]  # R5: A-1 ×2 and A-3 ×2, one of them not compared


def test_partly_collected_year_counts_unsubmitted_rows_apart(
    sample_ws_loaded: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """R6 with 12 of the sample's 57 rows returned: the other 45 are 未提出, not 廃止."""
    r5 = list(history(sample_ws_loaded.plan, {R5: _ratings(sample_ws_loaded, R5)}).rows)
    returned = [(r.no, r.department, r.ratings[0] or "") for r in r5[:12]]
    returned[0] = (returned[0][0], returned[0][1], "C" if returned[0][2] != "C" else "B")
    _store(sample_ws_loaded, R6, returned)
    root = sample_ws_loaded.root
    line = "未提出（令和6年度の評価がない行）: 45 行 — 比較していません。"

    records = _json(run, "diff", "--year", "R6", "--all", "-f", "json", "-w", root)
    assert [(r["no"], r["department"]) for r in records] == [(no, dep) for no, dep, _ in returned]
    assert [r["change"] for r in records].count("same") == 11
    assert not {"removed", "new"} & {str(r["change"]) for r in records}
    assert len(_json(run, "diff", "--year", "R6", "-f", "json", "-w", root)) == 1

    table = run("diff", "--year", "R6", "-w", root)
    assert table.exit_code == 0, table.output
    assert line in table.output and "廃止" not in table.output.split("【変化の内訳】")[0]
    totals = [row.split()[-1] for row in table.output.splitlines() if row.startswith("全体 ")][:2]
    # Counts per rating for both years: every row rated in R5 (57), every row rated in R6 (12).
    assert totals == ["57", "12"]
    diff = compare(
        sample_ws_loaded.plan,
        sample_ws_loaded.scale,
        {R5: _ratings(sample_ws_loaded, R5), R6: _ratings(sample_ws_loaded, R6)},
        R6,
    )
    assert diff.overall.before == dict(Counter(_ratings(sample_ws_loaded, R5).values()), C=0)
    assert sum(diff.overall.changes.values()) == 12  # the changes: the compared rows only
    assert sum(sum(g.before.values()) for g in diff.goals) == 57

    md = tmp_path / "diff.md"
    assert run("diff", "--year", "R6", "-o", md, "-w", root).exit_code == 0
    assert line in md.read_text(encoding="utf-8")

    xlsx = tmp_path / "diff.xlsx"
    assert run("diff", "--year", "R6", "-o", xlsx, "-w", root).exit_code == 0
    wb = openpyxl.load_workbook(xlsx)
    summary = wb["変化の内訳"]
    assert summary.auto_filter.ref == f"A2:F{summary.max_row - 2}"  # the note is below the filtered rows
    assert str(summary.cell(summary.max_row, 1).value).startswith(line)
    assert summary.cell(3, 1).value == "全体" and summary.cell(3, 6).value == 0  # nothing 廃止
    wb.close()

    # A complete year has no such line.
    assert "未提出" not in run("diff", "--year", "R5", "-w", root).output


# --- history -------------------------------------------------------------------------------------------


def test_history_shows_years_side_by_side(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    records = _json(run, "history", "-f", "json", "-w", sample_ws_loaded.root)
    assert len(records) == 57
    assert [r["no"] for r in records[:3]] == ["1", "2", "3"]  # plan order
    assert next(r for r in records if r["no"] == "18") == {
        "no": "18",
        "project": "福祉マップの見直し",
        "department": "自立生活支援課",
        "ratings": {"R4": "D", "R5": "A"},
    }
    table = run("history", "--no", "18", "-w", sample_ws_loaded.root)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == "事業評価の推移 令和4年度～令和5年度（1 行）"
    assert lines[2].split() == ["事業No", "事業名", "担当課", "令和4年度", "令和5年度"]
    assert lines[4].split() == ["18", "福祉マップの見直し", "自立生活支援課", "D", "A"]
    assert len(lines) == 5


def test_history_filters_by_department_including_joint_rows(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    records = _json(run, "history", "--department", "広報秘書課", "-f", "json", "-w", sample_ws_loaded.root)
    assert ("9", "介護福祉課・広報秘書課") in [(r["no"], r["department"]) for r in records]
    assert all("広報秘書課" in str(r["department"]) for r in records)
    both = _json(
        run, "history", "--no", "9", "--department", "介護福祉課", "-f", "json", "-w", sample_ws_loaded.root
    )
    assert [r["ratings"] for r in both] == [{"R4": "A", "R5": "A"}]


def test_history_keeps_rows_not_yet_rated_and_orphans(midori_ws: Workspace) -> None:
    stored = {R5: {("A-1", "高齢福祉課"): "A", ("Z-9", "旧福祉課"): "C"}, R6: {("A-1", "高齢福祉課"): "S"}}
    result = history(midori_ws.plan, stored)
    assert result.years == (R5, R6)
    assert len(result.rows) == len(midori_ws.plan.rows) + 1
    assert result.rows[0].ratings == ("A", "S")
    assert result.rows[1].ratings == (None, None)
    assert (result.rows[-1].no, result.rows[-1].ratings) == ("Z-9", ("C", None))


def test_history_pivot_keeps_the_plan_rows_and_their_ratings(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    """The year-by-year table (a pandas pivot) holds exactly the stored ratings, row for row in plan order."""
    plan = sample_ws_loaded.plan
    stored = {fy: _ratings(sample_ws_loaded, fy) for fy in (R4, R5)}
    result = history(plan, stored)
    assert result.years == (R4, R5)
    assert [(r.no, r.department) for r in result.rows] == [r.key for r in plan.rows]
    assert [r.ratings for r in result.rows] == [
        (stored[R4].get(r.key), stored[R5].get(r.key)) for r in plan.rows
    ]
    assert all(isinstance(code, str) for r in result.rows for code in r.ratings)  # no NaN, no numpy types
    for i, expected in enumerate(({"A": 27, "B": 28, "D": 2}, {"A": 29, "B": 27, "D": 1})):
        assert Counter(r.ratings[i] for r in result.rows) == expected
    # The CLI's JSON carries the same rows and ratings.
    records = _json(run, "history", "-f", "json", "-w", sample_ws_loaded.root)
    assert [(r["no"], r["department"], r["ratings"]) for r in records] == [
        (r.no, r.department, {"R4": r.ratings[0], "R5": r.ratings[1]}) for r in result.rows
    ]
    # A year with no rating for a row and a filter keep the same alignment.
    partial = {R4: stored[R4], R5: {k: v for k, v in stored[R5].items() if k[0] != "18"}}
    only = history(plan, partial, no="18")
    assert [(r.no, r.department, r.ratings) for r in only.rows] == [("18", "自立生活支援課", ("D", None))]


def test_history_csv_and_xlsx(sample_ws_loaded: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv_out, xlsx_out = tmp_path / "h.csv", tmp_path / "h.xlsx"
    assert run("history", "--no", "18", "-o", csv_out, "-w", sample_ws_loaded.root).exit_code == 0
    assert run("history", "--no", "18", "-o", xlsx_out, "-w", sample_ws_loaded.root).exit_code == 0
    with csv_out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-2:] == ["令和4年度", "令和5年度"] and rows[1][2:] == [
        "18",
        "福祉マップの見直し",
        "自立生活支援課",
        "D",
        "A",
    ]
    wb = openpyxl.load_workbook(xlsx_out)
    ws = wb["推移"]
    assert [c.value for c in ws[2]] == [
        "基本目標No",
        "基本目標",
        "事業No",
        "事業名",
        "担当課",
        "令和4年度",
        "令和5年度",
    ]
    assert [c.value for c in ws[3]][2:] == [18, "福祉マップの見直し", "自立生活支援課", "D", "A"]
    assert ws.auto_filter.ref == "A2:G3"
    wb.close()


# --- failures and exit codes -----------------------------------------------------------------------------


def test_nothing_stored_is_a_clear_message(sample_ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    for args in (("diff", "--year", "R5"), ("history",)):
        result = run(*args, "-w", sample_ws.root)
        assert result.exit_code == 1
        assert "保存済みの評価がまだありません" in result.output and "Traceback" not in result.output


def test_year_without_data_names_the_years_with_data(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    for args in (("--year", "R4"), ("--year", "R6"), ("--year", "R5", "--against", "R2")):
        result = run("diff", *args, "-w", sample_ws_loaded.root)
        assert result.exit_code == 1, args
        assert "の評価は保存されていません" in result.output
        assert "保存済みの年度: 令和4年度（R4）、令和5年度（R5）" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("--year", "R99x"),
        ("--year", "R5", "--against", "昨年"),
        ("--year", "R5", "--against", "令和5年度"),
        ("--year", "R5", "--format", "pdf"),
        ("--year", "R5", "--format", "csv", "--out", "diff.xlsx"),
    ],
)
def test_usage_errors_exit_2(sample_ws_loaded: Workspace, run, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    result = run("diff", *args, "-w", sample_ws_loaded.root)
    assert result.exit_code == 2, result.output
    assert not (sample_ws_loaded.root / "diff.xlsx").exists()


def test_history_without_match_exits_1(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    result = run("history", "--no", "999", "-w", sample_ws_loaded.root)
    assert result.exit_code == 1 and "事業No.999" in result.output


def test_diff_modules_stay_out_of_start_up() -> None:
    code = (
        "import sys, hyoka.cli, hyoka.export; "
        "print(sorted(m for m in ('openpyxl', 'pandas') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_rating_outside_the_scale_is_named_not_guessed(midori_ws: Workspace) -> None:
    stored = {R5: {("A-1", "高齢福祉課"): "D"}, R6: {("A-1", "高齢福祉課"): "S"}}
    with pytest.raises(HyokaError, match=r"事業No.A-1（高齢福祉課）の評価「D」は評価基準（S・A・B・C）"):
        compare(midori_ws.plan, midori_ws.scale, stored, R6)


# --- exports a clerk prints and sorts (issue 9, item 2.15) ----------------------------------------------


def test_xlsx_prints_landscape_a4_fit_to_width_with_title_borders_and_repeated_header(
    sample_ws_loaded: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    for args, name in ((("diff", "--year", "R5", "--all"), "diff.xlsx"), (("history",), "history.xlsx")):
        out = tmp_path / name
        assert run(*args, "--out", out, "-w", sample_ws_loaded.root).exit_code == 0
        wb = openpyxl.load_workbook(out)
        for ws in wb.worksheets:
            assert ws["A1"].font.bold and ws["A1"].font.size == 14, (name, ws.title)
            assert ws.page_setup.orientation == "landscape"
            assert int(ws.page_setup.paperSize) == 9  # A4
            assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
            assert ws.sheet_properties.pageSetUpPr.fitToPage is True
            assert ws.print_title_rows == "$2:$2"  # the header row on every page
            table = ws[
                f"A2:{ws.cell(2, ws.max_column).column_letter}{ws.auto_filter.ref.rsplit(':', 1)[1][1:]}"
            ]
            assert all(
                c.border.left.style == "thin" and c.border.bottom.style == "thin"
                for row in table
                for c in row
            )
        wb.close()


def test_project_numbers_are_numbers_when_the_plan_has_only_integers(
    sample_ws_loaded: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "diff.xlsx"
    assert run("diff", "--year", "R5", "--all", "--out", out, "-w", sample_ws_loaded.root).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["比較"]
    goal_nos = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    nos = [ws.cell(r, 3).value for r in range(3, ws.max_row + 1)]
    wb.close()
    assert len(nos) == 57 and all(type(v) is int for v in nos + goal_nos)
    assert nos[:3] == [1, 2, 3] and 10 in nos  # numbers, so Excel sorts 2 before 10


def test_project_numbers_stay_text_when_the_plan_has_others(midori_ws: Workspace, tmp_path: Path) -> None:
    from hyoka.export import history_document, save

    stored = {R5: {("A-1", "高齢福祉課"): "A"}}
    doc = history_document(history(midori_ws.plan, stored), plan=midori_ws.plan)
    out = save(doc, "xlsx", tmp_path / "h.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb["推移"]
    assert (ws["A3"].value, ws["C3"].value, ws["F2"].value) == (
        1,
        "A-1",
        "令和5年度",
    )  # 基本目標No all integers
    assert ws["C3"].data_type == "s"
    wb.close()
    assert doc.records[0]["ratings"] == {"R5": "A"}  # JSON keys stay short


@pytest.mark.parametrize("cmd", [("diff", "--year", "R5"), ("history",)])
@pytest.mark.parametrize(
    ("out", "fmt"),
    [("diff.docx", None), ("diff", None), ("diff.pdf", "csv"), ("diff.xlsx", "md")],
)
def test_unknown_or_contradicting_suffix_is_refused(
    sample_ws_loaded: Workspace, run, tmp_path: Path, cmd: tuple[str, ...], out: str, fmt: str | None
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / out
    result = run(*cmd, "--out", target, *(("--format", fmt) if fmt else ()), "-w", sample_ws_loaded.root)
    assert result.exit_code == 2, result.output
    assert not target.exists()
    if out.endswith(".xlsx"):
        assert "出力形式 md と出力ファイルの拡張子「.xlsx」が合いません" in result.output
    else:
        what = f"拡張子「{Path(out).suffix}」" if Path(out).suffix else "拡張子のない名前"
        assert f"保存先 {out} の{what}では保存できません。" in result.output
        assert ".csv（csv）・.xlsx（xlsx）・.json（json）・.md（md）・.txt（table）" in result.output
