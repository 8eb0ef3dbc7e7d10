"""会議資料一式: several .docx files as one document, each from a new page, each keeping its sections.

docxcompose was considered and not used: it deliberately drops the headers, footers and section
properties of appended documents in favour of the master's, and a committee pack needs each
document's own page size (portrait 次第, landscape 資料1), header (「資料1」) and page numbers.

How a document B joins the pack M (the largest document is M, the others are copied in before or
after it, so that the big body is never copied):

- The closing ``sectPr`` of whichever comes first moves into its last paragraph (a section break).
  Whatever follows starts on a new page, restarts its page numbers at 1 and, where its first section
  has no header or footer of its own, gets empty ones — it would otherwise inherit the previous
  document's (「案」, page numbers).
- Relationships (images, headers, footers, hyperlinks, charts) are re-created in M; parts whose names
  are taken in M are renamed.
- Styles: a style identical to M's (same id, same name, same definition) is shared; any other is
  copied, renamed where its id or name is taken. B's default paragraph style, folded with B's
  document defaults, is set on B's paragraphs that had none, so B keeps its fonts and sizes.
- Numbering definitions are copied with new ids.
- Comments are dropped (not for distribution); footnote and endnote references are dropped with a
  warning (their text would need the notes part merged).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from docx.opc.packuri import PackURI
from docx.oxml.ns import qn
from lxml import etree  # type: ignore[import-untyped]  # python-docx's XML library

from hyoka.report.ooxml import PPR_ORDER, RPR_ORDER, Element, el, get_or_add, sort_children
from hyoka.report.templates import open_docx, save_docx

R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# Every attribute in the relationships namespace (r:id, r:embed, r:link, r:dm …), found in C.
_R_ATTRS = etree.XPath(".//@*[namespace-uri()=$ns]", smart_strings=True)
COMMENT_TAGS = ("w:commentRangeStart", "w:commentRangeEnd", "w:commentReference")
WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
SECTPR_SUCCESSORS_OF_TYPE = (
    "w:pgSz",
    "w:pgMar",
    "w:paperSrc",
    "w:pgBorders",
    "w:lnNumType",
    "w:pgNumType",
    "w:cols",
)
SECTPR_SUCCESSORS_OF_PGNUM = (
    "w:cols",
    "w:formProt",
    "w:vAlign",
    "w:noEndnote",
    "w:titlePg",
    "w:textDirection",
)


def compose(
    parts: Sequence[Path], out: Path, *, title: str = "", loaded: Mapping[Path, Any] | None = None
) -> tuple[Path, list[str]]:
    """Write ``parts`` as one document to ``out``; returns the path and warnings for the clerk.

    The largest document is the base and the others are copied in before or after it: copying a
    body costs in proportion to its size, and 資料1 is most of the pack. ``loaded`` holds documents
    already in memory (just written, and not needed any more: the pack changes them).
    """
    if not parts:
        raise ValueError("nothing to compose")
    loaded = loaded or {}
    docs = [loaded[p] if p in loaded else open_docx(p) for p in parts]
    base = max(range(len(parts)), key=lambda i: _body_size(parts[i], docs[i]))
    master = docs[base]
    warnings: list[str] = []
    for i in range(base - 1, -1, -1):
        _Appender(master, docs[i], parts[i].stem, warnings).prepend()
    for i in range(base + 1, len(parts)):
        _Appender(master, docs[i], parts[i].stem, warnings).append()
    _renumber_drawings(master.element.body)
    if len(parts) > 1:
        for part in master.part.package.iter_parts():
            if part.content_type.endswith(("footer+xml", "header+xml")) and hasattr(part, "element"):
                _drop_total_pages(part.element)
    if title:
        master.core_properties.title = title
    return save_docx(master, out), warnings


def _body_size(path: Path, doc: Any) -> int:
    """The size of a document's main part as written (not the file's: images, styles and
    compression say nothing about how much body there is to copy)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return zf.getinfo(doc.part.partname.membername).file_size
    except (OSError, KeyError, zipfile.BadZipFile):
        return path.stat().st_size


class _Appender:
    def __init__(self, master: Any, doc: Any, label: str, warnings: list[str]) -> None:
        self.m, self.b, self.label, self.warnings = master, doc, label, warnings
        self.rid_map: dict[str, str] = {}
        self.style_map: dict[str, str] = {}
        self.num_map: dict[str, str] = {}
        self.partnames = {str(p.partname) for p in master.part.package.iter_parts()}
        self.copied_styles: list[Element] = []
        self.default_para: str | None = None

    def append(self) -> None:
        """B after everything in the pack so far."""
        m_body = self.m.element.body
        _close_section(m_body)
        _ensure_sectpr(self.b.element.body)
        copies = self._prepared_copies()
        first_sect = next(sect for c in copies for sect in c.iter(qn("w:sectPr")))
        self._start_on_new_page(first_sect)
        old_sect = m_body.find(qn("w:sectPr"))
        for node in copies:
            if node.tag == qn("w:sectPr"):
                m_body.replace(old_sect, node)  # B's closing sectPr becomes the pack's
            else:
                old_sect.addprevious(node)
        self._own_headers(first_sect)

    def prepend(self) -> None:
        """B before everything in the pack so far; the pack's first section then follows B's last."""
        m_body = self.m.element.body
        m_first = next(m_body.iter(qn("w:sectPr")))
        b_body = self.b.element.body
        _ensure_sectpr(b_body)
        _close_section(b_body)
        b_body.remove(b_body.find(qn("w:sectPr")))
        copies = self._prepared_copies()
        first = m_body[0]
        for node in copies:
            first.addprevious(node)
        self._start_on_new_page(m_first)
        self._own_headers(m_first)

    def _prepared_copies(self) -> list[Element]:
        """B's body with styles, lists and relationships rewritten for the pack, copied.

        Copies go in rather than B's own elements: lxml re-homes a moved subtree node by node
        (fixing up live proxies), which is several times slower than a deep copy.
        """
        b_body = self.b.element.body
        self._merge_styles()
        self._merge_numbering()
        self._rewrite(b_body)
        return [copy.deepcopy(node) for node in b_body]

    # --- sections ------------------------------------------------------------------------------------

    @staticmethod
    def _start_on_new_page(sect: Element) -> None:
        kind = get_or_add(sect, "w:type", SECTPR_SUCCESSORS_OF_TYPE)
        kind.set(qn("w:val"), "nextPage")
        pgnum = get_or_add(sect, "w:pgNumType", SECTPR_SUCCESSORS_OF_PGNUM)
        if pgnum.get(qn("w:start")) is None:
            pgnum.set(qn("w:start"), "1")

    def _own_headers(self, sect: Element) -> None:
        """Give the document's first section empty headers/footers where it inherits the previous one's."""
        section = next(s for s in self.m.sections if s._sectPr is sect)
        title_page = sect.find(qn("w:titlePg")) is not None
        for name in ("header", "footer"):
            if getattr(section, name).is_linked_to_previous:
                getattr(section, name).is_linked_to_previous = False
            if title_page and getattr(section, f"first_page_{name}").is_linked_to_previous:
                getattr(section, f"first_page_{name}").is_linked_to_previous = False

    # --- styles --------------------------------------------------------------------------------------

    def _merge_styles(self) -> None:
        m_styles = self.m.styles.element
        b_styles = self.b.styles.element
        m_by_id = {s.get(qn("w:styleId")): s for s in m_styles.iter(qn("w:style"))}
        m_names = {_style_name(s) for s in m_by_id.values()}
        b_list = list(b_styles.iter(qn("w:style")))
        same_defaults = _same(m_styles.find(qn("w:docDefaults")), b_styles.find(qn("w:docDefaults")))
        b_default_para = next(
            (
                s
                for s in b_list
                if s.get(qn("w:type")) == "paragraph" and s.get(qn("w:default")) in ("1", "true")
            ),
            None,
        )
        copied: list[Element] = []
        copied_from: dict[Element, str] = {}
        for style in b_list:
            sid, name = style.get(qn("w:styleId")), _style_name(style)
            mine = m_by_id.get(sid)
            if (
                mine is not None
                and _style_name(mine) == name
                and _same(mine, style)
                and (same_defaults or style is not b_default_para)
            ):
                continue  # the same style: share it
            new = copy.deepcopy(style)
            new.attrib.pop(qn("w:default"), None)
            new_id, new_name = sid, name
            n = 2
            while new_id in m_by_id or new_name in m_names:
                new_id, new_name = (
                    f"{sid}-{n}",
                    f"{name} ({self.label})" if n == 2 else f"{name} ({self.label} {n})",
                )
                n += 1
            new.set(qn("w:styleId"), new_id)
            name_el = new.find(qn("w:name"))
            if name_el is None:
                name_el = el("w:name")
                new.insert(0, name_el)
            name_el.set(qn("w:val"), new_name)
            m_by_id[new_id] = new
            m_names.add(new_name)
            if new_id != sid:
                self.style_map[sid] = new_id
            copied.append(new)
            copied_from[style] = new_id
            if style is b_default_para and not same_defaults:
                _fold_defaults(new, b_styles.find(qn("w:docDefaults")))
        for new in copied:
            for tag in ("w:basedOn", "w:next", "w:link"):
                ref = new.find(qn(tag))
                if ref is not None and ref.get(qn("w:val")) in self.style_map:
                    ref.set(qn("w:val"), self.style_map[ref.get(qn("w:val"))])
            m_styles.append(new)
        self.copied_styles = copied
        if b_default_para is not None and b_default_para in copied_from:
            # B's paragraphs without a style meant B's default; in the pack that is another style.
            self.default_para = copied_from[b_default_para]

    # --- numbering -----------------------------------------------------------------------------------

    def _merge_numbering(self) -> None:
        try:
            b_numbering = self.b.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return
        b_nums = b_numbering.findall(qn("w:num"))
        if not b_nums:
            return
        m_numbering = self.m.part.numbering_part.element
        abstract_ids = [int(a.get(qn("w:abstractNumId"))) for a in m_numbering.findall(qn("w:abstractNum"))]
        num_ids = [int(n.get(qn("w:numId"))) for n in m_numbering.findall(qn("w:num"))]
        next_abstract, next_num = max(abstract_ids, default=-1) + 1, max(num_ids, default=0) + 1
        abstract_map: dict[str, str] = {}
        first_num = m_numbering.find(qn("w:num"))
        for a in b_numbering.findall(qn("w:abstractNum")):
            new = copy.deepcopy(a)
            abstract_map[a.get(qn("w:abstractNumId"))] = str(next_abstract)
            new.set(qn("w:abstractNumId"), str(next_abstract))
            for nsid in new.findall(qn("w:nsid")):  # Word links lists by nsid: make them distinct
                nsid.set(qn("w:val"), f"{(0x4A000000 + next_abstract * 7919) & 0xFFFFFFFF:08X}")
            next_abstract += 1
            _remap_vals([new], ("w:pStyle", "w:styleLink", "w:numStyleLink"), self.style_map)
            if first_num is not None:
                first_num.addprevious(new)
            else:
                m_numbering.append(new)
        for num in b_nums:
            new = copy.deepcopy(num)
            self.num_map[num.get(qn("w:numId"))] = str(next_num)
            new.set(qn("w:numId"), str(next_num))
            ref = new.find(qn("w:abstractNumId"))
            if ref is not None:
                ref.set(qn("w:val"), abstract_map.get(ref.get(qn("w:val")), ref.get(qn("w:val"))))
            next_num += 1
            m_numbering.append(new)
        # Styles copied from B may carry numPr too.
        _remap_vals(self.copied_styles, ("w:numId",), self.num_map)

    # --- one pass over B's body --------------------------------------------------------------------

    def _rewrite(self, body: Element) -> None:
        """Renamed styles and lists, relationships, a style for unstyled paragraphs, notes and comments."""
        _remap_vals([body], ("w:pStyle", "w:rStyle", "w:tblStyle"), self.style_map)
        _remap_vals([body], ("w:numId",), self.num_map)
        if self.default_para is not None:
            for p in body.iter(qn("w:p")):
                ppr = p.find(qn("w:pPr"))
                if ppr is None:
                    ppr = el("w:pPr")
                    p.insert(0, ppr)
                if ppr.find(qn("w:pStyle")) is None:
                    ppr.insert(0, el("w:pStyle", val=self.default_para))
        for node in list(body.iter(*(qn(t) for t in COMMENT_TAGS))):
            _remove(node)
        notes = list(body.iter(qn("w:footnoteReference"), qn("w:endnoteReference")))
        for node in notes:
            _remove(node)
        if notes:
            self.warnings.append(
                f"{self.label}: 脚注・文末脚注 {len(notes)} 件は会議資料一式に含められませんでした"
                "（単独の文書には残っています）。"
            )
        b_part, m_part = self.b.part, self.m.part
        for value in _R_ATTRS(body, ns=R_NS):
            node, attr = value.getparent(), value.attrname
            if value not in self.rid_map:
                rel = b_part.rels.get(value)
                if rel is None:
                    continue
                if rel.is_external:
                    self.rid_map[value] = m_part.relate_to(rel.target_ref, rel.reltype, is_external=True)
                else:
                    self._adopt(rel.target_part)
                    self.rid_map[value] = m_part.relate_to(rel.target_part, rel.reltype)
            node.set(attr, self.rid_map[value])

    def _adopt(self, part: Any, seen: set[int] | None = None) -> None:
        """Bring a part (and what it links to) into the pack under a name not yet taken there."""
        seen = set() if seen is None else seen
        if id(part) in seen:
            return
        seen.add(id(part))
        name = str(part.partname)
        if name in self.partnames:
            stem, ext = re.match(r"(.*?)(\d*)(\.[^./]+)$", name).group(1, 3)  # type: ignore[union-attr]
            n = 1
            while f"{stem}{n}{ext}" in self.partnames:
                n += 1
            # Same folder, so the part's own relationship targets stay valid.
            part.partname = PackURI(f"{stem}{n}{ext}")
        self.partnames.add(str(part.partname))
        if part.content_type.endswith(("header+xml", "footer+xml")) and hasattr(part, "element"):
            _remap_vals([part.element], ("w:pStyle", "w:rStyle", "w:tblStyle"), self.style_map)
            _remap_vals([part.element], ("w:numId",), self.num_map)
        for rel in part.rels.values():
            if not rel.is_external:
                self._adopt(rel.target_part, seen)


# --- helpers -----------------------------------------------------------------------------------------


def _ensure_sectpr(body: Element) -> None:
    if body.find(qn("w:sectPr")) is None:
        body.append(el("w:sectPr"))


def _close_section(body: Element) -> None:
    """Copy the body's closing sectPr into its last paragraph: a section break, so that what comes
    after starts a section of its own (the body-level sectPr is then replaced or removed)."""
    sect = body.find(qn("w:sectPr"))
    last = sect.getprevious()
    if last is None or last.tag != qn("w:p") or last.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
        last = el("w:p")
        sect.addprevious(last)
    ppr = last.find(qn("w:pPr"))
    if ppr is None:
        ppr = el("w:pPr")
        last.insert(0, ppr)
    ppr.append(copy.deepcopy(sect))


def _style_name(style: Element) -> str:
    name = style.find(qn("w:name"))
    return str(name.get(qn("w:val")) if name is not None else style.get(qn("w:styleId")))


def _same(a: Element | None, b: Element | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(etree.tostring(a) == etree.tostring(b)) or _canon(a) == _canon(b)


def _canon(node: Element | None) -> bytes:
    """Comparable form of a style: revision ids (rsid) differ between files and mean nothing here."""
    if node is None:
        return b""
    clone = copy.deepcopy(node)
    for rsid in list(clone.iter(qn("w:rsid"))):
        rsid.getparent().remove(rsid)
    for n in clone.iter():
        for attr in [a for a in n.attrib if "rsid" in a]:
            del n.attrib[attr]
    return bytes(etree.tostring(clone, method="c14n"))


def _fold_defaults(style: Element, defaults: Element | None) -> None:
    """Put B's document defaults under B's default style, so they survive without B's docDefaults."""
    if defaults is None:
        return
    for kind, order in (("rPr", RPR_ORDER), ("pPr", PPR_ORDER)):
        src = defaults.find(f"{qn(f'w:{kind}Default')}/{qn(f'w:{kind}')}")
        if src is None:
            continue
        dst = style.find(qn(f"w:{kind}"))
        if dst is None:
            dst = el(f"w:{kind}")
            style.append(dst)
        have = {c.tag for c in dst}
        for child in src:
            if child.tag not in have:
                dst.append(copy.deepcopy(child))
        sort_children(dst, order)
    # pPr must come before rPr inside a style.
    ppr, rpr = style.find(qn("w:pPr")), style.find(qn("w:rPr"))
    if ppr is not None and rpr is not None and style.index(ppr) > style.index(rpr):
        rpr.addprevious(ppr)


def _remap_vals(roots: Iterable[Element], tags: Sequence[str], mapping: dict[str, str]) -> None:
    if not mapping:
        return
    names = {qn(t) for t in tags}
    for root in roots:
        for node in root.iter():
            if node.tag in names:
                val = node.get(qn("w:val"))
                if val in mapping:
                    node.set(qn("w:val"), mapping[val])


def _remove(node: Element) -> None:
    parent = node.getparent()
    # A reference sits alone in its run; drop the run, or the element if it stands elsewhere.
    if (
        parent is not None
        and parent.tag == qn("w:r")
        and len([c for c in parent if c.tag != qn("w:rPr")]) == 1
    ):
        node = parent
        parent = node.getparent()
    if parent is not None:
        parent.remove(node)


def _renumber_drawings(body: Element) -> None:
    """Drawing ids must be unique in a document; Word reports unreadable content otherwise."""
    for n, docpr in enumerate(body.iter(WP_DOCPR), start=1):
        docpr.set("id", str(n))


def _drop_total_pages(root: Element) -> None:
    """``- 3 / 25 -`` → ``- 3 -``: in the pack NUMPAGES counts every document's pages, and the
    per-section count (SECTIONPAGES) is not supported by LibreOffice, so the total is left out."""
    for simple in list(root.iter(qn("w:fldSimple"))):
        if "NUMPAGES" in (simple.get(qn("w:instr")) or ""):
            _strip_slash_before(simple)
            simple.getparent().remove(simple)
    for instr in list(root.iter(qn("w:instrText"))):
        if "NUMPAGES" not in (instr.text or ""):
            continue
        run = instr.getparent()
        begin = run
        while begin is not None and not _is_fld_char(begin, "begin"):
            begin = begin.getprevious()
        end = run
        while end is not None and not _is_fld_char(end, "end"):
            end = end.getnext()
        if begin is None or end is None:
            continue
        _strip_slash_before(begin)
        node = begin
        while node is not None:
            following = node.getnext()
            node.getparent().remove(node)
            if node is end:
                break
            node = following


def _is_fld_char(run: Element, kind: str) -> bool:
    fld = run.find(qn("w:fldChar"))
    return fld is not None and fld.get(qn("w:fldCharType")) == kind


def _strip_slash_before(node: Element) -> None:
    prev = node.getprevious()
    while prev is not None and prev.find(qn("w:t")) is None:
        prev = prev.getprevious()
    if prev is not None:
        t = prev.find(qn("w:t"))
        t.text = re.sub(r"\s*[/／]\s*$", "", t.text or "")
