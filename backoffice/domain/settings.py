"""Shop-wide settings: each declared once with its key, type, default and label."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, utcnow


class ShopSetting(Base):
    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None]


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    label: str
    help: str = ""

    def encode(self, value: Any) -> str:
        return json.dumps(self.coerce(value))

    def decode(self, raw: str) -> Any:
        return self.coerce(json.loads(raw))

    def coerce(self, value: Any) -> Any:
        if self.type is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if self.type is int:
            return int(value)
        return str(value) if value is not None else ""


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("shop.name", str, "My Shop", "Shop name"),
    SettingSpec("shop.currency", str, "USD", "Currency", "ISO 4217 code used for totals."),
    SettingSpec("shop.default_country", str, "US", "Default country",
                "Used to read phone numbers typed without a country code."),
    SettingSpec("ship_from.name", str, "", "Ship-from name", "Printed on every packing slip."),
    SettingSpec("ship_from.address", str, "", "Ship-from address", "Printed on every packing slip."),
    SettingSpec("privacy.response_days", int, 30, "Days to answer a privacy request"),
    SettingSpec("privacy.reminder_days", int, 7, "Remind this many days before a request is due"),
    SettingSpec("privacy.contact", str, "", "Privacy contact", "Where customers send privacy requests."),
    SettingSpec("retention.order_years", int, 7, "Keep orders for (years)",
                "Orders the law says to keep stay, anonymised, after erasure."),
    SettingSpec("desk.idle_lock_minutes", int, 10, "Lock an idle desk after (minutes)"),
    SettingSpec("store.url", str, "", "Web store address"),
    SettingSpec("store.consent_meta_key", str, "_newsletter_consent", "Store meta key for consent"),
    SettingSpec("store.sync_minutes", int, 5, "Sync with the web store every (minutes)"),
    SettingSpec("payments.terminal_url", str, "", "Card terminal address",
                "The gateway's own virtual terminal, opened from the phone-order screen."),
    SettingSpec("payments.terminal_gateway", str, "stripe", "Card terminal gateway"),
    SettingSpec("reports.min_group_size", int, 5, "Smallest group shown in statistics"),
)

SETTINGS_BY_KEY = {spec.key: spec for spec in SETTINGS}
