"""Deterministic growth of a fake workspace: new registrations every interval (the demo)."""

from __future__ import annotations

import threading

from ._store import RegistrationRecord, Workspace


class Growth:
    """Registers ``per_step`` new people on the workspace's upcoming sessions at each step.

    ::

        growth = Growth(fake.workspace, per_step=3, interval=60.0)
        growth.step()      # now: three new registrations, the workspace clock 60 s later
        growth.start()     # ... and again every 60 s in a background thread, until stop()

    Deterministic: the n-th new person is ``growth.<n>@example.com`` (first name ``New``,
    last name ``Registrant <n>``), registered on the upcoming sessions in turn (by id; all
    sessions when none is upcoming). Each step first moves the workspace clock ``interval``
    seconds on, so the new registrations are newer than anything a sync saw.
    """

    def __init__(self, workspace: Workspace, *, per_step: int = 3, interval: float = 60.0) -> None:
        self.workspace = workspace
        self.per_step = per_step
        self.interval = interval
        self._grown = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> list[RegistrationRecord]:
        """Add one step's registrations now; returns them."""
        workspace = self.workspace
        with workspace.lock:
            sessions = sorted(
                (s for s in workspace.sessions.values() if s.status == "upcoming"),
                key=lambda s: s.id,
            ) or sorted(workspace.sessions.values(), key=lambda s: s.id)
            if not sessions:
                return []
            workspace.advance(int(self.interval))
            added: list[RegistrationRecord] = []
            for _ in range(self.per_step):
                self._grown += 1
                number = self._grown
                email = f"growth.{number}@example.com"
                person = workspace.find_person(email) or workspace.add_person(
                    email, first_name="New", last_name=f"Registrant {number}"
                )
                session = sessions[(number - 1) % len(sessions)]
                if person.id not in session.registrations:
                    added.append(workspace.register(session.id, person))
            return added

    def start(self) -> None:
        """Run :meth:`step` every ``interval`` seconds in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="livestorm-growth", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.step()
