"""A dialog whose form runs one service on the database pool, with problems shown inline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLayout, QVBoxLayout, QWidget

from backoffice.errors import UserFacingError, ValidationError
from ui.common.errors import show_error
from ui.common.inline_form import InlineForm, grow_to_fit
from ui.common.styles import ERROR_STYLE
from ui.common.tasks import TaskManager


class ServiceFormDialog(QDialog):
    """Intro, form, message line and buttons; OK checks locally, then runs `work()` off the GUI thread.

    Subclasses add fields to `self.form`, say what is wrong before asking the database
    (`local_problems`), what to run (`work`), and what the result means (`finished`). A
    `ValidationError` marks its fields, a `UserFacingError` shows its sentence under the form,
    anything else goes to the error box; the dialog cannot be closed while the work runs.
    """

    ok_text = "OK"
    ok_object_name = "okButton"

    def __init__(self, tasks: TaskManager, title: str, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        # Wide enough that the title bar shows the whole title and the intro reads in a few lines.
        self.setMinimumWidth(max(420, self.fontMetrics().horizontalAdvance(title) + 160))
        self._tasks = tasks
        self._busy = False
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.form = InlineForm()
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(self.ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName(self.ok_object_name)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        # The dialog grows to fit a message shown under the fields, instead of squeezing them.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(self.intro)
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does it become the dialog's default (Enter).
        self.ok_button.setDefault(True)

    def local_problems(self) -> dict[str, str]:
        return {}

    def work(self) -> Callable[[], Any]:
        raise NotImplementedError

    def finished_with(self, result: Any) -> None:
        self.accept()

    def refused(self, exc: BaseException) -> bool:
        """Handle a failure the generic way cannot; True when handled."""
        return False

    def submit(self) -> None:
        if self._busy:
            return
        self.message.hide()
        if self.form.set_errors(self.local_problems()):
            return
        job = self.work()
        self._set_busy(True)
        self._tasks.run_db(lambda token, progress: job(), on_success=self._done, on_failure=self._failed)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.form.setEnabled(not busy)
        self.ok_button.setEnabled(not busy)

    def _done(self, result: Any) -> None:
        self._set_busy(False)
        self.finished_with(result)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError) and self.form.set_errors(exc.fields):
            return
        if self.refused(exc):
            return
        if isinstance(exc, UserFacingError):
            self.message.setText(exc.message)
            self.message.show()
            grow_to_fit(self)
            return
        show_error(self, exc)

    def reject(self) -> None:
        if not self._busy:
            super().reject()

