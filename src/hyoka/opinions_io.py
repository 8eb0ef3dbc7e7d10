"""Opinions and replies in and out: the flat table, the member and department workbooks — adapter.

Reading goes through the same machinery as ``collect``: :func:`hyoka.reading.discover` (folders,
oldest first, feedback copies left out), :func:`hyoka.workbook.open_workbook` (size, zip-bomb and XML
checks before anything is parsed), the one problem catalogue with file, sheet and cell, the writer
lock, one transaction per accepted file, every file recorded (accepted or rejected), an identical
file counted once, and the marked-up copies of :mod:`hyoka.feedback` for rejected workbooks.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyoka import opinions_store as ostore
from hyoka.collect import (
    FileResult,
    Interruption,
    RunOutcome,
    against_in_force,
    resolved_paths,
)
from hyoka.files import atomic_write
from hyoka.opinions import (
    KIND_LABELS,
    PROJECT,
    WHOLE,
    Opinion,
    Reply,
    Subject,
    SubjectIndex,
    answer,
    find_level_subject,
    find_subject,
    measure_policies,
    opinion_label,
    ordered,
    reply_status,
    route,
)
from hyoka.plan import Plan
from hyoka.problems import SEVERITY_ORDER, HyokaError, Problem, Severity, problem
from hyoka.reading import discover
from hyoka.sheet import Column, SheetDefinition, parse_value
from hyoka.store import Store, writer_lock
from hyoka.text import clean_text, normalize_code, safe_filename
from hyoka.workbook import MAX_FILE_BYTES, WorkbookError, is_lock_file, open_workbook
from hyoka.workspace import Meeting, Workspace
from hyoka.years import FiscalYear

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

SCHEMA = "hyoka.opinions/1"
META_SHEET = "_hyoka"
MEMBER_SHEET = "意見"
REPLY_SHEET = "回答"
MAX_ROWS = 20_000
MAX_TEXT = 20_000
HEADER_SEARCH = 40
EMPTY_RUN_END = 30

# Headings of the flat table (``opinions import``): 意見 is required; the subject is the most specific
# of 事業No, 施策, 基本施策, 基本目標No that is filled in (none: the whole evaluation). A sheet with its
# own levels has their columns instead (:func:`hyoka.opinions.level_columns`; see table_headings).
H_NO, H_GOAL_NO, H_POLICY, H_MEASURE, H_PROJECT = "意見No", "基本目標No", "基本施策", "施策", "事業No"
H_MEMBER, H_TEXT, H_DEPARTMENT, H_RATING = "委員", "意見", "担当課", "委員会評価"
TABLE_HEADINGS = (H_NO, H_GOAL_NO, H_POLICY, H_MEASURE, H_PROJECT, H_MEMBER, H_TEXT, H_DEPARTMENT)


def table_headings(index: SubjectIndex) -> tuple[str, ...]:
    """The flat table's headings for the sheet's levels: 意見No | <levels> | 事業No | 委員 | 意見 | 担当課."""
    return (H_NO, *index.level_columns, H_PROJECT, H_MEMBER, H_TEXT, H_DEPARTMENT)


# The workbooks hyoka makes: a hidden key column first, then what the reader sees.
H_SUBJECT_ID, H_OPINION_ID, H_REPLY = "対象ID", "意見ID", "対応・市の考え方"


# --- the plan an opinion is checked against --------------------------------------------------------


def plan_for(ws: Workspace, meeting: Meeting) -> Plan:
    """The plan the meeting's opinions refer to. Today the one plan of the workspace; with plan
    versions, the version in force for ``meeting.report_year`` (the year the meeting reports on)."""
    return ws.version(meeting.report_year).plan


def subject_index(ws: Workspace, meeting: Meeting) -> SubjectIndex:
    levels = ws.sheet_for(meeting.report_year).levels
    return SubjectIndex.of(plan_for(ws, meeting), ws.config.secretariat, levels)


def meeting_of(ws: Workspace, meeting_id: str) -> Meeting:
    found = ws.config.meeting(meeting_id, ws.config.meetings[0].report_year) if ws.config.meetings else None
    if found is None:
        raise HyokaError(f"会議「{meeting_id}」は hyoka.toml にありません。[[meetings]] に設定してください。")
    return found


# --- results ---------------------------------------------------------------------------------------


@dataclass
class OpinionsResult(RunOutcome):
    meeting: str
    dry_run: bool
    files: list[FileResult] = field(default_factory=list)
    interrupted: Interruption | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "meeting": self.meeting, **self.outcome_dict()}


# --- reading a grid safely -------------------------------------------------------------------------


@dataclass
class _Grid:
    sheet: str | None
    header: int  # 1-based row of the headings
    columns: dict[str, int]  # heading (NFKC) → 1-based column
    rows: list[tuple[int, tuple[Any, ...]]]
    meta: dict[str, str]

    def cell(self, line: int, values: tuple[Any, ...], heading: str) -> tuple[Any, str]:
        j = self.columns.get(heading_key(heading))
        if j is None:
            return None, ""
        from openpyxl.utils import get_column_letter

        return (values[j - 1] if j <= len(values) else None), f"{get_column_letter(j)}{line}"


def _find_grid(
    grid: Iterable[tuple[Any, ...]], sheet: str | None, anchor: str, display: str
) -> _Grid | Problem | None:
    found: _Grid | None = None
    empty = 0
    for line, values in enumerate(grid, 1):
        if found is None:
            if line > HEADER_SEARCH:
                return None
            names = [heading_key(v) for v in values]
            if heading_key(anchor) in names:
                cols: dict[str, int] = {}
                for j, n in enumerate(names, 1):
                    if n:
                        cols.setdefault(n, j)
                found = _Grid(sheet, line, cols, [], {})
            continue
        if not any(v is not None and str(v).strip() for v in values):
            empty += 1
            if empty >= EMPTY_RUN_END:
                break
            continue
        empty = 0
        if len(found.rows) >= MAX_ROWS:
            return problem("file-too-many-rows", file=display, sheet=sheet, limit=MAX_ROWS)
        found.rows.append((line, tuple(values)))
    return found


def read_grid(path: Path, display: str, anchor: str, sheet_name: str | None) -> _Grid | Problem:
    """The sheet (``sheet_name`` first, else the first visible one) whose headings include ``anchor``."""
    if path.suffix.lower() == ".csv":
        import csv
        import io

        from hyoka.tables import decode_csv

        try:
            text = decode_csv(path.read_bytes())
            found = _find_grid((tuple(r) for r in csv.reader(io.StringIO(text))), None, anchor, display)
        except (OSError, csv.Error, HyokaError) as exc:
            return problem("file-corrupt", file=display, reason=str(exc))
        if found is None:
            return problem("sheet-not-found", file=display, headings=anchor)
        return found
    from hyoka.book import open_any

    try:  # .xlsx/.xlsm, and .xls/.ods as saved by LibreOffice or an old Excel, read as collect reads them
        wb = open_any(path, display)
    except WorkbookError as exc:
        return exc.problem
    try:
        meta: dict[str, str] = {}
        names = wb.names
        if META_SHEET in names:
            for values in wb.rows(META_SHEET, 50):
                if values and values[0]:
                    meta[str(values[0])] = clean_text(values[1] if len(values) > 1 else None)
        ordered_names = sorted((n for n in names if n != META_SHEET), key=lambda n: n != sheet_name)
        for name in ordered_names:
            if wb.states.get(name, "visible") == "veryHidden":
                continue
            result = _find_grid(wb.rows(name), name, anchor, display)
            if isinstance(result, Problem):
                return result
            if result is not None:
                result.meta = meta
                return result
        return problem("sheet-not-found", file=display, headings=anchor)
    except WorkbookError as exc:
        return exc.problem
    except Exception as exc:  # damaged inside: the same to the clerk as for collect
        from hyoka.workbook import failure_reason

        return problem("file-corrupt", file=display, reason=failure_reason(exc))
    finally:
        wb.close()


def _text(value: Any, column: str, display: str, sheet: str | None, ref: str, found: list[Problem]) -> str:
    text = clean_text(value)
    if len(text) > MAX_TEXT:
        found.append(
            problem(
                "text-too-long",
                file=display,
                sheet=sheet,
                cell=ref,
                column=column,
                length=len(text),
                limit=MAX_TEXT,
            )
        )
    return text


# --- validating each kind of file (pure over the grid) ---------------------------------------------


@dataclass(frozen=True)
class Committee:
    """The sheet's rating column the committee decides (``source = "committee"``), for a meeting's year."""

    sheet: SheetDefinition
    column: Column

    @property
    def heading(self) -> str:
        return normalize_code(self.column.title)

    def read(
        self, grid: _Grid, line: int, values: tuple[Any, ...], display: str, found: list[Problem]
    ) -> tuple[str, str]:
        """The code in the row's rating cell ('' when blank), its cell; a code not in the scale is a
        problem at the cell. The column's own heading is read, else the generic 委員会評価."""
        heading = self.heading if self.heading in grid.columns else H_RATING
        raw, ref = grid.cell(line, values, heading)
        value, problems = parse_value(self.column, raw, sheet=self.sheet, cell=ref or None)
        found.extend(dataclasses.replace(p, file=display, sheet=grid.sheet) for p in problems)
        if any(p.severity is Severity.ERROR for p in problems):
            return "", ref
        return ("" if value is None else str(value)), ref


def committee_of(ws: Workspace, meeting: Meeting) -> Committee | None:
    """The committee's rating column of the sheet of the year the meeting reports on, if it has one."""
    sheet = ws.sheet_for(meeting.report_year)
    column = sheet.committee_column
    return Committee(sheet, column) if column is not None else None


def _rating_only(
    found: list[Problem], subject: Subject, rating: str, ref: str, display: str, sheet: str | None
) -> bool:
    """A committee rating must be about one project; a row may carry a rating without an opinion."""
    if rating and subject.kind != PROJECT:
        found.append(problem("committee-rating-not-project", file=display, sheet=sheet, cell=ref or None))
        return False
    return bool(rating)


def table_opinions(
    index: SubjectIndex,
    plan: Plan,
    grid: _Grid,
    meeting: str,
    display: str,
    committee: Committee | None = None,
) -> tuple[list[Opinion], list[Problem]]:
    """The opinions of a flat table (``opinions import``). With the sheet's committee column, its
    rating (by the column's heading, or 委員会評価) is the committee's decided rating of the project;
    a row may carry a rating without an opinion."""
    found: list[Problem] = []
    out: list[Opinion] = []
    seen: dict[str, str] = {}
    decided: dict[str, tuple[str, str]] = {}  # 事業No → (rating, cell) of the first row rating it
    sheet = grid.sheet
    if not index.default_levels:
        from openpyxl.utils import get_column_letter

        own = {heading_key(h) for h in index.level_columns}
        for h in (H_GOAL_NO, H_POLICY, H_MEASURE):
            j = grid.columns.get(heading_key(h))
            if j is not None and heading_key(h) not in own:
                found.append(
                    problem(
                        "opinion-level-heading-unknown",
                        file=display,
                        sheet=sheet,
                        cell=f"{get_column_letter(j)}{grid.header}",
                        heading=h,
                        columns="・".join(index.level_columns),
                    )
                )
        if found:
            return out, found
    for n, (line, values) in enumerate(grid.rows, 1):

        def get(h: str, line: int = line, values: tuple[Any, ...] = values) -> tuple[str, str]:
            v, ref = grid.cell(line, values, h)
            return normalize_code(v), ref

        text_value, text_ref = grid.cell(line, values, H_TEXT)
        text = _text(text_value, H_TEXT, display, sheet, text_ref, found)
        rating, rating_ref = committee.read(grid, line, values, display, found) if committee else ("", "")
        if index.default_levels:
            subject = _default_subject(plan, get, display, sheet, found)
        else:
            subject = _level_subject(index, get, display, sheet, found)
        if subject is None:
            continue
        rated = _rating_only(found, subject, rating, rating_ref, display, sheet) if committee else False
        if rated:
            first = decided.setdefault(subject.key, (rating, rating_ref or f"{line}行目"))
            if first[0] != rating:
                found.append(
                    problem(
                        "committee-rating-conflict",
                        file=display,
                        sheet=sheet,
                        cell=rating_ref or None,
                        no=subject.key,
                        column=committee.column.title if committee else "",
                        first=first[0],
                        first_cell=first[1],
                        second=rating,
                    )
                )
        if not text.strip() and not rated:
            if not (committee and rating):  # a rating refused above says so itself
                found.append(problem("opinion-text-blank", file=display, sheet=sheet, cell=text_ref))
            continue
        named, dep_ref = get(H_DEPARTMENT)
        departments, wrong = route(index, subject, named)
        info = index.info(subject)
        if wrong or not departments:
            expected = "、".join(info.departments if info and subject.kind != WHOLE else index.departments)
            found.append(
                problem(
                    "opinion-department-unknown",
                    file=display,
                    sheet=sheet,
                    cell=dep_ref,
                    department="・".join(wrong) or named,
                    subject=opinion_label(index, Opinion("", meeting, subject, "", ())),
                    expected=expected,
                )
            )
            continue
        number, no_ref = get(H_NO)
        key = f"T{number or n}"
        if key in seen:
            found.append(
                problem(
                    "opinion-no-duplicate", file=display, sheet=sheet, cell=no_ref, no=number, first=seen[key]
                )
            )
            continue
        seen[key] = no_ref or f"{line}行目"
        member, _ = get(H_MEMBER)
        if committee is None:  # no committee column in the sheet: the cell is kept as written
            rating, _ = get(H_RATING)
        out.append(Opinion(key, meeting, subject, text, departments, member, n, rating, sheet, text_ref))
    if not grid.rows:
        found.append(problem("opinions-table-empty", file=display, sheet=sheet))
    return out, found


def _default_subject(
    plan: Plan, get: Callable[[str], tuple[str, str]], display: str, sheet: str | None, found: list[Problem]
) -> Subject | None:
    """The subject a row names by 事業No, 施策, 基本施策, 基本目標No (the default sheet's levels)."""
    fields = {h: get(h) for h in (H_PROJECT, H_MEASURE, H_POLICY, H_GOAL_NO)}
    subject, bad = find_subject(
        plan,
        project_no=fields[H_PROJECT][0],
        measure=fields[H_MEASURE][0],
        policy=fields[H_POLICY][0],
        goal_no=fields[H_GOAL_NO][0],
    )
    if subject is None:
        value, ref = fields[bad]
        shared = measure_policies(plan, value) if bad == H_MEASURE and not fields[H_POLICY][0] else ()
        blank = (H_PROJECT, H_MEASURE, H_POLICY, H_GOAL_NO)
        parents = shared if len(shared) > 1 else ()
        found.append(_not_found(display, sheet, ref, bad, value, blank, H_POLICY, parents))
        return None
    return subject


def _not_found(
    display: str,
    sheet: str | None,
    ref: str | None,
    heading: str,
    value: str,
    blank: Sequence[str],
    outer: str,
    parents: Sequence[str],
) -> Problem:
    """Why a row's subject was not found: ``value`` lies under several ``outer`` levels (``parents``,
    their labels), or the plan has no such ``heading`` (``blank``: the cells to leave empty for the
    whole evaluation)."""
    if parents:
        return problem(
            "opinion-subject-ambiguous",
            file=display,
            sheet=sheet,
            cell=ref,
            level=heading,
            outer=outer,
            value=value,
            policies="、".join(parents),
        )
    return problem(
        "opinion-subject-unknown",
        file=display,
        sheet=sheet,
        cell=ref,
        heading=heading,
        value=value,
        blank="・".join(blank),
    )


def _level_subject(
    index: SubjectIndex,
    get: Callable[[str], tuple[str, str]],
    display: str,
    sheet: str | None,
    found: list[Problem],
) -> Subject | None:
    """The subject a row names by 事業No or the columns of the sheet's levels."""
    columns = index.level_columns
    cells = [get(h) for h in columns]
    project = get(H_PROJECT)
    subject, bad, parents = find_level_subject(index, [v for v, _ in cells], project[0])
    if subject is not None:
        return subject
    heading = columns[bad] if bad < len(columns) else H_PROJECT
    value, ref = cells[bad] if bad < len(columns) else project
    outer = index.levels[bad - 1].name if bad else index.levels[0].name
    found.append(
        _not_found(
            display, sheet, ref, heading, value, tuple(reversed((*columns, H_PROJECT))), outer, parents
        )
    )
    return None


def form_opinions(
    index: SubjectIndex,
    grid: _Grid,
    meeting: str,
    member: str,
    display: str,
    committee: Committee | None = None,
) -> tuple[list[Opinion], list[Problem]]:
    """The opinions a member wrote in the workbook ``opinions forms`` made; with the sheet's committee
    column, the member's rating of each project (a proposal: see :func:`committee_ratings`)."""
    found: list[Problem] = []
    out: list[Opinion] = []
    sheet = grid.sheet
    for n, (line, values) in enumerate(grid.rows, 1):
        text_value, text_ref = grid.cell(line, values, H_TEXT)
        text = _text(text_value, H_TEXT, display, sheet, text_ref, found)
        rating, rating_ref = committee.read(grid, line, values, display, found) if committee else ("", "")
        if not text.strip() and not rating:
            continue  # a subject the member has nothing to say about
        code_value, code_ref = grid.cell(line, values, H_SUBJECT_ID)
        try:
            subject = Subject.parse(normalize_code(code_value))
            known = index.info(subject) is not None
        except ValueError:
            known = False
        if not known:
            label_value, _ = grid.cell(line, values, "対象")
            found.append(
                problem(
                    "opinion-subject-unknown",
                    file=display,
                    sheet=sheet,
                    cell=code_ref or text_ref,
                    heading=H_SUBJECT_ID,
                    value=normalize_code(code_value) or clean_text(label_value),
                    blank="・".join(reversed((*index.level_columns, H_PROJECT))),
                )
            )
            continue
        if committee is not None and not _rating_only(found, subject, rating, rating_ref, display, sheet):
            if not text.strip():
                continue
            rating = ""
        if committee is None:
            rating_value, _ = grid.cell(line, values, H_RATING)
            rating = normalize_code(rating_value)
        departments, _ = route(index, subject)
        out.append(
            Opinion(
                f"{member}|{subject.code}",
                meeting,
                subject,
                text,
                departments,
                member,
                n,
                rating,
                sheet,
                text_ref,
            )
        )
    return out, found


def form_replies(
    grid: _Grid, opinions: dict[str, Opinion], department: str, display: str
) -> tuple[list[Reply], list[Problem]]:
    """The department's replies in the workbook ``replies forms`` made."""
    found: list[Problem] = []
    out: list[Reply] = []
    sheet = grid.sheet
    seen: set[str] = set()
    for line, values in grid.rows:
        key_value, key_ref = grid.cell(line, values, H_OPINION_ID)
        reply_value, reply_ref = grid.cell(line, values, H_REPLY)
        key = normalize_code(key_value)
        text = _text(reply_value, H_REPLY, display, sheet, reply_ref, found)
        if not key and not text.strip():
            continue
        o = opinions.get(key)
        if o is None or department not in o.departments or key in seen:
            found.append(
                problem(
                    "reply-opinion-unknown",
                    file=display,
                    sheet=sheet,
                    cell=key_ref or reply_ref,
                    key=key or "（空欄）",
                )
            )
            continue
        seen.add(key)
        if not text.strip():
            found.append(problem("reply-blank", file=display, sheet=sheet, cell=reply_ref))
            continue
        out.append(Reply(key, department, text, sheet, reply_ref))
    return out, found


# --- the runs: read, decide, store or reject -------------------------------------------------------


def _sha(path: Path, display: str) -> tuple[str, float, Problem | None]:
    try:
        stat = path.stat()
        if stat.st_size > MAX_FILE_BYTES:
            return "", 0.0, problem("file-too-large", file=display, reason=f"{stat.st_size:,} バイト")
        return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mtime, None
    except FileNotFoundError:
        return "", 0.0, problem("file-not-found", file=display)
    except OSError as exc:
        return "", 0.0, problem("file-corrupt", file=display, reason=exc.strerror or str(exc))


@dataclass
class _Run:
    ws: Workspace
    meeting: Meeting
    store: Store
    index: SubjectIndex
    kind: str
    dry_run: bool
    known: set[str]
    taken: dict[str, Path] = field(default_factory=dict)
    # Files (resolved) the clerk accepts although older than the one in force.
    accept_older: frozenset[Path] = frozenset()


def _run(
    ws: Workspace,
    meeting: Meeting,
    files: list[Path],
    kind: str,
    decide: Callable[[_Run, Path, str, float], FileResult],
    *,
    dry_run: bool,
    feedback_dir: Path | None,
    accept_older: Iterable[Path] = (),
) -> OpinionsResult:
    """Each file decided, and stored whole or recorded as rejected, with collect's guarantees: the
    writer lock, Ctrl-C held until the file in hand is stored and counted, and a run stopped by
    Ctrl-C or a failing store returning what it did (``interrupted``)."""
    from hyoka.collect import _interrupts_deferred

    result = OpinionsResult(meeting.id, dry_run)
    with ExitStack() as stack:
        # As collect: the store is opened before the lock is taken (opening it checks that a store
        # which had data has not gone missing, and the lock file is one sign that it had).
        store = stack.enter_context(ws.store())
        if not dry_run:
            stack.enter_context(writer_lock(ws.store_path))
        run = _Run(
            ws,
            meeting,
            store,
            subject_index(ws, meeting),
            kind,
            dry_run,
            ostore.accepted_hashes(store, meeting.id, kind),
            accept_older=resolved_paths(accept_older),
        )
        try:
            for path in files:
                with _interrupts_deferred():  # what the run reports must be what was stored
                    outcome = _one(run, path, decide)
                    if outcome.status == "rejected" and feedback_dir is not None:
                        from hyoka.collect import _feedback

                        _feedback(outcome, feedback_dir)
                    result.files.append(outcome)
        except KeyboardInterrupt:
            result.interrupted = Interruption(
                "keyboard-interrupt", "Ctrl-C で中断しました。", files[len(result.files) :]
            )
        except HyokaError as exc:  # the store failed (locked, read-only, full): the run cannot go on
            result.interrupted = Interruption("store-failed", str(exc), files[len(result.files) :])
    return result


def _one(run: _Run, path: Path, decide: Callable[[_Run, Path, str, float], FileResult]) -> FileResult:
    display = path.name
    if is_lock_file(path):
        return FileResult(path, "skipped", problems=[problem("file-lock", file=display)])
    sha, mtime, failure = _sha(path, display)
    if failure is not None:
        return _reject(run, path, "", sha, [failure])
    if sha in run.known or sha in run.taken:
        earlier = f"この回収で先に処理した「{run.taken[sha].name}」" if sha in run.taken else "以前の回収"
        return FileResult(
            path, "unchanged", problems=[problem("file-duplicate", file=display, received=earlier)]
        )
    try:
        outcome = decide(run, path, sha, mtime)
    except HyokaError:
        raise
    except Exception as exc:  # a bug costs this file, not the run
        reason = f"{type(exc).__name__}: {exc}"
        outcome = FileResult(
            path, "rejected", problems=[problem("internal-error", file=display, reason=reason)]
        )
    if outcome.status in ("accepted", "checked"):
        run.taken[sha] = path
    return outcome


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: SEVERITY_ORDER[p.severity])


def _has_errors(problems: list[Problem]) -> bool:
    return any(p.severity is Severity.ERROR for p in problems)


def _reject(run: _Run, path: Path, source: str, sha: str, problems: list[Problem]) -> FileResult:
    if not run.dry_run:
        ostore.add_file(
            run.store,
            meeting=run.meeting.id,
            kind=run.kind,
            source=source,
            file_name=path.name,
            file_path=str(path.resolve()),
            sha256=sha,
            problems=[p.to_dict() for p in problems],
            accepted=False,
        )
    return FileResult(path, "rejected", source or None, 0, _sorted(problems))


def _accept(
    run: _Run,
    path: Path,
    source: str,
    sha: str,
    mtime: float,
    problems: list[Problem],
    opinions: list[Opinion] = (),  # type: ignore[assignment]
    replies: list[Reply] = (),  # type: ignore[assignment]
) -> FileResult:
    # A file saved before the one in force for its source is refused unless the clerk named it (the
    # rule of collect); one accepted as named, or after a future-dated one, is noted.
    current = ostore.in_force(run.store, run.meeting.id, run.kind, source)
    older = against_in_force(path.name, mtime, current, accept=resolved_paths([path]) <= run.accept_older)
    problems = [*problems, *older]
    if _has_errors(older):
        return _reject(run, path, source, sha, problems)
    status = "checked"
    if not run.dry_run:
        ostore.add_file(
            run.store,
            meeting=run.meeting.id,
            kind=run.kind,
            source=source,
            file_name=path.name,
            file_path=str(path.resolve()),
            sha256=sha,
            problems=[p.to_dict() for p in problems],
            opinions=opinions,
            replies=replies,
            file_mtime=mtime,
        )
        status = "accepted"
    return FileResult(path, status, source or None, len(opinions) + len(replies), _sorted(problems))


def _meeting_problem(run: _Run, grid: _Grid, display: str, kind: str) -> Problem | None:
    """A workbook of another meeting (or another kind of workbook) must not be taken for this one."""
    recorded = grid.meta.get("meeting", "")
    form_kind = grid.meta.get("kind", "")
    if (recorded and recorded != run.meeting.id) or (form_kind and form_kind != kind):
        return problem(
            "form-meeting-mismatch",
            file=display,
            sheet=grid.sheet,
            form=recorded or "（不明）",
            meeting=run.meeting.id,
        )
    return None


def import_opinions(
    ws: Workspace, path: Path, meeting_id: str, *, dry_run: bool = False, accept_older: Iterable[Path] = ()
) -> OpinionsResult:
    """Record a meeting's opinions from a flat table; a newer table replaces the earlier one whole
    (a table saved before the one in force only when named in ``accept_older``)."""
    meeting = meeting_of(ws, meeting_id)

    def decide(run: _Run, p: Path, sha: str, mtime: float) -> FileResult:
        display = p.name
        grid = read_grid(p, display, H_TEXT, None)
        if isinstance(grid, Problem):
            return _reject(run, p, "", sha, [grid])
        got, found = table_opinions(
            run.index, plan_for(ws, meeting), grid, meeting.id, display, committee_of(ws, meeting)
        )
        if _has_errors(found):
            return _reject(run, p, "", sha, found)
        return _accept(run, p, "", sha, mtime, found, opinions=got)

    if not path.exists():
        raise HyokaError(f"{path}: ファイルが見つかりません。パスを確認してください。")
    if path.is_dir():
        raise HyokaError(
            f"{path}: フォルダです。意見の一覧表のファイル（.xlsx・.xls・.ods・.csv）を1つ指定してください"
            "（委員ごとの意見票のフォルダは hyoka opinions collect で取り込みます）。"
        )
    return _run(
        ws,
        meeting,
        [path],
        ostore.IMPORT,
        decide,
        dry_run=dry_run,
        feedback_dir=None,
        accept_older=accept_older,
    )


def recorded_meeting(files: Iterable[Path]) -> str | None:
    """The meeting the first workbook hyoka made records (for collect without --meeting)."""
    for path in files:
        if is_lock_file(path) or path.suffix.lower() not in (".xlsx", ".xlsm"):
            continue
        try:
            wb = open_workbook(path)
        except (WorkbookError, HyokaError):
            continue
        try:
            if META_SHEET in wb.sheetnames:
                for values in wb[META_SHEET].iter_rows(min_row=1, max_row=50, max_col=2, values_only=True):
                    if values and values[0] == "meeting" and values[1]:
                        return str(values[1])
        except Exception:
            continue
        finally:
            wb.close()
    return None


def collect_opinions(
    ws: Workspace,
    paths: Iterable[Path],
    meeting_id: str,
    *,
    dry_run: bool = False,
    feedback_dir: Path | None = None,
    accept_older: Iterable[Path] = (),
) -> OpinionsResult:
    """Read the members' workbooks back; each member's newer workbook replaces their earlier one (one
    saved before the one in force only when named in ``accept_older``, which is read too)."""
    meeting = meeting_of(ws, meeting_id)

    def decide(run: _Run, p: Path, sha: str, mtime: float) -> FileResult:
        display = p.name
        grid = read_grid(p, display, H_TEXT, MEMBER_SHEET)
        if isinstance(grid, Problem):
            return _reject(run, p, "", sha, [grid])
        mismatch = _meeting_problem(run, grid, display, "opinions")
        if mismatch:
            return _reject(run, p, "", sha, [mismatch])
        member = normalize_code(grid.meta.get("member", ""))
        if not member:
            return _reject(
                run, p, "", sha, [problem("opinion-member-unknown", file=display, sheet=grid.sheet)]
            )
        got, found = form_opinions(run.index, grid, meeting.id, member, display, committee_of(ws, meeting))
        fingerprint = grid.meta.get("plan_fingerprint")
        if fingerprint and fingerprint != plan_for(ws, meeting).fingerprint:
            found.append(problem("form-plan-changed", file=display, sheet=grid.sheet))
        if _has_errors(found):
            return _reject(run, p, member, sha, found)
        return _accept(run, p, member, sha, mtime, found, opinions=got)

    older = list(accept_older)
    return _run(
        ws,
        meeting,
        discover([*paths, *older]),
        ostore.MEMBER_FORM,
        decide,
        dry_run=dry_run,
        feedback_dir=feedback_dir,
        accept_older=older,
    )


def collect_replies(
    ws: Workspace,
    paths: Iterable[Path],
    meeting_id: str,
    *,
    dry_run: bool = False,
    feedback_dir: Path | None = None,
    accept_older: Iterable[Path] = (),
) -> OpinionsResult:
    """Read the departments' reply workbooks back; a department's newer workbook replaces its earlier
    one (one saved before the one in force only when named in ``accept_older``, which is read too)."""
    meeting = meeting_of(ws, meeting_id)
    with ws.store() as store:
        in_force = {o.key: o for o in ostore.current_opinions(store, meeting.id)}

    def decide(run: _Run, p: Path, sha: str, mtime: float) -> FileResult:
        display = p.name
        grid = read_grid(p, display, H_REPLY, REPLY_SHEET)
        if isinstance(grid, Problem):
            return _reject(run, p, "", sha, [grid])
        mismatch = _meeting_problem(run, grid, display, "replies")
        if mismatch:
            return _reject(run, p, "", sha, [mismatch])
        department = normalize_code(grid.meta.get("department", ""))
        if department not in run.index.departments:
            return _reject(
                run, p, "", sha, [problem("reply-department-unknown", file=display, sheet=grid.sheet)]
            )
        got, found = form_replies(grid, in_force, department, display)
        if _has_errors(found):
            return _reject(run, p, department, sha, found)
        return _accept(run, p, department, sha, mtime, found, replies=got)

    older = list(accept_older)
    return _run(
        ws,
        meeting,
        discover([*paths, *older]),
        ostore.REPLY_FORM,
        decide,
        dry_run=dry_run,
        feedback_dir=feedback_dir,
        accept_older=older,
    )


# --- what is in force ------------------------------------------------------------------------------


@dataclass
class MeetingOpinions:
    meeting: Meeting
    index: SubjectIndex
    answered: list[Any]  # list[Answered], in plan order

    @property
    def departments(self) -> list[Any]:
        return reply_status(self.index, self.answered)

    @property
    def complete(self) -> bool:
        return all(a.complete for a in self.answered)


def load_opinions(ws: Workspace, meeting_id: str) -> MeetingOpinions:
    meeting = meeting_of(ws, meeting_id)
    index = subject_index(ws, meeting)
    with ws.store() as store:
        # A row with only the committee's rating is no opinion: nobody answers it, the material skips it.
        ops = ordered(index, [o for o in ostore.current_opinions(store, meeting.id) if o.text.strip()])
        replies = ostore.current_replies(store, meeting.id)
    return MeetingOpinions(meeting, index, answer(ops, replies))


def committee_ratings(opinions: Iterable[Opinion]) -> dict[str, str]:
    """The committee's decided rating per 事業No from a meeting's opinions in force.

    The imported table's rating is the committee's decision (the minutes say what was decided). A
    project the table does not rate takes the members' workbooks' rating when every member who
    rated it gave the same code; members who differ are proposals only, and the project has none
    until the table decides it.
    """
    decided: dict[str, str] = {}
    proposed: dict[str, set[str]] = {}
    for o in opinions:
        if not o.rating or o.subject.kind != PROJECT:
            continue
        if "|" in o.key:  # a member's workbook ('<member>|<subject>'); the table's keys are 'T<n>'
            proposed.setdefault(o.subject.key, set()).add(o.rating)
        else:
            decided.setdefault(o.subject.key, o.rating)
    for no, codes in proposed.items():
        if no not in decided and len(codes) == 1:
            decided[no] = next(iter(codes))
    return decided


def committee_values(ws: Workspace, store: Store, year: FiscalYear) -> dict[str, str]:
    """The committee's rating per 事業No for ``year``: from the meetings that report on it, a later
    meeting's rating over an earlier one's (it was decided again)."""
    out: dict[str, str] = {}
    if ws.sheet_for(year).committee_column is None:
        return out
    for meeting in sorted((m for m in ws.config.meetings if m.report_year == year), key=lambda m: m.day):
        out.update(committee_ratings(ostore.current_opinions(store, meeting.id)))
    return out


# --- writing the workbooks -------------------------------------------------------------------------


def _styles() -> dict[str, Any]:
    from openpyxl.styles import Alignment, Border, PatternFill, Side

    thin = Side(style="thin", color="808080")
    return {
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "head_fill": PatternFill("solid", fgColor="DDE7F3"),
        "input_fill": PatternFill("solid", fgColor="FFF9DB"),
        "level_fill": PatternFill("solid", fgColor="F2F2F2"),
    }


def _sheet(
    wb: Workbook,
    title: str,
    lines: list[str],
    headings: list[tuple[str, float]],
    rows: list[tuple[list[Any], bool]],
    input_col: int,
    font_name: str,
    meta: dict[str, str],
    min_height: float = 30,
    row_inputs: tuple[int, ...] = (),
) -> None:
    """One protected A4-landscape sheet: title lines, headings (column 1 hidden: the keys), rows (with
    a shaded level row where the flag says so), the ``input_col`` unlocked and yellow, and the
    ``row_inputs`` columns too on the rows that are no level row (a project's rating)."""
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.utils import get_column_letter

    from hyoka.forms import fit_rows, print_a4_landscape

    st = _styles()
    sheet = wb.active
    assert sheet is not None
    sheet.title = title
    for r, text in enumerate(lines, 1):
        c = sheet.cell(row=r, column=2, value=text)
        c.font = Font(name=font_name, size=14 if r == 1 else 10, bold=r == 1)
    header = len(lines) + 2
    for j, (heading, width) in enumerate(headings, 1):
        c = sheet.cell(row=header, column=j, value=heading)
        c.font = Font(name=font_name, size=10, bold=True)
        c.fill = st["head_fill"]
        c.border = st["border"]
        c.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(j)].width = width
    # The keys' column is hidden; wide enough that its text never makes a row taller (fit_rows).
    sheet.column_dimensions["A"].width = 60
    sheet.column_dimensions["A"].hidden = True
    body = Font(name=font_name, size=10)
    bold = Font(name=font_name, size=10, bold=True)
    unlocked = Protection(locked=False)
    for i, (values, level) in enumerate(rows, 1):
        rr = header + i
        for j, value in enumerate(values, 1):
            c = sheet.cell(row=rr, column=j, value=value)
            c.font = bold if level and j < input_col else body
            c.border = st["border"]
            c.alignment = st["wrap"]
            if j == input_col or (j in row_inputs and not level):
                c.fill = st["input_fill"]
                c.protection = unlocked
            elif level:
                c.fill = st["level_fill"]
    last = header + len(rows)
    fit_rows(sheet, range(header + 1, last + 1), min_height=min_height)
    sheet.freeze_panes = f"B{header + 1}"
    sheet.print_area = f"B1:{get_column_letter(len(headings))}{max(last, header)}"
    print_a4_landscape(sheet, header)
    sheet.oddFooter.center.text = "&P / &N"  # type: ignore[union-attr]
    sheet.protection.sheet = True
    sheet.protection.formatRows = False
    sheet.protection.formatColumns = False
    m = wb.create_sheet(META_SHEET)
    m.sheet_state = "hidden"
    for key, value in {**meta, "generated_at": datetime.now().isoformat(timespec="seconds")}.items():
        m.append([key, value])
    m.protection.sheet = True


def _ratings_by_project(ws: Workspace, meeting: Meeting, plan: Plan) -> dict[str, str]:
    from hyoka.results import ratings

    with ws.store() as store:
        got = ratings(store, plan, meeting.report_year)
    out: dict[str, str] = {}
    for no in plan.project_nos:
        rows = plan.project(no)
        values = [got.get(r.key, "") for r in rows]
        if len(set(values)) == 1:
            out[no] = values[0]
        else:
            out[no] = "／".join(v or "－" for v in values)
    return out


def build_member_form(ws: Workspace, meeting: Meeting, member: str) -> Workbook:
    from openpyxl import Workbook

    plan = plan_for(ws, meeting)
    index = subject_index(ws, meeting)
    cfg = ws.config
    ratings = _ratings_by_project(ws, meeting, plan)
    committee = committee_of(ws, meeting)
    rows: list[tuple[list[Any], bool]] = []
    for code, info in index.infos.items():
        kind = info.subject.kind
        rating = ratings.get(info.subject.key, "") if kind == PROJECT else ""
        departments = "・".join(dict.fromkeys(r.department for r in info.rows)) if kind == PROJECT else ""
        own = [None] if committee is not None else []
        rows.append(([code, info.kind_label, info.label, departments, rating, *own, None], kind != PROJECT))
    year = meeting.report_year.label(cfg.gannen)
    sheet_def = ws.sheet_for(meeting.report_year)
    first = sheet_def.default_diff_column
    rated = sheet_def.column(first).title if first and "sheet" in sheet_def.source else "事業評価"
    headings: list[tuple[str, float]] = [
        (H_SUBJECT_ID, 4),
        ("区分", 9),
        ("対象", 44),
        ("担当課", 18),
        (rated, 8),
    ]
    each = "・".join(["評価全般", *(lv.name for lv in index.levels), KIND_LABELS[PROJECT]])
    how = f"黄色の「意見」の欄に、{each}ごとにご意見を記入してください。"
    rating_line: list[str] = []  # its own line: the first one is as wide as the page already
    if committee is not None:
        headings.append((committee.column.title, 10))
        title = committee.column.title
        rating_line.append(
            f"「{title}」の欄は事業ごとに一覧から選んでください（委員会で決める評価の案になります）。"
        )
    headings.append((H_TEXT, 70))
    wb = Workbook()
    _sheet(
        wb,
        MEMBER_SHEET,
        [
            f"{cfg.plan_title}の進捗状況及び評価表（{year}実績）についての意見",
            f"{cfg.committee}　第{meeting.number}回（{meeting.day.month}月{meeting.day.day}日）　／　委員: {member}",
            f"【記入方法】{how}意見のない行は空欄のままにしてください。行の追加・削除はしないでください。",
            *rating_line,
        ],
        headings,
        rows,
        len(headings),
        cfg.font_gothic,
        {"kind": "opinions", "meeting": meeting.id, "member": member, "plan_fingerprint": plan.fingerprint},
        row_inputs=(len(headings) - 1,) if committee is not None else (),
    )
    if committee is not None:
        _committee_validation(wb, committee, len(headings) - 1, [level for _, level in rows])
    return wb


def _committee_validation(wb: Workbook, committee: Committee, col: int, levels: list[bool]) -> None:
    """The committee column's drop-down (its scale's codes) on the project rows."""
    from openpyxl.utils import get_column_letter

    from hyoka.forms import _add_validation
    from hyoka.sheet import validation

    v = validation(committee.sheet, committee.column)
    sheet = wb[MEMBER_SHEET]
    header = next(r for r in range(1, HEADER_SEARCH) if sheet.cell(r, 1).value == H_SUBJECT_ID)
    letter = get_column_letter(col)
    refs = [f"{letter}{header + i}" for i, level in enumerate(levels, 1) if not level]
    if v is not None and refs:
        _add_validation(sheet, v, *refs)


def build_reply_form(ws: Workspace, mo: MeetingOpinions, department: str) -> Workbook:
    from openpyxl import Workbook

    cfg = ws.config
    meeting = mo.meeting
    rows: list[tuple[list[Any], bool]] = []
    for n, a in enumerate(mo.answered, 1):
        o = a.opinion
        if department not in o.departments:
            continue
        rows.append(
            (
                [o.key, n, opinion_label(mo.index, o), o.member, o.text, "・".join(o.departments), None],
                False,
            )
        )
    wb = Workbook()
    _sheet(
        wb,
        REPLY_SHEET,
        [
            f"{cfg.committee}からの意見への対応・市の考え方（回答票）",
            f"第{meeting.number}回（{meeting.day.month}月{meeting.day.day}日）の会議でいただいた意見　／　"
            f"回答する課: {department}　／　事務局: {cfg.secretariat}",
            "【記入方法】黄色の「対応・市の考え方」の欄に、意見ごとの対応と市の考え方を記入してください。"
            "複数の課が担当する意見は、自課の分を記入してください（事務局が計画の順にまとめます）。",
        ],
        [
            (H_OPINION_ID, 4),
            ("No", 5),
            ("対象", 34),
            (H_MEMBER, 9),
            (H_TEXT, 50),
            ("担当課", 16),
            (H_REPLY, 60),
        ],
        rows,
        7,
        cfg.font_gothic,
        {"kind": "replies", "meeting": meeting.id, "department": department},
        min_height=60,  # room for about four lines of the department's reply
    )
    return wb


def _unique(name: str, taken: set[str]) -> str:
    stem, suffix = name.rsplit(".", 1)
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem}_{n}.{suffix}"
    taken.add(candidate.casefold())
    return candidate


def members_of(meeting: Meeting, members: list[str]) -> list[str]:
    chosen = [normalize_code(m) for m in members if normalize_code(m)] or list(meeting.members)
    if not chosen:
        raise HyokaError(
            f'会議 {meeting.id} の委員が決まっていません。hyoka.toml の [[meetings]] に members = ["委員A", …] を'
            "書くか、委員を指定してください。",
            hint="member",
        )
    return list(dict.fromkeys(chosen))


def write_member_forms(
    ws: Workspace, meeting_id: str, members: list[str], out: Path | None = None
) -> list[Path]:
    meeting = meeting_of(ws, meeting_id)
    target = out or ws.out_dir / "opinions" / safe_filename(meeting.id)
    taken: set[str] = set()
    paths = []
    for member in members_of(meeting, members):
        path = target / _unique(f"意見票_{safe_filename(meeting.id)}_{safe_filename(member)}.xlsx", taken)
        atomic_write(path, build_member_form(ws, meeting, member).save)
        paths.append(path)
    return paths


def write_reply_forms(
    ws: Workspace, meeting_id: str, out: Path | None = None, department: str | None = None
) -> list[Path]:
    mo = load_opinions(ws, meeting_id)
    if not mo.answered:
        raise HyokaError(
            f"会議 {mo.meeting.id} の意見がまだ記録されていません。先に hyoka opinions import か "
            "hyoka opinions collect で意見を取り込んでください。"
        )
    departments = [d.department for d in mo.departments]
    if department is not None:
        wanted = normalize_code(department)
        if wanted not in departments:  # a department renamed since (組織改正) asks by its name of today
            wanted = next((d for d in departments if _current_name(ws, d) == wanted), wanted)
        if wanted not in departments:
            raise HyokaError(
                f"「{department}」に回付された意見はありません。回付先: {'、'.join(departments)}"
            )
        departments = [wanted]
    target = out or ws.out_dir / "replies" / safe_filename(mo.meeting.id)
    taken: set[str] = set()
    paths = []
    for dep in departments:
        path = target / _unique(f"回答票_{safe_filename(mo.meeting.id)}_{safe_filename(dep)}.xlsx", taken)
        atomic_write(path, build_reply_form(ws, mo, dep).save)
        paths.append(path)
    return paths


def _current_name(ws: Workspace, department: str) -> str:
    """The department's name after the renames declared with the plan versions (itself if none)."""
    from hyoka.versions import accumulate_renames

    with ws.store() as store:
        renames = accumulate_renames(v.renames for v in store.versions())
    return renames.get(department, department)


def iter_lines(mo: MeetingOpinions) -> Iterator[str]:
    """Plain lines of the status (used by the CLI)."""
    for d in mo.departments:
        state = "完了" if d.complete else "未回答あり"
        yield f"【{state}】{d.department}  回答 {len(d.routed) - len(d.missing)}/{len(d.routed)}件"
        for o in d.missing:
            yield f"    未回答: {opinion_label(mo.index, o)}" + (f"（{o.member}）" if o.member else "")


def heading_key(value: object) -> str:
    """A heading as it is matched: width, case, spaces and a trailing dot do not count, and 番号 is No
    (``意見 No.``, ``事業ＮＯ`` and ``事業番号`` are all 事業No), so a column typed slightly off is still read
    instead of silently ignored."""
    text = "".join(normalize_code(value).split()).rstrip(".")
    return text.replace("番号", "No").casefold()
