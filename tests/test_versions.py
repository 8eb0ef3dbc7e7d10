"""Plan versions: row identity across versions, lineage, the change report, and store migration 5."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from hyoka.migrations_v5 import (
    COPY_SQL,
    FIRST_YEAR_SQL,
    INSERT_LEGACY_SQL,
    INSERT_ROW_SQL,
    INSERT_VERSION_SQL,
    LEGACY_KEYS_SQL,
    ROW_COLUMNS,
    SCHEMA_SQL,
    legacy_version,
    migration_params,
    record_from_db,
    statements,
)
from hyoka.plan import HEADINGS, Plan, build_plan
from hyoka.store import MIGRATIONS
from hyoka.tables import Table
from hyoka.versions import (
    H_OLD_DEPARTMENT,
    H_OLD_NO,
    Lineage,
    PlanVersion,
    accumulate_renames,
    adopt,
    adoption_blockers,
    first_version,
    match_rows,
    read_declared,
    read_extra,
    relink,
    render_changes,
    row_from_record,
    row_record,
    version_for,
)
from hyoka.years import FiscalYear
from tests.schema4 import Schema4

R4, R5, R6, R7, R8 = (FiscalYear(y) for y in range(2022, 2027))


def line(
    no: str,
    name: str,
    department: str,
    *,
    measure: str = "防災",
    old_no: str = "",
    old_dep: str = "",
    **more: str,
) -> dict[str, str]:
    return {
        "基本目標No": "1",
        "基本目標": "安全なまち",
        "基本施策": "災害に備える",
        "施策No": "1" if measure == "防災" else "2",
        "施策": measure,
        "事業No": no,
        "事業名": name,
        "新規": "",
        "担当課": department,
        "提出課": "",
        H_OLD_NO: old_no,
        H_OLD_DEPARTMENT: old_dep,
        **more,
    }


def table(*rows: dict[str, str]) -> Table:
    headings = list(dict.fromkeys(h for r in rows for h in (*HEADINGS, *r)))
    return Table("plan.csv", headings, 1, [(i, r) for i, r in enumerate(rows, start=2)])


def plan_of(t: Table) -> Plan:
    plan, problems = build_plan(t)
    assert plan is not None and not problems, problems
    return plan


BASE = (
    line("5", "自主防災組織の育成", "地域安全課"),
    line("6", "防犯体制の推進", "地域安全課"),
    line("9", "啓発活動の推進", "介護福祉課・広報秘書課"),
    line("10", "権利擁護事業の推進", "地域福祉課"),
    line("10", "権利擁護事業の推進", "介護福祉課"),
    line("37", "見守りの推進", "地域福祉課"),
)


def v1() -> PlanVersion:
    return first_version(plan_of(table(*BASE)), R5)


def next_version(
    previous: PlanVersion, *rows: dict[str, str], year: FiscalYear = R6, renames=(), history=(), name=""
):  # type: ignore[no-untyped-def]
    t = table(*rows)
    return adopt(
        previous,
        plan_of(t),
        version_id=previous.id + 1,
        from_year=year,
        next_row_id=max(r.row_id for v in (previous, *history) for r in v.rows) + 1,
        renames=renames,
        history=history,
        declared=read_declared(t.rows),
        extra=read_extra(t.rows),
        name=name,
    )


def ids(version: PlanVersion) -> dict[tuple[str, str], int]:
    return {r.row.key: r.row_id for r in version.rows}


def test_unchanged_rows_keep_their_ids_and_point_at_themselves() -> None:
    old = v1()
    new = next_version(old, *BASE)
    assert ids(new.version) == ids(old)
    assert all(r.predecessors == (r.row_id,) for r in new.version.rows)
    assert new.changes.empty and not new.problems
    assert render_changes(new.changes) == ["変更はありません。"]


def test_department_rename_declared_keeps_the_rows() -> None:
    old = v1()
    rows = [line(r["事業No"], r["事業名"], r["担当課"].replace("地域安全課", "防災危機管理課")) for r in BASE]
    new = next_version(old, *rows, renames=[("地域安全課", "防災危機管理課")])
    assert ids(new.version)[("5", "防災危機管理課")] == ids(old)[("5", "地域安全課")]
    assert ids(new.version)[("6", "防災危機管理課")] == ids(old)[("6", "地域安全課")]
    assert new.changes.departments_renamed == (("地域安全課", "防災危機管理課"),)
    assert new.changes.added == () and new.changes.dropped == ()
    assert new.version.renames == (("地域安全課", "防災危機管理課"),)
    assert [p.code for p in new.problems] == []
    assert render_changes(new.changes)[:2] == ["■ 課名の変更（1件）", "  地域安全課 → 防災危機管理課"]


def test_undeclared_rename_is_suspected_and_rows_do_not_carry_over() -> None:
    old = v1()
    rows = [line(r["事業No"], r["事業名"], r["担当課"].replace("地域安全課", "防災危機管理課")) for r in BASE]
    new = next_version(old, *rows)
    assert new.changes.suspected_renames == (("地域安全課", "防災危機管理課"),)
    assert [(r.no, r.department) for r in new.changes.dropped] == [("5", "地域安全課"), ("6", "地域安全課")]
    assert [(p.code, p.severity) for p in new.problems] == [("plan-rename-suspected", "warning")]
    assert "地域安全課＝防災危機管理課" in new.problems[0].message


def test_rename_of_an_unknown_department_is_an_error() -> None:
    new = next_version(v1(), *BASE, renames=[("防災課", "地域安全課")])
    assert [(p.code, "前の版" in p.message) for p in new.problems] == [("plan-rename-unknown", True)]


def test_renumbered_project_declared_with_old_no() -> None:
    old = v1()
    rows = [*BASE[:5], line("42", "見守りの推進", "地域福祉課", old_no="37")]
    new = next_version(old, *rows)
    assert ids(new.version)[("42", "地域福祉課")] == ids(old)[("37", "地域福祉課")]
    assert new.changes.renumbered == (("37", "42", "見守りの推進"),)
    assert new.changes.added == () and new.changes.dropped == ()


def test_unknown_declared_predecessor_is_an_error_with_its_line() -> None:
    rows = [*BASE[:5], line("42", "見守りの推進", "地域福祉課", old_no="73")]
    new = next_version(v1(), *rows)
    assert [(p.code, p.row) for p in new.problems] == [("plan-predecessor-unknown", 7)]
    assert "旧事業No「73」" in new.problems[0].message


def test_merge_of_two_departments_declared_with_separator() -> None:
    old = v1()
    rows = [
        *BASE[:3],
        line("10", "権利擁護事業の推進", "地域福祉課", old_dep="地域福祉課・介護福祉課"),
        BASE[5],
    ]
    new = next_version(old, *rows)
    merged = new.version.by_key[("10", "地域福祉課")]
    assert merged.predecessors == (ids(old)[("10", "地域福祉課")], ids(old)[("10", "介護福祉課")])
    assert merged.row_id not in ids(old).values()  # a merged row is a new identity
    ((into, parts),) = new.changes.merged
    assert (into.no, into.department) == ("10", "地域福祉課")
    assert [p.department for p in parts] == ["地域福祉課", "介護福祉課"]
    assert new.changes.dropped == ()


def test_split_keeps_the_id_on_the_same_row_and_links_the_other() -> None:
    old = v1()
    rows = [*BASE, line("38", "見守りネットワーク", "地域福祉課", old_no="37")]
    new = next_version(old, *rows)
    o37 = ids(old)[("37", "地域福祉課")]
    assert new.version.by_key[("37", "地域福祉課")].row_id == o37
    split_off = new.version.by_key[("38", "地域福祉課")]
    assert split_off.predecessors == (o37,) and split_off.row_id != o37
    ((source, parts),) = new.changes.split
    assert source.no == "37" and [p.no for p in parts] == ["37", "38"]


@pytest.mark.parametrize(
    "label", ["広報秘書課・介護福祉課", "介護福祉課、広報秘書課", "広報秘書課、介護福祉課"]
)
def test_joint_row_separator_and_order_do_not_change_its_identity(label: str) -> None:
    old = v1()
    rows = [*BASE[:2], line("9", "啓発活動の推進", label), *BASE[3:]]
    new = next_version(old, *rows)
    assert new.version.by_key[("9", label)].row_id == ids(old)[("9", "介護福祉課・広報秘書課")]
    ((before, after),) = new.changes.joint_changed
    assert (before.department, after.department) == ("介護福祉課・広報秘書課", label)
    assert new.changes.added == () and new.changes.dropped == ()


def test_the_same_joint_row_written_twice_is_a_duplicate() -> None:
    rows = [*BASE, line("9", "啓発活動の推進", "広報秘書課、介護福祉課")]
    new = next_version(v1(), *rows)
    assert [(p.code, p.row) for p in new.problems] == [("plan-duplicate-row", 8)]


def test_moved_and_renamed_project_is_one_row() -> None:
    old = v1()
    rows = [line("5", "自主防災組織の育成支援", "地域安全課", measure="地域づくり"), *BASE[1:]]
    new = next_version(old, *rows)
    assert new.version.by_key[("5", "地域安全課")].row_id == ids(old)[("5", "地域安全課")]
    assert new.changes.renamed == (("5", "自主防災組織の育成", "自主防災組織の育成支援"),)
    assert new.changes.moved == (("5", "自主防災組織の育成支援", "防災", "地域づくり"),)


def test_renames_accumulate_over_three_versions() -> None:
    assert accumulate_renames([[("A", "B")], [("B", "C")]]) == {"A": "C", "B": "C"}
    assert accumulate_renames([[("A", "B")], [("B", "A")]]) == {"B": "A"}
    first = v1()
    r6 = [line(r["事業No"], r["事業名"], r["担当課"].replace("介護福祉課", "高齢福祉課")) for r in BASE]
    second = next_version(first, *r6, renames=[("介護福祉課", "高齢福祉課")]).version
    # R7: 高齢福祉課 became 長寿福祉課; the row still descends from R5's 介護福祉課 row.
    r7 = [line(r["事業No"], r["事業名"], r["担当課"].replace("介護福祉課", "長寿福祉課")) for r in BASE]
    third = next_version(
        second, *r7, year=R7, renames=[("高齢福祉課", "長寿福祉課")], history=[first]
    ).version
    assert third.by_key[("10", "長寿福祉課")].row_id == ids(first)[("10", "介護福祉課")]
    assert third.by_key[("9", "長寿福祉課・広報秘書課")].row_id == ids(first)[("9", "介護福祉課・広報秘書課")]
    lineage = Lineage([first, second, third])
    rid = third.by_key[("10", "長寿福祉課")].row_id
    assert lineage.predecessors(rid, R7, R5) == (rid,)
    (chain,) = [c for c in lineage.history_chain([R5, R6, R7]) if c.row_id == rid]
    assert chain.row.department == "長寿福祉課"
    assert chain.earlier_labels == ("旧: 介護福祉課", "旧: 高齢福祉課")
    assert chain.years == (R5, R6, R7)


def test_prior_rating_follows_renumber_merge_and_split() -> None:
    old = v1()
    rows = [
        *BASE[:3],
        line("10", "権利擁護事業の推進", "地域福祉課", old_dep="地域福祉課・介護福祉課"),
        BASE[5],
        line("38", "見守りネットワーク", "地域福祉課", old_no="37"),
    ]
    new = next_version(old, *rows).version
    lineage = Lineage([old, new])
    o = ids(old)
    r5 = {o[("10", "地域福祉課")]: "A", o[("10", "介護福祉課")]: "B", o[("37", "地域福祉課")]: "C"}
    priors = lineage.priors(R6, {R5: r5})
    assert priors[new.by_key[("10", "地域福祉課")].row_id] == "A／B"
    assert priors[new.by_key[("38", "地域福祉課")].row_id] == "C"
    assert priors[new.by_key[("37", "地域福祉課")].row_id] == "C"
    assert lineage.prior_values(new.by_key[("10", "地域福祉課")].row_id, R6, {R5: r5}) == ("A", "B")
    # Same version both years: a row's prior is its own row.
    assert lineage.priors(R5, {R4: {o[("5", "地域安全課")]: "B"}}) == {o[("5", "地域安全課")]: "B"}


def test_dropped_row_keeps_its_name_in_history() -> None:
    old = v1()
    new = next_version(old, *BASE[:5]).version
    lineage = Lineage([old, new])
    chains = lineage.history_chain([R5, R6])
    dropped = chains[-1]
    assert (dropped.row.no, dropped.row.row.project_name, dropped.years) == ("37", "見守りの推進", (R5,))
    assert [c.row.no for c in chains[:-1]] == ["5", "6", "9", "10", "10"]


def test_version_for_boundaries() -> None:
    a = v1()
    b = PlanVersion(2, R7, a.rows)
    assert version_for([b, a], R4) is a  # the first version governs the years before it too
    assert version_for([b, a], R6) is a
    assert version_for([b, a], R7) is b
    assert version_for([b, a], R8) is b
    with pytest.raises(ValueError):
        version_for([], R5)


def test_adoption_blockers_list_stored_rows_without_a_place() -> None:
    old = v1()
    new = next_version(old, *BASE[:5], year=R5).version  # re-adopting R5 without No.37
    o = ids(old)
    stored = {R4: [o[("37", "地域福祉課")]], R5: [o[("5", "地域安全課")], o[("37", "地域福祉課")]]}
    blockers = adoption_blockers(stored, new.rows, R5, labels=old.by_id)
    assert [(b.year, b.no, b.department) for b in blockers] == [(R5, "37", "地域福祉課")]
    assert blockers[0].problem().code == "plan-stored-row-orphaned"
    assert "令和5年度に保存済みの事業No.37（地域福祉課）" in blockers[0].problem().message
    assert adoption_blockers(stored, new.rows, R5, until=R5) == ()


def test_readopting_a_year_keeps_the_ids_of_the_version_it_replaces() -> None:
    old = v1()
    second = next_version(old, *BASE, line("42", "新しい見守り", "地域福祉課")).version
    fixed_typo = [*BASE, line("42", "新しい見守り事業", "地域福祉課")]
    t = table(*fixed_typo)
    again = adopt(
        old,
        plan_of(t),
        version_id=3,
        from_year=R6,
        next_row_id=100,
        replacing=second,
        declared=read_declared(t.rows),
    ).version
    assert again.by_key[("42", "地域福祉課")].row_id == second.by_key[("42", "地域福祉課")].row_id
    stored = {R6: [r.row_id for r in second.rows]}
    assert adoption_blockers(stored, again.rows, R6) == ()


def test_plan_changes_report_added_and_dropped_rows() -> None:
    new = next_version(v1(), *BASE[:5], line("42", "新しい見守り", "地域福祉課"))
    assert [r.no for r in new.changes.added] == ["42"]
    assert [r.no for r in new.changes.dropped] == ["37"]
    assert render_changes(new.changes) == [
        "■ 追加される行（1件）",
        "  事業No.42 新しい見守り（地域福祉課）",
        "■ なくなる行（1件）",
        "  事業No.37 見守りの推進（地域福祉課）",
    ]


def test_extra_plan_columns_are_kept_with_the_row() -> None:
    t = table(*BASE[:1], line("6", "防犯体制の推進", "地域安全課", 指標="講習会の回数"))
    assert read_extra(t.rows) == {3: {"指標": "講習会の回数"}}


def test_row_records_round_trip() -> None:
    new = next_version(v1(), *BASE, line("38", "見守りネットワーク", "地域福祉課", old_no="37")).version
    for position, r in enumerate(new.rows):
        back = row_from_record(json.loads(json.dumps(row_record(new.id, position, r), ensure_ascii=False)))
        assert (back.row_id, back.row, back.predecessors, back.declared) == (
            r.row_id,
            r.row,
            r.predecessors,
            r.declared,
        )


def big(n: int, department: str) -> list[dict[str, str]]:
    """The 100x bench's size: 5,800 rows, 298 departments, 20 projects per 施策."""
    rows = []
    for i in range(1, n + 1):
        row = line(str(i), f"事業{i}", f"{department}{i % 298}課", measure=f"施策{i // 20}")
        row["施策No"] = str(i // 20)
        rows.append(row)
    return rows


def test_matching_5800_rows_is_linear() -> None:
    old = first_version(plan_of(table(*big(5800, "課"))), R5)
    new_plan = plan_of(table(*big(5800, "局")))
    renames = accumulate_renames([[(f"課{i}課", f"局{i}課") for i in range(298)]])
    start = time.process_time()
    matching = match_rows(old.rows, new_plan.rows, renames)
    elapsed = time.process_time() - start
    assert all(m.predecessors for m in matching.matches)
    # CPU time, not wall time: the machine is shared. A quadratic term at this size costs several
    # seconds; linear matching takes about 0.1 s. `make bench` holds the real targets.
    assert elapsed < 1.5, f"{elapsed:.2f} s of CPU for 5,800 rows"


# --- migration 5 on a schema-4 store written by today's store.py -----------------------------------------


def _migrate(conn: sqlite3.Connection, plan: Plan) -> None:
    """What Store._migrate will do for number 4 → 5 (the lead wires this into store.py)."""
    conn.execute("BEGIN IMMEDIATE")
    for s in statements(SCHEMA_SQL):
        conn.execute(s)
    keys = [tuple(r) for r in conn.execute(LEGACY_KEYS_SQL)]
    first = conn.execute(FIRST_YEAR_SQL).fetchone()[0]
    version, legacy = legacy_version(plan, keys, FiscalYear(first or R5.start))
    data = migration_params(version, legacy, source_file=plan.source, adopted_at="2026-12-01T10:00:00")
    conn.execute(INSERT_VERSION_SQL, data.version)
    conn.executemany(INSERT_ROW_SQL, data.rows)
    conn.executemany(INSERT_LEGACY_SQL, data.legacy)
    for s in statements(COPY_SQL):
        conn.execute(s)
    conn.execute("PRAGMA user_version = 5")
    conn.execute("COMMIT")


def _schema4_store(path: Path) -> None:
    """A schema-4 store as the release before plan versions wrote it (its own SQL, tests/schema4.py)."""
    old = Schema4(path)
    assert old.conn.execute("PRAGMA user_version").fetchone()[0] == 4
    old.add(
        R4,
        "",
        [("5", "地域安全課", "", "B", "", "", None, None), ("37", "地域福祉課", "", "C", "", "", None, None)],
        "import",
    )
    old.add(R5, "地域安全課", [("5", "地域安全課", "地域安全課", "A", "講習会", "継続", "調査票", "F12")])
    old.add(
        R5, "介護福祉課", [("9", "介護福祉課・広報秘書課", "介護福祉課", "B", "啓発", "", "調査票", "F12")]
    )
    old.add(
        R5, "広報秘書課", [("9", "介護福祉課・広報秘書課", "広報秘書課", "B", "広報", "", "調査票", "F12")]
    )
    old.add(R5, "地域福祉課", [("37", "地域福祉課", "地域福祉課", "A", "見守り", "拡充", "調査票", "F12")])
    old.add(
        R5,
        "地域福祉課",
        [("37", "地域福祉課", "地域福祉課", "B", "見守り（再提出）", "拡充", "調査票", "F12")],
        sha="again",
    )
    old.reject(R5, "地域安全課")
    old.close()


def test_schema4_store_migrates_to_schema5(tmp_path: Path) -> None:
    path = tmp_path / "hyoka.db"
    _schema4_store(path)
    # The plan file as the clerk left it: No.9's separator changed, No.37 dropped.
    plan = plan_of(table(*BASE[:2], line("9", "啓発活動の推進", "広報秘書課、介護福祉課"), *BASE[3:5]))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    before_entries = conn.execute(
        "SELECT id, submission_id, fiscal_year, project_no, department, submitter, rating, achievement, outlook,"
        " sheet, cell FROM entries ORDER BY id"
    ).fetchall()
    before_current = conn.execute("SELECT fiscal_year, entry_id FROM current ORDER BY entry_id").fetchall()
    before_submissions = conn.execute("SELECT * FROM submissions ORDER BY id").fetchall()
    _migrate(conn, plan)

    assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT * FROM submissions ORDER BY id").fetchall() == before_submissions
    (version,) = conn.execute(
        "SELECT id, from_year, source_file, fingerprint, renames FROM plan_versions"
    ).fetchall()
    assert version == (1, R4.start, "plan.csv", plan.fingerprint, "[]")
    rows = [
        row_from_record(record_from_db(r))
        for r in conn.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM plan_rows ORDER BY position")
    ]
    assert [(r.row_id, r.no, r.department, r.dropped) for r in rows] == [
        (1, "5", "地域安全課", False),
        (2, "6", "地域安全課", False),
        (3, "9", "広報秘書課、介護福祉課", False),
        (4, "10", "地域福祉課", False),
        (5, "10", "介護福祉課", False),
        (6, "37", "地域福祉課", True),
    ]
    after = conn.execute(
        "SELECT id, submission_id, fiscal_year, row_id, department, submitter, values_json, sheet, cell"
        " FROM entries ORDER BY id"
    ).fetchall()
    row_of = {"5": 1, "9": 3, "37": 6}
    assert [
        (i, s, fy, row_of[no], dep, sub, {"rating": r, "achievement": a, "outlook": o}, sh, c)
        for i, s, fy, no, dep, sub, r, a, o, sh, c in before_entries
    ] == [(i, s, fy, rid, dep, sub, json.loads(v), sh, c) for i, s, fy, rid, dep, sub, v, sh, c in after]
    current = conn.execute(
        "SELECT fiscal_year, row_id, submitter, entry_id FROM current ORDER BY entry_id"
    ).fetchall()
    assert [(fy, eid) for fy, _, _, eid in current] == before_current
    assert [(fy, rid, sub) for fy, rid, sub, _ in current] == [
        (R4.start, 1, ""),
        (R4.start, 6, ""),
        (R5.start, 1, "地域安全課"),
        (R5.start, 3, "介護福祉課"),
        (R5.start, 3, "広報秘書課"),
        (R5.start, 6, "地域福祉課"),
    ]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"submissions", "entries", "current", "plan_versions", "plan_rows"}
    conn.close()


def test_empty_schema4_store_migrates_with_the_plan_as_version_1() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for number in range(4):
        for statement in statements(MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    plan = plan_of(table(*BASE))
    _migrate(conn, plan)
    assert conn.execute("SELECT COUNT(*), MIN(dropped), MAX(dropped) FROM plan_rows").fetchone() == (6, 0, 0)
    assert conn.execute("SELECT from_year FROM plan_versions").fetchone() == (R5.start,)


def test_stale_old_name_in_a_later_file_still_matches_through_accumulated_renames() -> None:
    first = v1()
    r6 = [line(r["事業No"], r["事業名"], r["担当課"].replace("介護福祉課", "高齢福祉課")) for r in BASE]
    second = next_version(first, *r6, renames=[("介護福祉課", "高齢福祉課")]).version
    # R7's file was edited from an old copy: No.10 still names the R5 department.
    r7 = [*r6[:4], line("10", "権利擁護事業の推進", "介護福祉課"), r6[5]]
    third = next_version(second, *r7, year=R7, history=[first])
    assert third.version.by_key[("10", "介護福祉課")].row_id == ids(first)[("10", "介護福祉課")]
    assert third.changes.added == () and third.changes.dropped == ()


def test_readopting_keeps_the_renames_declared_with_the_replaced_version() -> None:
    first = v1()
    r6 = [line(r["事業No"], r["事業名"], r["担当課"].replace("地域安全課", "防災危機管理課")) for r in BASE]
    second = next_version(first, *r6, renames=[("地域安全課", "防災危機管理課")]).version
    t = table(*r6)
    again = adopt(first, plan_of(t), version_id=3, from_year=R6, next_row_id=100, replacing=second)
    assert again.version.renames == (("地域安全課", "防災危機管理課"),)
    assert again.changes.departments_renamed == (("地域安全課", "防災危機管理課"),)
    assert ids(again.version) == ids(second)


def test_rows_that_ended_are_the_removed_ones() -> None:
    old = v1()
    new = next_version(old, *BASE[:5], line("42", "新しい見守り", "地域福祉課")).version
    assert Lineage([old, new]).ended(R6) == (ids(old)[("37", "地域福祉課")],)
    assert Lineage([old, new]).ended(R5) == ()


def test_second_city_runs_three_years_with_a_reorganisation_in_the_middle() -> None:
    from hyoka.tables import read_table

    source = read_table(Path(__file__).parent / "data" / "midori" / "plan.csv", "事業No")
    first = first_version(plan_of(source), R5)
    r6_rows = []
    for _, cells in source.rows:
        cells = dict(cells)
        cells["担当課"] = cells["担当課"].replace("危機管理室", "防災課")
        if cells["事業No"] == "B-2":
            cells["事業No"], cells[H_OLD_NO] = "B-5", "B-2"
        r6_rows.append(cells)
    adopted_r6 = next_version(first, *r6_rows, renames=[("危機管理室", "防災課")])
    # R7 adopts the same working copy: its 旧事業No (B-2) is last year's declaration, now moot.
    adopted_r7 = next_version(adopted_r6.version, *r6_rows, year=R7, history=[first], name="第2期")
    assert adopted_r6.problems == () and adopted_r7.problems == ()
    assert adopted_r7.changes.empty
    second, third = adopted_r6.version, adopted_r7.version
    assert ids(second).keys() == ids(third).keys() and len(ids(third)) == len(first.rows)
    lineage = Lineage([first, second, third])
    r5 = {r.row_id: "B" for r in first.rows}
    assert set(lineage.priors(R6, {R5: r5})) == {r.row_id for r in second.rows}
    rid = third.by_key[("B-5", "学校教育課")].row_id
    assert rid == ids(first)[("B-2", "学校教育課")]
    assert lineage.predecessors(rid, R7, R5) == (rid,)
    chain = {c.row_id: c for c in lineage.history_chain([R5, R6, R7])}
    assert len(chain) == len(first.rows)
    assert chain[rid].earlier_labels == ("旧: No.B-2",)
    assert chain[third.by_key[("A-3", "防災課")].row_id].earlier_labels == ("旧: 危機管理室",)
    assert third.label == "第2期（R7〜）"


def test_lineage_over_5800_rows_is_linear() -> None:
    rows = big(5800, "課")
    first = first_version(plan_of(table(*rows)), R5)
    second = next_version(first, *rows).version
    third = next_version(second, *rows, year=R7, history=[first]).version
    lineage = Lineage([first, second, third])
    values = {R5: {r.row_id: "A" for r in first.rows}}
    start = time.process_time()
    priors = lineage.priors(R7, values, R5)
    chains = lineage.history_chain([R5, R6, R7])
    elapsed = time.process_time() - start
    assert len(priors) == 5800 and len(chains) == 5800
    assert elapsed < 1.5, f"{elapsed:.2f} s of CPU"  # a sanity bound, as above


def test_rename_into_a_department_the_project_already_has_is_a_merge() -> None:
    old = v1()
    # 介護福祉課 folds into 地域福祉課: No.10 had both, No.9's joint row keeps its other department.
    rows = [*BASE[:2], line("9", "啓発活動の推進", "地域福祉課・広報秘書課"), BASE[3], BASE[5]]
    new = next_version(old, *rows, renames=[("介護福祉課", "地域福祉課")])
    o = ids(old)
    assert new.version.by_key[("10", "地域福祉課")].predecessors == (
        o[("10", "地域福祉課")],
        o[("10", "介護福祉課")],
    )
    assert new.version.by_key[("9", "地域福祉課・広報秘書課")].row_id == o[("9", "介護福祉課・広報秘書課")]
    assert [(m.no, len(p)) for m, p in new.changes.merged] == [("10", 2)]
    assert new.changes.departments_renamed == (("介護福祉課", "地域福祉課"),)
    assert new.changes.dropped == () and new.problems == ()


def test_relink_after_inserting_a_version_between_two() -> None:
    first = v1()
    r7 = [line(r["事業No"], r["事業名"], r["担当課"].replace("地域安全課", "防災課")) for r in BASE]
    later = next_version(first, *r7, year=R7, renames=[("地域安全課", "防災課")]).version
    # R6 is adopted afterwards with a renumber: R7's rows must now descend from R6's.
    r6 = [*BASE[:5], line("42", "見守りの推進", "地域福祉課", old_no="37")]
    middle = next_version(first, *r6, year=R6).version
    relinked = relink(middle, later, accumulate_renames([later.renames]))
    assert [r.row_id for r in relinked.rows] == [r.row_id for r in later.rows]
    lineage = Lineage([first, middle, relinked])
    o37 = ids(first)[("37", "地域福祉課")]
    assert middle.by_key[("42", "地域福祉課")].row_id == o37
    # R7's file still says No.37: by its id it is the row R6 calls No.42 (both continue R5's No.37).
    assert lineage.predecessors(later.by_key[("37", "地域福祉課")].row_id, R7) == (o37,)
    five = later.by_key[("5", "防災課")].row_id
    assert lineage.predecessors(five, R7) == (ids(first)[("5", "地域安全課")],)
    assert all(r.predecessors for r in relinked.rows)
