"""Log lines for people (the default) or one JSON object per line for log pipelines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from enum import StrEnum

from .._errors import ConfigurationError
from ._context import log_context

#: The environment variable that picks the format: ``json`` or ``text`` (the default).
LOG_FORMAT_ENV = "LEADBRIDGE_LOG_FORMAT"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, the bound context (``integration``, ``run_id``, ``job_id``, ``request_id``)
    and ``exception`` when there is one.

    The message is the record's own, formatted the way the text format does, so a logger
    filter that masks secrets (``install_httpx_log_redaction``) masks them here too.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(log_context())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: int, log_format: LogFormat | str | None = None) -> None:
    """Send the root logger's records to stderr at ``level`` in ``log_format``.

    ``log_format`` is ``text`` or ``json`` (``None`` or empty: ``text``); an unknown one is a
    :class:`~leadbridge.ConfigurationError` naming the choices. Like
    :func:`logging.basicConfig`, it does nothing when the root logger already has handlers
    someone else added (an application embedding LeadBridge keeps its own logging); a second
    call replaces what the first one set.
    """
    value = (log_format or LogFormat.TEXT).strip().lower()
    try:
        chosen = LogFormat(value)
    except ValueError as exc:
        choices = ", ".join(f.value for f in LogFormat)
        raise ConfigurationError(
            f"{LOG_FORMAT_ENV}={log_format!r} is unknown; use one of {choices}"
        ) from exc
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, _MARK, False)]
    if len(ours) != len(root.handlers):
        return
    for handler in ours:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    setattr(handler, _MARK, True)
    if chosen is LogFormat.JSON:
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


_MARK = "_leadbridge_handler"
