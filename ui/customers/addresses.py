"""Addresses at the desk: a form for one, the customer page's Add/Edit panel, and the
phone order's "ship to" picker (a saved address of the caller's, or a one-off one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import AddressKind
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import customer_addresses as address_service
from backoffice.services.customer_addresses import ADDRESS_FIELDS, AddressRecord
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.guarded_line_edit import GuardedLineEdit
from ui.common.styles import ERROR_STYLE

TITLES = {"first_name": "First name", "last_name": "Last name", "company": "Company",
          "address_1": "Street address", "address_2": "Address line 2", "city": "City", "state": "State",
          "postcode": "Postcode", "country": "Country (2 letters)", "phone": "Phone"}


class AddressForm(QWidget):
    """The fields of one address, each with the sentence that says what is wrong with it."""

    # Compact: two fields a row, named by their placeholders, for a screen with little height.
    _PAIRS = (("first_name", "last_name"), ("company", "phone"), ("address_1", "address_2"),
              ("city", "state"), ("postcode", "country"))

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.fields: dict[str, GuardedLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        if compact:
            grid = QGridLayout(self)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setVerticalSpacing(2)
        else:
            form = QFormLayout(self)
            form.setContentsMargins(0, 0, 0, 0)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for name in ADDRESS_FIELDS:
            edit = GuardedLineEdit(f"the {TITLES[name].lower()}", context="phone" if name == "phone" else "text")
            edit.setObjectName(f"address_{name}")
            error = QLabel("")
            error.setObjectName(f"addressError_{name}")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(edit)
            cell.addWidget(edit.notice)
            cell.addWidget(error)
            if compact:
                edit.setPlaceholderText(TITLES[name])
                edit.setToolTip(TITLES[name])
                row, column = next((r, pair.index(name)) for r, pair in enumerate(self._PAIRS) if name in pair)
                grid.addLayout(cell, row, column)
            else:
                form.addRow(TITLES[name], cell)
            self.fields[name] = edit
            self.errors[name] = error
        self.fields["country"].setMaxLength(2)

    def set_values(self, values: Mapping[str, str]) -> None:
        for name, edit in self.fields.items():
            edit.setText(values.get(name, "") or "")

    def values(self) -> dict[str, str]:
        return {name: edit.text() for name, edit in self.fields.items()}

    def show_errors(self, errors: Mapping[str, str]) -> None:
        for name, label in self.errors.items():
            label.setText(errors.get(name, ""))
            label.setVisible(bool(errors.get(name)))
        first = next((n for n in ADDRESS_FIELDS if n in errors), None)
        if first is not None:
            self.fields[first].setFocus()


class AddressDialog(QDialog):
    """Add or change one of a customer's addresses; saved on the database pool."""

    def __init__(self, ctx: AppContext, customer_id: int, record: AddressRecord | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id = customer_id
        self.record = record
        self.changes = None
        self.setObjectName("addressDialog")
        self.setWindowTitle("Change the address" if record else "Add an address")
        self.kind = QComboBox()
        self.kind.setObjectName("addressKind")
        for kind, words in address_service.KIND_WORDS.items():
            self.kind.addItem(words, kind)
        self.form = AddressForm()
        self.make_default = QCheckBox("Make this the default (the web store keeps the default ones)")
        self.make_default.setObjectName("addressDefault")
        self.message = QLabel("")
        self.message.setObjectName("addressMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("saveAddress")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        kind_row = QHBoxLayout()
        kind_row.addWidget(QLabel("For"))
        kind_row.addWidget(self.kind)
        kind_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(kind_row)
        layout.addWidget(self.form)
        layout.addWidget(self.make_default)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        if record is not None:
            self.kind.setCurrentIndex(max(self.kind.findData(record.kind), 0))
            self.form.set_values({n: record.value(n) for n in ADDRESS_FIELDS})
            self.make_default.setChecked(record.is_default)
            # The default stays the default until another one is made so.
            self.make_default.setEnabled(not record.is_default)
        else:
            self.kind.setCurrentIndex(max(self.kind.findData(AddressKind.SHIPPING), 0))
        self.setMinimumWidth(420)

    def save(self) -> None:
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        values, kind = self.form.values(), self.kind.currentData()
        default, address_id = self.make_default.isChecked(), self.record.id if self.record else None
        self.save_button.setEnabled(False)
        self.ctx.tasks.run_db(
            lambda token, progress: address_service.save_address(
                db, actor=actor, customer_id=cid, values=values, kind=kind, make_default=default,
                address_id=address_id),
            on_success=self._saved, on_failure=self._failed)

    def _saved(self, changes) -> None:
        self.save_button.setEnabled(True)
        self.changes = changes
        if changes:
            self.ctx.bus.publish(changes)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.form.show_errors(exc.fields or {})
        if isinstance(exc, UserFacingError):
            self.message.setText(exc.message)
            self.message.show()
        else:
            show_error(self, exc)


class AddressesPanel(QWidget):
    """The customer page's Addresses tab: the table, Add and Edit, and why they are not offered."""

    def __init__(self, ctx: AppContext, customer_id: int, table: QTableWidget,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id = customer_id
        self.table = table
        self.detail = None
        self.dialog: AddressDialog | None = None
        self.add_button = QPushButton("&Add address…")
        self.add_button.setObjectName("addAddress")
        self.edit_button = QPushButton("Change address…")
        self.edit_button.setObjectName("editAddress")
        self.add_button.clicked.connect(lambda: self.open_dialog(None))
        self.edit_button.clicked.connect(self.edit_selected)
        table.doubleClicked.connect(lambda _i: self.edit_selected())
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.itemSelectionChanged.connect(self._update_buttons)
        self.hint = QLabel("")
        self.hint.setObjectName("addressHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555;")
        self.hint.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.hint, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(table, 1)
        self._update_buttons()

    def show_detail(self, detail) -> None:
        self.detail = detail
        self._update_buttons()

    def _why_not(self) -> str:
        if self.detail is None:
            return "Loading…"
        return self.detail.why_no_edit

    def _update_buttons(self) -> None:
        why = self._why_not()
        self.add_button.setEnabled(not why)
        self.add_button.setToolTip(why)
        selected = bool(self.table.selectionModel() and self.table.selectionModel().selectedRows())
        self.edit_button.setEnabled(not why and selected)
        self.edit_button.setToolTip(why or ("" if selected else "Pick an address in the list first."))
        shown = why if self.detail is not None else ""
        self.hint.setText(shown)
        self.hint.setVisible(bool(shown))

    def edit_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if self._why_not() or not rows or self.detail is None or rows[0].row() >= len(self.detail.addresses):
            return
        address_id = self.detail.addresses[rows[0].row()].id
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id

        def found(records: list[AddressRecord]) -> None:
            record = next((r for r in records if r.id == address_id), None)
            if record is not None:
                self.open_dialog(record)

        self.ctx.tasks.run_db(lambda token, progress: address_service.list_addresses(db, actor=actor, customer_id=cid),
                              on_success=found, on_failure=lambda exc: show_error(self, exc))

    def open_dialog(self, record: AddressRecord | None) -> AddressDialog:
        self.dialog = AddressDialog(self.ctx, self.customer_id, record, self)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.open()
        return self.dialog


class ShipToPicker(QWidget):
    """Where a phone order goes: the caller's default, another of their addresses, or a one-off one.

    `choice()` is None for the default, an address id, or a mapping of a typed address.
    """

    changed = Signal()
    ONE_OFF = "one-off"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._generation = 0
        self.combo = QComboBox()
        self.combo.setObjectName("shipToChoice")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(24)
        self.one_off = AddressForm(compact=True)
        self.one_off.setObjectName("shipToOneOff")
        self.one_off.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.one_off)
        self.combo.currentIndexChanged.connect(self._chosen)
        self.set_customer(None)

    def set_customer(self, customer_id: int | None, *, load: Callable | None = None) -> None:
        """Offer the addresses of `customer_id` (loaded on the database pool), or, for a new
        caller, the address typed for them."""
        self._generation += 1
        generation = self._generation
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem("The customer's default address" if customer_id else "The new customer's address", None)
        self.combo.addItem("A one-off address for this order…", self.ONE_OFF)
        self.combo.setCurrentIndex(0)
        self.combo.blockSignals(False)
        self.one_off.hide()
        self.one_off.set_values({})
        self.one_off.show_errors({})
        if customer_id is None:
            return
        db, actor = self.ctx.db, self.ctx.actor
        self.ctx.tasks.run_db(
            lambda token, progress: address_service.list_addresses(db, actor=actor, customer_id=customer_id),
            on_success=lambda records: self._offer(generation, records), on_failure=lambda exc: None)

    def _offer(self, generation: int, records: list[AddressRecord]) -> None:
        if generation != self._generation:
            return
        shipping_default = next((r for r in records if r.is_default and r.kind is AddressKind.SHIPPING), None)
        default = shipping_default or next((r for r in records if r.is_default), None)
        self.combo.blockSignals(True)
        if default is not None:
            self.combo.setItemText(0, f"Default: {', '.join(default.lines[1:] or default.lines)}")
            self.combo.setItemData(0, ", ".join(default.lines), Qt.ItemDataRole.ToolTipRole)
        offered = {default.lines} if default is not None else set()
        for r in records:
            if r.lines in offered:
                continue  # the same address kept for billing and shipping is offered once
            offered.add(r.lines)
            words = ", ".join(r.lines[1:] or r.lines)
            self.combo.insertItem(self.combo.count() - 1, words, r.id)
            self.combo.setItemData(self.combo.count() - 2, ", ".join(r.lines), Qt.ItemDataRole.ToolTipRole)
        self.combo.blockSignals(False)

    def _chosen(self, _index: int) -> None:
        self.one_off.setVisible(self.combo.currentData() == self.ONE_OFF)
        self.changed.emit()

    def choice(self) -> None | int | dict[str, str]:
        data = self.combo.currentData()
        if data == self.ONE_OFF:
            return self.one_off.values()
        return data

    def show_errors(self, errors: Mapping[str, str]) -> None:
        self.one_off.show_errors(errors)
