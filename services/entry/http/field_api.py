"""``/form/api/*``: the intake API for the inspectors' offline field app (docs/field-offline.md).

The same answers as the API's routes (findings: 201 new, 200 an identical re-send, 409, 422; uploads: 201/200, 413,
415, 422; a submission's status), through the same functions (``deps.submit_findings``, ``evidence_api.status_of``
and ``receive_upload``), and ``GET /form/api/visits`` (``services.intake.field_visits``). The caller is the ``/form``
web session with its CSRF header (:mod:`.field_identity`): for a write, the body-limits middleware identified it
before reading the body (``limits.py``); a read is identified here. Every answer carries ``Cache-Control: no-store``;
errors are the API's ``{"detail", "errors"}``. Not in the OpenAPI schema: a browser's routes, not the API's.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from models import Agency
from models.base import utcnow
from services.entry.http import web
from services.entry.http.deps import HTTPError, SessionDep, answered, submit_findings
from services.entry.http.evidence_api import SHA256_PATH, ClientSubmissionId, receive_upload, status_of
from services.entry.http.field_identity import NO_STORE, WebCaller, identify
from services.intake import field_visits
from services.intake.schemas import FindingsSubmission
from services.rules.calendar import today_in_vietnam
from services.settings import Settings

router = APIRouter(prefix="/form/api", tags=["field app"], include_in_schema=False)
InspectionId = web.InspectionId


async def web_caller(request: Request) -> WebCaller:
    """The caller: the one the body-limits middleware identified for a write, else identified now (a read)."""
    known = request.scope.get("state", {}).get("web_caller")
    if isinstance(known, WebCaller):
        return known
    headers = {k.lower(): v for k, v in request.headers.items()}
    caller = identify(request.app.state.tokens, headers, method=request.method, path=request.url.path,
                      own_url=str(request.url))
    if not isinstance(caller, WebCaller):
        raise HTTPError(caller.status, caller.detail)
    return caller


CallerDep = Annotated[WebCaller, Depends(web_caller)]


@lru_cache(maxsize=1)
def _words() -> field_visits.Words:
    labels = web._templates().get_template("labels.html").module
    return field_visits.Words(status_vi=lambda status: str(labels.status_label(status)),  # type: ignore[attr-defined]
                              group_titles=web.GROUP_TITLES)


@router.get("/visits")
def visits(request: Request, caller: CallerDep, db: SessionDep) -> JSONResponse:
    settings: Settings = request.app.state.settings
    today = today_in_vietnam()
    person = caller.person
    listed = field_visits.visits_for(db, person, today=today, days_ahead=settings.field_days_ahead, words=_words())
    agency = db.get(Agency, person.agency_id)
    db.rollback()  # a read: end it (on SQLite it holds the write lock)
    return JSONResponse({
        "person": {"code": person.code, "name": person.full_name, "agency": agency.name if agency else ""},
        "today": today.isoformat(), "generated_at": _z(utcnow()), "csrf": caller.csrf,
        "session_expires_at": _z(caller.session_expires_at), "photo": _photo(settings), "visits": listed,
    }, headers=NO_STORE)


@router.post("/inspections/{inspection_id}/findings", status_code=201)
async def submit(inspection_id: InspectionId, body: FindingsSubmission, request: Request, caller: CallerDep) -> Any:
    return answered(*await submit_findings(request, caller.person, inspection_id, body), headers=NO_STORE)


@router.put("/submissions/{client_submission_id}/attachments/{sha256}", status_code=201)
async def upload(client_submission_id: ClientSubmissionId, sha256: Annotated[str, SHA256_PATH], request: Request,
                 caller: CallerDep, db: SessionDep) -> Any:
    received = await receive_upload(request, db, caller.person, client_submission_id, sha256)
    if received is None:
        return Response(status_code=400, headers=NO_STORE)  # nobody is listening; nothing recorded
    return answered(*received, headers=NO_STORE)


@router.get("/submissions/{client_submission_id}")
def submission(client_submission_id: ClientSubmissionId, caller: CallerDep, db: SessionDep) -> JSONResponse:
    out = status_of(db, caller.person, client_submission_id)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


def _photo(settings: Settings) -> dict[str, Any]:
    return {"max_edge": settings.field_photo_max_edge, "jpeg_quality": settings.field_photo_jpeg_quality,
            "max_bytes": settings.evidence_max_bytes,
            "types": [t for t in settings.evidence_types if t.startswith("image/")]}


def _z(moment: Any) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
