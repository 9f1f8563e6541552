"""The rules of the desk's loopback call address `http://127.0.0.1:PORT/call?number=…`.

Phone systems that can only open a URL (Ringotel's `$caller$`, Wildix's `{CALLERNUM}`)
reach the app through this address, which `ui.calls.http_endpoint` serves while the app
runs, only when the desk's settings switch it on. Everything it decides lives here, with
no Qt, so it is tested on its own:

* it answers only this computer: the server binds 127.0.0.1, and a peer that is not a
  loopback address is refused all the same;
* the Host header must name this computer (127.0.0.1, localhost or [::1], with the port if
  any), so a web page whose name was rebound to 127.0.0.1 (DNS rebinding) is refused; a
  request a web page makes from the browser (an `Origin` other than this computer, or
  `Sec-Fetch-Site: cross-site`/`same-site`) is refused too, while a phone system's own
  request or a link it opens in the browser (`Sec-Fetch-Site: none`) is taken;
* it takes nothing but GET /call?number=… with one number, and nothing it answers says
  who the caller is;
* it is rate-limited: more than `RATE_LIMIT` requests within `RATE_WINDOW_S` seconds get
  429 until the window has room again.
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from backoffice.calls_channel import CallError, clean_number

DEFAULT_PORT = 8923
RATE_LIMIT = 10
RATE_WINDOW_S = 10.0
MAX_HEAD_BYTES = 8192
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            429: "Too Many Requests", 431: "Request Header Fields Too Large"}


@dataclass(frozen=True)
class Answer:
    """What to answer a request; `number` is set only for a call to show."""

    status: int
    body: str
    number: str | None = None
    retry_after: int | None = None

    def to_bytes(self) -> bytes:
        body = (self.body.rstrip("\n") + "\n").encode("utf-8")
        lines = [f"HTTP/1.1 {self.status} {_REASONS.get(self.status, '')}",
                 "Content-Type: text/plain; charset=utf-8",
                 f"Content-Length: {len(body)}",
                 "Cache-Control: no-store",
                 "X-Content-Type-Options: nosniff",
                 "Connection: close"]
        if self.retry_after is not None:
            lines.append(f"Retry-After: {self.retry_after}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


class RateLimit:
    """At most `limit` requests in any `window_s` seconds."""

    def __init__(self, limit: int = RATE_LIMIT, window_s: float = RATE_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        now = self._clock()
        while self._times and now - self._times[0] >= self.window_s:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True

    def retry_after(self) -> int:
        if not self._times:
            return 0
        return max(1, int(self.window_s - (self._clock() - self._times[0])) + 1)


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ::ffff:127.x.x.x."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _host_is_loopback(host: str, port: int) -> bool:
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name += "]"
        given_port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, given_port = host.partition(":")
    if name not in _LOOPBACK_NAMES:
        return False
    return given_port in ("", str(port))


def _origin_is_loopback(origin: str) -> bool:
    if origin == "null":
        return False
    parts = urlsplit(origin)
    return (parts.hostname or "") in {"localhost", "127.0.0.1", "::1"}


def judge(head: bytes, *, peer: str, port: int, limit: RateLimit) -> Answer:
    """Decide what to answer a request whose head (request line and headers) is `head`."""
    if not is_loopback(peer):
        return Answer(403, "Only this computer may use this address.")
    if not limit.allow():
        return Answer(429, "Too many requests; try again shortly.", retry_after=limit.retry_after())
    if len(head) > MAX_HEAD_BYTES:
        return Answer(431, "The request is too long.")
    try:
        text = head.decode("latin-1")
        request_line, *header_lines = text.split("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError:
        return Answer(400, "Not an HTTP request.")
    if not version.startswith("HTTP/1."):
        return Answer(400, "Not an HTTP/1 request.")
    headers: dict[str, str] = {}
    for line in header_lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return Answer(400, "A header line is malformed.")
        name = name.strip().lower()
        if name in headers:
            return Answer(400, f"The {name} header is given twice.")
        headers[name] = value.strip()
    if not _host_is_loopback(headers.get("host", ""), port):
        return Answer(403, "This address answers only requests made to 127.0.0.1 on this computer.")
    if "origin" in headers and not _origin_is_loopback(headers["origin"]):
        return Answer(403, "Web pages may not use this address.")
    if headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return Answer(403, "Web pages may not use this address.")
    if method != "GET":
        return Answer(405, "Only GET /call?number=… is answered.")
    parts = urlsplit(target)
    if parts.path != "/call":
        return Answer(404, "Only /call?number=… is answered here.")
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) != {"number"} or len(query["number"]) != 1:
        return Answer(400, "Give exactly one number and nothing else: /call?number=….")
    try:
        number = clean_number(query["number"][0])
    except CallError as exc:
        return Answer(400, str(exc))
    return Answer(200, "", number=number)
