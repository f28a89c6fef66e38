"""Gateway settings, from ``LEADBRIDGE_GATEWAY_*`` variables or given explicitly.

``LEADBRIDGE_GATEWAY_GRAPHIQL``         ``1`` serves GraphiQL at ``/graphql`` (development only)
``LEADBRIDGE_GATEWAY_INTROSPECTION``    ``0`` turns schema introspection off (default on, for
                                        callers with a valid API token)
``LEADBRIDGE_GATEWAY_ANONYMOUS_INTROSPECTION``  ``1`` lets callers without a token introspect
                                        too (default off; on with GraphiQL)
``LEADBRIDGE_CORS_ORIGINS``             comma-separated origins whose pages may call the gateway
                                        (``http://localhost:5173``; ``*`` for any); also read as
                                        ``LEADBRIDGE_GATEWAY_CORS_ORIGINS``
``LEADBRIDGE_GATEWAY_MAX_BODY_BYTES``   larger request bodies get 413 (default 1 MiB)
``LEADBRIDGE_GATEWAY_MAX_DEPTH``        deepest selection nesting accepted (default 12)
``LEADBRIDGE_GATEWAY_MAX_ALIASES``      aliases per document (default 30)
``LEADBRIDGE_GATEWAY_MAX_TOKENS``       lexical tokens per document (default 5000)
``LEADBRIDGE_GATEWAY_MAX_NODES``        nodes a query may return at most (default 50000)
``LEADBRIDGE_GATEWAY_CACHE_SIZE``       parsed and validated documents kept (default 256)
``LEADBRIDGE_GATEWAY_METRICS_TOKEN``    bearer token ``/metrics`` asks for (unset: open)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from leadbridge import ConfigurationError
from leadbridge.settings import BaseEnvironment, EnvironmentFlag, EnvironmentInt, EnvironmentList

_LIMITS = ("max_body_bytes", "max_depth", "max_aliases", "max_tokens", "max_nodes", "cache_size")


class _GatewayEnvironment(BaseEnvironment):
    """The variables as set; ``None``: not set, the setting keeps its default."""

    model_config = SettingsConfigDict(env_prefix="LEADBRIDGE_GATEWAY_")

    graphiql: EnvironmentFlag = None
    introspection: EnvironmentFlag = None
    anonymous_introspection: EnvironmentFlag = None
    cors_origins: EnvironmentList = Field(
        None,
        validation_alias=AliasChoices("LEADBRIDGE_CORS_ORIGINS", "LEADBRIDGE_GATEWAY_CORS_ORIGINS"),
    )
    max_body_bytes: EnvironmentInt = None
    max_depth: EnvironmentInt = None
    max_aliases: EnvironmentInt = None
    max_tokens: EnvironmentInt = None
    max_nodes: EnvironmentInt = None
    cache_size: EnvironmentInt = None
    metrics_token: SecretStr | None = None


@dataclass(frozen=True, kw_only=True)
class GatewaySettings:
    graphiql: bool = False
    #: Answer introspection queries (and "did you mean" hints) at all.
    introspection: bool = True
    #: Answer them to callers without an API token too; GraphiQL (development) implies it.
    anonymous_introspection: bool = False
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1024 * 1024
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_nodes: int = 50_000
    cache_size: int = 256
    metrics_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.graphiql and self.introspection and not self.anonymous_introspection:
            # GraphiQL loads the schema before its user has typed a token.
            object.__setattr__(self, "anonymous_introspection", True)
        for name in _LIMITS:
            if getattr(self, name) < 1:
                raise ConfigurationError(f"gateway setting {name} must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        """Read the variables above from ``environ`` (default: ``os.environ``)."""
        environment = _GatewayEnvironment.read(environ)
        token = environment.metrics_token
        # a blank token leaves /metrics open, as an unset one does
        metrics_token = token.get_secret_value().strip() if token is not None else ""
        return cls(
            **{
                name: value
                for name, value in environment.model_dump(exclude={"metrics_token"}).items()
                if value is not None
            },
            metrics_token=metrics_token or None,
        )
