"""Scan to pack: the slip's barcode opens the order, SKUs tick lines, mistakes are named at once."""

from __future__ import annotations

import pytest

from backoffice.errors import NotFound, UserFacingError
from backoffice.services.fulfilment import packing
from backoffice.services.fulfilment.to_ship import list_to_ship_page
from tests.unit.fulfilment_helpers import add_bundle, add_products, make_order


def test_scanning_every_item_lets_the_order_be_marked_packed(db, staff):
    with db.begin() as s:
        products = add_products(s)
        order = make_order(s, products, number="9100")
        add_bundle(s, products, order)
    opened = packing.open_for_packing(db, actor=staff, code=" 9100 ")
    # Refunded socks are not to pack; the gift box is packed as the tea inside it.
    assert sorted((line.sku, line.quantity) for line in opened.lines) == [
        ("MUG-BLUE", 1), ("TEA-GREEN", 1), ("TEA-GREEN", 2)]
    check = packing.PackCheck(opened)
    wrong = check.scan("SOCK-RED")
    assert not wrong.ok and "not in order 9100" in wrong.message
    assert check.scan("mug-blue").ok
    extra = check.scan("MUG-BLUE")
    assert not extra.ok and "too many" in extra.message
    with pytest.raises(UserFacingError) as missing:
        packing.mark_packed(db, actor=staff, order_id=opened.id, check=check)
    assert "TEA-GREEN" in str(missing.value)
    for _ in range(3):
        result = check.scan("TEA-GREEN")
    assert result.ok and "All items are in" in result.message and check.complete()
    packing.mark_packed(db, actor=staff, order_id=opened.id, check=check)
    (row,) = list_to_ship_page(db, actor=staff).rows
    assert row.packed_at is not None


def test_an_unknown_barcode_is_named(db, staff):
    with pytest.raises(NotFound) as caught:
        packing.open_for_packing(db, actor=staff, code="12345")
    assert "12345" in str(caught.value)
