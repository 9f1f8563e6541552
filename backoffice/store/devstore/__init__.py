"""The dev store: a small web store speaking the WooCommerce REST API v3 on this machine.

    from backoffice.store.devstore import DevStore

    with DevStore(seed=1) as store:          # serving on a free loopback port
        store.populate(customers=50, orders=200, products=20)
        print(store.api_url, store.consumer_key, store.consumer_secret)
        store.faults.rate_limit_next(2, retry_after=1)

What a client sees (details in `api`, fault switches in `faults`):

- `/wp-json/wc/v3/{orders,customers,products}` with list, create, read, update and
  delete, and `/orders/batch`, `/customers/batch`. HTTP Basic with the consumer key and
  secret, or `consumer_key`/`consumer_secret` query parameters. HTTP/1.1 keep-alive.
- Answers shaped like the recorded WooCommerce 10.0.2 ones: money as strings with two
  decimals, a line item's `price` a float, `number` a string, WordPress JSON (escaped
  slashes), `X-WP-Total`, `X-WP-TotalPages`, `Link` prev/next, WordPress error bodies.
- Quirks kept: orders past the last page answer `[]` with totals 0; dates have whole
  seconds and `modified_after` excludes its bound; customers ignore `modified_after`
  and list `role=customer` unless `role=all`; an update that changes only an order's
  `meta_data` leaves `date_modified` alone; JSON numbers are refused where a string is
  declared (send money as "5.00").
- Finding an order by a reference kept in its meta (the back office uses
  `_backoffice_ref`): `GET /orders?meta_key=_backoffice_ref&meta_value=REF` (exact,
  indexed) or `GET /orders?search=REF` (search also matches meta values exactly). Both
  are dev store extensions: do not count on either from a stock store.
- `payment_url` leads to a working order-pay page with a "Pay with test gateway" button
  (no card fields); `store.mark_paid(order_id)` does the same from code.
- Refunds: `GET/POST /orders/{id}/refunds` (amount, reason, line items, meta data kept).
  As on a stock store `api_refund` is true unless sent false, and then only a gateway
  that pays back by itself is accepted; a refusal is HTTP 500
  `woocommerce_rest_cannot_create_order_refund`, nothing saved.
- Order notes, and the order actions that email the customer
  (`POST /orders/{id}/actions/send_order_details`, `send_email`, `GET .../email_templates`).
  Nothing is mailed: `store.sent_emails()` lists what was "sent" (to, order, template,
  when, pay link) and `store.email_listeners` hear of each one. `store.order_actions =
  False` answers those routes as a store older than WooCommerce 9.5 does (no route).
"""

from .faults import Faults
from .mail import SentEmail
from .rest_errors import RestError
from .seed import PopulateResult
from .store import DevStore, LoggedRequest

__all__ = ["DevStore", "Faults", "LoggedRequest", "PopulateResult", "RestError", "SentEmail"]
