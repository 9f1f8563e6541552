"""Erasure on the web store, as WooCommerce's own eraser does it, sent through the outbox.

Each order of the person (guest orders found by their email or phone included) has its
billing and shipping (phone and email too), customer id, transaction id, IP address,
user agent and customer note replaced, every order note deleted and one
"Personal data removed." note added; then the account is deleted for good
(`DELETE customers/{id}?force=true`) and the store is read back to confirm nothing of the
person is left there. The messages name store ids only; an outage only delays them, and
sending one again does no harm. WooCommerce's REST API does not let the IP address and
user agent be changed: a store that kept them is named in the result, to run WordPress's
own "Erase Personal Data" tool for what is left.
"""

from __future__ import annotations

import json
from typing import Any

from backoffice.db import Database
from backoffice.domain.enums import OutboxKind
from backoffice.domain.privacy import PrivacyRequestEvent
from backoffice.services.sync_common import check
from backoffice.store.connector import StoreNotFoundError

PERSONAL_DATA_REMOVED = "Personal data removed."
DELETED_TEXT = "[deleted]"
DELETED_EMAIL = "deleted@site.invalid"
_ADDRESS_KEYS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode")


def woo_eraser_payload() -> dict[str, Any]:
    """The order update WooCommerce's eraser makes (`WC_Privacy_Erasers::remove_order_personal_data`)."""
    address = {key: DELETED_TEXT for key in _ADDRESS_KEYS}
    address["country"] = ""
    address["phone"] = ""
    return {
        "billing": {**address, "email": DELETED_EMAIL},
        "shipping": dict(address),
        "customer_id": 0,
        "transaction_id": "",
        "customer_note": "",
        "customer_ip_address": "",
        "customer_user_agent": "",
        "meta_data": [{"key": "_anonymized", "value": "yes"}],
    }


def left_on_order(order: dict) -> list[str]:
    """What of a person an order on the store still holds (empty when it is anonymised)."""
    left = []
    for part in ("billing", "shipping"):
        values = order.get(part) or {}
        for key in (*_ADDRESS_KEYS, "phone", "email"):
            value = str(values.get(key) or "")
            if value and value not in (DELETED_TEXT, DELETED_EMAIL):
                left.append(f"{part} {key.replace('_', ' ')}")
    if order.get("customer_id"):
        left.append("customer id")
    if order.get("transaction_id"):
        left.append("transaction id")
    if order.get("customer_note"):
        left.append("customer note")
    return left


def anonymise_order(connector, store_order_id: int, cancel=None) -> str:
    """Anonymise one order on the store and replace its notes by one; returns a sentence."""
    try:
        connector.update_order(store_order_id, woo_eraser_payload())
        for note in connector.get_order_notes(store_order_id):
            check(cancel)
            if note.get("note") != PERSONAL_DATA_REMOVED:
                connector.delete_order_note(store_order_id, int(note["id"]))
        notes = [n for n in connector.get_order_notes(store_order_id) if n.get("note") == PERSONAL_DATA_REMOVED]
        if not notes:
            connector.add_order_note(store_order_id, PERSONAL_DATA_REMOVED)
        for extra in notes[1:]:
            connector.delete_order_note(store_order_id, int(extra["id"]))
    except StoreNotFoundError:
        return f"Order {store_order_id} is no longer on the web store."
    return f"Order {store_order_id} anonymised on the web store."


def delete_customer_and_check(connector, store_customer_id: int, store_order_ids: list[int], cancel=None) -> str:
    """Delete the account, then read the store back: orders still holding data are anonymised
    again, and what the store keeps regardless (IP address, user agent) is named."""
    gone = connector.delete_customer(store_customer_id)
    notes = [f"Account {store_customer_id} deleted on the web store." if gone is not None
             else f"Account {store_customer_id} was already gone from the web store."]
    kept_by_store = []
    for order_id in store_order_ids:
        check(cancel)
        try:
            order = connector.get_order(order_id)
        except StoreNotFoundError:
            continue
        if left_on_order(order):
            anonymise_order(connector, order_id, cancel)
            order = connector.get_order(order_id)
            if left := left_on_order(order):
                kept_by_store.append(f"order {order.get('number') or order_id}: {', '.join(left)}")
        if order.get("customer_ip_address") or order.get("customer_user_agent"):
            # The store's order number, as the Orders list shows it.
            kept_by_store.append(f"order {order.get('number') or order_id}: IP address or browser "
                                 "(not changeable over the REST API)")
    try:
        connector.get_customer(store_customer_id)
        kept_by_store.append(f"account {store_customer_id} is still there")
    except StoreNotFoundError:
        pass
    if kept_by_store:
        notes.append("Read back: the store still holds " + "; ".join(kept_by_store)
                     + ". Run WordPress's Tools → Erase Personal Data for the rest.")
    else:
        notes.append(f"Read back: nothing of the person is left on the web store ({len(store_order_ids)} orders "
                     "anonymised).")
    return " ".join(notes)


def send(db: Database, connector, row, cancel=None) -> str:
    """Send one erasure message of the outbox; returns the sentence the outbox keeps."""
    try:
        payload = json.loads(row.payload or "{}")
    except ValueError:
        payload = {}
    if row.kind == OutboxKind.ANONYMISE_STORE_ORDER:
        note = anonymise_order(connector, int(payload.get("store_order_id") or row.entity_id), cancel)
    else:
        note = delete_customer_and_check(connector, int(payload["store_customer_id"]),
                                         [int(i) for i in payload.get("store_order_ids") or []], cancel)
        if payload.get("request_id"):
            with db.begin() as s:
                s.add(PrivacyRequestEvent(request_id=int(payload["request_id"]), action="store_erased",
                                          note=note[:2000]))
    return note
