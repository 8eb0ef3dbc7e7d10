"""The sample meeting's 資料2–4 (``sample_data/koganei/materials/``) end up in the meeting pack."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

from hyoka.collect import collect, import_table
from hyoka.report.build import make_report
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear

from .conftest import SAMPLE

R5 = FiscalYear(2023)
TWIPS_PER_MM = 1440 / 25.4


def test_pack_holds_materials_2_to_4_with_their_page_sizes(sample_ws: Workspace, tmp_path: Path) -> None:
    assert import_table(sample_ws, SAMPLE / "ratings_R4.csv", R5.previous()).ok
    assert collect(sample_ws, [SAMPLE / "returned" / "R5"], R5).ok
    result = make_report(sample_ws, R5, out_dir=tmp_path)
    assert not result.notices  # every listed material was found and is a .docx

    pack = Document(str(tmp_path / "会議資料一式_R6-1.docx"))
    body = pack.element.body
    text = "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in body.iter(qn("w:p")))
    expected = (
        "小金井市における重層的支援体制整備事業の全体像",  # 資料2
        "<一体的に取り組むことで小金井市における包括的支援体制の構築を目指す>",
        "既存の対象事業等",  # 資料3
        "包括的相談支援",
        "・小金井きた地域包括支援センター",
        "※既存の対象事業は過年度実績を基に作成しており、事業の改廃等により今後変更があり得る。",
        "実施計画策定の背景・目的",  # 資料4
        "庁内の連携体制",
        "計画の評価及び進行管理",
    )
    for phrase in expected:
        assert phrase in text, phrase
    assert text.index("包括的相談支援") < text.index("実施計画策定の背景・目的")
    labels = "".join(
        t.text or ""
        for part in pack.part.package.iter_parts()
        if part.content_type.endswith("header+xml")
        for t in part.element.iter(qn("w:t"))
    )
    assert all(label in labels for label in ("資料2", "資料3", "資料4"))

    sizes = []
    for sect in body.iter(qn("w:sectPr")):
        pg = sect.find(qn("w:pgSz"))
        sizes.append(tuple(round(int(pg.get(qn(k))) / TWIPS_PER_MM) for k in ("w:w", "w:h")))
    assert (210, 297) in sizes and (297, 210) in sizes
    # 次第, 配布資料一覧, 資料1, 資料2, 資料3, 資料4: each document its own section(s)
    assert sizes[-3:] == [(210, 297), (297, 210), (210, 297)]
