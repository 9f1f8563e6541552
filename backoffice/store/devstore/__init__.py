"""The dev store: a small web store speaking the WooCommerce REST API v3 on this machine.

    from backoffice.store.devstore import DevStore

    with DevStore(seed=1) as store:          # serving on a free loopback port
        store.populate(customers=50, orders=200, products=20)
        print(store.api_url, store.consumer_key, store.consumer_secret)
        store.faults.rate_limit_next(2, retry_after=1)

See `api` for the quirks it reproduces and `faults` for the switches.
"""

from .faults import Faults
from .rest_errors import RestError
from .seed import PopulateResult
from .store import DevStore, LoggedRequest

__all__ = ["DevStore", "Faults", "LoggedRequest", "PopulateResult", "RestError"]
