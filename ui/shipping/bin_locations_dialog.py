"""Bin locations: where each product sits in the stock room, typed beside its SKU (owner only)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from backoffice.errors import ValidationError
from backoffice.services.fulfilment import bins as bins_service
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.styles import ERROR_STYLE


class BinLocationsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("binLocations")
        self.setWindowTitle("Bin locations")
        self.ctx = ctx
        self.rows: tuple[bins_service.BinRow, ...] = ()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by SKU or name")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["SKU", "Product", "Bin"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.error = QLabel("")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Type where each product sits; slips and pick lists can be sorted by it."))
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.filter.textChanged.connect(self._filter)
        self.resize(640, 560)
        ctx.tasks.run_db(lambda token, progress: bins_service.list_bin_locations(ctx.db, actor=ctx.actor),
                         on_success=self._loaded, on_failure=lambda exc: show_error(self, exc), owner=self)

    def _loaded(self, rows) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for col, text in enumerate((row.sku, row.name)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(i, col, item)
            self.table.setItem(i, 2, QTableWidgetItem(row.bin_location))
        self.table.resizeColumnToContents(0)
        self.save_button.setEnabled(True)

    def _filter(self, text: str) -> None:
        folded = text.strip().casefold()
        for i, row in enumerate(self.rows):
            self.table.setRowHidden(i, bool(folded) and folded not in f"{row.sku} {row.name}".casefold())

    def changed(self) -> dict[int, str]:
        out = {}
        for i, row in enumerate(self.rows):
            text = self.table.item(i, 2).text() if self.table.item(i, 2) else ""
            if text.strip() != row.bin_location:
                out[row.product_id] = text
        return out

    def save(self) -> None:
        changed, ctx = self.changed(), self.ctx
        if not changed:
            self.accept()
            return
        self.save_button.setEnabled(False)
        ctx.tasks.run_db(lambda token, progress: bins_service.set_bin_locations(ctx.db, actor=ctx.actor, bins=changed),
                         on_success=self._saved, on_failure=self._failed, owner=self)

    def _saved(self, changes) -> None:
        self.ctx.bus.publish(changes)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.error.setText(exc.message)
            return
        show_error(self, exc)
