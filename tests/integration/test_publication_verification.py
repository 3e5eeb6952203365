"""A sanction decision's stored file is checked before it is published (issue 17): its SHA-256 against the one
recorded at issue and, when it carries signatures, each of them valid at PAdES B-LT against the configured trust roots.

World (built once, copied per test): a campaign with one inspection visited, recorded and decided (its sanction
decision issued, unsigned), not yet published. The signed cases store the decision's bytes signed with the tests'
certomancer PKI (tests/pki_support.py) as a new revision with its own Document row (as
tests/integration/test_documents_verify.py does): a revoked signer's signature, a valid B-LT one, a byte changed after
signing. A file that fails is not published nor queued for the portal, the reason is recorded on the inspection (shown
by ``campaign status``) with a stored ``DocumentVerification``; the fixed file publishes on the next run; the public
register shows each published decision's SHA-256 and the date its file was checked.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from asn1crypto import pem
from sqlmodel import col, select

from models import Document, DocumentType, DocumentVerification, Inspection, InspectionStatus, PortalMessage, Publication
from models.base import utcnow
from services.db import session_scope
from services.documents.issuing import latest_document
from services.documents.signing import Appearance, attachment_box, sign_pdf, validation_context
from services.publishing import register
from services.rules.calendar import VIETNAM
from services.settings import Settings
from services.stages import publishing, status
from tests.cases import approve_and_draw_up, complex_case, decide, visit
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections
from tests.pki_support import TestPki, pki  # noqa: F401 (a fixture)

CODE = "PUB-VER"
VISIT, DECIDED = date(2026, 4, 29), date(2026, 5, 18)
INSPECTOR = "SNV-TT01"


def decided_world(settings: Settings) -> dict[str, object]:
    """One inspection sanctioned (decision issued, unsigned), waiting for publication; the people's tokens."""
    tokens = create_scheduled_campaign(settings, code=CODE, establishments=200, quota=4, teams=1)
    inspection_id = team_inspections(settings)[INSPECTOR][0]
    visit(settings, inspection_id, on=VISIT, client_id="pub-ver-0001", inspector=INSPECTOR)
    approve_and_draw_up(settings, inspection_id, VISIT)
    complex_case(settings, inspection_id)
    decide(settings, inspection_id, DECIDED)
    return {"inspection_id": inspection_id, "tokens": tokens}


@dataclass
class World:
    settings: Settings
    inspection_id: int
    tokens: dict[str, str]

    def decision(self) -> Document:
        with session_scope(self.settings) as session:
            found = latest_document(session, doc_type=DocumentType.SANCTION_DECISION,
                                    subject_key=f"inspection:{self.inspection_id}")
            assert found is not None
            session.expunge(found)
            return found

    def path(self, document: Document) -> Path:
        return self.settings.documents_path / document.path

    def with_roots(self, pki: TestPki) -> Settings:  # noqa: F811
        root = self.settings.data_dir / "root-ca.pem"
        root.write_bytes(pem.armor("CERTIFICATE", pki.root.dump()))
        return self.settings.model_copy(update={"signing_trust_roots": (root,)})


@pytest.fixture
def world(settings: Settings, worlds: Worlds) -> World:
    built = worlds.copy(settings, decided_world)
    return World(settings, int(built["inspection_id"]), dict(built["tokens"]))


def flip_byte(path: Path, marker: bytes = b"") -> None:
    """One bit of one byte changed (inside ``marker``'s neighbourhood when given, else in the middle)."""
    data = bytearray(path.read_bytes())
    at = data.index(marker) + 10 if marker else len(data) // 2
    data[at] = ord("X") if data[at] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))


def signed_revision(world: World, pki: TestPki, label: str, *, check_revocation: bool = True) -> Document:  # noqa: F811
    """The decision's bytes signed by ``label`` (B-LT), stored as the decision's next revision with its own row.
    ``check_revocation=False``: signed by a tool that did not check the signer (how a revoked signer's signature
    could come to exist)."""
    from pyhanko_certvalidator import ValidationContext

    original = world.decision()
    unsigned = world.path(original).read_bytes()
    context = (validation_context([pki.root]) if check_revocation else
               ValidationContext(trust_roots=[pki.root], allow_fetching=False, revocation_mode="soft-fail"))
    signed = sign_pdf(unsigned, pki.key(label), field="ChuKy", box=attachment_box(unsigned), page=0,
                      appearance=Appearance.attachment("Sở Nội vụ tỉnh Cao Bằng", original.number),
                      timestamper_url=pki.tsa_url, validation_context=context)
    path = Path(original.path).with_name(f"signed-{label}-{Path(original.path).name}")
    (world.settings.documents_path / path).write_bytes(signed)
    same = {name: getattr(original, name) for name in ("doc_type", "subject_key", "issuer_code", "year", "campaign_id",
                                                       "inspection_id", "template_version", "issued_by", "issued_on")}
    with session_scope(world.settings) as session:
        row = Document(**same, seq=original.seq + 900, number=f"{original.seq + 900}/QĐ-KÝ-SỐ",
                       revision=original.revision + 1, supersedes_id=original.id, path=path.as_posix(),
                       size=len(signed), sha256=hashlib.sha256(signed).hexdigest())
        session.add(row)
        session.flush()
        session.expunge(row)
    return row


def publish(world: World, settings: Settings | None = None) -> list[int]:
    """The publishing stage over the world's inspection; the inspections it failed on."""
    result = publishing.publish_outcomes(settings or world.settings, CODE, [world.inspection_id])
    return result.failed


def checks(world: World, document: Document) -> list[DocumentVerification]:
    with session_scope(world.settings) as session:
        rows = list(session.exec(select(DocumentVerification).where(DocumentVerification.document_id == document.id)
                                 .order_by(col(DocumentVerification.id))).all())
        session.expunge_all()
        return rows


def assert_not_published(world: World, *reasons: str) -> str:
    """Nothing published or queued, the inspection still waiting, the reason in ``campaign status``; returns it."""
    with session_scope(world.settings) as session:
        assert session.exec(select(Publication)).first() is None
        assert session.exec(select(PortalMessage)).first() is None
        inspection = session.get(Inspection, world.inspection_id)
        assert inspection is not None and inspection.status == InspectionStatus.SANCTIONED
    [failure] = status.campaign_status(world.settings, CODE)["failures"]
    assert failure["inspection_id"] == world.inspection_id
    assert "publish-outcomes" in failure["reason"] and "tệp lưu trữ không đạt kiểm tra" in failure["reason"]
    for reason in reasons:
        assert reason in failure["reason"], failure["reason"]
    waiting = status.campaign_status(world.settings, CODE)["waiting_for"]
    assert any("tệp lưu trữ không đạt kiểm tra" in line for line in waiting)
    return str(failure["reason"])


def assert_published(world: World, document: Document) -> None:
    with session_scope(world.settings) as session:
        [publication] = session.exec(select(Publication)).all()
        assert publication.document_id == document.id
        assert session.exec(select(PortalMessage)).first() is not None
        inspection = session.get(Inspection, world.inspection_id)
        assert inspection is not None and inspection.status == InspectionStatus.CLOSED
    assert status.campaign_status(world.settings, CODE)["failures"] == []


def test_an_unsigned_decision_with_its_hash_publishes_and_the_register_shows_the_check(world: World) -> None:
    decision = world.decision()
    assert publish(world) == []
    assert_published(world, decision)
    [check] = checks(world, decision)
    assert (check.ok, check.hash_ok, check.signatures, check.level) == (True, True, 0, None)
    assert check.summary == "Khớp tệp, chưa ký số"
    [row] = register.register_rows(world.settings)
    checked_on = check.checked_at.astimezone(VIETNAM).date().isoformat()
    assert row["ma_bam_sha256"] == decision.sha256 and row["ngay_kiem_tra_tep"] == checked_on
    page = (world.settings.documents_path / "public" / "index.html").read_text(encoding="utf-8")
    # the date is printed for a citizen; the SHA-256 travels in the open data (the page row carries it as data only)
    assert "Bản lưu của quyết định được đối chiếu ngày <time" in page
    assert f'data-key="ma_bam_sha256" data-value="{decision.sha256}"></span>' in page
    assert f">{decision.sha256}<" not in page
    assert f'data-key="ngay_kiem_tra_tep" data-value="{checked_on}"' in page
    assert publish(world) == [] and len(checks(world, decision)) == 1  # published already: not checked again


def test_a_byte_changed_is_not_published_and_the_restored_file_is(world: World) -> None:
    decision = world.decision()
    original = world.path(decision).read_bytes()
    flip_byte(world.path(decision))
    assert publish(world) == [world.inspection_id]
    assert_not_published(world, f"Không công khai quyết định số {decision.number}", "đã bị thay đổi")
    [check] = checks(world, decision)
    assert not check.ok and not check.hash_ok and check.summary.startswith("KHÔNG hợp lệ: ")
    assert register.register_rows(world.settings) == []
    world.path(decision).write_bytes(original)  # the fix: the issued bytes back from the backup
    assert publish(world) == []
    assert_published(world, decision)
    assert [c.ok for c in checks(world, decision)] == [False, True]


def test_a_revoked_signers_signature_is_not_published(world: World, pki: TestPki) -> None:  # noqa: F811
    signed = signed_revision(world, pki, "thu-hoi", check_revocation=False)
    with_roots = world.with_roots(pki)
    assert publish(world, with_roots) == [world.inspection_id]
    assert_not_published(world, f"Không công khai quyết định số {signed.number}",
                         "Nông Văn Thu: chứng thư số của người ký đã bị thu hồi từ ngày 01/06/2025")
    [check] = checks(world, signed)
    assert (check.ok, check.hash_ok, check.signatures, check.level) == (False, True, 1, None)
    assert check.summary.startswith("KHÔNG hợp lệ: Chữ ký không hợp lệ: ") and "đã bị thu hồi" in check.summary
    with session_scope(world.settings) as session:
        assert session.exec(select(DocumentVerification).where(col(DocumentVerification.ok).is_(True))).first() is None


def test_a_valid_b_lt_signature_publishes_once_trust_roots_are_configured(world: World, pki: TestPki) -> None:  # noqa: F811
    signed = signed_revision(world, pki, "giam-doc")
    assert publish(world) == [world.inspection_id]  # signed, but no trust root configured: not published, said so
    assert_not_published(world, "chưa cấu hình chứng thư gốc tin cậy (KIEMTRA_SIGNING_TRUST_ROOTS)")
    assert publish(world, world.with_roots(pki)) == []
    assert_published(world, signed)
    first, last = checks(world, signed)
    assert not first.ok and "chưa cấu hình chứng thư gốc tin cậy" in first.summary
    assert (last.ok, last.hash_ok, last.signatures, last.level) == (True, True, 1, "B-LT")
    assert last.summary == "Chữ ký hợp lệ (PAdES B-LT)"
    [row] = register.register_rows(world.settings)
    assert row["so_quyet_dinh"] == signed.number and row["ma_bam_sha256"] == signed.sha256
    assert row["ngay_kiem_tra_tep"] == last.checked_at.astimezone(VIETNAM).date().isoformat()


def test_a_byte_changed_after_signing_is_not_published(world: World, pki: TestPki) -> None:  # noqa: F811
    signed = signed_revision(world, pki, "giam-doc")
    flip_byte(world.path(signed), b"/Title")  # in the document information, covered by the signature
    assert publish(world, world.with_roots(pki)) == [world.inspection_id]
    assert_not_published(world, "đã bị thay đổi", "nội dung văn bản đã bị thay đổi sau khi ký")
    [check] = checks(world, signed)
    assert not check.ok and not check.hash_ok and check.signatures == 1


def test_a_failure_is_listed_until_the_run_that_publishes(world: World) -> None:
    """The reason stays in ``campaign status`` (newest failure first wins) until a later run publishes."""
    decision = world.decision()
    original = world.path(decision).read_bytes()
    world.path(decision).unlink()
    assert publish(world) == [world.inspection_id]
    assert_not_published(world, "không tìm thấy tệp")
    assert publish(world) == [world.inspection_id]  # still missing: a second row, the same reason
    assert len(checks(world, decision)) == 2
    world.path(decision).write_bytes(original)
    assert publish(world) == []
    assert_published(world, decision)
    assert utcnow() >= checks(world, decision)[-1].checked_at
