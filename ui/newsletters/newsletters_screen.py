"""The Newsletters screen: the lists with member counts by status, each list's growth by
month (counts only, small numbers withheld), its members with filters, and imports and
exports for Mailchimp and listmonk running in the background with a progress bar and Cancel."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import Channel, SubscriptionStatus
from backoffice.domain.staff import Permission
from backoffice.errors import UserFacingError
from backoffice.services.newsletters import export_csv, import_csv, lists
from backoffice.services.newsletters.lists import ListView
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.newsletters.list_dialogs import NewListDialog, NewWordingDialog
from ui.common.progress import ProgressRow

CHANNEL_LABELS = {Channel.EMAIL: "Email", Channel.SMS: "SMS", Channel.POSTAL: "Post"}
STATUS_LABELS = {SubscriptionStatus.SUBSCRIBED: "Subscribed", SubscriptionStatus.UNCONFIRMED: "Not confirmed",
                 SubscriptionStatus.UNSUBSCRIBED: "Unsubscribed", SubscriptionStatus.CLEANED: "Bounced (cleaned)"}
STATUS_ORDER = (SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNCONFIRMED, SubscriptionStatus.UNSUBSCRIBED,
                SubscriptionStatus.CLEANED)
MEMBERS_PAGE = 200


def _table(headers: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(False)
    # Rows are chosen with the arrows; Tab goes on to the next control, as on every screen.
    table.setTabKeyNavigation(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


#: The members table's email and phone columns.
MEMBER_EMAIL, MEMBER_PHONE = 1, 2


def _set_rows(table: QTableWidget, rows: list[tuple], *, append: bool = False) -> None:
    start = table.rowCount() if append else 0
    table.setRowCount(start + len(rows))
    for r, row in enumerate(rows, start=start):
        for c, value in enumerate(row):
            item = QTableWidgetItem(str(value))
            item.setToolTip(str(value))  # the whole text where a narrow column cuts it
            if isinstance(value, int):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


class NewslettersScreen(QWidget):
    """Lists on the left, the chosen list's growth and members on the right, transfers below."""

    title = "Newsletters"
    permission = Permission.MANAGE_NEWSLETTERS

    transfer_finished = Signal(object)  # the import or export result, or the error

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.lists: list[ListView] = []
        self._members_after: int | None = None
        self._members_query = 0
        self._token = None
        self.last_result = None
        # Replaced in tests; people pick files with the platform's dialogs.
        self.ask_open_path = lambda: QFileDialog.getOpenFileName(
            self, "Import a Mailchimp or listmonk export", "", "CSV files (*.csv);;All files (*)")[0]
        self.ask_save_path = lambda suggested: QFileDialog.getSaveFileName(
            self, "Export the list", suggested, "CSV files (*.csv)")[0]
        self.confirm_import = self._confirm_import

        self.lists_table = _table(["List", "Channel", "Subscribed", "Pending", "Unsubscribed", "Bounced"],
                                  "listsTable")
        self.lists_table.horizontalHeader().setStretchLastSection(False)
        self.lists_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.lists_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.lists_table.itemSelectionChanged.connect(self._list_chosen)
        self.list_info = QLabel("")
        self.list_info.setTextFormat(Qt.TextFormat.RichText)
        self.list_info.setObjectName("listInfo")
        self.list_info.setWordWrap(True)
        self.growth_table = _table(["Month", "Joined", "Left"], "growthTable")
        self.growth_note = QLabel("")
        self.growth_note.setObjectName("growthNote")
        self.growth_note.setWordWrap(True)

        self.status_filter = QComboBox()
        self.status_filter.setObjectName("memberStatusFilter")
        self.status_filter.addItem("Every status", None)
        for status in STATUS_ORDER:
            self.status_filter.addItem(STATUS_LABELS[status], status.value)
        self.status_filter.currentIndexChanged.connect(self.load_members)
        self.member_search = QLineEdit()
        self.member_search.setObjectName("memberSearch")
        self.member_search.setPlaceholderText("Name, start of the email address, or phone number")
        self.member_search.returnPressed.connect(self.load_members)
        self.members_table = _table(["Name", "Email", "Phone", "Status", "Since"], "membersTable")
        members_header = self.members_table.horizontalHeader()
        members_header.setStretchLastSection(False)
        members_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        members_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.more_button = QPushButton("Show more")
        self.more_button.setObjectName("moreMembers")
        self.more_button.clicked.connect(lambda: self.load_members(more=True))
        self.more_button.hide()

        self.new_list_button = QPushButton("New list…")
        self.new_list_button.setObjectName("newListButton")
        self.new_list_button.clicked.connect(self.open_new_list)
        self.new_wording_button = QPushButton("New wording…")
        self.new_wording_button.setObjectName("newWordingButton")
        self.new_wording_button.clicked.connect(self.open_new_wording)
        self.list_dialog = None
        self.import_button = QPushButton("Import from Mailchimp or listmonk…")
        self.import_button.setObjectName("importListButton")
        self.import_button.clicked.connect(self.start_import)
        self.export_mailchimp = QPushButton("Export for Mailchimp…")
        self.export_mailchimp.setObjectName("exportMailchimpButton")
        self.export_mailchimp.clicked.connect(lambda: self.start_export("mailchimp"))
        self.export_listmonk = QPushButton("Export for listmonk…")
        self.export_listmonk.setObjectName("exportListmonkButton")
        self.export_listmonk.clicked.connect(lambda: self.start_export("listmonk"))
        self.progress_row = ProgressRow(bar_name="transferProgress", label_name="transferLabel",
                                        cancel_name="transferCancel", bar_format="%v of %m")
        self.progress, self.progress_label = self.progress_row.bar, self.progress_row.label
        self.cancel_button = self.progress_row.cancel_button
        self.cancel_button.clicked.connect(self.cancel_transfer)
        self.transfer_message = QLabel("")
        self.transfer_message.setObjectName("transferMessage")
        self.transfer_message.setWordWrap(True)
        self.transfer_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # One line per rejected or left-out row, to read and copy.
        self.report = QPlainTextEdit()
        self.report.setObjectName("transferReport")
        self.report.setReadOnly(True)
        self.report.setMaximumHeight(110)
        self.report.hide()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.lists_table, 1)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.new_list_button)
        list_buttons.addWidget(self.new_wording_button)
        list_buttons.addStretch(1)
        left_layout.addLayout(list_buttons)
        left_layout.addWidget(self.list_info)
        growth_box = QGroupBox("Growth by month")
        growth_layout = QVBoxLayout(growth_box)
        growth_layout.addWidget(self.growth_table)
        growth_layout.addWidget(self.growth_note)
        left_layout.addWidget(growth_box, 2)

        right = QGroupBox("Members")
        right_layout = QVBoxLayout(right)
        filters = QHBoxLayout()
        filters.addWidget(self.status_filter)
        filters.addWidget(self.member_search, 1)
        right_layout.addLayout(filters)
        right_layout.addWidget(self.members_table, 1)
        right_layout.addWidget(self.more_button)

        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 4)
        split.setSizes([560, 440])

        transfers = QHBoxLayout()
        transfers.addWidget(self.import_button)
        transfers.addWidget(self.export_mailchimp)
        transfers.addWidget(self.export_listmonk)
        transfers.addStretch(1)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.progress_label, 1)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(transfers)
        layout.addLayout(bar)
        layout.addWidget(self.transfer_message)
        layout.addWidget(self.report)
        self._show_busy(False)

        ctx.bus.changed.connect(self._on_changes)
        self.reload()

    # --- lists ---------------------------------------------------------------------------------

    def reload(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self.ctx.tasks.run_db(lambda token, progress: lists.list_lists(db, actor=actor),
                              on_success=self._lists_loaded, on_failure=lambda exc: show_error(self, exc))

    def _lists_loaded(self, found: list[ListView]) -> None:
        chosen = self.current_list()
        self.lists = found
        self.lists_table.blockSignals(True)
        _set_rows(self.lists_table, [
            (lst.name + ("" if lst.active else " (retired)"), CHANNEL_LABELS[lst.channel],
             *(lst.counts.get(status, 0) for status in STATUS_ORDER)) for lst in found])
        self.lists_table.blockSignals(False)
        row = next((i for i, lst in enumerate(found) if chosen and lst.id == chosen.id), 0)
        if found:
            self.lists_table.selectRow(row)
            self._list_chosen()

    def current_list(self) -> ListView | None:
        rows = self.lists_table.selectionModel().selectedRows() if self.lists_table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.lists):
            return None
        return self.lists[rows[0].row()]

    def select_list(self, name: str) -> None:
        for i, lst in enumerate(self.lists):
            if lst.name == name:
                self.lists_table.selectRow(i)
                return

    def _list_chosen(self) -> None:
        lst = self.current_list()
        if lst is None:
            return
        wording = f"Consent wording, version {lst.wording.version}: “{lst.wording.text}”" if lst.wording else ""
        self.list_info.setText(f"<b>{html.escape(lst.name)}</b> — {html.escape(lst.purpose)}<br>{html.escape(wording)}")
        email = lst.channel is Channel.EMAIL
        # The column the list reaches people by, beside their names: an SMS list's phone
        # numbers, the email address of the others (the panel is too narrow for both).
        self.members_table.setColumnHidden(MEMBER_EMAIL, lst.channel is Channel.SMS)
        self.members_table.setColumnHidden(MEMBER_PHONE, lst.channel is not Channel.SMS)
        for button in (self.import_button, self.export_mailchimp, self.export_listmonk):
            button.setEnabled(email and self._token is None)
            button.setToolTip("" if email else "Mailchimp and listmonk send email; this list is not an email list.")
        self._load_growth(lst.id)
        self.load_members()

    def _load_growth(self, list_id: int) -> None:
        db, actor = self.ctx.db, self.ctx.actor

        def shown(n):
            return "—" if n is None else n

        def done(growth) -> None:
            current = self.current_list()
            if current is None or current.id != growth.list_id:
                return
            _set_rows(self.growth_table, [(m.month, shown(m.joined), shown(m.left)) for m in reversed(growth.months)])
            self.growth_note.setText(
                f"People who joined or left each month; “—” stands for fewer than {growth.smallest_shown}, "
                "withheld so that no one person can be picked out." if growth.months else "Nobody joined or left yet.")

        self.ctx.tasks.run_db(lambda token, progress: lists.growth_by_month(db, actor=actor, list_id=list_id),
                              on_success=done, on_failure=lambda exc: show_error(self, exc))

    def open_new_list(self) -> NewListDialog:
        """Ask for a new list's name, channel, purpose and consent wording."""
        dialog = NewListDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.list_dialog = dialog
        dialog.open()
        return dialog

    def open_new_wording(self) -> NewWordingDialog | None:
        """Ask for a new version of the chosen list's consent wording."""
        lst = self.current_list()
        if lst is None:
            return None
        dialog = NewWordingDialog(self.ctx, lst.id, lst.name, lst.wording.text if lst.wording else "", self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.list_dialog = dialog
        dialog.open()
        return dialog

    # --- members -------------------------------------------------------------------------------

    def load_members(self, *_args, more: bool = False) -> None:
        lst = self.current_list()
        if lst is None:
            return
        db, actor = self.ctx.db, self.ctx.actor
        status, text = self.status_filter.currentData(), self.member_search.text()
        after = self._members_after if more else None
        self._members_query += 1
        query = self._members_query

        def done(page) -> None:
            if query != self._members_query:
                return
            _set_rows(self.members_table, [
                (m.name, m.email, m.phone, STATUS_LABELS[m.status], m.since.astimezone().strftime("%Y-%m-%d"))
                for m in page.rows], append=more)
            self._members_after = page.next_key
            self.more_button.setVisible(page.next_key is not None)

        self.ctx.tasks.run_db(lambda token, progress: lists.list_members(
            db, actor=actor, list_id=lst.id, status=status, text=text, after=after, limit=MEMBERS_PAGE),
            on_success=done, on_failure=lambda exc: show_error(self, exc))

    # --- import and export ---------------------------------------------------------------------

    def _show_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress_label.setVisible(busy)
        self.cancel_button.setVisible(busy)
        lst = self.current_list()
        email = lst is not None and lst.channel is Channel.EMAIL
        for button in (self.import_button, self.export_mailchimp, self.export_listmonk):
            button.setEnabled(not busy and email)

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress_row.progressed(done, total, text)

    def cancel_transfer(self) -> None:
        self.progress_row.cancel(self._token)

    def _show_report(self, lines: list[str]) -> None:
        self.report.setPlainText("\n".join(lines))
        self.report.setVisible(bool(lines))

    def _finish(self, outcome, message: str, report: list[str] | None = None) -> None:
        self._token = None
        self._show_busy(False)
        self.transfer_message.setText(message)
        self._show_report(report or [])
        self.last_result = outcome
        self.transfer_finished.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        self._token = None
        self._show_busy(False)
        self.last_result = exc
        if isinstance(exc, UserFacingError):
            self.transfer_message.setText(exc.message)
        else:
            show_error(self, exc)
        self.transfer_finished.emit(exc)

    def start_export(self, fmt: str) -> None:
        lst = self.current_list()
        if lst is None:
            return
        suggested = f"{lst.store_key or 'list'}-{fmt}.csv"
        path = self.ask_save_path(suggested)
        if not path:
            return
        db, actor = self.ctx.db, self.ctx.actor
        self._show_busy(True)
        self.transfer_message.setText("")
        self._show_report([])
        self._token = self.ctx.tasks.run_db(
            lambda token, progress: export_csv.export_list(db, actor=actor, list_id=lst.id, fmt=fmt, path=path,
                                                           replace=Path(path).exists(), progress=progress),
            on_success=lambda result: self._finish(result, result.summary()),
            on_failure=self._failed, on_progress=self._progress, owner=self)
        self._watch_cancel()

    def _watch_cancel(self) -> None:
        # A cancelled task reports nothing. The database pool runs one task at a time, in
        # order, so when this empty task after it is done, the cancelled one is over too.
        token = self._token

        def check() -> None:
            if self._token is token and token is not None and token.is_cancelled():
                self._finish(None, "Cancelled; nothing was written or imported.")
        self.ctx.tasks.run_db(lambda t, p: None, on_success=lambda _: check(), owner=self)

    def start_import(self) -> None:
        lst = self.current_list()
        if lst is None:
            return
        path = self.ask_open_path()
        if not path:
            return
        db, actor = self.ctx.db, self.ctx.actor
        self._show_busy(True)
        self._show_report([])
        self.transfer_message.setText("Checking the file…")

        def work(token, progress):
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise UserFacingError(f"The file {path} could not be read ({exc.strerror or exc}); "
                                      "nothing was imported.") from None
            return data, import_csv.preview_list_import(db, actor=actor, list_id=lst.id, data=data,
                                                        progress=progress)

        self._token = self.ctx.tasks.run_db(
            work, on_success=lambda answer: self._previewed(lst, *answer),
            on_failure=self._failed, on_progress=self._progress, owner=self)
        self._watch_cancel()

    def _previewed(self, lst: ListView, data: bytes, preview) -> None:
        self._token = None
        self._show_busy(False)
        counts = ", ".join(f"{n:,} {STATUS_LABELS[s].lower()}" for s, n in preview.by_status.items())
        head = f"{import_csv.FORMAT_LABELS[preview.format]} {preview.kind}: {preview.rows:,} rows ({counts or 'none'})."
        if preview.rejected:
            self.transfer_message.setText(
                f"{head} {len(preview.rejected):,} row(s) cannot be imported, so nothing was imported; "
                "fix them in the file and import it again.")
            self._show_report(preview.report_lines())
            self.last_result = preview
            self.transfer_finished.emit(preview)
            return
        if not self.confirm_import(lst, head):
            self.transfer_message.setText("Nothing was imported.")
            return
        db, actor = self.ctx.db, self.ctx.actor
        self._show_busy(True)
        self._token = self.ctx.tasks.run_db(
            lambda token, progress: import_csv.import_list(db, actor=actor, list_id=lst.id, data=data,
                                                           preview=preview, progress=progress),
            on_success=self._imported, on_failure=self._failed, on_progress=self._progress, owner=self)
        self._watch_cancel()

    def _confirm_import(self, lst: ListView, head: str) -> bool:
        answer = QMessageBox.question(self, "Import", f"{head}\n\nImport these rows into “{lst.name}”?")
        return answer == QMessageBox.StandardButton.Yes

    def _imported(self, result) -> None:
        left = [f"Left out, line {x.line}: {x.reason}" for x in result.left_out]
        self._finish(result, (
            f"Imported: {result.subscribed:,} subscribed, {result.unsubscribed:,} unsubscribed, "
            f"{result.cleaned:,} bounced, {result.unchanged:,} already so; {result.new_customers:,} new customers"
            + (f"; {len(left):,} left out (below)." if left else ".")), left)
        self.ctx.bus.publish(result.changes)

    def _on_changes(self, changes) -> None:
        if changes.lists or changes.customers:
            self.reload()
