"""Who holds a sync lease: a random id per engine, and where it runs for humans."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from ._models import SyncLeaseRow

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class LeaseHolder:
    """The identity an engine takes a lease under.

    ``instance_id`` (random, one per engine) is what tells holders apart: two containers may
    share a host name and even a pid. ``host:pid`` (:attr:`label`) is kept for people reading
    ``sync status``. ``scope`` says where ``pid`` names a process (this boot of the machine
    and this pid namespace): only a process of the same scope may conclude from a missing
    pid that the holder is gone, and take its lease before the timeout.
    """

    instance_id: str
    host: str
    pid: int
    scope: str

    @classmethod
    def here(cls) -> LeaseHolder:
        host = socket.gethostname()
        return cls(uuid.uuid4().hex, host, os.getpid(), _process_scope(host))

    @property
    def label(self) -> str:
        return f"{self.host}:{self.pid}"

    def sees_gone(self, lease: SyncLeaseRow) -> bool:
        """Whether the lease's holder is a process of our scope that no longer exists."""
        if lease.instance_id is None or lease.instance_id == self.instance_id:
            return False  # a holder from before instance ids waits for its timeout
        if lease.process_scope != self.scope:
            return False
        _, _, pid = (lease.holder or "").rpartition(":")
        return pid.isdigit() and not _pid_alive(int(pid))


def _process_scope(host: str) -> str:
    try:
        boot = _BOOT_ID.read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:  # no /proc (macOS…): the host name is all there is
        return f"host {host}"
    return f"{boot} {namespace}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
