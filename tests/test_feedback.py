"""The marked-up copy of a rejected return speaks to the department: what to fix, where, and how."""

from __future__ import annotations

import re
import string
from pathlib import Path

import openpyxl

from hyoka.collect import collect
from hyoka.feedback import FEEDBACK_SHEET
from hyoka.forms import SHEET_NAME
from hyoka.problems import CATALOGUE, FOR_DEPARTMENT, problem
from hyoka.workspace import Workspace
from tests.helpers import R5, header_of, make_form


def _edit(sheet, first, roles):  # type: ignore[no-untyped-def]
    sheet.cell(first, roles["rating"]).value = "E"  # 事業No.5: an error
    sheet.cell(first + 1, roles["outlook"]).value = None  # 事業No.6: a warning (今後 blank)


def test_summary_sheet_is_for_the_department_without_codes(ws_r4: Workspace, tmp_path: Path) -> None:
    path = make_form(ws_r4, tmp_path, _edit)
    header, roles = header_of(openpyxl.load_workbook(path)[SHEET_NAME])
    result = collect(ws_r4, [path], R5, feedback_dir=tmp_path / "fb")
    (f,) = result.files
    assert [p.code for p in f.problems] == ["rating-not-in-scale", "outlook-blank"]
    assert f.feedback is not None
    wb = openpyxl.load_workbook(f.feedback)
    assert wb.sheetnames[0] == FEEDBACK_SHEET == "修正のお願い"
    summary = wb[FEEDBACK_SHEET]
    rows = [[c for c in r] for r in summary.iter_rows(values_only=True)]
    head = rows.index(["区分", "場所", "事業", "直していただきたいこと"])
    rating = openpyxl.utils.get_column_letter(roles["rating"])
    outlook = openpyxl.utils.get_column_letter(roles["outlook"])
    assert rows[head + 1 :] == [
        [
            "エラー",
            f"シート「調査票」 セル {rating}{header + 1}",
            "①【事業No.5】自主防災組織の育成（地域安全課）",
            "事業評価「E」は評価基準にありません。A・B・C・D のいずれかを選んでください。",
        ],
        [
            "警告",
            f"シート「調査票」 セル {outlook}{header + 2}",
            "②【事業No.6】地域コミュニティを活用した防犯体制の推進（地域安全課）",
            "今後の事業計画・展望が空欄です。次年度に向けた課題や検討内容を記入してください。",
        ],
    ]
    everything = " ".join(str(v) for r in rows for v in r if v)
    assert "依頼" not in everything and "コード" not in everything
    assert not any(p.code in everything for p in f.problems)
    # The cell's own note says the same to the department.
    note = wb[SHEET_NAME][f"{outlook}{header + 2}"].comment.text
    assert note == "【警告】今後の事業計画・展望が空欄です。次年度に向けた課題や検討内容を記入してください。"
    # The clerk still sees the secretariat's wording and the codes.
    assert "記入を依頼してください" in f.problems[1].message


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_department_wording_uses_only_the_fields_of_the_message() -> None:
    for code, text in FOR_DEPARTMENT.items():
        kind = CATALOGUE[code]
        assert kind.for_department == text
        assert _fields(text) <= _fields(kind.template), code
        assert not re.search(r"依頼|してもらって|--", text), code


def test_department_wording_falls_back_to_the_message() -> None:
    p = problem("rating-blank", codes="A・B")
    assert CATALOGUE["rating-blank"].for_department is None
    assert p.for_department == p.message
    q = problem("outlook-blank")
    assert q.for_department != q.message and q.message.endswith("記入を依頼してください。")
