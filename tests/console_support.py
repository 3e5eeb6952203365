"""Shared helpers of the console's tests (issue 15): logging in over HTTP, a headless Chromium, axe-core.

* :func:`console_login` — an ``httpx.Client`` logged in at ``/console/login`` (GET the form, POST code + token with
  its CSRF token): the client keeps the console's cookie. :func:`csrf_of` reads a page's hidden ``csrf`` field.
* :func:`serving` — the app (API, form, console, register) on a free port for ``settings``; yields its base URL.
* ``browser`` — a module-scoped headless Chromium (Debian's chromium + chromedriver; skipped when absent). Import it
  into a test module: ``from tests.console_support import browser  # noqa: F401`` (a fixture).
  :func:`browser_login`, :func:`at_width` (390: a phone; 1280: a desktop), :func:`no_horizontal_scroll`,
  :func:`follow`, :func:`screenshot` (whole page; into ``$KIEMTRA_SCREENSHOTS`` when set).
* :func:`axe_violations` — axe-core (its npm package, ``tests/js``: ``npm ci --prefix tests/js``) run in the page:
  the serious and critical violations (empty is good). Skips the test when axe.min.js is not installed.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.entry.http.server import start_in_thread
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
AXE_JS = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The whole app on a free loopback port; yields its base URL and stops it after."""
    server = start_in_thread(settings)
    try:
        yield server.url
    finally:
        server.stop()


def csrf_of(html: str, index: int = 0) -> str:
    """The value of the page's ``index``-th hidden ``csrf`` field (0: the first; the header's logout form is first
    on a logged-in page, so a page's own form is usually ``-1``)."""
    found = _CSRF.findall(html)
    assert found, "no csrf field on the page"
    return found[index]


def console_login(client: httpx.Client, base_url: str, person_code: str, token: str, *,
                  next_path: str = "") -> httpx.Client:
    """Logs ``client`` in at ``/console/login`` (as a browser would: the form's CSRF token and its pre-login
    cookie); returns the same client, which now carries the console's cookie. Fails the test when refused."""
    page = client.get(f"{base_url}/console/login")
    assert page.status_code == 200, page.text
    response = client.post(f"{base_url}/console/login", data={
        "csrf": csrf_of(page.text), "person_code": person_code, "token": token, "next": next_path},
        follow_redirects=False)
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return client


# --------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the module's page tests (each sets its own window width)."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}", "--window-size=1280,900"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def at_width(driver: Any, width: int) -> None:
    """A phone (390 × 844, touch, mobile viewport) or a desktop window (1,280 × 900)."""
    phone = width < 760
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": 844 if phone else 900,
                                                                  "deviceScaleFactor": 1, "mobile": phone})


def no_horizontal_scroll(driver: Any) -> None:
    scroll, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"horizontal scroll on {driver.current_url}: {scroll} > {inner}"


def wait_loaded(driver: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def follow(driver: Any, element_id: str) -> None:
    """Click a link or button (by id) that loads a new page, and wait for the new page."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")

    def left(_: Any) -> bool:
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" not in str(exc):
                raise
            return True
        return False

    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 30).until(left)
    wait_loaded(driver)


def browser_login(driver: Any, base_url: str, person_code: str, token: str) -> None:
    """Logs the browser in through the console's login page (typing into the fields, pressing the button)."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{base_url}/console/login")
    wait_loaded(driver)
    driver.find_element(By.ID, "person_code").send_keys(person_code)
    driver.find_element(By.ID, "token").send_keys(token)
    follow(driver, "dang-nhap")


def screenshot(driver: Any, path: Path) -> Path:
    """The whole page (the viewport stretched to its height) saved to ``path`` (or, when ``$KIEMTRA_SCREENSHOTS``
    is set, to that folder under ``path``'s name), to look at."""
    folder = Path(os.environ["KIEMTRA_SCREENSHOTS"]) if os.environ.get("KIEMTRA_SCREENSHOTS") else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    width, height, mobile = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollHeight, window.innerWidth < 760]")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": min(height, 16000),
                                                                  "deviceScaleFactor": 1, "mobile": mobile})
    out = folder / path.name
    driver.save_screenshot(str(out))
    at_width(driver, width)
    return out


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.filter(
    v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => ({target: n.target, summary: n.failureSummary}))}))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the browser's current page (``[]``: none)."""
    if not AXE_JS.exists():
        pytest.skip(f"axe-core is not installed ({AXE_JS.relative_to(ROOT)} missing): run `npm ci --prefix tests/js`")
    driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    violations: list[dict[str, Any]] = driver.execute_async_script(AXE_RUN)
    return violations
