"""Where stored document checks show (issue 17): ``kiemtra documents verify`` stores one ``DocumentVerification`` per
document it checks (its output and exit codes as before), the console's documents library shows each document's latest
check ("Chưa kiểm tra", "Khớp tệp, chưa ký số", "Chữ ký hợp lệ (PAdES B-LT)", "KHÔNG hợp lệ: …"), and
``kiemtra documents unused-numbers`` lists the numbers reserved but never issued.

World: the one of tests/integration/test_publication_verification.py (a decided inspection, its records and decision
issued, unsigned), copied per test.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import httpx
import pytest
from asn1crypto import pem
from sqlmodel import col, select
from typer.testing import CliRunner

from models import Document, DocumentType, DocumentVerification, NumberReservation, ReservationState
from models.base import utcnow
from services.db import session_scope
from services.documents.numbering import reservation_line
from services.settings import Settings, get_settings
from tests.conftest import Worlds
from tests.console_support import console_login, serving
from tests.integration.test_publication_verification import World, decided_world, flip_byte, signed_revision
from tests.pki_support import TestPki, pki  # noqa: F401 (a fixture)

CODE = "PUB-VER"


@pytest.fixture
def world(settings: Settings, worlds: Worlds, monkeypatch: pytest.MonkeyPatch) -> World:
    built = worlds.copy(settings, decided_world)
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    monkeypatch.delenv("KIEMTRA_SIGNING_TRUST_ROOTS", raising=False)
    get_settings.cache_clear()
    return World(settings, int(built["inspection_id"]), dict(built["tokens"]))


def cli(*argv: str, code: int = 0) -> str:
    from services.entry.cli.app import app

    result = CliRunner().invoke(app, ["documents", *argv])
    assert result.exit_code == code, result.output
    assert unicodedata.is_normalized("NFC", result.output)
    return result.output


def documents(settings: Settings) -> list[Document]:
    with session_scope(settings) as session:
        rows = list(session.exec(select(Document).order_by(col(Document.id))).all())
        session.expunge_all()
        return rows


def stored_checks(settings: Settings) -> list[DocumentVerification]:
    with session_scope(settings) as session:
        rows = list(session.exec(select(DocumentVerification).order_by(col(DocumentVerification.id))).all())
        session.expunge_all()
        return rows


def trust(world: World, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    root = world.settings.data_dir / "root-ca.pem"
    root.write_bytes(pem.armor("CERTIFICATE", pki.root.dump()))
    monkeypatch.setenv("KIEMTRA_SIGNING_TRUST_ROOTS", f'["{root}"]')
    get_settings.cache_clear()


def test_verify_stores_one_row_per_document_checked(world: World) -> None:
    docs = documents(world.settings)
    assert len(docs) >= 3
    output = cli("verify", "--campaign", CODE)
    assert f"Đã kiểm tra {len(docs)} văn bản: {len(docs)} đạt, 0 không đạt." in output
    rows = stored_checks(world.settings)
    assert sorted(r.document_id for r in rows) == sorted(d.id for d in docs)
    assert all(r.ok and r.hash_ok and r.signatures == 0 and r.summary == "Khớp tệp, chưa ký số" for r in rows)
    changed = docs[0]
    flip_byte(world.settings.documents_path / changed.path)
    output = cli("verify", "--number", changed.number, code=1)
    assert "Đã kiểm tra 1 văn bản: 0 đạt, 1 không đạt." in output
    last = stored_checks(world.settings)[-1]
    assert len(stored_checks(world.settings)) == len(docs) + 1 and last.document_id == changed.id
    assert not last.ok and not last.hash_ok and last.summary.startswith("KHÔNG hợp lệ: tệp ")
    cli("verify", "--number", "999/KHONG-CO", code=1)  # nothing checked: nothing stored
    assert len(stored_checks(world.settings)) == len(docs) + 1


def _cell(page: str, document_id: int) -> str:
    found = re.search(rf'<td class="kiem-tra" data-document="{document_id}">(.*?)</td>', page, re.S)
    assert found, f"no check cell for document {document_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_console_library_shows_each_documents_latest_check(world: World, pki: TestPki,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    docs = documents(world.settings)
    decision = next(d for d in docs if d.doc_type == DocumentType.SANCTION_DECISION)
    record = next(d for d in docs if d.doc_type == DocumentType.VIOLATION_RECORD)
    unchecked = next(d for d in docs if d.id not in (decision.id, record.id))
    signed = signed_revision(world, pki, "giam-doc")
    trust(world, pki, monkeypatch)
    cli("verify", "--number", decision.number)
    assert "PAdES B-LT: hợp lệ" in cli("verify", "--number", signed.number)
    issued = (world.settings.documents_path / record.path).read_bytes()
    flip_byte(world.settings.documents_path / record.path)
    cli("verify", "--number", record.number, code=1)
    with serving(world.settings) as url, httpx.Client(timeout=120) as client:
        console_login(client, url, "SNV-LEAD", world.tokens["SNV-LEAD"])
        page = client.get(f"{url}/console/campaigns/{CODE}/documents")
    assert page.status_code == 200, page.text
    assert unicodedata.is_normalized("NFC", page.text)
    assert "<th scope=\"col\">Kiểm tra tệp</th>" in page.text
    assert _cell(page.text, unchecked.id or 0) == "Chưa kiểm tra"
    assert _cell(page.text, decision.id or 0).startswith("Khớp tệp, chưa ký số (")
    assert _cell(page.text, signed.id or 0).startswith("Chữ ký hợp lệ (PAdES B-LT) (")
    bad = _cell(page.text, record.id or 0)
    assert bad.startswith("KHÔNG hợp lệ: tệp ") and "đã bị thay đổi" in bad
    assert re.search(r"\(\d{2}/\d{2}/\d{4}\)$", bad)  # the date of the check
    # the latest check is the one shown: the record's bytes back, checked again
    (world.settings.documents_path / record.path).write_bytes(issued)
    cli("verify", "--number", record.number)
    with serving(world.settings) as url, httpx.Client(timeout=120) as client:
        console_login(client, url, "SNV-LEAD", world.tokens["SNV-LEAD"])
        again = client.get(f"{url}/console/campaigns/{CODE}/documents").text
    assert _cell(again, record.id or 0).startswith("Khớp tệp, chưa ký số (")


def _reserve(settings: Settings, seq: int, *, hours_ago: float, state: ReservationState) -> NumberReservation:
    with session_scope(settings) as session:
        row = NumberReservation(issuer_code="SNV", doc_type="minutes", year=2026, seq=900 + seq,
                                subject_key=f"inspection:{9000 + seq}", revision=1, state=state, reserved_by="thu",
                                reserved_at=utcnow() - timedelta(hours=hours_ago))
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


def test_unused_numbers_lists_the_reserved_numbers_never_issued(world: World) -> None:
    assert "Không có số nào đã giữ mà chưa ban hành." in cli("unused-numbers")
    old = _reserve(world.settings, 1, hours_ago=3, state=ReservationState.RESERVED)
    recent = _reserve(world.settings, 2, hours_ago=0.1, state=ReservationState.RESERVED)
    _reserve(world.settings, 3, hours_ago=3, state=ReservationState.USED)
    output = cli("unused-numbers", code=1)  # default: reserved at least an hour ago
    assert reservation_line(old) in output and "số 902" not in output and "số 903" not in output
    assert "Có 1 số đã giữ mà chưa ban hành." in output
    both = cli("unused-numbers", "--hours", "0", code=1)
    assert reservation_line(old) in both and reservation_line(recent) in both and "Có 2 số" in both
    assert "Không có số nào" in cli("unused-numbers", "--hours", "5")
    cli("unused-numbers", "--hours", "-1", code=2)

