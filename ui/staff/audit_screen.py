"""The owner's audit trail screen: who did what, filtered, paged, and the chain's check."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.staff import Permission
from backoffice.errors import UserFacingError
from backoffice.services import audit
from backoffice.services import customers as customer_service
from backoffice.services import staff as staff_service
from ui.staff.audit_table_model import AuditTableModel
from ui.common.context import AppContext
from ui.common.errors import show_error

_NO_DATE = QDate(2000, 1, 1)
_OK_STYLE = "color: #1b5e20;"
_BAD_STYLE = "color: #b3261e; font-weight: bold;"


def _local_midnight(day: QDate) -> datetime:
    """The start of `day` on this desk's clock, as an aware datetime."""
    return datetime.combine(day.toPython(), time()).astimezone()


class AuditScreen(QWidget):
    """Filters (staff, customer, action, dates), the events newest first, and "Verify chain".

    The customer is picked by name or email from the suggestions as one types; a typed
    customer number works too (for erased customers, whom search no longer finds)."""

    title = "Audit trail"
    permission = Permission.READ_AUDIT

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditScreen")
        self.ctx = ctx

        self.staff_combo = QComboBox()
        self.staff_combo.setObjectName("staffFilter")
        self.staff_combo.addItem("Everyone", None)
        self.customer_edit = QLineEdit()
        self.customer_edit.setObjectName("customerFilter")
        self.customer_edit.setPlaceholderText("Name, email or number")
        self.customer_edit.setToolTip("Type a customer's name or email and pick them from the list, "
                                      "or type a customer number.")
        self.customer_edit.setClearButtonEnabled(True)
        self.customer_edit.setMinimumWidth(160)
        self.customer_edit.setMaximumWidth(240)
        # Suggestions from the customer search; the picked one's id is the filter.
        self._picked: tuple[str, int] | None = None
        self._suggestions = QStandardItemModel(self)
        self.customer_completer = QCompleter(self._suggestions, self)
        self.customer_completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.customer_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.customer_edit.setCompleter(self.customer_completer)
        self.customer_completer.activated[QModelIndex].connect(self._customer_picked)
        self._search_generation = 0
        self.action_combo = QComboBox()
        self.action_combo.setObjectName("actionFilter")
        self.action_combo.addItem("Any action", None)
        self._fill_actions(audit.audit_actions())
        # Long action and staff names would widen the filter row past a 1024-pixel screen.
        for combo, letters in ((self.staff_combo, 12), (self.action_combo, 16)):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(letters)
        self.from_edit = self._date_edit("fromFilter")
        self.to_edit = self._date_edit("toFilter")
        self.refresh_button = QPushButton("&Refresh")
        self.verify_button = QPushButton("&Verify chain")
        self.verify_button.setObjectName("verifyButton")

        # Two rows of filters, so the screen fits a 1024-pixel window.
        filters = QVBoxLayout()
        rows = (QHBoxLayout(), QHBoxLayout())
        for row, (label, widget) in zip((0, 0, 0, 1, 1), (
                ("Staff", self.staff_combo), ("Customer", self.customer_edit),
                ("Action", self.action_combo), ("From", self.from_edit), ("To", self.to_edit))):
            caption = QLabel(label)
            caption.setBuddy(widget)
            rows[row].addWidget(caption)
            rows[row].addWidget(widget)
        rows[0].addStretch(1)
        rows[1].addStretch(1)
        rows[1].addWidget(self.refresh_button)
        rows[1].addWidget(self.verify_button)
        filters.addLayout(rows[0])
        filters.addLayout(rows[1])

        self.model = AuditTableModel(ctx.tasks, parent=self)
        self.table = QTableView()
        self.table.setObjectName("auditTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.status = QLabel()
        self.status.setObjectName("auditStatus")
        self.chain_report = QLabel()
        self.chain_report.setObjectName("chainReport")
        self.chain_report.setWordWrap(True)
        self.chain_report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chain_report.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.chain_report)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

        self._customer_timer = QTimer(self)
        self._customer_timer.setSingleShot(True)
        self._customer_timer.setInterval(400)
        self._customer_timer.timeout.connect(self._customer_typed)
        self.customer_edit.textEdited.connect(lambda _t: self._customer_timer.start())
        self.customer_edit.textChanged.connect(self._customer_text_changed)
        self.staff_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.action_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.from_edit.dateChanged.connect(lambda _d: self.reload())
        self.to_edit.dateChanged.connect(lambda _d: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.verify_button.clicked.connect(self.verify_chain)
        self.model.page_loaded.connect(self._show_count)
        self.model.load_failed.connect(self._load_failed)

        # What others do here is audited as it happens: read the trail again after each change
        # (once per burst) and each time the screen comes back to the front.
        self._changes_timer = QTimer(self)
        self._changes_timer.setSingleShot(True)
        self._changes_timer.setInterval(300)
        self._changes_timer.timeout.connect(self.reload)
        ctx.bus.changed.connect(lambda _changes: self._changes_timer.start())
        self._shown_before = False

        self._load_choices()
        self.reload()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._shown_before:
            self._changes_timer.start()
        self._shown_before = True

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(_NO_DATE)
        edit.setSpecialValueText("any day")
        edit.setDate(_NO_DATE)
        return edit

    def _fill_actions(self, actions: list[str]) -> None:
        current = self.action_combo.currentData()
        self.action_combo.blockSignals(True)
        while self.action_combo.count() > 1:
            self.action_combo.removeItem(1)
        for action in actions:
            self.action_combo.addItem(audit.action_label(action), action)
        index = self.action_combo.findData(current)
        self.action_combo.setCurrentIndex(max(index, 0))
        self.action_combo.blockSignals(False)

    def _load_choices(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor

        def work(token, progress):
            return staff_service.list_staff(db, actor=actor), audit.audit_actions(db)

        self.ctx.tasks.run_db(work, on_success=self._choices_loaded, on_failure=self._load_failed)

    def _choices_loaded(self, result) -> None:
        people, actions = result
        current = self.staff_combo.currentData()
        self.staff_combo.blockSignals(True)
        for person in people:
            self.staff_combo.addItem(f"{person.display_name} ({person.login})", person.id)
        self.staff_combo.setCurrentIndex(max(self.staff_combo.findData(current), 0))
        self.staff_combo.blockSignals(False)
        self._fill_actions(actions)

    # --- the customer filter ----------------------------------------------------------

    def _customer_text_changed(self, text: str) -> None:
        if self._picked is not None and text != self._picked[0]:
            self._picked = None
        if not text.strip():
            self._customer_timer.stop()
            self.reload()

    def _customer_typed(self) -> None:
        text = self.customer_edit.text().strip()
        if not text:
            return
        self._search_generation += 1
        generation = self._search_generation
        db, actor = self.ctx.db, self.ctx.actor
        self.ctx.tasks.run_db(
            lambda token, progress: customer_service.search_customers(db, actor=actor, query=text, limit=12),
            on_success=lambda hits: self._suggest(generation, text, hits),
            on_failure=lambda exc: self._suggest(generation, text, []))

    def _suggest(self, generation: int, text: str, hits) -> None:
        if generation != self._search_generation or self.customer_edit.text().strip() != text:
            return
        self._suggestions.clear()
        for hit in hits:
            place = ", ".join(p for p in (hit.postcode, hit.city) if p)
            words = " — ".join(p for p in (hit.name, hit.email, place) if p)
            item = QStandardItem(words)
            item.setData((hit.name, hit.id), Qt.ItemDataRole.UserRole)
            self._suggestions.appendRow(item)
        exact = [h for h in hits if h.exact]
        if len(hits) == 1 or len(exact) == 1:
            # One person fits what was typed (an email, a whole name): take them.
            hit = hits[0] if len(hits) == 1 else exact[0]
            self._take_customer(hit.name, hit.id)
            return
        if hits and self.customer_edit.hasFocus():
            self.customer_completer.setCompletionPrefix("")
            self.customer_completer.complete()
        self.reload()

    def _customer_picked(self, index) -> None:
        picked = index.data(Qt.ItemDataRole.UserRole) if hasattr(index, "data") else None
        if picked is None:
            row = self._suggestions.findItems(str(index))
            picked = row[0].data(Qt.ItemDataRole.UserRole) if row else None
        if picked is not None:
            QTimer.singleShot(0, lambda: self._take_customer(*picked))

    def _take_customer(self, name: str, customer_id: int) -> None:
        self._customer_timer.stop()
        self._picked = (name, customer_id)
        self.customer_edit.blockSignals(True)
        self.customer_edit.setText(name)
        self.customer_edit.blockSignals(False)
        self.customer_edit.setToolTip(f"Entries about {name}.")
        self.reload()

    def customer_filter(self) -> int | None:
        """The customer whose entries are shown: the one picked, or a typed customer number."""
        if self._picked is not None:
            return self._picked[1]
        text = self.customer_edit.text().strip().lstrip("#")
        return int(text) if text.isdigit() and len(text) < 10 else None

    # --- filters and loading ----------------------------------------------------------

    def filters(self) -> dict:
        """The filter as keyword arguments of `audit.list_events`."""
        since = until = None
        if self.from_edit.date() != _NO_DATE:
            since = _local_midnight(self.from_edit.date())
        if self.to_edit.date() != _NO_DATE:
            until = _local_midnight(self.to_edit.date()) + timedelta(days=1)
        return {
            "staff_id": self.staff_combo.currentData(),
            "customer_id": self.customer_filter(),
            "action": self.action_combo.currentData(),
            "since": since,
            "until": until,
        }

    def reload(self) -> None:
        """Start the list over with the current filter."""
        self._customer_timer.stop()
        db, actor, filters = self.ctx.db, self.ctx.actor, self.filters()
        self.status.setText("Loading…")

        def fetch(before_id, limit):
            return audit.list_events(db, actor=actor, before_id=before_id, limit=limit, **filters)

        self.model.set_fetch(fetch)

    #: The widest a column grows to fit its text; longer text is cut with "…" and read in the tooltip.
    MAX_COLUMN_WIDTH = 320

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount() - 1):  # the last one stretches
            self.table.resizeColumnToContents(column)
            header.resizeSection(column, min(header.sectionSize(column), self.MAX_COLUMN_WIDTH))

    def _show_count(self, count: int) -> None:
        self._fit_columns()
        more = "" if self.model.at_end() else "; older ones load as you scroll"
        self.status.setText(f"{count} entr{'y' if count == 1 else 'ies'} shown{more}.")

    def _load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):
            self.status.setText(exc.message)
        else:
            self.status.setText("The audit trail could not be loaded.")
            show_error(self, exc)

    # --- the chain --------------------------------------------------------------------

    def verify_chain(self) -> None:
        """Check every entry's hash on the database pool and show the report above the list."""
        self.verify_button.setEnabled(False)
        self.chain_report.setStyleSheet("")
        self.chain_report.setText("Checking the audit trail…")
        self.chain_report.show()
        db = self.ctx.db
        self.ctx.tasks.run_db(lambda token, progress: audit.check_chain(db),
                              on_success=self._chain_checked, on_failure=self._chain_failed)

    def _chain_checked(self, report: audit.ChainReport) -> None:
        self.verify_button.setEnabled(True)
        self.chain_report.setStyleSheet(_OK_STYLE if report.ok else _BAD_STYLE)
        self.chain_report.setText(report.sentence())

    def _chain_failed(self, exc: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.chain_report.setText("The audit trail could not be checked.")
        show_error(self, exc)
