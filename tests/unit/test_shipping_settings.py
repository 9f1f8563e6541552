"""The shop's shipping methods: one setting declared with the others, checked before it is saved,
changed by the owner only, and offered on phone orders in the owner's order."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.domain import AuditEvent
from backoffice.domain.settings import (
    DEFAULT_SHIPPING_METHODS,
    SETTINGS_BY_KEY,
    ShippingMethod,
    ShopSetting,
    parse_shipping_methods,
)
from backoffice.errors import PermissionDenied, ValidationError
from backoffice.services import phone_orders as po
from backoffice.services.settings import all_settings, get_setting, set_settings

COURIER = {"title": "Courier (next day)", "method_id": "flat_rate", "cost": "9.50"}
PICKUP = {"title": "Pick up at the shop", "method_id": "local_pickup", "cost": "0"}


def test_declared_once_with_a_label_and_the_stores_methods_by_default(db):
    spec = SETTINGS_BY_KEY["shipping.methods"]
    assert spec.label == "Shipping methods" and spec.help
    assert get_setting(db, "shipping.methods") == DEFAULT_SHIPPING_METHODS
    assert [m.method_id for m in DEFAULT_SHIPPING_METHODS] == ["flat_rate", "free_shipping", "local_pickup"]
    assert all_settings(db)["shipping.methods"] == DEFAULT_SHIPPING_METHODS


def test_the_owner_changes_them_and_they_come_back_in_order(db, owner, order_taker):
    changes = set_settings(db, actor=owner, values={"shipping.methods": [COURIER, PICKUP]})
    assert changes.settings
    assert get_setting(db, "shipping.methods") == (
        ShippingMethod("Courier (next day)", "flat_rate", Decimal("9.50")),
        ShippingMethod("Pick up at the shop", "local_pickup", Decimal("0.00")),
    )
    with db.read() as s:
        stored = json.loads(s.get(ShopSetting, "shipping.methods").value)
        fields = s.scalars(select(AuditEvent.fields).where(AuditEvent.action == "change_settings")).one()
    assert stored == [{"title": "Courier (next day)", "method_id": "flat_rate", "cost": "9.50"},
                      {"title": "Pick up at the shop", "method_id": "local_pickup", "cost": "0.00"}]
    assert "shipping.methods" in fields
    offered = po.shipping_options(db, actor=order_taker)
    assert [(o.title, o.method_id, o.cost) for o in offered] == [
        ("Courier (next day)", "flat_rate", Decimal("9.50")), ("Pick up at the shop", "local_pickup", Decimal("0.00"))]


def test_an_order_taker_cannot_change_them(db, order_taker):
    with pytest.raises(PermissionDenied):
        set_settings(db, actor=order_taker, values={"shipping.methods": [COURIER]})
    assert get_setting(db, "shipping.methods") == DEFAULT_SHIPPING_METHODS


@pytest.mark.parametrize("methods, field, words", [
    ([], "shipping.methods", "Keep at least one shipping method"),
    ([{"title": " ", "method_id": "flat_rate", "cost": "1"}], "1.title", "enter a title"),
    ([COURIER, {**PICKUP, "title": "courier (NEXT day)"}], "2.title", "already in the list"),
    ([{**COURIER, "method_id": ""}], "1.method_id", "such as flat_rate"),
    ([{**COURIER, "method_id": "Flat Rate"}], "1.method_id", "small letters, digits"),
    ([{**COURIER, "cost": "-1"}], "1.cost", "zero or more"),
    ([{**COURIER, "cost": "4.955"}], "1.cost", "at most two decimals"),
    ([{**COURIER, "cost": "four"}], "1.cost", "an amount such as 4.95"),
    ("flat_rate", "shipping.methods", "must be a list"),
])
def test_bad_methods_are_refused_with_a_sentence_and_nothing_is_saved(db, owner, methods, field, words):
    set_settings(db, actor=owner, values={"shipping.methods": [PICKUP]})
    with pytest.raises(ValidationError) as raised:
        set_settings(db, actor=owner, values={"shipping.methods": methods})
    assert words in raised.value.fields[field]
    assert words in raised.value.message
    assert [m.title for m in get_setting(db, "shipping.methods")] == ["Pick up at the shop"]


def test_costs_are_read_as_people_type_them():
    (method,) = parse_shipping_methods([{"title": "  Flat   rate ", "method_id": " flat_rate ", "cost": "4,5"}])
    assert method == ShippingMethod("Flat rate", "flat_rate", Decimal("4.50"))
    (free,) = parse_shipping_methods([ShippingMethod("Free", "free_shipping", Decimal("0"))])
    assert free.cost == Decimal("0.00")
    assert parse_shipping_methods([{"title": "A", "method_id": "a", "cost": ""}])[0].cost == Decimal("0.00")
