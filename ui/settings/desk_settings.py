"""Settings of this desk only (database address, window geometry), kept in QSettings."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from backoffice.call_endpoint import DEFAULT_PORT

ORGANISATION = "backoffice"
APPLICATION = "backoffice"


def settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


def database_url() -> str | None:
    value = settings().value("database/url", None)
    return str(value) if value else None


def set_database_url(url: str | None) -> None:
    s = settings()
    if url:
        s.setValue("database/url", url)
    else:
        s.remove("database/url")


def call_endpoint() -> tuple[bool, int]:
    """Whether this desk serves http://127.0.0.1:PORT/call?number=… (off unless switched on), and its port."""
    s = settings()
    enabled = str(s.value("calls/http_enabled", "false")).lower() in ("true", "1")
    try:
        port = int(s.value("calls/http_port", DEFAULT_PORT))
    except (TypeError, ValueError):
        port = DEFAULT_PORT
    return enabled, port if 1024 <= port <= 65535 else DEFAULT_PORT


def set_call_endpoint(enabled: bool, port: int) -> None:
    s = settings()
    s.setValue("calls/http_enabled", bool(enabled))
    s.setValue("calls/http_port", int(port))
def _window_key(desk: str, what: str) -> str:
    # Several desks may share one account on a shared computer; each keeps its own window.
    return f"window/{desk or 'default'}/{what}"


def window_state(desk: str) -> tuple[bytes | None, str]:
    """The main window's saved geometry and the screen that was in front, for `desk`."""
    s = settings()
    geometry = s.value(_window_key(desk, "geometry"), None)
    screen = s.value(_window_key(desk, "screen"), "")
    return (bytes(geometry) if geometry else None, str(screen or ""))


def set_window_state(desk: str, geometry: bytes, screen: str) -> None:
    s = settings()
    s.setValue(_window_key(desk, "geometry"), geometry)
    s.setValue(_window_key(desk, "screen"), screen)
