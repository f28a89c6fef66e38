"""The auth providers' own error: a stored authorization that only the user can renew."""

from __future__ import annotations

from ..http import AuthenticationError


class ReauthorizationRequiredError(AuthenticationError):
    """The stored OAuth authorization is gone: no refresh token, or the server rejected it
    (``invalid_grant``: revoked, expired, or spent by a reuse the server detected).

    Fatal: retrying cannot help, the user must authorize the integration again.
    ``integration`` names it when the provider was given a name.
    """

    code = "REAUTHORIZATION_REQUIRED"

    def __init__(
        self,
        message: str,
        *,
        integration: str | None = None,
        status: int | None = None,
        method: str | None = None,
        url: str | None = None,
        server_code: str | None = None,
    ) -> None:
        super().__init__(message, status=status, method=method, url=url, server_code=server_code)
        self.integration = integration
