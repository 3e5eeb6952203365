"""People and teams (``/console/people``): the admin acts, leads read.

Agencies, people (code, name, title, role, agency, phone), team membership per campaign, declared conflicts of
interest (``ConflictOfInterest``: never on a team that inspects that establishment), and each person's tokens with
their state. Issuing and revoking call :func:`services.access.issue_token` and :func:`services.access.revoke` — what
``kiemtra token issue`` / ``kiemtra token revoke`` call — with actor = the logged-in admin. A new token is shown once,
on the answer to the POST (with a QR code of it for a phone's camera; an inline SVG, no image request), never again:
only its SHA-256 is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from models import (AccessToken, Agency, Campaign, ConflictOfInterest, Contact, Establishment, Person, PersonRole, Team,
                    TeamMember)
from services import access
from services.entry.http.console.access_rules import visible_codes
from services.entry.http.console.base import ConsoleUser, console_user, db, read_post, render, require, see_other
from services.entry.http.web_form import ParsedForm
from services.errors import Conflict, KiemtraError, NotFound
from services.rules.calendar import VIETNAM

router = APIRouter(prefix="/console", include_in_schema=False)
User = Annotated[ConsoleUser, Depends(console_user)]

READERS = (PersonRole.LEAD,)  # and the admin, who passes every check
ROLE_VI = {PersonRole.LEAD: "Trưởng đoàn / Thanh tra Sở", PersonRole.OFFICIAL: "Người có thẩm quyền xử phạt",
           PersonRole.INSPECTOR: "Thành viên đoàn kiểm tra", PersonRole.ADMIN: "Quản trị hệ thống"}
TEAM_ROLE_VI = {"head": "Trưởng đoàn", "deputy": "Phó trưởng đoàn", "member": "Thành viên"}


@dataclass
class TokenRow:
    id: int
    state_vi: str
    active: bool
    label: str
    issued: str
    issued_by: str
    expires: str
    revoked: str


@dataclass
class PersonRow:
    code: str
    full_name: str
    title: str
    role_vi: str
    agency: str
    phone: str
    tokens: list[TokenRow] = field(default_factory=list)

    @property
    def last_token_id(self) -> int:
        """The newest token's id (0: none): the issue form carries it, so its reload cannot issue a second token."""
        return max((t.id for t in self.tokens), default=0)


@dataclass
class TeamRow:
    number: int
    name: str
    members: list[tuple[str, str, str]]  # (role_vi, code, full name)


def _moment(at: datetime | None) -> str:
    return f"{at.astimezone(VIETNAM):%d/%m/%Y %H:%M}" if at is not None else ""


def _token_row(row: AccessToken) -> TokenRow:
    assert row.id is not None
    revoked = (f"{_moment(row.revoked_at)} bởi {row.revoked_by}: {row.revoke_reason}" if row.revoked_at else "")
    return TokenRow(id=row.id, state_vi=access.state_vi(row), active=row.revoked_at is None, label=row.label,
                    issued=_moment(row.created_at), issued_by=row.created_by,
                    expires=_moment(row.expires_at) or "không hạn", revoked=revoked)


def people_rows(session: Session) -> list[PersonRow]:
    agencies = {a.id: a.name for a in session.exec(select(Agency))}
    phones = {c.owner_ref: c.phone or "" for c in session.exec(select(Contact).where(Contact.owner_kind == "person"))}
    rows = {p.id: PersonRow(code=p.code, full_name=p.full_name, title=p.title, role_vi=ROLE_VI.get(p.role, str(p.role)),
                            agency=agencies.get(p.agency_id, ""), phone=phones.get(p.code, ""))
            for p in session.exec(select(Person).order_by(col(Person.code)))}
    for token in access.tokens_of(session):
        if token.person_id in rows:
            rows[token.person_id].tokens.append(_token_row(token))
    return list(rows.values())


def teams_of(session: Session, campaign_code: str) -> list[TeamRow]:
    campaign = session.exec(select(Campaign).where(Campaign.code == campaign_code)).first()
    if campaign is None:
        return []
    order = {"head": 0, "deputy": 1, "member": 2}
    out = []
    for team in session.exec(select(Team).where(Team.campaign_id == campaign.id).order_by(col(Team.number))):
        members = session.exec(select(TeamMember.role, Person.code, Person.full_name)
                               .join(Person, col(Person.id) == col(TeamMember.person_id))
                               .where(TeamMember.team_id == team.id)).all()
        ordered = sorted(members, key=lambda m: (order.get(m[0], 3), m[1]))
        out.append(TeamRow(number=team.number, name=team.name,
                           members=[(TEAM_ROLE_VI.get(r, r), c, n) for r, c, n in ordered]))
    return out


def conflicts(session: Session) -> list[tuple[str, str, str, str, str]]:
    """(person code, name, establishment, tax code, reason · declared on) of each declared conflict of interest."""
    rows = session.exec(select(ConflictOfInterest, Person, Establishment)
                        .join(Person, col(Person.id) == col(ConflictOfInterest.person_id))
                        .join(Establishment, col(Establishment.id) == col(ConflictOfInterest.establishment_id))
                        .order_by(col(Person.code), col(Establishment.tax_code))).all()
    return [(p.code, p.full_name, e.name, e.tax_code, f"{c.reason} (khai ngày {c.declared_on:%d/%m/%Y})")
            for c, p, e in rows]


# --------------------------------------------------------------------------- pages


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request, user: User, dot: str = "") -> Response:
    require(user, *READERS)
    with db(request) as session:
        agencies = list(session.exec(select(Agency).order_by(col(Agency.code))).all())
        people = people_rows(session)
        codes = visible_codes(session, user.person)  # a lead: the teams of the campaigns they see
        campaign = dot.strip() if dot.strip() in codes else (codes[-1] if codes else "")
        teams = teams_of(session, campaign) if campaign else []
        declared = conflicts(session)
    return render(request, user, "console/people.html", agencies=agencies, people=people, campaigns=codes,
                  campaign=campaign, teams=teams, conflicts=declared, is_admin=user.person.role == PersonRole.ADMIN,
                  done=request.query_params.get("da", ""))


def _days(form: ParsedForm) -> int | None:
    text = form.get("days").strip()
    if not text:
        return None
    if not text.isdigit():
        raise KiemtraError(f"days: số ngày hiệu lực phải là số nguyên từ 1 trở lên (nhận '{text[:20]}').")
    return int(text)


def _issued_since(session: Session, person: Person, form: ParsedForm) -> None:
    """Conflict when a token was issued to ``person`` after the form was shown (a reload of the answer page sends the
    same form again): the first token stays the only one."""
    seen = form.get("sau").strip()
    newest = max((t.id or 0 for t in access.tokens_of(session, person)), default=0)
    if seen.isdigit() and newest > int(seen):
        raise Conflict(f"Biểu mẫu này đã cấp mã truy cập số {newest} cho {person.code}; mã chỉ hiện một lần. Nếu cần "
                       "thêm một mã nữa, hãy mở lại trang Người dùng và cấp từ đó.", token_id=newest)


def _issue(request: Request, user: ConsoleUser, code: str, form: ParsedForm) -> tuple[str, int, str, str]:
    with db(request) as session:
        person = access.find_person(session, code)
        _issued_since(session, person, form)
        token, row = access.issue_token(session, person=person, by=user.person.code, label=form.get("label"),
                                        days=_days(form))
        session.commit()
        assert row.id is not None
        return token, row.id, person.code, person.full_name


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code of ``text`` (segno escapes nothing of ours: the token is URL-safe base64)."""
    svg = segno.make(text, error="m").svg_inline(scale=5, border=4, title="Mã QR của mã truy cập", dark="#000",
                                                 light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="Mã QR của mã truy cập" ', 1))


@router.post("/people/{code}/tokens", response_class=HTMLResponse)
async def issue_token(request: Request, code: str, user: User) -> Response:
    """``access.issue_token`` (as ``kiemtra token issue``): the token on this answer only."""
    require(user)
    form = await read_post(request, user, f"token:{code}")
    token, token_id, person_code, full_name = await run_in_threadpool(_issue, request, user, code, form)
    return render(request, user, "console/token_issued.html", token=token, token_id=token_id, person_code=person_code,
                  full_name=full_name, qr=qr_svg(token))


def _revoke(request: Request, user: ConsoleUser, token_id: int, form: ParsedForm) -> str:
    with db(request) as session:
        row = access.get_token(session, token_id)
        owner = session.get(Person, row.person_id)
        if owner is None:
            raise NotFound(f"Không có mã truy cập số {token_id}.")
        access.revoke(session, by=user.person.code, reason=form.get("reason"), token_id=token_id)
        session.commit()
        return owner.code


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int, user: User) -> Response:
    """``access.revoke`` (as ``kiemtra token revoke ID --reason …``); the web sessions opened with it end."""
    require(user)
    form = await read_post(request, user, f"revoke:{token_id}")
    owner = await run_in_threadpool(_revoke, request, user, token_id, form)
    return see_other(f"/console/people?da=revoked#nguoi-{owner}")
