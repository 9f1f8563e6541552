"""A rendered batch of slips (or a pick list) in the app: page through it, print it through
Qt's print dialog or save it as a PDF; printed or saved slips mark their orders printed."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QImageWriter, QPainter, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)

from backoffice.services.fulfilment import slips as slips_service
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.progress import show_progress
from ui.shipping.pdf_pages import PdfPages

PREVIEW_DPI = 80
PRINT_DPI_MAX = 300


class SlipPreviewDialog(QDialog):
    """Shows `pdf`; `order_ids` are marked printed once it is printed or saved (none for a pick list)."""

    marked_printed = Signal(object)  # Changes

    def __init__(self, ctx: AppContext, pdf: bytes, *, title: str, order_ids: tuple[int, ...] = (),
                 file_name: str = "slips.pdf", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("slipPreview")
        self.setWindowTitle(title)
        self.ctx = ctx
        self.pdf = pdf
        self.order_ids = order_ids
        self.file_name = file_name
        self.pages = PdfPages(pdf)
        # The pages are let go once the dialog is gone (a print still running holds the lock).
        self.destroyed.connect(self.pages.close)
        self.index = 0
        self._token = None
        self.page_label = QLabel()
        self.page_label.setObjectName("previewPageNumber")
        self.picture = QLabel("Drawing the page…")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.picture)
        scroll.setWidgetResizable(True)
        scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.print_button = QPushButton("Print…")
        self.print_button.setObjectName("previewPrint")
        self.save_button = QPushButton("Save as PDF…")
        self.save_button.setObjectName("previewSave")
        close = QPushButton("Close")
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m pages")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.status = QLabel("")
        self.status.setObjectName("previewStatus")
        self.status.setWordWrap(True)

        nav = QHBoxLayout()
        nav.addWidget(self.previous_button)
        nav.addWidget(self.page_label)
        nav.addWidget(self.next_button)
        nav.addStretch(1)
        nav.addWidget(self.print_button)
        nav.addWidget(self.save_button)
        nav.addWidget(close)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(nav)
        layout.addWidget(scroll, 1)
        layout.addLayout(busy)
        layout.addWidget(self.status)

        self.previous_button.clicked.connect(lambda: self.show_page(self.index - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self.index + 1))
        self.print_button.clicked.connect(self.print_pages)
        self.save_button.clicked.connect(self.choose_file)
        self.cancel_button.clicked.connect(self._cancel)
        close.clicked.connect(self.reject)
        self.resize(760, 660)
        self.show_page(0)

    # --- paging -------------------------------------------------------------------------

    def show_page(self, index: int) -> None:
        index = max(0, min(index, self.pages.count - 1))
        self.index = index
        self.page_label.setText(f"Page {index + 1} of {self.pages.count}")
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < self.pages.count - 1)
        pages = self.pages
        self.ctx.tasks.run_io(lambda token, progress: pages.image(index, PREVIEW_DPI),
                              on_success=lambda image, i=index: self._drawn(i, image), owner=self)

    def _drawn(self, index: int, image) -> None:
        if index == self.index:
            self.picture.setPixmap(QPixmap.fromImage(image))

    # --- printing and saving ------------------------------------------------------------

    def _busy(self, on: bool, total: int = 0) -> None:
        for button in (self.print_button, self.save_button):
            button.setEnabled(not on)
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        if on:
            self.progress.setRange(0, total)
            self.progress.setValue(0)

    def _cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()
        self._busy(False)
        self.status.setText("Stopped; the orders were not marked printed.")

    def print_pages(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.windowTitle())
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.print_to(printer)

    def print_to(self, printer: QPrinter) -> None:
        """Draw every page on `printer` in the background (Qt lets a worker paint on a printer)."""
        pages = self.pages
        dpi = min(printer.resolution(), PRINT_DPI_MAX)
        # The image plugins are loaded here, on the window's thread: loaded first by the
        # worker (a PDF printer writes each page's image through them), Qt hands each plugin
        # over to this thread while holding a lock this thread may hold too, waiting for the
        # worker: the print hung for good, now and then.
        QImageWriter.supportedImageFormats()

        def work(token, progress):
            painter = QPainter()
            if not painter.begin(printer):
                raise OSError("The printer could not be started.")
            try:
                for i in range(pages.count):
                    progress(i, pages.count, "")
                    if i:
                        printer.newPage()
                    image = pages.image(i, dpi)
                    area = painter.viewport()
                    size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
                    painter.drawImage(QRect(area.x(), area.y(), size.width(), size.height()), image)
                progress(pages.count, pages.count, "")
            finally:
                painter.end()
            return pages.count

        self._busy(True, pages.count)
        self.status.setText("Printing…")
        self._token = self.ctx.tasks.run_io(work, on_success=self._done, on_failure=self._failed,
                                            on_progress=self._progressed, owner=self)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save as PDF", self.file_name, "PDF files (*.pdf)")
        if path:
            self.save_to(path)

    def save_to(self, path: str) -> None:
        """Write the PDF (owner-only); the file dialog has already asked before replacing a file."""
        pdf = self.pdf
        self._busy(True, 0)
        self.status.setText("Saving…")
        self._token = self.ctx.tasks.run_io(lambda token, progress: slips_service.save_pdf(pdf, path, replace=True),
                                            on_success=self._done, on_failure=self._failed, owner=self)

    def _progressed(self, done: int, total: int, _text: str) -> None:
        show_progress(self.progress, done, total)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.status.setText("")
        show_error(self, exc)

    def _done(self, result) -> None:
        self._busy(False)
        where = f"Saved to {result}." if isinstance(result, str) else f"Sent {result} pages to the printer."
        if not self.order_ids:
            self.status.setText(where)
            return
        ids = self.order_ids
        ctx = self.ctx
        self.status.setText(where + " Marking the orders printed…")
        ctx.tasks.run_db(lambda token, progress: slips_service.mark_printed(ctx.db, actor=ctx.actor, order_ids=ids),
                         on_success=lambda changes, w=where: self._marked(w, changes), on_failure=self._failed,
                         owner=self)

    def _marked(self, where: str, changes) -> None:
        self.status.setText(f"{where} {len(self.order_ids)} orders marked printed.")
        self.ctx.bus.publish(changes)
        self.marked_printed.emit(changes)

    def _let_go(self) -> None:
        """Stop any print or save under way and free the pages (a page being drawn finishes first)."""
        if self._token is not None:
            self._token.cancel()
        self.pages.close()

    def done(self, result: int) -> None:
        self._let_go()
        super().done(result)

    def closeEvent(self, event) -> None:
        self._let_go()
        super().closeEvent(event)


