"""HTTP for web store connectors: one keep-alive session, retries, paging and error sentences."""

from __future__ import annotations

import html
import ipaddress
import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from backoffice.errors import Cancelled, StoreError, ValidationError, check_cancel
from backoffice.store.connector import (
    AmbiguousWriteError,
    Cancel,
    Page,
    StoreAuthError,
    StoreNotFoundError,
    StorePermissionError,
    StoreReadOnlyError,
    page_problem,
)

log = logging.getLogger(__name__)

#: Called after every HTTP exchange with (method, path, status or None, seconds).
RequestHook = Callable[[str, str, int | None, float], None]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

#: How often a response that could not be read is fetched again before giving up.
UNREADABLE_RETRIES = 2

#: The most records a WooCommerce list endpoint returns per page.
MAX_PER_PAGE = 100

_SECRET_PARAMS = frozenset({"consumer_key", "consumer_secret", "oauth_consumer_key", "oauth_signature"})
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")

KEYS_REFUSED = "The web store refused the shop's API keys. Check the consumer key and secret in Shop settings → Web store."


#: Refusals of one record's change (the keys may not edit, create or delete this one), not of the keys.
_RECORD_REFUSALS = frozenset({"woocommerce_rest_cannot_edit", "woocommerce_rest_cannot_create",
                              "woocommerce_rest_cannot_delete"})
#: How the store words a refusal of anyone the keys do not let in (wrong keys): not about one record.
_ANYONE_REFUSED = ("sorry, you cannot", "sorry, you are not allowed")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _looks_html(response: requests.Response) -> bool:
    """Whether the store answered with a web page (a plugin's, a firewall's) rather than JSON."""
    kind = (response.headers.get("Content-Type") or "").lower()
    head = response.content[:200].lstrip().lower()
    return "text/html" in kind or head.startswith((b"<!doctype html", b"<html"))


def _page_title(response: requests.Response, lead: str = ", ") -> str:
    match = _TITLE.search(response.content[:4000].decode("utf-8", "replace"))
    title = _clean_store_message(match.group(1))[:80] if match else ""
    if not title:
        return ""
    return f"{lead}“{title}”" + (")" if lead.endswith("(") else "")


#: Refusals a WooCommerce store sends as HTTP 500 though it saved nothing (a refund it
#: would not make: an amount above what is left, a gateway that cannot pay back).
REFUSED_WITH_SERVER_ERROR = frozenset({"woocommerce_rest_cannot_create_order_refund"})


@dataclass(frozen=True, slots=True)
class Operation:
    """What a request is for, worded for error sentences.

    `action` completes "could not ...", e.g. "read orders"; `noun` names the record,
    e.g. "order 12", or the list, e.g. "orders".
    """

    action: str
    noun: str


class Reply(NamedTuple):
    """A successful answer: status, headers and the decoded body."""

    status: int
    headers: Mapping[str, str]
    data: Any


class Unreadable(Exception):
    """A body that decoded but is not what the store should have sent (internal)."""


def is_loopback_host(host: str) -> bool:
    """Tell whether a host name is this computer (127.0.0.0/8, ::1 or localhost)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_store_url(base_url: str) -> str:
    """Return the store address without a trailing slash, or raise `ValidationError`.

    Plain http:// is refused unless the store runs on this computer, so keys and
    customers' data always travel encrypted (promise P15).
    """
    text = (base_url or "").strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        message = "The web store address must be a full address such as https://shop.example.com."
        raise ValidationError(message, fields={"base_url": message})
    if parts.username or parts.password:
        message = "The web store address must not contain a user name or password; the API keys go in their own fields."
        raise ValidationError(message, fields={"base_url": message})
    if scheme == "http" and not is_loopback_host(host):
        message = (
            f"The web store address must start with https:// so that the API keys and customers' data "
            f"travel encrypted; plain http:// is only allowed for a store on this computer, not {host}."
        )
        raise ValidationError(message, fields={"base_url": message})
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the seconds a `Retry-After` header asks to wait (seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def _certainly_not_sent(exc: requests.RequestException) -> bool:
    """Tell whether the request failed before any byte of it could reach the store."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        cause = exc.args[0]
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        return isinstance(cause, (NewConnectionError, ConnectTimeoutError))
    return False


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _clean_store_message(text: Any) -> str:
    """Turn a store's message (which may hold HTML) into one short plain sentence."""
    if not isinstance(text, str):
        return ""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub("", text))).strip()
    if len(text) > 300:
        text = text[:297].rstrip() + "..."
    return text


_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x78 for b in range(256))
_LONG_NUMBER = b"0" * 19


def decode_json(response: requests.Response) -> Any:
    """The decoded body of a JSON answer, the same as `response.json()` gives, faster.

    orjson reads a page of a hundred orders two to three times faster than the standard
    library, which matters on the sync's page reader. It reads integers beyond 64 bits
    as floats (the standard library keeps them whole) and refuses what the standard
    library still takes (lone surrogates, NaN, huge exponents); a body declared in
    another encoding than UTF-8, one holding 19 digits in a row, or one orjson refuses
    takes the standard library's road, so the result is always the same. Raises
    ValueError for a body that is not JSON.
    """
    return _decode(response)[0]


def _orjson_exact(response: requests.Response) -> bool:
    """Whether `orjson.loads` of the body gives what the standard library would (see `decode_json`)."""
    encoding = (response.encoding or "utf-8").lower().replace("-", "").replace("_", "")
    return encoding == "utf8" and _LONG_NUMBER not in response.content.translate(_DIGITS_ONLY)


def _decode(response: requests.Response) -> tuple[Any, bool]:
    """`decode_json`, and whether orjson read the body (so `orjson.loads(body)` gives the same)."""
    if _orjson_exact(response):
        try:
            return orjson.loads(response.content), True
        except orjson.JSONDecodeError:
            pass
    return response.json(), False


def _page_checker(page: int, per_page: int) -> Callable[[Any, Mapping[str, str]], Page]:
    """Return a check that turns a decoded body into a `Page`, or raises `Unreadable` if it is short."""

    def check(data: Any, headers: Mapping[str, str]) -> Page:
        total = _int_header(headers, "X-WP-Total")
        total_pages = _int_header(headers, "X-WP-TotalPages")
        # Count and records come from the same query on the store, so they must agree.
        problem = page_problem(data, page, per_page, total, total_pages)
        if problem is not None:
            raise Unreadable(problem)
        return Page(data, number=page, total=total, total_pages=total_pages)

    return check


def _raw_page(page: int, per_page: int, ahead: int,
              read_again: Callable[[], Page]) -> Callable[[bytes, Mapping[str, str]], Page | None]:
    """Return what keeps an answer undecoded (a `raw` page) when the store counted at least
    `ahead` pages after it, else None (decode it as usual)."""

    def keep(body: bytes, headers: Mapping[str, str]) -> Page | None:
        total = _int_header(headers, "X-WP-Total")
        total_pages = _int_header(headers, "X-WP-TotalPages")
        if total is None or total_pages is None or total_pages - page < ahead:
            return None
        raw = Page(number=page, total=total, total_pages=total_pages)
        raw.body = body

        def decode() -> Page:
            try:
                data = orjson.loads(body)
            except orjson.JSONDecodeError:
                data = None
            if page_problem(data, page, per_page, total, total_pages) is not None:
                return read_again()  # fetched again, with the retries of any unreadable page
            records = Page(data, number=page, total=total, total_pages=total_pages)
            records.body = body
            return records

        raw.reader = decode
        return raw

    return keep


def _more_pages(records: Page, page: int, per_page: int) -> bool:
    """Whether a listing goes on after this page (the store's page count, else a full page)."""
    if records.total_pages is not None:
        return page < records.total_pages
    return len(records) >= per_page


class _Either:
    """A cancel token that fires when either of two does (a listing stopped, the person cancelled)."""

    def __init__(self, stop: threading.Event, cancel: Cancel) -> None:
        self._stop = stop
        self._cancel = cancel

    def is_cancelled(self) -> bool:
        if self._stop.is_set():
            return True
        try:
            check_cancel(self._cancel)
        except Cancelled:
            return True
        return False


def _result(future: Future, cancel: Cancel) -> Any:
    """The future's result, checking the cancel token while it is on its way."""
    while True:
        try:
            return future.result(timeout=0.2)
        except FutureTimeout:
            check_cancel(cancel)


def _store_session(url: str, *, pool_size: int) -> requests.Session:
    """A keep-alive session to the store at `url` that retries nothing itself (retries are
    decided by `StoreSession`, knowing which writes are safe to repeat).

    The environment's proxy and certificate settings (HTTPS_PROXY, NO_PROXY,
    REQUESTS_CA_BUNDLE ...) are read once, here, for the store's address: `requests` reads
    them again at every request otherwise (a tenth of the processor time of reading a page
    of a hundred orders here, more where the environment holds more variables)."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    settings = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.trust_env = False
    return session


class StoreSession:
    """One keep-alive HTTP session to a store's REST API, with retries and sentences for failures.

    Not safe to share between threads; give each worker thread its own.
    """

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        api_root: str,
        timeout: float | tuple[float, float] = (5, 30),
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_request: RequestHook | None = None,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = check_store_url(base_url)
        self.root = self.base_url + api_root
        self._auth = HTTPBasicAuth(consumer_key, consumer_secret)
        self._secrets = tuple(s for s in (consumer_secret, consumer_key) if s)
        self._timeout = timeout
        self._max_retries = max(0, int(max_retries))
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._on_request = on_request
        self._rand = rand
        self._clock = clock
        self._owns_session = session is None
        if session is None:
            session = _store_session(self.base_url, pool_size=4)
        self._session = session
        self._headers = {"Accept": "application/json", "User-Agent": "backoffice (web store sync)"}
        #: Pages of a listing asked for at once (1: one after the other). Only with the
        #: keep-alive session this object opened; each page reader gets its own.
        self.parallel_pages = 1
        self._local = threading.local()

    def close(self) -> None:
        """Close the connection pool if this object opened it."""
        if self._owns_session:
            self._session.close()

    # -- requests ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        op: Operation,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        reference: str | None = None,
        cancel: Cancel = None,
        check: Callable[[Any, Mapping[str, str]], Any] | None = None,
        page: int | None = None,
        undecoded: Callable[[bytes, Mapping[str, str]], Any] | None = None,
    ) -> Reply:
        """Send one request, retrying what is safe to retry, and return the decoded answer.

        `check` may transform the decoded body or raise `Unreadable`. `undecoded` may
        take a UTF-8 body that orjson reads exactly as it is, and give the answer without
        decoding it (None: decode as usual). Raises
        `StoreError` (or a subclass) with a sentence, `AmbiguousWriteError` when a write
        may have been applied, and `Cancelled`.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.root + path
        if params and any(str(k).lower() in _SECRET_PARAMS for k in params):
            # Keys travel in the Authorization header only, never in a URL that proxies and logs keep.
            params = {k: v for k, v in params.items() if str(k).lower() not in _SECRET_PARAMS}
        retries = 0
        unreadable = 0
        while True:
            check_cancel(cancel)
            started = time.perf_counter()
            try:
                response = (getattr(self._local, "session", None) or self._session).request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=self._headers,
                    auth=self._auth,
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                self._record(method, path, params, None, started)
                raise StoreError(
                    f"The web store's security certificate could not be verified, so the back office did not "
                    f"{op.action}. Check the store address in Shop settings → Web store.",
                    code="tls_failed",
                    details=self._scrub(str(exc)),
                ) from None
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                # The answer started but broke off: the store did receive the request.
                self._record(method, path, params, None, started)
                if not idempotent:
                    raise self._ambiguous(op, method, path, reference, None, exc) from None
                if unreadable < UNREADABLE_RETRIES:
                    unreadable += 1
                    self._pause(self._backoff(unreadable - 1), cancel)
                    continue
                raise self._unreadable(op, page, None, exc) from None
            except requests.RequestException as exc:
                self._record(method, path, params, None, started)
                if not idempotent and not _certainly_not_sent(exc):
                    raise self._ambiguous(op, method, path, reference, None, exc) from None
                if retries < self._max_retries:
                    self._pause(self._backoff(retries), cancel)
                    retries += 1
                    continue
                raise StoreError(
                    f"The web store did not answer; nothing was lost, and the back office will try again "
                    f"to {op.action} when the store is back.",
                    code="no_answer",
                    retryable=True,
                    details=self._scrub(f"{type(exc).__name__}: {exc}"),
                ) from None

            status = response.status_code
            self._record(method, path, params, status, started)

            if 200 <= status < 300:
                if undecoded is not None and response.content and _orjson_exact(response):
                    data = undecoded(response.content, response.headers)
                    if data is not None:
                        return Reply(status, response.headers, data)
                try:
                    data, exact = _decode(response) if response.content else (None, False)
                    if check is not None:
                        data = check(data, response.headers)
                        if exact and isinstance(data, Page):
                            data.body = response.content
                except (ValueError, Unreadable) as exc:
                    if not idempotent:
                        raise self._ambiguous(op, method, path, reference, status, exc) from None
                    if unreadable < UNREADABLE_RETRIES:
                        unreadable += 1
                        self._pause(self._backoff(unreadable - 1), cancel)
                        continue
                    raise self._unreadable(op, page, status, exc, response) from None
                return Reply(status, response.headers, data)

            if 300 <= status < 400:
                raise self._redirected(op, response)

            if status >= 500 and self._store_error_body(response)[0] in REFUSED_WITH_SERVER_ERROR:
                # The store checked the request and saved nothing; it only reports it as a server error.
                raise self._refused_outright(op, response)
            if status == 429 or (status >= 500 and status != 501):
                if not idempotent and status not in (429, 503):
                    # The store may have saved the record before failing.
                    raise self._ambiguous(op, method, path, reference, status, None)
                if retries < self._max_retries:
                    wait = parse_retry_after(response.headers.get("Retry-After"), self._clock())
                    if wait is None:
                        wait = self._backoff(retries)
                    elif wait > self._backoff_cap:
                        raise self._asked_to_wait(op, response, wait)
                    self._pause(wait, cancel)
                    retries += 1
                    continue
            raise self._refused(op, response)

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        op: Operation,
        *,
        per_page: int = MAX_PER_PAGE,
        cancel: Cancel = None,
        undecoded_ahead: int = 0,
    ) -> Iterator[Page]:
        """Yield each non-empty page of a list endpoint, reading `X-WP-TotalPages`, from page 1
        or from the `page` given among the params.

        A page past the end (`[]`) ends the listing quietly. A page that cannot be read
        or holds fewer records than the store counted is fetched again a couple of
        times, then raises `StoreError`. `Cancelled` is raised between pages. With
        `undecoded_ahead`, a page the store counts at least that many pages after comes
        undecoded (`Page.raw`), to be decoded by whoever uses it (another process).
        """
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        query = dict(params or {})
        query["per_page"] = per_page
        width = self.parallel_pages if self._owns_session else 1
        # A listing may go on from a later page (a "page" among the params).
        page = max(1, int(query.pop("page", 1) or 1))
        while True:
            check_cancel(cancel)
            records = self._page(path, query, op, page, per_page, cancel, undecoded_ahead)
            if not records and not records.raw:
                return
            yield records
            if not _more_pages(records, page, per_page):
                return
            page += 1
            if width > 1 and records.total_pages is not None:
                yield from self._pages_in_parallel(path, query, op, page, records.total_pages, per_page, width,
                                                   cancel, undecoded_ahead)
                return

    def _page(self, path: str, query: dict[str, Any], op: Operation, page: int, per_page: int,
              cancel: Cancel, undecoded_ahead: int = 0) -> Page:
        undecoded = None
        if undecoded_ahead > 0:
            undecoded = _raw_page(page, per_page, undecoded_ahead,
                                  lambda: self._page(path, query, op, page, per_page, cancel))
        return self.request(
            "GET", path, op, params={**query, "page": page}, cancel=cancel, check=_page_checker(page, per_page),
            page=page, undecoded=undecoded,
        ).data

    def _pages_in_parallel(self, path: str, query: dict[str, Any], op: Operation, first: int, last: int,
                           per_page: int, width: int, cancel: Cancel, undecoded_ahead: int = 0) -> Iterator[Page]:
        """Pages `first`.. of a listing, asked for `width` at a time and yielded in order.

        The store answers requests side by side, so over a slow line the listing takes
        about 1/width of the time. Each page reader has its own keep-alive session. The
        listing ends as `iter_pages` ends it (an empty page, the last page the store
        counts); a failed page raises when its turn comes; pages still on their way
        when the listing stops are dropped.
        """
        stop = threading.Event()
        watch = _Either(stop, cancel)
        sessions: list[requests.Session] = []
        lock = threading.Lock()

        def fetch(number: int) -> Page:
            if getattr(self._local, "session", None) is None:
                session = _store_session(self.base_url, pool_size=1)
                with lock:
                    sessions.append(session)
                self._local.session = session
            return self._page(path, query, op, number, per_page, watch, undecoded_ahead)

        pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="store-pages")
        waiting: deque[tuple[int, Future]] = deque()
        number = first
        try:
            while True:
                while len(waiting) < width and number <= last:
                    waiting.append((number, pool.submit(fetch, number)))
                    number += 1
                if not waiting:
                    return
                check_cancel(cancel)
                page, future = waiting.popleft()
                if page > last:
                    return  # the store now counts fewer pages
                records = _result(future, cancel)
                if not records and not records.raw:
                    return
                yield records
                if not _more_pages(records, page, per_page):
                    return
                last = records.total_pages if records.total_pages is not None else page + 1
        finally:
            stop.set()
            for _page_number, future in waiting:
                future.cancel()
            pool.shutdown(wait=True)
            for session in sessions:
                session.close()

    # -- helpers ----------------------------------------------------------------------

    def _backoff(self, retries: int) -> float:
        """Full jitter: a random wait between zero and the capped exponential step."""
        return self._rand() * min(self._backoff_cap, self._backoff_base * (2**retries))

    def _pause(self, seconds: float, cancel: Cancel) -> None:
        check_cancel(cancel)
        self._sleep(seconds)

    def _record(
        self, method: str, path: str, params: Mapping[str, Any] | None, status: int | None, started: float
    ) -> None:
        seconds = time.perf_counter() - started
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s %s %.0f ms", method, self._loggable(path, params), status or "no-answer", seconds * 1000)
        if self._on_request is not None:
            self._on_request(method, path, status, seconds)

    def _loggable(self, path: str, params: Mapping[str, Any] | None) -> str:
        if not params:
            return path
        kept = [(k, v) for k, v in params.items() if k.lower() not in _SECRET_PARAMS]
        return self._scrub(f"{path}?{urlencode(kept)}" if kept else path)

    def _scrub(self, text: str) -> str:
        """Remove the API key and secret from a text that may be shown or logged."""
        for secret in self._secrets:
            text = text.replace(secret, "<hidden>")
        return text

    @staticmethod
    def _store_error_body(response: requests.Response) -> tuple[str | None, str]:
        try:
            body = response.json()
        except ValueError:
            return None, ""
        if not isinstance(body, dict):
            return None, ""
        code = body.get("code")
        return (code if isinstance(code, str) else None), _clean_store_message(body.get("message"))

    def _refused(self, op: Operation, response: requests.Response) -> StoreError:
        status = response.status_code
        code, message = self._store_error_body(response)
        message = self._scrub(message)
        details = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
        if code is None and status < 500 and status != 429 and _looks_html(response):
            return StoreError(
                f"The web store answered with a web page (HTTP {status}{_page_title(response)}) instead of data "
                f"when asked to {op.action}: a plugin, a maintenance mode or a firewall stands in front of its "
                f"REST API. Check the store's security and maintenance plugins; nothing was changed.",
                status=status,
                code="html_answer",
                details=details,
            )
        if status == 401 and code == "woocommerce_rest_authentication_error" and "write" in message.lower():
            return StoreReadOnlyError(
                f"The web store's API keys may only read, so the back office could not {op.action}. In "
                f"WooCommerce → Settings → Advanced → REST API, give the key Read/Write permission; the "
                f"changes wait here until then, and reading from the store goes on.",
                status=status,
                code=code,
                details=details,
            )
        if status in (401, 403) and code in _RECORD_REFUSALS and not message.lower().startswith(_ANYONE_REFUSED):
            reason = f": “{message.rstrip('.')}”" if message else ""
            return StorePermissionError(
                f"The web store did not allow the back office to {op.action}{reason}. This change was set "
                f"aside and the others go on; change it (or make it on the store itself), then retry.",
                status=status,
                code=code,
                details=details,
            )
        if status == 401:
            return StoreAuthError(KEYS_REFUSED, status=status, code=code, details=details)
        if status == 403:
            return StoreAuthError(
                f"The web store's API keys may not {op.action}. In WooCommerce, give the keys "
                f"Read/Write permission, then try again.",
                status=status,
                code=code,
                details=details,
            )
        if status == 404 and code == "rest_no_route":
            return StoreError(
                f"The web store does not know the address used to {op.action}. Check the store address "
                f"in Shop settings → Web store and that WooCommerce is active; nothing was changed.",
                status=status,
                code=code,
                details=details,
            )
        if status == 404 or status == 410:
            return StoreNotFoundError(
                f"The web store has no {op.noun}; it may have been deleted there.",
                status=status,
                code=code,
                details=details,
            )
        if status == 429:
            return StoreError(
                f"The web store is busy and asked the back office to slow down, so it could not "
                f"{op.action}. Nothing was lost; the sync will try again later.",
                status=status,
                code=code,
                retryable=True,
                details=details,
            )
        if status >= 500 and status != 501:
            return StoreError(
                f"The web store had an internal error (HTTP {status}) and could not {op.action}. "
                f"Nothing was lost; the sync will try again later.",
                status=status,
                code=code,
                retryable=True,
                details=details,
            )
        reason = f": {message.rstrip('.')}." if message else f" (HTTP {status})."
        return StoreError(
            f"The web store refused to {op.action}{reason} Nothing was changed there.",
            status=status,
            code=code,
            details=details,
        )

    def _refused_outright(self, op: Operation, response: requests.Response) -> StoreError:
        code, message = self._store_error_body(response)
        message = self._scrub(message)
        reason = f": “{message.rstrip('.')}”." if message else "."
        return StoreError(
            f"The web store refused to {op.action}{reason} Nothing was changed there.",
            status=response.status_code,
            code=code,
            details=f"HTTP {response.status_code} {code}" + (f": {message}" if message else ""),
        )

    def _asked_to_wait(self, op: Operation, response: requests.Response, wait: float) -> StoreError:
        code, message = self._store_error_body(response)
        return StoreError(
            f"The web store asked the back office to wait {wait:.0f} seconds, so it could not "
            f"{op.action} now. Nothing was lost; the sync will try again later.",
            status=response.status_code,
            code=code,
            retryable=True,
            details=self._scrub(f"HTTP {response.status_code}, Retry-After: {response.headers.get('Retry-After')}"),
        )

    def _redirected(self, op: Operation, response: requests.Response) -> StoreError:
        location = response.headers.get("Location", "")
        target = urlsplit(location)
        shown = urlunsplit((target.scheme, target.netloc, "", "", "")) or location
        return StoreError(
            f"The web store address redirects to {self._scrub(shown)}, so the back office did not "
            f"{op.action}. Enter the address it redirects to in Shop settings → Web store.",
            status=response.status_code,
            code="redirected",
            details=self._scrub(f"HTTP {response.status_code} to {location}"),
        )

    def _unreadable(self, op: Operation, page: int | None, status: int | None, exc: BaseException,
                    response: requests.Response | None = None) -> StoreError:
        if response is not None and _looks_html(response):
            return StoreError(
                f"The web store answered with a web page{_page_title(response, lead=' (')} instead of data when "
                f"asked to {op.action}: a plugin, a maintenance mode or a firewall stands in front of its REST "
                f"API. Check the store's security and maintenance plugins; nothing was saved.",
                status=status,
                code="html_answer",
                retryable=True,
                details=self._scrub(f"{type(exc).__name__}: {exc}"),
            )
        if page is not None:
            message = (
                f"The web store sent a page that could not be read (page {page} of {op.noun}). "
                f"Nothing from that page was saved; the sync will try again."
            )
        else:
            message = (
                f"The web store sent an answer that could not be read when asked to {op.action}. "
                f"Nothing was saved; the sync will try again."
            )
        return StoreError(
            message,
            status=status,
            code="unreadable_response",
            retryable=True,
            details=self._scrub(f"{type(exc).__name__}: {exc}"),
        )

    def _ambiguous(
        self,
        op: Operation,
        method: str,
        path: str,
        reference: str | None,
        status: int | None,
        exc: BaseException | None,
    ) -> AmbiguousWriteError:
        if status is None:
            cause = "the connection to the web store broke"
        elif 200 <= status < 300:
            cause = "the web store's answer could not be read"
        else:
            cause = f"the web store had an internal error (HTTP {status})"
        details = f"{method} {path}" + (f" HTTP {status}" if status else "")
        if exc is not None:
            details += f": {type(exc).__name__}: {exc}"
        return AmbiguousWriteError(
            f"While trying to {op.action}, {cause}, so it is not known whether the store saved it. "
            f"It stays here, and the back office will look for it on the store before sending it again.",
            method=method,
            path=path,
            reference=reference,
            status=status,
            details=self._scrub(details),
        )
