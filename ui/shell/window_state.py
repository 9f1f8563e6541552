"""The main window's size, place and front screen: fitted to the screen, remembered per desk."""

from __future__ import annotations

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMainWindow

from ui.settings import desk_settings

# The size a window opens at on a large screen; smaller screens get what they have.
PREFERRED_WIDTH = 1200
PREFERRED_HEIGHT = 760
# Room left for a taskbar and the window's frame and title on a small (1366×768) screen.
FRAME_ALLOWANCE = 64


def fit_to_screen(window: QMainWindow) -> None:
    """Size the window to fit the screen it is on, title bar and taskbar included."""
    screen = window.screen()
    available = screen.availableGeometry() if screen is not None else None
    width, height = PREFERRED_WIDTH, PREFERRED_HEIGHT
    if available is not None and available.isValid():
        width = min(width, available.width() - 16)
        height = min(height, available.height() - FRAME_ALLOWANCE)
    window.resize(width, height)


def restore(window, desk: str) -> None:
    """Put the window where it was on this desk, with the screen that was in front."""
    geometry, screen = desk_settings.window_state(desk)
    if geometry:
        window.restoreGeometry(QByteArray(geometry))
    if screen and screen in window.screens:
        window.tabs.setCurrentWidget(window.screens.slot(screen))


def remember(window, desk: str) -> None:
    """Save the window's geometry and the screen in front (a page in front saves no screen)."""
    name = window.current_screen_name() or ""
    desk_settings.set_window_state(desk, bytes(window.saveGeometry().data()), name)
