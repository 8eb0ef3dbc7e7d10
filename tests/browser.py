"""Headless Chromium for the tests (Debian's chromium + chromium-driver, driven by Selenium).

No browser is ever downloaded: the tests use the browser and driver on this machine, and skip with a
message saying how to install them where they are absent (``.ci/run`` installs them on CI).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "out" / "screenshots"
INSTALL = "apt-get install chromium chromium-driver（.ci/run が入れます）"


def _binaries() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A headless Chromium session; skips the test when the browser, its driver or Selenium is absent."""
    found = _binaries()
    if found is None:
        pytest.skip(f"Chromium と chromedriver がないため、ブラウザのテストを省略しました: {INSTALL}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium がないため、ブラウザのテストを省略しました（make test が入れます）")
    browser, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        "--lang=ja-JP",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG under out/screenshots/ (for a person to look at) and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if full_page:
        before = driver.get_window_size()
        height = driver.execute_script("return document.documentElement.scrollHeight")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        driver.set_window_size(max(width, 320), min(max(height, 400), 16000))
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(path))
        driver.set_window_size(before["width"], before["height"])  # the next pages at the usual size
        return path
    driver.save_screenshot(str(path))
    return path


def axe_violations(
    driver: Any, tags: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
) -> list[dict[str, Any]]:
    """Run axe-core in the page; skips when axe-core (npm) is not installed."""
    if not AXE.is_file():
        pytest.skip(
            "axe-core がないため、アクセシビリティの検査を省略しました（make test が npm で入れます）"
        )
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations))).catch(e => done(JSON.stringify([{id: 'axe-error', description: String(e)}])));",
        list(tags),
    )
    return list(json.loads(result))
