"""Rebuild the sample meeting's 資料2–4 (``python scripts/make_sample_materials.py``).

The three Word files in ``sample_data/koganei/materials/`` stand for what the secretariat drafts in
Word beside hyoka's 資料1; ``hyoka.toml`` lists them with ``file = …`` so that the meeting pack holds
them. Their text is transcribed verbatim from the seed (``000_4c6f4467ad10c649.txt``, from the line
「小金井市における重層的支援体制整備事業の全体像」 to the end), with the extraction's HTML tags removed:
each ``<p>`` is a paragraph and each ``・`` item of a ``<ul>`` a paragraph of its own. 資料2 is a figure
in the source; only its text is given. 資料4's 目次 ends where the seed ends.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt

from hyoka.report.ooxml import el, set_lang_ja, set_rfonts, slim_default_document, strip_theme_fonts

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sample_data" / "koganei" / "materials"
MINCHO, GOTHIC = "BIZ UD明朝", "BIZ UDゴシック"
DATE_TIME = (2024, 8, 9, 9, 0, 0)  # a plausible drafting date before the meeting of 2024-08-19
TCPR_AFTER_SHD = ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")

# 資料3: (第106条の4第2項の各号, 事業, 既存の対象事業等); an empty first column continues the one above.
# In a cell, a line starting with ・ is an item of a list (indented), any other line a paragraph.
FRAMEWORK_HEAD = ("第106条の4第2項の各号", "既存の対象事業等")
FRAMEWORK = (
    (
        "I 相談支援",
        "包括的相談支援",
        """<法定事業>
○地域包括支援センターの運営【介護】
・小金井きた地域包括支援センター
・小金井みなみ地域包括支援センター
・小金井ひがし地域包括支援センター
・小金井にし地域包括支援センター
○障害者相談支援事業（基幹相談支援センター）【障害】
・障害者地域自立生活支援センター
○利用者支援事業【子ども】
・こども家庭センター（基本型）
・保育所等入所相談支援員（特定型）
・出産・子育て応援事業（母子保健型）
○自立相談支援事業【困窮】
・福祉総合相談窓口（自立相談サポートセンター）
<連携事業（案）>
・女性総合相談（男女共同参画室）
・消費生活相談（経済課）
・教育相談（教育相談所）
・ひとり親・女性相談（子育て支援課）
・住まい探しの相談窓口（まちづくり推進課）
・自殺対策相談（各種相談窓口）""",
    ),
    ("", "新多機関協働事業 （支援プラン検討）", "（既存事業なし）"),
    ("", "アウトリーチ等を通じた継続的支援", "福祉総合相談窓口運営におけるアウトリーチの取組"),
    ("II 参加支援", "新参加支援事業", "（既存事業なし）"),
    (
        "III 地域づくりに向けた支援",
        "地域づくり事業",
        """<法定事業>
○地域介護予防活動支援事業【介護】
・介護予防ボランティア養成講座の実施
・地域介護予防活動支援委託
・小金井さくら体操管理委託
○生活支援体制整備事業【介護】
・スマホ講座の実施
・生活支援体制基盤整備委託
・連携推進委託
・生活支援コーディネーター配置委託
・シニアのための地域とつながる応援ブック作成委託
・介護者サポーター養成講座委託
・生活支援ヘルパー養成講座委託
○地域活動支援センター機能強化事業【障害】
・I型（そら）
・II型（スペース楽・2）
○地域子育て支援拠点事業【子ども】
・親子遊びひろば事業（こども家庭センター）
・子育てひろば（児童館）
○生活困窮者支援等のための地域づくり事業【困窮】
・新（仮称）地域づくり支援事業
<連携事業（案）>
・子ども食堂等
・学習支援の居場所""",
    ),
)
FRAMEWORK_NOTE = "※既存の対象事業は過年度実績を基に作成しており、事業の改廃等により今後変更があり得る。"

# 資料4: (番号, 項目, ページ, 字下げの段)
CONTENTS = (
    ("1", "実施計画策定の背景・目的", "7", 0),
    ("2", "計画の位置付け・期間・検討体制", "7", 0),
    ("(1)", "計画の位置付け", "7", 1),
    ("(2)", "計画の期間", "7", 1),
    ("(3)", "検討体制", "7", 1),
    ("3", "重層的支援体制整備事業の概要", "8", 0),
    ("4", "重層的支援体制整備事業の実施体制", "9", 0),
    ("I", "属性を問わない相談支援", "9", 1),
    ("(1)", "包括的相談支援事業", "9", 2),
    ("(2)", "アウトリーチ等を通じた継続的支援事業", "11", 2),
    ("(3)", "多機関協働事業（支援プランの策定）", "11", 2),
    ("II", "参加支援", "12", 1),
    ("(1)", "参加支援事業", "12", 2),
    ("III", "地域づくりに向けた支援", "13", 1),
    ("(1)", "地域づくり事業", "13", 2),
    ("5", "会議体の設置・運営", "16", 0),
    ("6", "連携体制及び評価・進行管理", "16", 0),
    ("(1)", "庁内の連携体制", "16", 1),
    ("(2)", "計画の評価及び進行管理", "16", 1),
)


def new_document(label: str, title: str, *, landscape: bool = False) -> Any:
    """An A4 document with Japanese fonts and 「資料n」 boxed at the top right of every page."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    # orientation alone does not swap the sides (python-docx starts from US Letter portrait)
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.top_margin = section.bottom_margin = Mm(20 if landscape else 25)
    section.left_margin = section.right_margin = Mm(20)
    section.header_distance = Mm(10)

    styles = doc.styles.element
    strip_theme_fonts(styles)  # a theme font would win over the names set below
    normal = doc.styles["Normal"]
    for rpr in (
        styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}"),
        normal.element.get_or_add_rPr(),
    ):
        set_rfonts(rpr, MINCHO)
        set_lang_ja(rpr)
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0

    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    box = run(header, label, font=GOTHIC, size=12)
    box._r.get_or_add_rPr().append(el("w:bdr", val="single", sz=8, space=1, color="000000"))
    props = doc.core_properties
    props.title, props.author, props.comments = title, "小金井市福祉保健部地域福祉課", ""
    props.created = props.modified = datetime(*DATE_TIME)
    return doc


def run(paragraph: Any, text: str, *, font: str | None = None, size: float | None = None) -> Any:
    """A run of ``text``; ``font`` names the font in every slot (East Asian text uses w:eastAsia)."""
    r = paragraph.add_run(text)
    if font:
        set_rfonts(r._r.get_or_add_rPr(), font)
    if size:
        r.font.size = Pt(size)
    return r


def heading(doc: Any, text: str, *, size: float = 16, after: float = 18) -> None:
    """A centred title in ゴシック."""
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(after)
    run(p, text, font=GOTHIC, size=size)


def material2() -> Any:
    doc = new_document("資料2", "小金井市における重層的支援体制整備事業の全体像")
    heading(doc, "小金井市における重層的支援体制整備事業の全体像")
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(p, "<一体的に取り組むことで小金井市における包括的支援体制の構築を目指す>", font=GOTHIC, size=12)
    return doc


def material3() -> Any:
    doc = new_document("資料3", "小金井市における重層的支援体制整備事業の全体像（例）", landscape=True)
    heading(doc, "小金井市における重層的支援体制整備事業の全体像（例）", after=10)
    tbl = fixed_table(doc, (Mm(56), Mm(75), Mm(126)), rows=1 + len(FRAMEWORK))  # 257 mm wide
    head = tbl.rows[0]
    head._tr.get_or_add_trPr().append(el("w:tblHeader"))  # repeated on the second page
    head.cells[0].merge(head.cells[1])
    for tc in head._tr.tc_lst:
        # w:shd goes before w:vAlign and the rest (schema order of tcPr)
        tc.get_or_add_tcPr().insert_element_before(
            el("w:shd", val="clear", color="auto", fill="E7E6E6"), *TCPR_AFTER_SHD
        )
    fill_cell(head.cells[0], FRAMEWORK_HEAD[0], font=GOTHIC, center=True)
    fill_cell(head.cells[2], FRAMEWORK_HEAD[1], font=GOTHIC, center=True)
    top = None
    for row, (clause, project, existing) in zip(tbl.rows[1:], FRAMEWORK, strict=True):
        if clause:
            top = row.cells[0]
            fill_cell(top, clause, font=GOTHIC)
        elif top is not None:
            top.merge(row.cells[0])
        fill_cell(row.cells[1], project)
        fill_cell(row.cells[2], existing)
    note = doc.add_paragraph()
    note.paragraph_format.space_before = Pt(6)
    run(note, FRAMEWORK_NOTE)
    return doc


def fixed_table(doc: Any, widths: tuple[Length, ...], *, rows: int) -> Any:
    """A bordered table whose widths hold in Word and LibreOffice: every ``w:gridCol`` and ``w:tcW``
    given, ``w:tblLayout`` fixed (autofit off); rows are not split across pages."""
    tbl = doc.add_table(rows=rows, cols=len(widths))
    tbl.style = doc.styles["Table Grid"]  # single lines all round
    tbl.autofit = False
    tbl_w = tbl._tbl.tblPr.find(qn("w:tblW"))
    tbl_w.set(qn("w:w"), str(sum(w.twips for w in widths)))
    tbl_w.set(qn("w:type"), "dxa")
    margins = el("w:tblCellMar")  # a little air between the text and the lines
    for side, pad in (("top", Mm(1)), ("left", Mm(1.8)), ("bottom", Mm(1)), ("right", Mm(1.8))):
        margins.append(el(f"w:{side}", w=pad.twips, type="dxa"))
    tbl._tbl.tblPr.find(qn("w:tblLook")).addprevious(margins)
    for column, width in zip(tbl.columns, widths, strict=True):
        column.width = width
    for row in tbl.rows:
        row._tr.get_or_add_trPr().append(el("w:cantSplit"))
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    return tbl


def fill_cell(cell: Any, text: str, *, font: str | None = None, center: bool = False) -> None:
    """One paragraph per line: ・ items indented like the list they were, a later <…> set off a little."""
    if center:
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for i, line in enumerate(text.split("\n")):
        p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        p.paragraph_format.line_spacing = 1.15  # single spacing sets BIZ UD明朝 lines almost touching
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if line.startswith("・"):
            p.paragraph_format.left_indent = Mm(4)
        elif line.startswith("<") and i:
            p.paragraph_format.space_before = Pt(4)
        run(p, line, font=font, size=10.5)


def material4() -> Any:
    doc = new_document("資料4", "小金井市重層的支援体制整備事業実施計画 骨子")
    heading(doc, "小金井市重層的支援体制整備事業実施計画", after=6)
    heading(doc, "骨子", size=14, after=36)
    heading(doc, "目次", size=14, after=18)
    text_width = Mm(170)
    for number, item, page, level in CONTENTS:
        p = doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.left_indent = Mm(8 * level)
        fmt.space_after = Pt(8)
        fmt.tab_stops.add_tab_stop(Mm(8 * level + 10))
        fmt.tab_stops.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
        run(p, f"{number}\t{item}\t{page}", font=GOTHIC if level == 0 else None, size=11)
    return doc


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in (
        ("資料2_重層的支援体制整備事業_全体像等について.docx", material2),
        ("資料3_重層的支援体制整備事業_全体像例.docx", material3),
        ("資料4_重層的支援体制整備事業_実施計画骨子案.docx", material4),
    ):
        save(build(), OUT / name)
        print((OUT / name).relative_to(ROOT))


def save(doc: Any, path: Path) -> None:
    """Save with fixed zip timestamps, so that rebuilding unchanged files leaves them byte-identical."""
    slim_default_document(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(zipfile.ZipInfo(item.filename, DATE_TIME), src.read(item), zipfile.ZIP_DEFLATED)


if __name__ == "__main__":
    main()
