"""``kiemtra documents awaiting-signature``, ``sign``, ``refuse-signing`` and ``issue-signed`` (issue 17) through typer's
CliRunner, on a sanction decision waiting for its official's digital signature (tests/signing_world.py)."""
from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from models import Document, DocumentType, SigningState
from services.db import session_scope
from services.documents.signing import verify_pdf
from services.entry.cli.app import app
from services.settings import Settings
from tests.conftest import Worlds
from tests.pki_support import PASSPHRASE, TestPki, pki  # noqa: F401 (a fixture)
from tests.signing_support import p12_of
from tests.signing_world import Waiting, decision_waiting, request_of

pytestmark = pytest.mark.slow
CODE = "KYSO-CLI"


@pytest.fixture
def waiting(settings: Settings, worlds: Worlds, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> Waiting:  # noqa: F811
    found = decision_waiting(settings, worlds, pki, monkeypatch, CODE)
    monkeypatch.setattr("services.entry.cli.documents.get_settings", lambda: found.settings)
    monkeypatch.delenv("KIEMTRA_SIGNING_PASSPHRASE", raising=False)
    return found


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["documents", *args], terminal_width=200)
    return result.exit_code, result.output


def test_listed_then_signed_with_a_pkcs12_file_and_issued(waiting: Waiting, pki: TestPki,  # noqa: F811
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run("awaiting-signature", "--by", waiting.official)
    assert code == 0 and str(waiting.request_id) in out and "Quyết định xử phạt" in out and "chờ ký" in out, out
    code, out = run("awaiting-signature", "--by", "SNV-TT01")
    assert code == 0 and "Không có dự thảo nào" in out, out

    p12 = str(p12_of(waiting.settings, waiting.official))
    monkeypatch.setenv("KIEMTRA_SIGNING_PASSPHRASE", "sai-mat-khau")
    code, out = run("sign", str(waiting.request_id), "--by", waiting.official, "--pkcs12", p12)
    assert code == 1 and "sai mật khẩu" in " ".join(out.split()) and "sai-mat-khau" not in out, out
    assert request_of(waiting).state == SigningState.AWAITING_SIGNATURE
    code, out = run("sign", str(waiting.request_id), "--by", "SNV-TT01", "--pkcs12", p12)
    assert code == 1 and "Chỉ" in out and "được ký" in out, out

    monkeypatch.setenv("KIEMTRA_SIGNING_PASSPHRASE", PASSPHRASE)
    code, out = run("sign", str(waiting.request_id), "--by", waiting.official, "--pkcs12", p12)
    assert code == 0 and "Đã ban hành văn bản số" in out, out
    with session_scope(waiting.settings) as session:
        (doc,) = session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION)).all()
        assert doc.number in out
        stored = (waiting.settings.documents_path / doc.path).read_bytes()
    check = verify_pdf(stored, [pki.root])
    assert check.ok and len(check.signatures) == 2, check.summary
    assert request_of(waiting).state == SigningState.ISSUED
    code, out = run("issue-signed", str(waiting.request_id), "--by", "SNV-VT")  # a retry finds it issued
    assert code == 0 and doc.number in out, out


def test_refusing_needs_a_reason(waiting: Waiting) -> None:
    rid = str(waiting.request_id)
    for blank in ("", "   "):
        code, out = run("refuse-signing", rid, "--by", waiting.official, "--reason", blank)
        assert code == 1 and "Phải ghi lý do từ chối ký" in out, out
    code, out = run("refuse-signing", rid, "--by", waiting.official, "--reason", "Sai\x00 mức phạt")
    assert code == 1 and "--reason" in out, out
    assert request_of(waiting).state == SigningState.AWAITING_SIGNATURE
    code, out = run("refuse-signing", rid, "--by", waiting.official, "--reason", "Mức phạt chưa đúng, đề nghị soạn lại.")
    assert code == 0 and "Đã từ chối ký" in out, out
    request = request_of(waiting)
    assert request.state == SigningState.REFUSED and request.refusal_reason == "Mức phạt chưa đúng, đề nghị soạn lại."
    code, out = run("issue-signed", rid, "--by", "SNV-VT")
    assert code == 1 and "chưa được người có thẩm quyền ký" in out, out
