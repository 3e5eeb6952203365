"""Checking the signatures of a signed document with pyHanko (issue 17): integrity, chain, revocation, timestamp,
coverage, and the PAdES baseline level each signature reaches.

Each signature is validated against the configured trust roots only, with the document security store's certificates,
OCSP responses and CRLs preloaded and, when ``allow_fetching``, the CA's services asked for what is missing. A certificate
whose revocation status cannot be found fails ("hard-fail"). The level:

- **B-B**: the signature is intact, valid and trusted, and nothing but allowed changes (later signatures, validation
  data) was added after it;
- **B-T**: and it carries a signature timestamp from a trusted TSA;
- **B-LT**: and the document alone (its security store, no fetching) holds what is needed to validate the signer's
  chain and the timestamp's, at the timestamp's time.
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import DocumentSecurityStore, EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

ALLOWED_LATER = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)
LEVELS = ("B-B", "B-T", "B-LT")


@dataclass(frozen=True)
class SignatureCheck:
    """One signature's result; ``problems`` are Vietnamese sentences for people."""

    field: str
    signer: str
    signed_at: datetime | None
    intact: bool
    trusted: bool
    revoked: bool
    timestamped: bool
    coverage: str
    level: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Verification:
    """Every signature of a document; ``ok`` when there is at least one and none has a problem."""

    signatures: tuple[SignatureCheck, ...]
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.signatures) and not self.problems and all(s.ok for s in self.signatures)

    @property
    def level(self) -> str | None:
        """The lowest level any signature reaches (``None`` if one reaches none)."""
        levels = [s.level for s in self.signatures]
        if not levels or None in levels:
            return None
        return min((lvl for lvl in levels if lvl is not None), key=LEVELS.index)

    @property
    def summary(self) -> str:
        if self.ok:
            each = "; ".join(f"{s.signer} (PAdES {s.level})" for s in self.signatures)
            return f"Chữ ký hợp lệ: {len(self.signatures)} chữ ký: {each}."
        reasons = list(self.problems) + [f"{s.signer}: {', '.join(s.problems)}" for s in self.signatures if s.problems]
        return "Chữ ký không hợp lệ: " + "; ".join(reasons) + "."


def _name(cert: x509.Certificate | None) -> str:
    if cert is None:
        return "(không rõ người ký)"
    subject = cert.subject.native
    return str(subject.get("common_name") or subject.get("organization_name") or cert.subject.human_friendly)


def _revocation_text(status: PdfSignatureStatus) -> str:
    details = status.revocation_details
    if details is None:
        return ""
    when = details.revocation_date.date().strftime("%d/%m/%Y")
    who = "chứng thư của tổ chức cấp" if details.ca_revoked else "chứng thư số của người ký"
    return f"{who} đã bị thu hồi từ ngày {when} (lý do: {details.revocation_reason.native})"


def _problems(status: PdfSignatureStatus) -> list[str]:
    found = []
    if not status.intact:
        found.append("nội dung văn bản đã bị thay đổi sau khi ký")
    elif not status.valid:
        found.append("chữ ký không khớp với chứng thư số")
    if status.revoked:
        found.append(_revocation_text(status))
    elif status.intact and status.valid and not status.trusted:
        found.append("chứng thư số không dẫn được tới chứng thư gốc tin cậy hoặc không kiểm tra được tình trạng thu hồi"
                     f" ({status.trust_problem_indic.standard_name if status.trust_problem_indic else 'không rõ'})")
    ts = status.timestamp_validity
    if ts is not None and not (ts.intact and ts.valid and ts.trusted):
        found.append("dấu thời gian không hợp lệ")
    if status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        found.append("chữ ký không phủ toàn bộ văn bản đã ký")
    elif status.modification_level not in ALLOWED_LATER or status.docmdp_ok is False:
        found.append("văn bản bị sửa đổi sau khi ký ngoài các thay đổi được phép")
    return found


def _context(trust_roots: list[x509.Certificate], dss: DocumentSecurityStore | None, **options: Any) -> ValidationContext:
    kwargs: dict[str, Any] = {"trust_roots": trust_roots, "revocation_mode": "hard-fail", **options}
    return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)


def _long_term(sig: EmbeddedPdfSignature, trust_roots: list[x509.Certificate], dss: DocumentSecurityStore | None,
               at: datetime) -> bool:
    """B-LT: valid from the document's own validation data alone, at the timestamp's time."""
    if dss is None:
        return False
    offline = _context(trust_roots, dss, allow_fetching=False, moment=at, retroactive_revinfo=True)
    status = validate_pdf_signature(sig, offline, skip_diff=True)
    ts = status.timestamp_validity
    return status.bottom_line and not status.revoked and ts is not None and ts.trusted


def _check(sig: EmbeddedPdfSignature, trust_roots: list[x509.Certificate], dss: DocumentSecurityStore | None,
           allow_fetching: bool) -> SignatureCheck:
    status = validate_pdf_signature(sig, _context(trust_roots, dss, allow_fetching=allow_fetching))
    problems = _problems(status)
    ts = status.timestamp_validity
    timestamped = ts is not None and ts.intact and ts.valid and ts.trusted
    level = None
    if not problems:
        level = "B-B"
        if timestamped and ts is not None:
            level = "B-LT" if _long_term(sig, trust_roots, dss, ts.timestamp) else "B-T"
    return SignatureCheck(
        field=str(sig.field_name), signer=_name(status.signing_cert),
        signed_at=ts.timestamp if ts is not None else sig.self_reported_timestamp,
        intact=status.intact, trusted=status.trusted, revoked=status.revoked, timestamped=timestamped,
        coverage=status.coverage.name if status.coverage is not None else "UNCLEAR", level=level,
        problems=tuple(problems))


def verify_pdf(pdf: bytes, trust_roots: Iterable[x509.Certificate], *, allow_fetching: bool = True) -> Verification:
    """Every signature of ``pdf`` checked (see the module's description). Never raises on a damaged file: the result
    says why it is not valid."""
    roots = list(trust_roots)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as exc:  # a PDF pyHanko cannot read at all
        return Verification((), (f"không đọc được tệp PDF ({type(exc).__name__})",))
    if not signatures:
        return Verification((), ("văn bản không có chữ ký số",))
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # NoDSSFoundError: nothing embedded (B-B/B-T at most)
        dss = None
    checks = []
    for sig in signatures:
        try:
            checks.append(_check(sig, roots, dss, allow_fetching))
        except Exception as exc:  # a signature pyHanko cannot even parse is a problem of that signature
            checks.append(SignatureCheck(field=str(sig.field_name), signer="(không đọc được chữ ký)", signed_at=None,
                                         intact=False, trusted=False, revoked=False, timestamped=False,
                                         coverage="UNCLEAR", level=None,
                                         problems=(f"không kiểm tra được chữ ký ({type(exc).__name__})",)))
    return Verification(tuple(checks))
