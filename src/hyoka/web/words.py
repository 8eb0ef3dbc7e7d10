"""The web page's words for what the library leaves to its front ends (hyoka.problems.HINTS)."""

from __future__ import annotations

from hyoka.problems import HyokaError

WEB_HINTS: dict[str, str] = {
    # the 資料 page's 「未提出の行があっても…」 and the 意見・回答 page's 「未回答の意見があっても…」 box
    "draft": "「案」として作るには、「…「案」として作る」の欄にチェックを入れて作成してください。",
    "years": "比べる年度を、保存済みの年度から選び直してください。",
    "member": "委員は hyoka.toml の [[meetings]] の members に書いてください。",
    "init-plan": "ワークスペースを作るには、コマンドで `hyoka init フォルダ名 --plan 計画マスタ.xlsx` を実行します。",
}


def said(exc: HyokaError) -> str:
    """A handled failure as the page shows it: the library's message and, where it has one, the hint."""
    return f"{exc}\n{WEB_HINTS[exc.hint]}" if exc.hint else str(exc)
