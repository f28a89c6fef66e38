"""The generated secret-key file under concurrent starts: one key, never read empty."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from leadbridge import ConfigurationError, Settings, _secret_key


def _start(data_dir: str, go: Any, results: Any) -> None:
    go.wait(30)
    results.put(str(Settings.from_env({"LEADBRIDGE_DATA_DIR": data_dir}).secret_key))


@pytest.mark.parametrize("round_", range(3))
def test_processes_starting_together_share_one_whole_key(tmp_path: Path, round_: int) -> None:
    # Forked processes (leadbridge already imported) released at once by one event.
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.Queue()
    data_dir = tmp_path / "data"
    processes = [
        context.Process(target=_start, args=(str(data_dir), go, results)) for _ in range(8)
    ]
    for process in processes:
        process.start()
    go.set()
    keys = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    results.close()
    results.join_thread()
    assert len(set(keys)) == 1
    Fernet(keys[0].encode())  # a whole, valid key
    key_file = data_dir / "secret.key"
    assert key_file.read_text() == keys[0]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret.key"]  # no temporary left


def test_an_empty_key_file_is_read_again_while_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    key_file = tmp_path / "secret.key"
    key_file.touch(mode=0o600)
    # Another process finishes writing while this one waits.
    monkeypatch.setattr(_secret_key, "_pause", lambda _seconds: key_file.write_text(key))
    assert Settings.from_env({"LEADBRIDGE_DATA_DIR": str(tmp_path)}).secret_key == key


def test_a_key_file_that_stays_empty_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret.key").touch(mode=0o600)
    monkeypatch.setattr(_secret_key, "_READ_PATIENCE", 0.0)
    with pytest.raises(ConfigurationError, match=r"secret-key file .*secret\.key is empty"):
        Settings.from_env({"LEADBRIDGE_DATA_DIR": str(tmp_path)})


def test_a_corrupt_key_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("not a key")
    with pytest.raises(ConfigurationError, match=r"secret-key file .*secret\.key is not a valid"):
        Settings.from_env({"LEADBRIDGE_DATA_DIR": str(tmp_path)})
