"""The Subscribe… and Unsubscribe… buttons of the customer page's Newsletters tab."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from backoffice.domain.staff import Permission
from backoffice.services.newsletters import consent as consent_service
from ui.common.errors import show_error
from ui.newsletters.consent_dialog import SubscribeDialog, UnsubscribeDialog


def consent_buttons(page) -> QHBoxLayout:
    """Buttons that open the consent dialogs for `page.customer_id` (hidden without the permission).

    The dialog opened last is kept as `page.consent_dialog`.
    """
    row = QHBoxLayout()
    page.consent_dialog = None
    allowed = page.ctx.may(Permission.MANAGE_NEWSLETTERS)
    for label, name, dialog_class in (("Subscribe…", "subscribeButton", SubscribeDialog),
                                      ("Unsubscribe…", "unsubscribeButton", UnsubscribeDialog)):
        button = QPushButton(label)
        button.setObjectName(name)
        button.setVisible(allowed)
        button.clicked.connect(lambda _=False, cls=dialog_class, b=button: _open(page, cls, b))
        row.addWidget(button)
    row.addStretch(1)
    return row


def _open(page, dialog_class, button: QPushButton) -> None:
    ctx, cid = page.ctx, page.customer_id
    button.setEnabled(False)

    def show(state) -> None:
        button.setEnabled(True)
        dialog = dialog_class(ctx, cid, state, page)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        page.consent_dialog = dialog
        dialog.open()

    def failed(exc) -> None:
        button.setEnabled(True)
        show_error(page, exc)

    ctx.tasks.run_db(lambda token, progress: consent_service.customer_consent(
        ctx.db, actor=ctx.actor, customer_id=cid), on_success=show, on_failure=failed, owner=button)
