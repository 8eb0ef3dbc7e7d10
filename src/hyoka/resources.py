"""Where the templates and the sample live: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DATA = Path(__file__).parent / "_data"
_CHECKOUT = Path(__file__).resolve().parents[2]


def _find(name: str) -> Path:
    for base in (_PACKAGE_DATA, _CHECKOUT):
        if (base / name).is_dir():
            return base / name
    raise FileNotFoundError(name)


def templates_dir() -> Path:
    return _find("templates")


SAMPLES = ("koganei", "indicator", "two_stage")
"""The sample workspaces ``hyoka init DIR --sample [NAME]`` sets up: Koganei's, and two invented cities."""


def sample_dir(name: str = "koganei") -> Path:
    return _find("sample_data") / name
