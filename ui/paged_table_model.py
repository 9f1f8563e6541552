"""A table model that loads keyset pages on the database pool as the view scrolls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ui.tasks import TaskManager


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]
    align_right: bool = False


class PagedTableModel(QAbstractTableModel):
    """Holds light rows; `fetch(after)` returns an object with `rows` and `next_key`.

    `fetchMore` asks for the next page in the background and inserts the rows when it
    arrives; a new filter (`reset_query`) drops pages still in flight for the old one.
    """

    page_loaded = Signal(int)  # rows now loaded
    load_failed = Signal(object)

    def __init__(self, tasks: TaskManager, columns: Sequence[Column], fetch=None, parent=None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._columns = list(columns)
        self._fetch = fetch
        self._rows: list[Any] = []
        self._next_key: Any = None
        self._at_end = fetch is None
        self._loading = False
        self._generation = 0

    # --- the query ---------------------------------------------------------------

    def reset_query(self, fetch) -> None:
        """Start over with a new query (new filter or sort)."""
        self.beginResetModel()
        self._generation += 1
        self._fetch = fetch
        self._rows = []
        self._next_key = None
        self._at_end = fetch is None
        self._loading = False
        self.endResetModel()
        if fetch is not None:
            self.fetchMore(QModelIndex())

    def refresh(self) -> None:
        self.reset_query(self._fetch)

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def is_loading(self) -> bool:
        return self._loading

    # --- Qt model ------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        col = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = col.value(self._rows[index.row()])
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self._columns):
                return self._columns[section].header
        return None

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return not parent.isValid() and not self._at_end and not self._loading

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:
        if parent.isValid() or self._at_end or self._loading or self._fetch is None:
            return
        self._loading = True
        generation = self._generation
        fetch, after = self._fetch, self._next_key

        def work(token, progress):
            return fetch(after)

        def done(page) -> None:
            if generation != self._generation:
                return
            # Move the keyset on before inserting: a view may ask for more while rows go in.
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

        def failed(exc) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._at_end = True
            self.load_failed.emit(exc)

        self._tasks.run_db(work, on_success=done, on_failure=failed)
