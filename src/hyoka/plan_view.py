"""Plain-text views of the plan for the terminal, and the words of an adoption (CLI and web page)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from hyoka.plan import Plan
from hyoka.sheet import DEFAULT_LEVELS, Level
from hyoka.years import FiscalYear


class AdoptResult(Protocol):
    """What these lines need of ``workspace.AdoptResult`` (the core does not import the workspace)."""

    @property
    def file(self) -> Path: ...
    @property
    def from_year(self) -> FiscalYear: ...
    @property
    def previous(self) -> str: ...
    @property
    def replacing(self) -> str: ...
    @property
    def version_id(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def changes(self) -> list[str]: ...
    @property
    def sheet_changes(self) -> list[str]: ...


def render_tree(plan: Plan, levels: Sequence[Level] = DEFAULT_LEVELS) -> str:
    if tuple(levels) != DEFAULT_LEVELS:
        return _render_levels(plan, levels)
    lines: list[str] = []
    for goal in plan.goals():
        lines.append(f"基本目標{goal.no} {goal.name}")
        for policy in goal.policies:
            lines.append(f"  基本施策 {policy.name}")
            for measure in policy.measures:
                lines.append(f"    施策({measure.no}) {measure.name}")
                for project in measure.projects:
                    lines.append(f"      {project.rows[0].project_label}")
                    for row in project.rows:
                        joint = "（共同）" if row.is_joint else ""
                        via = (
                            ""
                            if row.submitters == row.departments
                            else f"　提出: {'・'.join(row.submitters)}"
                        )
                        lines.append(f"        - {row.department}{joint}{via}")
    c = plan.counts()
    lines.append("")
    lines.append(
        f"基本目標 {c['goals']} / 基本施策 {c['policies']} / 施策 {c['measures']} / 事業 {c['projects']} / "
        f"担当課の行 {c['rows']} / 担当課 {c['departments']}（調査票の提出課 {c['submitters']}）"
    )
    return "\n".join(lines)


def _render_levels(plan: Plan, levels: Sequence[Level]) -> str:
    """The tree of a sheet's own levels (基本方針 / 取組 …), each level with its number as it prints."""
    lines: list[str] = []
    shown: tuple[tuple[str, str], ...] = ()
    project = ""
    for row in plan.rows:
        path = row.path
        for depth, (no, name) in enumerate(path):
            if shown[: depth + 1] == path[: depth + 1]:
                continue
            outer = [n for n, _ in path[:depth] if n]
            label = levels[depth].label(no, outer)
            lines.append(f"{'  ' * depth}{levels[depth].name}{label} {name}".rstrip())
            project = ""
        shown = path
        indent = "  " * len(path)
        if row.project_no != project:
            lines.append(f"{indent}{row.project_label}")
            project = row.project_no
        joint = "（共同）" if row.is_joint else ""
        via = "" if row.submitters == row.departments else f"　提出: {'・'.join(row.submitters)}"
        lines.append(f"{indent}  - {row.department}{joint}{via}")
    c = plan.counts()
    lines.append("")
    lines.append(
        f"{levels[0].name} {c['goals']} / {levels[-1].name} {c['measures']} / 事業 {c['projects']} / "
        f"担当課の行 {c['rows']} / 担当課 {c['departments']}（調査票の提出課 {c['submitters']}）"
    )
    return "\n".join(lines)


# --- what `plan adopt` says (the CLI prints these lines; the 計画 page shows the same) ----------------


def adoption_refused(result: AdoptResult) -> str:
    """The line after the plan file's own errors: nothing was adopted."""
    return f"{result.file.name}: 誤りがあるため採用しませんでした。該当の行を直してから、もう一度実行してください。"


def adoption_heading(result: AdoptResult, gannen: bool = True) -> str:
    """「計画マスタ plan.csv を令和6年度から採用します（前の版: …）。」, the line above the changes."""
    before = f"（前の版: {result.previous}）" if result.previous else ""
    if result.replacing:
        before += f"（{result.replacing} の版を置き換えます）"
    return f"計画マスタ {result.file.name} を{result.from_year.label(gannen)}から採用します{before}。"


def change_lines(result: AdoptResult) -> list[str]:
    """The change report of an adoption: the plan's rows, then hyoka.toml's sheet definition."""
    lines = []
    if result.sheet_changes and result.changes == ["変更はありません。"]:
        lines.append("計画マスタの行の変更はありません。")
    else:
        lines.extend(result.changes)
    if result.sheet_changes:
        lines.append("評価表の定義（hyoka.toml）の変更:")
        lines.extend(result.sheet_changes)
    return lines


def adoption_done(result: AdoptResult, gannen: bool = True) -> str:
    """The line once the version is stored."""
    return f"{result.from_year.label(gannen)}からの版として採用しました（版 {result.version_id}、行 {result.rows}）。"
