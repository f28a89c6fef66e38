"""Errors of segments beyond core's root ones."""

from __future__ import annotations

from .._errors import ValidationError


class FilterTimeoutError(ValidationError):
    """A filter's regular expression ran past its time limit; nothing was written.

    A :class:`ValidationError`: the caller simplifies the pattern (or raises the limit,
    ``SegmentService(regexp_timeout=…)``) and tries again. ``field`` names the filter
    (``filters[i].value``) and ``value`` is its pattern.
    """

    code = "FILTER_TIMEOUT"
