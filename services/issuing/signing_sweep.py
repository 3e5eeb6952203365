"""The sweeper's part in the digital issuing sequence (issue 17): a signed draft must be issued the day it is signed or
the next working day (NĐ 30/2020 Art.18).

Each run of the ``deadline-sweeper`` flow tries the văn thư's step again for every draft the competent person has
signed but that is not issued yet (the organisation's key was missing, the TSA was down: the failure is recorded on
the draft as :func:`services.issuing.signed_documents.issue` does); what is still not issued after its Art.18 day is
escalated once: an audit event and a message to the campaign's leads and to the signer. Idempotent: a draft issued
meanwhile is found issued; the escalation's messages are keyed by the draft.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from models import AuditEvent, Campaign, Document, Person, PersonRole, SigningRequest, SigningState
from services import audit
from services.db import session_scope
from services.delivery import notifications
from services.delivery.notifications import contact_of, reach
from services.documents.signed_issuing import issue_by
from services.documents.signing import SigningError
from services.errors import KiemtraError
from services.settings import Settings
from services.issuing import signed_documents

ACTOR = "deadline-sweeper"
LATE = "signed_issue_late"


@dataclass
class SignedSweep:
    issued: int = 0  # signed drafts issued by this run
    waiting: int = 0  # still signed, not issued (their errors recorded on the drafts)
    late: int = 0  # of those, past their Art.18 day and escalated by this run

    def as_dict(self) -> dict[str, int]:
        return {"issued": self.issued, "waiting": self.waiting, "late": self.late}


def sweep_signed(settings: Settings, today: date, *, actor: str = ACTOR) -> SignedSweep:
    with session_scope(settings) as session:
        ids = list(session.exec(select(SigningRequest.id).where(SigningRequest.state == SigningState.SIGNED)
                                .order_by(col(SigningRequest.id))).all())
    result = SignedSweep()
    for request_id in ids:
        assert request_id is not None
        try:
            done = signed_documents.issue(settings, request_id, actor=actor)
        except (KiemtraError, SigningError):  # recorded on the draft; the escalation below still applies
            done = None
        if isinstance(done, Document):
            result.issued += 1
            continue
        result.waiting += 1
        with session_scope(settings) as session:
            request = session.get(SigningRequest, request_id)
            if request is not None and request.state == SigningState.SIGNED and today > issue_by(request) \
                    and _escalate(session, request, today, actor):
                result.late += 1
    return result


def _escalate(session: Session, request: SigningRequest, today: date, actor: str) -> bool:
    """Once per draft: recorded and sent to the leads of the campaign's agency and to the signer."""
    done = session.exec(select(AuditEvent.id).where(AuditEvent.action == LATE,
                                                          AuditEvent.entity_type == "signingrequest",
                                                          AuditEvent.entity_id == request.id)).first()
    if done is not None:
        return False
    due = issue_by(request)
    text = (f"{request.title}: {request.signer_name} đã ký số ngày {request.signed_at:%d/%m/%Y} nhưng văn bản chưa được cấp "
            f"số, ký số của cơ quan và ban hành; hạn ban hành là ngày {due:%d/%m/%Y} (Điều 18 Nghị định 30/2020/NĐ-CP: "
            f"trong ngày ký hoặc ngày làm việc tiếp theo). Lỗi gần nhất: {request.last_error or 'không ghi nhận'}. "
            f"Xử lý: kiemtra documents issue-signed {request.id} --by <mã văn thư>.")
    audit.record(session, actor=actor, action=LATE, entity=request, reason=text[:1000],
                 data={"due_on": due.isoformat(), "on": today.isoformat()})
    for person in _recipients(session, request):
        reached = reach(contact_of(session, "person", person.code))
        if reached is None:
            continue
        notifications.enqueue(session, key=f"signing:{request.id}:late:{person.code}", campaign_id=request.campaign_id,
                              inspection_id=request.inspection_id, kind="deadline_overdue", recipient_kind="person",
                              recipient_ref=person.code, channel=reached[0], address=reached[1] or "",
                              subject=f"Quá hạn ban hành văn bản đã ký — {request.title}"[:255], body=text)
    return True


def _recipients(session: Session, request: SigningRequest) -> list[Person]:
    campaign = session.get(Campaign, request.campaign_id)
    people = [] if campaign is None else list(session.exec(
        select(Person).where(Person.role == PersonRole.LEAD, Person.agency_id == campaign.lead_agency_id)
        .order_by(Person.code)).all())
    signer = session.exec(select(Person).where(Person.code == request.signer_code)).first()
    return people + ([signer] if signer is not None and signer not in people else [])


__all__ = ["SignedSweep", "sweep_signed"]
