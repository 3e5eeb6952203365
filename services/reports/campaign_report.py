"""Báo cáo kết quả kiểm tra (DOMAIN.md 2.8): one campaign's report to the decision-maker, issued with a number.

Contents (template ``bao_cao_ket_qua_kiem_tra``), every figure computed from the stored rows:

- I. the objects and the process: the establishments selected, scheduled and inspected (by sector), the teams,
  the days of the visits, the minutes and violation records drawn up;
- II. the assessment: establishments with and without violations; the nature and degree of the violations (by
  provision with the act, by field of the agency that found them, the most frequent acts, repeat offences, by
  establishment); the causes and the responsibilities (standard wording naming what the data shows);
- III. the measures applied: fines proposed and decided, the sanction decisions and their compliance, the remedial
  measures ordered and done (``Deadline`` rows of kind ``comply`` and ``remedial``: due, met, open, overdue on the
  report's date);
- IV. the recommendations (computed from the open items, the most violated provisions, plus any given).

The figures agree with each other: the deadlines are created from the stored state first
(:func:`services.stages.deadlines.create_from_state`, in :func:`issue_campaign_report`), so every sanction decision
is counted once among those to comply with, and each is "đã chấp hành" exactly when its ``comply`` deadline is
met. An XLSX with the same figures (one sheet per table, :func:`services.documents.xlsx.write_report_xlsx`) is
written beside the PDF when the report is issued. Where the report is signed digitally (``report`` in
``KIEMTRA_SIGNING_DOCUMENTS``) it goes through the NĐ 30/2020 issuing sequence instead: drafted, signed by its signer,
then numbered, dated, sealed and issued, its XLSX written then from the signed draft's figures
(:mod:`services.reports.signed_report`); nothing else is written while it waits.

The report is a snapshot on its date: :func:`issue_campaign_report` issues revision 1 once (issuing again
returns the stored one, services.documents.issuing); a later state is reported by a new revision (``revision=2``).

The number's symbol is the procedure's ``document_symbols.report``; the procedure files have no such key yet,
so :data:`DEFAULT_SYMBOL` (``BC-ĐKT``: báo cáo of the đoàn kiểm tra, as KH-ĐKT and TB-ĐKT) is used meanwhile.

The figures are computed in :mod:`services.reports.campaign_figures`, the sentences worded in
:mod:`services.reports.report_wording`.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models import (Agency, Campaign, CampaignKind, Document, DocumentType, Establishment, Inspection, InspectionStatus,
                    Selection, SigningRequest)
from services.db import session_scope
from services.documents.format import signer_of
from services.documents.issuing import find_document, issue_document
from services.documents.signed_issuing import signing_enabled
from services.documents.xlsx import write_report_xlsx
from services.reports import campaign_figures as figures
from services.reports import signed_report
from services.reports.campaign_figures import VISITED
from services.reports.signed_report import report_signer, xlsx_path
from services.reports.report_wording import (TOP_ACTS, causes_vi, percent_vi, recommendations_vi, responsibilities_vi,
                                             subject_vi, visits_vi)
from services.rules.procedure import Procedure, procedure_for
from services.settings import Settings
from services.stages import deadlines
from services.stages.common import get_campaign
from services.stages.records import issuer_of
from services.text_collation import collation_key

TEMPLATE = "bao_cao_ket_qua_kiem_tra"
DEFAULT_SYMBOL = "BC-ĐKT"
SYMBOL_KEY = "report"
ACTOR = "system"


def symbol_of(procedure: Procedure, key: str = SYMBOL_KEY, default: str = DEFAULT_SYMBOL) -> str:
    """The procedure's symbol for ``key``, or ``default`` while the procedure files lack it."""
    return str(procedure.raw.get("document_symbols", {}).get(key, default))


def report_context(session: Session, campaign: Campaign, *, issued_on: date,
                   recommendations: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything the template prints (without ``number``)."""
    inspections = session.exec(select(Inspection).where(Inspection.campaign_id == campaign.id)).all()
    visited = [i for i in inspections if InspectionStatus(i.status) in VISITED]
    selected = session.exec(select(Selection).where(Selection.campaign_id == campaign.id,
                                                    Selection.removed == False)).all()  # noqa: E712
    names = figures.agency_names(session, campaign)
    members = session.exec(select(Agency).where(col(Agency.code).in_(campaign.member_agency_codes))
                           .order_by(col(Agency.id))).all()
    rows = figures.violation_rows(session, campaign)
    decided = [v for v, _, _ in rows if v.final_amount is not None]
    ids = {i.establishment_id for i in inspections}
    establishments = {e.id: e for e in session.exec(select(Establishment).where(
        col(Establishment.id).in_(ids)))} if ids else {}
    violators = {i.establishment_id for _, _, i in rows}
    lead = report_signer(session, campaign)
    decisions = figures.latest_decisions(session, campaign)
    lead_agency = session.get(Agency, campaign.lead_agency_id)
    assert lead_agency is not None
    remedies = figures.remedy_figures(session, campaign, decisions, rows, issued_on)

    sectors = figures.sector_rows(visited, establishments, violators, rows)
    by_establishment = figures.establishment_rows(rows, decisions, establishments, remedies)

    violations: dict[str, Any] = {"count": len(rows), "establishments": len(violators),
                  "by_provision": figures.by_provision(rows), "by_agency": figures.by_agency(rows, names),
                  "by_establishment": by_establishment, "repeat": figures.repeats(rows)}
    violations["top"] = violations["by_provision"][:TOP_ACTS]
    fines = {"proposed": sum(v.proposed_amount for v, _, _ in rows), "final": sum(v.final_amount or 0 for v in decided),
             "decided": len(decided), "undecided": len(rows) - len(decided),
             "proposed_of_decided": sum(v.proposed_amount for v in decided), "decisions": len(decisions)}
    days = sorted(i.scheduled_on for i in visited)
    return {
        "issuer": issuer_of(session, campaign), "issued_on": issued_on,
        "campaign": {"code": campaign.code, "title": campaign.title, "subject_vi": subject_vi(campaign.title),
                     "period_start": campaign.period_start, "period_end": campaign.period_end,
                     "basis_vi": figures.basis_vi(session, campaign),
                     "kind_vi": "đột xuất" if campaign.kind == CampaignKind.SURPRISE else "theo kế hoạch",
                     "agencies_vi": ", ".join([lead_agency.name, *(a.name for a in members)])},
        "overview": {"selected": len(selected), "scheduled": len(inspections), "inspected": len(visited),
                     "not_inspected": len(inspections) - len(visited), "teams": figures.team_rows(session, campaign),
                     "sectors": sorted(sectors.values(), key=lambda s: (-s["inspected"], collation_key(s["label"]))),
                     "visits_vi": visits_vi(days),
                     "minutes": figures.count_docs(session, campaign, DocumentType.MINUTES),
                     "records": figures.count_docs(session, campaign, DocumentType.VIOLATION_RECORD)},
        "assessment": {"with_violations": len(violators), "without_violations": len(visited) - len(violators),
                       "share_vi": percent_vi(len(violators), len(visited))},
        "violations": violations,
        "fines": fines,
        "remedies": {k: v for k, v in remedies.items() if k != "comply_states"},
        "causes": causes_vi(violations),
        "responsibilities": responsibilities_vi(violations, remedies, fines),
        "recommendations": recommendations_vi(violations, remedies, fines, recommendations or ()),
        "signer": signer_of(lead.full_name if lead else "", lead.title if lead else "Trưởng đoàn"),
    }


def issue_campaign_report(settings: Settings, campaign_code: str, *, issued_on: date, actor: str = ACTOR,
                          recommendations: Sequence[str] | None = None, revision: int = 1,
                          redraft: bool = False) -> Document | SigningRequest:
    """Issue the campaign's report (once per revision; issuing again returns the stored one), with its XLSX; where the
    report is signed digitally (``report`` in ``KIEMTRA_SIGNING_DOCUMENTS``), its draft put to its signer
    (:mod:`services.reports.signed_report`) and returned until the report is issued; ``redraft``: a refused draft
    drawn again.

    The deadlines the stored state calls for are created first, so the compliance the report gives covers every
    decision; the XLSX is written from the very context the PDF is rendered from.
    """
    deadlines.create_from_state(settings)
    built: dict[str, Any] = {}
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        assert campaign.id is not None
        subject, symbol = f"campaign:{campaign.id}", symbol_of(procedure_for(issued_on))
        context = report_context(session, campaign, issued_on=issued_on, recommendations=recommendations)
        previous = None
        if revision > 1:
            previous = find_document(session, doc_type=DocumentType.REPORT, subject_key=subject, revision=revision - 1)
        if signing_enabled(settings, DocumentType.REPORT) and \
                find_document(session, doc_type=DocumentType.REPORT, subject_key=subject, revision=revision) is None:
            return signed_report.draft_report(session, settings, campaign, context, revision=revision, previous=previous,
                                              symbol=symbol, template=TEMPLATE, actor=actor, redraft=redraft)

        def build(number: str) -> dict[str, Any]:
            built.update(context, number=number)
            return built

        doc = issue_document(session, settings, doc_type=DocumentType.REPORT, subject_key=subject,
                             issuer_code=context["issuer"]["code"], symbol=symbol,
                             year=issued_on.year, campaign_id=campaign.id, inspection_id=None, template=TEMPLATE,
                             build_context=build, actor=actor,
                             revision=revision, supersedes_id=previous.id if previous else None)
    if built:  # issued now: its figures beside it (a stored report keeps the XLSX written with it)
        write_report_xlsx(built, xlsx_path(settings, doc))
    else:  # a signed report whose XLSX was not written yet (its issue interrupted): from its draft's figures
        signed_report.after_issue(settings, doc)
    return doc


__all__ = ["DEFAULT_SYMBOL", "TEMPLATE", "issue_campaign_report", "report_context", "symbol_of", "xlsx_path"]
