"""The Koganei year clicked through ``hyoka serve`` in a real headless Chromium (Debian's, via Selenium).

Skipped with a message when Chromium or its driver is absent (``.ci/run`` installs them). The
screenshots land in ``out/screenshots/serve_*.png`` for a person to look at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from hyoka.web import free_port
from hyoka.web.app import build
from hyoka.web.security import Guard
from hyoka.workspace import Workspace
from tests.browser import axe_violations, chromium, screenshot
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow


@contextmanager
def running(ws: Workspace, password: str | None = None) -> Iterator[Guard]:
    import uvicorn

    port = free_port("127.0.0.1", 18765)
    guard = Guard(port=port, password=password)
    server = uvicorn.Server(
        uvicorn.Config(
            build(ws.root, guard), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield guard
    finally:
        server.should_exit = True
        thread.join(10)


def _until(driver: Any, condition: Any, timeout: float = 300) -> Any:
    """Wait for ``condition``; on a time-out, keep a screenshot and say where the page stood."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout).until(condition)
    except TimeoutException:
        shot = screenshot(driver, "serve_timeout", full_page=False)
        text = driver.execute_script("return document.body ? document.body.innerText : ''")[:800]
        raise AssertionError(f"timed out at {driver.current_url} (screenshot {shot}):\n{text}") from None


def _finished(driver: Any) -> None:
    """Wait for a job page to show its result (the page polls, then reloads itself)."""
    from selenium.webdriver.common.by import By

    # First the job's own page (the click's navigation may not have happened yet), then its result.
    _until(driver, lambda d: "/jobs/" in d.current_url)
    _until(
        driver,
        lambda d: (
            d.execute_script("return document.readyState") == "complete"
            and not d.find_elements(By.ID, "job")
            and d.find_elements(By.TAG_NAME, "h1")
        ),
    )


def _downloaded(folder: Path, name: str, timeout: float = 90) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = folder / name
        if path.is_file() and not list(folder.glob("*.crdownload")):
            return path
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded: {sorted(p.name for p in folder.iterdir())}")


def test_the_koganei_year_in_the_browser(sample_ws: Workspace, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with running(sample_ws) as guard, chromium() as driver:
        driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        base = f"http://127.0.0.1:{guard.port}"
        driver.get(guard.first_url)
        assert driver.current_url == base + "/"  # the token is exchanged for a cookie and leaves the address
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
        assert axe_violations(driver) == []
        screenshot(driver, "serve_home", full_page=False)
        # The keyboard alone: the first Tab reaches the skip link, the next ones the menu.
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert driver.switch_to.active_element.text == "本文へ移動"
        driver.switch_to.active_element.send_keys(Keys.TAB)
        assert driver.switch_to.active_element.text == "ホーム"

        # Last year's ratings from the flat table, as a clerk bootstraps the first year.
        driver.get(base + "/collect?year=R5")
        driver.find_element(By.ID, "import-year").clear()
        driver.find_element(By.ID, "import-year").send_keys("R4")
        driver.find_element(By.ID, "import-file").send_keys(str(SAMPLE / "ratings_R4.csv"))
        driver.find_element(By.XPATH, "//button[text()='取り込む']").click()
        _finished(driver)
        screenshot(driver, "serve_import", full_page=False)
        status = driver.find_elements(By.CSS_SELECTOR, "p[role=status]")
        assert status, driver.page_source[:3000]
        assert "受付 1件" in status[0].text

        # Forms for R5, with last year's ratings filled in (the home page now points to them).
        driver.get(base + "/?year=R5")
        assert driver.find_element(By.CSS_SELECTOR, "p.next-step a").text == "調査票"
        screenshot(driver, "serve_home", full_page=False)
        driver.get(base + "/forms?year=R5")
        driver.find_element(By.XPATH, "//button[contains(., '調査票を作成')]").click()
        _finished(driver)
        links = driver.find_elements(By.CSS_SELECTOR, "ul.files a")
        assert len(links) == 11
        screenshot(driver, "serve_forms", full_page=False)

        # The returns, all at once; then the folder of typical mistakes.
        driver.get(base + "/collect?year=R5")
        returned = sorted((SAMPLE / "returned" / "R5").glob("*.xlsx"))
        driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in returned))
        assert driver.find_element(By.ID, "chosen").text == "11 件のファイルを選びました。"
        screenshot(driver, "serve_collect", full_page=False)
        driver.find_element(By.XPATH, "//button[contains(., '確認して取り込む')]").click()
        _finished(driver)
        badges = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "section .badge")]
        assert badges == ["受付"] * 11
        driver.get(base + "/collect?year=R5")
        mistakes = sorted(p for p in (SAMPLE / "returned" / "mistakes").iterdir() if p.suffix == ".xlsx")
        driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in mistakes))
        driver.find_element(By.ID, "dry_run").click()
        driver.find_element(By.XPATH, "//button[contains(., '確認して取り込む')]").click()
        _finished(driver)
        rejected = driver.find_elements(By.CSS_SELECTOR, "section.status-rejected")
        assert rejected
        assert rejected[0].find_elements(By.CSS_SELECTOR, "table.problems tr.sev-error")
        assert axe_violations(driver) == []
        screenshot(driver, "serve_collect_result", full_page=False)
        link = driver.find_element(By.XPATH, "//a[contains(., '指摘を書き込んだ写し')]")
        name = link.get_attribute("href").rsplit("/", 1)[-1]
        link.click()
        from urllib.parse import unquote

        copy = _downloaded(downloads, unquote(name))
        assert copy.read_bytes().startswith(b"PK")

        # The status grid.
        driver.get(base + "/status?year=R5")
        assert driver.find_element(By.CSS_SELECTOR, "p[role=status]").text == "完了 11/11 課"
        assert axe_violations(driver) == []
        screenshot(driver, "serve_status", full_page=False)

        # The report, and the downloaded 資料1 read back.
        driver.get(base + "/report?year=R5")
        driver.find_element(By.XPATH, "//button[contains(., '資料を作成')]").click()
        _finished(driver)
        link = driver.find_element(By.XPATH, "//a[text()='資料1_進捗状況及び評価表_R5.docx']")
        link.click()
        table = Document(str(_downloaded(downloads, "資料1_進捗状況及び評価表_R5.docx")))
        cells = {c.text for t in table.tables for row in t.rows for c in row.cells}
        assert any("ユニバーサルデザイン" in c for c in cells)
        driver.get(base + "/report?year=R5")
        screenshot(driver, "serve_report", full_page=False)

        # What moved, filtered.
        driver.get(base + "/diff?year=R5")
        rows = driver.find_elements(By.CSS_SELECTOR, "table.grid")[0].find_elements(
            By.CSS_SELECTOR, "tbody tr"
        )
        assert len(rows) == 6
        assert axe_violations(driver) == []
        screenshot(driver, "serve_diff", full_page=False)


def test_the_next_plan_and_the_committee_in_the_browser(sample_ws_loaded: Workspace, tmp_path: Path) -> None:
    """The R6 plan adopted from the 計画 page (the rename the dry run suggests), then the meeting's
    opinions and replies round trip and the material read back."""
    from selenium.webdriver.common.by import By

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with running(sample_ws_loaded) as guard, chromium() as driver:
        driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        base = f"http://127.0.0.1:{guard.port}"
        driver.get(guard.first_url)

        # 計画: the R6 plan file, checked first; the page suggests the rename, the clerk checks again.
        driver.get(base + "/plan#adopt")
        driver.find_element(By.ID, "adopt-file").send_keys(str(SAMPLE / "plan_R6.csv"))
        driver.find_element(By.ID, "adopt-from").clear()
        driver.find_element(By.ID, "adopt-from").send_keys("R6")
        driver.find_element(By.XPATH, "//button[text()='変更を確認する']").click()
        _until(driver, lambda d: d.find_elements(By.ID, "suspected"))
        assert (
            "「地域安全課」がなくなり「防災危機管理課」が増えています。"
            in driver.find_element(By.ID, "suspected").text
        )
        assert driver.find_element(By.ID, "old-0").get_attribute("value") == "地域安全課"
        driver.find_element(By.XPATH, "//button[text()='もう一度確認する']").click()
        # the declared rename (the page before listed it only as a possible one: wait for the new page)
        preview = "const e = document.getElementById('adopt-preview'); return e ? e.textContent : '';"
        _until(driver, lambda d: "■ 課名の変更（1件）" in d.execute_script(preview))
        assert not driver.find_elements(By.ID, "suspected")
        assert axe_violations(driver) == []
        screenshot(driver, "serve_plan_adopt")
        driver.find_element(By.XPATH, "//button[contains(., '令和6年度から採用する')]").click()
        _until(driver, lambda d: d.find_elements(By.ID, "adopt-outcome"))
        assert (
            driver.find_element(By.ID, "adopt-outcome").text
            == "令和6年度からの版として採用しました（版 2、行 57）。"
        )
        with sample_ws_loaded.store() as store:
            assert [v.from_year.short for v in store.versions()] == ["R4", "R6"]

        # 意見・回答: the opinions table of the meeting, the reply workbooks, the returned replies.
        driver.get(base + "/opinions?meeting=R6-1")
        driver.find_element(By.ID, "import-file").send_keys(str(SAMPLE / "opinions" / "意見_R6-1.csv"))
        driver.find_element(By.XPATH, "//button[text()='意見を取り込む']").click()
        _finished(driver)
        assert driver.find_element(By.CSS_SELECTOR, "p[role=status]").text == "会議 R6-1 の意見: 受付 1件"
        driver.get(base + "/opinions?meeting=R6-1")
        driver.find_element(By.XPATH, "//button[text()='回答票を作成']").click()
        _finished(driver)
        made = driver.find_elements(By.CSS_SELECTOR, "ul.files a")
        replies = sorted((SAMPLE / "replies" / "R6-1").glob("*.xlsx"))
        assert len(made) == len(replies)
        driver.get(base + "/opinions?meeting=R6-1#replies-status")
        states = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#replies-grid .badge")]
        assert states == ["未回答あり"] * len(replies)
        assert axe_violations(driver) == []
        driver.get(base + "/opinions?meeting=R6-1")
        screenshot(driver, "serve_opinions")
        # Most departments answer first; the grid shows who is still owed.
        first, late = replies[:-3], replies[-3:]
        driver.find_element(By.ID, "reply-files").send_keys("\n".join(str(p) for p in first))
        driver.find_element(By.XPATH, "//button[text()='回答票を取り込む']").click()
        _finished(driver)
        badges = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "section .badge")]
        assert badges == ["受付"] * len(first)
        assert axe_violations(driver) == []
        screenshot(driver, "serve_replies_result", full_page=False)
        driver.get(base + "/opinions?meeting=R6-1#replies-status")
        states = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#replies-grid .badge")]
        assert states.count("未回答あり") == len(late)
        screenshot(driver, "serve_replies_status", full_page=False)
        driver.find_element(By.ID, "reply-files").send_keys("\n".join(str(p) for p in late))
        driver.find_element(By.XPATH, "//button[text()='回答票を取り込む']").click()
        _finished(driver)
        driver.get(base + "/opinions?meeting=R6-1#replies-status")
        states = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#replies-grid .badge")]
        assert states == ["完了"] * len(replies)

        # The material, final, downloaded and read back.
        assert not driver.find_element(By.ID, "material-draft").is_selected()
        driver.find_element(By.XPATH, "//button[contains(., '「意見と市の考え方」を作成')]").click()
        _finished(driver)
        driver.find_element(By.XPATH, "//a[text()='資料1_意見と市の考え方_R6-1.docx']").click()
        doc = Document(str(_downloaded(downloads, "資料1_意見と市の考え方_R6-1.docx")))
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        assert any("個別避難計画" in c for c in cells)
        assert "未回答" not in "".join(cells)

        # The sheet definition, read-only.
        driver.get(base + "/sheet")
        assert driver.find_element(By.ID, "sheet-outcome").text == "評価表の定義に誤りはありません。"
        screenshot(driver, "serve_sheet", full_page=False)


def test_pages_read_at_200_percent_zoom(sample_ws_loaded: Workspace) -> None:
    """At 200 % a 1280-pixel window is 640 CSS pixels wide: nothing may make the page scroll sideways."""
    with running(sample_ws_loaded) as guard, chromium(width=640, height=900) as driver:
        driver.get(guard.first_url)
        base = f"http://127.0.0.1:{guard.port}"
        for path in (
            "/",
            "/collect?year=R5",
            "/status?year=R5",
            "/diff?year=R5",
            "/plan",
            "/opinions?meeting=R6-1",
            "/sheet",
        ):
            driver.get(base + path)
            width = driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= 640, (path, width)
        driver.get(base + "/status?year=R5")
        screenshot(driver, "serve_status_zoom", full_page=False)


def _job(driver: Any, button: str, *, before: Any = None) -> None:
    from selenium.webdriver.common.by import By

    if before is not None:
        before()
    driver.find_element(By.XPATH, f"//button[contains(., '{button}')]").click()
    _finished(driver)


def _page_holds(driver: Any, name: str, width: int) -> list[str]:
    """axe-core at WCAG 2.1 AA, lang, one h1 and no sideways scrolling of the page; a screenshot."""
    from selenium.webdriver.common.by import By

    faults = [f"{name}: axe {v['id']}: {v.get('help', v.get('description'))}" for v in axe_violations(driver)]
    if driver.find_element(By.TAG_NAME, "html").get_attribute("lang") != "ja":
        faults.append(f"{name}: lang is not ja")
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    if scroll > width:
        faults.append(f"{name}: the page scrolls sideways at {width}px ({scroll}px wide)")
    screenshot(driver, f"serve_all_{name}_{width}", full_page=False)
    return faults


@pytest.mark.parametrize("width", [1280, 640])
def test_every_page_passes_axe_and_fits(sample_ws_loaded: Workspace, width: int) -> None:
    """Every page a clerk meets, at desktop width and at 200 % zoom (640 CSS pixels)."""
    from selenium.webdriver.common.by import By

    faults: list[str] = []
    with running(sample_ws_loaded) as guard, chromium(width=width, height=900) as driver:
        base = f"http://127.0.0.1:{guard.port}"
        driver.get(guard.first_url)
        pages = [
            ("home", "/?year=R5"),
            ("plan", "/plan"),
            ("forms", "/forms?year=R5"),
            ("collect", "/collect?year=R5"),
            ("status", "/status?year=R5"),
            ("report", "/report?year=R5"),
            ("preview", "/report/preview?year=R5"),
            ("diff", "/diff?year=R5"),
            ("diff_all", "/diff?year=R5&change=all"),
            ("history", "/history"),
            ("history_one", "/history?no=1"),
            ("settings", "/settings"),
            ("opinions", "/opinions?meeting=R6-1"),
            ("sheet", "/sheet"),
            ("missing_page", "/no-such-page"),
            ("missing_job", "/jobs/0000"),
            ("bad_year", "/diff?against=foo"),
        ]
        for name, path in pages:
            driver.get(base + path)
            faults += _page_holds(driver, name, width)
        driver.get(base + "/forms?year=R6")
        _job(driver, "調査票を作成")
        faults += _page_holds(driver, "forms_job", width)
        driver.get(base + "/collect?year=R6")
        mistakes = sorted(p for p in (SAMPLE / "returned" / "mistakes").iterdir() if p.suffix == ".xlsx")
        driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in mistakes))
        _job(driver, "確認して取り込む")
        faults += _page_holds(driver, "collect_job", width)
        driver.get(base + "/report?year=R6")
        _job(driver, "資料")
        faults += _page_holds(driver, "report_job", width)
        driver.get(base + "/plan")
        driver.find_element(By.ID, "adopt-file").send_keys(str(SAMPLE / "plan_R6.csv"))
        driver.find_element(By.XPATH, "//button[text()='変更を確認する']").click()
        _until(driver, lambda d: d.find_elements(By.ID, "adopt-preview"))
        faults += _page_holds(driver, "plan_adopt", width)
        driver.get(base + "/opinions?meeting=R6-1")
        driver.find_element(By.ID, "import-file").send_keys(str(SAMPLE / "opinions" / "意見_R6-1.csv"))
        _job(driver, "意見を取り込む")
        faults += _page_holds(driver, "opinions_job", width)
        driver.get(base + "/opinions?meeting=R6-1")
        faults += _page_holds(driver, "opinions_recorded", width)
        driver.delete_all_cookies()
        driver.get(base + "/")
        faults += _page_holds(driver, "refused", width)
    with running(sample_ws_loaded, password="pw") as guard, chromium(width=width, height=900) as driver:
        driver.get(f"http://127.0.0.1:{guard.port}/")
        faults += _page_holds(driver, "login", width)
    assert faults == []
