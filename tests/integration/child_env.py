"""The environment of a child process that works on a test's database as another desk would:
no keyring of its own (a real one would outlive the test), and the shop's audit and newsletter
suppression keys that desk would hold."""

from __future__ import annotations

import os
from pathlib import Path

from backoffice import secrets
from backoffice.services import audit
from backoffice.services.newsletters import suppression

ROOT = Path(__file__).resolve().parents[2]


def desk_env(db, **extra: str) -> dict[str, str]:
    with db.begin() as s:
        name = audit.database_name(s)
        suppression.suppression_secret(s)
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                BACKOFFICE_SUPPRESSION_KEY=secrets.newsletter_suppression_key() or "",
                **{secrets.ENV_AUDIT_KEY: secrets.audit_key(name) or ""}, **extra)
