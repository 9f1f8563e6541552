"""The privacy controls on a customer's page: log a request, and (for the owner) the
restriction and objection flags and undoing a deactivation."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from backoffice.domain.enums import CustomerStatus
from backoffice.domain.staff import Permission
from backoffice.errors import UserFacingError
from backoffice.services.customers import CustomerProfile
from backoffice.services.privacy import flags
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.privacy.request_dialogs import DisclosureDialog, LogRequestDialog


class CustomerPrivacyPanel(QWidget):
    def __init__(self, ctx: AppContext, customer_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id = customer_id
        self.profile: CustomerProfile | None = None
        self.log_button = QPushButton("&Log a privacy request…")
        self.log_button.setObjectName("logRequestButton")
        self.log_button.setVisible(ctx.may(Permission.LOG_PRIVACY_REQUEST))
        self.restricted = QCheckBox("Processing restricted")
        self.restricted.setObjectName("restrictedFlag")
        self.objected = QCheckBox("Objects to processing")
        self.objected.setObjectName("objectedFlag")
        self.reactivate = QPushButton("&Reactivate")
        self.reactivate.setObjectName("reactivateButton")
        self.reactivate.setToolTip("Undo the deactivation: the customer may order and be marketed to again.")
        self.reactivate.hide()
        self.disclose_button = QPushButton("Record a &disclosure…")
        self.disclose_button.setObjectName("discloseButton")
        self.disclose_button.setVisible(ctx.may(Permission.RECORD_DISCLOSURE))
        self.note = QLabel()
        self.note.setObjectName("privacyFlagsNote")
        self.note.setWordWrap(True)
        owner = ctx.may(Permission.DECIDE_PRIVACY_REQUEST)
        for box in (self.restricted, self.objected):
            box.setEnabled(owner)
            box.setToolTip("Left out of every marketing list and mailing export while ticked.")
        layout = QHBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.log_button)
        layout.addSpacing(12)
        layout.addWidget(self.restricted)
        layout.addWidget(self.objected)
        layout.addWidget(self.reactivate)
        layout.addWidget(self.disclose_button)
        layout.addStretch(1)
        # The sentence goes under the buttons, so the row stays narrow enough for a small screen.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(layout)
        outer.addWidget(self.note)
        self.log_button.clicked.connect(self.log_request)
        self.restricted.clicked.connect(lambda on: self._set(restricted=on))
        self.objected.clicked.connect(lambda on: self._set(objected=on))
        self.reactivate.clicked.connect(self._reactivate)
        self.disclose_button.clicked.connect(self.record_disclosure)

    def show_profile(self, profile: CustomerProfile) -> None:
        self.profile = profile
        erased = profile.status is CustomerStatus.ERASED
        self.restricted.setChecked(profile.restricted)
        self.objected.setChecked(profile.objected)
        owner = self.ctx.may(Permission.DECIDE_PRIVACY_REQUEST)
        for box in (self.restricted, self.objected):
            box.setEnabled(owner and not erased)
        self.log_button.setEnabled(not erased)
        self.reactivate.setVisible(owner and profile.status is CustomerStatus.DEACTIVATED)

    def log_request(self) -> LogRequestDialog:
        name = self.profile.display_name if self.profile else ""
        dialog = LogRequestDialog(self.ctx, self.customer_id, name, self)
        dialog.open()
        return dialog

    def record_disclosure(self) -> DisclosureDialog:
        dialog = DisclosureDialog(self.ctx, self.customer_id, self)
        dialog.accepted.connect(lambda: self.note.setText(
            f"Disclosure to {dialog.result.requested_by} recorded." if dialog.result else ""))
        dialog.open()
        return dialog

    def _run(self, work) -> None:
        self.ctx.tasks.run_db(lambda token, progress: work(), on_success=self._done, on_failure=self._failed)

    def _set(self, **values) -> None:
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        self._run(lambda: flags.set_privacy_flags(db, actor=actor, customer_id=cid, **values))

    def _reactivate(self) -> None:
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        self._run(lambda: flags.reactivate_customer(db, actor=actor, customer_id=cid))

    def _done(self, result: flags.Flags) -> None:
        self.note.setText(result.sentence)
        self.ctx.bus.publish(result.changes)

    def _failed(self, exc: BaseException) -> None:
        if self.profile is not None:
            self.show_profile(self.profile)
        if isinstance(exc, UserFacingError):
            self.note.setText(exc.message)
        else:
            show_error(self, exc)
