"""``kiemtra documents verify`` (issue 17): each issued document's stored file against its recorded SHA-256 and, when the
file is signed, its signatures against the configured trust roots (``KIEMTRA_SIGNING_TRUST_ROOTS``).

World (built once, copied per test): a scheduled campaign whose schedule documents (the inspection decision, the teams'
plans, the notices) are issued, unsigned. The signed case signs one stored document's bytes with the tests' certomancer
PKI (tests/pki_support.py) and stores it as a new revision with its own Document row.
"""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import pem
from sqlmodel import col, select
from typer.testing import CliRunner

from models import Document
from services.db import session_scope
from services.documents.signing import Appearance, attachment_box, sign_pdf, validation_context
from services.settings import Settings, get_settings
from services.stages import schedule_docs
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign
from tests.pki_support import TestPki, pki  # noqa: F401 (a fixture)

CODE = "VER-01"


@dataclass(frozen=True)
class Stored:
    number: str
    path: Path
    doc_type: str


def issued_world(settings: Settings) -> None:
    create_scheduled_campaign(settings, code=CODE, establishments=200, quota=4, teams=1)
    schedule_docs.issue_schedule_documents(settings, CODE)


@pytest.fixture
def cli(settings: Settings, worlds: Worlds, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    worlds.copy(settings, issued_world)
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    monkeypatch.delenv("KIEMTRA_SIGNING_TRUST_ROOTS", raising=False)
    get_settings.cache_clear()
    return CliRunner()


def run(cli: CliRunner, *argv: str, code: int = 0) -> str:
    from services.entry.cli.app import app

    result = cli.invoke(app, ["documents", "verify", *argv])
    assert result.exit_code == code, result.output
    assert unicodedata.is_normalized("NFC", result.output)
    return result.output


def stored(settings: Settings) -> list[Stored]:
    with session_scope(settings) as session:
        rows = session.exec(select(Document).order_by(col(Document.id))).all()
        return [Stored(d.number, settings.documents_path / d.path, str(d.doc_type)) for d in rows]


def row_of(output: str, number: str) -> str:
    return next(line for line in output.splitlines() if f" {number} " in line)


def test_an_unsigned_world_passes_the_hash_check(cli: CliRunner, settings: Settings) -> None:
    documents = stored(settings)
    assert len(documents) >= 4
    output = run(cli, "--campaign", CODE)
    for document in documents:
        line = row_of(output, document.number)
        assert "khớp" in line and "KHÔNG" not in line and "chưa ký số" in line and "đạt" in line
    assert f"Đã kiểm tra {len(documents)} văn bản: {len(documents)} đạt, 0 không đạt." in output
    assert f"Đã kiểm tra {len(documents)} văn bản" in run(cli, "--all")
    one = run(cli, "--number", documents[0].number)
    assert "Đã kiểm tra 1 văn bản: 1 đạt" in one


def test_a_changed_or_missing_file_fails_naming_the_document(cli: CliRunner, settings: Settings) -> None:
    changed, missing, *others = stored(settings)
    data = bytearray(changed.path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte, one bit
    changed.path.write_bytes(bytes(data))
    missing.path.unlink()
    output = run(cli, "--campaign", CODE, code=1)
    assert "KHÔNG khớp" in row_of(output, changed.number) and "KHÔNG ĐẠT" in row_of(output, changed.number)
    assert f"Không đạt: văn bản số {changed.number}" in output and "đã bị thay đổi" in output
    assert f"Không đạt: văn bản số {missing.number}" in output and "không tìm thấy tệp" in output
    assert "KHÔNG có tệp" in row_of(output, missing.number) and "chưa ký số" not in row_of(output, missing.number)
    assert "2 không đạt" in output
    for other in others:
        assert "KHÔNG" not in row_of(output, other.number)
    run(cli, "--number", others[0].number)  # the others still pass on their own


def _signed_revision(settings: Settings, pki: TestPki) -> str:  # noqa: F811 (the fixture)
    """A stored document's bytes signed at PAdES B-LT by the organisation, stored as a new revision with its own row."""
    with session_scope(settings) as session:
        original = session.exec(select(Document).order_by(col(Document.id))).first()
        assert original is not None
        unsigned = (settings.documents_path / original.path).read_bytes()
        signed = sign_pdf(unsigned, pki.key("so-noi-vu"), field="ChuKyCoQuan", box=attachment_box(unsigned), page=0,
                          appearance=Appearance.attachment("Sở Nội vụ tỉnh Cao Bằng", original.number),
                          timestamper_url=pki.tsa_url, validation_context=validation_context([pki.root]), seal=True)
        path = Path(original.path).with_name(f"signed-{Path(original.path).name}")
        (settings.documents_path / path).write_bytes(signed)
        number = f"{original.seq + 900}/KÝ-SỐ"
        same = {name: getattr(original, name) for name in ("doc_type", "subject_key", "issuer_code", "year",
                                                           "campaign_id", "inspection_id", "template_version",
                                                           "issued_by", "issued_on")}
        session.add(Document(**same, seq=original.seq + 900, number=number, revision=original.revision + 1,
                             supersedes_id=original.id, path=path.as_posix(), size=len(signed),
                             sha256=hashlib.sha256(signed).hexdigest()))
    return number


def test_a_signed_document_shows_b_lt_valid_against_the_configured_root(
        cli: CliRunner, settings: Settings, pki: TestPki, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    number = _signed_revision(settings, pki)
    untrusted = run(cli, "--number", number, code=1)  # no trust root configured: not trusted
    assert "1 chữ ký (Sở Nội vụ tỉnh Cao Bằng): KHÔNG hợp lệ" in row_of(untrusted, number) and "khớp" in row_of(untrusted, number)
    assert "chứng thư gốc tin cậy" in untrusted and "KIEMTRA_SIGNING_TRUST_ROOTS" in untrusted
    root = tmp_path / "root-ca.pem"
    root.write_bytes(pem.armor("CERTIFICATE", pki.root.dump()))
    monkeypatch.setenv("KIEMTRA_SIGNING_TRUST_ROOTS", f'["{root}"]')
    get_settings.cache_clear()
    output = run(cli, "--number", number)
    valid = "1 chữ ký (Sở Nội vụ tỉnh Cao Bằng), PAdES B-LT: hợp lệ"
    assert valid in row_of(output, number) and "khớp" in row_of(output, number)
    assert "Đã kiểm tra 1 văn bản: 1 đạt, 0 không đạt." in output
    assert valid in row_of(run(cli, "--campaign", CODE, "--offline"), number)
    # a byte changed after signing: the stored hash and the signature both say so
    path = next(d.path for d in stored(settings) if d.number == number)
    data = bytearray(path.read_bytes())
    at = data.index(b"/Title") + 10  # in the document information, covered by the signature
    data[at] = ord("X") if data[at] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))
    changed = run(cli, "--number", number, code=1)
    assert "KHÔNG khớp" in row_of(changed, number) and "KHÔNG hợp lệ" in row_of(changed, number)
    assert "nội dung văn bản đã bị thay đổi sau khi ký" in changed


def test_the_choice_and_the_trust_roots_are_checked(cli: CliRunner, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run(cli, code=2)  # none of --campaign, --number, --all
    run(cli, "--all", "--campaign", CODE, code=2)
    assert "Không có đợt kiểm tra mã 'KHONG-CO'" in run(cli, "--campaign", "KHONG-CO", code=1)
    assert "Không có văn bản nào" in run(cli, "--number", "999/KHONG-CO", code=1)
    monkeypatch.setenv("KIEMTRA_SIGNING_TRUST_ROOTS", f'["{tmp_path / "khong-co.pem"}"]')
    get_settings.cache_clear()
    assert "Không đọc được chứng thư gốc tin cậy" in run(cli, "--all", code=1)
