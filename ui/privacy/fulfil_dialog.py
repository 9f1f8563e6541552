"""Fulfilling a request: what will happen (for a deletion, the preview of what is erased and
what is kept and why), then doing it on the database pool."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import RequestKind
from backoffice.errors import UserFacingError
from backoffice.services.privacy import erasure, fulfil
from backoffice.services.privacy.register import RequestRow
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.styles import ERROR_STYLE

_WHAT_HAPPENS = {
    RequestKind.DEACTIVATION: "The customer is deactivated: no new orders and no marketing. You can undo it "
                              "from their page.",
    RequestKind.RESTRICTION: "Processing is restricted: the customer is left out of every marketing list and "
                             "mailing export. Their page shows it.",
    RequestKind.OBJECTION: "The objection is recorded: the customer is left out of every marketing list and "
                           "mailing export. Their page shows it.",
    RequestKind.MARKETING_OPT_OUT: "The customer is unsubscribed from every list, with the opt-out recorded.",
    RequestKind.CORRECTION: "Make the corrections on the customer's page first (they are audited and sent to "
                            "the web store), then say here what was corrected.",
    RequestKind.ACCESS: "A ZIP with their data (JSON, a CSV per table, a printable PDF) is written to the file "
                        "you choose. The app keeps no copy.",
}


class FulfilDialog(QDialog):
    def __init__(self, ctx: AppContext, row: RequestRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fulfilDialog")
        self.setWindowTitle(f"Fulfil request {row.id}: {row.kind_label}")
        self.ctx = ctx
        self.row = row
        self.result: fulfil.Fulfilment | None = None
        self._busy = False
        self.summary = QLabel("Working out what will happen…" if row.kind is RequestKind.DELETION
                              else _WHAT_HAPPENS.get(row.kind, ""))
        self.summary.setObjectName("fulfilSummary")
        self.summary.setWordWrap(True)
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("erasurePreview")
        self.preview.setReadOnly(True)
        self.preview.setVisible(row.kind is RequestKind.DELETION)
        self.path = QLineEdit()
        self.path.setObjectName("exportPath")
        browse = QPushButton("&Choose…")
        browse.clicked.connect(self._choose)
        path_row = QHBoxLayout()
        path_row.addWidget(QLabel("Write to"))
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.path_box = QWidget()
        self.path_box.setLayout(path_row)
        self.path_box.setVisible(row.kind is RequestKind.ACCESS)
        self.note = QLineEdit()
        self.note.setObjectName("correctionNote")
        self.note.setPlaceholderText("What was corrected, e.g. “postcode and phone”")
        self.note.setVisible(row.kind is RequestKind.CORRECTION)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        label = "&Erase now" if row.kind is RequestKind.DELETION else "&Fulfil"
        self.ok_button = self.buttons.addButton(label, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName("okButton")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.path_box)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(620, 460 if row.kind is RequestKind.DELETION else 200)
        if row.kind is RequestKind.DELETION:
            self.ok_button.setEnabled(False)
            db, actor, cid = ctx.db, ctx.actor, row.customer_id
            ctx.tasks.run_db(lambda token, progress: erasure.preview_erasure(db, actor=actor, customer_id=cid),
                             on_success=self._previewed, on_failure=self._failed)

    def _previewed(self, preview: erasure.ErasurePreview) -> None:
        lines = ["Erased here:"] + [f"  • {i.sentence()}" for i in preview.erased]
        lines += ["", "Kept, and why:"] + [f"  • {i.sentence()}" for i in preview.kept]
        if preview.store:
            lines += ["", "On the web store (sent by the sync; an outage only delays it):"]
            lines += [f"  • {s}" for s in preview.store]
        self.preview.setPlainText("\n".join(lines))
        self.summary.setText("This cannot be undone. Check what is kept before you erase.")
        self.ok_button.setEnabled(True)

    def _choose(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Write the export to", f"personal-data-{self.row.customer_id}.zip",
                                              "ZIP files (*.zip)")
        if path:
            self.path.setText(path)

    def submit(self) -> None:
        if self._busy:
            return
        self.message.hide()
        if self.row.kind is RequestKind.ACCESS and not self.path.text().strip():
            self._show("Choose the file to write the export to.")
            return
        db, actor, rid = self.ctx.db, self.ctx.actor, self.row.id
        out = self.path.text().strip() or None
        note = self.note.text()
        self._busy = True
        self.ok_button.setEnabled(False)
        self.ctx.tasks.run_db(
            lambda token, progress: fulfil.fulfil_request(db, actor=actor, request_id=rid, out=out, note=note),
            on_success=self._done, on_failure=self._failed)

    def _done(self, result: fulfil.Fulfilment) -> None:
        self._busy = False
        self.result = result
        self.ctx.bus.publish(result.changes)
        self.accept()

    def _show(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.ok_button.setEnabled(self.row.kind is not RequestKind.DELETION or bool(self.preview.toPlainText()))
        if isinstance(exc, UserFacingError):
            self._show(exc.message)
        else:
            show_error(self, exc)

    def reject(self) -> None:
        if not self._busy:
            super().reject()
