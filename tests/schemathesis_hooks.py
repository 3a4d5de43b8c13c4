"""Checks schemathesis loads (SCHEMATHESIS_HOOKS) for tests/test_fuzz.py.

schemathesis's own `not_a_server_error` also counts every GraphQL error beside data as a
failure, while embedcrm answers a missing or foreign id as a GraphQL error with a code (see
docs/contract.md). What must never happen is a 5xx: that is the check here. A non-null field
answered null (a broken schema contract) is still caught by schemathesis itself."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def no_server_error_status(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code}: {response.text[:500]}")
    return None
