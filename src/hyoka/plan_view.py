"""Plain-text views of the plan for the terminal."""

from __future__ import annotations

from hyoka.plan import Plan


def render_tree(plan: Plan) -> str:
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
