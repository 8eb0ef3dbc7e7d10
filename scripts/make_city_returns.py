"""Fill the invented sample cities' forms as their departments would (``python scripts/make_city_returns.py``).

For ``sample_data/indicator`` and ``sample_data/two_stage``: the forms are made by hyoka itself
(``hyoka forms --year R5`` in a scratch workspace of the sample) and filled in with openpyxl from the
city's ``entries_R5.csv`` (one line per department's part; the headings are the sheet's), cell by
cell under the form's headings. The filled forms go to ``sample_data/<city>/returned/``. Texts are
typed as written, numbers as a clerk types them (``1,150件`` stays text: collect reads it as 1150).
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
import tempfile
from pathlib import Path

import openpyxl

from hyoka.forms import SHEET_NAME, write_forms
from hyoka.workspace import init_workspace
from hyoka.years import FiscalYear

ROOT = Path(__file__).resolve().parents[1]
CITIES = ("indicator", "two_stage")
R5 = FiscalYear(2023)
_PROJECT_NO = re.compile(r"【事業No\.([^】]+)】")
_PLAIN = re.compile(r"-?\d+(?:\.\d+)?")


def entries(city: str) -> dict[tuple[str, str], dict[str, str]]:
    """(事業No, 提出課) → the part's values by heading."""
    with (ROOT / "sample_data" / city / "entries_R5.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {(r["事業No"], r["提出課"]): r for r in csv.DictReader(fh)}


def typed(value: str) -> str | int | float | None:
    """What a department types: plain digits as a number, anything else as text; blank as nothing."""
    if not value:
        return None
    if _PLAIN.fullmatch(value):
        return float(value) if "." in value else int(value)
    return value


def fill(path: Path, submitter: str, data: dict[tuple[str, str], dict[str, str]]) -> int:
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET_NAME]
    header = next(
        r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value in ("事業", "個別事業・取り組み")
    )
    columns = {str(ws.cell(header, j).value): j for j in range(1, ws.max_column + 1)}
    filled = 0
    for r in range(header + 1, ws.max_row + 1):
        m = _PROJECT_NO.search(str(ws.cell(r, 2).value or ""))
        entry = data.get((m.group(1), submitter)) if m else None
        if entry is None:
            continue
        for heading, value in entry.items():
            target = next((j for h, j in columns.items() if h.split("（")[0].split("(")[0] == heading), None)
            if target is None or heading in ("事業No", "担当課", "提出課"):
                continue
            if not ws.cell(r, target).protection.locked:
                ws.cell(r, target).value = typed(value)
        filled += 1
    wb.save(path)
    return filled


def main() -> None:
    for city in CITIES:
        out = ROOT / "sample_data" / city / "returned"
        with tempfile.TemporaryDirectory() as tmp:
            ws = init_workspace(Path(tmp) / "ws", None, sample=True, sample_name=city)
            paths = write_forms(ws, R5, Path(tmp) / "forms")
            data = entries(city)
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            for path in paths:
                submitter = path.stem.split("_", 2)[2]
                n = fill(path, submitter, data)
                shutil.copy2(path, out / path.name)
                print(f"{city}: {path.name} ({n} rows)", file=sys.stderr)


if __name__ == "__main__":
    main()
