"""Field types, core fields and the normalizer every write goes through."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from .._errors import ValidationError


class FieldType(enum.StrEnum):
    TEXT = "text"
    EMAIL = "email"
    URL = "url"
    PHONE = "phone"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    SELECT = "select"
    MULTISELECT = "multiselect"


@dataclass(frozen=True)
class FieldSpec:
    """A field a contact has: a core column or a custom field."""

    alias: str
    label: str
    type: FieldType
    is_core: bool
    options: tuple[str, ...] | None = None
    is_unique_identifier: bool = False
    is_required: bool = False
    max_length: int | None = None
    id: int | None = field(default=None, compare=False)


CORE_FIELDS: dict[str, FieldSpec] = {
    spec.alias: spec
    for spec in (
        FieldSpec("email", "Email", FieldType.EMAIL, True, None, True, True, 320),
        FieldSpec("first_name", "First name", FieldType.TEXT, True, max_length=255),
        FieldSpec("last_name", "Last name", FieldType.TEXT, True, max_length=255),
        FieldSpec("company", "Company", FieldType.TEXT, True, max_length=255),
        FieldSpec("phone", "Phone", FieldType.PHONE, True, max_length=64),
        FieldSpec("city", "City", FieldType.TEXT, True, max_length=255),
        FieldSpec("country", "Country", FieldType.TEXT, True, max_length=255),
    )
}

#: Columns no caller writes through field updates.
READ_ONLY_FIELDS = frozenset({"id", "points", "created_at", "updated_at", "last_active_at", "tags"})

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9 ().\-/]{3,40}$")
_ALIAS_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off"})


def check_alias(alias: str) -> str:
    if not _ALIAS_RE.match(alias):
        raise ValidationError(
            f"field alias {alias!r} is invalid: use lowercase letters, digits and underscores, "
            "starting with a letter (at most 64)",
            field="alias",
            value=alias,
        )
    if alias in CORE_FIELDS or alias in READ_ONLY_FIELDS:
        raise ValidationError(
            f"field alias {alias!r} is taken by a core field", field="alias", value=alias
        )
    return alias


def _bad(spec: FieldSpec, value: Any, why: str) -> ValidationError:
    shown = value if not isinstance(value, str) or len(value) <= 80 else value[:77] + "..."
    return ValidationError(
        f"{spec.alias}: {shown!r} is not a valid {spec.type.value} ({why})",
        field=spec.alias,
        value=value,
    )


def _text(spec: FieldSpec, value: Any) -> str | None:
    if not isinstance(value, str | int | float | Decimal) or isinstance(value, bool):
        raise _bad(spec, value, "expected text")
    text = str(value).strip()
    if not text:
        return None
    if spec.max_length is not None and len(text) > spec.max_length:
        raise _bad(spec, value, f"longer than {spec.max_length} characters")
    return text


def _email(spec: FieldSpec, value: Any) -> str | None:
    text = _text(spec, value)
    if text is not None and not _EMAIL_RE.match(text):
        raise _bad(spec, value, "expected an address like name@example.com")
    return text


def _url(spec: FieldSpec, value: Any) -> str | None:
    text = _text(spec, value)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _bad(spec, value, "expected an http(s) URL")
    return text


def _phone(spec: FieldSpec, value: Any) -> str | None:
    text = _text(spec, value)
    if text is not None and (not _PHONE_RE.match(text) or sum(c.isdigit() for c in text) < 3):
        raise _bad(spec, value, "expected digits, spaces, +, -, (, ), . or /")
    return text


def _number(spec: FieldSpec, value: Any) -> int | float | None:
    if isinstance(value, bool):
        raise _bad(spec, value, "expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if not text:
            return None
        try:
            number = float(Decimal(text))
        except InvalidOperation as exc:
            raise _bad(spec, value, "expected a number") from exc
    else:
        raise _bad(spec, value, "expected a number")
    if not math.isfinite(number):
        raise _bad(spec, value, "expected a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _boolean(spec: FieldSpec, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _bad(spec, value, "expected true/false, yes/no or 1/0")


def _date(spec: FieldSpec, value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise _bad(spec, value, "expected an ISO date YYYY-MM-DD")
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(
            text[:10] if len(text) > 10 and text[10] in "T " else text
        ).isoformat()
    except ValueError as exc:
        raise _bad(spec, value, "expected an ISO date YYYY-MM-DD") from exc


def normalize_datetime(value: datetime) -> str:
    """The stored form: UTC, fixed width, so that text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _datetime(spec: FieldSpec, value: Any) -> str | None:
    if isinstance(value, datetime):
        return normalize_datetime(value)
    if isinstance(value, date):
        return normalize_datetime(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if not isinstance(value, str):
        raise _bad(spec, value, "expected an ISO 8601 date-time")
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise _bad(spec, value, "expected an ISO 8601 date-time") from exc
    return normalize_datetime(parsed)


def _select(spec: FieldSpec, value: Any) -> str | None:
    text = _text(spec, value)
    if text is not None and spec.options is not None and text not in spec.options:
        raise _bad(spec, value, f"expected one of {', '.join(spec.options)}")
    return text


def _multiselect(spec: FieldSpec, value: Any) -> list[str] | None:
    if isinstance(value, str):
        items: Sequence[Any] = [v for v in value.split(",")]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise _bad(spec, value, "expected a list of options")
    out: list[str] = []
    for item in items:
        text = _select(spec, item)
        if text is not None and text not in out:
            out.append(text)
    return out or None


_NORMALIZERS: dict[FieldType, Callable[[FieldSpec, Any], Any]] = {
    FieldType.TEXT: _text,
    FieldType.EMAIL: _email,
    FieldType.URL: _url,
    FieldType.PHONE: _phone,
    FieldType.NUMBER: _number,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.SELECT: _select,
    FieldType.MULTISELECT: _multiselect,
}


def normalize_value(spec: FieldSpec, value: Any) -> Any:
    """Validate ``value`` for ``spec`` and return its stored form; empty values become ``None``."""
    if value is None:
        return None
    return _NORMALIZERS[spec.type](spec, value)


Converter = Callable[[Any], Any]

#: Plain http(s) URLs :func:`urlsplit` reads with a host, and that it neither rewrites (tabs,
#: newlines) nor refuses (brackets of IPv6 hosts, non-ASCII hosts): checked without it.
_PLAIN_URL_RE = re.compile(r"https?://[^/?#\[\]\t\r\n]+(?:[/?#]|\Z)")
_BOOLEAN_WORDS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
_SAFE_DIGITS = 15  # fewer than 2**53: stored as an int either way


def converter(spec: FieldSpec) -> Converter:
    """``normalize_value`` for ``spec`` as one callable, its type chosen once.

    Bulk writes build one per field and apply it to every row. Each takes the value's common,
    already typed or plainly written form on a short path and hands anything else to the
    field type's normalizer, so results and errors are exactly :func:`normalize_value`'s.
    """
    normalizer = _NORMALIZERS[spec.type]

    def general(value: Any) -> Any:
        return None if value is None else normalizer(spec, value)

    limit = spec.max_length or math.inf
    if spec.type in (FieldType.TEXT, FieldType.EMAIL, FieldType.URL):
        pattern = {FieldType.EMAIL: _EMAIL_RE, FieldType.URL: _PLAIN_URL_RE}.get(spec.type)

        def text(value: Any) -> Any:
            if type(value) is str:
                stripped = value.strip()
                if (
                    stripped
                    and len(stripped) <= limit
                    and (pattern is None or (stripped.isascii() and pattern.match(stripped)))
                ):
                    return stripped
            return general(value)

        return text
    if spec.type is FieldType.SELECT:
        options = frozenset(spec.options or ())

        def select(value: Any) -> Any:
            if type(value) is str and (stripped := value.strip()) in options:
                return stripped
            return general(value)

        return select
    if spec.type is FieldType.NUMBER:

        def number(value: Any) -> Any:
            if type(value) is int:
                return value
            if type(value) is str:
                stripped = value.strip()
                if stripped.isdigit() and stripped.isascii() and len(stripped) <= _SAFE_DIGITS:
                    return int(stripped)
            return general(value)

        return number
    if spec.type is FieldType.BOOLEAN:

        def boolean(value: Any) -> Any:
            if type(value) is bool:
                return value
            if type(value) is str:
                word = _BOOLEAN_WORDS.get(value.strip().lower())
                if word is not None:
                    return word
            return general(value)

        return boolean
    return general


def email_key(email: str) -> str:
    """The form an email is matched by: trimmed and lower-cased."""
    return email.strip().lower()
