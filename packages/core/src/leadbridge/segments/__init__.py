"""Segments: filter dictionary, every operator, relative dates, set-based rebuilds."""

from ._errors import FilterTimeoutError
from ._filters import (
    ALL_OPERATORS,
    OPERATORS,
    BaseSegmentFilter,
    FilterContext,
    FilterDictionary,
    FilterField,
    FilterType,
    column_clause,
    normalize_filter_value,
)
from ._models import SegmentMemberRow, SegmentRow
from ._segment_repository import SegmentRepository
from ._service import RebuildResult, Segment, SegmentRebuilt, SegmentService

__all__ = [
    "ALL_OPERATORS",
    "OPERATORS",
    "BaseSegmentFilter",
    "FilterContext",
    "FilterDictionary",
    "FilterField",
    "FilterTimeoutError",
    "FilterType",
    "RebuildResult",
    "Segment",
    "SegmentMemberRow",
    "SegmentRebuilt",
    "SegmentRepository",
    "SegmentRow",
    "SegmentService",
    "column_clause",
    "normalize_filter_value",
]
