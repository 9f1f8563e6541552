"""What the dev store does to its documents: create, change, pay for and delete them.

The rules follow WooCommerce 10.0.2 as recorded and as its REST controllers read:
totals from lines, paid statuses setting `date_paid`, stock taken on processing,
completed and on-hold and put back on cancelled, orders keeping their rows (with
`customer_id` 0) when their customer is deleted, and `date_modified` left alone when
an update changes nothing but `meta_data`. Order notes and the order actions that email
the customer (`send_order_details`, `send_email`) follow WooCommerce 9.8 and later.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import documents as docs
from . import mail
from .rest_errors import RestError, order_invalid_id, product_invalid_id, user_invalid_id
from .schema import CUSTOMER_PROPERTIES, ORDER_PROPERTIES, PRODUCT_PROPERTIES, VARIATION_PROPERTIES, is_email, validate
from .storage import Storage
from .wire import dumps, iso, to_money

Doc = dict[str, Any]

ALLOWED_CUSTOMER_ROLES = ("customer", "subscriber")
#: Who notes added through the API are attributed to: the user owning the API keys.
API_USER = "admin"
_KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BATCH_LIMIT = 100

#: Categories the dev store knows, by id (seeded products use them too).
CATEGORIES = {
    15: {"id": 15, "name": "Uncategorized", "slug": "uncategorized"},
    16: {"id": 16, "name": "Kitchen", "slug": "kitchen"},
    17: {"id": 17, "name": "Home", "slug": "home"},
    18: {"id": 18, "name": "Garden", "slug": "garden"},
    19: {"id": 19, "name": "Stationery", "slug": "stationery"},
    20: {"id": 20, "name": "Bath", "slug": "bath"},
}


def random_key(rng: random.Random, length: int = 13) -> str:
    return "".join(rng.choice(_KEY_ALPHABET) for _ in range(length))


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "product"


def update_meta(meta_data: list[Doc], key: str, value: Any, meta_id: int | None, new_id: Callable[[], int],
                *, item: bool = False) -> None:
    """WooCommerce's `update_meta_data`: by id, else the first entry with this key.

    Later entries with the same key are dropped, a null value deletes, and scalar values
    come back as strings, as they do once the store has saved and read them again.
    """
    if isinstance(value, bool):
        value = "1" if value else ""
    elif isinstance(value, (int, float)):
        value = str(value)
    index = None
    if meta_id:
        index = next((i for i, m in enumerate(meta_data) if m["id"] == meta_id), None)
    else:
        matches = [i for i, m in enumerate(meta_data) if m["key"] == key]
        if matches:
            index = matches[0]
            for extra in reversed(matches[1:]):
                del meta_data[extra]
    if value is None:
        if index is not None:
            del meta_data[index]
        return
    if index is None:
        entry = docs.item_meta(new_id(), key, value) if item else {"id": new_id(), "key": key, "value": value}
        meta_data.append(entry)
    else:
        meta_data[index]["key"] = key
        meta_data[index]["value"] = value
        if item:
            meta_data[index]["display_key"] = key
            meta_data[index]["display_value"] = value


def wp_specialchars(text: str) -> str:
    """WordPress's `_wp_specialchars` as applied to user names: &, < and > as entities, an
    entity already there left alone."""
    text = re.sub(r"&(?!(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#x[0-9a-fA-F]+);)", "&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def error_item(exc: RestError, item_id: int = 0) -> Doc:
    return {"id": item_id, "error": {"code": exc.code, "message": exc.message, "data": {"status": exc.status}}}


# Gateways that pay a refund back by themselves (`api_refund`); bank transfer, cheque and
# cash on delivery do not, so a refund on them is recorded with `api_refund` false.
GATEWAYS_THAT_REFUND = frozenset({"stripe", "ppcp-gateway", "paypal", "woocommerce_payments", "devstore_test"})


class Shop:
    """The store's rules over its storage. Callers hold the store's lock."""

    def __init__(self, storage: Storage, clock: Callable[[], float], rng: random.Random) -> None:
        self.storage = storage
        self.clock = clock
        self.rng = rng
        #: Called with each `mail.SentEmail` once it is recorded (under the store's lock).
        self.on_email: Callable[[mail.SentEmail], None] | None = None
        #: Tax rates while taxes are on (`woocommerce_calc_taxes`); empty: no tax is charged.
        self.tax_rates: list[Doc] = []

    def now(self) -> str:
        return iso(self.clock())

    def _new_meta_id(self, sequence: str) -> Callable[[], int]:
        return lambda: self.storage.next_id(sequence)

    def _apply_meta(self, meta_data: list[Doc], posted: list[Doc] | None, sequence: str, *, item: bool = False) -> None:
        for meta in posted or []:
            if "key" not in meta and not meta.get("id"):
                continue
            update_meta(meta_data, str(meta.get("key", "")), meta.get("value"), meta.get("id"),
                        self._new_meta_id(sequence), item=item)

    # Products ---------------------------------------------------------------------------

    def get_product(self, product_id: int) -> Doc | None:
        return self.storage.get("products", product_id)

    def _unique_slug(self, base: str, exclude_id: int = 0) -> str:
        slug, n = base, 2
        while self.storage.slug_taken(slug, exclude_id):
            slug = f"{base}-{n}"
            n += 1
        return slug

    def _apply_product(self, product: Doc, p: Doc) -> None:
        for key in ("name", "description", "short_description", "regular_price", "sale_price", "weight", "status",
                    "featured"):
            if p.get(key) is not None:
                product[key] = p[key]
        for key in ("regular_price", "sale_price"):
            if product[key]:
                try:
                    to_money(product[key])
                except ValueError:
                    raise RestError("rest_invalid_param", f"Invalid parameter(s): {key}", 400) from None
        if "sku" in p and p["sku"] is not None:
            other = self.storage.product_id_by_sku(p["sku"])
            if p["sku"] and other is not None and other != product["id"]:
                raise RestError("product_invalid_sku", "Invalid or duplicated SKU.", 400,
                                resource_id=other, unique_sku=p["sku"])
            product["sku"] = p["sku"]
        if p.get("slug"):
            product["slug"] = self._unique_slug(slugify(p["slug"]), product["id"])
        if p.get("manage_stock") is not None:
            product["manage_stock"] = p["manage_stock"]
        if p.get("backorders") is not None:
            product["backorders"] = p["backorders"]
        if p.get("type") is not None and product["type"] != "variation":
            product["type"] = p["type"]
        if "stock_quantity" in p:
            product["stock_quantity"] = p["stock_quantity"]
            if p["stock_quantity"] is not None and p.get("manage_stock") is None:
                product["manage_stock"] = True
        if not product["manage_stock"]:
            product["stock_quantity"] = None
        if p.get("categories") is not None:
            chosen = [dict(CATEGORIES[c["id"]]) for c in p["categories"] if c.get("id") in CATEGORIES]
            product["categories"] = chosen or [dict(docs.UNCATEGORIZED)]
        self._apply_meta(product["meta_data"], p.get("meta_data"), "post_meta")
        docs.refresh_product(product)

    def create_product(self, payload: Any) -> Doc:
        p = validate(payload, PRODUCT_PROPERTIES)
        if p.get("id"):
            raise RestError("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
        with self.storage.transaction():
            product_id = self.storage.next_id("post")
            name = p.get("name") or "Product"
            product = docs.new_product(
                product_id, created=self.now(), name=name, slug=self._unique_slug(slugify(p.get("slug") or name)),
                sku="", regular_price="",
            )
            product["manage_stock"] = False
            product["stock_quantity"] = None
            self._apply_product(product, p)
            self.storage.save("products", product)
        return product

    def update_product(self, product_id: int, payload: Any) -> Doc:
        p = validate(payload, PRODUCT_PROPERTIES)
        with self.storage.transaction():
            product = self.get_product(product_id)
            if product is None:
                raise product_invalid_id(400)
            self._apply_product(product, p)
            docs.set_date(product, "date_modified", self.now())
            self.storage.save("products", product)
        return product

    def delete_product(self, product_id: int, *, force: bool) -> Doc:
        """Move to the trash, or delete for good with `force`."""
        with self.storage.transaction():
            product = self.get_product(product_id)
            if product is None:
                raise product_invalid_id(404)
            if force:
                self.storage.delete("products", product_id)
                return product
            if product["status"] == "trash":
                raise RestError("woocommerce_rest_already_trashed", "The product has already been deleted.", 410)
            product["status"] = "trash"
            docs.refresh_product(product)
            docs.set_date(product, "date_modified", self.now())
            self.storage.save("products", product)
        return product

    # Variations -------------------------------------------------------------------------

    def _variable_parent(self, parent_id: int) -> Doc:
        parent = self.get_product(parent_id)
        if parent is None or parent["type"] == "variation":
            raise product_invalid_id(404)
        return parent

    def variations(self, parent_id: int) -> list[Doc]:
        parent = self._variable_parent(parent_id)
        found = [self.get_product(i) for i in parent["variations"]]
        return [v for v in found if v is not None]

    def variation(self, parent_id: int, variation_id: int) -> Doc:
        variation = self.get_product(variation_id)
        if variation is None or variation.get("parent_id") != parent_id:
            raise RestError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
        return variation

    def _sync_parent(self, parent: Doc) -> None:
        """The parent shows its variations: ids, the attribute options they use, its lowest price."""
        variations = [v for v in (self.get_product(i) for i in parent["variations"]) if v is not None]
        parent["variations"] = [v["id"] for v in variations]
        options: dict[str, list[str]] = {}
        for v in variations:
            for a in v["attributes"]:
                values = options.setdefault(a["name"], [])
                if a["option"] not in values:
                    values.append(a["option"])
        parent["attributes"] = [{"id": 0, "name": name, "slug": name, "position": n, "visible": True,
                                 "variation": True, "options": values} for n, (name, values) in enumerate(options.items())]
        prices = [to_money(v["price"]) for v in variations if v["price"]]
        parent["type"] = "variable"
        parent["has_options"] = True
        parent["regular_price"] = parent["sale_price"] = ""
        parent["price"] = docs.money(min(prices)) if prices else ""
        parent["purchasable"] = bool(prices) and parent["status"] == "publish"
        parent["manage_stock"] = False
        parent["stock_quantity"] = None
        parent["stock_status"] = "instock" if any(v["stock_status"] != "outofstock" for v in variations) else "outofstock"
        self.storage.save("products", parent)

    def _apply_variation(self, variation: Doc, p: Doc) -> None:
        for key in ("regular_price", "sale_price", "status", "manage_stock", "backorders"):
            if p.get(key) is not None:
                variation[key] = p[key]
        if "stock_quantity" in p:
            variation["stock_quantity"] = p["stock_quantity"]
            if p["stock_quantity"] is not None and p.get("manage_stock") is None:
                variation["manage_stock"] = True
        if "sku" in p and p["sku"] is not None:
            other = self.storage.product_id_by_sku(p["sku"])
            if p["sku"] and other is not None and other != variation["id"]:
                raise RestError("product_invalid_sku", "Invalid or duplicated SKU.", 400,
                                resource_id=other, unique_sku=p["sku"])
            variation["sku"] = p["sku"]
        if p.get("attributes") is not None:
            variation["attributes"] = [{"id": 0, "name": a.get("name", ""), "slug": str(a.get("name", "")).lower(),
                                        "option": a.get("option", "")} for a in p["attributes"]]
            variation["name"] = docs.variation_name(variation["attributes"])
        if not variation["manage_stock"]:
            variation["stock_quantity"] = None
        self._apply_meta(variation["meta_data"], p.get("meta_data"), "post_meta")
        docs.refresh_product(variation)

    def create_variation(self, parent_id: int, payload: Any) -> Doc:
        """Add a variation (its own SKU, price, stock and attribute options) to a product, which becomes variable."""
        p = validate(payload, VARIATION_PROPERTIES)
        with self.storage.transaction():
            parent = self._variable_parent(parent_id)
            variation_id = self.storage.next_id("post")
            variation = docs.new_product(variation_id, created=self.now(), name="", slug=parent["slug"], sku="",
                                         regular_price="")
            variation.update({"type": "variation", "parent_id": parent_id, "manage_stock": False,
                              "stock_quantity": None, "_links": docs.variation_links(parent_id, variation_id)})
            self._apply_variation(variation, p)
            self.storage.save("products", variation)
            parent["variations"].append(variation_id)
            self._sync_parent(parent)
        return variation

    def update_variation(self, parent_id: int, variation_id: int, payload: Any) -> Doc:
        p = validate(payload, VARIATION_PROPERTIES)
        with self.storage.transaction():
            variation = self.variation(parent_id, variation_id)
            self._apply_variation(variation, p)
            docs.set_date(variation, "date_modified", self.now())
            self.storage.save("products", variation)
            self._sync_parent(self._variable_parent(parent_id))
        return variation

    def delete_variation(self, parent_id: int, variation_id: int) -> Doc:
        with self.storage.transaction():
            variation = self.variation(parent_id, variation_id)
            self.storage.delete("products", variation_id)
            parent = self._variable_parent(parent_id)
            self._sync_parent(parent)
            docs.set_date(parent, "date_modified", self.now())
            self.storage.save("products", parent)
        return variation

    # Customers --------------------------------------------------------------------------

    def get_customer(self, customer_id: int) -> Doc | None:
        return self.storage.get("customers", customer_id)

    def _require_customer(self, customer_id: int) -> Doc:
        customer = self.get_customer(customer_id)
        if customer is None:
            raise user_invalid_id()
        return customer

    def _unique_username(self, email: str) -> str:
        base = re.sub(r"[^a-z0-9._-]", "", email.split("@", 1)[0].lower()) or "customer"
        name, n = base, 2
        while self.storage.customer_id_by_username(name) is not None:
            name = f"{base}-{n}"
            n += 1
        return name

    def _apply_customer(self, customer: Doc, p: Doc) -> None:
        for key in ("first_name", "last_name"):
            if p.get(key) is not None:
                # WordPress filters user names for HTML as it saves them ("Ben &amp; Jerry");
                # the billing and shipping names are kept as typed.
                customer[key] = wp_specialchars(str(p[key]))
        for part, keys in (("billing", docs.CUSTOMER_BILLING_KEYS), ("shipping", docs.CUSTOMER_SHIPPING_KEYS)):
            for key, value in (p.get(part) or {}).items():
                if key in keys:
                    customer[part][key] = "" if value is None else str(value)
        self._apply_meta(customer["meta_data"], p.get("meta_data"), "user_meta")

    def create_customer(self, payload: Any) -> Doc:
        """Create a customer account. A password, if sent, is accepted and never kept."""
        p = validate(payload, CUSTOMER_PROPERTIES, required=("email",))
        if p.get("id"):
            raise RestError("woocommerce_rest_customer_exists", "Cannot create existing resource.", 400)
        email = p["email"].strip()
        with self.storage.transaction():
            if self.storage.customer_id_by_email(email) is not None:
                raise RestError(
                    "registration-error-email-exists",
                    f"An account is already registered with {email}. Please log in or use a different email address.",
                    400,
                )
            username = (p.get("username") or "").strip()
            if username and self.storage.customer_id_by_username(username) is not None:
                raise RestError(
                    "registration-error-username-exists",
                    "An account is already registered with that username. Please choose another.",
                    400,
                )
            now = self.now()
            customer = docs.new_customer(
                self.storage.next_id("user"), created=now, modified=now, email=email,
                username=username or self._unique_username(email),
            )
            if not p.get("password"):
                # The store generates a password and asks the customer to change it.
                customer["meta_data"].append(
                    {"id": self.storage.next_id("user_meta"), "key": "default_password_nag", "value": "1"}
                )
            self._apply_customer(customer, p)
            self.storage.save("customers", customer)
        return customer

    def update_customer(self, customer_id: int, payload: Any) -> Doc:
        p = validate(payload, CUSTOMER_PROPERTIES)
        with self.storage.transaction():
            customer = self._require_customer(customer_id)
            role = customer["role"]
            if role not in ALLOWED_CUSTOMER_ROLES:
                for prop in ("email", "password"):
                    if prop in p and (prop == "password" or p[prop] != customer["email"]):
                        raise RestError(
                            "woocommerce_rest_cannot_edit",
                            f"Sorry, {prop} cannot be updated via this endpoint for a user with role {role}.",
                            401,
                        )
            email = (p.get("email") or "").strip()
            if email and email.lower() != customer["email"].lower():
                if self.storage.customer_id_by_email(email) is not None:
                    raise RestError("woocommerce_rest_customer_invalid_email", "Email address is invalid.", 400)
            if p.get("username") and p["username"] != customer["username"]:
                raise RestError("woocommerce_rest_customer_invalid_argument", "Username isn't editable.", 400)
            if email:
                customer["email"] = email
                customer["avatar_url"] = docs.avatar_url(email)
            self._apply_customer(customer, p)
            docs.set_date(customer, "date_modified", self.now())
            self.storage.save("customers", customer)
        return customer

    def delete_customer(self, customer_id: int, *, force: bool) -> Doc:
        """Delete for good (`force`); the customer's orders stay, with `customer_id` 0."""
        with self.storage.transaction():
            customer = self._require_customer(customer_id)
            if customer["role"] not in ALLOWED_CUSTOMER_ROLES:
                raise RestError(
                    "woocommerce_rest_cannot_delete",
                    f"Sorry, users with {customer['role']} role cannot be deleted via this endpoint. "
                    f"Allowed roles: {', '.join(ALLOWED_CUSTOMER_ROLES)}",
                    401,
                )
            if not force:
                raise RestError("woocommerce_rest_trash_not_supported", "Customers do not support trashing.", 501)
            now = self.now()
            for order_id in self.storage.order_ids_for_customer(customer_id):
                order = self.storage.get("orders", order_id)
                if order is None:
                    continue
                order["customer_id"] = 0
                docs.set_date(order, "date_modified", now)
                docs.refresh_order(order)
                self.storage.save("orders", order)
            self.storage.delete("customers", customer_id)
        customer["_links"] = docs.customer_links(customer_id, customer["role"], hints=False)
        return customer

    def _mark_paying(self, customer_id: int) -> None:
        if not customer_id:
            return
        customer = self.get_customer(customer_id)
        if customer is None or customer["is_paying_customer"]:
            return
        customer["is_paying_customer"] = True
        docs.set_date(customer, "date_modified", self.now())
        self.storage.save("customers", customer)

    # Orders ---------------------------------------------------------------------------

    def get_order(self, order_id: int) -> Doc | None:
        return self.storage.get("orders", order_id)

    def _product_for_line(self, posted: Doc, creating: bool) -> Doc | None:
        if posted.get("sku"):
            product_id = self.storage.product_id_by_sku(posted["sku"])
            if product_id is None:
                raise RestError("woocommerce_rest_invalid_product_id", "Invalid product ID.", 400)
        elif posted.get("variation_id"):
            product_id = posted["variation_id"]
        elif posted.get("product_id"):
            product_id = posted["product_id"]
        elif not creating:
            return None
        else:
            raise RestError("woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400)
        product = self.get_product(product_id)
        if product is None:
            # A stock store silently adds an empty line here; refusing finds mistakes sooner.
            raise RestError("woocommerce_rest_invalid_product_id", "Invalid product ID.", 400)
        return product

    @staticmethod
    def _item_is_null(posted: Doc) -> bool:
        return any(key in posted and posted[key] is None for key in ("product_id", "method_id", "method_title", "name",
                                                                      "code"))

    def _find_item(self, order: Doc, group: str, item_id: int) -> Doc:
        for item in order[group]:
            if item["id"] == item_id:
                return item
        raise RestError("woocommerce_rest_invalid_item_id", "Order item ID provided is not associated with order.", 400)

    def _set_line_item(self, order: Doc, posted: Doc, reduced: bool) -> None:
        creating = not posted.get("id")
        item = None if creating else self._find_item(order, "line_items", posted["id"])
        product = self._product_for_line(posted, creating)
        if creating:
            assert product is not None
            quantity = posted.get("quantity", 1)
            total = to_money(product["price"] or "0") * quantity
            parent = self.get_product(product["parent_id"]) if product["type"] == "variation" else None
            item = docs.line_item(
                self.storage.next_id("order_item"),
                name=f"{parent['name']} - {product['name']}" if parent else product["name"],
                product_id=parent["id"] if parent else product["id"], sku=product["sku"], quantity=quantity,
                subtotal=total, total=total,
            )
            if parent is not None:
                # The store names the line after the parent and its options, and notes each option.
                item["variation_id"] = product["id"]
                item["parent_name"] = parent["name"]
                for a in product["attributes"]:
                    item["meta_data"].append({"id": self.storage.next_id("order_item_meta"), "key": a["slug"],
                                              "value": a["option"], "display_key": a["name"],
                                              "display_value": a["option"]})
            order["line_items"].append(item)
        elif product is not None and product["id"] != item["product_id"]:
            item["product_id"], item["name"], item["sku"] = product["id"], product["name"], product["sku"]
        assert item is not None
        if posted.get("name") is not None:
            item["name"] = str(posted["name"])
        if posted.get("quantity") is not None:
            item["quantity"] = posted["quantity"]
        for key in ("total", "subtotal"):
            if posted.get(key) is not None:
                item[key] = self._money_field(f"line_items[{key}]", posted[key])
        if posted.get("tax_class") is not None:
            item["tax_class"] = posted["tax_class"]
        self._apply_meta(item["meta_data"], posted.get("meta_data"), "order_item_meta", item=True)
        if not creating and reduced:
            self._adjust_item_stock(item)

    @staticmethod
    def _money_field(name: str, value: Any) -> str:
        try:
            return docs.money(to_money(value))
        except ValueError:
            raise RestError("rest_invalid_param", f"Invalid parameter(s): {name}", 400) from None

    def _set_shipping_line(self, order: Doc, posted: Doc) -> None:
        if posted.get("id"):
            line = self._find_item(order, "shipping_lines", posted["id"])
        else:
            if not posted.get("method_id"):
                raise RestError("woocommerce_rest_invalid_shipping_item", "Shipping method ID is required.", 400)
            line = docs.shipping_line(self.storage.next_id("order_item"), method_id="", method_title="",
                                      total=Decimal(0))
            order["shipping_lines"].append(line)
        for key in ("method_id", "method_title", "instance_id"):
            if posted.get(key) is not None:
                line[key] = posted[key]
        if posted.get("total") is not None:
            line["total"] = self._money_field("shipping_lines[total]", posted["total"])
        self._apply_meta(line["meta_data"], posted.get("meta_data"), "order_item_meta", item=True)

    def _set_fee_line(self, order: Doc, posted: Doc) -> None:
        if posted.get("id"):
            line = self._find_item(order, "fee_lines", posted["id"])
        else:
            if not posted.get("name"):
                raise RestError("woocommerce_rest_invalid_fee_item", "Fee name is required.", 400)
            line = docs.fee_line(self.storage.next_id("order_item"), name="", total=Decimal(0))
            order["fee_lines"].append(line)
        for key in ("name", "tax_class", "tax_status"):
            if posted.get(key) is not None:
                line[key] = posted[key]
        if posted.get("total") is not None:
            line["total"] = line["amount"] = self._money_field("fee_lines[total]", posted["total"])
        self._apply_meta(line["meta_data"], posted.get("meta_data"), "order_item_meta", item=True)

    def _remove_item(self, order: Doc, group: str, item_id: Any, reduced: bool) -> None:
        for index, item in enumerate(order[group]):
            if item["id"] == item_id:
                if group == "line_items" and reduced:
                    self._restock_item(item)
                del order[group][index]
                return

    def _apply_order(self, order: Doc, p: Doc, *, creating: bool) -> None:
        if p.get("customer_id") is not None:
            if p["customer_id"] and not self.storage.exists("customers", p["customer_id"]):
                raise RestError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
            order["customer_id"] = p["customer_id"]
        for key in ("parent_id", "currency", "customer_note", "payment_method", "payment_method_title",
                    "transaction_id"):
            if p.get(key) is not None:
                order[key] = p[key]
        for part, keys in (("billing", docs.ORDER_BILLING_KEYS), ("shipping", docs.ORDER_SHIPPING_KEYS)):
            for key, value in (p.get(part) or {}).items():
                if key in keys:
                    order[part][key] = "" if value is None else str(value)
        reduced = docs.stock_reduced(order)
        setters = {"line_items": self._set_line_item, "shipping_lines": self._set_shipping_line,
                   "fee_lines": self._set_fee_line}
        for group in ("line_items", "shipping_lines", "fee_lines", "coupon_lines"):
            for posted in p.get(group) or []:
                if self._item_is_null(posted) or posted.get("quantity") == 0:
                    self._remove_item(order, group, posted.get("id"), reduced)
                elif group == "coupon_lines":
                    if not posted.get("id"):
                        code = posted.get("code")
                        if code is None or not str(code).strip():
                            raise RestError("woocommerce_rest_invalid_coupon_coupon", "Coupon code is required.",
                                            400)
                        raise RestError("woocommerce_rest_invalid_coupon", f'Coupon "{code}" does not exist!', 400)
                    self._find_item(order, group, posted["id"])
                elif group == "line_items":
                    self._set_line_item(order, posted, reduced)
                else:
                    setters[group](order, posted)
        self._apply_meta(order["meta_data"], p.get("meta_data"), "order_meta")
        if creating or any(key in p for key in ("billing", "shipping", "line_items", "shipping_lines", "fee_lines",
                                                "coupon_lines")):
            docs.calculate_totals(order, self.tax_rates)
        if p.get("status"):
            self._set_status(order, p["status"])
        if p.get("set_paid") is True:
            docs.refresh_order(order)
            if creating or order["needs_payment"]:
                self._payment_complete(order, p.get("transaction_id") or "")
        docs.refresh_order(order)

    def create_order(self, payload: Any) -> Doc:
        p = validate(payload, ORDER_PROPERTIES)
        if p.get("id"):
            raise RestError("woocommerce_rest_shop_order_exists", "Cannot create existing shop_order.", 400)
        with self.storage.transaction():
            order = docs.new_order(self.storage.next_id("post"), now=self.clock(),
                                   order_key="wc_order_" + random_key(self.rng))
            self._apply_order(order, p, creating=True)
            self.storage.save("orders", order)
        return order

    def update_order(self, order_id: int, payload: Any, *, missing_status: int = 400) -> Doc:
        p = validate(payload, ORDER_PROPERTIES)
        with self.storage.transaction():
            order = self.get_order(order_id)
            if order is None:
                raise order_invalid_id(missing_status)
            before = _fingerprint(order)
            self._apply_order(order, p, creating=False)
            if _fingerprint(order) != before:
                docs.set_date(order, "date_modified", self.now())
            self.storage.save("orders", order)
        return order

    def delete_order(self, order_id: int, *, force: bool) -> Doc:
        with self.storage.transaction():
            order = self.get_order(order_id)
            if order is None:
                raise order_invalid_id(404)
            if force:
                self.storage.delete("orders", order_id)
                order["_links"] = docs.order_links(order_id, order["customer_id"], hints=False)
                return order
            if order["status"] == "trash":
                raise RestError("woocommerce_rest_already_trashed", "The shop_order has already been deleted.", 410)
            order["status"] = "trash"
            docs.set_date(order, "date_modified", self.now())
            docs.refresh_order(order)
            self.storage.save("orders", order)
        return order

    def mark_paid(self, order_id: int, transaction_id: str, *, payment_method: str = "devstore_test",
                  payment_method_title: str = "Test payment (dev store)") -> Doc:
        """Complete payment as the order-pay page would; raise RestError if it cannot be paid."""
        with self.storage.transaction():
            order = self.get_order(order_id)
            if order is None:
                raise order_invalid_id(404)
            if order["status"] not in docs.PAYABLE_STATUSES:
                raise RestError("devstore_order_not_payable",
                                f"Order {order_id} is {order['status']} and cannot be paid for.", 400)
            order["payment_method"] = payment_method
            order["payment_method_title"] = payment_method_title
            self._payment_complete(order, transaction_id)
            docs.set_date(order, "date_modified", self.now())
            docs.refresh_order(order)
            self.storage.save("orders", order)
        return order

    # Refunds ---------------------------------------------------------------------------

    def refunds(self, order_id: int) -> list[Doc]:
        if self.get_order(order_id) is None:
            raise RestError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        return self.storage.refunds(order_id)

    def create_refund(self, order_id: int, payload: Any) -> Doc:
        """Refund part or all of an order: an amount, a reason and the lines refunded.

        The order lists the refund (`total` negative) and keeps its own total; refunded in
        full it becomes "refunded". `meta_data` is kept on the refund. Nothing is paid back;
        as on a stock store, `api_refund` is true unless said otherwise, and then the order's
        gateway must be one that pays back by itself (refused in words as WooCommerce does,
        with HTTP 500, saving nothing).
        """
        p = payload if isinstance(payload, dict) else {}
        with self.storage.transaction():
            order = self.get_order(order_id)
            if order is None:
                raise RestError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
            api_refund = p.get("api_refund", True) not in (False, "false", "0", 0, "")
            if api_refund and order.get("payment_method") not in GATEWAYS_THAT_REFUND:
                message = ("The payment gateway for this order does not support automatic refunds."
                           if order.get("payment_method") else "The payment gateway for this order does not exist.")
                raise RestError("woocommerce_rest_cannot_create_order_refund", message, 500)
            meta = [{"id": self.storage.next_id("order_item_meta"), "key": str(m.get("key")), "value": m.get("value")}
                    for m in p.get("meta_data") or [] if isinstance(m, dict) and m.get("key")]
            lines = []
            for posted in p.get("line_items") or []:
                item = self._find_item(order, "line_items", posted.get("id"))
                quantity = int(posted.get("quantity") or 0)
                amount = to_money(posted.get("refund_total") or "0")
                lines.append({"id": self.storage.next_id("order_item"), "name": item["name"],
                              "product_id": item["product_id"], "variation_id": item["variation_id"],
                              "quantity": -quantity, "tax_class": "", "subtotal": docs.money(-amount),
                              "subtotal_tax": "0.00", "total": docs.money(-amount), "total_tax": "0.00",
                              "taxes": [], "meta_data": [{"id": self.storage.next_id("order_item_meta"),
                                                          "key": "_refunded_item_id", "value": str(item["id"]),
                                                          "display_key": "_refunded_item_id",
                                                          "display_value": str(item["id"])}],
                              "sku": item["sku"], "price": 0, "refund_total": float(amount)})
            if p.get("amount") not in (None, ""):
                try:
                    amount = to_money(p["amount"])
                except ValueError:
                    raise RestError("rest_invalid_param", "Invalid parameter(s): amount", 400) from None
            else:
                amount = sum((-to_money(line["total"]) for line in lines), Decimal(0))
            refunded = sum((-to_money(r["total"]) for r in order["refunds"]), Decimal(0))
            if amount <= 0 or amount + refunded > to_money(order["total"]):
                raise RestError("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)
            refund_id = self.storage.next_id("post")
            now = self.now()
            refund = {"id": refund_id, "date_created": now, "date_created_gmt": now, "amount": docs.money(amount),
                      "reason": str(p.get("reason") or ""), "refunded_by": 1, "refunded_payment": api_refund,
                      "meta_data": meta, "line_items": lines, "shipping_lines": [], "tax_lines": [], "fee_lines": [],
                      "_links": docs.refund_links(order_id, refund_id)}
            self.storage.add_refund(order_id, refund)
            order["refunds"].insert(0, {"id": refund_id, "reason": refund["reason"],
                                        "total": docs.money(-amount)})
            if amount + refunded == to_money(order["total"]):
                self._set_status(order, "refunded")
            docs.set_date(order, "date_modified", now)
            docs.refresh_order(order)
            self.storage.save("orders", order)
        return refund

    # Order notes ----------------------------------------------------------------------

    def _order_for_notes(self, order_id: int) -> Doc:
        order = self.get_order(order_id)
        if order is None:
            raise RestError("woocommerce_rest_shop_order_invalid_id", "Invalid order ID.", 404)
        return order

    @staticmethod
    def _note_doc(order_id: int, row: tuple) -> Doc:
        note_id, created, author, note, customer_note = row
        return {
            "id": note_id,
            "author": author,
            "date_created": created,
            "date_created_gmt": created,
            "note": note,
            "customer_note": customer_note,
            "_links": docs.note_links(order_id, note_id),
        }

    def order_notes(self, order_id: int, kind: str = "any") -> list[Doc]:
        """An order's notes, newest first; `kind` is "any", "customer" or "internal"."""
        self._order_for_notes(order_id)
        rows = self.storage.notes(order_id)
        if kind == "customer":
            rows = [r for r in rows if r[4]]
        elif kind == "internal":
            rows = [r for r in rows if not r[4]]
        return [self._note_doc(order_id, r) for r in rows]

    def order_note(self, order_id: int, note_id: int) -> Doc:
        self._order_for_notes(order_id)
        for row in self.storage.notes(order_id):
            if row[0] == note_id:
                return self._note_doc(order_id, row)
        raise RestError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)

    def add_order_note(self, order_id: int, note: str, *, customer_note: bool = False,
                       added_by_user: bool = False) -> Doc:
        """Add a note; one added by a user carries their name, else it is the system's."""
        order = self._order_for_notes(order_id)
        author = API_USER if added_by_user else "system"
        note_id = self.storage.add_note(order_id, created=self.now(), author=author, note=note,
                                        customer_note=customer_note)
        if customer_note and is_email(order["billing"]["email"] or ""):
            # The store emails a note to the customer ("customer_note" email) as it adds it.
            self._send(order, "customer_note")
        return self.order_note(order_id, note_id)

    def delete_order_note(self, order_id: int, note_id: int, *, force: bool) -> Doc:
        if not force:
            raise RestError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        doc = self.order_note(order_id, note_id)
        self.storage.delete_note(note_id)
        return doc

    # Order actions: emails to the customer ----------------------------------------------

    def _order_for_action(self, order_id: int) -> Doc:
        order = self.get_order(order_id)
        if order is None:
            raise RestError("woocommerce_rest_not_found", "Order not found", 404)
        return order

    def check_action_order(self, order_id: int) -> None:
        """Raise the store's 404 for an unknown order (checked before the keys, as the store does)."""
        self._order_for_action(order_id)

    def _maybe_update_billing_email(self, order: Doc, email: str | None, force: bool) -> str:
        if not email:
            return ""
        existing = order["billing"]["email"]
        if existing == email:
            return ""
        if existing and not force:
            raise RestError("woocommerce_rest_order_billing_email_exists", "Order already has a billing email.", 400)
        order["billing"]["email"] = email
        docs.set_date(order, "date_modified", self.now())
        self.storage.save("orders", order)
        return f"Billing email updated to {email}."

    def _send(self, order: Doc, kind: str) -> mail.SentEmail:
        docs.refresh_order(order)
        to = order["billing"]["email"]
        pay_url = order["payment_url"] if kind == "customer_invoice" and order["needs_payment"] else ""
        sent_at = self.now()
        email_id = self.storage.add_email(sent=sent_at, recipient=to, order_id=order["id"], kind=kind,
                                          subject=mail.subject(kind, order), pay_url=pay_url)
        sent = mail.SentEmail(email_id, sent_at, to, order["id"], kind, mail.subject(kind, order), pay_url)
        if self.on_email is not None:
            self.on_email(sent)
        return sent

    def send_order_details(self, order_id: int, params: Doc) -> Doc:
        """Email the order details (the invoice, with the pay link while unpaid) to the billing email.

        `params` are the checked `email` and `force_email_update`. The store notes the
        email on the order and answers `{"message": ...}`.
        """
        with self.storage.transaction():
            order = self._order_for_action(order_id)
            messages = [self._maybe_update_billing_email(order, params.get("email"), bool(params.get("force")))]
            if not is_email(order["billing"]["email"] or ""):
                raise RestError("woocommerce_rest_missing_email", "Order does not have an email address.", 400)
            sent = self._send(order, "customer_invoice")
            messages.append(f"Order details sent to {sent.to}.")
            messages = [m for m in messages if m]
            for message in messages:
                self.add_order_note(order_id, message, added_by_user=True)
        return {"message": " ".join(messages)}

    def email_templates(self, order_id: int) -> list[Doc]:
        order = self._order_for_action(order_id)
        return [{"id": kind, "title": mail.CUSTOMER_TEMPLATES[kind][0], "description": mail.CUSTOMER_TEMPLATES[kind][1]}
                for kind in mail.available_templates(order)]

    def send_email(self, order_id: int, params: Doc) -> Doc:
        """Email the order through one of its available templates (`template_id`)."""
        template_id = params["template_id"]
        if template_id == "customer_invoice":
            return self.send_order_details(order_id, params)
        with self.storage.transaction():
            order = self._order_for_action(order_id)
            messages = [self._maybe_update_billing_email(order, params.get("email"), bool(params.get("force")))]
            if not is_email(order["billing"]["email"] or ""):
                raise RestError("woocommerce_rest_missing_email", "Order does not have an email address.", 400)
            if template_id not in mail.available_templates(order):
                raise RestError("woocommerce_rest_invalid_email_template",
                                f"{template_id} is not a valid template for this order.", 400)
            sent = self._send(order, template_id)
            title = mail.CUSTOMER_TEMPLATES[template_id][0]
            # The store escapes the sentence for HTML, quotes included.
            messages.append(f"Email template &quot;{title}&quot; sent to {sent.to}.")
            messages = [m for m in messages if m]
            for message in messages:
                self.add_order_note(order_id, message, added_by_user=True)
        return {"message": " ".join(messages)}

    def _payment_complete(self, order: Doc, transaction_id: str) -> None:
        if order["status"] not in docs.PAYABLE_STATUSES:
            return
        if transaction_id:
            order["transaction_id"] = transaction_id
        if order["date_paid"] is None:
            docs.set_date(order, "date_paid", self.now())
        self._set_status(order, "processing" if order["line_items"] else "completed")

    def _set_status(self, order: Doc, status: str) -> None:
        old = order["status"]
        if status == old:
            return
        order["status"] = status
        now = self.now()
        if status in docs.PAID_STATUSES and order["date_paid"] is None:
            docs.set_date(order, "date_paid", now)
        if status == "completed":
            docs.set_date(order, "date_completed", now)
        if status in docs.STOCK_REDUCING_STATUSES and not docs.stock_reduced(order):
            self._reduce_stock(order)
        elif status in docs.STOCK_RESTORING_STATUSES and docs.stock_reduced(order):
            for item in order["line_items"]:
                self._restock_item(item)
        if status in docs.PAID_STATUSES:
            self._mark_paying(order["customer_id"])

    def _change_stock(self, product_id: int, delta: int, sales: int = 0) -> bool:
        product = self.get_product(product_id)
        if product is None:
            return False
        product["total_sales"] += sales
        managed = product["manage_stock"]
        if managed:
            product["stock_quantity"] = (product["stock_quantity"] or 0) + delta
        docs.refresh_product(product)
        docs.set_date(product, "date_modified", self.now())
        self.storage.save("products", product)
        return managed

    def _reduce_stock(self, order: Doc) -> None:
        for item in order["line_items"]:
            if self._change_stock(item["variation_id"] or item["product_id"], -item["quantity"],
                                  sales=item["quantity"]):
                update_meta(item["meta_data"], "_reduced_stock", str(item["quantity"]), None,
                            self._new_meta_id("order_item_meta"), item=True)

    def _restock_item(self, item: Doc) -> None:
        for index, meta in enumerate(item["meta_data"]):
            if meta["key"] == "_reduced_stock":
                self._change_stock(item["variation_id"] or item["product_id"], int(meta["value"]))
                del item["meta_data"][index]
                return

    def _adjust_item_stock(self, item: Doc) -> None:
        for meta in item["meta_data"]:
            if meta["key"] == "_reduced_stock":
                diff = item["quantity"] - int(meta["value"])
                if diff:
                    self._change_stock(item["variation_id"] or item["product_id"], -diff)
                    meta["value"] = meta["display_value"] = str(item["quantity"])
                return

    # Batches ----------------------------------------------------------------------------

    def batch(self, kind: str, payload: Any) -> Doc:
        """Run `create`, `update` and `delete` like WooCommerce: one result or error per item."""
        body = payload if isinstance(payload, dict) else {}
        groups = {key: body.get(key) or [] for key in ("create", "update", "delete") if key in body}
        if sum(len(items) for items in groups.values() if isinstance(items, list)) > BATCH_LIMIT:
            raise RestError("rest_request_entity_too_large",
                            f"Unable to accept more than {BATCH_LIMIT} items for this request.", 413)
        create, update, delete = {
            "customers": (self.create_customer, self.update_customer,
                          lambda i: self.delete_customer(i, force=True)),
            "orders": (self.create_order, lambda i, p: self.update_order(i, p, missing_status=400),
                       lambda i: self.delete_order(i, force=True)),
        }[kind]
        result: Doc = {}
        for key, items in groups.items():
            out = result[key] = []
            for item in items if isinstance(items, list) else []:
                item_id = 0
                try:
                    if key == "create":
                        out.append(create(item))
                    elif key == "update":
                        item_id = _as_id(item.get("id") if isinstance(item, dict) else None)
                        out.append(update(item_id, item))
                    else:
                        item_id = _as_id(item.get("id") if isinstance(item, dict) else item)
                        out.append(delete(item_id))
                except RestError as exc:
                    out.append(error_item(exc, item_id))
        return result


def _as_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _fingerprint(order: Doc) -> str:
    """Everything that bumps `date_modified` when it changes: all but the order's meta."""
    rest = {k: v for k, v in order.items() if k not in ("meta_data", "date_modified", "date_modified_gmt")}
    return dumps(rest)
