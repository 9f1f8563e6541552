"""Wire format of the dev store: WordPress-style JSON text, store dates and money strings."""

from __future__ import annotations

import json
import re
import time
from calendar import timegm
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

#: Stands for the store's base URL inside stored documents; replaced when a response
#: is sent, so documents stay valid whatever port the server gets.
BASE = "@@BASE@@"

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
CENTS = Decimal("0.01")
ZERO = Decimal("0")

_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), check_circular=False)


def dumps(value: Any) -> str:
    """Encode like WordPress's `wp_json_encode`: compact, ASCII only, slashes escaped."""
    return _encoder.encode(value).replace("/", "\\/")


def render(text: str, base_url: str) -> str:
    """Put the real base URL (JSON-escaped) into stored document text."""
    return text.replace(BASE, base_url.replace("/", "\\/"))


def iso(ts: float) -> str:
    """Format epoch seconds as the store does: `2026-11-22T04:44:55`, whole seconds, UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(ts)))


_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_date(value: str) -> str | None:
    """Parse an RFC 3339 date as WordPress does; return it as a store date (UTC) or None.

    Fractions of a second are dropped: the store keeps whole seconds.
    """
    match = _DATE_RE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        ts = timegm((year, month, day, hour, minute, second, 0, 0, 0))
        time.strptime(f"{year:04d}-{month:02d}-{day:02d}", "%Y-%m-%d")
    except ValueError:
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone = match.group(7)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
        ts -= sign * offset
    return iso(ts)


def to_money(value: Any) -> Decimal:
    """Read an amount sent by a client (string or number); raise ValueError if it is not one."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not an amount")
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip() or "0")
    except InvalidOperation as exc:
        raise ValueError("not an amount") from exc
    if not amount.is_finite():
        raise ValueError("not an amount")
    return amount


def money(amount: Decimal) -> str:
    """Format an amount the way the store answers: a string with two decimals."""
    return str(amount.quantize(CENTS, rounding=ROUND_HALF_UP))


def meta_text(value: Any) -> str:
    """The text form of a meta value, as indexed for lookups."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True)
