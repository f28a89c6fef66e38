from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_secret_in_any_log(no_secrets_logged: set[str]) -> None:
    """Every test here captures logs at DEBUG and fails if a record shows a secret."""
