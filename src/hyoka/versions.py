"""Plan versions: every adopted version of the plan, stable row identity and the lineage between them.

Pure core (no I/O): the store keeps the versions; this module decides which version is in force for a
year, which rows of a new version continue which rows of the version before, what changed, and which
row(s) of an earlier year a row descends from. See docs/design/plan-versions.md.

Identity rules (issue 10, section 2). A row of a new version continues a row of the version before when
(a) its 事業No and its set of departments are the same (separator and order do not matter), or
(b) it declares its predecessor(s) in the plan columns 旧事業No / 旧担当課, or
(c) a declared department rename (accumulated over all versions) makes its departments the same.
A row keeps its predecessor's ``row_id`` when the link is one to one (or it is the part of a split that
stays "the same row" by (a)/(c)); merged rows, the other parts of a split and new rows get fresh ids.
Every lookup is a dict lookup: matching, lineage and history stay linear in the number of rows.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from hyoka.plan import HEADINGS, Plan, PlanRow, RowKey
from hyoka.problems import Problem, problem
from hyoka.text import normalize_code, split_departments
from hyoka.years import FiscalYear

H_OLD_NO, H_OLD_DEPARTMENT = "旧事業No", "旧担当課"
VERSION_HEADINGS = (H_OLD_NO, H_OLD_DEPARTMENT)
"""Optional plan-master columns naming a row's predecessor in the version before."""

TableRows = Iterable[tuple[int, Mapping[str, str]]]
"""``hyoka.tables.Table.rows``: (line, {heading: text}); typed here so the core need not import tables."""

Renames = Mapping[str, str]
"""Department renames, old name → current name."""

How = Literal["same", "renamed", "declared", "new"]

PRIOR_SEPARATOR = "／"
"""Joins the prior ratings of a merged row's predecessors (``A／B``)."""


# --- the plan master's optional columns ------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """What a plan row says in 旧事業No / 旧担当課 (blank: the row's own 事業No / 担当課)."""

    nos: tuple[str, ...]
    departments: tuple[str, ...]
    text_no: str = ""
    text_department: str = ""


def read_declared(rows: TableRows) -> dict[int, Declared]:
    """The declared predecessors of the plan master's rows, by line (:attr:`PlanRow.line`).

    Read from the table beside :func:`hyoka.plan.build_plan`, which ignores these columns. Several
    numbers or departments are separated by ``・`` or ``、`` (a merge).
    """
    found: dict[int, Declared] = {}
    for line, cells in rows:
        old_no = (cells.get(H_OLD_NO) or "").strip()
        old_department = (cells.get(H_OLD_DEPARTMENT) or "").strip()
        if old_no or old_department:
            found[line] = Declared(
                split_departments(old_no), split_departments(old_department), old_no, old_department
            )
    return found


def read_extra(rows: TableRows) -> dict[int, dict[str, str]]:
    """Plan columns hyoka does not interpret (指標, 単位, …), by line, for ``plan_rows.extra``."""
    known = {*HEADINGS, *VERSION_HEADINGS}
    found: dict[int, dict[str, str]] = {}
    for line, cells in rows:
        extra = {h: v for h, v in cells.items() if h not in known and v}
        if extra:
            found[line] = extra
    return found


# --- versions ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VersionRow:
    """A plan row of one version with its stable identity and its predecessors in the version before."""

    row_id: int
    row: PlanRow
    predecessors: tuple[int, ...] = ()
    dropped: bool = False
    """A row the plan no longer had when a schema-4 store migrated: kept so its stored years attach."""
    extra: Mapping[str, str] = field(default_factory=dict)
    declared: Declared | None = None

    @property
    def no(self) -> str:
        return self.row.project_no

    @property
    def department(self) -> str:
        return self.row.department

    @cached_property
    def departments(self) -> tuple[str, ...]:
        # PlanRow.departments splits and normalises the label on every call; matching, lineage and
        # the change report ask for it several times per row.
        return self.row.departments


@dataclass(frozen=True, eq=False)
class PlanVersion:
    """One adopted version of the plan, in force from ``from_year`` until the next version's year."""

    id: int
    from_year: FiscalYear
    rows: tuple[VersionRow, ...]
    name: str = ""
    renames: tuple[tuple[str, str], ...] = ()
    """The renames declared when this version was adopted (old, new), kept for later adoptions."""
    source: str = ""
    fingerprint: str = ""
    sheet_json: str = "{}"
    """The sheet definition adopted with this version, as stored (``plan_versions.sheet``): the JSON of
    hyoka.toml's ``scale``/``scales``/``sheet`` tables; ``{}`` when none was recorded."""
    sheet_fingerprint: str = ""

    @cached_property
    def by_id(self) -> dict[int, VersionRow]:
        return {r.row_id: r for r in self.rows}

    @cached_property
    def by_key(self) -> dict[RowKey, VersionRow]:
        """By the printed labels (事業No, 担当課) of this version, as forms and imports name a row."""
        return {r.row.key: r for r in self.rows}

    @cached_property
    def plan(self) -> Plan:
        """The rows in the plan (not the dropped ones) as the plan model the commands use."""
        return Plan(tuple(r.row for r in self.rows if not r.dropped), self.source)

    @property
    def label(self) -> str:
        """``第3期（R6〜）`` or ``R6〜``: how messages and ``plan versions`` name the version."""
        since = f"{self.from_year.short}〜"
        return f"{self.name}（{since}）" if self.name else since

    @cached_property
    def positions(self) -> dict[int, int]:
        return {r.row_id: i for i, r in enumerate(self.rows)}

    def row(self, row_id: int) -> VersionRow | None:
        return self.by_id.get(row_id)


def version_for(versions: Sequence[PlanVersion], year: FiscalYear) -> PlanVersion:
    """The version in force for ``year``: the latest from that year or before.

    The first version is also in force for every year before it (``hyoka init`` adopts it for all
    years up to the next version). ``versions`` must not be empty.
    """
    if not versions:
        raise ValueError("no plan version")
    ordered = sorted(versions, key=lambda v: v.from_year)
    i = bisect.bisect_right([v.from_year for v in ordered], year) - 1
    return ordered[max(i, 0)]


def accumulate_renames(steps: Iterable[Iterable[tuple[str, str]]]) -> dict[str, str]:
    """Renames of every version, oldest first, composed: each name ever used → its latest name.

    ``A=B`` then ``B=C`` gives ``{A: C, B: C}``; a name renamed away and later used again (``B=A``
    after ``A=B``) counts as a current name again.
    """
    latest: dict[str, str] = {}
    for step in steps:
        for old, new in step:
            old, new = normalize_code(old), normalize_code(new)
            if not old or not new or old == new:
                continue
            for k, v in list(latest.items()):
                if v == old:
                    latest[k] = new
            latest[old] = new
            latest.pop(new, None)  # the new name is current, whatever it meant before
            for k in [k for k, v in latest.items() if k == v]:
                del latest[k]
    return latest


def _canonical(departments: Iterable[str], renames: Renames) -> frozenset[str]:
    return frozenset(renames.get(d, d) for d in departments)


# --- matching a new version against the version before -----------------------------------------------


@dataclass(frozen=True)
class Match:
    """A row of the new version and the rows of the version before it continues."""

    row: PlanRow
    predecessors: tuple[int, ...]
    how: How


@dataclass(frozen=True)
class Matching:
    matches: tuple[Match, ...]
    problems: tuple[Problem, ...] = ()


def match_rows(
    previous_rows: Sequence[VersionRow],
    new_rows: Sequence[PlanRow],
    renames: Renames,
    declared: Mapping[int, Declared] | None = None,
    *,
    source: str = "",
    previous_label: str = "",
) -> Matching:
    """For each new row (in plan order), the ``row_id`` s of the previous rows it continues.

    ``renames`` are the accumulated renames (:func:`accumulate_renames`) including the ones declared
    for this adoption; ``declared`` the 旧事業No / 旧担当課 of the new rows by line
    (:func:`read_declared`). A declaration wins over rule (a). Problems: a declaration that names no
    row of the version before (``plan-predecessor-unknown``), and two new rows that are the same row
    written two ways (``plan-duplicate-row``, e.g. ``A・B`` and ``B、A``).
    """
    declared = declared or {}
    # Several previous rows share a key when a rename folds one department into another that the
    # project already had (two departments merged by a reorganisation): the new row continues both.
    exact: dict[tuple[str, frozenset[str]], list[int]] = {}
    by_no: dict[str, list[tuple[frozenset[str], int]]] = {}
    raw: dict[int, frozenset[str]] = {}
    for p in previous_rows:
        raw[p.row_id] = frozenset(p.departments)
        depset = _canonical(p.departments, renames)
        exact.setdefault((p.no, depset), []).append(p.row_id)
        by_no.setdefault(p.no, []).append((depset, p.row_id))
    problems: list[Problem] = []
    seen: dict[tuple[str, frozenset[str]], PlanRow] = {}
    matches: list[Match] = []
    for row in new_rows:
        departments = row.departments
        own = _canonical(departments, renames)
        first = seen.setdefault((row.project_no, own), row)
        if first is not row:
            problems.append(
                problem(
                    "plan-duplicate-row",
                    file=source or None,
                    row=row.line or None,
                    no=row.project_no,
                    department=row.department,
                    line_first=first.line,
                )
            )
            continue
        d = declared.get(row.line)
        hit = exact.get((row.project_no, own))
        found = _declared(d, row, own, exact, by_no, renames) if d is not None else None
        if found is not None:
            matches.append(Match(row, found, "declared"))
        elif hit is not None:
            # Rule (a). Also when a declaration names nothing but the row is the same as in the
            # version before: that is an earlier adoption's declaration left in the working copy.
            same = any(frozenset(departments) == raw[h] for h in hit)
            matches.append(Match(row, tuple(hit), "same" if same else "renamed"))
        else:
            if d is not None:
                problems.append(
                    problem(
                        "plan-predecessor-unknown",
                        file=source or None,
                        row=row.line or None,
                        old_no=d.text_no or row.project_no,
                        old_department=d.text_department or row.department,
                        version=previous_label or "前の版",
                    )
                )
            matches.append(Match(row, (), "new"))
    return Matching(tuple(matches), tuple(problems))


def _declared(
    d: Declared,
    row: PlanRow,
    own: frozenset[str],
    exact: Mapping[tuple[str, frozenset[str]], list[int]],
    by_no: Mapping[str, list[tuple[frozenset[str], int]]],
    renames: Renames,
) -> tuple[int, ...] | None:
    """The rows a declaration names, or None when any part of it names nothing."""
    nos = d.nos or (row.project_no,)
    wanted = _canonical(d.departments, renames) if d.departments else own
    found: list[int] = []
    for no in nos:
        hit = exact.get((no, wanted))
        if hit is not None:
            found.extend(hit)
            continue
        # A merge: every row of that project whose departments are among the declared ones.
        parts = [(deps, rid) for deps, rid in by_no.get(no, ()) if deps <= wanted]
        covered = frozenset().union(*(deps for deps, _ in parts)) if parts else frozenset()
        if not parts or (d.departments and len(nos) == 1 and covered != wanted):
            return None
        found.extend(rid for _, rid in parts)
    return tuple(dict.fromkeys(found))


def assign_ids(
    matching: Matching, next_row_id: int, fixed: Mapping[RowKey, int] | None = None
) -> tuple[tuple[int, Match], ...]:
    """A ``row_id`` for each matched row: the predecessor's when the link is one to one.

    Of several rows continuing one predecessor (a split), the one that is the same row by rule
    (a)/(c) keeps its id — so fixing a typo with a new row beside it does not move stored returns —,
    or the only declared one; the others, merged rows and new rows get fresh ids from ``next_row_id``.
    ``fixed`` (new row's label key → id) wins over all that: re-adopting for a year keeps the ids of
    the version it replaces, whose stored returns point at them.
    """
    fixed = fixed or {}
    taken = set(fixed.values())
    successors: dict[int, list[Match]] = {}
    for m in matching.matches:
        for p in m.predecessors:
            successors.setdefault(p, []).append(m)
    heir: dict[int, Match] = {}
    for pid, ms in successors.items():
        single = [m for m in ms if len(m.predecessors) == 1]
        same = [m for m in single if m.how in ("same", "renamed")]
        if same:
            heir[pid] = same[0]
        elif len(single) == 1 and len(ms) == 1:
            heir[pid] = single[0]
    out: list[tuple[int, Match]] = []
    fresh = next_row_id
    for m in matching.matches:
        if m.row.key in fixed:
            out.append((fixed[m.row.key], m))
        elif len(m.predecessors) == 1 and heir.get(m.predecessors[0]) is m and m.predecessors[0] not in taken:
            out.append((m.predecessors[0], m))
        else:
            out.append((fresh, m))
            fresh += 1
    return tuple(out)


def check_renames(
    given: Sequence[tuple[str, str]], previous_rows: Iterable[VersionRow], new_rows: Iterable[PlanRow]
) -> list[Problem]:
    """A rename must name a department of the version before and one of the new file."""
    before = {d for r in previous_rows for d in (*r.departments, *r.row.submitters)}
    after = {d for r in new_rows for d in (*r.departments, *r.submitters)}
    found = []
    for old, new in given:
        for name, names, where in ((old, before, "前の版"), (new, after, "新しい版")):
            if normalize_code(name) not in names:
                found.append(problem("plan-rename-unknown", old=old, new=new, name=name, where=where))
    return found


@dataclass(frozen=True)
class Adoption:
    """A new version ready to store, what changed against the version before, and the problems."""

    version: PlanVersion
    changes: PlanChanges
    problems: tuple[Problem, ...]


def adopt(
    previous: PlanVersion | None,
    plan: Plan,
    *,
    version_id: int,
    from_year: FiscalYear,
    next_row_id: int,
    renames: Sequence[tuple[str, str]] = (),
    history: Sequence[PlanVersion] = (),
    declared: Mapping[int, Declared] | None = None,
    extra: Mapping[int, Mapping[str, str]] | None = None,
    name: str = "",
    replacing: PlanVersion | None = None,
) -> Adoption:
    """Build the version ``plan`` would become if adopted from ``from_year``.

    ``previous`` is the version in force before ``from_year`` (None for the first version);
    ``history`` every version before it, oldest first, whose recorded renames still apply;
    ``renames`` the renames declared now; ``replacing`` the version already adopted for
    ``from_year``, if any: its renames are kept and its rows keep their ids where the new file has
    the same row. Nothing is stored here: the caller prints :attr:`Adoption.changes` and stores
    :attr:`Adoption.version` unless it is a dry run or there are errors.
    """
    steps = [v.renames for v in history]
    if previous is not None and all(v is not previous for v in history):
        steps.append(previous.renames)
    if replacing is not None:
        renames = tuple(dict.fromkeys([*replacing.renames, *renames]))
    effective = accumulate_renames([*steps, renames])
    extra = extra or {}
    declared = declared or {}
    prev_rows = previous.rows if previous is not None else ()
    problems = check_renames(renames, prev_rows, plan.rows) if previous is not None else []
    matching = match_rows(
        prev_rows,
        plan.rows,
        effective,
        declared,
        source=plan.source,
        previous_label=previous.label if previous else "",
    )
    problems.extend(matching.problems)
    fixed: dict[RowKey, int] = {}
    if replacing is not None:
        same = match_rows(replacing.rows, plan.rows, effective)
        fixed = {m.row.key: m.predecessors[0] for m in same.matches if m.predecessors}
    rows = tuple(
        VersionRow(
            row_id,
            m.row,
            m.predecessors,
            extra=dict(extra.get(m.row.line, {})),
            declared=declared.get(m.row.line),
        )
        for row_id, m in assign_ids(matching, next_row_id, fixed)
    )
    version = PlanVersion(
        version_id,
        from_year,
        rows,
        name=name,
        renames=tuple((normalize_code(o), normalize_code(n)) for o, n in renames),
        source=plan.source,
        fingerprint=plan.fingerprint,
    )
    changes = plan_changes(previous, version, effective)
    problems.extend(
        problem("plan-rename-suspected", file=plan.source or None, old=old, new=new)
        for old, new in changes.suspected_renames
    )
    return Adoption(version, changes, tuple(problems))


def relink(previous: PlanVersion, later: PlanVersion, renames: Renames) -> PlanVersion:
    """``later`` with its predecessors matched again against a re-adopted or inserted ``previous``.

    Row ids are kept (stored entries of ``later``'s years point at them); only the lineage moves. A
    row whose id the inserted version has is that row (both continue the same earlier row one to
    one); the others are matched by the rules, with the declarations recorded with ``later``'s rows.
    """
    declared = {r.row.line: r.declared for r in later.rows if r.declared is not None}
    by_id = previous.by_id
    others = [r.row for r in later.rows if not r.dropped and r.row_id not in by_id]
    matching = match_rows(previous.rows, others, renames, declared)
    preds = {id(m.row): m.predecessors for m in matching.matches}
    rows = tuple(
        VersionRow(
            r.row_id,
            r.row,
            (r.row_id,) if r.row_id in by_id else preds.get(id(r.row), ()),
            r.dropped,
            r.extra,
            r.declared,
        )
        for r in later.rows
    )
    return PlanVersion(
        later.id,
        later.from_year,
        rows,
        later.name,
        later.renames,
        later.source,
        later.fingerprint,
        later.sheet_json,
        later.sheet_fingerprint,
    )


# --- what changed ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowRef:
    """A row by its printed labels in its version."""

    row_id: int
    no: str
    name: str
    department: str

    @classmethod
    def of(cls, r: VersionRow) -> RowRef:
        return cls(r.row_id, r.no, r.row.project_name, r.department)

    @property
    def text(self) -> str:
        return f"事業No.{self.no} {self.name}（{self.department}）"


@dataclass(frozen=True)
class PlanChanges:
    """What a new version changes against the version before, grouped as ``plan adopt`` prints it."""

    departments_renamed: tuple[tuple[str, str], ...] = ()
    renumbered: tuple[tuple[str, str, str], ...] = ()
    """(old 事業No, new 事業No, 事業名)"""
    renamed: tuple[tuple[str, str, str], ...] = ()
    """(事業No, old 事業名, new 事業名)"""
    moved: tuple[tuple[str, str, str, str], ...] = ()
    """(事業No, 事業名, old 施策, new 施策)"""
    added: tuple[RowRef, ...] = ()
    dropped: tuple[RowRef, ...] = ()
    merged: tuple[tuple[RowRef, tuple[RowRef, ...]], ...] = ()
    """(new row, its predecessors)"""
    split: tuple[tuple[RowRef, tuple[RowRef, ...]], ...] = ()
    """(old row, its successors)"""
    joint_changed: tuple[tuple[RowRef, RowRef], ...] = ()
    """(old, new): the same joint row written with another separator, order or submitters."""
    suspected_renames: tuple[tuple[str, str], ...] = ()
    """(old, new): a department that vanished while another has exactly its rows — undeclared."""

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f) for f in self.__dataclass_fields__)


def plan_changes(previous: PlanVersion | None, new: PlanVersion, renames: Renames) -> PlanChanges:
    """Compare a matched new version with the version before (None: everything is added)."""
    if previous is None:
        return PlanChanges(added=tuple(RowRef.of(r) for r in new.rows))
    old_by_id = previous.by_id
    successors: dict[int, list[VersionRow]] = {}
    for r in new.rows:
        for p in r.predecessors:
            successors.setdefault(p, []).append(r)
    renumbered: dict[tuple[str, str], str] = {}
    renamed: dict[str, tuple[str, str, str]] = {}
    moved: dict[str, tuple[str, str, str, str]] = {}
    merged, joint = [], []
    for r in new.rows:
        preds = [old_by_id[p] for p in r.predecessors if p in old_by_id]
        if len(preds) > 1:
            merged.append((RowRef.of(r), tuple(RowRef.of(p) for p in preds)))
            continue
        if len(preds) != 1:
            continue
        old, row = preds[0], r.row
        if old.no != r.no:
            renumbered.setdefault((old.no, r.no), row.project_name)
        if old.row.project_name != row.project_name:
            renamed.setdefault(r.no, (r.no, old.row.project_name, row.project_name))
        if (old.row.goal, old.row.policy, old.row.measure) != (row.goal, row.policy, row.measure):
            moved.setdefault(r.no, (r.no, row.project_name, old.row.measure, row.measure))
        same_set = frozenset(old.departments) == frozenset(r.departments)
        written = old.department != r.department or frozenset(old.row.submitters) != frozenset(row.submitters)
        if same_set and len(r.departments) > 1 and written:
            joint.append((RowRef.of(old), RowRef.of(r)))
    split = [
        (RowRef.of(old_by_id[p]), tuple(RowRef.of(s) for s in succ))
        for p, succ in successors.items()
        if len(succ) > 1 and p in old_by_id
    ]
    dropped = [RowRef.of(p) for p in previous.rows if p.row_id not in successors and not p.dropped]
    added = [RowRef.of(r) for r in new.rows if not r.predecessors]
    before = {d for r in previous.rows if not r.dropped for d in r.departments}
    after = {d for r in new.rows for d in r.departments}
    dep_renamed = tuple(
        (old, new_name)
        for old, new_name in renames.items()
        if old in before and old not in after and new_name in after
    )
    return PlanChanges(
        departments_renamed=dep_renamed,
        renumbered=tuple((o, n, name) for (o, n), name in renumbered.items()),
        renamed=tuple(renamed.values()),
        moved=tuple(moved.values()),
        added=tuple(added),
        dropped=tuple(dropped),
        merged=tuple(merged),
        split=tuple(split),
        joint_changed=tuple(joint),
        suspected_renames=_suspected_renames(previous, new, renames, dropped, added),
    )


def _suspected_renames(
    previous: PlanVersion,
    new: PlanVersion,
    renames: Renames,
    dropped: Sequence[RowRef],
    added: Sequence[RowRef],
) -> tuple[tuple[str, str], ...]:
    """A department all of whose rows were dropped while another, new, department has exactly them.

    A department's signature is the set of its rows as (事業No, the row's other departments); equal
    signatures on a vanished and an appeared department mean a rename nobody declared.
    """
    if not dropped or not added:
        return ()
    before = {d for r in previous.rows if not r.dropped for d in r.departments}
    after = {d for r in new.rows for d in r.departments}
    gone = before - after - set(renames)
    came = after - before
    if not gone or not came:
        return ()

    def signatures(rows: Iterable[VersionRow], names: set[str]) -> dict[str, set[tuple[str, frozenset[str]]]]:
        # Keyed in first-seen order, so the report follows the plan.
        sig: dict[str, set[tuple[str, frozenset[str]]]] = {}
        for r in rows:
            for d in r.departments:
                if d in names:
                    sig.setdefault(d, set()).add((r.no, frozenset(r.departments) - {d}))
        return sig

    old_sig = signatures((r for r in previous.rows if not r.dropped), gone)
    by_sig: dict[frozenset[tuple[str, frozenset[str]]], list[str]] = {}
    for d, s in signatures(new.rows, came).items():
        by_sig.setdefault(frozenset(s), []).append(d)
    found = []
    for d in old_sig:
        candidates = by_sig.get(frozenset(old_sig[d]), [])
        if len(candidates) == 1:
            found.append((d, candidates[0]))
    return tuple(found)


def render_changes(changes: PlanChanges) -> list[str]:
    """The change report in Japanese, one line per item, grouped (what ``plan adopt`` prints)."""
    out: list[str] = []

    def group(title: str, lines: Sequence[str]) -> None:
        if lines:
            out.append(f"■ {title}（{len(lines)}件）")
            out.extend(f"  {line}" for line in lines)

    c = changes
    group("課名の変更", [f"{o} → {n}" for o, n in c.departments_renamed])
    group("事業Noの変更", [f"事業No.{o} → 事業No.{n} {name}" for o, n, name in c.renumbered])
    group("事業名の変更", [f"事業No.{no} {o} → {n}" for no, o, n in c.renamed])
    group("施策の移動", [f"事業No.{no} {name}: {o} → {n}" for no, name, o, n in c.moved])
    group("統合", [f"{new.text} ← {'・'.join(p.text for p in preds)}" for new, preds in c.merged])
    group("分割", [f"{old.text} → {'・'.join(s.text for s in succ)}" for old, succ in c.split])
    group("共同で報告する行の変更", [f"{o.text} → {n.department}" for o, n in c.joint_changed])
    group("追加される行", [r.text for r in c.added])
    group("なくなる行", [r.text for r in c.dropped])
    group("課名の変更の可能性（未登録）", [f"{o} → {n}" for o, n in c.suspected_renames])
    return out or ["変更はありません。"]


# --- adopting over stored years ----------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    """A stored row of ``year`` that the new version has no place for."""

    year: FiscalYear
    row_id: int
    no: str = ""
    department: str = ""

    def problem(self, gannen: bool = True) -> Problem:
        return problem(
            "plan-stored-row-orphaned",
            year=self.year.label(gannen),
            no=self.no or "?",
            department=self.department or "?",
        )


def adoption_blockers(
    stored_row_ids_by_year: Mapping[FiscalYear, Iterable[int]],
    new_version_rows: Iterable[VersionRow],
    from_year: FiscalYear,
    *,
    until: FiscalYear | None = None,
    labels: Mapping[int, VersionRow] | None = None,
) -> tuple[Blocker, ...]:
    """Stored rows of the years the new version will govern that would lose their place.

    The new version governs ``from_year`` up to (not including) ``until``, the next version's year.
    A stored row keeps its place when the new version has a row with its ``row_id``; ``labels`` (the
    rows of the version being replaced) name the ones that would not. Adoption is refused while any
    are listed, unless forced; nothing stored is deleted either way.
    """
    ids = {r.row_id for r in new_version_rows}
    labels = labels or {}
    found = []
    for year in sorted(stored_row_ids_by_year):
        if year < from_year or (until is not None and year >= until):
            continue
        for rid in sorted(set(stored_row_ids_by_year[year]) - ids):
            label = labels.get(rid)
            found.append(Blocker(year, rid, label.no if label else "", label.department if label else ""))
    return tuple(found)


# --- lineage -------------------------------------------------------------------------------------------


class Lineage:
    """Which rows of an earlier year a row descends from, through any number of versions."""

    def __init__(self, versions: Sequence[PlanVersion]) -> None:
        self.versions: tuple[PlanVersion, ...] = tuple(sorted(versions, key=lambda v: v.from_year))
        if not self.versions:
            raise ValueError("no plan version")
        self._years = [v.from_year for v in self.versions]

    def index_for(self, year: FiscalYear) -> int:
        return max(bisect.bisect_right(self._years, year) - 1, 0)

    def version_for(self, year: FiscalYear) -> PlanVersion:
        return self.versions[self.index_for(year)]

    def predecessors(
        self, row_id: int, year: FiscalYear, earlier: FiscalYear | None = None
    ) -> tuple[int, ...]:
        """The rows of ``earlier`` (by default the year before) that ``row_id`` of ``year`` descends from."""
        return self.links(year, earlier).get(row_id, ())

    def links(self, year: FiscalYear, earlier: FiscalYear | None = None) -> dict[int, tuple[int, ...]]:
        """Every row of ``year``'s version → the rows of ``earlier``'s version it descends from.

        One pass per version crossed, each a dict lookup per row: linear in rows × versions crossed.
        """
        base = earlier if earlier is not None else year.previous()
        hi, lo = self.index_for(year), self.index_for(base)
        current: dict[int, tuple[int, ...]] = {r.row_id: (r.row_id,) for r in self.versions[hi].rows}
        if hi <= lo:
            return current
        # Walk back one version at a time: ids of version i → ids of version i-1.
        for i in range(hi, lo, -1):
            step = self.versions[i].by_id
            current = {
                rid: tuple(dict.fromkeys(p for a in ancestors if a in step for p in step[a].predecessors))
                for rid, ancestors in current.items()
            }
        return current

    def ended(self, year: FiscalYear, earlier: FiscalYear | None = None) -> tuple[int, ...]:
        """Rows of ``earlier``'s version that no row of ``year`` descends from (diff: ``removed``)."""
        base = earlier if earlier is not None else year.previous()
        reached = {p for preds in self.links(year, base).values() for p in preds}
        return tuple(r.row_id for r in self.version_for(base).rows if r.row_id not in reached)

    def prior_values(
        self,
        row_id: int,
        year: FiscalYear,
        values_by_year: Mapping[FiscalYear, Mapping[int, str]],
        earlier: FiscalYear | None = None,
    ) -> tuple[str, ...]:
        """The values of the rows ``row_id`` descends from in ``earlier`` (the year before), in order."""
        base = earlier if earlier is not None else year.previous()
        stored = values_by_year.get(base, {})
        return tuple(stored[p] for p in self.predecessors(row_id, year, base) if p in stored)

    def priors(
        self,
        year: FiscalYear,
        values_by_year: Mapping[FiscalYear, Mapping[int, str]],
        earlier: FiscalYear | None = None,
    ) -> dict[int, str]:
        """Every row of ``year`` with a prior value: a merged row shows ``A／B``, a split row its
        predecessor's value. This is what 前年度事業評価 and the prior rules read."""
        base = earlier if earlier is not None else year.previous()
        stored = values_by_year.get(base, {})
        out = {}
        for rid, preds in self.links(year, base).items():
            values = [stored[p] for p in preds if p in stored]
            if values:
                out[rid] = PRIOR_SEPARATOR.join(values)
        return out

    def history_chain(self, years: Sequence[FiscalYear]) -> tuple[ChainRow, ...]:
        """One line per row across ``years``, under its latest labels, with earlier labels noted.

        A row is its ``row_id``: one-to-one links keep it, so a renamed or renumbered row is one
        line. Rows of the newest version come first in plan order, then rows that ended earlier
        (dropped, merged away) by the version they were last in.
        """
        in_force: dict[int, list[FiscalYear]] = {}
        latest: dict[int, tuple[int, VersionRow]] = {}
        earlier: dict[int, list[VersionRow]] = {}
        for fy in sorted(years):
            idx = self.index_for(fy)
            for r in self.versions[idx].rows:
                in_force.setdefault(r.row_id, []).append(fy)
        for idx, v in enumerate(self.versions):
            for r in v.rows:
                if r.row_id in in_force:
                    if r.row_id in latest:
                        earlier.setdefault(r.row_id, []).append(latest[r.row_id][1])
                    latest[r.row_id] = (idx, r)
        ordered = sorted(latest.items(), key=lambda kv: (-kv[1][0], self.versions[kv[1][0]].positions[kv[0]]))
        rows = []
        for rid, (_, r) in ordered:
            notes = [_old_label(old, r) for old in earlier.get(rid, [])]
            notes = [n for n in dict.fromkeys(notes) if n]
            rows.append(
                ChainRow(
                    row_id=rid,
                    row=r,
                    years=tuple(in_force[rid]),
                    earlier_labels=tuple(notes),
                    predecessors=r.predecessors if r.predecessors != (rid,) else (),
                )
            )
        return tuple(rows)


def _old_label(old: VersionRow, now: VersionRow) -> str:
    parts = []
    if old.no != now.no:
        parts.append(f"No.{old.no}")
    if old.row.project_name != now.row.project_name:
        parts.append(old.row.project_name)
    if frozenset(old.departments) != frozenset(now.departments):
        parts.append(old.department)
    return "旧: " + " ".join(parts) if parts else ""


@dataclass(frozen=True)
class ChainRow:
    """One line of ``history``: a row under its latest labels, the years it was in force."""

    row_id: int
    row: VersionRow
    years: tuple[FiscalYear, ...]
    earlier_labels: tuple[str, ...]
    """``旧: 介護福祉課``, ``旧: No.12`` — each distinct earlier label, oldest first."""
    predecessors: tuple[int, ...] = ()
    """Where a merged or split-off row came from (empty for a row that only kept its id)."""

    @property
    def note(self) -> str:
        return "、".join(self.earlier_labels)


# --- store records -------------------------------------------------------------------------------------


def row_record(version_id: int, position: int, r: VersionRow) -> dict[str, Any]:
    """A ``plan_rows`` record (JSON fields as Python values; the store dumps them)."""
    row = r.row
    return {
        "version_id": version_id,
        "row_id": r.row_id,
        "position": position,
        "levels": _levels_record(row),
        "project_no": row.project_no,
        "project_name": row.project_name,
        "project_index": row.project_index,
        "is_new": row.is_new,
        "department": row.department,
        "departments": list(row.departments),
        "submitters": list(row.submitters),
        "extra": dict(r.extra),
        "predecessors": list(r.predecessors),
        "declared": (
            {H_OLD_NO: r.declared.text_no, H_OLD_DEPARTMENT: r.declared.text_department} if r.declared else {}
        ),
        "dropped": r.dropped,
        "line": row.line,
    }


def _levels_record(row: PlanRow) -> Any:
    """``plan_rows.levels``: Koganei's three levels as ``[[no, name], ["", 基本施策], [no, name]]``; a row
    of a sheet with its own levels (issue 11) also keeps them, outermost first, and the innermost's
    printed number: ``{"default": [...], "path": [[no, name], …], "mark": "1-2"}``."""
    default = [[row.goal_no, row.goal], ["", row.policy], [row.measure_no, row.measure]]
    path = [list(p) for p in row.path]
    if not path or (path == default and row.measure_mark == f"({row.measure_no})"):
        return default
    return {"default": default, "path": path, "mark": row.measure_mark}


def row_from_record(rec: Mapping[str, Any]) -> VersionRow:
    """The inverse of :func:`row_record` (``departments`` is derived from ``department``)."""
    levels = rec["levels"]
    own = levels if isinstance(levels, Mapping) else {"default": levels}
    (goal_no, goal), (_, policy), (measure_no, measure) = own["default"]
    path = own.get("path") or [[goal_no, goal], ["", policy], [measure_no, measure]]
    decl = rec.get("declared") or {}
    declared = (
        Declared(
            split_departments(decl.get(H_OLD_NO, "")),
            split_departments(decl.get(H_OLD_DEPARTMENT, "")),
            decl.get(H_OLD_NO, ""),
            decl.get(H_OLD_DEPARTMENT, ""),
        )
        if decl
        else None
    )
    row = PlanRow(
        goal_no,
        goal,
        policy,
        measure_no,
        measure,
        rec["project_no"],
        rec["project_name"],
        bool(rec["is_new"]),
        rec["department"],
        tuple(rec["submitters"]),
        int(rec["project_index"]),
        int(rec.get("line") or 0),
        path=tuple((str(no), str(name)) for no, name in path),
        measure_mark=str(own.get("mark") or f"({measure_no})"),
        extra=tuple((str(k), str(v)) for k, v in (rec.get("extra") or {}).items()),
    )
    return VersionRow(
        int(rec["row_id"]),
        row,
        tuple(int(p) for p in rec["predecessors"]),
        bool(rec["dropped"]),
        dict(rec.get("extra") or {}),
        declared,
    )


def first_version(
    plan: Plan,
    from_year: FiscalYear,
    *,
    extra: Mapping[int, Mapping[str, str]] | None = None,
    name: str = "",
) -> PlanVersion:
    """Version 1 (``hyoka init``): every plan row gets row_id 1, 2, … in plan order."""
    extra = extra or {}
    rows = tuple(
        VersionRow(i, r, (), extra=dict(extra.get(r.line, {}))) for i, r in enumerate(plan.rows, start=1)
    )
    return PlanVersion(1, from_year, rows, name=name, source=plan.source, fingerprint=plan.fingerprint)
