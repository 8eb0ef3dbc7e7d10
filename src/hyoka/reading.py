"""Finding and reading returned files, before anything is decided; the reader processes of a large run.

:func:`discover` finds the files, :func:`read_one` reads one: a file's path, the run's mode and the
hashes already accepted in, a :class:`Read` out, nothing of the run's state. From
:data:`PARALLEL_MIN_FILES` files on, :class:`Worker` processes do the reading (:func:`serve`):
forked on Linux (:func:`start_method`), spawned on Windows and macOS, where a reader process imports
this module and what it needs to read a workbook (:mod:`hyoka.intake`, :mod:`hyoka.book`,
python-calamine), never the store, the plan's versions or the command line: each worker's start is
part of every large collect run (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import stat
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
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
        data = read_bounded(path, display)  # read once: what is hashed is what is parsed
        sha = hashlib.sha256(data).hexdigest()
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
        sheet_read = _read_sheet(path, display, mode, required, definition, data)
        if (
            mode == "import"
            and definition is not None
            and definition.secretariat_columns
            and isinstance(sheet_read, Problem)
            and sheet_read.code == "sheet-not-found"
        ):  # no department rating heading: perhaps the secretariat's table (事業No | 担当課 | 二次評価 …)
            again = _read_sheet(path, display, mode, ("department",), definition, data)
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
    path: Path,
    display: str,
    mode: str,
    required: tuple[str, ...],
    definition: SheetDefinition | None,
    data: bytes,
) -> ReadSheet | Problem:
    if path.suffix.lower() == ".csv":
        if mode != "import":
            return problem("file-not-excel", file=display)
        return read_csv(path, display, required, definition, data)
    return read_workbook(path, display, required, definition, data)


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

PARALLEL_MIN_FILES = {"fork": 16, "spawn": 120}
"""From this many files on, reading is done by worker processes (at most :data:`MAX_WORKERS`), by
how they start (:func:`start_method`): a spawned worker's start costs about as much as reading forty
forms, and smaller runs gained nothing from it; a forked one starts in milliseconds
(docs/performance.md)."""
MAX_WORKERS = 2
"""Reader processes beside the run (none on a one-core machine): the run decides and stores every
file, so more readers would only wait for it."""
WORKER_AHEAD = 64
"""Files given to each reader process ahead of the run: enough that the readers use the time the run
spends preparing, and that a large form is read before the run comes to it; few enough that a
stopped run leaves little read for nothing (a stopped worker ends after the file it is reading)."""
READER_NICENESS = 10
"""How much lower a reader process runs than the run (POSIX ``nice``): the run decides and stores
every file and is what a large run waits for; readers at a lower priority read in its idle moments
instead of taking a core from it (100x on two cores: 1.92 → 1.74 s, the indicator sheet 2.38 →
2.12 s, docs/performance.md)."""
WORKER_STOP_S = 2.0
"""How long a stopped run waits for a worker to finish the file it reads before ending it."""


def start_method() -> str:
    """How reader processes start: ``fork`` on Linux while the process has one thread (the command
    line), ``spawn`` everywhere else (Windows and macOS have no safe fork; a forked child of a
    process with other threads, the browser's, could inherit a lock one of them holds)."""
    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"


def workers_for(count: int, method: str) -> int:
    """Reader processes for a run of ``count`` files started by ``method`` (0: the run reads alone)."""
    if count < PARALLEL_MIN_FILES[method]:
        return 0
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    return workers if workers >= 2 else 0


class WorkerGone(Exception):
    """A reader process ended before sending a file's result (killed, out of memory)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Worker:
    """One reader process and the run's ends of its two pipes (files out, results back).

    Only the run's own thread talks to it (no thread of a pool takes the interpreter from the run
    each time a result arrives), and never in a way that can wait on the worker: the worker takes
    every message as it comes (a thread of its own does), and the run sends nothing until the
    worker has said it is up (:meth:`drain`) — before that, on Windows, its end of a pipe is still
    held by the run, so that a worker dying while it starts would not show as a closed pipe. The
    run's settings (:meth:`configure`) go first, then files, whose results come back in the order
    the files were sent.
    """

    def __init__(self, process: Any, files: Any, results: Any) -> None:
        self.process, self.files, self.results = process, files, results
        self.queued: deque[int] = deque()  # indexes of the files sent, not yet taken by the run
        self.arrived: deque[bytes] = deque()  # results received, for queued[: len(arrived)]
        self.settings: tuple[str, frozenset[str], str] | None = None
        self.up = False  # the worker has said it is up: files may be sent
        self.alive = True

    @property
    def takes_files(self) -> bool:
        return self.up and self.alive

    def configure(self, mode: str, known: frozenset[str], sheet: str) -> None:
        """The run's settings, sent as soon as the worker is up."""
        self.settings = (mode, known, sheet)
        if self.up:
            self._send(self.settings)

    def send(self, index: int, path: Path, fresh: bool) -> bool:
        """Give the worker a file; False if it is gone (the file goes to another, or to the run)."""
        if not self.takes_files or not self._send((path, fresh)):
            return False
        self.queued.append(index)
        return True

    def _send(self, message: object) -> bool:
        try:
            self.files.send(message)
        except OSError:
            self.alive = False
        return self.alive

    def drain(self) -> None:
        """Take what has arrived, without waiting: that the worker is up (then its settings go), and
        results, so that a worker never stops on a full pipe until the run comes to its next file."""
        try:
            while self.alive and self.results.poll():
                data = self.results.recv_bytes()
                if self.up:
                    self.arrived.append(data)
                else:
                    self.up = True
                    if self.settings is not None:
                        self._send(self.settings)
        except (EOFError, OSError):
            self.alive = False  # the file it was reading is reported when the run comes to it
        if not self.up and self.alive and self.process.exitcode is not None:
            self.alive = False  # ended while it started: nothing was given to it

    def receive(self, index: int) -> Read:
        """The result of file ``index``, the first queued; WorkerGone if the worker ended instead."""
        from multiprocessing.connection import wait

        assert self.queued and self.queued[0] == index
        while not self.arrived:
            try:
                if self.results.poll() or self.process.sentinel not in wait(
                    [self.results, self.process.sentinel]
                ):
                    self.arrived.append(self.results.recv_bytes())
                elif not self.results.poll():  # ended, with nothing left to read
                    raise EOFError
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
        read: Read = pickle.loads(self.arrived.popleft())
        return read

    def stop(self) -> None:
        """No more files: the worker ends after the one it reads (the closed pipe refuses its result)."""
        self.alive = False
        self.files.close()
        self.results.close()

    def join(self) -> None:
        self.process.join(timeout=WORKER_STOP_S)
        if self.process.is_alive():  # still reading a large file (a slow share): it is not needed
            self.process.terminate()
            self.process.join(timeout=WORKER_STOP_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=WORKER_STOP_S)


_SPAWNING = threading.Lock()
"""One run at a time starts its workers (the browser's jobs run in threads): see :func:`_main_left_out`."""


def start_workers(files: int, method: str | None = None) -> list[Worker]:
    """The reader processes for a run of ``files`` files (none for a small run), started now.

    ``method`` is :func:`start_method`'s unless given. A forked worker first lets go of what it
    took over of the parent's (:func:`_leave_parent`): the run's ends of every worker's pipes, so
    that a closed pipe reads as the end, and every open file, above all the writer lock, which it
    would otherwise keep after a killed parent. A spawned one holds nothing of the parent's and imports
    this module and nothing of the program that started it (see :func:`_main_left_out`). Ctrl-C is
    held back while each starts (where the system allows), so that it cannot interrupt the child's
    start-up (the child then ignores it: it is the run's to handle). A worker never given its
    settings ends with the run (its pipe closes)."""
    method = method or start_method()
    count = workers_for(files, method)
    if not count:
        return []
    import multiprocessing

    spawned = method != "fork"
    context = multiprocessing.get_context("spawn") if spawned else multiprocessing.get_context("fork")
    if spawned and hasattr(signal, "pthread_sigmask"):
        # POSIX: spawn's resource tracker, started by the first process otherwise, unblocks SIGINT
        # after starting itself, which would undo _sigint_held for that first worker.
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    workers: list[Worker] = []
    try:
        with _SPAWNING, _main_left_out() if spawned else nullcontext():
            for _ in range(count):
                files_in, files_out = context.Pipe(duplex=False)
                # Results through a duplex pipe used one way: a socket pair on POSIX, whose buffer
                # (about 200 KB on Linux) holds several forms' results; a plain pipe's holds two.
                results_in, results_out = context.Pipe()
                # What a forked worker closes first: the run's ends of its pipes and the earlier ones'.
                runs = [*((w.files, w.results) for w in workers), (files_out, results_in)]
                ends = None if spawned else tuple(c.fileno() for pair in runs for c in pair)
                process = context.Process(
                    target=serve, args=(files_in, results_out, ends), name="hyoka-reader", daemon=True
                )
                with _sigint_held():
                    process.start()
                files_in.close()  # the worker's ends: closed here, so that its exit reads as the end
                results_out.close()
                workers.append(Worker(process, files_out, results_in))
    except BaseException:  # Ctrl-C while they start
        stop_workers(workers)
        raise
    return workers


@contextmanager
def _sigint_held() -> Iterator[None]:
    """SIGINT blocked in this thread (a child started now inherits the block; POSIX only)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


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


def _leave_parent(parent_ends: tuple[int, ...]) -> None:
    """In a forked worker: close the run's ends of the pipes, and let go of every file and folder the
    parent had open (the writer lock, the store): a worker must hold nothing that outlives the run.
    The standard streams, and pipes and sockets the parent had from elsewhere, stay open."""
    for fd in parent_ends:
        with suppress(OSError):
            os.close(fd)
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]  # fork: Linux only (start_method)
    except OSError:  # no /proc (a container without it): every descriptor the process may have
        fds = list(range(3, min(os.sysconf("SC_OPEN_MAX"), 65536)))
    # Pointed at the null device rather than closed: a file object of the parent's still holding the
    # number (a log file) can then neither fail nor, closed by the garbage collector, close a return
    # this worker has opened under the same number meanwhile.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in fds:
        if fd <= 2 or fd == null:
            continue
        with suppress(OSError):  # not open (the listing's own descriptor, closed by now)
            mode = os.fstat(fd).st_mode
            if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
                os.dup2(null, fd)
    os.close(null)


def serve(files: Any, results: Any, parent_ends: tuple[int, ...] | None = None) -> None:
    """A reader process: it says it is up, takes the run's settings (mode, hashes already accepted,
    the sheet definition's JSON), then reads each file the run sends (its path, and whether it is to
    be read even if an identical file was accepted) and sends it back pickled, in the order sent,
    until the run closes the pipe or is gone.

    A thread takes the run's messages as they come, so that the run never waits on this process.
    Ctrl-C is the run's to handle (a terminal sends it to the whole group, and a worker must never
    turn it into a failure of the file it reads). The worker ends with its parent (killed, closed
    terminal): the pipe then reads as ended, or refuses the result. A forked worker is given the
    descriptors of the run's ends of the pipes (``parent_ends``) to close.
    """
    import queue

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_ends is not None:
        _leave_parent(parent_ends)
    if hasattr(os, "nice"):  # POSIX; on Windows readers keep the run's priority
        with suppress(OSError):
            os.nice(READER_NICENESS)
    if hasattr(signal, "pthread_sigmask"):  # held back while this process started
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    messages: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def take() -> None:
        try:
            while True:
                messages.put(files.recv())
        except (EOFError, OSError):
            messages.put(None)

    threading.Thread(target=take, name="hyoka-reader-files", daemon=True).start()
    try:
        results.send_bytes(b"")  # up
        settings = messages.get()
        if settings is None:
            return
        mode, known, sheet = settings
        while (task := messages.get()) is not None:
            path, fresh = task
            try:
                data = read_pickled(path, mode, frozenset() if fresh else known, sheet)
            except Exception as exc:  # read_one reports a file's own faults; this is anything else
                reason = f"{type(exc).__name__}: {exc}"
                failure = problem("internal-error", file=readable(Path(path).name), reason=reason)
                data = pickle.dumps(Read(failure=failure), protocol=pickle.HIGHEST_PROTOCOL)
            results.send_bytes(data)
    except (EOFError, OSError):
        return
