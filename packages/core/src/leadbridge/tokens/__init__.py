"""API tokens: scoped, stored as SHA-256 hashes, shown once, revocable."""

from ._models import ApiTokenRow
from ._service import (
    TOKEN_PREFIX,
    ApiToken,
    IssuedToken,
    Scope,
    TokenService,
    hash_token,
    parse_scopes,
)

__all__ = [
    "TOKEN_PREFIX",
    "ApiToken",
    "ApiTokenRow",
    "IssuedToken",
    "Scope",
    "TokenService",
    "hash_token",
    "parse_scopes",
]
