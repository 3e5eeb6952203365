"""Checking issued documents on demand (issue 17, ``kiemtra documents verify``): each stored file against the SHA-256
recorded when it was issued and, when the file carries digital signatures, the signatures with pyHanko against the
configured trust roots (``KIEMTRA_SIGNING_TRUST_ROOTS``): integrity, chain, revocation, timestamp, PAdES level.

A missing or changed file fails, naming the document; an unsigned file whose hash matches passes ("chưa ký số"); a signed
one passes only when every signature is valid (:class:`services.documents.signing_check.Verification`).

Each check is stored (:class:`models.DocumentVerification`, :func:`record_checks`): the console's documents library
and the public register show the latest one. Before a decision is published (services/stages/publishing.py),
:func:`check_for_publication` asks more: a signed file must have every signature valid at PAdES B-LT against
configured trust roots (a signed file with no trust root configured is not published).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import x509
from sqlmodel import Session, col, select

from models import Campaign, Document, DocumentVerification
from services.documents.signing_certs import load_certificates
from services.documents.signing_check import Verification, verify_pdf
from services.errors import KiemtraError
from services.settings import Settings

NO_SIGNATURE = "văn bản không có chữ ký số"  # what verify_pdf says of a file without any
UNSIGNED_OK_VI = "Khớp tệp, chưa ký số"
REQUIRED_LEVEL = "B-LT"  # what a signed decision must reach before it is published


@dataclass(frozen=True)
class DocumentCheck:
    """One issued document's result; ``hash_problem`` and the signatures' problems are Vietnamese."""

    document_id: int
    number: str
    doc_type: str
    path: str
    hash_problem: str  # "" when the stored file's SHA-256 is the recorded one
    signatures: Verification | None  # None: the file carries no signature (or could not be read)
    missing: bool = False  # no file at the recorded path

    @property
    def hash_ok(self) -> bool:
        return not self.hash_problem

    @property
    def signed(self) -> bool:
        return self.signatures is not None

    @property
    def ok(self) -> bool:
        return self.hash_ok and (self.signatures is None or self.signatures.ok)

    @property
    def problems(self) -> list[str]:
        found = [self.hash_problem] if self.hash_problem else []
        if self.signatures is not None and not self.signatures.ok:
            found.append(self.signatures.summary)
        return found


def trust_roots(settings: Settings) -> list[x509.Certificate]:
    """The configured trust roots; a file that cannot be read is refused (exit with its name), never skipped."""
    try:
        return load_certificates(settings.signing_trust_root_paths)
    except (OSError, ValueError) as exc:
        raise KiemtraError(f"Không đọc được chứng thư gốc tin cậy (KIEMTRA_SIGNING_TRUST_ROOTS): {exc}") from exc


def select_documents(session: Session, *, campaign: str | None = None, number: str | None = None) -> list[Document]:
    """Issued documents, oldest first: a campaign's, those with a number and symbol (any issuer, type, year), or all."""
    query = select(Document)
    if campaign is not None:
        found = session.exec(select(Campaign.id).where(Campaign.code == campaign)).first()
        if found is None:
            raise KiemtraError(f"Không có đợt kiểm tra mã '{campaign}'.")
        query = query.where(Document.campaign_id == found)
    if number is not None:
        query = query.where(Document.number == number)
    return list(session.exec(query.order_by(col(Document.id))).all())


def check_document(settings: Settings, document: Document, roots: list[x509.Certificate], *,
                   allow_fetching: bool = True) -> DocumentCheck:
    """One document: its file's hash, then its signatures (if it has any)."""
    assert document.id is not None
    path = settings.documents_path / document.path
    hash_problem, signatures, missing = "", None, False
    try:
        data = path.read_bytes()
    except OSError:
        hash_problem, missing = f"không tìm thấy tệp {document.path} trong kho văn bản", True
    else:
        actual = hashlib.sha256(data).hexdigest()
        if actual != document.sha256:
            hash_problem = (f"tệp {document.path} đã bị thay đổi (SHA-256 {actual[:16]}…, khi ban hành "
                            f"{document.sha256[:16]}…)")
        if b"/ByteRange" in data:  # every PDF signature dictionary has one: an unsigned file is not parsed again
            result = verify_pdf(data, roots, allow_fetching=allow_fetching)
            signatures = None if result.problems == (NO_SIGNATURE,) else result
    return DocumentCheck(document.id, document.number, str(document.doc_type), document.path, hash_problem, signatures,
                         missing)


def verify_documents(settings: Settings, *, campaign: str | None = None, number: str | None = None,
                     allow_fetching: bool = True) -> list[DocumentCheck]:
    """Every selected document checked (see the module's description), in issuing order."""
    from services.db import session_scope

    roots = trust_roots(settings)
    with session_scope(settings) as session:
        documents = select_documents(session, campaign=campaign, number=number)
        session.expunge_all()
    return [check_document(settings, d, roots, allow_fetching=allow_fetching) for d in documents]


class FileNotVerified(KiemtraError):
    """A document's stored file failed the check before publication; ``row`` is the result to store."""

    def __init__(self, message: str, row: DocumentVerification, **ids: object) -> None:
        super().__init__(message, **ids)
        self.row = row


def summary_of(check: DocumentCheck, problems: list[str]) -> str:
    """"Khớp tệp, chưa ký số", "Chữ ký hợp lệ (PAdES B-LT)" or "KHÔNG hợp lệ: …" (the console and the CLI's rows)."""
    if problems:
        return ("KHÔNG hợp lệ: " + "; ".join(problems))[:1000]
    if check.signatures is None:
        return UNSIGNED_OK_VI
    return f"Chữ ký hợp lệ (PAdES {check.signatures.level})"


def verification_row(check: DocumentCheck, problems: list[str] | None = None) -> DocumentVerification:
    """The row storing ``check`` (``problems``: those that decide its result, by default the check's own)."""
    found = check.problems if problems is None else problems
    signatures = check.signatures
    return DocumentVerification(document_id=check.document_id, hash_ok=check.hash_ok,
                                signatures=len(signatures.signatures) if signatures is not None else 0,
                                level=signatures.level if signatures is not None else None,
                                ok=not found, summary=summary_of(check, found))


def record_checks(settings: Settings, checks: list[DocumentCheck]) -> None:
    """One stored row per check, in one transaction of its own."""
    from services.db import session_scope

    with session_scope(settings) as session:
        for check in checks:
            session.add(verification_row(check))


def publication_problems(settings: Settings, check: DocumentCheck) -> list[str]:
    """What stops publication: the check's problems and, for a signed file, trust roots configured and B-LT reached."""
    found = list(check.problems)
    signatures = check.signatures
    if signatures is not None and not settings.signing_trust_roots:
        found.insert(0, "văn bản có chữ ký số nhưng chưa cấu hình chứng thư gốc tin cậy (KIEMTRA_SIGNING_TRUST_ROOTS)")
    elif signatures is not None and signatures.ok and signatures.level != REQUIRED_LEVEL:
        found.append(f"chữ ký chỉ đạt PAdES {signatures.level or 'không xác định'}, chưa đạt {REQUIRED_LEVEL}")
    return found


def check_for_publication(settings: Settings, document: Document) -> DocumentVerification:
    """The decision's stored file checked before it is published: the row to store when it passes; raises
    :class:`FileNotVerified` (carrying the row) when it does not."""
    check = check_document(settings, document, trust_roots(settings))
    problems = publication_problems(settings, check)
    row = verification_row(check, problems)
    if problems:
        raise FileNotVerified(f"Không công khai quyết định số {document.number}: tệp lưu trữ không đạt kiểm tra: "
                              f"{'; '.join(problems)}.", row, decision=document.number)
    return row
