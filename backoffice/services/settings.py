"""Reading and changing shop-wide settings (declared once in `backoffice.domain.settings`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backoffice.db import Database
from backoffice.domain.settings import SETTINGS, SETTINGS_BY_KEY, ShopSetting
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes


def get_setting(db: Database, key: str) -> Any:
    """The value of one setting, or its declared default."""
    spec = SETTINGS_BY_KEY[key]
    with db.read() as s:
        raw = s.execute(select(ShopSetting.value).where(ShopSetting.key == key)).scalar_one_or_none()
    return spec.default if raw is None else spec.decode(raw)


def read_setting(session, key: str) -> Any:
    """The same inside a caller's session."""
    spec = SETTINGS_BY_KEY[key]
    raw = session.execute(select(ShopSetting.value).where(ShopSetting.key == key)).scalar_one_or_none()
    return spec.default if raw is None else spec.decode(raw)


def all_settings(db: Database) -> dict[str, Any]:
    with db.read() as s:
        stored = dict(s.execute(select(ShopSetting.key, ShopSetting.value)).all())
    return {spec.key: spec.decode(stored[spec.key]) if spec.key in stored else spec.default
            for spec in SETTINGS}


def write_settings(session, values: dict[str, Any], *, staff_id: int | None = None) -> None:
    """Store settings in the caller's transaction (no permission check: for setup code)."""
    for key, value in values.items():
        spec = SETTINGS_BY_KEY.get(key)
        if spec is None:
            raise ValidationError(f"There is no setting called {key}.", fields={key: "Unknown setting."})
        try:
            encoded = spec.encode(value)
        except ValidationError:
            raise
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{spec.label}: this value cannot be used.",
                                  fields={key: f"Expected {spec.type.__name__}."}) from exc
        row = session.get(ShopSetting, key)
        if row is None:
            session.add(ShopSetting(key=key, value=encoded, updated_by=staff_id))
        else:
            row.value = encoded
            row.updated_by = staff_id


def set_settings(db: Database, *, actor: Actor, values: dict[str, Any]) -> Changes:
    """Change shop settings (owner only). Raises PermissionDenied or ValidationError."""
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    with db.begin() as s:
        write_settings(s, values, staff_id=actor.staff_id)
        audit.record(s, actor, "change_settings", entity_type="settings", fields=values.keys())
    return Changes(settings=True)
