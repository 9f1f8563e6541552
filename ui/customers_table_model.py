"""The customers list as a table model: light rows, keyset pages loaded on the database pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from backoffice.domain.enums import CustomerStatus
from backoffice.services.customers import CustomerRow, CustomerSort, Page
from ui.tasks import TaskManager
from ui.plain_text import plain_tooltip

STATUS_LABELS = {
    CustomerStatus.ACTIVE: "Active",
    CustomerStatus.DEACTIVATED: "Deactivated",
    CustomerStatus.ERASED: "Erased",
}

# fetch(sort, after, filters) -> Page, called on the database pool.
Fetch = Callable[[CustomerSort, Any, dict], Page]


@dataclass(frozen=True)
class _Column:
    header: str
    value: Callable[[CustomerRow], str]
    ascending: CustomerSort | None = None  # how clicking the header sorts it
    descending: CustomerSort | None = None


COLUMNS = (
    _Column("Name", lambda r: r.name, CustomerSort.NAME, CustomerSort.NAME_DESC),
    _Column("Company", lambda r: r.company),
    _Column("Email", lambda r: r.email),
    _Column("Phone", lambda r: r.phone),
    _Column("Status", lambda r: STATUS_LABELS.get(r.status, str(r.status))),
    _Column("Customer since", lambda r: r.created_at.strftime("%Y-%m-%d") if r.created_at else "",
            CustomerSort.OLDEST, CustomerSort.NEWEST),
)


class CustomersTableModel(QAbstractTableModel):
    """Holds the rows loaded so far; `fetchMore` asks for the next keyset page in the background.

    A new sort or filter (`set_query`) starts over and drops pages still on their way
    for the old one.
    """

    page_loaded = Signal(int)  # rows now loaded
    load_failed = Signal(object)

    PAGE_SIZE = 200

    def __init__(self, tasks: TaskManager, fetch: Fetch, parent=None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fetch = fetch
        self._rows: list[CustomerRow] = []
        self._sort = CustomerSort.NAME
        self._filters: dict = {}
        self._next_key: Any = None
        self._at_end = True
        self._loading = False
        self._generation = 0

    # --- the query -------------------------------------------------------------------

    @property
    def current_sort(self) -> CustomerSort:
        return self._sort

    @property
    def filters(self) -> dict:
        return dict(self._filters)

    def set_query(self, *, sort: CustomerSort | None = None, filters: dict | None = None) -> None:
        """Start over with another sort or other filters; the first page loads at once."""
        self.beginResetModel()
        self._generation += 1
        if sort is not None:
            self._sort = CustomerSort(sort)
        if filters is not None:
            self._filters = {k: v for k, v in filters.items() if v is not None}
        self._rows = []
        self._next_key = None
        self._at_end = False
        self._loading = False
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def refresh(self) -> None:
        self.set_query()

    def row_at(self, row: int) -> CustomerRow:
        return self._rows[row]

    def is_loading(self) -> bool:
        return self._loading

    # --- Qt model ----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if not 0 <= index.column() < len(COLUMNS):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[index.column()].value(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            value = COLUMNS[index.column()].value(row)
            return plain_tooltip(value) if isinstance(value, str) else value
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section].header
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

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

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return not parent.isValid() and not self._at_end and not self._loading

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:
        if parent.isValid() or self._at_end or self._loading:
            return
        self._loading = True
        generation = self._generation
        fetch, sort, after, filters = self._fetch, self._sort, self._next_key, dict(self._filters)

        def work(token, progress):
            return fetch(sort, after, filters)

        def done(page: Page) -> None:
            if generation != self._generation:
                return  # the query changed while this page was on its way
            # Move the keyset on before inserting: a view may ask for more from inside
            # endInsertRows, and must then get the page after this one.
            self._next_key = page.next_key
            self._at_end = page.next_key is None
            self._loading = False
            rows = list(page.rows)
            if rows:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
                self._rows.extend(rows)
                self.endInsertRows()
            self.page_loaded.emit(len(self._rows))

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._at_end = True
            self.load_failed.emit(exc)

        self._tasks.run_db(work, on_success=done, on_failure=failed)
