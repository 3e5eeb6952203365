"""Schemathesis against the intake API's own OpenAPI schema: whatever a client sends, no 5xx, and every answer (errors
included) has the body the schema documents, worded in Vietnamese.

The real app is served by uvicorn on loopback (so an unhandled exception comes back as the 500 a client would see)
over a migrated database (SQLite, or PostgreSQL in the suite's PostgreSQL pass: ``settings`` picks it) holding a
scheduled campaign and a second one whose list the lead reviews. Every request carries a valid token of the person the
operation is for (the lead for the selection and the review, an official for the decision, an inspector otherwise),
so generated requests reach past authentication and authorisation into the handlers. Each operation runs with
generated path parameters and, where it has any, with real ones (the campaign under review, the inspector's own
inspection), in positive and negative modes. Strings are drawn from all of UTF-8 with NUL allowed (schemathesis'
``allow_x00`` and ``codec``), and the run checks that NUL and other control characters were in fact sent.
Generation is derandomized and bounded, so the same cases run every time; every failure is reported with a curl
command that reproduces it.
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from services.entry.http.server import start_in_thread
from services.settings import Settings
from services.stages import selection
from tests.factories import create_campaign, create_scheduled_campaign, team_inspections

CAMPAIGN, UNDER_REVIEW = "FUZZ-01", "FUZZ-02"
INSPECTOR, LEAD, OFFICIAL = "SNV-TT01", "SNV-LEAD", "SNV-GD"
# per operation, mode and set of path parameters; KIEMTRA_FUZZ_EXAMPLES=200 for a deeper run than the suite's
EXAMPLES = int(os.environ.get("KIEMTRA_FUZZ_EXAMPLES", "20"))
# pydantic's and Starlette's English, which must never reach a person
ENGLISH = re.compile(r"Input should|Field required|Value error|String should|List should|Extra inputs|Unable to|"
                     r"There was an error|Not Found|Method Not Allowed|Internal Server Error")


@pytest.fixture
def world(settings: Settings) -> Iterator[dict[str, Any]]:
    tokens = create_scheduled_campaign(settings, code=CAMPAIGN, establishments=200)
    create_campaign(settings, code=UNDER_REVIEW, quota=5)
    selection.select_establishments(settings, UNDER_REVIEW)
    server = start_in_thread(settings)
    try:
        yield {"url": server.url, "tokens": tokens, "inspection_id": team_inspections(settings)[INSPECTOR][0]}
    finally:
        server.stop()


def _who(operation: Any) -> str:
    if operation.path.startswith("/api/campaigns/") or operation.path.endswith("/review"):
        return LEAD
    return OFFICIAL if operation.path.endswith("/decision") else INSPECTOR


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


class Run:
    """What the fuzzing found (failures) and sent (how many cases carried NUL, or another control character)."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.cases = self.with_nul = self.with_control = 0

    def saw(self, case: Any) -> None:
        sent = "".join(_strings([case.path_parameters, case.query, case.body if isinstance(case.body, dict | list | str)
                                 else None]))
        self.cases += 1
        self.with_nul += "\x00" in sent
        self.with_control += any(unicodedata.category(ch) == "Cc" and ch not in "\x00\n\r\t" for ch in sent)


def fuzz(operation: Any, token: str, run: Run, *, mode: GenerationMode, path_parameters: dict[str, Any] | None) -> None:
    """One operation's bounded, derandomized cases in one mode; failures are collected into ``run``."""

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def cases(case: Any) -> None:
        run.saw(case)
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except (Failure, FailureGroup) as exc:  # collected, so one run reports every operation's failures
            run.failures.append(f"{case.as_curl_command()} -> {response.status_code} {response.text[:200]}\n  {exc}")
            return
        if response.status_code >= 400 and ENGLISH.search(response.text):
            run.failures.append(f"{case.as_curl_command()} -> {response.status_code} in English: {response.text[:200]}")

    cases()


def test_no_request_a_client_can_send_makes_the_api_fail_or_answer_off_its_schema(world: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_url(f"{world['url']}/openapi.json")
    schema.config.generation.update(allow_x00=True, codec="utf-8")  # NUL and every other code point UTF-8 can carry
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert {"/api/campaigns/{campaign_code}/selection/changes", "/api/submissions/{client_submission_id}",
            "/api/inspections/{inspection_id}/decision"} <= paths and len(operations) >= 12
    real = {"campaign_code": UNDER_REVIEW, "inspection_id": world["inspection_id"]}
    # the approval last: once the list is approved, the changes are refused before they reach the database
    operations.sort(key=lambda op: op.path.endswith("/approve"))
    run = Run()
    for op in operations:
        token = world["tokens"][_who(op)]
        pinned = {p.name: real[p.name] for p in op.path_parameters if p.name in real}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in (None, pinned) if pinned else (None,):
                try:
                    fuzz(op, token, run, mode=mode, path_parameters=path_parameters)
                except Unsatisfiable:  # negative mode, and nothing left that could be made invalid (as schemathesis skips)
                    assert not mode.is_positive, op.path
    assert not run.failures, f"{len(run.failures)} failures:\n" + "\n".join(run.failures)
    assert run.with_nul >= 10 and run.with_control >= 10, (run.cases, run.with_nul, run.with_control)


# --------------------------------------------------------------------------- the documented error body


def test_error_bodies_match_the_error_schema_the_openapi_documents_and_no_cdn_page_is_served(world: dict[str, Any]) -> None:
    """Each error the API answers (401, 403, 404, 409, 422, 400) validates against the schema its operation documents
    for that status, which is ``ErrorOut``, not FastAPI's ``HTTPValidationError``; /docs and /redoc (whose pages load
    their scripts from a CDN) are not served."""
    with httpx.Client(base_url=world["url"], timeout=30) as http:
        spec = http.get("/openapi.json").json()
        assert "HTTPValidationError" not in json.dumps(spec)
        components = spec["components"]["schemas"]
        assert set(components["ErrorOut"]["properties"]) == {"detail", "errors"}

        def auth(who: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {world['tokens'][who]}"}

        i = world["inspection_id"]
        answers = [
            ("/api/inspections/{inspection_id}", "get", http.get(f"/api/inspections/{i}")),  # 401: no token
            ("/api/campaigns/{campaign_code}/selection", "get",  # 403: an inspector
             http.get(f"/api/campaigns/{UNDER_REVIEW}/selection", headers=auth(INSPECTOR))),
            ("/api/inspections/{inspection_id}", "get", http.get("/api/inspections/999999", headers=auth(INSPECTOR))),
            ("/api/campaigns/{campaign_code}/selection/changes", "post",  # 409: approved long ago
             http.post(f"/api/campaigns/{CAMPAIGN}/selection/changes", headers=auth(LEAD), json={})),
            ("/api/inspections/{inspection_id}/findings", "post",
             http.post(f"/api/inspections/{i}/findings", headers=auth(INSPECTOR), json={"findings": "x"})),
            ("/api/inspections/{inspection_id}/findings", "post",  # malformed JSON
             http.post(f"/api/inspections/{i}/findings", headers={**auth(INSPECTOR), "Content-Type": "application/json"},
                       content=b'{"client_submission_id": ')),
            ("/api/inspections/{inspection_id}/review", "post",  # not UTF-8: FastAPI's 400
             http.post(f"/api/inspections/{i}/review", headers={**auth(LEAD), "Content-Type": "application/json"},
                       content=b'{"decision": "\xff"}')),
        ]
        statuses = []
        for path, method, response in answers:
            documented = spec["paths"][path][method]["responses"][str(response.status_code)]
            schema = documented["content"]["application/json"]["schema"]
            jsonschema.validate(response.json(), {**schema, "components": spec["components"]},
                                format_checker=jsonschema.FormatChecker())
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, response.status_code)
            assert not ENGLISH.search(response.text), response.text
            statuses.append(response.status_code)
        assert statuses == [401, 403, 404, 409, 422, 422, 400]
        for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            response = http.get(page)
            assert response.status_code == 404 and response.json()["detail"] == "Không tìm thấy địa chỉ này."
