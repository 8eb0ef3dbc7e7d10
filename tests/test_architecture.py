"""The layers: the pure core imports no adapter (checked on the source with ast, nothing is imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hyoka"

CORE = (
    "plan",
    "plan_view",
    "scale",
    "years",
    "text",
    "widths",  # the half-width table text.py reads
    "problems",
    "validate",
    "results",
    "diff",
    "versions",
    "migrations_v5",
    "sheet",
    "report.model",
    "opinions",
)
"""Modules that do no I/O: plain data in, plain data out."""

ADAPTERS = {
    "hyoka.store",
    "hyoka.workbook",
    "hyoka.book",  # reads workbooks through python-calamine
    "hyoka.intake",
    "hyoka.reading",  # one returned file read, in collect's reader processes
    "hyoka.tables",
    "hyoka.forms",
    "hyoka.feedback",
    "hyoka.report",  # the renderers; hyoka.report.model itself is core
    "hyoka.publish",  # the website's files: HTML, text, open data, tagged PDF
    "hyoka.web",  # hyoka serve
    "hyoka.cycle",  # where a year stands, read from the workspace's files and store
    "hyoka.export",
    "hyoka.files",
    "hyoka.collect",
    "hyoka.workspace",
    "hyoka.status",
    "hyoka.opinions_io",  # the committee's opinions and replies: tables, workbooks, runs
    "hyoka.opinions_store",  # their tables in the store
    "hyoka.cli",
    "hyoka.cli_ja",
    "hyoka.ooxml_check",  # reads Office packages (zip + XML) to check their structure
    "hyoka.resources",
    "sqlite3",
    "openpyxl",
    "docx",
    "docxtpl",
    "lxml",
    "python_calamine",
    "typer",
}

KNOWN_EXCEPTIONS = {
    # plan.build_plan takes a tables.Table; the dataclass could move to the core (or build_plan take
    # the rows) so that plan no longer imports the module that opens files.
    ("plan", "hyoka.tables"),
    # validate takes intake.ReadRow (the cells read from a form) and returns store.Part: both are plain
    # dataclasses that belong in the core, beside the rules that use them.
    ("validate", "hyoka.intake"),
    ("validate", "hyoka.store"),
    # results.load_year/ratings read the store; year_results/combine are the pure part, and Part is
    # again the store's dataclass.
    ("results", "hyoka.store"),
    # The report model reads its wording from workspace.Config/Meeting (plain dataclasses, but the
    # module also reads hyoka.toml and the disk).
    ("report.model", "hyoka.workspace"),
}
"""Imports of adapters by core modules that exist today; not fixed here (reported to the lead)."""


def _imports(module: str) -> set[str]:
    path = SRC.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):  # also imports inside functions and under TYPE_CHECKING
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _adapter(name: str) -> str | None:
    if name == "hyoka.report.model" or name.startswith("hyoka.report.model."):
        return None
    for adapter in ADAPTERS:
        if name == adapter or name.startswith(adapter + "."):
            return adapter
    return None


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_adapter(module: str) -> None:
    bad = {a for name in _imports(module) if (a := _adapter(name))}
    unexpected = sorted(a for a in bad if (module, a) not in KNOWN_EXCEPTIONS)
    assert unexpected == [], f"hyoka.{module} imports adapter(s) {unexpected}"


def test_known_exceptions_still_exist() -> None:
    """When a known exception is fixed, drop it from the list so that it cannot come back."""
    stale = sorted(
        (module, adapter)
        for module, adapter in KNOWN_EXCEPTIONS
        if adapter not in {_adapter(name) for name in _imports(module)}
    )
    assert stale == []


def test_every_module_is_classified() -> None:
    """A new module must be put in CORE or ADAPTERS (or the orchestration list) deliberately."""
    orchestration = {"__init__", "__main__"}
    modules = {
        ".".join(p.relative_to(SRC).with_suffix("").parts)
        for p in SRC.rglob("*.py")
        if p.name != "__init__.py" or p.parent != SRC
    }
    modules = {m.removesuffix(".__init__") for m in modules}
    known = set(CORE) | {a.removeprefix("hyoka.") for a in ADAPTERS if a.startswith("hyoka.")} | orchestration
    packages = ("report.", "publish.", "web.")  # an adapter package's modules are adapters too
    unclassified = sorted(m for m in modules if m not in known and not m.startswith(packages))
    assert unclassified == []


@pytest.mark.parametrize("module", ["versions", "migrations_v5"])
def test_plan_versions_core_imports_only_core_modules(module: str) -> None:
    allowed = {"hyoka.plan", "hyoka.problems", "hyoka.text", "hyoka.years", "hyoka.versions"}
    hyoka = {
        n.rsplit(".", 1)[0] if n.count(".") > 1 else n for n in _imports(module) if n.startswith("hyoka.")
    }
    assert sorted(hyoka - allowed) == []
