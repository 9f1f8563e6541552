"""The owner's staff screen: accounts, adding, disabling and enabling, passwords and roles."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import Role
from backoffice.domain.staff import Permission
from backoffice.errors import UserFacingError
from backoffice.services import staff
from backoffice.services.changes import Changes
from backoffice.services.staff import StaffSummary
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.staff.staff_dialogs import AddStaffDialog, ChangeRoleDialog, ResetPasswordDialog
from ui.staff.staff_table_model import StaffTableModel


class StaffScreen(QWidget):
    """Lists the shop's staff accounts and lets the owner change them."""

    title = "Staff"
    permission = Permission.MANAGE_STAFF

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staffScreen")
        self.ctx = ctx
        self._loading = False
        self._reload_again = False
        self._select_after_load: int | None = None

        self.model = StaffTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("staffTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.add_button = QPushButton("&Add account…")
        self.disable_button = QPushButton("&Disable")
        self.enable_button = QPushButton("&Enable")
        self.reset_button = QPushButton("&Reset password…")
        self.role_button = QPushButton("Change &role…")
        for name, button in (("addButton", self.add_button), ("disableButton", self.disable_button),
                             ("enableButton", self.enable_button), ("resetButton", self.reset_button),
                             ("roleButton", self.role_button)):
            button.setObjectName(name)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.disable_button, self.enable_button, self.reset_button,
                       self.role_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.status = QLabel()
        self.status.setObjectName("staffStatus")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

        self.add_button.clicked.connect(self.add_account)
        self.disable_button.clicked.connect(self.disable_selected)
        self.enable_button.clicked.connect(self.enable_selected)
        self.reset_button.clicked.connect(self.reset_selected)
        self.role_button.clicked.connect(self.change_selected_role)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        ctx.bus.changed.connect(self._on_changes)

        self._update_buttons()
        self.reload()

    # --- loading ----------------------------------------------------------------------

    def reload(self) -> None:
        """Load the accounts on the database pool."""
        if self._loading:
            self._reload_again = True  # a change arrived while loading: load once more after
            return
        self._loading = True
        db, actor = self.ctx.db, self.ctx.actor
        self.ctx.tasks.run_db(lambda token, progress: staff.list_staff(db, actor=actor),
                              on_success=self._loaded, on_failure=self._load_failed)

    def _loaded(self, rows: list[StaffSummary]) -> None:
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.reload()
        keep = self._select_after_load or self.selected_id()
        self._select_after_load = None
        self.model.set_rows(rows)
        row = self.model.row_of(keep) if keep is not None else -1
        if row >= 0:
            self.table.selectRow(row)
        active = sum(r.active for r in rows)
        self.status.setText(f"{len(rows)} accounts, {active} active.")

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self._reload_again = False
        if isinstance(exc, UserFacingError):
            self.status.setText(exc.message)
        else:
            show_error(self, exc)

    def _on_changes(self, changes: Changes) -> None:
        if changes.staff:
            self.reload()

    # --- selection and the questions before each action -------------------------------

    def selected(self) -> StaffSummary | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def selected_id(self) -> int | None:
        row = self.selected()
        return row.id if row else None

    def select(self, staff_id: int) -> None:
        row = self.model.row_of(staff_id)
        if row >= 0:
            self.table.selectRow(row)

    def _active_owners(self) -> int:
        return sum(1 for r in self.model.rows() if r.active and r.role == Role.OWNER)

    def _update_buttons(self) -> None:
        target = self.selected()
        reason = None
        if target is not None:
            reason = staff.disable_refusal(target, actor=self.ctx.actor, active_owners=self._active_owners())
        self.disable_button.setEnabled(target is not None and reason is None)
        self.disable_button.setToolTip(reason or "")
        self.enable_button.setEnabled(target is not None and (not target.active or target.is_locked()))
        self.reset_button.setEnabled(target is not None)
        self.role_button.setEnabled(target is not None)

    # --- actions ----------------------------------------------------------------------

    def _changed(self, summary: StaffSummary) -> None:
        self._select_after_load = summary.id
        self.ctx.bus.publish(Changes(staff=frozenset({summary.id})))

    def add_account(self) -> AddStaffDialog:
        dialog = AddStaffDialog(self.ctx, self)
        dialog.accepted.connect(lambda: self._changed(dialog.summary))
        dialog.open()
        return dialog

    def reset_selected(self) -> ResetPasswordDialog | None:
        target = self.selected()
        if target is None:
            return None
        dialog = ResetPasswordDialog(self.ctx, target, self)
        dialog.accepted.connect(lambda: self._changed(dialog.summary))
        dialog.open()
        return dialog

    def change_selected_role(self) -> ChangeRoleDialog | None:
        target = self.selected()
        if target is None:
            return None
        dialog = ChangeRoleDialog(self.ctx, target, active_owners=self._active_owners(), parent=self)
        dialog.accepted.connect(lambda: self._changed(dialog.summary))
        dialog.open()
        return dialog

    def disable_selected(self) -> None:
        self._run_on_selected(staff.disable_staff)

    def enable_selected(self) -> None:
        self._run_on_selected(staff.enable_staff)

    def _run_on_selected(self, service) -> None:
        target = self.selected()
        if target is None:
            return
        db, actor, staff_id = self.ctx.db, self.ctx.actor, target.id
        self.disable_button.setEnabled(False)
        self.enable_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self._update_buttons()
            show_error(self, exc)

        self.ctx.tasks.run_db(lambda token, progress: service(db, actor=actor, staff_id=staff_id),
                              on_success=self._changed, on_failure=failed)
