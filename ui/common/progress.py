"""Long work's progress: a bar with counts, a line saying what is happening, and Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton


def show_progress(bar: QProgressBar, done: int, total: int) -> None:
    """Counts on the bar (`done` of `total`); a busy bar while the total is not known."""
    if total > 0:
        bar.setRange(0, total)
        bar.setValue(min(done, total))
    else:
        bar.setRange(0, 0)


class ProgressRow:
    """The widgets a long task shows (the screen lays them out), and what they do."""

    def __init__(self, *, bar_name: str, label_name: str, cancel_name: str, bar_format: str) -> None:
        self.bar = QProgressBar()
        self.bar.setObjectName(bar_name)
        self.bar.setFormat(bar_format)
        self.label = QLabel("")
        self.label.setObjectName(label_name)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName(cancel_name)

    def begin(self, text: str) -> None:
        """Work started: a busy bar until the first count comes."""
        self.bar.setRange(0, 0)
        self.label.setText(text)

    def progressed(self, done: int, total: int, text: str) -> None:
        show_progress(self.bar, done, total)
        self.label.setText(text)

    def cancel(self, token) -> None:
        """Ask the task to stop; it says so once it has (the work rolls back first)."""
        if token is not None:
            token.cancel()
            self.label.setText("Cancelling…")

    def reset(self, text: str = "") -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.label.setText(text)
