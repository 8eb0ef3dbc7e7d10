"""The half-width table (src/hyoka/widths.py) against Python's Unicode tables."""

from __future__ import annotations

import importlib.util
import itertools
import unicodedata
from pathlib import Path

import pytest

from hyoka import widths

ROOT = Path(__file__).resolve().parents[1]


def _generator():  # scripts/gen_widths.py, which wrote the table
    spec = importlib.util.spec_from_file_location("gen_widths", ROOT / "scripts" / "gen_widths.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table() -> list[tuple[int, int]]:
    ranges = []
    for item in "".join(widths.NARROW_RANGES).split():
        a, _, b = item.partition("-")
        ranges.append((int(a, 16), int(b or a, 16)))
    return ranges


@pytest.mark.skipif(
    unicodedata.unidata_version != widths.UNICODE_VERSION,
    reason=f"the table follows Unicode {widths.UNICODE_VERSION}, this Python has {unicodedata.unidata_version}",
)
def test_the_table_is_what_the_generator_computes_from_this_pythons_unicode_tables() -> None:
    assert _table() == _generator().narrow_ranges()


def test_the_table_is_sorted_and_disjoint() -> None:
    table = _table()
    assert all(a <= b for a, b in table)
    assert all(b1 + 1 < a2 for (_, b1), (a2, _) in itertools.pairwise(table))
