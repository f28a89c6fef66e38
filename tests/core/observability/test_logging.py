"""``LEADBRIDGE_LOG_FORMAT``: JSON lines in a real process, clear errors, the default text."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROGRAM = """
import logging, sys
from leadbridge.observability import bound_log_context, configure_logging, LOG_FORMAT_ENV
import os
configure_logging(logging.INFO, os.environ.get(LOG_FORMAT_ENV))
log = logging.getLogger("leadbridge.sync")
with bound_log_context(integration="livestorm", run_id=41):
    log.info("page %d applied", 3)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("it broke")
log.warning("outside")
"""


def run(log_format: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LEADBRIDGE_LOG_FORMAT"}
    if log_format is not None:
        env["LEADBRIDGE_LOG_FORMAT"] = log_format
    return subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=60
    )


def test_json_is_one_object_per_line_with_the_bound_context() -> None:
    done = run("json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [entry["message"] for entry in lines] == ["page 3 applied", "it broke", "outside"]
    first, failed, outside = lines
    assert first["level"] == "INFO" and first["logger"] == "leadbridge.sync"
    assert first["integration"] == "livestorm" and first["run_id"] == 41
    assert first["timestamp"].endswith("+00:00")
    assert "RuntimeError: boom" in failed["exception"]
    assert "run_id" not in outside and "integration" not in outside


def test_the_default_stays_text_for_people() -> None:
    done = run(None)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == "INFO:leadbridge.sync:page 3 applied"


def test_an_unknown_format_names_the_choices() -> None:
    done = run("yaml")
    assert done.returncode != 0
    assert "LEADBRIDGE_LOG_FORMAT='yaml' is unknown; use one of text, json" in done.stderr
