"""The dev store set up as shops run theirs: taxes on, and what the second recording shows.

Each test holds the dev store to a figure or a shape recorded from a stock WooCommerce
10.0.2 store (tests/fixtures/reference/woocommerce-10.0.2 and its README).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from backoffice.store.devstore import DevStore

HOUSTON = {"first_name": "Maria", "last_name": "Garcia", "address_1": "1 Main St", "city": "Houston",
           "state": "TX", "postcode": "77002", "country": "US"}


@pytest.fixture
def store():
    with DevStore(seed=11) as store:
        yield store


@pytest.fixture
def http(store):
    with requests.Session() as session:
        session.auth = (store.consumer_key, store.consumer_secret)
        yield session


def post(http, store, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = http.post(store.api_url + path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_taxes_on_the_store_computes_the_recorded_order(http, store):
    mug = post(http, store, "/products", {"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"})
    shirt = post(http, store, "/products", {"name": "T-Shirt S", "sku": "TSHIRT-S", "regular_price": "15.00"})
    store.set_tax_rate("8.25", country="US", state="TX", name="TX Tax")
    order = post(http, store, "/orders", {
        "status": "pending", "billing": {**HOUSTON, "email": "maria.garcia@example.com"}, "shipping": HOUSTON,
        "line_items": [{"product_id": mug["id"], "quantity": 2}, {"product_id": shirt["id"], "quantity": 1}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}],
    })
    # The figures of order_create_with_tax.json.
    assert [i["total_tax"] for i in order["line_items"]] == ["2.06", "1.24"]
    assert order["shipping_tax"] == "0.41"
    assert order["cart_tax"] == "3.30"
    assert order["total_tax"] == "3.71"
    assert order["total"] == "48.71"
    assert order["tax_lines"][0]["label"] == "TX Tax"
    assert order["tax_lines"][0]["rate_percent"] == 8.25


def test_taxes_follow_the_shipping_address_and_are_off_by_default(http, store):
    mug = post(http, store, "/products", {"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"})
    body = {"billing": {**HOUSTON, "email": "a@example.com"}, "shipping": HOUSTON,
            "line_items": [{"product_id": mug["id"], "quantity": 2}]}
    assert post(http, store, "/orders", body)["total"] == "25.00"
    store.set_tax_rate("8.25", country="US", state="TX")
    assert post(http, store, "/orders", body)["total"] == "27.06"
    elsewhere = {**body, "shipping": {**HOUSTON, "state": "CA", "city": "Fresno"}}
    assert post(http, store, "/orders", elsewhere)["total_tax"] == "0.00"
