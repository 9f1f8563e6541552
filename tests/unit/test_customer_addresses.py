"""Adding and changing a customer's addresses: checked, audited by field name, told to the store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice.domain.audit import AuditEvent
from backoffice.domain.enums import AddressKind, OutboxKind
from backoffice.domain.sync import OutboxMessage
from backoffice.errors import PermissionDenied, ValidationError
from backoffice.services import customer_addresses as addresses
from backoffice.services import customers as svc

HOME = {"address_1": "1 Main St", "city": "Houston", "postcode": "77002", "state": "TX"}
WORK = {"first_name": "Carol", "last_name": "Adams", "address_1": "500  Office  Park", "city": "Austin",
        "postcode": "78701", "state": "TX", "country": "us"}


@pytest.fixture
def carol(db, owner) -> int:
    return svc.create_customer(db, actor=owner, first_name="Carol", last_name="Adams",
                               email="carol@example.com", address=HOME).customer.id


def test_an_added_shipping_address_becomes_the_default_and_is_sent(db, owner, carol):
    changes = addresses.save_address(db, actor=owner, customer_id=carol, values=WORK, kind="shipping")
    assert carol in changes.customers
    listed = addresses.list_addresses(db, actor=owner, customer_id=carol)
    work = next(a for a in listed if a.kind is AddressKind.SHIPPING)
    assert work.is_default and work.address_1 == "500 Office Park" and work.country == "US"
    with db.read() as s:
        kinds = [m.kind for m in s.scalars(select(OutboxMessage).where(OutboxMessage.entity_id == carol))]
        fields = s.scalars(select(AuditEvent.fields).where(AuditEvent.action == "add_customer_address")).one()
    assert OutboxKind.UPDATE_CUSTOMER in kinds
    assert "Austin" not in fields and "city" in fields

    # A second shipping address made the default takes over: one default of each kind.
    other = dict(WORK, address_1="9 Side St")
    addresses.save_address(db, actor=owner, customer_id=carol, values=other, kind="shipping", make_default=True)
    defaults = [a for a in addresses.list_addresses(db, actor=owner, customer_id=carol)
                if a.kind is AddressKind.SHIPPING and a.is_default]
    assert [a.address_1 for a in defaults] == ["9 Side St"]

    addresses.save_address(db, actor=owner, customer_id=carol, address_id=work.id,
                           values=dict(WORK, city="Dallas"), kind="shipping")
    assert {a.city for a in addresses.list_addresses(db, actor=owner, customer_id=carol)} >= {"Dallas"}


def test_an_address_never_holds_a_card_number_and_needs_its_parts(db, owner, carol):
    with pytest.raises(ValidationError) as bad:
        addresses.save_address(db, actor=owner, customer_id=carol, kind="billing",
                               values=dict(WORK, address_2="4111 1111 1111 1111"))
    assert "card number" in bad.value.fields["address_2"]
    with pytest.raises(ValidationError) as missing:
        addresses.save_address(db, actor=owner, customer_id=carol, values={"address_1": "1 Road"})
    assert set(missing.value.fields) == {"city", "postcode"}
    assert len(addresses.list_addresses(db, actor=owner, customer_id=carol)) == 1


def test_an_order_taker_may_list_but_not_change_addresses(db, order_taker, carol):
    assert len(addresses.list_addresses(db, actor=order_taker, customer_id=carol)) == 1
    with pytest.raises(PermissionDenied):
        addresses.save_address(db, actor=order_taker, customer_id=carol, values=WORK)
