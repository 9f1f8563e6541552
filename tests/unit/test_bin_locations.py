"""Bin locations: kept by the owner, used to sort slips and pick lists."""

from __future__ import annotations

import pytest

from backoffice.errors import PermissionDenied, ValidationError
from backoffice.services.fulfilment import bins
from tests.unit.fulfilment_helpers import add_products


def test_owner_sets_bins_staff_may_read_them(db, owner, staff):
    with db.begin() as s:
        ids = add_products(s)
    changes = bins.set_bin_locations(db, actor=owner, bins={ids["SOCK-RED"]: "  Z-99 ", ids["MUG-BLUE"]: ""})
    assert changes.products == {ids["SOCK-RED"], ids["MUG-BLUE"]}
    rows = {r.sku: r.bin_location for r in bins.list_bin_locations(db, actor=staff)}
    assert rows == {"BOX-GIFT": "C-09", "MUG-BLUE": "", "SOCK-RED": "Z-99", "TEA-GREEN": "B-02"}
    with pytest.raises(PermissionDenied):
        bins.set_bin_locations(db, actor=staff, bins={ids["SOCK-RED"]: "A-1"})
    with pytest.raises(ValidationError):
        bins.set_bin_locations(db, actor=owner, bins={ids["SOCK-RED"]: "A-1", ids["MUG-BLUE"]: "x" * 40})
    assert {r.sku: r.bin_location for r in bins.list_bin_locations(db, actor=staff)}["SOCK-RED"] == "Z-99"
