"""The console's page of drafts waiting for a digital signature (issue 17): ``/console/signing`` over HTTP.

One file (tests/integration/test_decision_time_bar.py's dates): visited Wed 29/04/2026, its record drawn up Thu 07/05,
a written explanation received Tue 12/05 (within the 05 working days), the official's decision of Wed 13/05 (within
the 07 working days to Mon 18/05); "today" is pinned to 13/05, so the decision may be signed and issued. Digital
signing is on (tests/signing_support.py): the stage drafts the decision for the competent official's signature.
"""
from __future__ import annotations

from pathlib import Path

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from models import Document, DocumentType, Person, PersonRole, SigningRequest, SigningState
from services.db import session_scope
from services.documents.signing import load_certificates, verify_pdf
from services.settings import Settings
from services.stages import deadline_changes, deadlines, sanctions
from services.stages.common import Outcome
from tests.cases import approve_and_draw_up, competent_official, d, pin_today, visit
from tests.console_support import (at_width, axe_violations, browser, browser_login, console_login, screenshot,  # noqa: F401
                                   csrf_of, no_horizontal_scroll, serving, wait_loaded)
from tests.factories import create_scheduled_campaign, team_inspections
from tests.pki_support import PASSPHRASE, TestPki, pki  # noqa: F401 (a fixture)
from tests.signing_support import HOLDER, p12_of, signing_on

pytestmark = pytest.mark.slow
CODE = "KYSO-01"
TODAY = d(13, 5)


@dataclass
class Desk:
    settings: Settings
    url: str
    tokens: dict[str, str]
    inspection_id: int
    official: str
    other_official: str
    request_id: int
    clients: list[httpx.Client] = field(default_factory=list)

    def login(self, code: str) -> httpx.Client:
        client = httpx.Client(timeout=120)
        self.clients.append(client)
        return console_login(client, self.url, code, self.tokens[code])

    def at(self, path: str = "") -> str:
        return f"{self.url}/console/signing{path}"

    def request(self) -> SigningRequest:
        with session_scope(self.settings) as session:
            row = session.get(SigningRequest, self.request_id)
            assert row is not None
            session.expunge(row)
            return row

    def decisions(self) -> list[Document]:
        with session_scope(self.settings) as session:
            rows = list(session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION)).all())
            for row in rows:
                session.expunge(row)
            return rows


def _drafted(settings: Settings, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, dict[str, str], int, str]:  # noqa: F811
    from services.intake import decisions
    from services.intake.schemas import DecisionIn
    from models import Violation

    tokens = create_scheduled_campaign(settings, code=CODE)
    inspection_id = team_inspections(settings)["SNV-TT01"][0]
    visit(settings, inspection_id, on=d(29, 4), client_id="kyso01-0001",
          fails={"YT-01": {"workers_affected": 12, "note": "12 người lao động chưa được khám sức khỏe định kỳ."}})
    approve_and_draw_up(settings, inspection_id, d(7, 5))
    deadlines.create_from_state(settings)
    with session_scope(settings) as session:
        deadline_changes.record_explanation(session, inspection_id, actor="SNV-LEAD", on=d(12, 5), kind="written",
                                            reason="Công ty gửi văn bản giải trình ngày 12/05/2026")
        official = competent_official(session, inspection_id).code
    signed = signing_on(settings, pki, monkeypatch, official)
    with session_scope(signed) as session:
        person = session.exec(select(Person).where(Person.code == official)).one()
        amounts = {v.id or 0: v.proposed_amount
                   for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id)).all()}
        decisions.record_decision(session, person, inspection_id, DecisionIn(amounts=amounts, decided_on=TODAY))
    assert sanctions.decide_for_inspection(signed, inspection_id) == Outcome.WAITING
    return signed, tokens, inspection_id, official


@pytest.fixture
def desk(settings: Settings, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:  # noqa: F811
    pin_today(monkeypatch, TODAY)
    signed, tokens, inspection_id, official = _drafted(settings, pki, monkeypatch)
    with session_scope(signed) as session:
        other = session.exec(select(Person).where(Person.role == PersonRole.OFFICIAL, Person.code != official)
                             .order_by(col(Person.code))).first()
        request = session.exec(select(SigningRequest)).one()
        assert other is not None and request.id is not None
        other_code, request_id = other.code, request.id
    with serving(signed) as url:
        desk = Desk(signed, url, tokens, inspection_id, official, other_code, request_id)
        try:
            yield desk
        finally:
            for client in desk.clients:
                client.close()


def test_the_official_signs_after_a_wrong_passphrase_and_the_decision_is_issued(desk: Desk) -> None:
    client = desk.login(desk.official)
    page = client.get(desk.at())
    assert page.status_code == 200 and "<h1>Văn bản chờ ký số</h1>" in page.text
    assert 'href="/console/signing"' in page.text  # the menu entry
    assert "Quyết định xử phạt — " in page.text and "chờ ký" in page.text and 'type="password"' in page.text
    assert 'autocomplete="off"' in page.text and "Hạn ra quyết định xử phạt" in page.text
    draft = client.get(desk.at(f"/{desk.request_id}/draft"))
    assert draft.status_code == 200 and draft.content.startswith(b"%PDF")
    assert draft.headers["content-type"] == "application/pdf" and draft.headers["content-disposition"].startswith("inline")

    wrong = client.post(desk.at(f"/{desk.request_id}/sign"), follow_redirects=False,
                        data={"csrf": csrf_of(page.text, 1), "mat_khau": "sai-mật-khẩu"})
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text and "Không ký được" in wrong.text, wrong.text[-3000:]
    assert "sai-mật-khẩu" not in wrong.text
    assert desk.decisions() == []
    request = desk.request()
    assert request.state == SigningState.AWAITING_SIGNATURE and request.last_error.startswith("Không ký được")

    right = client.post(desk.at(f"/{desk.request_id}/sign"), follow_redirects=False,
                        data={"csrf": csrf_of(page.text, 1), "mat_khau": PASSPHRASE})
    assert right.status_code == 303, right.text[-3000:]
    done = client.get(desk.url + right.headers["location"])
    [doc] = desk.decisions()
    assert re.fullmatch(r"\d+/[^/]+", doc.number) and doc.issued_on == TODAY
    assert f"số {doc.number}, ngày 13/05/2026" in done.text and f'href="/console/documents/{doc.id}"' in done.text
    assert desk.request().state == SigningState.ISSUED
    stored = (desk.settings.documents_path / doc.path).read_bytes()
    result = verify_pdf(stored, load_certificates(desk.settings.signing_trust_root_paths))
    assert result.ok and len(result.signatures) == 2 and result.signatures[0].signer == HOLDER, result.summary


def test_only_the_signer_signs_or_sees_the_draft_and_a_lead_reads(desk: Desk) -> None:
    other = desk.login(desk.other_official)
    page = other.get(desk.at())
    assert page.status_code == 200 and "Không có dự thảo nào đang chờ." in page.text
    assert other.get(desk.at(f"/{desk.request_id}/draft")).status_code == 403
    refused = other.post(desk.at(f"/{desk.request_id}/sign"), follow_redirects=False,
                         data={"csrf": csrf_of(page.text), "mat_khau": PASSPHRASE})
    assert refused.status_code == 403 and desk.decisions() == []
    lead = desk.login("SNV-LEAD")
    listed = lead.get(desk.at())
    assert listed.status_code == 200 and "Quyết định xử phạt — " in listed.text and 'type="password"' not in listed.text
    assert lead.get(desk.at(f"/{desk.request_id}/draft")).status_code == 200
    assert desk.request().state == SigningState.AWAITING_SIGNATURE


def test_a_refusal_needs_a_reason_and_can_be_drawn_again(desk: Desk) -> None:
    client = desk.login(desk.official)
    page = client.get(desk.at())
    token = csrf_of(page.text, 1)
    blank = client.post(desk.at(f"/{desk.request_id}/refuse"), data={"csrf": token, "ly_do": "  "}, follow_redirects=False)
    assert blank.status_code == 422 and "Lý do từ chối ký: phải ghi lý do" in blank.text
    assert desk.request().state == SigningState.AWAITING_SIGNATURE
    reason = "Mức phạt chưa xét tình tiết giảm nhẹ: đề nghị soạn lại."
    done = client.post(desk.at(f"/{desk.request_id}/refuse"), data={"csrf": token, "ly_do": reason}, follow_redirects=False)
    assert done.status_code == 303
    assert desk.request().state == SigningState.REFUSED and desk.request().refusal_reason == reason
    shown = client.get(desk.url + done.headers["location"])
    assert "Đã từ chối ký" in shown.text and reason in shown.text and "Soạn lại dự thảo" in shown.text
    again = client.post(desk.at(f"/{desk.request_id}/redraft"), data={"csrf": csrf_of(shown.text, -1)},
                        follow_redirects=False)
    assert again.status_code == 303, again.text[-2000:]
    with session_scope(desk.settings) as session:
        states = [(r.attempt, r.state) for r in session.exec(select(SigningRequest).order_by(col(SigningRequest.attempt)))]
    assert states == [(1, SigningState.REFUSED), (2, SigningState.AWAITING_SIGNATURE)]
    assert desk.decisions() == []


def test_a_missing_key_file_is_named(desk: Desk) -> None:
    p12_of(desk.settings, desk.official).unlink()
    client = desk.login(desk.official)
    page = client.get(desk.at())
    response = client.post(desk.at(f"/{desk.request_id}/sign"), data={"csrf": csrf_of(page.text, 1), "mat_khau": PASSPHRASE},
                           follow_redirects=False)
    assert response.status_code == 422 and f"tệp khóa ký số {desk.official}.p12" in response.text
    assert desk.decisions() == [] and desk.request().state == SigningState.AWAITING_SIGNATURE


def test_the_page_fits_a_phone_and_passes_axe(desk: Desk, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    client = desk.login(desk.official)
    page = client.get(desk.at())
    client.post(desk.at(f"/{desk.request_id}/sign"), data={"csrf": csrf_of(page.text, 1), "mat_khau": "sai"})
    for code in (desk.official, "SNV-LEAD"):
        browser_login(browser, desk.url, code, desk.tokens[code])
        at_width(browser, 360)
        browser.get(desk.at())
        wait_loaded(browser)
        assert "Văn bản chờ ký số" in browser.title
        no_horizontal_scroll(browser)
        assert axe_violations(browser) == []
        assert screenshot(browser, tmp_path / f"ky-so-{code}-360.png").stat().st_size > 5_000
