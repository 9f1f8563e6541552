"""A shipping method may carry a minimum order (free shipping over an amount)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice.domain.settings import parse_shipping_methods
from backoffice.errors import ValidationError


def test_a_minimum_order_is_kept_checked_and_refuses_below_it():
    flat, free = parse_shipping_methods([
        {"title": "Flat rate", "method_id": "flat_rate", "cost": "6.50", "min_total": ""},
        {"title": "Free shipping", "method_id": "free_shipping", "cost": "0", "min_total": "50"}])
    assert flat.min_total is None and free.min_total == Decimal("50.00")
    assert free.as_json()["min_total"] == "50.00" and "min_total" not in flat.as_json()
    assert parse_shipping_methods([free]) == (free,)
    assert free.refusal(Decimal("49.99")).startswith("Free shipping is for orders of 50.00 or more")
    assert free.refusal(Decimal("50.00")) == "" and flat.refusal(Decimal("0")) == ""
    with pytest.raises(ValidationError) as bad:
        parse_shipping_methods([{"title": "Free", "method_id": "free_shipping", "cost": "0", "min_total": "lots"}])
    assert "1.min_total" in bad.value.fields
