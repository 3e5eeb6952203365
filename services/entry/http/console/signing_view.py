"""What the page of drafts waiting for a digital signature shows (issue 17): ``/console/signing``
(:mod:`services.entry.http.console.signing`).

* An official: the drafts waiting for their own signature, and those they signed that still wait to be numbered and
  sealed (the văn thư's step); the drafts they refused in the last 30 days, with the reason, to be drawn again.
* A lead: every such draft of the campaigns and files they see, read only (a refused one may be drawn again); an
  admin: every draft.

Each draft shows its state, title, the day it was drafted for, when it was put to the signer, the last failed attempt
and, for a sanction decision, the file's legal time limits (the decision period and the limitation,
:func:`services.stages.decision_time_bar.decision_limits`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from models import Campaign, DeadlineKind, Document, DocumentType, Inspection, Person, PersonRole, SigningRequest, SigningState
from models.base import utcnow
from services.documents.signed_issuing import STATE_VI, current_request, waiting_requests
from services.entry.http.console.access_rules import subject_visible
from services.errors import Forbidden, NotFound
from services.stages.decision_time_bar import decision_limits
from services.issuing.signing_batch import MAX_BATCH, SignOutcome

REFUSED_DAYS = 30
LIMIT_VI = {DeadlineKind.SANCTION_DECISION: "Hạn ra quyết định xử phạt", DeadlineKind.LIMITATION: "Thời hiệu xử phạt"}


@dataclass
class Row:
    """One draft as the page shows it (``request`` detached)."""

    request: SigningRequest
    state_vi: str
    limits: list[tuple[str, date]] = field(default_factory=list)  # (what, the last day)
    may_sign: bool = False  # the logged-in official is its signer and it waits for the signature
    may_redraft: bool = False  # refused: the signer or a lead may have it drawn again

    @property
    def id(self) -> int:
        return self.request.id or 0


@dataclass
class SigningPage:
    waiting: list[Row]
    refused: list[Row]
    read_only: bool  # a lead or an admin: the list, not the signing

    @property
    def to_sign(self) -> int:
        return sum(1 for r in self.waiting if r.may_sign)


def visible(session: Session, person: Person, request: SigningRequest) -> bool:
    """The signer, an admin, and a lead or another official who sees the draft's file (or campaign): the page lists
    only an official's own drafts, and only the signer signs or refuses (403 for the others)."""
    if person.role == PersonRole.ADMIN or request.signer_code == person.code:
        return True
    return subject_visible(session, person, inspection_id=request.inspection_id, campaign_id=request.campaign_id)


def request_for(session: Session, person: Person, request_id: int) -> SigningRequest:
    """The draft ``person`` may see (else the 404 of a draft that does not exist), detached."""
    request = session.get(SigningRequest, request_id)
    if request is None or not visible(session, person, request):
        raise NotFound(f"Không có dự thảo trình ký số {request_id}.", request_id=request_id)
    session.expunge(request)
    return request


def signer_only(request: SigningRequest, person: Person) -> None:
    if request.signer_code != person.code:
        raise Forbidden(f"Chỉ {request.signer_title.lower()} {request.signer_name} (mã {request.signer_code}) được ký "
                        f"hoặc từ chối ký dự thảo này.", request_id=request.id)


def _limits(session: Session, request: SigningRequest) -> list[tuple[str, date]]:
    if request.doc_type == DocumentType.INSPECTION_DECISION:  # never after the inspections begin
        campaign = session.get(Campaign, request.campaign_id)
        return [("Ban hành chậm nhất ngày bắt đầu đợt kiểm tra", campaign.period_start)] if campaign is not None else []
    if request.doc_type != DocumentType.SANCTION_DECISION or request.inspection_id is None:
        return []
    inspection = session.get(Inspection, request.inspection_id)
    if inspection is None:
        return []
    return [(LIMIT_VI.get(DeadlineKind(d.kind), str(d.kind)), d.due_on) for d in decision_limits(session, inspection)]


def _row(session: Session, person: Person, request: SigningRequest) -> Row:
    row = Row(request=request, state_vi=STATE_VI[request.state], limits=_limits(session, request))
    row.may_sign = request.state == SigningState.AWAITING_SIGNATURE and request.signer_code == person.code
    row.may_redraft = request.state == SigningState.REFUSED and may_redraft(person, request)
    session.expunge(request)
    return row


def may_redraft(person: Person, request: SigningRequest) -> bool:
    return request.signer_code == person.code or person.role in (PersonRole.LEAD, PersonRole.ADMIN)


def _recently_refused(session: Session, person: Person) -> list[SigningRequest]:
    since = utcnow() - timedelta(days=REFUSED_DAYS)
    query = select(SigningRequest).where(SigningRequest.state == SigningState.REFUSED,
                                         col(SigningRequest.updated_at) >= since)
    if person.role == PersonRole.OFFICIAL:
        query = query.where(SigningRequest.signer_code == person.code)
    rows = session.exec(query.order_by(col(SigningRequest.updated_at).desc(), col(SigningRequest.id))).all()
    latest = []
    for r in rows:  # a draft already drawn again is followed by its next attempt: shown no more
        current = current_request(session, doc_type=r.doc_type, subject_key=r.subject_key, revision=r.revision)
        if current is not None and current.id == r.id and visible(session, person, r):
            latest.append(r)
    return latest


def signing_page(session: Session, person: Person) -> SigningPage:
    own = person.role == PersonRole.OFFICIAL
    waiting = waiting_requests(session, signer_code=person.code if own else None)
    waiting = [r for r in waiting if visible(session, person, r)]
    return SigningPage(waiting=[_row(session, person, r) for r in waiting],
                       refused=[_row(session, person, r) for r in _recently_refused(session, person)], read_only=not own)


def waiting_count(session: Session, person: Person) -> int:
    """The drafts waiting for ``person``'s signature (the menu's count)."""
    return len([r for r in waiting_requests(session, signer_code=person.code) if r.state == SigningState.AWAITING_SIGNATURE])


def batch_outcomes(session: Session, person: Person, request_ids: list[int]) -> list[SignOutcome]:
    """What became of the drafts ``person`` signed at once, read back from the database (only their own drafts)."""
    out = []
    for request_id in request_ids[:MAX_BATCH]:
        row = session.get(SigningRequest, request_id)
        if row is None or row.signer_code != person.code:
            continue
        doc = session.get(Document, row.document_id) if row.document_id is not None else None
        if row.state == SigningState.ISSUED and doc is not None:
            out.append(SignOutcome(request_id, row.title, number=doc.number, issued_on=doc.issued_on, document_id=doc.id))
        elif row.state == SigningState.SIGNED:
            out.append(SignOutcome(request_id, row.title, error="Đã ký số; chờ văn thư cấp số, ghi ngày và ký số của cơ quan "
                                                                f"(đóng dấu). {row.last_error}".strip()))
        else:
            out.append(SignOutcome(request_id, row.title, error=row.last_error or f"Chưa ký ({STATE_VI[row.state]})."))
    return out
