"""The customer's derived columns: the sort name's fallbacks and the cut to each column's length."""

from __future__ import annotations

from backoffice.domain.customer_fields import (
    contact_columns,
    customer_columns,
    derived_columns_for,
    sort_name,
)
from backoffice.domain.customers import Customer


def columns(**given):
    values = {"first_name": "", "last_name": "", "company": "", "email": None, "phone": "", "region": "US"}
    values.update(given)
    return contact_columns(**values)


def test_the_sort_name_is_last_then_first_name_folded():
    assert sort_name("María", "García-Núñez", "Acme", "m@example.com") == "garcia-nunez maria"
    assert sort_name("", "Stone", "", None) == "stone"
    assert sort_name("Bob", "", "", None) == "bob"


def test_without_a_name_the_company_sorts_and_without_either_the_email():
    assert sort_name("", "", "Ærø Trading", "sales@example.com") == "aero trading"
    assert sort_name("", "", "", "Sales@Example.com") == "sales@example.com"
    assert sort_name("", "", "", None) == ""
    assert sort_name(" ", " ", "", "") == ""


def test_the_sort_name_is_cut_to_its_column():
    # Folding can lengthen a name ("ß" is "ss"), so a name within its limits can still be long.
    long = sort_name("ß" * 120, "ß" * 120, "", None)
    assert len(long) == Customer.__table__.c.sort_name.type.length == 250
    assert long == ("ss" * 120 + " " + "ss" * 120)[:250]


def test_phone_keys_from_a_valid_number():
    got = columns(phone="(713) 555-0199")
    assert (got["phone_e164"], got["phone_digits"], got["phone_rev"]) == (
        "+17135550199", "17135550199", "99105553171")


def test_phone_keys_read_with_the_region_given():
    assert columns(phone="020 7946 0958", region="GB")["phone_e164"] == "+442079460958"
    assert columns(phone="+44 20 7946 0958", region="US")["phone_e164"] == "+442079460958"


def test_a_number_that_does_not_parse_keeps_its_digits_cut_to_the_column():
    got = columns(phone="1234 5678 9012 3456 7890 1234 5")
    assert got["phone_e164"] is None
    assert got["phone_digits"] == "12345678901234567890"
    assert got["phone_rev"] == got["phone_digits"][::-1]


def test_no_phone_and_no_email_leave_their_keys_empty():
    got = columns(first_name="Ann", last_name="Lee")
    assert got == {"email_key": None, "phone_e164": None, "phone_digits": None, "phone_rev": None,
                   "sort_name": "lee ann"}


def test_the_email_key_is_lower_case_and_cut_to_its_column():
    assert columns(email=" Ann.Lee@Example.COM ")["email_key"] == "ann.lee@example.com"
    long = "a" * 300 + "@example.com"
    assert columns(email=long)["email_key"] == long[:254]


def test_columns_from_a_parsed_phone_match_columns_from_the_typed_one():
    typed = columns(first_name="Ann", last_name="Lee", email="ann@example.com", phone="713 555 0199")
    parsed = customer_columns(first_name="Ann", last_name="Lee", company="", email="ann@example.com",
                              phone_e164="+17135550199", phone_digits="17135550199")
    assert parsed == typed


def test_only_the_columns_of_the_fields_changed_are_derived_again():
    assert derived_columns_for(["phone"]) == {"phone_e164", "phone_digits", "phone_rev"}
    assert derived_columns_for(["email"]) == {"email_key", "sort_name"}
    assert derived_columns_for(["company"]) == {"sort_name"}
    assert derived_columns_for(["notes"]) == set()
