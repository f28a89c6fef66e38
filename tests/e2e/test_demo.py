"""`leadbridge demo` end to end: seeded, synced, served; the README's queries answer; Ctrl-C
stops everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from leadbridge.testing import backend_from_env

pytestmark = pytest.mark.skipif(
    backend_from_env() != "sqlite",
    reason="the demo runs on its embedded SQLite: once, in the sqlite environment",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_runs_serves_and_stops(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadbridge",
            "demo",
            "--reset",
            "--data-dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        info = None
        deadline = time.monotonic() + 300
        lines = []
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith('{"graphql"'):
                info = json.loads(line)
                break
        if info is None:
            proc.kill()
            _out, err = proc.communicate()
            pytest.fail("no gateway line in the demo's output:\n" + "".join(lines) + err)
        assert any("synced livestorm" in x for x in lines)
        headers = {"Authorization": f"Bearer {info['token']}"}
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        top = httpx.post(
            info["graphql"],
            headers=headers,
            json={
                "query": "{ contacts(first: 5, orderBy: {field: POINTS, direction: DESC}) "
                "{ totalCount edges { node { email points } } } }"
            },
        ).json()
        assert "errors" not in top, top
        contacts = top["data"]["contacts"]
        assert contacts["totalCount"] > 1000
        scores = [e["node"]["points"] for e in contacts["edges"]]
        assert scores == sorted(scores, reverse=True) and scores[0] > 0
        email = contacts["edges"][0]["node"]["email"]
        one = httpx.post(
            info["graphql"],
            headers=headers,
            json={"query": f'{{ contact(email: "{email}") {{ email points tags }} }}'},
        ).json()
        assert one["data"]["contact"]["email"] == email
        # the token is read-only
        denied = httpx.post(
            info["graphql"],
            headers=headers,
            json={"query": 'mutation { deleteContact(id: "x") { userErrors { message } } }'},
        ).json()
        code = denied["errors"][0]["extensions"]["code"]
        assert code in ("FORBIDDEN", "GRAPHQL_VALIDATION_FAILED")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=60)  # also closes the pipes
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    assert proc.returncode == 0, err
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
