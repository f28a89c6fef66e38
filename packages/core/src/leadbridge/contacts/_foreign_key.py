"""How a plugin's table refers to a contact without touching core's table classes."""

from __future__ import annotations

from sqlalchemy import ForeignKey

from ._models import ContactRow


def contact_foreign_key(*, ondelete: str | None = None) -> ForeignKey:
    """A foreign key to ``contacts.id`` for a column of a plugin's own table.

    The plugin's tables live in the plugin's own ``MetaData``, where the string
    ``"contacts.id"`` does not resolve: this key names core's column itself. Use it as
    ``mapped_column(BigIntPK, contact_foreign_key(ondelete="CASCADE"))``.
    """
    return ForeignKey(ContactRow.id, ondelete=ondelete)
