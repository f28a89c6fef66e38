"""Gateway settings from ``LEADBRIDGE_GATEWAY_*`` variables (the happy path is in
test_schema_file.py; CORS in test_clients.py)."""

from __future__ import annotations

import re

import pytest

from leadbridge import ConfigurationError
from leadbridge_gateway import GatewaySettings


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("LEADBRIDGE_GATEWAY_INTROSPECTION", "perhaps", "='perhaps': use 1 or 0"),
        ("LEADBRIDGE_GATEWAY_ANONYMOUS_INTROSPECTION", "2", "='2': use 1 or 0"),
        ("LEADBRIDGE_GATEWAY_MAX_BODY_BYTES", "1MiB", "='1MiB': not a whole number"),
        ("LEADBRIDGE_GATEWAY_CACHE_SIZE", "1e3", "='1e3': not a whole number"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(variable + message)):
        GatewaySettings.from_env({variable: raw})


def test_a_value_out_of_range_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="max_tokens must be at least 1"):
        GatewaySettings.from_env({"LEADBRIDGE_GATEWAY_MAX_TOKENS": "0"})


def test_blank_variables_keep_the_defaults() -> None:
    blank = {
        "LEADBRIDGE_GATEWAY_MAX_DEPTH": " ",
        "LEADBRIDGE_GATEWAY_METRICS_TOKEN": "  ",
        "LEADBRIDGE_GATEWAY_CORS_ORIGINS": "",
    }
    assert GatewaySettings.from_env(blank) == GatewaySettings()
    # a blank flag is off, as it always was
    assert not GatewaySettings.from_env({"LEADBRIDGE_GATEWAY_INTROSPECTION": ""}).introspection


def test_the_shorter_cors_variable_wins() -> None:
    env = {
        "LEADBRIDGE_CORS_ORIGINS": "https://app.example",
        "LEADBRIDGE_GATEWAY_CORS_ORIGINS": "https://other.example",
    }
    assert GatewaySettings.from_env(env).cors_origins == ("https://app.example",)


def test_the_metrics_token_is_read_but_never_shown() -> None:
    settings = GatewaySettings.from_env({"LEADBRIDGE_GATEWAY_METRICS_TOKEN": " scrape-0042 "})
    assert settings.metrics_token == "scrape-0042"
    assert "scrape-0042" not in repr(settings)


def test_os_environ_is_the_default_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADBRIDGE_GATEWAY_MAX_ALIASES", "7")
    monkeypatch.setenv("LEADBRIDGE_GATEWAY_GRAPHIQL", "on")
    settings = GatewaySettings.from_env()
    assert settings.max_aliases == 7 and settings.graphiql and settings.anonymous_introspection
