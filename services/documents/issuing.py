"""Issuing documents: a unique, gap-free number per issuer, type and year; immutable once issued.

Idempotent: a document is identified by (type, subject, revision); issuing it again returns the stored
one. The number is taken from ``DocumentCounter`` inside the caller's transaction, so a crash before
commit gives the number back, and two issuing runs at once serialise on the counter row. The PDF is
rendered deterministically and written atomically before commit; a re-run after a crash rewrites the
same bytes under the same number.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Document, DocumentCounter, DocumentType
from models.base import table_of
from services import audit
from services.db import upsert_insert
from services.documents import render_pdf, template_version
from services.errors import ImmutableDocument
from services.settings import Settings


@sa.event.listens_for(Document, "before_update")
def _refuse_update(_mapper: Any, _conn: Any, target: Document) -> None:
    raise ImmutableDocument(f"Văn bản {target.number} đã ban hành, không được sửa; hãy ban hành văn bản đính chính.",
                            document_id=target.id)


@sa.event.listens_for(Document, "before_delete")
def _refuse_delete(_mapper: Any, _conn: Any, target: Document) -> None:
    raise ImmutableDocument(f"Văn bản {target.number} đã ban hành, không được xóa.", document_id=target.id)


def format_number(seq: int, symbol: str) -> str:
    """"01/QĐ-UBND": NĐ 30/2020 Art.15, numbers start at 01 each year, a leading zero below 10."""
    return f"{seq:02d}/{symbol}"


def allocate_number(session: Session, *, issuer_code: str, doc_type: str, year: int) -> int:
    table = table_of(DocumentCounter)
    values = {"issuer_code": issuer_code, "doc_type": doc_type, "year": year, "last_seq": 0}
    session.execute(upsert_insert(session, table).values(**values).on_conflict_do_nothing())
    stmt = (sa.update(table)
            .where(table.c.issuer_code == issuer_code, table.c.doc_type == doc_type, table.c.year == year)
            .values(last_seq=table.c.last_seq + 1).returning(table.c.last_seq))
    return int(session.execute(stmt).scalar_one())


def _lock_series(session: Session, *, issuer_code: str, doc_type: str, year: int) -> None:
    table = table_of(DocumentCounter)
    values = {"issuer_code": issuer_code, "doc_type": doc_type, "year": year, "last_seq": 0}
    session.execute(upsert_insert(session, table).values(**values).on_conflict_do_nothing())
    session.execute(sa.select(table.c.last_seq).where(table.c.issuer_code == issuer_code, table.c.doc_type == doc_type,
                                                      table.c.year == year).with_for_update())


def find_document(session: Session, *, doc_type: DocumentType, subject_key: str, revision: int = 1) -> Document | None:
    return session.exec(select(Document).where(Document.doc_type == doc_type, Document.subject_key == subject_key,
                                               Document.revision == revision)).first()


def latest_document(session: Session, *, doc_type: DocumentType, subject_key: str) -> Document | None:
    return session.exec(select(Document).where(Document.doc_type == doc_type, Document.subject_key == subject_key)
                        .order_by(col(Document.revision).desc())).first()


def issue_document(session: Session, settings: Settings, *, doc_type: DocumentType, subject_key: str,
                   issuer_code: str, symbol: str, year: int, campaign_id: int, inspection_id: int | None,
                   template: str, build_context: Callable[[str], Mapping[str, Any]], actor: str,
                   revision: int = 1, supersedes_id: int | None = None) -> Document:
    """Issue revision ``revision`` of a document (a correction is a new revision that supersedes the last)."""
    if session.get_bind().dialect.name == "postgresql":
        # Lock the number series first: two runs issuing the same document at once then take turns, and the second
        # finds the first's document (each statement of a READ COMMITTED transaction sees what committed before it)
        # instead of numbering a duplicate that the unique key refuses. SQLite's write transactions are serial already.
        _lock_series(session, issuer_code=issuer_code, doc_type=doc_type.value, year=year)
    existing = find_document(session, doc_type=doc_type, subject_key=subject_key, revision=revision)
    if existing is not None:
        return existing
    seq = allocate_number(session, issuer_code=issuer_code, doc_type=doc_type.value, year=year)
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
    session.flush()
    audit.record(session, actor=actor, action="document_issued", entity=doc, reason=f"{doc_type.value} {number}",
                 data={"sha256": rendered.sha256, "path": doc.path})
    return doc
