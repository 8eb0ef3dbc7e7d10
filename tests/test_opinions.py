"""The committee's opinions and the departments' replies (issue 12): import, member forms, routing,
replies, joint answers, status, the material and its place in the meeting pack."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from hyoka import opinions_store
from hyoka.opinions import PROJECT, Subject, SubjectIndex, find_subject, route
from hyoka.opinions_io import (
    H_OPINION_ID,
    H_REPLY,
    H_SUBJECT_ID,
    H_TEXT,
    collect_opinions,
    collect_replies,
    import_opinions,
    load_opinions,
    write_member_forms,
    write_reply_forms,
)
from hyoka.problems import HyokaError
from hyoka.report.opinions import render_opinions
from hyoka.report.templates import search_path
from hyoka.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "koganei"
HEAD = ["意見No", "基本目標No", "基本施策", "施策", "事業No", "委員", "意見", "担当課"]


def write_table(path: Path, *rows: list[str], head: list[str] = HEAD) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([head, *rows])
    return path


def row(no: str, text: str, *, goal: str = "", policy: str = "", measure: str = "", project: str = "",
        member: str = "", department: str = "") -> list[str]:  # fmt: skip
    return [no, goal, policy, measure, project, member, text, department]


def fill(path: Path, sheet: str, key_heading: str, value_heading: str, values: dict[str, str | None]) -> Path:
    """Write ``values`` (key → text) into a workbook hyoka made, as a member or a department would."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = next(r for r in range(1, 40) if any(c.value == value_heading for c in ws[r]))
    cols = {c.value: c.column for c in ws[header]}
    for r in range(header + 1, ws.max_row + 1):
        key = ws.cell(r, cols[key_heading]).value
        if key in values:
            ws.cell(r, cols[value_heading]).value = values[key]
    wb.save(path)
    return path


def cell_of(path: Path, sheet: str, key_heading: str, key: str, heading: str) -> str:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = next(r for r in range(1, 40) if any(c.value == heading for c in ws[r]))
    cols = {c.value: c.column for c in ws[header]}
    for r in range(header + 1, ws.max_row + 1):
        if ws.cell(r, cols[key_heading]).value == key:
            return str(ws.cell(r, cols[heading]).coordinate)
    raise AssertionError(key)


def codes(result: object) -> list[tuple[str, str | None]]:
    return [(p.code, p.cell) for f in result.files for p in f.problems]  # type: ignore[attr-defined]


@pytest.fixture
def ws(sample_ws_loaded: Workspace) -> Workspace:
    return sample_ws_loaded


@pytest.fixture
def imported(ws: Workspace) -> Workspace:
    result = import_opinions(ws, SAMPLE / "opinions" / "意見_R6-1.csv", "R6-1")
    assert result.ok, codes(result)
    return ws


# --- routing (pure) --------------------------------------------------------------------------------


def test_routing_project_level_and_narrowing(ws: Workspace) -> None:
    index = SubjectIndex.of(ws.plan, ws.config.secretariat)
    assert route(index, Subject(PROJECT, "7")) == (("地域福祉課", "健康課"), [])
    assert route(index, Subject(PROJECT, "9")) == (("介護福祉課", "広報秘書課"), [])
    # a 基本施策: the submitting departments of its projects, in plan order
    policy, _ = find_subject(ws.plan, policy="福祉を支える基盤の整備")
    assert policy is not None
    assert route(index, policy) == (("地域福祉課", "交通対策課", "自立生活支援課"), [])
    # narrowed by the table, in plan order whatever order it is written in
    assert route(index, policy, "自立生活支援課・交通対策課") == (("交通対策課", "自立生活支援課"), [])
    assert route(index, policy, "公民館") == ((), ["公民館"])
    # the whole evaluation: the secretariat, or any department named
    whole, _ = find_subject(ws.plan)
    assert whole is not None
    assert route(index, whole) == (("福祉保健部地域福祉課",), [])
    assert route(index, whole, "公民館") == (("公民館",), [])


# --- import ----------------------------------------------------------------------------------------


def test_import_stores_each_opinion_with_subject_member_and_departments(imported: Workspace) -> None:
    mo = load_opinions(imported, "R6-1")
    got = [
        (a.opinion.key, a.opinion.subject.code, a.opinion.member, a.opinion.departments) for a in mo.answered
    ]
    assert got[0] == ("T1", "whole:", "委員A", ("福祉保健部地域福祉課",))
    assert ("T3", "policy:福祉を支える基盤の整備", "委員C", ("交通対策課", "自立生活支援課")) in got
    assert ("T4", "project:7", "委員A", ("地域福祉課", "健康課")) in got
    assert ("T8", "goal:3", "委員B", ("社会福祉協議会",)) in got
    # plan order: whole, goal 1, its policy, …, goal 3's opinion before No.37 under it
    assert [k for k, *_ in got] == ["T1", "T2", "T3", "T4", "T5", "T6", "T8", "T7"]


def test_import_again_replaces_the_table_and_keeps_every_version(imported: Workspace, tmp_path: Path) -> None:
    table = write_table(tmp_path / "意見.csv", row("1", "事業No.5について。", project="5", member="委員D"))
    assert import_opinions(imported, table, "R6-1").ok
    mo = load_opinions(imported, "R6-1")
    assert [(a.opinion.key, a.opinion.departments) for a in mo.answered] == [("T1", ("地域安全課",))]
    with imported.store() as store:
        assert [f["status"] for f in opinions_store.files(store, "R6-1")] == ["accepted", "accepted"]


@pytest.mark.parametrize(
    ("bad", "code", "cell"),
    [
        (row("1", "意見", project="99"), "opinion-subject-unknown", "E2"),
        (row("1", "意見", policy="存在しない施策"), "opinion-subject-unknown", "C2"),
        (row("1", "意見", goal="9"), "opinion-subject-unknown", "B2"),
        (row("1", "", project="5"), "opinion-text-blank", "G2"),
        (row("1", "意見", project="5", department="地域福祉課"), "opinion-department-unknown", "H2"),
    ],
)
def test_bad_opinion_rows_reject_the_table_whole_cell_precise(
    ws: Workspace, tmp_path: Path, bad: list[str], code: str, cell: str
) -> None:
    good = row("2", "よい意見", project="5")
    table = write_table(tmp_path / "意見.csv", bad, good)
    result = import_opinions(ws, table, "R6-1")
    assert not result.ok
    assert codes(result) == [(code, cell)]
    assert load_opinions(ws, "R6-1").answered == []  # nothing stored
    with ws.store() as store:
        assert [f["status"] for f in opinions_store.files(store, "R6-1")] == ["rejected"]


def test_duplicate_opinion_number_and_empty_table(ws: Workspace, tmp_path: Path) -> None:
    table = write_table(tmp_path / "a.csv", row("1", "a", project="5"), row("1", "b", project="6"))
    assert codes(import_opinions(ws, table, "R6-1")) == [("opinion-no-duplicate", "A3")]
    empty = write_table(tmp_path / "b.csv")
    assert codes(import_opinions(ws, empty, "R6-1")) == [("opinions-table-empty", None)]


def test_import_of_an_xlsx_table(ws: Workspace, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["事業No", "委員", "意見"])
    sheet.append([12, "委員A", "虐待防止について"])
    wb.save(tmp_path / "意見.xlsx")
    assert import_opinions(ws, tmp_path / "意見.xlsx", "R6-1").ok
    (a,) = load_opinions(ws, "R6-1").answered
    assert (a.opinion.subject.code, a.opinion.departments) == ("project:12", ("自立生活支援課", "介護福祉課"))


def test_unknown_meeting_is_refused(ws: Workspace, tmp_path: Path) -> None:
    table = write_table(tmp_path / "a.csv", row("1", "a", project="5"))
    with pytest.raises(HyokaError, match="R9-9"):
        import_opinions(ws, table, "R9-9")


# --- member forms --------------------------------------------------------------------------------


def test_member_forms_round_trip(ws: Workspace, tmp_path: Path) -> None:
    paths = write_member_forms(ws, "R6-1", [], tmp_path / "forms")
    assert [p.name for p in paths] == [
        "意見票_R6-1_委員A.xlsx",
        "意見票_R6-1_委員B.xlsx",
        "意見票_R6-1_委員C.xlsx",
    ]
    form = openpyxl.load_workbook(paths[0])["意見"]
    header = next(r for r in range(1, 40) if form.cell(r, 6).value == H_TEXT)
    first = [form.cell(header + 1, c).value for c in range(1, 6)]
    assert first == ["whole:", "全体", "計画全体・評価全般", None, None]
    # the project rows carry the reported year's rating and departments
    cells = {form.cell(r, 1).value: r for r in range(header + 1, form.max_row + 1)}
    r7 = cells["project:7"]
    assert [form.cell(r7, c).value for c in (4, 5)] == ["地域福祉課・健康課", "B"]
    assert form.column_dimensions["A"].hidden
    assert form.protection.sheet and not form.cell(r7, 6).protection.locked
    fill(
        paths[0],
        "意見",
        H_SUBJECT_ID,
        H_TEXT,
        {"project:7": "名簿の更新を", "policy:社会参加の促進": "参加を"},
    )
    fill(paths[1], "意見", H_SUBJECT_ID, H_TEXT, {"whole:": "全体として"})
    result = collect_opinions(ws, [tmp_path / "forms"], "R6-1")
    assert result.ok, codes(result)
    # oldest file first (the filled ones were saved last)
    assert [(f.submitter, f.rows) for f in result.files] == [("委員C", 0), ("委員A", 2), ("委員B", 1)]
    got = [(a.opinion.key, a.opinion.text, a.opinion.cell) for a in load_opinions(ws, "R6-1").answered]
    assert got == [
        ("委員B|whole:", "全体として", cell_of(paths[1], "意見", H_SUBJECT_ID, "whole:", H_TEXT)),
        ("委員A|project:7", "名簿の更新を", cell_of(paths[0], "意見", H_SUBJECT_ID, "project:7", H_TEXT)),
        (
            "委員A|policy:社会参加の促進",
            "参加を",
            cell_of(paths[0], "意見", H_SUBJECT_ID, "policy:社会参加の促進", H_TEXT),
        ),
    ]
    # the same file again changes nothing
    again = collect_opinions(ws, [paths[0]], "R6-1")
    assert [f.status for f in again.files] == ["unchanged"]


def test_member_form_with_a_subject_the_plan_lacks_is_rejected_with_feedback(
    ws: Workspace, tmp_path: Path
) -> None:
    (path,) = write_member_forms(ws, "R6-1", ["委員A"], tmp_path / "forms")
    wb = openpyxl.load_workbook(path)
    sheet = wb["意見"]
    header = next(r for r in range(1, 40) if sheet.cell(r, 6).value == H_TEXT)
    sheet.cell(header + 1, 1).value = "project:99"  # a row tampered with
    sheet.cell(header + 1, 6).value = "意見"
    wb.save(path)
    result = collect_opinions(ws, [path], "R6-1", feedback_dir=tmp_path / "fb")
    assert codes(result) == [("opinion-subject-unknown", f"A{header + 1}")]
    assert result.files[0].feedback is not None and result.files[0].feedback.is_file()
    assert load_opinions(ws, "R6-1").answered == []


def test_member_form_of_another_meeting_is_rejected(ws: Workspace, tmp_path: Path) -> None:
    (path,) = write_member_forms(ws, "R6-1", ["委員A"], tmp_path)
    result = collect_opinions(ws, [path], "R6-2")
    assert codes(result) == [("form-meeting-mismatch", None)]


def test_member_forms_need_members(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(HyokaError, match="members"):
        write_member_forms(ws, "R6-2", [], tmp_path)


# --- replies -------------------------------------------------------------------------------------


def test_reply_forms_one_per_department_with_its_opinions(imported: Workspace, tmp_path: Path) -> None:
    paths = write_reply_forms(imported, "R6-1", tmp_path)
    names = [p.name for p in paths]
    assert names[:3] == [
        "回答票_R6-1_地域福祉課.xlsx",
        "回答票_R6-1_交通対策課.xlsx",
        "回答票_R6-1_自立生活支援課.xlsx",
    ]
    assert "回答票_R6-1_福祉保健部地域福祉課.xlsx" in names
    sheet = openpyxl.load_workbook(tmp_path / "回答票_R6-1_健康課.xlsx")["回答"]
    header = next(r for r in range(1, 40) if sheet.cell(r, 7).value == H_REPLY)
    keys = [sheet.cell(r, 1).value for r in range(header + 1, sheet.max_row + 1)]
    assert keys == ["T2", "T4"]  # 基本目標1 and No.7 (joint with 地域福祉課)
    assert sheet.cell(header + 2, 6).value == "地域福祉課・健康課"


def test_replies_round_trip_and_joint_answers_in_plan_order(imported: Workspace, tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    write_reply_forms(imported, "R6-1", forms)
    # 健康課 answers first, 地域福祉課 later: the combined reply still follows the plan's order
    fill(
        forms / "回答票_R6-1_健康課.xlsx",
        "回答",
        H_OPINION_ID,
        H_REPLY,
        {"T2": "確認します。", "T4": "保健師が支援します。"},
    )
    assert collect_replies(imported, [forms / "回答票_R6-1_健康課.xlsx"], "R6-1").ok
    fill(
        forms / "回答票_R6-1_地域福祉課.xlsx",
        "回答",
        H_OPINION_ID,
        H_REPLY,
        {"T2": "確認します。", "T4": "作成を進めます。", "T6": "増員します。", "T7": "見直します。"},
    )
    result = collect_replies(imported, [forms / "回答票_R6-1_地域福祉課.xlsx"], "R6-1")
    assert result.ok, codes(result)
    assert result.files[0].rows == 4
    answered = {a.opinion.key: a for a in load_opinions(imported, "R6-1").answered}
    t4 = answered["T4"]
    assert t4.complete
    assert [r.department for r in t4.replies] == ["地域福祉課", "健康課"]
    assert t4.text() == "【地域福祉課】\n作成を進めます。\n【健康課】\n保健師が支援します。"
    assert answered["T6"].text() == "増員します。"


def test_empty_reply_unknown_opinion_and_another_meeting_are_rejected(
    imported: Workspace, tmp_path: Path
) -> None:
    forms = tmp_path / "forms"
    write_reply_forms(imported, "R6-1", forms)
    path = forms / "回答票_R6-1_健康課.xlsx"
    fill(path, "回答", H_OPINION_ID, H_REPLY, {"T2": "確認します。", "T4": "   "})
    result = collect_replies(imported, [path], "R6-1")
    assert codes(result) == [("reply-blank", cell_of(path, "回答", H_OPINION_ID, "T4", H_REPLY))]
    # a row copied from another department's form
    wb = openpyxl.load_workbook(path)
    sheet = wb["回答"]
    ref = cell_of(path, "回答", H_OPINION_ID, "T4", H_OPINION_ID)
    sheet[ref].value = "T6"
    sheet[ref.replace("A", "G")].value = "回答"
    wb.save(path)
    assert codes(collect_replies(imported, [path], "R6-1")) == [("reply-opinion-unknown", ref)]
    # a reply form of another meeting
    assert codes(collect_replies(imported, [path], "R6-2")) == [("form-meeting-mismatch", None)]
    assert load_opinions(imported, "R6-1").answered[1].replies == ()


def test_status_meeting_exit_codes(imported: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("status", "--meeting", "R6-1", "-w", imported.root)
    assert result.exit_code == 1
    assert "【未回答あり】健康課  回答 0/2件" in result.output
    assert (
        "    未回答: ①【事業No.7】災害時における避難行動要支援者への支援体制の充実（委員A）" in result.output
    )
    ok = run("replies", "collect", SAMPLE / "replies" / "R6-1", "-w", imported.root)
    assert ok.exit_code == 0, ok.output
    done = run("status", "--meeting", "R6-1", "-w", imported.root)
    assert done.exit_code == 0, done.output
    assert "回答済み 10/10 課" in done.output


# --- the material --------------------------------------------------------------------------------


def _texts(path: Path) -> list[list[str]]:
    doc = Document(str(path))
    (table,) = doc.tables
    return [[c.text for c in r.cells] for r in table.rows]


def test_material_refused_while_replies_are_missing_and_drafted(imported: Workspace, tmp_path: Path) -> None:
    folders = search_path(imported.root)
    with pytest.raises(HyokaError, match="健康課: 未回答 2件"):
        render_opinions(imported, "R6-1", tmp_path, templates=folders)
    path, _ = render_opinions(imported, "R6-1", tmp_path, draft=True, templates=folders)
    assert path.name == "資料1_意見と市の考え方_R6-1_案.docx"
    rows = _texts(path)
    assert rows[0] == ["No", "対象", "委員会からの意見", "担当課", "対応・市の考え方"]
    # a joint opinion: one row per department in plan order, under the merged No, 対象 and 意見
    t4 = [r for r in rows if r[1].startswith("①【事業No.7】")]
    assert [(r[3], r[4]) for r in t4] == [("地域福祉課", "未回答"), ("健康課", "未回答")]
    assert t4[0][:3] == t4[1][:3]
    header = Document(str(path)).sections[0].first_page_header.paragraphs[0].text
    assert "案" in header and "資料1" in header


def test_material_content_in_plan_order_with_departments_and_replies(
    imported: Workspace, tmp_path: Path
) -> None:
    assert collect_replies(imported, [SAMPLE / "replies" / "R6-1"], "R6-1").ok
    path, _ = render_opinions(imported, "R6-1", tmp_path, templates=search_path(imported.root))
    rows = _texts(path)
    groups = [r[0] for r in rows if len(set(r)) == 1]
    assert groups[:4] == [
        "計画全体・評価全般",
        "基本目標1 福祉のまちづくり",
        "基本施策　福祉を支える基盤の整備",
        "基本施策　災害に備える体制づくり",
    ]
    data = [r for r in rows[1:] if len(set(r)) > 1]
    assert list(dict.fromkeys(r[0] for r in data)) == [str(n) for n in range(1, 9)]
    first = data[0]
    assert first[1] == "計画全体・評価全般"
    assert first[2].endswith("（委員A）")
    assert first[3] == "福祉保健部地域福祉課"
    assert first[4].startswith("次年度の調査票から")
    t4 = [r for r in data if r[1].startswith("①【事業No.7】")]
    assert [r[3] for r in t4] == ["地域福祉課", "健康課"]
    assert t4[0][4].startswith("個別避難計画は令和5年度末で")
    assert t4[1][4] == "医療的ケアが必要な方については、健康課の保健師が個別避難計画の作成を支援します。"
    # the merged cells: vMerge restart on the first department's row, continue on the next
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    trs = [tr for tr in Document(str(path)).tables[0]._tbl.tr_lst if "事業No.7】" in "".join(tr.itertext())]
    merges = [tc.find(f"{w}tcPr/{w}vMerge").get(f"{w}val") for tc in trs[0].tc_lst[:3]]
    assert merges == ["restart"] * 3
    doc = Document(str(path))
    section = doc.sections[0]
    assert section.page_width > section.page_height  # landscape
    table = doc.tables[0]
    trpr = table.rows[0]._tr.trPr
    assert trpr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
    assert all(
        r._tr.trPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}cantSplit") is not None
        for r in table.rows
    )


def test_report_puts_the_material_in_the_next_meetings_pack(imported: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    refused = run("report", "--year", "R5", "--meeting", "R6-2", "--out", tmp_path / "a", "-w", imported.root)
    assert refused.exit_code == 1
    assert "未回答" in refused.output
    assert not (tmp_path / "a").exists()  # nothing written
    assert run("replies", "collect", SAMPLE / "replies" / "R6-1", "-w", imported.root).exit_code == 0
    made = run("report", "--year", "R5", "--meeting", "R6-2", "--out", tmp_path / "b", "-w", imported.root)
    assert made.exit_code == 0, made.output
    pack = Document(str(tmp_path / "b" / "会議資料一式_R6-2.docx"))
    text = "\n".join(p.text for p in pack.paragraphs)
    assert "推進委員会からの意見と市の考え方" in text
    assert any("CoCoバス" in c.text for t in pack.tables for r in t.rows for c in r.cells)
    listing = Document(str(tmp_path / "b" / "配布資料一覧_R6-2.docx"))
    assert any(
        "推進委員会からの意見と市の考え方" in c.text for t in listing.tables for r in t.rows for c in r.cells
    )
    # the year's own report still goes to the meeting that tables the evaluation
    default = run("report", "--year", "R5", "--out", tmp_path / "c", "-w", imported.root)
    assert default.exit_code == 0
    assert (tmp_path / "c" / "会議資料一式_R6-1.docx").is_file()


def test_sample_replies_record_their_meeting_and_department() -> None:
    """The sample's reply forms (scripts/make_sample_replies.py): one per department of R6-1, named for it."""
    paths = sorted((SAMPLE / "replies" / "R6-1").glob("*.xlsx"))
    assert len(paths) == 10
    for path in paths:
        wb = openpyxl.load_workbook(path)
        meta = {r[0]: r[1] for r in wb["_hyoka"].iter_rows(values_only=True)}
        assert (meta["kind"], meta["meeting"]) == ("replies", "R6-1")
        assert path.name == f"回答票_R6-1_{meta['department']}.xlsx"


def test_an_opinions_material_must_name_the_meeting_it_answers(
    imported: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    config = imported.root / "hyoka.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('answers = "R6-1"\n', ""), encoding="utf-8")
    result = run("report", "--year", "R5", "--meeting", "R6-2", "--out", tmp_path, "-w", imported.root)
    assert result.exit_code == 1
    assert 'answers = "R6-1"' in result.output


def test_hyoka_toml_knows_the_new_keys_and_refuses_a_misspelt_one(imported: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    config = imported.root / "hyoka.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('answers = "R6-1"', 'answer = "R6-1"'), encoding="utf-8")
    result = run("status", "--meeting", "R6-1", "-w", imported.root)
    assert result.exit_code == 1
    assert "[エラー] config-key-unknown: hyoka.toml " in result.output
    assert "「answer」は[[meetings.materials]]（2番目の1番目）では使えません" in result.output
    assert "「answers」の書き間違いではありませんか。" in result.output


def test_status_meeting_json(imported: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    import json

    result = run("status", "--meeting", "R6-1", "--json", "-w", imported.root)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["schema"] == "hyoka.replies-status/1"
    assert (data["meeting"], data["complete"], data["opinions"]) == ("R6-1", False, 8)
    health = next(d for d in data["departments"] if d["department"] == "健康課")
    assert (health["routed"], health["answered"], [m["key"] for m in health["missing"]]) == (
        2,
        0,
        ["T2", "T4"],
    )


def test_status_meeting_without_opinions_exits_0(ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    result = run("status", "--meeting", "R6-1", "-w", ws.root)
    assert result.exit_code == 0
    assert (
        result.output.splitlines()[-1]
        == "意見がまだ記録されていません（hyoka opinions import または hyoka opinions collect）。"
    )


def test_draft_pack_carries_the_draft_material(imported: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "report", "--year", "R5", "--meeting", "R6-2", "--draft", "--out", tmp_path, "-w", imported.root
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "資料1_意見と市の考え方_R6-1_案.docx").is_file()
    pack = Document(str(tmp_path / "会議資料一式_R6-2_案.docx"))
    cells = [c.text for t in pack.tables for r in t.rows for c in r.cells]
    assert cells.count("未回答") == sum(
        len(a.opinion.departments) for a in load_opinions(imported, "R6-1").answered
    )


def test_member_form_made_from_another_plan_is_taken_with_a_warning(ws: Workspace, tmp_path: Path) -> None:
    (path,) = write_member_forms(ws, "R6-1", ["委員A"], tmp_path)
    wb = openpyxl.load_workbook(path)
    meta = wb["_hyoka"]
    for r in meta.iter_rows():
        if r[0].value == "plan_fingerprint":
            r[1].value = "0000"
    wb.save(path)
    fill(path, "意見", H_SUBJECT_ID, H_TEXT, {"project:5": "防災について"})
    result = collect_opinions(ws, [path], "R6-1")
    assert result.ok
    assert codes(result) == [("form-plan-changed", None)]


def test_headings_slightly_off_are_still_read(ws: Workspace, tmp_path: Path) -> None:
    # As a clerk types them: full-width or upper-case ＮＯ, a space, a trailing dot, 番号 for No.
    head = ["意見 No.", "基本目標ＮＯ", "基本施策", "施策", "事業番号", "委員 ", "意見", "担当課"]
    path = write_table(tmp_path / "意見.csv", row("5", "虐待防止について", project="12"), head=head)
    assert import_opinions(ws, path, "R6-1").ok
    (a,) = load_opinions(ws, "R6-1").answered
    assert (a.opinion.key, a.opinion.subject.code, a.opinion.member) == ("T5", "project:12", "")


def test_a_table_saved_as_ods_or_xls_is_read(ws: Workspace, tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: the .ods/.xls tables are made with it")
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["事業No", "委員", "意見"])
    sheet.append([12, "委員A", "虐待防止について"])
    wb.save(tmp_path / "意見.xlsx")
    for suffix in ("ods", "xls"):
        out = tmp_path / suffix
        subprocess.run(
            [
                "soffice",
                "--headless",
                "--convert-to",
                suffix,
                "--outdir",
                str(out),
                str(tmp_path / "意見.xlsx"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        result = import_opinions(ws, out / f"意見.{suffix}", "R6-1")
        assert result.ok, codes(result)
        (a,) = load_opinions(ws, "R6-1").answered
        assert (a.opinion.subject.code, a.opinion.member) == ("project:12", "委員A")


def test_material_names_departments_that_replied_in_the_same_words_together(
    imported: Workspace, tmp_path: Path
) -> None:
    # The sample's 基本目標1 opinion (T2) goes to eight departments, which all sent the same reply: one
    # row naming them in plan order, as 資料1 combines them, not eight rows of the same text.
    assert collect_replies(imported, [SAMPLE / "replies" / "R6-1"], "R6-1").ok
    path, _ = render_opinions(imported, "R6-1", tmp_path, templates=search_path(imported.root))
    t2 = [r for r in _texts(path) if r[0] == "2"]
    assert len(t2) == 1
    assert (
        t2[0][3]
        == "地域福祉課\n交通対策課\n自立生活支援課\n地域安全課\n健康課\n指導室\n介護福祉課\n広報秘書課"
    )
    assert t2[0][4].startswith("各事業の評価に当たっては、利用者アンケートや窓口に寄せられた声")
    # different replies keep one row each, in plan order
    t4 = [r for r in _texts(path) if r[0] == "4"]
    assert [r[3] for r in t4] == ["地域福祉課", "健康課"]


def test_reply_forms_for_a_department_by_its_name_after_a_rename(
    imported: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # 組織改正: the R6 plan renames 地域安全課 to 防災危機管理課 after R6-1's opinions were routed to the old
    # name; the clerk asks for the form by the department's name of today and gets the one routed to it.
    import shutil

    shutil.copy2(SAMPLE / "plan_R6.csv", imported.root / "plan.csv")
    adopted = run(
        "plan",
        "adopt",
        "plan.csv",
        "--from",
        "R6",
        "--rename",
        "地域安全課=防災危機管理課",
        "-w",
        imported.root,
    )
    assert adopted.exit_code == 0, adopted.output
    (path,) = write_reply_forms(imported, "R6-1", tmp_path, "防災危機管理課")
    assert path.name == "回答票_R6-1_地域安全課.xlsx"
    sheet = openpyxl.load_workbook(path)["回答"]
    header = next(r for r in range(1, 40) if sheet.cell(r, 7).value == H_REPLY)
    assert [sheet.cell(r, 1).value for r in range(header + 1, sheet.max_row + 1)] == ["T2"]
    with pytest.raises(HyokaError, match="「公民館」に回付された意見はありません"):
        write_reply_forms(imported, "R6-1", tmp_path, "公民館")


def test_import_of_a_folder_says_to_name_the_table(ws: Workspace, tmp_path: Path) -> None:
    # `opinions import` takes one table; a folder (the member workbooks' one) is not "a damaged file".
    with pytest.raises(HyokaError) as err:
        import_opinions(ws, tmp_path, "R6-1")
    assert str(err.value) == (
        f"{tmp_path}: フォルダです。意見の一覧表のファイル（.xlsx・.xls・.ods・.csv）を1つ指定してください"
        "（委員ごとの意見票のフォルダは hyoka opinions collect で取り込みます）。"
    )


def test_a_measure_named_by_its_number_under_its_policy_and_an_ambiguous_one(
    ws: Workspace, tmp_path: Path
) -> None:
    # 施策 by its number (as in the plan's 施策No) is taken with its 基本施策; alone it names a 施策 of
    # several 基本施策, which the table must say (not "the plan does not have 施策 1").
    ok = write_table(tmp_path / "ok.csv", row("1", "a", policy="福祉を支える基盤の整備", measure="(2)"))
    assert import_opinions(ws, ok, "R6-1").ok
    (a,) = load_opinions(ws, "R6-1").answered
    assert a.opinion.subject.code == "measure:福祉を支える基盤の整備/2"
    bad = write_table(tmp_path / "bad.csv", row("1", "a", measure="1"))
    result = import_opinions(ws, bad, "R6-1")
    assert codes(result) == [("opinion-subject-ambiguous", "D2")]
    (p,) = result.files[0].problems
    assert p.message.startswith(
        "施策「1」は複数の基本施策にあります（福祉を支える基盤の整備、災害に備える体制づくり、"
    )


def test_a_csv_saved_by_excel_in_shift_jis_is_read(ws: Workspace, tmp_path: Path) -> None:
    # Excel's 「CSV（コンマ区切り）」 saves cp932 with CRLF and no BOM.
    path = tmp_path / "意見.csv"
    with path.open("w", encoding="cp932", newline="\r\n") as fh:
        fh.write("意見No,事業No,委員,意見\n3,12,委員Ｂ,虐待防止の取組について\n")
    assert import_opinions(ws, path, "R6-1").ok
    (a,) = load_opinions(ws, "R6-1").answered
    assert (a.opinion.key, a.opinion.subject.code, a.opinion.member, a.opinion.text) == (
        "T3",
        "project:12",
        "委員B",
        "虐待防止の取組について",
    )
