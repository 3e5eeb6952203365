"""Signing several drafts at once (issue 17): the console's "Ký số các văn bản đã chọn" (POST /console/signing/batch)
and ``kiemtra documents sign --all``, on two sanction decisions waiting for one official (tests/signing_many.py)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from models import AuditEvent, Document, DocumentType, Person, PersonRole, SigningRequest, SigningState
from services.db import session_scope
from services.documents.signing import verify_pdf
from services.entry.cli.app import app
from services.settings import Settings
from tests.conftest import Worlds
from tests.console_support import (at_width, axe_violations, browser, browser_login, console_login, csrf_of,  # noqa: F401
                                   no_horizontal_scroll, screenshot, serving, wait_loaded)
from tests.factories import count
from tests.pki_support import PASSPHRASE, TestPki, pki  # noqa: F401 (a fixture)
from tests.signing_many import ManyWaiting, decisions_waiting
from tests.signing_support import HOLDER, p12_of
from tests.signing_world import SIGNED_ON

pytestmark = pytest.mark.slow
BATCH = "/console/signing/batch"


@pytest.fixture
def many(settings: Settings, worlds: Worlds, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> ManyWaiting:  # noqa: F811
    found = decisions_waiting(settings, worlds, pki, monkeypatch, "KYSO-NHIEU")
    monkeypatch.setattr("services.entry.cli.documents.get_settings", lambda: found.settings)
    monkeypatch.delenv("KIEMTRA_SIGNING_PASSPHRASE", raising=False)
    return found


@pytest.fixture
def url(many: ManyWaiting) -> Iterator[str]:
    with serving(many.settings) as served:
        yield served


def decisions(settings: Settings) -> list[Document]:
    with session_scope(settings) as session:
        rows = list(session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION)
                                 .order_by(col(Document.seq))).all())
        session.expunge_all()
        return rows


def states(many: ManyWaiting) -> list[tuple[SigningState, str]]:
    with session_scope(many.settings) as session:
        return [(r.state, r.last_error) for r in (session.get(SigningRequest, i) for i in many.request_ids) if r is not None]


def issued_in_order(many: ManyWaiting, pki: TestPki) -> list[Document]:  # noqa: F811
    """Every draft issued, numbered one after the other in the order signed, each stored file's signatures valid."""
    docs = decisions(many.settings)
    assert len(docs) == len(many.request_ids)
    assert [doc.seq for doc in docs] == list(range(docs[0].seq, docs[0].seq + len(docs)))  # gap-free
    assert [doc.number.split("/")[0] for doc in docs] == [f"{doc.seq:02d}" for doc in docs]
    assert all(doc.issued_on == SIGNED_ON for doc in docs)
    with session_scope(many.settings) as session:
        linked = [session.get(SigningRequest, i).document_id for i in many.request_ids]  # type: ignore[union-attr]
    assert linked == [doc.id for doc in docs]  # the numbers follow the order signed
    for doc in docs:
        check = verify_pdf((many.settings.documents_path / doc.path).read_bytes(), [pki.root])
        assert check.ok and len(check.signatures) == 2 and check.signatures[0].signer == HOLDER, check.summary
    return docs


def login(http: httpx.Client, url: str, many: ManyWaiting) -> str:
    console_login(http, url, many.official, many.tokens[many.official])
    page = http.get(f"{url}/console/signing")
    assert page.status_code == 200 and 'action="/console/signing/batch"' in page.text
    assert "Ký số các văn bản đã chọn" in page.text
    for request_id in many.request_ids:  # one ticked checkbox per draft, labelled with its title
        assert re.search(rf'name="chon_{request_id}" value="1" checked>\s*<label for="chon-{request_id}">Quyết định xử phạt',
                         page.text), page.text[-4000:]
    return page.text


def chosen(token: str, ids: list[int], passphrase: str) -> dict[str, str]:
    return {"csrf": token, **{f"chon_{i}": "1" for i in ids}, "mat_khau": passphrase}


def test_the_official_signs_the_chosen_drafts_at_once(many: ManyWaiting, url: str, pki: TestPki) -> None:  # noqa: F811
    with httpx.Client(timeout=300) as http:
        page = login(http, url, many)
        token = csrf_of(page, 1)  # the batch form comes before the drafts' own forms
        done = http.post(f"{url}{BATCH}", data=chosen(token, many.request_ids, PASSPHRASE), follow_redirects=False)
        assert done.status_code == 303, done.text[-3000:]
        shown = http.get(url + done.headers["location"])
    docs = issued_in_order(many, pki)
    assert [s for s, _ in states(many)] == [SigningState.ISSUED] * len(docs)
    assert f"Kết quả ký số {len(docs)} văn bản: {len(docs)} đã ban hành." in shown.text, shown.text[-3000:]
    for doc in docs:
        assert f"số {doc.number}, ngày {doc.issued_on:%d/%m/%Y}" in shown.text and f'href="/console/documents/{doc.id}"' in shown.text
    assert 'action="/console/signing/batch"' not in shown.text and "Không có dự thảo nào đang chờ." in shown.text


def test_a_wrong_passphrase_signs_nothing_and_says_so_once(many: ManyWaiting, url: str) -> None:
    with httpx.Client(timeout=300) as http:
        page = login(http, url, many)
        wrong = http.post(f"{url}{BATCH}", data=chosen(csrf_of(page, 1), many.request_ids, "sai-mật-khẩu"),
                          follow_redirects=False)
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text and "sai-mật-khẩu" not in wrong.text
    errors = re.search(r'<div class="errors" role="alert" id="loi">.*?</ul>', wrong.text, re.S)
    assert errors is not None and errors.group(0).count("<li>") == 1 and "sai mật khẩu" in errors.group(0), wrong.text[-3000:]
    assert re.search(r'id="mat-khau-nhieu"[^>]*aria-invalid="true"', wrong.text)
    assert decisions(many.settings) == []
    found = states(many)
    assert [s for s, _ in found] == [SigningState.AWAITING_SIGNATURE] * len(found)
    assert found[0][1].startswith("Không ký được") and [e for _, e in found[1:]] == [""] * (len(found) - 1)


def test_a_draft_of_another_official_refuses_the_whole_batch(many: ManyWaiting, url: str) -> None:
    with session_scope(many.settings) as session:
        theirs = session.get(SigningRequest, many.request_ids[0])
        other = session.exec(select(Person).where(Person.role == PersonRole.OFFICIAL, Person.code != many.official)
                             .order_by(col(Person.code))).first()
        assert theirs is not None and other is not None
        foreign = SigningRequest(doc_type=DocumentType.SANCTION_DECISION, subject_key="inspection:khac",
                                 campaign_id=theirs.campaign_id, issuer_code=theirs.issuer_code, issuer_name=theirs.issuer_name,
                                 place=theirs.place, symbol=theirs.symbol, template=theirs.template,
                                 template_version=theirs.template_version, title="Quyết định xử phạt — của người khác",
                                 drafted_on=theirs.drafted_on, signer_code=other.code, signer_name=other.full_name,
                                 signer_title=other.title, draft_path=theirs.draft_path, draft_sha256=theirs.draft_sha256,
                                 requested_by="SNV-LEAD")
        session.add(foreign)
        session.flush()
        foreign_id = foreign.id or 0
    with session_scope(many.settings) as session:
        audit_before = count(session, AuditEvent)
    with httpx.Client(timeout=300) as http:
        page = login(http, url, many)
        refused = http.post(f"{url}{BATCH}", data=chosen(csrf_of(page, 1), [*many.request_ids, foreign_id], PASSPHRASE),
                            follow_redirects=False)
        assert refused.status_code == 403 and f"dự thảo số {foreign_id} không phải của ông/bà" in refused.text, refused.text[-2000:]
        unknown = http.post(f"{url}{BATCH}", data=chosen(csrf_of(page, 1), [2_000_000], PASSPHRASE), follow_redirects=False)
        assert unknown.status_code == 403
        forged = http.post(f"{url}{BATCH}", data=chosen("x" * 64, many.request_ids, PASSPHRASE), follow_redirects=False)
        assert forged.status_code == 403
        none = http.post(f"{url}{BATCH}", data=chosen(csrf_of(page, 1), [], PASSPHRASE), follow_redirects=False)
        assert none.status_code == 422 and "Chưa chọn văn bản nào" in none.text
    assert decisions(many.settings) == []
    assert [s for s, _ in states(many)] == [SigningState.AWAITING_SIGNATURE] * len(many.request_ids)
    with session_scope(many.settings) as session:
        assert count(session, AuditEvent) == audit_before


def test_the_form_and_its_results_in_chromium(many: ManyWaiting, url: str, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser_login(browser, url, many.official, many.tokens[many.official])
    at_width(browser, 360)
    browser.get(f"{url}/console/signing")
    wait_loaded(browser)
    boxes = browser.find_elements(By.CSS_SELECTOR, "#ky-nhieu input[type=checkbox]")
    assert len(boxes) == len(many.request_ids) and all(box.is_selected() for box in boxes)
    no_horizontal_scroll(browser)
    assert axe_violations(browser) == []
    browser.find_element(By.ID, "mat-khau-nhieu").send_keys(PASSPHRASE)
    browser.find_element(By.ID, "nut-ky-nhieu").click()
    WebDriverWait(browser, 120).until(lambda d: d.find_elements(By.ID, "ket-qua-ky-nhieu"))  # signed, then redirected
    wait_loaded(browser)
    result = browser.find_element(By.ID, "ket-qua-ky-nhieu").text
    assert f"{len(many.request_ids)} đã ban hành" in result, result
    no_horizontal_scroll(browser)
    assert axe_violations(browser) == []
    assert screenshot(browser, tmp_path / "ky-nhieu-360.png").stat().st_size > 5_000


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["documents", *args], terminal_width=200)
    return result.exit_code, result.output


def test_the_cli_signs_every_waiting_draft_with_all(many: ManyWaiting, pki: TestPki,  # noqa: F811
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    p12 = str(p12_of(many.settings, many.official))
    code, out = run("sign", "--by", many.official, "--pkcs12", p12)
    assert code == 1 and "--all" in out, out
    code, out = run("sign", str(many.request_ids[0]), "--all", "--by", many.official, "--pkcs12", p12)
    assert code == 1 and "không dùng cả hai" in " ".join(out.split()), out
    monkeypatch.setenv("KIEMTRA_SIGNING_PASSPHRASE", "sai-mat-khau")
    code, out = run("sign", "--all", "--by", many.official, "--pkcs12", p12)
    assert code == 1 and "sai mật khẩu" in " ".join(out.split()) and "sai-mat-khau" not in out, out
    assert decisions(many.settings) == []
    code, out = run("sign", "--all", "--by", "SNV-TT01", "--pkcs12", p12)
    assert code == 1 and "Không có dự thảo nào đang chờ SNV-TT01 ký" in " ".join(out.split()), out

    monkeypatch.setenv("KIEMTRA_SIGNING_PASSPHRASE", PASSPHRASE)
    code, out = run("sign", "--all", "--by", many.official, "--pkcs12", p12)
    assert code == 0, out
    docs = issued_in_order(many, pki)
    lines = [line for line in out.splitlines() if "đã ban hành số" in line]
    assert len(lines) == len(docs) and f"Đã ban hành {len(docs)}/{len(docs)} văn bản." in out, out
    for line, request_id, doc in zip(lines, many.request_ids, docs, strict=True):
        assert line.startswith(f"{request_id}: đã ban hành số {doc.number}, ngày {SIGNED_ON:%d/%m/%Y}"), line
    code, out = run("sign", *map(str, many.request_ids), "--by", many.official, "--pkcs12", p12)
    assert code == 1 and out.count("CHƯA ban hành") == len(docs) and "không còn chờ ký" in out, out
