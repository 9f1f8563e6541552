"""Request validation as WordPress does it: types, enums, e-mail format, with its messages.

WordPress is strict about JSON types: a money field declared as a string refuses a JSON
number ("line_items[0][total] is not of type string."), and the dev store does the same.
Integers and booleans may arrive as strings ("2", "true") and are converted.
"""

from __future__ import annotations

import re
from typing import Any

from .documents import ORDER_STATUSES
from .rest_errors import RestError, invalid_params, one_of

Schema = dict[str, Any]

_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_TRUE = ("true", "1")
_FALSE = ("false", "0", "")


class Invalid(Exception):
    """One value failed validation: WordPress's error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_email(value: str) -> bool:
    return bool(_EMAIL_RE.match(value)) and len(value) <= 254


def coerce(name: str, value: Any, schema: Schema) -> Any:
    """Check one value against its schema; return it converted, or raise Invalid."""
    types = schema.get("type", "mixed")
    types = types if isinstance(types, list) else [types]
    if "mixed" in types:
        return value
    if value is None and "null" in types:
        return None
    last: Invalid | None = None
    for kind in types:
        if kind == "null":
            continue
        try:
            value = _coerce_type(name, value, kind, schema)
            break
        except Invalid as exc:
            last = exc
    else:
        if len(types) > 1:
            raise Invalid("rest_invalid_type", f"{name} is not of type {','.join(types)}.")
        assert last is not None
        raise last
    if "enum" in schema and value not in schema["enum"]:
        raise Invalid("rest_not_in_enum", f"{name} is not one of {one_of(list(schema['enum']))}.")
    if schema.get("format") == "email" and isinstance(value, str) and value and not is_email(value):
        raise Invalid("rest_invalid_email", "Invalid email address.")
    return value


def _coerce_type(name: str, value: Any, kind: str, schema: Schema) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            raise Invalid("rest_invalid_type", f"{name} is not of type string.")
        return value
    if kind == "integer":
        if isinstance(value, bool):
            raise Invalid("rest_invalid_type", f"{name} is not of type integer.")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+(\.0*)?\s*", value):
            return int(float(value))
        raise Invalid("rest_invalid_type", f"{name} is not of type integer.")
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise Invalid("rest_invalid_type", f"{name} is not of type number.")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
            return value.lower() in _TRUE
        raise Invalid("rest_invalid_type", f"{name} is not of type boolean.")
    if kind == "object":
        if not isinstance(value, dict):
            raise Invalid("rest_invalid_type", f"{name} is not of type object.")
        props = schema.get("properties", {})
        out = dict(value)
        for key, sub in props.items():
            if key in value:
                out[key] = coerce(f"{name}[{key}]", value[key], sub)
        return out
    if kind == "array":
        if isinstance(value, dict) and all(k.isdigit() for k in value):
            value = [value[k] for k in sorted(value, key=int)]
        if not isinstance(value, list):
            raise Invalid("rest_invalid_type", f"{name} is not of type array.")
        items = schema.get("items")
        if items is None:
            return list(value)
        return [coerce(f"{name}[{i}]", item, items) for i, item in enumerate(value)]
    raise AssertionError(f"unknown schema type {kind}")


def validate(payload: Any, properties: dict[str, Schema], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate a request body; raise the RestError WordPress would answer with."""
    if not isinstance(payload, dict):
        payload = {}
    missing = [name for name in required if payload.get(name) in (None, "")]
    if missing:
        raise RestError(
            "rest_missing_callback_param", f"Missing parameter(s): {', '.join(missing)}", 400, params=missing
        )
    out = dict(payload)
    problems: dict[str, tuple[str, str]] = {}
    for name, schema in properties.items():
        if name in payload:
            try:
                out[name] = coerce(name, payload[name], schema)
            except Invalid as exc:
                problems[name] = (exc.code, exc.message)
    if problems:
        raise invalid_params(problems)
    return out


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
META_DATA: Schema = {
    "type": "array",
    "items": {"type": "object", "properties": {"id": INTEGER, "key": STRING, "value": {"type": "mixed"}}},
}


def _address(with_email: bool) -> Schema:
    keys = ["first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country",
            "phone"]
    props: dict[str, Schema] = {key: STRING for key in keys}
    if with_email:
        props["email"] = {"type": ["string", "null"], "format": "email"}
    return {"type": "object", "properties": props}


ORDER_STATUS_ENUM = ["auto-draft", *ORDER_STATUSES]

ORDER_PROPERTIES: dict[str, Schema] = {
    "parent_id": INTEGER,
    "status": {"type": "string", "enum": ORDER_STATUS_ENUM},
    "currency": STRING,
    "customer_id": INTEGER,
    "customer_note": STRING,
    "billing": _address(True),
    "shipping": _address(False),
    "payment_method": STRING,
    "payment_method_title": STRING,
    "transaction_id": STRING,
    "meta_data": META_DATA,
    "line_items": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": INTEGER,
                "name": {"type": ["mixed"]},
                "product_id": {"type": ["integer", "null"]},
                "variation_id": {"type": ["integer", "null"]},
                "quantity": INTEGER,
                "tax_class": STRING,
                "subtotal": STRING,
                "total": STRING,
                "sku": STRING,
                "meta_data": META_DATA,
            },
        },
    },
    "shipping_lines": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": INTEGER,
                "method_title": {"type": ["string", "null"]},
                "method_id": {"type": ["string", "null"]},
                "instance_id": STRING,
                "total": STRING,
                "meta_data": META_DATA,
            },
        },
    },
    "fee_lines": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": INTEGER,
                "name": {"type": ["string", "null"]},
                "tax_class": STRING,
                "tax_status": {"type": "string", "enum": ["taxable", "none"]},
                "total": STRING,
                "meta_data": META_DATA,
            },
        },
    },
    "coupon_lines": {
        "type": "array",
        "items": {"type": "object", "properties": {"id": INTEGER, "code": {"type": ["mixed"]}}},
    },
    "set_paid": BOOLEAN,
}

CUSTOMER_PROPERTIES: dict[str, Schema] = {
    "email": {"type": "string", "format": "email"},
    "first_name": STRING,
    "last_name": STRING,
    "username": STRING,
    "password": STRING,
    "billing": _address(True),
    "shipping": _address(False),
    "meta_data": META_DATA,
}

PRODUCT_PROPERTIES: dict[str, Schema] = {
    "name": STRING,
    "slug": STRING,
    "type": {"type": "string", "enum": ["simple", "grouped", "external", "variable"]},
    "status": {"type": "string", "enum": ["draft", "pending", "private", "publish", "future"]},
    "featured": BOOLEAN,
    "description": STRING,
    "short_description": STRING,
    "sku": STRING,
    "regular_price": STRING,
    "sale_price": STRING,
    "manage_stock": BOOLEAN,
    "stock_quantity": {"type": ["integer", "null"]},
    "backorders": {"type": "string", "enum": ["no", "notify", "yes"]},
    "weight": STRING,
    "categories": {"type": "array", "items": {"type": "object", "properties": {"id": INTEGER}}},
    "meta_data": META_DATA,
}

VARIATION_PROPERTIES: dict[str, Schema] = {
    "sku": STRING,
    "regular_price": STRING,
    "sale_price": STRING,
    "status": {"type": "string", "enum": ["draft", "pending", "private", "publish"]},
    "manage_stock": BOOLEAN,
    "stock_quantity": {"type": ["integer", "null"]},
    "backorders": {"type": "string", "enum": ["no", "notify", "yes"]},
    "attributes": {"type": "array", "items": {"type": "object", "properties": {
        "id": INTEGER, "name": STRING, "option": STRING}}},
    "meta_data": META_DATA,
}
