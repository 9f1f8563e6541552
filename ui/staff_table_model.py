"""Staff accounts as a small table model (a shop has a handful, so all rows load at once)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from backoffice.services.staff import StaffSummary


def _status(row: StaffSummary) -> str:
    if not row.active:
        return "Disabled"
    parts = []
    if row.is_locked():
        parts.append(f"Locked until {row.locked_until.astimezone():%H:%M}")
    if row.must_change_password:
        parts.append("Must choose a password")
    return "; ".join(parts) or "Active"


COLUMNS = (
    ("Name", lambda r: r.display_name),
    ("Login", lambda r: r.login),
    ("Role", lambda r: r.role_label),
    ("Status", _status),
    ("Last sign-in", lambda r: r.last_login_at.astimezone().strftime("%Y-%m-%d %H:%M")
     if r.last_login_at else "never"),
)


class StaffTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[StaffSummary] = []

    def set_rows(self, rows: list[StaffSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[StaffSummary]:
        return list(self._rows)

    def row_at(self, row: int) -> StaffSummary:
        return self._rows[row]

    def row_of(self, staff_id: int) -> int:
        for i, r in enumerate(self._rows):
            if r.id == staff_id:
                return i
        return -1

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
        if role == Qt.ItemDataRole.ForegroundRole and not row.active:
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
