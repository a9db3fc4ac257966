"""Schemathesis fuzzes every intake operation from its OpenAPI schema: never a 5xx.

(schemathesis' pytest plugin does not run under pytest 9, so the operations' Hypothesis
strategies are driven directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from serambi_kit.auth import issue_dev_token
from serambi_kit.settings import ServiceSettings

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

EXAMPLES_PER_OPERATION = 40


def test_no_generated_input_gets_a_server_error_on_any_operation(stack):
    schema = schemathesis.openapi.from_url(f"{stack.urls['intake']}/openapi.json")
    headers = {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), ['desk', 'admin'])}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    failures: list[str] = []
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def exercise(case) -> None:
            response = case.call(headers=headers, timeout=10)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                )

        exercise()
    assert failures == []
    assert len(statuses) >= 5 * len(operations)
    assert any(400 <= status < 500 for status in statuses)  # invalid input was generated too
