"""Segments: filter dictionary, every operator, relative dates, set-based rebuilds."""

from ._errors import FilterTimeoutError
from ._filter_context import FilterContext
from ._filter_dictionary import FilterDictionary
from ._filter_field import FilterField
from ._filter_sql import column_clause
from ._filter_values import normalize_filter_value
from ._models import SegmentMemberRow, SegmentRow
from ._operators import ALL_OPERATORS, OPERATORS, FilterType
from ._plugin_filter import BaseSegmentFilter
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
