"""The application log: a rotating file that never holds a secret or a card number."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
from pathlib import Path

from platformdirs import user_log_dir


__all__ = ["LOG_FILE_NAME", "RedactingFilter", "configure_logging", "redact"]

LOG_FILE_NAME = "backoffice.log"
REDACTED = "[redacted]"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MAX_BYTES = 2_000_000
_BACKUPS = 5

# Header values: everything up to the end of the line, or up to the closing quote when
# the header sits in a dict or JSON ("'Authorization': 'Basic ...'").
_HEADER = re.compile(
    r"(?i)(?P<name>(?:proxy-)?authorization|cookie|set-cookie|x-wc-webhook-signature)"
    r"(?P<sep>[\"']?\s*[:=]\s*)"
    r"(?:(?P<q>[\"'])(?P<scheme_q>(?:basic|bearer|digest|token|negotiate|oauth)\s+)?[^\"'\r\n]*"
    r"|(?P<scheme>(?:basic|bearer|digest|token|negotiate|oauth)\s+)?[^\r\n]*)"
)
# key=value, key: value, "key": "value" for every key that names a secret. A quoted
# value ends at its quote; key=value (URLs, forms) at a space or "&"; "key: value"
# runs to the end of the line, since such values may hold spaces.
_SECRET_KEY = (
    r"[\w.\-]*(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey"
    r"|consumer[_\-]?key|private[_\-]?key|signature|session[_\-]?id)[\w.\-]*"
)
_KEY_VALUE = re.compile(
    rf"(?i)(?P<key>(?<![\w\-]){_SECRET_KEY})(?P<sep>[\"']?\s*(?:(?P<eq>=)|:)\s*)"
    r"(?:(?P<q>[\"'])[^\"'\r\n]*"
    r"|(?(eq)[^\s&\"'}\])]+|[^\r\n&\"'}\]]+))"
)
# WooCommerce REST keys, wherever they appear on their own.
_WOO_KEY = re.compile(r"\b(?P<kind>ck|cs)_[A-Za-z0-9]{16,}")
# user:password@ in a URL.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^/\s:@]+:)[^/\s@]+@", re.I)


def _header(m: re.Match[str]) -> str:
    scheme = m.group("scheme_q") or m.group("scheme") or ""
    quote = m.group("q") or ""
    return f"{m.group('name')}{m.group('sep')}{quote}{scheme}{REDACTED}"


def _key_value(m: re.Match[str]) -> str:
    quote = m.group("q") or ""
    return f"{m.group('key')}{m.group('sep')}{quote}{REDACTED}"


def redact(text: str) -> str:
    """``text`` with secrets replaced by "[redacted]" and card numbers masked.

    Secrets: Authorization, Cookie and webhook-signature header values, values of keys
    that name a password, secret, token, API or consumer key (as ``key=value``,
    ``key: value`` or a quoted dict or JSON entry, so ``consumer_key`` and
    ``consumer_secret`` query parameters too), WooCommerce ``ck_``/``cs_`` keys, and the
    password in ``scheme://user:password@host``.
    """
    if not text:
        return text
    text = _HEADER.sub(_header, text)
    text = _KEY_VALUE.sub(_key_value, text)
    text = _WOO_KEY.sub(lambda m: f"{m.group('kind')}_{REDACTED}", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)
    # The card detector's patterns take a tenth of a second to compile: not before a window paints.
    from backoffice.domain.cards import mask_card_numbers  # late: at the first record written

    return mask_card_numbers(text).text


class RedactingFilter(logging.Filter):
    """Redacts each record in its final form: message with its args, traceback, stack.

    The record is formatted, redacted and stored back (``msg`` is the redacted text,
    ``args`` empty, the traceback in ``exc_text``), so every handler that formats the
    record after this filter sees only redacted text. It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not let the raw args through
            message = f"{record.msg!s} {record.args!r}"
        try:
            record.msg = redact(message)
            record.args = ()
            if record.exc_info:
                if not record.exc_text:
                    record.exc_text = _FORMATTER.formatException(record.exc_info)
                record.exc_info = None
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        except Exception:
            record.msg = "[log message withheld: it could not be checked for secrets]"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


_FORMATTER = logging.Formatter()


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file readable by its owner only (logs can name customers)."""

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        with contextlib.suppress(OSError):
            os.chmod(self.baseFilename, 0o600)
        return stream


def configure_logging(*, log_dir: Path | None = None, level: int = logging.INFO) -> Path:
    """Send the root logger to a rotating, redacted file and return the file's path.

    The file lives in ``log_dir`` when given, else in $BACKOFFICE_LOG_DIR when set, else in
    the platform's user log folder. Calling it again replaces the handler it installed before.
    Raises OSError when the folder or the file cannot be made.
    """
    if log_dir is None:
        folder = Path(os.environ.get("BACKOFFICE_LOG_DIR") or user_log_dir("backoffice", appauthor=False))
    else:
        folder = Path(log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE_NAME

    handler = _PrivateRotatingFileHandler(
        path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter())
    handler.set_name("backoffice-file")

    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "backoffice-file":
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path
