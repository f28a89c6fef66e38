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

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from leadbridge import ConfigurationError

_PREFIX = "LEADBRIDGE_GATEWAY_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


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
        for name in (
            "max_body_bytes",
            "max_depth",
            "max_aliases",
            "max_tokens",
            "max_nodes",
            "cache_size",
        ):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"gateway setting {name} must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in ("graphiql", "introspection", "anonymous_introspection"):
            raw = env.get(_PREFIX + name.upper())
            if raw is not None:
                values[name] = _flag(name, raw)
        origins = env.get("LEADBRIDGE_CORS_ORIGINS", env.get(_PREFIX + "CORS_ORIGINS"))
        if origins is not None:
            values["cors_origins"] = tuple(o.strip() for o in origins.split(",") if o.strip())
        for name in (
            "max_body_bytes",
            "max_depth",
            "max_aliases",
            "max_tokens",
            "max_nodes",
            "cache_size",
        ):
            raw = env.get(_PREFIX + name.upper())
            if raw is not None and raw.strip():
                try:
                    values[name] = int(raw)
                except ValueError as exc:
                    raise ConfigurationError(
                        f"{_PREFIX}{name.upper()}={raw!r} is not a whole number"
                    ) from exc
        values["metrics_token"] = env.get(_PREFIX + "METRICS_TOKEN", "").strip() or None
        return cls(**values)  # type: ignore[arg-type]


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{_PREFIX}{name.upper()}={raw!r}: use 1 or 0")
