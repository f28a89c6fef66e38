"""Livestorm's failures in Livestorm's terms, on core's API error branches.

Every class below is a :class:`LivestormAPIError` *and* one of core's branches
(:class:`~leadbridge.http.RetriableAPIError`, :class:`~leadbridge.http.FatalAPIError` and their
subclasses), so generic code keeps deciding on the branch ("retry later" / "fix it") while
Livestorm-aware code can catch the precise case:

====  ==========================================  ==========================================
401   :class:`LivestormAuthenticationError`        token invalid, revoked, or missing a scope
402   :class:`ContactsAllowanceReachedError`       the workspace's active-contacts allowance
403   :class:`LivestormPermissionError`            scope not granted / workspace not validated
404   :class:`LivestormNotFoundError`              the event, session, job… does not exist
409   :class:`LivestormConflictError`              (:class:`AlreadyRegisteredError` on register)
422   :class:`LivestormValidationError`            Livestorm refused the body (its ``detail``)
4xx   :class:`LivestormRequestError`               any other refusal (400: a bad filter…)
429   :class:`LivestormRateLimitedError`           still throttled after the retries
5xx   :class:`LivestormUnavailableError`           Livestorm is down; retry later
200   :class:`LivestormInvalidResponseError`       a body that is not JSON:API (HTML, cut short)
====  ==========================================  ==========================================

:class:`QuotaReserveReachedError` is raised *before* a call that would eat into the calls kept
in reserve; :class:`PersonSkippedError` is not an API error: it says why one person was not
imported (no email, a team member), and a sync records it and goes on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadbridge import ConflictError, LeadBridgeError, NotFoundError, ValidationError
from leadbridge.http import (
    APIError,
    AuthenticationError,
    FatalAPIError,
    InvalidResponseError,
    PermissionDeniedError,
    RateLimitedError,
    RetriableAPIError,
)


class LivestormAPIError(APIError):
    """Root of the Livestorm client's errors; ``errors`` holds Livestorm's error objects."""

    code = "LIVESTORM_API_ERROR"

    def __init__(self, message: str, *, errors: tuple[Any, ...] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors = errors


class LivestormAuthenticationError(LivestormAPIError, AuthenticationError):
    """401: the API token (or OAuth access token) is invalid, revoked, or lacks a scope."""

    code = "LIVESTORM_UNAUTHORIZED"


class ContactsAllowanceReachedError(LivestormAPIError, FatalAPIError):
    """402: the workspace reached the active-contacts allowance of its Livestorm plan."""

    code = "LIVESTORM_CONTACTS_ALLOWANCE"


class LivestormPermissionError(LivestormAPIError, PermissionDeniedError):
    """403: the token's scope is not granted, or the workspace is not validated yet."""

    code = "LIVESTORM_FORBIDDEN"


class LivestormNotFoundError(LivestormAPIError, FatalAPIError, NotFoundError):
    """404: the resource named (event, session, person, job, webhook) does not exist."""

    code = "LIVESTORM_NOT_FOUND"


class LivestormConflictError(LivestormAPIError, FatalAPIError, ConflictError):
    """409: the write collides with what Livestorm holds."""

    code = "LIVESTORM_CONFLICT"


class AlreadyRegisteredError(LivestormConflictError):
    """409 on registration: the email is already registered on that session (not a failure
    for a push: record the registration and go on)."""

    code = "LIVESTORM_ALREADY_REGISTERED"

    def __init__(
        self, message: str, *, session_id: str = "", email: str = "", **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.session_id = session_id
        self.email = email


class LivestormValidationError(LivestormAPIError, FatalAPIError, ValidationError):
    """422: Livestorm refused the body (a field, an email…); ``server_message`` says which."""

    code = "LIVESTORM_INVALID"


class LivestormRequestError(LivestormAPIError, FatalAPIError):
    """Another refusal (400 and the other 4xx, or a request that could not be sent at all)."""

    code = "LIVESTORM_BAD_REQUEST"


class LivestormRateLimitedError(LivestormAPIError, RateLimitedError):
    """429 that outlasted the retries (or a ``Retry-After`` too long to sleep through)."""

    code = "LIVESTORM_RATE_LIMITED"


class LivestormUnavailableError(LivestormAPIError, RetriableAPIError):
    """5xx, a timeout or a connection error that outlasted the retries: try again later."""

    code = "LIVESTORM_UNAVAILABLE"


class LivestormInvalidResponseError(LivestormAPIError, InvalidResponseError):
    """Livestorm (or something in between) answered with a body that is not JSON:API — an
    HTML page with 200, a truncated document. The message names the call (method and path,
    without the query), the status, the content type and the body's first bytes."""

    code = "LIVESTORM_INVALID_RESPONSE"


class QuotaReserveReachedError(LivestormAPIError, RateLimitedError):
    """Raised before a call that would leave fewer than ``quota_reserve`` monthly calls.

    Nothing was sent. A sync stops here as ``partial`` and continues from its cursor once the
    quota resets (``reset_at``, when Livestorm said; ``retry_after`` in seconds).
    """

    code = "LIVESTORM_QUOTA_RESERVE"

    def __init__(
        self,
        message: str,
        *,
        remaining: int,
        reserve: int,
        reset_at: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.remaining = remaining
        self.reserve = reserve
        self.reset_at = reset_at


class BulkJobError(LivestormAPIError, RetriableAPIError):
    """A bulk registration job failed or did not end in time; its items were not all done."""

    code = "LIVESTORM_BULK_JOB"

    def __init__(self, message: str, *, job_id: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.job_id = job_id


class PersonSkippedError(LeadBridgeError):
    """Skippable: this Livestorm person is not imported as a contact; ``reason`` says why.

    ``reason`` is a stable code (``"no_email"``, ``"team_member"``, ``"no_registration"``) and
    the message a sentence for the run's error list.
    """

    code = "LIVESTORM_PERSON_SKIPPED"

    def __init__(self, message: str, *, reason: str, person_id: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.person_id = person_id

    @property
    def message(self) -> str:
        return str(self.args[0])
