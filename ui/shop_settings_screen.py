"""The owner's shop settings screen; for now its one section: the shipping methods phone orders offer.

Each method has the title the desk and the customer see, the web store's method
(WooCommerce: flat_rate, free_shipping, local_pickup, or a plugin's id) and the cost the
phone-order screen starts with. Loading and saving run on the database pool; a value the
setting refuses is named next to the table and its cell is selected, and nothing is saved.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QCompleter,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.settings import SETTINGS_BY_KEY, STANDARD_SHIPPING_METHOD_IDS
from backoffice.domain.staff import Permission
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import settings as settings_service
from backoffice.services.changes import Changes
from ui.context import AppContext
from ui.errors import show_error

KEY = "shipping.methods"
COLUMNS = ("title", "method_id", "cost")
HEADERS = ("Title", "Web store method", "Usual cost")
ERROR_STYLE = "color: #b3261e;"
SAVED_STYLE = "color: #1b7f3b;"


class _MethodIdDelegate(QStyledItemDelegate):
    """Edits the web store's method, suggesting the store's own as the person types."""

    def createEditor(self, parent, option, index):  # noqa: N802 (Qt name)
        editor = QLineEdit(parent)
        completer = QCompleter(list(STANDARD_SHIPPING_METHOD_IDS), editor)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        editor.setCompleter(completer)
        editor.setToolTip("The web store's own methods: " + ", ".join(STANDARD_SHIPPING_METHOD_IDS) + ".")
        return editor


class ShopSettingsScreen(QWidget):
    """Shop-wide settings the owner changes; today: the shipping methods."""

    title = "Shop settings"
    permission = Permission.MANAGE_SETTINGS

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shopSettingsScreen")
        self.ctx = ctx
        self._loaded = False
        self._publishing = False
        spec = SETTINGS_BY_KEY[KEY]

        group = QGroupBox(spec.label)
        box = QVBoxLayout(group)
        help_label = QLabel(spec.help + " Use the web store's own method, such as flat_rate, so the store "
                            "reports the order's shipping the way it reports its own.")
        help_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("shippingTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # Typing in a cell replaces it; F2 or a double click edits what is there.
        triggers = QAbstractItemView.EditTrigger
        self.table.setEditTriggers(triggers.AnyKeyPressed | triggers.EditKeyPressed | triggers.DoubleClicked
                                   | triggers.SelectedClicked)
        self.table.setItemDelegateForColumn(1, _MethodIdDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._edited)

        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add a method")
        self.remove_button = QPushButton("&Remove")
        self.up_button = QPushButton("Move &up")
        self.down_button = QPushButton("Move do&wn")
        self.save_button = QPushButton("&Save")
        self.revert_button = QPushButton("Re&vert")
        for name, button in (("addButton", self.add_button), ("removeButton", self.remove_button),
                             ("upButton", self.up_button), ("downButton", self.down_button),
                             ("saveButton", self.save_button), ("revertButton", self.revert_button)):
            button.setObjectName(name)
        self.add_button.clicked.connect(self.add_method)
        self.remove_button.clicked.connect(self.remove_method)
        self.up_button.clicked.connect(lambda: self.move_method(-1))
        self.down_button.clicked.connect(lambda: self.move_method(1))
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.load)
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        self.message = QLabel("")
        self.message.setObjectName("shippingMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        box.addWidget(help_label)
        box.addWidget(self.table, 1)
        box.addLayout(buttons)
        box.addWidget(self.message)
        root = QVBoxLayout(self)
        root.addWidget(group, 1)
        self.table.currentCellChanged.connect(lambda *_: self._update_buttons())
        ctx.bus.changed.connect(self._on_changes)
        self._set_dirty(False)
        self.load()

    # --- loading ---------------------------------------------------------------------

    def focus_default(self) -> None:
        self.table.setFocus()

    def load(self) -> None:
        """Read the shipping methods (database pool) and show them, dropping unsaved edits."""

        def work(token, progress):
            return settings_service.get_setting(self.ctx.db, KEY)

        self.ctx.tasks.run_db(work, on_success=self._show, on_failure=lambda exc: show_error(self, exc))

    def _show(self, methods) -> None:
        self.table.blockSignals(True)
        try:
            self.table.setRowCount(0)
            for method in methods:
                self._append_row(method.title, method.method_id, f"{method.cost:.2f}")
        finally:
            self.table.blockSignals(False)
        self._loaded = True
        self._say(None)
        self._set_dirty(False)
        self._update_buttons()

    def _on_changes(self, changes: Changes) -> None:
        if changes.settings and not self._dirty and not self._publishing:
            self.load()

    # --- editing ---------------------------------------------------------------------

    def _append_row(self, title: str, method_id: str, cost: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate((title, method_id, cost)):
            item = QTableWidgetItem(text)
            if column == 2:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)
        return row

    def _edited(self, _item) -> None:
        self._set_dirty(True)

    def add_method(self) -> None:
        """Add a row to fill in, with the store's flat rate as its method, and start on its title."""
        self.table.blockSignals(True)
        try:
            row = self._append_row("", STANDARD_SHIPPING_METHOD_IDS[0], "0.00")
        finally:
            self.table.blockSignals(False)
        self._set_dirty(True)
        self.table.setCurrentCell(row, 0)
        self.table.editItem(self.table.item(row, 0))

    def remove_method(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        self.table.removeRow(row)
        self._set_dirty(True)
        if self.table.rowCount():
            self.table.setCurrentCell(min(row, self.table.rowCount() - 1), 0)
        self._update_buttons()

    def move_method(self, step: int) -> None:
        row = self.table.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.table.rowCount():
            return
        column = max(0, self.table.currentColumn())
        self.table.blockSignals(True)
        try:
            for c in range(len(COLUMNS)):
                here, there = self.table.takeItem(row, c), self.table.takeItem(target, c)
                self.table.setItem(row, c, there)
                self.table.setItem(target, c, here)
        finally:
            self.table.blockSignals(False)
        self._set_dirty(True)
        self.table.setCurrentCell(target, column)

    def methods(self) -> list[dict[str, str]]:
        """The rows as typed, for the setting to check."""
        out = []
        for row in range(self.table.rowCount()):
            values = {}
            for column, name in enumerate(COLUMNS):
                item = self.table.item(row, column)
                values[name] = item.text().strip() if item is not None else ""
            out.append(values)
        return out

    def _set_dirty(self, dirty: bool) -> None:
        self._dirty = dirty
        self.save_button.setEnabled(dirty and self._loaded)
        self.revert_button.setEnabled(dirty)

    def _update_buttons(self) -> None:
        row = self.table.currentRow()
        self.remove_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.table.rowCount() - 1)

    def _say(self, text: str | None, style: str = ERROR_STYLE) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text or "")
        self.message.setVisible(bool(text))

    # --- saving ----------------------------------------------------------------------

    def save(self) -> None:
        """Save the methods (database pool): all of them, or nothing and the reason shown."""
        editor = QApplication.focusWidget()
        if (self.table.state() == QAbstractItemView.State.EditingState and editor is not None
                and self.table.isAncestorOf(editor)):
            # Take what is being typed in the open cell too.
            self.table.commitData(editor)
            self.table.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        methods = self.methods()
        self.save_button.setEnabled(False)

        def work(token, progress):
            return settings_service.set_settings(self.ctx.db, actor=self.ctx.actor, values={KEY: methods})

        self.ctx.tasks.run_db(work, on_success=self._saved, on_failure=self._save_failed)

    def _saved(self, changes: Changes) -> None:
        self._set_dirty(False)
        # The table already shows what was saved: only other screens need to hear of it.
        self._publishing = True
        try:
            self.ctx.bus.publish(changes)
        finally:
            self._publishing = False
        self._say("Saved. Phone orders offer these methods from now on.", SAVED_STYLE)

    def _save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self._say(exc.message)
            self._select_problem(exc.fields)
        elif isinstance(exc, UserFacingError):
            self._say(exc.message)
        else:
            show_error(self, exc)

    def _select_problem(self, fields: dict[str, str]) -> None:
        for key in fields:
            number, _, name = key.partition(".")
            if number.isdigit() and name in COLUMNS:
                row, column = int(number) - 1, COLUMNS.index(name)
                if 0 <= row < self.table.rowCount():
                    self.table.setCurrentCell(row, column)
                    self.table.setFocus()
                    return

    def has_unsaved_changes(self) -> bool:
        return self._dirty


__all__ = ["ShopSettingsScreen"]
