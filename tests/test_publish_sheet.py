"""hyoka publish for a workspace with its own sheet definition: the invented sample cities' R5 (their
filled forms, sample_data/<city>/returned/, collected), the page, the text and the open data read back."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from hyoka.collect import collect, import_table
from hyoka.publish import make_publication
from hyoka.publish.sheet import sheet_fields
from hyoka.results import load_year
from hyoka.sheet import NumberType
from hyoka.store import Part
from hyoka.workspace import Workspace, init_workspace
from hyoka.years import FiscalYear
from tests.browser import axe_violations, chromium, screenshot
from tests.conftest import ROOT, read_csv

R4, R5 = FiscalYear(2022), FiscalYear(2023)
CITIES = ROOT / "sample_data"
# Last year's ratings of the indicator city (No.4 is new in R5: none).
R4_RATINGS = {"1": "C", "2": "B", "3": "A", "5": "B", "6": "B", "7": "A", "8": "C"}


def _city(base: Path, name: str) -> Workspace:
    ws = init_workspace(base / name, None, sample=True, sample_name=name)
    result = collect(ws, [CITIES / name / "returned"], R5)
    assert result.ok and {f.status for f in result.files} == {"accepted"}, result.to_dict()
    return ws


def _publish(ws: Workspace, out: Path) -> dict[str, Path]:
    result = make_publication(ws, R5, out_dir=out, to_pdf=False)
    return {p.suffix: p for p in result.files}


@pytest.fixture(scope="module")
def indicator(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Path]]:
    base = tmp_path_factory.mktemp("indicator")
    ws = _city(base, "indicator")
    parts = [
        Part(r.project_no, r.department, s, R4_RATINGS[r.project_no], "", "継続")
        for r in ws.plan.rows
        if r.project_no in R4_RATINGS
        for s in r.submitters
    ]
    with ws.store() as store:
        store.add_submission(
            year=R4,
            submitter="",
            kind="import",
            file_name="r4.csv",
            file_path="r4.csv",
            sha256="r4",
            parts=parts,
            replace_rows=True,
        )
    return ws, _publish(ws, base / "pub")


@pytest.fixture(scope="module")
def two_stage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Path]]:
    base = tmp_path_factory.mktemp("two_stage")
    ws = _city(base, "two_stage")
    # The second stage is required (二次評価): a final publication waits for the secretariat's input.
    second = import_table(ws, CITIES / "two_stage" / "secretariat_R5.csv", R5)
    assert second.ok and [f.status for f in second.files] == ["accepted"], second.to_dict()
    return ws, _publish(ws, base / "pub")


def _doc(page: Path) -> Any:
    return lxml_html.fromstring(page.read_bytes())


def _lines(el: Any) -> str:
    """A cell's text, its paragraphs and <br> line breaks as \\n."""
    paras = el.xpath("./p")
    if paras:
        return "\n".join(p.text_content() for p in paras)
    return "\n".join(t for t in el.xpath("./text()"))


def _cells(page: Path, row_headers: int) -> list[dict[str, str]]:
    """Every data cell of the evaluation tables with what its headers announce, as a reader would: its
    column (one th scope=col) and the ``row_headers`` row headers over it (level, project, department)."""
    out = []
    for table in _doc(page).xpath("//table[contains(@class, 'evaluation')]"):
        headers = {th.get("id"): th for th in table.xpath(".//th[@id]")}
        for td in table.xpath(".//tbody//td"):
            ids = td.get("headers", "").split()
            assert ids and all(i in headers for i in ids), lxml_html.tostring(td)[:120]
            named = [headers[i] for i in ids]
            column = [th for th in named if th.get("scope") == "col"]
            rows = [th for th in named if th.get("scope") != "col"]
            assert len(column) == 1 and len(rows) == row_headers, lxml_html.tostring(td)[:120]
            # Each row header is described by its own column's heading, then the headers over it.
            for th in rows:
                first = headers[th.get("headers").split()[0]]
                assert first.get("scope") == "col"
            out.append(
                {
                    "column": column[0].text_content(),
                    "rows": [_lines(th) for th in rows],
                    "text": _lines(td),
                    "class": td.get("class", ""),
                }
            )
    return out


def _by_row(cells: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    """(事業No, 担当課 as the plan writes it) → {column heading: cell text}."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for cell in cells:
        no = re.search(r"事業No\.([^】]+)】", cell["rows"][1])
        assert no is not None, cell
        out.setdefault((no.group(1), "・".join(cell["rows"][2].split("\n"))), {})[cell["column"]] = cell[
            "text"
        ]
    return out


def _text_rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """The text version read back: each ○ project, ・担当課 and its 「heading：value」 lines (a text's
    paragraphs on the lines below its heading)."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    no = ""
    current: dict[str, str] = {}
    heading = ""
    for line in path.read_bytes().decode("utf-8-sig").split("\r\n"):
        if line.startswith("○ "):
            m = re.search(r"事業No\.([^】]+)】", line)
            assert m is not None
            no = m.group(1)
        elif line.startswith("　・担当課："):
            current = rows.setdefault((no, line.removeprefix("　・担当課：")), {})
        elif line.startswith("　　　") and heading:
            current[heading] = (current[heading] + "\n" if current[heading] else "") + line[3:]
        elif line.startswith("　　") and "：" in line:
            heading, value = line[2:].split("：", 1)
            current[heading] = value
        elif not line.startswith("　"):
            heading = ""
    return rows


def _entries(city: str) -> dict[tuple[str, str], list[dict[str, str]]]:
    """(事業No, 担当課) → the parts the departments sent (a joint row's parts apart)."""
    out: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in read_csv(CITIES / city / "entries_R5.csv"):
        out.setdefault((r["事業No"], r["担当課"]), []).append(r)
    return out


def _number(text: str) -> int | None:
    digits = re.sub(r"[^0-9.]", "", text)
    return int(digits) if digits else None


# The indicator city's 達成率 (computed by the sheet: actual / target, target / actual where lower is
# better) and its joint row's 実績値 (the two departments' 500 + 380).
RATES = {"1": 125.0, "2": 95.8, "3": 97.8, "4": 60.0, "5": 102.5, "6": 70.0, "7": 104.0, "8": None}


def _indicator_expected() -> dict[tuple[str, str], dict[str, Any]]:
    plan = {(r["事業No"], r["担当課"]): r for r in read_csv(CITIES / "indicator" / "plan.csv")}
    out = {}
    for key, parts in _entries("indicator").items():
        actuals = [_number(p["実績値"]) for p in parts]
        p = plan[key]
        out[key] = {
            "indicator": p["指標"],
            "unit": p["単位"],
            "direction": p["方向"],
            "target": int(p["目標値(R5)"]),
            "status": parts[0]["実施状況"],
            "actual": None if None in actuals else sum(a for a in actuals if a is not None),
            "rate": RATES[key[0]],
            "rating": parts[0]["評価"],
            "reason": parts[0]["評価理由"] or None,
            "outlook": parts[0]["今後の方向性"],
            "prior_rating": R4_RATINGS.get(key[0]),
            "prior_actual": None,
        }
    return out


# --- the indicator city (two levels, numbers) ------------------------------------------------------------


def test_indicator_page_headings_columns_legend_and_summary_follow_the_sheet(
    indicator: tuple[Workspace, dict[str, Path]],
) -> None:
    _ws, files = indicator
    doc = _doc(files[".html"])
    assert [h.text_content() for h in doc.xpath("//main/h2")] == [
        "評価の区分",
        "評価の集計",
        "基本目標1　安心して子育てできるまち",
        "基本目標2　地域で支え合うまち",
    ]
    # Two levels: the 施策 is the table's row header, not a heading; one table per 基本目標.
    tables = doc.xpath("//table[contains(@class, 'evaluation')]")
    assert [t.findtext("caption") for t in tables] == [
        "基本目標1　安心して子育てできるまちの事業と評価",
        "基本目標2　地域で支え合うまちの事業と評価",
    ]
    heads = ["".join(th.xpath("./text()")) for th in tables[0].xpath("./thead//th")]
    assert heads == [
        "施策", "事業", "担当課", "指標", "単位", "目標値(R5)", "実績値", "達成率", "評価", "評価理由",
        "今後の方向性", "前年度評価", "前年度実績値",
    ]  # fmt: skip
    measures = tables[0].xpath("./tbody//th[contains(@id, '-measure')]")
    assert [(th.text_content(), th.get("rowspan")) for th in measures] == [
        ("1-1 子育て支援の充実", "2"),
        ("1-2 親子の健康づくり", "2"),
    ]
    # The legend of the sheet's scale, with its note.
    assert [dt.text_content() for dt in doc.xpath("//dl[@class='legend']/dt")] == ["A", "B", "C", "D"]
    assert "※達成率から提案される評価と異なる評価にする場合は、評価理由を記入してください。" in [
        p.text_content() for p in doc.xpath("//main/p")
    ]
    # The summary as 資料1's: counts of 評価 this year and last, the mean 達成率, by 基本目標.
    summaries = {
        t.findtext("caption"): [[c.text_content() for c in tr] for tr in t.xpath(".//tr")]
        for t in doc.xpath("//table[@class='counts']")
    }
    assert summaries == {
        # A row without a rating (last year's new project) counts apart, headed as in 資料1.
        "令和5年度の評価の件数（基本目標別）": [
            ["基本目標", "A", "B", "C", "D", "未提出", "計"],
            ["1　安心して子育てできるまち", "1", "3", "0", "0", "0", "4"],
            ["2　地域で支え合うまち", "2", "0", "1", "1", "0", "4"],
            ["合計", "3", "3", "1", "1", "0", "8"],
        ],
        "令和4年度の評価の件数（基本目標別）": [
            ["基本目標", "A", "B", "C", "D", "未提出", "計"],
            ["1　安心して子育てできるまち", "1", "1", "1", "0", "1", "4"],
            ["2　地域で支え合うまち", "1", "2", "1", "0", "0", "4"],
            ["合計", "2", "3", "2", "0", "1", "8"],
        ],
        "令和5年度の達成率の平均（基本目標別）": [
            ["基本目標", "平均", "値のある行／行数"],
            ["1　安心して子育てできるまち", "94.7%", "4/4"],
            ["2　地域で支え合うまち", "92.2%", "3/4"],
            ["合計", "93.6%", "7/8"],
        ],
    }
    assert list(summaries)[-1] == "令和5年度の達成率の平均（基本目標別）"  # as 資料1: the counts first


def test_every_data_cell_of_the_two_level_table_is_announced_with_its_headers(
    indicator: tuple[Workspace, dict[str, Path]],
) -> None:
    _ws, files = indicator
    cells = _cells(files[".html"], row_headers=3)
    assert len(cells) == 8 * 10  # eight rows, ten data columns each
    assert cells[0] == {
        "column": "指標",
        "rows": ["1-1 子育て支援の充実", "①【事業No.1】保育所の整備", "保育課"],
        "text": "待機児童数",
        "class": "a-left",
    }
    # The second row of a merged 施策 is still announced with it.
    assert cells[10]["rows"] == ["1-1 子育て支援の充実", "②【事業No.2】子育て相談の実施", "子育て支援課"]
    numbers = {c["column"] for c in cells if "a-right" in c["class"]}
    assert numbers == {"目標値(R5)", "実績値", "達成率", "前年度実績値"}
    assert {c["column"] for c in cells if "code" in c["class"]} == {"評価", "前年度評価"}


def test_indicator_page_and_text_hold_every_row_with_its_values_as_the_report_formats_them(
    indicator: tuple[Workspace, dict[str, Path]],
) -> None:
    ws, files = indicator
    sheet = ws.sheet_for(R5)

    def number(key: str, value: int) -> str:  # as the report prints it: separators, the sheet's decimals
        t = sheet.column(key).type
        assert isinstance(t, NumberType)
        return f"{value:,.{t.decimals}f}"

    page = _by_row(_cells(files[".html"], row_headers=3))
    text = _text_rows(files[".txt"])
    expected = _indicator_expected()
    assert set(page) == set(text) == set(expected)
    for key, want in expected.items():
        shown = {
            "指標": want["indicator"],
            "単位": want["unit"],
            "目標値(R5)": number("target", want["target"]) + want["unit"],
            "実績値": number("actual", want["actual"]) + want["unit"] if want["actual"] is not None else "",
            "達成率": f"{want['rate']:.1f}%" if want["rate"] is not None else "",
            # No.4 is rated B with a reason against its proposal C (60.0%): 資料1 notes the proposal.
            "評価": want["rating"] + ("\n提案C" if key == ("4", "健康推進課") else ""),
            "評価理由": want["reason"] or "",
            "今後の方向性": want["outlook"],
            "前年度評価": want["prior_rating"] or "—",
            "前年度実績値": "—",
        }
        assert page[key] == shown, key
        # The text version writes the rating and its note on one line: 「評価：B　提案C」.
        in_text = {
            k: (v.replace("\n", "　") if k == "評価" else v) or "（記載なし）" for k, v in shown.items()
        }
        assert text[key] == in_text, key
    assert page[("2", "子育て支援課")]["実績値"] == number("actual", 1150) + "件"
    assert number("actual", 1150).startswith("1,150")  # thousands separator
    raw = files[".txt"].read_bytes().decode("utf-8-sig")
    assert "\r\n■ 基本目標1　安心して子育てできるまち\r\n\r\n◆ 施策1-1　子育て支援の充実\r\n" in raw
    assert "\r\n■ 評価の基準（評価）\r\n　A：目標を達成した（達成率100%以上）。\r\n" in raw
    assert "\r\n　　1　安心して子育てできるまち：平均 94.7%（値のある行／行数 4/4）\r\n" in raw


def test_indicator_open_data_has_the_levels_identity_and_every_exported_column_typed(
    indicator: tuple[Workspace, dict[str, Path]],
) -> None:
    ws, files = indicator
    with files[".csv"].open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        headings = reader.fieldnames
        lines = list(reader)
    assert headings == [
        "年度", "年度開始年", "基本目標No", "基本目標", "施策No", "施策", "事業No", "事業名", "新規", "担当課",
        "担当課（課ごと）", "指標", "単位", "方向", "目標値", "実施状況", "実績値", "達成率", "評価", "評価理由",
        "今後の方向性", "前年度評価", "前年度実績値", "前年度",
    ]  # fmt: skip
    data = json.loads(files[".json"].read_text(encoding="utf-8"))
    fields = sheet_fields(ws.sheet_for(R5))
    assert [f["heading"] for f in data["fields"]] == headings == [f.heading for f in fields]
    assert [f["key"] for f in data["fields"]][:6] == [
        "fiscal_year", "fiscal_year_start", "level1_no", "level1", "level2_no", "level2",
    ]  # fmt: skip
    assert data["scales"][0]["levels"][0] == {
        "code": "A",
        "description": "目標を達成した（達成率100%以上）。",
    }
    records = data["records"]
    expected = _indicator_expected()
    assert len(records) == len(lines) == len(ws.plan.rows) == 8
    with ws.store() as store:
        now = load_year(store, ws.plan, R5)
    for row, rec, line in zip(ws.plan.rows, records, lines, strict=True):
        want = expected[row.key]
        assert (rec["project_no"], rec["department"]) == row.key
        assert rec["project"] == row.project_name and rec["is_new"] is row.is_new
        assert (rec["level1_no"], rec["level1"]) == row.path[0]
        assert (rec["level2_no"], rec["level2"]) == row.path[1]
        assert rec["departments"] == list(row.departments)
        assert rec["rating"] == now[row.key].rating  # what the store holds
        for key, value in want.items():
            assert rec[key] == value, (row.key, key)
            # Numbers as numbers (a whole number without its .0), codes and texts as strings, blank as null.
            kinds = (int, float) if isinstance(value, int | float) else (type(value),)
            assert isinstance(rec[key], kinds) and not isinstance(rec[key], bool), (row.key, key)
        assert line["実績値"] == ("" if want["actual"] is None else str(want["actual"]))
        assert line["目標値"] == str(want["target"]) and line["評価理由"] == (want["reason"] or "")
        assert line["新規"] == ("1" if row.is_new else "0")
        assert rec["fiscal_year"] == "令和5年度" and rec["prior_fiscal_year"] == "令和4年度"
    assert records[2]["actual"] == 880 and records[2]["departments"] == ["健康推進課", "子育て支援課"]


def test_indicator_page_passes_axe_and_fits_a_phone(indicator: tuple[Workspace, dict[str, Path]]) -> None:
    _ws, files = indicator
    url = files[".html"].as_uri()
    with chromium() as driver:
        driver.get(url + "#s1")
        assert [(v["id"], v["nodes"][0]["html"][:120]) for v in axe_violations(driver)] == []
        # On a desktop the table fits the page: no scrolling inside its region either.
        assert driver.execute_script(
            "const r = document.querySelector('table.sheet').parentElement;"
            "return r.scrollWidth <= r.clientWidth"
        )
        screenshot(driver, "publish_indicator_desktop", full_page=False)
    with chromium(width=500, height=900) as driver:
        driver.get(url + "#s2")
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        # Stacked, each row's cells one under the other: nothing scrolls sideways inside the tables either.
        assert driver.execute_script(
            "return [...document.querySelectorAll('table.sheet')]"
            ".every(t => t.parentElement.scrollWidth <= t.parentElement.clientWidth)"
        )
        assert axe_violations(driver) == []
        screenshot(driver, "publish_indicator_phone", full_page=False)


# --- the two-stage city (1–5 self rating, the secretariat's a/b/c) ---------------------------------------


def test_two_stage_page_text_and_open_data_hold_every_row(
    two_stage: tuple[Workspace, dict[str, Path]],
) -> None:
    ws, files = two_stage
    doc = _doc(files[".html"])
    assert [h.text_content() for h in doc.xpath("//main/h2")][2:] == [
        "基本方針1　誰もが参加できる地域づくり",
        "基本方針2　相談支援体制の充実",
    ]
    assert [h.text_content() for h in doc.xpath("//main/h3[starts-with(@id, 'legend')]")] == [
        "評価の基準（自己評価）",
        "評価の基準（二次評価）",
    ]
    assert [dt.text_content() for dt in doc.xpath("//dl[@class='legend']/dt")] == list("54321abc")
    captions = [t.findtext("caption") for t in doc.xpath("//table[@class='counts']")]
    assert captions == ["令和5年度の自己評価の件数（基本方針別）", "令和5年度の二次評価の件数（基本方針別）"]
    page = _by_row(_cells(files[".html"], row_headers=3))
    text = _text_rows(files[".txt"])
    secretariat = {
        (r["事業No"], r["担当課"]): r for r in read_csv(CITIES / "two_stage" / "secretariat_R5.csv")
    }
    records = {
        (r["project_no"], r["department"]): r
        for r in json.loads(files[".json"].read_text(encoding="utf-8"))["records"]
    }
    entries = _entries("two_stage")
    assert set(page) == set(text) == set(records) == set(entries) == {r.key for r in ws.plan.rows}
    for key, parts in entries.items():
        work = "\n".join(p["取組内容と成果"] for p in parts)
        issues = "\n".join(p["課題"] for p in parts if p["課題"])
        assert page[key]["自己評価"] == text[key]["自己評価"] == parts[0]["自己評価"], key
        assert page[key]["取組内容と成果(令和5年度)"] == text[key]["取組内容と成果(令和5年度)"] == work, key
        assert page[key]["課題"] == issues and text[key]["課題"] == (issues or "（記載なし）"), key
        assert page[key]["前年度自己評価"] == "—", key
        rec = records[key]
        assert rec["self_rating"] == parts[0]["自己評価"] and rec["work"] == work, key
        assert rec["issues"] == (issues or None) and rec["prior_self"] is None, key
        # The second stage: the secretariat's values, as imported.
        second = rec["second_rating"]
        assert second == secretariat[key]["二次評価"], key
        assert page[key]["二次評価"] == second, key
        assert rec["comment"] == (secretariat[key]["事務局コメント"] or None), key
    raw = files[".txt"].read_bytes().decode("utf-8-sig")
    assert "\r\n■ 基本方針2　相談支援体制の充実\r\n\r\n◆ 取組①　総合相談の推進\r\n" in raw
    assert "\r\n■ 評価の基準（二次評価）\r\n　a：計画どおり順調に進んでいる。\r\n" in raw


# --- a sheet of three levels ----------------------------------------------------------------------------


def _section(heading: Any) -> bool:
    return re.fullmatch(r"s\d+", heading.get("id", "")) is not None


def test_three_levels_give_h2_h3_and_a_table_under_each_innermost_heading(tmp_path: Path) -> None:
    """The two-stage city with an unnumbered 分野 above its levels and 基本方針 printed as (1)."""
    ws_dir = tmp_path / "three"
    ws_dir.mkdir()
    for name in ("hyoka.toml", "plan.csv"):  # the store (and its plan version) comes after the change
        shutil.copy2(CITIES / "two_stage" / name, ws_dir / name)
    config = (ws_dir / "hyoka.toml").read_text(encoding="utf-8")
    first = config.index("[[sheet.levels]]")
    config = config[:first] + '[[sheet.levels]]\nname = "分野"\n\n' + config[first:]
    config = config.replace(
        'name = "基本方針"\nnumbered = true\nnumber_format = "1"',
        'name = "基本方針"\nnumbered = true\nnumber_format = "(1)"',
    )
    (ws_dir / "hyoka.toml").write_text(config, encoding="utf-8")
    plan = read_csv(ws_dir / "plan.csv")
    with (ws_dir / "plan.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, ["分野", *plan[0]])
        writer.writeheader()
        for row in plan:
            writer.writerow({"分野": "地域" if row["基本方針No"] == "1" else "相談", **row})
    ws = Workspace.load(ws_dir)
    files = {
        p.suffix: p
        for p in make_publication(ws, R5, out_dir=tmp_path / "pub", to_pdf=False, draft=True).files
    }
    doc = _doc(files[".html"])
    outline = [(h.tag, h.text_content()) for h in doc.xpath("//main/*[self::h2 or self::h3]") if _section(h)]
    assert outline == [
        ("h2", "地域"),
        ("h3", "基本方針(1)　誰もが参加できる地域づくり"),
        ("h2", "相談"),
        ("h3", "基本方針(2)　相談支援体制の充実"),
    ]
    # Each table right after its innermost heading, captioned with it.
    for h3 in (h for h in doc.xpath("//main/h3") if _section(h)):
        region = h3.getnext()
        assert region.get("class") == "scroll"
        assert region.find("table/caption").text == f"{h3.text_content()}の事業と評価"
    cells = _cells(files[".html"], row_headers=3)
    assert len(cells) == 7 * 6  # seven rows, six data columns each
    assert cells[0]["rows"] == ["① 交流の場づくり", "①【事業No.1】多世代交流イベントの開催", "地域福祉課"]
    assert cells[0]["column"] == "自己評価" and cells[0]["text"] == "未提出"
    raw = files[".txt"].read_bytes().decode("utf-8-sig")
    assert (
        "\r\n■ 地域\r\n\r\n◆ 基本方針(1)　誰もが参加できる地域づくり\r\n\r\n● 取組①　交流の場づくり\r\n"
        in raw
    )
    assert [f.heading for f in sheet_fields(ws.sheet_for(R5))][2:7] == [
        "分野",
        "基本方針No",
        "基本方針",
        "取組No",
        "取組",
    ]


def test_a_year_without_its_meeting_says_the_date_is_today_and_the_text_has_no_double_gaps(
    two_stage: tuple[Workspace, dict[str, Path]], tmp_path: Path
) -> None:
    ws, files = two_stage
    result = make_publication(ws, R5, out_dir=tmp_path / "pub", to_pdf=False, today=date(2024, 8, 19))
    assert result.notices == [
        "令和5年度を報告する会議が hyoka.toml にないため、日付は今日の日付（令和6年8月）です。"
        "会議の日付にするには hyoka.toml に [[meetings]] を設定し、その会議を指定して作成してください。"
    ]
    text = files[".txt"].read_bytes().decode("utf-8-sig")  # CRLF as written
    # One empty line between the summaries and the first level, never two.
    assert "（計 7件）\r\n\r\n■ 基本方針1" in text and "\r\n\r\n\r\n" not in text


def test_two_stage_page_passes_axe_and_fits_a_phone(two_stage: tuple[Workspace, dict[str, Path]]) -> None:
    _ws, files = two_stage
    url = files[".html"].as_uri()
    with chromium() as driver:
        driver.get(url)
        assert [(v["id"], v["nodes"][0]["html"][:120]) for v in axe_violations(driver)] == []
        screenshot(driver, "publish_two_stage_desktop", full_page=False)
    with chromium(width=500, height=900) as driver:
        driver.get(url + "#s1")
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        assert axe_violations(driver) == []
        screenshot(driver, "publish_two_stage_phone", full_page=False)


def test_the_csv_reads_back_in_a_spreadsheet_with_japanese_headings_and_numbers_as_numbers(
    indicator: tuple[Workspace, dict[str, Path]], tmp_path: Path
) -> None:
    import subprocess

    from openpyxl import load_workbook

    from hyoka.report.pdf import find_soffice

    soffice = find_soffice()
    if soffice is None:
        pytest.skip(
            "LibreOffice（soffice）がないため、CSVを表計算ソフトで開く検査を省略しました（.ci/run が入れます）"
        )
    _ws, files = indicator
    csv_path = tmp_path / "open.csv"
    shutil.copy(files[".csv"], csv_path)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--infilter=CSV:44,34,76,1",  # comma, double quote, UTF-8 (LibreOffice asks; Excel reads the BOM)
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(csv_path),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    sheet = load_workbook(tmp_path / "open.xlsx").active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:8] == (
        "年度",
        "年度開始年",
        "基本目標No",
        "基本目標",
        "施策No",
        "施策",
        "事業No",
        "事業名",
    )
    heads = list(rows[0])
    second = dict(zip(heads, rows[2], strict=True))
    assert second["年度"] == "令和5年度" and second["年度開始年"] == 2023
    assert (second["目標値"], second["実績値"], second["達成率"]) == (1200, 1150, 95.8)
    assert second["評価"] == "B" and second["担当課"] == "子育て支援課"


def test_a_draft_rows_disagreement_is_no_code_in_the_sheet_open_data(tmp_path: Path) -> None:
    ws = _city(tmp_path, "indicator")
    part = Part(
        "3",
        "健康推進課・子育て支援課",
        "子育て支援課",
        "C",
        "",
        "継続",
        other_values={"status": "実施", "actual": 380},
    )
    with ws.store() as store:
        store.add_submission(
            year=R5,
            submitter="子育て支援課",
            kind="import",
            file_name="x",
            file_path="x",
            sha256="x",
            parts=[part],
        )
    result = make_publication(ws, R5, out_dir=tmp_path / "pub", to_pdf=False, draft=True)
    # The new submission of 子育て支援課 holds row 3 only: its other row is missing now.
    assert result.notices[0] == "「案」として作成しました。未提出の行が 1 行、不一致の行が 1 行あります。"
    data = json.loads(next(p for p in result.files if p.suffix == ".json").read_text(encoding="utf-8"))
    [record] = [r for r in data["records"] if r["project_no"] == "3"]
    assert record["rating"] is None  # a rating field holds a code of its scale or null, never 「不一致」
    assert record["actual"] == 880
