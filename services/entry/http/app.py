"""The intake HTTP API (FastAPI). Built by :func:`create_app` from settings; nothing at import."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from models import Campaign, Establishment, Violation
from services.db import get_engine
from services.entry.http import console, failures
from services.intake import decisions, logic
from services.intake.decision_issue import issue_now
from services.entry.http.deps import (message_vi, HTTPError, PersonDep, SessionDep, TokenLookup, answered, mapped_errors,
                                      submit_findings, where)
from services.entry.http.evidence_api import router as evidence_router
from services.entry.http.field_api import router as field_api_router
from services.entry.http.field_app import router as field_app_router
from services.entry.http.limits import BodyLimits
from services.entry.http.register_web import router as register_router
from services.entry.http.selection_api import router as selection_router
from services.entry.http.signing_api import router as signing_router
from services.entry.http.web import router as web_router
from services.intake.writer import BatchWriter
from services.intake.schemas import (
    CircumstanceOut, DecisionIn, DecisionReceipt, FindingsSubmission, InspectionOut, ReviewIn, ReviewReceipt, SubmissionReceipt,
    ViolationOut, error_responses,
)
from services.rules.calendar import today_in_vietnam
from services.errors import StageBlocked
from services.rules.circumstances import load_circumstances
from services.rules.competence import required_signer
from services.settings import Settings

# A path id beyond the id column's range (INTEGER: 32 bits on PostgreSQL) must be a 422, not a server error (found by
# the schema fuzzer).
InspectionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# Each route documents the errors it answers, all in the one shape the handlers send (schemas.ErrorOut); with a 422
# of its own, FastAPI adds no HTTPValidationError (a body this API never sends).
READ_ERRORS = error_responses(401, 403, 404, 422, 500, 503)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 500, 503)


def create_app(settings: Settings) -> FastAPI:
    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, and no package here ships them; the schema
    # itself stays at /openapi.json.
    app = FastAPI(title="Kiểm tra ATVSLĐ — tiếp nhận kết quả kiểm tra", version="1", docs_url=None, redoc_url=None)
    app.state.engine = get_engine(settings)
    app.state.settings = settings
    app.state.writer = BatchWriter(app.state.engine)
    app.state.tokens = TokenLookup(app.state.engine)
    app.include_router(selection_router)
    app.include_router(evidence_router)
    app.include_router(signing_router)
    app.include_router(field_api_router)
    app.include_router(web_router)
    app.include_router(field_app_router)
    app.include_router(register_router)
    failures.install(app)
    app.add_middleware(BodyLimits)  # caller, size and nesting checked before any body is read (limits.py)

    _install_error_handlers(app)
    console.install(app)  # the console's pages (console_router); under /console, its error pages (after the app's)
    _add_read_routes(app)

    # The writes are async endpoints: the caller is identified first (a bad token is a 401 whatever the body, and
    # never reaches the writer), the body is validated in the event loop, and the write itself is a job for the
    # batch writer (services/intake/writer.py), which commits it with whatever else has queued up.
    @app.post("/api/inspections/{inspection_id}/findings", response_model=SubmissionReceipt, status_code=201, responses=WRITE_ERRORS)
    async def submit(inspection_id: InspectionId, body: FindingsSubmission, request: Request, person: PersonDep) -> Any:
        return answered(*await submit_findings(request, person, inspection_id, body))

    @app.post("/api/inspections/{inspection_id}/review", response_model=ReviewReceipt, status_code=201, responses=WRITE_ERRORS)
    async def review(inspection_id: InspectionId, body: ReviewIn, request: Request, person: PersonDep) -> Any:
        return await _store(request, lambda db: logic.review_findings(db, person, inspection_id, body))

    @app.post("/api/inspections/{inspection_id}/decision", response_model=DecisionReceipt, status_code=201, responses=WRITE_ERRORS)
    async def decide(inspection_id: InspectionId, body: DecisionIn, request: Request, person: PersonDep) -> Any:
        with mapped_errors():
            receipt, created = await request.app.state.writer.run(
                lambda db: decisions.record_decision(db, person, inspection_id, body))
        # committed: the decision itself is issued at once where the law allows (its own short transaction)
        receipt.issue = await run_in_threadpool(issue_now, settings, inspection_id, actor=person.code)
        return receipt if created else JSONResponse(status_code=200, content=receipt.model_dump(mode="json"))

    return app


def _install_error_handlers(app: FastAPI) -> None:
    """Answer a validation error and an :class:`HTTPError` in the one shape the handlers send."""
    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{where(e)}: {message_vi(e)}" for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": "Dữ liệu gửi lên không hợp lệ.", "errors": errors})

    @app.exception_handler(HTTPError)
    async def _http_error(_req: Request, exc: HTTPError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": exc.message, "errors": exc.errors})


def _add_read_routes(app: FastAPI) -> None:
    """The read routes: health, the circumstances catalog, the caller's inspections and one of them."""
    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/circumstances", response_model=list[CircumstanceOut], responses=error_responses(401, 422, 500, 503))
    def circumstances(person: PersonDep, on: date | None = None) -> list[CircumstanceOut]:
        """The circumstances an official may name (Luật XLVPHC Art.9 and 10) in force on ``on`` (default today);
        ``derived`` ones (tái phạm, vi phạm nhiều lần) only the engine sets, from dated history."""
        try:
            catalog = load_circumstances(on or today_in_vietnam())
        except StageBlocked as exc:
            raise HTTPError(422, "Dữ liệu gửi lên không hợp lệ.", [f"on: {exc.message}"]) from exc
        return [CircumstanceOut(code=c.code, kind=str(c.kind), point_vi=catalog.citation_vi(c.code), text_vi=c.text_vi,
                                derived=c.derived, selectable=c.selectable) for c in catalog]

    @app.get("/api/inspections", response_model=list[InspectionOut], responses=error_responses(401, 422, 500, 503))
    def my_inspections(db: SessionDep, person: PersonDep) -> list[InspectionOut]:
        return [_inspection_out(db, i) for i in logic.inspections_for(db, person)]

    @app.get("/api/inspections/{inspection_id}", response_model=InspectionOut, responses=READ_ERRORS)
    def one_inspection(inspection_id: InspectionId, db: SessionDep, person: PersonDep) -> InspectionOut:
        with mapped_errors():
            return _inspection_out(db, logic.get_inspection(db, person, inspection_id))


async def _store(request: Request, write: Callable[[Session], tuple[Any, bool]]) -> Any:
    """One write through the logic, committed by the batch writer; 201 when it created something, 200 with the
    same answer when it was already there (an idempotent retry)."""
    with mapped_errors():
        receipt, created = await request.app.state.writer.run(write)
    return answered(receipt, created)


def _inspection_out(db: Session, inspection: Any) -> InspectionOut:
    establishment = db.get(Establishment, inspection.establishment_id)
    campaign = db.get(Campaign, inspection.campaign_id)
    assert establishment is not None and campaign is not None
    violations = db.exec(select(Violation).where(Violation.inspection_id == inspection.id).order_by(col(Violation.id))).all()
    return InspectionOut(
        id=inspection.id, campaign_code=campaign.code, establishment_name=establishment.name,
        tax_code=establishment.tax_code, address=establishment.address, scheduled_on=inspection.scheduled_on,
        status=str(inspection.status), team=logic.team_name(db, inspection.team_id),
        checklist=[{"code": i.code, "text_vi": i.text_vi, "counts_workers": i.counts_workers,
                    "counts_devices": i.counts_devices, "risk_factor": i.risk_factor} for i in logic.checklist_for(db, inspection)],
        violations=[ViolationOut(id=v.id, provision_code=v.provision_code, proposed_amount=v.proposed_amount,
                                 range_min=v.range_min, range_max=v.range_max, final_amount=v.final_amount,
                                 decree=v.decree, aggravating=list(v.aggravating),
                                 derived=[{"code": d["code"], "text_vi": d["text_vi"]} for d in v.derived])
                    for v in violations],
        competent_signer=required_signer(db, inspection))
