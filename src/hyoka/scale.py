"""The rating scale: codes, their meaning, and their order from best to worst.

Forms, validation, the report's legend and the direction of a change in diff all read the scale from
here, so a city that rates 1–5 or S/A/B only changes its ``hyoka.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hyoka.text import clean_text, normalize_code

Direction = Literal["up", "down", "same"]


@dataclass(frozen=True)
class Rating:
    code: str
    label: str
    description: str
    requires_reason: bool = False


@dataclass(frozen=True)
class RatingScale:
    """Ratings ordered best → worst, and the note printed under the legend."""

    levels: tuple[Rating, ...]
    note: str = ""

    def __post_init__(self) -> None:
        codes = [r.code for r in self.levels]
        if len(codes) < 2:
            raise ValueError("評価基準には2つ以上の評価を定義してください。")
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(
                f"評価のコード {'・'.join(twice)} が2回以上あります（全角・半角は同じコードとみなします）。"
            )

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.levels]

    @property
    def codes_text(self) -> str:
        return "・".join(self.codes)

    def get(self, code: str) -> Rating | None:
        return next((r for r in self.levels if r.code == code), None)

    def rank(self, code: str) -> int:
        """0 for the best rating; raises KeyError for a code not in the scale."""
        for i, r in enumerate(self.levels):
            if r.code == code:
                return i
        raise KeyError(code)

    def normalize(self, value: object) -> str | None:
        """The scale code a cell value means (``Ａ``, `` b `` → A, B), or None."""
        text = normalize_code(value)
        if text in self.codes:
            return text
        upper = text.upper()
        return upper if upper in self.codes else None

    def direction(self, before: str, after: str) -> Direction:
        """Better or worse by the scale's order, never by comparing the codes' letters."""
        a, b = self.rank(before), self.rank(after)
        return "same" if a == b else ("up" if b < a else "down")

    def steps(self, before: str, after: str) -> int:
        return abs(self.rank(before) - self.rank(after))

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> RatingScale:
        levels = data.get("levels")
        if not isinstance(levels, list) or not levels:
            raise ValueError("[scale] に levels（評価の一覧）がありません。")
        items = []
        for i, level in enumerate(levels, 1):
            if not isinstance(level, Mapping) or not normalize_code(level.get("code", "")):
                raise ValueError(f"{i} 番目の評価に code がありません。")
            requires_reason = level.get("requires_reason", False)
            if not isinstance(requires_reason, bool):
                raise ValueError(
                    f"{i} 番目の評価の requires_reason は true か false（引用符なし）で書いてください。"
                )
            items.append(
                Rating(
                    code=normalize_code(level["code"]),
                    label=clean_text(level.get("label", "")).strip(),
                    description=clean_text(level.get("description", level.get("label", ""))).strip(),
                    requires_reason=requires_reason,
                )
            )
        return cls(tuple(items), clean_text(data.get("note", "")))


DEFAULT_SCALE = RatingScale(
    levels=(
        Rating("A", "ほぼ達成", "ほぼ施策内容を達成した。"),
        Rating("B", "ある程度達成・要改善", "施策内容をある程度達成したが、今後の改善、検討を要する。"),
        Rating(
            "C",
            "大きな課題",
            "施策内容を達成したとは言えず、現状について大きな課題がある。",
            requires_reason=True,
        ),
        Rating("D", "未実施", "未実施", requires_reason=True),
    ),
    note="「今後の事業計画・展望」に次年度に向けての課題、検討内容について記載する。",
)


def same_scale(before: RatingScale, after: RatingScale) -> bool:
    """Whether ratings of the two scales can be ranked against each other: the same codes in the
    same order (labels, descriptions and the note may differ). diff, history, the report's summary
    and collect's rating-jump all compare two years' ratings by this one rule."""
    return before.codes == after.codes
