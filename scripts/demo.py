"""The whole sample cycle, as a clerk would run it, into one folder (``make demo``).

Each step is a separate ``hyoka`` process, exactly the commands the README shows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "koganei"


def hyoka(*args: str | Path, cwd: Path, allow_fail: bool = False) -> None:
    cmd = [sys.executable, "-m", "hyoka", *map(str, args)]
    print(f"\n$ hyoka {' '.join(map(str, args))}", flush=True)
    result = subprocess.run(cmd, cwd=cwd)
    if result.returncode and not allow_fail:
        sys.exit(f"demo: `hyoka {' '.join(map(str, args))}` failed with exit code {result.returncode}")


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo").resolve()
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    ws = target / "workspace"
    hyoka("init", ws, "--sample", cwd=target.parent)
    hyoka("plan", "show", cwd=ws)
    hyoka("plan", "check", cwd=ws)
    hyoka("import", SAMPLE / "ratings_R4.csv", "--year", "R4", cwd=ws)
    hyoka("collect", SAMPLE / "returned" / "R5", "--year", "R5", cwd=ws)
    hyoka("status", "--year", "R5", cwd=ws)
    hyoka("report", "--year", "R5", "--out", target / "R5", cwd=ws)
    hyoka("diff", "--year", "R5", cwd=ws)
    hyoka("diff", "--year", "R5", "--format", "xlsx", "--out", target / "R5" / "評価の変化_R5.xlsx", cwd=ws)
    hyoka("publish", "--year", "R5", "--out", target / "R5" / "publish", cwd=ws)
    print("\n--- after the meeting: the committee's opinions and the city's replies (invented) ---")
    hyoka("opinions", "forms", "--meeting", "R6-1", "--out", target / "opinions_R6-1", cwd=ws)
    hyoka("opinions", "import", SAMPLE / "opinions" / "意見_R6-1.csv", "--meeting", "R6-1", cwd=ws)
    hyoka("replies", "forms", "--meeting", "R6-1", "--out", target / "replies_R6-1", cwd=ws)
    hyoka("status", "--meeting", "R6-1", cwd=ws, allow_fail=True)  # exit 1: no reply has come in yet
    hyoka("replies", "collect", SAMPLE / "replies" / "R6-1", cwd=ws)
    hyoka("status", "--meeting", "R6-1", cwd=ws)
    hyoka("report", "--year", "R5", "--meeting", "R6-2", "--out", target / "R6-2", cwd=ws)
    print("\n--- the second year: an (invented) reorganisation for R6, see sample_data/README.md ---")
    shutil.copy2(SAMPLE / "plan_R6.csv", ws / "plan.csv")  # the clerk edits the working copy
    hyoka("status", "--year", "R5", cwd=ws)  # R5 stays as it was; the notice says the file changed
    hyoka("plan", "adopt", "plan.csv", "--from", "R6", "--dry-run", cwd=ws, allow_fail=True)
    hyoka(
        "plan",
        "adopt",
        "plan.csv",
        "--from",
        "R6",
        "--rename",
        "地域安全課=防災危機管理課",
        "--dry-run",
        cwd=ws,
    )
    hyoka("plan", "adopt", "plan.csv", "--from", "R6", "--rename", "地域安全課=防災危機管理課", cwd=ws)
    hyoka("plan", "versions", cwd=ws)
    hyoka("forms", "--year", "R6", "--out", target / "forms_R6", cwd=ws)
    hyoka("collect", SAMPLE / "returned" / "R6", "--year", "R6", cwd=ws)
    hyoka("status", "--year", "R6", cwd=ws)
    # The clerk turns on, in hyoka.toml, the R6-1 meeting's opinions and replies in the R6 table.
    toml = ws / "hyoka.toml"
    text = toml.read_text(encoding="utf-8")
    for key in ("opinions", "opinion_counts"):
        text = text.replace(f"# {key} = ", f"{key} = ", 1)
    toml.write_text(text, encoding="utf-8")
    hyoka("report", "--year", "R6", "--out", target / "R6", cwd=ws)
    hyoka("diff", "--year", "R6", cwd=ws)
    hyoka("history", "--no", "42", cwd=ws)
    hyoka("history", "--format", "xlsx", "--out", target / "R6" / "評価の推移.xlsx", cwd=ws)
    print("\n--- what the clerk sees for typical mistakes (dry run: nothing is stored) ---")
    hyoka(
        "collect",
        SAMPLE / "returned" / "mistakes",
        "--year",
        "R5",
        "--dry-run",
        "--feedback",
        target / "feedback",
        cwd=ws,
        allow_fail=True,
    )
    print("\n--- another (invented) city: a two-stage sheet, the secretariat's second stage ---")
    two = target / "two_stage"
    hyoka("init", two, "--sample", "two_stage", cwd=target)
    hyoka("collect", ROOT / "sample_data" / "two_stage" / "returned", "--year", "R5", cwd=two)
    hyoka("forms", "--year", "R5", "--secretariat", "--out", target / "two_stage_forms", cwd=two)
    hyoka("import", ROOT / "sample_data" / "two_stage" / "secretariat_R5.csv", "--year", "R5", cwd=two)
    hyoka("status", "--year", "R5", cwd=two)
    hyoka("report", "--year", "R5", "--out", target / "two_stage_R5", cwd=two)
    print(
        f"\ndemo: done — documents in {target / 'R5'} and {target / 'R6'}, the website's files in"
        f" {target / 'R5' / 'publish'}, the R6 forms in {target / 'forms_R6'}, the second meeting's pack"
        f" with the opinions and replies in {target / 'R6-2'}"
    )


if __name__ == "__main__":
    main()
