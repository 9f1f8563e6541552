"""PDF pages as pictures, for the preview and for printing through Qt (which cannot print a
PDF file itself). PDFium is not safe to call from two threads at once, so one lock guards it."""

from __future__ import annotations

import threading

import pypdfium2 as pdfium
from PySide6.QtGui import QImage

from backoffice.errors import Cancelled

_lock = threading.Lock()


class PdfPages:
    """A rendered PDF held in memory; pages come out as QImages (safe off the GUI thread)."""

    def __init__(self, pdf: bytes) -> None:
        self._data = pdf
        with _lock:
            self._doc = pdfium.PdfDocument(pdf)
            self.count = len(self._doc)

    def image(self, index: int, dpi: float = 96.0) -> QImage:
        with _lock:
            if self._doc is None:
                raise Cancelled("The preview was closed.")
            page = self._doc[index]
            try:
                bitmap = page.render(scale=dpi / 72.0, rev_byteorder=True)
                try:
                    image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride,
                                   QImage.Format.Format_RGB888 if bitmap.n_channels == 3
                                   else QImage.Format.Format_RGBA8888)
                    # The bitmap's memory goes with it; the picture keeps its own copy.
                    return image.copy()
                finally:
                    bitmap.close()
            finally:
                page.close()

    def close(self) -> None:
        with _lock:
            if self._doc is not None:
                self._doc.close()
                self._doc = None
