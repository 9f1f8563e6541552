"""The only door to the OS keyring: store keys and database passwords live there.

Secrets never go into the database, settings files, URLs, exception texts or logs.
Where the machine has no keyring, a secret given during the run is kept in memory
for that run only; there is deliberately no fallback to a plaintext file.
"""

from __future__ import annotations

import logging
import os

SERVICE = "backoffice"

log = logging.getLogger(__name__)
_memory: dict[str, str] = {}


def _keyring():
    """The keyring library, loaded the first time a secret is read or written (opening a
    SQLite database or the window needs none)."""
    import keyring  # late: the keyring loads only when a secret is needed

    return keyring


def _keyring_errors() -> type[Exception]:
    # Every refusal (no keyring, no such password) is a KeyringError.
    from keyring.errors import KeyringError

    return KeyringError


def _key(kind: str, name: str) -> str:
    return f"{kind}:{name}"


def keyring_available() -> bool:
    """Whether a real keyring backend is installed (not the 'fail' backend)."""
    backend = _keyring().get_keyring()
    return not type(backend).__module__.startswith("keyring.backends.fail")


def get_secret(kind: str, name: str) -> str | None:
    """The secret stored for (kind, name), from the keyring or this run's memory."""
    key = _key(kind, name)
    if key in _memory:
        return _memory[key]
    try:
        return _keyring().get_password(SERVICE, key)
    except _keyring_errors() as exc:
        log.info("No keyring available for reading a %s secret: %s", kind, type(exc).__name__)
        return None


def set_secret(kind: str, name: str, value: str) -> bool:
    """Store a secret; returns False when it could only be kept in memory for this run."""
    key = _key(kind, name)
    try:
        _keyring().set_password(SERVICE, key, value)
        _memory.pop(key, None)
        return True
    except _keyring_errors() as exc:
        log.warning("No keyring: the %s secret is kept in memory for this run only (%s)",
                    kind, type(exc).__name__)
        _memory[key] = value
        return False


def database_password(url_without_password: str) -> str | None:
    return get_secret("database", url_without_password)


def set_database_password(url_without_password: str, password: str) -> bool:
    return set_secret("database", url_without_password, password)


def store_credentials(store_url: str) -> tuple[str, str] | None:
    """The web store's consumer key and secret.

    For unattended runs they may come from BACKOFFICE_WC_KEY and BACKOFFICE_WC_SECRET;
    otherwise from the keyring, where the settings screen put them.
    """
    env_key, env_secret = os.environ.get("BACKOFFICE_WC_KEY"), os.environ.get("BACKOFFICE_WC_SECRET")
    if env_key and env_secret:
        return env_key, env_secret
    key = get_secret("store-key", store_url)
    secret = get_secret("store-secret", store_url)
    if key and secret:
        return key, secret
    return None


def set_store_credentials(store_url: str, consumer_key: str, consumer_secret: str) -> bool:
    a = set_secret("store-key", store_url, consumer_key)
    b = set_secret("store-secret", store_url, consumer_secret)
    return a and b


# --- the audit trail's key --------------------------------------------------------------
#
# One key per shop database, kept per desk under the name this desk uses for the
# database. Its text also says from which entry the trail is keyed, so nobody who can
# only write to the database can move that start. For cron jobs on a machine without a
# keyring, BACKOFFICE_AUDIT_KEY may hold the same text (as `audit key export` prints it).

ENV_AUDIT_KEY = "BACKOFFICE_AUDIT_KEY"


def audit_key(database: str) -> str | None:
    """The audit key text for `database` (its URL without password), or None."""
    return os.environ.get(ENV_AUDIT_KEY) or get_secret("audit-key", database)


def set_audit_key(database: str, key_text: str) -> bool:
    """Keep the audit key text for `database`; False when only in memory for this run."""
    return set_secret("audit-key", database, key_text)
def newsletter_suppression_key() -> str | None:
    """The secret the newsletter suppression list's hashes are keyed with.

    For unattended runs on a machine without a keyring it may come from
    BACKOFFICE_SUPPRESSION_KEY; otherwise from the keyring.
    """
    return os.environ.get("BACKOFFICE_SUPPRESSION_KEY") or get_secret("suppression-key", "newsletters")


def set_newsletter_suppression_key(value: str) -> bool:
    return set_secret("suppression-key", "newsletters", value)
