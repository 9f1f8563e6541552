"""The Qt binding itself: a desk app makes millions of Qt calls in a day and must not abort."""

from __future__ import annotations

import gc
import sys

from PySide6.QtWidgets import QLineEdit, QPushButton


def _references_to(obj, calls) -> int:
    gc.collect()
    before = sys.getrefcount(obj)
    for _ in range(2000):
        for call in calls:
            call()
    gc.collect()
    return sys.getrefcount(obj) - before


def test_qt_calls_that_return_nothing_keep_none_alive(qtbot):
    # A binding that loses a reference to None on each such call makes the interpreter
    # abort ("none_dealloc") once the count runs out: in the middle of taking an order.
    button, field = QPushButton(), QLineEdit()
    qtbot.addWidget(button)
    qtbot.addWidget(field)
    calls = (lambda: button.setEnabled(True), lambda: field.setText("x"), button.hide)
    assert _references_to(None, calls) > -50


def test_qt_calls_that_answer_yes_or_no_keep_true_and_false_alive(qtbot):
    button = QPushButton()
    qtbot.addWidget(button)
    calls = (button.isEnabled, button.isVisible, lambda: button.setChecked(False))
    assert _references_to(True, calls) > -50
    assert _references_to(False, calls) > -50
