"""The sync engine: mapping manual, report (pull) and order (push), value normalizer, judge,
object mappings, cursors, runs, per-object errors and the run lease.

Plugin authors implement :class:`BaseDataExchange`; embedders run syncs with
:class:`SyncEngine` (explicit exchange and manual) or :class:`SyncService` (by name).
"""

from ._counters import SyncCounters
from ._engine import StartedSync, SyncEngine
from ._errors import (
    SyncError,
    SyncLeaseLostError,
    SyncLockedError,
    SyncObjectError,
    SyncObjectSkipped,
    SyncRunError,
)
from ._events import BatchSynced
from ._exchange import (
    Audience,
    BaseDataExchange,
    ObjectResult,
    Order,
    OrderItem,
    OrderResult,
    ReportObject,
    ReportPage,
    ReportRequest,
)
from ._judge import SyncJudge, Verdict
from ._manual import (
    BIDIRECTIONAL,
    DIRECTIONS,
    TO_INTEGRATION,
    TO_INTERNAL,
    FieldMappingLike,
    MappedField,
    MappingManual,
    ObjectManual,
)
from ._models import (
    SyncCursorRow,
    SyncErrorRow,
    SyncLeaseRow,
    SyncObjectMappingRow,
    SyncRunRow,
)
from ._normalizer import ValueNormalizer
from ._options import ContactFilter, SyncDirection, SyncOptions, SyncTrigger
from ._push import consumer_name
from ._results import SyncFailure, SyncProgress, SyncResult, SyncRun, SyncStatus
from ._run_repository import StoredSyncFailure, SyncRunRepository
from ._run_state import ProgressCallback
from ._runs import IntegrationSyncStatus, ObjectMapping, SyncRunService
from ._service import (
    RegistryTargetResolver,
    SyncService,
    SyncTarget,
    SyncTargetFactory,
    TargetResolver,
    register_sync_target,
    resolve_registered_target,
    unregister_sync_target,
)

__all__ = [
    "BIDIRECTIONAL",
    "DIRECTIONS",
    "TO_INTEGRATION",
    "TO_INTERNAL",
    "Audience",
    "BaseDataExchange",
    "BatchSynced",
    "ContactFilter",
    "FieldMappingLike",
    "IntegrationSyncStatus",
    "MappedField",
    "MappingManual",
    "ObjectManual",
    "ObjectMapping",
    "ObjectResult",
    "Order",
    "OrderItem",
    "OrderResult",
    "ProgressCallback",
    "RegistryTargetResolver",
    "ReportObject",
    "ReportPage",
    "ReportRequest",
    "StartedSync",
    "StoredSyncFailure",
    "SyncCounters",
    "SyncCursorRow",
    "SyncDirection",
    "SyncEngine",
    "SyncError",
    "SyncErrorRow",
    "SyncFailure",
    "SyncJudge",
    "SyncLeaseLostError",
    "SyncLeaseRow",
    "SyncLockedError",
    "SyncObjectError",
    "SyncObjectMappingRow",
    "SyncObjectSkipped",
    "SyncOptions",
    "SyncProgress",
    "SyncResult",
    "SyncRun",
    "SyncRunError",
    "SyncRunRepository",
    "SyncRunRow",
    "SyncRunService",
    "SyncService",
    "SyncStatus",
    "SyncTarget",
    "SyncTargetFactory",
    "SyncTrigger",
    "TargetResolver",
    "ValueNormalizer",
    "Verdict",
    "consumer_name",
    "register_sync_target",
    "resolve_registered_target",
    "unregister_sync_target",
]
