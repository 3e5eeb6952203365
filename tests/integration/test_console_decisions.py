"""The officials' decision screen (issue 15): ``/console/inspections/{id}/decision`` over HTTP and in Chromium.

World (built once, copied per test): a campaign whose findings were approved and whose records were issued
(``campaign_with_approved_findings`` + ``records.issue_records``): files for the Giám đốc Sở Nội vụ (SNV-GD) and files
beyond that competence, for the Chủ tịch UBND tỉnh (UBND-CT).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from models import AuditEvent, Deadline, DeadlineKind, Document, Inspection, InspectionStatus, Person, Violation
from services.db import session_scope
from services.rules.calendar import today_in_vietnam
from services.rules.circumstances import Kind, load_circumstances, propose_amount
from services.rules.competence import required_signer
from services.rules.fines import load_fine_table, provision_vi, vnd
from services.settings import Settings
from services.stages import deadline_changes, deadlines, records, sanctions
from services.stages.common import Outcome
from tests.cases import pin_today
from tests.conftest import Worlds, make_settings
from tests.console_support import (at_width, axe_violations, browser, browser_login, console_login,  # noqa: F401
                                   csrf_of, follow, no_horizontal_scroll, screenshot, serving)
from tests.factories import campaign_with_approved_findings

CAMPAIGN = "QD-01"
DIRECTOR, CHAIR = "Giám đốc Sở Nội vụ", "Chủ tịch Ủy ban nhân dân tỉnh"
REASON = "Cơ sở đã khắc phục ngay trong buổi kiểm tra và tự nguyện báo cáo."


# The records are drawn up on 05–10/03/2026 and every violator explained (decision_world): the decisions of 20/03/2026
# fall within the 1-month period (Luật XLVPHC Art.66 cl.1) and after the explanations, as the law requires (a decision
# after the period is refused: Art.65 cl.1 c). "Today" is pinned to that day for the whole module.
TODAY = date(2026, 3, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch, TODAY)


def decision_world(settings: Settings) -> dict[str, str]:
    tokens = campaign_with_approved_findings(settings, code=CAMPAIGN)
    records.issue_records(settings, CAMPAIGN, records.pending_inspection_ids(settings, CAMPAIGN,
                                                                             InspectionStatus.FINDINGS_APPROVED))
    deadlines.create_from_state(settings)
    with session_scope(settings) as session:  # each violator explained the day after the record: 1 month to decide
        for deadline in session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.SANCTION_DECISION)).all():
            deadline_changes.record_explanation(session, deadline.inspection_id, actor="SNV-LEAD",
                                                on=deadline.starts_on + timedelta(days=1), kind="written",
                                                reason="Cơ sở gửi văn bản giải trình")
    return tokens


def files_by_signer(settings: Settings) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    with session_scope(settings) as session:
        for i in session.exec(select(Inspection).where(Inspection.status == InspectionStatus.RECORDS_ISSUED)
                              .order_by(col(Inspection.id))).all():
            signer = required_signer(session, i)
            if signer and i.id is not None:
                out.setdefault(signer, []).append(i.id)
    return out


def acts(settings: Settings, inspection_id: int) -> list[Violation]:
    with session_scope(settings) as session:
        rows = session.exec(select(Violation).where(Violation.inspection_id == inspection_id)
                            .order_by(col(Violation.id))).all()
        for v in rows:
            session.expunge(v)
        return list(rows)


def stored(settings: Settings) -> dict[str, Any]:
    """What a decision changes: every act's decision fields, the documents, the audit rows (ids and times left out)."""
    with session_scope(settings) as session:
        codes = {p.id: p.code for p in session.exec(select(Person)).all()}
        violations = [(v.id, v.final_amount, v.decided_on, v.mitigating, v.aggravating, v.decided_proposal,
                       v.amount_reason, codes.get(v.decided_by_id))
                      for v in session.exec(select(Violation).order_by(col(Violation.id))).all()]
        documents = [(d.doc_type, d.number, d.sha256) for d in session.exec(select(Document).order_by(col(Document.id)))]
        audit = [(a.actor, a.action, a.entity_type, a.entity_id, a.from_state, a.to_state, a.reason, a.data)
                 for a in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
                 if not a.action.startswith(("web_session", "login", "token"))]
    return {"violations": violations, "documents": documents, "audit": audit}


@dataclass
class Desk:
    settings: Settings
    url: str
    tokens: dict[str, str]
    files: dict[str, list[int]]
    clients: list[httpx.Client]

    def login(self, code: str) -> httpx.Client:
        client = httpx.Client(timeout=60)
        self.clients.append(client)
        return console_login(client, self.url, code, self.tokens[code])

    def page(self, inspection_id: int) -> str:
        return f"{self.url}/console/inspections/{inspection_id}/decision"


@pytest.fixture
def desk(settings: Settings, worlds: Worlds) -> Iterator[Desk]:
    tokens = worlds.copy(settings, decision_world)
    with serving(settings) as url:
        d = Desk(settings, url, tokens, files_by_signer(settings), [])
        try:
            yield d
        finally:
            for client in d.clients:
                client.close()


def form_for(html: str, violations: list[Violation], **overrides: str) -> dict[str, str]:
    """The form as the page sends it untouched: each amount at its proposal, today's date."""
    data = {"csrf": csrf_of(html, -1), "ngay": today_in_vietnam().isoformat(), "hanh_dong": "quyet_dinh"}
    for v in violations:
        data[f"so_tien.{v.id}"] = str(v.proposed_amount)
        data[f"de_xuat.{v.id}"] = str(v.proposed_amount)
    data.update(overrides)
    return data


def test_the_screen_shows_each_act_with_provision_range_proposal_and_circumstances(desk: Desk) -> None:
    inspection_id = desk.files[DIRECTOR][0]
    client = desk.login("SNV-GD")
    page = client.get(desk.page(inspection_id))
    assert page.status_code == 200, page.text
    html = page.text
    table = load_fine_table()
    for v in acts(desk.settings, inspection_id):
        assert provision_vi(table.get(v.provision_code)) in html
        assert table.get(v.provision_code).description_vi in html
        assert f"từ {vnd(v.range_min)} đến {vnd(v.range_max)}" in html
        assert vnd(v.proposed_amount) in html
        assert v.reasoning[0] in html  # the working
        assert f'name="so_tien.{v.id}"' in html and f'name="ly_do.{v.id}"' in html
    catalog = load_circumstances(today_in_vietnam())
    shown = [c for c in catalog if c.selectable and not c.derived]
    assert shown and all(c.text_vi in html for c in shown)
    assert {c.kind for c in shown} == {Kind.MITIGATING, Kind.AGGRAVATING}
    assert f"{DIRECTOR} (xác định theo mức tối đa" in html
    assert 'id="nut-quyet-dinh"' in html


def test_recalculating_shows_the_proposal_for_the_circumstances_picked_and_writes_nothing(desk: Desk) -> None:
    inspection_id = desk.files[DIRECTOR][0]
    client = desk.login("SNV-GD")
    html = client.get(desk.page(inspection_id)).text
    first, *rest = acts(desk.settings, inspection_id)
    code = next(c.code for c in load_circumstances(today_in_vietnam()) if c.kind is Kind.AGGRAVATING and c.selectable
                and not c.derived)
    before = stored(desk.settings)
    again = client.post(desk.page(inspection_id), data=form_for(html, [first, *rest], hanh_dong="tinh_lai",
                                                                **{f"tang_nang.{first.id}.{code}": "1"}))
    assert again.status_code == 200, again.text
    higher, _ = propose_amount(first.range_min, first.range_max, mitigating=0, aggravating=1 + len(first.derived))
    assert f'id="de-xuat-{first.id}"><strong>{vnd(higher)}' in again.text
    assert f'name="so_tien.{first.id}" value="{higher}"' in again.text  # the amount followed the proposal
    assert f'name="tang_nang.{first.id}.{code}" value="1" checked' in again.text
    assert stored(desk.settings) == before


def issue_with_a_circumstance(client: httpx.Client, desk: Desk, inspection_id: int) -> tuple[httpx.Response, dict[str, str]]:
    """One mitigating circumstance on the first act and its minimum with a reason; the others at their proposal."""
    html = client.get(desk.page(inspection_id)).text
    violations = acts(desk.settings, inspection_id)
    first = violations[0]
    code = next(c.code for c in load_circumstances(today_in_vietnam()) if c.kind is Kind.MITIGATING and c.selectable
                and not c.derived)
    data = form_for(html, violations, **{f"giam_nhe.{first.id}.{code}": "1", f"so_tien.{first.id}": f"{first.range_min:,}"
                                          .replace(",", "."), f"ly_do.{first.id}": REASON})
    return client.post(desk.page(inspection_id), data=data, follow_redirects=False), data


def test_an_official_issues_with_a_circumstance_and_a_reason_then_finds_the_documents(desk: Desk) -> None:
    inspection_id = desk.files[DIRECTOR][0]
    client = desk.login("SNV-GD")
    response, _ = issue_with_a_circumstance(client, desk, inspection_id)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/console/inspections/{inspection_id}/decision?issued=1"
    first, *rest = acts(desk.settings, inspection_id)
    assert (first.final_amount, first.amount_reason, len(first.mitigating)) == (first.range_min, REASON, 1)
    assert all(v.final_amount == v.proposed_amount and v.amount_reason == "" for v in rest)
    assert all(v.decided_on == today_in_vietnam() for v in [first, *rest])
    audit = [a for a in stored(desk.settings)["audit"] if a[1] == "fine_decided"]
    assert [(a[0], a[3]) for a in audit] == [("SNV-GD", inspection_id)]
    shown = client.get(f"{desk.url}{response.headers['location']}")
    assert shown.status_code == 200
    assert 'id="da-quyet-dinh"' in shown.text and 'id="muc-phat-da-quyet-dinh"' in shown.text
    assert REASON in shown.text and 'id="nut-quyet-dinh"' not in shown.text
    total = sum(v.final_amount or 0 for v in [first, *rest])
    assert f'id="tong-tien"><strong>{vnd(total)}</strong>' in shown.text
    chosen = load_circumstances(today_in_vietnam()).get(first.mitigating[0]).text_vi
    assert chosen in shown.text.split('id="muc-phat-da-quyet-dinh"')[1]
    with session_scope(desk.settings) as session:
        record = session.exec(select(Document).where(Document.inspection_id == inspection_id,
                                                     Document.doc_type == "violation_record")).one()
        record_id, record_number = record.id, record.number
    assert f'href="/console/documents/{record_id}">Biên bản vi phạm hành chính số {record_number}' in shown.text
    pdf = client.get(f"{desk.url}/console/documents/{record_id}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with session_scope(desk.settings) as session:  # the decision itself was issued at once (the law allows it)
        decision = session.exec(select(Document).where(Document.inspection_id == inspection_id,
                                                       Document.doc_type == "sanction_decision")).one()
        decision_id, decision_number = decision.id, decision.number
        assert session.get(Inspection, inspection_id).status == InspectionStatus.SANCTIONED  # type: ignore[union-attr]
    assert f'id="tai-quyet-dinh" href="/console/documents/{decision_id}"' in shown.text and decision_number in shown.text
    assert client.get(f"{desk.url}/console/documents/{decision_id}").content.startswith(b"%PDF")
    assert sanctions.decide_for_inspection(desk.settings, inspection_id) == Outcome.ALREADY  # the stage finds it done


def test_an_amount_other_than_the_proposal_without_a_reason_is_refused(desk: Desk) -> None:
    inspection_id = desk.files[DIRECTOR][0]
    client = desk.login("SNV-GD")
    html = client.get(desk.page(inspection_id)).text
    violations = acts(desk.settings, inspection_id)
    first = violations[0]
    before = stored(desk.settings)
    response = client.post(desk.page(inspection_id), data=form_for(html, violations,
                                                                   **{f"so_tien.{first.id}": str(first.range_max)}))
    assert response.status_code == 422
    message = (f"reasons.{first.id}: mức phạt {vnd(first.range_max).removesuffix(' đồng')} đồng khác mức đề xuất "
               f"{vnd(first.proposed_amount).removesuffix(' đồng')} đồng theo các tình tiết đã xác định; phải ghi lý do "
               "quyết định mức phạt này")
    assert 'id="loi"' in response.text and message in response.text
    assert f'name="so_tien.{first.id}" value="{first.range_max}"' in response.text  # what was sent is kept
    assert stored(desk.settings) == before


def test_an_official_without_competence_sees_why_and_cannot_issue(desk: Desk) -> None:
    inspection_id = desk.files[CHAIR][0]
    client = desk.login("SNV-GD")
    page = client.get(desk.page(inspection_id))
    assert page.status_code == 200
    assert 'id="khong-the-quyet-dinh"' in page.text and "Vượt thẩm quyền" in page.text
    assert f"phải do {CHAIR} quyết định" in page.text and 'id="nut-quyet-dinh"' not in page.text
    before = stored(desk.settings)
    response = client.post(desk.page(inspection_id), data=form_for(page.text, acts(desk.settings, inspection_id)))
    assert response.status_code == 403 and "Vượt thẩm quyền" in response.text
    assert stored(desk.settings) == before


def test_a_lead_may_read_the_screen_but_not_issue(desk: Desk) -> None:
    inspection_id = desk.files[DIRECTOR][0]
    client = desk.login("SNV-LEAD")
    page = client.get(desk.page(inspection_id))
    assert page.status_code == 200
    assert "tài khoản này chỉ được xem" in page.text and 'id="nut-quyet-dinh"' not in page.text
    before = stored(desk.settings)
    response = client.post(desk.page(inspection_id), data=form_for(page.text, acts(desk.settings, inspection_id)))
    assert response.status_code == 403
    assert "Chỉ người có thẩm quyền xử phạt mới được quyết định mức phạt." in response.text
    assert stored(desk.settings) == before


def test_forged_and_cross_site_posts_are_refused(desk: Desk) -> None:
    inspection_id = desk.files[DIRECTOR][0]
    client = desk.login("SNV-GD")
    html = client.get(desk.page(inspection_id)).text
    violations = acts(desk.settings, inspection_id)
    before = stored(desk.settings)
    for data, headers in ((form_for(html, violations, csrf=""), {}),
                          (form_for(html, violations, csrf=csrf_of(html, 0)), {}),  # the logout form's token
                          (form_for(html, violations), {"Origin": "https://evil.example"}),
                          (form_for(html, violations), {"Sec-Fetch-Site": "cross-site"})):
        response = client.post(desk.page(inspection_id), data=data, headers=headers)
        assert response.status_code == 403, (headers, response.text[:300])
    other = desk.files[DIRECTOR][1]  # a token is for one file's form
    response = client.post(desk.page(other), data=form_for(html, acts(desk.settings, other)))
    assert response.status_code == 403
    anonymous = httpx.post(desk.page(inspection_id), data=form_for(html, violations), follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/console/login")
    assert stored(desk.settings) == before


def test_the_console_and_the_api_leave_the_same_trail_and_state(settings: Settings, worlds: Worlds, tmp_path: Path,
                                                                new_database: Callable[[], str | None],
                                                                migrated: Callable[[Settings], Settings]) -> None:
    """Done-when 4: one decision through the console on one copy, the same through the API on another."""
    other = migrated(make_settings(tmp_path / "api", database_url=new_database()))
    tokens = worlds.copy(settings, decision_world)
    assert worlds.copy(other, decision_world) == tokens
    inspection_id = files_by_signer(settings)[DIRECTOR][0]
    with serving(settings) as url, httpx.Client(timeout=60) as client:
        desk = Desk(settings, url, tokens, {}, [])
        console_login(client, url, "SNV-GD", tokens["SNV-GD"])
        baseline = stored(settings)
        response, data = issue_with_a_circumstance(client, desk, inspection_id)
        assert response.status_code == 303, response.text
    first, *rest = acts(other, inspection_id)
    code = next(k.split(".")[2] for k in data if k.startswith("giam_nhe."))
    body = {"decided_on": data["ngay"], "amounts": {str(v.id): v.proposed_amount for v in rest} | {str(first.id): first.range_min},
            "circumstances": {str(first.id): {"mitigating": [code]}}, "reasons": {str(first.id): REASON}}
    with serving(other) as url:
        api_baseline = stored(other)
        answer = httpx.post(f"{url}/api/inspections/{inspection_id}/decision", json=body, timeout=60,
                            headers={"Authorization": f"Bearer {tokens['SNV-GD']}"})
        assert answer.status_code == 201, answer.text
    assert api_baseline == baseline
    assert stored(other) == stored(settings)
    added = stored(settings)["audit"][len(baseline["audit"]):]
    assert [a[1] for a in added][0] == "fine_decided" and [a[5] for a in added][-1] == InspectionStatus.SANCTIONED
    assert {a[0] for a in added} == {"SNV-GD"}  # the decision issued at once, by the official who decided
    issue = answer.json()["issue"]
    assert issue["outcome"] == "issued" and issue["number"] and issue["decision_url"].startswith("/console/documents/")
    with serving(settings) as url, httpx.Client(timeout=60) as client:  # the console shows what the API answered
        console_login(client, url, "SNV-GD", tokens["SNV-GD"])
        shown = client.get(f"{url}/console/inspections/{inspection_id}/decision?issued=1").text
    assert f'id="tai-quyet-dinh" href="{issue["decision_url"]}"' in shown and issue["number"] in shown
    assert f'href="{issue["record_url"]}"' in shown


def test_the_screen_in_chromium_at_phone_and_desktop_widths(desk: Desk, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    inspection_id = desk.files[DIRECTOR][0]
    browser_login(browser, desk.url, "SNV-GD", desk.tokens["SNV-GD"])
    for width in (390, 1280):
        at_width(browser, width)
        browser.get(desk.page(inspection_id))
        assert browser.find_element(By.ID, "nut-quyet-dinh").is_displayed()
        no_horizontal_scroll(browser)
        screenshot(browser, tmp_path / f"quyet-dinh-{width}.png")
        assert axe_violations(browser) == []
    first = acts(desk.settings, inspection_id)[0]
    box = browser.find_element(By.ID, f"so-tien-{first.id}")
    box.clear()
    box.send_keys(str(first.range_min))
    browser.find_element(By.ID, f"ly-do-{first.id}").send_keys(REASON)
    follow(browser, "nut-quyet-dinh")
    assert browser.find_element(By.ID, "da-quyet-dinh").is_displayed()
    for width in (390, 1280):
        at_width(browser, width)
        browser.refresh()
        no_horizontal_scroll(browser)
        screenshot(browser, tmp_path / f"da-quyet-dinh-{width}.png")
        assert axe_violations(browser) == []
    assert acts(desk.settings, inspection_id)[0].final_amount == first.range_min


def test_an_unknown_file_is_not_found_and_a_logged_out_visitor_is_sent_to_log_in(desk: Desk) -> None:
    client = desk.login("SNV-GD")
    missing = client.get(desk.page(999999))
    assert missing.status_code == 404 and "Không có quyền" not in missing.text
    inspection_id = desk.files[DIRECTOR][0]
    anonymous = httpx.get(desk.page(inspection_id), follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/console/login?next=/console/inspections/{inspection_id}/decision"


def test_a_file_not_yet_decided_waits_and_says_why(desk: Desk) -> None:
    """The step run for a file whose amounts are not set: nothing written, "waiting" with the reason in Vietnamese."""
    from services.intake.decision_issue import NOT_DECIDED_VI, issue_now

    inspection_id = desk.files[DIRECTOR][0]
    before = stored(desk.settings)
    issue = issue_now(desk.settings, inspection_id, actor="SNV-GD")
    assert (issue.outcome, issue.waiting_reason, issue.number, issue.issuable_from) == ("waiting", NOT_DECIDED_VI,
                                                                                        None, None)
    assert issue.record_url is not None and issue.record_url.startswith("/console/documents/")
    assert stored(desk.settings) == before
