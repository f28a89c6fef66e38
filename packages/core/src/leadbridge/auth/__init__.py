"""Auth providers for integrations, as ``httpx.Auth`` subclasses.

Pick the provider the API documents and give it the integration's credentials (any object
implementing the matching protocol):

=========================================  =============================================
API key in a query parameter               :class:`APIKeyQueryAuth` (``param=``)
API key in a header (raw or prefixed)      :class:`APIKeyHeaderAuth` (``header=``, ``prefix=``)
HTTP Basic                                 :class:`HTTPBasicAuth`
Long-lived bearer token                    :class:`BearerTokenAuth`
OAuth2 client credentials                  :class:`OAuth2ClientCredentialsAuth`
OAuth2 authorization code (PKCE, refresh)  :class:`OAuth2AuthorizationCodeAuth`
=========================================  =============================================

OAuth2 tokens live in a :class:`TokenStore`; :class:`SecretBoxTokenStore` encrypts them and
leaves the storage to callbacks. Providers sharing a :class:`LockingTokenStore` (several
workers) refresh one at a time. Empty credentials are refused when a provider is built.
Failures raise the errors of :mod:`leadbridge.http`
(:class:`~leadbridge.http.AuthenticationError` for rejected credentials;
:class:`ReauthorizationRequiredError` when the user must authorize the integration again).
"""

from ._credentials import (
    APIKey,
    APIKeyCredentials,
    BasicAuthCredentials,
    BearerTokenCredentials,
    ClientCredentials,
    ClientIdSecret,
    StaticToken,
    UsernamePassword,
)
from ._errors import ReauthorizationRequiredError
from ._oauth import (
    AuthorizationRequest,
    ClientAuthMethod,
    OAuth2AuthorizationCodeAuth,
    OAuth2ClientCredentialsAuth,
    pkce_challenge,
)
from ._static import APIKeyHeaderAuth, APIKeyQueryAuth, BearerTokenAuth, HTTPBasicAuth
from ._tokens import (
    LockingTokenStore,
    MemoryTokenStore,
    OAuthToken,
    RawTokenAccess,
    SecretBoxTokenStore,
    TokenStore,
)

__all__ = [
    "APIKey",
    "APIKeyCredentials",
    "APIKeyHeaderAuth",
    "APIKeyQueryAuth",
    "AuthorizationRequest",
    "BasicAuthCredentials",
    "BearerTokenAuth",
    "BearerTokenCredentials",
    "ClientAuthMethod",
    "ClientCredentials",
    "ClientIdSecret",
    "HTTPBasicAuth",
    "LockingTokenStore",
    "MemoryTokenStore",
    "OAuth2AuthorizationCodeAuth",
    "OAuth2ClientCredentialsAuth",
    "OAuthToken",
    "RawTokenAccess",
    "ReauthorizationRequiredError",
    "SecretBoxTokenStore",
    "StaticToken",
    "TokenStore",
    "UsernamePassword",
    "pkce_challenge",
]
