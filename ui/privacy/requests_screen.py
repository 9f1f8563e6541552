"""The owner's queue of privacy requests: by days left, overdue and due-soon flagged; the chosen
request's history and the actions on it (identity check, fulfil, refuse, withdraw)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.staff import Permission
from backoffice.errors import UserFacingError
from backoffice.services.changes import Changes
from backoffice.services.privacy import register
from backoffice.services.privacy.register import RequestDetail, RequestRow
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.privacy.fulfil_dialog import FulfilDialog
from ui.privacy.letter_dialog import LetterDialog
from ui.privacy.request_dialogs import LogRequestDialog, RefuseDialog, VerifyIdentityDialog
from ui.privacy.requests_table_model import RequestsTableModel


class PrivacyScreen(QWidget):
    """Privacy requests, the most pressing first."""

    title = "Privacy requests"
    permission = Permission.LOG_PRIVACY_REQUEST
    customer_opened = Signal(int)
    # The queue's alarm sentence ("2 privacy requests are overdue; ..."), for the status bar.
    alarm_changed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("privacyScreen")
        self.ctx = ctx
        self._loading = False
        self._again = False
        self.detail: RequestDetail | None = None
        self.alarm_text = ""

        self.log_button = QPushButton("&Log a request…")
        self.log_button.setObjectName("logRequestButton")
        self.show_closed = QCheckBox("Show &closed requests")
        self.show_closed.setObjectName("showClosed")
        self.alarm = QLabel()
        self.alarm.setObjectName("privacyAlarm")
        self.alarm.setStyleSheet("color: #b3261e; font-weight: 600;")
        top = QHBoxLayout()
        top.addWidget(self.log_button)
        top.addWidget(self.show_closed)
        top.addStretch(1)
        top.addWidget(self.alarm)

        self.model = RequestsTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("requestsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

        self.heading = QLabel("Choose a request to see its history and act on it.")
        self.heading.setObjectName("requestHeading")
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet("font-weight: 600;")
        self.history = QPlainTextEdit()
        self.history.setObjectName("requestHistory")
        self.history.setReadOnly(True)
        self.verify_button = QPushButton("Check &identity…")
        self.fulfil_button = QPushButton("&Fulfil…")
        self.refuse_button = QPushButton("&Refuse…")
        self.withdraw_button = QPushButton("Mark &withdrawn")
        self.letter_button = QPushButton("&Letter…")
        self.open_button = QPushButton("&Open customer")
        actions = QHBoxLayout()
        for name, button in (("verifyButton", self.verify_button), ("fulfilButton", self.fulfil_button),
                             ("refuseButton", self.refuse_button), ("withdrawButton", self.withdraw_button),
                             ("letterButton", self.letter_button), ("openCustomerButton", self.open_button)):
            button.setObjectName(name)
            actions.addWidget(button)
        actions.addStretch(1)
        panel = QWidget()
        panel_layout = QVBoxLayout(panel)
        panel_layout.setContentsMargins(0, 0, 0, 0)
        panel_layout.addWidget(self.heading)
        panel_layout.addLayout(actions)
        panel_layout.addWidget(self.history, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.status = QLabel()
        self.status.setObjectName("privacyStatus")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

        self.log_button.clicked.connect(lambda: self.log_request())
        self.show_closed.toggled.connect(lambda _on: self.reload())
        self.verify_button.clicked.connect(self.verify_selected)
        self.fulfil_button.clicked.connect(self.fulfil_selected)
        self.refuse_button.clicked.connect(self.refuse_selected)
        self.withdraw_button.clicked.connect(self.withdraw_selected)
        self.open_button.clicked.connect(self._open_customer)
        self.letter_button.clicked.connect(self.letter_for_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.model.modelReset.connect(self._update_buttons)
        ctx.bus.changed.connect(self._on_changes)
        self._update_buttons()
        self.reload()

    # --- loading ------------------------------------------------------------------------

    def reload(self) -> None:
        if self._loading:
            self._again = True
            return
        self._loading = True
        db, actor, closed = self.ctx.db, self.ctx.actor, self.show_closed.isChecked()
        self.ctx.tasks.run_db(lambda token, progress: register.list_requests(db, actor=actor, open_only=not closed),
                              on_success=self._loaded, on_failure=self._failed)

    def _loaded(self, rows: list[RequestRow]) -> None:
        self._loading = False
        if self._again:
            self._again = False
            self.reload()
        keep = self.selected_id()
        self.model.set_rows(rows)
        if keep is not None and (i := self.model.row_of(keep)) >= 0:
            self.table.selectRow(i)
        open_rows = [r for r in rows if r.is_open]
        alarm = register.QueueAlarm(sum(r.overdue for r in open_rows), sum(r.due_soon for r in open_rows))
        self.alarm_text = alarm.sentence()
        self.alarm.setText(self.alarm_text)
        self.alarm_changed.emit(self.alarm_text)
        self.status.setText(f"{len(open_rows)} open request{'s' if len(open_rows) != 1 else ''}.")
        self._selection_changed()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        if isinstance(exc, UserFacingError):
            self.status.setText(exc.message)
        else:
            show_error(self, exc)

    def _on_changes(self, changes: Changes) -> None:
        if changes.requests or changes.customers:
            self.reload()

    # --- the chosen request ---------------------------------------------------------------

    def selected(self) -> RequestRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def selected_id(self) -> int | None:
        row = self.selected()
        return row.id if row else None

    def select(self, request_id: int) -> None:
        if (i := self.model.row_of(request_id)) >= 0:
            self.table.selectRow(i)

    def _selection_changed(self) -> None:
        self._update_buttons()
        row = self.selected()
        if row is None:
            self.detail = None
            self.history.clear()
            return
        db, actor, rid = self.ctx.db, self.ctx.actor, row.id
        self.ctx.tasks.run_db(lambda token, progress: register.get_request(db, actor=actor, request_id=rid),
                              on_success=self._show_detail, on_failure=self._failed)

    def _show_detail(self, detail: RequestDetail) -> None:
        if detail.row.id != self.selected_id():
            return
        self.detail = detail
        r = detail.row
        self.heading.setText(f"Request {r.id}: {r.kind_label} — {r.who} · {r.status_label} · "
                             f"{r.clock_label} (due {r.due_at.astimezone():%Y-%m-%d})")
        lines = []
        if detail.requester_contact:
            lines.append(f"Contact given: {detail.requester_contact}")
        if detail.details:
            lines.append(f"Asked: {detail.details}")
        if detail.identity_method:
            lines.append(f"Identity: {detail.identity_method}, by {detail.identity_verified_by or 'staff'}")
        if detail.decision_reason:
            lines.append(f"Reason: {detail.decision_reason}")
        for item in detail.kept:
            lines.append(f"Kept: {item.get('what')} — {item.get('why')}")
        for item in detail.outcome.get("done", []):
            lines.append(f"Done: {item.get('what')}" + (f": {item['count']}" if item.get("count") else ""))
        for line in detail.outcome.get("store", []):
            lines.append(f"Web store: {line}")
        lines.append("")
        lines.append("History:")
        for e in detail.history:
            who = f" — {e.staff}" if e.staff else ""
            lines.append(f"  {e.at.astimezone():%Y-%m-%d %H:%M}  {e.action.replace('_', ' ')}{who}"
                         + (f": {e.note}" if e.note else ""))
        self.history.setPlainText("\n".join(lines))
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected()
        is_open = row is not None and row.is_open
        decide = self.ctx.may(Permission.DECIDE_PRIVACY_REQUEST)
        self.verify_button.setEnabled(is_open and not row.identity_verified)
        self.fulfil_button.setEnabled(is_open and row.identity_verified and decide and row.customer_id is not None)
        self.fulfil_button.setToolTip("" if row is None or row.identity_verified
                                      else "Check the requester's identity first.")
        self.refuse_button.setEnabled(is_open and decide)
        self.withdraw_button.setEnabled(is_open)
        self.open_button.setEnabled(row is not None and row.customer_id is not None)
        self.letter_button.setEnabled(row is not None and not row.is_open and decide)

    # --- actions ------------------------------------------------------------------------------

    def log_request(self, customer_id: int | None = None, customer_name: str = "") -> LogRequestDialog:
        dialog = LogRequestDialog(self.ctx, customer_id, customer_name, self)
        dialog.accepted.connect(lambda: self._logged(dialog))
        dialog.open()
        return dialog

    def _logged(self, dialog: LogRequestDialog) -> None:
        logged = dialog.result
        if logged is not None:
            self.status.setText(f"Request {logged.request.id} logged; {logged.request.clock_label.lower()}. "
                                + logged.message)

    def verify_selected(self) -> VerifyIdentityDialog | None:
        row = self.selected()
        if row is None:
            return None
        dialog = VerifyIdentityDialog(self.ctx, row.id, self)
        dialog.open()
        return dialog

    def fulfil_selected(self) -> FulfilDialog | None:
        row = self.selected()
        if row is None:
            return None
        dialog = FulfilDialog(self.ctx, row, self)
        dialog.accepted.connect(lambda: self._fulfilled(dialog))
        dialog.open()
        return dialog

    def _fulfilled(self, dialog: FulfilDialog) -> None:
        if dialog.result is not None:
            self.status.setText(" ".join(dialog.result.lines()[:1] + [
                f"Kept: {len(dialog.result.kept)} item(s)." if dialog.result.kept else ""]))

    def refuse_selected(self) -> RefuseDialog | None:
        row = self.selected()
        if row is None:
            return None
        dialog = RefuseDialog(self.ctx, row.id, self)
        dialog.open()
        return dialog

    def letter_for_selected(self) -> LetterDialog | None:
        row = self.selected()
        if row is None:
            return None
        dialog = LetterDialog(self.ctx, row.id, self)
        dialog.open()
        return dialog

    def withdraw_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        db, actor, rid = self.ctx.db, self.ctx.actor, row.id
        self.ctx.tasks.run_db(lambda token, progress: register.withdraw_request(db, actor=actor, request_id=rid),
                              on_success=lambda _r: self.ctx.bus.publish(Changes(requests=frozenset({rid}))),
                              on_failure=self._failed)

    def _open_customer(self) -> None:
        row = self.selected()
        if row is not None and row.customer_id is not None:
            self.customer_opened.emit(row.customer_id)
