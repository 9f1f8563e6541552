"""Importing customers from a CSV file: encodings, delimiters, column names, broken rows with
their line numbers, duplicates, card numbers masked, permissions, and the rejected rows round trip."""

from __future__ import annotations

import codecs
import csv
import io
import json
import random

import pytest
from sqlalchemy import func, select

from backoffice import cli
from backoffice.domain import AuditEvent, Base, Customer, CustomerAddress, CustomerNote, OutboxMessage
from backoffice.domain.customer_fields import customer_columns
from backoffice.domain.enums import AuditOutcome, CustomerStatus
from backoffice.domain.phones import normalize_phone
from backoffice.domain.search import CustomerSearchTerm, contact_entry, customer_entry
from backoffice.errors import Cancelled, PermissionDenied, ValidationError
from backoffice.services import customer_import as ci
from backoffice.services import customers as customers_service
from backoffice.services import staff as staff_service
from backoffice.services.search_index import rebuild_search_index

VISA = "4111 1111 1111 1111"


def csv_bytes(rows, *, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = out.getvalue().encode(encoding)
    return (codecs.BOM_UTF8 if bom else b"") + data


def customers_by_email(db) -> dict[str, Customer]:
    with db.read() as s:
        found = {c.email_key: c for c in s.scalars(select(Customer))}
        s.expunge_all()
    return found


def address_of(db, customer_id) -> CustomerAddress | None:
    with db.read() as s:
        address = s.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)).first()
        s.expunge_all()
    return address


def problems_by_line(report) -> dict[int, list[tuple[str, str, ci.ProblemKind]]]:
    out: dict[int, list] = {}
    for p in report.problems:
        out.setdefault(p.line, []).append((p.column, p.message, p.kind))
    return out


# --- Reading files ------------------------------------------------------------------------------


def test_utf8_with_bom_semicolons_and_a_quoted_address_over_two_lines(db, owner):
    data = csv_bytes([
        ["First name", "Last name", "Email", "Address 1", "City", "Postcode"],
        ["Anna", "Weber", "anna@example.com", "Flat 2; back door\n1 Main St", "Houston", "77002"],
        ["Bob", "Stone", "not-an-email", "", "", ""],
    ], delimiter=";", bom=True)

    result = ci.import_customers(db, actor=owner, data=data)

    assert result.imported == 1
    report = result.report
    assert (report.encoding, report.delimiter) == ("UTF-8", ";")
    assert report.headers[0] == "First name"  # the byte-order mark is not part of the first name
    anna = customers_by_email(db)["anna@example.com"]
    assert (anna.first_name, anna.last_name) == ("Anna", "Weber")
    # The cell with a line break counts as two lines: Bob is on line 4 of the file.
    assert list(problems_by_line(report)) == [4]
    address = address_of(db, anna.id)
    assert address.address_1 == "Flat 2; back door 1 Main St" and address.postcode == "77002"
    assert address.country == "US"


def test_a_windows_1252_file_is_read_with_a_note(db, owner):
    data = csv_bytes([["Name", "Email", "City"], ["Jürgen Müller", "jm@example.de", "Köln"]],
                     encoding="cp1252")

    preview = ci.preview_import(db, actor=owner, data=data)

    assert preview.encoding == "Windows-1252"
    assert any("Windows-1252" in note for note in preview.notes)
    ci.import_customers(db, actor=owner, data=data, preview=preview)
    customer = customers_by_email(db)["jm@example.de"]
    assert (customer.first_name, customer.last_name) == ("Jürgen", "Müller")
    assert address_of(db, customer.id).city == "Köln"


def test_tab_separated_utf16_as_excel_saves_unicode_text(db, owner):
    text = "Given name\tSurname\tE-mail Address\r\nΕλένη\tΠαπαδοπούλου\teleni@example.gr\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")

    result = ci.import_customers(db, actor=owner, data=data)

    assert result.imported == 1 and result.report.delimiter == "\t"
    assert customers_by_email(db)["eleni@example.gr"].last_name == "Παπαδοπούλου"


def test_a_comma_file_whose_cells_hold_semicolons_is_read_with_commas(db, owner):
    data = csv_bytes([["Name", "Email", "Notes"],
                      ["Ann Lee", "ann@example.com", "likes tea; no calls; ring twice"],
                      ["Bo Lee", "bo@example.com", "a; b"]])

    preview = ci.preview_import(db, actor=owner, data=data)

    assert preview.delimiter == "," and preview.new == 2 and not preview.problems


def test_excel_sep_line_sets_the_delimiter_and_counts_as_a_line(db, owner):
    data = b"sep=;\r\nName;Email\r\nAnn Lee;ann@example\r\n"
    preview = ci.preview_import(db, actor=owner, data=data)
    assert preview.delimiter == ";"
    assert [(p.line, p.column) for p in preview.problems] == [(3, "Email")]


def test_column_names_people_use_are_recognised_and_the_rest_listed_as_ignored(db, owner):
    headers = ["Given name", "Family name", "E-mail Address", "Mobile", "Organisation",
               "Billing Street", "Address line 2", "Town", "County", "ZIP", "Country",
               "Comments", "Loyalty tier", "Shipping City", "Telephone"]
    data = csv_bytes([headers, ["Oliver", "Hughes", "oliver@example.co.uk", "07911 123456", "Hughes & Co",
                                "10 Downing St", "", "London", "Greater London", "SW1A 2AA", "United Kingdom",
                                "Prefers email", "gold", "Bath", "020 7946 0958"]])

    preview = ci.preview_import(db, actor=owner, data=data)

    mapped = {c.header: c.field for c in preview.columns}
    assert mapped == {
        "Given name": "first_name", "Family name": "last_name", "E-mail Address": "email",
        "Mobile": "phone", "Organisation": "company", "Billing Street": "address_1",
        "Address line 2": "address_2", "Town": "city", "County": "state", "ZIP": "postcode",
        "Country": "country", "Comments": "notes", "Loyalty tier": None, "Shipping City": None,
        "Telephone": None,
    }
    reasons = {c.header: c.label for c in preview.columns if c.field is None}
    assert "not a customer detail" in reasons["Loyalty tier"]
    assert "billing" in reasons["Shipping City"]
    assert "Mobile" in reasons["Telephone"]

    result = ci.import_customers(db, actor=owner, data=data, preview=preview)
    oliver = customers_by_email(db)["oliver@example.co.uk"]
    # A UK mobile written without its country code, in a row whose country is the UK.
    assert oliver.phone_e164 == "+447911123456" and oliver.phone.startswith("+44")
    assert oliver.company == "Hughes & Co"
    address = address_of(db, oliver.id)
    assert (address.city, address.state, address.postcode, address.country) == (
        "London", "Greater London", "SW1A 2AA", "GB")
    with db.read() as s:
        assert s.scalars(select(CustomerNote.text).where(CustomerNote.customer_id == oliver.id)).all() == [
            "Prefers email"]
    assert result.imported == 1


@pytest.mark.parametrize(("name", "first", "last"), [
    ("Smith, John", "John", "Smith"),
    ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
    ("Mrs Anna Maria Weber", "Anna Maria", "Weber"),
    ("John Smith Jr.", "John", "Smith Jr."),
    ("Cher", "Cher", ""),
])
def test_a_single_name_column_is_split_sensibly(name, first, last):
    assert ci.split_name(name) == (first, last)


def test_a_name_column_fills_first_and_last_name(db, owner):
    data = csv_bytes([["Full name", "Email"], ["García Márquez, Gabriel", "gabo@example.co"]])
    ci.import_customers(db, actor=owner, data=data)
    gabo = customers_by_email(db)["gabo@example.co"]
    assert (gabo.first_name, gabo.last_name) == ("Gabriel", "García Márquez")


# --- Broken rows ------------------------------------------------------------------------------


def test_broken_rows_are_rejected_with_their_line_and_column_and_the_rest_imported(db, owner):
    data = csv_bytes([
        ["First name", "Last name", "Email", "Phone", "City", "Country"],
        ["Ann", "Lee", "ann@example.com", "713 555 0101", "Houston", "US"],      # 2 fine
        ["Bob", "Ray", "bob@example.com", "713 555 0102", "Houston"],            # 3 one cell short
        ["", "", "", "713 555 0103", "Houston", "US"],                           # 4 nobody
        ["Cy", "Dee", "cy@@example.com", "713 555 0104", "", ""],                # 5 bad email
        ["Di", "Eve", "di@example.com", "12", "", ""],                           # 6 bad phone
        ["Ed", "Fay", "ed@example.com", "", "Springfield", "Narnia"],            # 7 unknown country
        ["Flo", "Gee", "flo@example.com", "", "X" * 121, "US"],                   # 8 city too long
        ["", "", "", "", "", ""],                                                # 9 empty: skipped
        ["Gus", "Hay", "gus@example.com", "", "", "", "surplus"],                # 10 one cell too many
        ["Hal", "Ivy", "hal@example.com", "", "", "", ""],                       # 11 empty extra cell: fine
    ])

    result = ci.import_customers(db, actor=owner, data=data)

    assert result.imported == 2
    assert set(customers_by_email(db)) == {"ann@example.com", "hal@example.com"}
    found = problems_by_line(result.report)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 10]
    assert "5 cells" in found[3][0][1] and found[3][0][0] == ""
    assert "no name, company or email" in found[4][0][1]
    assert found[5][0][0] == "Email" and "one @ sign" in found[5][0][1]
    assert found[6][0][0] == "Phone" and "not a valid phone number" in found[6][0][1]
    assert found[7][0][0] == "Country" and "Narnia" in found[7][0][1]
    assert found[8][0][0] == "City" and "at most 120" in found[8][0][1]
    assert "7 cells" in found[10][0][1]
    assert all(kind is ci.ProblemKind.REJECTED for rows in found.values() for _, _, kind in rows)
    assert result.report.blank_rows == 1 and result.report.rejected == 7
    assert [r.line for r in result.report.rejected_rows()] == [3, 4, 5, 6, 7, 8, 10]


def test_an_unclosed_quote_is_reported_and_the_rows_before_it_imported(db, owner):
    data = b'Name,Email,Notes\r\nAnn Lee,ann@example.com,fine\r\nBo Lee,bo@example.com,"oops\r\nCy Lee,cy@example.com,x\r\n'
    result = ci.import_customers(db, actor=owner, data=data)
    assert result.imported == 1
    [problem] = result.report.problems
    assert problem.line == 3 and "never closed" in problem.message and "lines 3 to 4" in problem.message
    # Nothing is lost: the swallowed line is in the rejected rows.
    assert b"cy@example.com" in ci.rejected_rows_csv(result.report)


def test_files_that_are_not_customer_lists_are_refused_with_a_sentence(db, owner):
    with pytest.raises(ValidationError, match="Excel workbook"):
        ci.preview_import(db, actor=owner, data=b"PK\x03\x04rest of a zip file")
    with pytest.raises(ValidationError, match="empty"):
        ci.preview_import(db, actor=owner, data=b"\xef\xbb\xbf\r\n\r\n")
    with pytest.raises(ValidationError, match="column names on line 1"):
        ci.preview_import(db, actor=owner, data=b"Anna,Weber,anna@example.com\r\n")
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0


# --- Duplicates -------------------------------------------------------------------------------


def test_duplicates_in_the_file_and_on_file_are_skipped_never_merged(db, owner):
    customers_service.create_customer(
        db, actor=owner, first_name="Maria", last_name="Garcia", email="maria@example.com")
    data = csv_bytes([
        ["First name", "Last name", "Email", "Phone"],
        ["María", "García López", "MARIA@example.com", "713 555 0199"],   # 2 on file
        ["Tom", "Ash", "tom@example.com", ""],                            # 3 new
        ["Thomas", "Ash", "Tom@Example.com", "713 555 0100"],             # 4 same as line 3
    ])

    preview = ci.preview_import(db, actor=owner, data=data)
    result = ci.import_customers(db, actor=owner, data=data, preview=preview)

    assert (preview.new, preview.duplicates) == (1, 2)
    assert (result.imported, result.duplicates) == (1, 2)
    found = problems_by_line(result.report)
    assert found[2] == [("Email", "A customer here already has this email address; this row was "
                                  "skipped, not merged. Search the Customers screen for the email to see them.",
                         ci.ProblemKind.DUPLICATE)]
    assert "Line 3 has the same email address" in found[4][0][1]
    by_email = customers_by_email(db)
    assert len(by_email) == 2
    maria = by_email["maria@example.com"]
    assert (maria.first_name, maria.last_name, maria.phone) == ("Maria", "Garcia", "")
    assert by_email["tom@example.com"].first_name == "Tom"


def test_a_customer_added_between_preview_and_import_is_a_duplicate_kept_whole(db, owner, staff):
    data = csv_bytes([["Name", "Email", "Favourite colour"], ["Ann Lee", "ann@example.com", "teal"]])
    preview = ci.preview_import(db, actor=owner, data=data)
    assert preview.new == 1
    customers_service.create_customer(db, actor=staff, first_name="Ann", email="ann@example.com")

    result = ci.import_customers(db, actor=owner, data=data, preview=preview)

    assert (result.imported, result.duplicates) == (0, 1)
    assert len(customers_by_email(db)) == 1
    rows = list(csv.reader(io.StringIO(ci.rejected_rows_csv(result.report).decode("utf-8-sig"))))
    assert rows[1][1:] == ["Ann Lee", "ann@example.com", "teal"]


def test_importing_the_same_file_twice_adds_nobody_the_second_time(db, owner):
    data = csv_bytes([["Name", "Email"], ["Ann Lee", "ann@example.com"], ["Bo Lee", "bo@example.com"]])
    assert ci.import_customers(db, actor=owner, data=data).imported == 2
    second = ci.import_customers(db, actor=owner, data=data)
    assert (second.imported, second.duplicates) == (0, 2)
    assert len(customers_by_email(db)) == 2


# --- Card numbers ---------------------------------------------------------------------------------


def test_card_numbers_in_cells_are_masked_imported_masked_and_reported(db, owner):
    data = csv_bytes([
        ["First name", "Last name", "Email", "Address 2", "Notes", "Phone", "Old system id"],
        ["Ann", "Lee", "ann@example.com", "4111111111111111", f"paid with {VISA} exp 12/26", "", ""],
        [f"Bo {VISA}", "Lee", "bo@example.com", "", "", "", "5555-5555-5555-4444"],
        ["Cy", "Lee", "cy@example.com", "", "", VISA, ""],
    ])

    result = ci.import_customers(db, actor=owner, data=data)

    masked = [(p.line, p.column) for p in result.report.problems if p.kind is ci.ProblemKind.MASKED]
    assert masked == [(2, "Address 2"), (2, "Notes"), (3, "First name"), (3, "Old system id"), (4, "Phone")]
    note = next(p for p in result.report.problems if p.column == "Notes")
    assert note.message == ("A card number was replaced by [card number removed, ends 1111]; "
                            "card numbers are never stored.")
    assert result.report.masked == 5
    # Imported masked; the row whose phone was a card number is rejected (not a phone).
    assert result.imported == 2
    by_email = customers_by_email(db)
    ann, bo = by_email["ann@example.com"], by_email["bo@example.com"]
    assert address_of(db, ann.id).address_2 == "[card number removed, ends 1111]"
    assert bo.first_name == "Bo [card number removed, ends 1111]"
    with db.read() as s:
        # The expiry date next to the number goes with it.
        assert s.scalars(select(CustomerNote.text)).all() == ["paid with [card number removed, ends 1111]"]
        terms = " ".join(t or "" for t in s.scalars(select(CustomerSearchTerm.term)))
    assert "4111" not in terms.replace("ends 1111", "")
    rejects = ci.rejected_rows_csv(result.report)
    assert b"cy@example.com" in rejects and b"ends 1111" in rejects
    for number in (b"4111111111111111", b"4111 1111 1111 1111", b"5555-5555-5555-4444"):
        assert number not in rejects


# --- Who may import, and what is recorded ---------------------------------------------------------


def test_an_order_taker_may_not_import_and_the_refusal_is_audited(db, order_taker):
    data = csv_bytes([["Name", "Email"], ["Ann Lee", "ann@example.com"]])
    with pytest.raises(PermissionDenied, match="Order taker"):
        ci.preview_import(db, actor=order_taker, data=data)
    with pytest.raises(PermissionDenied):
        ci.import_customers(db, actor=order_taker, data=data)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
        denied = s.scalars(select(AuditEvent.action).where(AuditEvent.outcome == AuditOutcome.DENIED)).all()
    assert denied == ["denied:edit_customer"] * 2


def test_the_import_is_audited_with_counts_only_and_not_sent_to_the_store(db, staff):
    data = csv_bytes([["Name", "Email", "Phone"], ["Ann Lee", "ann@example.com", "713 555 0101"],
                      ["Bo Lee", "bo@", ""], ["Cy Lee", "ann@example.com", ""]])

    preview = ci.preview_import(db, actor=staff, data=data)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0  # the preview wrote nothing
    result = ci.import_customers(db, actor=staff, data=data, preview=preview)

    with db.read() as s:
        [event] = s.execute(select(AuditEvent.staff_id, AuditEvent.customer_id, AuditEvent.fields)
                            .where(AuditEvent.action == "import_customers")).all()
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert event.staff_id == staff.staff_id and event.customer_id is None
    assert sorted(json.loads(event.fields)) == ["duplicates-1", "imported-1", "masked-0", "rejected-1"]
    assert result.changes.customers == result.customer_ids and len(result.customer_ids) == 1
    assert not result.changes.outbox
    # The imported customer is found at once by the search box.
    hits = customers_service.search_customers(db, actor=staff, query="713 555 0101")
    assert [h.id for h in hits] == list(result.customer_ids)
    assert [h.id for h in customers_service.search_customers(db, actor=staff, query="ann lee")] == [hits[0].id]


def search_index_rows(db) -> dict[str, list[tuple]]:
    """Every row of the search index's tables (whatever they are), without row ids."""
    tables = [t for t in Base.metadata.sorted_tables if t.name.startswith("customer_search")]
    with db.read() as s:
        return {t.name: sorted(tuple(r) for r in s.execute(select(*(c for c in t.c if c.name != "id"))))
                for t in tables}


def test_the_search_index_after_an_import_is_the_one_a_rebuild_makes(db, owner):
    customers_service.create_customer(db, actor=owner, first_name="Old", last_name="Timer",
                                      email="old@example.com", phone="713 555 0100")
    data = csv_bytes([["Name", "Email", "Phone", "Company", "Address", "Zip", "Country"],
                      ["Ann Lee", "ann.lee@example.com", "713 555 0101", "Lee & Daughters", "1 Main St",
                       "77002", "US"],
                      ["Jörg Müller", "jm@example.de", "030 12345678", "", "Hauptstraße 5", "10115", "DE"],
                      ["", "info@shop.example", "", "Shop Ltd", "", "", ""]])
    assert ci.import_customers(db, actor=owner, data=data).imported == 3
    imported = search_index_rows(db)
    assert imported["customer_search"] and imported["customer_search_text"]

    rebuild_search_index(db)

    assert search_index_rows(db) == imported
    hits = customers_service.search_customers(db, actor=owner, query="+49 30 12345678")
    assert [h.name for h in hits] == ["Jörg Müller"]


def test_a_new_customers_search_entry_is_the_one_the_general_walk_builds():
    # The import builds each new customer's entry without the walk over every source
    # column; on names, companies, emails, phones and postcodes of every kind it must
    # come out the same, card-shaped joins and cut terms included.
    rng = random.Random(5)
    firsts = ["", "Ann", "Anna Maria", "Jörg", "O'Brien", "Élodie", "4111", "Mr", "ß", "İlker", "x" * 300]
    lasts = ["", "Lee", "van Dijk", "Müller", "1111 1111 1111", "García-López", "Смирнова"]
    companies = ["", "Acme Ltd", "Lee & Daughters", "4111 1111", "Ünïcode GmbH"]
    emails = ["", "ann@example.com", "Ann.Lee@Example.com", "jörg.m@exämple.de", "a.b-c_d@x.org", "ÄNN@x.de",
              "1111.1111.1111.1111@x.com", "x" * 60 + "@" + "y" * 200 + ".com"]
    phones = ["", "713 555 0101", "(713) 555-0101", "+44 20 7946 0958", "030 12345678", "+1 713 555 0101 ext. 12",
              "17135550101", "0049 30 12345678", "+54 9 11 2345 6789"]
    postcodes = ["", "77002", "SW1A 1AA", "10115", "4111-1111", "Ö-1234"]
    compared = 0
    for _ in range(3000):
        first, last, company, email, phone, postcode = (rng.choice(c) for c in (
            firsts, lasts, companies, emails, phones, postcodes))
        region = rng.choice(["US", "GB", "DE"])
        parsed = normalize_phone(phone, default_region=region) if phone else None
        if phone and (parsed is None or not parsed.is_valid):
            continue
        e164 = parsed.e164 if parsed else ""
        derived = customer_columns(first_name=first, last_name=last, company=company, email=email,
                                   phone_e164=e164, phone_digits=e164[1:])
        has_address = rng.random() < 0.7
        address = {"first_name": first, "last_name": last, "company": company, "phone": phone, "email": email,
                   "address_1": "1 Main St", "postcode": postcode, "country": "US"}
        expected = customer_entry(
            {"id": 1, "status": CustomerStatus.ACTIVE, "merged_into_id": None, "first_name": first,
             "last_name": last, "company": company, "email": email or None, "email_key": derived["email_key"],
             "phone": phone, "phone_digits": derived["phone_digits"]},
            (address,) if has_address else (), default_region=region)
        for checked in (True, False):
            assert contact_entry(
                first_name=first, last_name=last, company=company, email=email or None,
                email_key=derived["email_key"], phone=phone, phone_digits=derived["phone_digits"],
                address=has_address, postcode=postcode, default_region=region,
                phone_digits_checked=checked) == expected, (first, last, company, email, phone, postcode)
        compared += 1
    assert compared > 2000


def test_a_cancelled_import_leaves_nothing_behind(db, owner, monkeypatch):
    monkeypatch.setattr(ci, "CHUNK", 2)
    data = csv_bytes([["Name", "Email"]] + [[f"Person {i}", f"p{i}@example.com"] for i in range(7)])
    calls = []

    def progress(done, total, text):
        calls.append(text)
        if text.startswith("Importing customer 5"):
            raise Cancelled()

    with pytest.raises(Cancelled):
        ci.import_customers(db, actor=owner, data=data, progress=progress)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
        assert s.scalar(select(func.count()).select_from(CustomerSearchTerm)) == 0
    assert ci.import_customers(db, actor=owner, data=data).imported == 7


# --- The rejected rows ------------------------------------------------------------------------------


def test_rejected_rows_round_trip_fix_and_import_again(db, owner, tmp_path):
    data = csv_bytes([
        ["Name", "Email", "Phone", "Notes"],
        ["Ann Lee", "ann@example.com", "", ""],
        ["Bo Lee", "bo at example.com", "", "likes, commas"],
        ["Cy Lee", "cy@example.com", "0", f"card {VISA}"],
        ["Dee Lee", "dee@example.com", "", "", "stray cell"],
    ], delimiter=";")
    first = ci.import_customers(db, actor=owner, data=data)
    assert (first.imported, first.rejected) == (1, 3)

    path = tmp_path / "rejected.csv"
    assert ci.write_rejected_rows(first.report, path) == 3
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8) and b"4111 1111" not in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [ci.REASON_HEADER, "Name", "Email", "Phone", "Notes"]
    assert rows[1][0].startswith("Line 3: Email:") and rows[1][1:] == ["Bo Lee", "bo at example.com", "", "likes, commas"]
    assert rows[2][0].startswith("Line 4: Phone:") and rows[2][4] == "card [card number removed, ends 1111]"
    assert rows[3][0].startswith("Line 5:") and rows[3][1:] == ["Dee Lee", "dee@example.com", "", "", "stray cell"]

    # The person fixes the three rows in a spreadsheet and imports the file again.
    rows[1][2] = "bo@example.com"
    rows[2][3] = ""
    rows[3] = rows[3][:5]
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    second = ci.import_customers(db, actor=owner, data=codecs.BOM_UTF8 + out.getvalue().encode())

    assert (second.imported, second.rejected, second.duplicates) == (3, 0, 0)
    assert [c.label for c in second.report.columns][0].startswith("Ignored: it is the reason column")
    assert set(customers_by_email(db)) == {"ann@example.com", "bo@example.com", "cy@example.com",
                                            "dee@example.com"}
    with db.read() as s:
        notes = s.scalars(select(CustomerNote.text).order_by(CustomerNote.id)).all()
    assert notes == ["likes, commas", "card [card number removed, ends 1111]"]


# --- The command ---------------------------------------------------------------------------------------


def test_the_command_prints_line_numbered_problems_and_fails_when_nothing_is_imported(
        db, tmp_path, capsys, monkeypatch):
    staff_service.use_fast_hashing_for_tests()
    staff_service.create_first_owner(db, login="boss", display_name="Boss", password="a long enough password")
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "a long enough password")
    file = tmp_path / "list.csv"
    file.write_bytes(csv_bytes([["Name", "Email", "Shoe size"], ["Ann Lee", "ann@example.com", "38"],
                                ["Bo Lee", "bo@", "44"]]))
    rejects = tmp_path / "rejects.csv"
    base = ["import-customers", str(file), "--db", db.url, "--as", "boss"]

    assert cli.main([*base, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Shoe size: Ignored" in out and "line 3, Email:" in out
    assert "Dry run, nothing imported: 2 rows read, 1 new customer" in out
    assert customers_by_email(db) == {}

    assert cli.main([*base, "--rejects", str(rejects)]) == 0
    out = capsys.readouterr().out
    assert "Imported 1 customer; 0 duplicates skipped, 1 row rejected." in out
    assert "no web store account is opened" in out
    assert "bo@" in rejects.read_text(encoding="utf-8-sig")

    # The second time every row is a duplicate or broken: nothing imported, exit 1.
    assert cli.main(base) == 1
    assert "Imported 0 customers; 1 duplicate skipped" in capsys.readouterr().out
    assert set(customers_by_email(db)) == {"ann@example.com"}
