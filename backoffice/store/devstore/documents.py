"""The JSON documents the dev store keeps and serves: orders, customers and products.

Field names, order and types follow the responses recorded from WooCommerce 10.0.2.
URLs inside documents start with `wire.BASE`, replaced by the real base URL on the way out.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .wire import BASE, ZERO, iso, money, to_money

WC_VERSION = "10.0.2"
API = f"{BASE}/wp-json/wc/v3"

ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft")
#: Statuses in which an order counts as paid (WooCommerce's `wc_get_is_paid_statuses`).
PAID_STATUSES = ("processing", "completed")
#: Statuses that take the items out of stock.
STOCK_REDUCING_STATUSES = ("processing", "completed", "on-hold")
#: Statuses that put reduced stock back.
STOCK_RESTORING_STATUSES = ("cancelled", "pending")
#: Statuses from which a payment can complete.
PAYABLE_STATUSES = ("pending", "failed", "on-hold", "cancelled")

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "CAD": "$", "AUD": "$", "CHF": "CHF"}

ORDER_BILLING_KEYS = (
    "first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country", "email",
    "phone",
)
ORDER_SHIPPING_KEYS = (
    "first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country", "phone",
)
CUSTOMER_BILLING_KEYS = (
    "first_name", "last_name", "company", "address_1", "address_2", "city", "postcode", "country", "state", "email",
    "phone",
)
CUSTOMER_SHIPPING_KEYS = (
    "first_name", "last_name", "company", "address_1", "address_2", "city", "postcode", "country", "state", "phone",
)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
UNCATEGORIZED = {"id": 15, "name": "Uncategorized", "slug": "uncategorized"}
_REDUCED_STOCK = "_reduced_stock"


def address(keys: tuple[str, ...], values: dict[str, Any] | None = None) -> dict[str, str]:
    """An address with every field in the store's order, blank unless given."""
    values = values or {}
    return {key: "" if values.get(key) is None else str(values.get(key, "")) for key in keys}


def set_date(doc: dict[str, Any], field: str, value: str | None) -> None:
    """Set a date and its `_gmt` twin (the dev store's site time zone is UTC)."""
    doc[field] = value
    doc[field + "_gmt"] = value


# Orders -----------------------------------------------------------------------------


def payment_url(order_id: int, order_key: str) -> str:
    return f"{BASE}/checkout/order-pay/{order_id}/?pay_for_order=true&key={order_key}"


def order_links(order_id: int, customer_id: int, *, hints: bool = True) -> dict[str, Any]:
    self_link: dict[str, Any] = {"href": f"{API}/orders/{order_id}"}
    if hints:
        self_link["targetHints"] = {"allow": ALL_METHODS}
    links: dict[str, Any] = {
        "self": [self_link],
        "collection": [{"href": f"{API}/orders"}],
        "email_templates": [{"embeddable": True, "href": f"{API}/orders/{order_id}/actions/email_templates"}],
    }
    if customer_id:
        links["customer"] = [{"href": f"{API}/customers/{customer_id}"}]
    return links


def new_order(order_id: int, *, now: float, order_key: str, created_via: str = "rest-api",
              billing: dict[str, str] | None = None, shipping: dict[str, str] | None = None) -> dict[str, Any]:
    """A blank pending order, every field present in the store's order.

    `billing` and `shipping`, when given, are used as they are: complete, in the store's order.
    """
    ts = iso(now)
    return {
        "id": order_id,
        "parent_id": 0,
        "status": "pending",
        "currency": "USD",
        "version": WC_VERSION,
        "prices_include_tax": False,
        "date_created": ts,
        "date_modified": ts,
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": "0.00",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": "0.00",
        "total_tax": "0.00",
        "customer_id": 0,
        "order_key": order_key,
        "billing": billing if billing is not None else address(ORDER_BILLING_KEYS),
        "shipping": shipping if shipping is not None else address(ORDER_SHIPPING_KEYS),
        "payment_method": "",
        "payment_method_title": "",
        "transaction_id": "",
        "customer_ip_address": "",
        "customer_user_agent": "",
        "created_via": created_via,
        "customer_note": "",
        "date_completed": None,
        "date_paid": None,
        "cart_hash": "",
        "number": str(order_id),
        "meta_data": [],
        "line_items": [],
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "payment_url": payment_url(order_id, order_key),
        "is_editable": True,
        "needs_payment": False,
        "needs_processing": False,
        "date_created_gmt": ts,
        "date_modified_gmt": ts,
        "date_completed_gmt": None,
        "date_paid_gmt": None,
        "currency_symbol": "$",
        "_links": order_links(order_id, 0),
    }


def line_item(
    item_id: int,
    *,
    name: str,
    product_id: int,
    sku: str | None,
    quantity: int,
    subtotal: Decimal,
    total: Decimal,
) -> dict[str, Any]:
    return {
        "id": item_id,
        "name": name,
        "product_id": product_id,
        "variation_id": 0,
        "quantity": quantity,
        "tax_class": "",
        "subtotal": money(subtotal),
        "subtotal_tax": "0.00",
        "total": money(total),
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": [],
        "sku": sku,
        "price": line_price(money(total), quantity),
        "image": {"id": "", "src": ""},
        "parent_name": None,
    }


def line_price(total: str, quantity: int) -> float | int:
    """The line's unit price as the store computes it: a float, total / quantity."""
    return float(total) / quantity if quantity else 0


def shipping_line(item_id: int, *, method_id: str, method_title: str, total: Decimal, instance_id: str = "") -> dict:
    return {
        "id": item_id,
        "method_title": method_title,
        "method_id": method_id,
        "instance_id": instance_id,
        "total": money(total),
        "total_tax": "0.00",
        "taxes": [],
        "tax_status": "taxable",
        "meta_data": [],
    }


def fee_line(item_id: int, *, name: str, total: Decimal) -> dict[str, Any]:
    return {
        "id": item_id,
        "name": name,
        "tax_class": "",
        "tax_status": "taxable",
        "amount": money(total),
        "total": money(total),
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": [],
    }


def item_meta(meta_id: int, key: str, value: Any) -> dict[str, Any]:
    return {"id": meta_id, "key": key, "value": value, "display_key": key, "display_value": value}


def tax_amount(base: Decimal, percent: Decimal) -> Decimal:
    """Tax on one line, rounded half up to the cent per line, as the store rounds by default."""
    return (base * percent / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def matching_rate(order: dict[str, Any], rates: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The tax rate for the order's shipping address (its billing address when it has none)."""
    if not rates:
        return None
    place = order["shipping"] if order["shipping"].get("country") else order["billing"]
    country, state = (place.get("country") or "").upper(), (place.get("state") or "").upper()
    for rate in rates:
        if rate["country"] in ("", country) and rate["state"] in ("", state):
            return rate
    return None


def calculate_totals(order: dict[str, Any], rates: list[dict[str, Any]] | None = None) -> None:
    """Recompute the order's totals from its lines, with tax when `rates` (taxes on) has one for its address.

    Tax follows the store's defaults: prices exclude tax, tax by the customer's shipping
    address, rounded per line; shipping and taxable fees are taxed at the same rate
    when the rate applies to shipping.
    """
    rate = matching_rate(order, rates)
    percent = Decimal(rate["rate"]) if rate else ZERO
    items = sum((to_money(item["total"]) for item in order["line_items"]), ZERO)
    shipping = sum((to_money(line["total"]) for line in order["shipping_lines"]), ZERO)
    fees = sum((to_money(line["total"]) for line in order["fee_lines"]), ZERO)
    cart_tax = shipping_tax = ZERO
    for item in order["line_items"]:
        item["price"] = line_price(item["total"], item["quantity"])
        taxable = rate is not None and item.get("tax_class", "") == ""
        tax = tax_amount(to_money(item["total"]), percent) if taxable else ZERO
        sub_tax = tax_amount(to_money(item["subtotal"]), percent) if taxable else ZERO
        item["total_tax"], item["subtotal_tax"] = money(tax), money(sub_tax)
        item["taxes"] = [{"id": rate["id"], "total": money(tax), "subtotal": money(sub_tax)}] if taxable else []
        cart_tax += tax
    for line in order["fee_lines"]:
        taxable = rate is not None and line.get("tax_status") == "taxable"
        tax = tax_amount(to_money(line["total"]), percent) if taxable else ZERO
        line["total_tax"] = money(tax)
        line["taxes"] = [{"id": rate["id"], "total": money(tax), "subtotal": ""}] if taxable else []
        cart_tax += tax
    for line in order["shipping_lines"]:
        taxable = rate is not None and rate.get("shipping", True) and line.get("tax_status") == "taxable"
        tax = tax_amount(to_money(line["total"]), percent) if taxable else ZERO
        line["total_tax"] = money(tax)
        line["taxes"] = [{"id": rate["id"], "total": money(tax), "subtotal": ""}] if taxable else []
        shipping_tax += tax
    order["tax_lines"] = [{
        "id": order["tax_lines"][0]["id"] if order["tax_lines"] else rate["id"] * 1000 + order["id"],
        "rate_code": f"{rate['country']}-{rate['state']}-{rate['name'].upper()}-{rate['priority']}",
        "rate_id": rate["id"], "label": rate["name"], "compound": False, "tax_total": money(cart_tax),
        "shipping_tax_total": money(shipping_tax), "rate_percent": float(percent), "meta_data": [],
    }] if rate is not None and (cart_tax or shipping_tax) else []
    order["discount_total"] = "0.00"
    order["discount_tax"] = "0.00"
    order["shipping_total"] = money(shipping)
    order["shipping_tax"] = money(shipping_tax)
    order["cart_tax"] = money(cart_tax)
    order["total"] = money(items + shipping + fees + cart_tax + shipping_tax)
    order["total_tax"] = money(cart_tax + shipping_tax)


def refresh_order(order: dict[str, Any]) -> None:
    """Recompute the fields that follow from others: flags, links, symbol."""
    status = order["status"]
    order["is_editable"] = status in ("pending", "on-hold", "auto-draft")
    order["needs_payment"] = status in ("pending", "failed") and to_money(order["total"]) > 0
    order["needs_processing"] = bool(order["line_items"])
    order["currency_symbol"] = CURRENCY_SYMBOLS.get(order["currency"], order["currency"])
    order["payment_url"] = payment_url(order["id"], order["order_key"])
    order["_links"] = order_links(order["id"], order["customer_id"])


def note_links(order_id: int, note_id: int) -> dict[str, Any]:
    return {
        "self": [{"href": f"{API}/orders/{order_id}/notes/{note_id}", "targetHints": {"allow": ["GET", "DELETE"]}}],
        "collection": [{"href": f"{API}/orders/{order_id}/notes"}],
        "up": [{"href": f"{API}/orders/{order_id}"}],
    }


def stock_reduced(order: dict[str, Any]) -> bool:
    return any(meta["key"] == _REDUCED_STOCK for item in order["line_items"] for meta in item["meta_data"])


def order_search_text(order: dict[str, Any]) -> str:
    """What `search` looks through besides ids and meta values, folded for case."""
    billing, shipping = order["billing"], order["shipping"]
    parts = [
        billing["first_name"], billing["last_name"], billing["company"], billing["email"], billing["phone"],
        shipping["first_name"], shipping["last_name"], shipping["company"],
    ]
    parts.extend(item["name"] for item in order["line_items"])
    return " ".join(p for p in parts if p).casefold()


# Customers --------------------------------------------------------------------------


def avatar_url(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g"


def customer_links(customer_id: int, role: str, *, hints: bool = True) -> dict[str, Any]:
    self_link: dict[str, Any] = {"href": f"{API}/customers/{customer_id}"}
    if hints:
        allow = ALL_METHODS if role in ("customer", "subscriber") else ["GET", "POST", "PUT", "PATCH"]
        self_link["targetHints"] = {"allow": allow}
    return {"self": [self_link], "collection": [{"href": f"{API}/customers"}]}


def new_customer(
    customer_id: int,
    *,
    created: str,
    modified: str | None,
    email: str,
    username: str,
    first_name: str = "",
    last_name: str = "",
    role: str = "customer",
    billing: dict[str, Any] | None = None,
    shipping: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": customer_id,
        "date_created": created,
        "date_created_gmt": created,
        "date_modified": modified,
        "date_modified_gmt": modified,
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "role": role,
        "username": username,
        "billing": address(CUSTOMER_BILLING_KEYS, billing),
        "shipping": address(CUSTOMER_SHIPPING_KEYS, shipping),
        "is_paying_customer": False,
        "avatar_url": avatar_url(email),
        "meta_data": [],
        "_links": customer_links(customer_id, role),
    }


def display_name(customer: dict[str, Any]) -> str:
    full = f"{customer['first_name']} {customer['last_name']}".strip()
    return full or customer["username"]


def customer_search_text(customer: dict[str, Any]) -> str:
    return " ".join((customer["username"], customer["email"], display_name(customer))).casefold()


# Products ---------------------------------------------------------------------------


def _amount_html(amount: str) -> str:
    return (
        '<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">'
        f"&#36;</span>{amount}</bdi></span>"
    )


def price_html(regular: str, sale: str) -> str:
    if not regular:
        return ""
    if not sale:
        return _amount_html(regular)
    return (
        f'<del aria-hidden="true">{_amount_html(regular)}</del> <span class="screen-reader-text">'
        f'Original price was: &#36;{regular}.</span><ins aria-hidden="true">{_amount_html(sale)}</ins>'
        f'<span class="screen-reader-text">Current price is: &#36;{sale}.</span>'
    )


def product_links(product_id: int) -> dict[str, Any]:
    return {
        "self": [{"href": f"{API}/products/{product_id}", "targetHints": {"allow": ALL_METHODS}}],
        "collection": [{"href": f"{API}/products"}],
    }


def new_product(
    product_id: int,
    *,
    created: str,
    name: str,
    slug: str,
    sku: str,
    regular_price: str,
    sale_price: str = "",
    stock_quantity: int | None = None,
    description: str = "",
    short_description: str = "",
    categories: list[dict[str, Any]] | None = None,
    status: str = "publish",
    weight: str = "",
) -> dict[str, Any]:
    product = {
        "id": product_id,
        "name": name,
        "slug": slug,
        "permalink": f"{BASE}/product/{slug}/",
        "date_created": created,
        "date_created_gmt": created,
        "date_modified": created,
        "date_modified_gmt": created,
        "type": "simple",
        "status": status,
        "featured": False,
        "catalog_visibility": "visible",
        "description": description,
        "short_description": short_description,
        "sku": sku,
        "price": "",
        "regular_price": regular_price,
        "sale_price": sale_price,
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "on_sale": False,
        "purchasable": True,
        "total_sales": 0,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": stock_quantity is not None,
        "stock_quantity": stock_quantity,
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "sold_individually": False,
        "weight": weight,
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": True,
        "shipping_taxable": True,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": True,
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": 0,
        "purchase_note": "",
        "categories": categories if categories is not None else [dict(UNCATEGORIZED)],
        "brands": [],
        "tags": [],
        "images": [],
        "attributes": [],
        "default_attributes": [],
        "variations": [],
        "grouped_products": [],
        "menu_order": 0,
        "price_html": "",
        "related_ids": [],
        "meta_data": [],
        "stock_status": "instock",
        "has_options": False,
        "post_password": "",
        "global_unique_id": "",
        "_links": product_links(product_id),
    }
    refresh_product(product)
    return product


def refresh_product(product: dict[str, Any]) -> None:
    """Recompute price, sale flag, price HTML and stock status from the other fields."""
    regular, sale = product["regular_price"], product["sale_price"]
    product["price"] = sale or regular
    product["on_sale"] = bool(sale) and bool(regular) and to_money(sale) < to_money(regular)
    product["price_html"] = price_html(regular, sale if product["on_sale"] else "")
    product["permalink"] = f"{BASE}/product/{product['slug']}/"
    product["purchasable"] = bool(product["price"]) and product["status"] == "publish"
    product["backorders_allowed"] = product.get("backorders", "no") != "no"
    if product["manage_stock"]:
        stock = product["stock_quantity"] or 0
        if stock > 0:
            product["stock_status"] = "instock"
        else:
            product["stock_status"] = "onbackorder" if product["backorders_allowed"] else "outofstock"
        product["backordered"] = False
    if product["type"] == "variation":
        product["permalink"] = f"{BASE}/product/{product['slug']}/?" + "&".join(
            f"attribute_{a['slug']}={a['option']}" for a in product["attributes"])
        product["purchasable"] = bool(product["price"]) and product["status"] == "publish"


def product_search_text(product: dict[str, Any]) -> str:
    return " ".join((product["name"], product["sku"], product["short_description"])).casefold()


def variation_name(attributes: list[dict[str, Any]]) -> str:
    """A variation's own name: its options, as the store names it ("S", "S, Red")."""
    return ", ".join(str(a["option"]) for a in attributes)


def variation_links(parent_id: int, variation_id: int) -> dict[str, Any]:
    return {
        "self": [{"href": f"{API}/products/{parent_id}/variations/{variation_id}",
                  "targetHints": {"allow": ALL_METHODS}}],
        "collection": [{"href": f"{API}/products/{parent_id}/variations"}],
        "up": [{"href": f"{API}/products/{parent_id}"}],
    }


def refund_links(order_id: int, refund_id: int) -> dict[str, Any]:
    return {
        "self": [{"href": f"{API}/orders/{order_id}/refunds/{refund_id}",
                  "targetHints": {"allow": ["GET", "DELETE"]}}],
        "collection": [{"href": f"{API}/orders/{order_id}/refunds"}],
        "up": [{"href": f"{API}/orders/{order_id}"}],
    }
