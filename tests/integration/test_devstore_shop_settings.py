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


def test_a_trashed_product_leaves_the_listing_is_listed_in_the_trash_and_still_sells(http, store):
    mug = post(http, store, "/products", {"name": "Red Mug", "sku": "MUG-RED", "regular_price": "9.00"})
    draft = post(http, store, "/products", {"name": "Draft Mug", "sku": "MUG-D", "regular_price": "9.00",
                                            "status": "draft"})
    private = post(http, store, "/products", {"name": "Private Mug", "sku": "MUG-P", "regular_price": "9.00",
                                              "status": "private"})
    trashed = http.delete(store.api_url + f"/products/{mug['id']}").json()
    assert trashed["status"] == "trash"
    listed = [p["id"] for p in http.get(store.api_url + "/products").json()]
    assert mug["id"] not in listed and draft["id"] in listed and private["id"] in listed
    in_trash = http.get(store.api_url + "/products", params={"status": "trash"}).json()
    assert [p["id"] for p in in_trash] == [mug["id"]]
    # As the recording shows: the store still takes a REST order for a product in its trash.
    post(http, store, "/orders", {"line_items": [{"product_id": mug["id"], "quantity": 1}]})
    gone = http.delete(store.api_url + f"/products/{draft['id']}", params={"force": "true"})
    assert gone.status_code == 200
    assert http.get(store.api_url + f"/products/{draft['id']}").status_code == 404
    assert draft["id"] not in [p["id"] for p in http.get(store.api_url + "/products").json()]
