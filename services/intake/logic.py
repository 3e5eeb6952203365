"""The intake over the database, independent of HTTP (the API calls these): who may see an inspection, findings
submitted (versions, edits, declared files), the lead's review. The official's decision on the fines is
:mod:`services.intake.decisions`; the rules both apply are :mod:`services.rules`."""
from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import date
from functools import cache
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (Agency, AgencyKind, Attachment, Campaign, CampaignStatus, Finding, FindingResult,
                    FindingReview, Inspection,
                    InspectionStatus, Person, PersonRole, Submission, Team, TeamMember)
from services import access, audit
from services.errors import Conflict, Forbidden, IntakeError, NotFound
from services.intake import returns
from services.intake.schemas import (FindingsSubmission, ReviewIn, ReviewReceipt,
                                     SubmissionReceipt)
from services.rules.checklist import load_checklist
from services.rules.evidence import EvidenceRules, attachment_errors, capture_errors
from services.errors import RulesError
from services.rules.sanctions import decree_for_act
from models.base import id_of, table_of, utcnow


def hash_token(token: str) -> str:
    return access.hash_token(token)


def person_for_token(session: Session, token: str) -> Person | None:
    """The person of an API token in force (``accesstoken``: not revoked, not expired)."""
    return access.person_for_token(session, token)


def unseen(inspection_id: int) -> NotFound:
    """The one answer for an inspection that does not exist and for one the caller may not see: a different answer
    (403 against 404) would tell an outsider which ids exist."""
    return NotFound(f"Không tìm thấy cuộc kiểm tra số {inspection_id}.", inspection_id=inspection_id)


def find_inspection(session: Session, inspection_id: int) -> Inspection:
    """The inspection, or the one answer for an id that does not exist (:func:`unseen`)."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise unseen(inspection_id)
    return inspection


def team_agency_kinds(session: Session, team_id: int) -> set[AgencyKind]:
    rows = session.exec(select(Agency.kind).join(Person, col(Person.agency_id) == col(Agency.id))
                        .join(TeamMember, col(TeamMember.person_id) == col(Person.id)).where(TeamMember.team_id == team_id)).all()
    return {AgencyKind(k) for k in rows} | {AgencyKind.LABOUR}


def checklist_for(session: Session, inspection: Inspection) -> list[Any]:
    return _checklist(session, inspection.team_id, inspection.scheduled_on)


def authorise(session: Session, person: Person, inspection: Inspection) -> None:
    """Inspectors act only on their own team's inspections (another team's is answered as one that does not exist);
    leads and officials on any."""
    if person.role != PersonRole.INSPECTOR:
        return
    member = session.exec(select(TeamMember.id).where(TeamMember.team_id == inspection.team_id,
                                                      TeamMember.person_id == person.id)).first()
    if member is None:
        assert inspection.id is not None
        raise unseen(inspection.id)


def get_inspection(session: Session, person: Person, inspection_id: int) -> Inspection:
    inspection = find_inspection(session, inspection_id)
    authorise(session, person, inspection)
    return inspection


_ACT_DATES = ("committed_on", "ongoing")


def canonical_findings(body: FindingsSubmission) -> list[dict[str, Any]]:
    """The findings as stored in a version's payload: JSON values, in item order (the act's date and kind only when
    given, so a payload without them hashes as it always did)."""
    return sorted((f.model_dump(mode="json", exclude={k for k in _ACT_DATES if getattr(f, k) is None})
                   for f in body.findings), key=lambda f: f["item_code"])


def content_sha256(inspection_id: int, body: FindingsSubmission, canonical: list[dict[str, Any]]) -> str:
    """What makes two sends "the same submission": findings (any order), declared files and the edit reason."""
    # a file's item, capture time and place only when given (they are optional, and all else is never None), so a
    # submission without them hashes as it always did
    files = sorted((a.model_dump(mode="json", exclude_none=True) for a in body.attachments), key=lambda a: a["sha256"])
    content = [inspection_id, canonical, files, body.reason.strip()] if files or body.reason.strip() else [inspection_id, canonical]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _act_date_errors(where: str, f: Any, item: Any, visit_on: date | None) -> list[str]:
    """An act's date: not after the visit; an ended act dated when two decrees could apply (NĐ 283/2026 Art.67)."""
    if f.result != FindingResult.FAIL or visit_on is None:
        return []
    if f.committed_on is not None and f.committed_on > visit_on:
        return [f"{where}.committed_on: ngày thực hiện hành vi {f.committed_on:%d/%m/%Y} sau ngày kiểm tra {visit_on:%d/%m/%Y}"]
    ongoing = item.act_kind == "ongoing" if f.ongoing is None else f.ongoing
    try:
        decree_for_act(committed_on=f.committed_on, ongoing=ongoing, discovered_on=visit_on)
    except RulesError as exc:
        return [f"{where}.committed_on: {exc}"]
    return []


def _validate_findings(items: list[Any], body: FindingsSubmission, rules: EvidenceRules | None = None,
                       visit_on: date | None = None) -> None:
    known = {item.code: item for item in items}
    errors = []
    seen: set[str] = set()
    for i, f in enumerate(body.findings):
        where = f"findings[{i}]"
        if f.item_code in seen:
            errors.append(f"{where}.item_code: mục '{f.item_code}' bị lặp lại")
        seen.add(f.item_code)
        item = known.get(f.item_code)
        if item is None:
            errors.append(f"{where}.item_code: mục '{f.item_code}' không có trong bảng kiểm của đoàn")
            continue
        if f.result == FindingResult.FAIL and item.counts_workers and not f.workers_affected:
            errors.append(f"{where}.workers_affected: mục '{f.item_code}' không đạt phải ghi số người lao động bị ảnh hưởng (≥ 1)")
        if f.result == FindingResult.FAIL and item.counts_devices and not f.devices_affected:
            errors.append(f"{where}.devices_affected: mục '{f.item_code}' không đạt phải ghi số máy, thiết bị (≥ 1)")
        errors += _act_date_errors(where, f, item, visit_on)
    missing = sorted(set(known) - seen)
    if missing:
        errors.append(f"findings: thiếu kết quả cho các mục {', '.join(missing)}")
    errors += attachment_errors(body.attachments, rules)
    errors += capture_errors(body.attachments, seen, utcnow())
    if errors:
        raise IntakeError("Kết quả kiểm tra không hợp lệ.", errors=errors)


EDITABLE = (InspectionStatus.SCHEDULED, InspectionStatus.FINDINGS_SUBMITTED, InspectionStatus.FINDINGS_RETURNED)


def latest_submission(session: Session, inspection_id: int) -> Submission | None:
    return session.exec(select(Submission).where(Submission.inspection_id == inspection_id)
                        .order_by(col(Submission.version).desc())).first()


def submit_findings(session: Session, person: Person, inspection_id: int, body: FindingsSubmission,
                    rules: EvidenceRules | None = None) -> tuple[SubmissionReceipt, bool]:
    """Store a version of an inspection's findings. Returns (receipt, created).

    An identical retry returns the stored receipt; the same client id with other content is a conflict; a new
    client id after a complete version is an edit: a new version that must say why (who and when are kept).

    This is the intake's hot path (fifty inspectors at once), so it reads and writes through Core: one
    statement per question, the findings in one executemany, the audit events in one more.
    """
    if person.role != PersonRole.INSPECTOR:
        # findings are recorded by the team on site; the officials who sanction them never enter them
        raise Forbidden("Chỉ thành viên đoàn kiểm tra mới được gửi kết quả kiểm tra.", person_id=person.id)
    conn = session.connection()
    q = _statements()
    row = conn.execute(q.inspection, {"inspection_id": inspection_id, "person_id": person.id}).first()
    if row is None or not row.member:
        raise unseen(inspection_id)
    canonical = canonical_findings(body)
    digest = content_sha256(inspection_id, body, canonical)
    # Client ids are unique per inspection: only this inspection's versions and those of inspections the caller
    # may see are looked at, so a client id another team used is a new id here (a 409 would say it exists).
    previous = conn.execute(q.by_client_id, {"client_submission_id": body.client_submission_id,
                                             "inspection_id": inspection_id, "person_id": person.id}).first()
    if previous is not None:
        if previous.content_sha256 != digest or previous.inspection_id != inspection_id:
            raise Conflict("Mã gửi này đã được dùng cho một nội dung khác; hãy tạo mã gửi mới.",
                           client_submission_id=body.client_submission_id)
        return _receipt(session, previous), False
    status = InspectionStatus(row.status)
    if status not in EDITABLE:
        raise Conflict(f"Kết quả của cuộc kiểm tra {inspection_id} đã được duyệt (trạng thái '{status}'); "
                       "không thể sửa.", inspection_id=inspection_id)
    latest = conn.execute(q.latest, {"inspection_id": inspection_id}).first()
    reason = body.reason.strip()
    if latest is not None and latest.complete and not reason:
        raise IntakeError("Kết quả kiểm tra không hợp lệ.",
                          errors=["reason: đây là bản sửa của kết quả đã gửi; phải ghi lý do sửa"])
    _validate_findings(_checklist(session, row.team_id, row.scheduled_on), body, rules, visit_on=row.scheduled_on)
    version = latest.version + 1 if latest is not None else 1
    complete = not body.attachments
    submission_id = _inserted_id(conn.execute(q.insert_submission, {
        "client_submission_id": body.client_submission_id, "inspection_id": inspection_id, "version": version,
        "submitted_by_id": person.id, "content_sha256": digest, "payload": canonical, "edit_reason": reason,
        "complete": complete, "received_at": utcnow()}))
    if body.attachments:
        conn.execute(q.insert_attachment, [_attachment_row(submission_id, a) for a in body.attachments])
    # the findings in force are the latest version's (no violation exists before the lead's approval)
    conn.execute(q.delete_findings, {"inspection_id": inspection_id})
    conn.execute(q.insert_finding, [{"inspection_id": inspection_id, "submission_id": submission_id, "evidence": [],
                                     "ongoing": None, **f, "committed_on": _day(f.get("committed_on"))}
                                    for f in canonical])
    events = [_version_event(person, inspection_id, body, reason, version)]
    if complete:
        events += _mark_submitted(conn, inspection_id, status, row.campaign_id, version, actor=person.code)
    audit.insert_events(conn, events)
    return _new_receipt(submission_id, inspection_id, body, version, complete, digest, canonical), True


def _attachment_row(submission_id: int, a: Any) -> dict[str, Any]:
    """A declared file's row (its checklist item, capture time and place: None when not given)."""
    return {"submission_id": submission_id, "name": safe_name(a.name), "sha256": a.sha256, "size": a.size,
            "content_type": a.content_type, "received": False, "item_code": a.item_code, "captured_at": a.captured_at,
            "latitude": a.latitude, "longitude": a.longitude, "accuracy_m": a.accuracy_m}


def _inserted_id(result: sa.CursorResult[Any]) -> Any:
    """The primary key of the one row an INSERT added (SQLAlchemy types ``inserted_primary_key`` as optional)."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has its primary key"
    return key[0]


def _version_event(person: Person, inspection_id: int, body: FindingsSubmission, reason: str, version: int) -> dict[str, Any]:
    """The audit event of one stored findings version."""
    return audit.event_row(actor=person.code, action="findings_version", entity_type="inspection",
                           entity_id=inspection_id, reason=reason or "Nộp kết quả kiểm tra",
                           data={"version": version, "client_submission_id": body.client_submission_id,
                                 "attachments": len(body.attachments)})


def _new_receipt(submission_id: int, inspection_id: int, body: FindingsSubmission, version: int, complete: bool,
                 digest: str, canonical: list[dict[str, Any]]) -> SubmissionReceipt:
    """The receipt of a newly stored version: what was stored, what is still missing, which items failed."""
    return SubmissionReceipt(
        submission_id=submission_id, client_submission_id=body.client_submission_id, inspection_id=inspection_id,
        version=version, complete=complete, missing_attachments=sorted(a.sha256 for a in body.attachments),
        content_sha256=digest, findings=len(canonical),
        failed_items=sorted(f["item_code"] for f in canonical if f["result"] == FindingResult.FAIL))


@cache
def _statements() -> SimpleNamespace:
    """The hot path's statements, built once (building and cache-keying a statement costs more than running it)."""
    i, tm, s = table_of(Inspection), table_of(TeamMember), table_of(Submission)
    f, a = table_of(Finding), table_of(Attachment)
    member = sa.exists().where(tm.c.team_id == i.c.team_id, tm.c.person_id == sa.bindparam("person_id"))
    own = s.c.inspection_id == sa.bindparam("inspection_id")
    seen = sa.exists().where(i.c.id == s.c.inspection_id, tm.c.team_id == i.c.team_id,
                             tm.c.person_id == sa.bindparam("person_id"))
    return SimpleNamespace(
        inspection=sa.select(i.c.status, i.c.team_id, i.c.campaign_id, i.c.scheduled_on, member.label("member"))
        .where(i.c.id == sa.bindparam("inspection_id")),
        by_client_id=sa.select(s).where(s.c.client_submission_id == sa.bindparam("client_submission_id"),
                                        sa.or_(own, seen)).order_by(sa.case((own, 0), else_=1)).limit(1),
        latest=sa.select(s.c.version, s.c.complete).where(s.c.inspection_id == sa.bindparam("inspection_id"))
        .order_by(s.c.version.desc()).limit(1),
        insert_submission=sa.insert(s), insert_attachment=sa.insert(a), insert_finding=sa.insert(f),
        delete_findings=sa.delete(f).where(f.c.inspection_id == sa.bindparam("inspection_id")),
        set_inspection_status=sa.update(i).where(i.c.id == sa.bindparam("inspection_id")),
    )


def _checklist(session: Session, team_id: int, on: date) -> list[Any]:
    """The team's checklist items on a date, kept for the session (a writer batch reads each team's once)."""
    cache = session.info.setdefault("kiemtra_checklists", {})
    if (team_id, on) not in cache:
        checklist = load_checklist(on)
        kinds = team_agency_kinds(session, team_id)
        cache[team_id, on] = [item for kind in (AgencyKind.LABOUR, AgencyKind.HEALTH) if kind in kinds
                              for item in checklist.items_for(kind.value)]
    return cache[team_id, on]


def _mark_submitted(conn: sa.Connection, inspection_id: int, status: InspectionStatus, campaign_id: int, version: int,
                    *, actor: str) -> list[dict[str, Any]]:
    """A complete version goes to the lead for review (and the campaign's fieldwork has begun): the status
    updates, returning their audit events."""
    events = []
    if status != InspectionStatus.FINDINGS_SUBMITTED:
        to = InspectionStatus.FINDINGS_SUBMITTED
        audit.check_transition(Inspection, inspection_id, status, to)
        conn.execute(_statements().set_inspection_status, {"inspection_id": inspection_id, "status": to})
        events.append(audit.event_row(actor=actor, action="status_change", entity_type="inspection", entity_id=inspection_id,
                                      from_state=str(status), to_state=str(to),
                                      reason=f"Kết quả kiểm tra phiên bản {version} đã đủ, chờ trưởng đoàn duyệt"))
    c = table_of(Campaign)
    started = conn.execute(sa.update(c).where(c.c.id == campaign_id, c.c.status == CampaignStatus.SCHEDULED)
                           .values(status=CampaignStatus.FIELDWORK))
    if started.rowcount:
        events.append(audit.event_row(actor=actor, action="status_change", entity_type="campaign", entity_id=campaign_id,
                                      from_state=str(CampaignStatus.SCHEDULED), to_state=str(CampaignStatus.FIELDWORK),
                                      reason="Kết quả kiểm tra đầu tiên đã được gửi"))
    return events


def complete_submission(session: Session, submission: Submission, *, actor: str) -> None:
    """Every declared attachment arrived (or none was declared): the version goes to the lead for review."""
    submission.complete = True
    session.add(submission)
    inspection = session.get(Inspection, submission.inspection_id)
    assert inspection is not None
    session.flush()
    audit.insert_events(session.connection(), _mark_submitted(
        session.connection(), id_of(inspection), InspectionStatus(inspection.status), inspection.campaign_id,
        submission.version, actor=actor))
    session.expire_all()  # the inspection's status (and its campaign's) changed through Core


def safe_name(name: str) -> str:
    """A declared file name as metadata only: no directories, no control characters, NFC."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:255] or "tep-dinh-kem"


def review_findings(session: Session, person: Person, inspection_id: int, body: ReviewIn) -> tuple[ReviewReceipt, bool]:
    """The lead approves the findings in force (the records can then be issued) or returns them with comments."""
    if person.role != PersonRole.LEAD:
        raise Forbidden("Chỉ người chủ trì đợt kiểm tra mới được duyệt kết quả kiểm tra.", person_id=person.id)
    inspection = find_inspection(session, inspection_id)
    latest = latest_submission(session, inspection_id)
    if latest is None or not latest.complete:
        raise Conflict(f"Cuộc kiểm tra {inspection_id} chưa có kết quả đầy đủ để duyệt.", inspection_id=inspection_id)
    decision = "approved" if body.decision == "approve" else "returned"
    done = session.exec(select(FindingReview).where(FindingReview.submission_id == latest.id)).first()
    if done is not None:
        if done.decision != decision or done.comment != body.comment.strip():
            raise Conflict(f"Phiên bản {latest.version} của cuộc kiểm tra {inspection_id} đã được xem xét với quyết định khác.",
                           inspection_id=inspection_id)
        return ReviewReceipt(inspection_id=inspection_id, version=latest.version, decision=decision,
                             status=str(inspection.status)), False
    if inspection.status != InspectionStatus.FINDINGS_SUBMITTED:
        raise Conflict(f"Cuộc kiểm tra {inspection_id} không ở trạng thái chờ duyệt (hiện: '{inspection.status}').",
                       inspection_id=inspection_id)
    if decision == "returned" and not body.comment.strip():
        raise IntakeError("Không thể trả lại kết quả.", errors=["comment: phải ghi ý kiến khi trả lại kết quả kiểm tra"])
    session.add(FindingReview(submission_id=id_of(latest), decision=decision, comment=body.comment.strip(),
                              reviewed_by_id=id_of(person)))
    target = InspectionStatus.FINDINGS_APPROVED if decision == "approved" else InspectionStatus.FINDINGS_RETURNED
    audit.transition(session, inspection, target, actor=person.code,
                     reason=(f"Duyệt kết quả kiểm tra phiên bản {latest.version}" if decision == "approved"
                             else f"Trả lại kết quả phiên bản {latest.version}: {body.comment.strip()}"))
    if decision == "returned":  # the team's inspectors hear of it (once per returned version)
        returns.notify_return(session, inspection, latest, comment=body.comment.strip(), reviewer=person)
    session.flush()
    return ReviewReceipt(inspection_id=inspection_id, version=latest.version, decision=decision, status=str(target)), True


def _receipt(session: Session, submission: Any) -> SubmissionReceipt:
    """The receipt of a stored version (an ORM object or a Core row): what an identical retry gets back."""
    findings = submission.payload or [f.model_dump(mode="json") for f in session.exec(
        select(Finding).where(Finding.submission_id == submission.id)).all()]
    missing: list[str] = []
    if not submission.complete:
        missing = list(session.exec(select(Attachment.sha256).where(Attachment.submission_id == submission.id,
                                                                    col(Attachment.received).is_(False))).all())
    return SubmissionReceipt(submission_id=submission.id, client_submission_id=submission.client_submission_id,
                             inspection_id=submission.inspection_id, version=submission.version,
                             complete=submission.complete, missing_attachments=sorted(missing),
                             content_sha256=submission.content_sha256,
                             findings=len(findings),
                             failed_items=sorted(f["item_code"] for f in findings if f["result"] == FindingResult.FAIL))


def inspections_for(session: Session, person: Person) -> list[Inspection]:
    query = select(Inspection).order_by(col(Inspection.scheduled_on), col(Inspection.id))
    if person.role == PersonRole.INSPECTOR:
        query = query.join(TeamMember, col(TeamMember.team_id) == col(Inspection.team_id)).where(TeamMember.person_id == person.id)
    return list(session.exec(query).all())


def team_name(session: Session, team_id: int) -> str:
    team = session.get(Team, team_id)
    return team.name if team else ""
