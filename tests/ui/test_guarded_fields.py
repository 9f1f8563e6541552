"""Guarded text fields: a card number typed, pasted or set is masked at once, and Undo
cannot bring it back."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QRegularExpressionValidator
from PySide6.QtWidgets import QWidget

from ui.common.guarded_line_edit import GuardedLineEdit, GuardedPlainTextEdit, with_notice

VISA = "4111 1111 1111 1111"
MASTERCARD = "5555-5555-5555-4444"


def digits_run(text: str) -> int:
    """The longest run of digits (ignoring spaces and dashes between them) in `text`."""
    runs = re.findall(r"\d(?:[ -]?\d)*", text)
    return max((len(re.sub(r"\D", "", r)) for r in runs), default=0)


def assert_clean(text: str, last4: str) -> None:
    assert digits_run(text) <= 4, text
    assert f"ends {last4}" in text


def shown(qtbot, field):
    box = with_notice(field)
    qtbot.addWidget(box)
    field.box = box  # qtbot keeps only a weak reference
    box.show()
    qtbot.waitExposed(box)
    field.setFocus()
    return box


@pytest.mark.parametrize("cls", [GuardedLineEdit, GuardedPlainTextEdit])
def test_typed_card_number_is_masked_with_a_reason_and_undo_does_not_restore_it(qtbot, cls):
    field = cls("the order note")
    shown(qtbot, field)
    seen = []
    field.cardNumberMasked.connect(seen.append)
    qtbot.keyClicks(field, f"pay with {VISA} thanks")
    text = field.text() if cls is GuardedLineEdit else field.toPlainText()
    assert_clean(text, "1111")
    assert text.startswith("pay with [card number removed, ends 1111]")
    assert text.endswith(" thanks")
    assert field.notice.isVisible()
    assert "removed from the order note" in field.notice.text()
    assert seen and "1111" in seen[0]
    for _ in range(40):
        field.undo()
        now = field.text() if cls is GuardedLineEdit else field.toPlainText()
        assert digits_run(now) <= 4, now
    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    now = field.text() if cls is GuardedLineEdit else field.toPlainText()
    assert digits_run(now) <= 4


@pytest.mark.parametrize("cls", [GuardedLineEdit, GuardedPlainTextEdit])
def test_pasted_card_number_is_masked_and_leaves_the_clipboard(qtbot, cls):
    field = cls("the note")
    shown(qtbot, field)
    qtbot.keyClicks(field, "card: ")
    QGuiApplication.clipboard().setText(MASTERCARD)
    field.paste()
    text = field.text() if cls is GuardedLineEdit else field.toPlainText()
    assert text == "card: [card number removed, ends 4444]"
    assert "clipboard" in field.notice.text()
    assert QGuiApplication.clipboard().text() == ""
    field.undo()
    field.undo()
    now = field.text() if cls is GuardedLineEdit else field.toPlainText()
    assert digits_run(now) <= 4
    # Typing goes on where the cursor is, after the marker.
    qtbot.keyClicks(field, " ok")
    now = field.text() if cls is GuardedLineEdit else field.toPlainText()
    assert now.endswith("ends 4444] ok")


def test_text_set_by_code_is_masked_too(qtbot):
    line = GuardedLineEdit("the name")
    qtbot.addWidget(line)
    changed = []
    line.textChanged.connect(changed.append)
    line.setText(f"Ana {VISA}")
    assert line.text() == "Ana [card number removed, ends 1111]"
    # Listeners never saw the number.
    assert all(digits_run(t) <= 4 for t in changed)
    note = GuardedPlainTextEdit("the note")
    qtbot.addWidget(note)
    note.setPlainText(f"line one\n{MASTERCARD}\nline three")
    assert note.toPlainText() == "line one\n[card number removed, ends 4444]\nline three"
    note.undo()
    assert digits_run(note.toPlainText()) <= 4


def test_ordinary_numbers_stay_and_undo_keeps_working(qtbot):
    line = GuardedLineEdit("the note", context="text")
    shown(qtbot, line)
    qtbot.keyClicks(line, "Call +1 713 555 0199 about order 12345")
    assert line.text() == "Call +1 713 555 0199 about order 12345"
    assert not line.notice.isVisible()
    line.undo()
    assert line.text() != "Call +1 713 555 0199 about order 12345"


def test_clearing_the_field_hides_the_notice(qtbot):
    line = GuardedLineEdit("the note")
    shown(qtbot, line)
    line.setText(VISA)
    assert line.notice.isVisible()
    line.clear()
    assert not line.notice.isVisible()
    note = GuardedPlainTextEdit("the note")
    shown(qtbot, note)
    note.setPlainText(VISA)
    assert note.notice.isVisible()
    note.clear()
    assert not note.notice.isVisible()


def test_a_screen_validator_runs_after_the_guard(qtbot):
    last4 = GuardedLineEdit("the last 4 digits")
    qtbot.addWidget(last4)
    last4.setValidator(QRegularExpressionValidator(r"\d{0,4}"))
    shown(qtbot, last4)
    qtbot.keyClicks(last4, "12a345")
    assert last4.text() == "1234"
    assert isinstance(last4, QWidget)
