"""The intake HTTP API (FastAPI). Built by :func:`create_app` from settings; nothing at import."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlmodel import Session, select

from models import Campaign, Establishment, Person, Violation
from services.db import get_engine
from services.errors import Conflict, Forbidden, IntakeError, NotFound
from services.intake import logic
from services.intake.schemas import (DecisionIn, DecisionReceipt, FindingsSubmission, InspectionOut, SubmissionReceipt,
                                     ViolationOut)
from services.settings import Settings

_PYDANTIC_VI = {
    "missing": "thiếu trường bắt buộc", "int_type": "phải là số nguyên", "int_parsing": "phải là số nguyên",
    "greater_than_equal": "không được âm hoặc nhỏ hơn giá trị cho phép", "less_than_equal": "vượt giá trị tối đa",
    "string_too_short": "quá ngắn", "string_too_long": "quá dài", "string_pattern_mismatch": "có ký tự không hợp lệ",
    "enum": "giá trị không hợp lệ (pass, fail, not_applicable)", "extra_forbidden": "trường không được phép",
    "json_invalid": "JSON không hợp lệ", "too_short": "danh sách trống", "too_long": "danh sách quá dài",
    "date_from_datetime_parsing": "ngày không hợp lệ (YYYY-MM-DD)", "date_parsing": "ngày không hợp lệ (YYYY-MM-DD)",
    "model_attributes_type": "phải là một đối tượng JSON", "dict_type": "phải là một đối tượng JSON",
    "list_type": "phải là một danh sách", "string_type": "phải là chuỗi ký tự",
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def _where(error: Any) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "json_invalid":  # loc is ("body", <character offset>), not a list index
        return f"body (ký tự thứ {loc[-1]})" if len(loc) > 1 else "body"
    return _field(loc)


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as s:
        yield s


SessionDep = Annotated[Session, Depends(_session)]


def _current_person(db: SessionDep, authorization: Annotated[str | None, Header()] = None) -> Person:
    if not authorization or not authorization.startswith("Bearer "):
        raise _http(401, "Thiếu mã truy cập (Authorization: Bearer …).")
    person = logic.person_for_token(db, authorization.removeprefix("Bearer ").strip())
    if person is None:
        raise _http(401, "Mã truy cập không hợp lệ hoặc đã bị thu hồi.")
    return person


PersonDep = Annotated[Person, Depends(_current_person)]


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="Kiểm tra ATVSLĐ — tiếp nhận kết quả kiểm tra", version="1")
    app.state.engine = get_engine(settings)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{_where(e)}: {_PYDANTIC_VI.get(e['type'], e['msg'])}" for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": "Dữ liệu gửi lên không hợp lệ.", "errors": errors})

    @app.exception_handler(_HTTPError)
    async def _http_error(_req: Request, exc: _HTTPError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": exc.message, "errors": exc.errors})

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/inspections", response_model=list[InspectionOut])
    def my_inspections(db: SessionDep, person: PersonDep) -> list[InspectionOut]:
        return [_inspection_out(db, i) for i in logic.inspections_for(db, person)]

    @app.get("/api/inspections/{inspection_id}", response_model=InspectionOut)
    def one_inspection(inspection_id: int, db: SessionDep, person: PersonDep) -> InspectionOut:
        with _errors():
            return _inspection_out(db, logic.get_inspection(db, person, inspection_id))

    @app.post("/api/inspections/{inspection_id}/findings", response_model=SubmissionReceipt, status_code=201)
    def submit(inspection_id: int, body: FindingsSubmission, db: SessionDep, person: PersonDep) -> Any:
        with _errors():
            receipt, created = logic.submit_findings(db, person, inspection_id, body)
            db.commit()
        return receipt if created else JSONResponse(status_code=200, content=receipt.model_dump(mode="json"))

    @app.post("/api/inspections/{inspection_id}/decision", response_model=DecisionReceipt, status_code=201)
    def decide(inspection_id: int, body: DecisionIn, db: SessionDep, person: PersonDep) -> Any:
        with _errors():
            receipt, created = logic.record_decision(db, person, inspection_id, body)
            db.commit()
        return receipt if created else JSONResponse(status_code=200, content=receipt.model_dump(mode="json"))

    return app


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        self.status, self.message, self.errors = status, message, errors or []


def _http(status: int, message: str, errors: list[str] | None = None) -> _HTTPError:
    return _HTTPError(status, message, errors)


class _errors:
    """Maps the engine's errors to HTTP answers (narrowly: only our own error classes)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, _t: Any, exc: BaseException | None, _tb: Any) -> None:
        if exc is None or isinstance(exc, _HTTPError):
            return
        status = {NotFound: 404, Forbidden: 403, Conflict: 409}.get(type(exc))
        if status is None and isinstance(exc, IntakeError):
            status = 422
        if status is not None:
            raise _HTTPError(status, exc.message, list(exc.ids.get("errors", [])))  # type: ignore[attr-defined]


def _inspection_out(db: Session, inspection: Any) -> InspectionOut:
    establishment = db.get(Establishment, inspection.establishment_id)
    campaign = db.get(Campaign, inspection.campaign_id)
    assert establishment is not None and campaign is not None
    violations = db.exec(select(Violation).where(Violation.inspection_id == inspection.id).order_by(Violation.id)).all()
    return InspectionOut(
        id=inspection.id, campaign_code=campaign.code, establishment_name=establishment.name,
        tax_code=establishment.tax_code, address=establishment.address, scheduled_on=inspection.scheduled_on,
        status=str(inspection.status), team=logic.team_name(db, inspection.team_id),
        checklist=[{"code": i.code, "text_vi": i.text_vi, "counts_workers": i.counts_workers,
                    "counts_devices": i.counts_devices, "risk_factor": i.risk_factor} for i in logic.checklist_for(db, inspection)],
        violations=[ViolationOut(id=v.id, provision_code=v.provision_code, proposed_amount=v.proposed_amount,
                                 range_min=v.range_min, range_max=v.range_max, final_amount=v.final_amount)
                    for v in violations],
        competent_signer=logic.required_signer(db, inspection))
