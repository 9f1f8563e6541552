"""The dev store's order notes and order actions over real HTTP, answered as WooCommerce 9.8+ does:
emailing an order's details (with its pay link), the errors a client meets, the record of each
email, a store too old for the actions, and the command line showing the emails it sends."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from backoffice.store.devstore import DevStore
from backoffice.store.devstore.cli import main as devstore_main


STORE = {"seed": 5, "customers": 3, "orders": 0, "products": 2, "clock": True}


@pytest.fixture
def http(store):
    with requests.Session() as session:
        session.auth = (store.consumer_key, store.consumer_secret)
        yield session


def api(store: DevStore, path: str) -> str:
    return store.api_url + path


def pending_order(store: DevStore, email: str = "ana@example.com") -> dict[str, Any]:
    product = store.list_products()[0]
    billing = {"first_name": "Ana", "last_name": "García", "email": email} if email else {"first_name": "Guest"}
    return store.create_order({"billing": billing, "line_items": [{"product_id": product["id"], "quantity": 2}]})


def send_details(http, store, order_id: int, body: dict | None = None) -> requests.Response:
    return http.post(api(store, f"/orders/{order_id}/actions/send_order_details"), json=body or {})


def test_send_order_details_emails_the_pay_link_and_notes_it(http, store, clock):
    order = pending_order(store)
    assert order["needs_payment"]
    response = send_details(http, store, order["id"])
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Order details sent to ana@example.com."}
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"

    (email,) = store.sent_emails()
    assert (email.to, email.order_id, email.kind) == ("ana@example.com", order["id"], "customer_invoice")
    assert email.pay_url == order["payment_url"] and email.pay_url.startswith(store.base_url + "/checkout/order-pay/")
    assert email.subject == f"Invoice for order #{order['number']} on Dev store"
    assert email.sent_at == clock.iso()

    notes = http.get(api(store, f"/orders/{order['id']}/notes")).json()
    assert [(n["note"], n["author"], n["customer_note"]) for n in notes] == [
        ("Order details sent to ana@example.com.", "admin", False)]
    assert set(notes[0]) == {"id", "author", "date_created", "date_created_gmt", "note", "customer_note", "_links"}
    assert notes[0]["_links"]["up"][0]["href"] == api(store, f"/orders/{order['id']}")
    # Sending is not a change to the order itself.
    assert store.get_order(order["id"])["date_modified"] == order["date_modified"]


def test_each_request_is_one_more_email(http, store, clock):
    order = pending_order(store)
    for _ in range(2):
        assert send_details(http, store, order["id"]).status_code == 200
        clock.advance(5)
    assert [e.order_id for e in store.sent_emails()] == [order["id"]] * 2
    notes = store.order_notes(order["id"])
    assert len(notes) == 2 and notes[0]["id"] > notes[1]["id"], "notes come newest first"


def test_a_paid_order_gets_its_details_without_a_pay_link(http, store):
    order = pending_order(store)
    store.mark_paid(order["id"])
    assert send_details(http, store, order["id"]).status_code == 200
    (email,) = store.sent_emails(order["id"])
    assert email.pay_url == "" and "Invoice" not in email.subject


def test_errors_are_the_stores(http, store):
    order = pending_order(store)
    # An unknown order is a 404 of the order actions, even before the keys are looked at.
    for session in (http, requests):
        response = session.post(api(store, "/orders/999999/actions/send_order_details"), json={})
        assert response.status_code == 404
        assert response.json() == {"code": "woocommerce_rest_not_found", "message": "Order not found",
                                   "data": {"status": 404}}
    no_keys = requests.post(api(store, f"/orders/{order['id']}/actions/send_order_details"), json={})
    assert no_keys.status_code == 401
    assert no_keys.json()["code"] == "woocommerce_rest_cannot_create"
    # Only POST has a route.
    wrong = http.get(api(store, f"/orders/{order['id']}/actions/send_order_details"))
    assert (wrong.status_code, wrong.json()["code"]) == (404, "rest_no_route")
    # An order without an email address cannot be emailed.
    guest = pending_order(store, email="")
    missing = send_details(http, store, guest["id"])
    assert missing.status_code == 400
    assert missing.json() == {"code": "woocommerce_rest_missing_email",
                              "message": "Order does not have an email address.", "data": {"status": 400}}
    # A different address is refused unless the client says to overwrite the billing email.
    other = send_details(http, store, order["id"], {"email": "bob@example.com"})
    assert (other.status_code, other.json()["code"]) == (400, "woocommerce_rest_order_billing_email_exists")
    bad = send_details(http, store, order["id"], {"email": "not-an-address"})
    assert (bad.status_code, bad.json()["code"]) == (400, "rest_invalid_param")
    assert bad.json()["data"]["params"] == {"email": "Invalid email address."}
    assert store.sent_emails() == []
    assert store.order_notes(order["id"]) == []


def test_an_email_can_be_given_to_an_order_without_one(http, store):
    guest = pending_order(store, email="")
    response = send_details(http, store, guest["id"], {"email": "cy@example.com"})
    assert response.json() == {"message": "Billing email updated to cy@example.com. Order details sent to cy@example.com."}
    assert store.get_order(guest["id"])["billing"]["email"] == "cy@example.com"
    forced = send_details(http, store, guest["id"], {"email": "dee@example.com", "force_email_update": True})
    assert forced.status_code == 200
    assert [e.to for e in store.sent_emails()] == ["cy@example.com", "dee@example.com"]
    assert [n["note"] for n in store.order_notes(guest["id"])][:2] == [
        "Order details sent to dee@example.com.", "Billing email updated to dee@example.com."]


def test_send_email_with_a_template_and_the_list_of_templates(http, store):
    order = pending_order(store)
    listed = http.get(api(store, f"/orders/{order['id']}/actions/email_templates")).json()
    assert [t["id"] for t in listed] == ["customer_invoice"]
    assert listed[0]["title"] == "Order details"
    store.update_order(order["id"], {"status": "on-hold"})
    listed = http.get(api(store, f"/orders/{order['id']}/actions/email_templates")).json()
    assert [t["id"] for t in listed] == ["customer_invoice", "customer_on_hold_order"]
    sent = http.post(api(store, f"/orders/{order['id']}/actions/send_email"),
                     json={"template_id": "customer_on_hold_order"})
    assert sent.json() == {"message": "Email template &quot;Order on-hold&quot; sent to ana@example.com."}
    wrong = http.post(api(store, f"/orders/{order['id']}/actions/send_email"),
                      json={"template_id": "customer_completed_order"})
    assert wrong.status_code == 400
    assert wrong.json()["message"] == "customer_completed_order is not a valid template for this order."
    missing = http.post(api(store, f"/orders/{order['id']}/actions/send_email"), json={})
    assert (missing.status_code, missing.json()["code"]) == (400, "rest_missing_callback_param")
    invoice = http.post(api(store, f"/orders/{order['id']}/actions/send_email"), json={"template_id": "customer_invoice"})
    assert invoice.json() == {"message": "Order details sent to ana@example.com."}
    assert [e.kind for e in store.sent_emails()] == ["customer_on_hold_order", "customer_invoice"]


def test_notes_can_be_added_read_and_deleted(http, store):
    order = pending_order(store)
    made = http.post(api(store, f"/orders/{order['id']}/notes"), json={"note": "Called back", "customer_note": True})
    assert made.status_code == 201 and made.headers["Location"].endswith(f"/orders/{order['id']}/notes/{made.json()['id']}")
    assert (made.json()["author"], made.json()["customer_note"]) == ("system", True)
    note_url = api(store, f"/orders/{order['id']}/notes/{made.json()['id']}")
    assert http.get(note_url).json()["note"] == "Called back"
    assert http.get(api(store, f"/orders/{order['id']}/notes"), params={"type": "internal"}).json() == []
    assert http.delete(note_url).status_code == 501
    assert http.delete(note_url, params={"force": "true"}).status_code == 200
    assert http.get(note_url).status_code == 404
    unknown = http.get(api(store, "/orders/999999/notes"))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "woocommerce_rest_shop_order_invalid_id")
    assert http.post(api(store, f"/orders/{order['id']}/notes"), json={}).json()["code"] == \
        "rest_missing_callback_param"


def test_a_store_older_than_the_actions_has_no_route(http, store):
    order = pending_order(store)
    store.order_actions = False
    for path in ("send_order_details", "send_email", "email_templates"):
        method = http.get if path == "email_templates" else http.post
        response = method(api(store, f"/orders/{order['id']}/actions/{path}"))
        assert response.status_code == 404
        assert response.json() == {"code": "rest_no_route",
                                   "message": "No route was found matching the URL and request method.",
                                   "data": {"status": 404}}
    assert "/wc/v3/orders/(?P<id>[\\d]+)/actions/send_order_details" not in http.get(store.api_url).json()["routes"]
    # Notes are older than that and stay.
    assert http.get(api(store, f"/orders/{order['id']}/notes")).status_code == 200
    assert store.sent_emails() == []
    store.order_actions = True
    assert send_details(http, store, order["id"]).status_code == 200


def test_faults_can_be_limited_to_the_actions(http, store):
    order = pending_order(store)
    store.faults.limit_to("/actions/")
    store.faults.drop_after_commit_next(1)
    # Other requests pass the armed fault by.
    assert http.put(api(store, f"/orders/{order['id']}"), json={"customer_note": "hi"}).status_code == 200
    with pytest.raises(requests.ConnectionError):
        send_details(http, store, order["id"])
    assert len(store.sent_emails()) == 1, "the email went out before the answer was lost"
    assert [(f.name, f.path) for f in store.faults.history] == [
        ("drop_after_commit", f"/wp-json/wc/v3/orders/{order['id']}/actions/send_order_details")]
    # Without the limit, the next request of any kind meets the fault.
    store.faults.reset()
    store.faults.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        http.post(api(store, f"/orders/{order['id']}/notes"), json={"note": "lost"})


def test_emails_survive_reopening_the_store_file(tmp_path, clock):
    path = str(tmp_path / "store.sqlite3")
    with DevStore(path, clock=clock) as first:
        first.populate(products=1)
        order = pending_order(first)
        with requests.Session() as http:
            http.auth = (first.consumer_key, first.consumer_secret)
            assert send_details(http, first, order["id"]).status_code == 200
    with DevStore(path, clock=clock) as again:
        (email,) = again.sent_emails()
        assert email.to == "ana@example.com" and email.pay_url.startswith(again.base_url)
        assert len(again.order_notes(order["id"])) == 1


def test_the_command_line_shows_each_email_and_can_play_an_old_store(capsys):
    seen: dict[str, Any] = {}

    def use(store: DevStore) -> None:
        order = pending_order(store, email="eve@example.com")
        auth = (store.consumer_key, store.consumer_secret)
        seen["old"] = requests.post(api(store, f"/orders/{order['id']}/actions/send_order_details"), auth=auth,
                                    json={}).status_code
        store.order_actions = True
        seen["new"] = requests.post(api(store, f"/orders/{order['id']}/actions/send_order_details"), auth=auth,
                                    json={}).status_code
        seen["order"] = order

    assert devstore_main(["--port", "0", "--customers", "1", "--orders", "0", "--products", "1",
                          "--no-order-actions"], wait=use) == 0
    out = capsys.readouterr().out
    assert (seen["old"], seen["new"]) == (404, 200)
    assert "Order actions:   off" in out
    line = next(line for line in out.splitlines() if line.startswith("Email sent:"))
    assert "to eve@example.com" in line and f"order #{seen['order']['number']}" in line
    assert re.search(r"pay link http://127\.0\.0\.1:\d+/checkout/order-pay/", line)
