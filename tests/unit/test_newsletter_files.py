"""Importing Mailchimp and listmonk exports into a list and exporting a list for them:
per-line reports, nothing half-imported, suppression honoured, and the people the shop
may not market to left out of exports with a count of why."""

from __future__ import annotations

import csv
import os
import stat

import pytest
from sqlalchemy import func, select

from backoffice.domain import ConsentEvent, Customer, Subscription, Suppression
from backoffice.domain.enums import CustomerStatus, SubscriptionStatus
from backoffice.errors import Cancelled, UserFacingError
from backoffice.services import customers as customers_service
from backoffice.services.newsletters import consent, lists
from backoffice.services.newsletters.export_csv import excluded_from_marketing, export_list
from backoffice.services.newsletters.import_csv import import_list, preview_list_import

MC_HEAD = ("Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,"
           "LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES")
MC_UNSUB_HEAD = MC_HEAD + ",UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER"
MC_CLEAN_HEAD = MC_HEAD + ",CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID"


def mc_row(email, first="Ada", last="Lovelace", optin="2024-03-14 09:12:31", ip="10.0.0.1", extra=()):
    cells = [email, first, last, "2", optin, ip, "2024-03-14 09:14:00", "", "", "", "", "", "", "", "",
             "2024-03-14 09:14:00", "1", "abc", ""]
    return ",".join([*cells, *extra])


def mc_file(rows, head=MC_HEAD):
    return ("\r\n".join([head, *rows]) + "\r\n").encode("utf-8")


@pytest.fixture
def email_list(db, owner):
    return lists.find_list(db, actor=owner, name="Email newsletter")


def count(db, model):
    with db.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def customer(db, owner, email, **kw):
    return customers_service.create_customer(db, actor=owner, first_name="Known", last_name="Person",
                                             email=email, **kw).customer.id


def test_mailchimp_subscribers_are_previewed_then_imported(db, owner, email_list):
    known = customer(db, owner, "grace@example.com")
    data = mc_file([mc_row("ada@example.com"), mc_row("Grace@Example.com", "Grace", "Hopper", ip="")])
    preview = preview_list_import(db, actor=owner, list_id=email_list.id, data=data)
    assert preview.format == "mailchimp" and preview.kind == "subscribers" and preview.can_import
    assert count(db, Subscription) == 0  # a preview imports nothing
    result = import_list(db, actor=owner, list_id=email_list.id, data=data, preview=preview)
    assert (result.subscribed, result.new_customers) == (2, 1)
    with db.read() as s:
        ev = s.execute(select(ConsentEvent).join(Customer, Customer.id == ConsentEvent.customer_id)
                       .where(Customer.email_key == "ada@example.com")).scalar_one()
        assert ev.method == "import" and ev.source_address == "10.0.0.1" and ev.at.year == 2024
        assert s.execute(select(Subscription.status).where(Subscription.customer_id == known)).scalar_one() \
            is SubscriptionStatus.SUBSCRIBED
    # The new subscriber is found by the customer search.
    assert [h.id for h in customers_service.search_customers(db, actor=owner, query="ada@example.com")]


def test_a_malformed_file_gives_a_line_per_rejected_row_and_imports_nothing(db, owner, email_list):
    data = mc_file([
        mc_row("ok@example.com"),
        mc_row("not-an-address"),
        mc_row("card@example.com", first="4111 1111 1111 1111"),
        mc_row("late@example.com", optin="yesterday"),
        "short@example.com,Too,Few",
        mc_row("ok@example.com"),
    ])
    preview = preview_list_import(db, actor=owner, list_id=email_list.id, data=data)
    assert [r.line for r in preview.rejected] == [3, 4, 5, 6, 7]
    assert "card number" in preview.rejected[1].reason
    assert "OPTIN_TIME" in preview.rejected[2].reason
    assert "cells" in preview.rejected[3].reason
    assert "line 2" in preview.rejected[4].reason
    with pytest.raises(UserFacingError, match="nothing was imported"):
        import_list(db, actor=owner, list_id=email_list.id, data=data)
    assert count(db, Customer) == 0 and count(db, Subscription) == 0 and count(db, ConsentEvent) == 0
    # The card number went nowhere: not into the report either.
    assert "4111" not in " ".join(preview.report_lines())


def test_a_cancelled_import_leaves_nothing(db, owner, email_list):
    data = mc_file([mc_row(f"p{i}@example.com") for i in range(12_000)])
    preview = preview_list_import(db, actor=owner, list_id=email_list.id, data=data)

    def progress(done, total, text):
        if done >= 10_000:
            raise Cancelled()

    with pytest.raises(Cancelled):
        import_list(db, actor=owner, list_id=email_list.id, data=data, preview=preview, progress=progress)
    assert count(db, Customer) == 0 and count(db, Subscription) == 0


def test_suppression_stops_an_import(db, owner, email_list):
    cid = customer(db, owner, "gone@example.com")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email_list.id, wording_id=email_list.wording.id)
    consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=email_list.id, method=consent.Method.LETTER)
    # The person is erased; the suppression still stops an import of their address.
    with db.begin() as s:
        c = s.get(Customer, cid)
        c.status, c.email, c.email_key = CustomerStatus.ERASED, None, None
    data = mc_file([mc_row("gone@example.com"), mc_row("new@example.com")])
    result = import_list(db, actor=owner, list_id=email_list.id, data=data)
    assert result.subscribed == 1
    assert [(x.line, "opted out" in x.reason) for x in result.left_out] == [(2, True)]
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Customer)
                         .where(Customer.email_key == "gone@example.com")).scalar_one() == 0


def test_an_import_never_resubscribes_someone_who_opted_out_here(db, owner, email_list):
    cid = customer(db, owner, "maria@example.com")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email_list.id, wording_id=email_list.wording.id)
    consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=email_list.id, method=consent.Method.PHONE)
    with db.begin() as s:
        s.query(Suppression).delete()  # even without the suppression row
    result = import_list(db, actor=owner, list_id=email_list.id, data=mc_file([mc_row("maria@example.com")]))
    assert result.subscribed == 0 and len(result.left_out) == 1
    with db.read() as s:
        assert s.execute(select(Subscription.status).where(Subscription.customer_id == cid)).scalar_one() \
            is SubscriptionStatus.UNSUBSCRIBED


def test_mailchimp_unsubscribes_and_bounces(db, owner, email_list):
    a = customer(db, owner, "a@example.com")
    b = customer(db, owner, "b@example.com")
    for cid in (a, b):
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=email_list.id, wording_id=email_list.wording.id)
    unsub = mc_file([mc_row("a@example.com", extra=("2025-01-02 03:04:05", "", "", "", "")),
                     mc_row("stranger@example.com", extra=("2025-01-02 03:04:05", "", "", "", ""))],
                    head=MC_UNSUB_HEAD)
    result = import_list(db, actor=owner, list_id=email_list.id, data=unsub)
    assert result.unsubscribed == 2 and result.new_customers == 0
    clean = mc_file([mc_row("b@example.com", extra=("2025-02-02 03:04:05", "", ""))], head=MC_CLEAN_HEAD)
    assert import_list(db, actor=owner, list_id=email_list.id, data=clean).cleaned == 1
    with db.read() as s:
        statuses = dict(s.execute(select(Subscription.customer_id, Subscription.status)).all())
    assert statuses == {a: SubscriptionStatus.UNSUBSCRIBED, b: SubscriptionStatus.CLEANED}
    # The stranger's address is suppressed although no customer has it.
    again = import_list(db, actor=owner, list_id=email_list.id, data=mc_file([mc_row("stranger@example.com")]))
    assert again.subscribed == 0 and again.new_customers == 0 and len(again.left_out) == 1


def test_listmonk_export_statuses(db, owner, email_list):
    data = ("uuid,email,name,attributes,status,created_at,updated_at\n"
            '1,en@example.com,Ena Bled,{},enabled,2024-01-01 10:00:00+00:00,2024-01-02 10:00:00+00:00\n'
            '2,bl@example.com,Block Listed,"{""city"": ""Houston""}",blocklisted,2024-01-01 10:00:00+00:00,'
            '2024-01-03 10:00:00+00:00\n'
            '3,odd@example.com,Odd,{},weird,2024-01-01 10:00:00+00:00,2024-01-03 10:00:00+00:00\n').encode()
    preview = preview_list_import(db, actor=owner, list_id=email_list.id, data=data)
    assert preview.format == "listmonk" and [r.line for r in preview.rejected] == [4]
    fixed = data.replace(b"weird", b"disabled")
    result = import_list(db, actor=owner, list_id=email_list.id, data=fixed)
    assert (result.subscribed, result.unsubscribed) == (1, 2)
    # A blocklisted address gets no list at all; one disabled on that list may join another.
    other, _ = lists.create_list(db, actor=owner, name="Trade news", channel="email", purpose="Trade.",
                                 wording="Yes, send me trade news.")
    again = import_list(db, actor=owner, list_id=other.id, data=(
        "email,name,attributes\nbl@example.com,Block Listed,{}\nodd@example.com,Odd,{}\n").encode())
    assert again.subscribed == 1 and [x.line for x in again.left_out] == [2]


def test_export_leaves_out_whom_the_shop_may_not_market_to(db, owner, email_list, tmp_path):
    names = ["ok", "restricted", "objected", "deactivated", "erased", "suppressed"]
    ids = {n: customer(db, owner, f"{n}@example.com") for n in names}
    for cid in ids.values():
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=email_list.id, wording_id=email_list.wording.id)
    with db.begin() as s:
        s.get(Customer, ids["restricted"]).restricted = True
        s.get(Customer, ids["objected"]).objected = True
        s.get(Customer, ids["deactivated"]).status = CustomerStatus.DEACTIVATED
        s.get(Customer, ids["erased"]).status = CustomerStatus.ERASED
    # A suppression from another desk's import of a bounce, while still subscribed here.
    bounce = mc_file([mc_row("suppressed@example.com", extra=("2025-02-02 03:04:05", "", ""))], head=MC_CLEAN_HEAD)
    import_list(db, actor=owner, list_id=email_list.id, data=bounce)
    with db.begin() as s:
        s.execute(Subscription.__table__.update().where(Subscription.customer_id == ids["suppressed"])
                  .values(status=SubscriptionStatus.SUBSCRIBED))
    for fmt, header in (("mailchimp", ["Email Address", "First Name", "Last Name"]),
                        ("listmonk", ["email", "name", "attributes"])):
        out = tmp_path / f"{fmt}.csv"
        result = export_list(db, actor=owner, list_id=email_list.id, fmt=fmt, path=out)
        assert result.written == 1
        assert result.left_out == {"restricted": 1, "objected": 1, "deactivated": 1, "erased": 1, "suppressed": 1}
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
        with open(out, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == header and [r[0] for r in rows[1:]] == ["ok@example.com"]
    with pytest.raises(UserFacingError, match="already exists"):
        export_list(db, actor=owner, list_id=email_list.id, fmt="mailchimp", path=tmp_path / "mailchimp.csv")


def test_excluded_from_marketing_reads_the_flags():
    assert excluded_from_marketing({"status": "active", "restricted": False, "objected": False}) is None
    assert excluded_from_marketing({"status": "active", "restricted": True}) == "restricted"
    assert excluded_from_marketing({"status": "active", "objected": True}) == "objected"
    assert excluded_from_marketing({"status": "deactivated"}) == "deactivated"
    assert excluded_from_marketing({"status": "erased"}) == "erased"
