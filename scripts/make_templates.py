"""Build the Word templates in ``templates/`` (``python scripts/make_templates.py [FOLDER]``).

The templates are generated rather than drawn in Word so that every property that matters is set on
purpose: East Asian fonts in docDefaults *and* the Normal style with the theme attributes removed,
``ja-JP`` language, A4 page sizes given explicitly (python-docx starts from US Letter), page numbers as
PAGE/NUMPAGES fields, and Jinja tags each inside a single run (a tag split over runs by Word's editing
still works with docxtpl, but a generated file should not rely on that). After generation a clerk may
open them in Word and change wording, fonts and margins; hyoka reads them by style name.

The style names below are the contract with ``hyoka.report``: renaming one in Word makes the report
stop with a message naming the style.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from hyoka.report import agenda, evaluation
from hyoka.report.evaluation import PROSE_LINE_SPACING
from hyoka.report.ooxml import (
    PPR_ORDER,
    RPR_ORDER,
    Cell,
    Para,
    Row,
    TableSpec,
    el,
    field_runs,
    set_lang_ja,
    set_rfonts,
    slim_default_document,
    sort_children,
    table,
)
from hyoka.report.templates import AGENDA, EVALUATION, MATERIALS_LIST, TEMPLATE_GOTHIC, TEMPLATE_MINCHO

ROOT = Path(__file__).resolve().parents[1]
MINCHO, GOTHIC = TEMPLATE_MINCHO, TEMPLATE_GOTHIC
ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "both": WD_ALIGN_PARAGRAPH.JUSTIFY,
}


# --- document set-up ---------------------------------------------------------------------------------


def new_document(*, landscape: bool, margins_mm: tuple[float, float, float, float], title: str) -> Any:
    """An empty document with Japanese defaults; margins are (top, right, bottom, left)."""
    doc = Document()
    section = doc.sections[0]
    # orientation alone does not swap the sides: set both lengths.
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    top, right, bottom, left = margins_mm
    section.top_margin, section.right_margin = Mm(top), Mm(right)
    section.bottom_margin, section.left_margin = Mm(bottom), Mm(left)
    section.header_distance = Mm(8)
    section.footer_distance = Mm(7)
    # No document grid: a "lines" grid snaps every line to 18 pt and makes table rows tall.
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is not None:
        grid.attrib.pop(qn("w:type"), None)

    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_rfonts(rpr, MINCHO)
    set_lang_ja(rpr)
    for tag, val in (("w:sz", "21"), ("w:szCs", "21")):  # 10.5 pt, the Japanese Word default
        rpr.find(qn(tag)).set(qn("w:val"), val)
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    for key in list(spacing.attrib):
        del spacing.attrib[key]
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")
    # Theme fonts anywhere in the styles would override the names set here.
    for rfonts in styles.iter(qn("w:rFonts")):
        for slot in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            rfonts.attrib.pop(qn(f"w:{slot}"), None)

    normal = doc.styles["Normal"]
    nrpr = normal.element.get_or_add_rPr()
    set_rfonts(nrpr, MINCHO)
    set_lang_ja(nrpr)
    normal.font.size = Pt(10.5)

    settings = doc.settings.element
    control = settings.find(qn("w:characterSpacingControl"))
    if control is not None:
        control.set(qn("w:val"), "compressPunctuation")  # what Japanese Word writes
    tab = settings.find(qn("w:defaultTabStop"))
    if tab is not None:
        tab.set(qn("w:val"), "840")

    props = doc.core_properties
    props.title, props.author, props.last_modified_by, props.comments = title, "hyoka", "hyoka", ""
    props.subject = "hyoka のテンプレート（Wordで編集できます。スタイル名は変えないでください）"
    return doc


def paragraph_style(
    doc: Any,
    name: str,
    style_id: str,
    *,
    font: str = MINCHO,
    size: float = 10.5,
    bold: bool = False,
    align: str | None = None,
    before: float = 0,
    after: float = 0,
    left_mm: float = 0,
    hanging_pt: float = 0,
    keep_next: bool = False,
    line_exact_pt: float | None = None,
) -> Any:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.element.set(qn("w:styleId"), style_id)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    set_rfonts(style.element.get_or_add_rPr(), font)
    style.font.size = Pt(size)
    style.font.bold = bold
    fmt = style.paragraph_format
    if align:
        fmt.alignment = ALIGN[align]
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if left_mm:
        fmt.left_indent = Mm(left_mm)
    if hanging_pt:
        fmt.first_line_indent = Pt(-hanging_pt)
        fmt.left_indent = Mm(left_mm) + Pt(hanging_pt)
    if keep_next:
        fmt.keep_with_next = True
    if line_exact_pt:
        fmt.line_spacing = Pt(line_exact_pt)
    ppr = style.element.get_or_add_pPr()
    # Text in tables must not snap to a grid either, and Japanese line breaking rules apply.
    ppr.append(el("w:snapToGrid", val=0))
    return style


def character_style(
    doc: Any,
    name: str,
    style_id: str,
    *,
    font: str | None = None,
    size: float | None = None,
    bold: bool = False,
    color: str | None = None,
    border: bool = False,
) -> Any:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.CHARACTER)
    style.element.set(qn("w:styleId"), style_id)
    style.quick_style = True
    rpr = style.element.get_or_add_rPr()
    if font:
        set_rfonts(rpr, font)
    if size:
        style.font.size = Pt(size)
    if bold:
        style.font.bold = True
    if color:
        style.font.color.rgb = RGBColor.from_string(color)
    if border:
        # A character border draws the box around 「資料1」 without a table or a text box.
        rpr.append(el("w:bdr", val="single", sz=8, space=1, color="000000"))
    return style


def page_number_footer(doc: Any, section: Any, style: str, *, first: bool) -> None:
    """``- n / N -`` centred; on the first page too when it has its own footer."""
    footers = [section.footer] + ([section.first_page_footer] if first else [])
    for footer in footers:
        p = footer.paragraphs[0]
        p.style = doc.styles[style]
        p.add_run("- ")
        for r in field_runs("PAGE"):
            p._p.append(r)
        p.add_run(" / ")
        for r in field_runs("NUMPAGES"):
            p._p.append(r)
        p.add_run(" -")


def add(doc: Any, text: str, style: str | None = None) -> Any:
    p = doc.add_paragraph()
    if style:
        p.style = doc.styles[style]
    if text:
        p.add_run(text)
    return p


def append_table(doc: Any, spec: TableSpec, names: list[str]) -> None:
    ids = {n: doc.styles[n].style_id for n in names}
    body = doc.element.body
    body.find(qn("w:sectPr")).addprevious(table(spec, ids))


# --- 資料1: the evaluation table's base -------------------------------------------------------------


def build_evaluation() -> Any:
    s = evaluation.STYLES
    doc = new_document(
        landscape=True, margins_mm=(15, 15, 14, 15), title="進捗状況及び評価表（hyoka テンプレート）"
    )
    paragraph_style(
        doc, s.cover_title, "HyokaCoverTitle", font=GOTHIC, size=24, align="center", before=110, after=14
    )
    paragraph_style(
        doc, s.cover_subtitle, "HyokaCoverSubtitle", font=GOTHIC, size=16, align="center", after=60
    )
    paragraph_style(doc, s.cover_date, "HyokaCoverDate", size=14, align="center", after=6)
    paragraph_style(doc, s.cover_secretariat, "HyokaCoverSecretariat", size=14, align="center", after=0)
    paragraph_style(
        doc, s.legend_heading, "HyokaLegendHeading", font=GOTHIC, size=12, before=0, after=6, left_mm=40
    )
    paragraph_style(doc, s.legend, "HyokaLegend", size=11, after=3, left_mm=46)
    paragraph_style(doc, s.note, "HyokaNote", size=10.5, before=0, after=0, left_mm=40)
    paragraph_style(doc, s.heading, "HyokaHeading", font=GOTHIC, size=14, before=0, after=6, keep_next=True)
    paragraph_style(
        doc, s.heading2, "HyokaHeading2", font=GOTHIC, size=12, before=14, after=4, keep_next=True
    )
    paragraph_style(doc, s.explain, "HyokaExplain", size=10, after=6)
    paragraph_style(doc, s.table_text, "HyokaTableText", size=10)
    # Narrative text: justified, each paragraph indented by one character as Japanese prose is, so
    # that the paragraphs a department wrote stay visible as paragraphs in a narrow cell.
    prose = paragraph_style(doc, s.prose, "HyokaTableProse", size=10, align="both")
    prose.element.get_or_add_pPr().append(el("w:ind", firstLineChars=100, firstLine=200))
    # Single spacing sets BIZ UD明朝 lines almost touching; a little air makes long cells readable.
    prose.paragraph_format.line_spacing = PROSE_LINE_SPACING
    paragraph_style(doc, s.table_center, "HyokaTableCenter", size=10, align="center")
    paragraph_style(doc, s.table_head, "HyokaTableHead", font=GOTHIC, size=9, align="center")
    paragraph_style(doc, s.block_label, "HyokaBlockLabel", font=GOTHIC, size=10)
    paragraph_style(doc, s.block_text, "HyokaBlockText", font=GOTHIC, size=10)
    paragraph_style(doc, s.project, "HyokaProject", size=10)
    paragraph_style(doc, s.rating, "HyokaRating", font=GOTHIC, size=12, align="center")
    paragraph_style(doc, s.header_right, "HyokaHeaderRight", font=GOTHIC, size=12, align="right")
    paragraph_style(doc, s.page_number, "HyokaPageNumber", size=9, align="center")
    character_style(doc, s.material_label, "HyokaMaterialLabel", font=GOTHIC, size=12, border=True)
    character_style(doc, s.draft_mark, "HyokaDraftMark", font=GOTHIC, size=14, bold=True, border=True)
    character_style(doc, s.new_mark, "HyokaNewMark", font=GOTHIC, bold=True)
    character_style(doc, s.missing_mark, "HyokaMissingMark", font=GOTHIC, bold=True, color="C00000")

    section = doc.sections[0]
    section.different_first_page_header_footer = True
    # First page: 「案」 (drafts only) and 「資料1」 at the top right, as committee materials carry it.
    first = section.first_page_header.paragraphs[0]
    first.style = doc.styles[s.header_right]
    first.add_run("{{ draft_mark }}", doc.styles[s.draft_mark])
    first.add_run("{{ gap }}")
    first.add_run("{{ material_label }}", doc.styles[s.material_label])
    other = section.header.paragraphs[0]
    other.style = doc.styles[s.header_right]
    other.add_run("{{ draft_mark }}", doc.styles[s.draft_mark])
    page_number_footer(doc, section, s.page_number, first=True)

    add(doc, "{{ title }}", s.cover_title)
    add(doc, "{{ subtitle }}", s.cover_subtitle)
    add(doc, "{{ date }}", s.cover_date)
    add(doc, "{{ secretariat }}", s.cover_secretariat)
    add(doc, "", s.cover_secretariat).paragraph_format.space_after = Pt(40)
    add(doc, "{{ legend_heading }}", s.legend_heading)
    add(doc, "{%p for level in levels %}")
    add(doc, "{{ level.code }}・・・　{{ level.description }}", s.legend)
    add(doc, "{%p endfor %}")
    add(doc, "", s.legend)
    add(doc, "{%p for line in note %}")
    add(doc, "{% if loop.first %}※{% else %}　{% endif %}{{ line }}", s.note)
    add(doc, "{%p endfor %}")
    # The summary page and the tables of every 基本施策 are put here by hyoka.
    add(doc, "{{ tables }}")
    return doc


# --- 次第 and 配布資料一覧 ---------------------------------------------------------------------------


def draft_header(doc: Any) -> None:
    """「案」 boxed at the top right of every page of a draft, as on 資料1 (the same two styles, so that
    the pack shares them)."""
    s = agenda.STYLES
    paragraph_style(doc, s.header_right, "HyokaHeaderRight", font=GOTHIC, size=12, align="right")
    character_style(doc, s.draft_mark, "HyokaDraftMark", font=GOTHIC, size=14, bold=True, border=True)
    header = doc.sections[0].header.paragraphs[0]
    header.style = doc.styles[s.header_right]
    header.add_run("{{ draft_mark }}", doc.styles[s.draft_mark])


def build_agenda() -> Any:
    s = agenda.STYLES
    doc = new_document(landscape=False, margins_mm=(30, 25, 25, 25), title="次第（hyoka テンプレート）")
    draft_header(doc)
    paragraph_style(doc, s.title, "HyokaAgendaTitle", font=GOTHIC, size=15, align="center", after=36)
    # 日時/場所 in line with the body text; the hanging indent lines the second line up under the
    # value, which holds some 30 characters (a place such as 「市役所 本庁舎3階 第1会議室」) on one line.
    paragraph_style(doc, s.meta, "HyokaAgendaMeta", size=12, left_mm=10, hanging_pt=48, after=4)
    paragraph_style(doc, s.item, "HyokaAgendaItem", font=GOTHIC, size=12, before=36, after=12, keep_next=True)
    paragraph_style(doc, s.subitem, "HyokaAgendaSubItem", size=12, left_mm=6, hanging_pt=30, after=48)
    paragraph_style(doc, s.text, "HyokaAgendaText", size=12, left_mm=10)
    p = add(doc, "{{ nendo }}第{{ number }}回{{ committee }}次第", s.title)
    p = add(doc, "日　時　", s.meta)
    p.add_run("{{ date }}")
    p.add_run().add_break()
    p.add_run("{{ time }}から")
    add(doc, "場　所　{{ place }}", s.meta)
    add(doc, "1　開　会", s.item)
    add(doc, "2　議　事", s.item).paragraph_format.space_after = Pt(12)
    add(doc, "{%p for item in agenda %}")
    add(doc, "({{ loop.index }})　{{ item }}", s.subitem)
    add(doc, "{%p endfor %}")
    add(doc, "3　配布資料", s.item)
    add(doc, "別紙配布資料一覧のとおり", s.text)
    return doc


def build_materials_list() -> Any:
    s = agenda.STYLES
    doc = new_document(
        landscape=False, margins_mm=(30, 20, 25, 20), title="配布資料一覧（hyoka テンプレート）"
    )
    draft_header(doc)
    paragraph_style(doc, s.list_title, "HyokaListTitle", font=GOTHIC, size=14, align="center")
    paragraph_style(doc, s.cell, "HyokaListCell", size=11)
    paragraph_style(doc, s.cell_center, "HyokaListCellCenter", size=11, align="center")
    paragraph_style(doc, s.cell_head, "HyokaListHead", font=GOTHIC, size=11, align="center")
    add(doc, "{{ committee }}", s.list_title)
    add(doc, "配布資料一覧", s.list_title).paragraph_format.space_after = Pt(24)
    head, center, cell = s.cell_head, s.cell_center, s.cell
    fill = "E7E6E6"
    spec = TableSpec(widths_mm=(30, 22, 88, 30))
    spec.rows = [
        Row(
            (
                Cell((Para.of("会議", head),), fill=fill),
                Cell((Para.of("資料No.", head),), fill=fill),
                Cell((Para.of("資料名", head),), fill=fill),
                Cell((Para.of("備考", head),), fill=fill),
            ),
            header=True,
            height_mm=9,
        ),
        # docxtpl: a {%tr %} tag must be alone in its row; the row itself disappears when rendered.
        Row((Cell((Para.of("{%tr for m in materials %}", cell),)), Cell(), Cell(), Cell())),
        Row(
            (
                # {% vm %} merges this cell down over every row of the loop: the meeting column.
                Cell((Para.of("{% vm %}{{ meeting_label }}", center),)),
                Cell((Para.of("{{ m.no }}", center),)),
                Cell((Para.of("{{ m.title }}", cell),)),
                Cell((Para.of("{{ m.distribution }}", center),)),
            ),
            height_mm=11,
        ),
        Row((Cell((Para.of("{%tr endfor %}", cell),)), Cell(), Cell(), Cell())),
    ]
    append_table(doc, spec, [head, center, cell])
    add(doc, "")
    return doc


def tidy(doc: Any) -> None:
    """Schema order for every pPr/rPr in the styles: the helpers above append, Word is strict."""
    styles = doc.styles.element
    for ppr in styles.iter(qn("w:pPr")):
        sort_children(ppr, PPR_ORDER)
    for rpr in styles.iter(qn("w:rPr")):
        sort_children(rpr, RPR_ORDER)


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "templates"
    target.mkdir(parents=True, exist_ok=True)
    for name, build in (
        (EVALUATION, build_evaluation),
        (AGENDA, build_agenda),
        (MATERIALS_LIST, build_materials_list),
    ):
        doc = build()
        tidy(doc)
        slim_default_document(doc)
        doc.save(str(target / name))
        print(f"wrote {target / name}")


if __name__ == "__main__":
    main()
