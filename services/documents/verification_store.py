"""The stored checks of issued documents (:class:`models.DocumentVerification`, issue 17), read without loading pyHanko:
the console's documents library and the public register show each document's latest one."""
from __future__ import annotations

from sqlmodel import Session, col, select

from models import DocumentVerification

UNCHECKED_VI = "Chưa kiểm tra"


def latest_verifications(session: Session, document_ids: list[int], *,
                         passed: bool = False) -> dict[int, DocumentVerification]:
    """Each document's latest stored check (``passed``: its latest check that passed); documents never checked (or
    never passed) are absent."""
    if not document_ids:
        return {}
    query = select(DocumentVerification).where(col(DocumentVerification.document_id).in_(document_ids))
    if passed:
        query = query.where(col(DocumentVerification.ok).is_(True))
    rows = session.exec(query
                        .order_by(col(DocumentVerification.checked_at), col(DocumentVerification.id))).all()
    return {row.document_id: row for row in rows}
