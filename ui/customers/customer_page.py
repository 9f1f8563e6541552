"""One customer's page: profile edited in place, addresses, orders, newsletters, requests, notes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QSizePolicy,
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import (
    AddressKind,
    Channel,
    ConsentAction,
    CustomerStatus,
    RequestKind,
    RequestStatus,
    SubscriptionStatus,
)
from backoffice.domain.staff import Permission
from backoffice.errors import ValidationError
from backoffice.services import audit as audit_service
from backoffice.services import customers as customers_service
from backoffice.services.changes import Changes
from backoffice.services.customers import (
    EDITABLE_FIELDS,
    CustomerChangedElsewhere,
    CustomerDetail,
    MergeResult,
    validate_changes,
)
from ui.staff.audit_table_model import COLUMNS as AUDIT_COLUMNS
from ui.calls.dial import add_call_button
from ui.common.context import AppContext
from ui.customers.customers_table_model import STATUS_LABELS
from ui.common.errors import show_error
from ui.customers.merge_dialog import MergeCustomersDialog, merge_summary
from ui.newsletters.consent_buttons import consent_buttons
from ui.customers.addresses import AddressesPanel
from ui.orders.orders_screen import STATUS_LABELS as ORDER_STATUS_LABELS
from ui.orders.orders_screen import money_text
from ui.privacy.customer_privacy_panel import CustomerPrivacyPanel
from ui.common.styles import ERROR_STYLE, WARNING_STYLE
from ui.common.plain_text import plain_label

FIELD_TITLES = {
    "first_name": "First name",
    "last_name": "Last name",
    "company": "Company",
    "email": "Email",
    "phone": "Phone",
}

ADDRESS_KIND_LABELS = {
    AddressKind.BILLING: "Billing",
    AddressKind.SHIPPING: "Shipping",
    AddressKind.OTHER: "Other",
}
CHANNEL_LABELS = {
    Channel.EMAIL: "Email",
    Channel.SMS: "Text message",
    Channel.POSTAL: "Post",
}
SUBSCRIPTION_STATUS_LABELS = {
    SubscriptionStatus.UNCONFIRMED: "Not confirmed yet",
    SubscriptionStatus.SUBSCRIBED: "Subscribed",
    SubscriptionStatus.UNSUBSCRIBED: "Unsubscribed",
    SubscriptionStatus.CLEANED: "Address bounced",
}
CONSENT_ACTION_LABELS = {
    ConsentAction.OPT_IN: "Signed up",
    ConsentAction.CONFIRM: "Confirmed",
    ConsentAction.OPT_OUT: "Unsubscribed",
    ConsentAction.CLEAN: "Bounced",
}
REQUEST_KIND_LABELS = {
    RequestKind.ACCESS: "Copy of their data",
    RequestKind.CORRECTION: "Correction",
    RequestKind.DELETION: "Deletion",
    RequestKind.DEACTIVATION: "Deactivation",
    RequestKind.RESTRICTION: "Restriction of processing",
    RequestKind.OBJECTION: "Objection to marketing",
}
REQUEST_STATUS_LABELS = {
    RequestStatus.RECEIVED: "Received",
    RequestStatus.IN_PROGRESS: "In progress",
    RequestStatus.AWAITING_REVIEW: "Awaiting review",
    RequestStatus.FULFILLED: "Done",
    RequestStatus.PARTLY_FULFILLED: "Partly done",
    RequestStatus.REFUSED: "Refused",
    RequestStatus.WITHDRAWN: "Withdrawn",
}
# The audit trail screen's wording for an outcome, so both say the same.
_audit_outcome = next(c.value for c in AUDIT_COLUMNS if c.header == "Outcome")


def _label(labels: dict, value) -> str:
    """The words for a stored value; one the labels do not know yet reads as plain words."""
    if value in labels:
        return labels[value]
    text = str(getattr(value, "value", value) or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _when(value) -> str:
    # Stored in UTC; shown in the desk's own time, as the orders screen does.
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


def _table(headers: list[str], name: str, stretch: int | None = None) -> QTableWidget:
    """A read-only table whose `stretch` column (the longest text, the last by default) takes the spare width."""
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def _hint(name: str) -> QLabel:
    """A grey line that says why something nearby is not offered; hidden when it is."""
    hint = plain_label("")
    hint.setObjectName(name)
    hint.setWordWrap(True)
    hint.setStyleSheet("color: #555;")
    hint.hide()
    return hint


def _grey_refused(table: QTableWidget, reasons: list[str]) -> None:
    """Grey the rows that may not be opened, the reason in each cell's tooltip."""
    for r, why in enumerate(reasons):
        if not why:
            continue
        for c in range(table.columnCount()):
            item = table.item(r, c)
            if item is not None:
                item.setForeground(QColor("#8a8a8a"))
                item.setToolTip(why)


def _fill(table: QTableWidget, rows: list[tuple], ids: list[int] | None = None) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem("" if value is None else str(value))
            if ids is not None:
                item.setData(Qt.ItemDataRole.UserRole, ids[r])
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


class CustomerPage(QWidget):
    """Loads the record on the database pool; edits are checked as each field is left and
    saved against the version shown, so a change made at another desk is never overwritten."""

    title = "Customer"

    order_opened = Signal(int)
    customer_opened = Signal(int)
    # The tab's title: the name the page shows, once the record has loaded.
    title_changed = Signal(str)
    loaded = Signal(object)  # CustomerDetail
    saved = Signal(object)  # CustomerDetail

    def __init__(self, ctx: AppContext, customer_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id = customer_id
        self.detail: CustomerDetail | None = None
        self.tab_title = "Customer"
        self.tab_tooltip = ""
        self._editing = False
        self._saving = False
        # The values the form was loaded with, and the version they belong to.
        self._original: dict[str, str] = {}
        self._version = 0

        self.heading = plain_label("Loading customer…")
        self.heading.setObjectName("customerHeading")
        self.heading.setStyleSheet("font-size: 16pt; font-weight: 600;")
        # A long name wraps (its whole text in the tooltip) instead of widening the window
        # past a small screen.
        self.heading.setWordWrap(True)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.state = plain_label("")
        self.state.setObjectName("customerState")
        self.message = plain_label("")
        self.message.setObjectName("customerMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        # Others who may be the same person (same email, phone, or name and postcode).
        self.duplicates = QFrame()
        self.duplicates.setObjectName("possibleDuplicates")
        self.duplicates.setStyleSheet("#possibleDuplicates { background: #fff4ce; border: 1px solid #e0c36a; }")
        self.duplicates_layout = QVBoxLayout(self.duplicates)
        self.duplicates_layout.setContentsMargins(8, 4, 8, 4)
        self.duplicates.hide()
        self.duplicate_hits: list = []
        self._duplicates_body: QWidget | None = None

        self.tabs = QTabWidget()
        self.tabs.setObjectName("customerTabs")
        self.tabs.addTab(self._profile_tab(), "Profile")
        self.addresses = _table(["Kind", "Address", "Phone", "Email"], "customerAddresses", stretch=1)
        self.address_panel = AddressesPanel(ctx, customer_id, self.addresses)
        self.tabs.addTab(self.address_panel, "Addresses")
        self.orders = _table(["Order", "Placed", "Status", "Total", "Tracking"], "customerOrders")
        self.orders.activated.connect(self._open_order)
        self.orders.doubleClicked.connect(self._open_order)
        # Says why greyed orders cannot be opened (an order taker opens only her own).
        self.orders_hint = _hint("ordersHint")
        orders_tab = QWidget()
        orders_layout = QVBoxLayout(orders_tab)
        orders_layout.addWidget(self.orders_hint)
        orders_layout.addWidget(self.orders, 1)
        self.tabs.addTab(orders_tab, "Orders")
        self.tabs.addTab(self._newsletter_tab(), "Newsletters")
        self.requests = _table(["Request", "Status", "Received", "Due"], "customerRequests", stretch=0)
        self.tabs.addTab(self._requests_tab(), "Privacy requests")
        self.tabs.addTab(self._notes_tab(), "Notes")
        self.audit = _table(["When", "Who", "What", "Fields", "Outcome"], "customerAudit", stretch=3)
        self._audit_index = -1

        top = QHBoxLayout()
        # The heading takes the width (an ignored size policy beside a stretch would get none).
        top.addWidget(self.heading, 1)
        top.addWidget(self.state)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.duplicates)
        layout.addWidget(self.tabs, 1)

        ctx.bus.changed.connect(self._on_changes)
        self.reload()

    # --- building ---------------------------------------------------------------------------

    def _profile_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self.theirs: dict[str, QLabel] = {}
        for name in EDITABLE_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"field_{name}")
            edit.setReadOnly(True)
            edit.editingFinished.connect(lambda n=name: self._check_field(n))
            error = plain_label("")
            error.setObjectName(f"error_{name}")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            theirs = plain_label("")
            theirs.setObjectName(f"theirs_{name}")
            theirs.setStyleSheet(WARNING_STYLE)
            theirs.setWordWrap(True)
            theirs.hide()
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(edit)
            box.addWidget(error)
            box.addWidget(theirs)
            form.addRow(FIELD_TITLES[name], box)
            self.fields[name] = edit
            self.errors[name] = error
            self.theirs[name] = theirs
        add_call_button(self.fields["phone"], self.ctx, lambda: self.customer_id)
        self.edit_button = QPushButton("Edit")
        self.edit_button.setObjectName("editCustomer")
        self.edit_button.clicked.connect(self.start_editing)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("saveCustomer")
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelEdit")
        self.cancel_button.clicked.connect(self.cancel_editing)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(lambda: self._editing and self.cancel_editing())
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        self.edit_hint = _hint("editHint")
        buttons.addWidget(self.edit_hint, 1)
        self.profile_facts = plain_label("")
        self.profile_facts.setObjectName("profileFacts")
        self.profile_facts.setWordWrap(True)
        layout = QVBoxLayout(tab)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.profile_facts)
        layout.addStretch(1)
        self._set_editing(False)
        return tab

    def _newsletter_tab(self) -> QWidget:
        tab = QWidget()
        self.subscriptions = _table(["List", "Channel", "Status", "Since"], "customerSubscriptions", stretch=0)
        self.consents = _table(["When", "List", "What", "How", "Wording"], "customerConsents")
        subs, evidence = QGroupBox("Subscriptions"), QGroupBox("Consent evidence")
        QVBoxLayout(subs).addWidget(self.subscriptions)
        QVBoxLayout(evidence).addWidget(self.consents)
        layout = QVBoxLayout(tab)
        layout.addLayout(consent_buttons(self))
        layout.addWidget(subs)
        layout.addWidget(evidence)
        return tab

    def _requests_tab(self) -> QWidget:
        tab = QWidget()
        self.privacy_panel = CustomerPrivacyPanel(self.ctx, self.customer_id, tab)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.privacy_panel)
        layout.addWidget(self.requests, 1)
        return tab

    def _notes_tab(self) -> QWidget:
        tab = QWidget()
        self.notes = QListWidget()
        self.notes.setObjectName("customerNotes")
        self.notes.setWordWrap(True)
        self.note_text = QPlainTextEdit()
        self.note_text.setObjectName("noteText")
        self.note_text.setPlaceholderText("A note about this customer (never a card number)")
        self.note_text.setMaximumHeight(90)
        self.note_button = QPushButton("Add note")
        self.note_button.setObjectName("addNote")
        self.note_button.clicked.connect(self.add_note)
        self.note_message = plain_label("")
        self.note_message.setObjectName("noteMessage")
        self.note_message.setWordWrap(True)
        self.note_message.setStyleSheet(WARNING_STYLE)
        row = QHBoxLayout()
        row.addWidget(self.note_text, 1)
        row.addWidget(self.note_button)
        self.note_hint = _hint("noteHint")
        layout = QVBoxLayout(tab)
        layout.addWidget(self.note_hint)
        layout.addWidget(self.notes, 1)
        layout.addLayout(row)
        layout.addWidget(self.note_message)
        return tab

    # --- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        self.ctx.tasks.run_db(
            lambda token, progress: customers_service.get_customer(db, actor=actor, customer_id=cid),
            on_success=self._show, on_failure=lambda exc: show_error(self, exc))

    def _show(self, detail: CustomerDetail, *, keep_edits: bool = False) -> None:
        self.detail = detail
        p = detail.profile
        self.heading.setText(p.display_name)
        self.heading.setToolTip(p.display_name)
        state = STATUS_LABELS.get(p.status, str(p.status))
        if p.merged_into_id:
            state = f"Merged into {p.merged_into_name}"
        self.state.setText(state)
        # The tab says what the heading says: the name, else the company or email.
        self.tab_title = p.display_name
        self.tab_tooltip = " · ".join(dict.fromkeys(x for x in (p.display_name, p.company, p.email, state) if x))
        self.title_changed.emit(self.tab_title)
        self._original = {name: p.value(name) for name in EDITABLE_FIELDS}
        self._version = p.version
        if not keep_edits:
            for name, edit in self.fields.items():
                edit.setText(p.value(name))
                self._set_error(name, "")
                self.theirs[name].hide()
            self._set_editing(False)
        facts = [f"Customer since {p.created_at.astimezone():%Y-%m-%d}"]
        if p.store_id:
            facts.append(f"web store id {p.store_id}")
        if p.restricted:
            facts.append("processing restricted")
        if p.objected:
            facts.append("objected to marketing")
        self.profile_facts.setText(" · ".join(facts))
        _fill(self.addresses, [(_label(ADDRESS_KIND_LABELS, a.kind) + (" (default)" if a.is_default else ""),
                                ", ".join(a.lines), a.phone, a.email) for a in detail.addresses])
        self.address_panel.show_detail(detail)
        _fill(self.orders, [(o.number, _when(o.created_at), _label(ORDER_STATUS_LABELS, o.status),
                             money_text(o.total, o.currency),
                             ", ".join(f"{t.carrier} {t.tracking_number}".strip() for t in o.tracking))
                            for o in detail.orders], ids=[o.id for o in detail.orders])
        _grey_refused(self.orders, [o.why_not for o in detail.orders])
        refused = sum(1 for o in detail.orders if not o.may_open)
        self.orders_hint.setText("" if not refused else
                                 f"{'One order is' if refused == 1 else f'{refused} orders are'} greyed: "
                                 "taken by someone else, and order taker accounts open only the orders "
                                 "they took.")
        self.orders_hint.setVisible(bool(refused))
        _fill(self.subscriptions, [(s.list_name, _label(CHANNEL_LABELS, s.channel),
                                    _label(SUBSCRIPTION_STATUS_LABELS, s.status), _when(s.updated_at))
                                   for s in detail.subscriptions])
        _fill(self.consents, [(_when(c.at), c.list_name, _label(CONSENT_ACTION_LABELS, c.action),
                               _label({}, c.method), c.wording)
                              for c in detail.consents])
        self.privacy_panel.show_profile(p)
        _fill(self.requests, [(_label(REQUEST_KIND_LABELS, r.kind), _label(REQUEST_STATUS_LABELS, r.status),
                               _when(r.received_at), _when(r.due_at))
                              for r in detail.requests])
        self.notes.clear()
        for note in detail.notes:
            who = f" — {note.staff_name}" if note.staff_name else ""
            self.notes.addItem(QListWidgetItem(f"{_when(note.created_at)}{who}\n{note.text}"))
        self.note_text.setEnabled(detail.can_add_note)
        self.note_button.setEnabled(detail.can_add_note)
        self.note_button.setToolTip(detail.why_no_note)
        self.note_hint.setText(detail.why_no_note)
        self.note_hint.setVisible(bool(detail.why_no_note))
        if detail.audit_visible:
            _fill(self.audit, [(_when(e.at), e.staff_login, e.action_label, ", ".join(e.fields),
                                _label({}, _audit_outcome(e))) for e in detail.audit])
            if self._audit_index < 0:
                self._audit_index = self.tabs.addTab(self.audit, "Audit trail")
        self._look_for_duplicates(detail)
        self.loaded.emit(detail)

    # --- possible duplicates ---------------------------------------------------------------

    _REASONS = {"email": "same email", "phone": "same phone", "name": "same name and postcode"}

    def _look_for_duplicates(self, detail: CustomerDetail) -> None:
        p = detail.profile
        if p.merged_into_id or p.status in (CustomerStatus.ERASED,):
            self._show_duplicates([])
            return
        default = next((a for a in detail.addresses if a.is_default), detail.addresses[0] if detail.addresses else None)
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        values = dict(email=p.email, phone=p.phone, first_name=p.first_name, last_name=p.last_name,
                      postcode=default.postcode if default else "")
        self.ctx.tasks.run_db(
            lambda token, progress: customers_service.similar_customers(db, actor=actor, exclude_id=cid, **values),
            on_success=self._show_duplicates, on_failure=lambda exc: None)

    def _show_duplicates(self, hits: list) -> None:
        self.duplicate_hits = list(hits)[:3]
        if self._duplicates_body is not None:
            self.duplicates_layout.removeWidget(self._duplicates_body)
            self._duplicates_body.deleteLater()
            self._duplicates_body = None
        may_merge = self.ctx.may(Permission.MERGE_CUSTOMERS)
        body = QWidget()
        rows = QVBoxLayout(body)
        rows.setContentsMargins(0, 0, 0, 0)
        for hit in self.duplicate_hits:
            row = QHBoxLayout()
            who = " · ".join(x for x in (hit.name, hit.phone, hit.email, " ".join(
                y for y in (hit.postcode, hit.city) if y)) if x)
            label = plain_label(f"Possibly the same person ({self._REASONS.get(hit.match, hit.match)}): {who}")
            label.setWordWrap(True)
            row.addWidget(label, 1)
            open_button = QPushButton("Open")
            open_button.clicked.connect(lambda _=False, cid=hit.id: self.customer_opened.emit(cid))
            row.addWidget(open_button)
            if may_merge:
                merge_button = QPushButton("Merge…")
                merge_button.setObjectName(f"mergeWith{hit.id}")
                merge_button.clicked.connect(lambda _=False, h=hit: self.merge_with(h.id, h.match))
                row.addWidget(merge_button)
            rows.addLayout(row)
        self.duplicates_layout.addWidget(body)
        self._duplicates_body = body
        self.duplicates.setVisible(bool(self.duplicate_hits))

    def merge_with(self, other_id: int, match: str = "") -> MergeResult | None:
        """Ask which record to keep and merge the other into it; open the kept one if it is the other."""
        if self.detail is None:
            return None
        reason = self._REASONS.get(match, "").capitalize()
        dialog = MergeCustomersDialog(self.ctx, self.detail, other_id, reason, self)
        self.merge_dialog = dialog
        dialog.exec()
        result = dialog.result_of_merge
        self.merge_dialog = None
        if result is None:
            return None
        text = merge_summary(result)
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(text, 15000)
        if result.keep_id != self.customer_id:
            self.customer_opened.emit(result.keep_id)
        else:
            self._show_message(text, error=False)
        return result

    # --- editing in place ------------------------------------------------------------------

    def unsaved_work(self) -> str:
        if not self._editing or self.detail is None:
            return ""
        return f"changes to {self.detail.profile.display_name} being edited"

    def _set_editing(self, editing: bool) -> None:
        self._editing = editing
        can_edit = bool(self.detail and self.detail.can_edit)
        for edit in self.fields.values():
            edit.setReadOnly(not editing)
        self.edit_button.setVisible(not editing)
        self.edit_button.setEnabled(can_edit)
        why = self.detail.why_no_edit if self.detail is not None and not can_edit else ""
        self.edit_button.setToolTip(why)
        self.edit_hint.setText(why)
        self.edit_hint.setVisible(bool(why) and not editing)
        self.save_button.setVisible(editing)
        self.cancel_button.setVisible(editing)

    def start_editing(self) -> None:
        if self.detail is None or not self.detail.can_edit:
            return
        self._set_editing(True)
        self.fields["first_name"].setFocus()

    def cancel_editing(self) -> None:
        if self.detail is not None:
            self._show(self.detail)
        self._hide_message()

    def _set_error(self, name: str, sentence: str) -> None:
        label = self.errors[name]
        label.setText(sentence)
        label.setVisible(bool(sentence))

    def _check_field(self, name: str) -> None:
        """Check a field as soon as it is left, with the same rules the save uses."""
        if not self._editing or self.detail is None:
            return
        try:
            validate_changes({name: self.fields[name].text()},
                             default_country=self.detail.phone_region)
        except ValidationError as exc:
            self._set_error(name, exc.fields.get(name, exc.message))
        else:
            self._set_error(name, "")

    def edits(self) -> dict[str, str]:
        """The fields whose text differs from what was loaded."""
        return {name: edit.text() for name, edit in self.fields.items()
                if edit.text() != self._original.get(name, "")}

    def save(self) -> None:
        if self._saving or self.detail is None:
            return
        changes = self.edits()
        if not changes:
            self._set_editing(False)
            return
        self._saving = True
        self.save_button.setEnabled(False)
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        version, original = self._version, dict(self._original)

        def work(token, progress):
            return customers_service.update_customer(
                db, actor=actor, customer_id=cid, expected_version=version,
                changes=changes, original=original)

        self.ctx.tasks.run_db(work, on_success=self._saved, on_failure=self._save_failed)

    def _saved(self, detail: CustomerDetail) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self._show(detail)
        self._show_message("Saved. The web store gets the change with the next sync.", error=False)
        self.saved.emit(detail)
        self._publish(Changes(customers=frozenset({self.customer_id}), outbox=True))

    def _save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        if isinstance(exc, CustomerChangedElsewhere):
            self._show_conflict(exc)
        elif isinstance(exc, ValidationError) and exc.fields:
            for name in EDITABLE_FIELDS:
                self._set_error(name, exc.fields.get(name, ""))
            self._show_message(exc.message, error=True)
        else:
            show_error(self, exc)

    def _show_conflict(self, exc: CustomerChangedElsewhere) -> None:
        """Keep this desk's edits in the form and show the other desk's values beside them."""
        mine = self.edits()
        current = exc.current
        for name, edit in self.fields.items():
            theirs = current.value(name)
            label = self.theirs[name]
            if name in mine and name in exc.their_fields and theirs != mine[name]:
                label.setText(f"Saved at another desk: “{theirs}”. Yours is in the box; keep one.")
                label.show()
            elif name not in mine:
                edit.setText(theirs)
                if name in exc.their_fields:
                    label.setText("Just changed at another desk.")
                    label.show()
        # The next save goes against what the other desk saved, now that both are visible.
        self._original = {name: current.value(name) for name in EDITABLE_FIELDS}
        self._version = current.version
        self._show_message(exc.message, error=True)

    def _show_message(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setVisible(bool(text))

    def _hide_message(self) -> None:
        self.message.hide()
        for label in self.theirs.values():
            label.hide()

    # --- notes --------------------------------------------------------------------------------

    def add_note(self) -> None:
        text = self.note_text.toPlainText()
        if not text.strip():
            self.note_message.setText("Write something in the note first.")
            return
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        self.note_button.setEnabled(False)

        def done(result) -> None:
            self.note_button.setEnabled(True)
            self.note_text.clear()
            self.note_message.setText(result.message)
            note = result.note
            who = f" — {note.staff_name}" if note.staff_name else ""
            self.notes.insertItem(0, QListWidgetItem(f"{_when(note.created_at)}{who}\n{note.text}"))
            self._publish(result.changes)
            self.refresh_audit()

        def failed(exc: BaseException) -> None:
            self.note_button.setEnabled(True)
            if isinstance(exc, ValidationError):
                self.note_message.setText(exc.message)
            else:
                show_error(self, exc)

        self.ctx.tasks.run_db(
            lambda token, progress: customers_service.add_note(db, actor=actor, customer_id=cid, text=text),
            on_success=done, on_failure=failed)

    def refresh_audit(self) -> None:
        """Read the owner's audit tab again (without recording another view)."""
        if self.detail is None or not self.detail.audit_visible:
            return
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        self.ctx.tasks.run_db(
            lambda token, progress: audit_service.list_events(db, actor=actor, customer_id=cid,
                                                              limit=customers_service.MAX_AUDIT_SHOWN),
            on_success=lambda rows: _fill(self.audit, [
                (_when(e.at), e.staff_login, e.action_label, ", ".join(e.fields), _label({}, _audit_outcome(e)))
                for e in rows]),
            on_failure=lambda exc: show_error(self, exc))

    # --- elsewhere ------------------------------------------------------------------------------

    def _open_order(self, index) -> None:
        if index.isValid() and self.detail is not None and index.row() < len(self.detail.orders):
            order = self.detail.orders[index.row()]
            if not order.may_open:
                self._show_message(f"Order {order.number} cannot be opened here. {order.why_not}", error=False)
                return
            self.order_opened.emit(order.id)

    def _publish(self, changes: Changes) -> None:
        self._publishing = True
        try:
            self.ctx.bus.publish(changes)
        finally:
            self._publishing = False

    def _on_changes(self, changes) -> None:
        # Another screen changed this customer: show it, unless this desk is mid-edit.
        if getattr(self, "_publishing", False):
            return
        if self.customer_id in changes.customers and not self._editing and not self._saving:
            self.reload()
