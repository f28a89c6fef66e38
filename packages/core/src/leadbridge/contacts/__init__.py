"""Contacts: core columns, typed custom fields, tags and the change log."""

from ._changelog import (
    CONTACT_CREATED,
    CONTACT_DELETED,
    ChangeLogService,
    ContactChange,
    record_changes,
)
from ._contact import Contact
from ._contact_repository import ContactKeyset, ContactQuery, ContactRepository, ContactSort
from ._contact_service import (
    BulkUpsertResult,
    ContactPage,
    ContactService,
    ContactUpdate,
    RowError,
    ensure_tags,
)
from ._csv_export import FORMULA_TRIGGERS, export_contacts_csv, neutralise_formula
from ._csv_import import (
    ContactCsvImport,
    ContactImportInterruptedError,
    ContactImportResult,
)
from ._csv_progress import ContactImportPhase, ContactImportProgress
from ._csv_reader import CsvFormatError
from ._custom_field_service import CustomFieldService, load_custom_fields
from ._fields import CORE_FIELDS, FieldSpec, FieldType, email_key, normalize_value
from ._foreign_key import contact_foreign_key
from ._models import (
    ChangeLogCursorRow,
    ContactChangeRow,
    ContactRow,
    ContactTagRow,
    CustomFieldRow,
    TagRow,
)
from ._on_row_error import OnRowError

__all__ = [
    "CONTACT_CREATED",
    "CONTACT_DELETED",
    "CORE_FIELDS",
    "FORMULA_TRIGGERS",
    "BulkUpsertResult",
    "ChangeLogCursorRow",
    "ChangeLogService",
    "Contact",
    "ContactChange",
    "ContactChangeRow",
    "ContactCsvImport",
    "ContactImportInterruptedError",
    "ContactImportPhase",
    "ContactImportProgress",
    "ContactImportResult",
    "ContactKeyset",
    "ContactPage",
    "ContactQuery",
    "ContactRepository",
    "ContactRow",
    "ContactService",
    "ContactSort",
    "ContactTagRow",
    "ContactUpdate",
    "CsvFormatError",
    "CustomFieldRow",
    "CustomFieldService",
    "FieldSpec",
    "FieldType",
    "OnRowError",
    "RowError",
    "TagRow",
    "contact_foreign_key",
    "email_key",
    "ensure_tags",
    "export_contacts_csv",
    "load_custom_fields",
    "neutralise_formula",
    "normalize_value",
    "record_changes",
]
