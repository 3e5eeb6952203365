"""Where a campaign stands: counts per state, documents, publications, and what it waits for."""
from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from models import (Appeal, AppealOutcome, AuditEvent, CampaignStatus, DeliveryStatus, Document, DocumentType, Establishment,
                    Inspection, InspectionStatus, Notification, Publication, Selection, SigningRequest, SigningState, Team,
                    Violation)
from services.db import session_scope
from services.delivery import national_feed
from services.settings import Settings
from models.base import id_of
from services.stages.common import get_campaign


def campaign_status(settings: Settings, campaign_code: str) -> dict[str, Any]:
    with session_scope(settings) as session:
        c = get_campaign(session, campaign_code)
        states = Counter(dict(session.exec(select(Inspection.status, sa.func.count()).where(Inspection.campaign_id == c.id)
                                           .group_by(Inspection.status)).all()))
        docs = dict(session.exec(select(Document.doc_type, sa.func.count()).where(Document.campaign_id == c.id)
                                 .group_by(Document.doc_type)).all())
        violations, proposed, final = session.exec(
            select(sa.func.count(col(Violation.id)), sa.func.coalesce(sa.func.sum(Violation.proposed_amount), 0),
                   sa.func.coalesce(sa.func.sum(Violation.final_amount), 0))
            .join(Inspection, col(Violation.inspection_id) == Inspection.id).where(Inspection.campaign_id == c.id)).one()
        undecided = session.exec(select(sa.func.count(sa.distinct(col(Violation.inspection_id))))
                                 .join(Inspection, col(Violation.inspection_id) == Inspection.id)
                                 .where(Inspection.campaign_id == c.id, col(Violation.final_amount).is_(None))).one()
        selected = session.exec(select(sa.func.count()).select_from(Selection)
                                .where(Selection.campaign_id == c.id, col(Selection.removed).is_(False))).one()
        teams = session.exec(select(sa.func.count()).select_from(Team).where(Team.campaign_id == c.id)).one()
        pending_notifications = session.exec(select(sa.func.count()).select_from(Notification)
                                             .where(Notification.campaign_id == c.id,
                                                    Notification.status == DeliveryStatus.PENDING)).one()
        publications = session.exec(select(sa.func.count()).select_from(Publication)
                                    .where(Publication.campaign_id == c.id)).one()
        open_appeals = session.exec(select(sa.func.count()).select_from(Appeal)
                                    .join(Inspection, col(Inspection.id) == Appeal.inspection_id)
                                    .where(Inspection.campaign_id == c.id, Appeal.outcome == AppealOutcome.OPEN)).one()
        failures = stage_failures(session, id_of(c))
        signing = Counter(dict(session.exec(select(SigningRequest.state, sa.func.count())  # only a latest draft waits
                                            .where(SigningRequest.campaign_id == c.id).group_by(SigningRequest.state)).all()))
        feed = national_feed.counts(session, id_of(c))
    notices = docs.get(DocumentType.INSPECTION_NOTICE, 0)
    waiting = []
    if c.status == CampaignStatus.SELECTED:
        waiting.append(f"người chủ trì phê duyệt danh sách {selected} cơ sở đề xuất")
    if states[InspectionStatus.FINDINGS_SUBMITTED]:
        waiting.append(f"trưởng đoàn duyệt kết quả kiểm tra của {states[InspectionStatus.FINDINGS_SUBMITTED]} cơ sở")
    if states[InspectionStatus.FINDINGS_RETURNED]:
        waiting.append(f"thanh tra viên sửa kết quả bị trả lại của {states[InspectionStatus.FINDINGS_RETURNED]} cơ sở")
    if states[InspectionStatus.SCHEDULED]:
        waiting.append(f"kết quả kiểm tra của {states[InspectionStatus.SCHEDULED]} cơ sở")
    if undecided:
        waiting.append(f"quyết định mức phạt của người có thẩm quyền cho {undecided} hồ sơ")
    waiting += _signing_waits(signing)
    for f in failures:
        waiting.append(f"xử lý lỗi ở cuộc kiểm tra {f['inspection_id']} ({f['establishment']}): {f['reason']}")
    if open_appeals:
        waiting.append(f"kết quả giải quyết khiếu nại, khởi kiện đối với {open_appeals} quyết định xử phạt (chưa công khai)")
    return {"code": c.code, "status": str(c.status), "selected": selected, "teams": teams,
            "inspections": {s.value: states.get(s, 0) for s in InspectionStatus},
            "documents": {str(k): v for k, v in docs.items()}, "violations": violations,
            "proposed_vnd": int(proposed), "final_vnd": int(final or 0), "publications": publications,
            "notifications_pending": pending_notifications,
            "ready_for_decision": states[InspectionStatus.RECORDS_ISSUED] - undecided,
            "notices_missing": (max(sum(states.values()) - notices, 0)
                                if c.status in (CampaignStatus.SCHEDULED, CampaignStatus.FIELDWORK) else 0),
            "failures": failures, "waiting_for": waiting,
            "national_feed": {**feed, "off": national_feed.feed_off_reason(settings) or ""}}


def _signing_waits(states: Counter[str]) -> list[str]:
    waits = []
    if states[SigningState.AWAITING_SIGNATURE.value]:
        waits.append(f"người có thẩm quyền ký số {states[SigningState.AWAITING_SIGNATURE.value]} dự thảo "
                     "(bảng điều khiển: Văn bản chờ ký số)")
    if states[SigningState.SIGNED.value]:
        waits.append(f"cấp số, ngày và chữ ký số của cơ quan cho {states[SigningState.SIGNED.value]} văn bản đã ký "
                     "(kiemtra documents issue-signed)")
    return waits


def stage_failures(session: Any, campaign_id: int) -> list[dict[str, Any]]:
    """Inspections whose last recorded stage failure came after their last status change: still to be fixed."""
    events = session.exec(select(AuditEvent).join(Inspection, col(Inspection.id) == AuditEvent.entity_id)
                          .where(AuditEvent.entity_type == "inspection", Inspection.campaign_id == campaign_id,
                                 col(AuditEvent.action).in_(["stage_failed", "status_change"]))
                          .order_by(col(AuditEvent.id))).all()
    last: dict[int, Any] = {}
    for event in events:
        last[event.entity_id] = event
    out = []
    for inspection_id, event in sorted(last.items()):
        if event.action != "stage_failed":
            continue
        inspection = session.get(Inspection, inspection_id)
        establishment = session.get(Establishment, inspection.establishment_id)
        out.append({"inspection_id": inspection_id, "establishment": establishment.name, "reason": event.reason,
                    "at": event.at.isoformat() if getattr(event, "at", None) else ""})
    return out
