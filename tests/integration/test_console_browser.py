"""The console's foundation pages in headless Chromium at 390 px (a phone) and 1,280 px: the lead logs in through
the login page, and the inbox, the campaign list, a dashboard and the create form show without horizontal scroll
and without a serious or critical axe-core violation; screenshots of each (``$KIEMTRA_SCREENSHOTS`` when set, else
the test's tmp dir). Then a keyboard-only check: the skip link is the first stop and leads to the main content."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.settings import Settings
from tests.cases import visit
from tests.conftest import Worlds
from tests.console_support import (at_width, axe_violations, browser, browser_login, no_horizontal_scroll,  # noqa: F401
                                   screenshot, serving, wait_loaded)
from tests.factories import create_scheduled_campaign, team_inspections

PAGES = {"viec-can-lam": "/console/", "dot-kiem-tra": "/console/campaigns", "bang-theo-doi": "/console/campaigns/WEB-01",
         "lap-dot": "/console/campaigns/new"}


def browser_world(settings: Settings) -> dict[str, str]:
    tokens = create_scheduled_campaign(settings, code="WEB-01", quota=6, teams=2)
    first = team_inspections(settings)["SNV-TT01"][0]
    visit(settings, first, on=date(2026, 4, 20), client_id="web-000001", inspector="SNV-TT01")
    return tokens


@pytest.fixture
def served(settings: Settings, worlds: Worlds) -> Iterator[tuple[str, dict[str, str]]]:
    tokens = worlds.copy(settings, browser_world)
    with serving(settings) as url:
        yield url, tokens


@pytest.mark.parametrize("width", [390, 1280])
def test_console_pages_at_width(browser: Any, served: tuple[str, dict[str, str]], width: int,  # noqa: F811
                                tmp_path: Path) -> None:
    url, tokens = served
    at_width(browser, width)
    browser.get(f"{url}/console/login")
    wait_loaded(browser)
    assert axe_violations(browser) == []
    screenshot(browser, tmp_path / f"console-dang-nhap-{width}.png")
    browser_login(browser, url, "SNV-LEAD", tokens["SNV-LEAD"])
    assert browser.current_url.rstrip("/").endswith("/console"), browser.current_url
    for name, path in PAGES.items():
        browser.get(f"{url}{path}")
        wait_loaded(browser)
        assert "Đăng nhập bảng điều khiển" not in browser.page_source, path
        no_horizontal_scroll(browser)
        assert axe_violations(browser) == [], path
        shot = screenshot(browser, tmp_path / f"console-{name}-{width}.png")
        assert shot.stat().st_size > 5_000


def test_keyboard_skip_link(browser: Any, served: tuple[str, dict[str, str]]) -> None:  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, tokens = served
    at_width(browser, 1280)
    browser_login(browser, url, "SNV-LEAD", tokens["SNV-LEAD"])
    browser.get(f"{url}/console/campaigns")
    wait_loaded(browser)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    focused = browser.switch_to.active_element
    assert focused.text == "Chuyển đến nội dung chính"
    focused.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "noi-dung"
