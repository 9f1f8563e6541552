"""`backoffice slips` and `backoffice picklist`: a batch by status into one PDF, the orders
marked printed, and one-line refusals."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from backoffice import cli
from backoffice.domain.enums import OrderStatus, Role
from backoffice.services import staff as staff_service
from backoffice.services.fulfilment import slips
from tests.unit.fulfilment_helpers import add_products, make_order


@pytest.fixture
def shop(sqlite_db, monkeypatch):
    owner = staff_service.create_first_owner(sqlite_db, login="olga", display_name="Olga", password="owner-pass-1")
    staff_service.add_staff(sqlite_db, actor=owner, login="sam", display_name="Sam", role=Role.STAFF,
                            password="staff-pass-1")
    staff_service.add_staff(sqlite_db, actor=owner, login="tara", display_name="Tara", role=Role.ORDER_TAKER,
                            password="taker-pass-1")
    with sqlite_db.begin() as s:
        products = add_products(s)
        make_order(s, products, number="7001")
        make_order(s, products, number="7002", first="Γιώργος", last="Παπαδόπουλος", minutes=1)
        make_order(s, products, number="7003", status=OrderStatus.COMPLETED, minutes=2)
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "staff-pass-1")
    return sqlite_db


def _run(db, *args) -> int:
    return cli.main([*args, "--db", db.url, "--as", "sam"])


def test_slips_for_processing_orders_into_one_pdf_marked_printed(shop, tmp_path, capsys):
    out = tmp_path / "slips.pdf"
    assert _run(shop, "slips", "--status", "processing", "--out", str(out), "--size", "4x6", "--sort", "bin") == 0
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages]
    assert ["7001" in pages[0], "7002" in pages[1]] == [True, True] and len(pages) == 2
    assert "Γιώργος Παπαδόπουλος" in pages[1]
    assert "2 slips for 2 orders" in capsys.readouterr().out
    staff = staff_service.sign_in_headless(shop, login="sam", password="staff-pass-1")
    assert slips.choose_orders(shop, actor=staff, status=OrderStatus.PROCESSING, not_printed=True) == ()
    # Nothing left to print: a one-line reason and a non-zero exit.
    assert _run(shop, "slips", "--not-printed", "--out", str(tmp_path / "again.pdf")) == 1
    assert "no order matches" in capsys.readouterr().err
    assert not (tmp_path / "again.pdf").exists()


def test_picklist_sums_across_orders(shop, tmp_path, capsys):
    out = tmp_path / "pick.pdf"
    assert _run(shop, "picklist", "--orders", "7001,7002,7003", "--out", str(out)) == 0
    text = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert "3 orders" in text and "TEA-GREEN" in text
    # 2 tins of tea in each of three orders.
    assert "6 B-02 TEA-GREEN" in text.replace("\n", " ")


def test_refusals_are_one_line(shop, tmp_path, capsys, monkeypatch):
    out = tmp_path / "x.pdf"
    assert _run(shop, "slips", "--orders", "404", "--out", str(out)) == 1
    assert "No order numbered 404" in capsys.readouterr().err
    out.write_bytes(b"keep me")
    assert _run(shop, "slips", "--out", str(out)) == 1
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "taker-pass-1")
    assert cli.main(["slips", "--out", str(tmp_path / "y.pdf"), "--db", shop.url, "--as", "tara"]) == 1
    assert "may not print packing slips" in capsys.readouterr().err


def test_to_ship_prints_paid_orders_not_shipped_yet(shop, tmp_path, capsys):
    from backoffice.domain import Shipment

    with shop.begin() as s:
        s.add(Shipment(order_id=1, carrier="UPS", tracking_number="1Z999AA10123456784"))
    out = tmp_path / "to-ship.pdf"
    assert _run(shop, "slips", "--to-ship", "--out", str(out)) == 0
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages]
    # 7001 is shipped and 7003 completed: only 7002 waits.
    assert len(pages) == 1 and "Order 7002" in pages[0]
