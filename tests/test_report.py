"""`hyoka report`: the rendered documents are read back with python-docx and checked for content,
merges and layout properties — never by comparing bytes."""

from __future__ import annotations

import copy
import io
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

from hyoka.plan import RowKey
from hyoka.problems import HyokaError
from hyoka.report import pdf
from hyoka.report.build import make_report, missing_message
from hyoka.report.model import MissingRow, department_lines
from hyoka.report.templates import AGENDA, ALL, EVALUATION, MATERIALS_LIST
from hyoka.resources import templates_dir
from hyoka.store import Part
from hyoka.text import circled
from hyoka.workspace import Workspace, init_workspace
from hyoka.years import FiscalYear, format_month

from .conftest import ROOT, SAMPLE, load_sample_years, read_csv, sample_r5_parts

R4, R5 = FiscalYear(2022), FiscalYear(2023)
TABLE_NAME = "資料1_進捗状況及び評価表_R5.docx"
PACK_NAME = "会議資料一式_R6-1.docx"
AGENDA_NAME = "次第_R6-1.docx"
LIST_NAME = "配布資料一覧_R6-1.docx"
DRAFT = {name: name.replace(".docx", "_案.docx") for name in (TABLE_NAME, PACK_NAME, AGENDA_NAME, LIST_NAME)}


# --- reading documents back --------------------------------------------------------------------------


@dataclass
class GridCell:
    text: str
    paras: list[str]
    span: int
    vmerge: str | None  # "restart", "continue" or None
    first_continues: bool = False  # the first paragraph goes on from the row above (no indent)


def _text(p: Any) -> str:
    """A paragraph's text with line breaks (w:br) as newlines."""
    return "".join((n.text or "") if n.tag == qn("w:t") else "\n" for n in p.iter(qn("w:t"), qn("w:br")))


def _paras(node: Any) -> list[str]:
    return [_text(p) for p in node.iter(qn("w:p"))]


def _continues(p: Any) -> bool:
    """A paragraph without first-line indent: the rest of one cut at the end of the row above."""
    ind = p.find(f"{qn('w:pPr')}/{qn('w:ind')}")
    return ind is not None and ind.get(qn("w:firstLineChars")) == "0"


def grid(tbl: Any) -> list[list[GridCell]]:
    """Rows of a table as cells (spans kept), straight from the XML: table.cell() is quadratic."""
    rows = []
    for tr in tbl.iter(qn("w:tr")):
        cells = []
        for tc in tr.iter(qn("w:tc")):
            pr = tc.find(qn("w:tcPr"))
            span = pr.find(qn("w:gridSpan")) if pr is not None else None
            vm = pr.find(qn("w:vMerge")) if pr is not None else None
            ps = [p for p in tc.iter(qn("w:p")) if _text(p)]
            paras = [_text(p) for p in ps]
            cells.append(
                GridCell(
                    "\n".join(paras),
                    paras,
                    int(span.get(qn("w:val"))) if span is not None else 1,
                    (vm.get(qn("w:val")) or "continue") if vm is not None else None,
                    bool(ps) and _continues(ps[0]),
                )
            )
        rows.append(cells)
    return rows


def _breaks_page(tr: Any) -> bool:
    """A table row that begins a new page: a page break before its first paragraph."""
    p = tr.find(f"{qn('w:tc')}/{qn('w:p')}")
    return p is not None and p.find(f"{qn('w:pPr')}/{qn('w:pageBreakBefore')}") is not None


def size_mm(section: Any) -> tuple[int, int]:
    return round(section.page_width.mm), round(section.page_height.mm)


def doc_text(doc: Any) -> str:
    return "\n".join(p for p in _paras(doc.element.body) if p)


def header_texts(doc: Any) -> list[str]:
    out = []
    for s in doc.sections:
        for part in (s.header, s.first_page_header):
            if not part.is_linked_to_previous:
                out.append("".join(_paras(part._element)))
    return out


@dataclass
class TableRow:
    policy: str
    measure: str
    project: str
    departments: list[str]
    achievement: list[str]
    prior: str
    rating: str
    outlook: list[str]


def _joined(above: list[str], cell: GridCell) -> list[str]:
    """The paragraphs of a narrative cell after those of the row above, a cut paragraph made whole."""
    if cell.first_continues and above:
        return [*above[:-1], above[-1] + cell.paras[0], *cell.paras[1:]]
    return [*above, *cell.paras]


def evaluation_rows(doc: Any, *, pieces: list[int] | None = None) -> list[TableRow]:
    """The department rows of every 基本施策 table, with the merged cells carried down.

    A department row continued in rows of its own (a text taller than a page; those rows have no
    ratings) is read back as one; ``pieces`` gets how many table rows each department row took.
    """
    out: list[TableRow] = []
    for tbl in doc.element.body.iter(qn("w:tbl")):
        rows = grid(tbl)
        labels = {r[0].text: r[1].text for r in rows if len(r) == 3 and r[0].span == 2}
        if "基本施策" not in labels:
            continue  # the summary tables
        measure = project = ""
        for r in rows:
            if len(r) != 7 or r[0].text == "施策":
                continue
            if r[0].vmerge != "continue":
                measure, project = r[0].text, r[1].text
            if not r[4].text and not r[5].text:  # the text of the row above goes on
                above = out[-1]
                assert above.departments == r[2].paras and project.endswith("（続き）"), project
                above.achievement = _joined(above.achievement, r[3])
                above.outlook = _joined(above.outlook, r[6])
                if pieces is not None:
                    pieces[-1] += 1
                continue
            out.append(
                TableRow(
                    labels["基本施策"],
                    measure,
                    project,
                    r[2].paras,
                    r[3].paras,
                    r[4].text,
                    r[5].text,
                    r[6].paras,
                )
            )
            if pieces is not None:
                pieces.append(1)
    return out


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    """The sample, fully collected, reported once for the read-back tests of this module."""
    ws = init_workspace(tmp_path_factory.mktemp("sample") / "ws", None, sample=True)
    # The Koganei list always says what is handed out on the day (its meeting sets this option).
    ws = _meeting_option(ws, "show_empty_distributions", "true")
    load_sample_years(ws)
    out = ws.root / "out"
    make_report(ws, R5, out_dir=out)
    return ws, out


def _meeting_option(ws: Workspace, key: str, value: str | None) -> Workspace:
    """Set (or with None remove) a key of the sample's meeting R6-1 in the workspace's hyoka.toml."""
    path = ws.root / "hyoka.toml"
    text = re.sub(rf"(?m)^{key}\s*=.*\n", "", path.read_text(encoding="utf-8"))
    if value is not None:
        assert 'report_year = "R5"\n' in text
        text = text.replace('report_year = "R5"\n', f'report_year = "R5"\n{key} = {value}\n', 1)
    path.write_text(text, encoding="utf-8")
    return Workspace.load(ws.root)


def _set_config(ws: Workspace, old: str, new: str) -> Workspace:
    path = ws.root / "hyoka.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return Workspace.load(ws.root)


def _without_meetings(ws: Workspace) -> Workspace:
    path = ws.root / "hyoka.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[[meetings]]")], encoding="utf-8")
    return Workspace.load(ws.root)


def _store(ws: Workspace, year: FiscalYear, parts: list[Part], name: str) -> None:
    with ws.store() as store:
        store.add_submission(
            year=year,
            submitter="",
            kind="import",
            file_name=name,
            file_path=name,
            sha256=name,
            parts=parts,
            replace_rows=True,
        )


def _r4_parts() -> list[Part]:
    return [
        Part(r["事業No"], r["担当課"], "", r["事業評価"], "", "") for r in read_csv(SAMPLE / "ratings_R4.csv")
    ]


def _png() -> bytes:
    raw = b"".join(b"\x00" + b"\xc8\x1e\x1e" * 8 for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 8, 4, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


# --- the evaluation table ----------------------------------------------------------------------------


def test_all_57_rows_with_both_ratings_and_texts_under_their_policy(rendered: tuple[Workspace, Path]) -> None:
    ws, out = rendered
    rows = evaluation_rows(Document(str(out / TABLE_NAME)))
    plan = ws.plan
    assert len(rows) == 57 == len(plan.rows)
    r4 = {(r["事業No"], r["担当課"]): r["事業評価"] for r in read_csv(SAMPLE / "ratings_R4.csv")}
    entries: dict[RowKey, list[dict[str, str]]] = {}
    for e in read_csv(SAMPLE / "entries_R5.csv"):
        entries.setdefault((e["事業No"], e["担当課"]), []).append(e)
    for row, got in zip(plan.rows, rows, strict=True):
        where = f"事業No.{row.project_no} {row.department}"
        assert got.policy == row.policy, where
        assert got.measure == f"({row.measure_no})", where
        assert f"【事業No.{row.project_no}】" in got.project and row.project_name in got.project, where
        assert ("【新規】" in got.project) == row.is_new, where
        assert "".join(got.departments) == row.department.replace("・", ""), where
        assert got.prior == r4[row.key], where
        assert got.rating == entries[row.key][0]["事業評価"], where
        parts = entries[row.key]
        assert got.achievement == [p for e in parts for p in e["事業実績・評価理由"].split("\n") if p], where
        assert got.outlook == [p for e in parts for p in e["今後の事業計画・展望"].split("\n") if p], where


def test_ratings_match_the_seed_document(rendered: tuple[Workspace, Path]) -> None:
    # Spot checks read off the committee's own 資料1 (shared/seeds): (事業No, 担当課) → (前年度, 今年度).
    seed = {
        ("1", "地域福祉課"): ("A", "A"),
        ("6", "地域安全課"): ("B", "B"),
        ("11", "地域福祉課"): ("B", "A"),
        ("18", "自立生活支援課"): ("D", "A"),
        ("24", "地域福祉課"): ("A", "B"),
        ("37", "地域福祉課"): ("D", "D"),
        ("41", "地域福祉課"): ("A", "B"),
    }
    ws, out = rendered
    rows = dict(
        zip((r.key for r in ws.plan.rows), evaluation_rows(Document(str(out / TABLE_NAME))), strict=True)
    )
    for key, (prior, now) in seed.items():
        assert (rows[key].prior, rows[key].rating) == (prior, now), key


def test_joint_departments_each_on_their_own_line() -> None:
    assert department_lines("介護福祉課・広報秘書課") == ("介護福祉課", "広報秘書課")
    assert department_lines("地域福祉課(社会福祉協議会)") == ("地域福祉課", "(社会福祉協議会)")
    assert department_lines("指導室") == ("指導室",)


def test_merges_repeated_header_rows_cant_split_and_keep_together(rendered: tuple[Workspace, Path]) -> None:
    ws, out = rendered
    body = Document(str(out / TABLE_NAME)).element.body
    # A project that does not fit on the rest of a page goes on from the next page, after a page
    # break before its row, its label marked （続き） there and only there.
    rows = evaluation_rows(Document(str(out / TABLE_NAME)))
    continued = {r.project.split("\n")[0] for r in rows if r.project.endswith("（続き）")}
    assert continued
    policy_tables = [t for t in body.iter(qn("w:tbl")) if "基本施策" in _paras(t)]
    assert len(policy_tables) == len(ws.plan.policies()) == 9
    merges: dict[str, list[str | None]] = {}  # project → the 施策 cell's vMerge, row by row
    for tbl in policy_tables:
        data = [tr for tr in tbl.iter(qn("w:tr")) if len(tr.findall(qn("w:tc"))) == 7][1:]
        for tr, r in zip(data, grid_rows(data), strict=True):
            assert r[1].text.endswith("（続き）") == _breaks_page(tr), r[1].text
        project = ""
        for r in grid_rows(data):
            if r[0].vmerge != "continue":
                project = r[1].paras[0]
            merges.setdefault(project, []).append(r[0].vmerge)
    # 施策 and project cell merged over the rows of each project with several departments that is
    # not continued; the summary's 基本目標 head is the one other merge.
    restarts = [v for v in body.iter(qn("w:vMerge")) if v.get(qn("w:val")) == "restart"]
    assert len(restarts) == 2 * sum(m.count("restart") for m in merges.values()) + 1
    for pr in (pr for p in ws.plan.policies() for m in p.measures for pr in m.projects):
        heading = f"{circled(pr.index)}【事業No.{pr.no}】"
        if len(pr.rows) > 1 and heading not in continued:
            assert merges[heading] == ["restart"] + ["continue"] * (len(pr.rows) - 1), heading
    for tbl in policy_tables:
        trs = list(tbl.iter(qn("w:tr")))
        header = [tr.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None for tr in trs]
        n = header.index(False)
        assert n >= 4 and not any(header[n:]), "tblHeader only on the leading rows"
        assert "施策" in _paras(trs[n - 1]) and "今後の事業計画・展望" in _paras(trs[n - 1])
        assert all(tr.find(qn("w:trPr")).find(qn("w:cantSplit")) is not None for tr in trs)
        # schema order: cantSplit before tblHeader
        first = [c.tag for c in trs[0].find(qn("w:trPr"))]
        assert first.index(qn("w:cantSplit")) < first.index(qn("w:tblHeader"))
        layout = tbl.find(qn("w:tblPr")).find(qn("w:tblLayout"))
        assert layout.get(qn("w:type")) == "fixed"
        assert len(tbl.find(qn("w:tblGrid"))) == 8
        assert all(tc.find(qn("w:tcPr")).find(qn("w:tcW")) is not None for tc in tbl.iter(qn("w:tc")))
    # A project's rows stay together: all but its last row keep with the next.
    kept = [p for p in body.iter(qn("w:p")) if p.find(f"{qn('w:pPr')}/{qn('w:keepNext')}") is not None]
    assert kept


def test_a4_landscape_fonts_page_numbers_and_material_label(rendered: tuple[Workspace, Path]) -> None:
    _, out = rendered
    doc = Document(str(out / TABLE_NAME))
    (section,) = doc.sections
    assert size_mm(section) == (297, 210)
    styles = doc.styles.element
    rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == fonts.get(qn("w:ascii")) == "BIZ UD明朝"
    assert not [a for a in fonts.attrib if a.endswith("Theme") or a.endswith("theme")]
    assert rpr.find(qn("w:lang")).get(qn("w:eastAsia")) == "ja-JP"
    normal = doc.styles["Normal"].element.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert normal.get(qn("w:eastAsia")) == "BIZ UD明朝"
    assert not any(a.endswith(("Theme", "theme")) for f in styles.iter(qn("w:rFonts")) for a in f.attrib)
    footer = "".join(t.text for t in section.footer._element.iter(qn("w:instrText")))
    assert "PAGE" in footer and "NUMPAGES" in footer
    assert "資料1" in "".join(_paras(section.first_page_header._element))
    assert "案" not in "".join(header_texts(doc))
    text = doc_text(doc)
    for expected in (
        "地域福祉計画の進捗状況及び評価表",
        "(令和5年度実績報告)",
        "令和6年8月",
        "福祉保健部地域福祉課",
        "【事業評価の評価基準】",
        "A・・・　ほぼ施策内容を達成した。",
        "D・・・　未実施",
        "※「今後の事業計画・展望」に次年度に向けての課題、検討内容について記載する。",
    ):
        assert expected in text
    assert "[[hyoka:tables]]" not in text and "{{" not in text


def test_configured_fonts_replace_the_template_fonts(sample_ws_loaded: Workspace, tmp_path: Path) -> None:
    ws = _set_config(sample_ws_loaded, 'font_mincho = "BIZ UD明朝"', 'font_mincho = "MS 明朝"')
    make_report(ws, R5, out_dir=tmp_path)
    doc = Document(str(tmp_path / TABLE_NAME))
    fonts = doc.styles.element.find(qn("w:docDefaults")).find(f".//{qn('w:rFonts')}")
    assert fonts.get(qn("w:eastAsia")) == "MS 明朝"
    gothic = doc.styles["表 列見出し"].element.find(f".//{qn('w:rFonts')}")
    assert gothic.get(qn("w:eastAsia")) == "BIZ UDゴシック"


def test_summary_counts_and_changes_follow_the_scale(rendered: tuple[Workspace, Path]) -> None:
    _, out = rendered
    body = Document(str(out / TABLE_NAME)).element.body
    counts, changes = [grid(t) for t in body.iter(qn("w:tbl"))][:2]
    assert [c.text for c in counts[0]] == ["基本目標", "A", "B", "C", "D", "計"]
    # last year left of this year, as in the changed ratings below (a change reads left to right)
    assert [c.text for c in counts[1][1:]] == ["令和4年度", "令和5年度"] * 5
    assert [c.text for c in changes[0][3:5]] == ["令和4年度", "令和5年度"]
    total = counts[-1]
    assert total[0].text == "合計"
    # last year and this year side by side: A 27/29, B 28/27, C 0/0, D 2/1, total 57/57
    assert [c.text for c in total[1:]] == ["27", "29", "28", "27", "0", "0", "2", "1", "57", "57"]
    changed = {(r[1].text.split("】")[0] + "】", r[3].text, r[4].text, r[5].text) for r in changes[1:]}
    assert ("②【事業No.11】", "B", "A", "↑ 上昇") in changed
    assert ("①【事業No.18】", "D", "A", "↑ 上昇") in changed
    assert ("②【事業No.24】", "A", "B", "↓ 低下") in changed


def test_special_characters_and_control_characters_survive(
    sample_ws_loaded: Workspace, tmp_path: Path
) -> None:
    text = "A&B <会議> x>y ①②\x0b改行の後\x01制御\ufffe文字"
    _store(sample_ws_loaded, R5, [Part("1", "地域福祉課", "", "A", text, "続き & <次>")], "special")
    ws = _set_config(
        sample_ws_loaded, 'place = "市役所第二庁舎8階 801会議室"', 'place = "第1会議室 & <別館>"'
    )
    make_report(ws, R5, out_dir=tmp_path)
    row = evaluation_rows(Document(str(tmp_path / TABLE_NAME)))[0]
    assert row.achievement == ["A&B <会議> x>y ①②", "改行の後制御文字"]
    assert row.outlook == ["続き & <次>"]
    assert "場　所　第1会議室 & <別館>" in doc_text(Document(str(tmp_path / AGENDA_NAME)))


def test_draft_marks_header_and_missing_rows(sample_ws: Workspace, tmp_path: Path, run: Any) -> None:
    _store(sample_ws, R4, _r4_parts(), "r4")
    # 広報秘書課 has sent nothing: its own rows and its part of the joint row 9 are missing.
    _store(sample_ws, R5, sample_r5_parts(lambda r: r["提出課"] == "広報秘書課"), "r5")
    result = run("report", "--year", "R5", "--draft", "--out", tmp_path, "-w", sample_ws.root)
    assert result.exit_code == 0, result.output
    assert "未提出の行が 3 行" in result.output
    # A draft's file names say 「案」 (and leave the final documents' names alone).
    assert sorted(p.name for p in tmp_path.glob("*.docx")) == sorted(DRAFT.values())
    doc = Document(str(tmp_path / DRAFT[TABLE_NAME]))
    assert all("案" in h for h in header_texts(doc))
    rows = {(r.project.split("】")[0] + "】"): r for r in evaluation_rows(doc)}
    assert rows["②【事業No.19】"].rating == "未提出" and rows["②【事業No.19】"].achievement == ["未提出"]
    joint = rows["②【事業No.9】"]
    assert joint.rating == "A" and joint.achievement[-1] == "（広報秘書課 未提出）"
    # 次第 and 配布資料一覧 say 「案」 too, boxed at the top right like 資料1's header, alone and in the pack
    for name in (AGENDA_NAME, LIST_NAME):
        (header,) = header_texts(Document(str(tmp_path / DRAFT[name])))
        assert header == "案", name
    pack = Document(str(tmp_path / DRAFT[PACK_NAME]))
    assert [h for h in header_texts(pack)[:2]] == ["案", "案"]  # 次第, 配布資料一覧
    mark = next(r for r in pack.sections[0].header._element.iter(qn("w:r")) if _text(r) == "案")
    style = mark.find(qn("w:rPr")).find(qn("w:rStyle")).get(qn("w:val"))
    assert pack.styles.element.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style}']") is not None
    assert next(s for s in pack.styles if s.style_id == style).name == "案"  # shared with 資料1's
    mark_para = next(p for p in pack.sections[0].header.paragraphs if p.text)
    assert mark_para.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    # the documents' titles (what a PDF keeps and a screen reader announces) say it as well
    titles = {name: Document(str(tmp_path / DRAFT[name])).core_properties.title for name in DRAFT}
    assert titles == {
        TABLE_NAME: "地域福祉計画の進捗状況及び評価表（案）",
        AGENDA_NAME: "令和6年度第1回小金井市地域福祉推進委員会次第（案）",
        LIST_NAME: "小金井市地域福祉推進委員会 配布資料一覧（案）",
        PACK_NAME: "令和6年度第1回小金井市地域福祉推進委員会 会議資料（案）",
    }


def test_draft_summary_says_not_submitted_and_its_heads_fit_on_one_line(
    midori_ws: Workspace, tmp_path: Path
) -> None:
    # The second city's four-level scale with 未提出 and 計: twelve count columns under the years.
    r5, r6 = FiscalYear(2023), FiscalYear(2024)
    _store(
        midori_ws, r5, [Part(r.project_no, r.department, "", "A", "", "") for r in midori_ws.plan.rows], "r5"
    )
    _store(
        midori_ws,
        r6,
        [Part(r.project_no, r.department, "", "B", "実績", "今後") for r in midori_ws.plan.rows[1:]],
        "r6",
    )
    make_report(midori_ws, r6, out_dir=tmp_path, draft=True)
    body = Document(str(tmp_path / "資料1_進捗状況及び評価表_R6_案.docx")).element.body
    counts = next(body.iter(qn("w:tbl")))
    rows = grid(counts)
    assert [c.text for c in rows[0]] == ["基本目標", "S", "A", "B", "C", "未提出", "計"]
    assert [c.text for c in rows[-1][9:11]] == ["0", "1"]  # 未提出: last year none, this year one
    widths = [int(c.get(qn("w:w"))) / 1440 * 25.4 for c in counts.find(qn("w:tblGrid"))]
    margins = counts.find(qn("w:tblPr")).find(qn("w:tblCellMar"))
    pad = 2 * int(margins.find(qn("w:left")).get(qn("w:w"))) / 1440 * 25.4
    # 「令和5年度」 at the 9 pt of the heads: 4 full-width characters, a digit and the automatic space
    # around it (5 em) must fit in each count column, within its cell margins.
    assert min(widths[1:]) - pad >= 5 * 9 * 25.4 / 72
    assert sum(widths) == pytest.approx(267, abs=0.5)
    assert widths[0] >= 40  # the 基本目標 names keep room


def test_missing_rows_without_draft_are_refused_and_named(
    sample_ws: Workspace, tmp_path: Path, run: Any
) -> None:
    _store(sample_ws, R5, sample_r5_parts(lambda r: r["提出課"] in {"広報秘書課", "公民館"}), "r5")
    result = run("report", "--year", "R5", "--out", tmp_path / "out", "-w", sample_ws.root)
    assert result.exit_code == 1
    assert "未提出 4 行" in result.output
    assert "広報秘書課: 事業No.9（介護福祉課・広報秘書課）、事業No.19、事業No.21" in result.output
    assert "公民館: 事業No.32" in result.output
    assert "--draft" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_missing_message_groups_rows_by_department() -> None:
    text = missing_message(
        "令和5年度",
        [
            MissingRow("9", "介護福祉課・広報秘書課", ("広報秘書課",)),
            MissingRow("3", "交通対策課", ("交通対策課",)),
        ],
    )
    assert "広報秘書課: 事業No.9（介護福祉課・広報秘書課）" in text
    assert "交通対策課: 事業No.3\n" in text


def test_no_meeting_gives_the_table_only_dated_today(
    sample_ws_loaded: Workspace, tmp_path: Path, run: Any
) -> None:
    ws = _without_meetings(sample_ws_loaded)
    result = run("report", "--year", "R5", "--out", tmp_path / "out", "-w", ws.root)
    assert result.exit_code == 0, result.output
    assert "会議が hyoka.toml にない" in result.output
    (only,) = (tmp_path / "out").iterdir()
    assert only.name == "進捗状況及び評価表_R5.docx"
    doc = Document(str(only))
    assert format_month(date.today()) in doc_text(doc)
    assert "資料" not in "".join(header_texts(doc))


def test_unknown_meeting_is_a_clear_error(sample_ws_loaded: Workspace, run: Any) -> None:
    result = run("report", "--year", "R5", "--meeting", "R9-9", "-w", sample_ws_loaded.root)
    assert result.exit_code == 1 and "R9-9" in result.output and "R6-1" in result.output


# --- agenda, materials list, pack --------------------------------------------------------------------


def test_agenda_page(rendered: tuple[Workspace, Path]) -> None:
    _, out = rendered
    doc = Document(str(out / AGENDA_NAME))
    text = doc_text(doc)
    for expected in (
        "令和6年度第1回小金井市地域福祉推進委員会次第",
        "日　時　令和6年8月19日(月)",
        "午前10時00分から",
        "場　所　市役所第二庁舎8階 801会議室",
        "1　開　会",
        "2　議　事",
        "(1)　地域福祉計画の進捗状況及び評価表(令和5年度実績報告)",
        "(2)　重層的支援体制の整備について",
        "(3)　次回日程について",
        "3　配布資料",
        "別紙配布資料一覧のとおり",
    ):
        assert expected in text, expected
    section = doc.sections[0]
    assert size_mm(section) == (210, 297)
    assert header_texts(doc) == [""]  # no 「案」 without --draft


def test_agenda_place_holds_thirty_characters_on_one_line(rendered: tuple[Workspace, Path]) -> None:
    _, out = rendered
    doc = Document(str(out / AGENDA_NAME))
    section = doc.sections[0]
    meta = next(p for p in doc.paragraphs if p.text.startswith("場　所"))
    fmt = meta.style.paragraph_format
    # the value starts at the hanging indent's left edge and runs to the right margin
    room = section.page_width - section.left_margin - section.right_margin - fmt.left_indent
    assert -fmt.first_line_indent >= meta.style.font.size * 4  # 「場　所　」 before the value
    assert room >= meta.style.font.size * 30


def test_materials_list_with_the_on_the_day_row(rendered: tuple[Workspace, Path]) -> None:
    _, out = rendered
    doc = Document(str(out / LIST_NAME))
    assert doc_text(doc).startswith("小金井市地域福祉推進委員会\n配布資料一覧")
    rows = grid(next(doc.element.body.iter(qn("w:tbl"))))
    assert [c.text for c in rows[0]] == ["会議", "資料No.", "資料名", "備考"]
    body = [[c.text for c in r] for r in rows[1:]]
    assert body[0] == ["第1回\n(8月19日)", "1", "地域福祉計画 進捗状況調査表(R5実績)", "事前配布"]
    assert [r[1:] for r in body] == [
        ["1", "地域福祉計画 進捗状況調査表(R5実績)", "事前配布"],
        ["2", "重層的支援体制整備事業 全体像等について", "事前配布"],
        ["3", "重層的支援体制整備事業 全体像例", "事前配布"],
        ["4", "重層的支援体制整備事業 実施計画骨子案", "事前配布"],
        ["—", "", "当日配布"],
    ]
    # the meeting column is one merged cell down the whole list
    assert [r[0].vmerge for r in rows[1:]] == ["restart"] + ["continue"] * 4


@pytest.mark.parametrize(("value", "rows"), [(None, 4), ("false", 4), ("true", 5)])
def test_the_on_the_day_row_is_the_meetings_choice(
    sample_ws_loaded: Workspace, tmp_path: Path, value: str | None, rows: int
) -> None:
    ws = _meeting_option(sample_ws_loaded, "show_empty_distributions", value)
    make_report(ws, R5, out_dir=tmp_path)
    body = grid(next(Document(str(tmp_path / LIST_NAME)).element.body.iter(qn("w:tbl"))))[1:]
    assert len(body) == rows
    assert (body[-1][1].text == "—") == (rows == 5)


def test_the_on_the_day_option_must_be_true_or_false(sample_ws_loaded: Workspace, run: Any) -> None:
    with pytest.raises(HyokaError, match="show_empty_distributions"):
        _meeting_option(sample_ws_loaded, "show_empty_distributions", '"yes"')
    result = run("report", "--year", "R5", "-w", sample_ws_loaded.root)
    assert result.exit_code == 1
    assert "show_empty_distributions は true か false" in result.output and "Traceback" not in result.output


def test_pack_holds_agenda_list_and_table_in_their_own_sections(rendered: tuple[Workspace, Path]) -> None:
    _, out = rendered
    doc = Document(str(out / PACK_NAME))
    text = doc_text(doc)
    order = [
        text.index("令和6年度第1回小金井市地域福祉推進委員会次第"),
        text.index("小金井市地域福祉推進委員会\n配布資料一覧"),
        text.index("地域福祉計画の進捗状況及び評価表\n(令和5年度実績報告)"),
    ]
    assert order == sorted(order)
    assert len(evaluation_rows(doc)) == 57
    # 次第, 配布資料一覧, 資料1, then the sample's 資料2 (portrait), 資料3 (landscape), 資料4 (portrait)
    assert [size_mm(s) for s in doc.sections] == [
        (210, 297),
        (210, 297),
        (297, 210),
        (210, 297),
        (297, 210),
        (210, 297),
    ]
    # each document after the first starts a new page and numbers its own pages
    for s in doc.sections[1:]:
        assert s._sectPr.find(qn("w:type")).get(qn("w:val")) == "nextPage"
        assert s._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    table_section = doc.sections[2]
    assert "資料1" in "".join(_paras(table_section.first_page_header._element))
    footer = table_section.footer._element
    assert "PAGE" in "".join(t.text for t in footer.iter(qn("w:instrText")))
    assert "NUMPAGES" not in "".join(t.text for t in footer.iter(qn("w:instrText")))
    # the agenda's sections get empty headers rather than inheriting anything
    assert "資料1" not in "".join(_paras(doc.sections[1].header._element))


def test_pack_appends_a_docx_material_with_its_images_lists_and_header(
    sample_ws_loaded: Workspace, tmp_path: Path
) -> None:
    material = sample_ws_loaded.root / "materials" / "資料2.docx"
    material.parent.mkdir(exist_ok=True)
    m = Document()
    sec = m.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    m.styles["Normal"].font.size = Pt(12)  # differs from the pack's Normal
    sec.header.paragraphs[0].text = "資料2 のヘッダー"
    m.add_paragraph("全体像の説明 & <注>")
    m.add_paragraph("箇条書き", style="List Bullet")
    m.add_picture(io.BytesIO(_png()), width=Mm(30))
    m.save(str(material))
    ws = _set_config(
        sample_ws_loaded,
        'file = "materials/資料2_重層的支援体制整備事業_全体像等について.docx"',
        'file = "materials/資料2.docx"',
    )
    result = make_report(ws, R5, out_dir=tmp_path)
    assert not result.notices
    pack = Document(str(tmp_path / PACK_NAME))
    text = doc_text(pack)
    assert "全体像の説明 & <注>\n箇条書き" in text
    assert text.index("箇条書き") < text.index("既存の対象事業等")  # the sample's 資料3 follows
    assert len(pack.sections) == 6  # 次第, 一覧, 資料1, this 資料2, the sample's 資料3 and 資料4
    last = pack.sections[3]
    assert "資料2 のヘッダー" in "".join(_paras(last.header._element))
    assert "資料1" not in "".join(_paras(last.header._element))
    assert len(pack.inline_shapes) == 1
    image = pack.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert pack.part.related_parts[image].blob == _png()
    # its paragraphs keep their own default style (12 pt), not the pack's
    para = next(p for p in pack.element.body.iter(qn("w:p")) if "全体像の説明" in _text(p))
    sid = para.find(qn("w:pPr")).find(qn("w:pStyle")).get(qn("w:val"))
    copied = next(s for s in pack.styles if s.style_id == sid)
    assert copied.font.size == Pt(12)
    # a list keeps a numbering definition that exists in the pack
    num = next(pack.element.body.iter(qn("w:numId")), None)
    if num is not None:
        ids = {n.get(qn("w:numId")) for n in pack.part.numbering_part.element.findall(qn("w:num"))}
        assert num.get(qn("w:val")) in ids


def test_material_that_is_not_docx_is_listed_only(sample_ws_loaded: Workspace, tmp_path: Path) -> None:
    ws = _set_config(
        sample_ws_loaded,
        'file = "materials/資料3_重層的支援体制整備事業_全体像例.docx"',
        'file = "全体像例.pdf"',
    )
    (ws.root / "全体像例.pdf").write_bytes(b"%PDF-1.4\n")
    result = make_report(ws, R5, out_dir=tmp_path)
    assert any("資料3" in n and "一覧にのみ記載" in n for n in result.notices)
    assert "全体像例" in doc_text(Document(str(tmp_path / LIST_NAME)))


def test_missing_material_file_is_an_error_unless_draft(
    sample_ws_loaded: Workspace, tmp_path: Path, run: Any
) -> None:
    ws = _set_config(
        sample_ws_loaded,
        'file = "materials/資料3_重層的支援体制整備事業_全体像例.docx"',
        'file = "materials/資料3_全体像例.docx"',
    )
    path = ws.root / "materials" / "資料3_全体像例.docx"
    out = tmp_path / "out"
    result = run("report", "--year", "R5", "--out", out, "-w", ws.root)
    assert result.exit_code == 1, result.output
    assert "資料3「重層的支援体制整備事業 全体像例」" in result.output and str(path) in result.output
    assert "--draft" in result.output and "Traceback" not in result.output
    assert not out.exists()  # checked before anything is written

    result = run("report", "--year", "R5", "--draft", "--out", out, "-w", ws.root)
    assert result.exit_code == 0, result.output
    assert "お知らせ: 資料3「重層的支援体制整備事業 全体像例」 のファイルが見つからない" in result.output
    assert str(path) in result.output
    pack = doc_text(Document(str(out / DRAFT[PACK_NAME])))
    assert "実施計画策定の背景・目的" in pack and "既存の対象事業等" not in pack  # 資料4 in, 資料3 not
    assert "重層的支援体制整備事業 全体像例" in doc_text(Document(str(out / DRAFT[LIST_NAME])))


# --- templates ---------------------------------------------------------------------------------------


def test_packaged_templates_exist_and_are_what_the_script_builds(
    tmp_path: Path, sample_ws_loaded: Workspace
) -> None:
    assert sorted(p.name for p in templates_dir().glob("*.docx")) == sorted(ALL)
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_templates.py"), str(fresh)], check=True)
    # Every freshly built template renders (the agenda and list through docxtpl, 資料1's base too).
    make_report(sample_ws_loaded, R5, out_dir=tmp_path / "out", templates_dir=fresh)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted([TABLE_NAME, AGENDA_NAME, LIST_NAME, PACK_NAME])
    for name in ALL:
        shipped = Document(str(templates_dir() / name))
        built = Document(str(fresh / name))
        assert [s.name for s in shipped.styles] == [s.name for s in built.styles], name
        assert doc_text(shipped) == doc_text(built), name


@pytest.mark.parametrize(
    ("template", "broken", "named"),
    [
        (AGENDA, "{{ nendo", "{{ nendo"),
        (MATERIALS_LIST, "{% if committee %}開始", "if committee"),
        (EVALUATION, "{{ comittee }}", "comittee"),
    ],
)
def test_broken_template_names_the_file_and_the_tag(
    sample_ws_loaded: Workspace, tmp_path: Path, run: Any, template: str, broken: str, named: str
) -> None:
    own = sample_ws_loaded.root / "templates"
    own.mkdir()
    doc = Document(str(templates_dir() / template))
    doc.add_paragraph(broken)
    doc.save(str(own / template))
    result = run("report", "--year", "R5", "--out", tmp_path / "out", "-w", sample_ws_loaded.root)
    assert result.exit_code == 1, result.output
    assert template in result.output and named in result.output
    assert "Traceback" not in result.output


def _edit_text(doc: Any, old: str, new: str) -> None:
    """Replace ``old`` in the one text node of the template that holds it."""
    nodes = [t for t in doc.element.iter(qn("w:t")) if t.text and old in t.text]
    assert len(nodes) == 1, old
    nodes[0].text = nodes[0].text.replace(old, new)


def _split_runs(paragraph: Any, pieces: list[str]) -> None:
    """Give the paragraph one run per piece, as Word does with a tag typed in several goes."""
    for run in list(paragraph.runs):
        run._r.getparent().remove(run._r)
    for piece in pieces:
        paragraph.add_run(piece)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda doc: _edit_text(doc, "{{ place }}", "{{ place }"), "タグ「{{ place }」が閉じていません"),
        (
            lambda doc: doc.add_paragraph("{% for a in agenda %"),
            "タグ「{% for a in agenda %」が閉じていません",
        ),
        (
            lambda doc: _edit_text(doc, "{{ place }}", "{ place }}"),
            "「場　所　{ place }}」の「}}」に対応する「{{」がありません",
        ),
        # Word splits a tag over runs; the runs are read as one text.
        (
            lambda doc: _split_runs(doc.add_paragraph(), ["場所 {", "{ pla", "ce }", "（会場）"]),
            "タグ「{{ place }（会場）」が閉じていません",
        ),
    ],
    ids=["unclosed-expression", "unclosed-statement", "stray-closer", "split-runs"],
)
def test_unbalanced_tag_stops_the_report_before_rendering(
    sample_ws_loaded: Workspace, tmp_path: Path, run: Any, edit: Callable[[Any], None], named: str
) -> None:
    # Jinja would render all of these without an error: a lone }} is text, and an unclosed {{ swallows
    # what follows up to the next }} — the 次第 would lose its place, 開会, 議事 and every agenda item.
    own = sample_ws_loaded.root / "templates"
    own.mkdir()
    doc = Document(str(templates_dir() / AGENDA))
    edit(doc)
    doc.save(str(own / AGENDA))
    out = tmp_path / "out"
    result = run("report", "--year", "R5", "--out", out, "-w", sample_ws_loaded.root)
    assert result.exit_code == 1, result.output
    assert f"{AGENDA}: " in result.output and named in result.output, result.output
    assert str(own / AGENDA) in result.output
    assert "Traceback" not in result.output
    assert not (out / AGENDA_NAME).exists()


def test_unbalanced_tags_in_table_cells_and_headers_are_found(
    sample_ws_loaded: Workspace, tmp_path: Path
) -> None:
    own = sample_ws_loaded.root / "templates"
    own.mkdir()
    doc = Document(str(templates_dir() / MATERIALS_LIST))
    _edit_text(doc, "{{ m.title }}", "{{ m.title }")
    doc.save(str(own / MATERIALS_LIST))
    with pytest.raises(
        HyokaError, match=r"materials_list\.docx: 表のタグ「\{\{ m\.title \}」が閉じていません"
    ):
        make_report(sample_ws_loaded, R5, out_dir=tmp_path)
    (own / MATERIALS_LIST).unlink()
    doc = Document(str(templates_dir() / EVALUATION))
    header = doc.sections[0].header
    _split_runs(
        header.add_paragraph(), ["{% if draft_mark %", "}（案）{% endif ", "%} {{ material", "_label }"]
    )
    doc.save(str(own / EVALUATION))
    with pytest.raises(HyokaError) as info:
        make_report(sample_ws_loaded, R5, out_dir=tmp_path)
    assert str(info.value).startswith(
        f"{EVALUATION}: ヘッダーのタグ「{{{{ material_label }}」が閉じていません"
    )


def test_template_that_is_not_a_docx(sample_ws_loaded: Workspace, tmp_path: Path) -> None:
    own = sample_ws_loaded.root / "templates"
    own.mkdir()
    (own / AGENDA).write_bytes(b"not a zip")
    with pytest.raises(HyokaError, match=r"agenda\.docx"):
        make_report(sample_ws_loaded, R5, out_dir=tmp_path)


def test_workspace_templates_override_the_packaged_ones(sample_ws_loaded: Workspace, tmp_path: Path) -> None:
    own = sample_ws_loaded.root / "templates"
    own.mkdir()
    doc = Document(str(templates_dir() / MATERIALS_LIST))
    doc.add_paragraph("（問合せ先）{{ secretariat }}")
    doc.save(str(own / MATERIALS_LIST))
    make_report(sample_ws_loaded, R5, out_dir=tmp_path)
    assert "（問合せ先）福祉保健部地域福祉課" in doc_text(Document(str(tmp_path / LIST_NAME)))
    assert "問合せ先" not in doc_text(Document(str(tmp_path / AGENDA_NAME)))


def test_missing_style_in_an_edited_template_is_named(sample_ws_loaded: Workspace, tmp_path: Path) -> None:
    own = sample_ws_loaded.root / "templates"
    own.mkdir()
    doc = Document(str(templates_dir() / EVALUATION))
    doc.styles["表 評価"].name = "評価"
    doc.save(str(own / EVALUATION))
    with pytest.raises(HyokaError, match="表 評価"):
        make_report(sample_ws_loaded, R5, out_dir=tmp_path)


# --- the second city ---------------------------------------------------------------------------------


def test_second_city_renders_without_code_change(midori_ws: Workspace, tmp_path: Path, run: Any) -> None:
    ws = midori_ws
    r5 = FiscalYear(2023)
    r6 = FiscalYear(2024)
    prior = {"A-1": "A", "A-2": "B", "A-3": "S", "B-1": "C", "B-2": "A", "B-3": "B"}
    now = {"A-1": "S", "A-2": "B", "A-3": "A", "B-1": "B", "B-2": "C", "B-3": "B"}
    _store(
        ws,
        r5,
        [Part(r.project_no, r.department, "", prior[r.project_no], "", "") for r in ws.plan.rows],
        "r5",
    )
    _store(
        ws,
        r6,
        [
            Part(r.project_no, r.department, "", now[r.project_no], f"{r.project_name}の実績", "今後も継続")
            for r in ws.plan.rows
        ],
        "r6",
    )
    result = run("report", "--year", "R6", "--out", tmp_path, "-w", ws.root)
    assert result.exit_code == 0, result.output
    doc = Document(str(tmp_path / "資料1_進捗状況及び評価表_R6.docx"))
    text = doc_text(doc)
    assert "みどり市地域福祉計画の進捗状況及び評価表" in text and "健康福祉部福祉総務課" in text
    assert "S・・・　計画を上回って達成した。" in text
    assert "令和7年7月" in text  # the meeting's month
    rows = evaluation_rows(doc)
    assert len(rows) == len(ws.plan.rows)
    assert rows[0].project.startswith("①【事業No.A-1】")
    counts, changes = [grid(t) for t in doc.element.body.iter(qn("w:tbl"))][:2]
    assert [c.text for c in counts[0]] == ["基本目標", "S", "A", "B", "C", "計"]
    arrows = {r[1].text.split("】")[0] + "】": r[5].text for r in changes[1:]}
    # S is the best rating: A→S is up, S→A down (never by the letters' order)
    assert arrows["①【事業No.A-1】"] == "↑ 上昇"
    assert arrows["①【事業No.A-3】"] == "↓ 低下"
    assert arrows["①【事業No.B-1】"] == "↑ 上昇"
    assert arrows["②【事業No.B-2】"] == "↓ 低下"
    materials = grid(
        next(Document(str(tmp_path / "配布資料一覧_2025-2.docx")).element.body.iter(qn("w:tbl")))
    )
    # 参考資料 is 当日配布 already, so no "—" row is added
    assert [[c.text for c in r][1:] for r in materials[1:]] == [
        ["1", "地域福祉計画 評価表(令和6年度)", "事前配布"],
        ["2", "参考資料", "当日配布"],
    ]
    assert "令和7年度第2回みどり市地域福祉計画推進会議次第" in doc_text(
        Document(str(tmp_path / "次第_2025-2.docx"))
    )


# --- PDF ---------------------------------------------------------------------------------------------


def test_pdf_without_libreoffice_says_how_to_get_it(
    sample_ws_loaded: Workspace, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    result = run("report", "--year", "R5", "--pdf", "--out", tmp_path, "-w", sample_ws_loaded.root)
    assert result.exit_code == 0, result.output
    assert "LibreOffice" in result.output and "PDFは作成しませんでした" in result.output
    assert not list(tmp_path.glob("*.pdf"))


@pytest.mark.slow
@pytest.mark.skipif(pdf.find_soffice() is None, reason="LibreOffice is not installed")
def test_pdf_with_libreoffice(rendered: tuple[Workspace, Path], tmp_path: Path) -> None:
    _, out = rendered
    written, notice = pdf.convert([out / AGENDA_NAME], tmp_path)
    assert notice == ""
    assert [p.name for p in written] == ["次第_R6-1.pdf"]
    assert written[0].read_bytes().startswith(b"%PDF")


# --- rows and projects taller than a page ------------------------------------------------------------


def _long(who: str, what: str, chars: int = 1200) -> str:
    """About ``chars`` characters of narrative in paragraphs, as a department writes it."""
    sentence = f"{who}では、{what}として地域の見守り体制を強化し、関係機関との連携を深めた。"
    text = "".join(f"（{i}）{sentence}" for i in range(1, chars // len(sentence) + 2))[:chars]
    return "\n".join(text[i : i + 250] for i in range(0, len(text), 250))


def _row_trs(body: Any, heading: str) -> list[Any]:
    return [tr for tr in body.iter(qn("w:tr")) if any(heading in t for t in _paras(tr)) and len(tr) == 8]


def test_a_row_taller_than_a_page_goes_on_in_labelled_rows(
    sample_ws_loaded: Workspace, tmp_path: Path
) -> None:
    # Word cuts off a row that must not split but is taller than the page, and a row that splits shows
    # its label cells only on its first page: the text goes on in rows of its own, each labelled.
    long_text = "\n".join("長い説明の段落です。" * 8 for _ in range(12))
    _store(sample_ws_loaded, R5, [Part("3", "交通対策課", "", "A", long_text, "続き")], "long")
    make_report(sample_ws_loaded, R5, out_dir=tmp_path)
    doc = Document(str(tmp_path / TABLE_NAME))
    body = doc.element.body
    assert all(tr.find(qn("w:trPr")).find(qn("w:cantSplit")) is not None for tr in body.iter(qn("w:tr")))
    trs = _row_trs(body, "【事業No.3】")
    assert len(trs) >= 2
    first, *rest = ([c.text for c in r] for r in grid_rows(trs))
    assert first[0] == "(2)" and first[1].startswith("①【事業No.3】") and first[4:6] == ["A", "A"]
    assert not first[1].endswith("（続き）")
    for cells in rest:
        assert cells[0] == "(2)" and cells[1].startswith("①【事業No.3】") and cells[1].endswith("（続き）")
        assert cells[2] == "交通対策課" and cells[4:6] == ["", ""]
    pieces: list[int] = []
    rows = evaluation_rows(doc, pieces=pieces)
    row = next(r for r, n in zip(rows, pieces, strict=True) if r.departments == ["交通対策課"] and n > 1)
    assert row.achievement == long_text.split("\n") and row.outlook == ["続き"]
    assert len(rows) == 57


def grid_rows(trs: list[Any]) -> list[list[GridCell]]:
    tbl = parse_xml(f"<w:tbl {nsdecls('w')}/>")
    for tr in trs:
        tbl.append(copy.deepcopy(tr))
    return grid(tbl)


def _midori_long(ws: Workspace) -> dict[str, str]:
    """みどり市 R5 rated, R6 returned with 1,200 characters per department of project A-3 (four
    departments) in 事業実績 and 今後 — the project runs over several pages."""
    r5, r6 = FiscalYear(2023), FiscalYear(2024)
    _store(ws, r5, [Part(r.project_no, r.department, "", "A", "", "") for r in ws.plan.rows], "r5")
    texts = {}
    parts = []
    for r in ws.plan.rows:
        if r.project_no == "A-3":
            texts[r.department] = _long(r.department, "避難支援プランの作成")
            parts.append(
                Part(r.project_no, r.department, "", "B", texts[r.department], _long(r.department, "今後"))
            )
        else:
            parts.append(Part(r.project_no, r.department, "", "A", f"{r.project_name}の実績", "今後も継続"))
    _store(ws, r6, parts, "r6")
    return texts


def test_a_project_taller_than_a_page_labels_every_row(midori_ws: Workspace, tmp_path: Path) -> None:
    texts = _midori_long(midori_ws)
    make_report(midori_ws, FiscalYear(2024), out_dir=tmp_path)
    doc = Document(str(tmp_path / "資料1_進捗状況及び評価表_R6.docx"))
    body = doc.element.body
    trs = _row_trs(body, "【事業No.A-3】")
    cells = grid_rows(trs)
    assert len(cells) > 4  # four departments, each text continued in rows of its own
    # The rows one page holds share a merged label cell; each later page group begins with a page
    # break and its label says （続き）.
    (tbl,) = [
        t for t in body.iter(qn("w:tbl")) if "基本施策" in _paras(t) and any("A-3" in x for x in _paras(t))
    ]
    data = [tr for tr in tbl.iter(qn("w:tr")) if len(tr.findall(qn("w:tc"))) == 7][1:]
    start = next(i for i, tr in enumerate(data) if "①【事業No.A-3】" in _paras(tr))
    groups: list[list[list[GridCell]]] = []
    for tr, r in zip(data[start:], grid_rows(data[start:]), strict=True):
        if _breaks_page(tr) or not groups:
            groups.append([])
        groups[-1].append(r)
    assert len(groups) > 3
    a3 = [r for g in groups for r in g]
    for i, (first, *rest) in enumerate(groups):
        assert first[0].text == "(2)"
        assert first[1].paras == ["①【事業No.A-3】", "避難支援プランの作成", *(["（続き）"] if i else [])]
        if rest:
            assert first[0].vmerge == first[1].vmerge == "restart"
            assert all(r[0].vmerge == r[1].vmerge == "continue" for r in rest)
    assert all(tr.find(qn("w:trPr")).find(qn("w:cantSplit")) is not None for tr in trs)
    assert not any(tr.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None for tr in trs)
    # Read back, each department's row is whole, rated once.
    rows = [r for r in evaluation_rows(doc) if r.project.startswith("①【事業No.A-3】")]
    assert [r.departments[0] for r in rows] == list(texts)
    assert [(r.prior, r.rating) for r in rows] == [("A", "B")] * 4
    assert [r.achievement for r in rows] == [t.split("\n") for t in texts.values()]
    assert sum(1 for r in a3 if r[4].text) == 4
    # A project that fits keeps its merged layout: A-1 (two departments) has one 施策 and project cell.
    a1 = grid_rows(_row_trs(body, "見守りネットワークの運営の実績"))
    assert [r[0].vmerge for r in a1] == ["restart", "continue"]
    assert a1[0][1].paras == ["①【事業No.A-1】", "見守りネットワークの運営"]


@pytest.mark.slow
@pytest.mark.skipif(
    pdf.find_soffice() is None or shutil.which("pdftotext") is None,
    reason="LibreOffice and pdftotext are not installed",
)
def test_every_page_of_a_long_project_names_it(midori_ws: Workspace, tmp_path: Path) -> None:
    _midori_long(midori_ws)
    make_report(midori_ws, FiscalYear(2024), out_dir=tmp_path)
    (written,), notice = pdf.convert([tmp_path / "資料1_進捗状況及び評価表_R6.docx"], tmp_path)
    assert notice == ""
    text = subprocess.run(
        ["pdftotext", "-layout", str(written), "-"], capture_output=True, text=True, check=True
    )
    pages = [" ".join(page.split()) for page in text.stdout.split("\f")]
    long_pages = [p for p in pages if "避難支援プランの作成として" in p or "今後として" in p]
    assert len(long_pages) >= 4
    for page in long_pages:
        assert "【事業 No.A-3】" in page or "【事業No.A-3】" in page, page[:300]


# --- page fill and continuation, measured on LibreOffice's rendering ---------------------------------

needs_soffice = pytest.mark.skipif(
    pdf.find_soffice() is None or shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice and poppler (pdftotext, pdftoppm) are not installed",
)
BODY_TOP_MM, BODY_BOTTOM_MM = 15.0, 196.0  # the template's top margin; A4 landscape less the bottom one
_LABEL = re.compile(r"【事業\s*No\.\s*([^】\s]+)\s*】")


def _pages(pdf_path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[: _page_count(pdf_path)]


def _page_count(pdf_path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


def _page_fill(pdf_path: Path, tmp: Path) -> list[float]:
    """How far down the body area each page's ink reaches (0–1), from a 30 dpi grey rendering."""
    subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf_path), str(tmp / "p")], check=True)
    fills = []
    for image in sorted(tmp.glob("p*.pgm")):
        magic, size, _, pixels = image.read_bytes().split(b"\n", 3)
        assert magic == b"P5"
        w, h = map(int, size.split())
        top, bottom = round(BODY_TOP_MM / 210 * h), round(BODY_BOTTOM_MM / 210 * h)
        inked = [y for y in range(top, bottom) if min(pixels[y * w : (y + 1) * w]) < 160]
        fills.append((inked[-1] - top) / (bottom - top) if inked else 0.0)
    return fills


def _block_name(page: str) -> str | None:
    m = re.search(r"基本施策\s+(\S+)", page)
    return m.group(1) if m and "事業実績" in page else None


def _check_pages(docx: Path, tmp: Path, min_fill: float) -> list[tuple[str | None, float]]:
    (written,), notice = pdf.convert([docx], tmp)
    assert notice == ""
    pages, fills = _pages(written), _page_fill(written, tmp)
    assert len(pages) == len(fills)
    blocks = [_block_name(p) for p in pages]
    previous: list[str] = []
    for i, (page, block) in enumerate(zip(pages, blocks, strict=True)):
        labels = _LABEL.findall(page)
        if block is None:
            previous = labels
            continue
        # （続き） only at the top of a page, for the project the page before ended with.
        assert page.count("（続き）") <= 1, (i + 1, page[:400])
        if "（続き）" in page:
            assert labels and previous and labels[0] == previous[-1], (i + 1, labels[:2], previous[-1:])
            before = page[: page.index("（続き）")]
            assert len(_LABEL.findall(before)) == 1, (i + 1, before)
        last_of_block = i + 1 == len(pages) or blocks[i + 1] != block
        if not last_of_block:
            assert fills[i] >= min_fill, (i + 1, round(fills[i], 2), block)
        previous = labels
    return list(zip(blocks, fills, strict=True))


@pytest.mark.slow
@needs_soffice
def test_sample_pages_are_filled_and_continued_only_after_a_break(
    rendered: tuple[Workspace, Path], tmp_path: Path
) -> None:
    _, out = rendered
    pages = _check_pages(out / TABLE_NAME, tmp_path, min_fill=0.75)
    assert sum(1 for b, _ in pages if b) <= 17  # no more pages than before the pages were filled


@pytest.mark.slow
@needs_soffice
def test_a_long_project_fills_its_pages(midori_ws: Workspace, tmp_path: Path) -> None:
    _midori_long(midori_ws)
    make_report(midori_ws, FiscalYear(2024), out_dir=tmp_path)
    _check_pages(tmp_path / "資料1_進捗状況及び評価表_R6.docx", tmp_path, min_fill=0.8)


# --- the department's paragraphs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "indent"),
    [
        ("本文の段落です。", True),
        ("令和5年度は実施した。", True),
        ("・箇条書き", False),
        ("●重点", False),
        ("○補足", False),
        ("※注記", False),
        ("【感染症対応】", False),
        ("①番号付き", False),
        ("⑴番号付き", False),
        ("(1)番号付き", False),
        ("（２）番号付き", False),
        ("1. 番号付き", False),
        ("２、番号付き", False),
        ("ア．項目", False),
        ("　自分で字下げした段落", False),
        ("", False),
        ("12,160件の相談があった。", True),
        ("2023年度は実施した。", True),
    ],
)
def test_first_line_indent_only_for_plain_prose(paragraph: str, indent: bool) -> None:
    from hyoka.report.model import indents

    assert indents(paragraph) is indent


def _cell_paragraphs(body: Any, heading: str, column: int) -> list[tuple[str, bool]]:
    """(text, indented) of every paragraph of a narrative cell, blank ones included."""
    (tr,) = _row_trs(body, heading)
    tc = list(tr.iter(qn("w:tc")))[column]
    return [(_text(p), not _continues(p)) for p in tc.iter(qn("w:p"))]


def test_marks_are_not_indented_and_blank_lines_are_kept(sample_ws_loaded: Workspace, tmp_path: Path) -> None:
    achievement = "本文の段落。\n\n\n・箇条書きの一つ目\n・二つ目\n\n【感染症対応】\n①番号付きの段落\n　字下げ済みの段落\n"
    _store(sample_ws_loaded, R5, [Part("3", "交通対策課", "", "A", achievement, "今後も継続する。")], "marks")
    make_report(sample_ws_loaded, R5, out_dir=tmp_path)
    body = Document(str(tmp_path / TABLE_NAME)).element.body
    assert _cell_paragraphs(body, "【事業No.3】", 3) == [
        ("本文の段落。", True),
        ("", False),  # the blank lines the department typed: one, not dropped
        ("・箇条書きの一つ目", False),
        ("・二つ目", False),
        ("", False),
        ("【感染症対応】", False),
        ("①番号付きの段落", False),
        ("　字下げ済みの段落", False),
    ]
    assert _cell_paragraphs(body, "【事業No.3】", 6) == [("今後も継続する。", True)]


@pytest.mark.parametrize(
    ("text", "em"),
    [
        ("", 0.0),
        ("令和年度", 4.0),
        ("令和5年度", 5.0),
        ("ABC", 1.5),
        ("12,160件", 4.25),
        ("①※・", 3.0),
        ("a字b", 2.5),
        ("ｱｲｳ", 1.5),
        ("Ａ１", 2.0),
    ],
)
def test_text_width_in_em(text: str, em: float) -> None:
    from hyoka.text import text_em

    assert text_em(text) == em
