"""Text fields that never hold a card number: typed or pasted numbers are masked at once.

Every free-text field of a screen that stores what is typed uses these. The text
passes the one card-number detector (`backoffice.domain.cards`) on every change;
a card number is replaced by a marker keeping its last 4 digits, a message under
the field says why, and the field's undo history is dropped so that Undo cannot
bring the number back. When the number came from the clipboard, the clipboard is
emptied too.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication, QTextCursor, QValidator
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from backoffice.domain.cards import MASK_TEMPLATE, contains_card_number, mask_card_numbers

__all__ = ["CardGuardValidator", "GuardedLineEdit", "GuardedPlainTextEdit", "with_notice"]


def _notice_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("cardNotice")
    label.setWordWrap(True)
    label.setStyleSheet("color: #a33; font-size: 9pt;")
    label.hide()
    return label


def _forget_clipboard_card() -> bool:
    """Empty the clipboard when it holds a card number; True if it did."""
    clipboard = QGuiApplication.clipboard()
    if clipboard is None:
        return False
    text = clipboard.text()
    if text and contains_card_number(text):
        clipboard.clear()
        return True
    return False


def _utf16_len(text: str) -> int:
    """Length as Qt counts it (UTF-16 code units; an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _index_from_utf16(text: str, units: int) -> int:
    """The Python index of a Qt cursor position in `text`."""
    if text.isascii():
        return min(units, len(text))
    count = 0
    for index, char in enumerate(text):
        if count >= units:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def _mapped_cursor(old: str, new: str, cursor: int) -> int:
    """Where the cursor goes after masking: the same distance from the end when it was
    after the masked parts, else the end of the text."""
    after = len(old) - cursor
    if after <= 0:
        return len(new)
    tail = old[cursor:]
    if new.endswith(tail):
        return len(new) - after
    return len(new)


class CardGuardValidator(QValidator):
    """Masks card numbers as part of validation, optionally before another validator.

    Going through the validator means the line edit replaces its text with the masked
    one internally, which also clears its undo history: the number is never in
    `text()`, never in `textChanged`, and Undo cannot restore it.
    """

    masked = Signal(str)  # the sentence for the person

    def __init__(self, field: str, *, context: str = "text", inner: QValidator | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.field = field
        self.context = context
        self.inner = inner

    def validate(self, text: str, pos: int):
        result = mask_card_numbers(text, context=self.context, field=self.field)
        if result.changed:
            index = _mapped_cursor(text, result.text, _index_from_utf16(text, pos))
            pos = _utf16_len(result.text[:index])
            text = result.text
            self.masked.emit(result.message)
        if self.inner is not None:
            inner = self.inner.validate(text, pos)
            if isinstance(inner, tuple):
                state = inner[0]
                if len(inner) >= 3:
                    text, pos = inner[1], inner[2]
            else:
                state = inner
            return state, text, pos
        return QValidator.State.Acceptable, text, pos

    def fixup(self, text: str) -> str:
        return mask_card_numbers(text, context=self.context, field=self.field).text


class LastFourValidator(QValidator):
    """Keeps the last four digits of whatever is typed or pasted: "4111 1111 1111 1111"
    (after the card guard has removed it, "… ends 1111") becomes "1111", never "4111"."""

    def validate(self, text: str, pos: int):
        digits = "".join(ch for ch in text if ch.isdigit() and ch.isascii())
        if digits != text:
            text, pos = digits[-4:], len(digits[-4:])
        elif len(digits) > 4:
            text, pos = digits[-4:], 4
        return QValidator.State.Acceptable, text, pos


class GuardedLineEdit(QLineEdit):
    """A line edit that masks any card number typed, pasted or set into it.

    `field` names it in the message ("the order note"); `context` tells the detector
    what kind of text it holds ("text", "phone", "reference", "product", "tracking").
    `notice` is the label that explains a removal; place it under the field (or use
    `with_notice`).
    """

    cardNumberMasked = Signal(str)

    def __init__(self, field: str = "this field", *, context: str = "text",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notice = _notice_label(self)
        self._guard = CardGuardValidator(field, context=context, parent=self)
        self._guard.masked.connect(self._on_masked)
        super().setValidator(self._guard)
        self.textChanged.connect(self._on_text_changed)
        self.textEdited.connect(self._on_text_edited)

    def setValidator(self, validator: QValidator | None) -> None:  # noqa: N802 (Qt name)
        """Keep the card guard in front of any validator the screen adds."""
        self._guard.inner = validator
        super().setValidator(self._guard)

    def _on_masked(self, message: str) -> None:
        if _forget_clipboard_card():
            message += " It was removed from the clipboard too."
        self.notice.setText(message)
        self.notice.show()
        self.cardNumberMasked.emit(message)

    def _on_text_changed(self, text: str) -> None:
        if not text:
            self.notice.hide()

    def _on_text_edited(self, text: str) -> None:
        # The notice explains the marker left where the number was; once the person has
        # corrected the field (the marker is gone), it has nothing left to explain.
        if MASK_TEMPLATE.split("{", 1)[0] not in text:
            self.notice.hide()


class GuardedPlainTextEdit(QPlainTextEdit):
    """A multi-line text field that masks any card number typed, pasted or set into it.

    The masked text replaces the number in place and the document's undo and redo
    history is cleared, so Undo cannot bring the number back.
    """

    cardNumberMasked = Signal(str)

    def __init__(self, field: str = "this field", *, context: str = "text",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.context = context
        self.notice = _notice_label(self)
        self._busy = False
        self.textChanged.connect(self._check)

    def _check(self) -> None:
        if self._busy:
            return
        text = self.toPlainText()
        if not text:
            self.notice.hide()
            return
        result = mask_card_numbers(text, context=self.context, field=self.field)
        if not result.changed:
            return
        self._busy = True
        try:
            # Replace only what changed, in one edit, so the cursor and the rest stay put.
            new = result.text
            head = 0
            while head < min(len(text), len(new)) and text[head] == new[head]:
                head += 1
            tail = 0
            while (tail < min(len(text), len(new)) - head
                   and text[len(text) - 1 - tail] == new[len(new) - 1 - tail]):
                tail += 1
            cursor = QTextCursor(self.document())
            cursor.setPosition(_utf16_len(text[:head]))
            cursor.setPosition(_utf16_len(text[:len(text) - tail]), QTextCursor.MoveMode.KeepAnchor)
            cursor.insertText(new[head:len(new) - tail])
            # The history still holds the digits as typed or pasted: drop it.
            self.document().clearUndoRedoStacks()
        finally:
            self._busy = False
        message = result.message
        if _forget_clipboard_card():
            message += " It was removed from the clipboard too."
        self.notice.setText(message)
        self.notice.show()
        self.cardNumberMasked.emit(message)


def with_notice(field: GuardedLineEdit | GuardedPlainTextEdit, parent: QWidget | None = None) -> QWidget:
    """The field with its card-number notice under it, as one widget for a form."""
    box = QWidget(parent)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field)
    layout.addWidget(field.notice)
    box.setFocusProxy(field)
    return box
