"""The command line: each command parses, makes one library call, prints, and picks the exit code.

Exit codes: 0 all good, 1 input rejected or a handled failure, 2 usage error. Heavy libraries are
imported inside the commands that need them, so that ``hyoka --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from hyoka import __version__
from hyoka.problems import HyokaError


class _Group(TyperGroup):
    """The one place where failures become messages: handled ones print one line, others too unless --debug."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except HyokaError as exc:
            typer.echo(f"エラー: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("中断しました。保存済みのデータは変わっていません。", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:
            # Usage errors and exits belong to the CLI framework (click, or typer's copy of it).
            if _state["debug"] or type(exc).__module__.split(".")[0] in {"click", "typer"}:
                raise
            typer.echo(
                f"エラー: 想定外の問題が発生しました（{type(exc).__name__}: {exc}）。"
                "保存済みのデータは変わっていません。--debug を付けて実行すると詳細が表示されます。",
                err=True,
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    help="hyoka — 地域福祉計画の進捗評価（調査票の配布・回収、評価表・会議資料の作成、前年度比較）",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
plan_app = typer.Typer(
    help="計画マスタ（基本目標・基本施策・施策・事業・担当課）の確認", no_args_is_help=True
)
app.add_typer(plan_app, name="plan")

_state = {"debug": False}

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="ワークスペースのフォルダ（省略時は現在のフォルダから上へ探します）"
    ),
]
YearOpt = Annotated[str, typer.Option("--year", "-y", help="年度（R5、令和5年度、2023 など）")]
JsonOpt = Annotated[bool, typer.Option("--json", help="機械可読なJSONで出力します")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hyoka {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="バージョンを表示して終了します"),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="想定外のエラーの詳細（トレースバック）を表示します")
    ] = False,
) -> None:
    _state["debug"] = debug


def fail(message: str) -> NoReturn:
    typer.echo(f"エラー: {message}", err=True)
    raise typer.Exit(1)


def _workspace(path: Path | None):  # type: ignore[no-untyped-def]
    from hyoka.workspace import Workspace

    return Workspace.find(path)


def _year(text: str):  # type: ignore[no-untyped-def]
    from hyoka.years import FiscalYear

    try:
        return FiscalYear.parse(text)
    except ValueError as exc:
        typer.echo(f"エラー: {exc}", err=True)
        raise typer.Exit(2) from None


# --- init and plan -----------------------------------------------------------------------------------


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="作成するワークスペースのフォルダ")],
    plan: Annotated[Path | None, typer.Option("--plan", help="計画マスタ（.xlsx または .csv）")] = None,
    sample: Annotated[
        bool, typer.Option("--sample", help="見本（小金井市の計画と会議）で作成します")
    ] = False,
) -> None:
    """ワークスペース（設定ファイル hyoka.toml とデータ保存先）を作成します。"""
    from hyoka.workspace import init_workspace

    ws = init_workspace(folder, plan, sample)
    counts = ws.plan.counts()
    typer.echo(f"ワークスペースを作成しました: {ws.root}")
    typer.echo(
        f"  計画マスタ: {ws.config.plan_file.name}（事業 {counts['projects']} 件、担当課の行 {counts['rows']} 行）"
    )
    typer.echo(f"  設定ファイル: {ws.root / 'hyoka.toml'}（委員会名・事務局・会議を確認してください）")


@plan_app.command("check")
def plan_check(
    file: Annotated[
        Path | None, typer.Argument(help="確認する計画マスタ（省略時はワークスペースの計画）")
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """計画マスタの誤りを、行番号付きですべて一覧にします。"""
    from hyoka.workspace import load_plan

    path = file if file is not None else _workspace(workspace).config.plan_file
    plan, problems = load_plan(path)
    if json_out:
        _print_json({"file": str(path), "valid": not problems, "problems": [p.to_dict() for p in problems]})
    else:
        for p in problems:
            typer.echo(p.render())
        if problems:
            typer.echo(
                f"\n{path.name}: {len(problems)} 件の誤りがあります。該当の行を直してから、もう一度確認してください。"
            )
        elif plan is not None:
            c = plan.counts()
            typer.echo(
                f"{path.name}: 誤りはありません（事業 {c['projects']} 件、担当課の行 {c['rows']} 行）。"
            )
    raise typer.Exit(1 if problems else 0)


@plan_app.command("show")
def plan_show(workspace: WorkspaceOpt = None) -> None:
    """計画の体系（基本目標・基本施策・施策・事業・担当課）と件数を表示します。"""
    from hyoka.plan_view import render_tree

    ws = _workspace(workspace)
    typer.echo(render_tree(ws.plan))


# --- forms, import, collect, status ---------------------------------------------------------------------


# --- report ------------------------------------------------------------------------------------------


# --- diff and history --------------------------------------------------------------------------------


def _print_json(data: object) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def main() -> None:
    """Console entry point."""
    app()
