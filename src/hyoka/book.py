"""Reading workbook values fast: python-calamine for .xlsx/.xlsm, .xls (BIFF8) and .ods.

calamine builds each sheet as a dense grid from its first to its last cell, and aborts the whole process
(not an exception) when that grid does not fit in memory: a tiny file with one value in A1 and one in
XFD1048576 would kill hyoka. So every sheet's extent is measured from the file before calamine sees
it, after :func:`hyoka.workbook.check_data` has done the size and zip-bomb checks on the bytes read:

- .xlsx: one pass of byte patterns over each sheet's XML (no XML parse) for the cell references, and,
  in the same pass, the formulas saved without a value (calamine gives their cell as empty);
- .ods: ``content.xml`` streamed through defusedxml (which also refuses entity bombs), counting
  repeated rows and columns of non-empty cells;
- .xls: the BIFF cell records of the ``Workbook`` stream (rows and columns are 16-bit there).

A sheet whose extent cannot be measured this way (cells without references) is read by openpyxl
instead: :func:`open_book` returns None.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hyoka.problems import problem
from hyoka.workbook import ENTITY_REASON, WorkbookError, check_data, failure_reason, open_workbook, read_file

MAX_GRID_CELLS = 2_000_000
"""Largest first-to-last-cell rectangle read with calamine (a form is a few hundred cells)."""

# A cell's reference, wherever in its start tag (Excel writes it first; other writers need not).
_CELL_REF = re.compile(rb"<c\s(?:[^>]*?\s)?r=[\"']([A-Z]{1,3})([0-9]{1,7})[\"']")
# The same where it comes first, as Excel, LibreOffice and openpyxl write it: twice as fast to find.
_CELL_REF_FIRST = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_CELL_TAG = re.compile(rb"<c[\s>/]")
_PREFIXED_CELL = re.compile(rb"<[A-Za-z_][\w.-]*:c[\s>/]")
_FORMULA = re.compile(rb"<f[\s>/]")
_FORMULA_TEXT = re.compile(rb"<f(?:\s[^>]*)?>(.*?)</f>", re.S)
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)


@dataclass
class Book:
    """One workbook's sheets as rows of values (empty cells are None), as calamine read them."""

    workbook: Any
    names: list[str]
    states: dict[str, str]  # visible | hidden | veryHidden
    formulas: dict[str, dict[str, str]] | None = field(default_factory=dict)  # sheet -> ref -> formula
    kind: str = "xlsx"

    def rows(self, name: str, max_rows: int | None = None) -> Iterator[tuple[Any, ...]]:
        sheet = self.workbook.get_sheet_by_name(name)
        for values in sheet.to_python(skip_empty_area=False, nrows=max_rows):
            yield tuple(map(_as_openpyxl, values))

    def close(self) -> None:
        self.workbook.close()


class OpenpyxlBook:
    """openpyxl's read-only workbook behind :class:`Book`'s interface (the fallback)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.names: list[str] = wb.sheetnames
        self.states = {n: getattr(wb[n], "sheet_state", "visible") for n in self.names}
        self.formulas: dict[str, dict[str, str]] | None = None  # not known: looked up afterwards

    def rows(self, name: str, max_rows: int | None = None) -> Iterator[tuple[Any, ...]]:
        rows: Iterator[tuple[Any, ...]] = self.wb[name].iter_rows(max_row=max_rows, values_only=True)
        return rows

    def close(self) -> None:
        self.wb.close()


def open_any(path: Path, display: str | None = None, data: bytes | None = None) -> Book | OpenpyxlBook:
    """The workbook through calamine, or openpyxl where calamine cannot be trusted with it; from
    ``data``, the bytes already read from ``path``, when given (both readers then parse those)."""
    if data is None:
        data = read_file(path, display)
    book = open_book(path, display, data)
    return book if book is not None else OpenpyxlBook(open_workbook(path, display=display, data=data))


def open_book(path: Path, display: str | None = None, data: bytes | None = None) -> Book | None:
    """Open a checked workbook with calamine; None when openpyxl must read it (see the module doc).

    The file is read once (``data``, when the caller has read it): the checks, the scans and calamine
    all see the same bytes, which are the ones the caller hashed."""
    name = display or path.name
    import defusedxml  # noqa: F401 - the scans below parse XML only through it

    if data is None:
        data = read_file(path, name)
    zf = check_data(data, path, name)
    # By what the zip holds (check_data lets through one format only), as calamine tells it.
    kind = "xls" if zf is None else ("ods" if "content.xml" in zf.namelist() else "xlsx")
    formulas: dict[str, dict[str, str]] = {}
    try:
        if zf is None:
            _scan_xls(data, name)
        elif kind == "ods":
            _scan_ods(zf, name)
        else:
            scanned = _scan_xlsx(zf, name)
            if scanned is None:
                return None
            formulas = scanned
    except WorkbookError:
        raise
    except Exception as exc:
        if kind == "xls":  # not an OLE file olefile can read: damaged, or older than BIFF8
            raise WorkbookError(problem("file-old-xls", file=name)) from None
        raise WorkbookError(problem("file-corrupt", file=name, reason=failure_reason(exc))) from None
    finally:
        if zf is not None:
            zf.close()
    import python_calamine

    try:
        # From the bytes: no file stays open while the book is read (Windows would keep it locked),
        # and a name that is not UTF-8, which calamine's paths cannot take, needs nothing of its own.
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise WorkbookError(problem("file-encrypted", file=name)) from None
    except Exception as exc:
        if kind == "xls":  # not BIFF8 (Excel 95 and older) or damaged: re-saving in Excel serves both
            raise WorkbookError(problem("file-old-xls", file=name)) from None
        raise WorkbookError(problem("file-corrupt", file=name, reason=failure_reason(exc))) from None
    states = {}
    for meta in wb.sheets_metadata:
        visible = str(meta.visible).rsplit(".", 1)[-1]
        states[meta.name] = {"Visible": "visible", "Hidden": "hidden"}.get(visible, "veryHidden")
    names = [m.name for m in wb.sheets_metadata if str(m.typ).endswith("WorkSheet")]
    if kind == "xlsx" and not set(wb.sheet_names) <= set(formulas):
        wb.close()  # a sheet calamine would read whose extent was not measured: openpyxl reads the file
        return None
    return Book(wb, names, states, formulas, kind)


def _as_openpyxl(value: Any) -> Any:
    """A value as openpyxl gives it: an empty cell is None, a date a datetime at midnight."""
    if value == "":
        return None
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    return value


def _too_large(name: str, rows: int, cols: int) -> WorkbookError:
    return WorkbookError(problem("file-too-large", file=name, reason=f"シートの範囲が{rows:,}行×{cols:,}列"))


# --- xlsx: byte patterns over the sheet XML ---------------------------------------------------------------


def _scan_xlsx(zf: zipfile.ZipFile, name: str) -> dict[str, dict[str, str]] | None:
    """Formulas without a value per sheet; None when a sheet's extent is not known from its references."""
    members = set(zf.namelist())
    # Two small parts read by pattern, not parsed: after the DTD check no entity can be in them.
    book = zf.read("xl/workbook.xml")
    _refuse_dtd(book[:4096], name)
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = zf.read(rels_name) if rels_name in members else b""
    _refuse_dtd(rels[:4096], name)
    targets: dict[str, str] = {}
    for tag in _start_tags(rels, b"Relationship"):
        attrs = _attributes(tag)
        target = attrs.get("Target", "")
        targets[attrs.get("Id", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    for member in ("xl/sharedStrings.xml", "xl/styles.xml"):
        if member in members:
            with zf.open(member) as fh:
                _refuse_dtd(fh.read(4096), name)
    found: dict[str, dict[str, str]] = {}
    for tag in _start_tags(book, b"sheet"):
        sheet = _attributes(tag)
        rid = next((v for k, v in sheet.items() if k.endswith(":id")), "")
        part = targets.get(rid)
        if part is None or part not in members:
            continue
        data = zf.read(part)
        _refuse_dtd(data[:4096], name)
        cells = len(_CELL_TAG.findall(data))
        refs = _CELL_REF_FIRST.findall(data)
        if len(refs) != cells:
            refs = _CELL_REF.findall(data)
        # A cell without a reference calamine could place (none, or one it reads otherwise)
        # leaves the extent unknown: openpyxl reads the sheet, bounded by the form's layout.
        if len(refs) != cells or _PREFIXED_CELL.search(data):
            return None
        if refs:
            letters, numbers = zip(*refs, strict=True)
            rows = max(map(int, set(numbers)))
            cols = max(map(_column, set(letters)))
            if rows * cols > MAX_GRID_CELLS:
                return None  # openpyxl reads it lazily, bounded by the layout
        found[sheet.get("name", "")] = _formulas(data)
    return found


def _start_tags(data: bytes, local: bytes) -> list[bytes]:
    """Start tags of one element (``<Relationship …/>``, with or without a prefix), by pattern."""
    return re.findall(rb"<(?:[\w.-]+:)?" + local + rb"\s[^>]*>", data)


_ATTRIBUTE = re.compile(rb"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _attributes(tag: bytes) -> dict[str, str]:
    found = {}
    for m in _ATTRIBUTE.finditer(tag):
        raw = m.group(2) if m.group(2) is not None else m.group(3)
        found[m.group(1).decode()] = xml_unescape(raw.decode("utf-8", "replace"))
    return found


_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")
_NAMED = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}


def xml_unescape(text: str) -> str:
    """XML's five entities and character references (xml.sax.saxutils would import urllib and http)."""
    if "&" not in text:
        return text
    for entity, char in _NAMED.items():
        text = text.replace(entity, char)
    text = _CHAR_REF.sub(
        lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] == "x" else int(m.group(1))), text
    )
    return text.replace("&amp;", "&")


def _refuse_dtd(head: bytes, name: str) -> None:
    """A document type declaration (entities) comes before the root element; no Office part has one."""
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise WorkbookError(problem("file-corrupt", file=name, reason=ENTITY_REASON))


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _formulas(data: bytes) -> dict[str, str]:
    """Cells with a formula and no saved value (a file written by a tool that does not calculate)."""
    found: dict[str, str] = {}
    for m in _FORMULA.finditer(data):
        start = data.rfind(b"<c ", 0, m.start())
        end = data.find(b"</c>", m.start())
        if start < 0 or end < 0:
            continue
        cell = data[start:end]
        ref = _CELL_REF.match(cell)
        value = _VALUE.search(cell)
        if ref is None or (value is not None and value.group(1).strip()):
            continue
        text = _FORMULA_TEXT.search(cell)
        formula = xml_unescape(text.group(1).decode("utf-8", "replace")) if text else ""
        found[(ref.group(1) + ref.group(2)).decode()] = "=" + formula
    return found


# --- ods: content.xml through defusedxml ------------------------------------------------------------------

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def _scan_ods(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse a sheet whose non-empty cells span more than :data:`MAX_GRID_CELLS` (repeats counted)."""
    from defusedxml import ElementTree

    row_tag, cell_tags = (
        f"{{{_TABLE}}}table-row",
        {f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell"},
    )
    table_tag = f"{{{_TABLE}}}table"
    rows_attr, cols_attr = f"{{{_TABLE}}}number-rows-repeated", f"{{{_TABLE}}}number-columns-repeated"
    value_type = f"{{{_OFFICE}}}value-type"
    with zf.open("content.xml") as fh:
        row = col = last_row = last_col = 0
        row_has_value = False
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == table_tag:
                    row = last_row = last_col = 0
                elif tag == row_tag:
                    col, row_has_value = 0, False
                continue
            if tag in cell_tags:
                repeat = int(el.get(cols_attr, "1") or 1)
                if el.get(value_type) is not None or len(el):
                    row_has_value = True
                    last_col = max(last_col, col + repeat)
                col += repeat
                el.clear()
            elif tag == row_tag:
                repeat = int(el.get(rows_attr, "1") or 1)
                row += repeat
                if row_has_value:
                    last_row = row
                    if last_row * max(last_col, 1) > MAX_GRID_CELLS:
                        raise _too_large(name, last_row, last_col)
                el.clear()


# --- xls: BIFF cell records of the Workbook stream --------------------------------------------------------

_ROW_COL_RECORDS = {0x0203, 0x00FD, 0x027E, 0x0204, 0x0205, 0x0006, 0x0201, 0x00D6}
_MULTI_RECORDS = {0x00BD, 0x00BE}  # MULRK, MULBLANK: row, first column, ..., last column
_BOF, _EOF = 0x0809, 0x000A


def _scan_xls(data: bytes, name: str) -> None:
    import olefile

    if not olefile.isOleFile(data=data):
        raise WorkbookError(problem("file-old-xls", file=name))
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
        if stream is None:
            raise WorkbookError(problem("file-old-xls", file=name))
        if ole.exists("EncryptionInfo"):
            raise WorkbookError(problem("file-encrypted", file=name))
        data = ole.openstream(stream).read()
    pos, last_row, last_col = 0, 0, 0
    while pos + 4 <= len(data):
        kind, length = struct.unpack_from("<HH", data, pos)
        body = data[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if kind == 0x002F:  # FILEPASS: the workbook is encrypted
            raise WorkbookError(problem("file-encrypted", file=name))
        if kind == _BOF:
            last_row = last_col = 0
        elif kind in _ROW_COL_RECORDS and len(body) >= 4:
            r, c = struct.unpack_from("<HH", body, 0)
            last_row, last_col = max(last_row, r + 1), max(last_col, c + 1)
        elif kind in _MULTI_RECORDS and len(body) >= 6:
            (r,) = struct.unpack_from("<H", body, 0)
            (c,) = struct.unpack_from("<H", body, len(body) - 2)
            last_row, last_col = max(last_row, r + 1), max(last_col, c + 1)
        else:
            continue
        if last_row * last_col > MAX_GRID_CELLS:
            raise _too_large(name, last_row, last_col)
