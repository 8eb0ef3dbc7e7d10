"""Rebuild ``sample_data/koganei/replies/R6-1/``: the departments' reply forms, filled in (invented).

``python scripts/make_sample_replies.py`` (from the repository root, with the project's virtual
environment): a throw-away copy of the sample workspace records the invented opinions of
``sample_data/koganei/opinions/意見_R6-1.csv`` for the meeting R6-1, ``replies forms`` makes one
form per department, and each is filled in as the department would.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hyoka.forms import fit_rows  # noqa: E402
from hyoka.opinions_io import H_OPINION_ID, H_REPLY, import_opinions, write_reply_forms  # noqa: E402
from hyoka.workspace import init_workspace  # noqa: E402

SAMPLE = ROOT / "sample_data" / "koganei"
MEETING = "R6-1"
TARGET = SAMPLE / "replies" / MEETING

# (opinion No of the table, department) → the reply. Invented, in the tone of a city's 市の考え方.
REPLIES: dict[tuple[str, str], str] = {
    ("1", "福祉保健部地域福祉課"): (
        "次年度の調査票から、実績の欄に件数・参加者数などの数値を記入する欄を設け、各課に根拠となる実績を"
        "できる限り数値で記載するよう依頼します。"
    ),
    ("3", "交通対策課"): (
        "CoCoバスのルート見直しに当たっては、高齢者や障がいのある方の利用状況を調査し、移送サービスを所管する"
        "自立生活支援課と情報を共有しながら検討します。"
    ),
    ("3", "自立生活支援課"): (
        "移送サービスの利用登録者数と待機の状況を交通対策課と共有し、公共交通で移動が難しい方への支援を"
        "一体的に検討します。"
    ),
    ("4", "地域福祉課"): (
        "個別避難計画は令和5年度末で対象者の約3割の作成にとどまっています。令和8年度までに作成率6割を目標とし、"
        "民生委員・児童委員と自治会・町会に協力を依頼して作成を進めます。"
    ),
    ("4", "健康課"): "医療的ケアが必要な方については、健康課の保健師が個別避難計画の作成を支援します。",
    ("5", "介護福祉課"): (
        "認知症サポーター養成講座を、市内の大学・高校や企業に出向いて開催する形式を増やし、若い世代の参加を促します。"
    ),
    ("5", "広報秘書課"): (
        "人権講座は土日の開催やオンライン配信を取り入れ、市報・SNSで周知して、参加者の幅を広げます。"
    ),
    ("6", "地域福祉課"): (
        "相談件数の増加に対して相談員の体制が追いつかず、対応に時間を要したことからB評価としました。"
        "令和6年度は相談員を1名増員し、関係機関との連携会議を定例化して改善を図ります。"
    ),
    ("7", "地域福祉課"): (
        "補助の対象となる活動の要件が実態に合っていないため、要件を見直したうえで令和7年度に再開するか、"
        "他の補助事業に統合するかを令和6年度中に判断し、委員会に報告します。"
    ),
    ("8", "社会福祉協議会"): (
        "地域福祉ファシリテーター養成講座の修了者が地域で活動を始められるよう、社会福祉協議会が修了後の"
        "活動先の紹介と相談を行い、市と連携して担い手の育成を進めます。"
    ),
}
GOAL_REPLY = (
    "各事業の評価に当たっては、利用者アンケートや窓口に寄せられた声も参考にし、市民の実感との"
    "ずれがないかを確認します。"
)


def main() -> None:
    import openpyxl

    with tempfile.TemporaryDirectory() as tmp:
        ws_dir = Path(tmp) / "ws"
        ws = init_workspace(ws_dir, None, True)
        result = import_opinions(ws, SAMPLE / "opinions" / f"意見_{MEETING}.csv", MEETING)
        assert result.ok, [p.render() for f in result.files for p in f.problems]
        forms = write_reply_forms(ws, MEETING, Path(tmp) / "forms")
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.mkdir(parents=True)
        for form in forms:
            wb = openpyxl.load_workbook(form)
            sheet = wb["回答"]
            header = next(r for r in range(1, 40) if any(c.value == H_REPLY for c in sheet[r]))
            cols = {c.value: c.column for c in sheet[header]}
            department = next(
                str(v[1]) for v in wb["_hyoka"].iter_rows(values_only=True) if v[0] == "department"
            )
            for r in range(header + 1, sheet.max_row + 1):
                key = sheet.cell(r, cols[H_OPINION_ID]).value
                if not key:
                    continue
                no = str(key).removeprefix("T")
                text = REPLIES.get((no, department), GOAL_REPLY if no == "2" else None)
                assert text, (no, department)
                sheet.cell(r, cols[H_REPLY]).value = text
            fit_rows(sheet, range(header + 1, sheet.max_row + 1), min_height=60, grow_only=True)
            wb.save(TARGET / form.name)
            print(TARGET / form.name)


if __name__ == "__main__":
    main()
