"""Browser fixtures: Debian's headless Chromium driven through its chromedriver (Selenium).

Nothing is downloaded: the browser and driver come from the ``chromium`` and
``chromium-driver`` packages. Without them the browser tests skip, naming the
packages, unless ``DW_REQUIRE_BROWSER=1`` (set by .ci/run), where they fail.
Every page a test visits is saved as a PNG into ``$DW_SCREENSHOT_DIR`` (or a
pytest temporary directory), printed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")
_shots: dict[str, Path] = {}


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found is None and Path("/usr/bin", name).exists():
            found = str(Path("/usr/bin", name))
        if found:
            return found
    return None


def _missing_browser(reason: str) -> None:
    if os.environ.get("DW_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (DW_REQUIRE_BROWSER=1: the browser tests must run here)")
    pytest.skip(f"{reason}; install them with: apt-get install -y chromium chromium-driver")


@pytest.fixture(scope="session")
def chrome() -> Iterator[Any]:
    """One headless Chromium for the whole session (each test signs in afresh)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing_browser("the selenium package is not installed (pip install -e '.[dev]')")
    binary, driver_path = _find(CHROMIUM_NAMES), _find(("chromedriver",))
    if binary is None or driver_path is None:
        _missing_browser("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1100",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(driver_path)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chrome: Any) -> Iterator[Any]:
    """The session's browser with no cookies and no remembered UI settings."""
    chrome.delete_all_cookies()
    yield chrome
    chrome.delete_all_cookies()
    if chrome.current_url.startswith("http"):
        chrome.execute_script("window.localStorage.clear()")


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("DW_SCREENSHOT_DIR")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("ui-screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def screenshot(chrome: Any, screenshot_dir: Path) -> Any:
    """``screenshot(name)`` saves the current page as ``<dir>/<name>.png``."""

    def take(name: str) -> Path:
        target = screenshot_dir / f"{name}.png"
        height = chrome.execute_script("return document.documentElement.scrollHeight")
        chrome.set_window_size(1400, max(900, min(int(height) + 40, 3000)))
        chrome.execute_script("window.scrollTo(0, 0)")
        chrome.save_screenshot(str(target))
        chrome.set_window_size(1400, 1100)
        _shots[name] = target
        return target

    return take


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _shots:
        folder = next(iter(_shots.values())).parent
        names = ", ".join(sorted(_shots))
        terminalreporter.write_line(f"web UI screenshots ({len(_shots)}) in {folder}: {names}")
