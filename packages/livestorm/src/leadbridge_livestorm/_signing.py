"""The webhook signature, in one replaceable function.

Livestorm signs the webhooks created through its API with the header
``x-livestorm-signature: <unix seconds>,<64 hex>``. The hash is built from three parts starting
with the timestamp; public receivers compute ``sha256_hex(timestamp + secret + raw_body)``. That
order is **inferred**, not documented: if Livestorm's real deliveries disagree, change
:func:`sign_webhook` and nothing else (the fake server and the receiver both call it).
"""

from __future__ import annotations

import hashlib

WEBHOOK_SIGNATURE_HEADER = "x-livestorm-signature"


def sign_webhook(timestamp: int, secret: str, raw_body: bytes) -> str:
    """The 64-hex signature of ``raw_body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hashlib.sha256()
    digest.update(str(int(timestamp)).encode())
    digest.update(secret.encode())
    digest.update(raw_body)
    return digest.hexdigest()


def signature_header_value(timestamp: int, secret: str, raw_body: bytes) -> str:
    """The full header value, ``"<timestamp>,<signature>"``."""
    return f"{int(timestamp)},{sign_webhook(timestamp, secret, raw_body)}"
