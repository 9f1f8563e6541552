"""The phone-order screen: take an order while the caller is on the line, keyboard first.

Caller box (part of a phone number, name or email; Down or Enter picks), or a new
customer typed in the same screen; product box (SKU or part of a name; Enter adds);
lines, shipping (the shop's methods, the cost filled in and still editable), note,
totals; then how the caller pays: a pay link (the order is saved, sent to the web store
at once, the store emails the link to the caller, and the store's payment page is
watched until it says "paid"), the card terminal (keyed on the gateway's own page, recorded here by
reference only) or later (invoice, bank transfer, cash on pickup). Ctrl+Enter places
the order. Every database call runs on the database pool and every store call on the
network pool; the GUI thread only shows what comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QRegularExpressionValidator,
    QShortcut,
    QTextOption,
)
from shiboken6 import isValid
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.emails import validate_email
from backoffice.domain.enums import CustomerStatus, PaymentMethod
from backoffice.domain.orders import catalogue_totals, line_total
from backoffice.domain.phones import normalize_phone
from backoffice.domain.staff import Permission
from backoffice.errors import StoreError, UserFacingError, ValidationError
from backoffice.services import customers as customers_service
from backoffice.services import phone_order_quotes as quotes
from backoffice.services import phone_orders as service
from backoffice.services import settings as settings_service
from backoffice.services import sync
from backoffice.services.changes import Changes
from ui.customers.addresses import ShipToPicker
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.guarded_line_edit import GuardedLineEdit, GuardedPlainTextEdit, LastFourValidator
from ui.orders.orders_screen import money_text
from ui.orders.shipping_choice import mark_minimums
from ui.common.styles import ERROR_STYLE, WARNING_STYLE
from ui.common.plain_text import plain_label

# Mnemonics (Alt+letter) are unique on this screen and leave G and H to the main
# window's menus: C caller, W new customer, R repeat, F M E Y D 2 I O U the new
# customer's fields, P product, Q quantity, S shipping, N note, L pay link,
# T terminal, A pay later, V save the terminal payment, K copy the link.
PAID_STYLE = "color: #1b7f3b; font-size: 16pt; font-weight: 600;"
EMAILED_STYLE = "color: #1b7f3b;"
WAITING_STYLE = "color: #555; font-size: 12pt;"

STORE_AWAY = "The order is saved here and will be sent when the store is back."

# (key, label, kind of text for the card detector)
NEW_CUSTOMER_FIELDS = (
    ("first_name", "&First name", "text"),
    ("last_name", "Last na&me", "text"),
    ("email", "&Email", "text"),
    ("phone", "Phone", "phone"),
    ("company", "Compan&y", "text"),
    ("address_1", "A&ddress", "text"),
    ("address_2", "Address &2", "text"),
    ("city", "C&ity", "text"),
    ("state", "State", "text"),
    ("postcode", "P&ostcode", "text"),
    ("country", "Country", "text"),
)
_FIELD_WORDS = {
    "first_name": "the first name", "last_name": "the last name", "email": "the email address",
    "phone": "the phone number", "company": "the company", "address_1": "the address",
    "address_2": "the second address line", "city": "the city", "state": "the state",
    "postcode": "the postcode", "country": "the country",
}
LATER_METHODS = tuple((m, service.METHOD_LABELS[m]) for m in service.PAY_LATER_METHODS)
SEARCH_DELAY_MS = 120


def _error_label(name: str) -> QLabel:
    label = plain_label()
    label.setObjectName(name)
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _set_message(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


class _Search(QObject):
    """A search box feeding a results list through the database pool.

    Typing restarts a short timer; the query runs on the database pool and only the
    answer to the latest query is shown. Down goes to the list, Up from its top row
    comes back, and Enter (in the box or the list) picks the current row, waiting
    for the answer when it is still on its way.
    """

    picked = Signal(object)

    def __init__(self, tasks, box: QLineEdit, results: QListWidget,
                 query: Callable[[str], list], describe: Callable[[Any], str],
                 on_failure: Callable[[BaseException], None], parent: QObject,
                 *, nothing_found: str = "Nothing matches.") -> None:
        super().__init__(parent)
        self._nothing_found = nothing_found
        self._tasks = tasks
        self.box = box
        self.results = results
        self._query = query
        self._describe = describe
        self._on_failure = on_failure
        self._generation = 0
        self._answered = 0
        self._pick_when_answered = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._run)
        box.textEdited.connect(self._typed)
        box.installEventFilter(self)
        results.installEventFilter(self)
        results.itemActivated.connect(lambda item: self._pick_item(item))

    @property
    def waiting(self) -> bool:
        return self._timer.isActive() or self._answered < self._generation

    def reset(self) -> None:
        self._generation += 1
        self._answered = self._generation
        self._timer.stop()
        self._pick_when_answered = False
        self.results.clear()

    def _typed(self, _text: str) -> None:
        self._generation += 1
        self._pick_when_answered = False
        self._timer.start()

    def _run(self) -> None:
        generation = self._generation
        text = self.box.text().strip()
        if not text:
            self._show(generation, [])
            return

        def work(token, progress):
            return self._query(text)

        self._tasks.run_db(work, on_success=lambda hits: self._show(generation, hits),
                           on_failure=lambda exc: self._failed(generation, exc), owner=self)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._answered = generation
            self._pick_when_answered = False
            self._on_failure(exc)

    def _show(self, generation: int, hits: list) -> None:
        if generation != self._generation:
            return
        self._answered = generation
        self.results.clear()
        for hit in hits:
            item = QListWidgetItem(self._describe(hit))
            item.setToolTip(item.text())
            item.setData(Qt.ItemDataRole.UserRole, hit)
            self.results.addItem(item)
        if hits:
            self.results.setCurrentRow(0)
        elif self.box.text().strip():
            hint = QListWidgetItem(self._nothing_found)
            hint.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(hint)
        if self._pick_when_answered:
            self._pick_when_answered = False
            self.pick_current()

    def pick_when_ready(self) -> None:
        """Pick the current row now, or as soon as the answer to what was typed arrives."""
        if self.waiting:
            self._pick_when_answered = True
            if self._timer.isActive():
                self._timer.stop()
                self._run()
        else:
            self.pick_current()

    def pick_current(self) -> bool:
        item = self.results.currentItem() or self.results.item(0)
        if item is None or item.data(Qt.ItemDataRole.UserRole) is None:
            return False
        self._pick_item(item)
        return True

    def _pick_item(self, item: QListWidgetItem) -> None:
        self.picked.emit(item.data(Qt.ItemDataRole.UserRole))

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.KeyPress:
            return False
        key = event.key()
        if obj is self.box:
            if key == Qt.Key.Key_Down and self.results.count() and self.results.item(0).flags():
                self.results.setFocus()
                if self.results.currentRow() < 0:
                    self.results.setCurrentRow(0)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                    event.modifiers() & Qt.KeyboardModifier.ControlModifier):
                self.pick_when_ready()
                return True
        elif obj is self.results:
            if key == Qt.Key.Key_Up and self.results.currentRow() <= 0:
                self.box.setFocus()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                    event.modifiers() & Qt.KeyboardModifier.ControlModifier):
                self.pick_current()
                return True
        return False


class PayLinkView(QPlainTextEdit):
    """The pay link, whole on two or three lines (to read out or text), never cut off."""

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTabChangesFocus(True)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def _fit(self, *_args) -> None:
        # As tall as the address needs at this width (a QPlainTextEdit counts in lines).
        lines = max(1, min(int(self.document().documentLayout().documentSize().height()), 8))
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 2 * self.frameWidth()
                            + int(self.document().documentMargin() * 2))

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:  # noqa: N802 (as QLineEdit, which it replaces)
        self.setPlainText(text)

    def setCursorPosition(self, position: int) -> None:  # noqa: N802
        cursor = self.textCursor()
        cursor.setPosition(position)
        self.setTextCursor(cursor)


class PhoneOrderScreen(QWidget):
    """Take an order on the phone, from the caller's first words to "Paid"."""

    title = "Phone order"
    permission = Permission.TAKE_PHONE_ORDER

    order_opened = Signal(int)
    # Emitted whenever the payment state line changes (for tests and the status bar).
    payment_state_changed = Signal(str)
    # Emitted with the sentence about the pay link's email each time it is read.
    pay_link_email_changed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.watch_interval_ms = 3000
        # Returns the web store connector; called on the network pool.
        self.connector_provider: Callable[[], Any] = self._default_connector
        self.currency = "USD"
        self.region = "US"
        self.terminal_url = ""
        self.customer_id: int | None = None
        self.caller = None  # CallerSummary of the picked customer
        self.lines: list[list] = []  # [ProductHit, quantity]
        self.placed: service.PlacedOrder | None = None
        self.store_state = None
        self.paid = False
        self._watching = False
        self._busy_generation: int | None = None  # the watch generation with a call in flight
        self._watch_generation = 0
        # Bumped by each new call, so answers about the previous one are not shown.
        self._call = 0
        self._filling_table = False
        # The store's figures for the order as it stands (None until asked); asked a moment
        # after the last change, so typing a quantity does not make a request per key.
        self.quote: quotes.OrderQuote | None = None
        self._quote_generation = 0
        self._quote_timer = QTimer(self)
        self._quote_timer.setSingleShot(True)
        self._quote_timer.setInterval(400)
        self._quote_timer.timeout.connect(self._ask_store_for_totals)
        self._below_minimum = False
        self._build()
        self._load_settings()
        ctx.bus.changed.connect(self._on_changes)

    # --- building -------------------------------------------------------------------

    def _build(self) -> None:
        root = QHBoxLayout(self)
        left = QVBoxLayout()
        middle = QVBoxLayout()
        right = QVBoxLayout()
        root.addLayout(left, 3)
        root.addLayout(middle, 4)
        root.addLayout(right, 3)

        # Caller.
        caller_group = QGroupBox("Caller")
        caller = QVBoxLayout(caller_group)
        caption = QLabel("&Caller (phone, name or email):")
        self.caller_box = GuardedLineEdit("the caller box")
        self.caller_box.setObjectName("callerBox")
        self.caller_box.setPlaceholderText("Type part of a phone number, name or email")
        caption.setBuddy(self.caller_box)
        self.caller_results = QListWidget()
        self.caller_results.setObjectName("callerResults")
        self.caller_results.setMaximumHeight(140)
        self.caller_label = plain_label("No caller picked yet.")
        self.caller_label.setObjectName("callerLabel")
        self.caller_label.setWordWrap(True)
        self.caller_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caller_refusal = _error_label("callerRefusal")
        # Shown only for a caller whose store account was deleted there: the desk decides.
        self.account_question = QLabel(service.ACCOUNT_DELETED_QUESTION)
        self.account_question.setObjectName("accountQuestion")
        self.account_question.setWordWrap(True)
        self.account_combo = QComboBox()
        self.account_combo.setObjectName("accountCombo")
        self.account_combo.addItem("Choose: guest order or new account", None)
        self.account_combo.addItem("Send as a guest order (no account)", service.StoreAccount.GUEST)
        self.account_combo.addItem("Open a new account (the store emails them)", service.StoreAccount.NEW_ACCOUNT)
        self.account_question.setBuddy(self.account_combo)
        self.account_question.hide()
        self.account_combo.hide()
        buttons = QHBoxLayout()
        self.new_customer_button = QPushButton("Ne&w customer")
        self.new_customer_button.setObjectName("newCustomerButton")
        self.new_customer_button.setCheckable(True)
        self.new_customer_button.toggled.connect(self._new_customer_toggled)
        self.repeat_button = QPushButton("&Repeat last order")
        self.repeat_button.setObjectName("repeatButton")
        self.repeat_button.setEnabled(False)
        # Greyed until then, so the tooltip says both what it does and when it can.
        self.repeat_button.setToolTip("Put the caller's last order in again: choose a caller who has ordered before.")
        self.repeat_button.clicked.connect(self.repeat_last_order)
        buttons.addWidget(self.new_customer_button)
        buttons.addWidget(self.repeat_button)
        caller.addWidget(caption)
        caller.addWidget(self.caller_box)
        caller.addWidget(self.caller_box.notice)
        caller.addWidget(self.caller_results)
        caller.addWidget(self.caller_label)
        caller.addWidget(self.caller_refusal)
        caller.addWidget(self.account_question)
        caller.addWidget(self.account_combo)
        caller.addLayout(buttons)
        left.addWidget(caller_group)
        self.caller_search = _Search(
            self.ctx.tasks, self.caller_box, self.caller_results,
            lambda q: customers_service.search_customers(self.ctx.db, actor=self.ctx.actor,
                                                         query=q, limit=10),
            self._describe_customer, self._show_failure, self,
            nothing_found="No customer matches. Alt+W enters a new customer.")
        self.caller_search.picked.connect(self.pick_customer)

        # New customer, in the same screen.
        self.new_customer_group = QGroupBox("New customer")
        self.new_customer_group.setObjectName("newCustomerGroup")
        grid = QGridLayout(self.new_customer_group)
        grid.setVerticalSpacing(1)
        self.new_fields: dict[str, GuardedLineEdit] = {}
        self.field_errors: dict[str, QLabel] = {}
        for row, (key, label, context) in enumerate(NEW_CUSTOMER_FIELDS):
            field = GuardedLineEdit(_FIELD_WORDS[key], context=context)
            field.setObjectName(f"new_{key}")
            caption = QLabel(label)
            caption.setBuddy(field)
            error = _error_label(f"{key}Error")
            grid.addWidget(caption, row * 3, 0)
            grid.addWidget(field, row * 3, 1)
            grid.addWidget(error, row * 3 + 1, 1)
            grid.addWidget(field.notice, row * 3 + 2, 1)
            field.textEdited.connect(lambda _t, k=key: _set_message(self.field_errors[k], None))
            field.editingFinished.connect(lambda k=key: self._check_new_field(k))
            self.new_fields[key] = field
            self.field_errors[key] = error
        self.similar_label = plain_label()
        self.similar_label.setObjectName("similarWarning")
        self.similar_label.setStyleSheet(WARNING_STYLE)
        self.similar_label.setWordWrap(True)
        self.similar_label.hide()
        self.use_similar_button = QPushButton("&Use this customer")
        self.use_similar_button.setObjectName("useSimilarButton")
        self.use_similar_button.hide()
        self.use_similar_button.clicked.connect(self._use_similar)
        self._similar: list = []
        grid.addWidget(self.similar_label, len(NEW_CUSTOMER_FIELDS) * 3, 0, 1, 2)
        grid.addWidget(self.use_similar_button, len(NEW_CUSTOMER_FIELDS) * 3 + 1, 1)
        self.new_customer_group.hide()
        left.addWidget(self.new_customer_group)
        left.addStretch(1)
        self._similar_timer = QTimer(self)
        self._similar_timer.setSingleShot(True)
        self._similar_timer.setInterval(250)
        self._similar_timer.timeout.connect(self._check_similar)

        # Products and lines.
        products = QGroupBox("Products")
        pbox = QVBoxLayout(products)
        row = QHBoxLayout()
        caption = QLabel("&Product (SKU or name):")
        self.product_box = GuardedLineEdit("the product box", context="product")
        self.product_box.setObjectName("productBox")
        caption.setBuddy(self.product_box)
        qty_caption = QLabel("&Qty:")
        self.qty_spin = QSpinBox()
        self.qty_spin.setObjectName("qtySpin")
        self.qty_spin.setRange(1, service.MAX_QUANTITY)
        self.qty_spin.installEventFilter(self)
        qty_caption.setBuddy(self.qty_spin)
        row.addWidget(caption)
        row.addWidget(self.product_box, 1)
        row.addWidget(qty_caption)
        row.addWidget(self.qty_spin)
        self.product_results = QListWidget()
        self.product_results.setObjectName("productResults")
        self.product_results.setMaximumHeight(120)
        self.lines_table = QTableWidget(0, 5)
        self.lines_table.setObjectName("linesTable")
        self.lines_table.setHorizontalHeaderLabels(["SKU", "Product", "Qty", "Price", "Total"])
        self.lines_table.verticalHeader().hide()
        self.lines_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines_table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        header = self.lines_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the product's name gets the room
        self.lines_table.itemChanged.connect(self._line_edited)
        self.lines_table.installEventFilter(self)
        self.lines_error = _error_label("linesError")
        pbox.addLayout(row)
        pbox.addWidget(self.product_box.notice)
        pbox.addWidget(self.product_results)
        pbox.addWidget(self.lines_table, 1)
        pbox.addWidget(self.lines_error)
        middle.addWidget(products, 1)
        self.product_search = _Search(
            self.ctx.tasks, self.product_box, self.product_results,
            lambda q: service.catalogue_lookup(self.ctx.db, actor=self.ctx.actor, query=q, limit=15),
            self._describe_product, self._show_failure, self,
            nothing_found="No product matches (drafts and deleted products are left out).")
        self.product_search.picked.connect(self.add_product)

        # Shipping, note, totals.
        form = QFormLayout()
        self.shipping_combo = QComboBox()
        self.shipping_combo.setObjectName("shippingCombo")
        self.shipping_combo.setPlaceholderText("Choose shipping")
        self._fill_shipping(service.SHIPPING_OPTIONS)
        self.shipping_combo.currentIndexChanged.connect(self._shipping_chosen)
        self.shipping_cost = QLineEdit()
        self.shipping_cost.setObjectName("shippingCost")
        self.shipping_cost.setValidator(QRegularExpressionValidator(r"\d{0,6}([.,]\d{0,2})?"))
        self.shipping_cost.setPlaceholderText("0.00")
        self.shipping_cost.textChanged.connect(self._update_totals)
        ship_row = QHBoxLayout()
        ship_row.addWidget(self.shipping_combo, 2)
        cost_caption = QLabel("Cost:")
        cost_caption.setBuddy(self.shipping_cost)
        ship_row.addWidget(cost_caption)
        ship_row.addWidget(self.shipping_cost, 1)
        ship_caption = QLabel("&Shipping:")
        ship_caption.setBuddy(self.shipping_combo)
        form.addRow(ship_caption, ship_row)
        self.shipping_error = _error_label("shippingError")
        form.addRow("", self.shipping_error)
        # The caller's default address, another of theirs, or one typed for this order.
        self.ship_to = ShipToPicker(self.ctx)
        ship_to_caption = QLabel("S&hip to:")
        ship_to_caption.setBuddy(self.ship_to.combo)
        form.addRow(ship_to_caption, self.ship_to)
        self.note_edit = GuardedPlainTextEdit("the order note")
        self.note_edit.setObjectName("noteEdit")
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setMaximumHeight(70)
        note_caption = QLabel("&Note:")
        note_caption.setBuddy(self.note_edit)
        form.addRow(note_caption, self.note_edit)
        form.addRow("", self.note_edit.notice)
        middle.addLayout(form)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("totalsLabel")
        self.totals_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        middle.addWidget(self.totals_label)

        # Payment.
        pay_group = QGroupBox("Payment")
        pay = QVBoxLayout(pay_group)
        self.pay_link_radio = QRadioButton("Pay &link (the store's own payment page)")
        self.pay_link_radio.setObjectName("payLinkRadio")
        self.terminal_radio = QRadioButton("Card &terminal")
        self.terminal_radio.setObjectName("terminalRadio")
        self.later_radio = QRadioButton("Pay l&ater")
        self.later_radio.setObjectName("laterRadio")
        self.pay_buttons = QButtonGroup(self)
        for button in (self.pay_link_radio, self.terminal_radio, self.later_radio):
            self.pay_buttons.addButton(button)
            pay.addWidget(button)
        self.pay_link_radio.setChecked(True)
        self.later_combo = QComboBox()
        self.later_combo.setObjectName("laterCombo")
        self.later_combo.setToolTip("How the caller will pay later: choose Pay later first.")
        for method, label in LATER_METHODS:
            self.later_combo.addItem(label, method)
        pay.addWidget(self.later_combo)
        self.pay_later_button = QPushButton("Pay later instead")
        self.pay_later_button.setObjectName("payLaterButton")
        self.pay_later_button.setToolTip("The caller cannot pay now after all: switch the placed order.")
        self.pay_later_button.clicked.connect(self.switch_to_pay_later)
        pay.addWidget(self.pay_later_button)

        self.terminal_group = QWidget()
        tform = QFormLayout(self.terminal_group)
        tform.setContentsMargins(0, 0, 0, 0)
        self.open_terminal_button = QPushButton("Open the card terminal")
        self.open_terminal_button.setObjectName("openTerminalButton")
        self.open_terminal_button.clicked.connect(self.open_terminal)
        tform.addRow(self.open_terminal_button)
        self.terminal_fields: dict[str, GuardedLineEdit] = {}
        for key, label, context, limit in (
            ("gateway", "Gateway", "text", 64),
            ("transaction_id", "Transaction id", "reference", 64),
            ("card_brand", "Card brand", "text", 32),
            ("last4", "Last 4 digits", "text", 4),
            ("auth_code", "Auth code", "reference", 16),
        ):
            field = GuardedLineEdit(f"the {label.lower()}", context=context)
            field.setObjectName(f"terminal_{key}")
            field.setMaxLength(max(limit, 40))
            if key == "last4":
                # Room for a whole number typed or pasted by mistake, of which the last four stay.
                field.setValidator(LastFourValidator(field))
                field.setPlaceholderText("1234")
            error = _error_label(f"{key}Error")
            field.textEdited.connect(lambda _t, k=key: _set_message(self.field_errors[k], None))
            tform.addRow(label + ":", field)
            tform.addRow("", error)
            tform.addRow("", field.notice)
            self.terminal_fields[key] = field
            self.field_errors[key] = error
        self.record_payment_button = QPushButton("Sa&ve the terminal payment")
        self.record_payment_button.setObjectName("recordPaymentButton")
        self.record_payment_button.clicked.connect(self.record_payment)
        tform.addRow(self.record_payment_button)
        pay.addWidget(self.terminal_group)
        right.addWidget(pay_group)
        self.pay_buttons.buttonToggled.connect(self._payment_choice_changed)

        self.place_button = QPushButton("Place the order  (Ctrl+Enter)")
        self.place_button.setObjectName("placeButton")
        self.place_button.clicked.connect(self.place_order)
        right.addWidget(self.place_button)
        self.form_error = _error_label("formError")
        right.addWidget(self.form_error)
        self.card_messages = plain_label()
        self.card_messages.setObjectName("cardMessages")
        self.card_messages.setStyleSheet(WARNING_STYLE)
        self.card_messages.setWordWrap(True)
        self.card_messages.hide()
        right.addWidget(self.card_messages)

        # What happened to the order.
        state_group = QGroupBox("Order")
        state = QVBoxLayout(state_group)
        self.placed_label = plain_label("Not placed yet.")
        self.placed_label.setObjectName("placedLabel")
        self.placed_label.setWordWrap(True)
        url_row = QVBoxLayout()
        self.pay_url_edit = PayLinkView()
        self.pay_url_edit.setObjectName("payUrlEdit")
        self.pay_url_edit.setPlaceholderText("The payment page's address appears here")
        self.copy_url_button = QPushButton("Copy the lin&k")
        self.copy_url_button.setObjectName("copyUrlButton")
        self.copy_url_button.setEnabled(False)
        self.copy_url_button.setToolTip("Copy the payment page's address: there is one once the order is placed.")
        self.copy_url_button.clicked.connect(self.copy_pay_url)
        url_row.addWidget(self.pay_url_edit)
        url_row.addWidget(self.copy_url_button, 0, Qt.AlignmentFlag.AlignRight)
        self.payment_state = plain_label("")
        self.payment_state.setObjectName("paymentState")
        self.payment_state.setWordWrap(True)
        self.email_state = plain_label("")
        self.email_state.setObjectName("payLinkEmailState")
        self.email_state.setWordWrap(True)
        self.email_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.send_again_button = QPushButton("Send the link again")
        self.send_again_button.setObjectName("sendAgainButton")
        self.send_again_button.setToolTip("Ask the web store to email the payment link to the caller once more.")
        self.send_again_button.setEnabled(False)
        self.send_again_button.hide()
        self.send_again_button.clicked.connect(self.send_link_again)
        self.pay_link_email: service.PayLinkEmail | None = None
        self.store_label = plain_label("")
        self.store_label.setObjectName("storeLabel")
        self.store_label.setWordWrap(True)
        self.open_order_button = QPushButton("Open the order's page")
        self.open_order_button.setObjectName("openOrderButton")
        self.open_order_button.setEnabled(False)
        self.open_order_button.setToolTip("Open the order's page: there is one once the order is placed.")
        self.open_order_button.clicked.connect(
            lambda: self.placed and self.order_opened.emit(self.placed.order_id))
        state.addWidget(self.placed_label)
        state.addWidget(self.payment_state)
        state.addLayout(url_row)
        state.addWidget(self.email_state)
        state.addWidget(self.send_again_button)
        state.addWidget(self.store_label)
        state.addWidget(self.open_order_button)
        self.next_order_button = QPushButton("New order for the next call  (Ctrl+N)")
        self.next_order_button.setObjectName("nextOrderButton")
        self.next_order_button.setEnabled(False)
        self.next_order_button.setToolTip("Clear the screen for the next call, once this order is placed.")
        self.next_order_button.clicked.connect(self.start_new_order)
        state.addWidget(self.next_order_button)
        right.addWidget(state_group)
        right.addStretch(1)

        self._watch_timer = QTimer(self)
        self._watch_timer.setSingleShot(True)
        self._watch_timer.timeout.connect(self._watch_tick)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.place_order)
        self._payment_choice_changed()
        self._update_totals()

    def _run_db(self, work, on_success, on_failure) -> None:
        self.ctx.tasks.run_db(work, on_success=on_success, on_failure=on_failure, owner=self)

    def _load_settings(self) -> None:
        def work(token, progress):
            values = {key: settings_service.get_setting(self.ctx.db, key) for key in (
                "shop.currency", "shop.default_country", "payments.terminal_url",
                "payments.terminal_gateway")}
            values["shipping"] = service.shipping_options(self.ctx.db, actor=self.ctx.actor)
            return values

        def done(values: dict) -> None:
            self.currency = (values["shop.currency"] or "USD").upper()
            self._fill_shipping(values["shipping"])
            self.region = settings_service.country_or_default(values["shop.default_country"])
            self.terminal_url = values["payments.terminal_url"] or ""
            if not self.terminal_fields["gateway"].text():
                self.terminal_fields["gateway"].setText(values["payments.terminal_gateway"] or "")
            if not self.new_fields["country"].text():
                self.new_fields["country"].setPlaceholderText(self.region)
            self._payment_choice_changed()
            self._update_totals()

        self._run_db(work, done, self._show_failure)

    def _on_changes(self, changes: Changes) -> None:
        # The owner changed the shop's settings (shipping methods, currency): offer them now.
        if changes.settings and isValid(self):
            self._load_settings()

    # --- starting over --------------------------------------------------------------

    def focus_default(self) -> None:
        self.caller_box.setFocus()

    def has_unplaced_order(self) -> bool:
        """Whether the screen holds an order being taken that is not placed yet."""
        if self.placed is not None:
            return False
        return bool(self.customer_id or self.lines or self.note_edit.toPlainText().strip()
                    or any(field.text().strip() for field in self.new_fields.values()))

    def unsaved_work(self) -> str:
        """A phrase for what would be lost if the desk were left now, or ""."""
        if not self.has_unplaced_order():
            return ""
        who = self.caller_label.text().splitlines()[0] if self.customer_id and self.caller_label.text() else ""
        return f"a phone order being taken{f' for {who}' if who else ''}"

    def request_new_order(self) -> None:
        """Ctrl+N: a clean screen for the next call, but never drop a half-taken order unasked."""
        if self.has_unplaced_order():
            what = self.caller_label.text() if self.customer_id else "a new customer"
            lines = len(self.lines)
            answer = QMessageBox.question(
                self, "Start a new order?",
                f"The order being taken ({what.splitlines()[0] if what else 'no caller yet'}, "
                f"{lines} product line{'' if lines == 1 else 's'}) is not placed yet.\n\n"
                "Clear it and start a new order?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Discard:
                (self.product_box if self.customer_id else self.caller_box).setFocus()
                return
        self.start_new_order()

    def start_new_order(self) -> None:
        """Clear everything for the next call and put the cursor in the caller box."""
        self._call += 1
        self.stop_watching()
        self.caller_search.reset()
        self.product_search.reset()
        self.caller_box.clear()
        self.product_box.clear()
        self.qty_spin.setValue(1)
        self._clear_caller()
        self.new_customer_button.setChecked(False)
        for field in self.new_fields.values():
            field.clear()
        for key, field in self.terminal_fields.items():
            if key != "gateway":
                field.clear()
        for label in self.field_errors.values():
            _set_message(label, None)
        self.lines = []
        self._fill_table()
        self.shipping_combo.setCurrentIndex(-1)
        self.shipping_cost.clear()
        # clear() keeps "typed by the person", which would stop the next method filling its cost.
        self.shipping_cost.setModified(False)
        self.note_edit.clear()
        self.pay_link_radio.setChecked(True)
        self.later_combo.setCurrentIndex(0)
        for label in (self.form_error, self.lines_error, self.shipping_error, self.card_messages,
                      self.similar_label):
            _set_message(label, None)
        self.use_similar_button.hide()
        self.placed = None
        self.store_state = None
        self.paid = False
        self.placed_label.setText("Not placed yet.")
        self.pay_url_edit.clear()
        self.copy_url_button.setEnabled(False)
        self.open_order_button.setEnabled(False)
        self.next_order_button.setEnabled(False)
        self._set_payment_state("", "")
        self._show_pay_link_email(None)
        self.store_label.setText("")
        self._set_editable(True)
        self._payment_choice_changed()
        self._update_totals()
        self.caller_box.setFocus()

    def _clear_caller(self) -> None:
        self.customer_id = None
        self.ship_to.set_customer(None)
        self.caller = None
        self.caller_label.setText("No caller picked yet.")
        _set_message(self.caller_refusal, None)
        self.repeat_button.setEnabled(False)
        self._show_account_question(False)

    def _show_account_question(self, deleted: bool) -> None:
        self.account_combo.setCurrentIndex(0)
        self.account_question.setVisible(deleted)
        self.account_combo.setVisible(deleted)

    def _set_editable(self, editable: bool) -> None:
        # The picker first: focus leaving a field disabled below must not land in it and be dropped.
        for widget in (self.ship_to, self.caller_box, self.caller_results, self.new_customer_button,
                       self.new_customer_group, self.product_box, self.qty_spin,
                       self.product_results, self.lines_table, self.shipping_combo,
                       self.shipping_cost, self.note_edit, self.place_button,
                       self.pay_link_radio, self.account_combo):
            widget.setEnabled(editable)
        self.repeat_button.setEnabled(editable and bool(self.caller and self.caller.last_order_id))

    # --- the caller -----------------------------------------------------------------

    @staticmethod
    def _describe_customer(hit) -> str:
        # Two short lines instead of one long one cut off in a narrow column: who and how to
        # reach them, then where they live, to tell nine callers ending "0144" apart.
        first = " · ".join(p for p in (hit.name, hit.phone) if p)
        if hit.status != CustomerStatus.ACTIVE:
            first += f" ({hit.status.value})"
        second = " · ".join(p for p in (hit.email, " ".join(p for p in (hit.postcode, hit.city) if p)) if p)
        return f"{first}\n{second}" if second else first

    def pick_customer(self, hit) -> None:
        """Make this search hit the caller and move on to the products."""
        self.new_customer_button.setChecked(False)
        self.customer_id = hit.id
        self.ship_to.set_customer(hit.id)
        self.caller = None
        self.caller_label.setText(self._describe_customer(hit))
        _set_message(self.form_error, None)
        self.repeat_button.setEnabled(False)
        customer_id = hit.id

        def work(token, progress):
            return service.caller_summary(self.ctx.db, actor=self.ctx.actor, customer_id=customer_id)

        self._run_db(work, self._show_caller, self._show_failure)
        self.product_box.setFocus()

    def _show_caller(self, summary) -> None:
        if summary.id != self.customer_id:
            return
        self.caller = summary
        lines = [summary.name, *summary.address_lines[1:],
                 " · ".join(p for p in (summary.phone, summary.email) if p)]
        if summary.last_order_id:
            lines.append(f"Last order: {summary.last_order_number}")
        self.caller_label.setText("\n".join(line for line in lines if line))
        _set_message(self.caller_refusal, summary.refusal or None)
        self._show_account_question(summary.account_deleted_on_store)
        self.repeat_button.setEnabled(bool(summary.last_order_id) and self.placed is None)
        self._update_totals()

    def _new_customer_toggled(self, on: bool) -> None:
        self.new_customer_group.setVisible(on)
        if on:
            self._carry_caller_text()
            self._clear_caller()
            self.caller_label.setText("New customer: fill in the details below.")
            self.caller_search.reset()
            self.new_fields["first_name"].setFocus()
        else:
            _set_message(self.similar_label, None)
            self.use_similar_button.hide()
        self._update_totals()

    def _carry_caller_text(self) -> None:
        """Put what was typed to find the caller (a phone number, an email, a name) into the
        new customer's fields that are still empty, so nothing is typed twice."""
        typed = self.caller_box.text().strip()
        if not typed:
            return
        if "@" in typed:
            key_values = {"email": typed}
        elif sum(ch.isdigit() for ch in typed) >= 4 and not any(ch.isalpha() for ch in typed):
            key_values = {"phone": typed}
        else:
            first, _, last = typed.partition(" ")
            key_values = {"first_name": first, "last_name": last.strip()} if last else {"last_name": first}
        for key, value in key_values.items():
            field = self.new_fields.get(key)
            if field is not None and not field.text().strip() and value:
                field.setText(value)
                self._check_new_field(key)

    def _check_new_field(self, key: str) -> None:
        text = self.new_fields[key].text().strip()
        message = None
        if key == "email" and text:
            try:
                validate_email(text)
            except ValidationError as exc:
                message = exc.fields.get("email", exc.message)
        elif key == "phone" and text:
            phone = normalize_phone(text, default_region=self.region)
            if phone is None or not phone.is_valid:
                message = (f"This is not a valid phone number for {self.region}; "
                           "for another country start with + and its code.")
        elif key == "country" and text and (len(text) != 2 or not text.isalpha()):
            message = "Enter the country as its two-letter code, such as US or GB."
        _set_message(self.field_errors[key], message)
        if key in ("country", "state", "postcode", "city"):
            self._update_totals()  # the store's tax follows where the order goes
        if key in ("first_name", "last_name", "email", "phone", "postcode"):
            self._similar_timer.start()

    def _check_similar(self) -> None:
        if not self.new_customer_button.isChecked():
            return
        values = {k: f.text().strip() for k, f in self.new_fields.items()}
        name = f"{values['first_name']} {values['last_name']}".strip()

        def work(token, progress):
            return service.similar_customers(
                self.ctx.db, actor=self.ctx.actor, name=name, email=values["email"],
                phone=values["phone"], postcode=values["postcode"])

        def done(similar: list) -> None:
            if not self.new_customer_button.isChecked():
                return
            self._similar = similar
            if similar:
                if len(similar) == 1:
                    text = similar[0].sentence + " Use them instead, unless this really is someone else."
                else:
                    text = ("Similar customers exist: "
                            + "; ".join(f"{c.name} (same {' and '.join(c.reasons)})" for c in similar)
                            + f". Use {similar[0].name} instead, unless this really is someone else.")
                _set_message(self.similar_label, text)
                self.use_similar_button.setText(f"&Use {similar[0].name}")
                self.use_similar_button.show()
            else:
                _set_message(self.similar_label, None)
                self.use_similar_button.hide()

        self._run_db(work, done, self._show_failure)

    def _use_similar(self) -> None:
        if not self._similar:
            return
        s = self._similar[0]
        self.pick_customer(customers_service.CustomerHit(
            id=s.id, name=s.name, company="", email=s.email, phone=s.phone, postcode=s.postcode,
            city="", status=CustomerStatus.ACTIVE, match="similar", rank=0))

    def repeat_last_order(self) -> None:
        """Add the picked caller's last order's lines (products still sold)."""
        if not self.caller or not self.caller.last_order_id:
            return
        order_id = self.caller.last_order_id

        def work(token, progress):
            lines = service.repeat_order_lines(self.ctx.db, actor=self.ctx.actor, order_id=order_id)
            hits = {h.id: h for h in service.product_hits(
                self.ctx.db, actor=self.ctx.actor, product_ids=[l.product_id for l in lines])}
            return [(hits[l.product_id], l.quantity) for l in lines if l.product_id in hits]

        def done(pairs) -> None:
            for hit, quantity in pairs:
                self._add_line(hit, quantity)
            if not pairs:
                _set_message(self.lines_error, "None of the products of the last order is sold any more.")
            self.product_box.setFocus()

        self._run_db(work, done, self._show_failure)

    # --- products and lines ---------------------------------------------------------

    def _describe_product(self, hit) -> str:
        return f"{hit.sku} — {hit.name} — {money_text(hit.price, self.currency)} — {hit.stock_text}"

    def add_product(self, hit) -> None:
        """Add the picked product with the quantity in the spin box; back to the product box."""
        self._add_line(hit, self.qty_spin.value())
        self.qty_spin.setValue(1)
        self.product_search.reset()
        self.product_box.clear()
        self.product_box.setFocus()

    def _add_line(self, hit, quantity: int) -> None:
        _set_message(self.lines_error, None)
        for line in self.lines:
            if line[0].id == hit.id:
                line[1] = min(service.MAX_QUANTITY, line[1] + quantity)
                break
        else:
            self.lines.append([hit, quantity])
        if not hit.available:
            _set_message(self.lines_error, f"{hit.name} is out of stock.")
        self._fill_table()

    def _fill_table(self) -> None:
        self._filling_table = True
        try:
            self.lines_table.setRowCount(len(self.lines))
            for row, (hit, quantity) in enumerate(self.lines):
                values = (hit.sku, hit.name, str(quantity), money_text(hit.price, self.currency),
                          money_text(line_total(hit.price, quantity), self.currency))
                for col, value in enumerate(values):
                    item = QTableWidgetItem(value)
                    if col != 2:
                        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    if col >= 2:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.lines_table.setItem(row, col, item)
        finally:
            self._filling_table = False
        self._update_totals()

    def _line_edited(self, item: QTableWidgetItem) -> None:
        if self._filling_table or item.column() != 2 or item.row() >= len(self.lines):
            return
        try:
            quantity = int(item.text().strip())
        except ValueError:
            quantity = 0
        if 0 < quantity <= service.MAX_QUANTITY:
            self.lines[item.row()][1] = quantity
            _set_message(self.lines_error, None)
        else:
            _set_message(self.lines_error, f"A quantity goes from 1 to {service.MAX_QUANTITY}.")
        self._fill_table()

    def remove_selected_lines(self) -> None:
        rows = sorted({i.row() for i in self.lines_table.selectedIndexes()}
                      or ({self.lines_table.currentRow()} - {-1}), reverse=True)
        for row in rows:
            if 0 <= row < len(self.lines):
                del self.lines[row]
        self._fill_table()
        if self.lines:
            self.lines_table.setCurrentCell(min(rows[-1] if rows else 0, len(self.lines) - 1), 1)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if (obj is self.qty_spin and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
                and self.product_box.text().strip()):
            # Name, Tab, quantity, Enter: add the product found for the name, that many times.
            self.product_search.pick_when_ready()
            return True
        if (obj is self.lines_table and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
                and self.lines_table.state() != QAbstractItemView.State.EditingState):
            self.remove_selected_lines()
            return True
        return super().eventFilter(obj, event)

    # --- shipping and totals --------------------------------------------------------

    def _fill_shipping(self, options) -> None:
        """Offer these shipping methods, keeping the one chosen if it is still offered."""
        current = self.shipping_combo.currentData()
        self.shipping_combo.blockSignals(True)
        try:
            self.shipping_combo.clear()
            for option in options:
                self.shipping_combo.addItem(f"{option.title} — {money_text(option.cost, self.currency)}", option)
            index = -1
            if current is not None:
                index = next((i for i, o in enumerate(options)
                              if (o.title, o.method_id) == (current.title, current.method_id)), -1)
            self.shipping_combo.setCurrentIndex(index)
        finally:
            self.shipping_combo.blockSignals(False)

    def _shipping_chosen(self, index: int) -> None:
        option = self.shipping_combo.itemData(index) if index >= 0 else None
        _set_message(self.shipping_error, None)
        if option is not None and not self.shipping_cost.isModified():
            # The method's usual cost; the person may still type another.
            self.shipping_cost.setText(f"{option.cost:.2f}")
        self._update_totals()

    def _cost(self) -> Decimal | None:
        text = self.shipping_cost.text().strip().replace(",", ".")
        try:
            return Decimal(text or "0").quantize(Decimal("0.01"))
        except InvalidOperation:
            return None

    def _totals(self) -> tuple[Decimal, Decimal, Decimal]:
        """Subtotal, shipping and total at catalogue prices, added up as the service adds them."""
        totals = catalogue_totals(((hit.price, quantity) for hit, quantity in self.lines),
                                  self._cost() or Decimal("0.00"))
        return totals.subtotal, totals.shipping, totals.total

    def _quote_inputs(self) -> dict | None:
        """What the store's figures depend on, or None while the order cannot be quoted yet."""
        option = self.shipping_combo.currentData()
        cost = self._cost()
        new = self.new_customer_button.isChecked()
        if not self.lines or option is None or cost is None or (not new and self.customer_id is None):
            return None
        return dict(customer_id=None if new else self.customer_id,
                    new_customer=self._new_customer() if new else None,
                    lines=[service.LineInput(hit.id, quantity) for hit, quantity in self.lines],
                    shipping=service.ShippingInput(option.method_id, option.title, cost))

    def current_quote(self) -> quotes.OrderQuote | None:
        """The store's figures when they were asked for the order exactly as it now stands."""
        inputs = self._quote_inputs()
        if self.quote is None or inputs is None or not self.quote.matches(**inputs):
            return None
        return self.quote

    def _update_totals(self) -> None:
        subtotal, cost, total = self._totals()
        # Free shipping over an amount: greyed below it, and said if it was already chosen.
        below = mark_minimums(self.shipping_combo, subtotal)
        if below or self._below_minimum:
            _set_message(self.shipping_error, f"{below} Choose another shipping method." if below else None)
        self._below_minimum = bool(below)
        quote = self.current_quote()
        if quote is not None and not quote.provisional:
            self.totals_label.setText(
                f"Subtotal {money_text(quote.subtotal, self.currency)} · Shipping "
                f"{money_text(quote.shipping_total, self.currency)} · Tax "
                f"{money_text(quote.tax_total, self.currency)} · <b>Total "
                f"{money_text(quote.total, self.currency)}</b><br><small>{quote.sentence}</small>")
        else:
            why = quote.sentence if quote is not None else (
                "Asking the web store for tax and the total…" if self._quote_inputs() is not None
                else "Tax is added by the web store.")
            if quote is not None:
                # The service's provisional figures: what the order is saved with.
                subtotal, cost, total = quote.subtotal, quote.shipping_total, quote.total
            self.totals_label.setText(
                f"Subtotal {money_text(subtotal, self.currency)} · Shipping "
                f"{money_text(cost, self.currency)} · <b>Total {money_text(total, self.currency)}</b>"
                f"<br><small>{why}</small>")
        if self.placed is None and quote is None and self._quote_inputs() is not None:
            self._quote_timer.start()

    def _ask_store_for_totals(self) -> None:
        inputs = self._quote_inputs()
        if inputs is None or self.placed is not None:
            return
        self._quote_generation += 1
        generation = self._quote_generation

        def work(token, progress):
            try:
                connector = self.connector_provider()
            except (StoreError, UserFacingError):
                connector = None
            try:
                return quotes.quote_phone_order(self.ctx.db, connector, actor=self.ctx.actor, **inputs)
            finally:
                close = getattr(connector, "close", None)
                if close is not None:
                    close()

        def done(quote) -> None:
            if generation == self._quote_generation:
                self.quote = quote
                self._update_totals()

        self.ctx.tasks.run_io(work, on_success=done, on_failure=lambda exc: None, owner=self)

    def preview_total(self) -> Decimal:
        """The total as the screen shows it before placing (Decimal, shop currency): the
        store's when it has answered for this very order, else the provisional sum."""
        quote = self.current_quote()
        return quote.total if quote is not None else self._totals()[2]

    # --- payment choice -------------------------------------------------------------

    def payment_method(self) -> PaymentMethod:
        if self.terminal_radio.isChecked():
            return PaymentMethod.TERMINAL
        if self.later_radio.isChecked():
            return PaymentMethod(self.later_combo.currentData())
        return PaymentMethod.PAY_LINK

    def _payment_choice_changed(self, *_args) -> None:
        terminal = self.terminal_radio.isChecked()
        self.terminal_group.setVisible(terminal)
        unpaid = self.placed is not None and not self.paid
        for radio in (self.terminal_radio, self.later_radio):
            radio.setEnabled(not self.paid)  # a paid order takes no other payment
        self.later_combo.setEnabled(self.later_radio.isChecked() and (self.placed is None or unpaid))
        self.pay_later_button.setVisible(unpaid and self.placed.payment_method not in service.PAY_LATER_METHODS)
        self.pay_later_button.setEnabled(self.later_radio.isChecked())
        self.open_terminal_button.setEnabled(bool(self.terminal_url))
        self.open_terminal_button.setToolTip(
            "" if self.terminal_url else "Set the card terminal's address in the shop settings.")
        self.record_payment_button.setEnabled(
            terminal and self.placed is not None and not self.paid)
        if self.later_radio.isChecked() and self.placed is None:
            self.later_combo.setFocus()

    def switch_to_pay_later(self) -> None:
        """Switch the placed, unpaid order to the pay-later method chosen (database pool)."""
        if self.placed is None or self.paid:
            return
        order_id, method, call = self.placed.order_id, PaymentMethod(self.later_combo.currentData()), self._call

        def work(token, progress):
            return service.choose_pay_later(self.ctx.db, actor=self.ctx.actor, order_id=order_id,
                                            method=method)

        def done(changes: Changes) -> None:
            self.ctx.bus.publish(changes)
            if call != self._call:
                return
            self.stop_watching()
            self.placed = replace(self.placed, payment_method=method)
            self._set_payment_state(f"To be paid later: {service.METHOD_LABELS[method]}.", WAITING_STYLE)
            self._payment_choice_changed()
            self._watch_generation += 1
            self._watch_tick(push=True)

        self._run_db(work, done, self._show_failure)

    def open_terminal(self) -> None:
        """Open the gateway's own terminal page in the browser."""
        if self.terminal_url:
            QDesktopServices.openUrl(QUrl(self.terminal_url))

    # --- placing --------------------------------------------------------------------

    def _new_customer(self) -> service.NewCustomer:
        values = {k: f.text().strip() for k, f in self.new_fields.items()}
        values["country"] = values["country"] or self.region
        return service.NewCustomer(**values)

    def place_order(self) -> None:
        """Save the order here (database pool), then send it to the store (network pool)."""
        if self.placed is not None or not self.place_button.isEnabled():
            return
        for label in (self.form_error, self.lines_error, self.shipping_error):
            _set_message(label, None)
        new = self.new_customer_button.isChecked()
        if not new and self.customer_id is None:
            _set_message(self.form_error, "Pick the caller or enter a new customer first.")
            self.caller_box.setFocus()
            return
        option = self.shipping_combo.currentData()
        if option is None:
            _set_message(self.shipping_error, "Choose a shipping method.")
            self.shipping_combo.setFocus()
            return
        if self._below_minimum:
            self.shipping_combo.setFocus()
            return
        cost = self._cost()
        if cost is None:
            _set_message(self.shipping_error, "Enter the shipping cost as an amount such as 4.95.")
            self.shipping_cost.setFocus()
            return
        kwargs = dict(
            customer_id=None if new else self.customer_id,
            new_customer=self._new_customer() if new else None,
            lines=[service.LineInput(hit.id, quantity) for hit, quantity in self.lines],
            shipping=service.ShippingInput(option.method_id, option.title, cost),
            note=self.note_edit.toPlainText(),
            payment=service.PaymentChoice(self.payment_method()),
            quote=self.current_quote(),
            account=self.account_combo.currentData() if self.account_combo.isVisible() else None,
            ship_to=self.ship_to.choice(),
        )
        self.ship_to.show_errors({})
        self.place_button.setEnabled(False)
        self.placed_label.setText("Saving the order…")

        def work(token, progress):
            return service.place_phone_order(self.ctx.db, actor=self.ctx.actor, **kwargs)

        call = self._call
        self._run_db(work, lambda placed: call == self._call and self._placed(placed),
                     lambda exc: call == self._call and self._place_failed(exc))

    def _place_failed(self, exc: BaseException) -> None:
        self.place_button.setEnabled(True)
        self.placed_label.setText("Not placed yet.")
        if isinstance(exc, ValidationError) and exc.fields:
            self.ship_to.show_errors({k.partition(".")[2]: v for k, v in exc.fields.items()
                                      if k.startswith("ship_to.")})
            first = None
            for key, message in exc.fields.items():
                label = {"lines": self.lines_error, "shipping": self.shipping_error,
                         "shipping_cost": self.shipping_error, "account": self.caller_refusal,
                         "customer": self.form_error}.get(key) or self.field_errors.get(key)
                if label is None:
                    label = self.form_error
                _set_message(label, message)
                if first is None:
                    first = key
            _set_message(self.form_error, exc.message)
            target = self.new_fields.get(first) or {
                "lines": self.product_box, "shipping": self.shipping_combo,
                "shipping_cost": self.shipping_cost, "customer": self.caller_box,
                "account": self.account_combo}.get(first)
            if target is not None:
                target.setFocus()
        elif isinstance(exc, UserFacingError):
            _set_message(self.form_error, exc.message)
        else:
            show_error(self, exc)

    def _placed(self, placed: service.PlacedOrder) -> None:
        self.placed = placed
        self.customer_id = placed.customer_id
        self._set_editable(False)
        self.open_order_button.setEnabled(True)
        self.next_order_button.setEnabled(True)
        self.ctx.bus.publish(placed.changes)
        _set_message(self.card_messages, " ".join(placed.card_messages) or None)
        self.placed_label.setText(
            f"Order saved here: {money_text(placed.total, placed.currency)} "
            f"({service.METHOD_LABELS[placed.payment_method]}).")
        if placed.payment_method is PaymentMethod.PAY_LINK:
            self._set_payment_state("Sending the order to the web store…", WAITING_STYLE)
        elif placed.payment_method is PaymentMethod.TERMINAL:
            self._set_payment_state("Key the payment on the card terminal, then record it here.",
                                    WAITING_STYLE)
            (self.terminal_fields["transaction_id"]).setFocus()
        else:
            self._set_payment_state(f"To be paid later: {service.METHOD_LABELS[placed.payment_method]}.",
                                    WAITING_STYLE)
        self._payment_choice_changed()
        self._load_pay_link_email()
        self._watch_generation += 1
        self._watching = placed.payment_method is PaymentMethod.PAY_LINK
        self._watch_tick(push=True)

    # --- the store ------------------------------------------------------------------

    def _default_connector(self):
        return sync.connector_for(self.ctx.db)

    def _watch_tick(self, *, push: bool = False) -> None:
        """Send what waits for the order (all of it while the store does not have it yet),
        else ask the store whether it is paid. Runs on the network pool."""
        if self.placed is None or self._busy_generation == self._watch_generation:
            return
        generation = self._watch_generation
        order_id = self.placed.order_id
        on_store = (not push and self.store_state is not None and self.store_state.store_id is not None)
        self._busy_generation = generation

        def work(token, progress):
            # A connector per call: they are not shared between threads.
            connector = self.connector_provider()
            if connector is None:
                raise UserFacingError(STORE_AWAY)
            try:
                if on_store:
                    # Ask whether it is paid, and send what still waits (such as the link's email).
                    state = sync.refresh_order_from_store(self.ctx.db, connector, order_id, actor=self.ctx.actor)
                    if not state.waiting:
                        return state
                return sync.push_order_now(self.ctx.db, connector, order_id, actor=self.ctx.actor,
                                           cancel=token)
            finally:
                close = getattr(connector, "close", None)
                if close is not None:
                    close()

        self.ctx.tasks.run_io(
            work, on_success=lambda state: self._store_answered(generation, state),
            on_failure=lambda exc: self._store_failed(generation, exc), owner=self)

    def _schedule_watch(self) -> None:
        if self._watching and self.isVisible():
            self._watch_timer.start(self.watch_interval_ms)

    def _store_answered(self, generation: int, state) -> None:
        if self._busy_generation == generation:
            self._busy_generation = None
        if generation != self._watch_generation or self.placed is None:
            return
        self.store_state = state
        self._load_pay_link_email()
        if state.store_id is None:
            # Saved here; the store is away or busy. Keep trying while the caller waits.
            self.store_label.setText(STORE_AWAY)
            self.store_label.setToolTip(state.message or "")
            if self.placed.payment_method is PaymentMethod.PAY_LINK:
                self._set_payment_state("The payment link comes as soon as the store has the order.",
                                        WAITING_STYLE)
                self._schedule_watch()
            return
        number = state.number
        if number:
            self.placed_label.setText(
                f"Order {number} is on the web store: {money_text(self.placed.total, self.placed.currency)} "
                f"({service.METHOD_LABELS[self.placed.payment_method]}).")
        self.store_label.setText(
            "The web store has the order." if not state.waiting
            else "The web store has the order; the latest change is still to be sent.")
        self.store_label.setToolTip(state.message or "")
        url = state.payment_url or ""
        if url and self.placed.payment_method is PaymentMethod.PAY_LINK:
            if self.pay_url_edit.text() != url:
                self.pay_url_edit.setText(url)
                self.pay_url_edit.setCursorPosition(0)  # the address from its start, to read out
            self.copy_url_button.setEnabled(True)
        if state.paid:
            self._now_paid()
            return
        if self.placed.payment_method is PaymentMethod.PAY_LINK:
            self._set_payment_state(
                "Waiting for the payment on the store's payment page (link below).", WAITING_STYLE)
        self._schedule_watch()

    def _store_failed(self, generation: int, exc: BaseException) -> None:
        if self._busy_generation == generation:
            self._busy_generation = None
        if generation != self._watch_generation or self.placed is None:
            return
        self._load_pay_link_email()
        if isinstance(exc, sync.StoreAuthError) or (
                isinstance(exc, UserFacingError) and not isinstance(exc, StoreError)):
            # No store set up, or keys it refuses: only a person can fix that.
            self._watching = False
            self.store_label.setText(f"The order is saved here and goes to the store once it "
                                     f"can be reached. {exc.message}")
            return
        if not isinstance(exc, (StoreError, OSError)):
            # A defect, not the store being away: say so once and stop asking.
            self._watching = False
            show_error(self, exc)
            return
        self.store_label.setText(STORE_AWAY)
        self.store_label.setToolTip(getattr(exc, "message", "") or "")
        if self.placed.payment_method is not PaymentMethod.PAY_LINK:
            return
        self._schedule_watch()

    def _now_paid(self) -> None:
        self.paid = True
        self._watching = False
        self._watch_timer.stop()
        self._set_payment_state("Paid", PAID_STYLE)
        self.send_again_button.setEnabled(False)
        self._payment_choice_changed()
        if self.placed is not None:
            self.ctx.bus.publish(Changes(orders=frozenset({self.placed.order_id})))

    def _set_payment_state(self, text: str, style: str) -> None:
        self.payment_state.setStyleSheet(style)
        self.payment_state.setText(text)
        self.payment_state_changed.emit(text)

    # --- the pay link by email -------------------------------------------------------

    def _load_pay_link_email(self) -> None:
        """Read how the store's email of the pay link stands (database pool) and show it."""
        if self.placed is None or self.placed.payment_method is not PaymentMethod.PAY_LINK:
            self._show_pay_link_email(None)
            return
        order_id, call = self.placed.order_id, self._call

        def work(token, progress):
            return service.pay_link_email(self.ctx.db, actor=self.ctx.actor, order_id=order_id)

        def done(email: service.PayLinkEmail) -> None:
            if call == self._call and self.placed is not None and self.placed.order_id == email.order_id:
                self._show_pay_link_email(email)

        self._run_db(work, done, lambda exc: call == self._call and self._show_failure(exc))

    def _show_pay_link_email(self, email: service.PayLinkEmail | None) -> None:
        self.pay_link_email = email
        state = email.state if email is not None else service.PayLinkEmailState.NOT_ASKED
        style = {
            service.PayLinkEmailState.EMAILED: EMAILED_STYLE,
            service.PayLinkEmailState.QUEUED: WAITING_STYLE,
            service.PayLinkEmailState.NOT_NEEDED: WAITING_STYLE,
        }.get(state, WARNING_STYLE)
        self.email_state.setStyleSheet(style)
        _set_message(self.email_state, email.sentence if email is not None else None)
        asked = email is not None and state is not service.PayLinkEmailState.NOT_ASKED
        self.send_again_button.setVisible(asked)
        self.send_again_button.setEnabled(asked and email.can_send_again and not self.paid)
        if email is not None:
            self.pay_link_email_changed.emit(email.sentence)

    def send_link_again(self) -> None:
        """Ask the store to email the pay link once more: queued here, sent at once."""
        if self.placed is None or self.paid:
            return
        order_id, call = self.placed.order_id, self._call
        self.send_again_button.setEnabled(False)

        def work(token, progress):
            return service.send_pay_link_again(self.ctx.db, actor=self.ctx.actor, order_id=order_id)

        def done(changes: Changes) -> None:
            self.ctx.bus.publish(changes)
            if call != self._call:
                return
            self._load_pay_link_email()
            self._watch_generation += 1
            self._watch_tick(push=True)

        def failed(exc: BaseException) -> None:
            if call != self._call:
                return
            self._load_pay_link_email()
            self._show_failure(exc)

        self._run_db(work, done, failed)

    def stop_watching(self) -> None:
        """Stop asking the store about the order (a new call, or the screen closes)."""
        self._watching = False
        self._watch_generation += 1
        self._watch_timer.stop()
        self._busy_generation = None

    @property
    def watching(self) -> bool:
        return self._watching

    def copy_pay_url(self) -> None:
        if self.pay_url_edit.text():
            QGuiApplication.clipboard().setText(self.pay_url_edit.text())
            self.store_label.setText("The payment link is on the clipboard.")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if (self._watching and not self._watch_timer.isActive()
                and self._busy_generation != self._watch_generation):
            self._watch_timer.start(0)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().hideEvent(event)
        # Watching resumes when the screen shows again; nothing else waits to run.
        self._watch_timer.stop()
        self._similar_timer.stop()

    # --- terminal payment -----------------------------------------------------------

    def record_payment(self) -> None:
        """Record the terminal payment by its reference (database pool)."""
        if self.placed is None or self.paid:
            return
        values = {k: f.text().strip() for k, f in self.terminal_fields.items()}
        for key in values:
            _set_message(self.field_errors[key], None)
        order_id = self.placed.order_id
        self.record_payment_button.setEnabled(False)

        def work(token, progress):
            return service.record_terminal_payment(
                self.ctx.db, actor=self.ctx.actor, order_id=order_id, gateway=values["gateway"],
                transaction_id=values["transaction_id"], card_brand=values["card_brand"],
                last4=values["last4"], auth_code=values["auth_code"])

        call = self._call

        def done(changes: Changes) -> None:
            self.ctx.bus.publish(changes)
            if call != self._call:
                return
            self._now_paid()
            self.store_label.setText("The payment is recorded; the web store is being told.")
            # Tell the store now rather than at the next sync.
            self._watch_generation += 1
            self._watch_tick(push=True)

        def failed(exc: BaseException) -> None:
            if call != self._call:
                return
            self.record_payment_button.setEnabled(True)
            if isinstance(exc, ValidationError) and exc.fields:
                for key, message in exc.fields.items():
                    _set_message(self.field_errors.get(key, self.form_error), message)
            elif isinstance(exc, UserFacingError):
                _set_message(self.form_error, exc.message)
            else:
                show_error(self, exc)

        self._run_db(work, done, failed)

    # --- errors ---------------------------------------------------------------------

    def _show_failure(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):
            _set_message(self.form_error, exc.message)
        else:
            show_error(self, exc)
