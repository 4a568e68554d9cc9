"""Fuzz the API from its own OpenAPI document: no 5xx, and every response as documented.

Schemathesis reads /v1/openapi.json and generates valid (positive) and invalid (negative)
requests for every documented operation, sent to the app in-process (WSGI). Each request
carries a valid token and, mostly, the headers and ids of a seeded host, so the fuzzing reaches
past authentication into the endpoints themselves. Bounded: a hundred examples per operation
and mode, well under a minute in all. (Schemathesis's pytest plugin does not run on pytest 9
yet, so the operations are driven with Hypothesis directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 100


@pytest.fixture
def seeded(make_org, make_connection, token_for) -> dict:
    host = make_org("Fuzz Host", "host@fuzz.example")
    group = make_org("Fuzz Group")
    guest = make_org("Fuzz Guest", "guest@fuzz.example", parent=group)
    make_connection(host, guest, score=42.0)
    return {"host": host, "guest": guest, "token": token_for(host)}


def aim_at_seeded_data(case, data, seeded: dict) -> None:
    """Give the case a valid token and, usually, the seeded host's headers and guest id."""
    case.headers = dict(case.headers or {})
    case.headers["Authorization"] = f"Bearer {seeded['token']}"
    if data.draw(st.integers(0, 4), label="seeded organization headers") > 0:
        case.headers["Requester-Organization-ID"] = str(seeded["host"])
        case.headers["Target-Organization-ID"] = str(seeded["host"])
    for name in ("guest_org_id", "org_id"):
        if name in (case.path_parameters or {}) and data.draw(st.integers(0, 2), label=name) > 0:
            case.path_parameters[name] = str(seeded["guest"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_survives_fuzzing(app, seeded, mode):
    """Does every generated request, valid or not, get a documented, non-5xx response?"""
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operation"

    for operation in operations:
        if mode == GenerationMode.NEGATIVE and not _takes_input(operation):
            continue  # nothing to get wrong: no parameter, no body (e.g. the JWKS)

        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case, data):
            aim_at_seeded_data(case, data, seeded)
            case.call_and_validate(checks=CHECKS)

        fuzz()


def _takes_input(operation) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))
