"""The sync screen: sync now (with a progress bar and Cancel), the outbox, the conflicts to settle, the run log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import OutboxStatus
from backoffice.domain.staff import Permission
from backoffice.services import sync
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.paged_table_model import Column, RowsTableModel
from ui.common.plain_text import plain_label
from ui.sync.sync_status import SyncController, status_text


class RowsModel(RowsTableModel):
    """A read-only table over a short list of rows (the lists here are bounded by their service)."""

    tooltips = True


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _took(run: sync.SyncRunRow) -> str:
    if run.finished_at is None:
        return ""
    return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"


STATUS_LABELS = {
    OutboxStatus.PENDING: "Waiting",
    OutboxStatus.FAILED: "Refused",
    OutboxStatus.CONFLICT: "Waits for a choice",
    OutboxStatus.SENT: "Sent",
}

OUTBOX_COLUMNS = (
    Column("Queued", lambda m: _time(m.created_at)),
    Column("Change", lambda m: m.kind_label),
    Column("Record", lambda m: m.record_label or f"{m.entity_type} {m.entity_id}"),
    Column("State", lambda m: STATUS_LABELS.get(m.status, m.status)),
    Column("Tries", lambda m: m.attempts, align_right=True),
    Column("What happened", lambda m: m.last_error),
)
CONFLICT_COLUMNS = (
    Column("Noticed", lambda c: _time(c.detected_at)),
    Column("Record", lambda c: c.record_label or f"{c.entity_type} {c.entity_id}"),
    Column("Field", lambda c: c.field_label),
    Column("Here", lambda c: c.local_value),
    Column("On the store", lambda c: c.store_value),
)
RUN_COLUMNS = (
    Column("Started", lambda r: _time(r.started_at)),
    Column("Took", _took, align_right=True),
    Column("Result", lambda r: r.state),
    Column("Orders", lambda r: r.pulled_orders, align_right=True),
    Column("Customers", lambda r: r.pulled_customers, align_right=True),
    Column("Products", lambda r: r.pulled_products, align_right=True),
    Column("Sent", lambda r: r.pushed, align_right=True),
    Column("Requests", lambda r: r.requests, align_right=True),
    Column("Summary", lambda r: r.error or r.summary),
)

#: Outbox filter choices: label and the statuses shown.
OUTBOX_FILTERS = (
    ("Waiting and refused", (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.CONFLICT)),
    ("Refused", (OutboxStatus.FAILED,)),
    ("Sent", (OutboxStatus.SENT,)),
    ("All", None),
)


def _table(name: str, model: RowsModel, *, multi: bool = False) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                          else QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    return view


class SyncScreen(QWidget):
    """Sync now, see what waits to be sent and what the store refused, settle conflicts, read the log."""

    title = "Sync"
    permission = Permission.RUN_SYNC

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 controller: SyncController | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.controller = controller or SyncController.of(ctx, self)
        self._loading = False
        self._reload_again = False

        self.sync_button = QPushButton("&Sync now")
        self.sync_button.setObjectName("syncNowButton")
        self.full_scan = QCheckBox("Also read every &customer")
        self.full_scan.setObjectName("fullScanCheck")
        self.full_scan.setToolTip("Customers are read in full once a day; tick this to do it now.")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("syncCancelButton")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("syncProgress")
        self.progress.setFormat("")  # a count only while a sync runs
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label = plain_label("")
        self.progress_label.setObjectName("syncProgressLabel")
        self.status_label = QLabel("")
        self.status_label.setObjectName("syncStatusLabel")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.outbox_model = RowsModel(OUTBOX_COLUMNS, self)
        self.outbox_table = _table("outboxTable", self.outbox_model, multi=True)
        self.outbox_filter = QComboBox()
        self.outbox_filter.setObjectName("outboxFilter")
        for label, statuses in OUTBOX_FILTERS:
            self.outbox_filter.addItem(label, statuses)
        self.retry_button = QPushButton("Send &again")
        self.retry_button.setObjectName("retryButton")
        self.retry_button.setEnabled(False)
        self.retry_button.setToolTip("Put the selected refused changes back in the queue for the next sync.")
        self.message_detail = plain_label("")
        self.message_detail.setObjectName("messageDetail")
        self.message_detail.setWordWrap(True)
        self.message_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.conflicts_model = RowsModel(CONFLICT_COLUMNS, self)
        self.conflicts_table = _table("conflictsTable", self.conflicts_model)
        self.keep_local_button = QPushButton("Keep the value &here")
        self.keep_local_button.setObjectName("keepLocalButton")
        self.keep_store_button = QPushButton("Keep the &store's value")
        self.keep_store_button.setObjectName("keepStoreButton")
        for button in (self.keep_local_button, self.keep_store_button):
            button.setEnabled(False)

        self.runs_model = RowsModel(RUN_COLUMNS, self)
        self.runs_table = _table("runsTable", self.runs_model)

        top = QHBoxLayout()
        top.addWidget(self.sync_button)
        top.addWidget(self.full_scan)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)

        outbox_page = QWidget()
        outbox_layout = QVBoxLayout(outbox_page)
        outbox_bar = QHBoxLayout()
        outbox_bar.addWidget(QLabel("Show:"))
        outbox_bar.addWidget(self.outbox_filter)
        outbox_bar.addStretch(1)
        outbox_bar.addWidget(self.retry_button)
        outbox_layout.addLayout(outbox_bar)
        outbox_layout.addWidget(self.outbox_table, 1)
        outbox_layout.addWidget(self.message_detail)

        conflicts_page = QWidget()
        conflicts_layout = QVBoxLayout(conflicts_page)
        conflicts_layout.addWidget(QLabel(
            "The same detail was changed here and on the web store. Choose which value stays; "
            "the change waits until you do."))
        conflicts_layout.addWidget(self.conflicts_table, 1)
        choose = QHBoxLayout()
        choose.addStretch(1)
        choose.addWidget(self.keep_local_button)
        choose.addWidget(self.keep_store_button)
        conflicts_layout.addLayout(choose)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("syncTabs")
        self.tabs.addTab(outbox_page, "Changes to send")
        self.tabs.addTab(conflicts_page, "Conflicts")
        self.tabs.addTab(self.runs_table, "Sync log")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.tabs, 1)

        self.sync_button.clicked.connect(self.sync_now)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.retry_button.clicked.connect(self.retry_selected)
        self.keep_local_button.clicked.connect(lambda: self.resolve_selected("local"))
        self.keep_store_button.clicked.connect(lambda: self.resolve_selected("store"))
        self.outbox_filter.currentIndexChanged.connect(self.reload)
        self.outbox_table.selectionModel().selectionChanged.connect(self._outbox_selected)
        self.conflicts_table.selectionModel().selectionChanged.connect(self._conflict_selected)
        self.controller.busy_changed.connect(self._busy)
        self.controller.progressed.connect(self._progress)
        self.controller.finished.connect(self._finished)
        self.controller.failed.connect(self._failed)
        self.controller.status_changed.connect(self._show_status)
        ctx.bus.changed.connect(self._on_changes)
        self._busy(self.controller.running)
        self._show_status(self.controller.status)
        self.reload()

    # -- syncing -----------------------------------------------------------------------------

    def sync_now(self) -> None:
        if self.controller.sync_now(full_customer_scan=self.full_scan.isChecked()):
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress_label.setText("Starting…")

    def _busy(self, busy: bool) -> None:
        self.sync_button.setEnabled(not busy)
        self.full_scan.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setFormat("%v of %m" if busy else "")

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        self.progress_label.setText(text)

    def _finished(self, summary) -> None:
        if summary is None:
            self.progress_label.setText("Cancelled; what was fetched so far is kept.")
        else:
            self.progress.setValue(self.progress.maximum())
            self.progress_label.setText(summary.text if summary.ok else f"The sync did not complete. {summary.error}")
        self.full_scan.setChecked(False)
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        self.progress_label.setText("The sync did not start.")
        show_error(self, exc)
        self.reload()

    def _show_status(self, status) -> None:
        text, tip = status_text(status)
        self.status_label.setText(text if not tip else f"{text}. {tip}")

    def _on_changes(self, changes) -> None:
        if changes.outbox or changes.orders or changes.customers:
            self.reload()

    # -- lists -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the outbox, conflicts and runs again (on the database pool)."""
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        statuses = self.outbox_filter.currentData()
        db, actor = self.ctx.db, self.ctx.actor

        def work(token, progress):
            if statuses is None:
                outbox = sync.list_outbox(db, actor=actor)
            else:
                outbox = [m for status in statuses for m in sync.list_outbox(db, status, actor=actor)]
                outbox.sort(key=lambda m: m.id)
            return (outbox, sync.list_conflicts(db, actor=actor),
                    sync.list_sync_runs(db, actor=actor))

        self.ctx.tasks.run_db(work, on_success=self._loaded, on_failure=self._load_failed)

    def _loaded(self, data) -> None:
        self._loading = False
        outbox, conflicts, runs = data
        self.outbox_model.set_rows(outbox)
        self.conflicts_model.set_rows(conflicts)
        self.runs_model.set_rows(runs)
        self.tabs.setTabText(1, f"Conflicts ({len(conflicts)})" if conflicts else "Conflicts")
        for table in (self.outbox_table, self.conflicts_table, self.runs_table):
            for col in range(table.model().columnCount() - 1):
                table.resizeColumnToContents(col)
        self._outbox_selected()
        self._conflict_selected()
        self.controller.refresh_status()
        if self._reload_again:
            self._reload_again = False
            self.reload()

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = False
        show_error(self, exc)

    def _selected(self, table: QTableView, model: RowsModel) -> list[Any]:
        rows = sorted({index.row() for index in table.selectionModel().selectedRows()})
        return [model.row_at(r) for r in rows if r < model.rowCount()]

    def _outbox_selected(self, *_args) -> None:
        chosen = self._selected(self.outbox_table, self.outbox_model)
        self.retry_button.setEnabled(any(m.status == OutboxStatus.FAILED for m in chosen))
        if len(chosen) == 1 and chosen[0].last_error:
            self.message_detail.setText(chosen[0].last_error)
        else:
            self.message_detail.setText("")

    def _conflict_selected(self, *_args) -> None:
        chosen = bool(self._selected(self.conflicts_table, self.conflicts_model))
        self.keep_local_button.setEnabled(chosen)
        self.keep_store_button.setEnabled(chosen)

    # -- actions -----------------------------------------------------------------------------

    def retry_selected(self) -> None:
        ids = [m.id for m in self._selected(self.outbox_table, self.outbox_model) if m.status == OutboxStatus.FAILED]
        if not ids:
            return
        db, actor = self.ctx.db, self.ctx.actor
        self.retry_button.setEnabled(False)
        self.ctx.tasks.run_db(lambda token, progress: sync.retry_failed(db, actor=actor, ids=ids),
                              on_success=self._acted, on_failure=self._act_failed)

    def resolve_selected(self, keep: str) -> None:
        chosen = self._selected(self.conflicts_table, self.conflicts_model)
        if not chosen:
            return
        conflict_id = chosen[0].id
        db, actor = self.ctx.db, self.ctx.actor
        self.keep_local_button.setEnabled(False)
        self.keep_store_button.setEnabled(False)
        self.ctx.tasks.run_db(
            lambda token, progress: sync.resolve_conflict(db, actor=actor, conflict_id=conflict_id, keep=keep),
            on_success=self._acted, on_failure=self._act_failed)

    def _acted(self, changes) -> None:
        self.ctx.bus.publish(changes)
        self.reload()

    def _act_failed(self, exc: BaseException) -> None:
        show_error(self, exc)
        self.reload()
