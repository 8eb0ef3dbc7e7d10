"""The evaluation as plain text, in reading order — the 「テキスト版」 cities publish beside a PDF.

Each level, project and department row starts with its own marker (■ 基本目標, ◆ 基本施策, ● 施策,
○ project, ・ department), and each text keeps its paragraphs, so that a screen reader or a search
finds its way without the table.
"""

from __future__ import annotations

from collections.abc import Sequence

from hyoka.report.model import NO_RATING, NOT_SUBMITTED, Evaluation

INDENT = "　"


def render_text(ev: Evaluation, sheet_lines: Sequence[str] | None = None) -> str:
    """The text version; ``sheet_lines``: the body of a workspace's own sheet (legends, summaries,
    rows), from :func:`hyoka.publish.sheet.sheet_text_lines`, under the same title block."""
    lines: list[str] = [
        ev.title + ("（案）" if ev.draft else ""),
        ev.subtitle,
        f"{ev.date_text}　{ev.secretariat}",
        "",
    ]
    if sheet_lines is not None:
        return "\r\n".join([*lines, *sheet_lines, "", "（以上）", ""])
    lines += ["■ 評価の区分"]
    lines += [f"{INDENT}{code}：{description}" for code, description in ev.legend]
    lines += [f"{INDENT}{note}" for note in ev.note]
    lines += ["", "■ 評価の集計（件数）"]
    if ev.scale_notice:
        lines.append(f"{INDENT}{ev.scale_notice}")
    for which, label in (("this_year", ev.year_label), ("prior_year", ev.prior_label)):
        lines.append(f"{INDENT}{label}")
        for g in (*ev.summary.goals, ev.summary.total):
            counts = getattr(g, which)
            name = f"基本目標{g.goal_no}　{g.goal}" if g.goal_no else g.goal
            parts = "、".join(f"{c} {counts.get(c, 0)}件" for c in ev.summary.columns)
            lines.append(f"{INDENT * 2}{name}：{parts}（計 {sum(counts.values())}件）")
    lines.append(f"{INDENT}前年度から評価が変わった事業：{len(ev.summary.changes)}件")
    for ch in ev.summary.changes:
        word = {"up": "上がった", "down": "下がった", "changed": "変更"}.get(ch.direction, "変わらない")
        lines.append(f"{INDENT * 2}{ch.project}（{ch.department}）：{ch.before} → {ch.after}（{word}）")
    last_goal = None
    for block in ev.blocks:
        goal = f"基本目標{block.goal_no}　{block.goal}" if block.goal_no else block.goal
        if goal != last_goal:
            lines += ["", f"■ {goal}"]
            last_goal = goal
        lines += ["", f"◆ 基本施策　{block.policy}"]
        names = dict(block.measures)
        last_measure = None
        for project in block.projects:
            if project.measure_no != last_measure:
                lines += ["", f"● 施策({project.measure_no})　{names.get(project.measure_no, '')}".rstrip()]
                last_measure = project.measure_no
            new = "【新規】" if project.is_new else ""
            lines += ["", f"○ {project.heading}{new}{project.name}"]
            for row in project.rows:
                missing = bool(row.missing) and ev.draft
                rating = NOT_SUBMITTED if missing else (row.rating or NO_RATING)
                lines.append(f"{INDENT}・担当課：{row.key[1]}")
                lines.append(f"{INDENT * 2}事業評価（{ev.year_label}）：{rating}")
                lines.append(f"{INDENT * 2}前年度事業評価（{ev.prior_label}）：{row.prior or NO_RATING}")
                lines.append(f"{INDENT * 2}事業実績・評価理由：")
                lines += [f"{INDENT * 3}{p}" if p else "" for p in row.achievement] or [
                    f"{INDENT * 3}（記載なし）"
                ]
                lines.append(f"{INDENT * 2}今後の事業計画・展望：")
                lines += [f"{INDENT * 3}{p}" if p else "" for p in row.outlook] or [
                    f"{INDENT * 3}（記載なし）"
                ]
    lines += ["", "（以上）", ""]
    return "\r\n".join(lines)
