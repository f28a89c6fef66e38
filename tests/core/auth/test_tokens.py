"""OAuthToken parsing and masking; tokens persisted encrypted through SecretBoxTokenStore."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from leadbridge import SecretBox, ValidationError
from leadbridge.auth import (
    ClientIdSecret,
    OAuth2AuthorizationCodeAuth,
    OAuthToken,
    SecretBoxTokenStore,
)
from leadbridge.http import create_client
from leadbridge.testing import OAuthTestServer

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class RawColumn:
    """Stands in for the integration's credentials column: it only ever sees ciphertext."""

    def __init__(self, value: str | None = None) -> None:
        self.value = value

    async def load(self) -> str | None:
        return self.value

    async def save(self, value: str) -> None:
        self.value = value


def new_box() -> SecretBox:
    return SecretBox(Fernet.generate_key().decode())


def test_repr_and_str_mask_both_tokens() -> None:
    token = OAuthToken("access-secret", "refresh-secret", NOW, scope="read")
    for text in (repr(token), str(token), f"{token}"):
        assert "secret" not in text
        assert "read" in text and "2030-01-01" in text


@pytest.mark.parametrize(
    "payload",
    [
        {"expires_in": 3600},
        {"expires_in": "3600"},
        {"expires_at": int((NOW + timedelta(hours=1)).timestamp())},
        {"expires_at": "2030-01-01T13:00:00Z"},
        {"expires_at": "2030-01-01T14:00:00+01:00"},
    ],
)
def test_expiry_from_expires_in_or_expires_at(payload: dict[str, object]) -> None:
    token = OAuthToken.from_response({"access_token": "a", **payload}, now=NOW)
    assert token.expires_at == NOW + timedelta(hours=1)
    assert token.expires_within(3601, now=NOW)
    assert not token.expires_within(3599, now=NOW)


def test_no_lifetime_means_used_until_rejected() -> None:
    token = OAuthToken.from_response({"access_token": "a"}, now=NOW)
    assert token.expires_at is None and not token.needs_refresh(leeway=10**9)
    assert OAuthToken(access_token=None, refresh_token="r").needs_refresh()


def test_refresh_token_rotates_or_is_kept() -> None:
    previous = OAuthToken("a1", "r1", NOW, scope="read")
    answer = {"access_token": "a2", "refresh_token": "r2"}
    rotated = OAuthToken.from_response(answer, previous=previous)
    kept = OAuthToken.from_response({"access_token": "a3"}, previous=previous)
    assert (rotated.refresh_token, kept.refresh_token) == ("r2", "r1")
    assert kept.scope == "read"  # an answer without scope keeps the granted one


def test_malformed_answers_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        OAuthToken.from_response({"token_type": "bearer"})
    assert info.value.field == "access_token"
    with pytest.raises(ValidationError) as info:
        OAuthToken.from_response({"access_token": "a", "expires_in": "soon"})
    assert info.value.field == "expires_in"


def test_dict_round_trip() -> None:
    token = OAuthToken("a", "r", NOW, "Bearer", "read write")
    assert OAuthToken.from_dict(token.to_dict()) == token
    with pytest.raises(ValidationError):
        OAuthToken.from_dict({"access_token": 42})


async def test_secret_box_store_keeps_only_ciphertext() -> None:
    column = RawColumn()
    store = SecretBoxTokenStore(new_box(), column.load, column.save)
    assert await store.load() is None  # nothing stored yet
    token = OAuthToken("access-0123456789", "refresh-0123456789", NOW)
    await store.save(token)
    assert column.value is not None
    assert "access-0123456789" not in column.value and "refresh-0123456789" not in column.value
    assert await store.load() == token
    assert "refresh" not in repr(store)


@pytest.mark.parametrize("raw", ["not a fernet token", "OTHER_KEY", "NOT_AN_OBJECT"])
async def test_unreadable_stored_value_loads_as_nothing(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    box = new_box()
    if raw == "OTHER_KEY":  # LEADBRIDGE_SECRET_KEY changed since the token was saved
        raw = new_box().encrypt_json(OAuthToken("a-secret-value", "r").to_dict())
    elif raw == "NOT_AN_OBJECT":
        raw = box.encrypt_json(["a-secret-value"])
    column = RawColumn(raw)
    store = SecretBoxTokenStore(box, column.load, column.save)
    with caplog.at_level(logging.WARNING, logger="leadbridge.auth"):
        assert await store.load() is None
    assert "cannot be read" in caplog.text and "a-secret-value" not in caplog.text


async def test_refresh_token_rotation_is_persisted_encrypted(
    oauth_server: OAuthTestServer,
) -> None:
    column = RawColumn()
    box = new_box()
    store = SecretBoxTokenStore(box, column.load, column.save)
    first = OAuthToken.from_response(oauth_server.issue_token(expires_in=-60))
    await store.save(first)
    auth = OAuth2AuthorizationCodeAuth(
        ClientIdSecret(oauth_server.client_id, oauth_server.client_secret),
        authorize_url=oauth_server.authorize_url,
        token_url=oauth_server.token_url,
        redirect_uri="https://app.example.com/callback",
        store=store,
    )
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        assert (await client.get("/api/me")).status_code == 200
    raw = column.value
    assert raw is not None
    second = OAuthToken.from_dict(box.decrypt_json(raw))
    assert second.refresh_token not in (None, first.refresh_token)  # rotated and saved
    tokens = (first.access_token, first.refresh_token, second.access_token, second.refresh_token)
    for secret in tokens:
        assert secret is not None and secret not in raw
    # A new provider (the next sync run) starts from the stored, rotated token.
    auth2 = OAuth2AuthorizationCodeAuth(
        ClientIdSecret(oauth_server.client_id, oauth_server.client_secret),
        authorize_url=oauth_server.authorize_url,
        token_url=oauth_server.token_url,
        redirect_uri="https://app.example.com/callback",
        store=SecretBoxTokenStore(box, column.load, column.save),
    )
    assert (await auth2.get_token()).access_token == second.access_token
    assert oauth_server.token_requests == {"refresh_token": 1}


def test_a_token_stored_before_issued_at_was_kept_loads_with_the_full_leeway() -> None:
    # The document an earlier LeadBridge saved: no issued_at, so no known lifetime.
    earlier = {"access_token": "a", "refresh_token": "r", "expires_at": "2030-01-01T12:00:20Z"}
    token = OAuthToken.from_dict(earlier)
    assert token.issued_at is None
    assert token.needs_refresh(30, now=NOW)  # 20 s left, 30 s leeway: renewed, as before
    assert OAuthToken.from_dict(token.to_dict()) == token


def test_the_leeway_is_capped_at_half_the_lifetime() -> None:
    token = OAuthToken.from_response({"access_token": "a", "expires_in": 20}, now=NOW)
    assert token.issued_at == NOW
    assert not token.needs_refresh(30, now=NOW)  # fresh: used, not renewed at once
    assert not token.needs_refresh(30, now=NOW + timedelta(seconds=9))
    assert token.needs_refresh(30, now=NOW + timedelta(seconds=10))
    long_lived = OAuthToken.from_response({"access_token": "a", "expires_in": 3600}, now=NOW)
    assert not long_lived.needs_refresh(30, now=NOW + timedelta(seconds=3569))
    assert long_lived.needs_refresh(30, now=NOW + timedelta(seconds=3570))  # the leeway as given
