"""The response letter of a decided request: its text to copy into an email, and its PDF to save."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from backoffice.errors import UserFacingError
from backoffice.services.privacy import letters
from ui.common.context import AppContext
from ui.common.errors import show_error


class LetterDialog(QDialog):
    def __init__(self, ctx: AppContext, request_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("letterDialog")
        self.setWindowTitle(f"Letter for request {request_id}")
        self.ctx = ctx
        self.request_id = request_id
        self.text = QPlainTextEdit()
        self.text.setObjectName("letterText")
        self.text.setReadOnly(True)
        self.text.setPlainText("Writing the letter…")
        self.status = QLabel()
        self.status.setObjectName("letterStatus")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("&Copy text", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button = buttons.addButton("&Save PDF…", QDialogButtonBox.ButtonRole.ActionRole)
        for b in (self.copy_button, self.save_button):
            b.setEnabled(False)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self._copy)
        self.save_button.clicked.connect(lambda: self.save_to(None))
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(640, 480)
        db, actor = ctx.db, ctx.actor
        ctx.tasks.run_db(lambda token, progress: letters.response_letter(db, actor=actor, request_id=request_id),
                         on_success=self._shown, on_failure=self._failed)

    def _shown(self, letter: letters.Letter) -> None:
        self.text.setPlainText(letter.text)
        self.copy_button.setEnabled(True)
        self.save_button.setEnabled(True)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())
        self.status.setText("Copied: paste it into your email to the requester.")

    def save_to(self, path: str | None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save the letter", f"privacy-request-{self.request_id}.pdf",
                                                  "PDF files (*.pdf)")
            if not path:
                return
        db, actor, rid = self.ctx.db, self.ctx.actor, self.request_id
        self.ctx.tasks.run_db(lambda token, progress: letters.save_letter(db, actor=actor, request_id=rid, out=path),
                              on_success=lambda _l: self.status.setText(f"Saved {path}."),
                              on_failure=self._failed)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):
            self.status.setText(exc.message)
        else:
            show_error(self, exc)
