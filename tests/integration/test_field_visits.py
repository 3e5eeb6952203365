"""``GET /form/api/visits`` (docs/field-offline.md): the inspector's visits from today to ``field_days_ahead`` days
later and the earlier ones still waiting for findings, each with its visit time, address, checklist, the lead's
return note and the latest answers (services/intake/field_visits.py)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from models import Establishment, Inspection
from services.db import session_scope
from services.entry.http.server import start_in_thread
from services.entry.http.web import GROUP_TITLES
from services.entry.http.web_form import csrf_token
from services.rules.calendar import today_in_vietnam
from services.settings import Settings
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections
from tests.integration.test_field_api import web_session

CAMPAIGN = "FIELD-02"
COMMENT = "Mục đầu tiên cần chụp lại ảnh biển báo."


@dataclass
class Day:
    settings: Settings
    http: httpx.Client
    tokens: dict[str, str]
    sid: str
    today: date
    ids: dict[str, int]  # role in the test → inspection id (SNV-TT01's team)
    theirs: int  # the other team's

    def web(self) -> dict[str, str]:
        return {"Cookie": f"kiemtra_phien={self.sid}", "X-Kiemtra-Csrf": csrf_token(self.sid, "api")}

    def visits(self) -> dict[str, Any]:
        answer = self.http.get("/form/api/visits", headers=self.web())
        assert answer.status_code == 200, answer.text
        return answer.json()

    def send_all_pass(self, inspection_id: int, client_id: str) -> None:
        checklist = self.http.get(f"/api/inspections/{inspection_id}",
                                  headers={"Authorization": f"Bearer {self.tokens['SNV-TT01']}"}).json()["checklist"]
        findings = [{"item_code": item["code"], "result": "pass", "note": "Đạt."} for item in checklist]
        findings[0] = {**findings[0], "result": "fail", "note": "Thiếu biển báo.", "workers_affected": 3}
        answer = self.http.post(f"/form/api/inspections/{inspection_id}/findings", headers=self.web(),
                                json={"client_submission_id": client_id, "findings": findings})
        assert answer.status_code == 201, answer.text


ROLES = {"earlier_returned": -3, "earlier_sent": -4, "earlier_waiting": -1, "today_first": 0, "today_second": 0,
         "in_3_days": 3, "in_7_days": 7, "in_8_days": 8}


@pytest.fixture
def day(settings: Settings, worlds: Worlds) -> Iterator[Day]:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=CAMPAIGN, quota=24, teams=2)
    teams = team_inspections(settings)
    mine = teams["SNV-TT01"]
    theirs = next(i for i in teams["SNV-TT02"] if i not in mine)
    assert len(mine) >= len(ROLES) + 1
    today = today_in_vietnam()
    ids = dict(zip(ROLES, mine, strict=False))
    with session_scope(settings) as db:
        for inspection in db.exec(select(Inspection)).all():
            role = next((r for r, i in ids.items() if i == inspection.id), None)
            inspection.scheduled_on = today + timedelta(days=ROLES[role] if role else 40)
            if inspection.id == theirs:
                inspection.scheduled_on = today
            db.add(inspection)
    sid = web_session(settings, tokens["SNV-TT01"])
    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield Day(settings, http, tokens, sid, today, ids, theirs)
    finally:
        server.stop()


def test_the_visits_are_the_days_ahead_and_the_earlier_unfinished(day: Day) -> None:
    day.send_all_pass(day.ids["earlier_sent"], "field-sent-0001")  # sent: no longer waiting
    answer = day.visits()
    assert answer["today"] == day.today.isoformat()
    assert answer["person"]["code"] == "SNV-TT01" and answer["person"]["name"] and answer["person"]["agency"]
    assert answer["csrf"] == csrf_token(day.sid, "api")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer["session_expires_at"])
    assert answer["photo"] == {"max_edge": 1600, "jpeg_quality": 0.8, "max_bytes": 10 * 1024 * 1024,
                               "types": ["image/jpeg", "image/png"]}
    by_id = {v["id"]: v for v in answer["visits"]}
    listed = {role for role, i in day.ids.items() if i in by_id}
    assert listed == {"earlier_returned", "earlier_waiting", "today_first", "today_second", "in_3_days", "in_7_days"}
    assert day.theirs not in by_id
    order = [v["id"] for v in answer["visits"]]
    assert order == [day.ids[r] for r in ("earlier_returned", "earlier_waiting", "today_first", "today_second",
                                          "in_3_days", "in_7_days")]
    first, second = by_id[day.ids["today_first"]], by_id[day.ids["today_second"]]
    assert re.fullmatch(r"\d\d:\d\d", first["visit_time"]) and first["visit_time"] < second["visit_time"]
    assert [by_id[day.ids[r]]["earlier_unfinished"] for r in ("earlier_waiting", "today_first")] == [True, False]
    assert first["status"] == "scheduled" and first["status_vi"] == "Đã lên lịch, chưa có kết quả"
    assert first["can_submit"] and first["returned"] is None and first["latest"] is None
    assert first["scheduled_on"] == day.today.isoformat() and first["campaign_code"] == CAMPAIGN
    assert first["team"]
    assert (first["establishment"], first["address"], first["tax_code"]) == establishment_of(day.settings, first["id"])
    api = day.http.get(f"/api/inspections/{first['id']}", headers={"Authorization": f"Bearer {day.tokens['SNV-TT01']}"})
    expected = [(i["code"], i["text_vi"]) for i in api.json()["checklist"]]
    assert [(i["code"], i["text"]) for i in first["checklist"]] == expected
    for item in first["checklist"]:
        assert item["group"] in GROUP_TITLES and item["group_title"] == GROUP_TITLES[item["group"]]
        assert isinstance(item["ongoing_default"], bool)


def test_a_returned_visit_carries_the_leads_comment_and_the_latest_answers(day: Day) -> None:
    returned = day.ids["earlier_returned"]
    day.send_all_pass(returned, "field-return-0001")
    sent = {v["id"]: v for v in day.visits()["visits"]}
    assert returned not in sent  # sent and earlier: nothing left to do on it
    review = day.http.post(f"/api/inspections/{returned}/review", json={"decision": "return", "comment": COMMENT},
                           headers={"Authorization": f"Bearer {day.tokens['SNV-LEAD']}"})
    assert review.status_code == 201, review.text
    visit = {v["id"]: v for v in day.visits()["visits"]}[returned]
    assert visit["status"] == "findings_returned" and visit["status_vi"] == "Bị trả lại, cần sửa kết quả"
    assert visit["earlier_unfinished"] and visit["can_submit"]
    note = visit["returned"]
    assert note["version"] == 1 and note["comment"] == COMMENT and note["by"] and note["title"]
    assert note["at"].endswith("Z") and re.fullmatch(r"\d\d:\d\d ngày \d\d/\d\d/\d{4}", note["at_vi"])
    latest = visit["latest"]
    assert latest["version"] == 1 and len(latest["findings"]) == len(visit["checklist"])
    failed = [f for f in latest["findings"] if f["result"] == "fail"]
    assert len(failed) == 1 and failed[0]["workers_affected"] == 3 and failed[0]["note"] == "Thiếu biển báo."
    assert set(failed[0]) == {"item_code", "result", "note", "workers_affected", "devices_affected", "committed_on",
                              "ongoing"}


def establishment_of(settings: Settings, inspection_id: int) -> tuple[str, str, str]:
    with session_scope(settings) as db:
        inspection = db.get(Inspection, inspection_id)
        assert inspection is not None
        e = db.get(Establishment, inspection.establishment_id)
        assert e is not None
        return e.name, e.address, e.tax_code
