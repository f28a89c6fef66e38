from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from leadbridge import ConfigurationError
from leadbridge_gateway import GatewaySettings
from leadbridge_gateway._cli import register
from leadbridge_gateway.export_schema import DEFAULT_PATH, main, schema_sdl

from ..core.test_exported_members import test_all_is_complete_and_sorted as check_all

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "packages" / "gateway" / "schema.graphql"


def test_schema_file_is_up_to_date() -> None:
    assert DEFAULT_PATH == SCHEMA_FILE
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "packages/gateway/schema.graphql is out of date: "
        "run `hatch run python -m leadbridge_gateway.export_schema`"
    )


def test_export_check_fails_on_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "schema.graphql"
    assert main([str(path), "--check"]) == 1
    assert main([str(path)]) == 0
    assert main([str(path), "--check"]) == 0
    path.write_text(path.read_text() + "\ntype Extra { x: Int }\n")
    assert main([str(path), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_serve_print_schema() -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def root() -> None:
        pass

    result = CliRunner().invoke(app, ["serve", "--print-schema"])
    assert result.exit_code == 0 and result.stdout == schema_sdl()
    assert "serve" in CliRunner().invoke(app, ["--help"]).stdout


def test_serve_is_registered_through_the_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "leadbridge", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    for option in ("--host", "--port", "--workers", "--dev", "--print-schema"):
        assert option in proc.stdout


def test_settings_from_env() -> None:
    settings = GatewaySettings.from_env(
        {
            "LEADBRIDGE_GATEWAY_GRAPHIQL": "1",
            "LEADBRIDGE_GATEWAY_INTROSPECTION": "off",
            "LEADBRIDGE_GATEWAY_CORS_ORIGINS": "https://a.example, https://b.example",
            "LEADBRIDGE_GATEWAY_MAX_NODES": "1000",
        }
    )
    assert settings.graphiql and not settings.introspection
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.max_nodes == 1000 and settings.max_depth == 12
    assert GatewaySettings.from_env({}) == GatewaySettings()
    assert not GatewaySettings().anonymous_introspection
    public = {"LEADBRIDGE_GATEWAY_ANONYMOUS_INTROSPECTION": "1"}
    assert GatewaySettings.from_env(public).anonymous_introspection
    with pytest.raises(ConfigurationError, match="LEADBRIDGE_GATEWAY_MAX_DEPTH='deep'"):
        GatewaySettings.from_env({"LEADBRIDGE_GATEWAY_MAX_DEPTH": "deep"})
    with pytest.raises(ConfigurationError, match="LEADBRIDGE_GATEWAY_GRAPHIQL"):
        GatewaySettings.from_env({"LEADBRIDGE_GATEWAY_GRAPHIQL": "maybe"})
    with pytest.raises(ConfigurationError, match="max_body_bytes must be at least 1"):
        GatewaySettings(max_body_bytes=0)


def test_public_surface() -> None:
    importlib.import_module("leadbridge_gateway")
    check_all("leadbridge_gateway")
