"""The law in force on the day, for one file: which decree each act is judged under, its range and proposal, and
who decides the file — pure functions over the rule data (decrees, checklists, fine tables, procedure versions).

- **Which decree** (NĐ 283/2026 Art.67; NĐ 118/2021 Art.7 cl.2): an act still going on when it is discovered is
  judged under the decree in force on the day of discovery; an act that ended before it, under the decree in
  force when it was committed. When the inspector did not date an ended act, the decree is still certain if one
  decree was in force over the whole limitation year before the discovery (an older act is time-barred anyway);
  otherwise the date is asked for (:class:`ActDateNeeded`).
- **Which provision**: the checklist item in force on the visit links one row of each catalog; the decree picks it.
- **The lighter rule** (NĐ 118/2021 Art.7 cl.1 → Art.156 cl.3 Luật Ban hành văn bản quy phạm pháp luật 2015: a new
  text that no longer provides liability, or provides a lighter one, for an act committed before it applies): an
  act judged under an older decree but handled while a newer one is in force is not sanctioned when the newer one
  has no such offence, and is judged under the newer one when its range for this violator is lower.
- **Who decides** (on the day the decision is issued): the lowest routable title of the procedure in force that
  day whose ceiling covers every act's range maximum (organisations ×2); a higher competent official may take the
  file, never a lower one. The decision is issued by the decider's own body, in its own number series, signed
  with the decider's own title (a deputy "KT.").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.rules.checklist import ChecklistItem
from services.errors import UnlinkedProvision
from services.rules.decrees import Decree, applicable_decree, decree_by_key, decree_in_force
from services.rules.fines import FineProposal, load_fine_table, propose_fine
from services.errors import ActDateNeeded, NotSanctioned, RulesError
from services.rules.procedure import Competence, Procedure, Signer, competent_signer, may_decide

LIMITATION_DAYS = 365  # Luật XLVPHC Art.6 cl.1 a: one year for labour and OSH (NĐ 283/2026 Art.3 cl.4 a)


@dataclass(frozen=True)
class PlannedAct:
    """One act as the law in force judges it."""

    item_code: str
    decree: Decree
    provision_code: str
    committed_on: date | None
    ongoing: bool
    proposal: FineProposal

    @property
    def range_max(self) -> int:
        return self.proposal.range_max


def decree_for_act(*, committed_on: date | None, ongoing: bool, discovered_on: date) -> Decree:
    """The decree an act is judged under (see the module docstring)."""
    if ongoing or committed_on is not None:
        return applicable_decree(committed_on=committed_on or discovered_on, ongoing=ongoing, discovered_on=discovered_on)
    earliest = decree_in_force(discovered_on - timedelta(days=LIMITATION_DAYS))
    latest = decree_in_force(discovered_on)
    if earliest.key != latest.key:
        raise ActDateNeeded(
            f"Hành vi đã kết thúc trước ngày kiểm tra {discovered_on:%d/%m/%Y}: cần ghi ngày thực hiện hành vi để xác "
            f"định áp dụng {earliest.number_vi} hay {latest.number_vi} (Điều 67 Nghị định số 283/2026/NĐ-CP).",
            discovered_on=discovered_on.isoformat())
    return latest


def plan_act(item: ChecklistItem, *, discovered_on: date, committed_on: date | None = None, ongoing: bool | None = None,
             organisation: bool, workers: int | None = None, devices: int | None = None, mitigating: int = 0,
             aggravating: int = 0) -> PlannedAct:
    """Judge one failed checklist item: decree, provision, range and the proposed amount."""
    is_ongoing = item.act_kind == "ongoing" if ongoing is None else ongoing
    decree = decree_for_act(committed_on=committed_on, ongoing=is_ongoing, discovered_on=discovered_on)

    def proposal_under(key: str) -> FineProposal:
        try:
            code = item.provision_for(key)
        except UnlinkedProvision as exc:
            raise NotSanctioned(f"{exc.message}. Hành vi không bị xử phạt theo {decree_by_key(key).number_vi}.",
                                item=item.code, decree=key) from exc
        return propose_fine(load_fine_table().get(code), organisation=organisation,
                            workers=workers if item.counts_workers else None,
                            devices=devices if item.counts_devices else None, mitigating=mitigating,
                            aggravating=aggravating)

    current = decree_in_force(discovered_on)
    if current.key != decree.key:  # the lighter rule: a newer decree without the offence, or with a lower range
        newer = proposal_under(current.key)
        older = proposal_under(decree.key)
        if newer.range_max < older.range_max:
            return PlannedAct(item_code=item.code, decree=current, provision_code=newer.code, committed_on=committed_on,
                              ongoing=is_ongoing, proposal=newer)
        return PlannedAct(item_code=item.code, decree=decree, provision_code=older.code, committed_on=committed_on,
                          ongoing=is_ongoing, proposal=older)
    proposal = proposal_under(decree.key)
    return PlannedAct(item_code=item.code, decree=decree, provision_code=proposal.code, committed_on=committed_on,
                      ongoing=is_ongoing, proposal=proposal)


@dataclass(frozen=True)
class Authority:
    """Who decides a file on a day, and how the decision is issued and signed."""

    procedure: Procedure
    needed: Signer  # the lowest competent title
    competence: Competence | None  # the deciding person's, once known

    @property
    def signer(self) -> Signer:
        return self.competence.signer if self.competence else self.needed


def decision_authority(acts_range_max: list[int], *, organisation: bool, decided_on: date, procedure: Procedure,
                       person_title: str | None = None) -> Authority:
    """The competence a file needs on ``decided_on`` and, with ``person_title``, the competence the person brings
    (refused when it does not reach the file: :class:`services.rules.procedure.CompetenceRefused`)."""
    needed = competent_signer(acts_range_max, organisation=organisation, procedure=procedure)
    held = None if person_title is None else may_decide(person_title, acts_range_max, organisation=organisation,
                                                        procedure=procedure)
    return Authority(procedure=procedure, needed=needed, competence=held)


def issuing_body(signer: Signer, *, area_vi: str, labour_department_vi: str, department_code: str,
                 province_code: str, place: str, department_parent_vi: str | None = None) -> dict[str, Any]:
    """The decider's own body as a document header and a number series (``code``).

    ``area_vi``: "tỉnh Cao Bằng"; ``labour_department_vi``: the labour department's name on the day ("Sở Nội vụ",
    before 01/03/2025 "Sở Lao động - Thương binh và Xã hội"); ``department_code``: the lead agency's code;
    ``department_parent_vi``: the body above the department as its header writes it (default "Ủy ban nhân dân
    <area>"; NĐ 30/2020 allows "UBND TỈNH …").
    """
    if signer.issuer == "province_committee":
        return {"parent_name": "", "name": f"Ủy ban nhân dân {area_vi}", "code": f"UBND-{province_code}", "place": place,
                "decider_vi": _with_area(signer.title, area_vi)}
    if signer.issuer == "department":
        return {"parent_name": department_parent_vi or f"Ủy ban nhân dân {area_vi}", "name": labour_department_vi,
                "code": department_code,
                "place": place, "decider_vi": _with_area(signer.title, area_vi)}
    if signer.issuer == "department_inspectorate":
        return {"parent_name": labour_department_vi, "name": "Thanh tra Sở", "code": f"{department_code}-TTr",
                "place": place, "decider_vi": _with_area(signer.title, area_vi)}
    raise RulesError(f"Chức danh {signer.title!r} không có cơ quan ban hành quyết định (issuer={signer.issuer!r}).",
                     title=signer.title)


def _with_area(title: str, area_vi: str) -> str:
    """"Chủ tịch Ủy ban nhân dân tỉnh" + "tỉnh Cao Bằng" → "… tỉnh Cao Bằng"; "Giám đốc Sở Nội vụ" → "… tỉnh Cao Bằng"."""
    kind, _, name = area_vi.partition(" ")
    return f"{title} {name}" if title.endswith(f" {kind}") else f"{title} {area_vi}"
