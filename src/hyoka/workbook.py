"""Opening Excel files safely: every way a file can be wrong becomes one catalogued problem.

Checks run before openpyxl parses anything: size, zip member count, total uncompressed size and ratio
(openpyxl itself does not guard against zip bombs), and defusedxml must be importable, since openpyxl
only then refuses XML entity bombs.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from hyoka.files import os_reason
from hyoka.problems import HyokaError, Problem, problem

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

SHEET_NAME = "調査票"
META_SHEET = "_hyoka"
"""The sheets of the forms hyoka writes: the form, and the hidden one with what the form was made from
(here, so that reading a return does not import the module that writes forms)."""

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 10_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
ZIP_MAGIC = b"PK\x03\x04"


class WorkbookError(Exception):
    def __init__(self, found: Problem) -> None:
        super().__init__(found.message)
        self.problem = found


def ensure_defusedxml() -> None:
    """Refuse to read workbooks when openpyxl would parse XML without protection."""
    import openpyxl

    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise HyokaError(
            "安全のため defusedxml が必要です。`pip install defusedxml` を実行してから、もう一度お試しください。"
        )


def check_file(path: Path, display: str | None = None) -> None:
    """Raise :class:`WorkbookError` for anything that is not a safe .xlsx/.xlsm, without parsing XML."""
    name = display or path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise _unreadable(exc, name) from None
    if _is_zip(size, head, path.suffix.lower(), name):
        _checked_zip(path, path.suffix.lower(), name).close()


def read_file(path: Path, display: str | None = None) -> bytes:
    """The file's bytes (:func:`read_bounded`), a file that cannot be read as :class:`WorkbookError`."""
    name = display or path.name
    try:
        return read_bounded(path, name)
    except OSError as exc:
        raise _unreadable(exc, name) from None


def check_data(data: bytes, path: Path, display: str | None = None) -> zipfile.ZipFile | None:
    """:func:`check_file`'s checks on the bytes read from ``path``: the checked zip, open on them
    (the caller closes it), or None for an .xls (an OLE container)."""
    name = display or path.name
    if not _is_zip(len(data), data[:8], path.suffix.lower(), name):
        return None
    return _checked_zip(io.BytesIO(data), path.suffix.lower(), name)


def _unreadable(exc: OSError, name: str) -> WorkbookError:
    if isinstance(exc, FileNotFoundError):
        return WorkbookError(problem("file-not-found", file=name))
    if isinstance(exc, IsADirectoryError):
        return WorkbookError(problem("file-not-excel", file=name))
    return WorkbookError(problem("file-corrupt", file=name, reason=os_reason(exc)))


def _is_zip(size: int, head: bytes, suffix: str, name: str) -> bool:
    """True for a zip (checked further by :func:`_checked_zip`), False for an .xls; else the error."""
    if size > MAX_FILE_BYTES:
        raise WorkbookError(problem("file-too-large", file=name, reason=f"{size:,} バイト"))
    if head.startswith(OLE_MAGIC):
        # An OLE container is either an old .xls (read by calamine) or an encrypted .xlsx; the name
        # tells which it claims.
        if suffix == ".xls":
            return False
        raise WorkbookError(problem("file-encrypted", file=name))
    if suffix == ".xls":
        raise WorkbookError(problem("file-old-xls", file=name))
    if not head.startswith(ZIP_MAGIC):
        code = "file-corrupt" if suffix in {".xlsx", ".xlsm"} else "file-not-excel"
        reason = "空のファイル" if size == 0 else "Excelの形式ではありません"
        raise WorkbookError(problem(code, file=name, reason=reason))
    return True


def _checked_zip(source: Path | IO[bytes], suffix: str, name: str) -> zipfile.ZipFile:
    """The zip of a workbook (a file, or bytes already read), with its size and parts checked before
    anything in it is parsed."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise WorkbookError(problem("file-corrupt", file=name, reason="ZIP形式として読めません")) from None
    try:
        _check_zip(zf, suffix, name)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_zip(zf: zipfile.ZipFile, suffix: str, name: str) -> None:
    try:
        infos = zf.infolist()
        strict = _is_strict(zf)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise WorkbookError(problem("file-corrupt", file=name, reason="ZIP形式として読めません")) from None
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if len(infos) > MAX_MEMBERS:
        raise WorkbookError(problem("file-too-large", file=name, reason=f"部品が{len(infos):,}個"))
    if total > MAX_UNCOMPRESSED_BYTES or total / packed > MAX_RATIO:
        raise WorkbookError(problem("file-too-large", file=name, reason=f"展開すると{total:,}バイト"))
    members = {i.filename for i in infos}
    # python-calamine, reading from the bytes, tells the format by trying each (.xlsx, .xlsb, .ods)
    # whatever the name says: a zip that holds more than one of them would be read as another format
    # than the one measured before it (book.py), so none is read.
    kinds = [k for k, part in _KIND_PARTS if part in members]
    if len(kinds) > 1:
        reason = "・".join(kinds) + " の部品が一つのファイルに混在しています"
        raise WorkbookError(problem("file-corrupt", file=name, reason=reason))
    if kinds == [".ods"] and suffix == ".ods":
        return
    if kinds != [".xlsx"]:
        raise WorkbookError(problem("file-not-excel", file=name))
    if strict:
        raise WorkbookError(problem("file-strict-ooxml", file=name))


_KIND_PARTS = ((".xlsx", "xl/workbook.xml"), (".xlsb", "xl/workbook.bin"), (".ods", "content.xml"))
"""The part that makes a zip a workbook of each format."""


STRICT_MAIN = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def _is_strict(zf: zipfile.ZipFile) -> bool:
    """Excel's "Strict Open XML" option: the same parts in other namespaces, which no reader here knows.

    The root element of ``xl/workbook.xml`` declares its namespace in its first few hundred bytes.
    """
    try:
        with zf.open("xl/workbook.xml") as fh:
            head = fh.read(4096)
    except Exception:  # missing or damaged (zlib, zip, I/O): reported by the checks or the parser
        return False
    return STRICT_MAIN in head


def open_workbook(
    path: Path, *, display: str | None = None, read_only: bool = True, data: bytes | None = None
) -> Workbook:
    """Open a checked workbook with cached values (formulas are never evaluated, macros never run);
    from ``data``, the bytes already read from ``path``, when given."""
    ensure_defusedxml()
    source: Path | io.BytesIO = path
    if data is None:
        check_file(path, display)
    else:
        checked = check_data(data, path, display)
        if checked is not None:
            checked.close()
        source = io.BytesIO(data)
    import openpyxl

    try:
        return openpyxl.load_workbook(
            source, read_only=read_only, data_only=True, keep_vba=False, keep_links=False
        )
    except MemoryError:
        raise WorkbookError(
            problem("file-too-large", file=display or path.name, reason="メモリ不足")
        ) from None
    except Exception as exc:  # openpyxl raises many types for damaged files; each is the same to the clerk
        raise WorkbookError(
            problem("file-corrupt", file=display or path.name, reason=failure_reason(exc))
        ) from None


ENTITY_REASON = "危険なXML（エンティティの展開）を含んでいるため読み込みを中止しました"


def failure_reason(exc: BaseException) -> str:
    """A short Japanese reason for the clerk; an XML entity bomb (refused by defusedxml) is named."""
    seen: BaseException | None = exc
    names = []
    while seen is not None:
        name = type(seen).__name__
        if seen.__class__.__module__.startswith("defusedxml") or name in {
            "EntitiesForbidden",
            "DTDForbidden",
        }:
            return ENTITY_REASON
        names.append(name)
        seen = seen.__cause__ or seen.__context__
    if any(n in {"ParseError", "XMLSyntaxError", "ExpatError"} for n in names):
        return "中のXMLが途中で切れているか、形式が正しくありません"
    if any(n in {"BadZipFile", "KeyError"} for n in names):
        return "ブックに必要な部品が欠けています"
    if "CalamineError" in names:  # calamine tried every format on the bytes, and none fitted
        return "中身が .xlsx・.xls・.ods のどの形式としても正しくありません"
    return f"形式が正しくありません: {type(exc).__name__}"


def read_bounded(path: Path, display: str | None = None) -> bytes:
    """The file's bytes, never more than :data:`MAX_FILE_BYTES` (a device or a growing file may lie
    about its size): one byte more is :class:`WorkbookError` ``file-too-large``. OSError passes."""
    with path.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        reason = f"{MAX_FILE_BYTES:,} バイトを超えています"
        raise WorkbookError(problem("file-too-large", file=display or path.name, reason=reason))
    return data


def is_lock_file(path: Path) -> bool:
    return path.name.startswith("~$")
