"""The loopback call address's rules: loopback only, no rebinding, nothing but a number, rate-limited."""

from __future__ import annotations

import pytest

from backoffice.call_endpoint import RateLimit, judge

PORT = 8923


def head(target="/call?number=%2B17135550199", host=f"127.0.0.1:{PORT}", method="GET", **extra) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"] + [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
    return "\r\n".join(lines).encode() + b"\r\n\r\n"


def ask(data: bytes, peer="127.0.0.1", limit=None):
    return judge(data.rstrip(b"\r\n"), peer=peer, port=PORT, limit=limit or RateLimit())


def test_a_number_is_taken():
    answer = ask(head())
    assert answer.status == 200 and answer.number == "+17135550199"


@pytest.mark.parametrize("host", [f"localhost:{PORT}", "localhost", f"[::1]:{PORT}", "127.0.0.1"])
def test_every_name_of_this_computer_is_a_good_host(host):
    assert ask(head(host=host)).status == 200


@pytest.mark.parametrize("host", [f"evil.example:{PORT}", "evil.example", f"127.0.0.1.evil.example:{PORT}",
                                  "127.0.0.1:80", "", f"192.168.1.5:{PORT}"])
def test_a_host_that_is_not_this_computer_is_refused(host):
    answer = ask(head(host=host))
    assert answer.status == 403 and answer.number is None


@pytest.mark.parametrize("peer", ["192.168.1.5", "10.0.0.2", "::ffff:192.168.1.5", "2001:db8::1", "garbage"])
def test_a_peer_that_is_not_this_computer_is_refused(peer):
    answer = ask(head(), peer=peer)
    assert answer.status == 403 and answer.number is None


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "127.0.0.2"])
def test_loopback_peers_are_taken(peer):
    assert ask(head(), peer=peer).status == 200


def test_a_web_page_in_the_browser_is_refused_a_link_opened_from_a_phone_system_is_not():
    assert ask(head(Origin="https://evil.example")).status == 403
    assert ask(head(Sec_Fetch_Site="cross-site")).status == 403
    assert ask(head(Sec_Fetch_Site="none", Sec_Fetch_Mode="navigate")).status == 200


@pytest.mark.parametrize("target, status", [
    ("/call?number=1&name=x", 400), ("/call?number=1&number=2", 400), ("/call", 400),
    ("/call?number=anonymous", 400), ("/", 404), ("/admin?number=1", 404),
])
def test_nothing_but_a_number_is_taken(target, status):
    answer = ask(head(target=target))
    assert answer.status == status and answer.number is None


def test_only_get():
    assert ask(head(method="POST")).status == 405


def test_rate_limit():
    now = [0.0]
    limit = RateLimit(limit=3, window_s=10, clock=lambda: now[0])
    assert [ask(head(), limit=limit).status for _ in range(4)] == [200, 200, 200, 429]
    refused = ask(head(), limit=limit)
    assert refused.retry_after and b"Retry-After" in refused.to_bytes()
    now[0] = 10.5
    assert ask(head(), limit=limit).status == 200
