"""`leadbridge demo` end to end: seeded, synced, served; the README's queries answer; GraphiQL
works in a real browser; a rerun resumes the workspace; a taken port fails before any setup;
Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadbridge.testing import backend_from_env

pytestmark = pytest.mark.skipif(
    backend_from_env() != "sqlite",
    reason="the demo runs on its embedded SQLite: once, in the sqlite environment",
)

SETUP_DEADLINE = 240.0
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class RunningDemo:
    graphql: str
    token: str
    lines: list[str]
    proc: subprocess.Popen[str]

    def post(self, query: str, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        doc: dict[str, Any] = httpx.post(
            self.graphql, headers=headers, json={"query": query}, timeout=30
        ).json()
        return doc


def _command(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "leadbridge", "demo", "--data-dir", str(data_dir), *args]


@contextmanager
def demo(data_dir: Path, *args: str) -> Iterator[RunningDemo]:
    """The demo running until the block ends, then stopped with Ctrl-C (SIGINT)."""
    proc = subprocess.Popen(
        _command(data_dir, "--port", "0", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    stopped = False
    try:
        info = None
        lines: list[str] = []
        deadline = time.monotonic() + SETUP_DEADLINE
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
            stopped = True
            pytest.fail("no gateway line in the demo's output:\n" + "".join(lines) + err)
        yield RunningDemo(info["graphql"], info["token"], lines, proc)
    finally:
        if not stopped:
            proc.send_signal(signal.SIGINT)
            try:
                _out, err = proc.communicate(timeout=60)  # also closes the pipes
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise
            assert proc.returncode == 0, err


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with demo(tmp_path_factory.mktemp("demo") / "data", "--reset") as running:
        yield running


def test_the_address_is_printed_once_the_gateway_accepts_connections(
    running: RunningDemo,
) -> None:
    # No retry: the line is printed after the server started listening.
    base = running.graphql.removesuffix("/graphql")
    assert httpx.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
    assert any("synced livestorm" in x for x in running.lines)
    assert [x for x in running.lines if "sync livestorm every minute" in x] == [
        "schedule 1: sync livestorm every minute (runs listed by the syncRuns query in GraphiQL)\n"
    ]
    assert not base.endswith(":0")  # --port 0 printed the port it picked


def test_the_readme_queries_answer(running: RunningDemo) -> None:
    top = running.post(
        "{ contacts(first: 5, orderBy: {field: POINTS, direction: DESC}) "
        "{ totalCount edges { node { email points } } } }"
    )
    assert "errors" not in top, top
    contacts = top["data"]["contacts"]
    assert contacts["totalCount"] > 1000
    scores = [e["node"]["points"] for e in contacts["edges"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    email = contacts["edges"][0]["node"]["email"]
    one = running.post(f'{{ contact(email: "{email}") {{ email points tags }} }}')
    assert one["data"]["contact"]["email"] == email
    # the token is read-only
    denied = running.post('mutation { deleteContact(id: "x") { userErrors { message } } }')
    code = denied["errors"][0]["extensions"]["code"]
    assert code in ("FORBIDDEN", "GRAPHQL_VALIDATION_FAILED")


def test_a_browser_from_a_local_dev_server_may_call_the_demo(running: RunningDemo) -> None:
    origin = "http://localhost:5173"
    preflight = httpx.options(
        running.graphql,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin


# -- GraphiQL in a real browser ---------------------------------------------------------------

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
PROGRESS = "subscription ($id: ID!) { syncRunProgress(id: $id) { status pulled } }"


def _set_editor(page: Any, selector: str, index: int, text: str) -> None:
    page.evaluate(
        "([selector, index, text]) => "
        "document.querySelectorAll(selector)[index].CodeMirror.setValue(text)",
        [selector, index, text],
    )


def _run_and_read(page: Any, expect: str) -> str:
    """Run the editor's operation; the response pane's text once it holds ``expect``."""
    read = "() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"
    page.evaluate(
        "() => document.querySelector('.result-window .CodeMirror').CodeMirror.setValue('')"
    )
    page.click(".graphiql-execute-button")
    page.wait_for_function(f"(expect) => ({read})().includes(expect)", arg=expect, timeout=30_000)
    text: str = page.evaluate(read)
    return text


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium binary at {CHROMIUM}: `apt-get install chromium` to run it")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_graphiql_in_chromium(running: RunningDemo, browser: Any) -> None:
    run_id = running.post("{ syncRuns(first: 1) { nodes { id } } }")["data"]["syncRuns"]
    run_id = run_id["nodes"][0]["id"]
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} {r.url}"),
    )
    page.goto(running.graphql)
    page.wait_for_selector(QUERY_EDITOR)

    # The demo's token is in the headers editor: the first query answers.
    headers = page.inner_text(".graphiql-editor-tool")
    assert running.token in headers
    result = json.loads(_run_and_read(page, "totalCount"))
    assert result["data"]["contacts"]["totalCount"] > 1000

    # The schema loaded on first open: the Docs list the root types.
    page.click("button[aria-label='Show Documentation Explorer']")
    page.wait_for_selector(".graphiql-doc-explorer-root-type", timeout=30_000)
    docs = page.inner_text(".graphiql-doc-explorer")
    assert "Query" in docs and "Subscription" in docs, docs

    # An anonymous subscription goes over the websocket; the finished run says how it ended.
    _set_editor(page, QUERY_EDITOR, 0, PROGRESS)
    _set_editor(page, ".graphiql-editor-tool .CodeMirror", 0, json.dumps({"id": run_id}))
    update = json.loads(_run_and_read(page, "syncRunProgress"))
    assert update["data"]["syncRunProgress"]["status"] == "SUCCEEDED", update

    # A stale token (a reset demo, a revoked token) says so.
    _set_editor(page, QUERY_EDITOR, 0, "{ contacts { totalCount } }")
    stale = json.dumps({"Authorization": "Bearer lbt_stale"})
    _set_editor(page, ".graphiql-editor-tool .CodeMirror", 1, stale)
    assert "unknown, revoked or expired" in _run_and_read(page, "UNAUTHENTICATED")

    # A placeholder a browser cannot send gets a message, not a TypeError.
    placeholder = json.dumps({"Authorization": "Bearer lbt_…"}, ensure_ascii=False)
    _set_editor(page, ".graphiql-editor-tool .CodeMirror", 1, placeholder)
    assert "cannot send" in _run_and_read(page, "cannot send")
    assert problems == []


# -- reruns and ports -------------------------------------------------------------------------


def test_a_second_run_resumes_the_workspace(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with demo(data_dir) as first:
        created = first.post("{ pointActions { name } segments { totalCount } }")["data"]
    with demo(data_dir) as second:
        assert any("resuming the demo workspace" in line for line in second.lines)
        # The minute schedule of the first run is found again, not added twice.
        assert any(line.startswith("schedule 1: sync livestorm") for line in second.lines)
        assert second.token == first.token
        again = second.post("{ pointActions { name } segments { totalCount } }")["data"]
        tokens = second.post("{ contacts { totalCount } }")["data"]["contacts"]
    assert again == created
    assert len(created["pointActions"]) == 3 and created["segments"]["totalCount"] == 3
    assert tokens["totalCount"] > 1000


def test_a_taken_port_fails_before_any_setup(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            _command(tmp_path / "data", "--port", str(port)),
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": "200"},
        )
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is taken" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was set up
    assert "GraphiQL" not in done.stdout
