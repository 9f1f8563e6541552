"""One order's page: lines, totals, addresses, payment reference, store state and tracking."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.cards import mask_card_numbers
from backoffice.domain.enums import PaymentMethod, PaymentStatus
from backoffice.services import orders as orders_service
from backoffice.services.orders import OrderDetail, PaymentView
from backoffice.services.phone_orders import METHOD_LABELS
from ui.context import AppContext
from ui.errors import show_error
from ui.orders_screen import STATUS_LABELS, money_text

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
        self.heading = QLabel("Loading order…")
        self.heading.setObjectName("orderHeading")
        self.heading.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.state = QLabel("")
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
        self.payment = QLabel("")
        self.payment.setObjectName("orderPayment")
        self.payment.setWordWrap(True)
        self.payment.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tracking = QLabel("")
        self.tracking.setObjectName("orderTracking")
        self.note = QLabel("")
        self.note.setWordWrap(True)

        addresses = QHBoxLayout()
        for title, label in (("Billing", self.billing), ("Shipping", self.shipping)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(label)
            # Both addresses start at the top of their boxes, however many lines each has.
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            addresses.addWidget(box, 1)
        pay_box = QGroupBox("Payment and delivery")
        form = QFormLayout(pay_box)
        form.addRow("Payment:", self.payment)
        form.addRow("Tracking:", self.tracking)
        form.addRow("Customer note:", self.note)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.state)
        # The lines take the height they need (up to the room there is); what is left
        # goes below the boxes, so a short order does not push them to the bottom.
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.totals)
        layout.addLayout(addresses)
        layout.addWidget(pay_box)
        layout.addStretch(0)
        self._fit_lines()
        ctx.bus.changed.connect(self._on_changes)
        self.reload()

    def reload(self) -> None:
        # The work takes plain values, never this page, so the page is not kept by a pool thread.
        db, actor, order_id = self.ctx.db, self.ctx.actor, self.order_id

        def work(token, progress):
            return orders_service.get_order(db, actor=actor, order_id=order_id)

        # Hold the token so the last reference to it goes on this thread: freed on a pool
        # thread, it drops its link to this page there, which can deadlock with the GUI thread.
        self._load_token = self.ctx.tasks.run_db(work, on_success=self.show_detail,
                                                 on_failure=lambda e: show_error(self, e))

    def show_detail(self, d: OrderDetail) -> None:
        self.detail = d
        self.heading.setText(f"Order {d.number} — {d.customer_name}")
        store = "on the web store" if d.on_store else "saved here, waiting to be sent to the web store"
        paid = "Paid" if d.paid_at else "Not paid yet"
        self.state.setText(f"{STATUS_LABELS.get(d.status, d.status)} · {paid} · "
                           f"{'Phone order' if d.origin == 'phone' else 'Web order'} · {store}")
        self.lines.setRowCount(len(d.lines))
        for i, line in enumerate(d.lines):
            values = (line.sku, line.name, str(line.quantity), money_text(line.unit_price, d.currency),
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
        self.totals.setText(
            f"Subtotal {money_text(d.subtotal, d.currency)} · Shipping ({ship}) · "
            f"<b>Total {money_text(d.total, d.currency)}</b>"
        )
        for label, addr in ((self.billing, d.billing), (self.shipping, d.shipping_address)):
            if addr is None or not addr.lines:
                label.setText("—")
            else:
                extra = [x for x in (addr.phone, addr.email) if x]
                label.setText("\n".join([*addr.lines, *extra]))
        self.payment.setText(self._payment_text(d))
        self.tracking.setText(
            "\n".join(f"{s.carrier} {s.tracking_number}".strip() for s in d.shipments) or "Not shipped yet"
        )
        self.note.setText(d.customer_note or "—")
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
