"""Schemathesis hooks for scripts/schemathesis.

The run authenticates as the tenant owner. Generated requests may deactivate any user and
revoke any API key, except the owner and the owner's keys: once the key the run uses stops
working, every later request would be a 401 and test nothing. Likewise they may change or
delete any credential but the seeded ES256 one, which the operations that need an asymmetric
JWT credential are pointed at (scripts/schemathesis.toml).
"""

import os

import schemathesis
from schemathesis.core.parameters import ParameterLocation

RUNNER_ID = int(os.environ["CREDVAULT_SCHEMATHESIS_RUNNER_ID"])
CREDENTIAL_ID = int(os.environ["CREDVAULT_SCHEMATHESIS_CREDENTIAL_ID"])
# Path, methods, and the id they must not be given.
KEPT = [
    ("/api/v1/admin/users/{id}", ("DELETE",), RUNNER_ID),
    ("/api/v1/admin/users/{id}/api_keys/{key_id}", ("DELETE",), RUNNER_ID),
    ("/api/v1/user_credentials/{id}", ("PUT", "DELETE"), CREDENTIAL_ID),
]


def _as_id(value):
    """The id the server reads from a path segment (`01` is user 1), or None."""
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() else None


@schemathesis.hook
def filter_path_parameters(context, path_parameters):
    operation = context.operation
    if operation is None:
        return True
    for path, methods, kept_id in KEPT:
        if operation.path == path and operation.method.upper() in methods:
            return _as_id(path_parameters.get("id")) != kept_id
    return True


# The operations scripts/schemathesis.toml points at the seeded credential: their path
# parameter is always that one, so a case that would send a bad one sends a good one instead
# and means nothing.
PINNED = {"mintToken", "getCredentialJwks", "rotateCredentialKey", "getIssuerJwks", "getIssuerDiscovery"}


@schemathesis.hook
def filter_case(context, case):
    if case.operation.definition.raw.get("operationId") not in PINNED or case.meta is None:
        return True
    return not case.meta.is_negative_at(ParameterLocation.PATH)
