"""The generated secret-key file: written whole or not at all, read back with patience.

Several processes may start at once on a fresh data dir (a CLI command beside the gateway,
two workers). Each writes a candidate key to a private temporary file, flushes it to disk,
and links it into place: the link fails if another process's key got there first, which is
then the key everyone reads. A reader never sees a half-written file from us; a file found
empty (written by an older version, or a filesystem without hard links) is read again for a
moment before it is refused.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from ._errors import ConfigurationError

SECRET_FILE = "secret.key"
#: How long an empty key file is waited for (another process may be writing it).
_READ_PATIENCE = 2.0
_READ_PAUSE = 0.02


def load_or_create_secret(data_dir: Path) -> str:
    """The key in ``<data_dir>/secret.key``, generated (mode 0600) if there is none."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _publish(path, Fernet.generate_key().decode())
    return _read(path)


def _publish(path: Path, key: str) -> None:
    fd, temporary = tempfile.mkstemp(prefix=".secret-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)  # fails if another process's key is already there
        except FileExistsError:
            return
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # No hard links here: rename, unless a key appeared meanwhile.
            if path.exists():
                return
            os.replace(temporary, path)
        _sync_directory(path.parent)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path) -> str:
    deadline = time.monotonic() + _READ_PATIENCE
    while True:
        key = path.read_text().strip()
        if key:
            return key
        if time.monotonic() >= deadline:
            raise ConfigurationError(
                f"the secret-key file {path} is empty; if nothing was encrypted with it yet, "
                "delete it and start again (a new key is generated), else restore it"
            )
        _pause(_READ_PAUSE)


def _pause(seconds: float) -> None:
    time.sleep(seconds)
