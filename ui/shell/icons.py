"""Icons drawn from the SVG files in `resources/icons/`, so they stay sharp at any screen scale."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon


def icons_folder() -> Path:
    """`resources/icons/` beside `ui/` in a checkout, or unpacked beside the installed program."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent.parent))
    return base / "resources" / "icons"


@cache
def icon(name: str) -> QIcon:
    """The icon `name` (file `name.svg`); an empty icon when there is no such file."""
    path = icons_folder() / f"{name}.svg"
    # QIcon renders an SVG through the svg icon engine at whatever size and scale it is asked for.
    return QIcon(str(path)) if path.is_file() else QIcon()
