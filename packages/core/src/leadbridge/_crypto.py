from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from ._errors import ConfigurationError


class SecretBox:
    """Encrypts secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def __repr__(self) -> str:
        return "SecretBox(key='**********')"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "stored secrets cannot be decrypted: "
                "LEADBRIDGE_SECRET_KEY changed since they were saved"
            ) from exc

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":")))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))
