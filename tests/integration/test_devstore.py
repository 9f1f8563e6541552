"""The dev store over real HTTP: paging, quirks, errors, payment and every fault switch.

Recorded WooCommerce 10.0.2 answers live in tests/fixtures/woocommerce/; the dev store's
answers must have the same field names, types and error bodies.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice.store.devstore import DevStore
from backoffice.store.devstore import server as devstore_server
from backoffice.store.devstore.cli import main as devstore_main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "woocommerce"
ORDER_STATUSES = {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def fixture_headers(name: str) -> dict[str, str]:
    lines = (FIXTURES / name).read_text().splitlines()[1:]
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def devstore_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("devstore-")]


@pytest.fixture(autouse=True)
def no_dangling_threads():
    yield
    deadline = time.monotonic() + 2
    while devstore_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert devstore_threads() == []


STORE = {"seed": 7, "customers": 30, "orders": 60, "products": 10, "clock": True}


@pytest.fixture
def http(store):
    with requests.Session() as session:
        session.auth = (store.consumer_key, store.consumer_secret)
        yield session


def api(store: DevStore, path: str) -> str:
    return store.api_url + path


def product_payload(**extra: Any) -> dict[str, Any]:
    return {"name": "Peer Widget", "regular_price": "19.99", "sku": "PEER-W-1", "stock_quantity": 50, **extra}


def create_product(http, store, **extra) -> dict[str, Any]:
    response = http.post(api(store, "/products"), json=product_payload(**extra))
    assert response.status_code == 201, response.text
    return response.json()


def create_customer(http, store, email="jane.doe@example.com") -> dict[str, Any]:
    payload = {
        "email": email,
        "first_name": "Jane",
        "last_name": "Doe",
        "billing": {"first_name": "Jane", "last_name": "Doe", "address_1": "1 Main St", "city": "San Francisco",
                    "postcode": "94103", "country": "US", "state": "CA", "email": email, "phone": "555-0100"},
        "shipping": {"first_name": "Jane", "last_name": "Doe", "address_1": "1 Main St", "city": "San Francisco",
                     "postcode": "94103", "country": "US", "state": "CA"},
    }
    response = http.post(api(store, "/customers"), json=payload)
    assert response.status_code == 201, response.text
    return response.json()


def keys_of(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value, list items merged: "line_items[].meta_data[].id"."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= keys_of(item, path)
    elif isinstance(value, list):
        for item in value:
            out |= keys_of(item, prefix + "[]")
    return out


# Keys and data --------------------------------------------------------------------------


def test_keys_are_woocommerce_shaped_and_follow_the_seed():
    first, again, other = DevStore(seed=3), DevStore(seed=3), DevStore(seed=4)
    try:
        assert re.fullmatch(r"ck_[0-9a-f]{40}", first.consumer_key)
        assert re.fullmatch(r"cs_[0-9a-f]{40}", first.consumer_secret)
        assert (first.consumer_key, first.consumer_secret) == (again.consumer_key, again.consumer_secret)
        assert first.consumer_key != other.consumer_key
    finally:
        for s in (first, again, other):
            s.close()
    given = DevStore(consumer_key="ck_" + "a" * 40, consumer_secret="cs_" + "b" * 40)
    given.close()
    assert given.consumer_key == "ck_" + "a" * 40


def test_populate_is_deterministic_and_covers_every_status():
    stores = [DevStore(seed=11), DevStore(seed=11)]
    try:
        for s in stores:
            s.populate(customers=20, orders=40, products=5)
        first, second = (s.list_orders() for s in stores)
        assert first == second
        assert {o["status"] for o in first} == ORDER_STATUSES
        assert stores[0].list_customers() == stores[1].list_customers()
        paid = [o for o in first if o["status"] in ("processing", "completed", "refunded")]
        assert all(o["date_paid"] for o in paid)
        assert all(o["total"] == f"{float(o['total']):.2f}" for o in first)
        emails = [c["email"] for c in stores[0].list_customers()]
        assert len(set(emails)) == len(emails)
        assert all(e.rsplit("@", 1)[1] in ("example.com", "example.org", "example.net") for e in emails)
    finally:
        for s in stores:
            s.close()


def test_order_customer_and_product_have_the_recorded_fields(http, store):
    product = create_product(http, store)
    customer = create_customer(http, store)
    response = http.post(api(store, "/orders"), json={
        "customer_id": customer["id"],
        "set_paid": True,
        "payment_method": "bacs",
        "payment_method_title": "Direct Bank Transfer",
        "billing": {"first_name": "Jane", "last_name": "Doe", "address_1": "1 Main St", "city": "San Francisco",
                    "state": "CA", "postcode": "94103", "country": "US", "email": "jane.doe@example.com"},
        "line_items": [{"product_id": product["id"], "quantity": 2}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat Rate", "total": "5.00"}],
    })
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == api(store, f"/orders/{response.json()['id']}")
    order = response.json()
    recorded = fixture("order_create.json")
    assert keys_of(order) == keys_of(recorded)
    assert keys_of(customer) == keys_of(fixture("customer_create.json"))
    assert keys_of(product) == keys_of(fixture("product_create.json"))
    listed = http.get(api(store, "/products"), params={"include": product["id"]}).json()[0]
    assert keys_of(listed) == keys_of(fixture("products_list.json")[0])
    # Same values where the recording's come from the same input.
    for key in ("status", "currency", "version", "prices_include_tax", "discount_total", "shipping_total", "total",
                "total_tax", "created_via", "is_editable", "needs_payment", "needs_processing", "currency_symbol"):
        assert order[key] == recorded[key], key
    line, recorded_line = order["line_items"][0], recorded["line_items"][0]
    for key in ("name", "quantity", "subtotal", "total", "sku", "price", "image", "parent_name"):
        assert line[key] == recorded_line[key], key
    assert [(m["key"], m["value"]) for m in line["meta_data"]] == [("_reduced_stock", "2")]
    assert order["number"] == str(order["id"]) and isinstance(order["number"], str)
    assert order["date_paid"] is not None and order["date_paid"] == order["date_paid_gmt"]
    assert product["average_rating"] == "0" and listed["average_rating"] == "0.00"
    assert "permalink_template" in product and "permalink_template" not in listed
    assert listed["stock_quantity"] == 48 and listed["total_sales"] == 2
    assert http.get(api(store, f"/customers/{customer['id']}")).json()["is_paying_customer"] is True


def test_list_items_have_the_recorded_fields(http, store):
    orders = http.get(api(store, "/orders"), params={"per_page": 3}).json()
    customers = http.get(api(store, "/customers"), params={"per_page": 3}).json()
    # The recorded list's orders have no shipping lines; the recorded created order has.
    recorded_order = keys_of(fixture("orders_list_page2.json")[0]) | keys_of(fixture("order_create.json"))
    optional = ("meta_data[]", "refunds[]", "line_items[].meta_data[]", "_links.customer")
    for order in orders:
        # Seeded checkout orders carry meta and refunds the recorded orders lack.
        assert {k for k in keys_of(order) if not k.startswith(optional)} \
            == {k for k in recorded_order if not k.startswith(optional)}
    recorded_customer = keys_of(fixture("customers_list.json")[1])
    assert all(keys_of(c) - {"meta_data[].id", "meta_data[].key", "meta_data[].value"}
               == recorded_customer - {"meta_data[].id", "meta_data[].key", "meta_data[].value"} for c in customers)


def test_line_price_is_a_float_like_the_store_computes_it(http, store):
    product = create_product(http, store)
    order = http.post(api(store, "/orders"), json={"line_items": [{"product_id": product["id"], "quantity": 5}]})
    line = order.json()["line_items"][0]
    assert line["total"] == "99.95"
    assert line["price"] == 19.990000000000002  # as recorded in orders_list_page2.json
    assert order.json()["status"] == "pending" and order.json()["needs_payment"] is True


# Paging ---------------------------------------------------------------------------------


def test_paging_headers_and_links(http, store):
    total = len([o for o in store.list_orders() if o["status"] in ORDER_STATUSES])
    params = {"per_page": 7, "page": 2, "orderby": "id", "order": "asc"}
    response = http.get(api(store, "/orders"), params=params)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert response.headers["X-WP-Total"] == str(total)
    assert response.headers["X-WP-TotalPages"] == str(math.ceil(total / 7))
    base = api(store, "/orders")
    assert response.headers["Link"] == (
        f'<{base}?per_page=7&page=1&orderby=id&order=asc>; rel="prev", '
        f'<{base}?per_page=7&page=3&orderby=id&order=asc>; rel="next"'
    )
    recorded = fixture_headers("orders_list_page2.headers.txt")
    for name in ("Content-Type", "Access-Control-Expose-Headers", "Allow", "Cache-Control", "X-Robots-Tag"):
        assert response.headers[name] == recorded[name]
    ids = [o["id"] for o in response.json()]
    assert len(ids) == 7 and ids == sorted(ids)
    first = http.get(api(store, "/orders"), params={**params, "page": 1})
    assert 'rel="prev"' not in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    assert first.links["next"]["url"] == f"{base}?per_page=7&page=2&orderby=id&order=asc"
    assert [o["id"] for o in first.json()][-1] < ids[0]
    last_page = math.ceil(total / 7)
    last = http.get(api(store, "/orders"), params={**params, "page": last_page})
    assert 'rel="next"' not in last.headers["Link"] and len(last.json()) == total - 7 * (last_page - 1)
    single = http.get(api(store, "/orders"), params={"per_page": 100})
    assert single.headers["Link"] == f'<{store.base_url}/wp-json/>; rel="https://api.w.org/"'
    assert len(single.json()) == total


def test_orders_page_past_the_end_reports_zero_like_the_store(http, store):
    response = http.get(api(store, "/orders"), params={"per_page": 3, "page": 400})
    recorded = fixture_headers("orders_list_page4_empty.headers.txt")
    assert response.status_code == 200
    assert response.json() == fixture("orders_list_page4_empty.json") == []
    assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == (
        recorded["X-WP-Total"], recorded["X-WP-TotalPages"]) == ("0", "0")
    assert response.headers["Link"] == f'<{api(store, "/orders")}?per_page=3&page=0>; rel="prev"'


def test_customers_and_products_past_the_end_report_real_totals(http, store):
    customers = http.get(api(store, "/customers"), params={"per_page": 10, "page": 99})
    assert customers.json() == [] and customers.headers["X-WP-Total"] == "30"
    assert customers.headers["X-WP-TotalPages"] == "3"
    products = http.get(api(store, "/products"), params={"per_page": 10, "page": 99})
    assert products.json() == [] and products.headers["X-WP-Total"] == "10"


@pytest.mark.parametrize("per_page", ["101", "0", "ten"])
def test_per_page_out_of_bounds_is_refused(http, store, per_page):
    response = http.get(api(store, "/orders"), params={"per_page": per_page})
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "rest_invalid_param" and body["message"] == "Invalid parameter(s): per_page"
    assert body["data"]["status"] == 400
    expected = ("per_page is not of type integer." if per_page == "ten"
                else "per_page must be between 1 (inclusive) and 100 (inclusive)")
    assert body["data"]["params"] == {"per_page": expected}


@pytest.mark.parametrize("orderby", ["id", "date", "modified"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_walking_pages_returns_every_order_once(http, store, clock, orderby, order):
    product = create_product(http, store)
    for _ in range(4):  # same second: ties on date and modified
        http.post(api(store, "/orders"), json={"line_items": [{"product_id": product["id"], "quantity": 1}]})
    params = {"orderby": orderby, "order": order}
    everything = [o["id"] for o in http.get(api(store, "/orders"), params={**params, "per_page": 100}).json()]
    walked, page = [], 1
    while True:
        items = http.get(api(store, "/orders"), params={**params, "per_page": 7, "page": page}).json()
        if not items:
            break
        walked += [o["id"] for o in items]
        if page == 3 and orderby != "modified":  # a change that does not move the order in this sort
            clock.advance(1)
            store.update_order(everything[0], {"customer_note": "changed"})
        page += 1
    assert len(everything) == 64
    assert walked == everything


def test_deep_pages_asked_out_of_order_are_right(clock):
    with DevStore(seed=5, clock=clock) as big, requests.Session() as session:
        big.populate(customers=50, orders=2350, products=10)
        session.auth = (big.consumer_key, big.consumer_secret)
        orders = big.list_orders()
        by_id = [o["id"] for o in orders]
        by_date_desc = [o["id"] for o in sorted(orders, key=lambda o: (o["date_created"], o["id"]), reverse=True)]
        for params, expected in (({"orderby": "id", "order": "asc"}, by_id), ({}, by_date_desc)):
            for page in (24, 22, 23, 21, 30):
                got = session.get(big.api_url + "/orders", params={**params, "per_page": 100, "page": page}).json()
                assert [o["id"] for o in got] == expected[(page - 1) * 100 : page * 100]


def test_default_per_page_is_ten(http, store):
    assert len(http.get(api(store, "/orders")).json()) == 10


# Dates ----------------------------------------------------------------------------------


def test_modified_after_on_orders_has_one_second_resolution(http, store, clock):
    order_id = store.list_orders()[0]["id"]
    t0 = clock.iso()
    clock.advance(1.5)
    changed = http.put(api(store, f"/orders/{order_id}"), json={"customer_note": "updated after T0"}).json()
    assert changed["date_modified"] == clock.iso() > t0
    after_t0 = http.get(api(store, "/orders"), params={"modified_after": t0, "dates_are_gmt": "true"})
    assert [o["id"] for o in after_t0.json()] == [order_id]
    assert after_t0.headers["X-WP-Total"] == "1"
    # The bound itself is excluded and fractions of a second are dropped.
    same_second = http.get(api(store, "/orders"), params={"modified_after": changed["date_modified"] + ".999"})
    assert same_second.json() == []
    before = http.get(api(store, "/orders"), params={"modified_before": t0, "per_page": 100})
    assert order_id not in [o["id"] for o in before.json()]
    bad = http.get(api(store, "/orders"), params={"modified_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["data"]["params"] == {"modified_after": "Invalid date."}


def test_customers_ignore_modified_after_and_list_customers_only(http, store):
    everything = http.get(api(store, "/customers"), params={"per_page": 100})
    future = http.get(api(store, "/customers"), params={"per_page": 100, "modified_after": "2099-01-01T00:00:00"})
    assert future.status_code == 200
    assert future.json() == everything.json() and len(everything.json()) == 30
    assert {c["role"] for c in everything.json()} == {"customer"}
    with_admin = http.get(api(store, "/customers"), params={"role": "all", "orderby": "id", "order": "asc"})
    assert with_admin.headers["X-WP-Total"] == "31"
    assert with_admin.json()[0]["role"] == "administrator" and with_admin.json()[0]["date_modified"] is None


def test_meta_only_update_leaves_date_modified(http, store, clock):
    order = store.list_orders(status="completed")[0]
    clock.advance(5)
    response = http.put(api(store, f"/orders/{order['id']}"),
                        json={"meta_data": [{"key": "_backoffice_ref", "value": "bo-123"}]})
    changed = response.json()
    assert changed["date_modified"] == order["date_modified"]
    ref = [m for m in changed["meta_data"] if m["key"] == "_backoffice_ref"]
    assert len(ref) == 1 and isinstance(ref[0]["id"], int) and ref[0]["value"] == "bo-123"
    clock.advance(5)
    noted = http.put(api(store, f"/orders/{order['id']}"), json={"customer_note": "Leave at the door"}).json()
    assert noted["date_modified"] == clock.iso() != order["date_modified"]


# Finding an order by the back office reference -----------------------------------------


def test_order_reference_lookup_by_search_and_by_meta(http, store):
    product = create_product(http, store)
    created = http.post(api(store, "/orders"), json={
        "line_items": [{"product_id": product["id"], "quantity": 1}],
        "meta_data": [{"key": "_backoffice_ref", "value": "bo-7f3a9c"}],
    }).json()
    by_search = http.get(api(store, "/orders"), params={"search": "bo-7f3a9c"})
    assert [o["id"] for o in by_search.json()] == [created["id"]]
    by_meta = http.get(api(store, "/orders"), params={"meta_key": "_backoffice_ref", "meta_value": "bo-7f3a9c"})
    assert [o["id"] for o in by_meta.json()] == [created["id"]]
    assert http.get(api(store, "/orders"), params={"search": "bo-000000"}).json() == []
    assert [o["id"] for o in store.find_orders_by_meta("_backoffice_ref", "bo-7f3a9c")] == [created["id"]]


def test_search_and_filters(http, store):
    customer = store.list_customers(role="customer")[0]
    mine = http.get(api(store, "/orders"), params={"customer": customer["id"], "per_page": 100}).json()
    assert mine and all(o["customer_id"] == customer["id"] for o in mine)
    found = http.get(api(store, "/customers"), params={"email": customer["email"].upper()}).json()
    assert [c["id"] for c in found] == [customer["id"]]
    by_name = http.get(api(store, "/customers"), params={"search": customer["last_name"], "per_page": 100}).json()
    assert customer["id"] in [c["id"] for c in by_name]
    cancelled = http.get(api(store, "/orders"), params={"status": "cancelled,failed", "per_page": 100}).json()
    assert cancelled and {o["status"] for o in cancelled} <= {"cancelled", "failed"}
    wanted = [o["id"] for o in store.list_orders()[:3]]
    included = http.get(api(store, "/orders"), params={"include": ",".join(map(str, wanted))}).json()
    assert sorted(o["id"] for o in included) == wanted
    bad = http.get(api(store, "/orders"), params={"status": "shipped"})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


# Errors ---------------------------------------------------------------------------------


def test_auth_refusals_match_the_recording(store):
    none = requests.get(api(store, "/orders"))
    wrong = requests.get(api(store, "/orders"), auth=(store.consumer_key, "cs_" + "0" * 40))
    assert none.status_code == wrong.status_code == 401
    assert none.json() == fixture("auth_none_error.json")
    assert wrong.json() == fixture("auth_bad_key_error.json")
    created = requests.post(api(store, "/customers"), json={"email": "x@example.com"})
    assert created.status_code == 401 and created.json()["code"] == "woocommerce_rest_cannot_create"
    assert store.get_customer(32) is None


def test_query_keys_are_accepted_and_the_secret_is_not_logged(store):
    response = requests.get(api(store, "/orders"),
                            params={"consumer_key": store.consumer_key, "consumer_secret": store.consumer_secret})
    assert response.status_code == 200
    logged = store.requests_log[-1]
    assert logged.query["consumer_secret"] == "[redacted]"
    assert store.consumer_secret not in repr(store.requests_log)


def test_duplicate_email_is_refused_with_the_recorded_error(http, store):
    create_customer(http, store)
    again = http.post(api(store, "/customers"), json={"email": "jane.doe@example.com"})
    assert again.status_code == 400
    assert again.json() == fixture("customer_create_duplicate_error.json")


def test_delete_customer_needs_force_and_keeps_their_orders(http, store, clock):
    product = create_product(http, store)
    customer = create_customer(http, store)
    order = http.post(api(store, "/orders"), json={
        "customer_id": customer["id"], "set_paid": True,
        "line_items": [{"product_id": product["id"], "quantity": 2}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat Rate", "total": "5.00"}],
    }).json()
    assert "customer" in order["_links"]
    refused = http.delete(api(store, f"/customers/{customer['id']}"))
    assert refused.status_code == 501 and refused.json() == fixture("customer_delete_noforce_error.json")
    clock.advance(2)
    deleted = http.delete(api(store, f"/customers/{customer['id']}"), params={"force": "true"})
    assert deleted.status_code == 200
    assert deleted.json()["id"] == customer["id"] and deleted.json()["email"] == customer["email"]
    assert keys_of(deleted.json()) == keys_of(fixture("customer_delete.json"))
    gone = http.get(api(store, f"/customers/{customer['id']}"))
    assert gone.status_code == 404 and gone.json() == fixture("customer_get_after_delete_error.json")
    kept = http.get(api(store, f"/orders/{order['id']}")).json()
    assert kept["customer_id"] == 0 and "customer" not in kept["_links"]
    assert kept["date_modified"] == clock.iso() != order["date_modified"]
    assert keys_of(kept) == keys_of(fixture("order_after_customer_delete.json"))


def test_unknown_ids_answer_the_stores_codes(http, store):
    def error(response):
        return response.status_code, response.json()["code"], response.json()["message"]

    assert error(http.get(api(store, "/orders/999999"))) == (404, "woocommerce_rest_shop_order_invalid_id",
                                                             "Invalid ID.")
    assert error(http.put(api(store, "/orders/999999"), json={})) == (400, "woocommerce_rest_shop_order_invalid_id",
                                                                      "Invalid ID.")
    assert error(http.delete(api(store, "/orders/999999"))) == (404, "woocommerce_rest_shop_order_invalid_id",
                                                                "Invalid ID.")
    assert error(http.get(api(store, "/products/999999"))) == (404, "woocommerce_rest_product_invalid_id",
                                                               "Invalid ID.")
    assert error(http.get(api(store, "/customers/999999"))) == (404, "wc_user_invalid_id", "Invalid user ID.")
    assert error(http.get(api(store, "/coupons"))) == (404, "rest_no_route",
                                                       "No route was found matching the URL and request method.")


def test_bad_request_bodies(http, store):
    broken = http.post(api(store, "/orders"), data="{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["code"] == "rest_invalid_json"
    numeric = http.post(api(store, "/orders"), json={"shipping_lines": [{"method_id": "flat_rate", "total": 5.0}]})
    assert numeric.status_code == 400
    assert numeric.json()["data"]["params"] == {"shipping_lines": "shipping_lines[0][total] is not of type string."}
    missing = http.post(api(store, "/customers"), json={"first_name": "No Email"})
    assert missing.status_code == 400 and missing.json()["code"] == "rest_missing_callback_param"


def test_batch_customers(http, store):
    existing = create_customer(http, store)
    response = http.post(api(store, "/customers/batch"), json={
        "create": [{"email": "amy.pond@example.com", "first_name": "Amy"}, {"email": "jane.doe@example.com"}],
        "update": [{"id": existing["id"], "last_name": "Smith"}],
        "delete": [999999],
    })
    body = response.json()
    assert response.status_code == 200
    assert body["create"][0]["email"] == "amy.pond@example.com"
    assert body["create"][1]["error"]["code"] == "registration-error-email-exists"
    assert body["update"][0]["last_name"] == "Smith"
    assert body["delete"][0] == {"id": 999999, "error": {"code": "wc_user_invalid_id", "message": "Invalid user ID.",
                                                         "data": {"status": 404}}}
    too_many = http.post(api(store, "/orders/batch"), json={"delete": list(range(101))})
    assert too_many.status_code == 413 and too_many.json()["code"] == "rest_request_entity_too_large"


def test_batch_orders_create_and_delete(http, store):
    product = create_product(http, store)
    created = http.post(api(store, "/orders/batch"), json={"create": [
        {"line_items": [{"product_id": product["id"], "quantity": 1}], "set_paid": True},
        {"line_items": [{"product_id": product["id"], "quantity": 3}]},
    ]}).json()["create"]
    assert [o["status"] for o in created] == ["processing", "pending"]
    assert [o["total"] for o in created] == ["19.99", "59.97"]
    deleted = http.post(api(store, "/orders/batch"), json={"delete": [created[1]["id"]]}).json()["delete"]
    assert deleted[0]["id"] == created[1]["id"] and store.get_order(created[1]["id"]) is None


def test_stock_follows_the_order_status(http, store):
    product = create_product(http, store)
    order = http.post(api(store, "/orders"), json={"line_items": [{"product_id": product["id"], "quantity": 3}]}).json()
    assert store.get_product(product["id"])["stock_quantity"] == 50
    http.put(api(store, f"/orders/{order['id']}"), json={"status": "processing"})
    assert store.get_product(product["id"])["stock_quantity"] == 47
    cancelled = http.put(api(store, f"/orders/{order['id']}"), json={"status": "cancelled"}).json()
    assert store.get_product(product["id"])["stock_quantity"] == 50
    assert cancelled["line_items"][0]["meta_data"] == []
    assert cancelled["date_paid"] is not None  # a paid order keeps its payment date


# Payment --------------------------------------------------------------------------------


def test_payment_url_and_mark_paid(http, store, clock):
    product = create_product(http, store)
    order = http.post(api(store, "/orders"), json={"line_items": [{"product_id": product["id"], "quantity": 1}]}).json()
    assert re.fullmatch(r"wc_order_[A-Za-z0-9]{13}", order["order_key"])
    assert order["payment_url"] == (f"{store.base_url}/checkout/order-pay/{order['id']}/"
                                    f"?pay_for_order=true&key={order['order_key']}")
    assert order["status"] == "pending" and order["date_paid"] is None
    clock.advance(60)
    paid = store.mark_paid(order["id"], transaction_id="txn_4242")
    assert paid["status"] == "processing" and paid["transaction_id"] == "txn_4242"
    assert paid["date_paid"] == paid["date_modified"] == clock.iso()
    seen = http.get(api(store, f"/orders/{order['id']}")).json()
    assert seen == paid
    since = http.get(api(store, "/orders"), params={"modified_after": order["date_modified"]}).json()
    assert order["id"] in [o["id"] for o in since]
    with pytest.raises(ValueError):
        store.mark_paid(order["id"])
    with pytest.raises(LookupError):
        store.mark_paid(999999)


def test_order_pay_page_pays_without_asking_for_a_card(http, store):
    product = create_product(http, store)
    order = http.post(api(store, "/orders"), json={"line_items": [{"product_id": product["id"], "quantity": 1}]}).json()
    with requests.Session() as browser:
        wrong = browser.get(f"{store.base_url}/checkout/order-pay/{order['id']}/?pay_for_order=true&key=wc_order_x")
        assert "cannot be paid for" in wrong.text
        page = browser.get(order["payment_url"])
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
        assert "Pay with test gateway" in page.text and "19.99" in page.text
        inputs = re.findall(r"<input[^>]*>", page.text)
        assert len(inputs) == 1 and "type=hidden" in inputs[0]
        done = browser.post(order["payment_url"], data={"key": order["order_key"], "woocommerce_pay": "1",
                                                        "card_number": "4242 4242 4242 4242"})
        assert done.status_code == 200 and "Your order has been received" in done.text
    paid = store.get_order(order["id"])
    assert paid["status"] == "processing" and paid["transaction_id"].startswith("devpay_")
    assert "4242" not in json.dumps(paid) and "4242" not in repr(store.requests_log)


# Faults ---------------------------------------------------------------------------------


def test_latency(http, store, monkeypatch):
    # The store waits before answering each request; the wait itself is recorded, not timed.
    waits: list[float] = []

    class _Time:
        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            waits.append(seconds)

    monkeypatch.setattr(devstore_server, "time", _Time())
    store.faults.latency_ms = 150
    assert http.get(api(store, "/orders")).status_code == 200
    assert http.get(api(store, "/customers")).status_code == 200
    assert waits == [0.15, 0.15]
    store.faults.latency_ms = 0
    assert http.get(api(store, "/orders")).status_code == 200
    assert waits == [0.15, 0.15]


def test_fail_next(http, store):
    store.faults.fail_next(2)
    first, second, third = (http.get(api(store, "/orders")) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (500, 500, 200)
    assert first.json()["code"] == "internal_server_error"
    store.faults.fail_next(1, status=503)
    proxy = http.get(api(store, "/orders"))
    assert proxy.status_code == 503 and proxy.headers["Content-Type"].startswith("text/html")
    assert "503 Service Unavailable" in proxy.text


def test_fail_next_does_not_write(http, store):
    store.faults.fail_next(1)
    assert http.post(api(store, "/customers"), json={"email": "nobody@example.com"}).status_code == 500
    assert http.get(api(store, "/customers"), params={"email": "nobody@example.com"}).json() == []


def test_rate_limit_next(http, store):
    store.faults.rate_limit_next(1, retry_after=2)
    limited = http.get(api(store, "/orders"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()["data"]["status"] == 429
    assert http.get(api(store, "/orders")).status_code == 200


def test_drop_next_closes_without_handling(http, store):
    store.faults.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        http.post(api(store, "/customers"), json={"email": "dropped@example.com"})
    assert http.get(api(store, "/customers"), params={"email": "dropped@example.com"}).json() == []
    assert store.requests_log[-2].status == 0


def test_drop_after_commit_next_commits_then_closes(http, store):
    store.faults.drop_after_commit_next(1)
    assert http.get(api(store, "/orders")).status_code == 200  # reads pass through
    with pytest.raises(requests.ConnectionError):
        http.post(api(store, "/customers"), json={"email": "committed@example.com"})
    found = http.get(api(store, "/customers"), params={"email": "committed@example.com"}).json()
    assert len(found) == 1
    assert store.faults.pending == {}


def test_malformed_json_next(http, store):
    store.faults.malformed_json_next(1)
    response = http.get(api(store, "/orders"))
    assert response.status_code == 200 and response.headers["X-WP-Total"]
    assert response.text.startswith("<br />")
    with pytest.raises(ValueError):
        response.json()
    assert http.get(api(store, "/orders")).json()


def test_truncate_next_sends_a_short_page(http, store):
    store.faults.truncate_next(1)
    assert http.get(api(store, "/orders/" + str(store.list_orders()[0]["id"]))).status_code == 200  # not a page
    short = http.get(api(store, "/orders"), params={"per_page": 10})
    assert short.headers["X-WP-Total"] == "60" and short.headers["X-WP-TotalPages"] == "6"
    assert len(short.json()) < 10
    assert len(http.get(api(store, "/orders"), params={"per_page": 10}).json()) == 10


def test_cut_body_next_breaks_the_body(http, store):
    store.faults.cut_body_next(1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        http.get(api(store, "/orders"), params={"per_page": 50})
    assert len(http.get(api(store, "/orders"), params={"per_page": 50}).json()) == 50


def test_reset_disarms_everything(http, store):
    store.faults.fail_next(5)
    store.faults.rate_limit_next(5)
    store.faults.latency_ms = 500
    store.faults.reset()
    assert store.faults.pending == {} and store.faults.latency_ms == 0
    assert http.get(api(store, "/orders")).status_code == 200
    assert [f.name for f in store.faults.history] == []


def test_checkout_page_is_never_faulted(store):
    store.faults.fail_next(1)
    assert requests.get(f"{store.base_url}/checkout/order-pay/1/").status_code == 200
    assert store.faults.pending == {"fail": 1}


# Statistics, life cycle and command line -----------------------------------------------


def test_request_count_serve_seconds_and_log(http, store):
    store.reset_stats()
    for page in (1, 2, 3):
        http.get(api(store, "/orders"), params={"per_page": 20, "page": page})
    assert store.request_count == 3
    assert store.serve_seconds > 0
    method, path, query, status = store.requests_log[0]
    assert (method, path, query, status) == ("GET", "/wp-json/wc/v3/orders", {"per_page": "20", "page": "1"}, 200)


def test_stop_ends_open_keep_alive_connections(clock):
    store = DevStore(clock=clock)
    store.start()
    session = requests.Session()
    try:
        session.get(store.api_url + "/orders", auth=(store.consumer_key, store.consumer_secret))
        assert devstore_threads()
        store.stop()
        assert devstore_threads() == []
        with pytest.raises(requests.ConnectionError):
            session.get(store.api_url + "/orders", timeout=2)
    finally:
        session.close()
        store.close()


def test_refuses_to_listen_beyond_loopback():
    store = DevStore()
    try:
        with pytest.raises(ValueError):
            store.start(host="0.0.0.0")
        assert not store.running
    finally:
        store.close()
    with pytest.raises(SystemExit):
        devstore_main(["--host", "192.168.1.10"])


def test_command_line_serves_until_told_to_stop(capsys):
    seen: dict[str, Any] = {}

    def use(store: DevStore) -> None:
        response = requests.get(store.api_url + "/orders", auth=(store.consumer_key, store.consumer_secret))
        seen["total"] = response.headers["X-WP-Total"]

    assert devstore_main(["--port", "0", "--customers", "5", "--orders", "12", "--products", "3", "--seed", "2"],
                         wait=use) == 0
    out = capsys.readouterr().out
    assert seen["total"] == "12"
    assert re.search(r"REST API: +http://127\.0\.0\.1:\d+/wp-json/wc/v3", out)
    assert re.search(r"Consumer key: +ck_[0-9a-f]{40}", out) and re.search(r"Consumer secret: +cs_[0-9a-f]{40}", out)


def test_a_store_file_can_be_reopened(tmp_path, clock):
    path = str(tmp_path / "store.sqlite3")
    with DevStore(path, clock=clock) as first:
        first.populate(customers=3, orders=5, products=2)
        orders = first.list_orders()
    with DevStore(path, clock=clock) as again:
        assert again.list_orders() == [json.loads(json.dumps(o).replace(first.base_url, again.base_url))
                                       for o in orders]
        made = again.create_customer({"email": "later@example.com"})
        assert made["id"] == max(c["id"] for c in again.list_customers()) and made["id"] > 4


def test_the_demo_shop_gives_strangers_their_own_numbers_and_has_a_few_true_duplicates():
    store = DevStore(seed=3)
    try:
        store.populate(customers=1500, orders=0, products=5)
        customers = store.list_customers()
    finally:
        store.close()
    people_by_number: dict[str, list[tuple[str, str]]] = {}
    for c in customers:
        digits = "".join(ch for ch in c["billing"]["phone"] if ch.isdigit())
        if digits:
            people_by_number.setdefault(digits, []).append((c["first_name"], c["last_name"]))
    # A number is shared only by one person registered twice, never by two strangers.
    assert {d: set(names) for d, names in people_by_number.items() if len(set(names)) > 1} == {}
    twice = [d for d, names in people_by_number.items() if len(names) > 1]
    assert 3 <= len(twice) <= 40
    names = {(c["first_name"], c["last_name"], c["email"]) for c in customers}
    assert ("María", "García", "maria.garcia@example.com") in names
    assert any(last == "山田" for _first, last, _email in names)
    assert any(first == "Иван" for first, _last, _email in names)
