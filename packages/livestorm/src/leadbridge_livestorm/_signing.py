"""How a webhook delivery proves where it comes from: a signature, or a secret URL.

**Signature.**
Livestorm signs the webhooks created through its REST API (not those of its Webhooks app)
with the header ``x-livestorm-signature: <unix seconds>,<64 hex>``: a SHA-256 hash of the
concatenation of three elements, the timestamp first (developers.livestorm.co, "Webhook
security"). The order of the other two, ``sha256_hex(timestamp + secret + raw_body)``, is
what public receivers compute; if Livestorm's real deliveries disagree, change
:func:`sign_webhook` and nothing else (the fake server and the receiver both call it).

**Secret URL.** Deliveries from Livestorm's Webhooks app arrive unsigned. Such a receiver is
reached at ``/webhooks/livestorm/<secret>``: :func:`new_url_secret` makes a long random
secret (shown once), only its SHA-256 digest is stored (:func:`url_secret_digest`), and
:func:`url_secret_matches` compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

WEBHOOK_SIGNATURE_HEADER = "x-livestorm-signature"


def sign_webhook(timestamp: int, secret: str, raw_body: bytes) -> str:
    """The 64-hex signature of ``raw_body`` sent at ``timestamp`` (Unix seconds).

    Raises :class:`ValueError` for an empty ``secret``: anyone can compute a signature made
    with it, so nothing is ever signed or checked with one.
    """
    if not secret:
        raise ValueError("a webhook signature needs a non-empty secret")
    digest = hashlib.sha256()
    digest.update(str(int(timestamp)).encode())
    digest.update(secret.encode())
    digest.update(raw_body)
    return digest.hexdigest()


def signature_header_value(timestamp: int, secret: str, raw_body: bytes) -> str:
    """The full header value, ``"<timestamp>,<signature>"``."""
    return f"{int(timestamp)},{sign_webhook(timestamp, secret, raw_body)}"


#: Random bytes in a URL secret (256 bits: guessing is out of reach, so a plain digest of it
#: is as good as a slow password hash).
URL_SECRET_BYTES = 32
#: The credential holding the digest of the receiver's URL secret.
URL_SECRET_CREDENTIAL = "webhook_url_secret_sha256"


def new_url_secret() -> str:
    """A fresh URL secret: 43 URL-safe characters."""
    return secrets.token_urlsafe(URL_SECRET_BYTES)


def url_secret_digest(secret: str) -> str:
    """What is stored of a URL secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def url_secret_matches(given: str, digest: str | None) -> bool:
    """Whether ``given`` is the secret of ``digest``; never true without a stored digest."""
    if not digest or not given:
        return False
    return hmac.compare_digest(url_secret_digest(given).encode(), digest.encode())
