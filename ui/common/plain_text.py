"""Text from records shown as typed: a customer named "<b>x</b>" shows the brackets.

A QLabel, a tooltip or a message box left to guess reads text that looks like HTML as
HTML (bold, links, images); names, notes and what the web store sends must never be.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

__all__ = ["plain_label", "plain_tooltip", "show_plain"]


def show_plain(label: QLabel) -> QLabel:
    """Make `label` show its text as plain text, whatever it holds; returns it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_label(text: str = "") -> QLabel:
    """A QLabel that shows its text as plain text."""
    return show_plain(QLabel(text))


def plain_tooltip(text: str | None) -> str | None:
    """A tooltip that shows `text` as typed (tooltips guess at HTML and have no plain mode)."""
    if not text:
        return text
    return "<p style='white-space:pre-wrap'>" + html.escape(text) + "</p>"
