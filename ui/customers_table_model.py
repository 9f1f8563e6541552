"""The customers list as a table model: light rows, keyset pages loaded on the database pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from backoffice.domain.enums import CustomerStatus
from backoffice.services.customers import CustomerSort, Page
from ui.paged_table_model import Column, PagedTableModel
from ui.tasks import TaskManager

STATUS_LABELS = {
    CustomerStatus.ACTIVE: "Active",
    CustomerStatus.DEACTIVATED: "Deactivated",
    CustomerStatus.ERASED: "Erased",
}

# fetch(sort, after, filters) -> Page, called on the database pool.
Fetch = Callable[[CustomerSort, Any, dict], Page]


@dataclass(frozen=True)
class _Column(Column):
    ascending: CustomerSort | None = None  # how clicking the header sorts it
    descending: CustomerSort | None = None


COLUMNS = (
    _Column("Name", lambda r: r.name, ascending=CustomerSort.NAME, descending=CustomerSort.NAME_DESC),
    _Column("Company", lambda r: r.company),
    _Column("Email", lambda r: r.email),
    _Column("Phone", lambda r: r.phone),
    _Column("Status", lambda r: STATUS_LABELS.get(r.status, str(r.status))),
    _Column("Customer since", lambda r: r.created_at.strftime("%Y-%m-%d") if r.created_at else "",
            ascending=CustomerSort.OLDEST, descending=CustomerSort.NEWEST),
)


class CustomersTableModel(PagedTableModel):
    """Holds the rows loaded so far; `fetchMore` asks for the next keyset page in the background.

    A new sort or filter (`set_query`) starts over and drops pages still on their way
    for the old one.
    """

    PAGE_SIZE = 200
    row_numbers = True
    tooltips = True

    def __init__(self, tasks: TaskManager, fetch: Fetch, parent=None) -> None:
        super().__init__(tasks, COLUMNS, parent=parent)
        self._customer_fetch = fetch
        self._sort = CustomerSort.NAME
        self._filters: dict = {}

    # --- the query -------------------------------------------------------------------

    @property
    def filters(self) -> dict:
        return dict(self._filters)

    def set_query(self, *, sort: CustomerSort | None = None, filters: dict | None = None) -> None:
        """Start over with another sort or other filters; the first page loads at once."""
        if sort is not None:
            self._sort = CustomerSort(sort)
        if filters is not None:
            self._filters = {k: v for k, v in filters.items() if v is not None}
        fetch, sort, filters = self._customer_fetch, self._sort, dict(self._filters)
        self.reset_query(lambda after: fetch(sort, after, filters))

    def refresh(self) -> None:
        self.set_query()

    # --- Qt model ----------------------------------------------------------------------

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Clicking a sortable header starts over in that order; other columns do nothing."""
        if not 0 <= column < len(COLUMNS):
            return
        col = COLUMNS[column]
        wanted = col.ascending if order == Qt.SortOrder.AscendingOrder else col.descending
        if wanted is not None and wanted != self._sort:
            self.set_query(sort=wanted)

    def sort_column(self) -> tuple[int, Qt.SortOrder]:
        """Which header shows the sort indicator for the current order."""
        for i, col in enumerate(COLUMNS):
            if self._sort == col.ascending:
                return i, Qt.SortOrder.AscendingOrder
            if self._sort == col.descending:
                return i, Qt.SortOrder.DescendingOrder
        return 0, Qt.SortOrder.AscendingOrder
