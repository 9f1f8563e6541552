"""Reading and changing shop-wide settings (declared once in `backoffice.domain.settings`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from backoffice import secrets
from backoffice.db import Database
from backoffice.domain.settings import (  # noqa: F401  (the default country's rule, for the services)
    DEFAULT_COUNTRY,
    SETTINGS,
    SETTINGS_BY_KEY,
    ShopSetting,
    country_or_default,
    shop_default_country,
)
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


def default_country(db: Database) -> str:
    """The shop's default country (`shop_default_country`) for a caller without a session."""
    return country_or_default(get_setting(db, DEFAULT_COUNTRY))


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


def check_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The values as they will be stored, or one ValidationError naming every problem.

    The web store's address must be one the sync can use (https://, or http:// only on
    this computer) and is kept without a trailing slash.
    """
    problems: dict[str, str] = {}
    sentences: list[str] = []
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        spec = SETTINGS_BY_KEY.get(key)
        try:
            if spec is None:
                raise ValidationError(f"There is no setting called {key}.", fields={key: "Unknown setting."})
            cleaned[key] = spec.checked(value)
            if key == "store.url" and cleaned[key]:
                # The rule is the HTTP layer's, which the settings model does not import
                # (nor does this module at the top: reading a setting needs no HTTP client).
                from backoffice.store.http import check_store_url

                try:
                    cleaned[key] = check_store_url(cleaned[key])
                except ValidationError as exc:
                    raise ValidationError(exc.message, fields={key: exc.message}) from None
        except ValidationError as exc:
            problems[key] = next(iter(exc.fields.values()), exc.message)
            sentences.append(exc.message)
            for field, text in exc.fields.items():
                if field != key:
                    problems[field] = text
    if problems:
        raise ValidationError(" ".join(sentences) + " Nothing was saved.", fields=problems)
    return cleaned


def set_settings(db: Database, *, actor: Actor, values: dict[str, Any]) -> Changes:
    """Change shop settings (owner only): all of them, or none and every problem named.

    Raises PermissionDenied or ValidationError (fields keyed by setting).
    """
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    values = check_settings(values)
    with db.begin() as s:
        write_settings(s, values, staff_id=actor.staff_id)
        audit.record(s, actor, "change_settings", entity_type="settings", fields=values.keys())
    return Changes(settings=True)


# --- the web store's API keys --------------------------------------------------------------------

audit.register_action("change_store_keys", "Web store API keys changed")

_KEY_FORMS = {"consumer_key": ("ck_", "Consumer key"), "consumer_secret": ("cs_", "Consumer secret")}


@dataclass(frozen=True)
class StoreKeysState:
    """Whether this computer can reach the web store: its address and where its keys come from."""

    store_url: str  # as saved in the settings ("" when none is set up)
    saved: bool  # keys for that address are in the keyring (or this run's memory)
    from_environment: bool  # BACKOFFICE_WC_KEY and BACKOFFICE_WC_SECRET are set and win
    keyring: bool  # this computer has a keyring that keeps them across restarts

    @property
    def sentence(self) -> str:
        if not self.store_url:
            return "No web store address is saved yet."
        if self.from_environment:
            return "The keys come from BACKOFFICE_WC_KEY and BACKOFFICE_WC_SECRET on this computer."
        if not self.saved:
            return f"No API keys are saved on this computer for {self.store_url}."
        where = "this computer's keyring" if self.keyring else "memory until the app closes (this computer has no keyring)"
        return f"The API keys for {self.store_url} are kept in {where}."


def store_keys_state(db: Database, *, actor: Actor) -> StoreKeysState:
    """Where the store's keys stand on this computer (never the keys themselves); owner only."""
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    url = str(get_setting(db, "store.url") or "")
    env = bool(os.environ.get("BACKOFFICE_WC_KEY") and os.environ.get("BACKOFFICE_WC_SECRET"))
    saved = bool(url) and secrets.get_secret("store-key", url) is not None \
        and secrets.get_secret("store-secret", url) is not None
    return StoreKeysState(url, saved, env, secrets.keyring_available())


def set_store_keys(db: Database, *, actor: Actor, consumer_key: str, consumer_secret: str) -> StoreKeysState:
    """Keep the web store's consumer key and secret for the saved store address (owner only).

    They go to the keyring only, never to the database or a log; the audit trail records
    that they changed. Raises ValidationError when no address is saved or a key does not
    look like a WooCommerce key (ck_... and cs_...).
    """
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    url = str(get_setting(db, "store.url") or "")
    if not url:
        message = "Save the web store's address first: the keys are kept for that address."
        raise ValidationError(message, fields={"store.url": message})
    typed = {"consumer_key": consumer_key.strip(), "consumer_secret": consumer_secret.strip()}
    problems = {}
    for field, value in typed.items():
        prefix, label = _KEY_FORMS[field]
        if not value.startswith(prefix) or len(value) < len(prefix) + 8 or any(ch.isspace() for ch in value):
            problems[field] = (f"{label}: paste the {label.lower()} WooCommerce made for the back office; "
                               f"it starts with {prefix}.")
    if problems:
        raise ValidationError(" ".join(problems.values()) + " Nothing was saved.", fields=problems)
    secrets.set_store_credentials(url, typed["consumer_key"], typed["consumer_secret"])
    with db.begin() as s:
        audit.record(s, actor, "change_store_keys", entity_type="settings", fields=("consumer_key", "consumer_secret"))
    return store_keys_state(db, actor=actor)
