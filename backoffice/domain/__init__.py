"""The data model and the pure business rules of the back office.

Importing this package loads nothing: the window paints before SQLAlchemy is imported. The
mapped classes are in `backoffice.domain.model` (all of them at once) and are also found here
by name (`from backoffice.domain import Customer` imports the model on first use).
"""

from __future__ import annotations

import importlib
import importlib.util


def __getattr__(name: str):
    # `from backoffice.domain import text` asks here before importing the submodule: a
    # submodule's name is left to the import system, so it does not load the model.
    if name.startswith("__") or importlib.util.find_spec(f"{__name__}.{name}") is not None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # The model brings SQLAlchemy, which start-up defers.
    model = importlib.import_module(f"{__name__}.model")
    try:
        return getattr(model, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
