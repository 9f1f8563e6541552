"""Table models over light rows: the rows and columns every table here shows (`RowsTableModel`),
and keyset pages loaded on the database pool as the view scrolls (`PagedTableModel`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from ui.common.plain_text import plain_tooltip
from ui.common.tasks import TaskManager

#: Rows that no longer count (a disabled account, a closed request).
FADED = QColor("#777777")


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]
    align_right: bool = False


class RowsTableModel(QAbstractTableModel):
    """Holds light rows (each with an `id`) and shows them through `columns`.

    Subclasses say how a row looks: `foreground` and `background` colours, a `tooltip`;
    `row_numbers` numbers the rows in the vertical header. The row's id is its UserRole.
    """

    row_numbers = False
    tooltips = False  # a cell cut short by a narrow column is read whole in its tooltip

    def __init__(self, columns: Sequence[Column], parent=None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[Any] = []

    # --- the rows ----------------------------------------------------------------

    def set_rows(self, rows: Iterable[Any]) -> None:
        """Show these rows instead (all of them: for tables small enough to load at once)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def row_of(self, row_id: int) -> int:
        """The row showing the record with this id, or -1."""
        return next((i for i, r in enumerate(self._rows) if r.id == row_id), -1)

    # --- how a row looks -----------------------------------------------------------

    def text(self, row: Any, column: int) -> str:
        value = self._columns[column].value(row)
        return "" if value is None else str(value)

    def tooltip(self, row: Any, column: int) -> str | None:
        return plain_tooltip(self.text(row, column)) if self.tooltips else None

    def foreground(self, row: Any) -> QColor | None:
        return None

    def background(self, row: Any) -> QColor | None:
        return None

    # --- Qt model ------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if not 0 <= index.column() < len(self._columns):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and self._columns[index.column()].align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = self.foreground(row)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = self.background(row)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.UserRole:
            return getattr(row, "id", None)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            return self._columns[section].header
        if orientation == Qt.Orientation.Vertical and self.row_numbers and 0 <= section < len(self._rows):
            return str(section + 1)
        return None


class PagedTableModel(RowsTableModel):
    """Rows loaded a keyset page at a time: `fetch(after)` returns an object with `rows` and
    `next_key` (None after the last page).

    `fetchMore` asks for the next page in the background and inserts the rows when it
    arrives; a new filter (`reset_query`) drops pages still in flight for the old one.
    """

    page_loaded = Signal(int)  # rows now loaded
    load_failed = Signal(object)

    def __init__(self, tasks: TaskManager, columns: Sequence[Column], fetch=None, parent=None) -> None:
        super().__init__(columns, parent)
        self._tasks = tasks
        self._fetch = fetch
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

    def is_loading(self) -> bool:
        return self._loading

    def at_end(self) -> bool:
        return self._at_end

    # --- loading -------------------------------------------------------------------

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

        def failed(exc) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._at_end = True
            self.load_failed.emit(exc)

        self._tasks.run_db(work, on_success=done, on_failure=failed)
