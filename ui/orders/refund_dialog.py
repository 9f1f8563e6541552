"""Record a refund on one order: the amount (filled in from the lines chosen), the reason, and
which lines and how many; each problem is said under its field, and nothing is kept until the
service takes it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.errors import ConflictError, ValidationError
from backoffice.services import refunds as refunds_service
from backoffice.services.orders import OrderDetail
from backoffice.services.refunds import RefundLine
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.guarded_line_edit import GuardedLineEdit
from ui.orders.orders_screen import money_text

LINE_HEADERS = ("Product", "Ordered", "Refunded before", "Refund")
REFUND_COLUMN = 3
MONEY_BACK_NOTE = ("This records the refund here and on the web store; the store does not pay it back "
                   "by itself. Give the money back as the shop does (the card terminal, PayPal, a bank transfer).")


def _error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #a33;")
    label.hide()
    return label


class RefundDialog(QDialog):
    """Asks what to refund on `detail`'s order; accepted once the refund is saved here."""

    def __init__(self, ctx: AppContext, detail: OrderDetail, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail = detail
        self.changes = None
        self.setWindowTitle(f"Refund order {detail.number}")
        self.setObjectName("refundDialog")
        self.setMinimumWidth(560)
        paid = detail.refundable + detail.refunded_total
        summary = QLabel(f"Order {detail.number} — {detail.customer_name}<br>"
                         f"Paid {money_text(paid, detail.currency)} · refunded before "
                         f"{money_text(detail.refunded_total, detail.currency)} · <b>up to "
                         f"{money_text(detail.refundable, detail.currency)} may be refunded</b>")
        summary.setTextFormat(Qt.TextFormat.RichText)
        summary.setWordWrap(True)
        summary.setObjectName("refundSummary")

        # Lines with something left to refund; each spin box counts how many go back.
        self.spins: dict[int, QSpinBox] = {}
        refundable_lines = [l for l in detail.lines if l.quantity - l.refunded_quantity > 0 and l.id]
        self.lines = QTableWidget(len(refundable_lines), len(LINE_HEADERS))
        self.lines.setObjectName("refundLines")
        self.lines.setHorizontalHeaderLabels(list(LINE_HEADERS))
        self.lines.verticalHeader().hide()
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.lines.horizontalHeader()
        for column in range(len(LINE_HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Room for the count and its arrows.
        header.setSectionResizeMode(REFUND_COLUMN, QHeaderView.ResizeMode.Fixed)
        self.lines.setColumnWidth(REFUND_COLUMN, 90)
        for row, line in enumerate(refundable_lines):
            name = QTableWidgetItem(f"{line.name} ({money_text(line.unit_price, detail.currency)} each)")
            name.setToolTip(name.text())
            self.lines.setItem(row, 0, name)
            for column, value in ((1, line.quantity), (2, line.refunded_quantity)):
                item = QTableWidgetItem(str(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.lines.setItem(row, column, item)
            spin = QSpinBox()
            spin.setRange(0, line.quantity - line.refunded_quantity)
            spin.setAccessibleName(f"How many of {line.name} to refund")
            spin.valueChanged.connect(self._lines_changed)
            self.lines.setCellWidget(row, REFUND_COLUMN, spin)
            self.spins[line.id] = spin
        rows = max(len(refundable_lines), 1)
        row_height = self.lines.verticalHeader().defaultSectionSize()
        chrome = self.lines.horizontalHeader().sizeHint().height() + 2 * self.lines.frameWidth()
        self.lines.setFixedHeight(chrome + row_height * min(rows, 5))
        self.lines.setVisible(bool(refundable_lines))
        self.lines_error = _error_label("refundLinesError")

        self.amount = QLineEdit()
        self.amount.setObjectName("refundAmount")
        self.amount.setPlaceholderText(f"Up to {detail.refundable}")
        self.amount.setMaxLength(14)
        self.amount.textEdited.connect(lambda _t: self.amount_error.hide())
        self.amount_error = _error_label("refundAmountError")
        self.reason = GuardedLineEdit("the reason")
        self.reason.setObjectName("refundReason")
        self.reason.setPlaceholderText("Why does the money go back? (kept with the refund on the web store)")
        self.reason.setMaxLength(refunds_service.REASON_MAX)
        self.reason.textEdited.connect(lambda _t: self.reason_error.hide())
        self.reason_error = _error_label("refundReasonError")

        form = QFormLayout()
        amount_cell = QWidget()
        amount_layout = QVBoxLayout(amount_cell)
        amount_layout.setContentsMargins(0, 0, 0, 0)
        amount_layout.addWidget(self.amount)
        amount_layout.addWidget(self.amount_error)
        form.addRow(f"&Amount ({detail.currency}):", amount_cell)
        reason_cell = QWidget()
        reason_layout = QVBoxLayout(reason_cell)
        reason_layout.setContentsMargins(0, 0, 0, 0)
        reason_layout.addWidget(self.reason)
        reason_layout.addWidget(self.reason.notice)
        reason_layout.addWidget(self.reason_error)
        form.addRow("&Reason:", reason_cell)

        note = QLabel(MONEY_BACK_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        note.setObjectName("refundMoneyNote")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.refund_button = self.buttons.addButton("Record &refund", QDialogButtonBox.ButtonRole.AcceptRole)
        self.refund_button.setObjectName("recordRefundButton")
        # Return in a field records the refund; only a click on Cancel (or Escape) cancels.
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.refund_button.setAutoDefault(True)
        self.refund_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        # A problem said under a field makes room for itself instead of squeezing the others.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(summary)
        if refundable_lines:
            layout.addWidget(QLabel("Which items come back (optional; the amount follows them):"))
            layout.addWidget(self.lines)
        layout.addWidget(self.lines_error)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        (self.amount if not refundable_lines else self.spins[refundable_lines[0].id]).setFocus()

    def chosen_lines(self) -> list[RefundLine]:
        return [RefundLine(line_id, spin.value()) for line_id, spin in self.spins.items() if spin.value()]

    def _lines_changed(self) -> None:
        self.lines_error.hide()
        self.amount_error.hide()
        prices = {l.id: l.unit_price for l in self.detail.lines}
        total = sum((prices[x.line_id] * x.quantity for x in self.chosen_lines()), Decimal("0.00"))
        # The items' worth, never past what may be refunded; any other amount may be typed.
        self.amount.setText(str(min(total, self.detail.refundable)) if total else "")

    def submit(self) -> None:
        if not self.refund_button.isEnabled():
            return
        for label in (self.amount_error, self.reason_error, self.lines_error):
            label.hide()
        text = self.amount.text().strip()
        try:
            amount = Decimal(text) if text else ""
        except InvalidOperation:
            amount = text
        ctx, order_id, version = self.ctx, self.detail.id, self.detail.version
        reason, lines = self.reason.text(), self.chosen_lines()
        self.refund_button.setEnabled(False)

        def work(token, progress):
            return refunds_service.record_refund(ctx.db, actor=ctx.actor, order_id=order_id, amount=amount,
                                                 reason=reason, lines=lines, expected_version=version)

        ctx.tasks.run_db(work, on_success=self._saved, on_failure=self._failed, owner=self)

    def _make_room(self) -> None:
        """Let each problem shown take the lines it needs (a form row does not grow by itself)."""
        for label, width in ((self.amount_error, self.amount.width()), (self.reason_error, self.reason.width()),
                             (self.lines_error, self.lines.width())):
            label.setMinimumHeight(label.heightForWidth(width) if label.isVisibleTo(self) else 0)
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def _saved(self, changes) -> None:
        self.changes = changes
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.refund_button.setEnabled(True)
        if isinstance(exc, ValidationError) and exc.fields:
            for name, label, field in (("amount", self.amount_error, self.amount),
                                       ("reason", self.reason_error, self.reason),
                                       ("lines", self.lines_error, None)):
                if name in exc.fields:
                    label.setText(exc.fields[name])
                    label.show()
                    if field is not None:
                        field.setFocus()
            self._make_room()
        elif isinstance(exc, ConflictError):
            show_error(self, exc)
            self.reject()
        else:
            show_error(self, exc)
