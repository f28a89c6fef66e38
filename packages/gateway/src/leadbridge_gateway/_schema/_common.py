"""Types every schema module shares: user errors, ordering, ranges."""

from __future__ import annotations

import enum

import strawberry

from leadbridge import ConflictError, LeadBridgeError, NotFoundError, ValidationError

from .._errors import BadUserInputError


@strawberry.enum(description="Why a mutation did not do what was asked.")
class UserErrorCode(enum.Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"


@strawberry.type(
    description="An expected error of a mutation: the input to fix, what is wrong and a code."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. `["input", "email"]`.'
    )
    message: str
    code: UserErrorCode


def user_error(exc: LeadBridgeError | BadUserInputError, field: list[str] | None) -> UserError:
    """A user error from a core error (or an unreadable ID) about the input at ``field``."""
    if isinstance(exc, NotFoundError):
        code = UserErrorCode.NOT_FOUND
    elif isinstance(exc, ConflictError):
        code = UserErrorCode.CONFLICT
    else:
        code = UserErrorCode.INVALID
    message = exc.message if isinstance(exc, ValidationError | BadUserInputError) else str(exc)
    return UserError(field=field, message=message, code=code)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="An inclusive range; leave an end out for no bound.")
class IntRange:
    min: int | None = None
    max: int | None = None
