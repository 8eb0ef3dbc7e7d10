"""Where a year's cycle stands: 計画 → 調査票 → 回収 → 資料 → 比較 (→ 意見・回答 for each meeting that
reports on the year and has members or opinions), each done or not, and what is next.

Read from the workspace as it is (the plan check, the forms and documents in ``out/``, the store), so
that the browser's home page and any other front end say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hyoka.problems import HyokaError
from hyoka.results import prior_ratings
from hyoka.status import year_status
from hyoka.workspace import Workspace, load_plan
from hyoka.years import FiscalYear


@dataclass(frozen=True)
class Step:
    key: str  # plan | forms | collect | report | diff | opinions
    title: str
    done: bool
    detail: str  # one line for the clerk
    meeting: str = ""  # for opinions: the meeting whose opinions and replies these are


@dataclass(frozen=True)
class Cycle:
    year: FiscalYear
    steps: tuple[Step, ...]

    @property
    def next(self) -> Step | None:
        return next((s for s in self.steps if not s.done), None)


def forms_folder(out_dir: Path, year: FiscalYear) -> Path:
    return out_dir / "forms" / year.short


def report_folder(out_dir: Path, year: FiscalYear) -> Path:
    return out_dir / year.short


def cycle(ws: Workspace, year: FiscalYear) -> Cycle:
    """The five steps for ``year``; the first that is not done is the next."""
    label = year.label(ws.config.gannen)
    plan, problems = load_plan(ws.config.plan_file, ws.sheet)
    errors = [p for p in problems if p.severity == "error"]
    if plan is None or errors:
        plan_step = Step("plan", "計画", False, f"計画マスタに誤りが {len(errors) or 1} 件あります。")
        return Cycle(year, (plan_step,))
    counts = plan.counts()
    steps = [Step("plan", "計画", True, f"事業 {counts['projects']} 件、担当課の行 {counts['rows']} 行")]
    forms = sorted(forms_folder(ws.out_dir, year).glob("*.xlsx"))
    steps.append(
        Step(
            "forms",
            "調査票",
            bool(forms),
            f"{label}の調査票 {len(forms)} 件を作成済み"
            if forms
            else f"{label}の調査票はまだ作っていません。",
        )
    )
    try:
        with ws.store() as store:
            version_plan = store.version_for(year).plan
            status = year_status(store, version_plan, year)
            prior = prior_ratings(store, year)
    except HyokaError as exc:
        steps.append(Step("collect", "回収", False, str(exc)))
        return Cycle(year, tuple(steps))
    done = len(status.in_state("complete"))
    complete = status.complete
    detail = f"{done}/{len(status.departments)} 課が完了"
    if status.disagreements:
        detail += f"、不一致 {len(status.disagreements)} 行"
    steps.append(Step("collect", "回収", complete, detail))
    documents = sorted(report_folder(ws.out_dir, year).glob("*.docx"))
    steps.append(
        Step(
            "report",
            "資料",
            bool(documents) and complete,
            f"{len(documents)} 件の文書を作成済み" if documents else "評価表・会議資料はまだ作っていません。",
        )
    )
    prior_label = year.previous().label(ws.config.gannen)
    steps.append(
        Step(
            "diff",
            "比較",
            bool(prior) and complete,
            f"{prior_label}と比べられます"
            if prior
            else f"{prior_label}の評価が保存されていません（取り込むと比べられます）。",
        )
    )
    steps.extend(opinion_steps(ws, year))
    return Cycle(year, tuple(steps))


def opinion_steps(ws: Workspace, year: FiscalYear) -> list[Step]:
    """意見・回答 for each meeting that reports on ``year`` and has members set or opinions recorded:
    done when every opinion has its reply."""
    from hyoka.opinions_io import load_opinions

    steps = []
    for m in ws.config.meetings:
        if m.report_year != year:
            continue
        try:
            mo = load_opinions(ws, m.id)
        except HyokaError as exc:
            steps.append(Step("opinions", "意見・回答", False, str(exc), m.id))
            continue
        if not mo.answered and not m.members:
            continue  # the city records no opinions for this meeting
        if not mo.answered:
            detail = f"会議 {m.id} の意見はまだ記録されていません。"
        else:
            answered = sum(d.complete for d in mo.departments)
            detail = f"会議 {m.id}: 意見 {len(mo.answered)} 件、回答済み {answered}/{len(mo.departments)} 課"
        steps.append(Step("opinions", "意見・回答", bool(mo.answered) and mo.complete, detail, m.id))
    return steps
