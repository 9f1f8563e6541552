"""How fast a newsletter list imports and exports: `python -m benchmarks.lists [--rows 100000] [--db URL]`.

Generates a Mailchimp "subscribed members" export of `--rows` people new to the shop and
times what the Newsletters screen does: the preview (reading and checking every row),
the import after it (customers, subscriptions, consent evidence in one transaction, and
the search index brought up to date), then the export of the list in Mailchimp's import
format (every member checked against the marketing flags and the suppression list).

Each figure is printed beside a floor measured in the same run on the same database:
the bare `csv` module reading the same file and `executemany` inserting its three
columns into a scratch table in one transaction, and a bare SELECT of those rows
written out with `csv.writer`. The ratio says how many times the floor the app takes.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from backoffice.db import open_database
from backoffice.domain.enums import Role
from backoffice.domain.staff import StaffUser
from backoffice.services.newsletters import export_csv, import_csv, lists

FIRST = "James Mary Robert Patricia John Jennifer Oliver Amelia Jürgen Søren Chloé María".split()
LAST = "Smith Johnson Williams Brown Garcia Müller Schmidt Dubois Lefèvre O'Brien".split()
HEAD = ["Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME",
        "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION", "LAST_CHANGED",
        "LEID", "EUID", "NOTES"]


def make_csv(rows: int, *, token: str, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(HEAD)
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        when = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 10:{rng.randint(0, 59):02d}:00"
        w.writerow([f"sub.{i}.{token}@example.com", first, last, "2", when, f"10.0.{i % 250}.{i % 200 + 1}",
                    when, "", "", "", "", "", "", "", "", when, str(i), uuid.UUID(int=i).hex[:10], ""])
    return out.getvalue().encode("utf-8")


def floor_import(db, data: bytes) -> float:
    """The bare floor: csv.reader and one executemany of three columns, in one transaction."""
    t0 = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader)
    rows = [{"e": r[0], "f": r[1], "l": r[2]} for r in reader]
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO bench_floor (email, first_name, last_name) VALUES (:e, :f, :l)"), rows)
    return time.perf_counter() - t0


def floor_export(db, path: Path) -> float:
    t0 = time.perf_counter()
    with db.engine.connect() as conn, open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Email Address", "First Name", "Last Name"])
        w.writerows(conn.execute(text("SELECT email, first_name, last_name FROM bench_floor ORDER BY id")))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL (default: a fresh SQLite file in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = open_database(url)
        with db.begin() as s:
            user = StaffUser(login=f"bench-{uuid.uuid4().hex[:6]}", display_name="Bench", role=Role.OWNER,
                             password_hash="!")
            s.add(user)
            s.flush()
            actor = user.actor(desk="bench")
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_floor"))
            serial = "SERIAL" if db.engine.dialect.name == "postgresql" else "INTEGER"
            conn.execute(text(f"CREATE TABLE bench_floor (id {serial} PRIMARY KEY, email VARCHAR(254), "
                              "first_name VARCHAR(120), last_name VARCHAR(120))"))
        token = uuid.uuid4().hex[:6]
        data = make_csv(args.rows, token=token)
        name = f"Bench {token}"
        target, _ = lists.create_list(db, actor=actor, name=name, channel="email", purpose="Benchmark.",
                                      wording="Yes, send me the benchmark.")
        print(f"{args.rows:,} subscribers, {len(data) / 1e6:.1f} MB, database {db.engine.dialect.name}")

        floor_in = floor_import(db, data)
        t0 = time.perf_counter()
        preview = import_csv.preview_list_import(db, actor=actor, list_id=target.id, data=data)
        t1 = time.perf_counter()
        result = import_csv.import_list(db, actor=actor, list_id=target.id, data=data, preview=preview)
        t2 = time.perf_counter()
        floor_out = floor_export(db, Path(tmp) / "floor.csv")
        t3 = time.perf_counter()
        exported = export_csv.export_list(db, actor=actor, list_id=target.id, fmt="mailchimp",
                                          path=Path(tmp) / "export.csv")
        t4 = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_floor"))
        db.dispose()
    assert result.subscribed == args.rows and exported.written == args.rows

    def line(step: str, seconds: float, floor: float | None) -> None:
        rate = args.rows / seconds
        tail = f"   floor {args.rows / floor:>9,.0f} rows/s   {seconds / floor:5.1f}× the floor" if floor else ""
        print(f"{step:<32} {seconds:7.2f} s {rate:>9,.0f} rows/s{tail}")

    line("import: preview (read, check)", t1 - t0, None)
    line("import: write", t2 - t1, None)
    line("import: preview + write", t2 - t0, floor_in)
    line("export (Mailchimp format)", t4 - t3, floor_out)


if __name__ == "__main__":
    main()
