"""Where this desk keeps its data, read without loading the database layer (the app's first
window needs it before SQLAlchemy has loaded)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DATABASE_URL = "BACKOFFICE_DATABASE_URL"


def data_dir() -> Path:
    """This desk's data folder (database, backups, exports)."""
    override = os.environ.get("BACKOFFICE_DATA_DIR")
    path = Path(override) if override else platformdirs.user_data_path("backoffice", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """BACKOFFICE_DATABASE_URL if set, else a SQLite file in the user data folder."""
    env = os.environ.get(ENV_DATABASE_URL)
    if env:
        return env
    return f"sqlite:///{data_dir() / 'backoffice.db'}"
