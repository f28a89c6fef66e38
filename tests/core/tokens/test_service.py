from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from leadbridge import CoreContainer, NotFoundError, Scope, ValidationError
from leadbridge.tokens import TOKEN_PREFIX, ApiTokenRow, hash_token, parse_scopes


async def test_token_is_shown_once_and_stored_hashed(container: CoreContainer) -> None:
    service = container.token_service()
    issued = await service.create("frontend", ["contacts:read", Scope.SEGMENTS_READ])
    assert issued.secret.startswith(TOKEN_PREFIX) and len(issued.secret) > 40
    assert issued.secret not in repr(issued)
    assert issued.token.scopes == (Scope.CONTACTS_READ, Scope.SEGMENTS_READ)

    async with container.session_factory()() as session:
        row = (await session.scalars(select(ApiTokenRow))).one()
        dump = (await session.execute(text("SELECT * FROM api_tokens"))).one()
    assert row.token_hash == hash_token(issued.secret)
    assert not any(issued.secret in str(value) for value in dump)
    assert issued.secret.startswith(row.prefix)

    listed = await service.list()
    assert [t.id for t in listed] == [issued.token.id]
    assert "secret" not in listed[0].to_dict() and issued.secret not in str(listed[0].to_dict())


async def test_authenticate_accepts_only_active_tokens(container: CoreContainer) -> None:
    service = container.token_service()
    issued = await service.create("ci", ["contacts:write"])
    token = await service.authenticate(issued.secret)
    assert token is not None and token.allows(Scope.CONTACTS_WRITE)
    assert not token.allows(Scope.CONTACTS_READ)  # write does not imply read
    assert (await service.get(issued.token.id)).last_used_at is not None

    assert await service.authenticate(issued.secret + "x") is None
    assert await service.authenticate("not-a-token") is None
    assert await service.authenticate("") is None

    revoked = await service.revoke(issued.token.id)
    assert revoked.revoked_at is not None and not revoked.is_active()
    assert await service.authenticate(issued.secret) is None
    again = await service.revoke(issued.token.id)
    assert again.revoked_at == revoked.revoked_at


async def test_expired_token_is_refused(container: CoreContainer) -> None:
    service = container.token_service()
    issued = await service.create("short", ["sync:run"], expires_in=timedelta(days=1))
    assert await service.authenticate(issued.secret) is not None
    async with container.session_factory().begin() as session:
        await session.execute(
            update(ApiTokenRow).values(expires_at=issued.token.created_at - timedelta(seconds=1))
        )
    assert await service.authenticate(issued.secret) is None


async def test_bad_input_writes_nothing(container: CoreContainer) -> None:
    service = container.token_service()
    with pytest.raises(ValidationError, match="unknown scope 'contacts:delete'"):
        await service.create("x", ["contacts:read", "contacts:delete"])
    with pytest.raises(ValidationError, match="at least one scope"):
        await service.create("x", [])
    with pytest.raises(ValidationError, match="name"):
        await service.create("  ", ["contacts:read"])
    with pytest.raises(ValidationError, match="future"):
        await service.create("x", ["contacts:read"], expires_in=timedelta(0))
    with pytest.raises(NotFoundError, match="token 99"):
        await service.revoke(99)
    assert await service.list() == []


def test_parse_scopes_accepts_comma_lists_and_deduplicates() -> None:
    assert parse_scopes(["sync:run,contacts:read", " contacts:read "]) == (
        Scope.CONTACTS_READ,
        Scope.SYNC_RUN,
    )


async def test_a_use_read_through_the_callers_session_is_written_later_once(
    container: CoreContainer,
) -> None:
    service = container.token_service()
    issued = await service.create("gateway", ["contacts:read"])
    async with container.read_session_factory()() as session:
        for _ in range(3):
            assert await service.authenticate(issued.secret, session=session) is not None
    # Checking the token wrote nothing while the caller held its session.
    assert (await service.get(issued.token.id)).last_used_at is None
    assert service.has_unsaved_uses

    assert await service.save_last_used() == 1
    assert not service.has_unsaved_uses
    assert (await service.get(issued.token.id)).last_used_at is not None
    assert await service.save_last_used() == 0
