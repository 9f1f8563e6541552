"""How fast a customer list imports from CSV, beside a bare floor, and how much memory it takes:
`python -m benchmarks.customer_import [--rows 100000] [--runs 3] [--sizes 10,200] [--db URL]`.

Generates a CSV file like a shop's spreadsheet export (names, emails, phones from
several countries, addresses, some notes; about 1% broken rows and 0.5% repeated
emails) in a temporary folder (deleted afterwards) and times what a person goes
through in the dialog: the preview (reading and checking every row) and the import
that follows it. Beside it, in the same run, the floor: the csv module reading the
same file and `executemany` writing the very rows the import wrote (customers,
addresses, notes, search entries and words) into the same tables of a fresh database,
with nothing checked or derived; the processor time of both (the import's with its
preview's helper process) is printed too, for information. The two are run by turns
`--runs` times (each run's figures printed), and the median of the runs' ratios last: on
a machine whose speed wanders, one run alone can land on a slow spell for one side only.
Then the peak memory (the process's peak resident set, and the preview's helper
process's) of a fresh process that previews and imports a file of each of `--sizes` MB.
The database is a fresh SQLite file unless --db names a PostgreSQL one; the floor's
database is a fresh one of the same kind (PostgreSQL: a database created and dropped
on the same server).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from backoffice.db import open_database
from backoffice.domain.enums import Role
from backoffice.domain.staff import StaffUser
from backoffice.services import customer_import
from benchmarks.processes import children_cpu, peak_mb

FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth Oliver Amelia "
         "George Isla Lukas Hannah Jürgen Søren Chloé Élodie María José").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Taylor Davies Evans Müller "
        "Schmidt Weber Dubois Lefèvre García O'Brien van Dijk").split()
STREETS = "Main St|Oak Ave|High Street|Baker Street|Hauptstraße|Rue de la Paix|Elm Road".split("|")
CITIES = {"US": ("Houston", "TX", "770{:02d}"), "GB": ("London", "", "SW1A {}AA"),
          "DE": ("Berlin", "", "101{:02d}")}
PHONES = {"US": "(713) 555-{:04d}", "GB": "020 7946 {:04d}", "DE": "030 1234{:04d}"}
NOTES = ("Prefers phone calls", "Wholesale customer", "Call before delivering",
         "Paid by card 4111 1111 1111 1111 last time")
HEADER = ["First Name", "Last Name", "Email", "Phone", "Company", "Address 1", "Address 2",
          "City", "State", "Zip", "Country", "Notes", "Customer since"]
# The tables an import writes, with the columns it fills.
TABLES = ("customers", "customer_addresses", "customer_notes", "customer_search", "customer_search_text",
          "customer_search_word")


def write_csv(path: Path, *, rows: int | None = None, megabytes: float | None = None, seed: int = 7,
              token: str = "") -> int:
    """Write a customer list of `rows` rows (or of about `megabytes`), with a few broken rows and
    repeated emails in it; return the number of rows."""
    rng = random.Random(seed)
    emails: list[str] = []
    limit = int(megabytes * 1e6) if megabytes else None
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(HEADER)
        i = 0
        while (rows is not None and i < rows) or (limit is not None and fh.tell() < limit):
            country = rng.choices(("US", "GB", "DE"), weights=(80, 10, 10))[0]
            city, state, postcode = CITIES[country]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            roll = rng.random()
            if roll < 0.005 and emails:
                email = rng.choice(emails)  # an email already used above: a duplicate
            else:
                email = f"{first.lower()}.{i}{token}@example.com".replace("ø", "o").replace("é", "e")
                if len(emails) < 10_000:
                    emails.append(email)
            if 0.005 <= roll < 0.015:
                email = email.replace("@", " at ")  # broken: rejected
            w.writerow([
                first, last, email, PHONES[country].format(rng.randrange(10000)),
                "Acme Ltd" if rng.random() < 0.1 else "",
                f"{rng.randint(1, 999)} {rng.choice(STREETS)}", "Flat 2" if rng.random() < 0.1 else "",
                city, state, postcode.format(rng.randrange(10)), country,
                rng.choice(NOTES) if rng.random() < 0.2 else "", f"20{rng.randint(10, 24)}",
            ])
            i += 1
    return i


def _owner(db):
    with db.begin() as s:
        user = StaffUser(login=f"bench-{uuid.uuid4().hex[:6]}", display_name="Bench", role=Role.OWNER,
                         password_hash="!")
        s.add(user)
        s.flush()
        return user.actor(desk="bench")


class _FreshDatabase:
    """A fresh, migrated database of the same kind as `url`, removed afterwards."""

    def __init__(self, url: str, folder: Path, name: str) -> None:
        self.url = url
        self.server = None
        if make_url(url).get_backend_name() == "postgresql":
            self.name = f"bench_{name}_{uuid.uuid4().hex[:8]}"
            self.server = open_database(url, upgrade=False)
            with self.server.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text(f"CREATE DATABASE {self.name}"))
            self.url = make_url(url).set(database=self.name).render_as_string(hide_password=False)
        else:
            self.url = f"sqlite:///{folder / f'{name}.db'}"

    def drop(self) -> None:
        if self.server is not None:
            with self.server.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
            self.server.dispose()
        else:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(make_url(self.url).database + suffix).unlink(missing_ok=True)


def _columns(db, table: str) -> list[str]:
    with db.engine.connect() as c:
        return list(c.execute(text(f"SELECT * FROM {table} WHERE 1 = 0")).keys())


def floor(url: str, folder: Path, path: Path, written: dict[str, tuple[list[str], list[tuple]]]) -> tuple[float, float]:
    """Seconds for csv to read `path` and executemany to write `written` into a fresh database,
    and this process's processor seconds meanwhile."""
    fresh = _FreshDatabase(url, folder, "floor")
    db = open_database(fresh.url)
    try:
        _owner(db)  # the notes' author, with the same id as in the import's database
        raw = db.engine.raw_connection()
        marker = "?" if db.backend == "sqlite" else "%s"
        t0, c0 = time.perf_counter(), time.process_time()
        with open(path, encoding="utf-8", newline="") as fh:
            for _ in csv.reader(fh):
                pass
        cur = raw.cursor()
        if db.backend == "sqlite":
            cur.execute("BEGIN")  # one transaction, as the import's
        for table, (columns, rows) in written.items():
            if rows:
                cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                                f"VALUES ({', '.join([marker] * len(columns))})", rows)
        raw.commit()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        raw.close()
    finally:
        db.dispose()
        fresh.drop()
    return seconds, cpu


def _written(db) -> dict[str, tuple[list[str], list[tuple]]]:
    out = {}
    with db.engine.connect() as c:
        for table in TABLES:
            columns = [n for n in _columns(db, table) if not (n == "id" and table != "customers")]
            out[table] = (columns, [tuple(r) for r in c.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))])
    return out


def speed(args, folder: Path) -> None:
    path = folder / "customers.csv"
    rows = write_csv(path, rows=args.rows, token=uuid.uuid4().hex[:6])
    ratios = []
    for run in range(1, args.runs + 1):
        fresh = _FreshDatabase(args.db, folder, "app") if args.db else _FreshDatabase("sqlite://", folder, "app")
        db = open_database(fresh.url)
        try:
            actor = _owner(db)
            if run == 1:
                print(f"{rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, database {db.backend}")
            t0, c0 = time.perf_counter(), time.process_time() + children_cpu()
            preview = customer_import.preview_import(db, actor=actor, path=path)
            t1 = time.perf_counter()
            result = customer_import.import_customers(db, actor=actor, path=path, preview=preview)
            t2, c2 = time.perf_counter(), time.process_time() + children_cpu()
            written = _written(db)
        finally:
            db.dispose()
            fresh.drop()
        bare, bare_cpu = floor(args.db or "sqlite://", folder, path, written)
        ratios.append((t2 - t0) / bare)
        if args.runs > 1:
            print(f"run {run} of {args.runs}")
        print(f"{'preview (read and check)':<34} {t1 - t0:7.2f} s   {preview.summary()}")
        print(f"{'import after the preview':<34} {t2 - t1:7.2f} s   {result.summary()}")
        print(f"{'preview + import':<34} {t2 - t0:7.2f} s   {args.rows / (t2 - t0):,.0f} rows/s")
        print(f"{'floor: csv + executemany':<34} {bare:7.2f} s   the same "
              f"{sum(len(r) for _, r in written.values()):,} rows into the same tables")
        print(f"{'ratio':<34} {(t2 - t0) / bare:7.2f} x   (target: at most 2)")
        # Processor time of this process and of the preview's helper process (which checks half
        # of each chunk of rows on a second core), which other work on the machine disturbs less
        # than the wall clock (a database server's own work is in neither figure).
        print(f"{'processor time: preview + import':<34} {c2 - c0:7.2f} s   floor {bare_cpu:.2f} s, "
              f"{(c2 - c0) / bare_cpu:.2f} x; load average {os.getloadavg()[0]:.1f}")
    if args.runs > 1:
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"{f'ratio, median of {args.runs} runs':<34} {statistics.median(ratios):7.2f} x   "
              f"({shown}; target: at most 2)")


_HELPER_PEAKS: list[float] = []


def _note_helper_peak() -> None:
    """Keep the peak resident set of the preview's helper process as it closes."""
    from backoffice.services.page_mapper import PageMapper

    close = PageMapper.close

    def noting(self) -> None:
        if self.ready():
            peak = peak_mb(self._ready.result())
            if peak is not None:
                _HELPER_PEAKS.append(peak)
        close(self)

    PageMapper.close = noting


def _child(path: str, url: str) -> None:
    """Preview and import `path` into `url`; print the peak resident set before and after, in
    MB, and that of the preview's helper process."""
    _note_helper_peak()
    db = open_database(url)
    actor = _owner(db)
    before = peak_mb()
    preview = customer_import.preview_import(db, actor=actor, path=path)
    result = customer_import.import_customers(db, actor=actor, path=path, preview=preview)
    after = peak_mb()
    db.dispose()
    print(f"{before:.0f} {after:.0f} {result.imported} {max(_HELPER_PEAKS, default=0):.0f}")


def memory(args, folder: Path) -> None:
    for megabytes in (float(m) for m in args.sizes.split(",")):
        path = folder / f"customers-{megabytes:g}MB.csv"
        rows = write_csv(path, megabytes=megabytes, token=uuid.uuid4().hex[:6])
        fresh = _FreshDatabase(args.db or "sqlite://", folder, f"memory{megabytes:g}")
        try:
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "benchmarks.customer_import", "--child", str(path),
                                  fresh.url], check=True, capture_output=True, text=True).stdout.split()
            seconds = time.perf_counter() - t0
        finally:
            fresh.drop()
            path.unlink()
        before, after, imported, helper = float(out[0]), float(out[1]), int(out[2]), float(out[3])
        print(f"{megabytes:5g} MB file ({rows:,} rows, {imported:,} imported in {seconds:.0f} s): peak memory "
              f"{after:.0f} MB, of which {before:.0f} MB before reading the file "
              f"(Python, the libraries, the database); "
              + (f"the preview's helper process {helper:.0f} MB" if helper
                 else "no helper process (the file was checked in this one)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3,
                        help="import and floor this many times by turns; the median ratio is printed last")
    parser.add_argument("--sizes", default="10,200", help="file sizes in MB for the memory figures ('' for none)")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="a PostgreSQL server's database URL (default: fresh SQLite files)")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.rows:
            speed(args, folder)
        if args.sizes:
            memory(args, folder)


if __name__ == "__main__":
    main()
