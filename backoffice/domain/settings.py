"""Shop-wide settings: each declared once with its key, type, default and label."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, money, utcnow
from backoffice.errors import ValidationError


class ShopSetting(Base):
    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None]


@dataclass(frozen=True)
class SettingSpec:
    """One shop-wide setting: key, type, default and label.

    A setting holding more than a plain value gives `parse` (checks and converts what it
    is given, raising ValidationError with a sentence) and `dump` (the JSON form).
    """

    key: str
    type: type
    default: Any
    label: str
    help: str = ""
    parse: Callable[[Any], Any] | None = None
    dump: Callable[[Any], Any] | None = None
    minimum: int | None = None  # whole numbers: the range a person may set
    maximum: int | None = None
    check: Callable[[Any], Any] | None = None  # text: cleans what is typed or raises ValidationError

    def encode(self, value: Any) -> str:
        value = self.checked(value)
        return json.dumps(self.dump(value) if self.dump is not None else value)

    def checked(self, value: Any) -> Any:
        """`value` as it will be stored, or ValidationError with a sentence naming this setting.

        Stricter than reading back (`coerce`): what was stored before a rule existed still reads.
        """
        if self.type is int and self.parse is None:
            return self._whole_number(value)
        value = self.coerce(value)
        if self.check is not None:
            value = self.check(value)
        return value

    def _whole_number(self, value: Any) -> int:
        low, high = self.minimum, self.maximum
        span = f" from {low} to {high}" if low is not None and high is not None else ""
        message = f"{self.label}: enter a whole number{span}."
        if isinstance(value, bool):
            raise ValidationError(message, fields={self.key: message})
        try:
            number = value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            raise ValidationError(message, fields={self.key: message}) from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValidationError(message, fields={self.key: message})
        return number

    def decode(self, raw: str) -> Any:
        return self.coerce(json.loads(raw))

    def coerce(self, value: Any) -> Any:
        if self.parse is not None:
            return self.parse(value)
        if self.type is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if self.type is int:
            return int(value)
        return str(value) if value is not None else ""


@dataclass(frozen=True)
class ShippingMethod:
    """A shipping method the shop offers on phone orders.

    `method_id` is the web store's method (WooCommerce: flat_rate, free_shipping,
    local_pickup, or a plugin's id); `cost` is what the desk starts with, still editable
    on each order.
    """

    title: str
    method_id: str
    cost: Decimal = Decimal("0.00")
    # The order subtotal below which it is not offered ("Free shipping on orders over 50.00").
    min_total: Decimal | None = None

    def as_json(self) -> dict[str, str]:
        body = {"title": self.title, "method_id": self.method_id, "cost": f"{self.cost:.2f}"}
        if self.min_total is not None:
            body["min_total"] = f"{self.min_total:.2f}"
        return body

    def refusal(self, subtotal: Decimal) -> str:
        """Why this method may not be chosen for an order of `subtotal`, or "" when it may."""
        if self.min_total is not None and subtotal < self.min_total:
            return (f"{self.title} is for orders of {self.min_total:.2f} or more; this order's products "
                    f"come to {subtotal:.2f}.")
        return ""


#: WooCommerce's own shipping methods, offered first when the owner adds one.
STANDARD_SHIPPING_METHOD_IDS = ("flat_rate", "free_shipping", "local_pickup")
MAX_SHIPPING_METHODS = 30
MAX_SHIPPING_COST = Decimal("99999.99")
_METHOD_ID = re.compile(r"^[a-z0-9_-]{1,64}$")

DEFAULT_SHIPPING_METHODS = (
    ShippingMethod("Flat rate", "flat_rate", Decimal("0.00")),
    ShippingMethod("Free shipping", "free_shipping", Decimal("0.00")),
    ShippingMethod("Local pickup", "local_pickup", Decimal("0.00")),
)


def _shipping_cost(raw: Any) -> Decimal | None:
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        text = raw.strip().replace(",", ".")
        try:
            value = Decimal(text or "0")
        except InvalidOperation:
            return None
    else:
        return None
    if not value.is_finite() or value < 0 or value > MAX_SHIPPING_COST or value != value.quantize(Decimal("0.01")):
        return None
    return money(value)


def parse_shipping_methods(value: Any) -> tuple[ShippingMethod, ...]:
    """Check the shop's shipping methods and return them cleaned, in the order given.

    Accepts `ShippingMethod`s or mappings with title, method_id and cost. Raises
    ValidationError naming each problem (fields "N.title", "N.method_id", "N.cost",
    counting from 1), so nothing wrong is saved.
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        message = "The shipping methods must be a list of methods."
        raise ValidationError(message, fields={"shipping.methods": message})
    items = list(value)
    if not items:
        message = "Keep at least one shipping method: every phone order needs one."
        raise ValidationError(message, fields={"shipping.methods": message})
    if len(items) > MAX_SHIPPING_METHODS:
        message = f"Offer at most {MAX_SHIPPING_METHODS} shipping methods."
        raise ValidationError(message, fields={"shipping.methods": message})
    methods: list[ShippingMethod] = []
    problems: dict[str, str] = {}
    titles: set[str] = set()
    for number, item in enumerate(items, start=1):
        if isinstance(item, ShippingMethod):
            raw = {"title": item.title, "method_id": item.method_id, "cost": item.cost,
                   "min_total": item.min_total}
        elif isinstance(item, Mapping):
            raw = item
        else:
            problems[f"{number}.title"] = f"Shipping method {number} is not a shipping method."
            continue
        title = " ".join(str(raw.get("title") or "").split())
        method_id = str(raw.get("method_id") or "").strip()
        cost = _shipping_cost(raw.get("cost", "0"))
        min_raw = raw.get("min_total")
        has_min = min_raw is not None and str(min_raw).strip() != ""
        min_total = _shipping_cost(min_raw) if has_min else None
        if has_min and min_total is None:
            problems[f"{number}.min_total"] = (
                f"Shipping method {number}: the minimum order must be an amount such as 50.00, or left empty.")
        if not title:
            problems[f"{number}.title"] = f"Shipping method {number}: enter a title."
        elif len(title) > 120:
            problems[f"{number}.title"] = f"Shipping method {number}: the title is too long (at most 120 characters)."
        elif title.casefold() in titles:
            problems[f"{number}.title"] = f"Shipping method {number}: “{title}” is already in the list."
        if not method_id:
            problems[f"{number}.method_id"] = (
                f"Shipping method {number}: enter the web store's method, such as flat_rate.")
        elif not _METHOD_ID.match(method_id):
            problems[f"{number}.method_id"] = (
                f"Shipping method {number}: the web store's method is written in small letters, digits, "
                "_ and -, such as flat_rate or local_pickup.")
        if cost is None:
            problems[f"{number}.cost"] = (
                f"Shipping method {number}: the cost must be an amount such as 4.95 (zero or more, "
                "at most two decimals).")
        titles.add(title.casefold())
        if title and method_id and cost is not None:
            methods.append(ShippingMethod(title, method_id, cost, min_total))
    if problems:
        raise ValidationError(" ".join(problems.values()) + " Nothing was saved.", fields=problems)
    return tuple(methods)


def dump_shipping_methods(methods: tuple[ShippingMethod, ...]) -> list[dict[str, str]]:
    return [m.as_json() for m in methods]


def _invalid(key: str, message: str) -> ValidationError:
    return ValidationError(message, fields={key: message})


_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _check_currency(value: str) -> str:
    code = value.strip().upper()
    if not _CURRENCY.match(code):
        raise _invalid("shop.currency", "Currency: enter the three-letter code, such as USD, EUR or GBP.")
    return code


def _check_country(value: str) -> str:
    import phonenumbers  # late: its country data takes half a second to load; few texts need it

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise _invalid("shop.default_country",
                       "Default country: enter the two-letter country code, such as US, GB or DE.")
    return code


def _check_terminal_url(value: str) -> str:
    url = value.strip()
    if url and not re.match(r"^https://[^\s/]+\.[^\s]+$", url, re.IGNORECASE):
        raise _invalid("payments.terminal_url",
                       "Card terminal address: enter the gateway's own https:// address, or leave it empty.")
    return url


def _check_meta_key(value: str) -> str:
    key = value.strip()
    if not re.match(r"^[A-Za-z0-9_-]{1,64}$", key):
        raise _invalid("store.consent_meta_key",
                       "Store meta key for consent: letters, digits, _ and - only, such as _newsletter_consent.")
    return key


def _trimmed(value: str) -> str:
    return value.strip()


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("shop.name", str, "My Shop", "Shop name", check=_trimmed),
    SettingSpec("shop.currency", str, "USD", "Currency", "ISO 4217 code used for totals.", check=_check_currency),
    SettingSpec("shop.default_country", str, "US", "Default country",
                "Used to read phone numbers typed without a country code.", check=_check_country),
    SettingSpec("ship_from.name", str, "", "Ship-from name", "Printed on every packing slip.", check=_trimmed),
    SettingSpec("ship_from.address", str, "", "Ship-from address", "Printed on every packing slip.",
                check=_trimmed),
    SettingSpec("ship_from.logo", str, "", "Logo for packing slips",
                "A PNG or JPEG file on this computer, printed at the top of each slip.", check=_trimmed),
    SettingSpec("shipping.phone_for_methods", str, "", "Shipping methods whose carrier needs the phone",
                "Their method ids or titles, separated by commas; other slips leave the phone off.",
                check=_trimmed),
    SettingSpec("privacy.response_days", int, 30, "Days to answer a privacy request", minimum=1, maximum=90),
    SettingSpec("privacy.reminder_days", int, 7, "Remind this many days before a request is due",
                minimum=0, maximum=30),
    SettingSpec("privacy.contact", str, "", "Privacy contact", "Where customers send privacy requests.",
                check=_trimmed),
    SettingSpec("retention.order_years", int, 7, "Keep orders for (years)",
                "Orders the law says to keep stay, anonymised, after erasure.", minimum=0, maximum=30),
    SettingSpec("retention.job_enabled", bool, False, "Run the retention job",
                "Off by default: anonymise orders past their retention period and remove inactive customers."),
    SettingSpec("retention.customer_inactive_years", int, 0, "Remove customers inactive for (years)",
                "0 keeps them; used by the retention job only.", minimum=0, maximum=30),
    SettingSpec("desk.idle_lock_minutes", int, 10, "Lock an idle desk after (minutes)", minimum=1, maximum=240),
    SettingSpec("store.url", str, "", "Web store address", check=_trimmed),
    SettingSpec("store.consent_meta_key", str, "_newsletter_consent", "Store meta key for consent",
                "The customer meta field on the web store that holds newsletter consent.", check=_check_meta_key),
    SettingSpec("store.sync_minutes", int, 5, "Sync with the web store every (minutes)", minimum=1, maximum=1440),
    SettingSpec("payments.terminal_url", str, "", "Card terminal address",
                "The gateway's own virtual terminal, opened from the phone-order screen.",
                check=_check_terminal_url),
    SettingSpec("payments.terminal_gateway", str, "stripe", "Card terminal gateway",
                "The web store's payment gateway id of the card terminal, such as stripe or square.",
                check=_trimmed),
    SettingSpec("payments.gateway.invoice", str, "cheque", "Store gateway for invoices",
                "The web store's payment gateway id (its payment_gateways) set on orders paid by invoice.",
                check=_trimmed),
    SettingSpec("payments.gateway.bank_transfer", str, "bacs", "Store gateway for bank transfers",
                "The web store's payment gateway id set on orders paid by bank transfer.", check=_trimmed),
    SettingSpec("payments.gateway.cash_on_pickup", str, "cod", "Store gateway for cash on pickup",
                "The web store's payment gateway id set on orders paid in cash.", check=_trimmed),
    SettingSpec("shipping.methods", tuple, DEFAULT_SHIPPING_METHODS, "Shipping methods",
                "Offered on the phone-order screen, each with the cost it starts with.",
                parse=parse_shipping_methods, dump=dump_shipping_methods),
    SettingSpec("reports.min_group_size", int, 5, "Smallest group shown in statistics", minimum=1, maximum=1000),
)

SETTINGS_BY_KEY = {spec.key: spec for spec in SETTINGS}

DEFAULT_COUNTRY = "shop.default_country"


def country_or_default(value: Any) -> str:
    """A default-country value as the back office uses it: two capital letters, the
    declared default when none is set."""
    return str(value or SETTINGS_BY_KEY[DEFAULT_COUNTRY].default).upper()


def shop_default_country(session) -> str:
    """The shop's default country inside a caller's session (or connection): the country
    of phones and addresses typed without one. The one place that reads it."""
    spec = SETTINGS_BY_KEY[DEFAULT_COUNTRY]
    raw = session.execute(select(ShopSetting.value).where(ShopSetting.key == spec.key)).scalar_one_or_none()
    return country_or_default(spec.default if raw is None else spec.decode(raw))
