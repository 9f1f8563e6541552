"""Errors the dev store answers with, shaped like WordPress REST errors."""

from __future__ import annotations

from typing import Any

from .wire import dumps


class RestError(Exception):
    """An error body `{"code", "message", "data": {"status", ...}}` with its HTTP status."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> dict[str, Any]:
        """The error as the JSON object the store sends."""
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}

    def text(self) -> str:
        """The error as JSON text."""
        return dumps(self.body())


def no_route() -> RestError:
    return RestError("rest_no_route", "No route was found matching the URL and request method.", 404)


def invalid_json() -> RestError:
    return RestError(
        "rest_invalid_json",
        "Invalid JSON body passed.",
        400,
        json_error_code=4,
        json_error_message="Syntax error",
    )


def invalid_params(problems: dict[str, tuple[str, str]]) -> RestError:
    """`problems` maps a parameter to (error code, message), as WordPress reports them."""
    names = ", ".join(problems)
    return RestError(
        "rest_invalid_param",
        f"Invalid parameter(s): {names}",
        400,
        params={name: message for name, (_, message) in problems.items()},
        details={name: {"code": code, "message": message, "data": None} for name, (code, message) in problems.items()},
    )


def missing_params(names: list[str]) -> RestError:
    return RestError("rest_missing_callback_param", f"Missing parameter(s): {', '.join(names)}", 400, params=names)


def one_of(values: list[str]) -> str:
    """WordPress's list wording: "a, b, and c" / "a and b"."""
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return f"{values[0]} and {values[1]}"
    return ", ".join(values[:-1]) + ", and " + values[-1]


def order_invalid_id(status: int = 404) -> RestError:
    return RestError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", status)


def product_invalid_id(status: int = 404) -> RestError:
    return RestError("woocommerce_rest_product_invalid_id", "Invalid ID.", status)


def user_invalid_id() -> RestError:
    return RestError("wc_user_invalid_id", "Invalid user ID.", 404)
