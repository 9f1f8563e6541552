"""How failures reach people: cancelled is silent, user-facing is a message, the rest a report."""

from __future__ import annotations

import logging
import sys
import traceback

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from backoffice.errors import Cancelled, UserFacingError

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """Tell the person what went wrong, in words, with copyable details when unexpected."""
    if isinstance(exc, Cancelled):
        return
    if parent is None:
        parent = QApplication.activeWindow()
    box = QMessageBox(parent)
    box.setObjectName("errorBox")
    if isinstance(exc, UserFacingError):
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Could not do that")
        box.setText(exc.message)
        if exc.details:
            box.setDetailedText(exc.details)
    else:
        log.error("Unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Something went wrong")
        box.setText("Something unexpected went wrong. Nothing you entered was discarded; "
                    "the details below are in the log too.")
        box.setDetailedText("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    if QApplication.platformName() == "offscreen":
        box.setModal(False)
        box.show()
    else:
        box.exec()


def install_excepthook() -> None:
    """Route uncaught exceptions on the GUI thread to `show_error` instead of a silent crash."""

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        app = QApplication.instance()
        if app is None or QApplication.platformName() == "offscreen":
            # Nobody sees a window here (a self-test, a test run): the traceback goes to stderr.
            sys.__excepthook__(exc_type, exc, tb)
            if app is None:
                return
        show_error(None, exc)

    sys.excepthook = hook
