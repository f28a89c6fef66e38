from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONDoc, UTCDateTime, utcnow


class IntegrationRow(Base):
    """Stored settings of one integration; a row exists once it has been configured."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # One SecretBox token holding the credentials document; never decrypted for display.
    credentials: Mapped[str | None] = mapped_column(Text)
    # {object: {integration_field: {"internal_field": ..., "direction": ...}}}
    mappings: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    conflict_winner: Mapped[str] = mapped_column(String(16), default="internal")
    first_sync_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<IntegrationRow {self.name!r} enabled={self.enabled}>"


__all__ = ["IntegrationRow"]
