"""A contact as core hands it out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._fields import CORE_FIELDS, READ_ONLY_FIELDS


@dataclass(frozen=True)
class Contact:
    id: int
    email: str
    first_name: str | None
    last_name: str | None
    company: str | None
    phone: str | None
    city: str | None
    country: str | None
    points: int
    fields: dict[str, Any]
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    last_active_at: datetime | None

    def get(self, name: str) -> Any:
        """A core field or custom field value by name."""
        if name in CORE_FIELDS or name in READ_ONLY_FIELDS:
            return getattr(self, name)
        return self.fields.get(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company": self.company,
            "phone": self.phone,
            "city": self.city,
            "country": self.country,
            "points": self.points,
            "fields": dict(self.fields),
            "tags": list(self.tags),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "last_active_at": self.last_active_at.isoformat() if self.last_active_at else None,
        }
