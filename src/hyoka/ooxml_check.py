"""A structural check of Office Open XML packages (.docx, .xlsx): a pure function over the bytes.

What Word and Excel are strict about and LibreOffice forgives, checked offline in well under a
second per file:

- the child order of WordprocessingML property elements (``tcPr``, ``tblPr``, ``trPr``,
  ``sectPr``, ``pPr``, ``rPr``) against the sequences of ECMA-376 Part 1 (transitional wml.xsd);
- package integrity: every part is well-formed XML and has a content type, every override names a
  part that exists, every internal relationship target resolves, every ``r:id``-style reference in a
  part names one of that part's relationships (header and footer references of the right type), and
  in a workbook every comments part comes with its VML drawing and the sheet's ``legacyDrawing``.

It is not a schema validator: it checks what hyoka's documents have got wrong before. It is meant for
hyoka's own outputs (the XML is parsed with the standard library, without defusedxml's guards).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree as ET

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

# ECMA-376 Part 1, wml.xsd (transitional). Names in one inner tuple are a choice: any order
# among themselves, the same place in the sequence.
Order = tuple[tuple[str, ...], ...]


def _seq(*names: str | tuple[str, ...]) -> Order:
    return tuple(n if isinstance(n, tuple) else (n,) for n in names)


RPR_BASE = (
    "rStyle",
    "rFonts",
    "b",
    "bCs",
    "i",
    "iCs",
    "caps",
    "smallCaps",
    "strike",
    "dstrike",
    "outline",
    "shadow",
    "emboss",
    "imprint",
    "noProof",
    "snapToGrid",
    "vanish",
    "webHidden",
    "color",
    "spacing",
    "w",
    "kern",
    "position",
    "sz",
    "szCs",
    "highlight",
    "u",
    "effect",
    "bdr",
    "shd",
    "fitText",
    "vertAlign",
    "rtl",
    "cs",
    "em",
    "lang",
    "eastAsianLayout",
    "specVanish",
    "oMath",
)
PPR_BASE = (
    "pStyle",
    "keepNext",
    "keepLines",
    "pageBreakBefore",
    "framePr",
    "widowControl",
    "numPr",
    "suppressLineNumbers",
    "pBdr",
    "shd",
    "tabs",
    "suppressAutoHyphens",
    "kinsoku",
    "wordWrap",
    "overflowPunct",
    "topLinePunct",
    "autoSpaceDE",
    "autoSpaceDN",
    "bidi",
    "adjustRightInd",
    "snapToGrid",
    "spacing",
    "ind",
    "contextualSpacing",
    "mirrorIndents",
    "suppressOverlap",
    "jc",
    "textDirection",
    "textAlignment",
    "textboxTightWrap",
    "outlineLvl",
    "divId",
    "cnfStyle",
)
SCHEMA_ORDERS: dict[str, Order] = {
    # CT_RPr, and CT_ParaRPr (the paragraph mark's rPr, which starts with revision marks)
    "rPr": _seq("ins", "del", "moveFrom", "moveTo", *RPR_BASE, "rPrChange"),
    # CT_PPr
    "pPr": _seq(*PPR_BASE, "rPr", "sectPr", "pPrChange"),
    # CT_TcPr
    "tcPr": _seq(
        "cnfStyle",
        "tcW",
        "gridSpan",
        "hMerge",
        "vMerge",
        "tcBorders",
        "shd",
        "noWrap",
        "tcMar",
        "textDirection",
        "tcFitText",
        "vAlign",
        "hideMark",
        "headers",
        ("cellIns", "cellDel", "cellMerge"),
        "tcPrChange",
    ),
    # CT_TblPr
    "tblPr": _seq(
        "tblStyle",
        "tblpPr",
        "tblOverlap",
        "bidiVisual",
        "tblStyleRowBandSize",
        "tblStyleColBandSize",
        "tblW",
        "jc",
        "tblCellSpacing",
        "tblInd",
        "tblBorders",
        "shd",
        "tblLayout",
        "tblCellMar",
        "tblLook",
        "tblCaption",
        "tblDescription",
        "tblPrChange",
    ),
    # CT_TrPr: CT_TrPrBase is an unbounded choice, then ins, del, trPrChange
    "trPr": _seq(
        (
            "cnfStyle",
            "divId",
            "gridBefore",
            "gridAfter",
            "wBefore",
            "wAfter",
            "cantSplit",
            "trHeight",
            "tblHeader",
            "tblCellSpacing",
            "jc",
            "hidden",
        ),
        "ins",
        "del",
        "trPrChange",
    ),
    # CT_SectPr
    "sectPr": _seq(
        ("headerReference", "footerReference"),
        "footnotePr",
        "endnotePr",
        "type",
        "pgSz",
        "pgMar",
        "paperSrc",
        "pgBorders",
        "lnNumType",
        "pgNumType",
        "cols",
        "formProt",
        "vAlign",
        "noEndnote",
        "titlePg",
        "textDirection",
        "bidi",
        "rtlGutter",
        "docGrid",
        "printerSettings",
        "sectPrChange",
    ),
}


def flat_order(name: str) -> tuple[str, ...]:
    """The children of ``name`` as one sequence (a choice's members in the schema's order)."""
    return tuple(n for group in SCHEMA_ORDERS[name] for n in group)


def _ranks(order: Order) -> dict[str, int]:
    return {f"{{{W}}}{n}": i for i, group in enumerate(order) for n in group}


_RANKS = {f"{{{W}}}{name}": _ranks(order) for name, order in SCHEMA_ORDERS.items()}
# Relationship types a reference element must point to.
_REFERENCE_TYPES = {
    f"{{{W}}}headerReference": REL_TYPE + "header",
    f"{{{W}}}footerReference": REL_TYPE + "footer",
}


def check_package(data: bytes) -> list[str]:
    """Every structural problem of the package in ``data``, as ``"part: what is wrong"``; [] if none."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        return [f"(package): not a zip archive ({exc})"]
    with archive:
        names = {n for n in archive.namelist() if not n.endswith("/")}
        trees: dict[str, ET.Element] = {}
        problems: list[str] = []
        for name in sorted(names):
            if name.endswith((".xml", ".rels", ".vml")):
                try:
                    trees[name] = ET.fromstring(archive.read(name))
                except ET.ParseError as exc:
                    problems.append(f"{name}: not well-formed XML ({exc})")
    problems += _content_types(names, trees)
    rels = {name: _relationships(name, tree) for name, tree in trees.items() if name.endswith(".rels")}
    problems += _relationship_targets(names, rels)
    for name, tree in trees.items():
        if name.endswith(".rels") or name == "[Content_Types].xml":
            continue
        own = rels.get(_rels_name(name), {})
        problems += [f"{name}: {p}" for p in _references(tree, own)]
        problems += [f"{name}: {p}" for p in _child_order(tree)]
    problems += _comments_have_vml(trees, rels)
    return problems


def _content_types(names: set[str], trees: dict[str, ET.Element]) -> list[str]:
    types = trees.get("[Content_Types].xml")
    if types is None:
        return ["[Content_Types].xml: missing"]
    defaults = {d.get("Extension", "").lower() for d in types.iter(f"{{{CT}}}Default")}
    overrides = {o.get("PartName", "").lstrip("/") for o in types.iter(f"{{{CT}}}Override")}
    problems = [
        f"{name}: no content type (neither an Override nor a Default for .{name.rsplit('.', 1)[-1]})"
        for name in sorted(names - {"[Content_Types].xml"})
        if name not in overrides and name.rsplit(".", 1)[-1].lower() not in defaults
    ]
    problems += [
        f"[Content_Types].xml: Override for /{p}, which is not in the package"
        for p in sorted(overrides - names)
    ]
    return problems


Relationship = tuple[str, str, str]  # type, target, target mode


def _relationships(name: str, tree: ET.Element) -> dict[str, Relationship]:
    return {
        r.get("Id", ""): (r.get("Type", ""), r.get("Target", ""), r.get("TargetMode", "Internal"))
        for r in tree.iter(f"{{{PKG_RELS}}}Relationship")
    }


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _source_of(rels_name: str) -> str:
    """``word/_rels/document.xml.rels`` → ``word/document.xml``; the package's own → ``""``."""
    folder, base = posixpath.split(rels_name)
    return posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))


def _relationship_targets(names: set[str], rels: dict[str, dict[str, Relationship]]) -> list[str]:
    problems: list[str] = []
    for rels_name, entries in sorted(rels.items()):
        source = _source_of(rels_name)
        if source and source not in names:
            problems.append(f"{rels_name}: relationships of {source}, which is not in the package")
        for rid, (kind, target, mode) in sorted(entries.items()):
            if mode == "External":
                continue
            if target.startswith("/"):
                resolved = target.lstrip("/")
            else:
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
            if resolved not in names:
                problems.append(
                    f"{rels_name}: {rid} ({kind.rsplit('/', 1)[-1]}) → {target}, which is not in the package"
                )
    return problems


def _references(tree: ET.Element, own: dict[str, Relationship]) -> Iterator[str]:
    for node in tree.iter():
        for attr, value in node.attrib.items():
            if not attr.startswith(f"{{{R}}}"):
                continue
            if value not in own:
                yield f'<{_local(node.tag)} r:{_local(attr)}="{value}"> names no relationship of the part'
                continue
            expected = _REFERENCE_TYPES.get(str(node.tag))
            if expected is not None and own[value][0] != expected:
                yield f"<{_local(node.tag)}> {value} is a {own[value][0].rsplit('/', 1)[-1]} relationship"


def _child_order(tree: ET.Element) -> Iterator[str]:
    for tag, rank in _RANKS.items():
        for parent in tree.iter(tag):
            last_rank, last_name = -1, ""
            for child in parent:
                if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{W}}}"):
                    continue  # extensions in other namespaces are not part of this sequence
                here = rank.get(child.tag)
                if here is None:
                    yield f"<w:{_local(child.tag)}> is not a child of <w:{_local(tag)}> in the schema"
                    continue
                if here < last_rank:
                    yield f"<w:{_local(tag)}>: <w:{_local(child.tag)}> after <w:{last_name}> (schema order)"
                last_rank, last_name = here, _local(child.tag)


def _comments_have_vml(trees: dict[str, ET.Element], rels: dict[str, dict[str, Relationship]]) -> list[str]:
    problems: list[str] = []
    for rels_name, entries in sorted(rels.items()):
        source = _source_of(rels_name)
        comments = [rid for rid, (kind, _, _) in entries.items() if kind == REL_TYPE + "comments"]
        if not comments or not source.startswith("xl/worksheets/"):
            continue
        vml = {rid for rid, (kind, _, _) in entries.items() if kind == REL_TYPE + "vmlDrawing"}
        if not vml:
            problems.append(f"{source}: has comments but no VML drawing for them (Excel shows no comments)")
            continue
        sheet = trees.get(source)
        legacy = [] if sheet is None else list(sheet.iter(f"{{{SML}}}legacyDrawing"))
        if not any(node.get(f"{{{R}}}id") in vml for node in legacy):
            problems.append(f"{source}: has comments but no <legacyDrawing> naming their VML drawing")
    return problems


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
