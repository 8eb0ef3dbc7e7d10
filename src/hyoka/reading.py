"""Finding and reading returned files, before anything is decided; the reader processes of a large run.

:func:`discover` finds the files, :func:`read_one` reads one: a file's path, the run's mode and the
hashes already accepted in, a :class:`Read` out, nothing of the run's state. From
:data:`PARALLEL_MIN_FILES` files on, :class:`Worker` processes do the reading (:func:`serve`).
A reader process imports this module and what it needs to read a workbook (:mod:`hyoka.intake`,
:mod:`hyoka.book`, python-calamine), never the store, the plan's versions or the command line: each
worker's start is part of every large collect run (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

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

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
FOLDER_SUFFIXES = (*EXCEL_SUFFIXES, ".xls", ".ods")
"""What a folder of returns is searched for (with the documents of :data:`NOT_FORMS` and the archives)."""
_SYSTEM_FILES = {"thumbs.db", "desktop.ini"}


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files named, and in folders (recursively) the returns and the documents beside them, oldest first.

    Documents of the kinds in :data:`NOT_FORMS` are picked up so that they are listed as skipped with
    the reason; hidden and system files are left out. Feedback copies (要修正_…) are returns too: a
    department may correct one and send it back; collect tells an unchanged copy by its mark.
    """
    found: dict[Path, Path] = {}
    wanted = {*FOLDER_SUFFIXES, *NOT_FORMS, *ARCHIVES}
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if (
                    p.suffix.lower() in wanted
                    and not p.name.startswith(".")
                    and p.name.lower() not in _SYSTEM_FILES
                    and p.is_file()
                ):
                    found.setdefault(p.resolve(), p)
        else:
            found.setdefault(path.resolve(), path)
    return sorted(found.values(), key=_mtime)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


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


# --- reader processes: started by the run, fed through pipes by the run's own thread ------------------

PARALLEL_MIN_FILES = 120
"""From this many files on, reading is done by worker processes (at most :data:`MAX_WORKERS`):
a worker's start costs about as much as reading forty forms, and smaller runs gained nothing from
them (docs/performance.md)."""
MAX_WORKERS = 2
"""Reader processes beside the run (none on a one-core machine): the run decides and stores every
file, so more readers would only wait for it."""
WORKER_AHEAD = 64
"""Files given to each reader process ahead of the run: enough that the readers use the time the run
spends preparing, and that a large form is read before the run comes to it; few enough that a
stopped run leaves little read for nothing (a stopped worker ends after the file it is reading)."""
WORKER_STOP_S = 2.0
"""How long a stopped run waits for a worker to finish the file it reads before ending it."""


def workers_for(count: int) -> int:
    """Reader processes for a run of ``count`` files (0: the run reads without them)."""
    if count < PARALLEL_MIN_FILES:
        return 0
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    return workers if workers >= 2 else 0


class WorkerGone(Exception):
    """A reader process ended before sending a file's result (killed, out of memory)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Worker:
    """One reader process and the run's end of its pipe.

    Only the run's own thread talks to it (no thread of a pool takes the interpreter from the run
    each time a result arrives). The process starts before the run knows what it will read: the
    run's settings (:meth:`configure`) come first, then files, whose results come back in the order
    the files were sent.
    """

    def __init__(self, process: Any, conn: Any) -> None:
        self.process, self.conn = process, conn
        self.queued: deque[int] = deque()  # indexes of the files sent, not yet taken by the run
        self.ready: deque[bytes] = deque()  # results received, for queued[: len(ready)]
        self.alive = True

    def configure(self, mode: str, known: frozenset[str], sheet: str) -> None:
        self._send((mode, known, sheet))

    def send(self, index: int, path: Path, fresh: bool) -> bool:
        """Give the worker a file; False if it is gone (the file goes to another, or to the run)."""
        if not self._send((path, fresh)):
            return False
        self.queued.append(index)
        return True

    def _send(self, message: object) -> bool:
        if self.alive:
            try:
                self.conn.send(message)
            except OSError:
                self.alive = False
        return self.alive

    def drain(self) -> None:
        """Take the results that have arrived, without waiting: a worker whose pipe is full would
        stop reading until the run comes to its next file."""
        try:
            while self.alive and len(self.ready) < len(self.queued) and self.conn.poll():
                self.ready.append(self.conn.recv_bytes())
        except (EOFError, OSError):
            self.alive = False  # the file it was reading is reported when the run comes to it

    def receive(self, index: int) -> Read:
        """The result of file ``index``, the first queued; WorkerGone if the worker ended instead."""
        assert self.queued and self.queued[0] == index
        if not self.ready:
            try:
                self.ready.append(self.conn.recv_bytes())
            except (EOFError, OSError) as exc:
                self.alive = False
                self.queued.clear()  # the run reads the files this worker had
                self.process.join(timeout=WORKER_STOP_S)  # its exit code, once it is gone
                code = self.process.exitcode
                how = (
                    type(exc).__name__
                    if code is None
                    else (f"シグナル {-code}" if code < 0 else f"終了コード {code}")
                )
                raise WorkerGone(f"読み取りのプロセスが終了しました（{how}）") from None
        self.queued.popleft()
        read: Read = pickle.loads(self.ready.popleft())
        return read

    def stop(self) -> None:
        """No more files: the worker ends after the one it reads (a full pipe refuses its result)."""
        self._send(None)
        self.alive = False
        self.conn.close()

    def join(self) -> None:
        self.process.join(timeout=WORKER_STOP_S)
        if self.process.is_alive():  # still reading a large file: it is not needed
            self.process.terminate()
            self.process.join()


def start_workers(files: int) -> list[Worker]:
    """The reader processes for a run of ``files`` files (none for a small run), started now.

    They are started with ``spawn``, so that they hold nothing of the parent's (above all not the
    writer lock, which a forked child would keep after a killed parent), and they import this module
    and nothing of the program that started them (see :func:`_main_left_out`). A worker that is not
    given its settings ends with the run (its pipe closes)."""
    count = workers_for(files)
    if not count:
        return []
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    workers: list[Worker] = []
    try:
        with _main_left_out():
            for _ in range(count):
                ours, theirs = context.Pipe()
                process = context.Process(target=serve, args=(theirs,), name="hyoka-reader", daemon=True)
                process.start()
                theirs.close()  # the worker's end: closed here, so that its exit reads as the end
                workers.append(Worker(process, ours))
    except BaseException:  # Ctrl-C while they start
        stop_workers(workers)
        raise
    return workers


def stop_workers(workers: Iterable[Worker]) -> None:
    workers = list(workers)
    for worker in workers:
        worker.stop()
    for worker in workers:
        worker.join()


@contextmanager
def _main_left_out() -> Iterator[None]:
    """While reader processes are spawned: the parent's main module is not run again in them.

    ``spawn`` runs the parent's main script in each child before its first task (under another name),
    which for the ``hyoka`` console script imports :mod:`hyoka.cli` and with it the command line, and
    for a clerk's own script that calls :func:`hyoka.collect.collect` runs that script's top level.
    A reader needs neither: :func:`serve` names everything it imports. The main module's
    ``__file__`` and ``__spec__``, which ``spawn`` reads to find the script, are hidden while the
    processes start and put back after. (Should a later Python find the script another way, the
    workers only start slower.)
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    names = ("__file__", "__spec__")
    saved: dict[str, Any] = {name: main.__dict__.pop(name) for name in names if name in main.__dict__}
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def serve(conn: Any) -> None:
    """A reader process: the run's settings (mode, hashes already accepted, the sheet definition's
    JSON), then each file the run sends (its path, and whether it is to be read even if an identical
    file was accepted) read and sent back pickled, in the order sent, until the run sends None or is
    gone.

    Ctrl-C is the run's to handle (a terminal sends it to the whole group, and a worker must never
    turn it into a failure of the file it reads). The worker ends with its parent (killed, closed
    terminal): the pipe then reads as ended, or refuses the result.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        settings = conn.recv()
        if settings is None:
            return
        mode, known, sheet = settings
        while (task := conn.recv()) is not None:
            path, fresh = task
            conn.send_bytes(read_pickled(path, mode, frozenset() if fresh else known, sheet))
    except (EOFError, OSError):
        return
