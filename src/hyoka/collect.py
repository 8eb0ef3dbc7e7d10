"""Returns in: read each file, identify department and year, validate, and store — or reject whole.

Semantics the clerk relies on:
- a file with any error is rejected whole: none of its rows are stored (its rejection is recorded);
- each accepted file is stored whole or not at all (a savepoint; the files of a run are committed in
  batches, see :class:`_Commits`, and a run reports as stored only what was committed);
- an identical file (same sha256) already accepted for the year changes nothing;
- a newer file from the same department replaces that department's rows; the earlier stays in the history.
Files of one run are taken oldest first (by modification time), so the newest return wins.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Protocol

from hyoka.forms import SECRETARIAT_KIND
from hyoka.intake import ReadSheet
from hyoka.plan import Plan, RowKey
from hyoka.problems import SEVERITY_ORDER, HyokaError, Problem, Severity, problem
from hyoka.reading import (
    EXCEL_SUFFIXES,
    FOLDER_SUFFIXES,
    WORKER_AHEAD,
    Read,
    Worker,
    WorkerGone,
    discover,
    read_one,
    readable,
    sheet_arg,
    start_workers,
    stop_workers,
)
from hyoka.results import prior_ratings
from hyoka.sheet import SECRETARIAT_SUBMITTER, SheetDefinition, Source
from hyoka.store import Part, Store, Submission, writer_lock
from hyoka.text import normalize_code
from hyoka.validate import Context, validate, validate_secretariat
from hyoka.workbook import WorkbookError, is_lock_file
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear

SCHEMA = "hyoka.collect/1"
_YEAR_IN_NAME = re.compile(r"_((?:R|H)\d{1,3})_", re.IGNORECASE)


SECRETARIAT_LABEL = "事務局"
"""How a secretariat import's outcome names whose file it was."""

FILE_STATUS_LABEL = {
    "accepted": "受付",
    "rejected": "差戻し",
    "skipped": "読み飛ばし",
    "unchanged": "変更なし",
    "checked": "確認のみ（誤りなし）",
}
"""How a file's outcome is named to the clerk (the CLI's lines and the browser's badges)."""


OLDER_CODES = frozenset({"file-older-than-current", "file-duplicate-superseded"})
"""A file's problems that naming it in ``accept_older`` overrides: it goes in force although older."""


@dataclass
class FileResult:
    path: Path
    status: str  # accepted | rejected | skipped | unchanged | checked (dry run, no errors)
    submitter: str | None = None
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    feedback: Path | None = None

    @property
    def name(self) -> str:
        return readable(self.path.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": readable(str(self.path)),
            "status": self.status,
            "department": self.submitter,
            "rows": self.rows,
            "feedback": readable(str(self.feedback)) if self.feedback else None,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass
class Interruption:
    """Why a run stopped before its last file: the files from ``not_processed`` on were not stored."""

    reason: str  # keyboard-interrupt | store-failed
    message: str
    not_processed: list[Path]

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "message": self.message,
            "not_processed": [readable(str(p)) for p in self.not_processed],
        }


class RunOutcome:
    """What a run over files reports (collect, import, and the opinion and reply runs): every file's
    result, and why the run stopped part-way, if it did."""

    dry_run: bool
    files: list[FileResult]
    # Set when Ctrl-C or a failing store stopped the run: ``files`` are the files done (each stored or
    # recorded as its status says), the rest were not stored.
    interrupted: Interruption | None

    @property
    def ok(self) -> bool:
        return self.interrupted is None and not any(f.status == "rejected" for f in self.files)

    def outcome_dict(self) -> dict[str, Any]:
        """The JSON fields every run shares, after the ones that say what the run was for."""
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        return {
            "dry_run": self.dry_run,
            "valid": self.ok,
            "counts": counts,
            "files": [f.to_dict() for f in self.files],
            "interrupted": self.interrupted.to_dict() if self.interrupted else None,
        }


@dataclass
class CollectResult(RunOutcome):
    year: FiscalYear
    dry_run: bool
    files: list[FileResult] = field(default_factory=list)
    interrupted: Interruption | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "fiscal_year": self.year.short, **self.outcome_dict()}


@dataclass
class _Run:
    """What every file of one run is checked against."""

    ws: Workspace
    plan: Plan
    store: Store
    year: FiscalYear
    prior: dict[RowKey, str]
    dry_run: bool
    # Joint rows' parts in force, by submitter: the one thing a file is checked against that other
    # files of the run change. Kept up to date in memory so that each file costs its own rows only.
    joint: dict[RowKey, dict[str, Part]] = field(default_factory=dict)
    # Files of this run already taken, by sha256: the same file under two names counts once.
    taken_files: dict[str, Path] = field(default_factory=dict)
    # Files (resolved) the clerk accepts although they are older than the return in force.
    accept_older: frozenset[Path] = frozenset()
    row_ids: dict[RowKey, int] = field(default_factory=dict)
    folders: dict[Path, Path] = field(default_factory=dict)  # resolved, for stored_path
    # Each department's return in force when the run began; one the run has stored a form for is
    # looked up again (:meth:`in_force`).
    forms_in_force: dict[str, Submission] = field(default_factory=dict)
    forms_stored: set[str] = field(default_factory=set)

    def in_force(self, submitter: str) -> Submission | None:
        if submitter in self.forms_stored:
            return self.store.in_force(self.year, submitter)
        return self.forms_in_force.get(submitter)

    def stored_path(self, path: Path, link: bool | None = None) -> Path:
        """``path.resolve()``, with each folder resolved once per run (an lstat per path component
        per file was a tenth of collect's time at 10x on a busy disk). ``link``: whether the file
        is a symbolic link, as its reading found (None: look now)."""
        if path.is_symlink() if link is None else link:
            return path.resolve()
        folder = self.folders.get(path.parent)
        if folder is None:
            folder = self.folders[path.parent] = path.parent.resolve()
        return folder / path.name

    def load_joint(self) -> None:
        keys = {r.key for r in self.plan.rows if r.is_joint}
        for p in self.store.current_parts(self.year):
            key = (p.project_no, p.department)
            if key in keys and p.submitter != SECRETARIAT_SUBMITTER:  # the second stage is no part
                self.joint.setdefault(key, {})[p.submitter] = p

    def others(self, submitter: str | None) -> Mapping[RowKey, list[Part]]:
        """The joint rows' parts in force a file is checked against — the same for every submitter:
        the other departments' parts, which a form's part should agree with, and the department's own
        earlier part, which the form replaces (the rule tells them apart by submitter, and needs the
        latter to see that a form ends a disagreement). For an import, what it would replace."""
        return _PartsInForce(self.joint)

    def taken(self, submitter: str | None, parts: list[Part], mode: str) -> None:
        """What an accepted (or, in a dry run, acceptable) file puts in force for the next files."""
        if mode == "form":  # a form replaces everything its department had in force
            for by_submitter in self.joint.values():
                by_submitter.pop(submitter or "", None)
        else:  # an import replaces the rows it carries
            for p in parts:
                self.joint.pop((p.project_no, p.department), None)
        for p in parts:
            row = self.plan.by_key.get((p.project_no, p.department))
            if row is not None and row.is_joint:
                self.joint.setdefault(row.key, {})[p.submitter] = p


class _PartsInForce(Mapping[RowKey, list[Part]]):
    """The joint rows' parts in force, each row's as a list when it is looked up (a file's rules look
    up only its own joint rows; copying them all for every file was most of a file's own cost)."""

    def __init__(self, joint: dict[RowKey, dict[str, Part]]) -> None:
        self._joint = joint

    def __getitem__(self, key: RowKey) -> list[Part]:
        return list(self._joint[key].values())

    def __iter__(self) -> Iterator[RowKey]:
        return iter(self._joint)

    def __len__(self) -> int:
        return len(self._joint)


def collect(
    ws: Workspace,
    paths: Iterable[Path],
    year: FiscalYear,
    *,
    dry_run: bool = False,
    feedback_dir: Path | None = None,
    on_file: Callable[[Path], None] | None = None,
    accept_older: Iterable[Path] = (),
    workers: Sequence[Worker] | None = None,
) -> CollectResult:
    """Collect returned forms; see the module docstring for what is stored when.

    ``accept_older`` names files that may replace a department's return in force although they were
    saved earlier (the clerk brings an earlier version back on purpose); they are collected too.
    ``workers``: reader processes started beforehand (:func:`hyoka.reading.start_workers`) for
    these files, which the run takes over; by default a large run starts its own.
    A run stopped by Ctrl-C or by a failing store returns what it did, with ``interrupted`` set.
    """
    older = list(accept_older)
    files = discover([*paths, *older])
    return _process(ws, files, year, "form", dry_run, feedback_dir, on_file, _resolved(older), workers)


def import_table(ws: Workspace, path: Path, year: FiscalYear, *, dry_run: bool = False) -> CollectResult:
    """Bootstrap a year from a flat table ``事業No | 担当課 | 事業評価 [| 事業実績・評価理由 | 今後…]``;
    or, for a sheet with secretariat columns, the secretariat's input (its workbook, or a table of the
    secretariat columns' headings): see :func:`_decide_secretariat`."""
    return _process(ws, [path], year, "import", dry_run, None, None, frozenset())


def _resolved(paths: Iterable[Path]) -> frozenset[Path]:
    out = set()
    for path in paths:
        try:
            out.add(path.resolve())
        except OSError:  # a name that cannot be resolved is reported when it is read
            continue
    return frozenset(out)


resolved_paths = _resolved  # the opinion and reply runs name their --accept-older files the same way


def _process(
    ws: Workspace,
    files: list[Path],
    year: FiscalYear,
    mode: str,
    dry_run: bool,
    feedback_dir: Path | None,
    on_file: Callable[[Path], None] | None,
    accept_older: frozenset[Path],
    workers: Sequence[Worker] | None = None,
) -> CollectResult:
    result = CollectResult(year, dry_run)
    with ExitStack() as stack:
        stack.callback(stop_workers, workers or ())  # those the run does not get to (a failure first)
        ws.sheet_for(year)  # a year whose stored definition does not read stops here, before any file
        # The store is opened before the writer lock is taken: opening it checks that a store which
        # had data has not gone missing, and the lock file is one sign that it had (see Store.open).
        store = stack.enter_context(ws.store())
        # SQLite's default page cache (2 MB) is smaller than a large year's indexes: at 100x each
        # file's entries then read index pages back from the OS, most of the entries' insert time.
        store.conn.execute(f"PRAGMA cache_size = -{STORE_CACHE_KIB}")
        if not dry_run:
            stack.enter_context(writer_lock(ws.store_path))
            stack.enter_context(store.batch())  # what is not committed below is rolled back
        commits = _Commits(store, result)
        try:
            known = frozenset(store.accepted_hashes(year))
            own = ws.sheet_for(year).source if "sheet" in ws.sheet_for(year).source else None
            sheet_json = json.dumps(own, ensure_ascii=False, default=str) if own else ""
            # Reader processes, when the run has them, start now: while the run prepares below.
            reader = stack.enter_context(
                closing(_Reader(files, mode, known, accept_older, sheet_json, workers))
            )
            # The version of the plan in force for the year: its labels name the rows of the forms.
            version = store.version_for(year)
            plan = version.plan
            run = _Run(ws, plan, store, year, prior_ratings(store, year, ws.sheet_for), dry_run)
            run.row_ids = {r.row.key: r.row_id for r in version.rows if not r.dropped}
            run.accept_older = accept_older
            run.forms_in_force = store.forms_in_force(year)
            run.load_joint()
            for path, read in reader:
                with _interrupts_deferred():  # what the run reports must be what was stored
                    if on_file:
                        on_file(path)
                    outcome = _decide_safely(run, path, read, mode)
                    if outcome.status == "rejected" and feedback_dir is not None:
                        _feedback(outcome, feedback_dir)
                    result.files.append(outcome)
                    commits.after_file()
            with _interrupts_deferred():
                commits.commit()
        except KeyboardInterrupt:
            failure = commits.commit_done()
            reason, message = (
                ("store-failed", failure) if failure else ("keyboard-interrupt", "Ctrl-C で中断しました。")
            )
            result.interrupted = Interruption(reason, message, files[len(result.files) :])
        except HyokaError as exc:  # the store failed (locked, read-only, full): the run cannot go on
            # The files decided before the failure are committed if the store still takes them.
            commits.commit_done()
            result.interrupted = Interruption("store-failed", str(exc), files[len(result.files) :])
    return result


STORE_CACHE_KIB = 32 * 1024
"""The store's page cache during a run (SQLite takes the memory only as pages are read)."""

COMMIT_MAX_FILES = 64
COMMIT_MAX_S = 1.0
"""A run's files are committed in batches: the first file alone, then twice as many files each time,
up to this many files or this many seconds since the last commit (docs/performance.md)."""


class _Commits:
    """When the files of a run are committed (each file is a savepoint of the open write transaction).

    One commit per file was most of collect's time at 100x (an fsync each, 298 files). Batches that
    start at one file and double keep small runs as they were (the first file is durable at once, and
    a store that cannot be written fails on it), while a large run commits a dozen times. A kill
    loses at most the files since the last commit — never more than the run had committed, nor more
    than about a second of work — and no report claims them. Ctrl-C and a failing store commit what
    was decided before they report; files of a batch whose commit fails are reported as not stored.
    """

    def __init__(self, store: Store, result: CollectResult) -> None:
        self.store = store
        self.result = result
        self.committed = 0  # result.files[:committed] are durable
        self.size = 1
        self.since = time.monotonic()

    def after_file(self) -> None:
        pending = len(self.result.files) - self.committed
        if pending >= self.size or time.monotonic() - self.since >= COMMIT_MAX_S:
            self.commit()

    def commit(self) -> None:
        try:
            wrote = self.store.commit()
        except HyokaError:
            del self.result.files[self.committed :]  # none of them was stored
            raise
        self.committed = len(self.result.files)
        self.since = time.monotonic()
        if wrote:
            self.size = min(2 * self.size, COMMIT_MAX_FILES)

    def commit_done(self) -> str | None:
        """After Ctrl-C or a failure: commit the files decided so far; the store's message if it failed."""
        try:
            with _interrupts_deferred():
                self.commit()
        except HyokaError as exc:
            return str(exc)
        except KeyboardInterrupt:  # a second Ctrl-C while committing: the commit itself was finished
            pass
        return None


def _decide_safely(run: _Run, path: Path, read: Read, mode: str) -> FileResult:
    try:
        return _decide(run, path, read, mode)
    except HyokaError:
        raise
    except Exception as exc:  # a bug must not cost the other files; nothing of this one is stored
        reason = f"{type(exc).__name__}: {exc}"
        internal = problem("internal-error", file=readable(path.name), reason=readable(reason))
        return FileResult(path, "rejected", problems=[internal])


@contextmanager
def _interrupts_noted() -> Iterator[None]:
    """Ctrl-C stops reading at once, and counts even if the parser swallowed it.

    A KeyboardInterrupt raised deep inside a library can come out as another error (a TypeError
    of half-built state) that reading reports as a damaged file: the file's result is then dropped
    all the same, so that a Ctrl-C is never recorded as a rejection of a good file.
    """
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    pressed: list[int] = []

    def note(signum: int, frame: Any) -> None:
        pressed.append(signum)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if pressed:
        raise KeyboardInterrupt


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C until the file in hand is decided, stored and counted (a fraction of a second).

    Without this, Ctrl-C just after a commit would leave a stored file out of the run's report.
    Only the main thread can take signals; elsewhere (or under a handler of the caller's) nothing changes.
    """
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    pressed: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if pressed:
        raise KeyboardInterrupt


def _feedback(outcome: FileResult, folder: Path) -> None:
    """Write the marked-up copy; failing to write it is reported, it never stops the run."""
    suffix = outcome.path.suffix.lower()
    if suffix not in FOLDER_SUFFIXES:
        return
    from hyoka.feedback import CONVERTED_SUFFIXES, write_feedback

    try:
        outcome.feedback = write_feedback(outcome.path, outcome.problems, folder)
        if outcome.feedback is not None and suffix in CONVERTED_SUFFIXES:
            outcome.problems.append(
                problem("feedback-converted", file=outcome.name, suffix=suffix, copy=outcome.feedback.name)
            )
    except HyokaError as exc:
        outcome.problems.append(problem("feedback-failed", file=outcome.name, reason=readable(str(exc))))
    except Exception as exc:  # a workbook openpyxl can read but not write back must not stop the run
        reason = readable(f"{type(exc).__name__}: {exc}")
        outcome.problems.append(problem("feedback-failed", file=outcome.name, reason=reason))


# --- reading the run's files: by reader processes, or by a thread a few files ahead ---------------------


class _Reader:
    """Each file read, in order: by reader processes (:meth:`_pooled`; see :mod:`hyoka.reading`), or
    by a thread a few files ahead (:func:`_read_ahead`); :meth:`close` stops it (files not started
    are not read).

    ``fresh`` files are read whole even when an identical file was accepted (the clerk brings it back).
    ``workers``: reader processes the caller started early (:func:`hyoka.reading.start_workers`), so
    that they start while the command prepares; without them a large run starts its own.
    """

    def __init__(
        self,
        files: list[Path],
        mode: str,
        known: frozenset[str],
        fresh: frozenset[Path] = frozenset(),
        sheet: str = "",
        workers: Sequence[Worker] | None = None,
    ) -> None:
        self.files, self.mode, self.known, self.fresh, self.sheet = files, mode, known, fresh, sheet
        self.assigned: dict[int, Worker] = {}  # file index -> the worker reading it
        self.handed = 0  # files[:handed] have been given out (to a worker, or left to the run)
        self.started: Iterator[tuple[Path, Read]] | None = None
        self.workers = list(workers) if workers is not None else start_workers(len(files))
        try:
            if len(files) < 2:  # nothing to share
                stop_workers(self.workers)
                self.workers = []
            for worker in self.workers:
                worker.configure(mode, known, sheet)
                worker.drain()
            self._hand_out(0)
        except BaseException:  # Ctrl-C while the workers start: the caller never gets to close this
            self.close()
            raise

    def known_for(self, path: Path) -> frozenset[str]:
        return frozenset() if self._fresh(path) else self.known

    def _fresh(self, path: Path) -> bool:
        return bool(self.fresh) and _resolved([path]) <= self.fresh

    def read_here(self, path: Path) -> Read:
        with _interrupts_noted():
            return read_one(path, self.mode, self.known_for(path), *sheet_arg(self.sheet))

    def __iter__(self) -> Iterator[tuple[Path, Read]]:
        if self.workers:
            self.started = self._pooled()
        elif len(self.files) < 2:
            self.started = iter([(path, self.read_here(path)) for path in self.files])
        else:
            self.started = _read_ahead(self.files, self.mode, self.known_for, self.sheet)
        return self.started

    def _hand_out(self, start: int) -> None:
        """Keep each live worker :data:`~hyoka.reading.WORKER_AHEAD` files ahead of the run; ``start``:
        the first file the run has not come to (a file not given out by then is read by the run)."""
        self.handed = max(self.handed, start)
        while self.handed < len(self.files):
            live = [w for w in self.workers if w.takes_files]
            worker = min(live, key=lambda w: len(w.queued), default=None)
            if worker is None or len(worker.queued) >= WORKER_AHEAD:
                return
            path = self.files[self.handed]
            if worker.send(self.handed, path, self._fresh(path)):
                self.assigned[self.handed] = worker
                self.handed += 1

    def _pooled(self) -> Iterator[tuple[Path, Read]]:
        """Each file from the worker it was given to, or read by the run itself when no worker had
        it (the workers were still starting, or none is left). A worker that dies (memory) costs the
        file it was reading; the files it had queued are read here."""
        for i, path in enumerate(self.files):
            for w in self.workers:
                w.drain()
            self._hand_out(i + 1)  # this file, if no worker has it, is read here now
            worker = self.assigned.pop(i, None)
            if worker is not None and not worker.queued:  # it died with the files it had
                worker = None
            if worker is None:
                read = self.read_here(path)
            else:
                try:
                    read = worker.receive(i)
                except Exception as exc:  # a worker gone, or a result that does not unpickle
                    reason = exc.reason if isinstance(exc, WorkerGone) else f"{type(exc).__name__}: {exc}"
                    read = Read(failure=problem("internal-error", file=readable(path.name), reason=reason))
            yield path, read

    def close(self) -> None:
        """Ctrl-C or a failing store: files not yet started are dropped, not read for nothing."""
        close = getattr(self.started, "close", None)
        if close is not None:
            close()
        stop_workers(self.workers)
        self.workers = []


READ_AHEAD = 4
"""Files read ahead in a thread while the previous one is stored (its commit waits on the disk)."""


def _read_ahead(
    files: list[Path], mode: str, known_for: Callable[[Path], frozenset[str]], sheet: str = ""
) -> Iterator[tuple[Path, Read]]:
    """Each file read, in order, by one background thread a few files ahead of the caller.

    Storing a file mostly waits for the disk (the commit's fsync, which releases the GIL), so reading
    the next files meanwhile takes the reading off the run's wall time. A thread, not a process: no
    descriptor (the writer lock) or process outlives the run.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hyoka-read")
    try:
        pending: deque[tuple[Path, Future[Read]]] = deque()
        queue = iter(files)
        for path in queue:
            pending.append((path, pool.submit(read_one, path, mode, known_for(path), *sheet_arg(sheet))))
            if len(pending) >= READ_AHEAD:
                break
        while pending:
            path, future = pending.popleft()
            following = next(queue, None)
            if following is not None:
                pending.append(
                    (
                        following,
                        pool.submit(read_one, following, mode, known_for(following), *sheet_arg(sheet)),
                    )
                )
            yield path, future.result()
    finally:
        # Ctrl-C or a failed store: the files not started yet are not read (the one being read ends).
        pool.shutdown(wait=True, cancel_futures=True)


# --- deciding: validate against the plan and the store, then store or reject ---------------------------


FUTURE_TOLERANCE_S = 3600
"""A saved time more than this after the moment it is judged at is taken for a wrong clock."""


def _decide(run: _Run, path: Path, read: Read, mode: str) -> FileResult:
    display = readable(path.name)
    if read.skipped is not None:
        return FileResult(path, "skipped", problems=[read.skipped])
    if read.known:
        return _duplicate(run, path, read)
    if read.sha in run.taken_files:
        earlier_name = readable(run.taken_files[read.sha].name)
        return FileResult(
            path,
            "unchanged",
            problems=[
                problem("file-duplicate", file=display, received=f"この回収で先に処理した「{earlier_name}」")
            ],
        )
    if read.failure is not None or read.sheet is None:
        assert read.failure is not None
        return _reject(run, path, None, read.sha, [read.failure], mode)
    sheet = read.sheet
    problems: list[Problem] = []
    submitter: str | None = None
    definition = run.ws.sheet_for(run.year)
    if mode == "import" and "sheet" in definition.source and definition.secretariat_columns:
        book = sheet.meta.get("kind") == SECRETARIAT_KIND
        sources = {
            definition.column(k).source
            for k in sheet.roles
            if definition.has(k) and definition.column(k).is_input
        }
        if book or sources == {"secretariat"}:
            return _decide_secretariat(run, path, read, definition, book)
        if "secretariat" in sources:

            def titles(source: Source) -> str:
                return "・".join(
                    f"「{c.title}」" for c in definition.of_source(source) if c.key in sheet.roles
                )

            mixed = problem(
                "import-mixed-sources",
                file=display,
                sheet=sheet.sheet,
                department=titles("department"),
                secretariat=titles("secretariat"),
            )
            return _reject(run, path, None, read.sha, [mixed], mode)
    if mode == "form" and sheet.meta.get("kind") == SECRETARIAT_KIND:  # read by import, not collect
        wrong = problem("form-is-secretariat-workbook", file=display, sheet=sheet.sheet)
        return _reject(run, path, None, read.sha, [wrong], mode)
    if mode == "form":
        problems.extend(_check_year(run, sheet, path))
        if problems:  # checking rows against the wrong year would only add noise
            return _reject(run, path, None, read.sha, problems, mode)
        submitter = _identify_submitter(run.plan, sheet, path)
        if submitter is None:
            problems.append(problem("form-department-unknown", file=display, sheet=sheet.sheet))
            return _reject(run, path, None, read.sha, problems, mode)
        order = _against_current(run, path, read, submitter)
        problems.extend(order)
        if any(p.severity is Severity.ERROR for p in order):
            return _reject(run, path, submitter, read.sha, problems, mode)
        fingerprint = sheet.meta.get("plan_fingerprint")
        if fingerprint and fingerprint != run.plan.fingerprint:
            problems.append(problem("form-plan-changed", file=display, sheet=sheet.sheet))
        made_with = sheet.meta.get("sheet_fingerprint")
        if made_with and made_with != run.ws.sheet_for(run.year).fingerprint:
            problems.append(problem("form-sheet-changed", file=display, sheet=sheet.sheet))
    ctx = Context(
        plan=run.plan,
        scale=run.ws.config_for(run.year).scale,
        year=run.year,
        file=display,
        sheet=sheet.sheet,
        submitter=submitter,
        prior=run.prior,
        others=run.others(submitter),
        formulas=read.formulas,
        row_ids=run.row_ids,
        definition=definition if "sheet" in definition.source else None,
    )
    parts, found = validate(ctx, sheet.rows)
    problems.extend(sheet.notes)  # warnings from reading (several sheets look like the form)
    problems.extend(found)
    problems.sort(key=lambda p: SEVERITY_ORDER[p.severity])  # errors first; stable within a severity
    if any(p.severity is Severity.ERROR for p in problems):
        return _reject(run, path, submitter, read.sha, problems, mode)
    status = "checked"
    if not run.dry_run:
        run.store.add_submission(
            year=run.year,
            submitter=submitter or "",
            kind=mode,
            file_name=display,
            file_path=readable(str(run.stored_path(path, read.link)), "backslashreplace"),
            sha256=read.sha,
            parts=parts,
            problems=[p.to_dict() for p in problems],
            replace_rows=mode == "import",
            file_mtime=read.mtime,
        )
        status = "accepted"
    # Only now, with the file stored (or, in a dry run, judged acceptable), does it count for the
    # next files of the run: a failure above leaves the run's view as the store is.
    run.taken(submitter, parts, mode)
    run.taken_files[read.sha] = path
    if mode == "form" and submitter is not None:
        run.forms_stored.add(submitter)
    return FileResult(path, status, submitter, len(parts), problems)


def _decide_secretariat(
    run: _Run, path: Path, read: Read, definition: SheetDefinition, book: bool
) -> FileResult:
    """A secretariat import (its table, or the workbook ``forms --secretariat`` made): every row's
    secretariat columns checked, stored whole or not at all as entries of ``@secretariat``, each
    replacing that row's secretariat entry in force (the departments' parts stay as they are)."""
    from hyoka.results import department_values, year_results

    display = readable(path.name)
    sheet = read.sheet
    assert sheet is not None
    stored: dict[RowKey, dict[str, object]] | None = None
    if book:  # the department cells it shows, as stored, to tell the clerk what will not be taken
        results = year_results(run.plan, run.store.current_parts(run.year))
        stored = {key: department_values(definition, res) for key, res in results.items()}
    ctx = Context(
        plan=run.plan,
        scale=run.ws.scale,
        year=run.year,
        file=display,
        sheet=sheet.sheet,
        submitter=None,
        row_ids=run.row_ids,
        definition=definition,
    )
    parts, problems = validate_secretariat(ctx, sheet.rows, stored)
    problems = sorted([*sheet.notes, *problems], key=lambda p: SEVERITY_ORDER[p.severity])
    if any(p.severity is Severity.ERROR for p in problems):
        return _reject(run, path, SECRETARIAT_SUBMITTER, read.sha, problems, "import")
    status = "checked"
    if not run.dry_run:
        run.store.add_submission(
            year=run.year,
            submitter=SECRETARIAT_SUBMITTER,  # the store's kinds are form and import: an import it is
            kind="import",
            file_name=display,
            file_path=readable(str(run.stored_path(path)), "backslashreplace"),
            sha256=read.sha,
            parts=parts,
            problems=[p.to_dict() for p in problems],
            replace_rows=True,
            file_mtime=read.mtime,
        )
        status = "accepted"
    run.taken_files[read.sha] = path
    return FileResult(path, status, SECRETARIAT_LABEL, len(parts), problems)


def _duplicate(run: _Run, path: Path, read: Read) -> FileResult:
    """An identical file was accepted for the year: nothing changes — say what is in force."""
    display = readable(path.name)
    earlier = run.store.accepted_with_hash(run.year, read.sha)
    assert earlier is not None
    when = earlier.received_at.strftime("%Y-%m-%d %H:%M:%S") + " に受け付け"
    found = problem("file-duplicate", file=display, received=when)
    if earlier.kind == "form":
        current = run.in_force(earlier.submitter)
        if current is not None and current.sha256 != earlier.sha256:
            found = problem(
                "file-duplicate-superseded",
                file=display,
                received=when,
                current=current.file_name,
                current_received=current.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                current_folder=str(PurePath(current.file_path).parent),  # versions often share a name
            )
    return FileResult(path, "unchanged", earlier.submitter or None, earlier.row_count, [found])


def _against_current(run: _Run, path: Path, read: Read, submitter: str) -> list[Problem]:
    """May this return replace the department's return in force? See :func:`against_in_force`."""
    return against_in_force(
        readable(path.name),
        read.mtime,
        run.in_force(submitter),
        accept=bool(run.accept_older) and _resolved([path]) <= run.accept_older,
    )


class InForce(Protocol):
    """The file in force for a source (a department's return, a member's or department's workbook)."""

    @property
    def file_name(self) -> str: ...
    @property
    def file_mtime(self) -> float | None: ...
    @property
    def received_at(self) -> datetime: ...


def against_in_force(display: str, mtime: float, current: InForce | None, *, accept: bool) -> list[Problem]:
    """May a file saved at ``mtime`` replace ``current``? Normally by when each was saved.

    A file in force whose saved time lies in the future (a wrong clock) would block every later,
    genuinely newer file for as long: it is compared by order of receipt instead, so the file
    received now wins. A file the clerk names as accepted although older (``accept``) goes in force
    too. The one rule of collect and of the opinion and reply runs.
    """
    found: list[Problem] = []
    now = datetime.now().timestamp()
    if mtime > now + FUTURE_TOLERANCE_S:
        found.append(problem("file-dated-in-future", file=display, this=_when(mtime)))
    if current is None or current.file_mtime is None or mtime >= current.file_mtime - 1:
        return found
    received = current.received_at.timestamp()
    if current.file_mtime > min(now, received) + FUTURE_TOLERANCE_S:
        found.append(
            problem(
                "current-dated-in-future",
                file=display,
                current=current.file_name,
                that=_when(current.file_mtime),
            )
        )
        return found
    # An older file goes in force only when the clerk named it: taken quietly, it would put an older
    # version back in force.
    found.append(
        problem(
            "older-file-accepted" if accept else "file-older-than-current",
            file=display,
            current=current.file_name,
            this=_when(mtime),
            that=_when(current.file_mtime),
        )
    )
    return found


_NOT_RECORDED = frozenset({"internal-error", "file-not-found", "file-not-regular"})


def _reject(
    run: _Run, path: Path, submitter: str | None, sha: str, problems: list[Problem], mode: str
) -> FileResult:
    display = readable(path.name)
    if any(p.code in _NOT_RECORDED for p in problems):
        # A fault of hyoka (or a reader process that died) says nothing about the file, and a path
        # that is no file (a typo, a device) is no return: no rejection is recorded, so that status
        # does not show a department (or 提出課不明) as sent back for it.
        return FileResult(path, "rejected", submitter, 0, problems)
    earlier = run.store.rejected_with_hash(run.year, sha) if sha else None
    if earlier is not None:  # the same file again: its rejection is on record once
        when = earlier.received_at.strftime("%Y-%m-%d %H:%M")
        problems = [*problems, problem("file-already-rejected", file=display, received=when)]
    elif not run.dry_run:
        run.store.add_rejection(
            year=run.year,
            submitter=submitter or "",
            kind=mode,
            file_name=display,
            file_path=readable(str(run.stored_path(path)), "backslashreplace"),
            sha256=sha,
            problems=[p.to_dict() for p in problems],
        )
    return FileResult(path, "rejected", submitter, 0, problems)


def _check_year(run: _Run, sheet: ReadSheet, path: Path) -> list[Problem]:
    """The form's own year — from its hidden sheet, its heading, or its file name — must be --year."""
    form_year: FiscalYear | None = None
    candidates = [sheet.meta.get("fiscal_year"), sheet.heading_year]
    m = _YEAR_IN_NAME.search(path.name)
    candidates.append(m.group(1) if m else None)
    for text in candidates:
        if text:
            try:
                form_year = FiscalYear.parse(text)
                break
            except ValueError:
                continue
    if form_year is not None and form_year != run.year:
        gannen = run.ws.config.gannen
        return [
            problem(
                "form-year-mismatch",
                file=readable(path.name),
                sheet=sheet.sheet,
                form_year=form_year.label(gannen),
                year=run.year.label(gannen),
            )
        ]
    return []


def _identify_submitter(plan: Plan, sheet: ReadSheet, path: Path) -> str | None:
    """From the hidden sheet; else the one department all rows share; else the file name."""
    submitters = plan.submitters
    named = normalize_code(sheet.meta.get("submitter", ""))
    if named in submitters:
        return named
    common: set[str] | None = None
    for row in sheet.rows:
        candidates = {
            s
            for r in plan.project(row.project_no)
            for s in r.submitters
            if not normalize_code(row.department.value)
            or r.department == normalize_code(row.department.value)
        }
        if candidates:
            common = candidates if common is None else common & candidates
    if common and len(common) == 1:
        return next(iter(common))
    stem = normalize_code(path.stem)
    in_name = sorted((s for s in submitters if s in stem), key=len, reverse=True)
    if in_name and (common is None or in_name[0] in common):
        return in_name[0]
    return None


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


# --- the year, when none is given: the one all forms record ----------------------------------------------


def year_of_forms(files: Iterable[Path], *, gannen: bool = True) -> FiscalYear | Problem:
    """The fiscal year the forms record in their hidden sheet, when every form that records one agrees.

    Files that record none (a lock file, a copy into a fresh workbook, not a workbook) do not count;
    when none records a year, or they record different years, the problem names the files and years.
    """
    with _interrupts_noted():  # openpyxl can turn Ctrl-C into an error that recorded_year swallows
        found = [(path.name, recorded_year(path)) for path in files]
    return decide_year(found, gannen=gannen)


def decide_year(
    found: Iterable[tuple[str, FiscalYear | None]], *, gannen: bool = True
) -> FiscalYear | Problem:
    """Pure: the one year of ``(file name, recorded year)`` pairs, or the problem naming them."""
    by_year: dict[FiscalYear, list[str]] = {}
    without: list[str] = []
    for name, year in found:
        if year is None:
            without.append(name)
        else:
            by_year.setdefault(year, []).append(name)
    if len(by_year) == 1:
        return next(iter(by_year))
    if not by_year:
        return problem("year-not-in-forms", files=_names(without) or "なし")
    years = "、".join(f"{fy.label(gannen)}: {_names(names)}" for fy, names in sorted(by_year.items()))
    return problem("form-years-differ", years=years)


def recorded_year(path: Path) -> FiscalYear | None:
    """The year in a form's hidden ``_hyoka`` sheet; None for anything else (its problems come later)."""
    from hyoka.workbook import META_SHEET, open_workbook

    if is_lock_file(path) or path.suffix.lower() not in EXCEL_SUFFIXES:
        return None
    try:
        wb = open_workbook(path)
    except (WorkbookError, HyokaError):
        return None
    try:
        if META_SHEET not in wb.sheetnames:
            return None
        for values in wb[META_SHEET].iter_rows(min_row=1, max_row=50, max_col=2, values_only=True):
            if values and values[0] == "fiscal_year" and values[1] is not None:
                return FiscalYear.parse(str(values[1]))
        return None
    except Exception:  # a damaged workbook: collect names its problem when it reads the file
        return None
    finally:
        wb.close()


def _names(names: list[str], shown: int = 3) -> str:
    more = f" ほか{len(names) - shown}件" if len(names) > shown else ""
    return "、".join(names[:shown]) + more
