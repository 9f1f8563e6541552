"""How fast a customer list imports from CSV: `python -m benchmarks.csv_import [--rows 100000] [--db URL]`.

Generates a CSV file like a shop's spreadsheet export (names, emails, phones from
several countries, addresses, some notes; about 1% broken rows and 0.5% repeated
emails) and times what a person goes through: the preview (reading and checking every
row), the import that reuses the preview (writing only), a second preview of the same
file (every row now a duplicate of a customer on file), and an import of another such
file without a preview (reading, checking and writing). Each figure is rows of the file
per second of wall time. The database is a fresh SQLite file unless --db names another;
emails carry a token of this run, so runs on the same database do not meet each
other's customers as duplicates.
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

from backoffice.db import open_database
from backoffice.domain.enums import Role
from backoffice.domain.staff import StaffUser
from backoffice.services import customer_import

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


def make_csv(rows: int, *, seed: int = 7, token: str = "") -> bytes:
    """A customer list of `rows` rows, with a few broken rows and repeated emails in it."""
    rng = random.Random(seed)
    emails: list[str] = []
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["First Name", "Last Name", "Email", "Phone", "Company", "Address 1", "Address 2",
                "City", "State", "Zip", "Country", "Notes", "Customer since"])
    for i in range(rows):
        country = rng.choices(("US", "GB", "DE"), weights=(80, 10, 10))[0]
        city, state, postcode = CITIES[country]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        roll = rng.random()
        if roll < 0.005 and emails:
            email = rng.choice(emails)  # an email already used above: a duplicate
        else:
            email = f"{first.lower()}.{i}{token}@example.com".replace("ø", "o").replace("é", "e")
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
    return out.getvalue().encode("utf-8")


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
            user = StaffUser(login=f"bench-{uuid.uuid4().hex[:6]}", display_name="Bench",
                             role=Role.OWNER, password_hash="!")
            s.add(user)
            s.flush()
            actor = user.actor(desk="bench")
        token = uuid.uuid4().hex[:6]
        data = make_csv(args.rows, token=token)
        print(f"{args.rows:,} rows, {len(data) / 1e6:.1f} MB, database {db.backend}")

        t0 = time.perf_counter()
        preview = customer_import.preview_import(db, actor=actor, data=data)
        t1 = time.perf_counter()
        result = customer_import.import_customers(db, actor=actor, data=data, preview=preview)
        t2 = time.perf_counter()
        again = customer_import.preview_import(db, actor=actor, data=data)
        t3 = time.perf_counter()
        other = make_csv(args.rows, seed=8, token=token + "b")
        t4 = time.perf_counter()
        second = customer_import.import_customers(db, actor=actor, data=other)
        t5 = time.perf_counter()
        db.dispose()

    def line(step: str, seconds: float, note: str) -> None:
        print(f"{step:<34} {seconds:8.2f} s  {args.rows / seconds:>9,.0f} rows/s  {note}")

    line("preview (read and check)", t1 - t0, preview.summary())
    line("import after the preview (write)", t2 - t1, result.summary())
    line("preview of the same file again", t3 - t2, again.summary())
    line("import without a preview (all)", t5 - t4, second.summary())
    line("preview + import, as in the app", t2 - t0, "")


if __name__ == "__main__":
    main()
