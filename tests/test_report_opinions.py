"""資料1 with the committee's opinions of the earlier meeting (issue 12, 3: [report] opinions,
opinion_counts, opinion_meetings): the Koganei R6 table shows the R6-1 meeting's (R5) opinions and
replies on the rows they became after the R6 plan's rename and renumbering; off by default."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from hyoka.opinions_io import collect_replies, import_opinions
from hyoka.problems import HyokaError
from hyoka.report.build import make_report
from hyoka.store import Part
from hyoka.workspace import ConfigError, Workspace
from hyoka.years import FiscalYear

from .conftest import SAMPLE, read_csv
from .test_report import _LABEL, GridCell, _check_pages, _pages, grid, needs_soffice

R6 = FiscalYear(2024)
TODAY = date(2025, 8, 1)
NAME = "進捗状況及び評価表_R6.docx"
RENAME = "地域安全課=防災危機管理課"
OPINION_37 = "2年続けて未実施（D）となっています。補助の仕組みを見直すのか、事業を終えるのか、方針を明らかにしてください。"


def _store_r6(ws: Workspace) -> None:
    parts = [
        Part(
            r["事業No"],
            r["担当課"],
            r["提出課"],
            r["事業評価"],
            r["事業実績・評価理由"],
            r["今後の事業計画・展望"],
        )
        for r in read_csv(SAMPLE / "entries_R6.csv")
    ]
    with ws.store() as store:
        store.add_submission(
            year=R6, submitter="", kind="import", file_name="entries_R6.csv", file_path="entries_R6.csv",
            sha256="r6", parts=parts, replace_rows=True,
        )  # fmt: skip


@pytest.fixture
def r6_ws(sample_ws_loaded: Workspace, run: Any) -> Workspace:
    """Koganei: R5 and its meeting R6-1's opinions with every reply, then the R6 plan (地域安全課
    renamed, No.37 renumbered 42) and the R6 entries."""
    ws = sample_ws_loaded
    assert import_opinions(ws, SAMPLE / "opinions" / "意見_R6-1.csv", "R6-1").ok
    assert collect_replies(ws, [SAMPLE / "replies" / "R6-1"], "R6-1").ok
    shutil.copy2(SAMPLE / "plan_R6.csv", ws.config.plan_file)
    result = run("plan", "adopt", "plan.csv", "--from", "R6", "--rename", RENAME, "-w", ws.root)
    assert result.exit_code == 0, result.output
    ws = Workspace.load(ws.root)
    _store_r6(ws)
    return ws


def with_settings(ws: Workspace, lines: str) -> Workspace:
    """The workspace with ``lines`` at the top of [report] (in place of any written before)."""
    path = ws.root / "hyoka.toml"
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("[report]\n")
    rest = rest[rest.index("font_mincho") :]
    path.write_text(f"{head}[report]\n{lines}\n{rest}", encoding="utf-8")
    return Workspace.load(ws.root)


def render(ws: Workspace, out: Path) -> Any:
    make_report(ws, R6, out_dir=out, today=TODAY)
    return Document(str(out / NAME))


def block_rows(doc: Any, policy: str) -> list[list[GridCell]]:
    for tbl in doc.tables:
        rows = grid(tbl._tbl)
        if len(rows) > 1 and len(rows[1]) > 1 and rows[1][1].text == policy:
            return rows
    raise AssertionError(policy)


def texts(row: list[GridCell]) -> list[str]:
    return [c.text for c in row]


def test_under_row_shows_the_r5_opinion_on_the_renumbered_row(r6_ws: Workspace, tmp_path: Path) -> None:
    ws = with_settings(r6_ws, 'opinions = "under_row"')
    rows = block_rows(render(ws, tmp_path), "地域活動の支援と人材の育成")
    at = next(i for i, r in enumerate(rows) if len(r) > 1 and r[1].text.startswith("③【事業No.42】"))
    assert texts(rows[at])[:3] == ["(2)", "③【事業No.42】\n地域福祉活動への補助（仮称）", "地域福祉課"]
    opinion = rows[at + 1]
    assert [c.span for c in opinion] == [4, 1, 2, 1]
    assert texts(opinion) == [
        "委員会からの意見\n令和6年度第1回（委員A）\n（当時の③【事業No.37】地域福祉活動への補助（仮称））",
        OPINION_37,
        "対応・\n市の考え方",
        "補助の対象となる活動の要件が実態に合っていないため、要件を見直したうえで令和7年度に再開するか、"
        "他の補助事業に統合するかを令和6年度中に判断し、委員会に報告します。",
    ]


def test_under_row_joint_replies_in_plan_order_and_level_opinions_atop_the_block(
    r6_ws: Workspace, tmp_path: Path
) -> None:
    ws = with_settings(r6_ws, 'opinions = "under_row"')
    doc = render(ws, tmp_path)
    rows = block_rows(doc, "災害に備える体制づくり")
    at = next(i for i, r in enumerate(rows) if r and r[0].text.startswith("委員会からの意見"))
    assert rows[at - 1][-1].text.startswith("昨年同様、保健所")  # under No.7's last department row (健康課)
    reply = rows[at][3].paras
    assert reply[0] == "【地域福祉課】" and "【健康課】" in reply
    assert reply.index("【地域福祉課】") < reply.index("【健康課】")
    # The 基本施策's opinion (routed to two departments) and the 基本目標's open the first block of goal 1.
    first = block_rows(doc, "福祉を支える基盤の整備")
    heads = [r[0].paras for r in first if r and r[0].text.startswith("委員会からの意見")]
    assert heads == [
        ["委員会からの意見", "令和6年度第1回（委員B）", "基本目標1 福祉のまちづくり"],
        ["委員会からの意見", "令和6年度第1回（委員C）", "基本施策 福祉を支える基盤の整備"],
    ]
    policy = next(r for r in first if r and r[0].text.endswith("基本施策 福祉を支える基盤の整備"))
    assert [p for p in policy[3].paras if p.startswith("【")] == ["【交通対策課】", "【自立生活支援課】"]


def test_column_layout_puts_the_opinion_beside_the_project(r6_ws: Workspace, tmp_path: Path) -> None:
    ws = with_settings(r6_ws, 'opinions = "column"')
    rows = block_rows(render(ws, tmp_path), "地域活動の支援と人材の育成")
    head = next(r for r in rows if r and r[0].text == "施策")
    assert len(head) == 8 and head[-1].text == "前年度の委員会意見\nと市の考え方"
    row = next(r for r in rows if len(r) > 1 and r[1].text.startswith("③【事業No.42】"))
    assert row[-1].paras[:3] == [
        "【令和6年度第1回（委員A）】",
        "（当時の③【事業No.37】地域福祉活動への補助（仮称））",
        OPINION_37,
    ]
    assert row[-1].paras[3] == "【対応・市の考え方】"
    assert not any(r and r[0].text.startswith("委員会からの意見") for r in rows)  # no row under it


def test_summary_counts_the_opinions_per_goal(r6_ws: Workspace, tmp_path: Path) -> None:
    ws = with_settings(r6_ws, "opinion_counts = true")
    doc = render(ws, tmp_path)
    count = grid(doc.tables[0]._tbl)
    assert count[0][-1].text == "委員会意見"
    assert [(r[0].text, r[-1].text) for r in count[2:]] == [
        ("1　福祉のまちづくり", "4"),
        ("2　包括的支援体制の構築", "1"),
        ("3　地域活動の活性化", "2"),  # No.37 (now 42) and the goal's own
        ("合計", "8"),  # with the one on the whole evaluation
    ]
    notes = [p.text for p in doc.paragraphs if p.text.startswith("※「委員会意見」")]
    assert notes == [
        "※「委員会意見」は、令和6年度第1回の委員会でいただいた意見の件数です（基本目標・基本施策・施策・事業への"
        "意見は、その基本目標に数えます）。評価全般への意見など 1 件は合計にのみ含みます。"
    ]
    # Counting alone does not put the opinions in the table.
    assert not any("委員会からの意見" in c.text for t in doc.tables for r in grid(t._tbl) for c in r)


def _body(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml")


def test_off_by_default_the_table_is_unchanged(r6_ws: Workspace, tmp_path: Path) -> None:
    make_report(r6_ws, R6, out_dir=tmp_path / "with", today=TODAY)
    with r6_ws.store() as store:  # the same workspace without any opinion
        store.conn.execute("DELETE FROM opinion_replies")
        store.conn.execute("DELETE FROM opinions")
        store.conn.execute("DELETE FROM opinion_files")
        store.conn.commit()
    make_report(r6_ws, R6, out_dir=tmp_path / "without", today=TODAY)
    assert _body(tmp_path / "with" / NAME) == _body(tmp_path / "without" / NAME)
    # On, with no opinions stored for the year before: the same table too.
    ws = with_settings(r6_ws, 'opinions = "under_row"\nopinion_counts = false')
    make_report(ws, R6, out_dir=tmp_path / "on", today=TODAY)
    assert _body(tmp_path / "on" / NAME) == _body(tmp_path / "without" / NAME)


def test_opinion_meetings_names_the_meetings(r6_ws: Workspace, tmp_path: Path) -> None:
    ws = with_settings(r6_ws, 'opinions = "under_row"\nopinion_meetings = ["R6-2"]')
    rows = block_rows(render(ws, tmp_path), "地域活動の支援と人材の育成")  # R6-2 has no opinions
    assert not any(r and r[0].text.startswith("委員会からの意見") for r in rows)
    ws = with_settings(r6_ws, 'opinions = "under_row"\nopinion_meetings = ["R9-9"]')
    with pytest.raises(HyokaError) as err:
        make_report(ws, R6, out_dir=tmp_path / "x", today=TODAY)
    assert str(err.value) == (
        "hyoka.toml の [report] opinion_meetings の会議「R9-9」は [[meetings]] にありません。設定済みの会議: R6-1、R6-2"
    )


def test_a_layout_hyoka_does_not_know_is_a_config_error(r6_ws: Workspace) -> None:
    path = r6_ws.root / "hyoka.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[report]\n", '[report]\nopinions = "below"\n', 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        Workspace.load(r6_ws.root)
    assert [(p.code, p.row) for p in err.value.problems] == [("config-wrong-type", 14)]
    assert "none か under_row か column" in err.value.problems[0].message


@pytest.mark.slow
@needs_soffice
@pytest.mark.parametrize(("layout", "most_pages"), [("under_row", 19), ("column", 23)])
def test_the_r6_table_with_opinions_through_libreoffice(
    r6_ws: Workspace, tmp_path: Path, layout: str, most_pages: int
) -> None:
    """Rendered as a reader sees it: pages filled and continued as without the opinions, and every
    project opinion on the page of its project (never alone at a page's top without naming it)."""
    ws = with_settings(r6_ws, f'opinions = "{layout}"\nopinion_counts = true')
    make_report(ws, R6, out_dir=tmp_path, today=TODAY)
    pages = _check_pages(tmp_path / NAME, tmp_path, min_fill=0.6)
    assert sum(1 for b, _ in pages if b) <= most_pages  # 17 without the opinions
    (written,) = tmp_path.glob("*.pdf")
    mark = "委員会からの意見" if layout == "under_row" else "市の考え方】"
    seen = 0
    for text in _pages(written):
        flat = " ".join(text.split())
        at = flat.find(mark)
        while at >= 0:
            seen += 1
            near = flat[max(0, at - 1500) : at + 400]
            level = "基本目標1 福祉" in near or "基本施策 福祉" in near or "基本目標3 地域" in near
            assert level or _LABEL.search(flat[:at]) or _LABEL.search(flat[at : at + 400]), flat[
                at - 200 : at + 200
            ]
            at = flat.find(mark, at + 1)
    assert seen == (7 if layout == "under_row" else 4)  # 4 on projects, 3 on levels (rows in both)


def test_the_shipped_configs_carry_the_settings_commented_and_they_pass_uncommented() -> None:
    import tomllib

    from hyoka.workspace import check_config, default_config

    for text in (default_config("plan.csv"), (SAMPLE / "hyoka.toml").read_text(encoding="utf-8")):
        on = text
        for key in ("opinions", "opinion_counts", "opinion_meetings"):
            assert f"\n# {key} = " in on
            on = on.replace(f"\n# {key} = ", f"\n{key} = ", 1)
        assert check_config(tomllib.loads(on), on) == []
        assert tomllib.loads(on)["report"] == {
            "font_mincho": "BIZ UD明朝",
            "font_gothic": "BIZ UDゴシック",
            "opinions": "under_row",
            "opinion_counts": True,
            "opinion_meetings": ["R6-1"],
        }


def test_a_workspace_with_its_own_sheet_shows_and_counts_them_too(tmp_path: Path) -> None:
    """The invented indicator city ([sheet], levels 基本目標 and 施策): the opinion on No.1 under its
    row, the 基本目標's atop its block, the counts per summary group on the summary page."""
    from hyoka.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", None, True, "indicator")
    path = ws.root / "hyoka.toml"
    text = path.read_text(encoding="utf-8").replace(
        "[report]\n", '[report]\nopinions = "under_row"\nopinion_counts = true\n', 1
    )
    path.write_text(
        text + '\n[[meetings]]\nid = "R6-1"\ndate = 2024-08-19\nreport_year = "R5"\n', encoding="utf-8"
    )
    ws = Workspace.load(ws.root)
    table = tmp_path / "意見.csv"
    table.write_text(
        "意見No,基本目標No,事業No,委員,意見\n1,,1,委員A,待機児童の解消の見通しを示してほしい。\n"
        "2,1,,委員B,子育て全体の評価を聞きたい。\n3,,,委員C,全体として良い。\n",
        encoding="utf-8",
    )
    assert import_opinions(ws, table, "R6-1").ok
    make_report(ws, R6, out_dir=tmp_path, draft=True, today=TODAY)
    doc = Document(str(tmp_path / "進捗状況及び評価表_R6_案.docx"))
    tables = [grid(t._tbl) for t in doc.tables]
    counts = next(t for t in tables if t[0][-1].text == "委員会意見")
    assert [(r[0].text, r[1].text) for r in counts[1:]] == [
        ("1　安心して子育てできるまち", "2"),
        ("2　地域で支え合うまち", "0"),
        ("合計", "3"),
    ]
    block = next(t for t in tables if t[0][0].text == "基本目標" and "安心して子育て" in t[0][1].text)
    ops = [(i, r) for i, r in enumerate(block) if r and r[0].text.startswith("委員会からの意見")]
    assert [r[0].paras for _, r in ops] == [
        ["委員会からの意見", "令和6年度第1回（委員B）", "基本目標1 安心して子育てできるまち"],
        ["委員会からの意見", "令和6年度第1回（委員A）"],
    ]
    (first, _), (second, on_no1) = ops
    heads = next(i for i, r in enumerate(block) if r and r[0].text == "施策")
    assert first == heads + 1  # the 基本目標's opinion right under the column heads
    assert "【事業No.1】" in block[second - 1][1].text  # under No.1's row
    assert on_no1[1].text == "待機児童の解消の見通しを示してほしい。"
    assert on_no1[2].paras == ["【対応・市の考え方】", "（保育課 未回答）"]
    assert sum(c.span for c in on_no1) == len(block[second - 1])
