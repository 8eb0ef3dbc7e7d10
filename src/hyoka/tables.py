"""Reading flat tables (the plan master, imported ratings) from .xlsx or .csv.

CSV files from Japanese Excel come as UTF-8, UTF-8 with BOM or cp932; the encoding is detected.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hyoka.files import os_reason
from hyoka.problems import HyokaError
from hyoka.text import clean_text, normalize_code
from hyoka.workbook import WorkbookError, read_bounded

MAX_TABLE_ROWS = 200_000
HEADING_SEARCH_ROWS = 20
EMPTY_ROWS_END = 50  # a run of this many empty rows ends the table, whatever <dimension> claims


@dataclass
class Table:
    """Rows as ``{heading: text}``, each with its 1-based line (row) number in the file."""

    source: str
    headings: list[str]
    heading_line: int
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    sheet: str | None = None


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise HyokaError(
            "CSVの文字コードを判別できません。Excelで「CSV UTF-8 (コンマ区切り)」形式で保存し直してください。"
        ) from None


_NO_SUFFIX = re.compile(r"no\.?$", re.IGNORECASE)


def canonical_heading(value: object) -> str:
    """A heading as the documentation spells it: NFKC, no blanks, ``NO``/``No.``/``Ｎｏ．`` ending as ``No``."""
    text = re.sub(r"\s+", "", normalize_code(value))
    return _NO_SUFFIX.sub("No", text)


def read_table(path: Path, anchor: str, known: Sequence[str] = ()) -> Table:
    """Read the first sheet (or the CSV) into rows keyed by heading (see :func:`canonical_heading`).

    The heading row is the first with a cell equal to ``anchor``; when the anchor itself is misspelt,
    the row with the most ``known`` headings (so that only the misspelt one is missing).
    """
    if not str(path).strip():
        raise HyokaError("ファイルを指定してください。")
    if not path.exists():
        raise HyokaError(f"{path}: ファイルが見つかりません。パスを確認してください。")
    if path.is_dir():
        raise HyokaError(f"{path} はフォルダです。表のファイル（.xlsx または .csv）を指定してください。")
    if path.suffix.lower() == ".csv":
        try:
            text = decode_csv(read_bounded(path))
        except WorkbookError as exc:
            raise HyokaError(f"{path.name}: {exc.problem.message}") from None
        except OSError as exc:
            raise HyokaError(f"{path.name}: 読み込めません（{os_reason(exc)}）。") from None
        try:
            grid: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(text))]
        except csv.Error as exc:
            raise HyokaError(f"{path.name}: CSVとして読み取れません（{exc}）。") from None
        return _table(path.name, grid, anchor, None, known)
    from hyoka.book import open_any

    try:
        book = open_any(path)
    except WorkbookError as exc:
        raise HyokaError(f"{path.name}: {exc.problem.message}") from None
    try:
        if not book.names:
            raise HyokaError(f"{path.name}: シートがありません。")
        title = book.names[0]
        grid = []
        empty_run = 0
        for values in book.rows(title):
            grid.append(list(values))
            empty_run = 0 if any(v not in (None, "") for v in values) else empty_run + 1
            if empty_run >= EMPTY_ROWS_END or len(grid) > MAX_TABLE_ROWS:
                break
        return _table(path.name, grid, anchor, title, known)
    finally:
        book.close()


def _table(
    source: str, grid: list[list[object]], anchor: str, sheet: str | None, known: Sequence[str] = ()
) -> Table:
    anchor, wanted = canonical_heading(anchor), {canonical_heading(k) for k in known}
    head = [[canonical_heading(v) for v in values] for values in grid[:HEADING_SEARCH_ROWS]]
    at = next((i for i, names in enumerate(head) if anchor in names), None)
    if at is None and wanted:
        score = [len(wanted.intersection(names)) for names in head]
        if score and max(score) >= 2:
            at = score.index(max(score))
    if at is None:
        return Table(source, [], 1, sheet=sheet)
    columns: dict[str, int] = {}
    for j, n in enumerate(head[at]):
        if n:
            columns.setdefault(n, j)
    table = Table(source, list(columns), at + 1, sheet=sheet)
    for line, row in enumerate(grid[at + 1 :], start=at + 2):
        if not any(clean_text(v).strip() for v in row):
            continue
        table.rows.append((line, {n: clean_text(row[j]) if j < len(row) else "" for n, j in columns.items()}))
    return table
