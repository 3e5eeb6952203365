"""Client of the findings-intake API, as inspectors' devices and officials' tools use it.

Retries transport errors, 429 and 5xx answers by the clients' one policy (services/clients/retry.py; the API's
503 says Retry-After): a submission carries the client's own id, so a retry of something the server already
stored returns the same receipt instead of a duplicate. When retries run out, the last answer is raised as
:class:`IntakeClientError`, or the last transport error (``httpx.TransportError``) as it is.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import httpx

from services.clients.retry import DEFAULT_POLICY, GaveUp, RetryPolicy, send
from services.intake.schemas import DecisionReceipt, InspectionOut, SubmissionReceipt


class IntakeClientError(Exception):
    """The API refused a request; ``status`` and the server's Vietnamese ``detail``/``errors`` are kept."""

    def __init__(self, status: int, detail: str, errors: list[str], request: httpx.Request) -> None:
        super().__init__(f"{status}: {detail} {errors}")
        self.status, self.detail, self.errors, self.request = status, detail, errors, request


class IntakeClient:
    def __init__(self, client: httpx.Client, *, token: str, policy: RetryPolicy = DEFAULT_POLICY,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client, self._token, self._policy, self._sleep = client, token, policy, sleep

    def _send(self, method: str, path: str, json: Any = None) -> httpx.Response:
        request = self._client.build_request(method, path, json=json, headers={"Authorization": f"Bearer {self._token}"})
        try:
            response = send(self._client, request, self._policy, sleep=self._sleep)
        except GaveUp as exc:
            if exc.response is None:
                assert exc.error is not None
                raise exc.error from None
            response = exc.response
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text}
            raise IntakeClientError(response.status_code, str(body.get("detail")), list(body.get("errors", [])),
                                    response.request)
        return response

    def inspections(self) -> list[InspectionOut]:
        return [InspectionOut.model_validate(i) for i in self._send("GET", "/api/inspections").json()]

    def inspection(self, inspection_id: int) -> InspectionOut:
        return InspectionOut.model_validate(self._send("GET", f"/api/inspections/{inspection_id}").json())

    def submit_findings(self, inspection_id: int, client_submission_id: str, findings: list[dict[str, Any]]) -> SubmissionReceipt:
        body = {"client_submission_id": client_submission_id, "findings": findings}
        return SubmissionReceipt.model_validate(self._send("POST", f"/api/inspections/{inspection_id}/findings", body).json())

    def selection(self, campaign_code: str) -> dict[str, Any]:
        return dict(self._send("GET", f"/api/campaigns/{campaign_code}/selection").json())

    def change_selection(self, campaign_code: str, *, add: Sequence[Mapping[str, str]] = (),
                         remove: Sequence[Mapping[str, str]] = ()) -> dict[str, int]:
        body = {"add": list(add), "remove": list(remove)}
        return dict(self._send("POST", f"/api/campaigns/{campaign_code}/selection/changes", body).json())

    def approve_selection(self, campaign_code: str, note: str = "") -> int:
        return int(self._send("POST", f"/api/campaigns/{campaign_code}/selection/approve", {"note": note}).json()["approved"])

    def review(self, inspection_id: int, decision: str, comment: str = "") -> dict[str, Any]:
        body = {"decision": decision, "comment": comment}
        return dict(self._send("POST", f"/api/inspections/{inspection_id}/review", body).json())

    def decide(self, inspection_id: int, decided_on: date, amounts: dict[int, int]) -> DecisionReceipt:
        body = {"decided_on": decided_on.isoformat(), "amounts": {str(k): v for k, v in amounts.items()}}
        return DecisionReceipt.model_validate(self._send("POST", f"/api/inspections/{inspection_id}/decision", body).json())
