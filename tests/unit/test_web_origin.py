"""The web form's cross-site check and login CSRF token, without HTTP (issue 13 point 7)."""
from __future__ import annotations

import pytest

from services.entry.http.web_form import cross_site, csrf_token, login_nonce_ok, new_login_nonce

OWN = "https://kiemtra.caobang.gov.vn/form/login"


@pytest.mark.parametrize("headers", [
    {},  # not a browser: the CSRF token decides
    {"origin": "https://kiemtra.caobang.gov.vn"},
    {"origin": "https://KIEMTRA.caobang.gov.vn:443"},  # the default port, spelled out
    {"referer": "https://kiemtra.caobang.gov.vn/form/login?x=1"},
    {"sec-fetch-site": "same-origin", "origin": "https://kiemtra.caobang.gov.vn"},
    {"sec-fetch-site": "same-origin", "origin": "null"},  # a browser hiding the origin of our own page
])
def test_a_post_from_the_page_itself_passes(headers: dict[str, str]) -> None:
    assert cross_site(headers, OWN) is None


@pytest.mark.parametrize("headers", [
    {"origin": "https://evil.example"},
    {"origin": "http://kiemtra.caobang.gov.vn"},  # another scheme
    {"origin": "https://kiemtra.caobang.gov.vn:8443"},  # another port
    {"origin": "https://kiemtra.caobang.gov.vn.evil.example"},
    {"origin": "null"},
    {"origin": "not a url"},
    {"referer": "https://evil.example/kiemtra.caobang.gov.vn"},
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site", "origin": "https://kiemtra.caobang.gov.vn"},  # a sibling subdomain's page
    {"origin": "https://evil.example", "referer": "https://kiemtra.caobang.gov.vn/form/login"},  # Origin wins
])
def test_a_post_from_another_site_is_named(headers: dict[str, str]) -> None:
    why = cross_site(headers, OWN)
    assert why is not None and why.split(":")[0].lower() in {"origin", "referer", "sec-fetch-site"}


def test_the_login_token_is_bound_to_its_cookie_and_short_lived() -> None:
    nonce = new_login_nonce(1_000_000)
    field = csrf_token(nonce, "login")
    assert login_nonce_ok(nonce, field, now=1_000_000 + 60, max_age_s=900)
    assert not login_nonce_ok(nonce, field, now=1_000_000 + 901, max_age_s=900)  # the page is too old
    assert not login_nonce_ok(nonce, field, now=1_000_000 - 5, max_age_s=900)  # from the future
    assert not login_nonce_ok(new_login_nonce(1_000_000), field, now=1_000_060, max_age_s=900)  # another cookie
    assert not login_nonce_ok(nonce, "", now=1_000_060, max_age_s=900)
    assert not login_nonce_ok("", field, now=1_000_060, max_age_s=900)
    assert not login_nonce_ok("garbage", field, now=1_000_060, max_age_s=900)
