"""The WooCommerce REST API v3 connector: plain dicts in and out, over one keep-alive session."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from backoffice.errors import StoreError
from backoffice.store.connector import (
    ORDER_REFERENCE_META_KEY,
    AmbiguousWriteError,
    Cancel,
    CreateResult,
    Page,
    PingResult,
    Record,
    StoreAuthError,
    StoreCredentials,
    StoreFeatureMissingError,
    StoreNotFoundError,
)
from backoffice.store.http import (
    MAX_PER_PAGE,
    Operation,
    RequestHook,
    StoreSession,
    Unreadable,
    check_store_url,
)

__all__ = [
    "API_ROOT",
    "AmbiguousWriteError",
    "NO_ORDER_EMAIL",
    "StoreAuthError",
    "StoreFeatureMissingError",
    "StoreNotFoundError",
    "WooCommerceConnector",
    "check_store_url",
    "store_time",
]

API_ROOT = "/wp-json/wc/v3"

#: The store's answer to creating a customer whose email already has an account.
EMAIL_EXISTS = "registration-error-email-exists"

#: The store's answer to emailing an order that has no billing email.
NO_ORDER_EMAIL = "woocommerce_rest_missing_email"

#: The store's answer to an address it has no route for (here: a store too old for the request).
NO_ROUTE = "rest_no_route"

# List in id order: a record changed during the listing keeps its place, so no page
# shifts under the reader and nothing is skipped; the sync dedupes by id.
_ID_ORDER = {"orderby": "id", "order": "asc"}

# What a listing of trashed orders needs of each: which order, and when it went there.
_TRASH_FIELDS = "id,status,date_modified_gmt"


def store_time(moment: datetime) -> str:
    """Format a moment for `modified_after` with `dates_are_gmt=true` (naive means UTC).

    The store keeps whole seconds and its filter is strictly "after", so the moment is
    floored and moved one second back: a record saved in that same second is not missed.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc).replace(microsecond=0) - timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _modified_filter(modified_after: datetime | None) -> dict[str, str]:
    if modified_after is None:
        return {}
    return {"modified_after": store_time(modified_after), "dates_are_gmt": "true"}


def _reference_of(order: Mapping[str, Any]) -> str | None:
    for meta in order.get("meta_data") or ():
        if isinstance(meta, Mapping) and meta.get("key") == ORDER_REFERENCE_META_KEY:
            value = meta.get("value")
            return None if value is None else str(value)
    return None


def _with_reference(payload: Mapping[str, Any], reference: str | None) -> tuple[dict[str, Any], str]:
    """Return the order payload carrying its reference in `meta_data`, and the reference."""
    present = _reference_of(payload)
    if reference is None:
        if not present:
            raise ValueError(f"an order sent to the store must carry a reference in meta_data {ORDER_REFERENCE_META_KEY}")
        return dict(payload), present
    if present is not None:
        if present != reference:
            raise ValueError("the order payload already carries a different reference")
        return dict(payload), reference
    body = dict(payload)
    body["meta_data"] = [*(payload.get("meta_data") or ()), {"key": ORDER_REFERENCE_META_KEY, "value": reference}]
    return body, reference


def _first_with_reference(pages: Iterable[Page], reference: str) -> Record | None:
    for page in pages:
        for order in page:
            if _reference_of(order) == reference:
                return order
    return None


def _list_only(data: Any, headers: Mapping[str, str]) -> Any:
    if not isinstance(data, list):
        raise Unreadable(f"expected a JSON list, got {type(data).__name__}")
    return data


def _object_only(data: Any, headers: Mapping[str, str]) -> Any:
    if not isinstance(data, dict):
        raise Unreadable(f"expected a JSON object, got {type(data).__name__}")
    return data


class WooCommerceConnector:
    """Talks to one WooCommerce store over its REST API v3 (`/wp-json/wc/v3`).

    Records are returned exactly as received. Listings yield `Page`s (plain lists of
    dicts) in id order, one request each. Errors are `StoreError`s with sentences for
    people; secrets never appear in them nor in logs. Not safe to share between
    threads: give each worker its own connector.
    """

    def __init__(
        self,
        credentials: StoreCredentials,
        *,
        timeout: float | tuple[float, float] = (5, 30),
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_request: RequestHook | None = None,
    ) -> None:
        self.credentials = credentials
        self._http = StoreSession(
            credentials.base_url,
            credentials.consumer_key,
            credentials.consumer_secret,
            api_root=API_ROOT,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            session=session,
            sleep=sleep,
            on_request=on_request,
        )

    def __repr__(self) -> str:
        return f"WooCommerceConnector({self._http.base_url!r})"

    def __enter__(self) -> WooCommerceConnector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the keep-alive connection."""
        self._http.close()

    # -- listings ---------------------------------------------------------------------

    #: Listings may yield pages undecoded (`iter_pages(undecoded_ahead=...)`, `Page.raw`).
    undecoded_pages = True

    def iter_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, per_page: int = MAX_PER_PAGE, cancel: Cancel = None,
        undecoded_ahead: int = 0,
    ) -> Iterator[Page]:
        """Yield the pages of any list endpoint under the API root, e.g. `/orders`.

        Raises `StoreError` for a page that cannot be read (after fetching it again a
        couple of times) and `Cancelled` between pages. With `undecoded_ahead`, pages the
        store counts at least that many pages after come undecoded (`Page.raw`).
        """
        noun = path.strip("/").replace("/", " ") or "records"
        return self._http.iter_pages(path, params, Operation(f"read {noun}", noun), per_page=per_page, cancel=cancel,
                                     undecoded_ahead=undecoded_ahead)

    def iter_products(self, modified_after: datetime | None = None, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of products changed after `modified_after` (all when None), in id order."""
        return self.iter_pages("/products", {**_ID_ORDER, **_modified_filter(modified_after)}, cancel=cancel)

    def iter_trashed_products(self, modified_after: datetime | None = None, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of the products in the store's trash changed after `modified_after`.

        The usual listing leaves the trash out; trashing a product bumps its `date_modified`.
        Each record carries only `id`, `status` and `date_modified_gmt`.
        """
        params = {**_ID_ORDER, "status": "trash", **_modified_filter(modified_after), "_fields": _TRASH_FIELDS}
        return self.iter_pages("/products", params, cancel=cancel)

    def iter_variations(self, parent_id: int, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of a variable product's variations (each with its own SKU, price, stock, attributes)."""
        return self.iter_pages(f"/products/{int(parent_id)}/variations", dict(_ID_ORDER), cancel=cancel)

    def iter_product_ids(self, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of the ids of every product outside the trash (drafts and private ones too).

        A product deleted for good is in no listing: what is not here is gone.
        """
        return self.iter_pages("/products", {**_ID_ORDER, "_fields": "id"}, cancel=cancel)

    def iter_orders(self, modified_after: datetime | None = None, *, cancel: Cancel = None,
                    undecoded_ahead: int = 0) -> Iterator[Page]:
        """Yield pages of orders changed after `modified_after` (all when None), in id order
        (`undecoded_ahead` as for `iter_pages`).

        Take the next `modified_after` from when this listing started, not from the
        records: changes made while it runs are then seen next time. The store does not
        always bump `date_modified` when only order meta changes.
        """
        return self.iter_pages("/orders", {**_ID_ORDER, **_modified_filter(modified_after)}, cancel=cancel,
                               undecoded_ahead=undecoded_ahead)

    def iter_trashed_orders(
        self, modified_after: datetime | None = None, *, ids: Iterable[int] | None = None, cancel: Cancel = None
    ) -> Iterator[Page]:
        """Yield pages of the orders in the store's trash (deleted there, not for good), in id
        order, changed after `modified_after` and, with `ids`, only those of these ids.

        The usual listing (`status=any`) leaves trashed orders out, and the store takes
        `any` over any other status asked for alongside it, so the trash is a listing of its
        own. Each record carries only `id`, `status` and `date_modified_gmt`. Moving an order
        to the trash, and restoring it (an update of its status), bumps `date_modified`.
        Orders deleted for good (`force=true`) are in no listing at all.
        """
        params = {**_ID_ORDER, "status": "trash", **_modified_filter(modified_after), "_fields": _TRASH_FIELDS}
        if ids is None:
            return self.iter_pages("/orders", params, cancel=cancel)
        return self._trashed_among(sorted({int(i) for i in ids}), params, cancel)

    def _trashed_among(self, wanted: list[int], params: dict[str, Any], cancel: Cancel) -> Iterator[Page]:
        op = Operation("read orders in the trash", "orders")
        for start in range(0, len(wanted), MAX_PER_PAGE):
            chunk = wanted[start : start + MAX_PER_PAGE]
            yield from self._http.iter_pages("/orders", {**params, "include": ",".join(map(str, chunk))}, op,
                                             cancel=cancel)

    def iter_customers(self, role: str = "all", *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of customers in id order (the store cannot filter customers by date)."""
        return self.iter_pages("/customers", {**_ID_ORDER, "role": role}, cancel=cancel)

    # -- single records ---------------------------------------------------------------

    def get_order(self, order_id: int) -> Record:
        """Return one order; raises `StoreNotFoundError` when the store has none with that id."""
        order_id = int(order_id)
        op = Operation(f"read order {order_id}", f"order {order_id}")
        return self._http.request("GET", f"/orders/{order_id}", op, check=_object_only).data

    def get_customer(self, customer_id: int) -> Record:
        """Return one customer; raises `StoreNotFoundError` when the store has none with that id."""
        customer_id = int(customer_id)
        op = Operation(f"read customer {customer_id}", f"customer {customer_id}")
        return self._http.request("GET", f"/customers/{customer_id}", op, check=_object_only).data

    def get_customers(self, ids: Iterable[int], *, cancel: Cancel = None) -> list[Record]:
        """Return the customers with these ids that exist on the store, in id order."""
        wanted = sorted({int(i) for i in ids})
        found: list[Record] = []
        op = Operation("read customers", "customers")
        for start in range(0, len(wanted), MAX_PER_PAGE):
            chunk = wanted[start : start + MAX_PER_PAGE]
            params = {**_ID_ORDER, "role": "all", "include": ",".join(map(str, chunk))}
            for page in self._http.iter_pages("/customers", params, op, cancel=cancel):
                found.extend(page)
        return found

    def find_order_by_reference(self, reference: str, *, modified_after: datetime | None = None) -> Record | None:
        """Return the oldest order whose `_backoffice_ref` meta is exactly `reference`, or None.

        Searches with `search=reference` (the store searches meta values) and checks the
        meta exactly. A stock store does not search meta: give `modified_after` (a
        little before the order was first sent) to also scan the orders changed since.
        """
        if not reference:
            raise ValueError("reference must not be empty")
        op = Operation("look for an order sent earlier", "orders")
        params = {**_ID_ORDER, "search": reference}
        found = _first_with_reference(self._http.iter_pages("/orders", params, op), reference)
        if found is None and modified_after is not None:
            found = _first_with_reference(self.iter_orders(modified_after), reference)
        return found

    def find_customer_by_email(self, email: str) -> Record | None:
        """Return the customer (of any role) with this email, or None."""
        if not email:
            raise ValueError("email must not be empty")
        op = Operation("look for a customer by email", "customers")
        params = {"email": email, "role": "all", **_ID_ORDER}
        records = self._http.request("GET", "/customers", op, params=params, check=_list_only).data
        wanted = email.strip().lower()
        for record in records:
            if isinstance(record, dict) and str(record.get("email", "")).strip().lower() == wanted:
                return record
        return None

    # -- writes -----------------------------------------------------------------------

    def create_order(self, payload: Mapping[str, Any], *, reference: str | None = None) -> CreateResult:
        """Create an order carrying its reference in `meta_data` `_backoffice_ref`.

        Pass `reference`, or put it in the payload's meta yourself. Raises
        `AmbiguousWriteError` when the answer was lost after sending: look for the
        reference with `find_order_by_reference` before sending again.
        """
        body, reference = _with_reference(payload, reference)
        op = Operation("create the order", "the order")
        reply = self._http.request("POST", "/orders", op, json=body, reference=reference, check=_object_only)
        return CreateResult(reply.data, created=True)

    def create_refund(self, order_id: int, payload: Mapping[str, Any], *, reference: str) -> Record:
        """Record a refund of an order (`POST /orders/{id}/refunds`) carrying `reference` in its
        `meta_data` `_backoffice_ref`, with `api_refund` false: the store records it and pays
        nothing back through the gateway (the shop gives the money back its own way).

        Raises `AmbiguousWriteError` when the answer was lost: look for the reference with
        `find_refund_by_reference` before sending again; a refund the store will not make
        (more than is left) raises `StoreError` with its sentence.
        """
        order_id = int(order_id)
        body = {**dict(payload), "api_refund": False,
                "meta_data": [*(payload.get("meta_data") or ()), {"key": ORDER_REFERENCE_META_KEY, "value": reference}]}
        op = Operation(f"record a refund of order {order_id}", f"order {order_id}")
        return self._http.request("POST", f"/orders/{order_id}/refunds", op, json=body, reference=reference,
                                  check=_object_only).data

    def find_refund_by_reference(self, order_id: int, reference: str) -> Record | None:
        """The order's refund whose `_backoffice_ref` meta is `reference`, or None."""
        if not reference:
            raise ValueError("reference must not be empty")
        order_id = int(order_id)
        op = Operation(f"read the refunds of order {order_id}", f"order {order_id}")
        return _first_with_reference(self._http.iter_pages(f"/orders/{order_id}/refunds", {}, op), reference)

    def update_order(self, order_id: int, payload: Mapping[str, Any]) -> Record:
        """Change an order and return it as the store now has it.

        Sent with PUT and retried like a read, so the payload must set values (line
        items by their `id`), never append.
        """
        order_id = int(order_id)
        op = Operation(f"update order {order_id}", f"order {order_id}")
        return self._http.request("PUT", f"/orders/{order_id}", op, json=dict(payload), check=_object_only).data

    def delete_order(self, order_id: int, *, force: bool = True) -> Record | None:
        """Delete an order for good (`force`), or move it to the trash; None when the store has no such order."""
        order_id = int(order_id)
        op = Operation(f"delete order {order_id}", f"order {order_id}")
        try:
            reply = self._http.request("DELETE", f"/orders/{order_id}", op,
                                       params={"force": "true" if force else "false"})
        except StoreNotFoundError:
            return None
        return reply.data

    def send_order_details(self, order_id: int) -> Record:
        """Have the store email the order's details to the order's billing email.

        `POST /orders/{id}/actions/send_order_details` (WooCommerce 9.5 and later): while
        the order needs payment the email carries the store's pay link. The store notes
        "Order details sent to ..." on the order and answers `{"message": ...}`.

        Raises `StoreFeatureMissingError` for a store too old to do it, `StoreNotFoundError`
        for an order it does not have, `StoreError` with code `NO_ORDER_EMAIL` for an order
        without an email address, and `AmbiguousWriteError` when the answer was lost (look
        for the note with `get_order_notes` before asking again: a second email is sloppy).
        """
        order_id = int(order_id)
        op = Operation(f"email the details of order {order_id}", f"order {order_id}")
        try:
            reply = self._http.request("POST", f"/orders/{order_id}/actions/send_order_details", op, json={},
                                       reference=f"order {order_id}", check=_object_only)
        except StoreError as exc:
            if isinstance(exc, (AmbiguousWriteError, StoreAuthError)):
                raise
            if exc.code == NO_ROUTE:
                raise StoreFeatureMissingError(
                    "The web store cannot email an order's details to the customer: that needs WooCommerce "
                    "9.5 or newer. Nothing was sent.",
                    status=exc.status, code=exc.code, details=exc.details) from None
            if exc.code == NO_ORDER_EMAIL:
                raise StoreError(
                    f"The web store could not email order {order_id}: the order has no email address. "
                    "Nothing was sent.",
                    status=exc.status, code=exc.code, details=exc.details) from None
            raise
        return reply.data

    def get_order_notes(self, order_id: int) -> list[Record]:
        """Return an order's notes (`GET /orders/{id}/notes`), newest first.

        Raises `StoreNotFoundError` when the store has no such order.
        """
        order_id = int(order_id)
        op = Operation(f"read the notes of order {order_id}", f"order {order_id}")
        return self._http.request("GET", f"/orders/{order_id}/notes", op, check=_list_only).data

    def payment_gateways(self) -> list[Record]:
        """The store's payment gateways (`id`, `title`, `enabled`): the ids its orders may name."""
        op = Operation("read the payment gateways", "payment gateways")
        return self._http.request("GET", "/payment_gateways", op, check=_list_only).data

    def add_order_note(self, order_id: int, note: str, *, customer_note: bool = False) -> Record:
        """Add a note to an order (`POST /orders/{id}/notes`); a customer note shows on their order
        page and the store emails it.

        Not safe to send twice blindly: after `AmbiguousWriteError`, read the notes first.
        Raises `StoreNotFoundError` when the store has no such order.
        """
        order_id = int(order_id)
        op = Operation(f"add a note to order {order_id}", f"order {order_id}")
        body = {"note": note, "customer_note": bool(customer_note)}
        return self._http.request("POST", f"/orders/{order_id}/notes", op, json=body,
                                  reference=f"order {order_id}", check=_object_only).data

    def delete_order_note(self, order_id: int, note_id: int) -> Record | None:
        """Delete an order's note for good (`force=true`); None when the store had no such note."""
        order_id, note_id = int(order_id), int(note_id)
        op = Operation(f"delete note {note_id} of order {order_id}", f"order {order_id}")
        try:
            reply = self._http.request("DELETE", f"/orders/{order_id}/notes/{note_id}", op,
                                       params={"force": "true"})
        except StoreNotFoundError:
            return None
        return reply.data

    def create_customer(self, payload: Mapping[str, Any]) -> CreateResult:
        """Create a customer, or return the existing one with the same email.

        The email is the natural key, so this is safe to repeat: an account that
        already exists comes back with `created=False`; after a lost answer the account
        found comes back with `created=None` (not known whether this call made it).
        """
        email = payload.get("email")
        if not email:
            raise ValueError("a customer sent to the store must have an email")
        op = Operation("create the customer", "the customer")
        body = dict(payload)
        lost = False
        while True:
            try:
                reply = self._http.request("POST", "/customers", op, json=body, reference=email, check=_object_only)
            except AmbiguousWriteError:
                existing = self.find_customer_by_email(email)
                if existing is not None:
                    return CreateResult(existing, created=None)
                if lost:
                    raise
                # The store refuses a second account with this email, so sending again is safe.
                lost = True
                continue
            except StoreError as exc:
                if exc.code != EMAIL_EXISTS:
                    raise
                existing = self.find_customer_by_email(email)
                if existing is None:
                    raise
                # After a lost answer, the account found may be the one that request made.
                return CreateResult(existing, created=None if lost else False)
            return CreateResult(reply.data, created=True)

    def update_customer(self, customer_id: int, payload: Mapping[str, Any]) -> Record:
        """Change a customer and return it as the store now has it (payload sets values)."""
        customer_id = int(customer_id)
        op = Operation(f"update customer {customer_id}", f"customer {customer_id}")
        return self._http.request("PUT", f"/customers/{customer_id}", op, json=dict(payload), check=_object_only).data

    def delete_customer(self, customer_id: int) -> Record | None:
        """Delete a customer for good (`force=true`); their orders stay with `customer_id` 0.

        Returns the deleted record, or None when the store had no such customer (so a
        repeated delete is harmless).
        """
        customer_id = int(customer_id)
        op = Operation(f"delete customer {customer_id}", f"customer {customer_id}")
        try:
            reply = self._http.request("DELETE", f"/customers/{customer_id}", op, params={"force": "true"})
        except StoreNotFoundError:
            return None
        return reply.data


    def ping(self) -> PingResult:
        """Check that the store answers and accepts the keys, with one small request."""
        op = Operation("check the connection", "orders")
        started = time.perf_counter()
        reply = self._http.request("GET", "/orders", op, params={"per_page": 1, "_fields": "id"}, check=_list_only)
        total = reply.headers.get("X-WP-Total")
        return PingResult(
            orders_total=int(total) if total and total.isdigit() else None,
            seconds=time.perf_counter() - started,
        )
