"""The audit trail as a table model that loads keyset pages on the database pool."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from backoffice.domain.enums import AuditOutcome
from backoffice.services.audit import AuditRow
from ui.tasks import TaskManager

PAGE_SIZE = 200

# fetch(before_id, limit) -> list[AuditRow], run on the database pool.
Fetch = Callable[[int | None, int], list[AuditRow]]


def _record(row: AuditRow) -> str:
    if row.record_label:
        return row.record_label
    if row.entity_id is None:
        return row.entity_type
    return f"{row.entity_type} {row.entity_id}"


COLUMNS: tuple[tuple[str, Callable[[AuditRow], object]], ...] = (
    ("When", lambda r: r.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
    ("Staff", lambda r: r.staff_login or "—"),
    ("Desk", lambda r: r.desk),
    ("Action", lambda r: r.action_label),
    ("Record", _record),
    ("Customer", lambda r: "" if r.customer_id is None else (r.customer_label or r.customer_id)),
    ("Fields", lambda r: ", ".join(r.fields)),
    ("Outcome", lambda r: {AuditOutcome.OK: "done", AuditOutcome.DENIED: "refused",
                           AuditOutcome.FAILED: "failed"}.get(r.outcome, str(r.outcome))),
)
_OUTCOME_COLOURS = {AuditOutcome.DENIED: QColor("#b3261e"), AuditOutcome.FAILED: QColor("#8a5a00")}


class AuditTableModel(QAbstractTableModel):
    """Holds the audit rows loaded so far, newest first; asks for older ones as the view scrolls.

    `set_fetch` starts over with a new filter; a page still in flight for the old
    filter is dropped when it arrives.
    """

    page_loaded = Signal(int)  # rows now loaded
    load_failed = Signal(object)

    def __init__(self, tasks: TaskManager, fetch: Fetch | None = None, parent=None,
                 page_size: int = PAGE_SIZE) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fetch = fetch
        self._page_size = page_size
        self._rows: list[AuditRow] = []
        self._at_end = fetch is None
        self._loading = False
        self._generation = 0

    # --- loading ----------------------------------------------------------------------

    def set_fetch(self, fetch: Fetch | None) -> None:
        """Forget the rows loaded and load the first page of `fetch` (a new filter)."""
        self.beginResetModel()
        self._generation += 1
        self._fetch = fetch
        self._rows = []
        self._at_end = fetch is None
        self._loading = False
        self.endResetModel()
        if fetch is not None:
            self.fetchMore(QModelIndex())

    def is_loading(self) -> bool:
        return self._loading

    def at_end(self) -> bool:
        return self._at_end

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and not self._at_end and not self._loading

    def fetchMore(self, parent=QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        self._loading = True
        generation = self._generation
        fetch, limit = self._fetch, self._page_size
        before = self._rows[-1].id if self._rows else None
        self._tasks.run_db(
            lambda token, progress: fetch(before, limit),
            on_success=lambda rows: self._arrived(generation, rows),
            on_failure=lambda exc: self._failed(generation, exc),
        )

    def _arrived(self, generation: int, rows: list[AuditRow]) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._at_end = len(rows) < self._page_size
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self.page_loaded.emit(len(self._rows))

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._at_end = True
        self.load_failed.emit(exc)

    # --- the model --------------------------------------------------------------------

    def row_at(self, row: int) -> AuditRow:
        return self._rows[row]

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = COLUMNS[index.column()][1](row)
            return str(value)
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = _OUTCOME_COLOURS.get(row.outcome)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            # A cell cut short by a narrow column is read whole in its tooltip.
            text = str(COLUMNS[index.column()][1](row))
            return f"{text} ({row.action})" if index.column() == 3 else text
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section][0]
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return None
