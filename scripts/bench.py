"""``make bench``: speed and memory of the annual cycle at 1x, 10x and 100x the Koganei sample.

Every step runs as its own ``hyoka`` process, as a clerk would run it, and is measured from outside:
wall time around the process, and its peak RSS from ``os.wait4`` (the kernel's accounting for that
one child — ``getrusage(RUSAGE_CHILDREN)`` would give the maximum over every child so far). The
floors run as processes too (interpreter start and library import included), so that the ratios
compare like with like:

- ``floor read``: a bare openpyxl read (read-only, values only) of the same returned files;
- ``floor calamine``: a bare python-calamine read of every sheet of the same files (the fastest reader
  there is; hyoka reads with it, so its ratio to this floor is what hyoka adds to reading);
- ``floor docx``: a bare python-docx build of one table with the same number of rows × 7 columns and
  the same texts, without styling, saved.

The figures go to ``bench_results/bench-<timestamp>.json`` and ``bench_results/latest.json``. Targets
that are missed print FAIL; the exit code is 0 regardless unless ``--strict``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import synth

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "koganei"
RESULTS = ROOT / "bench_results"
SCHEMA = "hyoka.bench/1"
STEPS = ("init", "import", "forms", "collect", "report", "diff")

# The targets of issues 6 and 15.
HELP_LIMIT_S = 0.1
KOGANEI_LIMIT_S = 2.0
GROWTH_FACTOR = 1.2  # 10x the rows may cost at most 12x the time
COLLECT_FLOOR_LIMIT = 0.5  # collect / bare openpyxl read, at 10x and 100x
REPORT_FLOOR_LIMIT = 2.0
PEAK_LIMIT_MB = 400.0


# An installed hyoka runs from cached bytecode; a shell that sets PYTHONDONTWRITEBYTECODE would make
# every measured process compile the package again.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Measured:
    cmd: list[str]
    wall_s: float
    peak_mb: float | None
    exit_code: int
    stderr_tail: str = ""
    work_s: float | None = None  # floors: time spent in the measured work, as the child reports it

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def measure(cmd: Sequence[str], cwd: Path, stdout: Path | None = None) -> Measured:
    """Run one process; wall time from outside, peak RSS of exactly this child from wait4."""
    with ExitStack() as stack:
        # Both branches are closed by the ExitStack.
        out = stack.enter_context(stdout.open("wb") if stdout else tempfile.TemporaryFile())  # noqa: SIM115
        err = stack.enter_context(tempfile.TemporaryFile())
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=CHILD_ENV, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        peak: float | None = None
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait a second time
            # Linux reports kilobytes, macOS bytes.
            peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        else:  # Windows: no per-child rusage in the stdlib; time only
            proc.wait()
            wall = time.perf_counter() - start
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip()[-1500:]
        work = None
        if stdout is None:
            out.seek(0)
            try:
                work = float(json.loads(out.read().decode() or "{}").get("work_s"))
            except (ValueError, TypeError, AttributeError):
                work = None
    return Measured(
        [str(c) for c in cmd], wall, peak, proc.returncode or 0, tail if proc.returncode else "", work
    )


def hyoka_cmd() -> list[str]:
    """The console script a user runs, next to this interpreter (``python -m hyoka`` otherwise)."""
    for name in ("hyoka", "hyoka.exe"):
        script = Path(sys.executable).with_name(name)
        if script.exists():
            return [str(script)]
    return [sys.executable, "-m", "hyoka"]


def has_report(hy: list[str]) -> bool:
    return subprocess.run([*hy, "report", "--help"], capture_output=True).returncode == 0


# --- the floors (run as child processes: python scripts/bench.py --floor-read DIR) ---------------------


def floor_read(folder: Path) -> None:
    """Read every returned workbook with openpyxl, read-only, values only, and nothing else."""
    start = time.perf_counter()
    import openpyxl

    cells = 0
    for path in sorted(folder.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += sum(v is not None for v in row)
        wb.close()
    print(json.dumps({"work_s": time.perf_counter() - start, "cells": cells}))


def floor_calamine(folder: Path) -> None:
    """Read every returned workbook with python-calamine, every sheet, and nothing else."""
    start = time.perf_counter()
    import python_calamine

    cells = 0
    for path in sorted(folder.glob("*.xlsx")):
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            for row in wb.get_sheet_by_name(name).to_python():
                cells += sum(v != "" for v in row)
        wb.close()
    print(json.dumps({"work_s": time.perf_counter() - start, "cells": cells}))


def floor_docx(data: Path, out: Path) -> None:
    """One python-docx table of the same rows and columns with the same texts, no styling, saved."""
    start = time.perf_counter()
    import docx

    rows: list[list[str]] = json.loads(data.read_text(encoding="utf-8"))
    document = docx.Document()
    table = document.add_table(rows=len(rows), cols=len(rows[0]) if rows else 7)
    # row.cells walks one row's <w:tc> elements; table.cell(r, c) would rebuild the grid every call.
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(str(out))
    print(json.dumps({"work_s": time.perf_counter() - start, "rows": len(rows)}))


def floor_table(files: synth.SynthFiles) -> list[list[str]]:
    """The evaluation table's cells as plain strings: 施策, 事業, 担当課, 実績, 前年度, 評価, 今後."""
    now, before = synth.ratings(files.rows)
    table = []
    for r in files.rows:
        key = (str(r.project_no), r.department)
        parts = [synth.entry(r, s, now[key]) for s in r.submitters]
        table.append(
            [
                f"({r.measure_no})",
                f"【事業No.{r.project_no}】{r.project}",
                r.department,
                "\n".join(p.achievement for p in parts),
                before.get(key, "—"),
                now[key],
                "\n".join(p.outlook for p in parts),
            ]
        )
    return table


# --- one size ----------------------------------------------------------------------------------------------


SHEETS = ("default", "indicator")
"""The sheet definitions the bench runs: Koganei's default sheet and the indicator sample's (issue 11)."""


@dataclass
class SizeResult:
    size: int
    stats: dict[str, int]
    sheet: str = "default"
    steps: dict[str, Measured] = field(default_factory=dict)
    floors: dict[str, Measured] = field(default_factory=dict)
    setup_s: dict[str, float] = field(default_factory=dict)
    workspace: str = ""

    @property
    def rows(self) -> int:
        return self.stats["rows"]


def run_size(size: int, base: Path, hy: list[str], report: bool, sheet: str = "default") -> SizeResult:
    tag = f"{size}x" + ("" if sheet == "default" else f"-{sheet}")
    t0 = time.perf_counter()
    if sheet == "indicator":
        files = synth.write_indicator_files(base / f"synth-{tag}", size)
    else:
        files = synth.write_workspace_files(base / f"synth-{tag}", size)
    res = SizeResult(size, files.stats, sheet)
    res.setup_s["generate"] = time.perf_counter() - t0
    ws = base / f"ws-{tag}"
    res.workspace = str(ws)
    log = base / f"logs-{tag}"
    log.mkdir(parents=True, exist_ok=True)
    say(
        f"\n[{tag}] {sheet} sheet: {files.stats['projects']:,} projects, {res.rows:,} rows,"
        f" {files.stats['submitters']} departments"
    )

    def step(name: str, *args: str | Path, cwd: Path = ws) -> Measured:
        m = measure([*hy, name, *map(str, args)], cwd, stdout=log / f"{name}.out")
        res.steps[name] = m
        say(
            f"  {name:<8} {m.wall_s:7.2f} s  {fmt_mb(m.peak_mb):>7} MB"
            + ("" if m.ok else f"  exit {m.exit_code}")
        )
        if not m.ok:
            say("    " + m.stderr_tail.replace("\n", "\n    "))
        return m

    if sheet == "indicator":
        # `init --plan` checks a plan against the default sheet: the workspace is made from the
        # indicator sample, then its plan and hyoka.toml are the synthetic ones and the store goes, so
        # that the next command (import) adopts the synthetic plan as version 1 (counted in import).
        step("init", ws, "--sample", "indicator", cwd=base)
        shutil.copy2(files.plan, ws / "plan.csv")
        (ws / "hyoka.db").unlink()
    else:
        step("init", ws, "--plan", files.plan, cwd=base)
    # The synthetic config has a meeting, so that report also builds the agenda and the pack.
    shutil.copy2(files.config, ws / "hyoka.toml")
    step("import", files.prior, "--year", "R4")
    step("forms", "--year", "R5")
    returned = base / f"returned-{tag}"
    t0 = time.perf_counter()
    fill = synth.fill_indicator_forms if sheet == "indicator" else synth.fill_forms
    fill(ws / "out" / "forms" / "R5", returned, size)
    res.setup_s["fill_forms"] = time.perf_counter() - t0
    res.stats["files"] = len(list(returned.glob("*.xlsx")))

    # Kept so that --profile can run collect again on the store as it was before.
    before = base / f"before-collect-{tag}.db"
    shutil.copy2(ws / "hyoka.db", before)
    again = base / f"ws-{tag}-again"  # the workspace before collect, for the runs after the first
    shutil.copytree(ws, again, ignore=shutil.ignore_patterns("out"))
    runs: dict[str, list[Measured]] = {"read": [], "calamine": [], "collect": []}
    for i in range(COLLECT_RUNS):
        for floor in ("read", "calamine"):
            m = measure([sys.executable, __file__, f"--floor-{floor}", str(returned)], base)
            runs[floor].append(m)
            say(f"  {'floor ' + floor:<8} {m.wall_s:5.2f} s  {fmt_mb(m.peak_mb):>7} MB")
        if i == 0:  # the run whose store report and diff go on with
            runs["collect"].append(step("collect", returned, "--year", "R5"))
            continue
        shutil.copy2(before, again / "hyoka.db")
        m = measure([*hy, "collect", str(returned), "--year", "R5"], again, stdout=log / f"collect-{i}.out")
        runs["collect"].append(m)
        say(
            f"  {'collect':<8} {m.wall_s:7.2f} s  {fmt_mb(m.peak_mb):>7} MB"
            + ("" if m.ok else f"  exit {m.exit_code}")
        )
    res.floors["read"], res.floors["calamine"] = median(runs["read"]), median(runs["calamine"])
    res.steps["collect"] = median(runs["collect"])
    if report:
        step("report", "--year", "R5")
        data = base / f"floor-table-{tag}.json"
        table = synth.indicator_table(files) if sheet == "indicator" else floor_table(files)
        data.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
        m = measure(
            [sys.executable, __file__, "--floor-docx", str(data), str(base / f"floor-{tag}.docx")], base
        )
        res.floors["docx"] = m
        say(f"  {'floor docx':<8} {m.wall_s:5.2f} s  {fmt_mb(m.peak_mb):>7} MB")
    step("diff", "--year", "R5")
    return res


KOGANEI_RUNS = 3
COLLECT_RUNS = 3
"""collect and the bare reads of the same files are each run this many times, in turn, and each one's
median run kept for the ratios: on a shared machine a burst of stolen time in one run moved one
ratio by a fifth."""


def median(runs: list[Measured]) -> Measured:
    """The run of median wall time (a failed run counts as the slowest, so that it shows)."""
    ordered = sorted(runs, key=lambda m: (not m.ok, m.wall_s))
    return ordered[len(ordered) // 2] if all(m.ok for m in runs) else ordered[-1]


def run_koganei(base: Path, hy: list[str], report: bool) -> dict[str, Measured]:
    """The real sample's cycle, each step its own process, as the README shows it: run
    ``KOGANEI_RUNS`` times in fresh workspaces, each step's median run kept (as for ``--help``, a
    process of a fifth of a second is at the mercy of whatever else the two cores are doing)."""
    runs = [_koganei_once(base / f"run{i}", hy, report) for i in range(KOGANEI_RUNS)]
    return {name: median([r[name] for r in runs if name in r]) for name in runs[0]}


def _koganei_once(base: Path, hy: list[str], report: bool) -> dict[str, Measured]:
    base.mkdir(parents=True, exist_ok=True)
    ws = base / "koganei"
    steps: dict[str, Measured] = {}
    plan: list[tuple[str, list[str | Path], Path]] = [
        ("init", ["init", ws, "--sample"], base),
        ("import", ["import", SAMPLE / "ratings_R4.csv", "--year", "R4"], ws),
        ("forms", ["forms", "--year", "R5"], ws),
        ("collect", ["collect", SAMPLE / "returned" / "R5", "--year", "R5"], ws),
        ("report", ["report", "--year", "R5"], ws),
        ("diff", ["diff", "--year", "R5"], ws),
    ]
    for name, args, cwd in plan:
        if name == "report" and not report:
            continue
        m = steps[name] = measure([*hy, *map(str, args)], cwd)
        if not m.ok:
            say(f"Koganei {name} failed (exit {m.exit_code}):\n    " + m.stderr_tail.replace("\n", "\n    "))
    return steps


def profile(res: SizeResult, base: Path, report: bool) -> list[Path]:
    """pyinstrument over collect (on the store as it was before collect) and report; text reports."""
    tag = f"{res.size}x" + ("" if res.sheet == "default" else f"-{res.sheet}")
    ws = base / f"profile-{tag}"
    shutil.copytree(res.workspace, ws, ignore=shutil.ignore_patterns("out"))
    shutil.copy2(base / f"before-collect-{tag}.db", ws / "hyoka.db")
    RESULTS.mkdir(exist_ok=True)
    outputs = []
    commands = [("collect", ["collect", str(base / f"returned-{tag}"), "--year", "R5"])]
    if report:
        commands.append(("report", ["report", "--year", "R5"]))
    for name, args in commands:
        out = RESULTS / f"profile-{name}-{tag}.txt"
        cmd = [
            sys.executable,
            "-m",
            "pyinstrument",
            "-r",
            "text",
            "--no-color",
            "-o",
            str(out),
            "-m",
            "hyoka",
            *args,
        ]
        m = measure(cmd, ws)
        say(f"  profiled {name}: {m.wall_s:.1f} s under pyinstrument → {out.relative_to(ROOT)}")
        outputs.append(out)
    return outputs


# --- targets -----------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    value: float | None
    limit: float
    passed: bool
    detail: str = ""


def check_targets(
    help_s: float, koganei: dict[str, Measured], sizes: list[SizeResult], report: bool
) -> list[Target]:
    targets = [Target("hyoka --help (median of 5), s", help_s, HELP_LIMIT_S, help_s < HELP_LIMIT_S)]
    total = sum(m.wall_s for m in koganei.values())
    ok = all(m.ok for m in koganei.values()) and total < KOGANEI_LIMIT_S
    detail = " + ".join(f"{k} {m.wall_s:.2f}" for k, m in koganei.items())
    if not report:
        detail += " (report not available yet)"
    failed = [k for k, m in koganei.items() if not m.ok]
    if failed:
        detail += f"; failed: {', '.join(failed)}"
    targets.append(Target("Koganei cycle total, s", total, KOGANEI_LIMIT_S, ok, detail))
    for sheet in SHEETS:
        targets += size_targets([s for s in sizes if s.sheet == sheet], sheet)
    return targets


def size_targets(sizes: list[SizeResult], sheet: str) -> list[Target]:
    """Growth, the floors' ratios and peak memory of one sheet's sizes (the same targets for each)."""
    label = "" if sheet == "default" else f" [{sheet}]"
    targets = []
    for a, b in itertools.pairwise(sizes):
        limit = GROWTH_FACTOR * b.size / a.size
        for name in STEPS:
            if name in a.steps and name in b.steps:
                ratio = b.steps[name].wall_s / a.steps[name].wall_s
                targets.append(
                    Target(
                        f"growth {name} {b.size}x/{a.size}x{label}",
                        ratio,
                        limit,
                        ratio <= limit and b.steps[name].ok,
                        f"{a.steps[name].wall_s:.2f} s → {b.steps[name].wall_s:.2f} s",
                    )
                )
    for s in sizes:
        # collect against the bare readers at 10x and 100x (at 1x both are mostly start-up).
        if s.size < 10 or "collect" not in s.steps:
            continue
        for floor, limit in (("read", COLLECT_FLOOR_LIMIT), ("calamine", float("inf"))):
            if floor in s.floors:
                ratio = s.steps["collect"].wall_s / s.floors[floor].wall_s
                targets.append(
                    Target(
                        f"collect / bare {floor} at {s.size}x{label}",
                        ratio,
                        limit,
                        ratio <= limit and s.steps["collect"].ok,
                        f"{s.steps['collect'].wall_s:.2f} s vs {s.floors[floor].wall_s:.2f} s"
                        + (" (reported, no target)" if limit == float("inf") else ""),
                    )
                )
    if sizes:
        # The ratio to the docx floor is judged at the largest size: at 1x both are mostly start-up.
        big = sizes[-1]
        for step, floor, limit in (("report", "docx", REPORT_FLOOR_LIMIT),):
            if step in big.steps and floor in big.floors:
                ratio = big.steps[step].wall_s / big.floors[floor].wall_s
                targets.append(
                    Target(
                        f"{step} / bare {floor} at {big.size}x{label}",
                        ratio,
                        limit,
                        ratio <= limit and big.steps[step].ok,
                        f"{big.steps[step].wall_s:.2f} s vs {big.floors[floor].wall_s:.2f} s",
                    )
                )
        for s in sizes:
            if s.size == 100:
                peaks = {k: m.peak_mb or 0.0 for k, m in s.steps.items()}
                worst = max(peaks, key=lambda k: peaks[k])
                targets.append(
                    Target(
                        f"peak RSS at 100x{label}, MB",
                        peaks[worst],
                        PEAK_LIMIT_MB,
                        peaks[worst] < PEAK_LIMIT_MB,
                        f"{worst}",
                    )
                )
    return targets


# --- output ------------------------------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, flush=True)


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(sizes: list[SizeResult], koganei: dict[str, Measured]) -> None:
    head = f"{'step':<12} {'size':>5} {'rows':>6} {'wall s':>8} {'peak MB':>8} {'ms/row':>8}  note"
    say("\n" + head)
    say("-" * len(head))
    rows_k = 57
    for name, m in koganei.items():
        say(
            f"{name:<12} {'koganei':>5} {rows_k:>6} {m.wall_s:8.2f} {fmt_mb(m.peak_mb):>8} {1000 * m.wall_s / rows_k:8.2f}"
        )
    for s in sizes:
        say("" if s.sheet == "default" else f"\n{s.sheet} sheet")
        for name, m in s.steps.items():
            note = "" if m.ok else f"exit {m.exit_code}"
            floors = {"collect": ("read", "calamine"), "report": ("docx",)}.get(name, ())
            ratios = [f"{m.wall_s / s.floors[f].wall_s:.2f}x bare {f}" for f in floors if f in s.floors]
            if ratios:
                note = ", ".join(ratios) + (f", {note}" if note else "")
            say(
                f"{name:<12} {s.size:>4}x {s.rows:>6} {m.wall_s:8.2f} {fmt_mb(m.peak_mb):>8}"
                f" {1000 * m.wall_s / s.rows:8.2f}  {note}"
            )
        for name, m in s.floors.items():
            work = f"in-process work {m.work_s:.2f} s" if m.work_s is not None else ""
            say(
                f"{'floor ' + name:<12} {s.size:>4}x {s.rows:>6} {m.wall_s:8.2f} {fmt_mb(m.peak_mb):>8}"
                f" {1000 * m.wall_s / s.rows:8.2f}  {work}"
            )


def print_targets(targets: list[Target]) -> None:
    say("\nTargets")
    for t in targets:
        value = "-" if t.value is None else f"{t.value:.2f}"
        mark = "PASS" if t.passed else "FAIL"
        say(f"  {mark}  {t.name}: {value} (limit {t.limit:g}){'  — ' + t.detail if t.detail else ''}")
    failed = [t for t in targets if not t.passed]
    say(
        f"\n{len(targets) - len(failed)} of {len(targets)} targets met"
        + (f"; FAILED: {len(failed)}" if failed else "")
    )


def write_results(data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench-{stamp}.json"
    text = json.dumps(data, ensure_ascii=False, indent=2)
    for target in (path, RESULTS / "latest.json"):
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="hyoka の速度とメモリの計測（1x/10x/100x）")
    ap.add_argument("--sizes", default="1,10,100", help="comma-separated multiples of the Koganei sample")
    ap.add_argument("--keep", action="store_true", help="keep the temporary workspaces and print where")
    ap.add_argument(
        "--sheet",
        default=",".join(SHEETS),
        help="comma-separated sheet definitions to run at each size: default (Koganei's), indicator",
    )
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also run pyinstrument on collect and report at the largest size",
    )
    ap.add_argument("--floor-read", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--floor-calamine", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--floor-docx", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.floor_read:
        floor_read(args.floor_read)
        return 0
    if args.floor_calamine:
        floor_calamine(args.floor_calamine)
        return 0
    if args.floor_docx:
        floor_docx(*args.floor_docx)
        return 0
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        ap.error("--sizes takes whole numbers, e.g. 1,10,100")
    if any(s < 1 or s > 100 for s in sizes):
        ap.error("--sizes: each size is between 1 and 100")
    sheets = [s.strip() for s in args.sheet.split(",") if s.strip()]
    if not sheets or any(s not in SHEETS for s in sheets):
        ap.error(f"--sheet: one or more of {', '.join(SHEETS)}")

    started = time.perf_counter()
    hy = hyoka_cmd()
    report = has_report(hy)
    base = Path(tempfile.mkdtemp(prefix="hyoka-bench-"))
    say(
        f"hyoka bench: {' '.join(hy)}  ({platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs)"
    )
    if not report:
        say("note: `hyoka report` is not available in this tree; report and its floor are skipped")
    try:
        measure([*hy, "--version"], base)  # warm-up: bytecode written, files in the page cache
        helps = [measure([*hy, "--help"], base) for _ in range(5)]
        help_s = statistics.median(m.wall_s for m in helps)
        say(f"hyoka --help: median {help_s:.3f} s of {', '.join(f'{m.wall_s:.3f}' for m in helps)}")
        koganei = run_koganei(base, hy, report)
        say("Koganei cycle: " + ", ".join(f"{k} {m.wall_s:.2f} s" for k, m in koganei.items()))
        results = [
            run_size(size, base, hy, report, sheet) for sheet in SHEETS if sheet in sheets for size in sizes
        ]
        profiles = (
            [p for r in results if r.size == sizes[-1] for p in profile(r, base, report)]
            if args.profile
            else []
        )
    finally:
        if args.keep:
            say(f"\nworkspaces kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)

    print_table(results, koganei)
    targets = check_targets(help_s, koganei, results, report)
    print_targets(targets)
    data = {
        "schema": SCHEMA,
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "command": hy,
        "report_available": report,
        "help": {"median_s": help_s, "runs_s": [m.wall_s for m in helps]},
        "koganei": {"total_s": sum(m.wall_s for m in koganei.values()), "steps": _dump(koganei)},
        "sizes": {str(s.size): _dump_size(s) for s in results if s.sheet == "default"},
        "sheets": {
            sheet: {str(s.size): _dump_size(s) for s in results if s.sheet == sheet} for sheet in sheets
        },
        "targets": [asdict(t) for t in targets],
        "profiles": [str(p.relative_to(ROOT)) for p in profiles],
        "bench_s": time.perf_counter() - started,
    }
    path = write_results(data)
    say(
        f"\nfigures: {path.relative_to(ROOT)} (and bench_results/latest.json); bench took {data['bench_s']:.0f} s"
    )
    return 1 if args.strict and not all(t.passed for t in targets) else 0


def _dump_size(s: SizeResult) -> dict[str, Any]:
    return {"stats": s.stats, "steps": _dump(s.steps), "floors": _dump(s.floors), "setup_s": s.setup_s}


def _dump(measured: dict[str, Measured]) -> dict[str, dict[str, Any]]:
    return {
        k: {
            "wall_s": m.wall_s,
            "peak_mb": m.peak_mb,
            "exit_code": m.exit_code,
            **({"work_s": m.work_s} if m.work_s is not None else {}),
            **({"stderr": m.stderr_tail} if m.stderr_tail else {}),
        }
        for k, m in measured.items()
    }


if __name__ == "__main__":
    sys.exit(main())
