"""The official's digital signature over the API (services/entry/http/signing_api.py; issue 17): hash-only signing end
to end — the draft prepared with the official's certificate, ``to_sign`` signed outside the server (``cryptography``
with the test PKI's key, as a USB token or a signing service would), the signature sent back, and the decision
numbered, sealed and issued at once; a signature by another key refused with nothing issued; other people refused."""
from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from asn1crypto import pem
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlmodel import select

from models import Document, DocumentType, Inspection, InspectionStatus, SigningRequest, SigningState
from services.db import session_scope
from services.documents.signing import verify_pdf
from services.entry.http.server import start_in_thread
from services.settings import Settings
from tests.conftest import Worlds
from tests.pki_support import TestPki, pki  # noqa: F401 (a fixture)
from tests.signing_world import Waiting, decision_waiting, request_of

pytestmark = pytest.mark.slow
CODE = "KYSO-API"


@pytest.fixture
def waiting(settings: Settings, worlds: Worlds, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> Waiting:  # noqa: F811
    return decision_waiting(settings, worlds, pki, monkeypatch, CODE)


@pytest.fixture
def http(waiting: Waiting) -> Iterator[httpx.Client]:
    server = start_in_thread(waiting.settings)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            yield client
    finally:
        server.stop()


def auth(waiting: Waiting, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {waiting.tokens[code]}"}


def certificate_pem(pki: TestPki, label: str) -> str:  # noqa: F811
    return pem.armor("CERTIFICATE", pki.cert(label).dump()).decode()


def signed_elsewhere(pki: TestPki, label: str, to_sign_b64: str) -> str:  # noqa: F811
    key = serialization.load_pem_private_key(pki.private_key_pem(label), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(base64.b64decode(to_sign_b64), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def prepared(http: httpx.Client, waiting: Waiting, pki: TestPki) -> dict[str, str]:  # noqa: F811
    body = {"certificate_pem": certificate_pem(pki, "giam-doc"), "chain_pem": certificate_pem(pki, "interm")}
    answer = http.post(f"/api/signing/{waiting.request_id}/prepare", headers=auth(waiting, waiting.official), json=body)
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["algorithm"] == "sha256WithRSAEncryption" and len(base64.b64decode(out["digest"])) == 32
    return out


def decisions_issued(waiting: Waiting) -> list[Document]:
    with session_scope(waiting.settings) as session:
        return list(session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION)).all())


def test_hash_only_signing_issues_the_decision(http: httpx.Client, waiting: Waiting, pki: TestPki) -> None:  # noqa: F811
    listed = http.get("/api/signing", headers=auth(waiting, waiting.official))
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()
    assert row["id"] == waiting.request_id and row["state"] == "awaiting_signature" and row["drafted_on"] == "2026-05-11"
    assert row["title"].startswith("Quyết định xử phạt") and row["last_error"] == ""
    draft = http.get(f"/api/signing/{waiting.request_id}/draft", headers=auth(waiting, waiting.official))
    assert draft.status_code == 200 and draft.headers["content-type"] == "application/pdf" and draft.content[:5] == b"%PDF-"
    assert http.get(f"/api/signing/{waiting.request_id}/draft", headers=auth(waiting, "SNV-LEAD")).status_code == 200

    out = prepared(http, waiting, pki)
    done = http.post(f"/api/signing/{waiting.request_id}/complete", headers=auth(waiting, waiting.official),
                     json={"signature": signed_elsewhere(pki, "giam-doc", out["to_sign"])})
    assert done.status_code == 200, done.text
    result = done.json()
    (doc,) = decisions_issued(waiting)
    assert result["state"] == "issued" and result["number"] == doc.number and result["issued_on"] == "2026-05-11"
    assert result["document_url"] == f"/console/documents/{doc.id}"
    stored = (waiting.settings.documents_path / doc.path).read_bytes()
    check = verify_pdf(stored, [pki.root])
    assert check.ok and len(check.signatures) == 2 and check.level == "B-LT", check.summary
    with session_scope(waiting.settings) as session:
        inspection = session.get(Inspection, waiting.inspection_id)
        assert inspection is not None and inspection.status == InspectionStatus.SANCTIONED
    assert http.get("/api/signing", headers=auth(waiting, waiting.official)).json() == []


def test_a_signature_by_another_key_is_refused_and_nothing_issued(http: httpx.Client, waiting: Waiting,
                                                                  pki: TestPki) -> None:  # noqa: F811
    out = prepared(http, waiting, pki)
    wrong = http.post(f"/api/signing/{waiting.request_id}/complete", headers=auth(waiting, waiting.official),
                      json={"signature": signed_elsewhere(pki, "so-noi-vu", out["to_sign"])})
    assert wrong.status_code in (409, 422), wrong.text
    assert "không khớp với chứng thư của người ký" in wrong.json()["detail"]
    assert decisions_issued(waiting) == []
    with session_scope(waiting.settings) as session:
        request = session.get(SigningRequest, waiting.request_id)
        assert request is not None and request.state == SigningState.AWAITING_SIGNATURE
        assert "không khớp với chứng thư của người ký" in request.last_error
    (row,) = http.get("/api/signing", headers=auth(waiting, waiting.official)).json()
    assert "không khớp" in row["last_error"]


def test_other_people_are_refused(http: httpx.Client, waiting: Waiting, pki: TestPki) -> None:  # noqa: F811
    rid = waiting.request_id
    body = {"certificate_pem": certificate_pem(pki, "giam-doc")}
    other = next(c for c in waiting.tokens if c.startswith("SNV-") and c not in (waiting.official, "SNV-LEAD", "SNV-TT01"))
    for code in ("SNV-TT01", other):  # not theirs: the answer of an id that does not exist
        for path in (f"/api/signing/{rid}/draft", f"/api/signing/{2_000_000_000}/draft"):
            answer = http.get(path, headers=auth(waiting, code))
            assert answer.status_code == 404 and answer.json()["detail"].startswith("Không tìm thấy dự thảo"), answer.text
        assert http.post(f"/api/signing/{rid}/prepare", headers=auth(waiting, code), json=body).status_code == 404
        assert http.get("/api/signing", headers=auth(waiting, code)).json() == []
    lead = auth(waiting, "SNV-LEAD")  # may read the draft, not sign or refuse it
    assert http.post(f"/api/signing/{rid}/prepare", headers=lead, json=body).status_code == 403
    assert http.post(f"/api/signing/{rid}/refuse", headers=lead, json={"reason": "Không đồng ý"}).status_code == 403
    damaged = http.post(f"/api/signing/{rid}/prepare", headers=auth(waiting, waiting.official),
                        json={"certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"})
    assert damaged.status_code == 422 and damaged.json()["errors"] == [
        "certificate_pem: không đọc được chứng thư số (PEM hỏng hoặc không phải chứng thư)"], damaged.text
    assert request_of(waiting).remote == {}  # nothing of the attempt kept
    blank = http.post(f"/api/signing/{rid}/refuse", headers=auth(waiting, waiting.official), json={"reason": "   "})
    assert blank.status_code == 422 and blank.json()["errors"] == ["reason: phải ghi lý do từ chối ký"], blank.text
    refused = http.post(f"/api/signing/{rid}/refuse", headers=auth(waiting, waiting.official),
                        json={"reason": "Mức phạt chưa đúng, đề nghị soạn lại."})
    assert refused.status_code == 200 and refused.json()["state"] == "refused", refused.text
    assert decisions_issued(waiting) == []
