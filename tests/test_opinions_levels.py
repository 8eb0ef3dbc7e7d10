"""Opinions for a city with its own sheet levels ([[sheet.levels]]): the invented two-stage city (かえで市:
基本方針 / 取組) and indicator city (ひかり市: 基本目標 / 施策). The subjects, the flat table's headings, the
member workbooks and the material follow the levels of the year's sheet; nothing of Koganei's shows."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from hyoka.collect import collect
from hyoka.opinions import LEVEL, Subject, SubjectIndex, find_level_subject
from hyoka.opinions_io import (
    H_OPINION_ID,
    H_REPLY,
    H_SUBJECT_ID,
    H_TEXT,
    collect_opinions,
    collect_replies,
    import_opinions,
    load_opinions,
    meeting_of,
    subject_index,
    table_headings,
    write_member_forms,
    write_reply_forms,
)
from hyoka.plan import Plan
from hyoka.report.opinions import render_opinions
from hyoka.report.templates import search_path
from hyoka.sheet import Level
from hyoka.workspace import Workspace, init_workspace
from hyoka.years import FiscalYear
from tests.conftest import ROOT

R5 = FiscalYear(2023)
CITIES = ROOT / "sample_data"
MEETING = """
[[meetings]]
id = "R6-1"
number = 1
date = 2024-08-19
time = "10:00"
place = "市役所 会議室"
report_year = "R5"
members = ["委員A", "委員B"]
"""
KOGANEI_WORDS = ("基本目標", "基本施策", "施策")


def _city(base: Path, name: str) -> Workspace:
    root = base / name
    init_workspace(root, None, sample=True, sample_name=name)
    with (root / "hyoka.toml").open("a", encoding="utf-8") as fh:
        fh.write(MEETING)
    ws = Workspace.load(root)
    result = collect(ws, [CITIES / name / "returned"], R5)
    assert result.ok, result.to_dict()
    return ws


@pytest.fixture
def kaede(tmp_path: Path) -> Workspace:
    return _city(tmp_path, "two_stage")


def write_table(path: Path, head: tuple[str, ...], *rows: list[str]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([list(head), *rows])
    return path


def codes(result: object) -> list[tuple[str, str | None]]:
    return [(p.code, p.cell) for f in result.files for p in f.problems]  # type: ignore[attr-defined]


def fill(path: Path, sheet: str, key_heading: str, value_heading: str, values: dict[str, str]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = next(r for r in range(1, 40) if any(c.value == value_heading for c in ws[r]))
    cols = {c.value: c.column for c in ws[header]}
    for r in range(header + 1, ws.max_row + 1):
        key = ws.cell(r, cols[key_heading]).value
        if key in values:
            ws.cell(r, cols[value_heading]).value = values[key]
    wb.save(path)


def test_the_table_headings_follow_the_levels(kaede: Workspace, tmp_path: Path) -> None:
    index = subject_index(kaede, meeting_of(kaede, "R6-1"))
    assert table_headings(index) == ("意見No", "基本方針No", "取組", "事業No", "委員", "意見", "担当課")
    hikari = _city(tmp_path, "indicator")
    index = subject_index(hikari, meeting_of(hikari, "R6-1"))
    head = table_headings(index)
    assert head == ("意見No", "基本目標No", "施策", "事業No", "委員", "意見", "担当課")
    # ひかり市's 施策 numbers print 1-2: by that number, its own number under its 基本目標, or its name
    path = write_table(
        tmp_path / "ひかり.csv",
        head,
        ["1", "", "1-2", "", "", "健診の受診を", ""],
        ["2", "1", "2", "", "", "健診の周知を", ""],
        ["3", "1", "", "", "", "子育てを", ""],
    )
    result = import_opinions(hikari, path, "R6-1")
    assert result.ok, codes(result)
    got = [(a.opinion.subject.code, mo_label) for a, mo_label in _labels(hikari)]
    assert got == [
        ("level:1:1", "基本目標1 安心して子育てできるまち"),
        ("level:2:1/2", "施策1-2 親子の健康づくり"),
        ("level:2:1/2", "施策1-2 親子の健康づくり"),
    ]


def _labels(ws: Workspace) -> list[tuple[object, str]]:
    mo = load_opinions(ws, "R6-1")
    return [(a, mo.index.infos[a.opinion.subject.code].label) for a in mo.answered]


HEAD = ("意見No", "基本方針No", "取組", "事業No", "委員", "意見", "担当課")


def test_import_routes_a_level_to_its_projects_departments(kaede: Workspace, tmp_path: Path) -> None:
    path = write_table(
        tmp_path / "意見.csv",
        HEAD,
        ["1", "", "", "", "委員A", "全体として", ""],
        ["2", "2", "", "", "委員B", "相談支援を", ""],
        ["3", "1", "②", "", "委員A", "担い手を", ""],
        ["4", "", "", "6", "", "ひきこもりを", ""],
        ["5", "1", "2", "", "", "育成を", "福祉総務課"],
    )
    result = import_opinions(kaede, path, "R6-1")
    assert result.ok, codes(result)
    got = [
        (a.opinion.key, a.opinion.subject.code, label, a.opinion.departments) for a, label in _labels(kaede)
    ]
    # in plan order: the whole evaluation, 基本方針1's 取組②, 基本方針2, then a project of 基本方針2
    assert got == [
        ("T1", "whole:", "計画全体・評価全般", ("かえで市健康福祉部地域福祉課",)),
        ("T3", "level:2:1/2", "取組② 担い手の育成", ("地域福祉課", "福祉総務課")),
        ("T5", "level:2:1/2", "取組② 担い手の育成", ("福祉総務課",)),  # narrowed by the table
        (
            "T2",
            "level:1:2",
            "基本方針2 相談支援体制の充実",
            ("福祉総務課", "地域福祉課", "障害福祉課", "高齢福祉課"),
        ),
        ("T4", "project:6", "②【事業No.6】【新規】ひきこもり相談", ("障害福祉課",)),
    ]


def test_an_unknown_or_ambiguous_level_is_named_by_its_cell(kaede: Workspace, tmp_path: Path) -> None:
    path = write_table(
        tmp_path / "意見.csv",
        HEAD,
        ["1", "1", "③", "", "", "三つ目の取組", ""],
        ["2", "", "1", "", "", "どの取組か", ""],
        ["3", "9", "", "", "", "ない方針", ""],
    )
    result = import_opinions(kaede, path, "R6-1")
    assert codes(result) == [
        ("opinion-subject-unknown", "C2"),
        ("opinion-subject-ambiguous", "C3"),
        ("opinion-subject-unknown", "B4"),
    ]
    unknown, ambiguous, _ = result.files[0].problems
    assert unknown.message == (
        "取組「3」は計画にありません。計画マスタにある取組にしてください"
        "（評価全般についての意見なら、事業No・取組・基本方針Noを空欄にします）。"
    )
    assert ambiguous.message.startswith(
        "取組「1」は複数の基本方針にあります（基本方針1 誰もが参加できる地域づくり、基本方針2 相談支援体制の充実）。"
    )


def _cells(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    ]


def test_member_workbook_replies_and_material_follow_the_levels(kaede: Workspace, tmp_path: Path) -> None:
    paths = write_member_forms(kaede, "R6-1", [], tmp_path / "forms")
    assert [p.name for p in paths] == ["意見票_R6-1_委員A.xlsx", "意見票_R6-1_委員B.xlsx"]
    form = openpyxl.load_workbook(paths[0])["意見"]
    header = next(r for r in range(1, 40) if form.cell(r, 1).value == H_SUBJECT_ID)
    rows = [tuple(form.cell(r, c).value for c in (1, 2, 3, 4)) for r in range(header + 1, form.max_row + 1)]
    # one row per 基本方針 / 取組 / 事業, in plan order, each under its own parent
    assert [r[:3] for r in rows] == [
        ("whole:", "全体", "計画全体・評価全般"),
        ("level:1:1", "基本方針", "基本方針1 誰もが参加できる地域づくり"),
        ("level:2:1/1", "取組", "取組① 交流の場づくり"),
        ("project:1", "事業", "①【事業No.1】多世代交流イベントの開催"),
        ("project:2", "事業", "②【事業No.2】コミュニティカフェの支援"),
        ("level:2:1/2", "取組", "取組② 担い手の育成"),
        ("project:3", "事業", "①【事業No.3】地域福祉コーディネーターの配置"),
        ("project:4", "事業", "②【事業No.4】民生委員・児童委員の活動支援"),
        ("level:1:2", "基本方針", "基本方針2 相談支援体制の充実"),
        ("level:2:2/1", "取組", "取組① 総合相談の推進"),
        ("project:5", "事業", "①【事業No.5】福祉総合相談窓口の運営"),
        ("project:6", "事業", "②【事業No.6】【新規】ひきこもり相談"),
        ("level:2:2/2", "取組", "取組② 権利擁護の推進"),
        ("project:7", "事業", "①【事業No.7】成年後見制度の利用促進"),
    ]
    assert (
        "【記入方法】黄色の「意見」の欄に、評価全般・基本方針・取組・事業ごとにご意見を記入してください。"
        in (str(form.cell(3, 2).value))
    )
    assert not [v for v in _cells(paths[0]) if any(w in v for w in KOGANEI_WORDS)]
    fill(paths[0], "意見", H_SUBJECT_ID, H_TEXT, {"level:1:1": "参加の輪を", "level:2:2/1": "窓口を"})
    fill(paths[1], "意見", H_SUBJECT_ID, H_TEXT, {"project:6": "訪問を"})
    result = collect_opinions(kaede, [tmp_path / "forms"], "R6-1")
    assert result.ok, codes(result)
    mo = load_opinions(kaede, "R6-1")
    assert [(a.opinion.key, a.opinion.departments) for a in mo.answered] == [
        ("委員A|level:1:1", ("地域福祉課", "市民協働課", "福祉総務課")),
        ("委員A|level:2:2/1", ("福祉総務課", "地域福祉課", "障害福祉課")),
        ("委員B|project:6", ("障害福祉課",)),
    ]
    # the replies: one workbook per department, read back; joint answers in plan order
    replies = tmp_path / "replies"
    write_reply_forms(kaede, "R6-1", replies)
    texts = {
        "地域福祉課": {"委員A|level:1:1": "交流を広げます。", "委員A|level:2:2/1": "窓口を増やします。"},
        "市民協働課": {"委員A|level:1:1": "カフェを支えます。"},
        "福祉総務課": {"委員A|level:1:1": "民生委員と進めます。", "委員A|level:2:2/1": "相談員を置きます。"},
        "障害福祉課": {"委員A|level:2:2/1": "連携します。", "委員B|project:6": "訪問を始めます。"},
    }
    for department, values in texts.items():
        (path,) = replies.glob(f"回答票_R6-1_{department}.xlsx")
        fill(path, "回答", H_OPINION_ID, H_REPLY, values)
    for path in replies.glob("*.xlsx"):
        assert not [v for v in _cells(path) if any(w in v for w in KOGANEI_WORDS)], path.name
    result = collect_replies(kaede, [replies], "R6-1")
    assert result.ok, codes(result)
    assert load_opinions(kaede, "R6-1").complete
    doc_path, _ = render_opinions(kaede, "R6-1", tmp_path, templates=search_path(kaede.root))
    (table,) = Document(str(doc_path)).tables
    cells = [[c.text for c in r.cells] for r in table.rows]
    groups = [r[0] for r in cells[1:] if len(set(r)) == 1]
    assert groups == ["基本方針1 誰もが参加できる地域づくり", "基本方針2 相談支援体制の充実"]
    data = [r for r in cells[1:] if len(set(r)) > 1]
    assert [(r[0], r[1], r[3]) for r in data] == [
        ("1", "基本方針1 誰もが参加できる地域づくり", "地域福祉課"),
        ("1", "基本方針1 誰もが参加できる地域づくり", "市民協働課"),
        ("1", "基本方針1 誰もが参加できる地域づくり", "福祉総務課"),
        ("2", "取組① 総合相談の推進", "福祉総務課"),
        ("2", "取組① 総合相談の推進", "地域福祉課"),
        ("2", "取組① 総合相談の推進", "障害福祉課"),
        ("3", "②【事業No.6】【新規】ひきこもり相談", "障害福祉課"),
    ]
    text = "\n".join(p.text for p in Document(str(doc_path)).paragraphs) + "".join(
        c for r in cells for c in r
    )
    assert not [w for w in KOGANEI_WORDS if w in text]


def test_the_evaluation_table_shows_the_opinions_on_the_levels(tmp_path: Path) -> None:
    """資料1 of かえで市 with [report] opinions: a 基本方針's and a 取組's opinion atop the 基本方針's
    block, named as the city names them, and a project's under its row."""
    from datetime import date

    from hyoka.report.build import make_report
    from tests.test_report import grid

    ws = _city(tmp_path, "two_stage")
    path = ws.root / "hyoka.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[report]\n", '[report]\nopinions = "under_row"\n', 1),
        encoding="utf-8",
    )
    ws = Workspace.load(ws.root)
    table = write_table(
        tmp_path / "意見.csv",
        HEAD,
        ["1", "1", "", "", "委員A", "参加の輪を広げてほしい。", ""],
        ["2", "1", "②", "", "委員B", "担い手の高齢化が心配です。", ""],
        ["3", "", "", "3", "委員A", "配置の効果を示してほしい。", ""],
    )
    assert import_opinions(ws, table, "R6-1").ok
    make_report(ws, FiscalYear(2024), out_dir=tmp_path / "out", draft=True, today=date(2025, 8, 1))
    (docx,) = (tmp_path / "out").glob("進捗状況及び評価表_R6*.docx")
    tables = [grid(t._tbl) for t in Document(str(docx)).tables]
    block = next(t for t in tables if t[0][0].text == "基本方針" and "誰もが参加" in t[0][1].text)
    ops = [r for r in block if r and r[0].text.startswith("委員会からの意見")]
    assert [r[0].paras for r in ops] == [
        ["委員会からの意見", "令和6年度第1回（委員A）", "基本方針1 誰もが参加できる地域づくり"],
        ["委員会からの意見", "令和6年度第1回（委員B）", "取組② 担い手の育成"],
        ["委員会からの意見", "令和6年度第1回（委員A）"],
    ]
    assert ops[2][1].text == "配置の効果を示してほしい。"


def test_codes_recorded_before_the_subjects_followed_the_levels_still_read(kaede: Workspace) -> None:
    """An opinion stored as the default sheet's kinds named them (goal:2, measure:/1) reads as the
    level it was about: no migration of the store."""
    from hyoka.opinions import Opinion, Subject, ordered

    index = subject_index(kaede, meeting_of(kaede, "R6-1"))
    old_goal, old_measure = Subject.parse("goal:2"), Subject.parse("measure:/2")
    assert index.code_of(old_goal) == "level:1:2"
    info = index.info(old_goal)
    assert info is not None and info.label == "基本方針2 相談支援体制の充実"
    # 取組② of 基本方針1 and of 基本方針2 had the same code then: it reads as the first, in plan order
    assert index.code_of(old_measure) == "level:2:1/2"
    ops = [Opinion(k, "R6-1", s, "", ()) for k, s in (("a", old_goal), ("b", old_measure))]
    assert [o.key for o in ordered(index, ops)] == ["b", "a"]


def test_a_table_with_the_default_level_headings_is_refused_for_the_city(
    kaede: Workspace, tmp_path: Path
) -> None:
    """基本目標No / 基本施策 / 施策 in かえで市's table would be ignored and the opinion taken for the
    whole evaluation: each heading is named at its cell instead."""
    head = ("意見No", "基本目標No", "基本施策", "施策", "事業No", "委員", "意見", "担当課")
    path = write_table(tmp_path / "意見.csv", head, ["1", "1", "", "", "", "", "方針への意見", ""])
    result = import_opinions(kaede, path, "R6-1")
    assert codes(result) == [
        ("opinion-level-heading-unknown", "B1"),
        ("opinion-level-heading-unknown", "C1"),
        ("opinion-level-heading-unknown", "D1"),
    ]
    assert result.files[0].problems[0].message == (
        "見出し「基本目標No」は、この年度の評価シートの階層にありません。何についての意見かは、階層の列 基本方針No・取組 と"
        "事業No で書いてください（見出しを直すか、その列を消してください）。"
    )
    assert load_opinions(kaede, "R6-1").answered == []


def _plan(levels: tuple[Level, ...], *rows: list[str]) -> Plan:
    from hyoka.plan import build_plan, headings_for
    from hyoka.tables import Table

    heads = list(headings_for(levels))
    table = Table(
        "plan.csv", heads, 1, [(n, dict(zip(heads, r, strict=True))) for n, r in enumerate(rows, 2)]
    )
    plan, problems = build_plan(table, levels)
    assert plan is not None and not problems, problems
    return plan


def test_three_levels_and_one_level_make_their_subjects_headings_and_groups() -> None:
    three = (Level("分野", True, "1"), Level("方針", False, "none"), Level("取組", True, "1-1"))
    plan = _plan(
        three,
        ["1", "くらし", "見守り", "1", "見守りの輪", "1", "訪問", "", "A課", ""],
        ["1", "くらし", "見守り", "2", "見守りの網", "2", "通報", "", "B課", ""],
        ["2", "しごと", "就労", "1", "就労の場", "3", "就労支援", "", "C課", ""],
    )
    index = SubjectIndex.of(plan, "事務局", three)
    assert index.level_columns == ("分野No", "方針", "取組")
    got = [(code, i.label, i.groups, i.departments) for code, i in index.infos.items()]
    assert got[1:6] == [
        ("level:1:1", "分野1 くらし", ("分野1 くらし",), ("A課", "B課")),
        ("level:2:1/見守り", "方針 見守り", ("分野1 くらし", "方針 見守り"), ("A課", "B課")),
        ("level:3:1/見守り/1", "取組1-1 見守りの輪", ("分野1 くらし", "方針 見守り"), ("A課",)),
        ("project:1", "①【事業No.1】訪問", ("分野1 くらし", "方針 見守り"), ("A課",)),
        ("level:3:1/見守り/2", "取組1-2 見守りの網", ("分野1 くらし", "方針 見守り"), ("B課",)),
    ]
    # by the printed number, or the number beside its 分野 and 方針
    assert find_level_subject(index, ["", "", "2-1"])[0] == Subject(LEVEL, "3:2/就労/1")
    assert find_level_subject(index, ["1", "見守り", "2"])[0] == Subject(LEVEL, "3:1/見守り/2")
    assert find_level_subject(index, ["", "", "1"]) == (None, 2, ("方針 見守り", "方針 就労"))
    assert find_level_subject(index, ["", "見守り", ""])[0] == Subject(LEVEL, "2:1/見守り")
    assert index.code_of(Subject.parse("policy:見守り")) == "level:2:1/見守り"
    one = (Level("施策", True, "1"),)
    plan = _plan(
        one, ["1", "くらし", "1", "訪問", "", "A課", ""], ["2", "しごと", "2", "就労", "", "C課", ""]
    )
    index = SubjectIndex.of(plan, "事務局", one)
    assert index.level_columns == ("施策No",)
    assert [(c, i.groups) for c, i in index.infos.items()] == [
        ("whole:", ()),
        ("level:1:1", ()),
        ("project:1", ()),
        ("level:1:2", ()),
        ("project:2", ()),
    ]
