"""Declarative base, column types and the personal-data marker shared by every model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, Text, types
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CENT = Decimal("0.01")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(types.TypeDecorator):
    """A timestamp stored as naive UTC and always read back as aware UTC.

    SQLite keeps no time zone; storing naive UTC everywhere makes both databases
    compare and sort the same way.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Money(types.TypeDecorator):
    """An amount of money as a Decimal with two places, stored as integer cents.

    Integer cents are exact on SQLite and PostgreSQL alike and sum without drift.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | str | None, dialect) -> int | None:
        if value is None:
            return None
        amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
        return int(amount * 100)

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(CENT)


def money(value: Decimal | int | str | float) -> Decimal:
    """Round an amount to cents the way the shop does (half up)."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Personal:
    """Marks a column as holding personal data of the record's subject.

    category: what kind of data ("name", "contact", "address", "free_text", "identifier").
    erase: what erasure does with it: "null" (clear it), "anonymise" (replace with a
    neutral value that keeps the row usable) or "keep_hash" (handled by its owner).
    export: whether an access request's export includes it.
    """

    category: str
    erase: str = "anonymise"
    export: bool = True


def personal(category: str, *, erase: str = "anonymise", export: bool = True) -> dict[str, Any]:
    """Column `info` declaring personal data; read by `backoffice.domain.personal_data`."""
    return {"personal": Personal(category=category, erase=erase, export=export)}


class Base(DeclarativeBase):
    """Base of every table of the back office."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        Decimal: Money(),
        str: String(255),
        int: Integer(),
    }


__all__ = [
    "Base",
    "Money",
    "Personal",
    "Text",
    "UTCDateTime",
    "money",
    "personal",
    "utcnow",
]
