"""Staff accounts as a small table model (a shop has a handful, so all rows load at once)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from backoffice.services.staff import StaffSummary
from ui.common.paged_table_model import FADED, Column, RowsTableModel


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
    Column("Name", lambda r: r.display_name),
    Column("Login", lambda r: r.login),
    Column("Role", lambda r: r.role_label),
    Column("Status", _status),
    Column("Last sign-in", lambda r: r.last_login_at.astimezone().strftime("%Y-%m-%d %H:%M")
           if r.last_login_at else "never"),
)


class StaffTableModel(RowsTableModel):
    row_numbers = True

    def __init__(self, parent=None) -> None:
        super().__init__(COLUMNS, parent)

    def foreground(self, row: StaffSummary) -> QColor | None:
        return None if row.active else FADED
