"""Schemathesis against the intake API's own OpenAPI schema: whatever an inspector's app sends, no 5xx.

The real app is served by uvicorn on loopback (so an unhandled exception comes back as the 500 a client
would see) over a migrated database holding a scheduled campaign; every request carries a valid
inspector's bearer token, so generated requests reach past authentication into the handlers (inspection
ids 1.. exist). Generation is derandomized and bounded per operation, so the same cases run every time;
every server error found is reported with a curl command that reproduces it.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup

from services.intake.server import start_in_thread
from services.settings import Settings
from tests.factories import create_scheduled_campaign

CAMPAIGN = "FUZZ-01"
INSPECTOR = "SNV-TT01"
EXAMPLES = 100  # per operation


@pytest.fixture
def world(settings: Settings) -> Iterator[dict[str, Any]]:
    tokens = create_scheduled_campaign(settings, code=CAMPAIGN, establishments=200)
    server = start_in_thread(settings)
    try:
        yield {"url": server.url, "token": tokens[INSPECTOR]}
    finally:
        server.stop()


def fuzz(operation: Any, token: str) -> list[str]:
    """Run one operation's bounded, derandomized cases; return the server errors found (request and answer)."""
    errors: list[str] = []

    @given(case=operation.as_strategy())
    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except (Failure, FailureGroup):  # collected, so one run reports every operation's server errors
            errors.append(f"{case.as_curl_command()} -> {response.status_code} {response.text[:200]}")

    run()
    return errors


# Hypothesis warns when the global `random` state changes while a case is drawn. Schemathesis draws through
# st.randoms(), but the global state also moves outside the strategy: in other threads of this process (the
# uvicorn server thread, client workers left by earlier tests) or when a module is imported on first use (rich
# draws from it at import). Hypothesis cannot tell those apart; in CI the warning fired on one draw and not on
# its replay. Ignored for this test only.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning")
def test_no_request_an_inspector_can_send_makes_the_api_fail_with_a_server_error(world: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_url(f"{world['url']}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    server_errors = [e for op in operations for e in fuzz(op, world["token"])]
    assert not server_errors, "server errors:\n" + "\n".join(server_errors)
