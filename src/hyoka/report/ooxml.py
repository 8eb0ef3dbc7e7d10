"""Small builders for the WordprocessingML that python-docx has no API for.

Tables are built as raw ``w:tbl`` elements: python-docx's ``table.cell()`` rebuilds the whole grid on
every call (quadratic), and repeated header rows, ``cantSplit``, vertical merges and fixed widths need
the XML anyway. Everything here takes lengths in twips (1/20 pt) or millimetres and text that the
caller has already cleaned with :func:`hyoka.text.clean_text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import nsdecls, qn
from docx.oxml.parser import parse_xml

from hyoka.ooxml_check import RPR_BASE, SCHEMA_ORDERS, flat_order

TWIPS_PER_MM = 1440 / 25.4
# Font slots that must all name the font: Latin text uses ascii/hAnsi, Japanese text eastAsia,
# and complex scripts cs. Any *Theme attribute overrides them in Word, so those are removed.
FONT_SLOTS = ("ascii", "hAnsi", "eastAsia", "cs")
THEME_SLOTS = ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")

Element = Any  # lxml elements from python-docx's parser (the library ships no usable stubs)


def mm(value: float) -> int:
    """Millimetres → twips."""
    return round(value * TWIPS_PER_MM)


def el(tag: str, **attrs: str | int) -> Element:
    """``el('w:jc', val='center')`` → ``<w:jc w:val="center"/>`` (attribute names get the w: prefix)."""
    node = OxmlElement(tag)
    for key, value in attrs.items():
        node.set(qn(key if ":" in key else f"w:{key}"), str(value))
    return node


def sub(parent: Element, tag: str, **attrs: str | int) -> Element:
    node = el(tag, **attrs)
    parent.append(node)
    return node


def get_or_add(parent: Element, tag: str, successors: Sequence[str] = ()) -> Element:
    """The child ``tag`` of ``parent``, created (before the first of ``successors``) if missing."""
    found = parent.find(qn(tag))
    if found is not None:
        return found
    node = OxmlElement(tag)
    for name in successors:
        before = parent.find(qn(name))
        if before is not None:
            before.addprevious(node)
            return node
    parent.append(node)
    return node


# Schema order of the children of rPr and pPr (Word rejects a file whose order is wrong).
RPR_ORDER: tuple[str, ...] = RPR_BASE
PPR_ORDER: tuple[str, ...] = flat_order("pPr")


def sort_children(parent: Element, order: Sequence[str]) -> None:
    """Put children in schema order (Word rejects a file whose pPr/rPr children are out of order)."""
    rank = {qn(f"w:{t}"): i for i, t in enumerate(order)}
    for child in sorted(parent, key=lambda c: rank.get(c.tag, len(rank))):
        parent.append(child)


# --- fonts -------------------------------------------------------------------------------------------


def set_rfonts(rpr: Element, font: str) -> None:
    """Name ``font`` in every slot of ``rPr/rFonts`` and drop the theme attributes that would win."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for slot in THEME_SLOTS:
        rfonts.attrib.pop(qn(f"w:{slot}"), None)
    for slot in FONT_SLOTS:
        rfonts.set(qn(f"w:{slot}"), font)


def strip_theme_fonts(root: Element) -> None:
    """Remove theme font references under ``root`` (they override explicit names in Word)."""
    for rfonts in root.iter(qn("w:rFonts")):
        for slot in THEME_SLOTS:
            rfonts.attrib.pop(qn(f"w:{slot}"), None)


def set_lang_ja(rpr: Element) -> None:
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = sub(rpr, "w:lang")
    lang.set(qn("w:val"), lang.get(qn("w:val"), "en-US"))
    lang.set(qn("w:eastAsia"), "ja-JP")
    lang.set(qn("w:bidi"), lang.get(qn("w:bidi"), "ar-SA"))


def replace_font_families(root: Element, mapping: dict[str, str]) -> None:
    """Rename font families in every ``rFonts`` under ``root`` (``{'BIZ UD明朝': 'MS 明朝'}``)."""
    if not mapping:
        return
    for rfonts in root.iter(qn("w:rFonts")):
        for slot in FONT_SLOTS:
            value = rfonts.get(qn(f"w:{slot}"))
            if value in mapping:
                rfonts.set(qn(f"w:{slot}"), mapping[value])


# --- page setup and fields ---------------------------------------------------------------------------


def field_runs(instruction: str, placeholder: str = "1", rpr: Element | None = None) -> list[Element]:
    """The five runs of a simple field (``PAGE``, ``NUMPAGES``); Word and LibreOffice update the value."""
    runs = []
    for kind in ("begin", "instr", "separate", "text", "end"):
        r = el("w:r")
        if rpr is not None:
            r.append(_copy(rpr))
        if kind == "instr":
            t = sub(r, "w:instrText")
            t.set(qn("xml:space"), "preserve")
            t.text = f" {instruction} "
        elif kind == "text":
            t = sub(r, "w:t")
            t.text = placeholder
        else:
            sub(r, "w:fldChar", fldCharType=kind)
        runs.append(r)
    return runs


def _copy(node: Element) -> Element:
    from copy import deepcopy

    return deepcopy(node)


# --- paragraphs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Para:
    """One paragraph: runs of (text, character style or None), a paragraph style and options."""

    runs: tuple[tuple[str, str | None], ...]
    style: str | None = None
    align: str | None = None  # left / center / right / both
    keep_next: bool = False
    page_break_before: bool = False
    no_indent: bool = False  # no first-line indent: the rest of a paragraph continued from a row above

    @classmethod
    def of(cls, text: str, style: str | None = None, **kw: Any) -> Para:
        return cls(((text, None),), style, **kw)


def paragraph(p: Para, style_ids: dict[str, str], *, keep_next: bool = False) -> Element:
    return parse_xml(paragraph_xml(p, style_ids, keep_next=keep_next, decls=True))


def paragraph_xml(p: Para, style_ids: dict[str, str], *, keep_next: bool = False, decls: bool = False) -> str:
    """The ``w:p`` as a string; tables are assembled as text and parsed once (100× faster than
    creating each element through python-docx)."""
    ppr = []
    if p.style:
        ppr.append(f'<w:pStyle w:val="{_attr(style_ids[p.style])}"/>')
    if p.keep_next or keep_next:
        ppr.append("<w:keepNext/>")
    if p.page_break_before:
        ppr.append("<w:pageBreakBefore/>")
    if p.no_indent:
        ppr.append('<w:ind w:firstLineChars="0" w:firstLine="0"/>')
    if p.align:
        ppr.append(f'<w:jc w:val="{p.align}"/>')
    runs = []
    for text, char_style in p.runs:
        if not text:
            continue
        rpr = f'<w:rPr><w:rStyle w:val="{_attr(style_ids[char_style])}"/></w:rPr>' if char_style else ""
        # xml:space only where blanks at the ends would otherwise be dropped (one attribute per run).
        space = ' xml:space="preserve"' if text[0] in " \t\u3000" or text[-1] in " \t\u3000" else ""
        runs.append(f"<w:r>{rpr}<w:t{space}>{escape(text)}</w:t></w:r>")
    head = f"<w:p {nsdecls('w')}>" if decls else "<w:p>"
    props = f"<w:pPr>{''.join(ppr)}</w:pPr>" if ppr else ""
    return f"{head}{props}{''.join(runs)}</w:p>"


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML text needs them (xml.sax.saxutils would import urllib and http)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return escape(value).replace('"', "&quot;")


def tiny_paragraph(*, page_break_before: bool = False) -> Element:
    """A 1 pt empty paragraph: Word needs a paragraph between two tables and after the last one."""
    node = el("w:p")
    ppr = sub(node, "w:pPr")
    if page_break_before:
        sub(ppr, "w:pageBreakBefore")
    sub(ppr, "w:spacing", before=0, after=0, line=20, lineRule="exact")
    rpr = sub(ppr, "w:rPr")
    sub(rpr, "w:sz", val=2)
    sub(rpr, "w:szCs", val=2)
    return node


# --- tables ------------------------------------------------------------------------------------------

BORDER_SIDES = ("top", "left", "bottom", "right")


@dataclass(frozen=True)
class Cell:
    """One cell of a row built by :func:`table`."""

    paras: tuple[Para, ...] = ()
    span: int = 1
    vmerge: str | None = None  # "restart" / "continue"
    fill: str | None = None  # background, e.g. "F2F2F2"
    valign: str = "center"
    # "table": the table's grid lines (most cells; nothing is written per cell, which matters for
    # memory: four explicit sides are 16 attributes per cell); "all": all four sides drawn
    # explicitly, for cells next to "none" ones so that no conflict resolution is involved;
    # "none": an invisible cell (blank space beside a narrower block).
    borders: str = "table"


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    header: bool = False  # repeated at the top of each page (only for the table's leading rows)
    cant_split: bool = True
    height_mm: float | None = None
    exact_height: bool = False
    keep_next: bool = False  # keep this row on the page of the next one (all paragraphs get keepNext)


@dataclass
class TableSpec:
    widths_mm: Sequence[float]
    rows: list[Row] = field(default_factory=list)
    border_size: int = 4  # eighths of a point
    pad_h_mm: float = 1.2  # left and right cell margins


def table(spec: TableSpec, style_ids: dict[str, str]) -> Element:
    """A fixed-layout table: ``tblGrid`` + every ``tcW`` + ``tblLayout fixed`` (LibreOffice needs all)."""
    widths = [mm(w) for w in spec.widths_mm]
    pad_v, pad_h = mm(0.6), mm(spec.pad_h_mm)
    line = f'w:val="single" w:sz="{spec.border_size}" w:space="0" w:color="000000"'
    sides = "".join(f"<w:{side} {line}/>" for side in (*BORDER_SIDES, "insideH", "insideV"))
    # tblPr children in schema order: tblW, tblBorders, tblLayout, tblCellMar, tblLook.
    out = [
        f"<w:tbl {nsdecls('w')}><w:tblPr>",
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/>',
        f"<w:tblBorders>{sides}</w:tblBorders>",
        '<w:tblLayout w:type="fixed"/>',
        f'<w:tblCellMar><w:top w:w="{pad_v}" w:type="dxa"/><w:left w:w="{pad_h}" w:type="dxa"/>',
        f'<w:bottom w:w="{pad_v}" w:type="dxa"/><w:right w:w="{pad_h}" w:type="dxa"/></w:tblCellMar>',
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0"'
        ' w:noHBand="1" w:noVBand="1"/></w:tblPr><w:tblGrid>',
        *(f'<w:gridCol w:w="{w}"/>' for w in widths),
        "</w:tblGrid>",
    ]
    for row in spec.rows:
        out.append(_row_xml(row, widths, line, style_ids))
    out.append("</w:tbl>")
    return parse_xml("".join(out))


def _row_xml(row: Row, widths: list[int], line: str, style_ids: dict[str, str]) -> str:
    # Schema order inside trPr: cantSplit, trHeight, tblHeader.
    trpr = "<w:cantSplit/>" if row.cant_split else ""
    if row.height_mm is not None:
        rule = "exact" if row.exact_height else "atLeast"
        trpr += f'<w:trHeight w:val="{mm(row.height_mm)}" w:hRule="{rule}"/>'
    if row.header:
        trpr += "<w:tblHeader/>"
    out = [f"<w:tr><w:trPr>{trpr}</w:trPr>"]
    col = 0
    for cell in row.cells:
        width = sum(widths[col : col + cell.span])
        col += cell.span
        # w:type defaults to dxa (ECMA-376 17.18.87); leaving it out saves an attribute per cell.
        pr = [f'<w:tcW w:w="{width}"/>']
        if cell.span > 1:
            pr.append(f'<w:gridSpan w:val="{cell.span}"/>')
        if cell.vmerge:
            pr.append(f'<w:vMerge w:val="{cell.vmerge}"/>')
        if cell.borders != "table":
            side_xml = '<w:{} w:val="nil"/>' if cell.borders == "none" else f"<w:{{}} {line}/>"
            pr.append(f"<w:tcBorders>{''.join(side_xml.format(side) for side in BORDER_SIDES)}</w:tcBorders>")
        if cell.fill:
            pr.append(f'<w:shd w:val="clear" w:color="auto" w:fill="{cell.fill}"/>')
        if cell.valign != "top":  # top is the default: nothing to write (memory at 100× the sample)
            pr.append(f'<w:vAlign w:val="{cell.valign}"/>')
        paras = cell.paras or (Para(()),)
        body = "".join(paragraph_xml(p, style_ids, keep_next=row.keep_next) for p in paras)
        out.append(f"<w:tc><w:tcPr>{''.join(pr)}</w:tcPr>{body}</w:tc>")
    if col != len(widths):
        raise ValueError(f"row spans {col} grid columns, the table has {len(widths)}")
    out.append("</w:tr>")
    return "".join(out)


# --- schema order of property elements ---------------------------------------------------------------
# ECMA-376 Part 1 (transitional, wml.xsd): the children of these elements are sequences, and Word
# repairs (or drops parts of) a document whose order is wrong. docxtpl's {% vm %} appends vMerge
# after a vAlign the template has; a clerk's template edited in another program may have anything.
# The sequences are those the structural check (hyoka.ooxml_check) tests every output against.
_RANKS = {
    qn(f"w:{name}"): {qn(f"w:{n}"): i for i, group in enumerate(order) for n in group}
    for name, order in SCHEMA_ORDERS.items()
}


def normalise_properties(root: Element) -> int:
    """Put the children of every tcPr, tblPr, trPr, sectPr, pPr and rPr under ``root`` in schema order.

    The sort is stable (equal ranks keep their order); children the schema does not name here
    (extensions in other namespaces) keep their place relative to the child before them.
    Returns how many elements were reordered.
    """
    changed = 0
    for parent in root.iter(*_RANKS):  # one walk over the tree for all six kinds
        if len(parent) < 2:  # most cells and runs: nothing to order (66,000 cells at 100x)
            continue
        rank = _RANKS[parent.tag]
        if _in_order(parent, rank):
            continue
        children = [c for c in parent if isinstance(c.tag, str)]
        keys: list[int] = []
        last = 0
        for child in children:
            last = rank.get(child.tag, last)  # an unknown child travels with its predecessor
            keys.append(last)
        if keys == sorted(keys):
            continue
        order = sorted(range(len(children)), key=lambda i: keys[i])
        for i in order:
            parent.append(children[i])
        changed += 1
    return changed


def _in_order(parent: Element, rank: dict[str, int]) -> bool:
    """The children already in schema order (what hyoka writes itself), found without sorting.
    Comments and unknown children rank as the child before them, as in the sort below."""
    last = 0
    for child in parent:
        current = rank.get(child.tag, last)  # a comment's tag is a function: it keeps `last`
        if current < last:
            return False
        last = current
    return True


def normalise_package(package: Any) -> int:
    """:func:`normalise_properties` over every XML part of a python-docx package (body, headers,
    footers, styles, numbering, footnotes …) — one pass before a document is saved."""
    changed = 0
    for part in package.iter_parts():
        element = getattr(part, "_element", None)
        if element is not None and hasattr(element, "iter"):
            changed += normalise_properties(element)
    return changed


# Parts python-docx's default document brings that no document made by or for hyoka needs: the Word
# 2010 copy of the styles (438 KB), a thumbnail of another document, a bibliography store.
UNUSED_DEFAULT_PARTS = ("/stylesWithEffects", "/thumbnail", "/customXml")


def slim_default_document(doc: Any) -> None:
    """Drop what python-docx's default document carries and the document does not use: its table
    styles (100 of them, 306 KB of a 352 KB styles.xml; Word offers its built-in table styles from
    the latent styles when one is picked) and the parts above. For the generated templates and
    sample materials: every document made from them is parsed, merged into the pack and saved with
    its styles."""
    styles = doc.styles.element
    used = {t.get(qn("w:val")) for t in doc.element.body.iter(qn("w:tblStyle"))}
    for style in list(styles.iter(qn("w:style"))):
        if (
            style.get(qn("w:type")) == "table"
            and style.get(qn("w:default")) not in ("1", "true")
            and style.get(qn("w:styleId")) not in used
        ):
            styles.remove(style)
    for rels in (doc.part.rels, doc.part.package.rels):
        for rid in [rid for rid, rel in rels.items() if rel.reltype.endswith(UNUSED_DEFAULT_PARTS)]:
            rels.pop(rid)
