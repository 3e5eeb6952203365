"""Issuing documents: a unique, gap-free number per issuer, type and year; immutable once issued.

Idempotent: a document is identified by (type, subject, revision); issuing it again returns the stored
one. The number is reserved for that identity first (:mod:`services.documents.numbering`): on PostgreSQL in a short
transaction of its own, so that rendering holds no lock on the issuer's number series and a crash or rollback
before the caller commits leaves the reservation for the re-run to reuse (same number, no gap); on SQLite inside the
caller's transaction as before. Two runs issuing the same document at once take turns on its reservation row and the
second returns the first's document. The PDF is rendered deterministically and written atomically before commit; a
re-run after a crash rewrites the same bytes under the same number.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Document, DocumentType
from services import audit
from services.documents import render_pdf, template_version
from services.documents.numbering import (Reservation, Series, allocate_number, format_number, hold, mark_used,
                                          reserve_apart, reserve_within)
from services.errors import ImmutableDocument
from services.settings import Settings

__all__ = ["allocate_number", "find_document", "format_number", "issue_document", "latest_document"]


@sa.event.listens_for(Document, "before_update")
def _refuse_update(_mapper: Any, _conn: Any, target: Document) -> None:
    raise ImmutableDocument(f"Văn bản {target.number} đã ban hành, không được sửa; hãy ban hành văn bản đính chính.",
                            document_id=target.id)


@sa.event.listens_for(Document, "before_delete")
def _refuse_delete(_mapper: Any, _conn: Any, target: Document) -> None:
    raise ImmutableDocument(f"Văn bản {target.number} đã ban hành, không được xóa.", document_id=target.id)


def find_document(session: Session, *, doc_type: DocumentType, subject_key: str, revision: int = 1) -> Document | None:
    return session.exec(select(Document).where(Document.doc_type == doc_type, Document.subject_key == subject_key,
                                               Document.revision == revision)).first()


def latest_document(session: Session, *, doc_type: DocumentType, subject_key: str) -> Document | None:
    return session.exec(select(Document).where(Document.doc_type == doc_type, Document.subject_key == subject_key)
                        .order_by(col(Document.revision).desc())).first()


def _engine(session: Session) -> sa.Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, sa.Connection) else bind


def _reserve(session: Session, series: Series, subject_key: str, revision: int, actor: str,
             doc_type: DocumentType) -> tuple[Reservation, Document | None]:
    """The subject's number, or (on PostgreSQL, after waiting for a run issuing the same document) its document."""
    if session.get_bind().dialect.name != "postgresql":
        return reserve_within(session, series, subject_key, revision, actor=actor), None
    reservation = reserve_apart(_engine(session), series, subject_key, revision, actor=actor)
    hold(session, reservation)
    # a run that held it before us has committed its document (each statement of a READ COMMITTED transaction sees
    # what committed before it) or rolled back, leaving the number to us
    return reservation, find_document(session, doc_type=doc_type, subject_key=subject_key, revision=revision)


def issue_document(session: Session, settings: Settings, *, doc_type: DocumentType, subject_key: str,
                   issuer_code: str, symbol: str, year: int, campaign_id: int, inspection_id: int | None,
                   template: str, build_context: Callable[[str], Mapping[str, Any]], actor: str,
                   revision: int = 1, supersedes_id: int | None = None) -> Document:
    """Issue revision ``revision`` of a document (a correction is a new revision that supersedes the last)."""
    existing = find_document(session, doc_type=doc_type, subject_key=subject_key, revision=revision)
    if existing is not None:
        return existing
    reservation, existing = _reserve(session, Series(issuer_code, doc_type.value, year), subject_key, revision, actor,
                                     doc_type)
    if existing is not None:
        return existing
    seq = reservation.seq
    number = format_number(seq, symbol)
    rel = Path(str(year)) / issuer_code / f"{doc_type.value}-{seq:05d}.pdf"
    context = build_context(number)
    rendered = render_pdf(template, context, settings.documents_path / rel)
    doc = Document(doc_type=doc_type, subject_key=subject_key, issuer_code=issuer_code, year=year, seq=seq,
                   number=number, campaign_id=campaign_id, inspection_id=inspection_id, revision=revision,
                   supersedes_id=supersedes_id,
                   template_version=template_version(template), path=rel.as_posix(), sha256=rendered.sha256,
                   size=rendered.size, issued_by=actor, issued_on=context.get("issued_on"))
    session.add(doc)
    mark_used(session, reservation)
    session.flush()
    audit.record(session, actor=actor, action="document_issued", entity=doc, reason=f"{doc_type.value} {number}",
                 data={"sha256": rendered.sha256, "path": doc.path})
    return doc
