"""The request queue as a small table model (a shop has tens of open requests, so all rows load at once)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from backoffice.services.privacy.register import CHANNELS, RequestRow

OVERDUE_BACKGROUND = QColor("#f9d6d5")
DUE_SOON_BACKGROUND = QColor("#fff4ce")

COLUMNS = (
    ("No.", lambda r: str(r.id)),
    ("Due", lambda r: r.clock_label),
    ("Request", lambda r: r.kind_label),
    ("Who", lambda r: r.who + (f" (asked before: {', '.join(map(str, r.repeat_of))})" if r.repeat_of else "")),
    ("Status", lambda r: r.status_label),
    ("Identity", lambda r: "checked" if r.identity_verified else "not checked"),
    ("Came by", lambda r: CHANNELS.get(r.channel, r.channel)),
    ("Received", lambda r: r.received_at.astimezone().strftime("%Y-%m-%d")),
)


class RequestsTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[RequestRow] = []

    def set_rows(self, rows: list[RequestRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[RequestRow]:
        return list(self._rows)

    def row_at(self, row: int) -> RequestRow:
        return self._rows[row]

    def row_of(self, request_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == request_id), -1)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[index.column()][1](row)
        if role == Qt.ItemDataRole.BackgroundRole:
            if row.overdue:
                return QBrush(OVERDUE_BACKGROUND)
            if row.due_soon:
                return QBrush(DUE_SOON_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and not row.is_open:
            return QBrush(QColor("#777777"))
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
