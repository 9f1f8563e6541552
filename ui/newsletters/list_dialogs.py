"""The owner's dialogs for a new list (channel, purpose, first wording) and a new wording version."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from backoffice.domain.enums import Channel
from backoffice.services.changes import Changes
from backoffice.services.newsletters import lists as lists_service
from ui.common.context import AppContext
from ui.newsletters.form_dialog import SaveFormDialog

CHANNEL_CHOICES = ((Channel.EMAIL, "Email"), (Channel.SMS, "SMS"), (Channel.POSTAL, "Post"))


class _ListDialog(SaveFormDialog):
    error_object_name = "listDialogError"

    def changes_of(self, result) -> Changes:
        return result[1]

    def _wording_box(self) -> QPlainTextEdit:
        box = QPlainTextEdit()
        box.setObjectName("wordingText")
        box.setPlaceholderText("What the person agrees to, as it is read out or printed")
        box.setMaximumHeight(100)
        return box


class NewListDialog(_ListDialog):
    """A new list: its name, channel, what it is for, and the wording people agree to."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "New newsletter list", parent)
        self.setObjectName("newListDialog")
        self.name = QLineEdit()
        self.name.setObjectName("listName")
        self.channel = QComboBox()
        self.channel.setObjectName("listChannel")
        for channel, label in CHANNEL_CHOICES:
            self.channel.addItem(label, channel.value)
        self.purpose = QLineEdit()
        self.purpose.setObjectName("listPurpose")
        self.purpose.setPlaceholderText("What the shop sends on it, and how often")
        self.wording = self._wording_box()
        self.form.addRow("Name", self.name)
        self.form.addRow("Channel", self.channel)
        self.form.addRow("Purpose", self.purpose)
        self.form.addRow("Consent wording", self.wording)

    def save(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        values = dict(name=self.name.text(), channel=self.channel.currentData(), purpose=self.purpose.text(),
                      wording=self.wording.toPlainText())
        self._run(lambda: lists_service.create_list(db, actor=actor, **values))


class NewWordingDialog(_ListDialog):
    """A new version of a list's consent wording; consents already given keep theirs."""

    def __init__(self, ctx: AppContext, list_id: int, list_name: str, current: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"New consent wording for “{list_name}”", parent)
        self.setObjectName("newWordingDialog")
        self.list_id = list_id
        self.wording = self._wording_box()
        self.wording.setPlainText(current)
        note = QLabel("People who agreed before keep the wording they agreed to; this one is read out from now on.")
        note.setWordWrap(True)
        self.form.addRow("Consent wording", self.wording)
        self.form.addRow("", note)

    def save(self) -> None:
        db, actor, list_id, text = self.ctx.db, self.ctx.actor, self.list_id, self.wording.toPlainText()
        self._run(lambda: lists_service.add_wording(db, actor=actor, list_id=list_id, text=text))
