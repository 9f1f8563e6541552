"""Import customers from a CSV file: pick it, see how it is read and what is wrong, import, keep the rest."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.staff import Permission
from backoffice.errors import Cancelled, UserFacingError
from backoffice.private_files import database_files
from backoffice.services import customer_import
from backoffice.services.customer_import import ImportPreview, ImportResult, ProblemKind
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.progress import ProgressRow
from ui.common.styles import ERROR_STYLE, WARNING_STYLE

# A table of this many problems is already more than anyone reads on screen; the
# rejected-rows file holds every one.
SHOWN_PROBLEMS = 1000
KIND_WORDS = {ProblemKind.REJECTED: "Rejected", ProblemKind.DUPLICATE: "Duplicate, skipped",
              ProblemKind.MASKED: "Card number masked"}
_CANCELLED = object()


def _table(headers: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class CustomerImportDialog(QDialog):
    """Choose a CSV file; its preview (columns, counts, problems) loads in the background;
    Import writes it with a progress bar that can be cancelled; the rows left out can be
    saved as a CSV file to fix and import again."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import customers from a CSV file")
        self.setObjectName("customerImportDialog")
        self.ctx = ctx
        self.path: Path | None = None
        self.preview: ImportPreview | None = None
        self.result: ImportResult | None = None
        self._token = None
        self._busy = False
        # Replaced in tests; the person picks files with the platform's dialogs.
        self.ask_open_path = self._ask_open_path
        self.ask_save_path = self._ask_save_path

        intro = QLabel(
            "Pick a CSV file saved from a spreadsheet, with the column names on its first line "
            "(such as First name, Last name, Email, Phone, Address, City, Postcode, Country). "
            "Nothing is imported until you press Import.")
        intro.setWordWrap(True)
        store_note = QLabel(customer_import.STORE_NOTE)
        store_note.setObjectName("storeNote")
        store_note.setWordWrap(True)

        self.file_edit = QLineEdit()
        self.file_edit.setObjectName("importFile")
        self.file_edit.setReadOnly(True)
        self.file_edit.setPlaceholderText("No file chosen")
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setObjectName("chooseFileButton")
        self.choose_button.clicked.connect(self.choose_file)
        self.file_info = QLabel("")
        self.file_info.setObjectName("fileInfo")
        self.file_info.setWordWrap(True)

        self.columns_table = _table(["Column in the file", "Imported as"], "columnsTable")
        self.columns_table.setMaximumHeight(180)
        self.counts = QLabel("")
        self.counts.setObjectName("importCounts")
        self.counts.setWordWrap(True)
        self.problems_table = _table(["Line", "Column", "What happens", "Why"], "problemsTable")
        self.problems_more = QLabel("")
        self.problems_more.setObjectName("problemsMore")
        self.problems_more.setWordWrap(True)

        self.progress_row = ProgressRow(bar_name="importProgress", label_name="importProgressLabel",
                                        cancel_name="importCancelButton", bar_format="%p%")
        self.progress, self.progress_label = self.progress_row.bar, self.progress_row.label
        self.cancel_button = self.progress_row.cancel_button
        self.cancel_button.clicked.connect(self.cancel)
        self.message = QLabel("")
        self.message.setObjectName("importMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("importButton")
        self.import_button.clicked.connect(self.start_import)
        self.save_button = QPushButton("Save rejected rows…")
        self.save_button.setObjectName("saveRejectedButton")
        self.save_button.clicked.connect(self.save_rejected)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("closeButton")
        self.close_button.clicked.connect(self.reject)

        file_row = QHBoxLayout()
        file_row.addWidget(QLabel("File:"))
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.choose_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(file_row)
        layout.addWidget(self.file_info)
        layout.addWidget(QLabel("How the columns are read:"))
        layout.addWidget(self.columns_table)
        layout.addWidget(self.counts)
        layout.addWidget(self.problems_table, 1)
        layout.addWidget(self.problems_more)
        layout.addLayout(progress_row)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.message)
        layout.addWidget(store_note)
        layout.addLayout(buttons)
        self.resize(860, 640)
        self._update_buttons()

    # --- choosing and previewing ----------------------------------------------------------------

    def _ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Import customers", "",
                                              "CSV files (*.csv *.txt *.tsv);;All files (*)")
        return path

    def _ask_save_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Save rejected rows", suggested, "CSV files (*.csv)")
        return path

    def choose_file(self) -> None:
        path = self.ask_open_path()
        if path:
            self.load_file(path)

    def load_file(self, path: str | Path) -> None:
        """Read the file and show its preview (in the background)."""
        if self._busy:
            return
        self.path = Path(path)
        self.file_edit.setText(str(self.path))
        self.preview = self.result = None
        self._show_report(None)
        self._say("")
        db, actor, file = self.ctx.db, self.ctx.actor, self.path

        def work(token, progress):
            return customer_import.preview_import(db, actor=actor, path=file, progress=progress)

        self._start(work, self._previewed, "Reading the file…", "Cancelled.")

    def _previewed(self, outcome) -> None:
        self._set_busy(False)
        self.preview = outcome
        self.progress_label.setText("")
        self._show_report(self.preview)
        if not self.preview.new:
            self._say("No row of this file can be imported; the list below says why.", error=True)
        else:
            self._say("")

    # --- importing -------------------------------------------------------------------------------

    def start_import(self) -> None:
        if self._busy or self.preview is None or not self.preview.new or self.result is not None:
            return
        db, actor, file, preview = self.ctx.db, self.ctx.actor, self.path, self.preview

        def work(token, progress):
            return customer_import.import_customers(db, actor=actor, path=file, preview=preview,
                                                    progress=progress)

        self._start(work, self._imported, "Importing…", "Cancelled; nothing was imported.")

    def _imported(self, result: ImportResult) -> None:
        self._set_busy(False)
        self.result = result
        self._show_report(result.report)
        self.counts.setText(result.summary())
        self._say("The new customers are in the customers list."
                  + (" Save the rejected rows to fix them and import them again."
                     if result.report.left_out else ""))
        self.progress_label.setText("Done.")
        self.ctx.bus.publish(result.changes)
        self._update_buttons()

    # --- the rejected rows -------------------------------------------------------------------------

    def report(self) -> ImportPreview | None:
        """What the rejected rows come from: the import's result, or else the preview."""
        return self.result.report if self.result is not None else self.preview

    def save_rejected(self) -> None:
        report = self.report()
        if report is None or not report.left_out or self._busy:
            return
        stem = self.path.stem if self.path else "customers"
        folder = self.path.parent if self.path else Path.home()
        target = self.ask_save_path(str(folder / f"{stem}-rejected.csv"))
        if not target:
            return
        # The save dialog has asked before replacing a file; the database and the file
        # being imported are refused whatever the answer.
        protect = [*(p for p in (self.path,) if p is not None), *database_files(self.ctx.db.sqlite_path)]

        def work(token, progress):
            return customer_import.write_rejected_rows(report, target, replace=True, protect=protect)

        def done(count: int) -> None:
            self._say(f"Saved {count:,} row{'' if count == 1 else 's'} to {target}, each with the reason "
                      "it was not imported. Fix them there and import that file.")

        self.ctx.tasks.run_io(work, on_success=done, on_failure=self._failed_quietly, owner=self)

    # --- shared plumbing ---------------------------------------------------------------------------

    def _start(self, work, on_success, text: str, cancelled_text: str) -> None:
        def guarded(token, progress):
            # A cancelled task ends here, after the service rolled back, so the dialog
            # stays busy until nothing is left running.
            try:
                return work(token, progress)
            except Cancelled:
                return _CANCELLED

        def finished(outcome) -> None:
            if outcome is _CANCELLED:
                self._set_busy(False)
                self.progress.setValue(0)
                self.progress_label.setText(cancelled_text)
                return
            on_success(outcome)

        self._set_busy(True)
        self.progress_row.begin(text)
        self._token = self.ctx.tasks.run_db(guarded, on_success=finished, on_failure=self._failed,
                                            on_progress=self._progressed, owner=self)

    def _progressed(self, done: int, total: int, text: str) -> None:
        self.progress_row.progressed(done, total, text)

    def cancel(self) -> None:
        if self._busy:
            self.progress_row.cancel(self._token)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.progress_row.reset()
        self._failed_quietly(exc)

    def _failed_quietly(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):
            self._say(exc.message, error=True)
        else:
            show_error(self, exc)
        self._update_buttons()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        if not busy:
            self._token = None
            if self.progress.maximum() == 0:
                self.progress.setRange(0, 1)
        self._update_buttons()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")

    def _update_buttons(self) -> None:
        allowed = self.ctx.may(Permission.EDIT_CUSTOMER)
        report = self.report()
        can_import = (allowed and not self._busy and self.preview is not None and self.preview.new > 0
                      and self.result is None)
        self.import_button.setEnabled(can_import)
        if self.preview is not None and self.result is None:
            n = self.preview.new
            self.import_button.setText(f"Import {n:,} customer{'' if n == 1 else 's'}")
        else:
            self.import_button.setText("Import")
        self.save_button.setEnabled(not self._busy and report is not None and bool(report.left_out))
        self.choose_button.setEnabled(allowed and not self._busy)
        self.cancel_button.setEnabled(self._busy)
        self.close_button.setEnabled(not self._busy)

    def _show_report(self, report: ImportPreview | None) -> None:
        self.columns_table.setRowCount(0)
        self.problems_table.setRowCount(0)
        self.problems_more.setText("")
        if report is None:
            self.file_info.setText("")
            self.counts.setText("")
            self._update_buttons()
            return
        info = f"Read as {report.encoding}, {report.delimiter_name}-separated."
        self.file_info.setText(" ".join([info, *report.notes]))
        self.file_info.setStyleSheet(WARNING_STYLE if report.notes else "")
        self.columns_table.setRowCount(len(report.columns))
        for row, column in enumerate(report.columns):
            for col, text in enumerate((column.header or "(no name)", column.label)):
                item = QTableWidgetItem(text)
                if column.field is None:
                    item.setForeground(Qt.GlobalColor.darkGray)
                self.columns_table.setItem(row, col, item)
        self.columns_table.resizeColumnToContents(0)
        self.counts.setText(report.summary())
        shown = report.problems[:SHOWN_PROBLEMS]
        self.problems_table.setRowCount(len(shown))
        for row, problem in enumerate(shown):
            cells = (str(problem.line), problem.column or "(whole row)", KIND_WORDS[problem.kind], problem.message)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(problem.message)
                if col == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.problems_table.setItem(row, col, item)
        if shown:
            self.problems_table.resizeColumnsToContents()
            self.problems_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
            # Long reasons wrap onto a second line instead of being cut off.
            self.problems_table.setWordWrap(True)
            self.problems_table.resizeRowsToContents()
        if report.problem_count > len(shown):
            self.problems_more.setText(
                f"The first {len(shown):,} of {report.problem_count:,} are listed; "
                "Save rejected rows writes every rejected row with its reason.")
        self._update_buttons()

    def reject(self) -> None:
        if not self._busy:
            super().reject()
