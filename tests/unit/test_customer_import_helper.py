"""A long customer file is checked by halves in this process and in a helper process (a second
core): what the preview finds and what the import writes are the same as when this process
checks every row itself, card numbers masked; a half the helper could not check is checked here."""

from __future__ import annotations

import codecs
import csv
import io
import random

import pytest
from sqlalchemy import func, select

from backoffice.domain import Customer, CustomerNote
from backoffice.services import customer_import as ci
from backoffice.services.page_mapper import PageMapper

VISA = "4111 1111 1111 1111"
ROWS = 9_000  # more chunks than a file checked here alone has


def long_file(seed: int = 5) -> bytes:
    """A shop's list: phones repeated between rows, broken emails, an unknown country,
    repeated emails, card numbers in notes and in a phone column."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["First name", "Last name", "Email", "Phone", "City", "Zip", "Country", "Notes"])
    for i in range(ROWS):
        email = f"person{i}@example.com"
        if i % 97 == 0:
            email = "not-an-email"
        elif i % 131 == 0:
            email = f"person{i - 1}@example.com"  # the row before's
        phone = rng.choice(["(713) 555-{:04d}", "020 7946 {:04d}", "+49 30 1234{:04d}"]).format(rng.randrange(400))
        if i % 1009 == 0:
            phone = VISA
        country = "Atlantis" if i % 211 == 0 else rng.choice(["US", "GB", "DE"])
        note = f"Paid with {VISA} last time" if i % 50 == 0 else rng.choice(["", "Call first", "Wholesale"])
        writer.writerow([f"First{i}", f"Last{i}", email, phone, "Houston", "77001", country, note])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


@pytest.fixture
def helper_counted(monkeypatch):
    """The helper process is waited for once started, so the later chunks are shared with it;
    how many halves it checked is kept."""
    start, close = PageMapper.start, PageMapper.close
    checked: list[int] = []

    def start_and_wait(self):
        start(self)
        if self._ready is not None:
            self._ready.result(timeout=300)

    def close_and_count(self):
        checked.append(self.pages)
        close(self)

    monkeypatch.setattr(PageMapper, "start", start_and_wait)
    monkeypatch.setattr(PageMapper, "close", close_and_count)
    return checked


def _found(report) -> tuple:
    return (report.summary(), report.rows, report.new, report.duplicates, report.rejected, report.masked,
            [(p.line, p.column, p.message, p.kind) for p in report.problems],
            [(r.line, tuple(r.cells), r.reason) for r in report.rejected_rows()])


def test_a_long_file_checked_with_a_helper_finds_and_writes_what_checking_alone_does(db, owner, helper_counted,
                                                                                   monkeypatch):
    data = long_file()
    shared = ci.preview_import(db, actor=owner, data=data)
    assert helper_counted and helper_counted[-1] >= 2, "no half of a chunk was checked by the helper"
    monkeypatch.setattr(ci, "_CHUNKS_ALONE", 10**6)
    alone = ci.preview_import(db, actor=owner, data=data)
    assert _found(shared) == _found(alone)
    assert shared.rejected > 100 and shared.duplicates > 30 and shared.masked > 150

    result = ci.import_customers(db, actor=owner, data=data, preview=shared)
    assert result.imported == shared.new
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == shared.new
        notes = list(s.scalars(select(CustomerNote.text).where(CustomerNote.text.like("Paid with%"))))
    assert notes and not any(VISA in n or "1111 1111" in n for n in notes)


def test_a_half_the_helper_could_not_check_is_checked_here(db, owner, monkeypatch):
    # A helper that takes every half and gives nothing back (it broke on each).
    monkeypatch.setattr(PageMapper, "start", lambda self: None)
    monkeypatch.setattr(PageMapper, "ready", lambda self: True)
    monkeypatch.setattr(PageMapper, "ahead", lambda self, page, function=None: (lambda: None))
    data = long_file(seed=6)
    broken = ci.preview_import(db, actor=owner, data=data)
    monkeypatch.setattr(ci, "_CHUNKS_ALONE", 10**6)
    assert _found(broken) == _found(ci.preview_import(db, actor=owner, data=data))
    assert broken.new > 6000
