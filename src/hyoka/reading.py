"""Reading one returned file, before anything is decided: what collect's reader processes run.

A reader process imports this module and what it needs to read a workbook (:mod:`hyoka.intake`,
:mod:`hyoka.book`, python-calamine), never the store, the plan's versions or the command line: each
worker's start is part of every large collect run (docs/performance.md). Pure of the run's state: a
file's path, the run's mode and the hashes already accepted in, a :class:`Read` out.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from hyoka.intake import FEEDBACK_MARK, ReadSheet, formulas_at, input_fingerprint, read_csv, read_workbook
from hyoka.problems import Problem, problem
from hyoka.sheet import SheetDefinition, parse_sheet
from hyoka.workbook import MAX_FILE_BYTES, WorkbookError, is_lock_file, read_bounded


def readable(text: str, errors: str = "replace") -> str:
    """A file name as a clerk can read it and SQLite can store it.

    On Linux a name that is not UTF-8 (zips made on Japanese Windows carry cp932 bytes) arrives with
    its bytes smuggled in as lone surrogates, which no terminal can print and SQLite refuses; they
    become U+FFFD (or ``\\x82``-style escapes with ``errors="backslashreplace"``).
    """
    try:
        raw = os.fsencode(text)
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", errors)


NOT_FORMS = {
    ".pdf": "PDFファイル",
    ".doc": "Wordの文書",
    ".docx": "Wordの文書",
    ".docm": "Wordの文書",
    ".rtf": "文書ファイル（.rtf）",
    ".odt": "LibreOffice/OpenOfficeの文書（.odt）",
    ".csv": "CSVファイル（調査票の様式ではありません）",
    ".xlsb": "Excelバイナリブック（.xlsb）",
    ".numbers": "Numbersの書類",
    ".ppt": "PowerPointのファイル",
    ".pptx": "PowerPointのファイル",
    ".jpg": "画像ファイル",
    ".jpeg": "画像ファイル",
    ".png": "画像ファイル",
    ".heic": "画像ファイル",
}
"""Kinds of file found beside the returns that are listed as skipped, with what they are."""
ARCHIVES = {
    ".zip": "ZIPファイル（圧縮ファイル）",
    ".lzh": "LZHファイル（圧縮ファイル）",
    ".7z": "7-Zipファイル（圧縮ファイル）",
    ".rar": "RARファイル（圧縮ファイル）",
}
"""Archives beside the returns: listed as skipped, with the advice to unpack them (never read inside)."""


@dataclass
class Read:
    """What reading one file found, before anything is decided."""

    skipped: Problem | None = None  # a lock file
    failure: Problem | None = None  # the file cannot be read as a form
    sha: str = ""
    mtime: float = 0.0
    known: bool = False  # an identical file was already accepted for the year
    sheet: ReadSheet | None = None
    formulas: dict[str, str] = field(default_factory=dict)
    link: bool | None = None  # the file is a symbolic link (looked at when read; None: not known)


def sheet_arg(sheet: str) -> tuple[str, ...]:
    """``read_one``'s sheet argument, given only for a workspace's own sheet (Koganei's call is as before)."""
    return (sheet,) if sheet else ()


@lru_cache(maxsize=4)
def _definition(sheet: str) -> SheetDefinition | None:
    """A workspace's own sheet definition from its JSON (worker processes get it as text)."""
    if not sheet:
        return None
    definition, _ = parse_sheet(json.loads(sheet))
    return definition


def read_one(path: Path, mode: str, known: frozenset[str], sheet: str = "") -> Read:
    display = readable(path.name)
    if is_lock_file(path):
        return Read(skipped=problem("file-lock", file=display))
    archive = ARCHIVES.get(path.suffix.lower())
    if archive is not None:
        return Read(skipped=problem("file-archive", file=display, kind=archive))
    kind = NOT_FORMS.get(path.suffix.lower())
    if kind is not None and not (mode == "import" and path.suffix.lower() == ".csv"):
        return Read(skipped=problem("file-not-a-form", file=display, kind=kind))
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # /dev/zero, a pipe: reading would never end
            return Read(failure=problem("file-not-regular", file=display))
        size, mtime = info.st_size, info.st_mtime
        if size == 0:
            return Read(failure=problem("file-empty", file=display))
        if size > MAX_FILE_BYTES:
            return Read(failure=problem("file-too-large", file=display, reason=f"{size:,} バイト"))
        sha = hashlib.sha256(read_bounded(path, display)).hexdigest()
    except WorkbookError as exc:
        return Read(failure=exc.problem)
    except FileNotFoundError:
        return Read(failure=problem("file-not-found", file=display))
    except OSError as exc:
        return Read(failure=problem("file-corrupt", file=display, reason=exc.strerror or str(exc)))
    if sha in known:
        return Read(sha=sha, known=True)
    try:
        required: tuple[str, ...] = ("rating",) if mode == "form" else ("department", "rating")
        definition = _definition(sheet)
        if definition is not None:  # a workspace's own [sheet]: its first rating column's heading
            first = definition.default_diff_column
            required = ((first,) if first else ()) if mode == "form" else ("department", *(first or "",))
            required = tuple(r for r in required if r)
        sheet_read = _read_sheet(path, display, mode, required, definition)
        if (
            mode == "import"
            and definition is not None
            and definition.secretariat_columns
            and isinstance(sheet_read, Problem)
            and sheet_read.code == "sheet-not-found"
        ):  # no department rating heading: perhaps the secretariat's table (事業No | 担当課 | 二次評価 …)
            again = _read_sheet(path, display, mode, ("department",), definition)
            if not isinstance(again, Problem) and any(
                c.key in again.roles for c in definition.secretariat_columns
            ):
                sheet_read = again
        if isinstance(sheet_read, Problem):
            return Read(failure=sheet_read, sha=sha)
        mark = sheet_read.meta.get(FEEDBACK_MARK)
        if mark and mark == input_fingerprint(sheet_read):  # the copy hyoka wrote, sent back unchanged
            return Read(skipped=problem("file-feedback-copy", file=display), sha=sha)
        formulas = _formulas(path, sheet_read)
        return Read(sha=sha, mtime=mtime, sheet=sheet_read, formulas=formulas, link=path.is_symlink())
    except Exception as exc:  # a bug in reading must not cost the other files
        return Read(
            failure=problem("internal-error", file=display, reason=f"{type(exc).__name__}: {exc}"), sha=sha
        )


def read_pickled(path: Path, mode: str, known: frozenset[str], sheet: str = "") -> bytes:
    """:func:`read_one` in a reader process, pickled there: the run unpickles it when it takes the
    file. (Left to the pool, the unpickling runs in a thread of the run's process that takes the
    interpreter from the run each time the run waits for the disk or the store.)"""
    return pickle.dumps(read_one(path, mode, known, sheet), protocol=pickle.HIGHEST_PROTOCOL)


def _read_sheet(
    path: Path, display: str, mode: str, required: tuple[str, ...], definition: SheetDefinition | None
) -> ReadSheet | Problem:
    if path.suffix.lower() == ".csv":
        if mode != "import":
            return problem("file-not-excel", file=display)
        return read_csv(path, display, required, definition)
    return read_workbook(path, display, required, definition)


def _formulas(path: Path, sheet: ReadSheet) -> dict[str, str]:
    """Look for formulas only behind cells that read empty — most files have none, and this re-reads."""
    if sheet.sheet is None:
        return {}
    if sheet.formulas is not None:  # found while the file was read (calamine's sheet scan)
        return sheet.formulas
    refs = [
        c.ref
        for row in sheet.rows
        for c in (row.rating, row.achievement, row.outlook)
        if c.ref and (c.value is None or str(c.value) == "")
    ]
    try:
        return formulas_at(path, sheet.sheet, refs)
    except Exception:  # the values were readable; failing to look behind them is not a new error
        return {}


def worker_start() -> None:
    """In each reader process: Ctrl-C is the parent's to handle (a terminal sends it to the whole
    group, and a worker must never turn it into a failure of the file it reads), and the worker
    exits as soon as its parent is gone (killed, closed terminal), instead of waiting for work forever."""
    import multiprocessing
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        from multiprocessing.connection import wait

        wait([sentinel])  # ready when the parent is gone: its end of the pipe (or its handle) closed
        os._exit(1)

    threading.Thread(target=watch, name="hyoka-parent-watch", daemon=True).start()
