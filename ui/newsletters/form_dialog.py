"""The newsletters' small dialogs: a form, a sentence under it when the change is refused, and
the change saved in the background."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from backoffice.errors import UserFacingError
from backoffice.services.changes import Changes
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.styles import ERROR_STYLE


class SaveFormDialog(QDialog):
    """Subclasses add fields to `self.form` and call `_run(work)` from `save`; `result` holds
    what the service returned once the dialog is accepted."""

    error_object_name = "formError"

    def __init__(self, ctx: AppContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result: Any = None
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.error = QLabel("")
        self.error.setObjectName(self.error_object_name)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def changes_of(self, result: Any) -> Changes:
        """What the service's answer says it changed, for the open screens."""
        return result.changes

    def _run(self, work: Callable[[], Any]) -> None:
        self.buttons.setEnabled(False)
        self.error.hide()

        def done(result) -> None:
            self.result = result
            self.ctx.bus.publish(self.changes_of(result))
            self.accept()

        def failed(exc) -> None:
            self.buttons.setEnabled(True)
            if isinstance(exc, UserFacingError):
                self.error.setText(exc.message)
                self.error.show()
            else:
                show_error(self, exc)

        self.ctx.tasks.run_db(lambda token, progress: work(), on_success=done, on_failure=failed, owner=self)

    def save(self) -> None:
        raise NotImplementedError
