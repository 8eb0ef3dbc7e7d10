"""Plan versions wired into the commands (issue 10): adopt, lineage across years, the closed year."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from hyoka.results import load_year, prior_ratings
from hyoka.store import SCHEMA_VERSION, Part
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import SAMPLE, load_sample_years, read_csv
from tests.helpers import ratings, store_import

R4, R5, R6, R7 = FiscalYear(2022), FiscalYear(2023), FiscalYear(2024), FiscalYear(2025)
RENAME = "地域安全課=防災危機管理課"
GOLDEN = Path(__file__).parent / "data" / "golden"


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    """The command's standard output (notices go to standard error)."""
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def _json(run, *args: str | Path) -> object:  # type: ignore[no-untyped-def]
    return json.loads(_ok(run(*args, "--json") if args[0] in ("status",) else run(*args)))


def _store(ws: Workspace, year: FiscalYear, rows: list[tuple[str, str, str]], sha: str | None = None) -> None:
    """Ratings stored whole for ``year`` (as an import), rows named by the labels of its version."""
    store_import(ws, year, ratings(rows), sha=sha)


def _store_r6(ws: Workspace) -> None:
    """The sample's invented R6 entries, as the departments' parts."""
    parts = [
        Part(
            r["事業No"],
            r["担当課"],
            r["提出課"],
            r["事業評価"],
            r["事業実績・評価理由"],
            r["今後の事業計画・展望"],
        )
        for r in read_csv(SAMPLE / "entries_R6.csv")
    ]
    with ws.store() as store:
        store.add_submission(
            year=R6,
            submitter="",
            kind="import",
            file_name="entries_R6.csv",
            file_path="entries_R6.csv",
            sha256="r6",
            parts=parts,
            replace_rows=True,
        )


def _r5_views(run, root: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What R5 looks like through every command that shows a year."""
    status = run("status", "--year", "R5", "--json", "-w", root)
    assert status.exit_code == 0, status.output
    history = json.loads(_ok(run("history", "-f", "json", "-w", root)))
    return {
        # History is under the latest labels; what it says of R4 and R5 must not move.
        "history": sorted(
            (r["ratings"]["R4"] or "", r["ratings"]["R5"] or "")
            for r in history
            if r["ratings"]["R4"] or r["ratings"]["R5"]
        ),
        "status": json.loads(status.stdout),
        "diff": json.loads(_ok(run("diff", "--year", "R5", "--all", "-f", "json", "-w", root))),
        "plan": _ok(run("plan", "show", "--year", "R5", "-w", root)).split("\n", 1)[1],
    }


def _adopt_r6(ws: Workspace, run) -> str:  # type: ignore[no-untyped-def]
    shutil.copy2(SAMPLE / "plan_R6.csv", ws.config.plan_file)
    return _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "--rename", RENAME, "-w", ws.root))


# --- adopt: the change report, the dry run, the golden transcript --------------------------------------


def test_adopt_dry_run_prints_the_changes_and_stores_nothing(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    shutil.copy2(SAMPLE / "plan_R6.csv", ws.config.plan_file)
    before = (ws.store_path.read_bytes(), ws.store_path.stat().st_mtime)
    result = run("plan", "adopt", "plan.csv", "--from", "R6", "--dry-run", "-w", ws.root)
    assert result.exit_code == 0, result.output
    assert (ws.store_path.read_bytes(), ws.store_path.stat().st_mtime) == before
    expected = (GOLDEN / "plan_adopt_dry_run.txt").read_text(encoding="utf-8")
    assert result.output == expected
    with_rename = _ok(
        run("plan", "adopt", "plan.csv", "--from", "R6", "--rename", RENAME, "--dry-run", "-w", ws.root)
    )
    assert "■ 課名の変更（1件）\n  地域安全課 → 防災危機管理課\n" in with_rename
    assert "未登録" not in with_rename and "--rename" not in with_rename


def test_adopt_stores_the_version_and_plan_versions_lists_it(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    out = _adopt_r6(ws, run)
    assert out.splitlines()[-1] == "令和6年度からの版として採用しました（版 2、行 57）。"
    data = json.loads(_ok(run("plan", "versions", "--json", "-w", ws.root)))
    assert data["schema"] == "hyoka.versions/1"
    assert [(v["id"], v["from"], v["rows"], v["file"], v["renames"]) for v in data["versions"]] == [
        (1, "R4", 57, "plan.csv", []),
        (2, "R6", 57, "plan.csv", [["地域安全課", "防災危機管理課"]]),
    ]
    ws = Workspace.load(ws.root)
    assert ws.version(R5).id == 1 and ws.version(R6).id == 2 and ws.version(R7).id == 2
    assert ("42", "地域福祉課") in ws.version(R6).plan.by_key
    assert ("37", "地域福祉課") in ws.version(R5).plan.by_key


# --- rename + renumber between two years: 前年度, diff, history -------------------------------------------


def test_rename_and_renumber_keep_the_prior_year(sample_ws_loaded: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _adopt_r6(ws, run)
    with ws.store() as store:
        prior = prior_ratings(store, R6)
    r5 = {(r["事業No"], r["担当課"]): r["事業評価"] for r in read_csv(SAMPLE / "entries_R5.csv")}
    assert prior[("42", "地域福祉課")] == r5[("37", "地域福祉課")] == "D"
    assert prior[("5", "防災危機管理課")] == r5[("5", "地域安全課")]
    assert ("43", "地域福祉課") not in prior  # new: no prior
    assert len(prior) == 56
    # The R6 form of 防災危機管理課 carries its R5 ratings in 前年度事業評価.
    import openpyxl

    from hyoka.forms import write_forms
    from tests.helpers import header_of

    (path,) = write_forms(Workspace.load(ws.root), R6, tmp_path / "forms", department="防災危機管理課")
    sheet = openpyxl.load_workbook(path)["調査票"]
    header, roles = header_of(sheet)
    assert [sheet.cell(header + i, roles["prior"]).value for i in (1, 2)] == [
        r5[("5", "地域安全課")],
        r5[("6", "地域安全課")],
    ]


def test_diff_across_the_rename_is_one_row_per_row(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _adopt_r6(ws, run)
    _store_r6(ws)
    records = json.loads(_ok(run("diff", "--year", "R6", "--all", "-f", "json", "-w", ws.root)))
    by = {(r["no"], r["department"], r["change"]): r for r in records}
    assert by[("42", "地域福祉課", "up")] == {
        "no": "42",
        "project": "地域福祉活動への補助（仮称）",
        "department": "地域福祉課",
        "before": "D",
        "after": "C",
        "change": "up",
        "before_no": "37",
        "before_department": "地域福祉課",
    }
    five = by[("5", "防災危機管理課", "down")]
    assert (five["before"], five["after"], five["before_no"], five["before_department"]) == (
        "A",
        "B",
        "5",
        "地域安全課",
    )
    assert by[("6", "防災危機管理課", "same")]["before_department"] == "地域安全課"
    assert by[("43", "地域福祉課", "new")]["before"] is None
    removed = by[("28", "地域福祉課", "removed")]
    assert (removed["project"], removed["before"], removed["after"]) == ("路上生活者への自立支援", "B", None)
    assert not any(r["change"] == "new" and r["no"] in ("5", "6", "42") for r in records)
    assert not any(r["no"] == "37" for r in records)
    table = _ok(run("diff", "--year", "R6", "-w", ws.root))
    (line42,) = [line for line in table.splitlines() if line.split()[:1] == ["42"]]
    assert line42.split()[-2:] == ["旧:", "No.37"]
    assert len(records) == 58  # 56 continued, 1 new, 1 removed
    unchanged = [r for r in records if r["change"] == "same" and "before_no" not in r]
    assert all(set(r) == {"no", "project", "department", "before", "after", "change"} for r in unchanged)


def test_history_is_one_line_per_row_under_its_latest_labels(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _adopt_r6(ws, run)
    _store_r6(ws)
    records = json.loads(_ok(run("history", "-f", "json", "-w", ws.root)))
    assert len(records) == 58  # 57 rows of R6, and No.28 dropped at R6 (its years kept)
    by = {(r["no"], r["department"]): r for r in records}
    assert by[("42", "地域福祉課")]["ratings"] == {"R4": "D", "R5": "D", "R6": "C"}
    assert by[("42", "地域福祉課")]["note"] == "旧: No.37"
    assert by[("5", "防災危機管理課")]["note"] == "旧: 地域安全課"
    assert by[("28", "地域福祉課")]["ratings"] == {"R4": "B", "R5": "B", "R6": None}
    assert ("37", "地域福祉課") not in by and ("5", "地域安全課") not in by
    # Filtering by an earlier label finds the row too.
    (old,) = json.loads(
        _ok(run("history", "--department", "地域安全課", "--no", "5", "-f", "json", "-w", ws.root))
    )
    assert old["department"] == "防災危機管理課"


def test_stored_returns_keep_the_department_that_sent_them(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _adopt_r6(ws, run)
    status = run("status", "--year", "R5", "--json", "-w", ws.root)
    names = [d["department"] for d in json.loads(status.stdout)["departments"]]
    assert "地域安全課" in names and "防災危機管理課" not in names
    r6 = run("status", "--year", "R6", "--json", "-w", ws.root)
    names6 = [d["department"] for d in json.loads(r6.stdout)["departments"]]
    assert "防災危機管理課" in names6 and "地域安全課" not in names6


# --- the closed year stays closed -------------------------------------------------------------------------


def test_r5_is_unchanged_by_adopting_r6(sample_ws_loaded: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    before = _r5_views(run, ws.root)
    report_before = _report_content(ws, run, tmp_path / "before")
    _adopt_r6(ws, run)
    _store_r6(ws)
    assert _r5_views(run, ws.root) == before
    assert _report_content(ws, run, tmp_path / "after") == report_before


def _report_content(ws: Workspace, run, out: Path) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The R5 evaluation table's cells, as text (the document's content, not its bytes)."""
    import docx

    _ok(run("report", "--year", "R5", "--out", out, "-w", ws.root))
    (path,) = [p for p in out.glob("*.docx") if "資料1" in p.name or "評価表" in p.name][:1]
    document = docx.Document(str(path))
    return [[c.text for c in row.cells] for table in document.tables for row in table.rows]


def test_editing_the_plan_file_in_place_leaves_r5_unchanged_and_is_reported(
    sample_ws_loaded: Workspace, run
) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    before = _r5_views(run, ws.root)
    text = ws.config.plan_file.read_text(encoding="utf-8-sig")
    ws.config.plan_file.write_text(text.replace("地域安全課", "防災危機管理課"), encoding="utf-8-sig")
    after = _r5_views(run, ws.root)
    assert after == before
    result = run("status", "--year", "R5", "-w", ws.root)
    notice = "計画マスタ「plan.csv」は、採用済みの最新の版（R4〜）と内容が異なります。"
    assert result.output.count(notice) == 1, result.output
    assert "採用するには: hyoka plan adopt plan.csv --from R" in result.output


def test_a_plan_adopted_from_another_file_makes_the_working_copy_an_earlier_version_s(
    sample_ws_loaded: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # As the browser's 計画 page adopts: from an uploaded file, hyoka.toml's plan file untouched.
    ws = sample_ws_loaded
    uploaded = tmp_path / "計画_R6.csv"
    shutil.copy2(SAMPLE / "plan_R6.csv", uploaded)
    _ok(run("plan", "adopt", uploaded, "--from", "R6", "--rename", RENAME, "-w", ws.root))
    result = run("status", "--year", "R6", "-w", ws.root)
    notices = [line for line in result.output.splitlines() if "plan-working-copy" in line]
    assert notices == [
        "[お知らせ] plan-working-copy-older: 計画マスタ「plan.csv」は前の版（R4〜）のものです。最新の版（R6〜）は"
        "ファイル「計画_R6.csv」から採用されています。次に計画を改正するときは「計画_R6.csv」をもとにしてください"
        "（hyoka.toml の [plan] の file をそのファイルにすると、この表示は出なくなります）。"
    ]
    assert "採用するには" not in result.output  # adopting plan.csv again would undo the new version
    shutil.copy2(uploaded, ws.config.plan_file)
    assert "plan-working-copy" not in run("status", "--year", "R6", "-w", ws.root).output


# --- adopting for a year with returns ---------------------------------------------------------------------


def test_adopting_for_a_year_with_returns_is_refused_unless_forced(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    with ws.store() as store:
        counts = store.counts()
    lines = ws.config.plan_file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    without_37 = [line for line in lines if ",37," not in line]
    fixed = ws.root / "plan_fixed.csv"
    fixed.write_text("".join(without_37), encoding="utf-8-sig")
    refused = run("plan", "adopt", fixed, "--from", "R5", "-w", ws.root)
    assert refused.exit_code == 1
    assert (
        "令和5年度に保存済みの事業No.37（地域福祉課）の評価が、新しい版の計画のどの行にも引き継がれません。"
        in refused.output
    )
    assert "--force を付けると採用します" in refused.output
    with ws.store() as store:
        assert store.counts() == counts and len(store.versions()) == 1
    forced = run("plan", "adopt", fixed, "--from", "R5", "--force", "-w", ws.root)
    assert forced.exit_code == 0, forced.output
    with ws.store() as store:
        assert store.counts() == counts  # nothing stored is deleted
        assert [v.from_year for v in store.versions()] == [R4, R5]
        assert ("37", "地域福祉課") not in load_year(store, store.version_for(R5).plan, R5)
        assert ("37", "地域福祉課") in load_year(store, store.version_for(R4).plan, R4)
    # Re-adopting the file that has the row brings its returns back.
    again = run("plan", "adopt", SAMPLE / "plan.csv", "--from", "R5", "-w", ws.root)
    assert again.exit_code == 0, again.output
    with ws.store() as store:
        assert load_year(store, store.version_for(R5).plan, R5)[("37", "地域福祉課")].rating == "D"


def test_re_adopting_a_year_fixes_a_typo_and_keeps_the_rows(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _adopt_r6(ws, run)
    _store_r6(ws)
    text = ws.config.plan_file.read_text(encoding="utf-8-sig").replace(
        "地域の居場所づくりの推進", "地域の居場所づくり"
    )
    ws.config.plan_file.write_text(text, encoding="utf-8-sig")
    _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", ws.root))
    data = json.loads(_ok(run("plan", "versions", "--json", "-w", ws.root)))
    assert [v["from"] for v in data["versions"]] == ["R4", "R6"]
    assert data["versions"][1]["renames"] == [["地域安全課", "防災危機管理課"]]  # kept from the replaced one
    records = json.loads(_ok(run("diff", "--year", "R6", "-f", "json", "-w", ws.root)))
    assert {r["project"] for r in records if r["no"] == "43"} == {"地域の居場所づくり"}
    assert any(r["before_no"] == "37" for r in records if r.get("before_no"))


# --- joint rows: separator and order ----------------------------------------------------------------------


def test_joint_row_separator_change_keeps_its_identity(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    text = ws.config.plan_file.read_text(encoding="utf-8-sig")
    ws.config.plan_file.write_text(
        text.replace("介護福祉課・広報秘書課", "広報秘書課、介護福祉課"), encoding="utf-8-sig"
    )
    dry = _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "--dry-run", "-w", ws.root))
    assert "■ 共同で報告する行の変更（1件）" in dry and "■ 追加される行" not in dry
    _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", ws.root))
    with ws.store() as store:
        prior = prior_ratings(store, R6)
        r5 = load_year(store, store.version_for(R5).plan, R5)
    assert prior[("9", "広報秘書課、介護福祉課")] == r5[("9", "介護福祉課・広報秘書課")].rating == "A"


# --- merge and split (the second city) ----------------------------------------------------------------------


def _midori_table(ws: Workspace) -> tuple[list[str], list[dict[str, str]]]:
    with ws.config.plan_file.open(encoding="cp932", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_midori(ws: Workspace, fields: list[str], rows: list[dict[str, str]]) -> None:
    with ws.config.plan_file.open("w", encoding="cp932", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_merge_and_split(midori_ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = midori_ws
    _store(
        ws,
        R5,
        [
            ("A-1", "高齢福祉課", "A"),
            ("A-1", "障がい福祉課", "S"),
            ("B-3", "福祉総務課(社会福祉協議会)", "B"),
        ],
    )
    fields, rows = _midori_table(ws)
    fields = [*fields, "旧事業No", "旧担当課"]
    merged = {
        **rows[0],
        "担当課": "高齢福祉課・障がい福祉課",
        "旧事業No": "",
        "旧担当課": "高齢福祉課・障がい福祉課",
    }
    b3 = next(r for r in rows if r["事業No"] == "B-3")
    b4 = {**b3, "事業No": "B-4", "事業名": "くらしの相談（出張窓口）", "旧事業No": "B-3", "旧担当課": ""}
    new_rows = [merged, *[r for r in rows[2:]], b4]
    for r in new_rows:
        r.setdefault("旧事業No", "")
        r.setdefault("旧担当課", "")
    _write_midori(ws, fields, new_rows)
    dry = _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "--dry-run", "-w", ws.root))
    assert "■ 統合（1件）" in dry and "■ 分割（1件）" in dry
    _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "-w", ws.root))
    with ws.store() as store:
        prior = prior_ratings(store, R6)
    assert prior[("A-1", "高齢福祉課・障がい福祉課")] == "A／S"
    assert prior[("B-3", "福祉総務課(社会福祉協議会)")] == prior[("B-4", "福祉総務課(社会福祉協議会)")] == "B"
    _store(
        ws,
        R6,
        [
            ("A-1", "高齢福祉課・障がい福祉課", "A"),
            ("B-3", "福祉総務課(社会福祉協議会)", "A"),
            ("B-4", "福祉総務課(社会福祉協議会)", "B"),
        ],
    )
    records = json.loads(_ok(run("diff", "--year", "R6", "--all", "-f", "json", "-w", ws.root)))
    by = {(r["no"], r["department"]): r for r in records}
    a1 = by[("A-1", "高齢福祉課・障がい福祉課")]
    assert (a1["before"], a1["after"], a1["change"]) == ("A／S", "A", "merged")
    assert a1["before_department"] == "高齢福祉課・障がい福祉課"
    assert (
        by[("B-3", "福祉総務課(社会福祉協議会)")]["change"],
        by[("B-4", "福祉総務課(社会福祉協議会)")]["change"],
    ) == ("up", "same")
    assert by[("B-4", "福祉総務課(社会福祉協議会)")]["before_no"] == "B-3"
    table = _ok(run("diff", "--year", "R6", "-w", ws.root))
    assert "統合" in table


def test_second_city_runs_three_years_with_a_reorganisation_in_the_middle(midori_ws: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = midori_ws
    fields, rows = _midori_table(ws)
    _store(ws, R5, [(r["事業No"], r["担当課"], "A") for r in rows])
    # R6: 危機管理室 becomes 防災課, B-2 is renumbered B-5.
    fields = [*fields, "旧事業No"]
    r6 = []
    for r in rows:
        r = {**r, "担当課": r["担当課"].replace("危機管理室", "防災課"), "旧事業No": ""}
        if r["事業No"] == "B-2":
            r["事業No"], r["旧事業No"] = "B-5", "B-2"
        r6.append(r)
    _write_midori(ws, fields, r6)
    _ok(run("plan", "adopt", "plan.csv", "--from", "R6", "--rename", "危機管理室=防災課", "-w", ws.root))
    _store(ws, R6, [(r["事業No"], r["担当課"], "B" if r["事業No"] == "B-5" else "A") for r in r6])
    # R7 adopts the same working copy (its 旧事業No is last year's declaration, now moot).
    dry = _ok(run("plan", "adopt", "plan.csv", "--from", "R7", "--name", "第2期", "--dry-run", "-w", ws.root))
    assert "変更はありません。" in dry
    _ok(run("plan", "adopt", "plan.csv", "--from", "R7", "--name", "第2期", "-w", ws.root))
    _store(ws, R7, [(r["事業No"], r["担当課"], "S" if r["事業No"] == "B-5" else "A") for r in r6])
    history = json.loads(_ok(run("history", "-f", "json", "-w", ws.root)))
    assert len(history) == len(rows)
    by = {(r["no"], r["department"]): r for r in history}
    assert by[("B-5", "学校教育課")]["ratings"] == {"R5": "A", "R6": "B", "R7": "S"}
    assert by[("B-5", "学校教育課")]["note"] == "旧: No.B-2"
    assert by[("A-3", "防災課")]["note"] == "旧: 危機管理室"
    across = json.loads(_ok(run("diff", "--year", "R7", "--against", "R5", "-f", "json", "-w", ws.root)))
    (b5,) = [r for r in across if r["no"] == "B-5"]
    assert (b5["before"], b5["after"], b5["change"], b5["before_no"]) == ("A", "S", "up", "B-2")
    versions = _ok(run("plan", "versions", "-w", ws.root))
    assert "第2期" in versions
    with ws.store() as store:
        assert prior_ratings(store, R7)[("B-5", "学校教育課")] == "B"


# --- the schema-4 store migrates ------------------------------------------------------------------------------


def _schema4_sample(root: Path) -> None:
    """The sample's R4 ratings and R5 entries, written by the release before plan versions."""
    from tests.schema4 import Schema4

    old = Schema4(root / "hyoka.db")
    old.add(
        R4,
        "",
        [
            (r["事業No"], r["担当課"], "", r["事業評価"], "", "", None, None)
            for r in read_csv(SAMPLE / "ratings_R4.csv")
        ],
        "import",
    )
    by_submitter: dict[str, list[tuple[str, str, str, str, str, str, str | None, str | None]]] = {}
    for r in read_csv(SAMPLE / "entries_R5.csv"):
        by_submitter.setdefault(r["提出課"], []).append(
            (
                r["事業No"],
                r["担当課"],
                r["提出課"],
                r["事業評価"],
                r["事業実績・評価理由"],
                r["今後の事業計画・展望"],
                "調査票",
                "F12",
            )
        )
    for submitter, rows in by_submitter.items():
        old.add(R5, submitter, rows)
    old.close()


def test_schema4_store_migrates_and_every_view_is_the_same(sample_ws: Workspace, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    migrated = sample_ws
    migrated.store_path.unlink()
    _schema4_sample(migrated.root)
    fresh = Workspace.load(
        shutil.copytree(SAMPLE, tmp_path / "fresh", ignore=shutil.ignore_patterns("returned", "*.db"))
    )
    load_sample_years(fresh)  # the same rows stored through today's store

    def views(ws: Workspace) -> dict[str, object]:
        out: dict[str, object] = {}
        for year in ("R4", "R5"):
            status = run("status", "--year", year, "--json", "-w", ws.root)
            out[f"status {year}"] = [
                (d["department"], d["state"], d["accepted"]) for d in json.loads(status.stdout)["departments"]
            ]
        out["diff"] = json.loads(_ok(run("diff", "--year", "R5", "--all", "-f", "json", "-w", ws.root)))
        out["history"] = json.loads(_ok(run("history", "-f", "json", "-w", ws.root)))
        with ws.store() as store:
            for fy in (R4, R5):
                out[f"results {fy.short}"] = load_year(store, store.version_for(fy).plan, fy)
        return out

    got = views(migrated)
    with migrated.store() as store:
        # migrated to the current schema (5 = plan versions; later migrations, e.g. the opinions' tables)
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [v.id for v in store.versions()] == [1]
        assert store.counts()["entries"] == 57 + 58
    assert got == views(fresh)
    assert _report_content(migrated, run, tmp_path / "m") == _report_content(fresh, run, tmp_path / "f")


def test_a_schema4_store_needs_the_plan_to_migrate(tmp_path: Path) -> None:
    from hyoka.problems import HyokaError
    from hyoka.store import Store

    _schema4_sample(tmp_path)
    with pytest.raises(HyokaError, match="計画マスタが必要です"):
        Store.open(tmp_path / "hyoka.db")
    import sqlite3

    conn = sqlite3.connect(tmp_path / "hyoka.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4  # untouched
    conn.close()


def test_import_of_an_earlier_year_reads_the_labels_of_its_version(
    sample_ws_loaded: Workspace, run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    _adopt_r6(ws, run)
    old = tmp_path / "R3.csv"
    old.write_text("事業No,担当課,事業評価\n5,地域安全課,B\n", encoding="utf-8")
    taken = run("import", old, "--year", "R3", "--json", "-w", ws.root)
    assert taken.exit_code == 0, taken.output
    refused = run("import", old, "--year", "R6", "--dry-run", "--json", "-w", ws.root)
    assert refused.exit_code == 1
    (problem_,) = [
        p for f in json.loads(refused.stdout)["files"] for p in f["problems"] if p["severity"] == "error"
    ]
    assert (problem_["code"], problem_["cell"]) == ("department-unknown", "B2")
    with ws.store() as store:
        r3 = load_year(store, store.version_for(FiscalYear(2021)).plan, FiscalYear(2021))
    assert r3[("5", "地域安全課")].rating == "B"


def test_init_with_a_plan_adopts_version_1(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    out = _ok(run("init", tmp_path / "ws", "--plan", SAMPLE / "plan.csv"))
    assert "計画の版: 版 1（" in out
    data = json.loads(_ok(run("plan", "versions", "--json", "-w", tmp_path / "ws")))
    ((version),) = data["versions"]
    assert (version["id"], version["rows"], version["file"], version["renames"]) == (1, 57, "plan.csv", [])


def test_a_named_version_prints_its_period_with_the_title(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    from hyoka.report.build import load_evaluation

    ws = sample_ws_loaded
    shutil.copy2(SAMPLE / "plan_R6.csv", ws.config.plan_file)
    _ok(
        run("plan", "adopt", "plan.csv", "--from", "R6", "--rename", RENAME, "--name", "第3期", "-w", ws.root)
    )
    ws = Workspace.load(ws.root)
    r6, _ = load_evaluation(ws, R6, draft=True)
    r5, _ = load_evaluation(ws, R5)
    assert r6.title == "地域福祉計画（第3期）の進捗状況及び評価表"
    assert r5.title == "地域福祉計画の進捗状況及び評価表"
    assert "第3期（R6〜）" in _ok(run("plan", "show", "--year", "R6", "-w", ws.root))


def test_plan_check_compares_the_file_with_the_version_in_force(sample_ws_loaded: Workspace, run) -> None:  # type: ignore[no-untyped-def]
    ws = sample_ws_loaded
    unchanged = _ok(run("plan", "check", "--year", "R6", "-w", ws.root))
    assert "R6から採用するとした場合の変更（前の版: R4〜）:\n変更はありません。\n" in unchanged
    shutil.copy2(SAMPLE / "plan_R6.csv", ws.config.plan_file)
    result = run("plan", "check", "--year", "R6", "-w", ws.root)
    assert result.exit_code == 0, result.output  # the file itself has no errors
    assert "■ 事業Noの変更（1件）\n  事業No.37 → 事業No.42 地域福祉活動への補助（仮称）\n" in result.stdout
    assert (
        "  課名の変更であれば --rename 地域安全課=防災危機管理課 を付けて実行し直してください。"
        in result.stdout
    )
    data = json.loads(_ok(run("plan", "check", "--year", "R6", "--json", "-w", ws.root)))
    assert data["valid"] is True and data["from"] == "R6" and "■ 追加される行（3件）" in data["changes"]
    with ws.store() as store:
        assert len(store.versions()) == 1  # checking stores nothing
