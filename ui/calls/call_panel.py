"""The incoming-call panel: a card per call, newest on top, beside whatever the desk is doing.

A call never takes over the screen: its card is added to the panel docked at the side,
and the keyboard stays where a person is typing. F2 (or Enter on a card's button) starts
a phone order for the newest caller, or a new customer with the number filled in when
nobody here has that number.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QButtonGroup,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.enums import CustomerStatus
from backoffice.services import calls as calls_service
from backoffice.services.customers import CustomerHit
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.styles import ERROR_STYLE, WARNING_STYLE
from ui.orders.orders_screen import STATUS_LABELS as ORDER_STATUS_LABELS
from ui.orders.orders_screen import money_text

TAKE_ORDER_KEY = "F2"
_CARD_STYLE = "#callCard { background: palette(base); border: 1px solid palette(mid); border-radius: 4px; }"
_NEWEST_STYLE = "#callCard { background: palette(base); border: 2px solid #2f7ed8; border-radius: 4px; }"
_TYPING_WIDGETS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)


def _match_html(m: calls_service.CallerMatch) -> str:
    e = html.escape
    lines = [f"<b>{e(m.name)}</b>" + (f" · {e(m.company)}" if m.company and m.company != m.name else "")]
    if m.status != CustomerStatus.ACTIVE:
        lines[0] += f" <span style='color:#b00020'>({e(m.status.value)})</span>"
    contact = " · ".join(e(x) for x in (m.phone, m.email, " ".join(p for p in (m.postcode, m.city) if p)) if x)
    if contact:
        lines.append(contact)
    if m.open_orders:
        orders = ", ".join(f"{e(o.number)} ({e(ORDER_STATUS_LABELS.get(o.status, o.status))}, "
                           f"{e(money_text(o.total, o.currency))})" for o in m.open_orders)
        lines.append(f"Open orders: {orders}")
    else:
        lines.append("No open orders.")
    for link in m.pay_links:
        lines.append(f"<span style='color:#8a5a00'>Pay link not paid yet: order {e(link.order_number)}, "
                     f"{e(money_text(link.amount, link.currency))}</span>")
    for request in m.requests:
        lines.append(f"<span style='color:#b00020'>{e(request.sentence)}</span>")
    return "<br>".join(lines)


class CallCard(QFrame):
    """One incoming call: the number, who it is, and what to do next."""

    take_order = Signal(object)  # the card
    open_customer = Signal(int)
    put_away = Signal(object)  # the card

    def __init__(self, number: str, received: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callCard")
        self.setStyleSheet(_CARD_STYLE)
        self.number = number
        self.call: calls_service.IncomingCall | None = None
        self.failed = False
        self.heading = QLabel(f"<b>Call {html.escape(number)}</b> · {received:%H:%M}")
        self.heading.setObjectName("callHeading")
        close = QToolButton()
        close.setText("×")
        close.setToolTip("Put this call away")
        close.setObjectName("putAwayButton")
        close.clicked.connect(lambda: self.put_away.emit(self))
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(close)
        self.state = QLabel("Looking up the caller…")
        self.state.setObjectName("callState")
        self.state.setWordWrap(True)
        self.matches_box = QVBoxLayout()
        self.matches_box.setSpacing(2)
        self.choice = QButtonGroup(self)
        self.match_labels: list[QLabel] = []
        self.take_button = QPushButton(f"Take a phone order ({TAKE_ORDER_KEY})")
        self.take_button.setObjectName("takeOrderButton")
        self.take_button.setAutoDefault(True)
        self.take_button.setEnabled(False)
        self.take_button.clicked.connect(lambda: self.take_order.emit(self))
        self.open_button = QPushButton("Open customer")
        self.open_button.setObjectName("openCallerButton")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open)
        buttons = QHBoxLayout()
        buttons.addWidget(self.take_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.state)
        layout.addLayout(self.matches_box)
        layout.addLayout(buttons)

    def set_newest(self, newest: bool) -> None:
        self.setStyleSheet(_NEWEST_STYLE if newest else _CARD_STYLE)

    def chosen(self) -> calls_service.CallerMatch | None:
        """The customer the order is for: the one ticked, or the only one."""
        if not self.call or not self.call.matches:
            return None
        index = self.choice.checkedId()
        return self.call.matches[index if index >= 0 else 0]

    def show_call(self, call: calls_service.IncomingCall) -> None:
        self.call = call
        self.heading.setText(f"<b>Call {html.escape(call.shown_number)}</b>"
                             + self.heading.text().partition("</b>")[2])
        if not call.matches:
            self.state.setText("Nobody here has this number.")
            self.take_button.setText(f"New customer with this number ({TAKE_ORDER_KEY})")
            self.open_button.hide()
        else:
            many = len(call.matches) > 1
            self.state.setText(
                f"{len(call.matches)}{'+' if call.more else ''} customers have this number; pick one."
                if many else "")
            self.state.setVisible(many)
            for i, match in enumerate(call.matches):
                label = QLabel(_match_html(match))
                label.setObjectName("callerMatch")
                label.setWordWrap(True)
                label.setTextFormat(Qt.TextFormat.RichText)
                self.match_labels.append(label)
                if many:
                    radio = QRadioButton()
                    radio.setObjectName("callerChoice")
                    self.choice.addButton(radio, i)
                    radio.setChecked(i == 0)
                    row = QHBoxLayout()
                    row.addWidget(radio, 0, Qt.AlignmentFlag.AlignTop)
                    row.addWidget(label, 1)
                    self.matches_box.addLayout(row)
                else:
                    self.matches_box.addWidget(label)
            self.open_button.setEnabled(True)
        self.take_button.setEnabled(True)

    def show_failure(self, message: str) -> None:
        self.failed = True
        self.state.setText(message)
        self.state.setStyleSheet(ERROR_STYLE)
        self.take_button.setText(f"New customer with this number ({TAKE_ORDER_KEY})")
        self.take_button.setEnabled(True)

    def caller_text(self) -> str:
        """What the card says, as plain text (for tests and the screen reader)."""
        parts = [self.heading.text(), self.state.text(), *(label.text() for label in self.match_labels)]
        text = "\n".join(parts).replace("<br>", "\n")
        return html.unescape(re.sub(r"<[^>]+>", "", text))

    def _open(self) -> None:
        match = self.chosen()
        if match is not None:
            self.open_customer.emit(match.id)


class CallPanel(QDockWidget):
    """The calls docked at the side of the main window, newest first."""

    settings_requested = Signal()

    def __init__(self, ctx: AppContext, window) -> None:
        super().__init__("Calls", window)
        self.setObjectName("callPanel")
        self.ctx = ctx
        self._window = window
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.cards: list[CallCard] = []
        self.missed = QLabel("")
        self.missed.setObjectName("missedCalls")
        self.missed.setWordWrap(True)
        self.missed.setStyleSheet(WARNING_STYLE)
        self.missed.hide()
        self.empty = QLabel("No calls yet. Calls from the phone system show here.")
        self.empty.setObjectName("noCalls")
        self.empty.setWordWrap(True)
        settings = QPushButton("Call settings…")
        settings.setObjectName("callSettingsButton")
        settings.clicked.connect(self.settings_requested)
        clear = QPushButton("Put all away")
        clear.setObjectName("putAllAwayButton")
        clear.clicked.connect(self.put_all_away)
        row = QHBoxLayout()
        row.addWidget(clear)
        row.addStretch(1)
        row.addWidget(settings)
        self.stack = QVBoxLayout()
        self.stack.setSpacing(6)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(4, 4, 4, 4)
        inner_layout.addWidget(self.missed)
        inner_layout.addWidget(self.empty)
        inner_layout.addLayout(self.stack)
        inner_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(scroll, 1)
        body_layout.addLayout(row)
        self.setWidget(body)
        self.setMinimumWidth(300)
        self.shortcut = QShortcut(QKeySequence(TAKE_ORDER_KEY), window)
        self.shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.shortcut.activated.connect(self.take_newest)

    def fit_screen(self) -> None:
        """Float over the window's right side when the screen has no room for it beside the window."""
        screen = self._window.screen()
        central = self._window.centralWidget()
        if screen is None or central is None:
            return
        room = screen.availableGeometry()
        if central.minimumSizeHint().width() + self.minimumWidth() + 40 <= room.width():
            self.setFloating(False)
            return
        self.setFloating(True)
        frame = self._window.frameGeometry()
        width = self.minimumWidth() + 20
        right = min(frame.right(), room.right())
        height = max(300, min(frame.height(), room.height()) - 120)
        self.setGeometry(right - width - 8, max(frame.top(), room.top()) + 90, width, height)

    # --- calls ------------------------------------------------------------------------

    def show_call(self, number: str) -> CallCard:
        """Add a card for `number` on top, look the caller up, and keep the keyboard where it is
        when a person is typing."""
        typing = self._someone_typing()
        card = CallCard(number, datetime.now(), self)
        # The lookup starts first: it is most of the wait, and the card is laid out meanwhile.
        db, actor = self.ctx.db, self.ctx.actor
        self.ctx.tasks.run_db(
            lambda token, progress: calls_service.identify_caller(db, actor=actor, number=number),
            on_success=lambda call, card=card: self._looked_up(card, call, focus=not typing),
            on_failure=lambda exc, card=card: self._lookup_failed(card, exc),
            owner=card,
        )
        card.take_order.connect(self.take_order)
        card.open_customer.connect(self._open_customer)
        card.put_away.connect(self.put_away)
        for old in self.cards:
            old.set_newest(False)
        card.set_newest(True)
        self.cards.insert(0, card)
        self.stack.insertWidget(0, card)
        self.empty.hide()
        if self.isHidden():
            self.fit_screen()
        self.show()
        self.raise_()
        return card

    def _looked_up(self, card: CallCard, call, *, focus: bool) -> None:
        card.show_call(call)
        # The card's button takes the keyboard only if nobody was typing, then or since.
        if focus and card is self.cards[0] and not self._someone_typing():
            if self.isFloating():
                self.activateWindow()
            card.take_button.setFocus()

    def _lookup_failed(self, card: CallCard, exc: BaseException) -> None:
        message = getattr(exc, "message", None)
        card.show_failure(message or "The caller could not be looked up; search for them by hand.")
        if message is None:
            show_error(self, exc)

    def show_missed(self, count: int) -> None:
        if count <= 0:
            return
        self.missed.setText(f"{count} call{'s' if count != 1 else ''} came in while the desk was locked "
                            "or nobody was signed in; nothing of them was shown.")
        self.missed.show()
        self.show()

    def _someone_typing(self) -> bool:
        focus = self._window.focusWidget() if self._window is not None else None
        if focus is None or self.isAncestorOf(focus):
            return False
        # An empty box waiting with the cursor (a search box after sign-in) is not someone typing.
        if isinstance(focus, QLineEdit):
            return not focus.isReadOnly() and bool(focus.text())
        if isinstance(focus, QAbstractSpinBox):
            return not focus.isReadOnly()
        if isinstance(focus, QTextEdit | QPlainTextEdit):
            return not focus.isReadOnly() and bool(focus.toPlainText())
        return False

    def put_away(self, card: CallCard) -> None:
        if card in self.cards:
            self.cards.remove(card)
        card.hide()
        card.deleteLater()
        if self.cards:
            self.cards[0].set_newest(True)
        else:
            self.empty.show()

    def put_all_away(self) -> None:
        for card in list(self.cards):
            self.put_away(card)
        self.missed.hide()

    # --- actions ----------------------------------------------------------------------

    def take_newest(self) -> None:
        if self.cards and self.cards[0].take_button.isEnabled():
            self.take_order(self.cards[0])

    def take_order(self, card: CallCard) -> None:
        """Start a phone order for the card's caller, or for a new customer with its number.

        A half-taken order on the phone-order screen is never dropped unasked (the screen asks).
        """
        screen = self._window.screens.get("PhoneOrderScreen")
        if screen is None:
            card.show_failure("Your account may not take phone orders.")
            card.take_button.setEnabled(False)
            return
        screen.request_new_order()
        if screen.has_unplaced_order():
            return
        self._window.show_screen("PhoneOrderScreen")
        match = card.chosen()
        if match is not None:
            screen.pick_customer(CustomerHit(
                id=match.id, name=match.name, company=match.company, email=match.email, phone=match.phone,
                postcode=match.postcode, city=match.city, status=match.status, match="phone",
                rank=0 if match.exact else 2))
        else:
            screen.new_customer_button.setChecked(True)
            screen.new_fields["phone"].setText((card.call.e164 or card.call.number) if card.call else card.number)
            screen.new_fields["first_name"].setFocus()

    def _open_customer(self, customer_id: int) -> None:
        self._window.open_customer(customer_id)
