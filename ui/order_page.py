"""One order's page: lines, totals, addresses, payment reference, store state and tracking."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.services import orders as orders_service
from backoffice.services.orders import OrderDetail
from ui.context import AppContext
from ui.errors import show_error
from ui.orders_screen import STATUS_LABELS, money_text


class OrderPage(QWidget):
    title = "Order"

    def __init__(self, ctx: AppContext, order_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.order_id = order_id
        self.detail: OrderDetail | None = None
        self.heading = QLabel("Loading order…")
        self.heading.setObjectName("orderHeading")
        self.heading.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.state = QLabel("")
        self.state.setObjectName("orderState")
        self.lines = QTableWidget(0, 4)
        self.lines.setHorizontalHeaderLabels(["SKU", "Product", "Qty", "Total"])
        self.lines.verticalHeader().hide()
        self.lines.horizontalHeader().setStretchLastSection(True)
        self.totals = QLabel("")
        self.totals.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.billing = QLabel("")
        self.shipping = QLabel("")
        self.payment = QLabel("")
        self.payment.setObjectName("orderPayment")
        self.payment.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tracking = QLabel("")
        self.tracking.setObjectName("orderTracking")
        self.note = QLabel("")
        self.note.setWordWrap(True)

        addresses = QHBoxLayout()
        for title, label in (("Billing", self.billing), ("Shipping", self.shipping)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(label)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            addresses.addWidget(box)
        pay_box = QGroupBox("Payment and delivery")
        form = QFormLayout(pay_box)
        form.addRow("Payment:", self.payment)
        form.addRow("Tracking:", self.tracking)
        form.addRow("Customer note:", self.note)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.state)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.totals)
        layout.addLayout(addresses)
        layout.addWidget(pay_box)
        ctx.bus.changed.connect(self._on_changes)
        self.reload()

    def reload(self) -> None:
        def work(token, progress):
            return orders_service.get_order(self.ctx.db, actor=self.ctx.actor, order_id=self.order_id)

        self.ctx.tasks.run_db(work, on_success=self.show_detail, on_failure=lambda e: show_error(self, e))

    def show_detail(self, d: OrderDetail) -> None:
        self.detail = d
        self.heading.setText(f"Order {d.number} — {d.customer_name}")
        store = "on the web store" if d.on_store else "saved here, waiting to be sent to the web store"
        paid = "Paid" if d.paid_at else "Not paid yet"
        self.state.setText(f"{STATUS_LABELS.get(d.status, d.status)} · {paid} · "
                           f"{'Phone order' if d.origin == 'phone' else 'Web order'} · {store}")
        self.lines.setRowCount(len(d.lines))
        for i, line in enumerate(d.lines):
            for j, value in enumerate((line.sku, line.name, str(line.quantity), money_text(line.total, d.currency))):
                item = QTableWidgetItem(value)
                if j >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.lines.setItem(i, j, item)
        self.lines.resizeColumnsToContents()
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
        if d.payments:
            texts = []
            for p in d.payments:
                card = f"{p.card_brand} ending {p.card_last4}" if p.card_last4 else ""
                parts = [p.method.replace("_", " "), p.status, p.gateway, card,
                         f"transaction {p.transaction_id}" if p.transaction_id else "",
                         f"auth {p.auth_code}" if p.auth_code else ""]
                texts.append(" · ".join(x for x in parts if x))
            self.payment.setText("\n".join(texts))
        else:
            self.payment.setText(d.payment_method_title or "—")
        self.tracking.setText(
            "\n".join(f"{s.carrier} {s.tracking_number}".strip() for s in d.shipments) or "Not shipped yet"
        )
        self.note.setText(d.customer_note or "—")

    def _on_changes(self, changes) -> None:
        if self.order_id in changes.orders:
            self.reload()
