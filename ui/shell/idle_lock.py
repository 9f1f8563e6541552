"""Locking an idle desk: an overlay hides the window, keeps it as it is, and asks for the password."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import SIGNAL, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.roles import Actor
from backoffice.errors import UserFacingError
from ui.common.styles import ERROR_STYLE
from ui.common.tasks import TaskManager

if TYPE_CHECKING:
    from backoffice.db import Database

_T = QEvent.Type
# Input that must not reach the window while it is locked.
_INPUT = frozenset({
    _T.KeyPress, _T.KeyRelease, _T.ShortcutOverride, _T.InputMethod,
    _T.MouseButtonPress, _T.MouseButtonRelease, _T.MouseButtonDblClick, _T.MouseMove,
    _T.Wheel, _T.ContextMenu, _T.TouchBegin, _T.TouchUpdate, _T.TouchEnd,
    _T.TabletPress, _T.TabletRelease, _T.TabletMove,
    _T.DragEnter, _T.DragMove, _T.Drop, _T.NativeGesture,
})
# What counts as someone using the desk.
_ACTIVITY = frozenset({
    _T.KeyPress, _T.MouseButtonPress, _T.MouseMove, _T.Wheel, _T.TouchBegin, _T.TabletPress,
})
_MAX_CHECK_MS = 15_000


class _Cover(QWidget):
    """An opaque child that hides everything in its window and follows its size."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setAutoFillBackground(True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        window.installEventFilter(self)
        self.setGeometry(window.rect())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.parentWidget() and event.type() == _T.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def keyPressEvent(self, event) -> None:
        # Keys end here: nothing typed on the lock reaches the window underneath.
        event.accept()

    def show_over(self) -> None:
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()


class _PlainCover(_Cover):
    """Covers another window of the app while the desk is locked."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("lockCover")
        layout = QVBoxLayout(self)
        label = QLabel("This desk is locked.")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)


class LockOverlay(_Cover):
    """Asks the signed-in person's password to unlock, or offers to sign out."""

    unlock_requested = Signal(str)
    sign_out_requested = Signal()

    def __init__(self, window: QWidget, actor: Actor) -> None:
        super().__init__(window)
        self.setObjectName("lockOverlay")
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setMaximumWidth(420)
        title = QLabel("<b>This desk is locked</b>")
        who = QLabel(f"Signed in: {actor.login}. Type your password to go on where you left off, "
                     "or sign out so someone else can sign in.")
        who.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setObjectName("unlockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.message = QLabel()
        self.message.setObjectName("unlockMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self.unlock_button = QPushButton("&Unlock")
        self.unlock_button.setObjectName("unlockButton")
        self.sign_out_button = QPushButton("Sign &out")
        self.sign_out_button.setObjectName("signOutButton")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_out_button)
        buttons.addWidget(self.unlock_button)
        inner = QVBoxLayout(box)
        for w in (title, who, self.password, self.message):
            inner.addWidget(w)
        inner.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        self.password.returnPressed.connect(self._submit)
        self.unlock_button.clicked.connect(self._submit)
        self.sign_out_button.clicked.connect(self.sign_out_requested)

    def _submit(self) -> None:
        if self.password.isEnabled():
            self.unlock_requested.emit(self.password.text())

    def set_checking(self, checking: bool) -> None:
        self.password.setEnabled(not checking)
        self.unlock_button.setEnabled(not checking)
        if not checking:
            self.password.setFocus()

    def say(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(bool(message))

    def focusNextPrevChild(self, next: bool) -> bool:
        # Tab cycles inside the lock, never into the window underneath.
        chain = [w for w in (self.password, self.sign_out_button, self.unlock_button) if w.isEnabled()]
        if not chain:
            return True
        current = QApplication.focusWidget()
        i = chain.index(current) if current in chain else -1
        chain[(i + (1 if next else -1)) % len(chain)].setFocus()
        return True


class IdleLock(QObject):
    """Locks the desk after `minutes` without input, or at once with `lock_now()`.

    Install it as an application event filter (it installs itself too; installing
    twice is harmless). While locked, an overlay child covers the window, so what
    the window holds stays exactly as it was, and input to the window (keys, mouse,
    shortcuts, closing it from the title bar) is held back. The same person's
    password unlocks (`staff.verify_password`, wrong ones count towards the
    account lock); "Sign out" emits `signed_out` (with nothing connected, the
    window is closed). `minutes <= 0` turns the idle timer off; `lock_now()` still works.
    """

    locked = Signal()
    unlocked = Signal()
    signed_out = Signal()

    def __init__(self, window: QWidget, *, db: Database | None, actor: Actor, minutes: float,
                 tasks: TaskManager | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self._window = window
        self._db = db
        self._actor = actor
        ctx = getattr(window, "ctx", None)
        self._tasks = tasks or getattr(ctx, "tasks", None) or TaskManager(self)
        self._is_locked = False
        self._signing_out = False
        self._warned_unsaved = False
        self._overlay: LockOverlay | None = None
        self._covers: list[_Cover] = []
        self._focus_before: QWidget | None = None
        self._last_input = time.monotonic()
        self._minutes = 0.0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._check_idle)
        self.set_minutes(minutes)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def _database(self) -> Database:
        """The lock's database, or the window's (opened behind it at start-up) when none was given."""
        return self._db if self._db is not None else self._window.ctx.db

    # --- settings and state -----------------------------------------------------------

    @property
    def minutes(self) -> float:
        return self._minutes

    def set_minutes(self, minutes: float) -> None:
        """Lock after this many idle minutes (0 or less: only on `lock_now()`)."""
        self._minutes = float(minutes or 0)
        self._timer.stop()
        if self._minutes > 0:
            idle_ms = int(self._minutes * 60_000)
            self._timer.start(max(100, min(idle_ms // 4, _MAX_CHECK_MS)))

    def is_locked(self) -> bool:
        return self._is_locked

    @property
    def overlay(self) -> LockOverlay | None:
        return self._overlay

    def stop(self) -> None:
        """Stop watching (when the window closes or the person signs out)."""
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def _check_idle(self) -> None:
        if self._is_locked or self._minutes <= 0:
            return
        if time.monotonic() - self._last_input >= self._minutes * 60:
            self.lock_now()

    # --- locking ----------------------------------------------------------------------

    def lock_now(self) -> None:
        """Cover the window and hold back its input until the password is given."""
        if self._is_locked or self._signing_out:
            return
        self._is_locked = True
        self._warned_unsaved = False
        self._focus_before = QApplication.focusWidget()
        while (popup := QApplication.activePopupWidget()) is not None:
            popup.close()
        # A modal dialog blocks input to the window below it, so the password is asked there.
        target = QApplication.activeModalWidget() or self._window
        for top in QApplication.topLevelWidgets():
            if top is target or not top.isVisible() or top.windowType() in (
                    Qt.WindowType.Popup, Qt.WindowType.ToolTip, Qt.WindowType.SplashScreen):
                continue
            cover = _PlainCover(top)
            cover.show_over()
            self._covers.append(cover)
        self._overlay = LockOverlay(target, self._actor)
        self._overlay.unlock_requested.connect(self._try_unlock)
        self._overlay.sign_out_requested.connect(self._sign_out_clicked)
        self._overlay.show_over()
        self._overlay.password.setFocus()
        self.locked.emit()

    def _try_unlock(self, password: str) -> None:
        overlay = self._overlay
        if overlay is None:
            return
        if not password:
            overlay.say("Type your password.")
            return
        overlay.set_checking(True)
        actor = self._actor

        def check(token, progress):
            from backoffice.services import staff  # late: SQLAlchemy loads behind the painted window

            return staff.verify_password(self._database(), actor=actor, password=password)

        self._tasks.run_db(
            check,
            on_success=self._checked,
            on_failure=self._check_failed,
        )

    def _checked(self, ok: bool) -> None:
        if self._overlay is None:
            return
        if ok:
            self._unlock()
            return
        self._overlay.password.clear()
        self._overlay.say(f"That is not the password of {self._actor.login}.")
        self._overlay.set_checking(False)

    def _check_failed(self, exc: BaseException) -> None:
        if self._overlay is None:
            return
        self._overlay.password.clear()
        if isinstance(exc, UserFacingError):
            self._overlay.say(exc.message)
        else:
            self._overlay.say("The password could not be checked; try again.")
        self._overlay.set_checking(False)

    def _remove_covers(self) -> None:
        for cover in [*self._covers, self._overlay]:
            if cover is not None and shiboken6.isValid(cover):
                cover.hide()
                cover.deleteLater()
        self._covers = []
        self._overlay = None

    def _unlock(self) -> None:
        self._remove_covers()
        self._is_locked = False
        self._last_input = time.monotonic()
        focus = self._focus_before
        self._focus_before = None
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.setFocus()
        self.unlocked.emit()

    def _sign_out_clicked(self) -> None:
        """Sign out from the lock screen; first say what unsaved work it would throw away."""
        describe = getattr(self._window, "unsaved_work", None)
        work = describe() if describe else []
        if work and not self._warned_unsaved and self._overlay is not None:
            self._warned_unsaved = True
            self._overlay.say(f"Not saved yet: {'; '.join(work)}. Unlock to finish it, or click "
                              "Sign out again to discard it.")
            return
        self.sign_out()

    def sign_out(self) -> None:
        """Sign the person out (audited) and emit `signed_out`."""
        if self._signing_out:
            return
        self._signing_out = True
        actor = self._actor

        def sign_out(token, progress):
            from backoffice.services import staff  # late: as above

            return staff.sign_out(self._database(), actor=actor)

        self._tasks.run_db(
            sign_out,
            on_success=lambda _r: self._signed_out(),
            on_failure=lambda _exc: self._signed_out(),
        )

    def _signed_out(self) -> None:
        # The covers stay up until the window is gone: the next person sees nothing of it.
        self._is_locked = False
        self.stop()
        if self.receivers(SIGNAL("signed_out()")) > 0:
            self.signed_out.emit()
        else:
            self._window.close()

    # --- the filter -------------------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if not self._is_locked:
            if kind in _ACTIVITY:
                self._last_input = time.monotonic()
            return False
        if kind == _T.Shortcut:
            return True
        if kind == _T.Close:
            if event.spontaneous() and isinstance(obj, QWidget) and obj.isWindow():
                event.ignore()
                return True
            return False
        if kind in _INPUT and isinstance(obj, QWidget):
            overlay = self._overlay
            return overlay is None or not (obj is overlay or overlay.isAncestorOf(obj))
        return False
