"""The log file: what reaches it is redacted, whichever way it was logged."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import warnings

import pytest

from backoffice import logsetup
from backoffice.logsetup import RedactingFilter, configure_logging, redact

CARD = "4111 1111 1111 1111"
CARD_DIGITS = "4111111111111111"
CK = "ck_" + "0123456789abcdef" * 2 + "01234567"
CS = "cs_" + "fedcba9876543210" * 2 + "76543210"


@pytest.fixture
def root_logger():
    """The root logger, put back as it was after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.fixture
def log_file(tmp_path, root_logger):
    path = configure_logging(log_dir=tmp_path)

    def read() -> str:
        for handler in root_logger.handlers:
            handler.flush()
        return path.read_text(encoding="utf-8")

    return read


def message_lines(text: str) -> list[str]:
    """The message part of each log line (after "LEVEL name: ")."""
    return [m.group(1) for m in re.finditer(r"^\S+ \S+ \w+ [\w.]+: (.*)$", text, re.M)]


def digit_runs(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_configure_logging_writes_to_the_given_folder(tmp_path, root_logger):
    path = configure_logging(log_dir=tmp_path / "logs")
    logging.getLogger("backoffice.test").info("hello")
    for handler in root_logger.handlers:
        handler.flush()
    assert path == tmp_path / "logs" / "backoffice.log"
    assert message_lines(path.read_text(encoding="utf-8")) == ["hello"]


def test_configure_logging_uses_the_platform_log_folder_by_default(
    tmp_path, root_logger, monkeypatch
):
    asked = []

    def fake_user_log_dir(appname, appauthor=None):
        asked.append(appname)
        return str(tmp_path / "platform")

    monkeypatch.setattr(logsetup, "user_log_dir", fake_user_log_dir)
    monkeypatch.delenv("BACKOFFICE_LOG_DIR", raising=False)
    path = configure_logging()
    assert asked == ["backoffice"]
    assert path == tmp_path / "platform" / "backoffice.log"
    assert path.exists()
    # A folder of its own for a desk's scheduled jobs, or for tests.
    monkeypatch.setenv("BACKOFFICE_LOG_DIR", str(tmp_path / "jobs"))
    assert configure_logging() == tmp_path / "jobs" / "backoffice.log"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_the_log_file_is_readable_by_its_owner_only(tmp_path, root_logger):
    path = configure_logging(log_dir=tmp_path)
    assert os.stat(path).st_mode & 0o077 == 0


def test_configuring_twice_keeps_one_file_handler(tmp_path, root_logger, log_file):
    configure_logging(log_dir=tmp_path)
    logging.getLogger("x").warning("once")
    assert message_lines(log_file()) == ["once"]


def test_level_is_honoured(log_file, tmp_path):
    configure_logging(log_dir=tmp_path, level=logging.WARNING)
    logging.getLogger("x").info("not written")
    logging.getLogger("x").warning("written")
    assert message_lines(log_file()) == ["written"]


def test_a_card_number_in_args_reaches_the_file_masked(log_file):
    logging.getLogger("backoffice.orders").info("note saved: %s", f"pay with {CARD}")
    text = log_file()
    assert message_lines(text) == ["note saved: pay with [card number removed, ends 1111]"]
    assert digit_runs(message_lines(text)[0]) == "1111"
    assert CARD not in text and CARD_DIGITS not in digit_runs(text)


def test_a_card_number_in_dict_args_and_in_the_message_itself_is_masked(log_file):
    log = logging.getLogger("backoffice.sync")
    log.info("payload %(note)s", {"note": "5555-5555-5555-4444"})
    log.info("literal 378282246310005 in the format string")
    assert message_lines(log_file()) == [
        "payload [card number removed, ends 4444]",
        "literal [card number removed, ends 0005] in the format string",
    ]


def test_a_card_number_in_a_traceback_is_masked(log_file):
    def charge(number: str) -> None:
        raise ValueError(f"gateway refused {number}")

    try:
        charge(CARD_DIGITS)
    except ValueError:
        logging.getLogger("backoffice.payments").exception("charge failed")
    text = log_file()
    assert "ValueError: gateway refused [card number removed, ends 1111]" in text
    assert CARD_DIGITS not in text
    assert "Traceback (most recent call last)" in text


def test_a_card_number_in_stack_info_is_masked(log_file):
    logging.getLogger("x").info("where 4242424242424242 went", stack_info=True)
    text = log_file()
    assert "Stack (most recent call last)" in text
    assert "4242424242424242" not in text


def test_a_badly_formatted_call_still_reaches_the_file_redacted(log_file):
    logging.getLogger("x").info("number %d", CARD_DIGITS)
    [line] = message_lines(log_file())
    assert "ends 1111" in line
    assert digit_runs(line) == "1111"


def test_woocommerce_keys_in_a_url_never_reach_the_file(log_file):
    url = f"https://shop.example/wp-json/wc/v3/orders?consumer_key={CK}&consumer_secret={CS}"
    logging.getLogger("backoffice.store").debug("ignored at INFO %s", url)
    logging.getLogger("backoffice.store").warning("GET %s failed", url)
    text = log_file()
    assert CK not in text and CS not in text
    assert "consumer_key=[redacted]&consumer_secret=[redacted]" in text


def test_authorization_headers_never_reach_the_file(log_file):
    headers = {"Authorization": "Basic Y2tfMTIzOmNzXzQ1Ng==", "User-Agent": "backoffice"}
    logging.getLogger("backoffice.store").info("request headers %s", headers)
    logging.getLogger("backoffice.store").info("Authorization: Bearer eyJhbGciOi.abc.def")
    text = log_file()
    assert "Y2tfMTIzOmNzXzQ1Ng==" not in text and "eyJhbGciOi" not in text
    assert "'Authorization': 'Basic [redacted]', 'User-Agent': 'backoffice'" in text
    assert "Authorization: Bearer [redacted]" in text


def test_a_secret_in_an_exception_message_never_reaches_the_file(log_file):
    try:
        raise RuntimeError(f"store said no to {CK}")
    except RuntimeError:
        logging.getLogger("x").error("sync failed", exc_info=True)
    text = log_file()
    assert CK not in text
    assert "store said no to ck_[redacted]" in text


def test_warnings_are_captured_and_redacted(log_file):
    warnings.warn(f"odd value {CARD_DIGITS}", UserWarning, stacklevel=1)
    text = log_file()
    assert "ends 1111" in text
    assert CARD_DIGITS not in text


def test_the_filter_works_on_any_handler():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("backoffice.test.any_handler")
    log.propagate = False
    log.addHandler(handler)
    try:
        log.warning("login with password=%s and card %s", "hunter2", CARD)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    assert stream.getvalue() == (
        "login with password=[redacted] and card [card number removed, ends 1111]\n"
    )


def test_a_record_passing_two_filters_is_still_right():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "100%% sure: %s", (CARD,), None)
    assert RedactingFilter().filter(record) and RedactingFilter().filter(record)
    assert record.getMessage() == "100% sure: [card number removed, ends 1111]"


@pytest.mark.parametrize(
    ("raw", "redacted"),
    [
        (
            f"GET /wc/v3/orders?consumer_key={CK}&consumer_secret={CS}&page=2",
            "GET /wc/v3/orders?consumer_key=[redacted]&consumer_secret=[redacted]&page=2",
        ),
        (
            f'{{"consumer_key": "{CK}", "consumer_secret": "{CS}", "url": "x"}}',
            '{"consumer_key": "[redacted]", "consumer_secret": "[redacted]", "url": "x"}',
        ),
        (f"keys {CK} / {CS} saved", "keys ck_[redacted] / cs_[redacted] saved"),
        ("Authorization: Basic Zm9vOmJhcg==", "Authorization: Basic [redacted]"),
        ("proxy-authorization: Digest a=1, b=2", "proxy-authorization: Digest [redacted]"),
        ("Cookie: wordpress_logged_in_1=bob%7C1", "Cookie: [redacted]"),
        ("login password=hunter2 user=bob", "login password=[redacted] user=bob"),
        ("Password: correct horse battery", "Password: [redacted]"),
        ("{'api_key': 'abc', 'x': 1}", "{'api_key': '[redacted]', 'x': 1}"),
        ("https://bob:s3cret@shop.example/", "https://bob:[redacted]@shop.example/"),
        ("password reset mail sent to bob", "password reset mail sent to bob"),
        ("Order #10234 shipped to +44 20 7946 0958", "Order #10234 shipped to +44 20 7946 0958"),
        ("paid 4242 4242 4242 4242", "paid [card number removed, ends 4242]"),
    ],
)
def test_redact(raw, redacted):
    assert redact(raw) == redacted
