"""The web store connector interface: what the sync may ask of any web store."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from backoffice.errors import NotFound, StoreError

#: A record exactly as the store sent it (decoded JSON object).
Record = dict[str, Any]

#: The `meta_data` key that carries the back office's reference on every order it creates.
ORDER_REFERENCE_META_KEY = "_backoffice_ref"


@dataclass(frozen=True, repr=False)
class StoreCredentials:
    """Where the web store lives and the API keys that open it."""

    base_url: str
    consumer_key: str
    consumer_secret: str

    def __repr__(self) -> str:
        # Keys are secrets: never show them, not even in part.
        return f"StoreCredentials(base_url={self.base_url!r}, consumer_key=<hidden>, consumer_secret=<hidden>)"

    __str__ = __repr__


class Page(list):
    """One page of records as received (a plain list), with the store's counts for progress.

    `total` and `total_pages` come from the store's headers of this very page and are
    None when the store did not send them.
    """

    __slots__ = ("number", "total", "total_pages", "body", "reader")

    def __init__(
        self,
        records: Iterable[Record] = (),
        *,
        number: int = 1,
        total: int | None = None,
        total_pages: int | None = None,
    ) -> None:
        super().__init__(records)
        self.number = number
        self.total = total
        self.total_pages = total_pages
        #: The answer's JSON when decoding it again gives these very records (orjson read
        #: it), else None: a page handed to another process travels as these bytes.
        self.body: bytes | None = None
        #: For a page read undecoded (`raw`): what decodes it (or reads it again when its
        #: body turns out short or broken), giving the page with its records.
        self.reader: Callable[[], Page] | None = None

    @property
    def raw(self) -> bool:
        """Whether the page came undecoded: no records yet, only `body` (see `decoded`)."""
        return self.reader is not None

    def decoded(self) -> Page:
        """The page with its records: this one, or for a `raw` page the records of its body
        (read again from the store, as any unreadable page is, when the body is short or broken)."""
        return self if self.reader is None else self.reader()

    def __repr__(self) -> str:
        if self.reader is not None:
            return f"Page(number={self.number}, raw, total={self.total}, total_pages={self.total_pages})"
        return f"Page(number={self.number}, records={len(self)}, total={self.total}, total_pages={self.total_pages})"


def page_problem(data: Any, number: int, per_page: int, total: int | None, total_pages: int | None) -> str | None:
    """Why a decoded page of a listing cannot be what the store sent, or None: it is not a
    list, or holds fewer records than the store's counts (from the same query) say."""
    if not isinstance(data, list):
        return f"expected a JSON list, got {type(data).__name__}"
    if total is not None and total_pages is not None and number <= total_pages:
        expected = per_page if number < total_pages else total - (number - 1) * per_page
        if len(data) < expected:
            return f"page {number} held {len(data)} records where the store counted {expected}"
    return None


@dataclass(frozen=True)
class CreateResult:
    """The store's record after a create, and whether this call created it.

    `created` is False when the store already had it (a customer with that email),
    so no welcome mail went out from this call; None when an answer was lost and the
    record was found afterwards, so it is not known which call made it.
    """

    record: Record
    created: bool | None


@dataclass(frozen=True)
class PingResult:
    """The answer to a connection check."""

    orders_total: int | None
    seconds: float


class CancelToken(Protocol):
    """Anything with `is_cancelled()`; a `threading.Event` is accepted as well."""

    def is_cancelled(self) -> bool: ...


Cancel = CancelToken | threading.Event | None


class AmbiguousWriteError(StoreError):
    """A create was sent but the answer was lost, so it may or may not exist on the store.

    Do not send it again blindly: look for `reference` on the store first
    (`find_order_by_reference`), and give a request that is still running on the
    store a little time before concluding it is not there.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        reference: str | None = None,
        status: int | None = None,
        code: str | None = "ambiguous_write",
        details: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, retryable=True, details=details)
        self.method = method
        self.path = path
        self.reference = reference


class StoreNotFoundError(StoreError, NotFound):
    """The store has no such record (any more)."""


class StoreAuthError(StoreError):
    """The store refused the API keys or their permissions; only a person can fix this."""


class StoreReadOnlyError(StoreError):
    """The store's API keys may read but not write. Reads go on; every write waits for a
    person to give the keys Read/Write permission."""


class StorePermissionError(StoreError):
    """The store did not allow this one change (its message says why, such as an
    administrator's email the keys may not change); other changes are not affected."""


class StoreFeatureMissingError(StoreError):
    """The store has no such endpoint (`rest_no_route`): it is too old for what was asked.

    Sending again does not help until the store is upgraded.
    """


@runtime_checkable
class StoreConnector(Protocol):
    """What the sync may ask of a web store.

    Records are plain dicts exactly as the store sent them; the sync maps them.
    Every method raises `StoreError` (or a subclass above) with a sentence for people,
    and `Cancelled` when the cancel token fires between pages. A connector whose
    `undecoded_pages` is true also takes `undecoded_ahead=` on `iter_pages` and
    `iter_orders`, and may then yield pages without their records (`Page.raw`): code
    that reads or rebuilds such a page calls `Page.decoded()` first.
    """

    def iter_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, per_page: int = 100, cancel: Cancel = None
    ) -> Iterator[Page]:
        """Yield the pages of any list endpoint, one request per page."""
        ...

    def iter_products(self, modified_after: datetime | None = None, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of products, oldest id first."""
        ...

    def iter_trashed_products(self, modified_after: datetime | None = None, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of products in the store's trash changed after `modified_after`."""
        ...

    def iter_variations(self, parent_id: int, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of a variable product's variations."""
        ...

    def iter_product_ids(self, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of the ids of every product outside the trash."""
        ...

    def iter_orders(self, modified_after: datetime | None = None, *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of orders, oldest id first."""
        ...

    def iter_trashed_orders(
        self, modified_after: datetime | None = None, *, ids: Iterable[int] | None = None, cancel: Cancel = None
    ) -> Iterator[Page]:
        """Yield pages of the orders deleted (trashed) on the store, oldest id first: `id`,
        `status` and `date_modified_gmt` of each, optionally only of these ids."""
        ...

    def iter_customers(self, role: str = "all", *, cancel: Cancel = None) -> Iterator[Page]:
        """Yield pages of customers, oldest id first."""
        ...

    def get_order(self, order_id: int) -> Record:
        """Return one order."""
        ...

    def get_customer(self, customer_id: int) -> Record:
        """Return one customer."""
        ...

    def get_customers(self, ids: Iterable[int]) -> list[Record]:
        """Return the customers with these ids that exist."""
        ...

    def find_order_by_reference(self, reference: str, *, modified_after: datetime | None = None) -> Record | None:
        """Return the order carrying this back office reference, or None."""
        ...

    def find_customer_by_email(self, email: str) -> Record | None:
        """Return the customer with this email, or None."""
        ...

    def create_order(self, payload: Mapping[str, Any], *, reference: str | None = None) -> CreateResult:
        """Create an order carrying a back office reference."""
        ...

    def create_refund(self, order_id: int, payload: Mapping[str, Any], *, reference: str) -> Record:
        """Record a refund of an order carrying `reference`, paying nothing back through the gateway."""
        ...

    def find_refund_by_reference(self, order_id: int, reference: str) -> Record | None:
        """The order's refund that carries `reference`, or None."""
        ...

    def update_order(self, order_id: int, payload: Mapping[str, Any]) -> Record:
        """Change an order; the payload sets values and is safe to send twice."""
        ...

    def delete_order(self, order_id: int, *, force: bool = True) -> Record | None:
        """Delete an order for good (or trash it); None when the store has no such order."""
        ...

    def send_order_details(self, order_id: int) -> Record:
        """Have the store email the order's details (with its pay link while unpaid) to its billing email.

        Not safe to send twice blindly: after `AmbiguousWriteError`, look for the note the
        store adds (`get_order_notes`). Raises `StoreFeatureMissingError` when the store
        is too old to do it.
        """
        ...

    def get_order_notes(self, order_id: int) -> list[Record]:
        """Return an order's notes, newest first."""
        ...

    def payment_gateways(self) -> list[Record]:
        """The store's payment gateways (the ids its orders may name)."""
        ...

    def add_order_note(self, order_id: int, note: str, *, customer_note: bool = False) -> Record:
        """Add a note to an order (a customer note is shown to the customer and emailed)."""
        ...

    def delete_order_note(self, order_id: int, note_id: int) -> Record | None:
        """Delete an order's note for good; None when the store had no such note."""
        ...

    def create_customer(self, payload: Mapping[str, Any]) -> CreateResult:
        """Create a customer, or return the one that already has this email."""
        ...

    def update_customer(self, customer_id: int, payload: Mapping[str, Any]) -> Record:
        """Change a customer."""
        ...

    def delete_customer(self, customer_id: int) -> Record | None:
        """Delete a customer for good; None when the store had no such customer."""
        ...


    def ping(self) -> PingResult:
        """Check that the store answers and accepts the keys."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
