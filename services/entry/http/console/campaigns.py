"""The console's campaign pages: the list (``/console/campaigns``), creating one (``/console/campaigns/new``, calling
``services.stages.planning.ensure_campaign`` as ``kiemtra campaign start`` does, with the plan — number and date —
kept as data), and a campaign's dashboard (``/console/campaigns/{code}``: each inspection's stage, counts per team and
per commune, what each waits for, what the campaign waits for) with the button that runs its next stages
(:mod:`services.entry.http.console.runner`: the run-campaign deployment on a Prefect worker when one is online, else
the run-campaign flow in this process, as ``kiemtra campaign run``; the progress read back from the Prefect API).

Creating a campaign does not run it (the CLI's ``start`` does both): the lead looks at the new campaign, then presses
"Chạy các bước tiếp theo", which proposes the list; every write is audited with the person's code.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from models import Agency, Campaign, PersonRole
from models.base import id_of
from services import audit
from services.entry.http.console.access_rules import campaign_visible
from services.entry.http.console.base import ConsoleUser, db, read_post, render, require, see_other, UserDep
from services.entry.http.console.campaign_forms import NewCampaign, read_new_campaign, values_of
from services.entry.http.console.dashboard_queries import CAMPAIGN_STATUS_VI, STATUS_VI, campaign_lines, dashboard
from services.entry.http.console.runner import STATE_VI, CampaignRuns, run_view
from services.entry.http.web_form import ParsedForm
from services.errors import Conflict, NotFound
from services.stages.common import get_campaign
from services.stages.planning import ensure_campaign
from services.stages.status import campaign_status

router = APIRouter(prefix="/console", include_in_schema=False)
STAGE_VI = {"select-establishments": "Chọn cơ sở theo rủi ro", "schedule-inspections": "Lập đoàn và lịch kiểm tra",
            "issue-records": "Ban hành biên bản", "decide-sanctions": "Ban hành quyết định xử phạt",
            "publish-outcomes": "Công khai kết quả xử phạt"}


def runs(request: Request) -> CampaignRuns:
    """The app's campaign runs (made on first use, on the app's settings)."""
    state = request.app.state
    if getattr(state, "campaign_runs", None) is None:
        state.campaign_runs = CampaignRuns(state.settings)
    runs_: CampaignRuns = state.campaign_runs
    return runs_


# --------------------------------------------------------------------------- the list


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, user: UserDep) -> HTMLResponse:
    with db(request) as s:
        lines = [line for line in campaign_lines(s, None) if campaign_visible(s, user.person, line.campaign)]
    can_create = user.person.role in (PersonRole.LEAD, PersonRole.ADMIN)
    return render(request, user, "console/campaigns.html", lines=lines, can_create=can_create)


# --------------------------------------------------------------------------- create


def _members(s: Session, user: ConsoleUser) -> list[Agency]:
    """The agencies that may take part: every agency of the lead's province but the lead's own."""
    own = s.get(Agency, user.person.agency_id)
    query = select(Agency).where(Agency.id != user.person.agency_id).order_by(col(Agency.code))
    if own is not None:
        query = query.where(Agency.province_code == own.province_code)
    return list(s.exec(query).all())


def _new_page(request: Request, user: ConsoleUser, form: ParsedForm | None, errors: list[str],
              status: int = 200) -> HTMLResponse:
    with db(request) as s:
        members = _members(s, user)
        lead = s.get(Agency, user.person.agency_id)
    codes = [a.code for a in members]
    return render(request, user, "console/campaign_new.html", status=status, members=members, lead=lead,
                  values=values_of(form, codes), errors=errors,
                  field_errors={line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in errors})


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_campaign_page(request: Request, user: UserDep) -> HTMLResponse:
    require(user, PersonRole.LEAD)
    return _new_page(request, user, None, [])


@router.post("/campaigns/new", response_class=HTMLResponse)
async def create_campaign(request: Request, user: UserDep) -> Response:
    require(user, PersonRole.LEAD)
    form = await read_post(request, user, "campaign:new")
    codes = await run_in_threadpool(lambda: [a.code for a in _member_agencies(request, user)])
    new, errors = read_new_campaign(form, codes)
    if errors:
        return await run_in_threadpool(_new_page, request, user, form, errors, 422)
    code = await run_in_threadpool(_create, request, user, new)
    return see_other(f"/console/campaigns/{code}?moi=1")


def _member_agencies(request: Request, user: ConsoleUser) -> list[Agency]:
    with db(request) as s:
        members = _members(s, user)
    return members


def _create(request: Request, user: ConsoleUser, new: NewCampaign) -> str:
    """``ensure_campaign`` with what the form says (the lead's agency leads, in its province): as the CLI's start."""
    assert new.period_start is not None and new.period_end is not None
    with db(request) as s:
        lead = s.get(Agency, user.person.agency_id)
        if lead is None:
            raise NotFound(f"Không có cơ quan của cán bộ {user.person.code}.")
        campaign, created = ensure_campaign(
            s, code=new.code, title=new.title, lead=lead, members=new.members, province_code=lead.province_code,
            period_start=new.period_start, period_end=new.period_end, quota=new.quota, teams=new.teams,
            actor=user.person.code, plan_number=new.plan_number, plan_on=new.plan_on)
        if not created:
            s.rollback()
            raise Conflict(f"Đã có đợt kiểm tra mã {new.code} ({campaign.title}); hãy chọn mã khác.", campaign_code=new.code)
        s.commit()
    return new.code


# --------------------------------------------------------------------------- the dashboard


@router.get("/campaigns/{code}", response_class=HTMLResponse)
def campaign_page(request: Request, code: str, user: UserDep, trang_thai: str = "",
                  moi: str = "") -> HTMLResponse:
    settings = request.app.state.settings
    state = campaign_status(settings, code)  # NotFound → 404 page
    failures = {f["inspection_id"]: f["reason"] for f in state["failures"]}
    with db(request) as s:
        campaign = get_campaign(s, code)
        board = dashboard(s, campaign, failures, status=trang_thai if trang_thai in STATUS_VI else "")
        run = run_view(runs(request), s, id_of(campaign), code)
    last = run.cached if run is not None else None
    can_run = user.person.role in (PersonRole.LEAD, PersonRole.ADMIN)
    return render(request, user, "console/campaign.html", board=board, state=state, last=last, run=run,
                  can_run=can_run, state_vi=STATE_VI,
                  created=bool(moi), status_vi=STATUS_VI, campaign_status_vi=CAMPAIGN_STATUS_VI, stage_vi=STAGE_VI,
                  filter=trang_thai if trang_thai in STATUS_VI else "")


@router.post("/campaigns/{code}/run")
async def run_campaign(request: Request, code: str, user: UserDep) -> Response:
    """Starts the next stages (on a worker, or here in a background thread) and goes back to the dashboard."""
    require(user, PersonRole.LEAD)
    await read_post(request, user, f"run:{code}")
    await run_in_threadpool(_start_and_audit, request, user, code)  # NotFound before anything starts
    return see_other(f"/console/campaigns/{code}#chay")


def _start_and_audit(request: Request, user: ConsoleUser, code: str) -> None:
    with db(request) as s:
        campaign: Campaign = get_campaign(s, code)
        latest = run_view(runs(request), s, id_of(campaign), code)
        if latest is not None and latest.running:
            raise Conflict(f"Đợt kiểm tra {code} đang chạy (do {latest.by} bắt đầu); hãy chờ kết quả.", campaign_code=code)
        record = runs(request).start(code, user.person.code)
        audit.record(s, actor=user.person.code, action="campaign_run_requested", entity=campaign,
                     reason="Chạy các bước tiếp theo từ bảng điều khiển",
                     data={"flow_run_id": record.flow_run_id, "way": record.way, "workers": list(record.workers),
                           "deployment": "run-campaign/run-campaign" if record.way == "worker" else ""})
        s.commit()
