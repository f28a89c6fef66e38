"""HTTP clients for integrations: retries, rate limiting, call counting and mapped errors.

Build a client with :func:`create_client`; map a failed response with :func:`raise_for_status`
into the :class:`APIError` hierarchy (branches :class:`RetriableAPIError` and
:class:`FatalAPIError` say what to do next). Secrets are masked with :func:`redact_url`
wherever a URL is logged or raised.
"""

from ._client import create_client, install_httpx_log_redaction
from ._errors import (
    APIError,
    AuthenticationError,
    FatalAPIError,
    InvalidResponseError,
    PermissionDeniedError,
    RateLimitedError,
    RetriableAPIError,
    decode_json,
    invalid_response,
    raise_for_status,
)
from ._redact import DEFAULT_SECRET_HEADERS, DEFAULT_SECRET_PARAMS, mark_secrets, redact_url
from ._retry_after import parse_retry_after
from ._transports import (
    IDEMPOTENT_METHODS,
    ApiCallCounter,
    RateLimitedTransport,
    RateLimiter,
    RetryPolicy,
    RetryTransport,
)

__all__ = [
    "DEFAULT_SECRET_HEADERS",
    "DEFAULT_SECRET_PARAMS",
    "IDEMPOTENT_METHODS",
    "APIError",
    "ApiCallCounter",
    "AuthenticationError",
    "FatalAPIError",
    "InvalidResponseError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RateLimitedTransport",
    "RateLimiter",
    "RetriableAPIError",
    "RetryPolicy",
    "RetryTransport",
    "create_client",
    "decode_json",
    "install_httpx_log_redaction",
    "invalid_response",
    "mark_secrets",
    "parse_retry_after",
    "raise_for_status",
    "redact_url",
]
