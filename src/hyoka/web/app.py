"""The pages of ``hyoka serve``: each route reads the request, makes the library call the CLI makes,
and hands the result to a template. No rule lives here: what the CLI says for a case, the page says.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import traceback
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hyoka.problems import SEVERITY_LABEL, HyokaError
from hyoka.web.jobs import Job, Jobs, Output
from hyoka.web.security import (
    MAX_FILES_PER_UPLOAD,
    BodyTooLarge,
    Guard,
    guarded,
    safe_next,
    session_cookie,
    too_large,
)
from hyoka.web.words import said
from hyoka.years import FiscalYear

HERE = Path(__file__).parent
YEAR_COOKIE = "hyoka_year"
LOGIN_DELAY = 1.0

NAV: tuple[tuple[str, str], ...] = (
    ("/", "ホーム"),
    ("/plan", "計画"),
    ("/forms", "調査票"),
    ("/collect", "回収"),
    ("/status", "提出状況"),
    ("/report", "資料"),
    ("/diff", "比較"),
    ("/history", "履歴"),
    ("/opinions", "意見・回答"),
    ("/sheet", "評価表の定義"),
    ("/settings", "設定"),
)


class Web:
    """One server start: the workspace folder, its guard and its jobs."""

    def __init__(self, root: Path, guard: Guard) -> None:
        self.root = root
        self.guard = guard
        self.jobs = Jobs()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        from hyoka.collect import FILE_STATUS_LABEL
        from hyoka.plan_view import adoption_done, adoption_heading, adoption_refused, change_lines

        # The library's words for a problem's severity and a file's outcome, as the CLI prints them.
        self.env.globals.update(nav=NAV, severity_words=SEVERITY_LABEL, file_status_words=FILE_STATUS_LABEL)
        self.env.globals.update(
            adoption_heading=adoption_heading,
            adoption_done=adoption_done,
            adoption_refused=adoption_refused,
            change_lines=change_lines,
        )
        self.env.filters["when"] = lambda d: f"{d:%Y-%m-%d %H:%M:%S}" if d else ""

    # --- common -----------------------------------------------------------------------------------------

    def workspace(self) -> Any:
        from hyoka.workspace import Workspace

        return Workspace.load(self.root)

    def year(self, request: Request, ws: Any | None = None) -> FiscalYear:
        """The year asked for, or the one chosen before (cookie), or the latest with data."""
        text = request.query_params.get("year") or request.cookies.get(YEAR_COOKIE)
        if text:
            try:
                return FiscalYear.parse(text)
            except ValueError:
                pass
        if ws is not None:
            try:
                with ws.store() as store:
                    years = store.years()
                if years:
                    latest: FiscalYear = years[-1]
                    return latest
            except HyokaError:
                pass
        return FiscalYear.of(date.today()).previous()

    def page(self, request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        ws = context.get("ws")
        year = context.get("year")
        base: dict[str, Any] = {
            "request": request,
            "path": request.url.path,
            "csrf": self.guard.csrf,
            "title": "",
            "error": None,
            "ws": None,
            "year": None,
            "years": [],
            "committee": "",
            "settings_link": False,
        }
        if ws is not None:
            base["committee"] = ws.config.committee
            base["years"] = _year_choices(ws, year)
        base.update(context)
        html = self.env.get_template(template).render(**base)
        response = HTMLResponse(html, status_code=status)
        if isinstance(year, FiscalYear):
            response.set_cookie(YEAR_COOKIE, year.short, httponly=True, samesite="strict")
        _secure(response)
        return response

    def failure(self, request: Request, message: str, *, status: int = 200) -> HTMLResponse:
        return self.page(request, "error.html", title="開けません", error=message, status=status)

    def action(self, path: str, **params: str) -> str:
        """A form's address, carrying the CSRF token (checked before the body is read)."""
        return f"{path}?{urlencode({**params, 'csrf': self.guard.csrf})}"

    def download_url(self, ws: Any, path: Path) -> str:
        return "/files/" + quote(path.resolve().relative_to(ws.root.resolve()).as_posix())

    def start_job(
        self,
        request: Request,
        kind: str,
        title: str,
        year: FiscalYear,
        work: Callable[[Job], Any],
        total: int = 0,
        done_title: str = "",
        meeting: str = "",
    ) -> Response:
        job = self.jobs.start(kind, title, year.short, work, total, done_title or title)
        job.meeting = meeting  # the page of that meeting's opinions is linked from the result
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _secure(response: Response, *, inline_styles: bool = False) -> Response:
    style = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    response.headers["content-security-policy"] = (
        f"default-src 'self'; script-src 'self'; style-src {style}; img-src 'self' data:; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
    )
    response.headers["x-content-type-options"] = "nosniff"
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our own form posts
    response.headers["referrer-policy"] = "same-origin"
    response.headers["cache-control"] = "no-store"
    return response


def _year_choices(ws: Any, current: Any) -> list[FiscalYear]:
    """Stored years, the year after the last, and the one being shown."""
    years: set[FiscalYear] = set()
    try:
        with ws.store() as store:
            years.update(store.years())
    except HyokaError:
        pass
    if years:
        years.add(max(years).next())
    if isinstance(current, FiscalYear):
        years.add(current)
    return sorted(years, key=lambda y: y.start)


def build(root: Path, guard: Guard) -> Any:
    """The ASGI application for the workspace at ``root``, behind its guard."""
    web = Web(root, guard)

    def with_ws(handler: Callable[[Request, Any], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                ws = web.workspace()
            except HyokaError as exc:
                return web.page(
                    request, "error.html", title="設定を読み込めません", error=said(exc), settings_link=True
                )
            try:
                if inspect.iscoroutinefunction(handler):
                    result = await handler(request, ws)
                else:
                    # In a worker thread: a page that waits for the store (another tab collecting)
                    # must not stop the server answering every other request meanwhile.
                    result = await run_in_threadpool(handler, request, ws)
                return result  # type: ignore[no-any-return]
            except HyokaError as exc:
                return web.page(request, "error.html", title="処理できませんでした", error=said(exc), ws=ws)
            except (HTTPException, BodyTooLarge):
                raise  # refusals of the request itself: their own pages (see ``refused``)
            except Exception as exc:  # a bug: the clerk gets the CLI's words, the log gets the traceback
                traceback.print_exc()
                message = (
                    f"想定外の問題が発生したため処理を中断しました（{type(exc).__name__}: {exc}）。"
                    "この表示を開発者に伝えてください。"
                )
                return web.page(
                    request, "error.html", title="処理できませんでした", error=message, status=500
                )

        return endpoint

    # --- home ----------------------------------------------------------------------------------------

    def home(request: Request, ws: Any) -> Response:
        from hyoka.cycle import cycle

        year = web.year(request, ws)
        return web.page(request, "home.html", title="ホーム", ws=ws, year=year, cycle=cycle(ws, year))

    # --- plan ----------------------------------------------------------------------------------------

    def plan_page(request: Request, ws: Any) -> Response:
        from hyoka.workspace import load_plan

        year = web.year(request, ws)
        working, problems = load_plan(ws.config.plan_file, ws.sheet)
        with ws.store() as store:  # the versions as `plan versions` lists them, replaced ones too
            rows = {v.id: len(v.rows) for v in store.versions(replaced=True)}
            versions = [
                {**i, "from": FiscalYear(i["from_year"]), "rows": rows.get(i["id"], 0)}
                for i in store.version_info()
            ]
        # The tree of the version in force for the year (as `plan show --year`); the working copy's
        # check beside it, and the library's notice when the working copy is not what was adopted.
        in_force = ws.version(year) if versions else None
        plan = in_force.plan if in_force is not None else working
        notice = ws.working_copy_notice() if versions else None
        return web.page(
            request,
            "plan.html",
            sheet_notice=ws.sheet_notice() if versions else None,
            versions=versions,
            title="計画",
            ws=ws,
            year=year,
            in_force=in_force,
            notice=notice,
            plan=plan,
            goals=plan.goals() if plan is not None else [],
            counts=plan.counts() if plan is not None else {},
            problems=problems,
            plan_file=ws.config.plan_file,
            adopt_action=web.action("/plan/adopt"),
            adopt_year=ws.next_adoption_year(),
            renames=[],
            suspected=[],
        )

    async def plan_adopt(request: Request, ws: Any) -> Response:
        """Check a plan master as ``plan adopt --dry-run`` (a new upload, or the one checked before with
        other renames), or adopt the one the clerk has seen the preview of."""
        from hyoka.web.uploads import save_batch

        form = await request.form(max_files=1, max_fields=200)
        try:
            fy = FiscalYear.parse(str(form.get("from") or ""))
        except ValueError as exc:
            return web.failure(request, str(exc))
        olds = [str(v).strip() for v in form.getlist("old")]
        news = [str(v).strip() for v in form.getlist("new")]
        renames = [(o, n) for o, n in zip(olds, news, strict=False) if o or n]
        if any(not o or not n for o, n in renames):
            return web.failure(
                request,
                "課名の変更は、旧課名と新課名の両方を書いてください（変更がなければ両方とも空けます）。",
            )
        name = str(form.get("name") or "").strip()
        upload = form.get("file")
        path: Path | None
        if upload is not None and not isinstance(upload, str) and upload.filename:
            path = save_batch(ws.root / "received" / "plan", [upload]).files[0].resolve()
        else:
            path = _received(ws, "plan", str(form.get("upload") or ""))
        if path is None:
            return web.failure(request, "採用する計画マスタのファイルが選ばれていません。")
        await form.close()
        adopting = form.get("step") == "adopt"
        force = adopting and form.get("force") == "1"

        expected = str(form.get("expect") or "")
        stale = False

        def run() -> Any:
            nonlocal stale, adopting
            from hyoka.workspace import adopt_plan

            if adopting:  # adopt what the clerk saw: not after another adoption (or the same one sent twice)
                with ws.store() as store:
                    stale = expected != str(store.next_version_id())
                adopting = not stale
            return adopt_plan(ws, path, fy, renames=renames, name=name, dry_run=not adopting, force=force)

        result = await run_in_threadpool(run)
        return web.page(
            request,
            "plan_adopt.html",
            title="計画の版の採用" if adopting and result.stored else "計画の版の採用（変更の確認）",
            error=(
                "変更を確認したあとで、計画の版が採用されています（別の画面や CLI での採用か、同じ採用の2回目の送信）。"
                "この画面で変更をもう一度確かめてから採用してください。"
                if stale
                else None
            ),
            ws=ws,
            year=fy,
            result=result,
            gannen=ws.config.gannen,
            upload=path.relative_to((ws.root / "received" / "plan").resolve()).as_posix(),
            renames=renames,
            suspected=[p for p in result.suspected if p not in renames],
            name=name,
            action=web.action("/plan/adopt"),
        )

    # --- forms ---------------------------------------------------------------------------------------

    def forms_page(request: Request, ws: Any) -> Response:
        from hyoka.cycle import forms_folder

        year = web.year(request, ws)
        folder = forms_folder(ws.out_dir, year)
        files = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
        return web.page(
            request,
            "forms.html",
            title="調査票",
            ws=ws,
            year=year,
            files=[(f.name, web.download_url(ws, f)) for f in files],
            make_action=web.action("/forms", year=year.short),
            zip_url=f"/forms/zip?year={year.short}",
            submitters=ws.version(year).plan.submitters,
        )

    async def forms_make(request: Request, ws: Any) -> Response:
        from hyoka.forms import write_forms

        year = web.year(request, ws)
        form = await request.form()
        department = str(form.get("department") or "") or None

        def work(job: Job) -> Any:
            paths = write_forms(ws, year, None, department)
            return Output([(p.name, web.download_url(ws, p)) for p in paths])

        return web.start_job(
            request,
            "forms",
            f"{year.label()}の調査票を作成しています",
            year,
            work,
            0,
            f"{year.label()}の調査票を作成しました",
        )

    def forms_zip(request: Request, ws: Any) -> Response:
        from hyoka.cycle import forms_folder

        year = web.year(request, ws)
        files = sorted(forms_folder(ws.out_dir, year).glob("*.xlsx"))
        if not files:
            raise HyokaError(
                f"{year.label()}の調査票はまだ作成されていません。先に「調査票を作成」を押してください。"
            )
        return _zip(files, f"調査票_{year.short}.zip")

    # --- collect -------------------------------------------------------------------------------------

    def collect_page(request: Request, ws: Any) -> Response:
        year = web.year(request, ws)
        return web.page(
            request,
            "collect.html",
            title="回収",
            ws=ws,
            year=year,
            upload_action=web.action("/collect", year=year.short),
            import_action=web.action("/import"),
            import_year=year.previous(),
            max_files=MAX_FILES_PER_UPLOAD,
        )

    async def collect_upload(request: Request, ws: Any) -> Response:
        from hyoka.web.uploads import save_uploads

        year = web.year(request, ws)
        form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=50)
        dry_run = form.get("dry_run") == "1"
        uploads = [u for u in form.getlist("files") if hasattr(u, "filename") and u.filename]
        if not uploads:
            return web.failure(
                request,
                "ファイルが選ばれていません。回収した調査票を選んでから「確認して取り込む」を押してください。",
            )
        batch = save_uploads(ws.root, year, uploads, _modified(str(form.get("modified") or "")))
        await form.close()

        def work(job: Job) -> Any:
            from hyoka.collect import collect

            result = collect(
                ws, batch.files, year, dry_run=dry_run, feedback_dir=batch.feedback_dir, on_file=job.step
            )
            return result

        title = f"{year.label()}の調査票 {len(batch.files)} 件を確認しています"
        done = f"{year.label()}の調査票 {len(batch.files)} 件の確認結果"
        return web.start_job(request, "collect", title, year, work, total=len(batch.files), done_title=done)

    def accept_older(request: Request, ws: Any) -> Response:
        """The clerk brings back a version older than the one in force (collect's accept_older): only a
        file this page stored in the received folder of the year."""
        year = web.year(request, ws)
        kept = (ws.root / str(request.query_params.get("file") or "")).resolve()
        folder = (ws.root / "received" / year.short).resolve()
        if not kept.is_relative_to(folder) or not kept.is_file():
            return web.failure(
                request,
                "このファイルは受け付けられません。回収の画面からもう一度取り込んでください。",
                status=404,
            )

        def work(job: Job) -> Any:
            from hyoka.collect import collect

            return collect(ws, [], year, accept_older=[kept], on_file=job.step)

        title = f"{kept.name} を古い版として受け付けています"
        done = f"{kept.name} を古い版として受け付けた結果"
        return web.start_job(request, "collect", title, year, work, total=1, done_title=done)

    async def import_upload(request: Request, ws: Any) -> Response:
        from hyoka.web.uploads import save_uploads

        form = await request.form(max_files=1, max_fields=10)
        try:
            year = FiscalYear.parse(str(form.get("year") or ""))
        except ValueError as exc:
            return web.failure(request, str(exc))
        upload = form.get("file")
        if upload is None or not getattr(upload, "filename", ""):
            return web.failure(request, "取り込む表のファイルが選ばれていません。")
        dry_run = form.get("dry_run") == "1"
        batch = save_uploads(ws.root, year, [upload])
        await form.close()

        def work(job: Job) -> Any:
            from hyoka.collect import import_table

            return import_table(ws, batch.files[0], year, dry_run=dry_run)

        return web.start_job(
            request,
            "collect",
            f"{year.label()}の評価を取り込んでいます",
            year,
            work,
            1,
            f"{year.label()}の評価の取り込み結果",
        )

    # --- status --------------------------------------------------------------------------------------

    def status_page(request: Request, ws: Any) -> Response:
        from hyoka.status import STATE_LABELS, year_status

        year = web.year(request, ws)
        with ws.store() as store:
            status = year_status(store, store.version_for(year).plan, year, ws.sheet_for(year))
        return web.page(
            request,
            "status.html",
            title="提出状況",
            ws=ws,
            year=year,
            year_status=status,
            state_labels=STATE_LABELS,
            done=len(status.in_state("complete")),
        )

    # --- report --------------------------------------------------------------------------------------

    def report_meetings(ws: Any, year: FiscalYear) -> list[tuple[Any, Path]]:
        """The meetings that report on ``year``, each with the folder its documents go to: the first
        meeting's in ``out/R5/`` (as ``hyoka report``), a later one's in ``out/R5/<会議>/`` (as
        ``hyoka report --meeting R6-2 --out …``), so that two meetings' files never overwrite each other."""
        from hyoka.cycle import report_folder
        from hyoka.text import safe_filename

        folder = report_folder(ws.out_dir, year)
        meetings = [m for m in ws.config.meetings if m.report_year == year]
        return [(m, folder if i == 0 else folder / safe_filename(m.id)) for i, m in enumerate(meetings)]

    def report_page(request: Request, ws: Any) -> Response:
        from hyoka.cycle import report_folder
        from hyoka.report.pdf import find_soffice

        year = web.year(request, ws)
        meetings = report_meetings(ws, year)
        folders = (
            [("", report_folder(ws.out_dir, year))] if not meetings else [(m.id, f) for m, f in meetings]
        )
        groups = []
        for meeting_id, folder in folders:
            files = (
                sorted(p for p in folder.glob("*") if p.suffix in {".docx", ".pdf"})
                if folder.is_dir()
                else []
            )
            groups.append((meeting_id, [(f.name, web.download_url(ws, f)) for f in files]))
        return web.page(
            request,
            "report.html",
            title="資料",
            ws=ws,
            year=year,
            groups=groups,
            files=[f for _m, fs in groups for f in fs],
            make_action=web.action("/report", year=year.short),
            preview_url=f"/report/preview?year={year.short}",
            has_soffice=find_soffice() is not None,
            meetings=[m for m, _f in meetings],
        )

    async def report_make(request: Request, ws: Any) -> Response:
        from hyoka.report.build import make_report

        year = web.year(request, ws)
        form = await request.form()
        draft, to_pdf = form.get("draft") == "1", form.get("pdf") == "1"
        wanted = str(form.get("meeting") or "")
        meetings = await run_in_threadpool(report_meetings, ws, year)
        chosen = next(((m, f) for m, f in meetings if m.id == wanted), meetings[0] if meetings else None)

        def work(job: Job) -> Any:
            result = make_report(
                ws,
                year,
                meeting_id=chosen[0].id if chosen else None,
                out_dir=chosen[1] if chosen else None,
                draft=draft,
                to_pdf=to_pdf,
            )
            return Output(
                [(p.name, web.download_url(ws, p)) for p in [*result.files, *result.pdfs]], result.notices
            )

        what = "（案）" if draft else ""
        return web.start_job(
            request,
            "report",
            f"{year.label()}の資料{what}を作成しています",
            year,
            work,
            0,
            f"{year.label()}の資料{what}を作成しました",
        )

    def report_preview(request: Request, ws: Any) -> Response:
        from hyoka.publish.html import render_html
        from hyoka.report import templates
        from hyoka.report.build import load_evaluation

        year = web.year(request, ws)
        try:
            ev, _meeting = load_evaluation(ws, year)
        except HyokaError:  # rows still missing: the preview is the draft, marked 案 and 未提出
            ev, _meeting = load_evaluation(ws, year, draft=True)
        html = render_html(ev, templates.search_path(ws.root))
        return _secure(HTMLResponse(html), inline_styles=True)

    # --- diff and history ----------------------------------------------------------------------------

    def diff_view(request: Request, ws: Any) -> tuple[Any, FiscalYear, FiscalYear, dict[str, str]]:
        from hyoka.diff import compare_column, diff_column, select_rows
        from hyoka.results import stored_rows_by_id

        year = web.year(request, ws)
        against_text = request.query_params.get("against") or ""
        try:
            against = FiscalYear.parse(against_text) if against_text else year.previous()
        except ValueError as exc:
            raise HyokaError(str(exc)) from exc
        filters = {k: request.query_params.get(k, "") for k in ("goal", "change", "department")}
        if request.query_params.get("column"):  # the default column keeps today's addresses
            filters["column"] = request.query_params["column"]
        sheet = ws.sheet_for(year)
        column = diff_column(sheet, filters.get("column"))
        with ws.store() as store:
            stored = stored_rows_by_id(store, ws.sheet_for)
        result = compare_column(ws.lineage, sheet, column, stored, year, against, sheet_for=ws.sheet_for)
        shown = select_rows(
            result,
            goal_no=filters["goal"] or None,
            change=filters["change"] or None,
            department=filters["department"] or None,
        )
        return shown, year, against, filters

    def diff_page(request: Request, ws: Any) -> Response:
        from hyoka.export import CHANGE_LABELS, OTHER_CHANGE_LABELS, diff_document

        shown, year, against, filters = diff_view(request, ws)
        doc = diff_document(
            shown,
            show_all=filters["change"] in ("same", "all"),
            gannen=ws.config.gannen,
            plan=ws.version(year).plan,
        )
        query = urlencode({"year": year.short, "against": against.short, **filters})
        return web.page(
            request,
            "diff.html",
            title="比較",
            ws=ws,
            year=year,
            against=against,
            doc=doc,
            filters=filters,
            goals=[(g.no, g.name) for g in ws.version(year).plan.goals()],
            departments=ws.version(year).plan.submitters,
            # 変更 only where the comparison has such rows (a choice, or scales that differ)
            change_labels=(
                {**CHANGE_LABELS, **OTHER_CHANGE_LABELS}
                if shown.overall.changes["changed"] or shown.notices
                else CHANGE_LABELS
            ),
            export_base=f"/diff/export?{query}",
            **_column_choices(ws.sheet_for(year), filters.get("column", "")),
        )

    def diff_export(request: Request, ws: Any) -> Response:
        from hyoka.export import diff_document

        shown, year, against, filters = diff_view(request, ws)
        doc = diff_document(
            shown,
            show_all=filters["change"] in ("same", "all"),
            gannen=ws.config.gannen,
            plan=ws.version(year).plan,
        )
        return _export(
            doc, request.query_params.get("format", "csv"), f"評価比較_{year.short}_{against.short}"
        )

    def history_view(request: Request, ws: Any) -> Any:
        from hyoka.diff import diff_column, history_column
        from hyoka.export import history_document
        from hyoka.results import stored_rows_by_id

        no = request.query_params.get("no") or None
        department = request.query_params.get("department") or None
        with ws.store() as store:
            years = store.years()
            stored = stored_rows_by_id(store, ws.sheet_for)
        sheet = ws.sheet_for(years[-1]) if years else ws.sheet
        column = diff_column(sheet, request.query_params.get("column") or None)
        found = history_column(
            ws.lineage, sheet, column, stored, no=no, department=department, sheet_for=ws.sheet_for
        )
        plan = ws.lineage.versions[-1].plan  # as the CLI: the numbers typed by the latest plan
        return history_document(found, gannen=ws.config.gannen, plan=plan), no, department, sheet

    def history_page(request: Request, ws: Any) -> Response:
        doc, no, department, sheet = history_view(request, ws)
        column = request.query_params.get("column") or ""
        query = urlencode(
            {k: v for k, v in (("no", no), ("department", department), ("column", column)) if v}
        )
        return web.page(
            request,
            "history.html",
            title="履歴",
            ws=ws,
            year=web.year(request, ws),
            doc=doc,
            no=no or "",
            department=department or "",
            departments=ws.lineage.versions[-1].plan.submitters,
            export_base=f"/history/export?{query}",
            **_column_choices(sheet, column),
        )

    def history_export(request: Request, ws: Any) -> Response:
        doc, _no, _department, _sheet = history_view(request, ws)
        return _export(doc, request.query_params.get("format", "csv"), "評価推移")

    # --- the committee's opinions and the departments' replies ------------------------------------------

    def meeting_of(request: Request, ws: Any) -> Any:
        """The meeting asked for (``?meeting=``), or the first of hyoka.toml."""
        from hyoka.opinions_io import meeting_of as library_meeting

        wanted = request.query_params.get("meeting") or ""
        if not wanted:
            if not ws.config.meetings:
                raise HyokaError("hyoka.toml に会議がありません。[[meetings]] に設定してください。")
            year = web.year(request, ws)  # the year chosen in the header: its first meeting
            of_year = [m for m in ws.config.meetings if m.report_year == year]
            wanted = (of_year or list(ws.config.meetings))[0].id
        return library_meeting(ws, wanted)

    def opinion_files(ws: Any, kind: str, meeting: Any) -> list[tuple[str, str]]:
        from hyoka.text import safe_filename

        folder = ws.out_dir / kind / safe_filename(meeting.id)
        files = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
        return [(f.name, web.download_url(ws, f)) for f in files]

    def opinions_page(request: Request, ws: Any) -> Response:
        from hyoka.opinions import opinion_label
        from hyoka.opinions_io import load_opinions, table_headings
        from hyoka.report.opinions import opinions_filename, title_for

        meeting = meeting_of(request, ws)
        mo = load_opinions(ws, meeting.id)
        _title, label = title_for(ws, meeting.id)
        materials = [
            ws.out_dir / "opinions" / opinions_filename(meeting.id, label, draft=draft)
            for draft in (False, True)
        ]
        q = {"meeting": meeting.id}
        return web.page(
            request,
            "opinions.html",
            title="意見・回答",
            ws=ws,
            year=meeting.report_year,
            meeting=meeting,
            meetings=ws.config.meetings,
            mo=mo,
            label_of=lambda o: opinion_label(mo.index, o),
            headings=table_headings(mo.index),
            member_forms=opinion_files(ws, "opinions", meeting),
            reply_forms=opinion_files(ws, "replies", meeting),
            materials=[(p.name, web.download_url(ws, p)) for p in materials if p.is_file()],
            import_action=web.action("/opinions/import", **q),
            member_forms_action=web.action("/opinions/forms", **q),
            member_collect_action=web.action("/opinions/collect", **q),
            reply_forms_action=web.action("/replies/forms", **q),
            reply_collect_action=web.action("/replies/collect", **q),
            material_action=web.action("/opinions/material", **q),
            member_zip=f"/opinions/forms.zip?{urlencode(q)}",
            reply_zip=f"/replies/forms.zip?{urlencode(q)}",
            max_files=MAX_FILES_PER_UPLOAD,
        )

    def opinions_run(kind: str, what: str) -> Callable[[Request, Any], Any]:
        """An upload of opinion or reply files, checked and stored as ``opinions import`` /
        ``opinions collect`` / ``replies collect`` do; kept in ``received/<opinions|replies>/<会議>/``."""

        async def endpoint(request: Request, ws: Any) -> Response:
            from hyoka.text import safe_filename
            from hyoka.web.uploads import save_batch

            meeting = await run_in_threadpool(meeting_of, request, ws)
            form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=50)
            dry_run = form.get("dry_run") == "1"
            uploads = [u for u in form.getlist("files") if not isinstance(u, str) and u.filename]
            if not uploads:
                return web.failure(
                    request, "ファイルが選ばれていません。ファイルを選んでから送ってください。"
                )
            if kind == "import":
                uploads = uploads[:1]
            folder = "replies" if kind == "replies" else "opinions"
            batch = save_batch(
                ws.root / "received" / folder / safe_filename(meeting.id),
                uploads,
                _modified(str(form.get("modified") or "")),
            )
            await form.close()

            def work(job: Job) -> Any:
                from hyoka.opinions_io import collect_opinions, collect_replies, import_opinions

                if kind == "import":
                    return import_opinions(ws, batch.files[0], meeting.id, dry_run=dry_run)
                run = collect_replies if kind == "replies" else collect_opinions
                return run(ws, batch.files, meeting.id, dry_run=dry_run, feedback_dir=batch.feedback_dir)

            job = web.jobs.start(
                "opinions",
                f"会議 {meeting.id} の{what} {len(batch.files)} 件を確認しています",
                meeting.report_year.short,
                work,
                len(batch.files),
                f"会議 {meeting.id} の{what}の確認結果",
            )
            job.what = what
            job.meeting = meeting.id
            return RedirectResponse(f"/jobs/{job.id}", status_code=303)

        return endpoint

    def opinion_forms_make(kind: str) -> Callable[[Request, Any], Any]:
        async def endpoint(request: Request, ws: Any) -> Response:
            from hyoka.opinions_io import write_member_forms, write_reply_forms

            meeting = await run_in_threadpool(meeting_of, request, ws)
            form = await request.form()
            department = str(form.get("department") or "") or None
            what = "回答票" if kind == "replies" else "意見票"

            def work(job: Job) -> Any:
                if kind == "replies":
                    paths = write_reply_forms(ws, meeting.id, None, department)
                else:
                    paths = write_member_forms(ws, meeting.id, [])
                return Output([(p.name, web.download_url(ws, p)) for p in paths])

            return web.start_job(
                request,
                "forms",
                f"会議 {meeting.id} の{what}を作成しています",
                meeting.report_year,
                work,
                0,
                f"会議 {meeting.id} の{what}を作成しました",
                meeting=meeting.id,
            )

        return endpoint

    def opinion_forms_zip(kind: str) -> Callable[[Request, Any], Any]:
        def endpoint(request: Request, ws: Any) -> Response:
            from hyoka.text import safe_filename

            meeting = meeting_of(request, ws)
            what = "回答票" if kind == "replies" else "意見票"
            folder = ws.out_dir / kind / safe_filename(meeting.id)
            files = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
            if not files:
                raise HyokaError(
                    f"会議 {meeting.id} の{what}はまだ作成されていません。先に「{what}を作成」を押してください。"
                )
            return _zip(files, f"{what}_{safe_filename(meeting.id)}.zip")

        return endpoint

    async def opinions_material(request: Request, ws: Any) -> Response:
        from hyoka.report.opinions import render_opinions
        from hyoka.report.templates import search_path

        meeting = await run_in_threadpool(meeting_of, request, ws)
        form = await request.form()
        draft = form.get("draft") == "1"

        def work(job: Job) -> Any:
            path, _ = render_opinions(
                ws, meeting.id, ws.out_dir / "opinions", draft=draft, templates=search_path(ws.root)
            )
            return Output([(path.name, web.download_url(ws, path))])

        what = "（案）" if draft else ""
        return web.start_job(
            request,
            "report",
            f"会議 {meeting.id} の「意見と市の考え方」{what}を作成しています",
            meeting.report_year,
            work,
            0,
            f"会議 {meeting.id} の「意見と市の考え方」{what}を作成しました",
            meeting=meeting.id,
        )

    # --- the sheet definition ---------------------------------------------------------------------------

    def sheet_page(request: Request, ws: Any) -> Response:
        from hyoka.problems import Severity
        from hyoka.sheet import describe_column, describe_sheet
        from hyoka.workspace import ConfigError

        year = web.year(request, ws)
        stored = request.query_params.get("stored") == "1"  # as `sheet show --year`: the version's own
        sheet = ws.sheet_for(year) if stored else ws.sheet
        try:  # as `hyoka sheet check` (hyoka.toml's definition): errors first
            problems = ws.sheet_problems()
        except ConfigError as exc:
            problems = exc.problems
        problems = sorted(problems, key=lambda p: p.severity != Severity.ERROR)
        errors = sum(p.severity == Severity.ERROR for p in problems)
        lines = describe_sheet(sheet)
        return web.page(
            request,
            "sheet.html",
            title="評価表の定義",
            ws=ws,
            year=year,
            stored=stored,
            version=ws.version(year) if stored else None,
            sheet=sheet,
            # describe_sheet: levels, plan headings, "列:", one line per column, then the scales
            lines=[*lines[:2], *lines[3 + len(sheet.columns) :]],
            columns=[(c, describe_column(sheet, c)) for c in sheet.columns],
            problems=problems,
            errors=errors,
            sheet_notice=ws.sheet_notice(),
        )

    # --- settings ------------------------------------------------------------------------------------

    async def settings_page(request: Request) -> Response:
        from hyoka.workspace import CONFIG_NAME

        path = web.root / CONFIG_NAME
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = "（UTF-8 で保存されていないため、内容を表示できません）"
        except OSError:
            text = "（ファイルがないか、開けないため、内容を表示できません）"
        try:
            ws = web.workspace()
            error = None
        except HyokaError as exc:
            ws, error = None, str(exc)
        plan_problems: list[Any] = []
        if ws is not None:
            from hyoka.workspace import load_plan

            try:
                _plan, plan_problems = load_plan(ws.config.plan_file, ws.sheet)
            except HyokaError as exc:  # the plan file is gone or unreadable: say so beside the settings
                error = str(exc)
        return web.page(
            request,
            "settings.html",
            title="設定",
            ws=ws,
            year=web.year(request, ws) if ws is not None else None,
            config_text=text,
            config_path=path,
            config_error=error,
            plan_problems=plan_problems,
        )

    # --- jobs and files ------------------------------------------------------------------------------

    def job_page(request: Request, ws: Any) -> Response:
        job = web.jobs.get(request.path_params["job_id"])
        if job is None:
            return web.failure(
                request, "この処理は見つかりません（サーバーを起動し直すと消えます）。", status=404
            )
        state = job.state  # once: the job's thread may finish while the page is being rendered
        context: dict[str, Any] = {
            "job": job,
            "state": state,
            "ws": ws,
            "year": FiscalYear.parse(job.year),
            "title": {"running": job.title, "failed": job.failed_title}.get(state, job.done_title),
            "collect": None,
            "opinions": None,
            "feedback": {},
            "older": {},
        }
        if state == "done" and job.kind == "opinions":
            context["opinions"] = job.result
            context["feedback"] = {
                f.name: web.download_url(ws, f.feedback) for f in job.result.files if f.feedback is not None
            }
        if state == "done" and job.kind == "collect":
            context["collect"] = job.result
            context["feedback"] = {
                f.name: web.download_url(ws, f.feedback) for f in job.result.files if f.feedback is not None
            }
            from hyoka.collect import OLDER_CODES

            context["older"] = {
                f.name: web.action(
                    "/collect/accept-older", year=job.year, file=str(f.path.relative_to(ws.root))
                )
                for f in job.result.files
                if any(p.code in OLDER_CODES for p in f.problems) and f.path.is_relative_to(ws.root)
            }
        return web.page(request, "job.html", **context)

    def job_json(request: Request) -> Response:
        job = web.jobs.get(request.path_params["job_id"])
        if job is None:
            return JSONResponse({"state": "missing"}, status_code=404)
        return _secure(JSONResponse(job.to_dict()))

    def download(request: Request, ws: Any) -> Response:
        wanted = (ws.root / request.path_params["path"]).resolve()
        allowed = [(ws.root / "out").resolve(), (ws.root / "received").resolve()]
        if not any(wanted.is_relative_to(a) for a in allowed) or not wanted.is_file():
            return web.failure(request, "このファイルはダウンロードできません。", status=404)
        return _secure(FileResponse(wanted, filename=wanted.name))

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        path = HERE / "static" / name
        if name not in {"hyoka.css", "hyoka.js"} or not path.is_file():
            return Response("", status_code=404)
        media = "text/css" if name.endswith(".css") else "text/javascript"
        response = Response(path.read_bytes(), media_type=f"{media}; charset=utf-8")
        response.headers["x-content-type-options"] = "nosniff"
        return response

    # --- sign-in with a password (only when listening on another address) ------------------------------

    async def login(request: Request) -> Response:
        error = None
        if request.method == "POST":
            form = await request.form()
            if guard.password_ok(str(form.get("password") or "")):
                target = request.query_params.get("next") or "/"
                response = RedirectResponse(safe_next(target), status_code=303)
                response.headers["set-cookie"] = session_cookie(guard)
                return response
            await asyncio.sleep(LOGIN_DELAY)  # guessing the password takes time
            error = "パスワードが違います。"
        html = web.env.get_template("login.html").render(
            action="/login?" + urlencode({**request.query_params, "csrf": guard._mac("login")}),
            error=error,
            path="/login",
            title="パスワード",
        )
        return _secure(HTMLResponse(html, status_code=200 if error is None else 403))

    routes = [
        Route("/", with_ws(home)),
        Route("/plan", with_ws(plan_page)),
        Route("/plan/adopt", with_ws(plan_adopt), methods=["POST"]),
        Route("/forms", with_ws(forms_page), methods=["GET"]),
        Route("/forms", with_ws(forms_make), methods=["POST"]),
        Route("/forms/zip", with_ws(forms_zip)),
        Route("/collect", with_ws(collect_page), methods=["GET"]),
        Route("/collect", with_ws(collect_upload), methods=["POST"]),
        Route("/collect/accept-older", with_ws(accept_older), methods=["POST"]),
        Route("/import", with_ws(import_upload), methods=["POST"]),
        Route("/status", with_ws(status_page)),
        Route("/report", with_ws(report_page), methods=["GET"]),
        Route("/report", with_ws(report_make), methods=["POST"]),
        Route("/report/preview", with_ws(report_preview)),
        Route("/diff", with_ws(diff_page)),
        Route("/diff/export", with_ws(diff_export)),
        Route("/history", with_ws(history_page)),
        Route("/history/export", with_ws(history_export)),
        Route("/opinions", with_ws(opinions_page)),
        Route("/opinions/import", with_ws(opinions_run("import", "意見")), methods=["POST"]),
        Route("/opinions/collect", with_ws(opinions_run("members", "意見票")), methods=["POST"]),
        Route("/replies/collect", with_ws(opinions_run("replies", "回答票")), methods=["POST"]),
        Route("/opinions/forms", with_ws(opinion_forms_make("opinions")), methods=["POST"]),
        Route("/replies/forms", with_ws(opinion_forms_make("replies")), methods=["POST"]),
        Route("/opinions/forms.zip", with_ws(opinion_forms_zip("opinions"))),
        Route("/replies/forms.zip", with_ws(opinion_forms_zip("replies"))),
        Route("/opinions/material", with_ws(opinions_material), methods=["POST"]),
        Route("/sheet", with_ws(sheet_page)),
        Route("/settings", settings_page),
        Route("/jobs/{job_id}.json", job_json),
        Route("/jobs/{job_id}", with_ws(job_page)),
        Route("/files/{path:path}", with_ws(download)),
        Route("/static/{name}", static),
        Route("/login", login, methods=["GET", "POST"]),
    ]

    async def refused(request: Request, exc: Exception) -> Response:
        """The framework's own refusals (no such page, wrong method, unreadable form) as Japanese pages."""
        status = getattr(exc, "status_code", 400)
        detail = str(getattr(exc, "detail", ""))
        if status == 404:
            message = "このページはありません。上のメニューから選んでください。"
        elif status == 405:
            message = "このページでは、この操作はできません。上のメニューから開き直してください。"
        elif detail.startswith("Too many files"):
            message = (
                f"1回に送れるファイルは {MAX_FILES_PER_UPLOAD} 件までです。ファイルを分けて送ってください。"
            )
        else:
            message = "送信された内容を読み取れません。ページを開き直してから、もう一度送ってください。"
        return web.failure(request, message, status=status)

    async def body_too_large(request: Request, exc: Exception) -> Response:
        return web.failure(request, too_large(), status=413)

    app = Starlette(routes=routes, exception_handlers={HTTPException: refused, BodyTooLarge: body_too_large})
    app.state.web = web
    return guarded(app, guard)


def _zip(files: list[Path], name: str) -> Response:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, f.name)
    return _secure(
        Response(
            buffer.getvalue(),
            media_type="application/zip",
            headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
        )
    )


def _received(ws: Any, kind: str, relative: str) -> Path | None:
    """A file the clerk uploaded before (``received/<kind>/<日時>/<名前>``), named by the page; None for
    anything else — a name with ``..`` or an absolute path never reaches outside that folder."""
    base: Path = (ws.root / "received" / kind).resolve()
    if not relative:
        return None
    wanted = (base / relative).resolve()
    if not wanted.is_relative_to(base) or not wanted.is_file():
        return None
    return wanted


def _modified(text: str) -> dict[str, float]:
    """The page script's ``{name: lastModified in ms}``; anything else is ignored."""
    import json

    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): v / 1000 for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _column_choices(sheet: Any, chosen: str) -> dict[str, Any]:
    """The 比べる列 selector's options (key, heading): shown only when the sheet has more than one."""
    from hyoka.diff import comparable_columns

    columns = [(c.key, c.title) for c in comparable_columns(sheet)]
    return {
        "columns": columns if len(columns) > 1 else [],
        "column": chosen or sheet.default_diff_column or "",
    }


def _export(doc: Any, fmt: str, stem: str) -> Response:
    """The CLI's exports as downloads: the same renderers, the same files."""
    import tempfile

    from hyoka.export import render, save

    kinds = {
        "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "json": "application/json",
        "md": "text/markdown",
    }
    if fmt not in kinds:
        raise HyokaError(f"形式「{fmt}」では保存できません。csv・xlsx・json・md のどれかを選んでください。")
    name = f"{stem}.{fmt}"
    if fmt == "xlsx":
        with tempfile.TemporaryDirectory(prefix="hyoka-web-") as tmp:
            data = save(doc, fmt, Path(tmp) / name).read_bytes()
    else:
        text = render(doc, fmt)
        data = (("\ufeff" if fmt == "csv" else "") + text).encode("utf-8")
    headers = {"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
    return _secure(
        Response(
            data, media_type=f"{kinds[fmt]}; charset=utf-8" if fmt != "xlsx" else kinds[fmt], headers=headers
        )
    )
