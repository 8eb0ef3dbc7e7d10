"""The rules a returned form (or an imported table) must satisfy. Pure: rows in, parts and problems out.

Each rule is a small function that yields problems; :func:`validate` runs them all in one loop. Row
rules see one resolved row; sheet rules see all rows together (duplicates, missing rows, joint rows).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from hyoka.intake import ReadRow
from hyoka.plan import Plan, PlanRow, RowKey
from hyoka.problems import Problem, problem
from hyoka.results import PriorRatings
from hyoka.scale import RatingScale
from hyoka.sheet import (
    SECRETARIAT_SUBMITTER,
    JointConflict,
    SheetDefinition,
    combine_joint,
    evaluate_joint,
    evaluate_row,
    joint_conflicts,
)
from hyoka.store import Part
from hyoka.text import clean_text, normalize_code, safe_filename, split_departments
from hyoka.versions import PRIOR_SEPARATOR
from hyoka.years import FiscalYear

MAX_TEXT_CHARS = 20_000
"""Longest 事業実績 / 今後 text accepted (an Excel cell holds 32,767 characters)."""


@dataclass(frozen=True)
class Context:
    plan: Plan
    scale: RatingScale
    year: FiscalYear
    file: str
    sheet: str | None
    submitter: str | None  # None: an imported table, rows of any department
    prior: Mapping[RowKey, str] = field(default_factory=dict)
    # Joint rows' parts in force other than this file's: the other departments' parts, which a form's
    # part should agree with, and the department's own earlier part, which the form replaces.
    others: Mapping[RowKey, Sequence[Part]] = field(default_factory=dict)
    formulas: Mapping[str, str] = field(default_factory=dict)  # cell ref -> formula without a value
    row_ids: Mapping[RowKey, int] = field(default_factory=dict)  # the version's row identities
    # A workspace's own sheet ([sheet] in hyoka.toml): its columns' rules instead of Koganei's three.
    definition: SheetDefinition | None = None

    def at(self, code: str, cell: str | None = None, **params: Any) -> Problem:
        return problem(code, file=self.file, sheet=self.sheet, cell=cell or None, **params)


@dataclass(frozen=True)
class Resolved:
    read: ReadRow
    plan_row: PlanRow
    rating: str | None
    achievement: str
    outlook: str
    submitter: str  # whose part this is ('' for a whole imported row)


def resolve(ctx: Context, row: ReadRow) -> tuple[Resolved | None, list[Problem]]:
    """Match a read row to its plan row, or say why it cannot be matched."""
    no = row.project_no
    if isinstance(row.no.value, date):
        return None, [ctx.at("value-is-date", row.no.ref, heading="事業No", value=no)]
    candidates = ctx.plan.project(no)
    if not candidates:
        if not no:
            # Report the note where it was written (below or beside the table), with its text.
            at = row.note or row.no
            return None, [ctx.at("row-without-project", at.ref, text=clean_text(at.value).strip()[:30])]
        return None, [ctx.at("project-unknown", row.no.ref, no=no)]
    department = normalize_code(row.department.value)
    plan_row = _match_department(candidates, department, ctx.submitter)
    if plan_row is None:
        expected = "、".join(r.department for r in candidates)
        return None, [
            ctx.at("department-unknown", row.department.ref, department=department, no=no, expected=expected)
        ]
    if ctx.submitter is not None and ctx.submitter not in plan_row.submitters:
        return None, [
            ctx.at(
                "row-other-department",
                row.no.ref,
                no=no,
                department=plan_row.department,
                submitter=ctx.submitter,
            )
        ]
    submitter = ctx.submitter or ""
    if ctx.submitter is None and plan_row.is_joint:
        # An imported line for one department of a joint row is that department's part.
        named = normalize_code(row.submitter.value) if row.submitter is not None else ""
        for who in (named, department):
            if who in plan_row.submitters:
                submitter = who
                break
    return Resolved(
        read=row,
        plan_row=plan_row,
        rating=ctx.scale.normalize(row.rating.value),
        achievement=clean_text(row.achievement.value),
        outlook=clean_text(row.outlook.value),
        submitter=submitter,
    ), []


def _match_department(candidates: list[PlanRow], department: str, submitter: str | None) -> PlanRow | None:
    for r in candidates:
        if r.department == department:
            return r
    wanted = set(split_departments(department))
    for r in candidates:
        if wanted and set(r.departments) == wanted:
            return r
    for r in candidates:
        # One department of a joint row (介護福祉課 for 介護福祉課・広報秘書課).
        if r.is_joint and department in r.submitters:
            return r
    if not department and submitter is not None:
        # A copied form without the 担当課 column: the project identifies the row if it is unambiguous.
        mine = [r for r in candidates if submitter in r.submitters]
        if len(mine) == 1:
            return mine[0]
    return None


# --- row rules ---------------------------------------------------------------------------------------

RowRule = Callable[[Context, Resolved], Iterator[Problem]]


def rule_rating(ctx: Context, r: Resolved) -> Iterator[Problem]:
    cell = r.read.rating
    if r.rating is not None:
        raw = clean_text(cell.value).strip()
        if raw != r.rating:  # say so: the clerk should know that Ａ or " b " was read as A, B
            yield ctx.at("rating-normalized", cell.ref, value=raw, normalized=r.rating)
        return
    if cell.ref in ctx.formulas:
        yield ctx.at("formula-no-value", cell.ref, formula=ctx.formulas[cell.ref])
    elif not normalize_code(cell.value):
        yield ctx.at("rating-blank", cell.ref, codes=ctx.scale.codes_text)
    else:
        yield ctx.at(
            "rating-not-in-scale", cell.ref, value=clean_text(cell.value), codes=ctx.scale.codes_text
        )


def rule_texts(ctx: Context, r: Resolved) -> Iterator[Problem]:
    for text, cell, column in (
        (r.achievement, r.read.achievement, "事業実績・評価理由"),
        (r.outlook, r.read.outlook, "今後の事業計画・展望"),
    ):
        if len(text) > MAX_TEXT_CHARS:
            yield ctx.at("text-too-long", cell.ref, column=column, length=len(text), limit=MAX_TEXT_CHARS)
        elif not text.strip() and cell.ref in ctx.formulas:
            yield ctx.at("formula-no-value", cell.ref, formula=ctx.formulas[cell.ref])
    # An imported table may carry ratings only: a column that is absent (no cell ref) is not blank.
    if r.read.achievement.ref and not r.achievement.strip() and r.read.achievement.ref not in ctx.formulas:
        yield ctx.at("achievement-blank", r.read.achievement.ref)
    if r.read.outlook.ref and not r.outlook.strip() and r.read.outlook.ref not in ctx.formulas:
        level = ctx.scale.get(r.rating) if r.rating else None
        if level is not None and level.requires_reason:
            yield ctx.at("reason-missing", r.read.outlook.ref, rating=r.rating)
        else:
            yield ctx.at("outlook-blank", r.read.outlook.ref)


def rule_prior(ctx: Context, r: Resolved) -> Iterator[Problem]:
    if r.read.prior is None:
        return
    raw = normalize_code(r.read.prior.value)
    if not raw:
        return  # a blank cell claims nothing (the form may predate last year's import); the store wins
    on_form = ctx.scale.normalize(raw) or raw
    stored = ctx.prior.get(r.plan_row.key)
    # A merged row's prior (A／B) is compared as text, as the form printed it.
    same = stored is not None and PRIOR_SEPARATOR in stored and raw == normalize_code(stored)
    if r.plan_row.is_new and stored is None and on_form:
        yield ctx.at("prior-rating-on-new", r.read.prior.ref, form=on_form)
    elif (
        on_form != stored and not same and ctx.prior
    ):  # with nothing stored for last year there is nothing to compare
        yield ctx.at("prior-rating-differs", r.read.prior.ref, form=on_form, stored=stored or "（なし）")


def rule_jump(ctx: Context, r: Resolved) -> Iterator[Problem]:
    if isinstance(ctx.prior, PriorRatings) and ctx.prior.scale is not None:
        return  # last year rated by another scale: its codes are not steps of this year's
    before = ctx.prior.get(r.plan_row.key)
    if r.rating is None or before is None or ctx.scale.get(before) is None:
        return
    steps = ctx.scale.steps(before, r.rating)
    if steps >= 2:
        yield ctx.at("rating-jump", r.read.rating.ref, before=before, after=r.rating, steps=steps)


ROW_RULES: tuple[RowRule, ...] = (rule_rating, rule_texts, rule_prior, rule_jump)


# --- sheet rules -------------------------------------------------------------------------------------

SheetRule = Callable[[Context, list[Resolved]], Iterator[Problem]]


def rule_duplicates(ctx: Context, rows: list[Resolved]) -> Iterator[Problem]:
    first: dict[tuple[str, str, str], Resolved] = {}
    for r in rows:
        key = (*r.plan_row.key, r.submitter)
        if key in first:
            yield ctx.at(
                "row-duplicate",
                r.read.no.ref,
                no=r.plan_row.project_no,
                department=r.plan_row.department,
                first_cell=first[key].read.no.ref or f"{first[key].read.line}行目",
            )
        else:
            first[key] = r


def rule_missing(ctx: Context, rows: list[Resolved]) -> Iterator[Problem]:
    present = {r.plan_row.key for r in rows}
    if ctx.submitter is None:
        # An imported table may bring part of a year (the rest stays 未提出), but the clerk should know.
        absent = [row for row in ctx.plan.rows if row.key not in present]
        if absent and rows:
            examples = "、".join(f"事業No.{r.project_no}（{r.department}）" for r in absent[:3])
            more = f" ほか{len(absent) - 3}行" if len(absent) > 3 else ""
            yield ctx.at("import-rows-missing", None, count=len(absent), examples=examples + more)
        return
    for row in ctx.plan.rows_for(ctx.submitter):
        if row.key not in present:
            yield ctx.at("row-missing", None, no=row.project_no, department=row.department)


def rule_joint(ctx: Context, rows: list[Resolved]) -> Iterator[Problem]:
    """A joint row has one rating, but a correction must be possible in whatever order it comes in.

    Parts of one table that disagree are an error (the table contradicts itself). A form's part that
    disagrees with another department's part in force is taken with a warning: the row is 不一致 until
    the parts agree, and a part that ends a disagreement says so. An imported table replaces every part
    in force for the rows it carries, so the store's parts do not count against it (a table with one
    department's line of a joint row is told that the other departments' parts go).
    """
    mine: dict[RowKey, list[Resolved]] = {}
    for r in rows:
        if r.plan_row.is_joint and r.rating is not None:
            mine.setdefault(r.plan_row.key, []).append(r)
    for key, parts in mine.items():
        here = parts[0]
        first_name = here.submitter or ctx.submitter or "この表"
        inside = [other for other in parts[1:] if other.rating != here.rating]
        for other in inside:
            yield _joint(
                ctx,
                "joint-rating-conflict",
                other,
                first_name,
                here.rating,
                other.submitter or "この表",
                other.rating,
            )
        if inside:
            continue
        in_force = [p for p in ctx.others.get(key, ()) if p.submitter]  # a whole imported row is replaced
        if ctx.submitter is None:
            yield from _import_drops(ctx, here, parts, in_force)
            continue
        theirs = [p for p in in_force if p.submitter not in {q.submitter for q in parts}]
        differing = [p for p in theirs if p.rating != here.rating]
        for stored in differing:
            yield _joint(
                ctx, "joint-rating-differs", here, first_name, here.rating, stored.submitter, stored.rating
            )
        if theirs and not differing and len({p.rating for p in in_force}) > 1:
            yield ctx.at(
                "joint-rating-resolved",
                here.read.rating.ref,
                no=here.plan_row.project_no,
                department=here.plan_row.department,
                rating=here.rating,
            )


def _import_drops(
    ctx: Context, here: Resolved, parts: list[Resolved], in_force: list[Part]
) -> Iterator[Problem]:
    """An imported line for one department of a joint row replaces the whole row: the other
    departments' parts in force go (the row is then 未提出 for them). Say so before it happens."""
    carried = {p.submitter for p in parts}
    if "" in carried:
        return  # the whole row: it replaces every part, as meant
    dropped = [p.submitter for p in in_force if p.submitter not in carried]
    if dropped:
        yield ctx.at(
            "import-joint-part-only",
            here.read.rating.ref,
            no=here.plan_row.project_no,
            department=here.plan_row.department,
            present="・".join(sorted(carried, key=here.plan_row.submitters.index)),
            dropped="・".join(dropped),
        )


def _joint(
    ctx: Context,
    code: str,
    r: Resolved,
    first: str,
    first_rating: str | None,
    second: str,
    second_rating: str | None,
) -> Problem:
    return ctx.at(
        code,
        r.read.rating.ref,
        no=r.plan_row.project_no,
        department=r.plan_row.department,
        first=first,
        first_rating=first_rating,
        second=second,
        second_rating=second_rating,
    )


def rule_file_name(ctx: Context, rows: list[Resolved]) -> Iterator[Problem]:
    """A form whose file is named for another department (調査票_R5_公民館.xlsx holding 生涯学習課's form)
    is stored as the form's department and replaces its return: the clerk should hear of the mix-up."""
    if ctx.submitter is None:
        return
    named = departments_named_in(ctx.file, ctx.plan.submitters)
    if named and ctx.submitter not in named:
        yield ctx.at("form-name-other-department", None, named="・".join(named), submitter=ctx.submitter)


def departments_named_in(file_name: str, departments: Sequence[str]) -> list[str]:
    """The departments a file name names, as forms are named (調査票_<year>_<department>.xlsx).

    A department whose name lies inside another one named there (福祉課 in 地域福祉課) does not count.
    """
    stem = normalize_code(file_name.rsplit(".", 1)[0])
    safe = _safe_names(tuple(departments))
    found = [d for d in departments if safe[d].strip("_") and safe[d] in stem]
    return [d for d in found if not any(d != o and safe[d] in safe[o] for o in found)]


@lru_cache(maxsize=8)
def _safe_names(departments: tuple[str, ...]) -> dict[str, str]:
    # Once per plan, not once per file: at 100x (298 departments, 298 files) this was 2.2 s of collect.
    return {d: normalize_code(safe_filename(d)) for d in departments}


SHEET_RULES: tuple[SheetRule, ...] = (rule_duplicates, rule_missing, rule_joint, rule_file_name)


def validate(ctx: Context, rows: Sequence[ReadRow]) -> tuple[list[Part], list[Problem]]:
    """Run every rule; the parts are meaningful only when no problem is an error."""
    problems: list[Problem] = []
    if ctx.submitter is None and not rows:  # an imported table with headings only
        first = ctx.definition.default_diff_column if ctx.definition is not None else None
        rating = ctx.definition.column(first).title if ctx.definition is not None and first else "事業評価"
        problems.append(ctx.at("table-empty", None, columns=f"事業No・担当課・{rating}"))
    resolved: list[Resolved] = []
    typed: dict[int, dict[str, object]] = {}
    for row in rows:
        found, unresolved = resolve(ctx, row)
        problems.extend(unresolved)
        if found is None:
            continue
        if ctx.definition is not None:
            values, found_problems = _evaluate(ctx, ctx.definition, found)
            problems.extend(found_problems)
            first = ctx.definition.default_diff_column
            code = values.get(first) if first else None
            texts = {k: "" if values.get(k) is None else str(values[k]) for k in ("achievement", "outlook")}
            found = dataclasses.replace(
                found,
                rating=str(code) if code else None,
                achievement=texts["achievement"] if "achievement" in values else "",
                outlook=texts["outlook"] if "outlook" in values else "",
            )
            typed[id(found)] = values
            resolved.append(found)
            continue
        resolved.append(found)
        for rule in ROW_RULES:
            problems.extend(rule(ctx, found))
    for sheet_rule in SHEET_RULES:
        problems.extend(sheet_rule(ctx, resolved))
    if ctx.definition is not None:
        problems.extend(joint_values(ctx, ctx.definition, resolved, typed))
    parts = [
        Part(
            r.plan_row.project_no,
            r.plan_row.department,
            r.submitter,
            r.rating or "",
            r.achievement,
            r.outlook,
            ctx.sheet,
            r.read.rating.ref,
            ctx.row_ids.get(r.plan_row.key),
            other_values=typed.get(id(r), {}),
            cells={k: c.ref for k, c in r.read.cells.items()},
        )
        for r in resolved
    ]
    return parts, problems


def _evaluate(
    ctx: Context, definition: SheetDefinition, r: Resolved
) -> tuple[dict[str, object], list[Problem]]:
    """A defined sheet's row: every typed department column read, computed, proposed and checked
    (:func:`hyoka.sheet.evaluate_row`); the typed values to store (not the computed or plan ones)."""
    cells = r.read.cells
    ev = evaluate_row(
        definition,
        {k: c.value for k, c in cells.items()},
        plan_values=r.plan_row.extra_values,
        year=ctx.year,
        cells={k: c.ref for k, c in cells.items()},
    )
    found = ev.problems
    if r.plan_row.is_joint and r.submitter:
        # One department's share of a summed 実績値 proposes for a share: the rule is checked on the
        # combined row (joint_values).
        found = [p for p in found if p.code != "rating-differs-from-proposal"]
    problems = [dataclasses.replace(p, file=ctx.file, sheet=ctx.sheet) for p in found]
    keys = {c.key for c in definition.input_columns}
    return {k: v for k, v in ev.values.items() if k in keys}, problems


def joint_values(
    ctx: Context,
    definition: SheetDefinition,
    rows: Sequence[Resolved],
    typed: Mapping[int, Mapping[str, object]],
) -> Iterator[Problem]:
    """A defined sheet's joint rows, per column (design §8): parts of this file that disagree on a
    column that must agree are an error (``joint-value-conflict``), a form's part that disagrees with
    another department's part in force a warning (``joint-value-differs``: corrections come in any
    order); the first rating column is rule_joint's. Once every department's part is there, the
    proposal is made and checked on the combined row (summed 実績値 → 達成率 → proposal)."""
    first = definition.default_diff_column
    mine: dict[RowKey, list[Resolved]] = {}
    for r in rows:
        if r.plan_row.is_joint and r.submitter:
            mine.setdefault(r.plan_row.key, []).append(r)
    for key, parts in mine.items():
        plan_row = parts[0].plan_row
        here = {r.submitter: typed.get(id(r), {}) for r in parts}
        stored: dict[str, Mapping[str, object]] = {}
        if ctx.submitter is not None:  # an import replaces the parts in force; a form joins them
            stored = {p.submitter: p.values for p in ctx.others.get(key, ()) if p.submitter not in here}
        cells = {k: c.ref for k, c in parts[0].read.cells.items()}
        inside = _conflicts(definition, plan_row.submitters, here, first)
        for conflict in inside:
            found = conflict.problem(definition, cells.get(conflict.column))
            yield dataclasses.replace(found, file=ctx.file, sheet=ctx.sheet)
        together = {**stored, **here}
        clashing = {c.column for c in inside}
        for conflict in _conflicts(definition, plan_row.submitters, together, first):
            if conflict.column in clashing:
                continue
            mine_value = next(v for who, v in conflict.values if who in here)
            theirs = next((who, v) for who, v in conflict.values if who not in here)
            yield ctx.at(
                "joint-value-differs",
                cells.get(conflict.column),
                no=plan_row.project_no,
                department=plan_row.department,
                column=definition.column(conflict.column).title,
                first=parts[0].submitter,
                first_value=mine_value,
                second=theirs[0],
                second_value=theirs[1],
            )
        if inside or any(s not in together for s in plan_row.submitters):
            continue  # the row is not whole yet: its proposal is checked when the last part comes in
        ordered = [(s, together[s]) for s in plan_row.submitters]
        ev = evaluate_joint(
            definition, ordered, plan_values=plan_row.extra_values, year=ctx.year, cells=cells
        )
        for found in ev.problems:
            yield dataclasses.replace(found, file=ctx.file, sheet=ctx.sheet)


def _conflicts(
    definition: SheetDefinition,
    submitters: Sequence[str],
    parts: Mapping[str, Mapping[str, object]],
    skip: str | None,
) -> list[JointConflict]:
    """The columns (but ``skip``, the first rating: rule_joint's) the parts disagree on."""
    ordered = [(s, parts[s]) for s in submitters if s in parts]
    return [c for c in joint_conflicts(combine_joint(definition, ordered)) if c.column != skip]


# --- the secretariat's second stage (issue 11 §13) ----------------------------------------------------


def validate_secretariat(
    ctx: Context,
    rows: Sequence[ReadRow],
    stored: Mapping[RowKey, Mapping[str, object]] | None = None,
) -> tuple[list[Part], list[Problem]]:
    """A secretariat import: each row's secretariat columns checked with their rules, one entry per row
    (submitter ``@secretariat``). A row whose secretariat cells are all blank is no entry (what is in
    force for it stays). ``stored`` — the departments' values as the secretariat's workbook showed them
    — makes a changed department cell a warning at the cell: the department's stored value counts."""
    definition = ctx.definition
    assert definition is not None
    keys = {c.key for c in definition.secretariat_columns}
    problems: list[Problem] = []
    if not rows:
        wanted = "・".join(c.title for c in definition.secretariat_columns)
        problems.append(ctx.at("table-empty", None, columns=f"事業No・担当課・{wanted}"))
    parts: list[Part] = []
    first: dict[RowKey, str] = {}
    entered: set[RowKey] = set()
    for row in rows:
        found, unresolved = resolve(ctx, row)
        problems.extend(unresolved)
        if found is None:
            continue
        key = found.plan_row.key
        if stored is not None:
            problems.extend(_department_cells_changed(ctx, definition, row, stored.get(key, {})))
        cells = {k: c for k, c in row.cells.items() if k in keys}
        if all(not clean_text(c.value).strip() for c in cells.values()):
            continue
        if key in first:
            problems.append(
                ctx.at(
                    "row-duplicate",
                    row.no.ref,
                    no=found.plan_row.project_no,
                    department=found.plan_row.department,
                    first_cell=first[key],
                )
            )
            continue
        first[key] = row.no.ref or f"{row.line}行目"
        ev = evaluate_row(
            definition,
            {k: c.value for k, c in cells.items()},
            plan_values=found.plan_row.extra_values,
            year=ctx.year,
            cells={k: c.ref for k, c in cells.items()},
            sources=("secretariat",),
        )
        problems.extend(dataclasses.replace(p, file=ctx.file, sheet=ctx.sheet) for p in ev.problems)
        entered.add(key)
        ref = next((c.ref for c in cells.values() if c.ref), None)
        parts.append(
            Part(
                found.plan_row.project_no,
                found.plan_row.department,
                SECRETARIAT_SUBMITTER,
                "",
                "",
                "",
                ctx.sheet,
                ref,
                ctx.row_ids.get(key),
                other_values={k: v for k, v in ev.values.items() if k in keys},
                cells={k: c.ref for k, c in cells.items()},
            )
        )
    absent = [r for r in ctx.plan.rows if r.key not in entered]
    if absent and rows:
        examples = "、".join(f"事業No.{r.project_no}（{r.department}）" for r in absent[:3])
        more = f" ほか{len(absent) - 3}行" if len(absent) > 3 else ""
        columns = "・".join(f"「{c.title}」" for c in definition.secretariat_columns)
        problems.append(
            ctx.at(
                "secretariat-rows-not-entered",
                None,
                count=len(absent),
                columns=columns,
                examples=examples + more,
            )
        )
    return parts, problems


def _department_cells_changed(
    ctx: Context, definition: SheetDefinition, row: ReadRow, stored: Mapping[str, object]
) -> Iterator[Problem]:
    for c in definition.input_columns:
        cell = row.cells.get(c.key)
        if cell is None or _same_value(cell.value, stored.get(c.key)):
            continue
        yield ctx.at(
            "secretariat-department-cell-changed",
            cell.ref,
            column=c.title,
            stored=clean_text(stored.get(c.key)).strip() or "（空欄）",
            value=clean_text(cell.value).strip() or "（空欄）",
        )


def _same_value(read: object, stored: object) -> bool:
    a, b = clean_text(read).strip(), clean_text(stored).strip()
    if a == b or normalize_code(a) == normalize_code(b):
        return True
    try:
        return float(normalize_code(a)) == float(normalize_code(b))
    except ValueError:
        return False
