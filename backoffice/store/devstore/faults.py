"""Switches that make the dev store misbehave on purpose, the way real stores and networks do.

Each `*_next(n)` switch arms a fault for the next `n` API requests it applies to (requests
to `/wp-json/...`; the order-pay page is never faulted). A request consumes at most one
fault, checked in this order:

Before the request is handled (nothing is read or written):
  1. `drop_next`: the connection is closed without an answer.
  2. `rate_limit_next`: 429 with a `Retry-After` header.
  3. `fail_next`: the given status (500: WordPress's "critical error" JSON; 502, 503, 504:
     a proxy's HTML page; other codes: a JSON error body).
  4. `html_page_next`: the given status (200 unless told) with a web page instead of JSON,
     as a security or maintenance plugin in front of the REST API answers.

After the request is handled (writes are committed):
  5. `drop_after_commit_next`: write requests only (POST, PUT, PATCH, DELETE): the change
     is committed, then the connection is closed without an answer.
  6. `cut_body_next`: headers promise the whole body (Content-Length), half of it is
     sent, then the connection is closed.
  7. `malformed_json_next`: 200 (or whatever the status was) with a PHP notice printed
     before the JSON, as a noisy plugin does; Content-Length matches the broken body.
  8. `truncate_next`: list requests (GET of a collection with at least one item) only:
     the page holds fewer items than `X-WP-Total` and `per_page` promise; headers are
     unchanged and the JSON is well formed.

`latency_ms` delays every API request by that many milliseconds before anything else.

`limit_to(text)` keeps armed faults for requests whose path contains `text` (for example
"/actions/" to fault only the order actions); other requests pass untouched.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

PRE_FAULTS = ("drop", "rate_limit", "fail", "html_page")
POST_FAULTS = ("drop_after_commit", "cut_body", "malformed_json", "truncate")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Fault:
    """One armed fault taken by a request."""

    name: str
    status: int = 0
    retry_after: int = 0


@dataclass(frozen=True)
class FaultRecord:
    """A fault that happened: which, to which request."""

    name: str
    method: str
    path: str


class Faults:
    """The dev store's fault switches. Thread-safe; settable while the store serves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency_ms: float = 0
        self._pending: dict[str, int] = {}
        self._fail_status = 500
        self._html_status = 200
        self._retry_after = 1
        self._history: list[FaultRecord] = []
        self._scope: str | None = None

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` API requests with `status` without handling them."""
        with self._lock:
            self._arm("fail", n)
            self._fail_status = status

    def html_page_next(self, n: int = 1, status: int = 200) -> None:
        """Answer the next `n` requests with a plugin's web page (with this status) instead of JSON."""
        with self._lock:
            self._html_status = status
            self._arm("html_page", n)

    def rate_limit_next(self, n: int = 1, retry_after: int = 1) -> None:
        """Answer the next `n` API requests with 429 and `Retry-After: retry_after`."""
        with self._lock:
            self._arm("rate_limit", n)
            self._retry_after = retry_after

    def drop_next(self, n: int = 1) -> None:
        """Close the connection of the next `n` API requests without handling them."""
        with self._lock:
            self._arm("drop", n)

    def drop_after_commit_next(self, n: int = 1) -> None:
        """Commit the next `n` writes, then close the connection without answering."""
        with self._lock:
            self._arm("drop_after_commit", n)

    def cut_body_next(self, n: int = 1) -> None:
        """Send half of the next `n` response bodies, then close the connection."""
        with self._lock:
            self._arm("cut_body", n)

    def malformed_json_next(self, n: int = 1) -> None:
        """Prefix the next `n` response bodies with a PHP notice, breaking the JSON."""
        with self._lock:
            self._arm("malformed_json", n)

    def truncate_next(self, n: int = 1) -> None:
        """Leave items out of the next `n` list pages while keeping the paging headers."""
        with self._lock:
            self._arm("truncate", n)

    def limit_to(self, path_part: str | None) -> None:
        """Let only requests whose path contains `path_part` meet armed faults (None: all requests)."""
        with self._lock:
            self._scope = path_part or None

    def reset(self) -> None:
        """Disarm every fault, remove the latency and the path limit (the history stays)."""
        with self._lock:
            self._pending.clear()
            self.latency_ms = 0
            self._fail_status = 500
            self._html_status = 200
            self._retry_after = 1
            self._scope = None

    @property
    def pending(self) -> dict[str, int]:
        """How many of each fault are still armed."""
        with self._lock:
            return {name: n for name, n in self._pending.items() if n > 0}

    @property
    def history(self) -> list[FaultRecord]:
        """Every fault that happened, oldest first."""
        with self._lock:
            return list(self._history)

    def _arm(self, name: str, n: int) -> None:
        if n < 0:
            raise ValueError("n must not be negative")
        self._pending[name] = n

    def take_before(self, method: str, path: str) -> Fault | None:
        """The fault a request meets before it is handled, if one is armed."""
        with self._lock:
            if self._scope is not None and self._scope not in path:
                return None
            for name in PRE_FAULTS:
                if self._pending.get(name, 0) > 0:
                    self._pending[name] -= 1
                    self._history.append(FaultRecord(name, method, path))
                    status = self._html_status if name == "html_page" else self._fail_status
                    return Fault(name, status=status, retry_after=self._retry_after)
        return None

    def take_after(self, method: str, path: str, *, is_page: bool) -> Fault | None:
        """The fault a handled request meets on its way out, if one applies to it."""
        with self._lock:
            if self._scope is not None and self._scope not in path:
                return None
            for name in POST_FAULTS:
                if self._pending.get(name, 0) <= 0:
                    continue
                if name == "drop_after_commit" and method not in WRITE_METHODS:
                    continue
                if name == "truncate" and not is_page:
                    continue
                self._pending[name] -= 1
                self._history.append(FaultRecord(name, method, path))
                return Fault(name)
        return None
