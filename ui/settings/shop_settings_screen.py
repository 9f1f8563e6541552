"""The owner's shop settings screen: the shop, the web store and its API keys, shipping methods.

General: the shop's name, currency and country, the ship-from address on packing slips,
the card terminal's address, the privacy clock and how long records are kept.

Web store: its address, how often to sync, the consent meta key, and the API keys, which
go to this computer's keyring only (never the database); a button asks the store one
small question with them and says how it went.

Shipping methods: each has the title the desk and the customer see, the web store's
method (WooCommerce: flat_rate, free_shipping, local_pickup, or a plugin's id) and the
cost the phone-order screen starts with; a value the setting refuses is named next to
the table and its cell is selected, and nothing is saved.

Loading, saving and the connection check run on the worker pools, never on the window's thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QCompleter,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.settings import SETTINGS_BY_KEY, STANDARD_SHIPPING_METHOD_IDS
from backoffice.domain.staff import Permission
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import settings as settings_service
from backoffice.services import sync
from backoffice.services.changes import Changes
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.settings.settings_form import HELP_STYLE, SAVED_STYLE, SettingsForm
from ui.common.styles import ERROR_STYLE

KEY = "shipping.methods"
COLUMNS = ("title", "method_id", "cost", "min_total")
HEADERS = ("Title", "Web store method", "Usual cost", "Minimum order")


class _MethodIdDelegate(QStyledItemDelegate):
    """Edits the web store's method, suggesting the store's own as the person types."""

    def createEditor(self, parent, option, index):  # noqa: N802 (Qt name)
        editor = QLineEdit(parent)
        completer = QCompleter(list(STANDARD_SHIPPING_METHOD_IDS), editor)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        editor.setCompleter(completer)
        editor.setToolTip("The web store's own methods: " + ", ".join(STANDARD_SHIPPING_METHOD_IDS) + ".")
        return editor


class ShippingMethodsPage(QWidget):
    """The shipping methods phone orders offer, edited in a table and saved together."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shippingMethodsPage")
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
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeaderItem(3).setToolTip(
            "Orders whose products come to less cannot have this method (free shipping over an amount). "
            "Leave empty for any order.")
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
                self._append_row(method.title, method.method_id, f"{method.cost:.2f}",
                                 "" if method.min_total is None else f"{method.min_total:.2f}")
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

    def _append_row(self, title: str, method_id: str, cost: str, min_total: str = "") -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate((title, method_id, cost, min_total)):
            item = QTableWidgetItem(text)
            if column >= 2:
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


GENERAL_SECTIONS = (
    ("Shop", ("shop.name", "shop.currency", "shop.default_country")),
    ("Packing slips", ("ship_from.name", "ship_from.address", "ship_from.logo", "shipping.phone_for_methods")),
    ("Card terminal", ("payments.terminal_url", "payments.terminal_gateway")),
    ("Privacy and records", ("privacy.contact", "privacy.response_days", "privacy.reminder_days",
                             "retention.order_years", "retention.job_enabled",
                             "retention.customer_inactive_years", "reports.min_group_size")),
    ("Desks", ("desk.idle_lock_minutes",)),
)
STORE_SECTIONS = (("Web store", ("store.url", "store.sync_minutes", "store.consent_meta_key")),)
KEYS_HELP = ("Make the keys in WordPress under WooCommerce → Settings → Advanced → REST API → Add key, "
             "for a user who manages the shop, with Read/Write permission. They are kept in this "
             "computer's keyring only, never in the shop's database; each desk that syncs needs them.")


class WebStorePage(QWidget):
    """The web store's address and sync settings, its API keys, and a connection check."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("webStorePage")
        self.ctx = ctx
        self.form = SettingsForm(ctx, STORE_SECTIONS, saved_text="Saved. The next sync uses these settings.")
        self.form.saved.connect(lambda _changes: self.load_keys_state())

        keys = QGroupBox("API keys")
        grid = QFormLayout(keys)
        help_label = QLabel(KEYS_HELP)
        help_label.setWordWrap(True)
        help_label.setStyleSheet(HELP_STYLE)
        self.key_field = QLineEdit()
        self.key_field.setObjectName("consumerKeyField")
        self.secret_field = QLineEdit()
        self.secret_field.setObjectName("consumerSecretField")
        for field, hint in ((self.key_field, "ck_…"), (self.secret_field, "cs_…")):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setPlaceholderText(hint)
            field.textEdited.connect(self._keys_edited)
        self.keys_state = QLabel("")
        self.keys_state.setObjectName("keysState")
        self.keys_state.setWordWrap(True)
        self.save_keys_button = QPushButton("Save the &keys")
        self.save_keys_button.setObjectName("saveKeysButton")
        self.save_keys_button.setEnabled(False)
        self.save_keys_button.clicked.connect(self.save_keys)
        self.check_button = QPushButton("&Test the connection")
        self.check_button.setObjectName("checkConnectionButton")
        self.check_button.clicked.connect(self.check_connection)
        self.check_result = QLabel("")
        self.check_result.setObjectName("connectionResult")
        self.check_result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.save_keys_button)
        row.addWidget(self.check_button)
        row.addStretch(1)
        grid.addRow(help_label)
        grid.addRow("Consumer key", self.key_field)
        grid.addRow("Consumer secret", self.secret_field)
        grid.addRow(self.keys_state)
        grid.addRow(row)
        grid.addRow(self.check_result)

        root = QVBoxLayout(self)
        root.addWidget(self.form)
        root.addWidget(keys)
        root.addStretch(1)
        self.form.load()
        self.load_keys_state()

    def load_keys_state(self) -> None:
        self.ctx.tasks.run_db(
            lambda token, progress: settings_service.store_keys_state(self.ctx.db, actor=self.ctx.actor),
            on_success=self._show_keys_state, on_failure=lambda exc: show_error(self, exc), owner=self)

    def _show_keys_state(self, state: settings_service.StoreKeysState) -> None:
        self.keys_state.setStyleSheet("" if state.saved or state.from_environment else ERROR_STYLE)
        self.keys_state.setText(state.sentence)
        self.check_button.setEnabled(bool(state.store_url) and (state.saved or state.from_environment))

    def _keys_edited(self, *_args) -> None:
        self.save_keys_button.setEnabled(bool(self.key_field.text().strip() and self.secret_field.text().strip()))

    def save_keys(self) -> None:
        """Keep the typed keys in the keyring for the saved address (worker pool), then clear the fields."""
        key, secret = self.key_field.text(), self.secret_field.text()
        self.save_keys_button.setEnabled(False)

        def work(token, progress):
            return settings_service.set_store_keys(self.ctx.db, actor=self.ctx.actor,
                                                   consumer_key=key, consumer_secret=secret)

        self.ctx.tasks.run_db(work, on_success=self._keys_saved, on_failure=self._keys_refused, owner=self)

    def _keys_saved(self, state: settings_service.StoreKeysState) -> None:
        self.key_field.clear()
        self.secret_field.clear()
        self._show_keys_state(state)
        self.check_result.setText("")

    def _keys_refused(self, exc: BaseException) -> None:
        self._keys_edited()
        if isinstance(exc, UserFacingError):
            self.keys_state.setStyleSheet(ERROR_STYLE)
            self.keys_state.setText(exc.message)
        else:
            show_error(self, exc)

    def check_connection(self) -> None:
        """Ask the store one small question with the saved address and keys (network pool)."""
        self.check_button.setEnabled(False)
        self.check_result.setStyleSheet("")
        self.check_result.setText("Asking the web store…")

        def work(token, progress):
            return sync.check_store_connection(self.ctx.db, actor=self.ctx.actor)

        self.ctx.tasks.run_io(work, on_success=self._checked, on_failure=self._check_failed, owner=self)

    def _checked(self, sentence: str) -> None:
        self.check_button.setEnabled(True)
        self.check_result.setStyleSheet(SAVED_STYLE)
        self.check_result.setText(sentence)

    def _check_failed(self, exc: BaseException) -> None:
        self.check_button.setEnabled(True)
        if isinstance(exc, UserFacingError):
            self.check_result.setStyleSheet(ERROR_STYLE)
            self.check_result.setText(exc.message)
        else:
            self.check_result.setText("")
            show_error(self, exc)

    def has_unsaved_changes(self) -> bool:
        return self.form.has_unsaved_changes() or bool(self.key_field.text() or self.secret_field.text())


class ShopSettingsScreen(QWidget):
    """Shop-wide settings the owner changes, on three pages: general, web store, shipping."""

    title = "Shop settings"
    permission = Permission.MANAGE_SETTINGS

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shopSettingsScreen")
        self.ctx = ctx
        self.general = SettingsForm(ctx, GENERAL_SECTIONS, saved_text="Saved.")
        self.general.load()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.addWidget(self.general)
        column.addStretch(1)
        scroll.setWidget(holder)
        general_page = QWidget()
        page_layout = QVBoxLayout(general_page)
        page_layout.addWidget(scroll, 1)
        page_layout.addWidget(self.general.actions)  # Save stays in view while the form scrolls
        self.web_store = WebStorePage(ctx)
        self.shipping = ShippingMethodsPage(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(general_page, "&General")
        self.tabs.addTab(self.web_store, "&Web store")
        self.tabs.addTab(self.shipping, "S&hipping methods")
        root = QVBoxLayout(self)
        root.addWidget(self.tabs)

    def focus_default(self) -> None:
        page = self.tabs.currentWidget()
        if page is self.shipping:
            self.shipping.focus_default()
        else:
            self.tabs.setFocus()

    def has_unsaved_changes(self) -> bool:
        return any(page.has_unsaved_changes() for page in (self.general, self.web_store, self.shipping))


__all__ = ["ShippingMethodsPage", "ShopSettingsScreen", "WebStorePage"]
