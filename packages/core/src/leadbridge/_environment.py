"""Settings from environment variables, by pydantic-settings, errors naming the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, ClassVar, Self, get_args

import pydantic
from pydantic import AliasChoices, BeforeValidator, SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ._errors import ConfigurationError

__all__ = ["BaseEnvironment", "EnvironmentFlag", "EnvironmentInt", "EnvironmentList"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _flag(raw: object) -> object:
    if not isinstance(raw, str):
        return raw
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("use 1 or 0 (or true/false, yes/no, on/off)")


def _whole_number(raw: object) -> object:
    if not isinstance(raw, str):
        return raw
    if not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError("not a whole number") from None


def _comma_list(raw: object) -> object:
    if not isinstance(raw, str):
        return raw
    return tuple(part.strip() for part in raw.split(",") if part.strip())


#: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (any case); empty is off.
EnvironmentFlag = Annotated[bool | None, BeforeValidator(_flag)]
#: A whole number; empty counts as not set (``None``).
EnvironmentInt = Annotated[int | None, BeforeValidator(_whole_number)]
#: Comma-separated text, blanks dropped: ``"a, b,"`` → ``("a", "b")``.
EnvironmentList = Annotated[tuple[str, ...] | None, NoDecode, BeforeValidator(_comma_list)]


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ  # read by _load_env_vars, which the base __init__ calls
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        if self.case_sensitive:
            return dict(self._environ)
        return {name.lower(): value for name, value in self._environ.items()}


class BaseEnvironment(BaseSettings):
    """Variables of one prefix, read at the edge of a program by :meth:`read`.

    Subclass with ``model_config = SettingsConfigDict(env_prefix="LEADBRIDGE_MYPLUGIN_")``
    and one field per variable (``max_rows: EnvironmentInt = None`` reads
    ``LEADBRIDGE_MYPLUGIN_MAX_ROWS``); declare secrets as :class:`pydantic.SecretStr` so that
    they never show in a repr or an error. :meth:`read` turns every bad value into one
    :class:`~leadbridge.ConfigurationError` naming the variable; then hand plain values to
    the constructors that need them. Building the class directly reads nothing.
    """

    model_config: ClassVar[SettingsConfigDict] = SettingsConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only explicit values: read() is the one place the environment is looked at.
        return (init_settings,)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The variables of ``environ`` (default: ``os.environ``) this class declares."""
        given = os.environ if environ is None else environ
        values = _MappingEnvSource(cls, given)()
        try:
            return cls(**values)
        except pydantic.ValidationError as exc:
            problems = "; ".join(cls._describe(error, given) for error in exc.errors())
            raise ConfigurationError(problems) from exc

    @classmethod
    def _describe(cls, error: ErrorDetails, environ: Mapping[str, str]) -> str:
        name = str(error["loc"][0]) if error["loc"] else ""
        field = cls.model_fields.get(name) or next(
            (info for info in cls.model_fields.values() if name in _aliases(info)), None
        )
        variable = _variable(cls, name, field, environ)
        reason = str(error["ctx"]["error"]) if "error" in error.get("ctx", {}) else error["msg"]
        raw = environ.get(variable)
        if raw is None or field is None or _is_secret(field):
            return f"{variable}: {reason}"
        return f"{variable}={raw!r}: {reason}"


def _aliases(field: FieldInfo) -> tuple[str, ...]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(choice for choice in alias.choices if isinstance(choice, str))
    return (alias,) if isinstance(alias, str) else ()


def _variable(
    settings_cls: type[BaseEnvironment],
    name: str,
    field: FieldInfo | None,
    environ: Mapping[str, str],
) -> str:
    """The variable a field was read from: the alias that is set, else prefix and name."""
    aliases = _aliases(field) if field is not None else ()
    for alias in aliases:
        if alias in environ:
            return alias
    if aliases:
        return aliases[0]
    return f"{settings_cls.model_config.get('env_prefix', '')}{name}".upper()


def _is_secret(field: FieldInfo) -> bool:
    return _holds_secret(field.annotation)


def _holds_secret(annotation: object) -> bool:
    """Whether a type is, or holds (``Annotated[SecretStr, …] | None``), a secret."""
    if isinstance(annotation, type) and issubclass(annotation, SecretStr | SecretBytes):
        return True
    return any(_holds_secret(argument) for argument in get_args(annotation))
