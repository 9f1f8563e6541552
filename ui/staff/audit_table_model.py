"""The audit trail as a table model that loads keyset pages on the database pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QColor

from backoffice.domain.enums import AuditOutcome
from backoffice.services.audit import AuditRow
from ui.common.paged_table_model import Column, PagedTableModel
from ui.common.plain_text import plain_tooltip
from ui.common.styles import ERROR_COLOUR, WARNING_COLOUR
from ui.common.tasks import TaskManager

PAGE_SIZE = 200

# fetch(before_id, limit) -> list[AuditRow], run on the database pool.
Fetch = Callable[[int | None, int], list[AuditRow]]


def _record(row: AuditRow) -> str:
    if row.record_label:
        return row.record_label
    if row.entity_id is None:
        return row.entity_type
    return f"{row.entity_type} {row.entity_id}"


COLUMNS: tuple[Column, ...] = (
    Column("When", lambda r: r.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
    Column("Staff", lambda r: r.staff_login or "—"),
    Column("Desk", lambda r: r.desk),
    Column("Action", lambda r: r.action_label),
    Column("Record", _record),
    Column("Customer", lambda r: "" if r.customer_id is None else (r.customer_label or r.customer_id)),
    Column("Fields", lambda r: ", ".join(r.fields)),
    Column("Outcome", lambda r: {AuditOutcome.OK: "done", AuditOutcome.DENIED: "refused",
                                 AuditOutcome.FAILED: "failed"}.get(r.outcome, str(r.outcome))),
)
_OUTCOME_COLOURS = {AuditOutcome.DENIED: QColor(ERROR_COLOUR), AuditOutcome.FAILED: QColor(WARNING_COLOUR)}


@dataclass(frozen=True)
class _Page:
    rows: list[AuditRow]
    next_key: int | None


class AuditTableModel(PagedTableModel):
    """Holds the audit rows loaded so far, newest first; asks for older ones as the view scrolls.

    `set_fetch` starts over with a new filter; a page still in flight for the old
    filter is dropped when it arrives.
    """

    row_numbers = True
    tooltips = True

    def __init__(self, tasks: TaskManager, fetch: Fetch | None = None, parent=None,
                 page_size: int = PAGE_SIZE) -> None:
        super().__init__(tasks, COLUMNS, parent=parent)
        self._page_size = page_size
        if fetch is not None:
            self._fetch = self._pages(fetch)
            self._at_end = False

    def set_fetch(self, fetch: Fetch | None) -> None:
        """Forget the rows loaded and load the first page of `fetch` (a new filter)."""
        self.reset_query(self._pages(fetch) if fetch is not None else None)

    def _pages(self, fetch: Fetch):
        size = self._page_size

        def page(before_id: int | None) -> _Page:
            rows = fetch(before_id, size)
            # A short page is the last one.
            return _Page(rows, rows[-1].id if len(rows) >= size else None)

        return page

    def tooltip(self, row: AuditRow, column: int) -> str:
        text = self.text(row, column)
        return plain_tooltip(f"{text} ({row.action})" if column == 3 else text)

    def foreground(self, row: AuditRow) -> QColor | None:
        return _OUTCOME_COLOURS.get(row.outcome)
