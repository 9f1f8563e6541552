"""What the keyed audit trail costs: `python -m benchmarks.audit [--db URL] [--entries N]`.

Writing: one entry per transaction, as each service action writes one, against a floor of
the same row inserted in its own transaction without the chain, the MAC or the
checkpoint. Checking: `audit verify` over every entry, against a floor of reading the
same rows. Uses a fresh SQLite file (or the PostgreSQL database --db names, emptied of
audit entries) and an in-memory keyring.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import keyring
import keyring.backend


class _MemoryKeyring(keyring.backend.KeyringBackend):
    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    os.environ["BACKOFFICE_DATA_DIR"] = str(folder / "data")
    keyring.set_keyring(_MemoryKeyring())

    from sqlalchemy import select, text

    from backoffice.db import open_database
    from backoffice.domain.audit import AuditEvent
    from backoffice.domain.enums import Role
    from backoffice.domain.staff import Actor
    from backoffice.services import audit

    db = open_database(args.db or f"sqlite:///{folder / 'audit.db'}")
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_events"))
    actor = Actor(None, "bench", Role.OWNER, "bench")
    n = args.entries

    started = time.perf_counter()
    for i in range(n):
        with db.begin() as s:
            audit.record(s, actor, "view_customer", entity_type="customer", entity_id=i, customer_id=i,
                         fields=["email", "phone"])
    write = (time.perf_counter() - started) / n

    at = datetime.now(timezone.utc)
    started = time.perf_counter()
    for i in range(n):
        with db.engine.begin() as c:
            c.execute(AuditEvent.__table__.insert().values(
                id=10_000_000 + i, seq=10_000_000 + i, at=at, staff_id=None, desk="bench",
                action="view_customer", entity_type="customer", entity_id=i, customer_id=i,
                fields='["email", "phone"]', outcome="ok", prev_hash="", hash="", mac=""))
    floor_write = (time.perf_counter() - started) / n
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_events WHERE seq >= 10000000"))

    started = time.perf_counter()
    report = audit.check_chain(db)
    verify = time.perf_counter() - started
    assert report.ok, report.sentence()
    started = time.perf_counter()
    with db.read() as s:
        for _ in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
            pass
    floor_verify = time.perf_counter() - started

    print(f"Audit trail on {db.backend}, {n:,} entries")
    print(f"  write one entry (own transaction): {write * 1e3:7.2f} ms   floor (plain insert) "
          f"{floor_write * 1e3:7.2f} ms   ratio {write / floor_write:5.1f}")
    print(f"  audit verify, all entries:         {verify * 1e3:7.1f} ms   floor (read them)   "
          f"{floor_verify * 1e3:7.1f} ms   ratio {verify / floor_verify:5.1f}")
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
