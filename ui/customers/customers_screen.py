"""Find a customer as the phone rings: one search box answering as you type, and the customers list."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import CustomerStatus
from backoffice.domain.staff import Permission
from backoffice.services import customers as customers_service
from backoffice.services.customers import CustomerHit
from ui.calls.dial import add_call_menu
from ui.common.context import AppContext
from ui.customers.customers_table_model import STATUS_LABELS, CustomersTableModel
from ui.customers.duplicates_dialog import DuplicatesDialog
from ui.common.errors import show_error
from ui.common.plain_text import plain_label

SEARCH_DELAY_MS = 120
MATCH_WORDS = {
    "phone": "phone", "email": "email", "order": "order number", "name": "name",
    "company": "company", "postcode": "postcode", "text": "part of a word",
}


def follow_shift(table: QTableView, first: int, last: int, by: int) -> None:
    """Rows `first` to `last`, shown about where they are before the list's layout was in,
    are at their exact places `by` rows on (`CustomersTableModel.shifted`): the view follows
    them, so the same customers stay in view, and the one selected among them stays selected."""
    if not by:
        return
    if first <= table.rowAt(0) <= last:
        bar = table.verticalScrollBar()
        per_pixel = table.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerPixel
        bar.setValue(bar.value() + by * (table.verticalHeader().defaultSectionSize() if per_pixel else 1))
    current = table.currentIndex()
    if current.isValid() and first <= current.row() <= last:
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        table.selectionModel().setCurrentIndex(table.model().index(current.row() + by, current.column()), flags)


class CustomersScreen(QWidget):
    """The search box on top (focused by default and by Ctrl+F), results under it as you
    type, and the whole customers list below, sortable and filtered."""

    title = "Customers"
    permission = Permission.FIND_CUSTOMERS

    customer_opened = Signal(int)
    search_finished = Signal(str, int)  # the query answered, how many hits

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._hits: list[CustomerHit] = []
        self._search_generation = 0
        self._searching = False
        self._open_when_answered = False
        self._answered_query = ""

        self.search = QLineEdit()
        self.search.setObjectName("customerSearch")
        self.search.setPlaceholderText(
            "Name, phone (or its last digits), email, postcode, order number or company")
        self.search.setClearButtonEnabled(True)
        self.search.installEventFilter(self)
        self.search_state = plain_label("")
        self.search_state.setObjectName("searchState")
        self.search_state.hide()

        self.results = QTableWidget(0, 5)
        self.results.setObjectName("searchResults")
        self.results.setHorizontalHeaderLabels(["Name", "Phone", "Email", "Postcode", "Found by"])
        self.results.verticalHeader().hide()
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.horizontalHeader().setStretchLastSection(True)
        self.results.setWordWrap(False)
        self.results.verticalHeader().setDefaultSectionSize(self.results.fontMetrics().height() + 8)
        self.results.setMaximumHeight(260)
        self.results.hide()
        self.results.activated.connect(lambda index: self._open_hit(index.row()))
        self.results.doubleClicked.connect(lambda index: self._open_hit(index.row()))
        add_call_menu(self.results, ctx, phone_column=1,
                      customer_of_row=lambda row: self._hits[row].id if 0 <= row < len(self._hits) else None)

        self.status_filter = QComboBox()
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.addItem("All statuses", None)
        for status, label in STATUS_LABELS.items():
            self.status_filter.addItem(label, status)
        self.list_filter = QComboBox()
        self.list_filter.setObjectName("listFilter")
        self.list_filter.addItem("Any newsletter list", None)
        # The lists' names come after it is shown: it widens to show them whole, up to a point
        # (a very long name is cut rather than pushing the buttons beside it off a small screen).
        self.list_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.list_filter.setMaximumWidth(self.list_filter.fontMetrics().averageCharWidth() * 48)
        self.request_filter = QComboBox()
        self.request_filter.setObjectName("requestFilter")
        self.request_filter.addItem("With or without privacy requests", None)
        self.request_filter.addItem("With an open privacy request", True)
        self.request_filter.addItem("Without an open privacy request", False)
        self.count_label = QLabel("")
        self.count_label.setObjectName("customerCount")
        self.import_button = QPushButton("Import from CSV…")
        self.import_button.setObjectName("importCustomersButton")
        self.import_button.setEnabled(ctx.may(Permission.EDIT_CUSTOMER))
        self.import_button.setToolTip("Add customers from a spreadsheet saved as CSV" if ctx.may(
            Permission.EDIT_CUSTOMER) else "Your role may not add customers.")
        self.import_button.clicked.connect(self.open_import)
        self.duplicates_button = QPushButton("Possible duplicates…")
        self.duplicates_button.setObjectName("duplicatesButton")
        self.duplicates_button.setVisible(ctx.may(Permission.MERGE_CUSTOMERS))
        self.duplicates_button.clicked.connect(self.open_duplicates)

        self.model = CustomersTableModel(ctx.tasks, ctx.db, ctx.actor, parent=self)
        self.table = QTableView()
        self.table.setObjectName("customersTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        # Name and email share the spare width; the short columns fit their usual content and
        # their whole title, with room for the sort arrow.
        em = self.table.fontMetrics().horizontalAdvance("M")
        for column, width in ((1, 14), (3, 12), (4, 8), (5, 9)):
            self.table.setColumnWidth(column, max(width * em, header.sectionSizeHint(column)))
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.activated.connect(self._open_row)
        self.table.doubleClicked.connect(self._open_row)

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:"))
        filters.addWidget(self.status_filter)
        filters.addWidget(self.list_filter)
        filters.addWidget(self.request_filter)
        filters.addStretch(1)
        filters.addWidget(self.count_label)
        filters.addWidget(self.duplicates_button)
        filters.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.search_state)
        layout.addWidget(self.results)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._start_search)
        self.search.textChanged.connect(self._text_changed)
        for combo in (self.status_filter, self.list_filter, self.request_filter):
            combo.currentIndexChanged.connect(self._filters_changed)
        self.model.page_loaded.connect(self._page_loaded)
        self.model.counted.connect(self._counted)
        self.model.shifted.connect(self._shifted)
        self.model.load_failed.connect(self._load_failed)
        ctx.bus.changed.connect(self._on_changes)
        self._watching = True

        self.setFocusProxy(self.search)
        self.count_label.setText("Counting…")
        self.model.set_query(filters=self._filters())
        self._load_lists()

    def stop_watching(self) -> None:
        """Stop searching and listening for changes (the screen is closing)."""
        self._timer.stop()
        self._search_generation += 1
        self._open_when_answered = False
        if self._watching:
            self._watching = False
            self.ctx.bus.changed.disconnect(self._on_changes)

    def closeEvent(self, event) -> None:
        self.stop_watching()
        super().closeEvent(event)

    # --- keyboard -------------------------------------------------------------------------

    def focus_default(self) -> None:
        """Put the cursor in the search box, its text selected, ready for the next caller."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def event(self, event: QEvent) -> bool:
        # Take Ctrl+F while focus is anywhere in this screen, so it reaches keyPressEvent
        # even when a window-wide action uses the same keys.
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(QKeySequence.StandardKey.Find):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Find):
            self.focus_default()
            return
        super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                self._move_selection(key)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._enter()
                return True
            if key == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)

    def _move_selection(self, key: int) -> None:
        count = self.results.rowCount()
        if not count:
            return
        step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 5, Qt.Key.Key_PageUp: -5}[key]
        current = self.results.currentRow()
        row = 0 if current < 0 and step > 0 else max(0, min(count - 1, current + step))
        self.results.selectRow(row)

    def _enter(self) -> None:
        if self._timer.isActive() or self._searching or self._answered_query != self.search.text():
            # The answer to what is typed now is not in yet: open its best hit when it is.
            self._open_when_answered = True
            if self._timer.isActive():
                self._timer.stop()
                self._start_search()
            return
        row = self.results.currentRow()
        self._open_hit(row if row >= 0 else 0)

    # --- searching as you type --------------------------------------------------------------

    def _text_changed(self, text: str) -> None:
        self._open_when_answered = False
        if not text.strip():
            self._timer.stop()
            self._search_generation += 1  # drop anything still on its way
            self._searching = False
            self._answered_query = text
            self._show_hits(text, [])
            return
        self._timer.start()

    def _start_search(self) -> None:
        query = self.search.text()
        self._search_generation += 1
        generation = self._search_generation
        self._searching = True
        db, actor = self.ctx.db, self.ctx.actor

        def work(token, progress):
            return customers_service.search_customers(db, actor=actor, query=query)

        def done(hits: list[CustomerHit]) -> None:
            if generation != self._search_generation or not shiboken6.isValid(self.results):
                return  # a newer keystroke has its own search, or the screen is gone
            self._searching = False
            self._answered_query = query
            self._show_hits(query, hits)
            if self._open_when_answered:
                self._open_when_answered = False
                if hits:
                    self._open_hit(max(0, self.results.currentRow()))

        def failed(exc: BaseException) -> None:
            if generation != self._search_generation:
                return
            self._searching = False
            self._open_when_answered = False
            show_error(self, exc)

        self.ctx.tasks.run_db(work, on_success=done, on_failure=failed)

    def _show_hits(self, query: str, hits: list[CustomerHit]) -> None:
        self._hits = list(hits)
        self.results.setRowCount(len(hits))
        for row, hit in enumerate(hits):
            place = " ".join(p for p in (hit.postcode, hit.city) if p)
            status = "" if hit.status is CustomerStatus.ACTIVE else f" ({STATUS_LABELS[hit.status]})"
            found = MATCH_WORDS.get(hit.match, hit.match)
            if hit.exact:
                found = f"{found}, exactly"
            cells = (hit.name + status + (f" · {hit.company}" if hit.company and hit.company != hit.name else ""),
                     hit.phone, hit.email, place, found)
            for col, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, hit.id)
                self.results.setItem(row, col, item)
        if hits:
            self.results.resizeColumnsToContents()
            self.results.selectRow(0)
        self.results.setVisible(bool(query.strip()))
        if not query.strip():
            self.search_state.setText("")
        elif hits:
            self.search_state.setText("Enter opens the selected customer; the arrow keys move.")
        else:
            self.search_state.setText(f"No customer matches “{query.strip()}”.")
        self.search_state.setVisible(bool(self.search_state.text()))  # no empty line above the list
        self.search_finished.emit(query, len(hits))

    def hits(self) -> list[CustomerHit]:
        return list(self._hits)

    def _open_hit(self, row: int) -> None:
        if 0 <= row < len(self._hits):
            self.customer_opened.emit(self._hits[row].id)

    # --- the customers list ------------------------------------------------------------------

    def _filters(self) -> dict:
        return {
            "status": self.status_filter.currentData(),
            "list_id": self.list_filter.currentData(),
            "has_open_request": self.request_filter.currentData(),
        }

    def _filters_changed(self) -> None:
        self.count_label.setText("Counting…")
        self.model.set_query(filters=self._filters())

    def _counted(self, total: int) -> None:
        self.count_label.setText(f"{total:,} customer" + ("" if total == 1 else "s"))

    def _shifted(self, first: int, last: int, by: int) -> None:
        follow_shift(self.table, first, last, by)

    def _load_failed(self, exc) -> None:
        self.count_label.setText("")
        show_error(self, exc)

    def _load_lists(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor

        def done(options) -> None:
            chosen = self.list_filter.currentData()
            self.list_filter.blockSignals(True)
            while self.list_filter.count() > 1:
                self.list_filter.removeItem(1)
            for option in options:
                self.list_filter.addItem(f"On “{option.name}”", option.id)
            self.list_filter.setCurrentIndex(max(0, self.list_filter.findData(chosen)))
            self.list_filter.blockSignals(False)

        self.ctx.tasks.run_db(
            lambda token, progress: customers_service.newsletter_list_options(db, actor=actor),
            on_success=done, on_failure=lambda exc: None)

    def open_import(self):
        """Open the CSV import dialog (imported customers reach this list through the change bus)."""
        # Imported here, not at the top: the import reads the phone library's country data
        # (about half a second), which the window does not need to open.
        from ui.customers.customer_import_dialog import CustomerImportDialog

        dialog = CustomerImportDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_duplicates(self):
        """List the customers who may be one person; opening one shows their page, where they are merged."""
        dialog = DuplicatesDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.customer_opened.connect(self.customer_opened)
        dialog.open()
        return dialog

    def _page_loaded(self, rows: int) -> None:
        column, order = self.model.sort_column()
        header = self.table.horizontalHeader()
        if header.sortIndicatorSection() != column or header.sortIndicatorOrder() != order:
            header.blockSignals(True)
            header.setSortIndicator(column, order)
            header.blockSignals(False)

    def _open_row(self, index) -> None:
        row = self.model.row_at(index.row()) if index.isValid() else None
        if row is not None:  # a row still loading opens nothing
            self.customer_opened.emit(row.id)

    def _on_changes(self, changes) -> None:
        if changes.lists:
            self._load_lists()
        if changes.customers:
            self.model.refresh()
            if self.search.text().strip():
                self._start_search()
