"""Deactivation, restriction and objection: no new orders, out of marketing, and undone by the owner."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.domain.catalog import Product
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus, OutboxKind
from backoffice.domain.sync import OutboxMessage
from backoffice.domain.text import fold
from backoffice.errors import PermissionDenied, UserFacingError
from backoffice.services import customers, phone_orders as po
from backoffice.services.privacy import flags, fulfil, identity, register


def _customer(db, owner, first, email):
    return customers.create_customer(db, actor=owner, first_name=first, last_name="Tester",
                                     email=email).customer.profile.id


def _mailable(db) -> set[int]:
    """What a mailing export would pick: everyone the predicate does not block."""
    with db.read() as s:
        return set(s.scalars(select(Customer.id).where(~flags.marketing_blocked_clause())))


def test_restriction_and_objection_leave_the_person_out_of_marketing(db, owner, staff):
    a = _customer(db, owner, "Ana", "ana@example.org")
    b = _customer(db, owner, "Ben", "ben@example.org")
    c = _customer(db, owner, "Cy", "cy@example.org")
    assert _mailable(db) == {a, b, c}
    for cid, kind in ((a, "restriction"), (b, "objection")):
        logged = register.log_request(db, actor=staff, kind=kind, customer_id=cid)
        identity.verify_identity(db, actor=staff, request_id=logged.request.id, method="reply_from_address")
        fulfil.fulfil_request(db, actor=owner, request_id=logged.request.id)
    assert _mailable(db) == {c}
    with db.read() as s:
        assert flags.marketing_blocked_customer_ids(s) == {a, b}
        sent = s.scalars(select(OutboxMessage.entity_id).where(OutboxMessage.kind == OutboxKind.UPDATE_CONSENT)).all()
    assert set(sent) == {a, b}
    detail = customers.get_customer(db, actor=staff, customer_id=a)
    assert detail.profile.restricted and not detail.profile.objected
    with pytest.raises(PermissionDenied):
        flags.set_privacy_flags(db, actor=staff, customer_id=a, restricted=False)
    flags.set_privacy_flags(db, actor=owner, customer_id=a, restricted=False)
    assert _mailable(db) == {a, c}


def test_deactivation_blocks_phone_orders_and_marketing_until_undone(db, owner):
    cid = _customer(db, owner, "Dora", "dora@example.org")
    with db.begin() as s:
        product = Product(sku="TEA", name="Tea", name_key=fold("Tea"), price=Decimal("5.00"), status="publish")
        s.add(product)
        s.flush()
        pid = product.id
    result = flags.deactivate_customer(db, actor=owner, customer_id=cid)
    assert result.status is CustomerStatus.DEACTIVATED and "no new orders" in result.sentence
    assert cid not in _mailable(db)
    with pytest.raises(UserFacingError, match="deactivated"):
        po.place_phone_order(db, actor=owner, customer_id=cid, lines=[po.LineInput(pid, 1)],
                             shipping=po.ShippingInput("local_pickup", "Local pickup", "0"))
    flags.reactivate_customer(db, actor=owner, customer_id=cid)
    assert cid in _mailable(db)
    placed = po.place_phone_order(db, actor=owner, customer_id=cid, lines=[po.LineInput(pid, 1)],
                                  shipping=po.ShippingInput("local_pickup", "Local pickup", "0"))
    assert placed.total == Decimal("5.00")
