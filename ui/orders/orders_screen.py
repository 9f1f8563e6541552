"""The orders screen: newest first; search by order number, customer, email or phone; filter by
status, paid, origin, who took it, dates and printed; counted; open an order's page."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import OrderStatus
from backoffice.domain.staff import Permission
from backoffice.services import orders as orders_service
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.paged_table_model import Column, PagedTableModel

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
    Column("Slip", lambda r: "Printed" if r.printed else ""),
    Column("Total", lambda r: money_text(r.total, r.currency), align_right=True),
)


def _combo(name: str, items) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    for label, value in items:
        box.addItem(label, value)
    return box


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
        self.search = QLineEdit()
        self.search.setObjectName("orderSearch")
        self.search.setPlaceholderText("Order number, customer, email or phone")
        self.search.setClearButtonEnabled(True)
        self.paid_filter = _combo("orderPaidFilter", (("Paid or not", None), ("Paid", True), ("Not paid", False)))
        self.origin_filter = _combo("orderOriginFilter", (("Web and phone", None), ("Web", "web"),
                                                          ("Phone", "phone")))
        self.taken_by_filter = _combo("orderTakenByFilter", (("Taken by anyone", None),))
        self.printed_filter = _combo("orderPrintedFilter", (("Printed or not", None), ("Slip printed", True),
                                                            ("Slip not printed", False)))
        self.dates = QCheckBox("From")
        self.date_from = QDateEdit(QDate.currentDate().addDays(-30))
        self.date_to = QDateEdit(QDate.currentDate())
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            edit.setToolTip("Tick From to list only the orders between these two days.")
        self.count_label = QLabel("")
        self.count_label.setObjectName("orderCount")
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
        top.addWidget(self.search, 2)
        top.addWidget(self.status_filter)
        top.addWidget(self.paid_filter)
        top.addWidget(self.printed_filter)
        filters = QHBoxLayout()
        filters.addWidget(self.origin_filter)
        filters.addWidget(self.taken_by_filter)
        filters.addWidget(self.dates)
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.date_to)
        filters.addStretch(1)
        filters.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table)

        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(250)
        self._typing.timeout.connect(self.reload)
        self.search.textChanged.connect(self._typing.start)
        self.dates.toggled.connect(self.date_from.setEnabled)
        self.dates.toggled.connect(self.date_to.setEnabled)
        for box in (self.status_filter, self.paid_filter, self.origin_filter, self.taken_by_filter,
                    self.printed_filter):
            box.currentIndexChanged.connect(self.reload)
        for signal in (self.dates.toggled, self.date_from.dateChanged, self.date_to.dateChanged):
            signal.connect(self.reload)
        self.model.page_loaded.connect(self._loaded)
        self.model.load_failed.connect(lambda exc: show_error(self, exc))
        ctx.bus.changed.connect(self._on_changes)
        ctx.tasks.run_db(lambda token, progress: orders_service.order_takers(ctx.db, actor=ctx.actor),
                         on_success=self._takers, on_failure=lambda exc: None, owner=self)
        self.reload()

    def _takers(self, takers) -> None:
        for taker in takers:
            self.taken_by_filter.addItem(f"Taken by {taker.name}", taker.id)

    def filters(self) -> orders_service.OrderFilters:
        dates = self.dates.isChecked()
        return orders_service.OrderFilters(
            status=self.status_filter.currentData(),
            search=self.search.text(),
            paid=self.paid_filter.currentData(),
            origin=self.origin_filter.currentData(),
            taken_by=self.taken_by_filter.currentData(),
            printed=self.printed_filter.currentData(),
            date_from=self.date_from.date().toPython() if dates else None,
            date_to=self.date_to.date().toPython() if dates else None,
        )

    def reload(self) -> None:
        filters = self.filters()
        self.model.reset_query(partial(self._fetch, filters))
        ctx = self.ctx
        self.count_label.setText("Counting…")
        ctx.tasks.run_db(lambda token, progress: orders_service.count_orders(ctx.db, actor=ctx.actor, filters=filters),
                         on_success=partial(self._counted, filters), on_failure=lambda exc: None, owner=self)

    def _fetch(self, filters, after):
        return orders_service.list_orders_page(self.ctx.db, actor=self.ctx.actor, after=after, filters=filters)

    def _counted(self, filters, n: int) -> None:
        if filters == self.filters():
            self.count_label.setText(f"{n:,} order{'' if n == 1 else 's'}")

    def _loaded(self, n: int) -> None:
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
