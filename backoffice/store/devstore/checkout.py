"""The dev store's order-pay page: a customer pays a pending order with a test gateway.

It asks for nothing: no card number, no name, no address. The form carries only the
order key; any other field posted is ignored and never stored or logged.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .rest_errors import RestError

PAY_RE = re.compile(r"^/checkout/order-pay/(\d+)/?$")
RECEIVED_RE = re.compile(r"^/checkout/order-received/(\d+)/?$")

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}"
    "td.n,th.n{text-align:right}.notice{padding:.8rem;background:#fbeaea;border-left:4px solid #b32d2e}"
    ".done{padding:.8rem;background:#edfaef;border-left:4px solid #00a32a}"
    "button{font-size:1rem;padding:.6rem 1.2rem;margin-top:1rem}"
)


@dataclass
class Page:
    """An HTML answer (or a redirect when `location` is set)."""

    status: int
    html: str
    location: str | None = None


def _page(title: str, content: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)} – Dev store</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{content}</body></html>\n"
    )


def _summary(order: dict[str, Any]) -> str:
    symbol = html.escape(order["currency_symbol"])
    rows = "".join(
        f"<tr><td>{html.escape(str(item['name']))}</td><td class=n>{item['quantity']}</td>"
        f"<td class=n>{symbol}{html.escape(item['total'])}</td></tr>"
        for item in order["line_items"]
    )
    rows += "".join(
        f"<tr><td>{html.escape(line['method_title'])}</td><td></td>"
        f"<td class=n>{symbol}{html.escape(line['total'])}</td></tr>"
        for line in order["shipping_lines"]
    )
    return (
        f"<p>Order number: <strong>{html.escape(order['number'])}</strong></p>"
        "<table><tr><th>Product</th><th class=n>Qty</th><th class=n>Total</th></tr>"
        f"{rows}<tr><th>Total</th><th></th><th class=n>{symbol}{html.escape(order['total'])}</th></tr></table>"
    )


def _invalid() -> Page:
    notice = "<p class=notice>Sorry, this order is invalid and cannot be paid for.</p>"
    return Page(200, _page("Pay for order", notice))


def handle(method: str, path: str, query: str, body: bytes, *, get_order: Callable[[int], dict[str, Any] | None],
           pay: Callable[[int, str], dict[str, Any]]) -> Page | None:
    """Answer a request under /checkout/, or None when no page lives there."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    received = RECEIVED_RE.match(path)
    if received and method == "GET":
        order = get_order(int(received.group(1)))
        if order is None or params.get("key") != order["order_key"]:
            return _invalid()
        done = "<p class=done>Thank you. Your order has been received.</p>"
        method_line = f"<p>Payment method: {html.escape(order['payment_method_title'])}</p>"
        return Page(200, _page("Order received", done + _summary(order) + method_line))
    match = PAY_RE.match(path)
    if not match or method not in ("GET", "POST"):
        return None
    order_id = int(match.group(1))
    order = get_order(order_id)
    key = params.get("key", "")
    if method == "POST":
        # Only the order key is read from the form; nothing else posted is looked at.
        key = dict(parse_qsl(body.decode("utf-8", "replace"))).get("key", key)
    if order is None or not key or key != order["order_key"]:
        return _invalid()
    if not order["needs_payment"]:
        status = order["status"].replace("-", " ").capitalize()
        notice = (f"<p class=notice>This order’s status is “{html.escape(status)}”—it cannot be paid for. "
                  "Please contact us if you need assistance.</p>")
        return Page(200, _page("Pay for order", notice + _summary(order)))
    if method == "POST":
        try:
            pay(order_id, "devpay_" + secrets.token_hex(8))
        except RestError:
            return _invalid()
        return Page(302, "", location=f"/checkout/order-received/{order_id}/?key={order['order_key']}")
    form = (
        f"<form method=post action=\"/checkout/order-pay/{order_id}/?pay_for_order=true&amp;key="
        f"{html.escape(order['order_key'])}\"><input type=hidden name=key value=\"{html.escape(order['order_key'])}\">"
        "<p>This is a development store: no money moves and no card details are asked for.</p>"
        "<button type=submit name=woocommerce_pay value=1>Pay with test gateway</button></form>"
    )
    return Page(200, _page("Pay for order", _summary(order) + form))
