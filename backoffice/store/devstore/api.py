"""The WooCommerce REST API v3 of the dev store: routes, parameters, paging and answers.

Behaviour follows WooCommerce 10.0.2 (orders in HPOS tables) as recorded, including its
quirks:

- A page past the end of the orders list is `200 []` with `X-WP-Total: 0` and
  `X-WP-TotalPages: 0` (HPOS skips the count when a page is empty); products and
  customers count again and report the real totals.
- `modified_after`, `modified_before`, `after` and `before` compare whole seconds and
  exclude the bound itself. The customers list has no date filter and ignores them.
- The customers list shows `role=customer` unless `role=all` (or another role) is asked.
- Unknown ids: GET and DELETE answer 404, an update answers 400 (orders, products);
  customers answer 404 `wc_user_invalid_id` even before the keys are checked, and so
  do products (an unknown product id is not checked against the keys); orders check
  the keys first.
- Query parameters are validated before the keys are checked, as WordPress does.

Extensions, not in a stock store, for finding an order by the reference a client put in
its `meta_data`: `GET /orders?meta_key=K&meta_value=V` (exact match; either alone also
works) and `search=TERM`, which besides names, e-mail, phone, company and line item
names (substring, any case) and the order id also matches any meta value exactly.
Both use an index on meta values.

Order notes (`/orders/{id}/notes`, newest first) and the order actions of WooCommerce
9.8 and later: `POST /orders/{id}/actions/send_order_details` emails the order details
(with the pay link while the order needs payment) to the billing email, notes it on the
order and answers `{"message": "Order details sent to ..."}`; `send_email` does the same
with a `template_id`, and `GET .../actions/email_templates` lists the templates. An
unknown order answers 404 `woocommerce_rest_not_found` before the keys are checked; an
order without a billing email answers 400 `woocommerce_rest_missing_email`. With
`order_actions` off the store answers those routes as a store older than 9.5 does:
404 `rest_no_route`.
"""

from __future__ import annotations

import base64
import hmac
import json
import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from . import mail
from . import rest_errors as errors
from .documents import ORDER_STATUSES
from .rest_errors import RestError
from .schema import Invalid, coerce
from .shop import Shop
from .storage import Query, Storage
from .wire import BASE, JSON_CONTENT_TYPE, dumps, parse_date

NAMESPACE = "/wp-json/wc/v3"
ROUTE_RE = re.compile(r"^/wp-json/wc/v3/(products|customers|orders)(?:/(batch|\d+))?/?$")
ORDER_SUB_RE = re.compile(
    r"^/wp-json/wc/v3/orders/(\d+)/(notes(?:/(\d+))?|actions/(send_order_details|send_email|email_templates))/?$")
REFUND_RE = re.compile(r"^/wp-json/wc/v3/orders/(\d+)/refunds/?$")
VARIATION_RE = re.compile(r"^/wp-json/wc/v3/products/(\d+)/variations(?:/(\d+))?/?$")
ACTION_METHODS = {"send_order_details": ("POST",), "send_email": ("POST",), "email_templates": ("GET",)}
API_ROOT_LINK = f'<{BASE}/wp-json/>; rel="https://api.w.org/"'
COLLECTION_METHODS = ("GET", "POST")
ITEM_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BATCH_METHODS = ("POST", "PUT", "PATCH")
EDIT_METHODS = ("POST", "PUT", "PATCH")
HIDDEN_ORDER_STATUSES = ("trash", "auto-draft", "checkout-draft")
CUSTOMER_ROLES = ["all", "administrator", "editor", "author", "contributor", "subscriber", "customer", "shop_manager"]

#: The gateways of a stock store (payment_gateways.json), and the dev store's own test gateway.
PAYMENT_GATEWAYS = [
    {"id": gid, "title": title, "description": "", "order": n, "enabled": True, "method_title": title,
     "method_description": "", "method_supports": ["products"], "settings": {}}
    for n, (gid, title) in enumerate((("bacs", "Direct bank transfer"), ("cheque", "Check payments"),
                                      ("cod", "Cash on delivery"), ("devstore_test", "Test payment (dev store)")))
]

STANDARD_HEADERS = (
    ("X-Robots-Tag", "noindex"),
    ("X-Content-Type-Options", "nosniff"),
    ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
    ("Access-Control-Allow-Headers", "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type"),
    ("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
    ("Cache-Control", "no-cache, must-revalidate, max-age=0, no-store, private"),
)

DENIED = {
    ("collection", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    ("collection", "POST"): ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    ("item", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    ("item", "EDIT"): ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    ("item", "DELETE"): ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
    ("batch", "EDIT"): ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."),
}


@dataclass
class Response:
    """An answer before the base URL is put in: status, JSON text, headers."""

    status: int
    body: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: For list pages: the items' texts, so a fault can send fewer of them.
    items: list[str] | None = None
    content_type: str = JSON_CONTENT_TYPE


def parse_query(query: str) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Raw pairs in order, and PHP-style values: `k[]=` collects a list, else the last wins."""
    pairs = parse_qsl(query, keep_blank_values=True)
    params: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            existing = params.get(key[:-2])
            params[key[:-2]] = [*existing, value] if isinstance(existing, list) else [value]
        else:
            params[key] = value
    return pairs, params


@dataclass(frozen=True)
class Param:
    """A query parameter as the store declares it."""

    kind: str  # integer, boolean, string, date, ids, enum, enums, email
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] = ()


_PAGING = {
    "context": Param("enum", "view", enum=("view", "edit")),
    "page": Param("integer", 1, minimum=1),
    "per_page": Param("integer", 10, minimum=1, maximum=100),
    "offset": Param("integer"),
    "search": Param("string"),
    "include": Param("ids", []),
    "exclude": Param("ids", []),
    "_fields": Param("string"),
}
_DATES = {
    "after": Param("date"),
    "before": Param("date"),
    "modified_after": Param("date"),
    "modified_before": Param("date"),
    "dates_are_gmt": Param("boolean", False),
}
ORDER_LIST_PARAMS = {
    **_PAGING,
    **_DATES,
    "order": Param("enum", "desc", enum=("asc", "desc")),
    "orderby": Param("enum", "date", enum=("date", "id", "include", "title", "slug", "modified")),
    "status": Param("enums", ["any"], enum=("any", "trash", "auto-draft", *ORDER_STATUSES)),
    "customer": Param("integer"),
    "product": Param("integer"),
    "dp": Param("integer", 2),
    "meta_key": Param("string"),
    "meta_value": Param("string"),
}
PRODUCT_LIST_PARAMS = {
    **_PAGING,
    **_DATES,
    "order": Param("enum", "desc", enum=("asc", "desc")),
    "orderby": Param("enum", "date", enum=("date", "id", "include", "title", "slug", "price", "popularity", "rating",
                                           "menu_order", "modified")),
    "status": Param("enum", "any", enum=("any", "future", "trash", "draft", "pending", "private", "publish")),
    "sku": Param("string"),
}
CUSTOMER_LIST_PARAMS = {
    **_PAGING,
    "order": Param("enum", "asc", enum=("asc", "desc")),
    "orderby": Param("enum", "name", enum=("id", "include", "name", "registered_date")),
    "email": Param("email"),
    "role": Param("enum", "customer", enum=tuple(CUSTOMER_ROLES)),
}
NOTE_LIST_PARAMS = {"context": Param("enum", "view", enum=("view", "edit")),
                    "type": Param("enum", "any", enum=("any", "customer", "internal"))}
NOTE_ITEM_PARAMS = {"context": Param("enum", "view", enum=("view", "edit")), "force": Param("boolean", False)}
ACTION_PARAMS = {"email": Param("email"), "force_email_update": Param("boolean", False)}
ITEM_PARAMS = {"context": Param("enum", "view", enum=("view", "edit")), "_fields": Param("string"),
               "force": Param("boolean", False)}
LIST_PARAMS = {"orders": ORDER_LIST_PARAMS, "products": PRODUCT_LIST_PARAMS, "customers": CUSTOMER_LIST_PARAMS}


def _check(name: str, raw: Any, spec: Param) -> Any:
    if spec.kind == "integer":
        value = coerce(name, raw, {"type": "integer"})
        if spec.minimum is not None and spec.maximum is not None and not spec.minimum <= value <= spec.maximum:
            raise Invalid("rest_out_of_bounds",
                          f"{name} must be between {spec.minimum} (inclusive) and {spec.maximum} (inclusive)")
        if spec.minimum is not None and value < spec.minimum:
            raise Invalid("rest_out_of_bounds", f"{name} must be greater than or equal to {spec.minimum}")
        return value
    if spec.kind == "boolean":
        return coerce(name, raw, {"type": "boolean"})
    if spec.kind == "string":
        return raw if isinstance(raw, str) else ",".join(raw)
    if spec.kind == "email":
        return coerce(name, raw, {"type": "string", "format": "email"})
    if spec.kind == "date":
        if not isinstance(raw, str) or parse_date(raw) is None:
            raise Invalid("rest_invalid_date", "Invalid date.")
        return parse_date(raw)
    if spec.kind == "enum":
        return coerce(name, raw, {"type": "string", "enum": list(spec.enum)})
    values = raw if isinstance(raw, list) else [v for v in re.split(r"[\s,]+", raw) if v]
    if spec.kind == "ids":
        return [coerce(f"{name}[{i}]", v, {"type": "integer"}) for i, v in enumerate(values)]
    if spec.kind == "enums":
        return [coerce(f"{name}[{i}]", v, {"type": "string", "enum": list(spec.enum)}) for i, v in enumerate(values)]
    raise AssertionError(spec.kind)


def validate_params(params: Mapping[str, Any], specs: Mapping[str, Param]) -> dict[str, Any]:
    """Check the declared parameters; unknown ones are ignored, as WordPress does."""
    out: dict[str, Any] = {}
    problems: dict[str, tuple[str, str]] = {}
    for name, spec in specs.items():
        if name not in params:
            out[name] = spec.default
            continue
        try:
            out[name] = _check(name, params[name], spec)
        except Invalid as exc:
            problems[name] = (exc.code, exc.message)
    if problems:
        raise errors.invalid_params(problems)
    return out


def _like(term: str) -> str:
    escaped = term.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _include_order(ids: list[int]) -> str:
    cases = " ".join(f"WHEN {int(i)} THEN {n}" for n, i in enumerate(ids))
    return f"CASE id {cases} ELSE {len(ids)} END"


def _ids_sql(column: str, ids: list[int], negate: bool = False) -> str:
    listed = ",".join(str(int(i)) for i in ids) or "NULL"
    return f"{column} {'NOT IN' if negate else 'IN'} ({listed})"


def _same(given: str, expected: str) -> bool:
    """Compare secrets in constant time (any characters)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def select_fields(text: str, fields: str) -> str:
    """Keep only the `_fields` asked for (top-level names, or dotted paths into objects)."""
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    doc = json.loads(text)
    out: dict[str, Any] = {}
    for path in wanted:
        parts = path.split(".")
        source, target = doc, out
        for depth, part in enumerate(parts):
            if not isinstance(source, dict) or part not in source:
                break
            if depth == len(parts) - 1:
                target[part] = source[part]
            else:
                target = target.setdefault(part, {})
                source = source[part]
    return dumps(out)


class Api:
    """Answers requests under /wp-json. Holds the store lock while touching data."""

    def __init__(self, shop: Shop, storage: Storage, lock: threading.RLock,
                 keys: Callable[[], tuple[str, str]]) -> None:
        self.shop = shop
        self.storage = storage
        self.lock = lock
        self.keys = keys
        #: Off: answer the order actions as a store older than WooCommerce 9.5 (no route).
        self.order_actions = True
        #: "read": the keys have Read permission only, and every write is refused as the store does.
        self.key_permissions = "read_write"

    # Entry ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        pairs, params = parse_query(query)
        if method == "POST":
            override = headers.get("X-HTTP-Method-Override") or params.get("_method")
            if isinstance(override, str) and override.upper() in ("PUT", "PATCH", "DELETE"):
                method = override.upper()
        try:
            if (self.key_permissions == "read" and method in ("POST", "PUT", "PATCH", "DELETE")
                    and path.startswith(NAMESPACE) and self._authorized(headers, params)):
                # Checked as the keys are: before the route, its parameters and the record.
                raise RestError("woocommerce_rest_authentication_error",
                                "The API key provided does not have write permissions.", 401)
            return self._route(method, path, pairs, params, headers, body)
        except RestError as exc:
            return self._error(exc)

    def _error(self, exc: RestError, allow: tuple[str, ...] = ()) -> Response:
        headers = [("Link", API_ROOT_LINK)]
        if allow:
            headers.append(("Allow", ", ".join(allow)))
        return Response(exc.status, exc.text(), headers)

    def _route(self, method: str, path: str, pairs: list[tuple[str, str]], params: dict[str, Any],
               headers: Mapping[str, str], body: bytes) -> Response:
        if method == "HEAD":
            method = "GET"
        if path.rstrip("/") in ("/wp-json", NAMESPACE) and method == "GET":
            return self._index(path.rstrip("/") == NAMESPACE)
        if path.rstrip("/") == f"{NAMESPACE}/payment_gateways":
            if method != "GET":
                raise errors.no_route()
            if not self._authorized(headers, params):
                raise RestError("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
            return Response(200, dumps(PAYMENT_GATEWAYS), [("Link", API_ROOT_LINK), ("Allow", "GET")])
        refund = REFUND_RE.match(path)
        if refund:
            return self._refunds(method, int(refund.group(1)), params, headers, body)
        variation = VARIATION_RE.match(path)
        if variation:
            return self._variations(method, int(variation.group(1)), variation.group(2), params, headers, body)
        sub = ORDER_SUB_RE.match(path)
        if sub:
            return self._order_sub_route(method, sub, params, headers, body)
        match = ROUTE_RE.match(path)
        if not match:
            raise errors.no_route()
        kind, tail = match.groups()
        if tail is None:
            shape, allow = "collection", COLLECTION_METHODS
        elif tail == "batch":
            shape, allow = "batch", BATCH_METHODS
        else:
            shape, allow = "item", ITEM_METHODS
        if method not in allow or (shape == "batch" and kind == "products"):
            raise errors.no_route()
        try:
            payload = self._body(method, headers, body)
            response = self._dispatch(kind, shape, method, tail, pairs, params, headers, payload)
        except RestError as exc:
            return self._error(exc, allow)
        response.headers.append(("Allow", ", ".join(allow)))
        return response

    # Refunds of an order -----------------------------------------------------------------

    def _refunds(self, method: str, order_id: int, params: dict[str, Any], headers: Mapping[str, str],
                 body: bytes) -> Response:
        allow = ("GET", "POST")
        if method not in allow:
            raise errors.no_route()
        try:
            payload = self._body(method, headers, body)
            if not self._authorized(headers, params):
                raise self._deny("collection", method)
            with self.lock:
                if method == "GET":
                    found = self.shop.refunds(order_id)
                    response = Response(200, "[" + ",".join(dumps(r) for r in found) + "]",
                                        [("X-WP-Total", str(len(found))),
                                         ("X-WP-TotalPages", "1" if found else "0")],
                                        items=[dumps(r) for r in found])
                else:
                    response = Response(201, dumps(self.shop.create_refund(order_id, payload)))
        except RestError as exc:
            return self._error(exc, allow)
        response.headers.append(("Allow", ", ".join(allow)))
        return response

    # Variations of a variable product ----------------------------------------------------

    def _variations(self, method: str, parent_id: int, variation_id: str | None, params: dict[str, Any],
                    headers: Mapping[str, str], body: bytes) -> Response:
        allow = ("GET",) + (("POST",) if variation_id is None else ("POST", "PUT", "PATCH", "DELETE"))
        if method not in allow:
            raise errors.no_route()
        try:
            payload = self._body(method, headers, body)
            if not self._authorized(headers, params):
                raise self._deny("collection" if variation_id is None else "item", method)
            with self.lock:
                if variation_id is None and method == "GET":
                    docs_ = self.shop.variations(parent_id)
                    text = "[" + ",".join(dumps(d) for d in docs_) + "]"
                    headers_out = [("X-WP-Total", str(len(docs_))), ("X-WP-TotalPages", "1" if docs_ else "0")]
                    response = Response(200, text, headers_out, items=[dumps(d) for d in docs_])
                elif variation_id is None:
                    response = Response(201, dumps(self.shop.create_variation(parent_id, payload)))
                elif method == "GET":
                    response = Response(200, dumps(self.shop.variation(parent_id, int(variation_id))))
                elif method == "DELETE":
                    response = Response(200, dumps(self.shop.delete_variation(parent_id, int(variation_id))))
                else:
                    response = Response(200, dumps(self.shop.update_variation(parent_id, int(variation_id),
                                                                               payload)))
        except RestError as exc:
            return self._error(exc, allow)
        response.headers.append(("Allow", ", ".join(allow)))
        return response

    # Order notes and order actions -------------------------------------------------------

    def _order_sub_route(self, method: str, match: re.Match, params: dict[str, Any], headers: Mapping[str, str],
                         body: bytes) -> Response:
        order_id = int(match.group(1))
        note_id = match.group(3)
        action = match.group(4)
        if action is not None:
            if not self.order_actions:
                raise errors.no_route()
            allow = ACTION_METHODS[action]
        else:
            allow = ("GET", "DELETE") if note_id is not None else ("GET", "POST")
        if method not in allow:
            raise errors.no_route()
        try:
            payload = self._body(method, headers, body)
            fields = {**params, **(payload if isinstance(payload, dict) else {})}
            authorized = self._authorized(headers, params)
            if action is not None:
                response = self._action(action, order_id, fields, authorized)
            else:
                response = self._notes(method, order_id, int(note_id) if note_id else None, fields, authorized)
        except RestError as exc:
            return self._error(exc, allow)
        response.headers.append(("Allow", ", ".join(allow)))
        return response

    def _action(self, action: str, order_id: int, fields: dict[str, Any], authorized: bool) -> Response:
        # Parameters first, then the order, then the keys: the store's order of checks.
        if action == "email_templates":
            args: dict[str, Any] = {}
        else:
            specs = dict(ACTION_PARAMS)
            if action == "send_email":
                if fields.get("template_id") in (None, ""):
                    raise errors.missing_params(["template_id"])
                specs["template_id"] = Param("enum", None, enum=mail.TEMPLATE_IDS)
            args = validate_params(fields, specs)
            args["force"] = args.pop("force_email_update")
        with self.lock:
            self.shop.check_action_order(order_id)
        if not authorized:
            if action == "email_templates":
                raise RestError("woocommerce_rest_cannot_view", "Sorry, you cannot view resources.", 401)
            raise RestError("woocommerce_rest_cannot_create", "Sorry, you cannot create resources.", 401)
        with self.lock:
            if action == "email_templates":
                result: Any = self.shop.email_templates(order_id)
            elif action == "send_email":
                result = self.shop.send_email(order_id, args)
            else:
                result = self.shop.send_order_details(order_id, args)
        return Response(200, dumps(result), [("Link", API_ROOT_LINK)])

    def _notes(self, method: str, order_id: int, note_id: int | None, fields: dict[str, Any],
               authorized: bool) -> Response:
        if note_id is None and method == "GET":
            args = validate_params(fields, NOTE_LIST_PARAMS)
            if not authorized:
                raise RestError("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
            with self.lock:
                notes = self.shop.order_notes(order_id, args["type"])
            return Response(200, "[" + ",".join(dumps(n) for n in notes) + "]", [("Link", API_ROOT_LINK)])
        if note_id is None:
            if fields.get("note") in (None, ""):
                raise errors.missing_params(["note"])
            values: dict[str, Any] = {}
            problems: dict[str, tuple[str, str]] = {}
            for name, default, kind in (("note", "", "string"), ("customer_note", False, "boolean"),
                                        ("added_by_user", False, "boolean")):
                try:
                    values[name] = coerce(name, fields.get(name, default), {"type": kind})
                except Invalid as exc:
                    problems[name] = (exc.code, exc.message)
            if problems:
                raise errors.invalid_params(problems)
            if not authorized:
                raise RestError("woocommerce_rest_cannot_create",
                                "Sorry, you are not allowed to create resources.", 401)
            with self.lock:
                doc = self.shop.add_order_note(order_id, values["note"], customer_note=values["customer_note"],
                                               added_by_user=values["added_by_user"])
            location = f"{BASE}{NAMESPACE}/orders/{order_id}/notes/{doc['id']}"
            return Response(201, dumps(doc), [("Location", location), ("Link", API_ROOT_LINK)])
        args = validate_params(fields, NOTE_ITEM_PARAMS)
        if not authorized:
            raise self._deny("item", method)
        with self.lock:
            if method == "GET":
                doc = self.shop.order_note(order_id, note_id)
            else:
                doc = self.shop.delete_order_note(order_id, note_id, force=args["force"])
        return Response(200, dumps(doc), [("Link", API_ROOT_LINK)])

    @staticmethod
    def _body(method: str, headers: Mapping[str, str], body: bytes) -> Any:
        if method == "GET" or not body.strip():
            return {}
        content_type = (headers.get("Content-Type") or "").lower()
        if "x-www-form-urlencoded" in content_type:
            return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise errors.invalid_json() from None
        return payload if payload is not None else {}

    def _authorized(self, headers: Mapping[str, str], params: Mapping[str, Any]) -> bool:
        key, secret = self.keys()
        auth = headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            if _same(user, key) and _same(password, secret):
                return True
        query_key, query_secret = params.get("consumer_key"), params.get("consumer_secret")
        if isinstance(query_key, str) and isinstance(query_secret, str):
            return _same(query_key, key) and _same(query_secret, secret)
        return False

    def _deny(self, shape: str, method: str) -> RestError:
        verb = method if shape == "collection" or method in ("GET", "DELETE") else "EDIT"
        code, message = DENIED[(shape, verb)]
        return RestError(code, message, 401)

    def _dispatch(self, kind: str, shape: str, method: str, tail: str | None, pairs: list[tuple[str, str]],
                  params: dict[str, Any], headers: Mapping[str, str], payload: Any) -> Response:
        authorized = self._authorized(headers, params)
        if shape == "collection" and method == "GET":
            args = validate_params(params, LIST_PARAMS[kind])
            if not authorized:
                raise self._deny(shape, method)
            return self._list(kind, args, pairs)
        if shape == "collection":
            if not authorized:
                raise self._deny(shape, method)
            return self._create(kind, payload)
        if shape == "batch":
            if not authorized:
                raise self._deny(shape, method)
            with self.lock:
                result = self.shop.batch(kind, payload)
            return Response(200, dumps(result), [("Link", API_ROOT_LINK)])
        item_id = int(tail or 0)
        merged = {**params, **(payload if isinstance(payload, dict) else {})} if method == "DELETE" else params
        args = validate_params(merged, ITEM_PARAMS)
        with self.lock:
            exists = self.storage.exists(kind, item_id)
        if not exists and kind in ("customers", "products"):
            if kind == "customers":
                raise errors.user_invalid_id()
        elif not authorized:
            raise self._deny(shape, method)
        return self._item(kind, method, item_id, args, payload)

    # Lists ------------------------------------------------------------------------------

    def _list(self, kind: str, args: dict[str, Any], pairs: list[tuple[str, str]]) -> Response:
        query = getattr(self, f"_{kind}_query")(args)
        per_page, page = args["per_page"], args["page"]
        offset = args["offset"] if args["offset"] is not None else (page - 1) * per_page
        with self.lock:
            ids = self.storage.ids(kind, query, per_page, max(offset, 0))
            texts = self.storage.texts(kind, ids)
            if not texts and kind == "orders":
                total = 0
            else:
                total = self.storage.count(kind, query)
        if args["_fields"]:
            texts = [select_fields(t, args["_fields"]) for t in texts]
        if kind == "customers" and args["offset"]:
            page = math.ceil(offset / per_page + 1)
        max_pages = math.ceil(total / per_page)
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(max_pages))]
        links = []
        if page > 1:
            links.append(f'<{self._page_url(kind, pairs, min(page - 1, max_pages))}>; rel="prev"')
        if max_pages > page:
            links.append(f'<{self._page_url(kind, pairs, page + 1)}>; rel="next"')
        headers.append(("Link", ", ".join(links) if links else API_ROOT_LINK))
        return Response(200, "[" + ",".join(texts) + "]", headers, items=texts)

    @staticmethod
    def _page_url(kind: str, pairs: list[tuple[str, str]], page: int) -> str:
        out, replaced = [], False
        for key, value in pairs:
            if key == "page":
                if replaced:
                    continue
                value, replaced = str(page), True
            out.append((key, value))
        if not replaced:
            out.append(("page", str(page)))
        query = "&".join(f"{quote(k, safe='[]')}={quote(v, safe=':,')}" for k, v in out)
        return f"{BASE}{NAMESPACE}/{kind}?{query}"

    @staticmethod
    def _common_filters(args: dict[str, Any], where: list[str], params: list[Any]) -> None:
        if args["include"]:
            where.append(_ids_sql("id", args["include"]))
        if args["exclude"]:
            where.append(_ids_sql("id", args["exclude"], negate=True))
        for name, column, op in (("after", "created", ">"), ("before", "created", "<"),
                                 ("modified_after", "modified", ">"), ("modified_before", "modified", "<")):
            if args.get(name):
                where.append(f"{column} {op} ?")
                params.append(args[name])

    @staticmethod
    def _query(args: dict[str, Any], where: list[str], params: list[Any], columns: Mapping[str, str]) -> Query:
        """The query with its sort; `columns` maps an `orderby` to a not-null column."""
        descending = args["order"] != "asc"
        direction = "DESC" if descending else "ASC"
        orderby = args["orderby"]
        if orderby == "include" and args["include"]:
            order_by, keys = f"{_include_order(args['include'])} ASC, id {direction}", ()
        elif columns.get(orderby, "id") == "id":
            order_by, keys = f"id {direction}", ("id",)
        elif orderby == "price":
            order_by, keys = f"price {direction}, id {direction}", ()  # prices can be empty (null)
        else:
            column = columns[orderby]
            order_by, keys = f"{column} {direction}, id {direction}", (column, "id")
        return Query(" AND ".join(where), tuple(params), order_by, keys, descending)

    def _orders_query(self, args: dict[str, Any]) -> Query:
        where: list[str] = []
        params: list[Any] = []
        statuses = args["status"]
        if "any" in statuses or not statuses:
            where.append(f"status NOT IN ({','.join('?' * len(HIDDEN_ORDER_STATUSES))})")
            params.extend(HIDDEN_ORDER_STATUSES)
        else:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if args["customer"] is not None:
            where.append("customer_id = ?")
            params.append(args["customer"])
        self._common_filters(args, where, params)
        if args["meta_key"] is not None or args["meta_value"] is not None:
            conditions, values = [], []
            for column in ("meta_key", "meta_value"):
                if args[column] is not None:
                    conditions.append(f"{column} = ?")
                    values.append(args[column])
            where.append(f"id IN (SELECT order_id FROM order_meta WHERE {' AND '.join(conditions)})")
            params.extend(values)
        term = (args["search"] or "").strip()
        if term:
            where.append(
                "(id = ? OR search LIKE ? ESCAPE '\\' OR id IN (SELECT order_id FROM order_meta WHERE meta_value = ?))"
            )
            params.extend([int(term) if term.isdigit() else -1, _like(term), term])
        return self._query(args, where, params, {"date": "created", "modified": "modified", "id": "id"})

    def _products_query(self, args: dict[str, Any]) -> Query:
        where: list[str] = []
        params: list[Any] = []
        if args["status"] == "any":
            where.append("status NOT IN ('trash', 'variation')")
        else:
            where.append("status = ?")
            params.append(args["status"])
        if args["sku"]:
            skus = [s.strip() for s in args["sku"].split(",") if s.strip()]
            where.append(f"sku IN ({','.join('?' * len(skus))})")
            params.extend(skus)
        self._common_filters(args, where, params)
        term = (args["search"] or "").strip()
        if term:
            where.append("search LIKE ? ESCAPE '\\'")
            params.append(_like(term))
        return self._query(args, where, params, {"date": "created", "modified": "modified", "title": "name",
                                                 "slug": "slug", "price": "price", "id": "id"})

    def _customers_query(self, args: dict[str, Any]) -> Query:
        where: list[str] = []
        params: list[Any] = []
        if args["role"] != "all":
            where.append("role = ?")
            params.append(args["role"])
        if args["include"]:
            where.append(_ids_sql("id", args["include"]))
        if args["exclude"]:
            where.append(_ids_sql("id", args["exclude"], negate=True))
        if args["email"]:
            where.append("email = ?")
            params.append(args["email"])
        else:
            term = (args["search"] or "").strip()
            if "@" in term:
                where.append("email LIKE ? ESCAPE '\\'")
                params.append(_like(term))
            elif term.isdigit():
                where.append("(id = ? OR username LIKE ? ESCAPE '\\')")
                params.extend([int(term), _like(term)])
            elif term:
                where.append("search LIKE ? ESCAPE '\\'")
                params.append(_like(term))
        return self._query(args, where, params, {"id": "id", "name": "name", "registered_date": "created"})

    # Single items -----------------------------------------------------------------------

    def _create(self, kind: str, payload: Any) -> Response:
        with self.lock:
            if kind == "orders":
                doc = self.shop.create_order(payload)
            elif kind == "customers":
                doc = self.shop.create_customer(payload)
            else:
                doc = self.shop.create_product(payload)
                doc = self._edit_context_product(doc, created=True)
        location = f"{BASE}{NAMESPACE}/{kind}/{doc['id']}"
        return Response(201, dumps(doc), [("Location", location), ("Link", API_ROOT_LINK)])

    @staticmethod
    def _edit_context_product(doc: dict[str, Any], *, created: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in doc.items():
            if key == "_links":
                out["permalink_template"] = f"{BASE}/product/%pagename%/"
                out["generated_slug"] = doc["slug"]
            out[key] = value
        if created and out["average_rating"] == "0.00":
            # The store's create answer formats the fresh rating without decimals.
            out["average_rating"] = "0"
        return out

    def _item(self, kind: str, method: str, item_id: int, args: dict[str, Any], payload: Any) -> Response:
        with self.lock:
            if method == "GET":
                text = self.storage.text(kind, item_id)
                if text is None:
                    raise errors.order_invalid_id(404) if kind == "orders" else errors.product_invalid_id(404)
                if kind == "products" and args["context"] == "edit":
                    text = dumps(self._edit_context_product(json.loads(text)))
            elif method in EDIT_METHODS:
                update = {"orders": self.shop.update_order, "customers": self.shop.update_customer,
                          "products": self.shop.update_product}[kind]
                doc = update(item_id, payload)
                if kind == "products":
                    doc = self._edit_context_product(doc)
                text = dumps(doc)
            else:
                text = dumps(self._delete(kind, item_id, args["force"]))
        if args["_fields"]:
            text = select_fields(text, args["_fields"])
        return Response(200, text, [("Link", API_ROOT_LINK)])

    def _delete(self, kind: str, item_id: int, force: bool) -> dict[str, Any]:
        if kind == "orders":
            return self.shop.delete_order(item_id, force=force)
        if kind == "customers":
            return self.shop.delete_customer(item_id, force=force)
        return self.shop.delete_product(item_id, force=force)

    def _index(self, namespace: bool) -> Response:
        routes = {
            f"{NAMESPACE}/orders": COLLECTION_METHODS, f"{NAMESPACE}/orders/(?P<id>[\\d]+)": ITEM_METHODS,
            f"{NAMESPACE}/orders/batch": BATCH_METHODS, f"{NAMESPACE}/customers": COLLECTION_METHODS,
            f"{NAMESPACE}/customers/(?P<id>[\\d]+)": ITEM_METHODS, f"{NAMESPACE}/customers/batch": BATCH_METHODS,
            f"{NAMESPACE}/products": COLLECTION_METHODS, f"{NAMESPACE}/products/(?P<id>[\\d]+)": ITEM_METHODS,
            f"{NAMESPACE}/orders/(?P<order_id>[\\d]+)/notes": ("GET", "POST"),
            f"{NAMESPACE}/orders/(?P<order_id>[\\d]+)/notes/(?P<id>[\\d]+)": ("GET", "DELETE"),
        }
        if self.order_actions:
            for action, methods in ACTION_METHODS.items():
                routes[f"{NAMESPACE}/orders/(?P<id>[\\d]+)/actions/{action}"] = methods
        described = {route: {"namespace": "wc/v3", "methods": list(methods)} for route, methods in routes.items()}
        if namespace:
            body: dict[str, Any] = {"namespace": "wc/v3", "routes": described}
        else:
            body = {"name": "Dev store", "description": "A WooCommerce-like store for development",
                    "url": BASE, "home": BASE, "namespaces": ["wc/v3"], "routes": described}
        return Response(200, dumps(body), [("Link", API_ROOT_LINK)])
