"""One order's page: lines, totals, refunds, addresses, payment reference, store state and tracking;
for staff who may change orders, its status and a parcel's tracking number, and for those who may
refund, a refund."""

from __future__ import annotations

import html

from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QSizePolicy,
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.cards import mask_card_numbers
from backoffice.domain.enums import OrderStatus, PaymentMethod, PaymentStatus
from backoffice.domain.staff import Permission
from backoffice.errors import ConflictError, UserFacingError, ValidationError
from backoffice.services import orders as orders_service
from backoffice.services.fulfilment import slips as slips_service
from backoffice.services.orders import COMMON_CARRIERS, OrderDetail, PaymentView
from backoffice.services.phone_orders import METHOD_LABELS
from ui.calls.dial import lines_html, link_phones
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.guarded_line_edit import GuardedLineEdit
from ui.orders.orders_screen import STATUS_LABELS, money_text
from ui.orders.refund_dialog import RefundDialog
from ui.common.plain_text import plain_label

LINE_HEADERS = ("SKU", "Product", "Qty", "Unit price", "Total")
PRODUCT_COLUMN = 1
FIRST_NUMBER_COLUMN = 2
# Lines kept in view when the window is too short for them all.
MIN_VISIBLE_LINES = 3

# What the web store's own payment gateways are called at the desk.
STORE_GATEWAY_LABELS = {
    "bacs": "Bank transfer",
    "cheque": "Cheque",
    "cod": "Cash on delivery",
    "paypal": "PayPal",
    "ppcp-gateway": "PayPal",
    "stripe": "Card (Stripe)",
    "woocommerce_payments": "Card (WooPayments)",
    "square_credit_card": "Card (Square)",
}
GATEWAY_NAMES = {
    "stripe": "Stripe",
    "woocommerce_payments": "WooPayments",
    "square_credit_card": "Square",
    "square": "Square",
    "sumup": "SumUp",
    "paypal": "PayPal",
    "ppcp-gateway": "PayPal",
}
DELETED_NOTICE = "Deleted on the web store: do not ship."
PAYMENT_STATUS_WORDS = {
    PaymentStatus.AWAITING: "waiting for payment",
    PaymentStatus.PAID: "paid",
    PaymentStatus.FAILED: "payment failed",
    PaymentStatus.REFUNDED: "refunded",
}


def _reference(text: str) -> str:
    """A gateway's reference as shown: never a card number, even one that slipped into it."""
    return mask_card_numbers(text.strip(), context="reference").text


def _gateway_name(gateway: str) -> str:
    key = gateway.strip().lower()
    return GATEWAY_NAMES.get(key) or _reference(gateway.replace("_", " "))


def payment_sentence(p: PaymentView, *, method_title: str = "", currency: str = "",
                     order_total: Decimal | None = None) -> str:
    """One recorded payment as a person reads it: how, the gateway's references, and where it stands.

    `method_title` is the order's payment method as the web store names it, used when the
    payment itself does not say which gateway took it.
    """
    method = PaymentMethod(p.method)
    if method is PaymentMethod.STORE:
        how = (STORE_GATEWAY_LABELS.get(p.gateway.strip().lower())
               or _reference(method_title)
               or (_gateway_name(p.gateway) if p.gateway.strip() else "")
               or ("Card" if p.card_last4 else "Payment on the web store"))
    else:
        how = METHOD_LABELS.get(method, method.value.replace("_", " ").capitalize())
        if method is PaymentMethod.TERMINAL and p.gateway.strip():
            how = f"{how} ({_gateway_name(p.gateway)})"
    details = []
    last4 = (p.card_last4 or "").strip()
    if len(last4) == 4 and last4.isdigit():
        details.append(f"{_reference(p.card_brand) or 'Card'} ending {last4}")
    if p.transaction_id.strip():
        details.append(f"transaction {_reference(p.transaction_id)}")
    if p.auth_code.strip():
        details.append(f"authorisation {_reference(p.auth_code)}")
    status = PAYMENT_STATUS_WORDS.get(PaymentStatus(p.status), p.status)
    if order_total is not None and p.amount and p.amount != order_total:
        status = f"{money_text(p.amount, currency)} {status}"
    if method is PaymentMethod.STORE:
        status = f"{status} (recorded on the web store)"
    return f"{how} — {', '.join([*details, status])}"


def _error_label(name: str) -> QLabel:
    """A problem with a field, shown under it in words."""
    label = plain_label()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #a33;")
    label.hide()
    return label


class OrderPage(QWidget):
    title = "Order"

    # The tab's title: the order number people use, once the order has loaded.
    title_changed = Signal(str)

    def __init__(self, ctx: AppContext, order_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.order_id = order_id
        self.detail: OrderDetail | None = None
        self.tab_title = "Order"
        self.tab_tooltip = ""
        self.heading = plain_label("Loading order…")
        # A long customer name wraps instead of widening the window past a small screen.
        self.heading.setWordWrap(True)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.heading.setObjectName("orderHeading")
        self.heading.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.state = plain_label("")
        self.state.setObjectName("orderState")
        self.lines = QTableWidget(0, len(LINE_HEADERS))
        self.lines.setObjectName("orderLines")
        self.lines.setHorizontalHeaderLabels(list(LINE_HEADERS))
        self.lines.verticalHeader().hide()
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines.setWordWrap(False)
        header = self.lines.horizontalHeader()
        header.setStretchLastSection(False)
        for column in range(len(LINE_HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
            if column >= FIRST_NUMBER_COLUMN:
                self.lines.horizontalHeaderItem(column).setTextAlignment(
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(PRODUCT_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.totals = QLabel("")
        self.totals.setObjectName("orderTotals")
        self.totals.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.billing = QLabel("")
        self.billing.setObjectName("orderBilling")
        self.shipping = QLabel("")
        self.shipping.setObjectName("orderShipping")
        self.payment = plain_label("")
        self.payment.setObjectName("orderPayment")
        self.payment.setWordWrap(True)
        self.payment.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tracking = plain_label("")
        self.tracking.setObjectName("orderTracking")
        self.note = plain_label("")
        self.note.setWordWrap(True)

        addresses = QHBoxLayout()
        for title, label in (("Billing", self.billing), ("Shipping", self.shipping)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(label)
            # Both addresses start at the top of their boxes, however many lines each has.
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            link_phones(label, ctx, lambda: self.detail.customer_id if self.detail else None)
            addresses.addWidget(box, 1)
        pay_box = QGroupBox("Payment and delivery")
        form = QFormLayout(pay_box)
        form.addRow("Payment:", self.payment)
        form.addRow("Tracking:", self.tracking)
        form.addRow("Customer note:", self.note)
        # Only people who may refund get the control; order takers never meet it.
        self.refund_button = None
        self.refund_dialog: RefundDialog | None = None
        if ctx.may(Permission.REFUND_ORDERS):
            self.refund_button = QPushButton("&Refund…")
            self.refund_button.setObjectName("refundButton")
            self.refund_button.setEnabled(False)
            self.refund_button.clicked.connect(self.open_refund)
            self.refund_hint = QLabel("")
            self.refund_hint.setObjectName("refundHint")
            self.refund_hint.setWordWrap(True)
            self.refund_hint.setStyleSheet("color: #555;")
            refund_row = QHBoxLayout()
            refund_row.addWidget(self.refund_button)
            refund_row.addWidget(self.refund_hint, 1)
            form.addRow("Refund:", refund_row)
        self.deleted_notice = QLabel(DELETED_NOTICE)
        self.deleted_notice.setObjectName("orderDeletedNotice")
        self.deleted_notice.setStyleSheet("color: #a33; font-weight: 600;")
        self.deleted_notice.hide()
        # Only people who may change orders get the controls; nobody else has them at all.
        self.changes_box = self._build_changes_box() if ctx.may(Permission.EDIT_ORDERS) else None

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.state)
        layout.addWidget(self.deleted_notice)
        # The lines take the height they need (up to the room there is); what is left
        # goes below the boxes, so a short order does not push them to the bottom.
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.totals)
        layout.addLayout(addresses)
        layout.addWidget(pay_box)
        if self.changes_box is not None:
            layout.addWidget(self.changes_box)
        layout.addStretch(0)
        self._fit_lines()
        ctx.bus.changed.connect(self._on_changes)
        self.reload()

    def _build_changes_box(self) -> QGroupBox:
        box = QGroupBox("Status and shipping")
        box.setObjectName("orderChangesBox")
        box.hide()
        form = QFormLayout(box)
        self.status_form = form
        self._can_complete = False

        self.next_status = QComboBox()
        self.next_status.setObjectName("nextStatus")
        self.next_status.setPlaceholderText("Choose…")
        self.next_status.currentIndexChanged.connect(self._status_chosen)
        self.apply_status_button = QPushButton("&Apply")
        self.apply_status_button.setObjectName("applyStatusButton")
        self.apply_status_button.clicked.connect(self.apply_status)
        status_row = QHBoxLayout()
        status_row.addWidget(self.next_status)
        status_row.addWidget(self.apply_status_button)
        status_row.addStretch(1)
        self.status_error = _error_label("statusError")
        # Each row's cell is one widget, so hiding and showing a row leaves its problem labels as they were.
        status_widget = QWidget()
        status_cell = QVBoxLayout(status_widget)
        status_cell.setContentsMargins(0, 0, 0, 0)
        status_cell.addLayout(status_row)
        # A cancel says why; the store keeps the reason as an order note.
        self.cancel_reason = GuardedLineEdit("the reason", context="text")
        self.cancel_reason.setObjectName("cancelReason")
        self.cancel_reason.setPlaceholderText("Why is it cancelled? (sent to the web store as a note)")
        self.cancel_reason.setMaxLength(orders_service.CANCEL_REASON_MAX)
        self.cancel_reason.returnPressed.connect(self.apply_status)
        self.cancel_reason.hide()
        status_cell.addWidget(self.cancel_reason)
        status_cell.addWidget(self.cancel_reason.notice)
        status_cell.addWidget(self.status_error)
        form.addRow("Change status to:", status_widget)

        self.carrier = QComboBox()
        self.carrier.setObjectName("carrier")
        self.carrier.setEditable(True)
        self.carrier.addItems(list(COMMON_CARRIERS))
        # Any other carrier may be typed, through the same card-number guard as every stored text.
        self.carrier.setLineEdit(GuardedLineEdit("the carrier", context="tracking"))
        self.carrier.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.carrier.lineEdit().setMaxLength(orders_service.CARRIER_MAX)
        self.tracking_number = GuardedLineEdit("the tracking number", context="tracking")
        self.tracking_number.setObjectName("trackingNumber")
        self.tracking_number.setPlaceholderText("Tracking number")
        self.tracking_number.setMaxLength(64)
        self.tracking_number.returnPressed.connect(self.add_tracking)
        self.mark_completed = QCheckBox("Mark &completed")
        self.mark_completed.setObjectName("markCompleted")
        self.add_tracking_button = QPushButton("A&dd")
        self.add_tracking_button.setObjectName("addTrackingButton")
        self.add_tracking_button.clicked.connect(self.add_tracking)
        tracking_row = QHBoxLayout()
        tracking_row.addWidget(self.carrier)
        tracking_row.addWidget(self.tracking_number, 1)
        tracking_row.addWidget(self.mark_completed)
        tracking_row.addWidget(self.add_tracking_button)
        self.carrier_error = _error_label("carrierError")
        self.tracking_error = _error_label("trackingError")
        tracking_widget = QWidget()
        tracking_cell = QVBoxLayout(tracking_widget)
        tracking_cell.setContentsMargins(0, 0, 0, 0)
        tracking_cell.addLayout(tracking_row)
        tracking_cell.addWidget(self.carrier.lineEdit().notice)
        tracking_cell.addWidget(self.tracking_number.notice)
        tracking_cell.addWidget(self.carrier_error)
        tracking_cell.addWidget(self.tracking_error)
        self.complete_hint = plain_label("")
        self.complete_hint.setObjectName("completeHint")
        self.complete_hint.setWordWrap(True)
        self.complete_hint.setStyleSheet("color: #555;")
        self.complete_hint.hide()
        tracking_cell.addWidget(self.complete_hint)
        form.addRow("Add tracking:", tracking_widget)
        self.tracking_number.textEdited.connect(lambda _text: self.tracking_error.hide())

        # Printed on the gift slip instead of prices.
        self.gift_message = GuardedLineEdit("the gift message")
        self.gift_message.setObjectName("giftMessage")
        self.gift_message.setPlaceholderText("Printed on the gift slip")
        self.gift_message.setMaxLength(slips_service.GIFT_MESSAGE_MAX)
        self.save_gift_button = QPushButton("Save")
        self.save_gift_button.setObjectName("saveGiftMessage")
        self.save_gift_button.clicked.connect(self.save_gift_message)
        self.gift_message.returnPressed.connect(self.save_gift_message)
        self.gift_error = _error_label("giftError")
        gift_row = QHBoxLayout()
        gift_row.addWidget(self.gift_message, 1)
        gift_row.addWidget(self.save_gift_button)
        gift_widget = QWidget()
        gift_cell = QVBoxLayout(gift_widget)
        gift_cell.setContentsMargins(0, 0, 0, 0)
        gift_cell.addLayout(gift_row)
        gift_cell.addWidget(self.gift_message.notice)
        gift_cell.addWidget(self.gift_error)
        form.addRow("Gift message:", gift_widget)
        return box

    def open_refund(self) -> None:
        if self.detail is None or self.refund_button is None or not self.refund_button.isEnabled():
            return
        dialog = RefundDialog(self.ctx, self.detail, self)
        self.refund_dialog = dialog
        dialog.finished.connect(lambda _result: self._refund_closed(dialog))
        dialog.open()

    def _refund_closed(self, dialog: RefundDialog) -> None:
        self.refund_dialog = None
        if dialog.changes is not None:
            self._changed(dialog.changes)
        dialog.deleteLater()

    def _show_refund_control(self, d: OrderDetail) -> None:
        if self.refund_button is None:
            return
        self.refund_button.setEnabled(not d.why_not_refund)
        # Greyed, it says why (in its tooltip and beside it); otherwise how much may still go back.
        self.refund_button.setToolTip(d.why_not_refund or "Record money given back on this order.")
        self.refund_hint.setText(d.why_not_refund or f"Up to {money_text(d.refundable, d.currency)} may be refunded.")

    def save_gift_message(self) -> None:
        ctx, order_id, text = self.ctx, self.order_id, self.gift_message.text()
        self.save_gift_button.setEnabled(False)
        self.gift_error.hide()

        def work(token, progress):
            return slips_service.set_gift_message(ctx.db, actor=ctx.actor, order_id=order_id, message=text)

        self.ctx.tasks.run_db(work, on_success=self._gift_saved, on_failure=self._gift_failed)

    def _gift_saved(self, changes) -> None:
        self.save_gift_button.setEnabled(True)
        self._changed(changes)

    def _gift_failed(self, exc: BaseException) -> None:
        self.save_gift_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self._show_field_error(self.gift_error, exc.fields.get("gift_message") or exc.message)
        else:
            show_error(self, exc)

    def _show_change_controls(self, d: OrderDetail) -> None:
        box = self.changes_box
        if box is None:
            return
        deleted = d.status in (OrderStatus.TRASH, OrderStatus.DELETED)
        box.setVisible(not deleted and bool(d.next_statuses or d.can_add_tracking))
        # Nothing is chosen at first, so Apply cannot change an order by accident.
        self.next_status.clear()
        for status in d.next_statuses:
            self.next_status.addItem(STATUS_LABELS.get(status, status.value), status)
        self.next_status.setCurrentIndex(-1)
        self.cancel_reason.clear()
        self.cancel_reason.hide()
        self.status_form.setRowVisible(0, bool(d.next_statuses))
        self.status_form.setRowVisible(1, d.can_add_tracking)
        self.status_form.setRowVisible(2, d.can_add_tracking)
        if not self.gift_message.hasFocus():
            self.gift_message.setText(d.gift_message)
        self.apply_status_button.setEnabled(False)
        self.add_tracking_button.setEnabled(d.can_add_tracking)
        # Completing emails the customer and closes the sale, so it is never ticked for the
        # person: they tick it when the parcel going out completes the order.
        could_complete, self._can_complete = self._can_complete, OrderStatus.COMPLETED in d.next_statuses
        # Unpaid: shown unticked and greyed, with the reason, rather than hidden without a word.
        self.mark_completed.setVisible(self._can_complete or bool(d.why_not_complete))
        self.mark_completed.setEnabled(self._can_complete)
        self.mark_completed.setToolTip(d.why_not_complete or "Also mark the order completed (the customer is emailed).")
        self.complete_hint.setText(d.why_not_complete)
        self.complete_hint.setVisible(bool(d.why_not_complete) and d.can_add_tracking)
        if not self._can_complete or not could_complete:
            self.mark_completed.setChecked(False)

    def _status_chosen(self, index: int) -> None:
        self.status_error.hide()
        self.apply_status_button.setEnabled(index >= 0)
        cancelling = self.next_status.itemData(index) == OrderStatus.CANCELLED if index >= 0 else False
        self.cancel_reason.setVisible(cancelling)
        if cancelling:
            self.cancel_reason.setFocus()

    def apply_status(self) -> None:
        if self.detail is None or self.next_status.currentData() is None:
            return
        self.status_error.hide()
        self.apply_status_button.setEnabled(False)
        db, actor, order_id = self.ctx.db, self.ctx.actor, self.order_id
        status, version = self.next_status.currentData(), self.detail.version
        reason = self.cancel_reason.text() if status == OrderStatus.CANCELLED else ""

        def work(token, progress):
            return orders_service.change_order_status(db, actor=actor, order_id=order_id, status=status,
                                                      expected_version=version, reason=reason)

        self.ctx.tasks.run_db(work, on_success=self._changed, on_failure=self._status_failed)

    def _status_failed(self, exc: BaseException) -> None:
        self.apply_status_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self._show_field_error(self.status_error, exc.fields.get("status") or exc.message)
        elif isinstance(exc, ConflictError):
            # Said in a message, not under the field: the order as it is now may offer no status at all.
            show_error(self, exc)
            self.reload()
        elif isinstance(exc, UserFacingError):
            self._show_field_error(self.status_error, exc.message)
        else:
            show_error(self, exc)

    def add_tracking(self) -> None:
        if self.detail is None or not self.add_tracking_button.isEnabled():
            return
        for label in (self.carrier_error, self.tracking_error):
            label.hide()
        self.add_tracking_button.setEnabled(False)
        db, actor, order_id = self.ctx.db, self.ctx.actor, self.order_id
        carrier, number = self.carrier.currentText(), self.tracking_number.text()
        complete = self._can_complete and self.mark_completed.isChecked()

        def work(token, progress):
            return orders_service.add_tracking(db, actor=actor, order_id=order_id, carrier=carrier,
                                               tracking_number=number, mark_completed=complete)

        self.ctx.tasks.run_db(work, on_success=self._tracking_added, on_failure=self._tracking_failed)

    def _tracking_added(self, changes) -> None:
        self.tracking_number.clear()
        self.add_tracking_button.setEnabled(True)
        self._changed(changes)

    def _tracking_failed(self, exc: BaseException) -> None:
        self.add_tracking_button.setEnabled(True)
        if isinstance(exc, ValidationError) and exc.fields:
            if "carrier" in exc.fields:
                self._show_field_error(self.carrier_error, exc.fields["carrier"])
            if "tracking_number" in exc.fields or "status" in exc.fields:
                self._show_field_error(self.tracking_error,
                                       exc.fields.get("tracking_number") or exc.fields["status"])
        elif isinstance(exc, UserFacingError):
            self._show_field_error(self.tracking_error, exc.message)
        else:
            show_error(self, exc)

    @staticmethod
    def _show_field_error(label: QLabel, text: str) -> None:
        label.setText(text)
        label.show()

    def _changed(self, changes) -> None:
        # Every open screen showing this order refreshes from the bus, this page too.
        self.ctx.bus.publish(changes)

    def reload(self) -> None:
        db, actor, order_id = self.ctx.db, self.ctx.actor, self.order_id

        def work(token, progress):
            return orders_service.get_order(db, actor=actor, order_id=order_id)

        self.ctx.tasks.run_db(work, on_success=self.show_detail, on_failure=self._load_failed)

    def _load_failed(self, exc: BaseException) -> None:
        """A refused or missing order says why in the page itself, never a lasting "Loading order…"."""
        if self.detail is None:
            self.heading.setText("This order could not be opened.")
            self.state.setWordWrap(True)
            self.state.setText(exc.message if isinstance(exc, UserFacingError) else
                               "Something went wrong while loading it; close this tab and try again.")
            for widget in self.findChildren(QGroupBox) + [self.lines, self.totals]:
                widget.hide()
            self.tab_title = "Order not opened"
            self.tab_tooltip = self.state.text()
            self.title_changed.emit(self.tab_title)
        if not isinstance(exc, UserFacingError):
            show_error(self, exc)
        elif self.detail is not None:
            show_error(self, exc)

    def show_detail(self, d: OrderDetail) -> None:
        self.detail = d
        self.heading.setText(f"Order {d.number} — {d.customer_name}")
        store = "on the web store" if d.on_store else "saved here, waiting to be sent to the web store"
        paid = "Paid" if d.paid_at else "Not paid yet"
        self.state.setText(f"{STATUS_LABELS.get(d.status, d.status)} · {paid} · "
                           f"{'Phone order' if d.origin == 'phone' else 'Web order'} · {store}")
        self.lines.setRowCount(len(d.lines))
        for i, line in enumerate(d.lines):
            quantity = str(line.quantity) + (f" ({line.refunded_quantity} refunded)" if line.refunded_quantity else "")
            values = (line.sku, line.name, quantity, money_text(line.unit_price, d.currency),
                      money_text(line.total, d.currency))
            for j, value in enumerate(values):
                item = QTableWidgetItem(value)
                if j >= FIRST_NUMBER_COLUMN:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if j == PRODUCT_COLUMN:
                    item.setToolTip(value)
                self.lines.setItem(i, j, item)
        self._fit_lines()
        ship = ", ".join(f"{t} {money_text(v, d.currency)}" for t, v in d.shipping) or "none"
        fees = "".join(f" · {html.escape(n)} {money_text(a, d.currency)}" for n, a in d.fees)
        tax = f" · Tax {money_text(d.tax_total, d.currency)}" if d.tax_total else ""
        discount = f" · Discount −{money_text(d.discount_total, d.currency)}" if d.discount_total else ""
        text = (f"Subtotal {money_text(d.subtotal, d.currency)} · Shipping ({html.escape(ship)}){fees}{discount}"
                f"{tax} · <b>Total {money_text(d.total, d.currency)}</b>")
        for r in d.refunds:
            why = f" ({html.escape(r.reason)})" if r.reason else ""
            lines = "".join(f"<br>&nbsp;&nbsp;{html.escape(x)}" for x in r.lines.splitlines())
            state = ""
            if r.problem:
                state = f' · <span style="color:#a33">not sent to the web store: {html.escape(r.problem)}</span>'
            elif r.waiting:
                state = ' · <span style="color:#a60">waiting to send to the web store</span>'
            text += f"<br>Refunded −{money_text(r.amount, d.currency)}{why}{state}{lines}"
        if d.refunds:
            text += (f"<br>Refunded in all {money_text(d.refunded_total, d.currency)} · "
                     f"<b>Net {money_text(d.net_total, d.currency)}</b> after refunds")
        self.totals.setText(text)
        for label, addr in ((self.billing, d.billing), (self.shipping, d.shipping_address)):
            if addr is None or not addr.lines:
                label.setText("—")
            else:
                label.setText(lines_html([*addr.lines, addr.email], phone=addr.phone))
        self.payment.setText(self._payment_text(d))
        self.tracking.setText(
            "\n".join(f"{s.carrier} {s.tracking_number}".strip() for s in d.shipments) or "Not shipped yet"
        )
        self.note.setText(d.customer_note or "—")
        self.deleted_notice.setVisible(d.status in (OrderStatus.TRASH, OrderStatus.DELETED))
        self._show_change_controls(d)
        self._show_refund_control(d)
        self.tab_title = f"Order {d.number}"
        self.tab_tooltip = self.heading.text()
        self.title_changed.emit(self.tab_title)

    @staticmethod
    def _payment_text(d: OrderDetail) -> str:
        if d.payments:
            return "\n".join(payment_sentence(p, method_title=d.payment_method_title, currency=d.currency,
                                               order_total=d.total) for p in d.payments)
        title = mask_card_numbers(d.payment_method_title.strip(), context="reference").text
        if d.paid_at:
            return f"{title} — paid" if title else "Paid"
        return f"{title} — not paid yet" if title else "Not paid yet"

    def _fit_lines(self) -> None:
        """Make the lines table as tall as its rows; when the window is short, it scrolls, keeping a few in view."""
        rows = max(self.lines.rowCount(), 1)
        row_height = self.lines.verticalHeader().defaultSectionSize()
        chrome = self.lines.horizontalHeader().sizeHint().height() + 2 * self.lines.frameWidth()
        self.lines.setMinimumHeight(chrome + row_height * min(rows, MIN_VISIBLE_LINES))
        self.lines.setMaximumHeight(chrome + row_height * rows)

    def _on_changes(self, changes) -> None:
        if self.order_id in changes.orders:
            self.reload()
