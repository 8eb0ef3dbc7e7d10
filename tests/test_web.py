"""hyoka serve through Starlette's test client: every page, every action, and the safety rules."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from lxml import html as lxml_html
from starlette.testclient import TestClient

from hyoka.web.app import build
from hyoka.web.security import MAX_BODY_BYTES, Guard
from hyoka.web.uploads import upload_name
from hyoka.workspace import Workspace
from hyoka.years import FiscalYear
from tests.conftest import SAMPLE

HOST = "http://127.0.0.1:8765"


def _client(ws: Workspace, guard: Guard | None = None, *, signed_in: bool = True) -> tuple[TestClient, Guard]:
    guard = guard or Guard(port=8765)
    client = TestClient(build(ws.root, guard), base_url=HOST)
    if signed_in:
        client.cookies.set(guard.cookie, guard.session)
    return client, guard


@pytest.fixture
def web(sample_ws_loaded: Workspace) -> Iterator[tuple[TestClient, Guard, Workspace]]:
    client, guard = _client(sample_ws_loaded)
    with client:
        yield client, guard, sample_ws_loaded


def _wait(client: TestClient, response: Any) -> lxml_html.HtmlElement:
    """Follow a job to its end; returns the result page."""
    assert response.status_code == 303, response.text[:500]
    job = response.headers["location"]
    assert job.startswith("/jobs/")
    deadline = time.monotonic() + 120
    while client.get(f"{job}.json").json()["state"] == "running":
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.1)
    page = client.get(job)
    assert page.status_code == 200
    return lxml_html.fromstring(page.text)


def _text(doc: lxml_html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def _upload(client: TestClient, guard: Guard, files: list[Path], **fields: str) -> Any:
    return client.post(
        f"/collect?year=R5&csrf={guard.csrf}",
        files=[("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files],
        data=fields,
        follow_redirects=False,
    )


# --- safety -------------------------------------------------------------------------------------------


def test_the_first_address_signs_in_and_nothing_else_does(sample_ws: Workspace) -> None:
    client, guard = _client(sample_ws, signed_in=False)
    refused = client.get("/")
    assert refused.status_code == 403
    assert "token=" in refused.text and '<html lang="ja">' in refused.text
    assert client.get("/?token=wrong", follow_redirects=False).status_code == 403
    first = client.get(f"/?token={guard.token}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"  # the token leaves the address bar
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and guard.token not in cookie
    assert client.get("/").status_code == 200


def test_a_foreign_host_header_is_refused(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, _guard, _ws = web
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 400
    assert client.get("/", headers={"host": "127.0.0.1:9999"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_every_post_needs_the_csrf_token_and_our_origin(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, ws = web
    for path in ("/forms?year=R5", "/collect?year=R5", "/report?year=R5"):
        response = client.post(path, data={}, follow_redirects=False)
        assert response.status_code == 403, path
        assert "開き直して" in response.text
    wrong_origin = client.post(
        f"/forms?year=R5&csrf={guard.csrf}", headers={"origin": "http://evil.example"}, follow_redirects=False
    )
    assert wrong_origin.status_code == 403
    assert not (ws.out_dir / "forms" / "R5").exists()  # nothing was made


def test_an_oversize_upload_is_refused_before_it_is_stored(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, ws = web
    response = client.post(
        f"/collect?year=R5&csrf={guard.csrf}",
        content=b"x" * 10,
        headers={
            "content-length": str(MAX_BODY_BYTES + 1),
            "content-type": "multipart/form-data; boundary=x",
        },
    )
    assert response.status_code == 413
    assert not (ws.root / "received").exists()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../hyoka.toml", "hyoka.toml"),
        ("..\\..\\evil.xlsx", "evil.xlsx"),
        ("C:\\Users\\me\\調査票_R5_公民館.xlsx", "調査票_R5_公民館.xlsx"),
        ("/etc/passwd", "passwd"),
        ("con.xlsx", "_con.xlsx"),
        ("...", ""),
    ],
)
def test_upload_names_never_leave_their_folder(sent: str, kept: str) -> None:
    assert upload_name(sent) == kept


def test_uploaded_files_stay_in_the_batch_folder(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, ws = web
    response = client.post(
        f"/collect?year=R5&csrf={guard.csrf}",
        files=[("files", ("../../hyoka.toml", b"not a workbook", "application/octet-stream"))],
        follow_redirects=False,
    )
    page = _wait(client, response)
    (batch,) = (ws.root / "received" / "R5").iterdir()
    assert [p.name for p in batch.iterdir()] == ["hyoka.toml"]
    assert (ws.root / "hyoka.toml").read_text(encoding="utf-8").startswith("#")  # the real one is untouched
    assert _text(page, "//section//span[@class='badge']") == ["差戻し"]


def test_downloads_are_limited_to_the_workspace_outputs(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, _guard, _ws = web
    for path in (
        "/files/hyoka.toml",
        "/files/hyoka.db",
        "/files/../../etc/passwd",
        "/files/out/../hyoka.toml",
    ):
        assert client.get(path).status_code == 404, path


def test_another_address_needs_the_password(sample_ws: Workspace) -> None:
    guard = Guard(port=8765, host="192.0.2.10", password="合言葉")
    client = TestClient(build(sample_ws.root, guard), base_url="http://192.0.2.10:8765")
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    login = client.get("/login")
    assert login.status_code == 200 and 'type="password"' in login.text
    action = lxml_html.fromstring(login.text).xpath("//form/@action")[0]
    assert client.post(action, data={"password": "違う"}).status_code == 403
    assert client.post("/login", data={"password": "合言葉"}).status_code == 403  # no CSRF token
    signed = client.post(action, data={"password": "合言葉"}, follow_redirects=False)
    assert signed.status_code == 303
    assert client.get("/").status_code == 200


def test_serve_refuses_another_address_without_a_password(sample_ws: Workspace) -> None:
    from hyoka.problems import HyokaError
    from hyoka.web import serve

    with pytest.raises(HyokaError, match="パスワード"):
        serve(sample_ws.root, host="0.0.0.0", open_browser=False)


# --- pages and actions ---------------------------------------------------------------------------------


def test_every_page_opens_in_japanese(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, _guard, _ws = web
    for path, heading in (
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
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        doc = lxml_html.fromstring(response.text)
        assert doc.get("lang") == "ja"
        assert _text(doc, "//h1")[0].startswith(heading), path
        assert _text(doc, "//nav//a[@aria-current='page']") == [heading], path
        # Every control has a label.
        for control in doc.xpath("//select | //input[not(@type='hidden')]"):
            assert doc.xpath(f"//label[@for='{control.get('id')}']") or control.get("aria-label"), path
    missing = client.get("/nope")
    assert missing.status_code == 404 and "このページはありません" in missing.text


def test_home_shows_the_cycle_with_the_next_step(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, _guard, _ws = web
    doc = lxml_html.fromstring(client.get("/?year=R6").text)
    steps = _text(doc, "//ol[@class='cycle']/li")
    assert [s.split()[:2] for s in steps] == [
        ["済", "計画"],
        ["次", "調査票"],
        ["未", "回収"],
        ["未", "資料"],
        ["未", "比較"],
    ]
    assert _text(doc, "//p[@class='next-step']") == ["次にすること: 調査票"]


def test_forms_are_made_and_downloaded_one_by_one_or_as_a_zip(
    web: tuple[TestClient, Guard, Workspace],
) -> None:
    client, guard, ws = web
    page = _wait(client, client.post(f"/forms?year=R6&csrf={guard.csrf}", data={}, follow_redirects=False))
    links = page.xpath("//ul[@class='files']//a/@href")
    assert len(links) == len(ws.plan.submitters) == 11
    first = client.get(links[0])
    assert first.status_code == 200 and first.content.startswith(b"PK")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/forms/zip?year=R6").content))
    assert sorted(archive.namelist()) == sorted(p.name for p in (ws.out_dir / "forms" / "R6").glob("*.xlsx"))


def test_collect_upload_shows_each_file_and_offers_the_feedback_copy(sample_ws: Workspace) -> None:
    client, guard = _client(sample_ws)
    with client:
        returned = sorted((SAMPLE / "returned" / "R5").glob("*.xlsx"))
        page = _wait(client, _upload(client, guard, returned))
        assert _text(page, "//section//span[@class='badge']") == ["受付"] * 11
        assert len(list((sample_ws.root / "received" / "R5").glob("*/*.xlsx"))) == 11  # the clerk's record
        mistakes = sorted((SAMPLE / "returned" / "mistakes").glob("*.xlsx"))
        page = _wait(client, _upload(client, guard, mistakes, dry_run="1"))
        rejected = page.xpath("//section[contains(@class, 'status-rejected')]")
        assert rejected
        for section in rejected:
            assert section.xpath(".//table[@class='problems']//tr[contains(@class, 'sev-error')]")
        feedback = page.xpath("//a[contains(., '指摘を書き込んだ写し')]/@href")
        assert feedback
        copy = client.get(feedback[0])
        assert copy.status_code == 200 and copy.content.startswith(b"PK")
        assert "確認だけのため保存していません" in page.text_content()
        status = lxml_html.fromstring(client.get("/status?year=R5").text)
        assert _text(status, "//p[@role='status']") == ["完了 11/11 課"]


def test_an_older_version_is_refused_then_brought_back_with_one_button(
    sample_ws: Workspace, tmp_path: Path
) -> None:
    import json

    import openpyxl

    client, guard = _client(sample_ws)
    with client:
        form = sorted((SAMPLE / "returned" / "R5").glob("*.xlsx"))[0]
        newer_page = _wait(client, _upload(client, guard, [form]))
        assert _text(newer_page, "//section//span[@class='badge']") == ["受付"]
        with sample_ws.store() as store:
            stored = {p.achievement for p in store.current_parts(FiscalYear(2023))}
        older = tmp_path / "old" / form.name
        older.parent.mkdir()
        book = openpyxl.load_workbook(form)
        cell = next(c for row in book["調査票"].iter_rows() for c in row if c.value in stored)
        cell.value = "前の版の記述です。"
        book.save(older)
        an_hour_ago = json.dumps({form.name: (time.time() - 3600) * 1000})
        page = _wait(client, _upload(client, guard, [older], modified=an_hour_ago))
        assert page.xpath("//tr[contains(@class, 'sev-error')]//td[contains(., 'file-older-than-current')]")
        (action,) = page.xpath("//form[.//button[contains(., '古い版として受け付ける')]]/@action")
        assert "csrf=" in action and "received%2FR5%2F" in action
        back = _wait(client, client.post(action, follow_redirects=False))
        assert _text(back, "//section//span[@class='badge']") == ["受付"]
        assert "older-file-accepted" in back.text_content()
        with sample_ws.store() as store:
            assert "前の版の記述です。" in {p.achievement for p in store.current_parts(FiscalYear(2023))}
        # Only a file the page kept for that year can be brought back.
        outside = client.post(f"/collect/accept-older?year=R5&file=hyoka.toml&csrf={guard.csrf}")
        assert outside.status_code == 404
        assert client.post(action.replace(f"csrf={guard.csrf}", "csrf=x")).status_code == 403


def test_status_shows_the_secretariat_s_second_stage_as_the_cli_does(tmp_path: Path) -> None:
    from hyoka.collect import collect
    from hyoka.workspace import init_workspace

    ws = init_workspace(tmp_path / "ts", None, sample=True, sample_name="two_stage")
    assert collect(ws, [SAMPLE.parent / "two_stage" / "returned"], FiscalYear(2023)).ok
    client, _guard = _client(ws)
    with client:
        page = lxml_html.fromstring(client.get("/status?year=R5").text)
    assert _text(page, "//h2") == ["事務局（二次評価）"]
    assert _text(page, "//h2/following-sibling::p") == [
        "事務局（二次評価）: 0 / 7 行",
        "未入力: 事業No.1（地域福祉課）、事業No.2（市民協働課）、事業No.3（地域福祉課）、事業No.4（福祉総務課）、"
        "事業No.5（福祉総務課・地域福祉課）、事業No.6（障害福祉課）、事業No.7（高齢福祉課）",
    ]


def test_report_is_made_and_the_docx_reads_back(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, _ws = web
    page = _wait(client, client.post(f"/report?year=R5&csrf={guard.csrf}", data={}, follow_redirects=False))
    links = dict(
        zip(_text(page, "//ul[@class='files']//a"), page.xpath("//ul[@class='files']//a/@href"), strict=True)
    )
    assert "資料1_進捗状況及び評価表_R5.docx" in links
    doc = Document(io.BytesIO(client.get(links["資料1_進捗状況及び評価表_R5.docx"]).content))
    assert any("進捗状況及び評価表" in p.text for p in doc.paragraphs)
    preview = client.get("/report/preview?year=R5")
    assert preview.status_code == 200 and "事業No.41" in preview.text


def test_report_refusal_is_the_library_message(sample_ws: Workspace) -> None:
    client, guard = _client(sample_ws)
    with client:
        page = _wait(
            client, client.post(f"/report?year=R5&csrf={guard.csrf}", data={}, follow_redirects=False)
        )
    assert "回答がそろっていないため、評価表を作成できません" in _text(page, "//div[@role='alert']")[0]


def test_diff_filters_and_exports(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, _guard, _ws = web
    doc = lxml_html.fromstring(client.get("/diff?year=R5").text)
    changed = doc.xpath("//table[@class='grid']")[0].xpath(".//tbody/tr")
    assert len(changed) == 6  # the sample's six changes
    up = lxml_html.fromstring(client.get("/diff?year=R5&change=up").text)
    rows = up.xpath("//table[@class='grid']")[0].xpath(".//tbody/tr")
    assert rows and all("上昇" in r.text_content() for r in rows)
    csv_file = client.get("/diff/export?year=R5&format=csv")
    assert (
        csv_file.content.startswith("\ufeff".encode())
        and "attachment" in csv_file.headers["content-disposition"]
    )
    xlsx = client.get("/diff/export?year=R5&format=xlsx")
    assert xlsx.content.startswith(b"PK")
    assert client.get("/diff/export?year=R5&format=exe").status_code == 200  # a page with the library message
    history = lxml_html.fromstring(client.get("/history?no=9").text)
    assert len(history.xpath("//table[@class='grid']//tbody/tr")) == 1


def test_settings_shows_a_broken_config_with_its_message(sample_ws: Workspace) -> None:
    (sample_ws.root / "hyoka.toml").write_text("[committee\nname = 1\n", encoding="utf-8")
    client, _guard = _client(sample_ws)
    page = lxml_html.fromstring(client.get("/settings").text)
    assert "設定ファイル" in _text(page, "//div[@role='alert']")[0]
    assert "[committee" in _text(page, "//pre")[0]
    home = client.get("/")
    assert home.status_code == 200 and "設定を確認する" in home.text


def test_a_run_stopped_part_way_says_what_was_stored_and_what_not(
    ws_r4: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job page of a collect that a full disk stopped (rendered directly from the run's result)."""
    import sqlite3
    from types import SimpleNamespace

    from hyoka import store as store_module
    from hyoka.collect import collect
    from hyoka.web.app import Web
    from hyoka.years import FiscalYear

    commits = {"n": 0}
    real_execute = sqlite3.Connection.execute

    class FullAtTheThirdCommit(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            if sql == "COMMIT" and self.total_changes > 0:
                commits["n"] += 1
                if commits["n"] == 3:
                    raise sqlite3.OperationalError("database or disk is full")
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(
        store_module.sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=FullAtTheThirdCommit, **k)
    )
    result = collect(ws_r4, [SAMPLE / "returned" / "R5"], FiscalYear(2023))
    monkeypatch.undo()
    # Files are committed in batches (after the 1st, 3rd, 7th file …): the 3rd commit covers files 4–7.
    assert [f.status for f in result.files] == ["accepted", "accepted", "accepted"]
    page = (
        Web(ws_r4.root, Guard(port=8765))
        .env.get_template("job.html")
        .render(
            title="確認結果",
            committee="",
            path="/jobs/1",
            job=SimpleNamespace(state="done", result=result),
            state="done",
            collect=result,
            feedback={},
            year=result.year,
            years=[result.year],
            error=None,
            settings_link=None,
        )
    )
    doc = lxml_html.fromstring(page)
    (alert,) = _text(doc, "//div[@id='interrupted']")
    assert "ディスクの空きが足りない" in alert and "次の 8 件は保存していません" in alert


# --- review of issue 13 (each test failed before its fix) ---------------------------------------------


def test_an_unreadable_year_in_an_export_address_is_a_page_not_a_crash(
    web: tuple[TestClient, Guard, Workspace],
) -> None:
    client, _guard, _ws = web
    page = client.get("/diff/export?year=R5&against=zz")
    assert page.status_code == 200
    assert "年度「zz」を読み取れません" in _text(lxml_html.fromstring(page.text), "//div[@role='alert']")[0]


def test_an_oversize_body_without_length_is_refused_on_every_post(
    web: tuple[TestClient, Guard, Workspace],
) -> None:
    client, guard, _ws = web

    def chunks() -> Iterator[bytes]:
        block = b"x" * (1 << 20)
        for _ in range(MAX_BODY_BYTES // len(block) + 2):
            yield block

    for path in ("/forms?year=R5", "/report?year=R5", "/import"):
        response = client.post(
            f"{path}{'&' if '?' in path else '?'}csrf={guard.csrf}",
            content=chunks(),
            headers={"content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert response.status_code == 413, (path, response.text[:200])
        assert "1回に合計" in response.text


def test_framework_refusals_are_japanese_pages(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, _ws = web
    too_many = client.post(
        f"/collect?year=R5&csrf={guard.csrf}",
        files=[("files", (f"f{i}.xlsx", b"x", "application/octet-stream")) for i in range(501)],
    )
    assert too_many.status_code == 400
    assert "500 件まで" in _text(lxml_html.fromstring(too_many.text), "//div[@role='alert']")[0]
    broken = client.post(
        f"/collect?year=R5&csrf={guard.csrf}",
        content=b"abc",
        headers={"content-type": "multipart/form-data"},
    )
    assert broken.status_code == 400
    assert "送信された内容を読み取れません" in broken.text
    wrong_method = client.post(f"/status?csrf={guard.csrf}")
    assert wrong_method.status_code == 405
    assert "この操作はできません" in wrong_method.text


def test_sign_in_never_sends_the_browser_to_another_site(sample_ws: Workspace) -> None:
    guard = Guard(port=8765, host="192.0.2.10", password="合言葉")
    client = TestClient(build(sample_ws.root, guard), base_url="http://192.0.2.10:8765")
    for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        login = client.get("/login", params={"next": target})
        action = lxml_html.fromstring(login.text).xpath("//form/@action")[0]
        signed = client.post(action, data={"password": "合言葉"}, follow_redirects=False)
        assert signed.headers["location"] == "/", target


def test_listening_on_every_address_accepts_this_pcs_names_behind_the_password(
    sample_ws: Workspace,
) -> None:
    """--host 0.0.0.0: other PCs reach it by its LAN address, which the server cannot know in advance."""
    guard = Guard(port=8765, host="0.0.0.0", password="合言葉")
    client = TestClient(build(sample_ws.root, guard), base_url="http://192.168.1.20:8765")
    first = client.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/login")
    assert client.get("/").status_code == 200  # the login page, not a Host refusal
    client.cookies.set(guard.cookie, guard.session)
    signed_in = client.get("/")
    assert signed_in.status_code == 200 and "<h1>ホーム" in signed_in.text


def test_ipv6_loopback_host_header_is_ours(sample_ws: Workspace) -> None:
    guard = Guard(port=8765, host="::1")
    assert "[::1]:8765" in guard.allowed_hosts


def test_a_failed_job_does_not_say_it_was_done(sample_ws: Workspace) -> None:
    client, guard = _client(sample_ws)
    with client:
        page = _wait(
            client, client.post(f"/report?year=R5&csrf={guard.csrf}", data={}, follow_redirects=False)
        )
    assert _text(page, "//h1")[0].startswith("令和5年度の資料を作成できませんでした")


def test_settings_says_in_japanese_when_the_file_is_not_utf8(sample_ws: Workspace) -> None:
    (sample_ws.root / "hyoka.toml").write_bytes(b"\xff\xfe committee")
    client, _guard = _client(sample_ws)
    with client:
        page = client.get("/settings")
    assert "codec" not in page.text
    assert "UTF-8 で保存" in page.text


def test_the_pages_speak_the_librarys_words(web: tuple[TestClient, Guard, Workspace]) -> None:
    """A warning is 「警告」 on the page as in the CLI and the feedback copy (the page said 「注意」)."""
    from hyoka.collect import FILE_STATUS_LABEL
    from hyoka.problems import SEVERITY_LABEL, Severity, problem
    from hyoka.web.app import Web

    _client, guard, ws = web
    env = Web(ws.root, guard).env
    warning = problem("outlook-blank", file="x.xlsx", sheet="調査票", cell="H5")
    assert warning.severity == Severity.WARNING
    shown = env.get_template("_problems.html").render(problems=[warning], severity_words=SEVERITY_LABEL)
    assert f"<td>{SEVERITY_LABEL[warning.severity]}</td>" in shown
    assert env.globals["severity_words"][Severity.WARNING] == "警告"
    assert env.globals["file_status_words"] is FILE_STATUS_LABEL


@pytest.mark.parametrize(
    ("page", "cli"),
    [
        ("/diff/export?year=R5&format=json", ("diff", "--year", "R5", "--format", "json")),
        ("/history/export?format=json", ("history", "--format", "json")),
        ("/history/export?format=json&no=9", ("history", "--no", "9", "--format", "json")),
    ],
)
def test_exports_are_the_clis_files(
    web: tuple[TestClient, Guard, Workspace], run: Any, page: str, cli: tuple[str, ...]
) -> None:
    """Same renderer, same arguments: the numbers typed as the CLI types them (the page's were text)."""
    client, _guard, ws = web
    result = run(*cli, "-w", ws.root)
    assert result.exit_code == 0, result.output
    assert client.get(page).content.decode("utf-8") == result.output.removesuffix("\n")


def test_comparing_a_year_with_itself_is_refused_as_in_the_cli(
    web: tuple[TestClient, Guard, Workspace],
) -> None:
    client, _guard, _ws = web
    page = lxml_html.fromstring(client.get("/diff?year=R5&against=R5").text)
    assert "比べる2つの年度が同じです" in _text(page, "//div[@role='alert']")[0]


def test_settings_opens_when_the_plan_file_is_gone(sample_ws: Workspace) -> None:
    (sample_ws.root / "plan.csv").unlink()
    client, _guard = _client(sample_ws)
    with client:
        page = client.get("/settings")
    assert page.status_code == 200
    alert = _text(lxml_html.fromstring(page.text), "//div[@role='alert']")
    assert alert and "ファイルが見つかりません" in alert[0]


def test_the_browser_is_opened_without_the_token_on_its_command_line(
    sample_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other users of the PC can read a process's command line: the browser gets a private file instead."""
    import os
    import stat
    import threading
    from urllib.parse import unquote, urlparse

    import uvicorn

    from hyoka import web as web_module

    opened: list[str] = []
    announced: list[str] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: None)
    monkeypatch.setattr(web_module.webbrowser, "open", lambda url: opened.append(url))

    class Now:
        def __init__(self, _delay: float, fn: Any, args: tuple[Any, ...] = ()) -> None:
            self.fn, self.args = fn, args

        def start(self) -> None:
            self.fn(*self.args)

    monkeypatch.setattr(threading, "Timer", Now)
    web_module.serve(sample_ws.root, port=18980, announce=announced.append)
    token = announced[0].rsplit("token=", 1)[1]
    assert opened and token not in opened[0]
    page = Path(unquote(urlparse(opened[0]).path))
    assert token in page.read_text(encoding="utf-8")
    if os.name == "posix":
        assert stat.S_IMODE(page.stat().st_mode) == 0o600


def test_plan_page_lists_the_adopted_versions(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, _guard, ws = web
    with ws.store() as store:
        first = store.version_info()[0]
    page = lxml_html.fromstring(client.get("/plan").text)
    rows = page.xpath("//table[caption[@id='versions-caption']]//tbody/tr")
    assert len(rows) >= 1
    cells = [" ".join(c.text_content().split()) for c in rows[0].xpath("./th|./td")]
    assert cells[0] == str(first["id"]) and cells[3] == "57" and cells[4] == first["source_file"]


# --- 計画: adopting a new plan version ---------------------------------------------------------------


def _adopt(client: TestClient, guard: Guard, filename: str, data: bytes, **fields: Any) -> Any:
    return client.post(
        f"/plan/adopt?csrf={guard.csrf}",
        files=[("file", (filename, data, "application/octet-stream"))],
        data={"from": "R6", "step": "check", **fields},
    )


def _pre(page: lxml_html.HtmlElement, element_id: str) -> list[str]:
    return [line for line in page.get_element_by_id(element_id).text_content().split("\n") if line]


def test_plan_adopt_needs_the_csrf_token(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, _guard, ws = web
    response = client.post(
        "/plan/adopt",
        files=[("file", ("plan.csv", (SAMPLE / "plan_R6.csv").read_bytes(), "text/csv"))],
        data={"from": "R6", "step": "adopt"},
    )
    assert response.status_code == 403
    assert not (ws.root / "received").exists()
    with ws.store() as store:
        assert [v.from_year.short for v in store.versions()] == ["R4"]


def test_plan_adopt_preview_is_the_clis_dry_run(web: tuple[TestClient, Guard, Workspace], run: Any) -> None:
    client, guard, ws = web
    renamed = {"old": ["地域安全課", ""], "new": ["防災危機管理課", ""]}
    response = _adopt(client, guard, "plan_R6.csv", (SAMPLE / "plan_R6.csv").read_bytes(), **renamed)
    assert response.status_code == 200
    page = lxml_html.fromstring(response.text)
    kept = sorted((ws.root / "received" / "plan").glob("*/*"))
    assert [p.name for p in kept] == ["plan_R6.csv"]  # the clerk's record
    shutil.copy2(kept[0], ws.root / "plan_R6.csv")
    cli = run(
        "plan",
        "adopt",
        "plan_R6.csv",
        "--from",
        "R6",
        "--rename",
        "地域安全課=防災危機管理課",
        "--dry-run",
        "-w",
        ws.root,
    )
    assert cli.exit_code == 0, cli.output
    expected = [line for line in cli.output.split("\n") if line][:-1]  # without the --dry-run note
    assert _pre(page, "adopt-preview") == expected
    assert "■ 課名の変更（1件）" in expected
    with ws.store() as store:  # a preview stores nothing
        assert [v.from_year.short for v in store.versions()] == ["R4"]


def test_plan_adopt_without_the_rename_suggests_it(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, _ws = web
    page = lxml_html.fromstring(
        _adopt(client, guard, "plan_R6.csv", (SAMPLE / "plan_R6.csv").read_bytes()).text
    )
    assert _text(page, "//*[@id='suspected']/p")[0].startswith(
        "「地域安全課」がなくなり「防災危機管理課」が増えています。"
    )
    # the re-check form has the suspected pair filled in
    assert page.xpath("//form[@id='recheck-form']//input[@id='old-0']/@value") == ["地域安全課"]
    assert page.xpath("//form[@id='recheck-form']//input[@id='new-0']/@value") == ["防災危機管理課"]


def test_plan_adopt_confirm_stores_the_new_version(
    web: tuple[TestClient, Guard, Workspace], run: Any
) -> None:
    client, guard, ws = web
    renamed = {"old": ["地域安全課"], "new": ["防災危機管理課"], "name": "改正後"}
    preview = lxml_html.fromstring(
        _adopt(client, guard, "plan_R6.csv", (SAMPLE / "plan_R6.csv").read_bytes(), **renamed).text
    )
    fields: dict[str, list[str]] = {}
    for field in preview.xpath("//form[@id='confirm-form']//input"):
        fields.setdefault(field.get("name"), []).append(field.get("value"))
    action = preview.xpath("//form[@id='confirm-form']/@action")[0]
    done = lxml_html.fromstring(client.post(action, data=fields).text)
    assert _text(done, "//*[@id='adopt-outcome']") == ["令和6年度からの版として採用しました（版 2、行 57）。"]
    with ws.store() as store:
        info = store.version_info()
    assert [(i["id"], i["name"], i["source_file"]) for i in info] == [
        (1, info[0]["name"], "plan.csv"),
        (2, "改正後", "plan_R6.csv"),
    ]
    again = lxml_html.fromstring(client.post(action, data=fields).text)  # the same confirm sent twice
    assert _text(again, "//div[@role='alert']/p")[0].startswith(
        "変更を確認したあとで、計画の版が採用されています"
    )
    assert again.xpath("//form[@id='confirm-form']//input[@name='expect']/@value") == ["3"]
    with ws.store() as store:
        assert len(store.version_info()) == 2
    r6 = lxml_html.fromstring(client.get("/plan?year=R6").text)  # the tree of the version in force
    assert _text(r6, "//*[@id='in-force']") == ["令和6年度に有効な計画の版: 版 2（改正後（R6〜））"]
    tree = " ".join(_text(r6, "//ul[@class='tree']"))
    assert "防災危機管理課" in tree and "地域安全課" not in tree
    notice = ws.working_copy_notice()
    assert notice is not None and _text(r6, "//*[@id='working-copy']/p")[0] == notice.message
    r5 = lxml_html.fromstring(client.get("/plan?year=R5").text)
    assert _text(r5, "//*[@id='in-force']")[0].startswith("令和5年度に有効な計画の版: 版 1")
    assert "地域安全課" in " ".join(_text(r5, "//ul[@class='tree']"))
    shown = run("plan", "show", "--year", "R6", "-w", ws.root)
    assert shown.exit_code == 0 and "防災危機管理課" in shown.output and "地域安全課" not in shown.output
    assert "\n計画の版: 改正後（R6〜）\n" in shown.output


def test_plan_adopt_shows_the_plan_files_errors_by_cell(
    web: tuple[TestClient, Guard, Workspace], run: Any
) -> None:
    client, guard, ws = web
    lines = (SAMPLE / "plan.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    broken = lines[1].split(",")
    broken[header.index("担当課")] = ""
    bad = "\n".join([lines[0], ",".join(broken), *lines[2:]]) + "\n"
    page = lxml_html.fromstring(_adopt(client, guard, "plan_bad.csv", bad.encode("utf-8")).text)
    (ws.root / "plan_bad.csv").write_text(bad, encoding="utf-8")
    cli = run("plan", "check", ws.root / "plan_bad.csv", "-w", ws.root)
    assert cli.exit_code == 1
    expected = [line for line in cli.output.split("\n") if line][:-1]  # without the summary line
    assert _pre(page, "plan-problems") == expected
    assert page.xpath("//table[@class='problems']//tr[contains(@class,'sev-error')]")
    assert _text(page, "//*[@id='adopt-outcome']") == [
        "plan_bad.csv: 誤りがあるため採用しませんでした。該当の行を直してから、もう一度実行してください。"
    ]
    with ws.store() as store:
        assert len(store.versions()) == 1


def test_plan_adopt_upload_names_and_size(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, ws = web
    response = _adopt(client, guard, "..\\..\\hyoka.toml.csv", (SAMPLE / "plan_R6.csv").read_bytes())
    assert response.status_code == 200
    assert [
        p.relative_to(ws.root / "received" / "plan").parts[1:]
        for p in (ws.root / "received" / "plan").glob("*/*")
    ] == [("hyoka.toml.csv",)]
    # a confirm naming a file outside received/plan is refused
    sneaky = client.post(
        f"/plan/adopt?csrf={guard.csrf}", data={"from": "R6", "step": "adopt", "upload": "../../hyoka.toml"}
    )
    assert "採用する計画マスタのファイルが選ばれていません。" in sneaky.text
    big = client.post(
        f"/plan/adopt?csrf={guard.csrf}",
        content=b"x" * 10,
        headers={
            "content-length": str(MAX_BODY_BYTES + 1),
            "content-type": "multipart/form-data; boundary=x",
        },
    )
    assert big.status_code == 413


# --- 意見・回答: the committee's opinions and the departments' replies ------------------------------------

OPINIONS = SAMPLE / "opinions" / "意見_R6-1.csv"
REPLIES = sorted((SAMPLE / "replies" / "R6-1").glob("*.xlsx"))


def _send(client: TestClient, guard: Guard, path: str, files: list[tuple[str, bytes]], **fields: str) -> Any:
    return client.post(
        f"{path}?meeting=R6-1&csrf={guard.csrf}",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        data=fields,
        follow_redirects=False,
    )


def _post(client: TestClient, guard: Guard, path: str, **fields: str) -> Any:
    return client.post(f"{path}?meeting=R6-1&csrf={guard.csrf}", data=fields, follow_redirects=False)


def test_opinion_posts_need_the_csrf_token(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, _guard, ws = web
    for path in (
        "/opinions/import",
        "/opinions/collect",
        "/replies/collect",
        "/opinions/forms",
        "/replies/forms",
        "/opinions/material",
    ):
        response = client.post(
            f"{path}?meeting=R6-1",
            files=[("files", (OPINIONS.name, OPINIONS.read_bytes(), "text/csv"))],
            follow_redirects=False,
        )
        assert response.status_code == 403, path
    assert not (ws.root / "received").exists() and not (ws.out_dir / "opinions").exists()


def test_an_oversize_reply_upload_is_refused(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, ws = web
    response = client.post(
        f"/replies/collect?meeting=R6-1&csrf={guard.csrf}",
        content=b"x" * 10,
        headers={
            "content-length": str(MAX_BODY_BYTES + 1),
            "content-type": "multipart/form-data; boundary=x",
        },
    )
    assert response.status_code == 413
    assert not (ws.root / "received").exists()


def test_the_opinions_round_trip_in_the_pages(web: tuple[TestClient, Guard, Workspace], run: Any) -> None:
    client, guard, ws = web
    page = lxml_html.fromstring(client.get("/opinions?meeting=R6-1").text)
    assert _text(page, "//*[@id='opinions-summary']") == [
        "会議 R6-1 の意見がまだ記録されていません。下の「1. 意見を記録する」から取り込んでください。"
    ]
    # the opinions table, with path characters in its name
    done = _wait(
        client, _send(client, guard, "/opinions/import", [("..\\../意見.csv", OPINIONS.read_bytes())])
    )
    assert _text(done, "//p[@role='status']") == ["会議 R6-1 の意見: 受付 1件"]
    kept = list((ws.root / "received" / "opinions" / "R6-1").glob("*/*"))
    assert [p.name for p in kept] == ["意見.csv"]
    # the status grid, as `hyoka status --meeting` counts it
    page = lxml_html.fromstring(client.get("/opinions?meeting=R6-1").text)
    grid = page.xpath("//table[@id='replies-grid']/tbody/tr")
    cli = run("status", "--meeting", "R6-1", "-w", ws.root)
    assert cli.exit_code == 1
    departments = [line.split()[0].split("】")[1] for line in cli.output.split("\n") if line.startswith("【")]
    assert [r.xpath("./th")[0].text_content() for r in grid] == departments
    assert {r.xpath("./td")[0].text_content() for r in grid} == {"未回答あり"}
    # the reply workbooks, one by one and as a zip
    made = _wait(client, _post(client, guard, "/replies/forms"))
    assert made.xpath("//a[text()='意見・回答のページに戻る']/@href") == ["/opinions?meeting=R6-1"]
    links = made.xpath("//ul[@class='files']//a")
    assert len(links) == len(departments) == len(REPLIES)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/replies/forms.zip?meeting=R6-1").content))
    assert sorted(archive.namelist()) == sorted(a.text_content() for a in links)
    # the departments' returned workbooks
    done = _wait(
        client, _send(client, guard, "/replies/collect", [(p.name, p.read_bytes()) for p in REPLIES])
    )
    assert _text(done, "//section//span[@class='badge']") == ["受付"] * len(REPLIES)
    page = lxml_html.fromstring(client.get("/opinions?meeting=R6-1").text)
    n = len(departments)
    assert _text(page, "//*[@id='opinions-summary']") == [
        f"会議 R6-1 の意見 8件 への回答状況: 回答済み {n}/{n} 課"
    ]
    # the material, final, read back
    done = _wait(client, _post(client, guard, "/opinions/material"))
    link = done.xpath("//ul[@class='files']//a")[0]
    assert link.text_content() == "資料1_意見と市の考え方_R6-1.docx"
    doc = Document(io.BytesIO(client.get(link.get("href")).content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert any("個別避難計画" in c for c in cells)
    assert "未回答" not in "".join(cells)
    # the second meeting's pack, which holds the material, chosen on the 資料 page
    report = lxml_html.fromstring(client.get("/report?year=R5").text)
    assert report.xpath("//select[@id='report-meeting']/option/@value") == ["R6-1", "R6-2"]
    done = _wait(
        client,
        client.post(f"/report?year=R5&csrf={guard.csrf}", data={"meeting": "R6-2"}, follow_redirects=False),
    )
    made = sorted(p.relative_to(ws.out_dir).as_posix() for p in (ws.out_dir / "R5" / "R6-2").glob("*.docx"))
    assert made == sorted(f"R5/R6-2/{a.text_content()}" for a in done.xpath("//ul[@class='files']//a"))
    pack = next(p for p in (ws.out_dir / "R5" / "R6-2").glob("*一式*.docx"))
    assert any(
        "個別避難計画" in c.text for t in Document(str(pack)).tables for row in t.rows for c in row.cells
    )
    home = lxml_html.fromstring(client.get("/?year=R5").text)
    step = home.xpath("//ol[@class='cycle']/li[a[@href='/opinions?meeting=R6-1']]")
    assert _text(step[0], "./span[@class='detail']") == [f"会議 R6-1: 意見 8 件、回答済み {n}/{n} 課"]


def test_member_workbooks_are_made_and_read_back(web: tuple[TestClient, Guard, Workspace]) -> None:
    client, guard, ws = web
    made = _wait(client, _post(client, guard, "/opinions/forms"))
    names = [a.text_content() for a in made.xpath("//ul[@class='files']//a")]
    assert names == ["意見票_R6-1_委員A.xlsx", "意見票_R6-1_委員B.xlsx", "意見票_R6-1_委員C.xlsx"]
    archive = zipfile.ZipFile(io.BytesIO(client.get("/opinions/forms.zip?meeting=R6-1").content))
    assert sorted(archive.namelist()) == names
    from openpyxl import load_workbook

    path = ws.out_dir / "opinions" / "R6-1" / names[0]
    wb = load_workbook(path)
    sheet = wb.worksheets[0]
    cell = next(
        c for row in sheet.iter_rows() for c in row if c.value is None and not c.protection.locked
    )  # the first free-text cell
    cell.value = "地域の見守りの担い手を増やす工夫を示してください。"
    wb.save(path)
    done = _wait(client, _send(client, guard, "/opinions/collect", [(path.name, path.read_bytes())]))
    assert _text(done, "//p[@role='status']") == ["会議 R6-1 の意見票: 受付 1件"]


def test_an_opinion_about_a_missing_project_is_shown_by_cell(
    web: tuple[TestClient, Guard, Workspace],
) -> None:
    client, guard, ws = web
    table = (
        "意見No,基本目標No,基本施策,施策,事業No,委員,意見,担当課\n1,,,,999,委員A,存在しない事業への意見,\n"
    )
    done = _wait(client, _send(client, guard, "/opinions/import", [("意見.csv", table.encode("utf-8"))]))
    assert _text(done, "//p[@role='status']") == ["会議 R6-1 の意見: 差戻し 1件"]
    rows = done.xpath("//table[@class='problems']/tbody/tr")
    assert [r.get("class") for r in rows] == ["sev-error"]
    cells = [c.text_content() for c in rows[0].xpath("./td")]
    assert cells[1].startswith("意見.csv") and "E2" in cells[1]
    assert "999" in cells[2]
    with ws.store() as store:
        from hyoka import opinions_store

        assert opinions_store.current_opinions(store, "R6-1") == []


def test_the_final_material_is_refused_while_replies_are_missing(
    web: tuple[TestClient, Guard, Workspace],
) -> None:
    client, guard, _ws = web
    _wait(client, _send(client, guard, "/opinions/import", [(OPINIONS.name, OPINIONS.read_bytes())]))
    failed = _wait(client, _post(client, guard, "/opinions/material"))
    message = _text(failed, "//div[@role='alert']/p")[0]
    assert message.endswith(
        "「案」として作るには、「…「案」として作る」の欄にチェックを入れて作成してください。"
    )
    assert message.startswith(
        "会議 R6-1 の意見に、まだ回答のない課があるため「意見と市の考え方」を作成できません。"
    )
    draft = _wait(client, _post(client, guard, "/opinions/material", draft="1"))
    assert [a.text_content() for a in draft.xpath("//ul[@class='files']//a")] == [
        "資料1_意見と市の考え方_R6-1_案.docx"
    ]


@pytest.mark.parametrize(
    ("address", "options"), [("/sheet", []), ("/sheet?stored=1&year=R5", ["--year", "R5"])]
)
def test_sheet_page_is_sheet_show_and_sheet_check(
    web: tuple[TestClient, Guard, Workspace], run: Any, address: str, options: list[str]
) -> None:
    client, _guard, ws = web
    page = lxml_html.fromstring(client.get(address).text)
    shown = run("sheet", "show", *options, "-w", ws.root)
    if options:
        label = ws.version(FiscalYear.parse("R5")).label
        assert _text(page, "//*[@id='sheet-source']")[0].startswith(
            f"令和5年度の計画の版 {label} に記録された定義です"
        )
    lines = [line for line in shown.output.split("\n") if line and not line.startswith("[")]
    columns = [line for line in lines if line.startswith("  ")]
    rows = page.xpath("//table[@id='sheet-columns']/tbody/tr")
    cells = [[c.text_content() for c in r.xpath("./th|./td")] for r in rows]
    expected = []
    for line in columns:  # "  key  見出し: 説明"
        key, rest = line.split(maxsplit=1)
        title, _, text = rest.partition(": ")
        expected.append([key, title, text])
    assert cells == expected
    assert _text(page, "//ul[@id='sheet-lines']/li") == [
        line for line in lines[1:] if not line.startswith("  ") and line != "列:"
    ]
    checked = run("sheet", "check", "-w", ws.root)
    assert _text(page, "//*[@id='sheet-outcome']") == [checked.output.strip().split("\n")[-1]]


def test_recorded_opinions_are_listed_with_who_still_owes_a_reply(
    web: tuple[TestClient, Guard, Workspace],
) -> None:
    client, guard, _ws = web
    _wait(client, _send(client, guard, "/opinions/import", [(OPINIONS.name, OPINIONS.read_bytes())]))
    page = lxml_html.fromstring(client.get("/opinions?year=R5").text)  # the year's first meeting
    assert page.xpath("//select[@id='meeting-select']/option[@selected]/@value") == ["R6-1"]
    rows = page.xpath("//table[@id='recorded']/tbody/tr")
    assert len(rows) == 8
    first = [c.text_content() for c in rows[0].xpath("./td")]
    assert first[0] == "計画全体・評価全般" and first[1] == "委員A"
    assert first[2].startswith("評価の理由が事業によって詳しさに差があります。")
    assert first[4] == f"未回答: {first[3]}"


def test_an_unknown_meeting_is_the_librarys_message(web: tuple[TestClient, Guard, Workspace]) -> None:
    from hyoka.opinions_io import meeting_of
    from hyoka.problems import HyokaError

    client, _guard, ws = web
    page = lxml_html.fromstring(client.get("/opinions?meeting=R9-9").text)
    with pytest.raises(HyokaError) as raised:
        meeting_of(ws, "R9-9")
    assert str(raised.value) == "会議「R9-9」は hyoka.toml にありません。設定済みの会議: R6-1、R6-2"
    assert _text(page, "//div[@role='alert']/p") == [str(raised.value)]


def test_a_reply_run_stopped_part_way_says_so_as_collect_does(sample_ws: Workspace) -> None:
    """The job page of a reply run the store stopped (rendered directly from such a result)."""
    from types import SimpleNamespace

    from hyoka.collect import Interruption
    from hyoka.opinions_io import OpinionsResult
    from hyoka.web.app import Web

    result = OpinionsResult(
        "R6-1",
        False,
        [],
        interrupted=Interruption(
            "store-failed",
            "ディスクの空きが足りないため保存できませんでした。",
            [Path("回答票_R6-1_健康課.xlsx")],
        ),
    )
    page = (
        Web(sample_ws.root, Guard(port=8765))
        .env.get_template("job.html")
        .render(
            title="確認結果",
            committee="",
            path="/jobs/1",
            job=SimpleNamespace(state="done", result=result, what="回答票", meeting="R6-1"),
            state="done",
            collect=None,
            opinions=result,
            feedback={},
            year=FiscalYear.parse("R5"),
            years=[],
            error=None,
            settings_link=None,
        )
    )
    doc = lxml_html.fromstring(page)
    assert _text(doc, "//p[@role='status']") == ["会議 R6-1 の回答票: 処理したファイルなし"]
    (alert,) = _text(doc, "//div[@id='interrupted']")
    assert alert.startswith("ディスクの空きが足りないため保存できませんでした。")
    assert "次の 1 件は保存していません: 回答票_R6-1_健康課.xlsx。" in alert


def test_the_sheet_and_plan_pages_say_when_hyoka_toml_s_sheet_is_not_the_adopted_one(
    sample_ws_loaded: Workspace,
) -> None:
    toml = sample_ws_loaded.root / "hyoka.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace('description = "ほぼ施策内容を達成した。"', 'description = "施策内容をほぼ達成した。"'),
        encoding="utf-8",
    )
    ws = Workspace.find(sample_ws_loaded.root)
    found = ws.sheet_notice()
    assert found is not None
    notice, changes = found
    client, _guard = _client(ws)
    with client:
        for address in ("/sheet", "/plan"):
            page = lxml_html.fromstring(client.get(address).text)
            assert _text(page, "//*[@id='sheet-working-copy']/p")[0] == notice.message, address
            assert _text(page, "//*[@id='sheet-working-copy']//li") == [c.strip() for c in changes]
    assert changes == ["■ 評価基準の変更（1件）", "  default: A・B・C・D"]


def test_no_sheet_notice_when_hyoka_toml_s_sheet_is_the_adopted_one(
    web: tuple[TestClient, Guard, Workspace],
) -> None:
    client, _guard, _ws = web
    for address in ("/sheet", "/plan"):
        assert lxml_html.fromstring(client.get(address).text).xpath("//*[@id='sheet-working-copy']") == []
