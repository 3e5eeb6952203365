"""Flow ``publish-outcomes``: put final sanction outcomes on the public register, once each."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from models import Document, InspectionStatus
from flows.portal_delivery import deliver as deliver_to_portal
from services.reports.campaign_report import issue_campaign_report
from services.reports.signed_report import waiting_vi
from services.rules.calendar import today_in_vietnam
from services.stages import publishing, records
from services.stages.common import SYSTEM_ACTOR
from services import wiring


@task(name="find-sanctioned-inspections")
def find_sanctioned(campaign_code: str) -> list[int]:
    return records.pending_inspection_ids(wiring.current().settings, campaign_code, InspectionStatus.SANCTIONED)


@task(name="publish-and-rebuild-register")
def publish(campaign_code: str, inspection_ids: list[int]) -> dict[str, Any]:
    settings = wiring.current().settings
    result = publishing.publish_outcomes(settings, campaign_code, inspection_ids)
    if result.details["campaign_closed"]:
        # the report (báo cáo kết quả kiểm tra) once the campaign is over; issuing again returns the stored one
        # (signed digitally: its draft waits for the signer, nothing else is written until it is issued)
        report = issue_campaign_report(settings, campaign_code, issued_on=today_in_vietnam(), actor=SYSTEM_ACTOR)
        if isinstance(report, Document):
            result.details["report"] = report.number
        else:
            result.waiting += 1
            result.details.update(report=None, report_waiting_vi=waiting_vi(report), report_request=report.id)
    return result.as_dict()


@flow(name="publish-outcomes")
def publish_outcomes(campaign_code: str) -> dict[str, Any]:
    """De-identified outcomes; the register's JSON, CSV and page are rebuilt from the stored publications; what is
    due goes to the province portal (the portal-delivery flow retries the rest on its schedule)."""
    out = publish(campaign_code, find_sanctioned(campaign_code))
    out["portal"] = deliver_to_portal()
    return out
