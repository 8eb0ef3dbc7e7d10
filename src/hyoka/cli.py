"""The command line: each command parses, makes one library call, prints, and picks the exit code.

Exit codes: 0 all good, 1 input rejected or a handled failure, 2 usage error. Heavy libraries are
imported inside the commands that need them, so that ``hyoka --help`` stays fast.
"""

# No ``from __future__ import annotations`` here: typer reads every command's annotations when it
# builds the commands (each process, even for --help), and a string annotation costs a compile().
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from hyoka import __version__
from hyoka.cli_ja import JaGroup, JaTyper

if TYPE_CHECKING:  # the CLI imports the library lazily, so that --help stays fast
    from hyoka.workspace import Workspace
    from hyoka.years import FiscalYear


CLI_HINTS: dict[str, str] = {
    "draft": "「案」は --draft を付けて作成します。",
    "years": "比べる年度は --year と --against で指定します（例: --year R6 --against R5）。",
    "member": "委員は --member で指定します（例: --member 委員A --member 委員B）。",
    "init-plan": "作成するには `hyoka init フォルダ名 --plan 計画マスタ.xlsx`（見本は `hyoka init フォルダ名 --sample`）。",
}
"""The command line's words for each of the library's hints (hyoka.problems.HINTS)."""

PROBLEM_HINTS: dict[str, str] = {
    "file-older-than-current": "古い版として受け付けるには、--accept-older にこのファイルを指定します。",
    "file-duplicate-superseded": "この版に戻すには、--accept-older にこのファイルを指定します。",
}
"""The command line's words for what the clerk can do about a problem, printed under it."""


class _Group(JaGroup):
    """The one place where failures become messages: handled ones print one line, others too unless --debug."""

    def invoke(self, ctx: Any) -> Any:
        from hyoka.problems import HyokaError  # here, not at the top: --help needs no catalogue

        try:
            return super().invoke(ctx)
        except HyokaError as exc:
            hint = f"\n{CLI_HINTS[exc.hint]}" if exc.hint else ""
            typer.echo(f"エラー: {exc}{hint}", err=True)
            raise typer.Exit(1) from None
        except BrokenPipeError:
            # The output went to a program that stopped reading (| head): not an error of ours.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            typer.echo("中断しました。保存済みのデータは変わっていません。", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:
            # Usage errors and exits belong to the CLI framework (click, or typer's copy of it).
            if _state["debug"] or type(exc).__module__.split(".")[0] in {"click", "typer"}:
                raise
            # Per-file transactions mean nothing is ever half-stored, but files accepted before the
            # failure are stored: say only what is true in every command.
            typer.echo(
                f"エラー: 想定外の問題が発生したため処理を中断しました（{type(exc).__name__}: {exc}）。"
                "--debug を付けて実行すると詳細が表示されます。この表示を開発者に伝えてください。",
                err=True,
            )
            raise typer.Exit(1) from None


app = JaTyper(
    cls=_Group,
    help="hyoka — 地域福祉計画の進捗評価（調査票の配布・回収、評価表・会議資料の作成、前年度比較）",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
plan_app = JaTyper(help="計画マスタ（基本目標・基本施策・施策・事業・担当課）の確認", no_args_is_help=True)
app.add_typer(plan_app, name="plan")
sheet_app = JaTyper(help="評価表の定義（市ごとの列・評価基準）の表示と確認", no_args_is_help=True)
app.add_typer(sheet_app, name="sheet")

_state: dict[str, Any] = {"debug": False, "workspace": None}

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        metavar="フォルダ",
        help="ワークスペースのフォルダ（省略時は現在のフォルダから上へ探します）",
    ),
]
YearOpt = Annotated[
    str, typer.Option("--year", "-y", metavar="年度", help="年度（R5、令和5年度、2023 など）")
]
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
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            metavar="フォルダ",
            help="ワークスペースのフォルダ（コマンドの前にも後にも書けます）",
        ),
    ] = None,
) -> None:
    _state["debug"] = debug
    _state["workspace"] = workspace


def _folder(path: Path | None) -> Path | None:
    """The workspace folder given after the command, or else before it (``hyoka -w DIR status``)."""
    return path if path is not None else _state["workspace"]


def fail(message: str) -> NoReturn:
    typer.echo(f"エラー: {message}", err=True)
    raise typer.Exit(1)


def _workspace(path: Path | None, *, notice: bool = True) -> "Workspace":
    from hyoka.workspace import Workspace

    ws = Workspace.find(_folder(path))
    if notice:
        _working_copy_notice(ws)
    return ws


def _working_copy_notice(ws: "Workspace") -> None:
    """Once per command: the plan file or hyoka.toml's sheet definition differs from the latest
    adopted version (with the command that adopts them)."""
    found = ws.working_copy_notice()
    sheet = ws.sheet_notice()
    _print_notices(ws)
    if found is None and sheet is None:
        return
    lines = [found.render()] if found is not None else []
    if sheet is not None:
        lines += [sheet[0].render(), *sheet[1]]
    if sheet is not None or (found is not None and found.code == "plan-working-copy-changed"):
        adopt = f"hyoka plan adopt {ws.config.plan_file.name} --from {ws.next_adoption_year().short}"
        lines.append(f"  採用するには: {adopt}")
    typer.echo("\n".join(lines), err=True)


def _settled() -> None:
    """What the command has read so far (the modules, the plan's versions) lasts as long as its
    process: the garbage collector leaves it out of its rounds from now on (at 100x each full round
    through the versions' rows took 0.04 s of collect). Here, not in the library: a process that
    outlives one command, the browser's server, must keep collecting everything."""
    import gc

    gc.freeze()


def _print_notices(ws: "Workspace") -> None:
    """What the workspace noted while the command ran (``plan-version-sheet-recorded``), once."""
    for p in ws.notices:
        typer.echo(p.render(), err=True)
    ws.notices.clear()


def _warn_placeholders(ws: "Workspace") -> None:
    for key in ws.config.placeholders():
        typer.echo(
            f"注意: hyoka.toml の {key} が「○○」のままです。自分の市の名称に書き換えてください。", err=True
        )


def _year(text: str) -> "FiscalYear":
    from hyoka.years import FiscalYear

    try:
        return FiscalYear.parse(text)
    except ValueError as exc:
        typer.echo(f"エラー: {exc}", err=True)
        raise typer.Exit(2) from None


# --- init and plan -----------------------------------------------------------------------------------


@app.command()
def init(
    folder: Annotated[str, typer.Argument(metavar="フォルダ", help="作成するワークスペースのフォルダ")],
    plan: Annotated[
        Path | None, typer.Option("--plan", metavar="ファイル", help="計画マスタ（.xlsx または .csv）")
    ] = None,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample",
            help="見本で作成します（小金井市の計画と会議。続けて indicator か two_stage と書くと架空の市の見本）",
        ),
    ] = False,
    sample_name: Annotated[
        str | None,
        typer.Argument(
            metavar="[見本]",
            help="--sample の見本の名前: koganei（既定）、indicator（指標型・架空の市）、two_stage（二段階評価・架空の市）",
            show_default=False,
        ),
    ] = None,
) -> None:
    """ワークスペース（設定ファイル hyoka.toml とデータ保存先）を作成します。"""
    from hyoka.workspace import init_workspace

    if not folder.strip():  # Path("") would mean the current folder
        fail("作成するフォルダを指定してください（例: hyoka init 令和6年度評価 --sample）。")
    if sample_name is not None and not sample:
        # Without --sample a second word is what it always was: a folder name with a space in it.
        from typer import _click as click

        raise click.exceptions.UsageError(f"Got unexpected extra argument(s) ({sample_name})")
    ws = init_workspace(Path(folder), plan, sample, sample_name or "koganei")
    counts = ws.plan.counts()
    typer.echo(f"ワークスペースを作成しました: {ws.root}")
    typer.echo(
        f"  計画マスタ: {ws.config.plan_file.name}（事業 {counts['projects']} 件、担当課の行 {counts['rows']} 行）"
    )
    typer.echo(f"  設定ファイル: {ws.root / 'hyoka.toml'}（委員会名・事務局・会議を確認してください）")
    first = ws.lineage.versions[0]
    typer.echo(f"  計画の版: 版 {first.id}（{first.label}。それより前の年度にも使います）として採用しました")


@plan_app.command("check")
def plan_check(
    file: Annotated[
        Path | None,
        typer.Argument(metavar="ファイル", help="確認する計画マスタ（省略時はワークスペースの計画）"),
    ] = None,
    year: Annotated[
        str | None,
        typer.Option(
            "--year",
            "-y",
            metavar="年度",
            help="この年度に採用するとした場合の変更も表示します（省略時は次に採用する年度）",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """計画マスタの誤りを、行番号付きですべて一覧にします。ワークスペースでは採用済みの版との違いも表示します。"""
    from hyoka.problems import HyokaError
    from hyoka.workspace import Workspace, adopt_plan, load_plan

    ws: Workspace | None = None
    try:
        ws = Workspace.find(_folder(workspace))
    except HyokaError:
        if file is None:
            raise
    path = file if file is not None else (ws.config.plan_file if ws is not None else Path())
    plan, problems = load_plan(path, ws.sheet if ws is not None else None)
    comparison = None
    if ws is not None and plan is not None and not problems and ws.store_path.exists():
        fy = _year(year) if year else ws.next_adoption_year()
        comparison = adopt_plan(ws, path, fy, dry_run=True)
    if json_out:
        data: dict[str, Any] = {
            "file": str(path),
            "valid": not problems,
            "problems": [p.to_dict() for p in problems],
        }
        if comparison is not None:
            data["changes"] = comparison.changes
            data["sheet_changes"] = comparison.sheet_changes
            data["from"] = comparison.from_year.short
        _print_json(data)
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
        if comparison is not None:
            before = comparison.previous or comparison.replacing
            typer.echo(f"\n{comparison.from_year.short}から採用するとした場合の変更（前の版: {before}）:")
            _print_changes(comparison)
            for p in comparison.problems:
                typer.echo(p.render())
            _rename_hint(comparison)
    raise typer.Exit(1 if problems else 0)


def _print_changes(result: Any) -> None:
    """The change report of an adoption: the plan's rows, then hyoka.toml's sheet definition."""
    from hyoka.plan_view import change_lines

    for line in change_lines(result):
        typer.echo(line)


def _rename_hint(result: Any) -> None:
    for old, new in result.suspected:
        typer.echo(f"  課名の変更であれば --rename {old}={new} を付けて実行し直してください。")


@plan_app.command("show")
def plan_show(
    year: Annotated[
        str | None,
        typer.Option("--year", "-y", metavar="年度", help="この年度に有効な版（省略時は最新の版）"),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """計画の体系（基本目標・基本施策・施策・事業・担当課）と件数を表示します。"""
    from hyoka.plan_view import render_tree

    ws = _workspace(workspace)
    version = ws.version(_year(year)) if year else ws.lineage.versions[-1]
    typer.echo(f"計画の版: {version.label}")
    typer.echo(render_tree(version.plan, ws.version_sheet(version).levels))


@plan_app.command("versions")
def plan_versions(
    show_all: Annotated[bool, typer.Option("--all", help="置き換えられた版も表示します")] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """採用済みの計画の版（どの年度から有効か、名前、行数、ファイル、採用日時）を一覧にします。"""
    import json

    ws = _workspace(workspace)
    with ws.store() as store:
        info = store.version_info()
        rows = {v.id: len(v.rows) for v in store.versions(replaced=True)}
    from hyoka.years import FiscalYear

    shown = [i for i in info if show_all or i["replaced_by"] is None]
    if json_out:
        _print_json(
            {
                "schema": "hyoka.versions/1",
                "versions": [
                    {
                        "id": i["id"],
                        "from": FiscalYear(i["from_year"]).short,
                        "name": i["name"],
                        "rows": rows.get(i["id"], 0),
                        "file": i["source_file"],
                        "sha256": i["source_sha256"],
                        "fingerprint": i["fingerprint"],
                        "sheet_fingerprint": i["sheet_fingerprint"],
                        "adopted_at": i["adopted_at"],
                        "adopted_by": i["adopted_by"],
                        "renames": json.loads(i["renames"]),
                        "replaced_by": i["replaced_by"],
                    }
                    for i in shown
                ],
            }
        )
        return
    typer.echo("版  年度から  名前      行    ファイル            採用日時           採用者")
    for i in shown:
        renames = json.loads(i["renames"])
        note = f"  （課名変更: {'、'.join(f'{o}＝{n}' for o, n in renames)}）" if renames else ""
        if i["replaced_by"] is not None:
            note += f"  （版 {i['replaced_by']} に置き換え）"
        typer.echo(
            f"{i['id']:<3} {FiscalYear(i['from_year']).short + '〜':<8} {i['name'] or '-':<8} "
            f"{rows.get(i['id'], 0):<5} {i['source_file']:<18} {i['adopted_at'].replace('T', ' ')[:16]:<18} "
            f"{i['adopted_by']}{note}"
        )


@plan_app.command("adopt")
def plan_adopt(
    file: Annotated[Path, typer.Argument(metavar="ファイル", help="採用する計画マスタ（.xlsx または .csv）")],
    from_year: Annotated[
        str, typer.Option("--from", metavar="年度", help="この年度から有効にします（R6、令和6年度 など）")
    ],
    rename: Annotated[
        list[str] | None,
        typer.Option(
            "--rename", metavar="旧課名=新課名", help="課名の変更（組織改正）。複数なら繰り返して指定します"
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", metavar="名前", help="版の名前（第3期 など）")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="変更を表示するだけで採用しません")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="保存済みの評価の行がこの版にない場合も採用します（評価は削除されません）"
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """計画マスタを、指定した年度から有効な計画の版として採用します。前の版からの変更を表示します。"""
    from hyoka.plan_view import adoption_done, adoption_heading, adoption_refused
    from hyoka.workspace import adopt_plan

    ws = _workspace(workspace, notice=False)
    fy = _year(from_year)
    if not file.is_absolute() and not file.exists() and (ws.root / file).exists():
        file = ws.root / file  # the working copy, named as hyoka.toml names it
    pairs = []
    for text in rename or []:
        old, sep, new = text.partition("=")
        if not sep or not old.strip() or not new.strip():
            typer.echo(f"エラー: --rename は 旧課名=新課名 の形で指定してください（「{text}」）。", err=True)
            raise typer.Exit(2)
        pairs.append((old.strip(), new.strip()))
    result = adopt_plan(ws, file, fy, renames=pairs, name=name, dry_run=dry_run, force=force)
    _print_notices(ws)
    gannen = ws.config.gannen
    if result.plan_problems:
        for p in result.plan_problems:
            typer.echo(p.render())
        if result.errors:
            typer.echo("\n" + adoption_refused(result))
            raise typer.Exit(1)
    typer.echo(adoption_heading(result, gannen))
    _print_changes(result)
    for p in result.problems:
        typer.echo(p.render())
    _rename_hint(result)
    for p in result.blockers:
        typer.echo(p.render())
    if result.blockers and not force:
        typer.echo(
            "  --force を付けると採用します（保存済みの評価は削除されず、この版の年度の資料には出ません）。"
        )
    if result.errors or (result.blockers and not force):
        typer.echo("採用しませんでした。")
        raise typer.Exit(1)
    if dry_run:
        typer.echo("（--dry-run のため採用していません）")
        return
    typer.echo(adoption_done(result, gannen))


@sheet_app.command("show")
def sheet_show(
    year: Annotated[
        str | None,
        typer.Option(
            "--year",
            "-y",
            metavar="年度",
            help="この年度の計画の版に記録された定義を表示します（省略時は hyoka.toml の定義）",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """評価表の定義（階層・列・値の出どころ・規則・評価基準）を表示します。"""
    from hyoka.sheet import describe_sheet, sheet_to_dict

    ws = _workspace(workspace)
    fy = _year(year) if year else None
    sheet = ws.sheet_for(fy) if fy is not None else ws.sheet
    if json_out:
        _print_json(sheet_to_dict(sheet))
        return
    where = f"（{fy.label(ws.config.gannen)}: 計画の版 {ws.version(fy).label}）" if fy is not None else ""
    typer.echo(f"評価表の定義{where}")
    for line in describe_sheet(sheet):
        typer.echo(line)


@sheet_app.command("check")
def sheet_check(workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """hyoka.toml の評価表の定義と、計画マスタにその列があるかを確かめ、誤りをすべて一覧にします。"""
    from hyoka.problems import Severity
    from hyoka.workspace import ConfigError

    try:
        ws = _workspace(workspace)
        problems = ws.sheet_problems()
    except ConfigError as exc:
        problems = exc.problems
    problems = sorted(problems, key=lambda p: p.severity != Severity.ERROR)
    errors = sum(p.severity == Severity.ERROR for p in problems)
    if json_out:
        _print_json({"valid": errors == 0, "problems": [p.to_dict() for p in problems]})
    else:
        for p in problems:
            typer.echo(p.render())
        if errors:
            typer.echo(f"評価表の定義に {errors} 件のエラーがあります。")
        else:
            typer.echo("評価表の定義に誤りはありません。")
    raise typer.Exit(1 if errors else 0)


# --- forms, import, collect, status ---------------------------------------------------------------------


@app.command()
def forms(
    year: YearOpt,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="フォルダ", help="出力先フォルダ（省略時は ワークスペース/out/forms/年度）"
        ),
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", "-d", metavar="課", help="この提出課の調査票だけを作ります")
    ] = None,
    secretariat: Annotated[
        bool,
        typer.Option(
            "--secretariat",
            help="事務局が入力する列（二次評価など）の記入用の表（事務局_年度.xlsx）を作ります",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """提出課ごとの調査票（Excel）を作ります。前年度の評価は保存済みのデータから記入されます。"""
    from hyoka.forms import make_forms, make_secretariat_form

    ws = _workspace(workspace)
    fy = _year(year)
    _warn_placeholders(ws)
    if secretariat:
        path = make_secretariat_form(ws, fy, out)
        typer.echo(f"{fy.label(ws.config.gannen)}の事務局の記入用の表を作成しました: {path}")
        return
    result = make_forms(ws, fy, out, department)
    paths = result.paths
    typer.echo(
        f"{fy.label(ws.config.gannen)}の調査票を {len(paths)} 件作成しました（{paths[0].parent if paths else ''}）:"
    )
    for path in paths:
        typer.echo(f"  {path.name}")
    for p in result.problems:
        typer.echo(p.render(), err=True)


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="ファイル", help="取り込む表（事業No | 担当課 | 事業評価 …）の .xlsx または .csv"
        ),
    ],
    year: YearOpt,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="確認だけして保存しません")] = False,
    json_out: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """過去の年度の評価を一覧表から取り込みます（調査票の回収と同じ確認をします）。

    評価表に事務局が記入する列（二次評価など）がある場合は、hyoka forms --secretariat で作った
    事務局の記入用の表、または 事業No | 担当課 | 二次評価 … の一覧表から事務局の入力を取り込みます
    （各課の列と事務局の列は別の表にしてください）。
    """
    from hyoka.collect import import_table

    ws = _workspace(workspace)
    result = import_table(ws, file, _year(year), dry_run=dry_run)
    _finish_collect(result, json_out)


@app.command()
def collect(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="ファイルまたはフォルダ...",
            help="回収した調査票のファイルまたはフォルダ（フォルダは中まで探します）",
        ),
    ],
    year: Annotated[
        str | None,
        typer.Option(
            "--year",
            "-y",
            metavar="年度",
            help="年度（R5、令和5年度、2023 など。省略時は調査票に記録された年度）",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="確認だけして保存しません")] = False,
    json_out: JsonOpt = False,
    feedback: Annotated[
        Path | None,
        typer.Option(
            "--feedback",
            metavar="フォルダ",
            help="差戻しのファイルに指摘を書き込んだ写しをこのフォルダに作ります",
        ),
    ] = None,
    accept_older: Annotated[
        list[Path] | None,
        typer.Option(
            "--accept-older",
            metavar="ファイル",
            help="受付済みの版より古くても、このファイルを有効な版として受け付けます（複数回指定できます）",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """回収した調査票を確認して取り込みます。誤りのあるファイルは丸ごと差し戻し、何も保存しません。"""
    from hyoka.reading import discover, start_workers, stop_workers

    ws = _workspace(workspace, notice=False)
    fy = _year(year) if year is not None else None
    if any(not p.strip() for p in paths):  # Path("") would mean the current folder
        fail("空のパスが指定されています。回収した調査票のファイルまたはフォルダを指定してください。")
    older = accept_older or []
    files = discover([*(Path(p) for p in paths), *older])
    if not files:
        fail("調査票のファイルが見つかりません。ファイルまたはフォルダのパスを確認してください。")
    # A large run's reader processes start first: they start up while the store is read below.
    workers = start_workers(len(files))
    try:
        _working_copy_notice(ws)
        _settled()
        from hyoka.collect import collect as run_collect

        if fy is None:
            fy = _year_of_forms(ws, files, quiet=json_out)
        show_progress = not json_out and sys.stderr.isatty()
        with typer.progressbar(
            length=len(files), label="確認中", file=sys.stderr, hidden=not show_progress
        ) as bar:
            result = run_collect(
                ws,
                files,
                fy,
                dry_run=dry_run,
                feedback_dir=feedback,
                on_file=lambda _p: bar.update(1),
                accept_older=older,
                workers=workers,
            )
    finally:
        stop_workers(workers)  # those the run did not take over (it stops its own)
    _finish_collect(result, json_out)


def _finish_collect(result: Any, json_out: bool) -> NoReturn:
    """Print a collect or import run and exit: 0 all stored, 1 rejected or stopped, 130 Ctrl-C."""
    try:
        _print_collect(result, json_out)
    except KeyboardInterrupt:  # the run is over; only its report was cut short
        typer.echo(
            "\n表示を中断しました。取り込みは終わっています。結果は `hyoka status` で確認できます。", err=True
        )
        raise typer.Exit(130) from None
    stopped = result.interrupted
    if stopped is not None and stopped.reason == "keyboard-interrupt":
        raise typer.Exit(130)
    raise typer.Exit(0 if result.ok else 1)


def _year_of_forms(ws: "Workspace", files: list[Path], *, quiet: bool) -> "FiscalYear":
    """--year omitted: the year all forms record, or a usage error naming the files and years."""
    from hyoka.collect import year_of_forms
    from hyoka.problems import Problem

    found = year_of_forms(files, gannen=ws.config.gannen)
    if isinstance(found, Problem):
        typer.echo(f"エラー: {found.message}\n年度は --year で指定します（例: --year R6）。", err=True)
        raise typer.Exit(2)
    if not quiet:
        typer.echo(f"年度は調査票の記録から{found.label(ws.config.gannen)}としました。", err=True)
    return found


def _print_collect(result: Any, json_out: bool) -> None:
    from hyoka.collect import FILE_STATUS_LABEL as _STATUS_LABEL

    if json_out:
        _print_json(result.to_dict())
        if result.interrupted is not None:
            typer.echo(f"エラー: {result.interrupted.message}", err=True)
        return
    for f in result.files:
        who = (
            f"（{f.submitter}、{f.rows}行）"
            if f.submitter and f.rows
            else (f"（{f.rows}行）" if f.rows else "")
        )
        typer.echo(f"【{_STATUS_LABEL[f.status]}】{f.name}{who}")
        for p in f.problems:
            typer.echo(f"    {p.render()}")
            if p.code in PROBLEM_HINTS:
                typer.echo(f"      → {PROBLEM_HINTS[p.code]}")
        if f.feedback:
            typer.echo(f"    → 指摘を書き込んだ写し: {f.feedback}")
    counts = result.to_dict()["counts"]
    summary = "、".join(f"{_STATUS_LABEL[k]} {v}件" for k, v in counts.items()) or "処理したファイルなし"
    suffix = "（--dry-run のため保存していません）" if result.dry_run else ""
    typer.echo(f"\n{result.year.label()}: {summary}{suffix}")
    if result.interrupted is not None:
        _print_interruption(result)


def _print_interruption(result: Any) -> None:
    """Exactly what a stopped run stored and what it did not (each file is stored whole or not at all)."""
    from hyoka.reading import readable

    stopped = result.interrupted
    typer.echo(f"エラー: {stopped.message}", err=True)
    typer.echo("処理を途中で止めました。")
    if result.dry_run:
        typer.echo("  --dry-run のため、何も保存していません。")
    else:
        stored = [f.name for f in result.files if f.status == "accepted"]
        recorded = [f.name for f in result.files if f.status == "rejected"]
        typer.echo(f"  保存したファイル: {_listing(stored)}")
        if recorded:
            typer.echo(f"  差戻しとして記録したファイル: {_listing(recorded)}")
    left = [readable(p.name) for p in stopped.not_processed]
    if left:
        typer.echo(f"  保存していないファイル: {_listing(left)}")
        typer.echo(
            "  同じ指定でもう一度実行すると、保存済みのファイルは「変更なし」となり、残りのファイルを取り込みます。"
        )


def _listing(names: list[str], limit: int = 10) -> str:
    if not names:
        return "なし"
    shown = "、".join(names[:limit])
    more = f" ほか{len(names) - limit}件" if len(names) > limit else ""
    return f"{len(names)}件（{shown}{more}）"


@app.command()
def status(
    ctx: typer.Context,
    year: Annotated[
        str | None, typer.Option("--year", "-y", metavar="年度", help="年度（R5、令和5年度、2023 など）")
    ] = None,
    json_out: JsonOpt = False,
    workspace: WorkspaceOpt = None,
    meeting: Annotated[
        str | None,
        typer.Option(
            "--meeting",
            "-m",
            metavar="会議ID",
            help="この会議の意見への回答状況を課ごとに表示します（--year の代わり）",
        ),
    ] = None,
) -> None:
    """提出課ごとの回収状況（受付ファイル、行数、差戻し、未提出、不一致）を表示します。未完了があれば終了コード1。

    --meeting を付けると、その会議の委員会の意見に対する課ごとの回答状況（未回答の意見）を表示します。
    """
    from hyoka.status import STATE_LABELS, year_status

    if meeting is not None:
        _opinions_status(meeting, json_out, workspace)
    if year is None:  # the usual usage error of a missing option (a year, or a meeting instead)
        from typer import _click as click

        param = next(p for p in ctx.command.params if p.name == "year")
        raise click.exceptions.MissingParameter(ctx=ctx, param=param)  # type: ignore[arg-type]
    ws = _workspace(workspace)
    fy = _year(year)
    with ws.store() as store:
        st = year_status(store, store.version_for(fy).plan, fy, ws.sheet_for(fy))

    def file_json(s: Any) -> dict[str, Any]:
        return {"file": s.file_name, "path": s.file_path, "received_at": s.received_at}

    def ratings_text(d: Any) -> str:
        return "、".join(f"{who}「{rating}」" for who, rating in d.ratings)

    if json_out:
        _print_json(
            {
                "schema": "hyoka.status/1",
                "fiscal_year": fy.short,
                "complete": st.complete,
                "departments": [
                    {
                        "department": r.submitter,
                        "state": r.state,
                        "expected": len(r.expected),
                        "accepted": r.accepted_rows,
                        "files": [file_json(s) for s in r.accepted_files],
                        "rejected": [file_json(s) for s in r.rejected_files],
                        "missing": [{"no": m.project_no, "department": m.department} for m in r.missing],
                    }
                    for r in st.departments
                ],
                "disagreements": [
                    {"no": d.row.project_no, "department": d.row.department, "ratings": dict(d.ratings)}
                    for d in st.disagreements
                ],
                "unattributed_rejections": [file_json(s) for s in st.unattributed],
                **(
                    {
                        "secretariat": {
                            "label": st.secretariat.label,
                            "rows": st.secretariat.rows,
                            "entered": st.secretariat.entered,
                            "missing": [
                                {"no": m.project_no, "department": m.department}
                                for m in st.secretariat.missing
                            ],
                            "rejected": [file_json(s) for s in st.secretariat.rejected],
                        }
                    }
                    if st.secretariat is not None
                    else {}
                ),
            }
        )
        raise typer.Exit(0 if st.complete else 1)

    def when(s: Any) -> str:
        folder = st.folder(s)
        return f"{s.received_at:%Y-%m-%d %H:%M:%S}" + (f"、フォルダ {folder}" if folder else "")

    typer.echo(f"{fy.label(ws.config.gannen)} 回収状況")
    for r in st.departments:
        typer.echo(f"【{STATE_LABELS[r.state]}】{r.submitter}  {r.accepted_rows}/{len(r.expected)}行")
        for s in r.accepted_files:
            in_force = "、現在有効" if s is r.accepted_files[-1] else "、新しいファイルに置き換え済み"
            typer.echo(f"    受付: {s.file_name}（{when(s)}{in_force}）")
        for s in r.rejected_files:
            errors = sum(p.get("severity") == "error" for p in s.problems)
            typer.echo(f"    差戻し: {s.file_name}（{when(s)}、エラー {errors}件）")
        if (
            r.missing and r.heard_from and (r.accepted_rows or not r.returned)
        ):  # 差戻し中 with nothing in: all
            typer.echo(
                "    不足: " + "、".join(f"事業No.{m.project_no}（{m.department}）" for m in r.missing)
            )
        for d in r.disagreeing:
            typer.echo(f"    不一致: 事業No.{d.row.project_no}（{d.row.department}）{ratings_text(d)}")
    for s in st.unattributed:
        typer.echo(f"【提出課不明の差戻し】{s.file_name}（{when(s)}）")
    second = st.secretariat
    if second is not None:  # the second stage, beside the departments (it does not change the exit code)
        typer.echo(f"{second.label}: {second.entered} / {second.rows} 行")
        for s in second.rejected:
            errors = sum(p.get("severity") == "error" for p in s.problems)
            typer.echo(f"    差戻し: {s.file_name}（{when(s)}、エラー {errors}件）")
        if second.missing:
            typer.echo(
                "    未入力: " + "、".join(f"事業No.{m.project_no}（{m.department}）" for m in second.missing)
            )
    done = len(st.in_state("complete"))
    summary = f"\n完了 {done}/{len(st.departments)} 課"
    for state in ("not-submitted", "returned"):
        names = [r.submitter for r in st.in_state(state)]
        if names:
            summary += f"。{STATE_LABELS[state]} {len(names)}課: {'、'.join(names)}"
    if st.disagreements:
        rows = "、".join(f"事業No.{d.row.project_no}（{ratings_text(d)}）" for d in st.disagreements)
        summary += f"。不一致 {len(st.disagreements)}行: {rows}"
    typer.echo(summary)
    raise typer.Exit(0 if st.complete else 1)


# --- report ------------------------------------------------------------------------------------------


@app.command()
def report(
    year: YearOpt,
    meeting: Annotated[
        str | None,
        typer.Option(
            "--meeting",
            "-m",
            metavar="会議ID",
            help="会議のID（hyoka.toml の [[meetings]] の id。省略時はその年度を報告する会議）",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="フォルダ", help="出力先のフォルダ（省略時は ワークスペース/out/年度）"
        ),
    ] = None,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft",
            help="未提出・不一致の行があっても「案」として作成します"
            "（未提出の行は「未提出」、不一致の行は各課の評価と「不一致」と表示）",
        ),
    ] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="LibreOffice でPDFも作成します")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """評価表（資料1）と会議資料（次第・配布資料一覧・会議資料一式）をWord文書で作成します。"""
    from hyoka.report.build import make_report

    ws = _workspace(workspace)
    _warn_placeholders(ws)
    result = make_report(ws, _year(year), meeting_id=meeting, out_dir=out, draft=draft, to_pdf=pdf)
    for path in [*result.files, *result.pdfs]:
        typer.echo(f"作成しました: {path}")
    for notice in result.notices:
        typer.echo(f"お知らせ: {notice}")


# --- publish -----------------------------------------------------------------------------------------


@app.command()
def publish(
    year: YearOpt,
    meeting: Annotated[
        str | None,
        typer.Option("--meeting", "-m", help="会議のID（省略時はその年度を報告する会議）"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="出力先のフォルダ（省略時は ワークスペース/out/年度/publish）"),
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="未提出の行があっても「案」として作成します")
    ] = False,
    pack: Annotated[bool, typer.Option("--pack", help="会議資料一式のタグ付きPDFも作成します")] = False,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="PDFを作成しません")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """ホームページに掲載する評価表（HTML・テキスト版・CSV・JSON・タグ付きPDF）を作成します。"""
    from hyoka.publish import make_publication

    ws = _workspace(workspace)
    _warn_placeholders(ws)
    result = make_publication(
        ws, _year(year), meeting_id=meeting, out_dir=out, draft=draft, pack=pack, to_pdf=not no_pdf
    )
    for path in result.files:
        typer.echo(f"作成しました: {path}")
    for notice in result.notices:
        typer.echo(f"お知らせ: {notice}")


# --- serve -------------------------------------------------------------------------------------------


@app.command()
def serve(
    port: Annotated[
        int,
        typer.Option(
            "--port", min=1, max=65535, metavar="番号", help="ポート番号（使用中なら次の空いている番号）"
        ),
    ] = 8765,
    no_browser: Annotated[
        bool,
        typer.Option("--no-browser", help="ブラウザを自動で開きません（表示されたアドレスを開いてください）"),
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="待ち受けるアドレス（既定はこのパソコンだけの 127.0.0.1。ほかのアドレスではパスワードが必要です。"
            "パスワードは環境変数 HYOKA_PASSWORD か、起動時の入力で指定します）",
        ),
    ] = "127.0.0.1",
    workspace: WorkspaceOpt = None,
) -> None:
    """ブラウザで使う画面を起動します（計画・調査票・回収・提出状況・資料・比較・履歴）。"""
    from hyoka.web import LOOPBACK
    from hyoka.web import serve as run_server

    ws = _workspace(workspace)
    password = None
    if host not in LOOPBACK:
        if not os.environ.get("HYOKA_PASSWORD") and not sys.stdin.isatty():
            fail(
                f"{host} で待ち受けるにはパスワードが必要です。端末から入力できないため、"
                "環境変数 HYOKA_PASSWORD にパスワードを設定してから起動してください。"
            )
        password = os.environ.get("HYOKA_PASSWORD") or typer.prompt(
            "画面を開くためのパスワード", hide_input=True, confirmation_prompt=True
        )
    run_server(
        ws.root, host=host, port=port, open_browser=not no_browser, password=password, announce=typer.echo
    )


# --- diff and history --------------------------------------------------------------------------------

FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        metavar="table|csv|xlsx|json|md",
        help="出力形式（既定は画面の表 table。csv は Excel で開ける UTF-8、md は Markdown）。"
        "省略時は --out の拡張子で決めます",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        metavar="ファイル",
        help="保存先のファイル（省略時は画面に表示。xlsx は out フォルダに保存）",
    ),
]
ColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--column",
        "-c",
        metavar="列のキー",
        help="比べる列のキー（評価表の定義の key。評価・選択肢・数値・計算する列。"
        "省略時は最初の評価の列。使える列は hyoka sheet show で確認できます）",
    ),
]


@app.command()
def diff(
    year: YearOpt,
    against: Annotated[
        str | None, typer.Option("--against", metavar="年度", help="比べる年度（省略時は --year の前年度）")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="評価が変わらなかった行も表示します")] = False,
    column: ColumnOpt = None,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """前年度と比べて評価が上がった・下がった事業と、評価ごとの行数を表示します。

    行は事業Noと担当課で対応させ、上がった・下がったは評価基準の順序で判定します。
    計画にあってその年度の評価がまだない行は未提出として行数だけを示し、比較しません。
    JSON は no・project・department・before・after・change（up・down・same・new・removed）の一覧です。
    2つの年度で評価基準が異なる（計画の版で記号や順序が変わった）ときは上がった・下がったを判定せず、
    評価が変わった行は変更（changed）とし、そのことを一度だけ表示します。
    --column で別の列を比べます。数値の列は、高いほど良いか（低いほど良い指標か）で
    改善（up）・悪化（down）を判定し、JSON に増減 delta が加わります。選択肢の列は変更（changed）です。
    """
    from hyoka.diff import ColumnError, compare_column, diff_column
    from hyoka.export import diff_document
    from hyoka.results import stored_rows_by_id

    fy = _year(year)
    base = _year(against) if against else fy.previous()
    if base == fy:
        typer.echo(
            "エラー: --year と --against に同じ年度が指定されています。別の年度を指定してください。", err=True
        )
        raise typer.Exit(2)
    kind = _output_format(fmt, out)
    ws = _workspace(workspace)
    sheet = ws.sheet_for(fy)
    try:
        chosen = diff_column(sheet, column)
    except ColumnError as exc:
        typer.echo(f"エラー: {exc}", err=True)
        raise typer.Exit(2) from None
    with ws.store() as store:
        rows = stored_rows_by_id(store, ws.sheet_for)
    result = compare_column(ws.lineage, sheet, chosen, rows, fy, base, sheet_for=ws.sheet_for)
    doc = diff_document(result, show_all=show_all, gannen=ws.config.gannen, plan=ws.version(fy).plan)
    _emit(doc, kind, out, ws.out_dir / f"評価比較_{fy.short}_{base.short}.xlsx")


@app.command()
def history(
    no: Annotated[
        str | None, typer.Option("--no", metavar="事業No", help="この事業Noの行だけを表示します")
    ] = None,
    department: Annotated[
        str | None,
        typer.Option("--department", metavar="課", help="この課が担当（または提出）する行だけを表示します"),
    ] = None,
    column: ColumnOpt = None,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """保存済みのすべての年度の評価を、事業・担当課ごとに横に並べて表示します（令和3年度 令和4年度 …）。

    JSON は no・project・department と ratings（{"R4": "B", "R5": "A"} のような年度ごとの評価）の一覧です。
    --column で別の列の値を並べます（JSON では ratings の代わりに values）。
    """
    from hyoka.diff import ColumnError, diff_column, history_column
    from hyoka.export import history_document
    from hyoka.results import stored_rows_by_id

    kind = _output_format(fmt, out)
    ws = _workspace(workspace)
    with ws.store() as store:
        years = store.years()
        rows = stored_rows_by_id(store, ws.sheet_for)
    sheet = ws.sheet_for(years[-1]) if years else ws.sheet
    try:
        chosen = diff_column(sheet, column)
    except ColumnError as exc:
        typer.echo(f"エラー: {exc}", err=True)
        raise typer.Exit(2) from None
    result = history_column(
        ws.lineage, sheet, chosen, rows, no=no, department=department, sheet_for=ws.sheet_for
    )
    _emit(
        history_document(result, gannen=ws.config.gannen, plan=ws.lineage.versions[-1].plan),
        kind,
        out,
        ws.out_dir / "評価推移.xlsx",
    )


# --- the committee's opinions and the departments' replies -------------------------------------------

opinions_app = JaTyper(
    help="委員会の意見（議事録からの一覧表、または委員ごとの意見票）の記録と資料", no_args_is_help=True
)
replies_app = JaTyper(help="意見への対応・市の考え方（課ごとの回答票）の配布と回収", no_args_is_help=True)
app.add_typer(opinions_app, name="opinions")
app.add_typer(replies_app, name="replies")

MeetingOpt = Annotated[
    str,
    typer.Option(
        "--meeting",
        "-m",
        metavar="会議ID",
        help="意見をいただいた会議のID（hyoka.toml の [[meetings]] の id）",
    ),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="確認だけして保存しません")]
FeedbackOpt = Annotated[
    Path | None,
    typer.Option(
        "--feedback",
        metavar="フォルダ",
        help="差戻しのファイルに指摘を書き込んだ写しをこのフォルダに作ります",
    ),
]
PathsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="ファイルまたはフォルダ...", help="回収したファイルまたはフォルダ（フォルダは中まで探します）"
    ),
]


AcceptOlderOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--accept-older",
        metavar="ファイル",
        help="受付済みの版より古くても、このファイルを有効な版として受け付けます（複数回指定できます）",
    ),
]


def _finish_opinions(result: Any, json_out: bool, what: str) -> NoReturn:
    """Print an opinion or reply run and exit as collect does: 0 all stored, 1 rejected or stopped,
    130 Ctrl-C."""
    try:
        _print_opinions(result, json_out, what)
    except KeyboardInterrupt:  # the run is over; only its report was cut short
        typer.echo(
            "\n表示を中断しました。取り込みは終わっています。結果は `hyoka status --meeting` で確認できます。",
            err=True,
        )
        raise typer.Exit(130) from None
    stopped = result.interrupted
    if stopped is not None and stopped.reason == "keyboard-interrupt":
        raise typer.Exit(130)
    raise typer.Exit(0 if result.ok else 1)


def _print_opinions(result: Any, json_out: bool, what: str) -> None:
    from hyoka.collect import FILE_STATUS_LABEL as _STATUS_LABEL

    if json_out:
        _print_json(result.to_dict())
        if result.interrupted is not None:
            typer.echo(f"エラー: {result.interrupted.message}", err=True)
        return
    for f in result.files:
        who = f"（{f.submitter}、{f.rows}件）" if f.submitter else (f"（{f.rows}件）" if f.rows else "")
        typer.echo(f"【{_STATUS_LABEL[f.status]}】{f.name}{who}")
        for p in f.problems:
            typer.echo(f"    {p.render()}")
            if p.code in PROBLEM_HINTS:
                typer.echo(f"      → {PROBLEM_HINTS[p.code]}")
        if f.feedback:
            typer.echo(f"    → 指摘を書き込んだ写し: {f.feedback}")
    counts = result.to_dict()["counts"]
    summary = "、".join(f"{_STATUS_LABEL[k]} {v}件" for k, v in counts.items())
    suffix = "（--dry-run のため保存していません）" if result.dry_run else ""
    typer.echo(f"\n会議 {result.meeting} の{what}: {summary or '処理したファイルなし'}{suffix}")
    if result.interrupted is not None:
        _print_interruption(result)


def _meeting_of_files(ws: "Workspace", files: list[Path], meeting: str | None) -> str:
    from hyoka.opinions_io import recorded_meeting

    if meeting:
        return meeting
    found = recorded_meeting(files)
    if not found:
        typer.echo(
            "エラー: ファイルに会議の記録がありません。--meeting で会議のIDを指定してください。", err=True
        )
        raise typer.Exit(2)
    return found


def _found_files(paths: list[str]) -> list[Path]:
    from hyoka.reading import discover

    if any(not p.strip() for p in paths):
        fail("空のパスが指定されています。ファイルまたはフォルダを指定してください。")
    files = discover([Path(p) for p in paths])
    if not files:
        fail("ファイルが見つかりません。ファイルまたはフォルダのパスを確認してください。")
    return files


@opinions_app.command("import")
def opinions_import(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="ファイル",
            help="意見の一覧表（.xlsx または .csv。見出しは 意見・事業No・階層の列（既定は 基本目標No・基本施策・施策。評価シートに階層を定義した市はその名前）・委員・担当課 など）",
        ),
    ],
    meeting: MeetingOpt,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
    accept_older: AcceptOlderOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """議事録から作った意見の一覧表を取り込みます。新しい表はその会議の前の表を丸ごと置き換えます。"""
    from hyoka.opinions_io import import_opinions

    ws = _workspace(workspace)
    result = import_opinions(ws, file, meeting, dry_run=dry_run, accept_older=accept_older or [])
    _finish_opinions(result, json_out, "意見")


@opinions_app.command("forms")
def opinions_forms(
    meeting: MeetingOpt,
    member: Annotated[
        list[str] | None,
        typer.Option(
            "--member",
            metavar="委員",
            help="この委員の意見票を作ります（繰り返し指定できます。省略時は hyoka.toml の members）",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="フォルダ", help="出力先フォルダ")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """委員ごとの意見票（Excel）を作ります。会議で報告した評価を計画の階層ごとに並べ、意見の欄を付けます。"""
    from hyoka.opinions_io import write_member_forms

    ws = _workspace(workspace)
    paths = write_member_forms(ws, meeting, member or [], out)
    typer.echo(f"会議 {meeting} の意見票を {len(paths)} 件作成しました（{paths[0].parent}）:")
    for path in paths:
        typer.echo(f"  {path.name}")


@opinions_app.command("collect")
def opinions_collect(
    paths: PathsArg,
    meeting: Annotated[
        str | None,
        typer.Option("--meeting", "-m", metavar="会議ID", help="会議のID（省略時は意見票に記録された会議）"),
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
    feedback: FeedbackOpt = None,
    accept_older: AcceptOlderOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """委員から返ってきた意見票を確認して取り込みます。誤りのあるファイルは丸ごと差し戻します。"""
    from hyoka.opinions_io import collect_opinions

    _collect_workbooks(
        collect_opinions, "意見票", paths, meeting, dry_run, json_out, feedback, accept_older, workspace
    )


@opinions_app.command("report")
def opinions_report(
    meeting: MeetingOpt,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="フォルダ", help="出力先のフォルダ")
    ] = None,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft", help="未回答の意見があっても「案」として作成します（未回答の意見には「未回答」と表示）"
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """「委員会からの意見と市の考え方」をWord文書で作成します（会議資料一式には hyoka report で入ります）。"""
    from hyoka.report.opinions import render_opinions
    from hyoka.report.templates import search_path

    ws = _workspace(workspace)
    target = out or ws.out_dir / "opinions"
    path, _ = render_opinions(ws, meeting, target, draft=draft, templates=search_path(ws.root))
    typer.echo(f"作成しました: {path}")


@replies_app.command("forms")
def replies_forms(
    meeting: MeetingOpt,
    department: Annotated[
        str | None, typer.Option("--department", "-d", metavar="課", help="この課の回答票だけを作ります")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="フォルダ", help="出力先フォルダ")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """課ごとの回答票（Excel）を作ります。その課に回付された意見と「対応・市の考え方」の欄が入ります。"""
    from hyoka.opinions_io import write_reply_forms

    ws = _workspace(workspace)
    paths = write_reply_forms(ws, meeting, out, department)
    typer.echo(f"会議 {meeting} の回答票を {len(paths)} 件作成しました（{paths[0].parent}）:")
    for path in paths:
        typer.echo(f"  {path.name}")


@replies_app.command("collect")
def replies_collect(
    paths: PathsArg,
    meeting: Annotated[
        str | None,
        typer.Option("--meeting", "-m", metavar="会議ID", help="会議のID（省略時は回答票に記録された会議）"),
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
    feedback: FeedbackOpt = None,
    accept_older: AcceptOlderOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """課から返ってきた回答票を確認して取り込みます。誤りのあるファイルは丸ごと差し戻します。"""
    from hyoka.opinions_io import collect_replies

    _collect_workbooks(
        collect_replies, "回答票", paths, meeting, dry_run, json_out, feedback, accept_older, workspace
    )


def _collect_workbooks(
    run: Callable[..., Any],
    what: str,
    paths: list[str],
    meeting: str | None,
    dry_run: bool,
    json_out: bool,
    feedback: Path | None,
    accept_older: list[Path] | None,
    workspace: Path | None,
) -> NoReturn:
    """``opinions collect`` and ``replies collect``: the files found, their meeting, one run, its report."""
    ws = _workspace(workspace)
    older = accept_older or []
    files = _found_files([*paths, *map(str, older)])
    meeting_id = _meeting_of_files(ws, files, meeting)
    result = run(ws, files, meeting_id, dry_run=dry_run, feedback_dir=feedback, accept_older=older)
    _finish_opinions(result, json_out, what)


def _opinions_status(meeting: str, json_out: bool, workspace: Path | None) -> NoReturn:
    from hyoka.opinions import opinion_label
    from hyoka.opinions_io import iter_lines, load_opinions

    ws = _workspace(workspace)
    mo = load_opinions(ws, meeting)
    if json_out:
        _print_json(
            {
                "schema": "hyoka.replies-status/1",
                "meeting": mo.meeting.id,
                "complete": mo.complete,
                "opinions": len(mo.answered),
                "departments": [
                    {
                        "department": d.department,
                        "routed": len(d.routed),
                        "answered": len(d.routed) - len(d.missing),
                        "missing": [
                            {"key": o.key, "subject": opinion_label(mo.index, o), "member": o.member}
                            for o in d.missing
                        ],
                    }
                    for d in mo.departments
                ],
            }
        )
    else:
        typer.echo(f"会議 {mo.meeting.id} の意見 {len(mo.answered)}件 への回答状況")
        for line in iter_lines(mo):
            typer.echo(line)
        waiting = [d.department for d in mo.departments if d.missing]
        done = len(mo.departments) - len(waiting)
        summary = f"\n回答済み {done}/{len(mo.departments)} 課"
        if waiting:
            summary += f"。未回答のある課: {'、'.join(waiting)}"
        if not mo.answered:
            summary = (
                "\n意見がまだ記録されていません（hyoka opinions import または hyoka opinions collect）。"
            )
        typer.echo(summary)
    raise typer.Exit(0 if mo.complete else 1)


def _output_format(fmt: str | None, out: Path | None) -> str:
    from hyoka.export import format_for

    try:
        return format_for(fmt, out)
    except ValueError as exc:
        typer.echo(f"エラー: {exc}", err=True)
        raise typer.Exit(2) from None


def _emit(doc: Any, kind: str, out: Path | None, default_xlsx: Path) -> None:
    from hyoka.export import NOTE_FORMATS, file_bytes, render, save

    if kind not in NOTE_FORMATS:  # CSV and JSON are data: what the document says goes beside them
        for notice in doc.notices:
            typer.echo(notice.render(), err=True)
    if out is None and kind == "xlsx":
        typer.echo(f"{save(doc, kind, default_xlsx)} に保存しました（保存先は --out で指定できます）。")
    elif out is not None:
        typer.echo(f"{save(doc, kind, out)} に保存しました。")
    elif kind == "csv" and not sys.stdout.isatty():
        # `> file.csv` gets the same bytes as --out (BOM and CRLF, for Excel); the terminal none.
        sys.stdout.flush()
        sys.stdout.buffer.write(file_bytes(doc, kind))
        sys.stdout.buffer.flush()
    else:
        typer.echo(render(doc, kind))


def _print_json(data: object) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def main() -> None:
    """Console entry point."""
    # A console or redirect that cannot show a character must not turn a message into a traceback.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    # Library warnings (openpyxl on a workbook without styles, …) are English noise for a clerk;
    # whatever matters about a file is reported as a problem.
    warnings.filterwarnings("ignore", module="openpyxl")
    warnings.filterwarnings("ignore", module="docx")
    try:
        app()
    except SystemExit as exc:
        _exit(exc.code)
    _exit(0)


def _exit(code: str | int | None) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, without the interpreter's teardown.

    Freeing every object and module at exit took 20 ms after ``hyoka diff`` and 70 ms after
    ``hyoka report`` (of a 0.5 s run) and does nothing a clerk needs: every file hyoka writes is
    closed and renamed into place and every store transaction committed or rolled back before the
    command returns. What the teardown would still do is done here: the exit functions (atexit,
    ``weakref.finalize``) and flushing both streams. A thread still running (none of hyoka's, but a
    library's) gets the ordinary exit, which waits for it, and so does a process being profiled.
    """
    import atexit
    import contextlib
    import threading

    running = any(
        t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()
    )
    # A profiler or tracer (pyinstrument, coverage, a debugger) reports at the interpreter's exit.
    if running or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`hyoka … | head`), a closed stream
            stream.flush()
    os._exit(status)
