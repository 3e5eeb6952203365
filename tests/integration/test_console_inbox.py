"""The console's inbox (``/console/``): what waits for a lead, an official and an admin, read by the pure queries of
services/entry/http/console/inbox_queries.py and shown on the page per role."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from models import Contact, DeliveryStatus, Inspection, InspectionStatus, Person
from services import access
from services.db import session_scope
from services.delivery import notifications
from services.entry.http.console import inbox_queries as q
from services.rules.calendar import today_in_vietnam
from services.settings import Settings
from services.stages import deadlines, selection
from tests.cases import approve_and_draw_up, competent_official, visit
from tests.conftest import Worlds
from tests.console_support import console_login, serving
from tests.factories import create_campaign, create_scheduled_campaign, team_inspections

CODE, DRAFT = "INBOX-01", "INBOX-02"
VISIT = date(2026, 4, 20)


def inbox_world(settings: Settings) -> dict[str, Any]:
    """Two findings waiting for review, one file waiting for a decision (its deadlines set), a list waiting for
    approval, a failed notification, an inspector without a contact, a revoked token."""
    tokens = create_scheduled_campaign(settings, code=CODE, quota=6, teams=2)
    teams = team_inspections(settings)
    first, second, third = teams["SNV-TT01"][:3]
    visit(settings, first, on=VISIT, client_id="inbox-0001", inspector="SNV-TT01")
    visit(settings, second, on=VISIT, client_id="inbox-0002", inspector="SNV-TT01")
    visit(settings, third, on=VISIT, client_id="inbox-0003", inspector="SNV-TT01")
    approve_and_draw_up(settings, third, VISIT)
    deadlines.create_from_state(settings)
    create_campaign(settings, code=DRAFT, quota=4)
    selection.select_establishments(settings, DRAFT)
    with session_scope(settings) as s:
        campaign_id = s.exec(select(Inspection.campaign_id).where(Inspection.id == first)).one()
        note = notifications.enqueue(s, key="inbox-test", campaign_id=campaign_id, inspection_id=first,
                                     kind="inspection_notice", recipient_kind="establishment", recipient_ref="0100000000",
                                     channel="email", address="khong-co@demo.kiemtra.invalid",
                                     subject="Thông báo kiểm tra thử", body="Nội dung")
        note.status, note.last_error, note.attempts = DeliveryStatus.FAILED, "550 hộp thư không tồn tại", 6
        s.add(note)
        contact = s.exec(select(Contact).where(Contact.owner_ref == "SNV-TT02")).one()
        contact.email, contact.phone = None, None
        s.add(contact)
        access.revoke(s, by="SNV-QT", reason="thử", person=access.find_person(s, "SYT-CV02"))
        official = competent_official(s, third).code
    return {"tokens": tokens, "review": [first, second], "decide": third, "official": official,
            "notification": note.subject}


@pytest.fixture
def world(settings: Settings, worlds: Worlds) -> dict[str, Any]:
    return worlds.copy(settings, inbox_world)


def person(settings: Settings, code: str) -> Person:
    with session_scope(settings) as s:
        found = s.exec(select(Person).where(Person.code == code)).one()
        s.expunge(found)
    return found


def sections(settings: Settings, code: str) -> dict[str, q.Section]:
    with session_scope(settings) as s:
        return {x.key: x for x in q.inbox_for(s, person(settings, code), today_in_vietnam())}


def test_the_lead_inbox(settings: Settings, world: dict[str, Any]) -> None:
    got = sections(settings, "SNV-LEAD")
    assert [i.href for i in got["duyet-danh-sach"].items] == [f"/console/campaigns/{DRAFT}/selection"]
    assert [i.href for i in got["duyet-ket-qua"].items] == [f"/console/inspections/{i}/findings" for i in world["review"]]
    due = got["han-xu-ly"].items
    assert due and all(i.href.startswith("/console/deadlines/") for i in due)
    assert any(i.tone == "bad" and i.badge.startswith("quá hạn") for i in due)  # the visit was in April
    assert [i.title for i in got["gui-loi"].items] == [world["notification"]]
    assert "550 hộp thư không tồn tại" in got["gui-loi"].items[0].detail
    assert any("SNV-TT02" in i.title for i in got["khong-lien-lac"].items)
    assert "quyet-dinh" not in got and "ma-truy-cap" not in got


def test_a_lead_of_another_agency_sees_none_of_it(settings: Settings, world: dict[str, Any]) -> None:
    with session_scope(settings) as s:
        other = s.exec(select(Person).where(Person.code == "SNV-LEAD")).one()
        s.expunge(other)
    other.agency_id = other.agency_id + 100  # an agency that leads nothing
    with session_scope(settings) as s:
        assert all(not x.items for x in q.lead_inbox(s, other, today_in_vietnam()))


def test_the_official_inbox_by_competence(settings: Settings, world: dict[str, Any]) -> None:
    expected = [f"/console/inspections/{world['decide']}/decision"]

    def hrefs(code: str) -> list[str]:
        return [i.href for i in sections(settings, code)["quyet-dinh"].items]

    assert hrefs(world["official"]) == expected  # the lowest competent title
    assert hrefs("UBND-CT") == expected  # the highest title may take any file
    if world["official"] == "UBND-CT":
        assert hrefs("SNV-GD") == []  # a lower title never


def test_the_admin_inbox(settings: Settings, world: dict[str, Any]) -> None:
    got = sections(settings, "SNV-QT")
    without = got["ma-truy-cap"].items
    assert [i.title.split("(")[-1].rstrip(")") for i in without] == ["SYT-CV02"]
    assert "thu hồi" in without[0].detail
    assert got["duyet-ket-qua"].items and got["quyet-dinh"].items  # an admin sees every campaign's work


def test_due_window(settings: Settings, world: dict[str, Any]) -> None:
    with session_scope(settings) as s:
        far = q.deadlines_due(s, [c for c in [1, 2]], date(2026, 1, 1), days=1)
        near = q.deadlines_due(s, [1, 2], today_in_vietnam() + timedelta(days=3650), days=1)
    assert not far.items and near.items


@pytest.fixture
def served(settings: Settings, world: dict[str, Any]) -> Iterator[str]:
    with serving(settings) as url:
        yield url


def test_the_page_per_role(served: str, world: dict[str, Any]) -> None:
    tokens = world["tokens"]
    with httpx.Client(timeout=30) as http:
        console_login(http, served, "SNV-LEAD", tokens["SNV-LEAD"])
        page = http.get(f"{served}/console/")
        assert page.status_code == 200
        for text in ("Việc cần làm", "Danh sách cơ sở chờ phê duyệt", f"/console/campaigns/{DRAFT}/selection",
                     f"/console/inspections/{world['review'][0]}/findings", "quá hạn", world["notification"],
                     "Người nhận không có địa chỉ liên hệ"):
            assert text in page.text, text
        assert "Hồ sơ chờ quyết định xử phạt" not in page.text
    with httpx.Client(timeout=30) as http:
        console_login(http, served, world["official"], tokens[world["official"]])
        page = http.get(f"{served}/console/")
        assert f"/console/inspections/{world['decide']}/decision" in page.text
        assert "Kết quả kiểm tra chờ duyệt" not in page.text


def test_nothing_is_written_by_the_page(served: str, world: dict[str, Any], settings: Settings) -> None:
    from models import AuditEvent

    with session_scope(settings) as s:
        before = len(s.exec(select(AuditEvent)).all())
    with httpx.Client(timeout=30) as http:
        console_login(http, served, "SNV-QT", world["tokens"]["SNV-QT"])
        assert http.get(f"{served}/console/").status_code == 200
    with session_scope(settings) as s:
        assert len(s.exec(select(AuditEvent)).all()) == before
        assert s.exec(select(Inspection).where(Inspection.status == InspectionStatus.RECORDS_ISSUED)).all()
