"""The dev store set up as shops run theirs: taxes on, and what the second recording shows.

Each test holds the dev store to a figure or a shape recorded from a stock WooCommerce
10.0.2 store (tests/fixtures/woocommerce and its README).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests


HOUSTON = {"first_name": "Maria", "last_name": "Garcia", "address_1": "1 Main St", "city": "Houston",
           "state": "TX", "postcode": "77002", "country": "US"}


STORE = {"seed": 11}


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


def test_a_variable_product_lists_its_variations_and_an_order_names_the_one_sold(http, store):
    shirt = post(http, store, "/products", {"name": "T-Shirt", "sku": "TSHIRT", "type": "variable"})
    small = post(http, store, f"/products/{shirt['id']}/variations", {
        "sku": "TSHIRT-S", "regular_price": "15.00", "manage_stock": True, "stock_quantity": 5,
        "attributes": [{"name": "Size", "option": "S"}]})
    medium = post(http, store, f"/products/{shirt['id']}/variations", {
        "sku": "TSHIRT-M", "regular_price": "16.00", "manage_stock": True, "stock_quantity": 8,
        "attributes": [{"name": "Size", "option": "M"}]})
    parent = http.get(store.api_url + f"/products/{shirt['id']}").json()
    # The shapes of product_variable.json and product_variations.json.
    assert parent["type"] == "variable" and parent["variations"] == [small["id"], medium["id"]]
    assert parent["price"] == "15.00"
    assert parent["attributes"][0]["options"] == ["S", "M"]
    listed = http.get(store.api_url + f"/products/{shirt['id']}/variations").json()
    assert [(v["sku"], v["price"], v["stock_quantity"], v["attributes"][0]["option"], v["parent_id"])
            for v in listed] == [("TSHIRT-S", "15.00", 5, "S", shirt["id"]), ("TSHIRT-M", "16.00", 8, "M", shirt["id"])]
    # Variations are not products of the listing.
    assert [p["id"] for p in http.get(store.api_url + "/products").json()] == [shirt["id"]]

    order = post(http, store, "/orders", {"status": "processing", "line_items": [
        {"product_id": shirt["id"], "variation_id": medium["id"], "quantity": 2}]})
    (line,) = order["line_items"]
    assert (line["name"], line["product_id"], line["variation_id"], line["sku"], line["total"]) == (
        "T-Shirt - M", shirt["id"], medium["id"], "TSHIRT-M", "32.00")
    assert [(m["display_key"], m["value"]) for m in line["meta_data"] if m["key"] == "size"] == [("Size", "M")]
    # The variation's stock went down, not the parent's.
    assert http.get(store.api_url + f"/products/{shirt['id']}/variations/{medium['id']}").json()["stock_quantity"] == 6
    # The store does not stop a line naming only the parent: a shirt of no size.
    bare = post(http, store, "/orders", {"line_items": [{"product_id": shirt["id"], "quantity": 1}]})
    assert bare["line_items"][0]["variation_id"] == 0


def test_backorders_allowed_the_store_reports_onbackorder_and_a_negative_stock(http, store):
    mug = post(http, store, "/products", {"name": "Red Mug", "sku": "MUG-RED", "regular_price": "9.00",
                                          "manage_stock": True, "stock_quantity": 2, "backorders": "notify"})
    post(http, store, "/orders", {"status": "processing", "line_items": [{"product_id": mug["id"], "quantity": 5}]})
    after = http.get(store.api_url + f"/products/{mug['id']}").json()
    # The shape of product_on_backorder.json.
    assert (after["stock_quantity"], after["stock_status"], after["backorders"], after["backorders_allowed"],
            after["purchasable"]) == (-3, "onbackorder", "notify", True, True)


def test_wordpress_filters_a_users_name_for_html_but_not_the_billing_name(http, store):
    customer = post(http, store, "/customers", {
        "email": "ben.jerry@example.com", "first_name": "Ben & Jerry", "last_name": "<b>O'Neil</b>",
        "billing": {"first_name": "Ben & Jerry", "company": "A&B \"Quotes\" Ltd"}})
    again = http.get(store.api_url + f"/customers/{customer['id']}").json()
    # As the recording's README and WordPress's pre_user_first_name filters have it.
    assert (again["first_name"], again["last_name"]) == ("Ben &amp; Jerry", "&lt;b&gt;O'Neil&lt;/b&gt;")
    assert again["billing"]["first_name"] == "Ben & Jerry"
    assert again["billing"]["company"] == "A&B \"Quotes\" Ltd"
    # Saving the name as read does not make it "&amp;amp;".
    http.put(store.api_url + f"/customers/{customer['id']}", json={"first_name": again["first_name"]})
    assert http.get(store.api_url + f"/customers/{customer['id']}").json()["first_name"] == "Ben &amp; Jerry"


def test_a_read_only_key_reads_and_every_write_is_refused_as_the_store_refuses_it(http, store):
    mug = post(http, store, "/products", {"name": "Red Mug", "sku": "MUG-RED", "regular_price": "9.00"})
    store.key_permissions = "read"
    assert http.get(store.api_url + "/products").status_code == 200
    for response in (http.post(store.api_url + "/orders", json={}),
                     http.put(store.api_url + f"/products/{mug['id']}", json={"name": "x"}),
                     http.delete(store.api_url + f"/products/{mug['id']}")):
        # The body of auth_read_only_key_write_error.json.
        assert response.status_code == 401
        assert response.json() == {"code": "woocommerce_rest_authentication_error",
                                   "message": "The API key provided does not have write permissions.",
                                   "data": {"status": 401}}
    # A wrong key is refused as before, with the permission check's code.
    wrong = requests.post(store.api_url + "/orders", json={}, auth=("ck_wrong", "cs_wrong"))
    assert wrong.status_code == 401 and wrong.json()["code"] == "woocommerce_rest_cannot_create"


def test_a_plugin_in_front_of_the_api_answers_with_a_web_page(http, store):
    store.faults.html_page_next(1, status=403)
    response = http.get(store.api_url + "/orders")
    assert response.status_code == 403 and response.headers["Content-Type"].startswith("text/html")
    assert "<title>Access denied" in response.text
    assert http.get(store.api_url + "/orders").status_code == 200


def test_fees_count_in_the_total_refunds_are_listed_and_a_forced_delete_leaves_nothing(http, store):
    mug = post(http, store, "/products", {"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"})
    store.set_tax_rate("8.25", country="US", state="TX")
    order = post(http, store, "/orders", {
        "status": "completed", "billing": {**HOUSTON, "email": "a@example.com"}, "shipping": HOUSTON,
        "line_items": [{"product_id": mug["id"], "quantity": 2}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}],
        "fee_lines": [{"name": "Gift wrap", "total": "2.50"}]})
    (fee,) = order["fee_lines"]
    assert (fee["name"], fee["total"], fee["total_tax"]) == ("Gift wrap", "2.50", "0.21")
    # lines + shipping + fees + tax = total, as order_with_fee.json adds up.
    assert order["total_tax"] == "2.68" and order["total"] == "35.18"

    refund = post(http, store, f"/orders/{order['id']}/refunds", {
        "amount": "12.50", "reason": "Damaged mug", "api_refund": False,
        "line_items": [{"id": order["line_items"][0]["id"], "quantity": 1, "refund_total": "12.50"}]})
    assert (refund["amount"], refund["reason"]) == ("12.50", "Damaged mug")
    assert refund["line_items"][0]["quantity"] == -1 and refund["line_items"][0]["total"] == "-12.50"
    again = http.get(store.api_url + f"/orders/{order['id']}").json()
    assert again["refunds"] == [{"id": refund["id"], "reason": "Damaged mug", "total": "-12.50"}]
    assert again["total"] == "35.18" and again["status"] == "completed"
    listed = http.get(store.api_url + f"/orders/{order['id']}/refunds").json()
    assert [r["id"] for r in listed] == [refund["id"]]
    too_much = http.post(store.api_url + f"/orders/{order['id']}/refunds", json={"amount": "30.00", "api_refund": False})
    assert too_much.status_code == 500 and too_much.json()["code"] == "woocommerce_rest_cannot_create_order_refund"

    gone = http.delete(store.api_url + f"/orders/{order['id']}", params={"force": "true"})
    assert gone.status_code == 200 and gone.json()["id"] == order["id"]
    after = http.get(store.api_url + f"/orders/{order['id']}")
    assert after.status_code == 404 and after.json()["code"] == "woocommerce_rest_shop_order_invalid_id"
