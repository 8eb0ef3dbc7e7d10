"""A synthetic plan, workspace config and filled returned forms at any size (for ``make bench``).

Size ``k`` means k times the Koganei sample: 41·k projects, about 57·k department rows, and a number of
departments that grows slower than the rows (13 at 1x, about 60 at 10x, about 300 at 100x), as a
prefecture's branch offices would. Everything is deterministic for a given ``k`` and seed, so runs
can be compared. The texts are realistic in length and shape (100–400 characters, 1–3 paragraphs of
municipal report prose), because both the forms and the Word table cost by the character.

Usable as a module (``plan_rows``, ``write_workspace_files``, ``fill_forms``) or from the shell:
``python scripts/synth.py OUT_DIR --size 10`` writes plan.csv, hyoka.toml and ratings_R4.csv.
"""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import random
import re
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hyoka.plan import HEADINGS

SCALE = ("A", "B", "C", "D")
COUNCIL = "社会福祉協議会"

GOALS = (
    "福祉のまちづくり",
    "包括的支援体制の構築",
    "地域活動の活性化",
    "健康で安心して暮らせるまち",
    "子どもと子育て家庭を支えるまち",
    "高齢者が生きがいを持って暮らせるまち",
    "障がいのある人が自分らしく暮らせるまち",
    "誰もが参加できる地域社会",
    "支え合いの担い手づくり",
    "安全・安心な生活環境の確保",
)
POLICIES = (
    "福祉を支える基盤の整備",
    "災害に備える体制づくり",
    "人権尊重と権利擁護事業の推進",
    "情報提供の仕組みづくり",
    "地域での課題解決の体制づくり",
    "セーフティネットの機能強化",
    "社会参加の促進",
    "地域活動の支援と人材の育成",
    "多様な地域資源との連携",
    "健康づくりの推進",
    "子育て家庭への支援の充実",
    "高齢者の生活支援",
    "障がい者の自立と社会参加の支援",
    "住まいと移動の確保",
    "相談支援の充実",
)
MEASURES = (
    "暮らしやすいまちづくり",
    "移動支援の充実",
    "防災・防犯活動への参加促進",
    "要支援者の支援強化",
    "ノーマライゼーションの推進",
    "権利擁護事業の充実",
    "福祉サービスの質の確保",
    "福祉の情報発信の強化",
    "情報バリアフリーの推進",
    "地域での見守り推進",
    "総合的な相談体制の構築",
    "生活困難者への支援強化",
    "生活保障の推進",
    "地域活動への参加促進",
    "地域活動の拠点づくり",
    "地域福祉の担い手育成",
    "専門人材の育成",
    "多様な主体との連携づくり",
    "社会福祉協議会との連携強化",
    "健康寿命の延伸",
    "こころの健康づくり",
    "子育て相談の充実",
    "介護予防の推進",
    "就労支援の充実",
    "居住支援の推進",
    "ひきこもり支援の充実",
    "認知症施策の推進",
    "虐待の防止と早期発見",
)
TOPICS = (
    "地域の見守り活動",
    "避難行動要支援者の支援",
    "成年後見制度の利用",
    "生活困窮者の自立支援",
    "ひきこもり状態にある方への支援",
    "子ども食堂への支援",
    "認知症サポーターの養成",
    "介護予防・日常生活支援",
    "ボランティア活動",
    "民生委員・児童委員活動",
    "地域福祉コーディネーターの配置",
    "権利擁護",
    "高齢者虐待の防止",
    "手話通訳者の派遣",
    "移送サービス",
    "公共施設のバリアフリー化",
    "地域の防犯活動",
    "地域包括支援センターの運営",
    "健康づくり",
    "食育",
    "多世代交流",
    "ヤングケアラーへの支援",
    "障がい者の就労支援",
    "住宅確保要配慮者の居住支援",
    "福祉人材の確保",
    "災害ボランティアセンターの運営",
    "福祉サービス第三者評価",
    "福祉マップの作成",
    "町会・自治会活動",
    "市民活動団体の育成",
)
ACTIONS = (
    "の推進",
    "の充実",
    "の強化",
    "への支援",
    "の普及啓発",
    "の体制整備",
    "の拡充",
    "の周知",
    "の仕組みづくり",
    "に係る連携強化",
)
FIELDS = (
    "地域福祉",
    "自立生活支援",
    "介護福祉",
    "健康",
    "交通対策",
    "地域安全",
    "広報秘書",
    "生涯学習",
    "子育て支援",
    "保育",
    "高齢福祉",
    "障害福祉",
    "生活福祉",
    "保険年金",
    "市民協働",
    "男女共同参画",
    "住宅",
    "都市計画",
    "道路管理",
    "環境政策",
    "ごみ対策",
    "防災危機管理",
    "経済産業",
    "観光振興",
    "文化振興",
    "スポーツ振興",
    "学校教育",
    "教育総務",
    "青少年育成",
    "人権推進",
    "国際交流",
    "情報政策",
    "企画政策",
    "市民相談",
    "消費生活",
    "公園緑地",
    "建築指導",
    "子ども家庭",
    "母子保健",
    "地域包括ケア推進",
    "医療政策",
    "就労支援",
    "福祉総務",
    "保健予防",
    "多文化共生",
)
AREAS = ("北部", "南部", "東部", "西部", "中央", "臨海", "山間", "湖南")
ACHIEVEMENT_SENTENCES = (
    "{topic}について、関係機関と連携して計{n}回の説明会を開催した。",
    "参加者数は延べ{n}人となり、前年度と比べて{m}人増加した。",
    "地域包括支援センターや社会福祉協議会と情報を共有し、支援が必要な世帯の早期把握に努めた。",
    "市報及びホームページで周知を行ったほか、公共施設の窓口にリーフレットを配架した。",
    "新型コロナウイルス感染症の影響で縮小していた事業を、通常の規模で再開することができた。",
    "相談件数は{n}件で、そのうち{m}件を関係各課や専門機関につないだ。",
    "庁内の連絡会議を年{m}回開催し、事例の検討を通じて担当課間の役割分担を確認した。",
    "民生委員・児童委員の定例会で制度の説明を行い、地域での声かけへの協力を依頼した。",
    "事業者向けの研修会を開催し、{n}事業所から参加があった。",
    "アンケートでは利用者の約{p}割から「満足」又は「おおむね満足」との回答を得た。",
    "対象者の要件を見直したことにより、利用件数は前年度の約{p}割増となった。",
    "一方で、参加者が固定化しており、新たな担い手の確保が十分とは言えない状況である。",
    "予定していた講座のうち{m}回は、講師の都合により次年度に延期した。",
    "国及び東京都の補助金を活用し、必要な経費の一部を確保した。",
)
OUTLOOK_SENTENCES = (
    "引き続き関係機関と連携し、事業の周知に取り組む。",
    "参加者の固定化が課題であるため、若い世代が参加しやすい日時や実施方法を検討する。",
    "次期計画の策定に合わせて、事業の目標と評価指標を見直す。",
    "オンラインでの申請や相談の受付について、導入に向けた検討を進める。",
    "支援が必要な方を早期に把握できるよう、地域の見守りネットワークとの連携を強化する。",
    "担い手の高齢化が進んでいるため、養成講座の内容を見直し、新たな人材の発掘に努める。",
    "利用実績を分析し、必要に応じて対象者の範囲や実施回数を見直す。",
    "重層的支援体制整備事業の実施に向けて、庁内の相談支援機関との役割分担を整理する。",
    "事業の効果を検証するため、利用者アンケートを継続して実施する。",
    "財源の確保が課題であり、補助制度の活用や事業の優先順位の見直しを検討する。",
)


@dataclass(frozen=True)
class SynthRow:
    goal_no: int
    goal: str
    policy: str
    measure_no: int
    measure: str
    project_no: int
    project: str
    is_new: bool
    department: str  # the 担当課 label (a joint row names several departments)
    submitter: str  # 提出課, blank when the 担当課 submits

    @property
    def submitters(self) -> tuple[str, ...]:
        return (self.submitter,) if self.submitter else tuple(self.department.split("・"))

    def as_csv(self) -> list[str]:
        return [
            str(self.goal_no),
            self.goal,
            self.policy,
            str(self.measure_no),
            self.measure,
            str(self.project_no),
            self.project,
            "新規" if self.is_new else "",
            self.department,
            self.submitter,
        ]


@dataclass(frozen=True)
class Entry:
    """What one submitting department writes for one row."""

    rating: str
    achievement: str
    outlook: str


def department_count(size: int) -> int:
    """13 at 1x, about 60 at 10x, about 300 at 100x: departments grow slower than the plan."""
    return max(4, round(13 * size**0.68))


def department_names(count: int) -> list[str]:
    """Unique, realistic department names: plain ones first, then branch offices (北部地域福祉課)."""
    names = [f"{f}課" for f in FIELDS]
    names += [f"{a}{f}課" for a in AREAS for f in FIELDS]
    if count > len(names):
        raise ValueError(f"at most {len(names)} departments can be named")
    return names[:count]


def plan_rows(size: int, seed: int = 6) -> list[SynthRow]:
    """The plan at ``size`` times Koganei: 41·size projects, about 57·size rows, in report order."""
    rng = random.Random(f"plan-{size}-{seed}")
    goal_count = 3 * size
    projects_total = 41 * size
    departments = department_names(department_count(size))
    # A few departments carry most rows (地域福祉課 has a third of Koganei's): Zipf-like weights.
    weights = [1 / (i + 1) ** 0.8 for i in range(len(departments))]

    # 3 基本施策 per 基本目標 and 2 施策 per 基本施策, as in Koganei; projects spread over the measures.
    measures: list[tuple[int, str, str, int, str]] = []
    for g in range(1, goal_count + 1):
        goal = GOALS[(g - 1) % len(GOALS)]
        policies = rng.sample(POLICIES, 3)
        # Measure names are unique within a goal: the plan check rejects one 施策 under two 基本施策.
        names = iter(rng.sample(MEASURES, 6))
        for policy in policies:
            for m in (1, 2):
                measures.append((g, goal, policy, m, next(names)))
    per_measure = [1] * len(measures)
    for _ in range(projects_total - len(measures)):
        per_measure[rng.randrange(len(measures))] += 1

    rows: list[SynthRow] = []
    no = 0
    for (g, goal, policy, m, measure), count in zip(measures, per_measure, strict=True):
        for _ in range(count):
            no += 1
            name = rng.choice(TOPICS) + rng.choice(ACTIONS) + ("（仮称）" if rng.random() < 0.05 else "")
            is_new = rng.random() < 0.1
            kind = rng.random()
            picked = _distinct(rng, departments, weights, 3)
            labels: list[tuple[str, str]]  # (担当課, 提出課)
            if kind < 0.62:
                labels = [(picked[0], "")]
            elif kind < 0.83:  # two departments, each its own row
                labels = [(picked[0], ""), (picked[1], "")]
            elif kind < 0.92:
                labels = [(d, "") for d in picked]
            elif kind < 0.98:  # one row reported jointly: 甲課・乙課
                labels = [(f"{picked[0]}・{picked[1]}", "")]
            else:  # a row the council fills in for a department
                labels = [(f"{picked[0]}({COUNCIL})", COUNCIL)]
            rows += [SynthRow(g, goal, policy, m, measure, no, name, is_new, d, s) for d, s in labels]
    return rows


def _distinct(rng: random.Random, names: Sequence[str], weights: Sequence[float], k: int) -> list[str]:
    picked: list[str] = []
    while len(picked) < min(k, len(names)):
        name = rng.choices(names, weights)[0]
        if name not in picked:
            picked.append(name)
    return picked


def text(rng: random.Random, sentences: Sequence[str], topic: str, low: int, high: int) -> str:
    """Municipal report prose of ``low``–``high`` characters in 1–3 paragraphs."""
    target = rng.randint(low, high)
    chosen: list[str] = []
    length = 0
    while length < target:
        s = rng.choice(sentences).format(
            topic=topic, n=rng.randint(3, 480), m=rng.randint(2, 40), p=rng.randint(2, 9)
        )
        if length + len(s) > high and length >= low:
            break
        chosen.append(s)
        length += len(s)
    paragraphs = min(len(chosen), rng.randint(1, 3))
    cuts = sorted(rng.sample(range(1, len(chosen)), paragraphs - 1)) if paragraphs > 1 else []
    bounds = [0, *cuts, len(chosen)]
    return "\n".join("".join(chosen[a:b]) for a, b in itertools.pairwise(bounds))


def ratings(
    rows: Iterable[SynthRow], seed: int = 6
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """(this year's, last year's) rating per row key; a new project has none last year."""
    now: dict[tuple[str, str], str] = {}
    before: dict[tuple[str, str], str] = {}
    for r in rows:
        key = (str(r.project_no), r.department)
        rng = random.Random(f"rating-{key}-{seed}")
        code = rng.choices(SCALE, (45, 40, 12, 3))[0]
        now[key] = code
        if not r.is_new:
            i = SCALE.index(code) + rng.choices((0, -1, 1), (85, 8, 7))[0]
            before[key] = SCALE[min(max(i, 0), len(SCALE) - 1)]
    return now, before


def entry(row: SynthRow, submitter: str, rating: str, seed: int = 6) -> Entry:
    rng = random.Random(f"entry-{row.project_no}-{row.department}-{submitter}-{seed}")
    topic = re.sub(r"(の|への|に係る).*$", "", row.project) or row.project
    return Entry(
        rating=rating,
        achievement=text(rng, ACHIEVEMENT_SENTENCES, topic, 100, 400),
        outlook=text(rng, OUTLOOK_SENTENCES, topic, 60, 300),
    )


def config_text(name: str = "さくら市") -> str:
    """hyoka.toml in the sample's shape, with a meeting so that the agenda and the pack are built."""
    return f'''# hyoka の設定ファイル — ベンチマーク用の架空の市（{name}）

[committee]
name = "{name}地域福祉推進委員会"
plan_title = "地域福祉計画"
secretariat = "福祉保健部地域福祉課"

[plan]
file = "plan.csv"

[report]
font_mincho = "BIZ UD明朝"
font_gothic = "BIZ UDゴシック"

[format]
gannen = true

[forms]
password = ""

[scale]
note = """「今後の事業計画・展望」に次年度に向けての課題、検討内容について記載する。"""

[[scale.levels]]
code = "A"
label = "ほぼ達成"
description = "ほぼ施策内容を達成した。"
requires_reason = false

[[scale.levels]]
code = "B"
label = "ある程度達成・要改善"
description = "施策内容をある程度達成したが、今後の改善、検討を要する。"
requires_reason = false

[[scale.levels]]
code = "C"
label = "大きな課題"
description = "施策内容を達成したとは言えず、現状について大きな課題がある。"
requires_reason = true

[[scale.levels]]
code = "D"
label = "未実施"
description = "未実施"
requires_reason = true

[[meetings]]
id = "R6-1"
number = 1
date = 2024-08-19
time = "10:00"
place = "市役所本庁舎5階 第一会議室"
report_year = "R5"
agenda = [
    "地域福祉計画の進捗状況及び評価表(令和5年度実績報告)",
    "重層的支援体制の整備について",
    "次回日程について",
]

[[meetings.materials]]
no = "1"
title = "地域福祉計画 進捗状況調査表(R5実績)"
distribution = "事前配布"
generated = "evaluation"

[[meetings.materials]]
no = "2"
title = "重層的支援体制整備事業 全体像等について"
distribution = "事前配布"

[[meetings.materials]]
no = "3"
title = "次回日程調整表"
distribution = "当日配布"
'''


def write_plan(path: Path, rows: Sequence[SynthRow]) -> None:
    # UTF-8 with BOM, as Japanese Excel saves "CSV UTF-8".
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADINGS)
        w.writerows(r.as_csv() for r in rows)


def write_prior_ratings(path: Path, rows: Sequence[SynthRow]) -> int:
    """Last year's ratings as the flat table ``import`` reads; returns the number of rows."""
    _, before = ratings(rows)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("事業No", "担当課", "事業評価"))
        w.writerows((no, dep, code) for (no, dep), code in before.items())
    return len(before)


@dataclass(frozen=True)
class SynthFiles:
    plan: Path
    config: Path
    prior: Path
    rows: list[SynthRow]
    prior_rows: int

    @property
    def stats(self) -> dict[str, int]:
        submitters = {s for r in self.rows for s in r.submitters}
        labels = {r.department for r in self.rows}
        departments = {d for r in self.rows for d in (*r.department.split("・"), *r.submitters)}
        return {
            "projects": len({r.project_no for r in self.rows}),
            "rows": len(self.rows),
            "joint_rows": sum(len(r.submitters) > 1 for r in self.rows),
            "department_labels": len(labels),
            "departments": len({re.sub(r"\(.*\)$", "", d) for d in departments}),
            "submitters": len(submitters),
            "prior_rows": self.prior_rows,
        }


def write_workspace_files(folder: Path, size: int) -> SynthFiles:
    """plan.csv, hyoka.toml (to copy over the one ``hyoka init`` writes) and ratings_R4.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = plan_rows(size)
    files = SynthFiles(folder / "plan.csv", folder / "hyoka.toml", folder / "ratings_R4.csv", rows, 0)
    write_plan(files.plan, rows)
    files.config.write_text(config_text(), encoding="utf-8")
    count = write_prior_ratings(files.prior, rows)
    return SynthFiles(files.plan, files.config, files.prior, rows, count)


# --- filling the forms hyoka wrote, as each department would -----------------------------------------------

_NO = re.compile(r"事業No\.([^】]+)】")


@functools.lru_cache(maxsize=4)
def _answers(size: int) -> tuple[dict[tuple[str, str], SynthRow], dict[tuple[str, str], str]]:
    # Once per worker process: the plan and its ratings cost more than filling one small form.
    rows = plan_rows(size)
    return {(str(r.project_no), r.department): r for r in rows}, ratings(rows)[0]


def fill_form(path: Path, out: Path, size: int) -> int:
    """Type texts and ratings into one form (read back by its headings); returns the rows filled."""
    import openpyxl

    from hyoka.intake import column_role

    by_key, now = _answers(size)
    submitter = path.stem.split("_", 2)[2]
    wb = openpyxl.load_workbook(path)
    ws = wb["調査票"]
    header, roles = 0, {}
    for r in range(1, 40):
        found = {column_role(ws.cell(r, c).value): c for c in range(1, 10)}
        if "rating" in found and "project" in found:
            header, roles = r, {k: v for k, v in found.items() if k}
            break
    if not header:
        raise SystemExit(f"{path.name}: no header row")
    filled = 0
    for r in range(header + 1, ws.max_row + 1):
        label = ws.cell(r, roles["project"]).value
        m = _NO.search(str(label or ""))
        if not m:
            continue
        key = (m.group(1), str(ws.cell(r, roles["department"]).value))
        e = entry(by_key[key], submitter, now[key])
        ws.cell(r, roles["achievement"]).value = e.achievement
        ws.cell(r, roles["rating"]).value = e.rating
        ws.cell(r, roles["outlook"]).value = e.outlook
        filled += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return filled


def _fill_one(args: tuple[Path, Path, int]) -> int:
    return fill_form(*args)


def fill_forms(forms: Path, returned: Path, size: int, workers: int = 2) -> int:
    """Fill every form in ``forms`` into ``returned``; returns the rows filled (in parallel: this is
    set-up, not measured, and openpyxl's load and save are the slow part at 100x)."""
    jobs = [(p, returned / p.name, size) for p in sorted(forms.glob("*.xlsx"))]
    if workers <= 1 or len(jobs) < 4:
        return sum(_fill_one(j) for j in jobs)
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(_fill_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))))


def main() -> None:
    ap = argparse.ArgumentParser(description="Write a synthetic plan, hyoka.toml and last year's ratings.")
    ap.add_argument("folder", type=Path)
    ap.add_argument("--size", type=int, default=1)
    args = ap.parse_args()
    files = write_workspace_files(args.folder, args.size)
    print(files.stats)


if __name__ == "__main__":
    main()


# --- the indicator sheet (issue 11): the plan, last year's table and the returns of sample_data/indicator --

INDICATOR_SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "indicator"
INDICATORS = (  # 指標, 単位, 方向 (↓: lower is better), the range of a target
    ("参加者数", "人", "↑", (50, 2000)),
    ("相談件数", "件", "↑", (100, 5000)),
    ("実施回数", "回", "↑", (5, 60)),
    ("登録者数", "人", "↑", (20, 800)),
    ("利用件数", "件", "↑", (100, 3000)),
    ("設置数", "か所", "↑", (5, 60)),
    ("協定事業者数", "事業者", "↑", (5, 40)),
    ("受診率", "%", "↑", (40, 95)),
    ("待機児童数", "人", "↓", (5, 60)),
    ("待機者数", "人", "↓", (10, 120)),
)
INDICATOR_YEARS = ("R4", "R5", "R6", "R7")
INDICATOR_HEADINGS = (
    "基本目標No",
    "基本目標",
    "施策No",
    "施策",
    "事業No",
    "事業名",
    "新規",
    "担当課",
    "提出課",
    "指標",
    "単位",
    "方向",
    *(f"目標値({y})" for y in INDICATOR_YEARS),
)
OUTLOOKS = ("拡充", "継続", "改善", "縮小", "廃止")
REASONS = (
    "事業の周知が十分でなく、利用者数が伸びなかった。",
    "講座の日程が平日昼間に限られ、働く世代の参加が少なかった。",
    "関係機関との調整に時間を要し、事業の開始が年度後半となった。",
    "目標を上回ったが、一部の地域で実施できなかったため評価を一段階下げた。",
    "感染症対策のため定員を縮小して実施した。",
    "担い手の確保が難しく、予定していた回数を実施できなかった。",
)


def indicator_of(project_no: int, seed: int = 6) -> tuple[str, str, str, dict[str, int]]:
    """A project's 指標, 単位, 方向 and its target per year (deterministic)."""
    rng = random.Random(f"indicator-{project_no}-{seed}")
    name, unit, direction, (low, high) = rng.choice(INDICATORS)
    base = rng.randint(low, high)
    step = (-1 if direction == "↓" else 1) * max(1, base // 20)
    targets = {y: max(1, base + i * step) for i, y in enumerate(INDICATOR_YEARS)}
    if unit == "%":
        targets = {y: min(100, v) for y, v in targets.items()}
    return name, unit, direction, targets


def measure_in_goal(row: SynthRow, rows: Sequence[SynthRow]) -> int:
    """The 施策's number within its 基本目標 (the indicator sheet has no 基本施策 level)."""
    names = list(dict.fromkeys(r.measure for r in rows if r.goal_no == row.goal_no))
    return names.index(row.measure) + 1


def write_indicator_plan(path: Path, rows: Sequence[SynthRow]) -> None:
    numbers = {(r.goal_no, r.measure): measure_in_goal(r, rows) for r in rows}
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(INDICATOR_HEADINGS)
        for r in rows:
            name, unit, direction, targets = indicator_of(r.project_no)
            w.writerow(
                [
                    r.goal_no,
                    r.goal,
                    numbers[(r.goal_no, r.measure)],
                    r.measure,
                    r.project_no,
                    r.project,
                    "新規" if r.is_new else "",
                    r.department,
                    r.submitter,
                    name,
                    unit,
                    direction,
                    *(targets[y] for y in INDICATOR_YEARS),
                ]
            )


def indicator_values(row: SynthRow, year: str, seed: int = 6) -> list[dict[str, str]]:
    """What each submitting department of ``row`` types for ``year``: one dict per part, by heading.

    A joint row's 実績値 is split between its departments (the sheet sums it); the other columns
    agree. The rating is the one proposed from 達成率, now and then one level off with a reason."""
    rng = random.Random(f"indicator-entry-{row.project_no}-{row.department}-{year}-{seed}")
    _, _, direction, targets = indicator_of(row.project_no)
    target = targets[year]
    carried_out = rng.random() >= 0.03
    parts = row.submitters
    if not carried_out:
        rating, actuals = "D", ["" for _ in parts]
    else:
        ratio = rng.uniform(0.6, 1.25)
        actual = max(1, round(target / ratio if direction == "↓" else target * ratio))
        rate = (target / actual if direction == "↓" else actual / target) * 100
        rating = "A" if rate >= 100 else "B" if rate >= 80 else "C"
        if rng.random() < 0.08:  # the department's judgement differs from the proposal
            rating = {"A": "B", "B": "C", "C": "B"}[rating]
        shares = [actual // len(parts)] * len(parts)
        shares[0] += actual - sum(shares)
        actuals = [str(v) for v in shares]
    needs_reason = rating in ("C", "D") or rng.random() < 0.1
    outlook = rng.choices(OUTLOOKS, (15, 55, 20, 7, 3))[0]
    return [
        {
            "実施状況": "実施" if carried_out else "未実施",
            "実績値": actuals[i],
            "評価": rating,
            "評価理由": rng.choice(REASONS) if needs_reason else "",
            "今後の方向性": outlook,
        }
        for i in range(len(parts))
    ]


def write_indicator_prior(path: Path, rows: Sequence[SynthRow]) -> int:
    """Last year's (R4) values as the flat table ``import`` reads, one line per row; returns the lines."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("事業No", "担当課", "実施状況", "実績値", "評価", "評価理由", "今後の方向性"))
        for r in rows:
            if r.is_new:
                continue
            parts = indicator_values(r, "R4")
            total = sum(int(p["実績値"]) for p in parts if p["実績値"])
            first = parts[0]
            reason = "".join(p["評価理由"] for p in parts)
            actual = str(total) if first["実施状況"] == "実施" else ""
            w.writerow(
                (
                    r.project_no,
                    r.department,
                    first["実施状況"],
                    actual,
                    first["評価"],
                    reason,
                    first["今後の方向性"],
                )
            )
            count += 1
    return count


def indicator_config() -> str:
    """The indicator sample's hyoka.toml with the synthetic city's meeting (so that the pack is built)."""
    sample = (INDICATOR_SAMPLE / "hyoka.toml").read_text(encoding="utf-8")
    meeting = config_text()[config_text().index("[[meetings]]") :]
    return sample.rstrip() + "\n\n" + meeting


def write_indicator_files(folder: Path, size: int) -> SynthFiles:
    """plan.csv, hyoka.toml and ratings_R4.csv of the indicator sheet at ``size`` times Koganei."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = plan_rows(size)
    files = SynthFiles(folder / "plan.csv", folder / "hyoka.toml", folder / "ratings_R4.csv", rows, 0)
    write_indicator_plan(files.plan, rows)
    files.config.write_text(indicator_config(), encoding="utf-8")
    count = write_indicator_prior(files.prior, rows)
    return SynthFiles(files.plan, files.config, files.prior, rows, count)


@functools.lru_cache(maxsize=4)
def _indicator_answers(size: int) -> dict[tuple[str, str], dict[str, str]]:
    """(事業No, 提出課) → the part's values by heading, for R5."""
    out = {}
    for r in plan_rows(size):
        for submitter, values in zip(r.submitters, indicator_values(r, "R5"), strict=True):
            out[(str(r.project_no), submitter)] = values
    return out


def fill_indicator_form(path: Path, out: Path, size: int) -> int:
    """Type one department's values into its indicator form, as make_city_returns does for the sample."""
    import make_city_returns

    submitter = path.stem.split("_", 2)[2]
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, out)
    return make_city_returns.fill(out, submitter, _indicator_answers(size))


def _fill_indicator_one(args: tuple[Path, Path, int]) -> int:
    return fill_indicator_form(*args)


def fill_indicator_forms(forms: Path, returned: Path, size: int, workers: int = 2) -> int:
    jobs = [(p, returned / p.name, size) for p in sorted(forms.glob("*.xlsx"))]
    if workers <= 1 or len(jobs) < 4:
        return sum(_fill_indicator_one(j) for j in jobs)
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(_fill_indicator_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))))


def indicator_table(files: SynthFiles) -> list[list[str]]:
    """The indicator report's cells as plain strings (13 columns), for the bare python-docx floor."""
    table = []
    for r in files.rows:
        name, unit, _, targets = indicator_of(r.project_no)
        parts = indicator_values(r, "R5")
        prior = indicator_values(r, "R4") if not r.is_new else []
        actual = sum(int(p["実績値"]) for p in parts if p["実績値"])
        table.append(
            [
                r.measure,
                f"【事業No.{r.project_no}】{r.project}",
                r.department,
                name,
                unit,
                f"{targets['R5']:,}{unit}",
                f"{actual:,}{unit}" if actual else "",
                "",
                parts[0]["評価"],
                "\n".join(p["評価理由"] for p in parts if p["評価理由"]),
                parts[0]["今後の方向性"],
                prior[0]["評価"] if prior else "—",
                "",
            ]
        )
    return table
