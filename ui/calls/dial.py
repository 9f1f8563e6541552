"""Click to call: phone numbers on screen dial through the system's `tel:` handler.

The softphone or phone system registered for `tel:` links (MicroSIP, 3CX, Zoiper, a
desk phone's helper) places the call; the call is noted on the customer's page first
(`services.calls.dial_customer`), so everyone sees who phoned the customer and when.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import quote, unquote

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QColor, QDesktopServices, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QLineEdit, QMenu, QMessageBox, QTableWidget, QWidget

from backoffice.services import calls as calls_service
from ui.common.context import AppContext
from ui.common.errors import show_error

_SCHEME = "dial:"
CustomerOf = Callable[[], int | None]


def open_tel(uri: str) -> bool:
    """Hand a tel: address to the system; replaced in tests."""
    return QDesktopServices.openUrl(QUrl(uri))


def dial(ctx: AppContext, parent: QWidget, number: str, customer_id: int | None) -> None:
    """Note the call on the customer's page, then dial `number` with the system's tel: handler."""
    number = (number or "").strip()
    if not number:
        return
    db, actor = ctx.db, ctx.actor

    def done(result: calls_service.Dial) -> None:
        ctx.bus.publish(result.changes)
        if not open_tel(result.uri):
            QMessageBox.information(
                parent, "Call",
                f"No program on this computer dials tel: links; dial {result.shown_number} by hand."
                + (" The call is noted on the customer's page." if result.noted else ""))

    ctx.tasks.run_db(
        lambda token, progress: calls_service.dial_customer(db, actor=actor, number=number, customer_id=customer_id),
        on_success=done, on_failure=lambda exc: show_error(parent, exc), owner=parent)


def phone_icon() -> QIcon:
    icon = QIcon.fromTheme("call-start")
    if not icon.isNull():
        return icon
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor("#2e7d32"))
    font = QFont()
    font.setPixelSize(14)
    painter.setFont(font)
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "\u260e")
    painter.end()
    return QIcon(pixmap)


def add_call_button(edit: QLineEdit, ctx: AppContext, customer_of: CustomerOf) -> QAction:
    """A call button inside a phone field, shown while it holds a number."""
    action = edit.addAction(phone_icon(), QLineEdit.ActionPosition.TrailingPosition)
    action.setObjectName("callNumber")
    action.setToolTip("Call this number (through this computer's phone program)")
    action.triggered.connect(lambda: dial(ctx, edit, edit.text(), customer_of()))
    edit.textChanged.connect(lambda text: action.setVisible(any(c.isdigit() for c in text)))
    action.setVisible(any(c.isdigit() for c in edit.text()))
    return action


def add_call_menu(table: QTableWidget, ctx: AppContext, *, phone_column: int,
                  customer_of_row: Callable[[int], int | None]) -> None:
    """Right-clicking a row offers to call its phone number."""
    table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def menu_at(pos: QPoint) -> None:
        row = table.rowAt(pos.y())
        item = table.item(row, phone_column) if row >= 0 else None
        number = item.text().strip() if item is not None else ""
        if not number:
            return
        menu = QMenu(table)
        call = menu.addAction(phone_icon(), f"Call {number}")
        call.triggered.connect(lambda: dial(ctx, table, number, customer_of_row(row)))
        menu.popup(table.viewport().mapToGlobal(pos))

    table.customContextMenuRequested.connect(menu_at)


def phone_anchor(number: str) -> str:
    """The number as a link a label made with `link_phones` dials."""
    return f'<a href="{_SCHEME}{quote(number)}">{html.escape(number)}</a>'


def lines_html(lines: list[str], *, phone: str = "") -> str:
    """Lines of text, one a line, with the phone number as a dialling link."""
    body = [html.escape(line) for line in lines if line]
    if phone:
        body.append(phone_anchor(phone))
    # pre-wrap keeps the lines as lines, so the text reads as it did in plain text.
    return '<div style="white-space: pre-wrap">' + "\n".join(body) + "</div>"


def link_phones(label: QLabel, ctx: AppContext, customer_of: CustomerOf) -> None:
    """Make the phone links in `label` dial (see `phone_anchor`)."""
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(label.textInteractionFlags() | Qt.TextInteractionFlag.LinksAccessibleByMouse
                                  | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
    label.setOpenExternalLinks(False)

    def activated(href: str) -> None:
        if href.startswith(_SCHEME):
            dial(ctx, label, unquote(href[len(_SCHEME):]), customer_of())

    label.linkActivated.connect(activated)
