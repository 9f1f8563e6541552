"""Pack and ship one order: scan its slip's barcode, scan each item, then mark it packed and
shipped with the carrier's tracking number (a scanner typing into the field works)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backoffice.errors import NotFound, ValidationError
from backoffice.services import orders as orders_service
from backoffice.services.fulfilment import packing
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.plain_text import plain_label

GOOD = "#1b6e20"
BAD = "#b00020"


class PackPanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.check: packing.PackCheck | None = None
        self.scan = QLineEdit()
        self.scan.setObjectName("packScan")
        self.scan.setPlaceholderText("Scan a slip, then each item")
        self.heading = QLabel("No order open: scan the barcode at the top of a packing slip.")
        self.heading.setWordWrap(True)
        self.heading.setObjectName("packHeading")
        self.items = QListWidget()
        self.items.setObjectName("packItems")
        self.items.setWordWrap(True)
        self.items.itemDoubleClicked.connect(self._tick_by_hand)
        self.items.setToolTip("Double-click an item without a barcode to count it packed.")
        self.message = plain_label("")
        self.message.setObjectName("packMessage")
        self.message.setWordWrap(True)
        self.packed_button = QPushButton("Mark packed")
        self.packed_button.setObjectName("markPacked")
        self.packed_button.setEnabled(False)
        self.carrier = QComboBox()
        self.carrier.setEditable(True)
        self.carrier.addItems(list(orders_service.COMMON_CARRIERS))
        self.tracking = QLineEdit()
        self.tracking.setObjectName("shipTracking")
        self.tracking.setPlaceholderText("Scan or type the tracking number")
        self.tracking_error = plain_label("")
        self.tracking_error.setStyleSheet(f"color: {BAD}")
        self.tracking_error.setWordWrap(True)
        self.shipped_button = QPushButton("Mark shipped")
        self.shipped_button.setObjectName("markShipped")
        self.shipped_button.setEnabled(False)

        pack_box = QGroupBox("Scan to pack")
        pack = QVBoxLayout(pack_box)
        pack.addWidget(self.scan)
        pack.addWidget(self.heading)
        pack.addWidget(self.items, 1)
        pack.addWidget(self.message)
        pack.addWidget(self.packed_button)
        ship_box = QGroupBox("Ship")
        ship = QFormLayout(ship_box)
        ship.addRow("Carrier", self.carrier)
        ship.addRow("Tracking", self.tracking)
        ship.addRow(self.tracking_error)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.shipped_button)
        ship.addRow(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(pack_box, 1)
        layout.addWidget(ship_box)

        self.scan.returnPressed.connect(self._scanned)
        self.packed_button.clicked.connect(self._mark_packed)
        self.tracking.returnPressed.connect(self._mark_shipped)
        self.shipped_button.clicked.connect(self._mark_shipped)

    # --- scanning -----------------------------------------------------------------------

    def open_order(self, number: str) -> None:
        """Open an order for packing, as if its slip had been scanned."""
        ctx = self.ctx
        self.ctx.tasks.run_db(lambda token, progress: packing.open_for_packing(ctx.db, actor=ctx.actor, code=number),
                              on_success=self._opened, on_failure=self._open_failed, owner=self)

    def _scanned(self) -> None:
        code = self.scan.text().strip()
        self.scan.clear()
        if not code:
            return
        if self.check is not None:
            result = self.check.scan(code)
            if result.ok:
                self._say(result.message, GOOD)
                self._show_lines()
                return
            if "too many" in result.message:
                self._say(result.message, BAD)
                return
        # Not an item of the open order: perhaps the next slip; else a wrong item.
        self._pending_wrong = code if self.check is not None else ""
        self.open_order(code)

    def _opened(self, order: packing.PackingOrder) -> None:
        previous = self.check
        self.check = packing.PackCheck(order)
        note = ""
        if previous is not None and previous.order.id != order.id and not previous.complete():
            note = f" Order {previous.order.number} was left unfinished."
        done = f" It was packed on {order.packed_at.astimezone():%Y-%m-%d %H:%M}." if order.packed_at else ""
        self.heading.setText(f"Order {order.number} — {', '.join(order.ship_to[:1])}")
        self._say(f"Scan each item.{done}{note}", GOOD if not note else BAD)
        self._show_lines()
        self.shipped_button.setEnabled(True)
        self.tracking_error.clear()

    def _open_failed(self, exc: BaseException) -> None:
        wrong = getattr(self, "_pending_wrong", "")
        if isinstance(exc, NotFound):
            if wrong and self.check is not None:
                self._say(f"{wrong} is not in order {self.check.order.number}: take it out.", BAD)
            else:
                self._say(exc.message, BAD)
            return
        show_error(self, exc)

    def _tick_by_hand(self, item: QListWidgetItem) -> None:
        if self.check is not None:
            self.check.tick(self.items.row(item))
            self._show_lines()

    def _show_lines(self) -> None:
        check = self.check
        self.items.clear()
        if check is None:
            return
        for line, done in zip(check.order.lines, check.scanned):
            mark = "✔" if done >= line.quantity else "☐"
            options = f" ({', '.join(line.options)})" if line.options else ""
            item = QListWidgetItem(f"{mark} {done}/{line.quantity}  {line.sku or '(no SKU)'}\n      {line.name}{options}")
            if done >= line.quantity:
                item.setForeground(QColor(GOOD))
            self.items.addItem(item)
        self.packed_button.setEnabled(check.complete())
        if not check.complete():
            self.packed_button.setToolTip("Still missing: " + ", ".join(check.missing()))

    def _say(self, text: str, colour: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {colour}; font-weight: bold")

    # --- packed and shipped -------------------------------------------------------------

    def _mark_packed(self) -> None:
        check, ctx = self.check, self.ctx
        if check is None:
            return
        self.ctx.tasks.run_db(
            lambda token, progress: packing.mark_packed(ctx.db, actor=ctx.actor, order_id=check.order.id, check=check),
            on_success=self._packed, on_failure=lambda exc: show_error(self, exc), owner=self)

    def _packed(self, changes) -> None:
        self._say(f"Order {self.check.order.number} is packed. Scan its tracking number to ship it.", GOOD)
        self.packed_button.setEnabled(False)
        self.tracking.setFocus()
        self.ctx.bus.publish(changes)

    def _mark_shipped(self) -> None:
        check, ctx = self.check, self.ctx
        if check is None:
            return
        carrier, number = self.carrier.currentText(), self.tracking.text()
        self.shipped_button.setEnabled(False)
        self.ctx.tasks.run_db(
            lambda token, progress: orders_service.add_tracking(ctx.db, actor=ctx.actor, order_id=check.order.id,
                                                                carrier=carrier, tracking_number=number,
                                                                mark_completed=True),
            on_success=self._shipped, on_failure=self._ship_failed, owner=self)

    def _shipped(self, changes) -> None:
        number = self.check.order.number
        self.tracking.clear()
        self.tracking_error.clear()
        self.check = None
        self.items.clear()
        self.heading.setText(f"Order {number} is shipped and marked completed; the web store gets the tracking "
                             "number with the next sync. Scan the next slip.")
        self._say("", GOOD)
        self.packed_button.setEnabled(False)
        self.scan.setFocus()
        self.ctx.bus.publish(changes)

    def _ship_failed(self, exc: BaseException) -> None:
        self.shipped_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.tracking_error.setText(exc.fields.get("tracking_number") or exc.fields.get("carrier")
                                        or exc.message)
            self.tracking.setFocus()
            return
        show_error(self, exc)

    def focus_scan(self) -> None:
        self.scan.setFocus(Qt.FocusReason.OtherFocusReason)
