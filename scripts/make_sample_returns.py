"""Rebuild the sample's returned forms from ``entries_R5.csv`` and ``entries_R6.csv``
(``python scripts/make_sample_returns.py``).

The forms are made by hyoka itself (``hyoka forms --year R5`` in a scratch workspace with the R4
ratings imported; ``hyoka forms --year R6`` after the R5 forms are collected and the invented R6 plan
``plan_R6.csv`` is adopted) and filled in with openpyxl as a department would fill them. A second
folder holds the realistic mistakes the demo shows the clerk.
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from pathlib import Path

import openpyxl

from hyoka.collect import collect, import_table
from hyoka.forms import write_forms
from hyoka.intake import column_role
from hyoka.workspace import Workspace, adopt_plan, init_workspace
from hyoka.years import FiscalYear

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "koganei"
R5, R6 = FiscalYear(2023), FiscalYear(2024)
R6_RENAMES = [("地域安全課", "防災危機管理課")]  # the invented reorganisation of plan_R6.csv


def entries(year: FiscalYear = R5) -> dict[tuple[str, str, str], dict[str, str]]:
    with (SAMPLE / f"entries_{year.short}.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {(r["事業No"], r["担当課"], r["提出課"]): r for r in csv.DictReader(fh)}


def fill(path: Path, submitter: str, data: dict[tuple[str, str, str], dict[str, str]]) -> None:
    """Type each row's texts and rating into the form, as the department would."""
    from hyoka.intake import ReadRow  # noqa: F401  (documents what collect reads back)

    wb = openpyxl.load_workbook(path)
    ws = wb["調査票"]
    header, roles = find_header(ws)
    for r in range(header + 1, ws.max_row + 1):
        label = ws.cell(r, roles["project"]).value
        if not label:
            continue
        no = str(label).split("事業No.")[1].split("】")[0]
        entry = data[(no, ws.cell(r, roles["department"]).value, submitter)]
        ws.cell(r, roles["achievement"]).value = entry["事業実績・評価理由"]
        ws.cell(r, roles["rating"]).value = entry["事業評価"]
        ws.cell(r, roles["outlook"]).value = entry["今後の事業計画・展望"]
        # What a person does after typing: make the row tall enough to read (Excel's autofit).
        lines = max(
            fitted_lines(entry[key], ws.column_dimensions[letter(roles[role])].width)
            for key, role in (("事業実績・評価理由", "achievement"), ("今後の事業計画・展望", "outlook"))
        )
        ws.row_dimensions[r].height = max(ws.row_dimensions[r].height or 15, 14 * lines + 4)
    wb.save(path)


def letter(column: int) -> str:
    return openpyxl.utils.get_column_letter(column)


def fitted_lines(text: str, width: float) -> int:
    """Wrapped lines of Japanese text in a column ``width`` characters wide (full-width = 2)."""
    per_line = max(int(width / 2), 1)
    return sum(-(-max(len(p), 1) // per_line) for p in text.split("\n"))


def find_header(ws: openpyxl.worksheet.worksheet.Worksheet) -> tuple[int, dict[str, int]]:
    for r in range(1, 40):
        roles = {column_role(ws.cell(r, c).value): c for c in range(1, 10)}
        if "rating" in roles and "project" in roles:
            return r, {k: v for k, v in roles.items() if k}
    raise SystemExit(f"no header in {ws.title}")


def main() -> None:
    out = SAMPLE / "returned" / "R5"
    mistakes = SAMPLE / "returned" / "mistakes"
    data = entries()
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", None, sample=True)
        result = import_table(ws, SAMPLE / "ratings_R4.csv", R5.previous())
        if not result.ok:
            sys.exit("R4 import failed")
        shutil.rmtree(out, ignore_errors=True)
        for path in write_forms(ws, R5, out):
            fill(path, path.stem.split("_", 2)[2], data)
            print(path.relative_to(ROOT))
        make_r6(ws)
    make_mistakes(out, mistakes)


def make_r6(ws: Workspace) -> None:
    """The invented second year: collect R5, adopt plan_R6.csv for R6, make and fill the R6 forms."""
    out = SAMPLE / "returned" / "R6"
    if not collect(ws, [SAMPLE / "returned" / "R5"], R5).ok:
        sys.exit("R5 collect failed")
    shutil.copy2(SAMPLE / "plan_R6.csv", ws.config.plan_file)
    adopted = adopt_plan(ws, ws.config.plan_file, R6, renames=R6_RENAMES)
    if not adopted.stored:
        sys.exit(f"R6 adoption failed: {adopted}")
    ws = Workspace.load(ws.root)
    data = entries(R6)
    shutil.rmtree(out, ignore_errors=True)
    for path in write_forms(ws, R6, out):
        fill(path, path.stem.split("_", 2)[2], data)
        print(path.relative_to(ROOT))


def set_cell(src: Path, dst: Path, row_offset: int, role: str, value: object) -> None:
    wb = openpyxl.load_workbook(src)
    ws = wb["調査票"]
    header, roles = find_header(ws)
    ws.cell(header + row_offset, roles[role]).value = value
    wb.save(dst)


def make_mistakes(out: Path, mistakes: Path) -> None:
    import io

    import msoffcrypto.format.ooxml as ooxml

    shutil.rmtree(mistakes, ignore_errors=True)
    mistakes.mkdir(parents=True)
    form = {p.stem.split("_", 2)[2]: p for p in out.glob("*.xlsx")}
    # Full-width letter: accepted, the rating is read as A.
    set_cell(form["交通対策課"], mistakes / form["交通対策課"].name, 1, "rating", "Ａ")
    # A blank rating and a rating that is not in the scale.
    set_cell(form["地域安全課"], mistakes / form["地域安全課"].name, 2, "rating", None)
    set_cell(form["健康課"], mistakes / form["健康課"].name, 1, "rating", "E")
    # A department deleted one of its rows.
    wb = openpyxl.load_workbook(form["介護福祉課"])
    ws = wb["調査票"]
    header, _ = find_header(ws)
    ws.delete_rows(header + 3)
    wb.save(mistakes / form["介護福祉課"].name)
    # Excel's lock file, left beside an open workbook on the shared drive.
    (mistakes / f"~${form['地域福祉課'].name}").write_bytes(b"\x0chyoka-user" + b"\x00" * 40)
    # A password-protected (encrypted) copy; the password is "hyoka".
    encrypted = io.BytesIO()
    with form["指導室"].open("rb") as fh:
        ooxml.OOXMLFile(fh).encrypt("hyoka", encrypted)
    (mistakes / f"パスワード付き_{form['指導室'].name}").write_bytes(encrypted.getvalue())
    for p in sorted(mistakes.iterdir()):
        print(p.relative_to(ROOT))


if __name__ == "__main__":
    main()
