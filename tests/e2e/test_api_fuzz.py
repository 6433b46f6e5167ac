"""The API fuzzed against its own OpenAPI document (schemathesis), with a real bearer token.

Every operation the served document lists gets generated requests, valid and invalid ones,
sent through the app; each answer must not be a 5xx and must match what the document says
for its status: the status itself, the content type and the body's schema. The number of
examples is bounded so the run stays short; FUZZ_EXAMPLES raises it for a deeper run by hand.
Generation is derandomized, so CI sees the same requests on every run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def app_config(app_config) -> dict:
    # Hundreds of requests a minute from one token are the point here, not abuse.
    return {**app_config, "API_RATE_LIMIT": "100000 per minute"}


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # The app and its database are per test, not per example: that is intended here.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
