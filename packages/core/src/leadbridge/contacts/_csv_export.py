"""Export contacts as CSV, a page at a time, with spreadsheet formulas neutralised.

Contact data often comes from outside (a webinar registration form, a synced CRM): a name
such as ``=HYPERLINK("http://evil", "click")`` becomes a live formula when the export is
opened in Excel, LibreOffice or Google Sheets. Following OWASP's CSV injection guidance, a text
cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading single quote, which spreadsheets read as "this is text". Numbers are written as they
are. Machine consumers that want the stored text byte for byte turn the guard off.
"""

from __future__ import annotations

import csv
from typing import Any, TextIO

from ._contact import Contact
from ._contact_service import ContactService
from ._fields import CORE_FIELDS

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PAGE = 1000


def neutralise_formula(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    return ",".join(str(v) for v in value) if isinstance(value, list | tuple) else value


def _row(contact: Contact, aliases: list[str], guard: bool) -> list[Any]:
    cells = [_cell(contact.get(k)) for k in CORE_FIELDS]
    cells += [_cell(contact.fields.get(a)) for a in aliases]
    cells.append(",".join(contact.tags))
    return [neutralise_formula(c) for c in cells] if guard else cells


async def export_contacts_csv(
    contacts: ContactService,
    aliases: list[str],
    out: TextIO,
    *,
    tag: str | None = None,
    formula_guard: bool = True,
) -> int:
    """Write the header and every contact (with ``tag``, when given) to ``out``, oldest
    first; ``aliases`` are the custom fields to include. Returns the number of contacts."""
    writer = csv.writer(out)
    writer.writerow([*CORE_FIELDS, *aliases, "tags"])
    count = 0
    after: int | None = None
    while True:
        page = await contacts.list(limit=_PAGE, after=after, tag=tag)
        writer.writerows(_row(x, aliases, formula_guard) for x in page.items)
        count += len(page.items)
        if page.next_after is None:
            return count
        after = page.next_after
