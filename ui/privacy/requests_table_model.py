"""The request queue as a small table model (a shop has tens of open requests, so all rows load at once)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from backoffice.services.privacy.register import CHANNELS, RequestRow
from ui.common.paged_table_model import FADED, Column, RowsTableModel

OVERDUE_BACKGROUND = QColor("#f9d6d5")
DUE_SOON_BACKGROUND = QColor("#fff4ce")

COLUMNS = (
    Column("No.", lambda r: str(r.id)),
    Column("Due", lambda r: r.clock_label),
    Column("Request", lambda r: r.kind_label),
    Column("Who", lambda r: r.who + (f" (asked before: {', '.join(map(str, r.repeat_of))})" if r.repeat_of else "")),
    Column("Status", lambda r: r.status_label),
    Column("Identity", lambda r: "checked" if r.identity_verified else "not checked"),
    Column("Came by", lambda r: CHANNELS.get(r.channel, r.channel)),
    Column("Received", lambda r: r.received_at.astimezone().strftime("%Y-%m-%d")),
)


class RequestsTableModel(RowsTableModel):
    row_numbers = True

    def __init__(self, parent=None) -> None:
        super().__init__(COLUMNS, parent)

    def background(self, row: RequestRow) -> QColor | None:
        if row.overdue:
            return OVERDUE_BACKGROUND
        if row.due_soon:
            return DUE_SOON_BACKGROUND
        return None

    def foreground(self, row: RequestRow) -> QColor | None:
        return None if row.is_open else FADED
