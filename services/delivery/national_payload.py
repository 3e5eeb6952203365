"""The national feed's message (contract ``kiemtra-national-feed/1``, docs/national-feed.md) as a pure function of
stored data: what NĐ 20/2016/NĐ-CP (the national database on handling administrative violations) and its
successors ask of a sanction decision — the sanctioned party (an organisation by name, tax code and address; a
household business by its owner as the decision names them), the decision's number and date, each act with the
provision and decree applied, the sanction and amount, the remedial measures with their last day, the deciding
official's title and body — then its execution (paid on, with the receipt).

The acts are the decision's own lines (:func:`services.documents.acts.violation_line`, the line the PDF, the
register and the portal print); the amounts are the official's final ones.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from models import Document, Establishment, Person, Violation
from services.documents.acts import violation_line
from services.rules.decrees import decree_of
from services.rules.deadline_rules import due_date
from services.rules.fine_table import FineRule
from models.deadline import DeadlineKind
from services.rules.procedure import Procedure

CONTRACT = "kiemtra-national-feed/1"


@dataclass(frozen=True)
class Decider:
    """Who decided, as the decision's signature block and header name them."""
    full_name: str
    position: str  # the person's post (Person.title)
    signing_title_vi: str  # the title line above the signature ("GIÁM ĐỐC", "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC")
    decider_vi: str  # the competent title with its area ("Giám đốc Sở Nội vụ tỉnh Cao Bằng")
    body_vi: str  # the issuing body ("Sở Nội vụ")
    parent_body_vi: str  # the body above it, as the header writes it ("" for a People's Committee)
    body_code: str  # the number series' issuer code


@dataclass(frozen=True)
class Execution:
    """The decision carried out: the day paid (or complied) and the receipt named on the deadline."""
    paid_on: date
    amount_vnd: int
    receipt_sha256: str
    receipt_name: str
    receipt_content_type: str
    confirmed_by: str
    note_vi: str


def party(e: Establishment) -> dict[str, Any]:
    """The sanctioned party as the decision names it: an organisation, or a household business fined as an
    individual whose owner is named (NĐ 283/2026 Art.7 cl.3)."""
    organisation = e.is_organisation
    out: dict[str, Any] = {"kind": "organisation" if organisation else "household_business",
                           "name": e.name, "tax_code": e.tax_code, "address": e.address,
                           "province_code": e.province_code, "commune_code": e.commune_code}
    role = "legal_representative" if organisation else "individual"
    out[role] = {"full_name": e.legal_representative, "title": e.representative_title or ("" if organisation
                                                                                         else "Chủ hộ kinh doanh")}
    return out


def acts(violations: Sequence[Violation], rules: Mapping[str, FineRule], decided_on: date,
         procedure: Procedure) -> list[dict[str, Any]]:
    """Each act: what was done, the provision and decree applied, the fine, the remedial measures with their last day."""
    out = []
    for n, v in enumerate(violations, start=1):
        rule = rules[v.provision_code]
        line = violation_line(v, rule, amount=v.final_amount)
        decree = decree_of(v.provision_code)
        remedies = []
        if rule.remedial_measure.strip():
            due, _ = due_date(DeadlineKind.REMEDIAL, decided_on, procedure, remedial_vi=rule.remedial_measure.strip())
            remedies.append({"measure_vi": rule.remedial_measure.strip(), "days": procedure.remedial_days_default,
                             "due_on": due.isoformat()})
        out.append({"no": n, "act_vi": line["act_vi"], "provision_code": v.provision_code,
                    "provision_vi": line["provision_vi"],
                    "decree": {"key": decree.key, "number_vi": decree.number_vi, "citation_vi": decree.citation_vi},
                    "sanction": {"principal": "fine", "fine_vnd": line["amount"], "range_min_vnd": v.range_min,
                                 "range_max_vnd": v.range_max, "additional": []},
                    "remedial_measures": remedies})
    return out


def decision_message(*, event: str, key: str, decision: Document, establishment: Establishment,
                     violations: Sequence[Violation], rules: Mapping[str, FineRule], decider: Decider,
                     procedure: Procedure, replaces: Document | None = None, reason_vi: str = "",
                     execution: Execution | None = None) -> dict[str, Any]:
    """The whole message of one event of one decision (``procedure``: the version in force on the decision's day)."""
    assert decision.issued_on is not None, "only an issued decision is reported"
    issued_on = decision.issued_on
    listed = acts(violations, rules, issued_on, procedure)
    comply_by, _ = due_date(DeadlineKind.COMPLY, issued_on, procedure)
    return {
        "contract": CONTRACT, "event": event, "message_key": key,
        "decision": {"number": decision.number, "issued_on": issued_on.isoformat(), "revision": decision.revision,
                     "document_sha256": decision.sha256, "issuer_code": decision.issuer_code,
                     "replaces": None if replaces is None else {
                         "number": replaces.number,
                         "issued_on": replaces.issued_on.isoformat() if replaces.issued_on else None,
                         "reason_vi": reason_vi}},
        "sanctioned_party": party(establishment),
        "acts": listed,
        "total_fine_vnd": sum(a["sanction"]["fine_vnd"] or 0 for a in listed),
        "comply_days": procedure.comply_days, "comply_by": comply_by.isoformat(),
        "decided_by": {"full_name": decider.full_name, "position": decider.position,
                       "signing_title_vi": decider.signing_title_vi, "decider_vi": decider.decider_vi,
                       "body_vi": decider.body_vi, "parent_body_vi": decider.parent_body_vi,
                       "body_code": decider.body_code},
        "execution": None if execution is None else {
            "paid_on": execution.paid_on.isoformat(), "amount_vnd": execution.amount_vnd,
            "receipt": {"sha256": execution.receipt_sha256, "name": execution.receipt_name,
                        "content_type": execution.receipt_content_type},
            "confirmed_by": execution.confirmed_by, "note_vi": execution.note_vi},
    }


def decider_of(official: Person, signature_lines: Sequence[str], issuer: Mapping[str, Any]) -> Decider:
    """The decider from the official, the title lines they sign under and the issuing body (``issuing_body``)."""
    return Decider(full_name=official.full_name, position=official.title, signing_title_vi=" / ".join(signature_lines),
                   decider_vi=str(issuer["decider_vi"]), body_vi=str(issuer["name"]),
                   parent_body_vi=str(issuer.get("parent_name") or ""), body_code=str(issuer["code"]))
