"""The workspace: a folder with ``hyoka.toml``, the plan master and the store.

Every command finds it from the current folder upward, or from ``-w DIR``.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any

from hyoka.files import os_reason
from hyoka.plan import H_NO, Plan, build_plan
from hyoka.problems import HyokaError
from hyoka.resources import sample_dir
from hyoka.scale import DEFAULT_SCALE, RatingScale
from hyoka.store import Store
from hyoka.tables import read_table
from hyoka.text import clean_text
from hyoka.years import FiscalYear, parse_time

CONFIG_NAME = "hyoka.toml"
STORE_NAME = "hyoka.db"
DISTRIBUTIONS = ("事前配布", "当日配布")


@dataclass(frozen=True)
class Material:
    no: str
    title: str
    distribution: str = "事前配布"
    file: Path | None = None
    generated: str | None = None  # "evaluation": the table hyoka renders (資料1)


@dataclass(frozen=True)
class Meeting:
    id: str
    number: int
    day: date
    start: time
    place: str
    agenda: tuple[str, ...]
    materials: tuple[Material, ...]
    report_year: FiscalYear
    # Some committees' lists always say what is handed out on the day: with nothing to hand out,
    # the 配布資料一覧 then ends with a row 「— 当日配布」.
    show_empty_distributions: bool = False

    @property
    def fiscal_year(self) -> FiscalYear:
        return FiscalYear.of(self.day)


@dataclass(frozen=True)
class Config:
    committee: str
    plan_title: str
    secretariat: str
    plan_file: Path
    scale: RatingScale
    meetings: tuple[Meeting, ...]
    font_mincho: str = "BIZ UD明朝"
    font_gothic: str = "BIZ UDゴシック"
    gannen: bool = True
    form_password: str = ""

    def placeholders(self) -> list[str]:
        """Settings still holding the ○○ that `hyoka init` writes for the clerk to replace."""
        values = {"[committee] name": self.committee, "[committee] secretariat": self.secretariat}
        return [key for key, value in values.items() if "○○" in value]

    def meeting(self, meeting_id: str | None, year: FiscalYear) -> Meeting | None:
        """The meeting named, or the last one that reports on ``year``."""
        if meeting_id:
            for m in self.meetings:
                if m.id == meeting_id:
                    return m
            known = "、".join(m.id for m in self.meetings) or "（なし）"
            raise HyokaError(f"会議「{meeting_id}」は hyoka.toml にありません。設定済みの会議: {known}")
        matching = [m for m in self.meetings if m.report_year == year]
        return max(matching, key=lambda m: m.day) if matching else None


# --- reading hyoka.toml: every value checked for its type, with a message naming where it is ---------


def _wrong(where: str, key: str, expected: str) -> HyokaError:
    return HyokaError(f"hyoka.toml の [{where}] の {key} は{expected}で書いてください。")


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise HyokaError(
            f"hyoka.toml の [{name}] は表（[{name}] の見出しの下に 名前 = 値）で書いてください。"
        )
    return value


def _str(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    """A text value (cleaned: it ends up in Excel and Word); required when there is no default."""
    value = data.get(key, default)
    if value is None:
        raise HyokaError(f"hyoka.toml の [{where}] に {key} を設定してください。")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _wrong(where, key, '文字列（"…"）')
    text = clean_text(str(value)).strip()
    if not text and default is None:
        raise HyokaError(f"hyoka.toml の [{where}] に {key} を設定してください。")
    return text


def _bool(data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise _wrong(where, key, " true か false（引用符なし）")
    return value


def _int(data: Mapping[str, Any], key: str, where: str, default: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _wrong(where, key, "1以上の整数")
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _wrong(where, key, "一覧（[ ... ]）")
    return value


def parse_config(data: Mapping[str, Any], root: Path) -> Config:
    committee = _section(data, "committee")
    plan = _section(data, "plan")
    report = _section(data, "report")
    forms = _section(data, "forms")
    fmt = _section(data, "format")
    try:
        scale = RatingScale.from_config(_section(data, "scale")) if "scale" in data else DEFAULT_SCALE
    except ValueError as exc:
        raise HyokaError(f"hyoka.toml の [scale]: {exc}") from None
    meetings = _list(data, "meetings", "meetings")
    return Config(
        committee=_str(committee, "name", "committee"),
        plan_title=_str(committee, "plan_title", "committee", "地域福祉計画") or "地域福祉計画",
        secretariat=_str(committee, "secretariat", "committee"),
        plan_file=root / _str(plan, "file", "plan"),
        scale=scale,
        meetings=tuple(_meeting(m, i, root) for i, m in enumerate(meetings, 1)),
        font_mincho=_str(report, "font_mincho", "report", "BIZ UD明朝") or "BIZ UD明朝",
        font_gothic=_str(report, "font_gothic", "report", "BIZ UDゴシック") or "BIZ UDゴシック",
        gannen=_bool(fmt, "gannen", "format", True),
        form_password=_str(forms, "password", "forms", ""),
    )


EARLIEST_DAY = date(1926, 12, 25)  # 昭和: the oldest era hyoka writes


def _meeting(m: Any, i: int, root: Path) -> Meeting:
    where = f"meetings の {i} 番目"
    if not isinstance(m, Mapping):
        raise HyokaError(
            f"hyoka.toml の [[meetings]] の {i} 番目は表（[[meetings]] の下に 名前 = 値）で書いてください。"
        )
    day = m.get("date")
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date):
        try:
            day = date.fromisoformat(str(day))
        except ValueError:
            raise _wrong(where, "date", " 2024-08-19 のような日付") from None
    if day < EARLIEST_DAY:
        raise _wrong(where, "date", f" {EARLIEST_DAY.isoformat()} 以降の日付")
    try:
        raw_time = m.get("time", "10:00")
        start = raw_time if isinstance(raw_time, time) else parse_time(_str(m, "time", where, "10:00"))
        report_year = (
            FiscalYear.parse(_str(m, "report_year", where))
            if "report_year" in m
            else FiscalYear.of(day).previous()
        )
    except ValueError as exc:
        raise HyokaError(f"hyoka.toml の [{where}]: {exc}") from None
    materials = []
    for j, mat in enumerate(_list(m, "materials", where), 1):
        mat_where = f"{where} の資料 {j} 番目"
        if not isinstance(mat, Mapping):
            raise HyokaError(
                f"hyoka.toml の [{mat_where}] は表（[[meetings.materials]] の下に 名前 = 値）で書いてください。"
            )
        distribution = _str(mat, "distribution", mat_where, "事前配布")
        if distribution not in DISTRIBUTIONS:
            raise _wrong(mat_where, "distribution", " 事前配布 か 当日配布")
        file = _str(mat, "file", mat_where, "")
        generated = _str(mat, "generated", mat_where, "")
        materials.append(
            Material(
                no=_str(mat, "no", mat_where, str(j)),
                title=_str(mat, "title", mat_where),
                distribution=distribution,
                file=(root / file) if file else None,
                generated=generated or None,
            )
        )
    number = _int(m, "number", where, i)
    agenda = _list(m, "agenda", where)
    if not all(isinstance(a, str) for a in agenda):
        raise _wrong(where, "agenda", '文字列の一覧（["議題1", "議題2"]）')
    return Meeting(
        id=_str(m, "id", where, f"{FiscalYear.of(day).short}-{number}"),
        number=number,
        day=day,
        start=start,
        place=_str(m, "place", where, ""),
        agenda=tuple(clean_text(a).strip() for a in agenda),
        materials=tuple(materials),
        report_year=report_year,
        show_empty_distributions=_bool(m, "show_empty_distributions", where, False),
    )


@dataclass
class Workspace:
    root: Path
    config: Config

    @classmethod
    def load(cls, root: Path) -> Workspace:
        path = root / CONFIG_NAME
        try:
            # utf-8-sig: Windows Notepad long saved UTF-8 with a byte-order mark.
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            where = f"{m.group(1)}行目あたり" if m else "どこか"
            raise HyokaError(
                f"{path}: 設定ファイルの{where}の書き方に誤りがあります。引用符・括弧・= の対応を確かめてください"
                f"（詳細: {exc}）。"
            ) from None
        except UnicodeDecodeError:
            raise HyokaError(f"{path}: 設定ファイルは UTF-8 で保存してください。") from None
        except OSError as exc:
            raise HyokaError(f"{path}: 設定ファイルを読み込めません（{os_reason(exc)}）。") from None
        return cls(root, parse_config(data, root))

    @classmethod
    def find(cls, explicit: Path | None = None, start: Path | None = None) -> Workspace:
        if explicit is not None:
            if explicit.is_file():
                raise HyokaError(
                    f"-w には {CONFIG_NAME} のあるフォルダを指定してください（{explicit} はファイルです）。"
                )
            if not (explicit / CONFIG_NAME).is_file():
                raise HyokaError(
                    f"{explicit} は hyoka のワークスペースではありません（{CONFIG_NAME} がありません）。"
                    f"`hyoka init {explicit}` で作成してください。"
                )
            return cls.load(explicit.resolve())
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).is_file():
                return cls.load(folder)
        raise HyokaError(
            "ワークスペースが見つかりません。ワークスペースのフォルダで実行するか -w でフォルダを指定してください。"
            "新しく作るには `hyoka init フォルダ名 --plan 計画マスタ.xlsx`（見本は `hyoka init フォルダ名 --sample`）。"
        )

    @cached_property
    def plan(self) -> Plan:
        plan, problems = load_plan(self.config.plan_file)
        if plan is None or any(p.severity == "error" for p in problems):
            lines = "\n".join(p.render() for p in problems)
            raise HyokaError(f"計画マスタに誤りがあります。`hyoka plan check` で確認してください。\n{lines}")
        return plan

    @property
    def scale(self) -> RatingScale:
        return self.config.scale

    @property
    def store_path(self) -> Path:
        return self.root / STORE_NAME

    def store(self) -> Store:
        return Store.open(self.store_path)

    @property
    def out_dir(self) -> Path:
        return self.root / "out"


def load_plan(path: Path) -> tuple[Plan | None, list[Any]]:
    return build_plan(read_table(path, H_NO))


def init_workspace(root: Path, plan_file: Path | None, sample: bool) -> Workspace:
    """Create a workspace; with ``sample`` the Koganei sample's plan and meeting.

    A plan file that already lies in the folder is used where it is, so that there is only ever
    one plan file for the clerk to edit; one from elsewhere is copied in.
    """
    if root.exists() and not root.is_dir():
        raise HyokaError(f"{root} はファイルです。ワークスペースにするフォルダを指定してください。")
    if (root / CONFIG_NAME).exists():
        raise HyokaError(
            f"{root} には既にワークスペースがあります（{CONFIG_NAME}）。別のフォルダを指定してください。"
        )
    if sample and plan_file:
        raise HyokaError("--sample と --plan は同時に指定できません。")
    if not sample and plan_file is None:
        raise HyokaError("計画マスタを --plan で指定してください（見本で試すには --sample）。")
    if plan_file is not None:
        plan, problems = load_plan(plan_file)
        if plan is None or any(p.severity == "error" for p in problems):
            lines = "\n".join(p.render() for p in problems)
            raise HyokaError(f"計画マスタに誤りがあるため作成を中止しました。\n{lines}")
    try:
        root.mkdir(parents=True, exist_ok=True)
        if sample:
            src = sample_dir()
            shutil.copy2(src / "plan.csv", root / "plan.csv")
            shutil.copy2(src / CONFIG_NAME, root / CONFIG_NAME)
            if (src / "materials").is_dir():
                shutil.copytree(src / "materials", root / "materials", dirs_exist_ok=True)
        else:
            assert plan_file is not None
            if plan_file.resolve().parent == root.resolve():
                target = plan_file
            else:
                target = root / ("plan" + plan_file.suffix.lower())
                shutil.copy2(plan_file, target)
            (root / CONFIG_NAME).write_text(default_config(target.name), encoding="utf-8")
    except OSError as exc:
        raise HyokaError(
            f"{root} に書き込めません（{os_reason(exc)}）。フォルダの場所と権限を確認してください。"
        ) from None
    ws = Workspace.load(root.resolve())
    ws.store().close()
    return ws


def default_config(plan_name: str) -> str:
    levels = "\n".join(
        f'[[scale.levels]]\ncode = "{r.code}"\nlabel = "{r.label}"\ndescription = "{r.description}"\n'
        f"requires_reason = {'true' if r.requires_reason else 'false'}\n"
        for r in DEFAULT_SCALE.levels
    )
    return f"""# hyoka の設定ファイル（UTF-8）。委員会名などを自分の市の値に書き換えてください。

[committee]
name = "○○市地域福祉推進委員会"        # 委員会名（次第・資料の表題に使います）
plan_title = "地域福祉計画"            # 評価表の表題「○○の進捗状況及び評価表」
secretariat = "○○部地域福祉課"         # 事務局（評価表の表紙に記載）

[plan]
file = "{plan_name}"                   # 計画マスタ（.xlsx または .csv）

[report]
font_mincho = "BIZ UD明朝"
font_gothic = "BIZ UDゴシック"

[format]
gannen = true                          # 1年を「元年」と書く

[forms]
password = ""                          # 調査票のシート保護のパスワード（空欄ならパスワードなし）

# 事業評価の評価基準（良い順）。requires_reason = true の評価は「今後の事業計画・展望」が必須です。
[scale]
note = "{DEFAULT_SCALE.note}"

{levels}
# 会議（次第・配布資料一覧を作るときに使います）
# [[meetings]]
# id = "R6-1"
# number = 1
# date = 2024-08-19
# time = "10:00"
# place = "市役所○階 会議室"
# agenda = ["地域福祉計画の進捗状況及び評価表(令和5年度実績報告)", "次回日程について"]
# [[meetings.materials]]
# no = "1"
# title = "地域福祉計画 進捗状況調査表(R5実績)"
# distribution = "事前配布"
# generated = "evaluation"
# show_empty_distributions = false    # true: 当日配布の資料がなくても一覧に「— 当日配布」の行を入れる
"""
