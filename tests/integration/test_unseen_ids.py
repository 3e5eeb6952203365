"""An id the caller may not see gets exactly the answer of an id that does not exist (issue 13, point 7).

A 403 for another team's inspection against a 404 for a missing one, or a 409 for a client id another team used,
told an outsider which ids exist. For each route: a foreign id and a nonexistent id, asked by the same person, give
the same status, headers and body, byte for byte once the id itself is written as ``{id}`` in both.
Refusals by role (an inspector on the lead's review endpoint) stay 403, the same for any id.

Set-up as in ``test_intake_api``: a synthetic province, a campaign, selection and scheduling run directly.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import select

from models import Submission
from services.db import session_scope
from services.entry.http.server import start_in_thread
from services.settings import Settings
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections

CAMPAIGN = "TEST-UNSEEN"
JPEG_SHA = "a" * 64
VOLATILE = {"date", "content-length"}  # the clock, and the id's own length


@dataclass
class Api:
    settings: Settings
    http: httpx.Client
    tokens: dict[str, str]
    mine: list[int]  # SNV-TT01's team's inspections
    theirs: list[int]  # SNV-TT02's team's inspections

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def findings(self, inspection_id: int, client_id: str, *, attachments: list[dict[str, Any]] | None = None,
                 who: str = "SNV-TT01", checklist_of: int | None = None) -> httpx.Response:
        checklist_by = "SNV-LEAD"  # the lead sees every inspection's checklist
        items = self.http.get(f"/api/inspections/{checklist_of or inspection_id}", headers=self.auth(checklist_by))
        findings = [{"item_code": i["code"], "result": "pass"} for i in items.json()["checklist"]]
        body = {"client_submission_id": client_id, "findings": findings, "attachments": attachments or []}
        return self.http.post(f"/api/inspections/{inspection_id}/findings", headers=self.auth(who), json=body)


@pytest.fixture
def api(settings: Settings, worlds: Worlds) -> Iterator[Api]:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=CAMPAIGN)
    by_person = team_inspections(settings)
    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield Api(settings, http, tokens, by_person["SNV-TT01"], by_person["SNV-TT02"])
    finally:
        server.stop()


def answer(response: httpx.Response, the_id: object) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body, with the asked id written as ``{id}`` where the answer names it (after "số ", in a
    path, in quotes): the only part that may differ."""
    named = re.compile(rb"(?:(?<=s\xe1\xbb\x91 )|(?<=/)|(?<='))" + re.escape(str(the_id).encode()) + rb"(?![\w-]|\.\d)")
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE}
    return response.status_code, headers, named.sub(b"{id}", response.content)


def assert_same(foreign: httpx.Response, foreign_id: object, unknown: httpx.Response, unknown_id: object) -> None:
    assert answer(foreign, foreign_id) == answer(unknown, unknown_id)


UNKNOWN_INSPECTION = 2_000_000_000


# --------------------------------------------------------------------------- inspections


def test_another_teams_inspection_reads_as_one_that_does_not_exist(api: Api) -> None:
    other = api.theirs[0]
    foreign = api.http.get(f"/api/inspections/{other}", headers=api.auth("SNV-TT01"))
    unknown = api.http.get(f"/api/inspections/{UNKNOWN_INSPECTION}", headers=api.auth("SNV-TT01"))
    assert foreign.status_code == 404
    assert foreign.json()["detail"] == f"Không tìm thấy cuộc kiểm tra số {other}."
    assert_same(foreign, other, unknown, UNKNOWN_INSPECTION)


def test_findings_for_another_teams_inspection_read_as_for_one_that_does_not_exist(api: Api) -> None:
    other = api.theirs[0]
    foreign = api.findings(other, "unseen-foreign-0001")
    unknown = api.findings(UNKNOWN_INSPECTION, "unseen-foreign-0001", checklist_of=other)
    assert foreign.status_code == 404
    assert_same(foreign, other, unknown, UNKNOWN_INSPECTION)
    with session_scope(api.settings) as session:
        assert session.exec(select(Submission)).all() == []


@pytest.mark.parametrize("path,body", [("review", {"decision": "approve"}),
                                       ("decision", {"decided_on": "2026-03-12", "amounts": {}})])
def test_a_role_refusal_does_not_depend_on_the_id(api: Api, path: str, body: dict[str, Any]) -> None:
    """An inspector on the lead's or the official's endpoint: 403, whichever id, existing or not."""
    other = api.theirs[0]
    foreign = api.http.post(f"/api/inspections/{other}/{path}", headers=api.auth("SNV-TT01"), json=body)
    unknown = api.http.post(f"/api/inspections/{UNKNOWN_INSPECTION}/{path}", headers=api.auth("SNV-TT01"), json=body)
    assert foreign.status_code == 403
    assert_same(foreign, other, unknown, UNKNOWN_INSPECTION)


# --------------------------------------------------------------------------- client submission ids


def test_a_client_id_another_team_used_is_a_new_id_here(api: Api) -> None:
    """Client ids are unique per inspection: another team's id is stored as a new submission (201), as an unused id
    would be, instead of a 409 that says it exists. Each team then sees its own submission under that id."""
    theirs = api.findings(api.theirs[0], "shared-client-0001", who="SNV-TT02")
    assert theirs.status_code == 201, theirs.text

    reused = api.findings(api.mine[0], "shared-client-0001")
    fresh = api.findings(api.mine[1], "fresh-client-00001")
    assert (reused.status_code, fresh.status_code) == (201, 201), reused.text
    assert reused.json()["inspection_id"] == api.mine[0] and reused.json()["version"] == 1

    mine = api.http.get("/api/submissions/shared-client-0001", headers=api.auth("SNV-TT01")).json()
    other = api.http.get("/api/submissions/shared-client-0001", headers=api.auth("SNV-TT02")).json()
    assert (mine["inspection_id"], other["inspection_id"]) == (api.mine[0], api.theirs[0])
    with session_scope(api.settings) as session:
        stored = session.exec(select(Submission.inspection_id).where(
            Submission.client_submission_id == "shared-client-0001")).all()
    assert sorted(stored) == sorted([api.mine[0], api.theirs[0]])


def test_a_client_id_the_caller_used_elsewhere_is_still_a_conflict(api: Api) -> None:
    """The caller's own id on another of their inspections: a 409 tells them nothing they cannot see."""
    assert api.findings(api.mine[0], "own-client-00001").status_code == 201
    again = api.findings(api.mine[1], "own-client-00001")
    assert again.status_code == 409
    assert again.json()["detail"] == "Mã gửi này đã được dùng cho một nội dung khác; hãy tạo mã gửi mới."


def test_another_teams_submission_reads_as_one_that_does_not_exist(api: Api) -> None:
    declared = {"name": "anh.jpg", "sha256": JPEG_SHA, "size": 1000, "content_type": "image/jpeg"}
    assert api.findings(api.theirs[0], "their-client-0001", who="SNV-TT02",
                        attachments=[declared]).status_code == 201

    foreign = api.http.get("/api/submissions/their-client-0001", headers=api.auth("SNV-TT01"))
    unknown = api.http.get("/api/submissions/nobody-client-01", headers=api.auth("SNV-TT01"))
    assert foreign.status_code == 404
    assert_same(foreign, "their-client-0001", unknown, "nobody-client-01")

    put = {"headers": {**api.auth("SNV-TT01"), "Content-Type": "image/jpeg"}, "content": b"\xff\xd8\xff" + b"0" * 997}
    foreign = api.http.put(f"/api/submissions/their-client-0001/attachments/{JPEG_SHA}", **put)
    unknown = api.http.put(f"/api/submissions/nobody-client-01/attachments/{JPEG_SHA}", **put)
    assert foreign.status_code == 404
    assert_same(foreign, "their-client-0001", unknown, "nobody-client-01")


# --------------------------------------------------------------------------- the selection API


def test_the_selection_api_answers_an_inspector_the_same_for_any_campaign_code(api: Api) -> None:
    for method, suffix, body in (("GET", "", None), ("POST", "/changes", {"add": [], "remove": []}),
                                 ("POST", "/approve", {"note": ""})):
        foreign = api.http.request(method, f"/api/campaigns/{CAMPAIGN}/selection{suffix}", headers=api.auth("SNV-TT01"),
                                   json=body)
        unknown = api.http.request(method, f"/api/campaigns/KHONG-CO-1/selection{suffix}", headers=api.auth("SNV-TT01"),
                                   json=body)
        assert foreign.status_code == 403, suffix
        assert_same(foreign, CAMPAIGN, unknown, "KHONG-CO-1")


# --------------------------------------------------------------------------- the web form


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def log_in(api: Api, web: httpx.Client, who: str) -> None:
    """Through the login form, as a browser does (its hidden fields and an Origin of the site itself)."""
    page = web.get("/form/login")
    fields = {**hidden_fields(page.text), "person_code": who, "token": api.tokens[who]}
    done = web.post("/form/login", data=fields, headers={"Origin": str(api.http.base_url).rstrip("/")})
    assert done.status_code in (200, 303) and web.cookies, done.text


def test_the_web_form_shows_another_teams_inspection_as_one_that_does_not_exist(api: Api) -> None:
    other = api.theirs[0]
    with httpx.Client(base_url=str(api.http.base_url), timeout=30) as web:
        log_in(api, web, "SNV-TT01")
        foreign = web.get(f"/form/inspections/{other}")
        unknown = web.get(f"/form/inspections/{UNKNOWN_INSPECTION}")
        assert foreign.status_code == 404
        assert f"Không tìm thấy cuộc kiểm tra số {other}." in foreign.text
        assert_same(foreign, other, unknown, UNKNOWN_INSPECTION)

        form = hidden_fields(web.get(f"/form/inspections/{api.mine[0]}").text)
        assert form["client_submission_id"] and form["csrf"]
        foreign = web.post(f"/form/inspections/{other}", data=form)
        unknown = web.post(f"/form/inspections/{UNKNOWN_INSPECTION}", data=form)
        assert foreign.status_code == 404
        assert_same(foreign, other, unknown, UNKNOWN_INSPECTION)
