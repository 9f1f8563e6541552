"""A form whose validation messages appear under each field, not in message boxes."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QWidget

from ui.common.styles import ERROR_STYLE


def grow_to_fit(dialog: QWidget) -> None:
    """Grow a dialog to fit a message that just appeared under its fields, so they keep their
    height instead of being squeezed (a wrapped label's height is not in the minimum size)."""
    dialog.layout().activate()
    hint = dialog.sizeHint()
    if hint.height() > dialog.height() or hint.width() > dialog.width():
        dialog.resize(max(hint.width(), dialog.width()), max(hint.height(), dialog.height()))


class InlineForm(QWidget):
    """Rows of label, field and (hidden until needed) message under the field.

    Fields are found by key; the message label of field `key` is named `keyError`,
    so tests and screen readers find it. Typing in a field clears its message.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setVerticalSpacing(2)
        self._fields: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._order: list[str] = []

    def add_field(self, key: str, label: str, field: QWidget) -> QWidget:
        row = self._grid.rowCount()
        caption = QLabel(label)
        caption.setBuddy(field)
        field.setObjectName(key)
        error = QLabel()
        error.setObjectName(f"{key}Error")
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        self._grid.addWidget(caption, row, 0)
        self._grid.addWidget(field, row, 1)
        self._grid.addWidget(error, row + 1, 1)
        self._fields[key] = field
        self._errors[key] = error
        self._order.append(key)
        if isinstance(field, QLineEdit):
            field.textEdited.connect(lambda _text, k=key: self.set_error(k, None))
        return field

    def add_password(self, key: str, label: str) -> QLineEdit:
        field = QLineEdit()
        field.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_field(key, label, field)
        return field

    def field(self, key: str) -> QWidget:
        return self._fields[key]

    def error_label(self, key: str) -> QLabel:
        return self._errors[key]

    def text(self, key: str) -> str:
        return self._fields[key].text()

    def set_error(self, key: str, message: str | None) -> None:
        label = self._errors[key]
        label.setText(message or "")
        label.setVisible(bool(message))

    def set_errors(self, errors: dict[str, str]) -> bool:
        """Show these messages (and clear the others); focus the first field in error.

        Returns whether there was any message for a field of this form.
        """
        first = None
        for key in self._order:
            message = errors.get(key)
            self.set_error(key, message)
            if message and first is None:
                first = key
        if first is not None:
            self._fields[first].setFocus()
        return first is not None


    def errors(self) -> dict[str, str]:
        return {k: lbl.text() for k, lbl in self._errors.items() if lbl.text()}
