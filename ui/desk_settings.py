"""Settings of this desk only (database address, window geometry), kept in QSettings."""

from __future__ import annotations

from PySide6.QtCore import QSettings

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
