"""Packing slips read back from the PDF: what delivery needs is there, and nothing else."""

from __future__ import annotations

import io
import os
import re

import pytest
from pypdf import PdfReader

from backoffice.errors import PermissionDenied, ValidationError
from backoffice.private_files import FileExistsRefused
from backoffice.services.fulfilment import slips
from backoffice.services.settings import set_settings
from tests.unit.fulfilment_helpers import add_bundle, add_products, make_order


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def shop(db, owner):
    set_settings(db, actor=owner, values={
        "ship_from.name": "Bayou Goods", "ship_from.address": "1200 Main St\nHouston TX 77002",
        "shipping.phone_for_methods": "courier_express"})
    with db.begin() as s:
        products = add_products(s)
        first = make_order(s, products, number="5001", note="Leave at the back door")
        add_bundle(s, products, first)
        second = make_order(s, products, number="5002", first="山田", last="太郎", method="courier_express",
                            title="Courier express", minutes=5, gift_message="Happy birthday, Hana!")
        return {"first": first.id, "second": second.id, "products": products}


def test_slip_has_what_delivery_needs_and_no_prices_emails_or_refunded_items(db, staff, shop):
    batch = slips.render_slips(db, actor=staff, order_ids=[shop["first"]])
    (page,) = _text(batch.pdf)
    for wanted in ("Packing slip", "Bayou Goods", "1200 Main St", "Houston TX 77002", "Order 5001",
                   "Иван Петров", "ул. Ленина 5", "Москва", "Flat rate", "TEA-GREEN", "Size: Large tin",
                   "MUG-BLUE", "Gift box", "Green tea (in box)", "Leave at the back door", "2026-11-30"):
        assert wanted in page, wanted
    # Refunded in full: left off.
    assert "SOCK-RED" not in page
    # No prices, totals, currency, email or phone (a flat-rate carrier does not need it).
    assert not re.search(r"\d+\.\d\d", page), page
    assert "USD" not in page and "$" not in page
    assert "@" not in page and "example.com" not in page
    assert "555" not in page and "495" not in page


def test_phone_only_for_methods_whose_carrier_needs_it_and_cjk_names(db, staff, shop):
    batch = slips.render_slips(db, actor=staff, order_ids=[shop["second"], shop["first"]])
    second, first = _text(batch.pdf)
    assert "+7 495 123 4567" in second and "山田 太郎" in second
    assert "495" not in first
    # The gift message prints on gift slips only.
    assert "Happy birthday" not in second
    (gift,) = _text(slips.render_slips(db, actor=staff, order_ids=[shop["second"]], gift=True).pdf)
    assert "Gift slip" in gift and "Happy birthday, Hana!" in gift
    assert not re.search(r"\d+\.\d\d", gift)


def test_items_sorted_by_sku_or_by_bin(db, staff, shop):
    def order_of(text, skus):
        return sorted(skus, key=text.index)

    (by_sku,) = _text(slips.render_slips(db, actor=staff, order_ids=[shop["first"]], sort="sku").pdf)
    (by_bin,) = _text(slips.render_slips(db, actor=staff, order_ids=[shop["first"]], sort="bin").pdf)
    items = ["Gift box", "Mug-Blue item", "Tea-Green item"]
    assert order_of(by_sku, items) == ["Gift box", "Mug-Blue item", "Tea-Green item"]
    # Bins: MUG-BLUE A-01, TEA-GREEN B-02, BOX-GIFT C-09.
    assert order_of(by_bin, items) == ["Mug-Blue item", "Tea-Green item", "Gift box"]


def test_long_order_runs_onto_more_pages_on_every_size(db, staff, shop):
    with db.begin() as s:
        many = [("MUG-BLUE", 1, 0, [["Colour", f"Shade {i}"]]) for i in range(60)]
        order = make_order(s, shop["products"], number="5003", lines=many)
        order_id = order.id
    for size in ("letter", "a4", "4x6"):
        pages = _text(slips.render_slips(db, actor=staff, order_ids=[order_id], size=size).pdf)
        assert len(pages) >= 2, size
        assert "Shade 0" in pages[0] and "Shade 59" in pages[-1]
        assert f"page {len(pages)} of {len(pages)}" in pages[-1]


def test_collated_copies_repeat_the_whole_set(db, staff, shop):
    pdf = slips.render_slips(db, actor=staff, order_ids=[shop["first"], shop["second"]], copies=2).pdf
    numbers = [re.search(r"Order (\d+)", t).group(1) for t in _text(pdf)]
    assert numbers == ["5001", "5002", "5001", "5002"]
    pdf = slips.render_slips(db, actor=staff, order_ids=[shop["first"], shop["second"]], copies=2,
                             collate=False).pdf
    assert [re.search(r"Order (\d+)", t).group(1) for t in _text(pdf)] == ["5001", "5001", "5002", "5002"]


def test_file_is_owner_only_not_written_over_and_orders_marked_printed(db, staff, shop, tmp_path):
    out = tmp_path / "slips.pdf"
    written = slips.write_slips_file(db, actor=staff, order_ids=[shop["first"], shop["second"]], path=out)
    assert written.orders == 2 and out.read_bytes().startswith(b"%PDF")
    assert os.stat(out).st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsRefused):
        slips.write_slips_file(db, actor=staff, order_ids=[shop["first"]], path=out)
    assert slips.choose_orders(db, actor=staff, status="processing", not_printed=True) == ()
    assert len(slips.choose_orders(db, actor=staff, status="processing")) == 2


def test_order_takers_may_not_print_and_bad_choices_are_refused(db, order_taker, staff, shop):
    with pytest.raises(PermissionDenied):
        slips.render_slips(db, actor=order_taker, order_ids=[shop["first"]])
    with pytest.raises(ValidationError):
        slips.render_slips(db, actor=staff, order_ids=[])
    with pytest.raises(ValidationError):
        slips.render_slips(db, actor=staff, order_ids=[shop["first"]], size="legal")


def test_pick_list_sums_each_sku_across_orders(db, staff, shop):
    pick = slips.pick_list(db, actor=staff, order_ids=[shop["first"], shop["second"]], sort="bin")
    by_sku = {(line.sku, line.options): line for line in pick.lines}
    # 2 + 2 ordered, plus 1 inside the first order's gift box (a separate line: no options).
    assert by_sku[("TEA-GREEN", ("Size: Large tin",))].quantity == 4
    assert by_sku[("TEA-GREEN", ("Size: Large tin",))].orders == 2
    assert by_sku[("TEA-GREEN", ())].quantity == 1
    assert by_sku[("MUG-BLUE", ())].quantity == 2
    assert "SOCK-RED" not in {line.sku for line in pick.lines}
    assert "BOX-GIFT" not in {line.sku for line in pick.lines}
    assert [line.bin_location for line in pick.lines] == sorted(line.bin_location for line in pick.lines)


def test_gift_message_refuses_a_card_number(db, staff, shop):
    with pytest.raises(ValidationError) as caught:
        slips.set_gift_message(db, actor=staff, order_id=shop["first"], message="pay with 4111 1111 1111 1111")
    assert "1111 1111 1111" not in str(caught.value)
    slips.set_gift_message(db, actor=staff, order_id=shop["first"], message="With love")
    (gift,) = _text(slips.render_slips(db, actor=staff, order_ids=[shop["first"]], gift=True).pdf)
    assert "With love" in gift


def test_each_printed_order_is_in_the_audit_trail_and_the_chain_holds(db, staff, shop):
    from sqlalchemy import select

    from backoffice.domain import AuditEvent
    from backoffice.services.audit import check_chain

    slips.render_slips(db, actor=staff, order_ids=[shop["first"], shop["second"]])
    with db.read() as s:
        printed = s.execute(select(AuditEvent.entity_id).where(AuditEvent.action == "print_slips")).scalars().all()
    assert sorted(printed) == sorted([shop["first"], shop["second"]])
    assert check_chain(db).ok


def test_the_shops_logo_is_printed_and_a_missing_file_does_not_stop_the_slips(db, owner, staff, shop, tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (200, 30, 30)).save(logo)
    (before,) = PdfReader(io.BytesIO(slips.render_slips(db, actor=staff, order_ids=[shop["first"]]).pdf)).pages
    assert len(before.images) == 0
    set_settings(db, actor=owner, values={"ship_from.logo": str(logo)})
    (page,) = PdfReader(io.BytesIO(slips.render_slips(db, actor=staff, order_ids=[shop["first"]]).pdf)).pages
    assert len(page.images) == 1
    logo.unlink()
    (page,) = _text(slips.render_slips(db, actor=staff, order_ids=[shop["first"]]).pdf)
    assert "Bayou Goods" in page
