"""The intake's decisions over the database, independent of HTTP (the API calls these)."""
from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import (Agency, AgencyKind, Attachment, Campaign, CampaignStatus, Establishment, Finding, FindingResult,
                    FindingReview, Inspection,
                    InspectionStatus, Person, PersonRole, Submission, Team, TeamMember, Violation)
from services import audit
from services.errors import Conflict, Forbidden, IntakeError, NotFound
from services.intake.schemas import (DecisionIn, DecisionReceipt, FindingsSubmission, ReviewIn, ReviewReceipt,
                                     SubmissionReceipt)
from services.rules.checklist import load_checklist
from services.rules.procedure import competent_signer, procedure_for


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def person_for_token(session: Session, token: str) -> Person | None:
    return session.exec(select(Person).where(Person.token_hash == hash_token(token))).first()


def _inspection(session: Session, inspection_id: int) -> Inspection:
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound(f"Không tìm thấy cuộc kiểm tra số {inspection_id}.", inspection_id=inspection_id)
    return inspection


def team_agency_kinds(session: Session, team_id: int) -> set[AgencyKind]:
    rows = session.exec(select(Agency.kind).join(Person, Person.agency_id == Agency.id)
                        .join(TeamMember, TeamMember.person_id == Person.id).where(TeamMember.team_id == team_id)).all()
    return {AgencyKind(k) for k in rows} | {AgencyKind.LABOUR}


def checklist_for(session: Session, inspection: Inspection) -> list[Any]:
    checklist = load_checklist(inspection.scheduled_on)
    kinds = team_agency_kinds(session, inspection.team_id)
    return [item for kind in (AgencyKind.LABOUR, AgencyKind.HEALTH) if kind in kinds for item in checklist.items_for(kind.value)]


def authorise(session: Session, person: Person, inspection: Inspection) -> None:
    """Inspectors act only on their own team's inspections; leads and officials on any."""
    if person.role != PersonRole.INSPECTOR:
        return
    member = session.exec(select(TeamMember.id).where(TeamMember.team_id == inspection.team_id,
                                                      TeamMember.person_id == person.id)).first()
    if member is None:
        raise Forbidden("Bạn không thuộc đoàn kiểm tra được giao cuộc kiểm tra này.", inspection_id=inspection.id,
                        person_id=person.id)


def get_inspection(session: Session, person: Person, inspection_id: int) -> Inspection:
    inspection = _inspection(session, inspection_id)
    authorise(session, person, inspection)
    return inspection


def content_sha256(inspection_id: int, body: FindingsSubmission) -> str:
    """What makes two sends "the same submission": findings (any order), declared files and the edit reason."""
    canonical = sorted((f.model_dump(mode="json") for f in body.findings), key=lambda f: f["item_code"])
    files = sorted((a.model_dump(mode="json") for a in body.attachments), key=lambda a: a["sha256"])
    content = [inspection_id, canonical, files, body.reason.strip()] if files or body.reason.strip() else [inspection_id, canonical]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _validate_findings(items: list[Any], body: FindingsSubmission) -> None:
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
    missing = sorted(set(known) - seen)
    if missing:
        errors.append(f"findings: thiếu kết quả cho các mục {', '.join(missing)}")
    if errors:
        raise IntakeError("Kết quả kiểm tra không hợp lệ.", errors=errors)


EDITABLE = (InspectionStatus.SCHEDULED, InspectionStatus.FINDINGS_SUBMITTED, InspectionStatus.FINDINGS_RETURNED)


def latest_submission(session: Session, inspection_id: int) -> Submission | None:
    return session.exec(select(Submission).where(Submission.inspection_id == inspection_id)
                        .order_by(Submission.version.desc())).first()  # type: ignore[attr-defined]


def submit_findings(session: Session, person: Person, inspection_id: int, body: FindingsSubmission) -> tuple[SubmissionReceipt, bool]:
    """Store a version of an inspection's findings. Returns (receipt, created).

    An identical retry returns the stored receipt; the same client id with other content is a conflict; a new
    client id after a complete version is an edit: a new version that must say why (who and when are kept).
    """
    if person.role != PersonRole.INSPECTOR:
        # findings are recorded by the team on site; the officials who sanction them never enter them
        raise Forbidden("Chỉ thành viên đoàn kiểm tra mới được gửi kết quả kiểm tra.", person_id=person.id)
    inspection = get_inspection(session, person, inspection_id)
    digest = content_sha256(inspection_id, body)
    previous = session.exec(select(Submission).where(Submission.client_submission_id == body.client_submission_id)).first()
    if previous is not None:
        if previous.content_sha256 != digest or previous.inspection_id != inspection_id:
            raise Conflict("Mã gửi này đã được dùng cho một nội dung khác; hãy tạo mã gửi mới.",
                           client_submission_id=body.client_submission_id)
        return _receipt(session, previous), False
    if inspection.status not in EDITABLE:
        raise Conflict(f"Kết quả của cuộc kiểm tra {inspection_id} đã được duyệt (trạng thái '{inspection.status}'); "
                       "không thể sửa.", inspection_id=inspection_id)
    latest = latest_submission(session, inspection_id)
    editing = latest is not None and latest.complete
    if editing and not body.reason.strip():
        raise IntakeError("Kết quả kiểm tra không hợp lệ.",
                          errors=["reason: đây là bản sửa của kết quả đã gửi; phải ghi lý do sửa"])
    _validate_findings(checklist_for(session, inspection), body)
    canonical = sorted((f.model_dump(mode="json") for f in body.findings), key=lambda f: f["item_code"])
    submission = Submission(client_submission_id=body.client_submission_id, inspection_id=inspection_id,
                            version=(latest.version + 1) if latest else 1, submitted_by_id=person.id,
                            content_sha256=digest, payload=canonical, edit_reason=body.reason.strip(),
                            complete=not body.attachments)
    session.add(submission)
    session.flush()
    for a in body.attachments:
        session.add(Attachment(submission_id=submission.id, name=safe_name(a.name), sha256=a.sha256, size=a.size,
                               content_type=a.content_type))
    # the findings in force are the latest version's (no violation exists before the lead's approval)
    session.connection().execute(sa.delete(Finding.__table__).where(Finding.__table__.c.inspection_id == inspection_id))  # type: ignore[attr-defined]
    session.connection().execute(sa.insert(Finding.__table__), [  # type: ignore[attr-defined]
        {"inspection_id": inspection_id, "submission_id": submission.id, "evidence": [], **f.model_dump()}
        for f in body.findings])
    audit.record(session, actor=person.code, action="findings_version", entity=inspection,
                 reason=body.reason.strip() or "Nộp kết quả kiểm tra",
                 data={"version": submission.version, "client_submission_id": body.client_submission_id,
                       "attachments": len(body.attachments)})
    if submission.complete:
        complete_submission(session, submission, actor=person.code)
    session.flush()
    return _receipt(session, submission), True


def complete_submission(session: Session, submission: Submission, *, actor: str) -> None:
    """Every declared attachment arrived (or none was declared): the version goes to the lead for review."""
    submission.complete = True
    session.add(submission)
    inspection = session.get(Inspection, submission.inspection_id)
    assert inspection is not None
    if inspection.status != InspectionStatus.FINDINGS_SUBMITTED:
        audit.transition(session, inspection, InspectionStatus.FINDINGS_SUBMITTED, actor=actor,
                         reason=f"Kết quả kiểm tra phiên bản {submission.version} đã đủ, chờ trưởng đoàn duyệt")
    campaign = session.get(Campaign, inspection.campaign_id)
    if campaign is not None and campaign.status == CampaignStatus.SCHEDULED:
        audit.transition(session, campaign, CampaignStatus.FIELDWORK, actor=actor,
                         reason="Kết quả kiểm tra đầu tiên đã được gửi")


def safe_name(name: str) -> str:
    """A declared file name as metadata only: no directories, no control characters, NFC."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:255] or "tep-dinh-kem"


def review_findings(session: Session, person: Person, inspection_id: int, body: ReviewIn) -> tuple[ReviewReceipt, bool]:
    """The lead approves the findings in force (the records can then be issued) or returns them with comments."""
    if person.role != PersonRole.LEAD:
        raise Forbidden("Chỉ người chủ trì đợt kiểm tra mới được duyệt kết quả kiểm tra.", person_id=person.id)
    inspection = _inspection(session, inspection_id)
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
    session.add(FindingReview(submission_id=latest.id, decision=decision, comment=body.comment.strip(),
                              reviewed_by_id=person.id))
    target = InspectionStatus.FINDINGS_APPROVED if decision == "approved" else InspectionStatus.FINDINGS_RETURNED
    audit.transition(session, inspection, target, actor=person.code,
                     reason=(f"Duyệt kết quả kiểm tra phiên bản {latest.version}" if decision == "approved"
                             else f"Trả lại kết quả phiên bản {latest.version}: {body.comment.strip()}"))
    session.flush()
    return ReviewReceipt(inspection_id=inspection_id, version=latest.version, decision=decision, status=str(target)), True


def _receipt(session: Session, submission: Submission) -> SubmissionReceipt:
    findings = submission.payload or [f.model_dump(mode="json") for f in session.exec(
        select(Finding).where(Finding.submission_id == submission.id)).all()]
    missing = session.exec(select(Attachment.sha256).where(Attachment.submission_id == submission.id,
                                                           Attachment.received.is_(False))).all()  # type: ignore[attr-defined]
    return SubmissionReceipt(submission_id=submission.id, client_submission_id=submission.client_submission_id,
                             inspection_id=submission.inspection_id, version=submission.version,
                             complete=submission.complete, missing_attachments=sorted(missing),
                             content_sha256=submission.content_sha256,
                             findings=len(findings),
                             failed_items=sorted(f["item_code"] for f in findings if f["result"] == FindingResult.FAIL))


def is_organisation(establishment: Establishment) -> bool:
    """Household businesses are sanctioned as individuals; enterprises and co-operatives as organisations."""
    return establishment.ownership != "ho_kinh_doanh"


def required_signer(session: Session, inspection: Inspection) -> str | None:
    violations = session.exec(select(Violation).where(Violation.inspection_id == inspection.id)).all()
    if not violations:
        return None
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    signer = competent_signer([v.range_max for v in violations], organisation=is_organisation(establishment),
                              procedure=procedure_for(inspection.scheduled_on))
    return signer.title


def record_decision(session: Session, person: Person, inspection_id: int, body: DecisionIn) -> tuple[DecisionReceipt, bool]:
    """The competent official sets the final amount of each act (within its range)."""
    if person.role != PersonRole.OFFICIAL:
        raise Forbidden("Chỉ người có thẩm quyền xử phạt mới được quyết định mức phạt.", person_id=person.id)
    inspection = _inspection(session, inspection_id)
    violations = {v.id: v for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id)).all()}
    already = bool(violations) and all(v.final_amount is not None for v in violations.values())
    if not violations or not already and inspection.status != InspectionStatus.RECORDS_ISSUED:
        raise Conflict(f"Cuộc kiểm tra {inspection_id} chưa có biên bản vi phạm hành chính để quyết định xử phạt.",
                       inspection_id=inspection_id)
    needed = required_signer(session, inspection)
    ceilings = {s.title: s.ceiling_individual_vnd for s in procedure_for(inspection.scheduled_on).signers}
    if needed is None or ceilings.get(person.title, -1) < ceilings[needed]:
        raise Forbidden(f"Vượt thẩm quyền: hồ sơ này phải do {needed} quyết định.", inspection_id=inspection_id)
    errors = [f"amounts: thiếu mức phạt cho hành vi {vid}" for vid in violations if vid not in body.amounts]
    if body.decided_on < inspection.scheduled_on:
        errors.append(f"decided_on: ngày quyết định {body.decided_on:%d/%m/%Y} trước ngày lập biên bản vi phạm "
                      f"{inspection.scheduled_on:%d/%m/%Y}")
    if body.decided_on > date.today():
        errors.append(f"decided_on: ngày quyết định {body.decided_on:%d/%m/%Y} chưa đến")
    errors += [f"amounts.{vid}: không có hành vi này trong hồ sơ" for vid in body.amounts if vid not in violations]
    for vid, amount in body.amounts.items():
        v = violations.get(vid)
        if v is not None and not v.range_min <= amount <= v.range_max:
            errors.append(f"amounts.{vid}: mức phạt {amount:,} đồng nằm ngoài khung {v.range_min:,}–{v.range_max:,} đồng")
    if errors:
        raise IntakeError("Quyết định không hợp lệ.", errors=errors)
    if already:
        same = all(v.final_amount == body.amounts[v.id] and v.decided_on == body.decided_on and v.decided_by_id == person.id
                   for v in violations.values())
        if not same:
            raise Conflict(f"Cuộc kiểm tra {inspection_id} đã có quyết định mức phạt khác.", inspection_id=inspection_id)
    else:
        for v in violations.values():
            v.final_amount, v.decided_by_id, v.decided_on = body.amounts[v.id], person.id, body.decided_on
            session.add(v)
        audit.record(session, actor=person.code, action="fine_decided", entity=inspection,
                     reason=f"Quyết định mức phạt ngày {body.decided_on:%d/%m/%Y}",
                     data={str(k): a for k, a in body.amounts.items()})
    total = sum(body.amounts.values())
    return DecisionReceipt(inspection_id=inspection_id, decided_by=person.full_name, decided_on=body.decided_on,
                           total_vnd=total), not already


def inspections_for(session: Session, person: Person) -> list[Inspection]:
    query = select(Inspection).order_by(Inspection.scheduled_on, Inspection.id)
    if person.role == PersonRole.INSPECTOR:
        query = query.join(TeamMember, TeamMember.team_id == Inspection.team_id).where(TeamMember.person_id == person.id)
    return list(session.exec(query).all())


def team_name(session: Session, team_id: int) -> str:
    team = session.get(Team, team_id)
    return team.name if team else ""
