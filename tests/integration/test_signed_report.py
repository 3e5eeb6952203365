"""The campaign's báo cáo kết quả kiểm tra through the NĐ 30/2020 issuing sequence (issue 17), when ``report`` is
signed digitally: drafted with its number and date left blank and put to the lead agency's lãnh đạo (the signer its
template names), signed, then numbered, dated (the signing day), sealed and issued, its XLSX written then from the
figures of the signed draft. While it waits nothing else is written.

World: tests/integration/test_reports.py ``reported_campaign`` (BC-01, visited Wed 22/04/2026, one decision complied
with); drafted Wed 10/06/2026, signed Thu 11/06/2026.
"""
from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from models import (Campaign, Deadline, DeadlineKind, Document, DocumentType, Person, PersonRole,
                    SigningRequest, SigningState)
from services.db import session_scope
from services.documents.signing import SignerKey, verify_pdf
from services.documents.xlsx import SHEET_INFO, write_report_xlsx
from services.errors import Conflict
from services.reports.campaign_report import issue_campaign_report, report_context
from services.reports.signed_report import report_signer, xlsx_path
from services.settings import Settings
from services.issuing import signed_documents
from services.stages import deadline_changes
from tests.cases import pin_today
from tests.conftest import Worlds
from tests.integration.test_reports import reported_campaign
from tests.pdf_text import flattened_text
from tests.pki_support import PASSPHRASE, TestPki, pki, signature_png  # noqa: F401 (a fixture)
from tests.signing_support import HOLDER, counter_of, issued_of, ORGANISATION, signing_on

pytestmark = pytest.mark.slow

CODE = "BC-01"
DRAFTED, SIGNED = date(2026, 6, 10), date(2026, 6, 11)


@pytest.fixture
def world(settings: Settings, worlds: Worlds, pki: TestPki,  # noqa: F811
          monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, str]:
    """BC-01 with its report signed digitally; the report's signer's code."""
    worlds.copy(settings, reported_campaign)
    with session_scope(settings) as session:
        campaign = session.exec(select(Campaign).where(Campaign.code == CODE)).one()
        signer = report_signer(session, campaign)
        assert signer is not None
        code = signer.code
    signing = signing_on(settings, pki, monkeypatch, code).model_copy(update={"signing_documents": ("report",)})
    return signing, code


def _key(settings: Settings, code: str) -> SignerKey:
    assert settings.signing_keys_path is not None
    return SignerKey.pkcs12(settings.signing_keys_path / f"{code}.p12", PASSPHRASE, name=HOLDER)


def _reports(settings: Settings) -> list[Document]:
    return issued_of(settings, DocumentType.REPORT)


def _counter(settings: Settings) -> list[int]:
    return counter_of(settings, DocumentType.REPORT)


def _sheets(path: object) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(path)  # type: ignore[arg-type]
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def _drafted_figures(settings: Settings) -> dict[str, object]:
    with session_scope(settings) as session:
        campaign = session.exec(select(Campaign).where(Campaign.code == CODE)).one()
        return report_context(session, campaign, issued_on=DRAFTED)


def test_the_report_is_drafted_signed_numbered_sealed_and_issued_with_the_drafts_figures(
        world: tuple[Settings, str], pki: TestPki, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:  # noqa: F811
    settings, code = world
    pin_today(monkeypatch, DRAFTED)
    request = issue_campaign_report(settings, CODE, issued_on=DRAFTED, actor="SNV-LEAD")
    assert isinstance(request, SigningRequest)
    assert (request.state, request.signer_code, request.signer_name, request.attempt) == \
        (SigningState.AWAITING_SIGNATURE, code, HOLDER, 1)
    again = issue_campaign_report(settings, CODE, issued_on=DRAFTED, actor="SNV-LEAD")
    assert isinstance(again, SigningRequest) and again.id == request.id  # one draft
    assert _reports(settings) == [] and _counter(settings) == []  # nothing numbered, nothing issued
    assert not list((settings.documents_path / str(DRAFTED.year)).glob("**/*.xlsx"))
    expected = _drafted_figures(settings)
    with session_scope(settings) as session:  # the state changes before the signature: a remedial measure done
        remedial = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.REMEDIAL)).first()
        assert remedial is not None
        deadline_changes.mark_met(session, remedial.id or 0, DRAFTED, actor="SNV-LEAD", reason="Biên bản khắc phục số 07")

    pin_today(monkeypatch, SIGNED)
    doc = signed_documents.sign(settings, request.id or 0, person_code=code, key=_key(settings, code),
                                signature_png=signature_png(), via="thử nghiệm")
    assert isinstance(doc, Document) and doc.doc_type == DocumentType.REPORT
    assert doc.issued_on == SIGNED and doc.number.startswith("01/") and doc.revision == 1
    stored = (settings.documents_path / doc.path).read_bytes()
    result = verify_pdf(stored, [pki.root])
    assert result.ok, result.summary
    assert [s.signer for s in result.signatures] == [HOLDER, ORGANISATION]
    text = flattened_text(stored)
    assert f"Số: {doc.number}" in text and "ngày 11 tháng 6 năm 2026" in text and "■" not in text
    xlsx = xlsx_path(settings, doc)
    assert xlsx.is_file()  # the signed draft's figures, the report's number and issuing day
    same = write_report_xlsx({**expected, "number": doc.number, "issued_on": SIGNED}, tmp_path / "expected.xlsx")  # type: ignore[operator]
    assert _sheets(xlsx) == _sheets(same)
    now = write_report_xlsx({**_drafted_figures(settings), "number": doc.number, "issued_on": SIGNED},
                            tmp_path / "now.xlsx")  # type: ignore[operator]
    assert _sheets(now) != _sheets(xlsx)  # re-derived today, the figures would not be the signed ones
    info = dict(row[:2] for row in _sheets(xlsx)[SHEET_INFO] if row[0])
    assert info["Số báo cáo"] == doc.number and info["Ngày báo cáo"] == "11/06/2026"

    assert issue_campaign_report(settings, CODE, issued_on=SIGNED).id == doc.id  # again: the same, nothing twice
    assert [r.id for r in _reports(settings)] == [doc.id] and _counter(settings) == [1]
    xlsx.unlink()  # an issue interrupted before its XLSX: the next run writes it from the draft's figures
    assert issue_campaign_report(settings, CODE, issued_on=SIGNED).id == doc.id
    assert _sheets(xlsx) == _sheets(same)


def test_a_corrected_report_is_signed_too_and_replaces_the_first(world: tuple[Settings, str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    settings, code = world
    pin_today(monkeypatch, DRAFTED)
    first = signed_documents.sign(settings, issue_campaign_report(settings, CODE, issued_on=DRAFTED).id or 0,
                                  person_code=code, key=_key(settings, code), signature_png=signature_png(), via="t")
    assert isinstance(first, Document)
    drafted = issue_campaign_report(settings, CODE, issued_on=DRAFTED, revision=2)
    assert isinstance(drafted, SigningRequest) and drafted.revision == 2 and drafted.supersedes_id == first.id
    assert len(_reports(settings)) == 1
    second = signed_documents.sign(settings, drafted.id or 0, person_code=code, key=_key(settings, code),
                                   signature_png=signature_png(), via="t")
    assert isinstance(second, Document) and second.revision == 2 and second.supersedes_id == first.id
    assert second.number.startswith("02/") and _counter(settings) == [2] and xlsx_path(settings, second).is_file()


def test_without_a_signer_nothing_is_drafted(world: tuple[Settings, str], monkeypatch: pytest.MonkeyPatch) -> None:
    settings, _ = world
    pin_today(monkeypatch, DRAFTED)
    with session_scope(settings) as session:
        for person in session.exec(select(Person).where(Person.role == PersonRole.LEAD)):
            person.role = PersonRole.OFFICIAL
            session.add(person)
    with pytest.raises(Conflict, match="ký báo cáo kết quả kiểm tra"):
        issue_campaign_report(settings, CODE, issued_on=DRAFTED)
    with session_scope(settings) as session:
        assert session.exec(select(SigningRequest)).first() is None
    assert _reports(settings) == []


def test_a_refused_report_is_drawn_again(world: tuple[Settings, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from services.documents.signed_issuing import refuse

    settings, code = world
    pin_today(monkeypatch, DRAFTED)
    request = issue_campaign_report(settings, CODE, issued_on=DRAFTED)
    with session_scope(settings) as session:
        refuse(session, request.id or 0, person_code=code, reason="Bổ sung kiến nghị về huấn luyện an toàn.")
    again = signed_documents.redraft(settings, request.id or 0, actor="SNV-LEAD")
    assert (again.attempt, again.state, again.doc_type) == (2, SigningState.AWAITING_SIGNATURE, DocumentType.REPORT)
    assert _reports(settings) == []


def test_the_flow_says_the_report_waits_for_its_signature(world: tuple[Settings, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import publish_outcomes as flow
    from services import wiring
    from services.stages.common import StageResult

    settings, _ = world
    pin_today(monkeypatch, DRAFTED)
    closed = StageResult("publish-outcomes", CODE, details={"campaign_closed": True})
    monkeypatch.setattr(flow.publishing, "publish_outcomes", lambda *_args, **_kw: closed)
    with wiring.use(wiring.Wiring(settings)):
        out = flow.publish.fn(CODE, [])
    assert out["report"] is None and out["waiting"] == 1
    assert out["report_waiting_vi"].startswith("Báo cáo kết quả kiểm tra chờ") and HOLDER in out["report_waiting_vi"]
    assert _reports(settings) == []


def test_the_leads_button_drafts_the_report_and_says_who_signs(world: tuple[Settings, str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The documents library's "issue the report" button, with the report signed digitally: the draft is put to its
    signer and the lead is taken to "Văn bản chờ ký số", which says so; nothing is issued."""
    import httpx

    from tests.console_support import console_login, csrf_of, serving
    from tests.factories import create_token

    settings, code = world
    pin_today(monkeypatch, DRAFTED)
    token = create_token(settings, "SNV-LEAD")[0]
    with serving(settings) as url, httpx.Client(timeout=60) as client:
        console_login(client, url, "SNV-LEAD", token)
        page = client.get(f"{url}/console/campaigns/{CODE}/documents")
        drafted = client.post(f"{url}/console/campaigns/{CODE}/report", data={"csrf": csrf_of(page.text, -1)},
                              follow_redirects=False)
        assert drafted.status_code == 303 and drafted.headers["location"].startswith("/console/signing?trinh_ky=")
        shown = client.get(f"{url}{drafted.headers['location']}")
    assert shown.status_code == 200 and "và trình" in shown.text and "ký số; văn bản được cấp số" in shown.text
    assert _reports(settings) == [] and _counter(settings) == []
