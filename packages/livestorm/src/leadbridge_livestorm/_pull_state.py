"""What an incremental pull remembers between runs: the pull cursor, as opaque JSON.

The pull does not trust ``filter[updated_since]`` on sessions or people (the reference pages
do not list it there). It compares each session's change signals the documentation does
promise — ``status`` (``upcoming`` → ``live`` → ``past``), ``registrants_count``,
``attendees_count``, and ``updated_at`` — with what they were when its people were last read
(:func:`session_signals`), and reads the people of a session only when they differ.

Cursor after a run::

    {"seen": N, "sessions": {"<session id>": ["<signals>", S], …}, "unfiltered": ["people"],
     "served": ["<session id>", …], "started": T}

``seen`` is the newest Livestorm time read (it anchors the window of sessions listed);
``S`` the newest time read before the session's people were read, which a later read passes
as ``filter[updated_since]`` while that filter works; ``unfiltered`` names the endpoints
caught ignoring it (a record older than the filter came back), which are then read without it.
``served`` are the sessions a webhook had flagged that the run read, and ``started`` when that
run started (Unix seconds, this machine's clock): the next run clears those flags, only once
this cursor is stored, so a run that failed, a dry run or a targeted run never clears a flag.
Between pages of a run the cursor adds ``"done": [session ids]`` and ``"from": W`` (the
window of that run), so a rerun resumes without reading those sessions again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from leadbridge.sync import SyncRunError

from ._jsonapi import to_timestamp
from ._models import Session

#: The endpoint whose ``filter[updated_since]`` the pull tries, and stops trusting once seen
#: ignored.
PEOPLE_ENDPOINT = "people"


def session_signals(session: Session) -> str:
    """The documented change signals of a session, as one comparable string."""
    updated = to_timestamp(session.updated_at) if session.updated_at is not None else 0
    return f"{session.status or ''}|{session.registrants_count}|{session.attendees_count}|{updated}"


@dataclass(slots=True)
class PullState:
    """The pull cursor, read and written as JSON (see the module's docstring)."""

    seen: int = 0
    sessions: dict[str, tuple[str, int]] = field(default_factory=dict)
    unfiltered: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    window_from: int | None = None
    in_run: bool = False
    served: set[str] = field(default_factory=set)
    started: float | None = None

    @classmethod
    def read(cls, cursor: str | None) -> PullState:
        """The state of a stored cursor; a cursor of an older release counts as none."""
        if not cursor:
            return cls()
        try:
            state: Any = json.loads(cursor)
            sessions = {
                str(key): (str(value[0]), int(value[1]))
                for key, value in (state.get("sessions") or {}).items()
            }
            window = state.get("from")
            started = state.get("started")
            return cls(
                seen=int(state.get("seen") or 0),
                sessions=sessions,
                unfiltered={str(name) for name in state.get("unfiltered") or ()},
                done={str(sid) for sid in state.get("done") or ()},
                window_from=int(window) if window is not None else None,
                in_run="done" in state,
                served={str(sid) for sid in state.get("served") or ()},
                started=float(started) if started is not None else None,
            )
        except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
            raise SyncRunError(f"the stored livestorm cursor {cursor!r} is unreadable") from exc

    def write(self, *, finished: bool) -> str:
        """The cursor to store: between pages (``finished=False``) or after the run."""
        document: dict[str, Any] = {
            "seen": self.seen,
            "sessions": {sid: list(entry) for sid, entry in sorted(self.sessions.items())},
            "unfiltered": sorted(self.unfiltered),
            "served": sorted(self.served),
            "started": self.started,
        }
        if not finished:
            document["done"] = sorted(self.done)
            document["from"] = self.window_from
        return json.dumps(document, separators=(",", ":"))

    def filter_works(self, endpoint: str) -> bool:
        return endpoint not in self.unfiltered
