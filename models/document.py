"""Issued documents (immutable once issued), their numbering counters, and publications."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, json_field


class DocumentType(StrEnum):
    MINUTES = "minutes"  # biên bản kiểm tra
    VIOLATION_RECORD = "violation_record"  # biên bản vi phạm hành chính (MBB01)
    PROPOSAL = "proposal"  # tờ trình đề nghị xử phạt: the working (ranges, circumstances, competence) for the decider
    SANCTION_DECISION = "sanction_decision"  # quyết định xử phạt (MQĐ02)
    INSPECTION_DECISION = "inspection_decision"  # quyết định kiểm tra, thành lập đoàn kiểm tra liên ngành
    INSPECTION_PLAN = "inspection_plan"  # kế hoạch tiến hành kiểm tra (one per team, with its schedule)
    INSPECTION_NOTICE = "inspection_notice"  # thông báo kiểm tra (one per establishment)
    REPORT = "report"  # báo cáo kết quả kiểm tra (one per campaign, DOMAIN.md 2.8)
    PERIODIC_REPORT = "periodic_report"  # báo cáo định kỳ (half-year, annual) to UBND tỉnh and the Ministry


class Document(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("issuer_code", "doc_type", "year", "seq"),
        sa.UniqueConstraint("doc_type", "subject_key", "revision"),
    )
    id: int | None = Field(default=None, primary_key=True)
    doc_type: DocumentType = Field(sa_type=sa.String(24))
    subject_key: str = Field(max_length=64, description="what it is about, e.g. inspection:12")
    revision: int = Field(default=1, ge=1)
    supersedes_id: int | None = Field(default=None, foreign_key="document.id")
    issuer_code: str = Field(max_length=32)
    year: int
    seq: int
    number: str = Field(max_length=64, description="số và ký hiệu, e.g. 12/BB-KT")
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id", index=True)
    template_version: str = Field(max_length=32)
    path: str = Field(max_length=500, description="relative to the document store")
    sha256: str = Field(max_length=64)
    size: int
    issued_by: str = Field(max_length=64)
    issued_on: date | None = Field(default=None, description="the date printed on the document")
    issued_at: datetime = created_at_field()


class DocumentCounter(SQLModel, table=True):
    """Last number taken per issuer, type and year (each reserved for one document): sequential with no gap."""

    issuer_code: str = Field(max_length=32, primary_key=True)
    doc_type: str = Field(max_length=24, primary_key=True)
    year: int = Field(primary_key=True)
    last_seq: int = 0


class ReservationState(StrEnum):
    RESERVED = "reserved"  # the number is taken for the subject; its document is not committed yet
    USED = "used"  # the document carrying the number is issued


class NumberReservation(SQLModel, table=True):
    """A number taken for one document (type, subject, revision) before the document is rendered.

    On PostgreSQL it is committed in its own short transaction (the series lock is held only for the counter increment
    and this insert); the document is then rendered and inserted by the caller's transaction, which marks it used. A
    re-run after a crash or a rollback finds it and reuses the number: no gap, no duplicate. One still ``reserved``
    long after it was taken is a number whose document was never issued: ``kiemtra documents unused-numbers``
    lists them (docs/operations.md section 13)."""

    __table_args__ = (
        sa.UniqueConstraint("issuer_code", "doc_type", "year", "seq"),
        sa.UniqueConstraint("doc_type", "subject_key", "revision"),
    )
    id: int | None = Field(default=None, primary_key=True)
    issuer_code: str = Field(max_length=32)
    doc_type: str = Field(max_length=24)
    year: int
    seq: int
    subject_key: str = Field(max_length=64)
    revision: int = Field(default=1, ge=1)
    state: ReservationState = Field(default=ReservationState.RESERVED, sa_type=sa.String(16), index=True)
    reserved_by: str = Field(default="", max_length=64)
    reserved_at: datetime = created_at_field()


class DocumentVerification(SQLModel, table=True):
    """One check of an issued document's stored file (issue 17): before publication and on demand
    (``kiemtra documents verify``). The latest row per document is what the console and the register show."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    checked_at: datetime = created_at_field()
    hash_ok: bool  # the stored file's SHA-256 is the one recorded when it was issued
    signatures: int = 0  # digital signatures the file carries
    level: str | None = Field(default=None, max_length=8, description="lowest PAdES level reached (B-B, B-T, B-LT)")
    ok: bool
    summary: str = Field(max_length=1000, description="the result for people, in Vietnamese")


class Publication(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("channel", "subject_key"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    subject_key: str = Field(max_length=64)
    document_id: int = Field(foreign_key="document.id")
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    payload: dict[str, Any] = json_field(dict)
    published_at: datetime = Field(sa_type=UTCDateTime)
    # a withdrawn decision, or one replaced by a correction, leaves the register (the row stays, as issued)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawal_reason: str = Field(default="", max_length=1000)
    superseded_by_id: int | None = Field(default=None, foreign_key="publication.id")


class SigningState(StrEnum):
    AWAITING_SIGNATURE = "awaiting_signature"  # the approved draft waits for the competent person's signature
    SIGNED = "signed"  # the person signed; the number, the date and the organisation's signature are still to come
    ISSUED = "issued"  # numbered, dated, sealed: the Document row holds the issued file
    REFUSED = "refused"  # the person refused to sign (reason given): nothing issued, a new draft is needed


class SigningRequest(SQLModel, table=True):
    """One draft put to its competent person for a digital signature (NĐ 30/2020 Art.13–18, 32; issue 17).

    The draft is rendered once, with the number and the date as empty form fields; the person signs it with a
    certification that allows only filling those fields; then the number and the issuing day are filled in and the
    organisation's signature added (services.documents.signed_issuing), and the Document is issued from that file.
    A refused draft stays on record; a new draft of the same document is the next ``attempt``."""

    __table_args__ = (sa.UniqueConstraint("doc_type", "subject_key", "revision", "attempt"),)
    id: int | None = Field(default=None, primary_key=True)
    doc_type: DocumentType = Field(sa_type=sa.String(24))
    subject_key: str = Field(max_length=64)
    revision: int = Field(default=1, ge=1)
    attempt: int = Field(default=1, ge=1)
    supersedes_id: int | None = Field(default=None, foreign_key="document.id")
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id", index=True)
    issuer_code: str = Field(max_length=32)
    issuer_name: str = Field(max_length=255, description="the issuing body, as the seal names it")
    place: str = Field(max_length=100, description="the place written before the date (\"Cao Bằng\")")
    symbol: str = Field(max_length=32, description="ký hiệu, e.g. QĐ-XPHC: the number is <seq>/<symbol>")
    template: str = Field(max_length=64)
    template_version: str = Field(max_length=32)
    title: str = Field(max_length=500, description="what the document is, for the list of drafts")
    reason: str = Field(default="", max_length=1000, description="why this revision replaces the last (a correction)")
    drafted_on: date = Field(description="the day the content was drawn up for; the document is dated when issued")
    signer_code: str = Field(max_length=64, index=True, description="the competent person who must sign")
    signer_name: str = Field(max_length=255)
    signer_title: str = Field(max_length=255, description="the title line above the signature, as printed")
    state: SigningState = Field(default=SigningState.AWAITING_SIGNATURE, sa_type=sa.String(24), index=True)
    draft_path: str = Field(max_length=500)
    draft_sha256: str = Field(max_length=64)
    signed_path: str | None = Field(default=None, max_length=500)
    signed_sha256: str | None = Field(default=None, max_length=64)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    certificate: str = Field(default="", max_length=500, description="the signer's certificate: subject and serial")
    remote: dict[str, Any] = json_field(dict)  # hash-only signing under way: its state (services.documents.remote_signing)
    last_error: str = Field(default="", max_length=1000, description="the last failed attempt, in Vietnamese")
    refusal_reason: str = Field(default="", max_length=1000)
    document_id: int | None = Field(default=None, foreign_key="document.id")
    requested_by: str = Field(max_length=64)
    requested_at: datetime = created_at_field()
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
