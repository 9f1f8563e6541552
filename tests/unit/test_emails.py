"""Email addresses: stored form, lookup key and validation messages."""

from __future__ import annotations

import pytest

from backoffice.domain.emails import email_key, normalize_email, validate_email
from backoffice.errors import UserFacingError, ValidationError


def test_normalize_trims_and_lowers_the_domain_only():
    assert normalize_email("  Zoe.Smith@Example.COM \n") == "Zoe.Smith@example.com"


def test_normalize_leaves_text_without_at_sign_trimmed():
    assert normalize_email("  not an address ") == "not an address"


def test_key_is_fully_lower_case():
    assert email_key(" Zoe.Smith@Example.COM") == "zoe.smith@example.com"
    assert email_key("ZOE.SMITH@example.com") == email_key("zoe.smith@EXAMPLE.com")


def test_validate_returns_the_normalized_address():
    assert validate_email(" Anna.Yolkina@Example.ORG ") == "Anna.Yolkina@example.org"
    assert validate_email("josé@example.com") == "josé@example.com"


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("", "Enter an email address."),
        ("anna.example.com", "An email address needs an @ sign, as in name@example.com."),
        ("anna@@example.com", "An email address has only one @ sign."),
        ("@example.com", "Something must come before the @ sign, as in name@example.com."),
        ("anna@", "A domain must come after the @ sign, as in name@example.com."),
        ("anna smith@example.com", "An email address cannot contain spaces."),
        ("anna@example", "The part after the @ sign should have a dot, as in anna@example.com."),
        ("anna@mail.test", "mail.test is a reserved name that cannot receive email."),
    ],
)
def test_invalid_addresses_are_refused_with_a_sentence_for_the_field(typed, sentence):
    with pytest.raises(ValidationError) as caught:
        validate_email(typed)
    assert caught.value.fields == {"email": sentence}
    assert caught.value.message == sentence
    assert isinstance(caught.value, UserFacingError)


def test_other_mistakes_still_get_a_sentence():
    with pytest.raises(ValidationError) as caught:
        validate_email("anna..smith@example.com")
    message = caught.value.fields["email"]
    assert message.endswith(".")
    assert "period" in message
