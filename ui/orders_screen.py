"""The orders screen: newest first, filter by status, open an order's page."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import OrderStatus
from backoffice.domain.staff import Permission
from backoffice.services import orders as orders_service
from ui.context import AppContext
from ui.errors import show_error
from ui.paged_table_model import Column, PagedTableModel

STATUS_LABELS = {
    OrderStatus.PENDING: "Pending payment",
    OrderStatus.PROCESSING: "Processing",
    OrderStatus.ON_HOLD: "On hold",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REFUNDED: "Refunded",
    OrderStatus.FAILED: "Failed",
    OrderStatus.DRAFT: "Draft",
    OrderStatus.TRASH: "Deleted on the web store",
    OrderStatus.DELETED: "Deleted for good on the web store",
}


def money_text(amount, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


ORDER_COLUMNS = (
    Column("Order", lambda r: r.number),
    Column("Date", lambda r: r.created_at.astimezone().strftime("%Y-%m-%d %H:%M")),
    Column("Customer", lambda r: r.customer_name),
    Column("Status", lambda r: STATUS_LABELS.get(r.status, r.status)),
    Column("Paid", lambda r: "Paid" if r.paid else ""),
    Column("From", lambda r: "Phone" if r.origin == "phone" else "Web"),
    Column("Total", lambda r: money_text(r.total, r.currency), align_right=True),
)


CUSTOMER_COLUMN = 2


class OrdersScreen(QWidget):
    title = "Orders"
    permission = Permission.VIEW_OWN_ORDERS

    order_opened = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("orderStatusFilter")
        self.status_filter.addItem("All statuses", None)
        for status, label in STATUS_LABELS.items():
            if status is not OrderStatus.DRAFT:
                self.status_filter.addItem(label, status)
        self.count_label = QLabel("")
        self.model = PagedTableModel(ctx.tasks, ORDER_COLUMNS, parent=self)
        self.table = QTableView()
        self.table.setObjectName("ordersTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(CUSTOMER_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self._sized = False
        self.table.setAlternatingRowColors(True)
        self.table.activated.connect(self._open)
        self.table.doubleClicked.connect(self._open)

        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.status_filter)
        top.addStretch(1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)

        self.status_filter.currentIndexChanged.connect(self.reload)
        self.model.page_loaded.connect(self._loaded)
        self.model.load_failed.connect(lambda exc: show_error(self, exc))
        ctx.bus.changed.connect(self._on_changes)
        self.reload()

    def reload(self) -> None:
        status = self.status_filter.currentData()
        fetch = partial(self._fetch, status)
        self.model.reset_query(fetch)

    def _fetch(self, status, after):
        return orders_service.list_orders_page(self.ctx.db, actor=self.ctx.actor, after=after, status=status)

    def _loaded(self, n: int) -> None:
        more = "" if not self.model.canFetchMore() else "+"
        self.count_label.setText(f"{n}{more} orders shown")
        if not self._sized and n:
            # Fit the columns to the first page once; later pages keep the widths.
            self._sized = True
            for col in range(self.model.columnCount()):
                if col != CUSTOMER_COLUMN:
                    self.table.resizeColumnToContents(col)
                    self.table.setColumnWidth(col, self.table.columnWidth(col) + 16)

    def _open(self, index) -> None:
        if index.isValid():
            self.order_opened.emit(self.model.row_at(index.row()).id)

    def _on_changes(self, changes) -> None:
        if changes.orders:
            self.reload()
