"""The fake shop generator: deterministic, believable, and consistent enough to load."""

from __future__ import annotations

import collections
import hashlib
import os
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from backoffice.demo import names
from backoffice.demo.fake import (
    DEFAULT_UNTIL,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    FakeShop,
    _country_tables,
    _fill,
    generate_shop,
)
from backoffice.domain.emails import email_key, validate_email
from backoffice.domain.phones import normalize_phone

CUSTOMERS = 5000
ORDERS = 15000


@pytest.fixture(scope="module")
def shop() -> FakeShop:
    return generate_shop(customers=CUSTOMERS, orders=ORDERS)


def _fingerprint(shop: FakeShop) -> str:
    return hashlib.sha256(repr(shop).encode()).hexdigest()


# --- Sizes and determinism ---------------------------------------------------------


def test_sizes_are_as_asked(shop):
    assert len(shop.customers) == CUSTOMERS
    assert len(shop.orders) == ORDERS
    assert len(shop.products) == 60


@pytest.mark.parametrize("count", [0, 1, 7, 60, 150, 400])
def test_any_number_of_products_with_unique_skus(count):
    products = generate_shop(customers=0, orders=0, products=count).products
    assert len(products) == count
    assert len({p.sku for p in products}) == count


def test_same_seed_same_shop_and_another_seed_another_shop():
    first = generate_shop(customers=400, orders=900, seed=7)
    assert generate_shop(customers=400, orders=900, seed=7) == first
    other = generate_shop(customers=400, orders=900, seed=8)
    assert other.customers != first.customers
    assert other.orders != first.orders


def test_the_shop_does_not_depend_on_the_process_hash_seed():
    code = (
        "import hashlib; from backoffice.demo.fake import generate_shop; "
        "shop = generate_shop(customers=300, orders=600, seed=3); "
        "print(hashlib.sha256(repr(shop).encode()).hexdigest())"
    )
    here = _fingerprint(generate_shop(customers=300, orders=600, seed=3))
    hash_seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == here


def test_customers_do_not_change_with_the_number_of_orders():
    few = generate_shop(customers=300, orders=10)
    many = generate_shop(customers=300, orders=2000)
    assert few.customers == many.customers
    assert few.products == many.products


def test_history_ends_at_the_given_moment():
    until = datetime(2025, 3, 1, 12, tzinfo=UTC)
    shop = generate_shop(customers=200, orders=500, until=until)
    assert max(o.created_at for o in shop.orders) <= until
    assert min(o.created_at for o in shop.orders) >= until - timedelta(days=730)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        generate_shop(customers=-1, orders=0)
    with pytest.raises(ValueError):
        generate_shop(customers=0, orders=5)
    with pytest.raises(ValueError):
        generate_shop(customers=5, orders=5, until=datetime(2025, 1, 1))


def test_an_empty_shop_is_fine():
    shop = generate_shop(customers=0, orders=0, products=0)
    assert (shop.products, shop.customers, shop.orders) == ((), (), ())


# --- Products -------------------------------------------------------------------------


def test_the_catalogue_looks_like_a_tea_and_coffee_shop(shop):
    skus = {p.sku for p in shop.products}
    assert {"TEA-EB-100", "COF-HMB-12W", "TEA-GYO-100"} <= skus
    assert all(re.fullmatch(r"[A-Z]+-[A-Z0-9]+(-[A-Z0-9]+)*", sku) for sku in skus)
    assert {p.category for p in shop.products} >= {"Black Tea", "Green Tea", "Coffee", "Teaware"}
    for product in shop.products:
        assert product.price > 0
        assert product.price == product.price.quantize(Decimal("0.01"))
        assert product.stock >= 0
    assert any(p.stock == 0 for p in shop.products)


# --- Customers ----------------------------------------------------------------------


def test_every_phone_parses_as_a_valid_number(shop):
    checked = 0
    for customer in shop.customers:
        if customer.phone_raw:
            phone = normalize_phone(customer.phone_raw, default_region=customer.phone_region)
            assert phone is not None and phone.is_valid, customer.phone_raw
            checked += 1
        for address in customer.addresses:
            if address.phone_raw:
                phone = normalize_phone(address.phone_raw, default_region=address.country)
                assert phone is not None and phone.is_valid, address.phone_raw
    assert checked > 0.9 * CUSTOMERS


def test_phones_are_typed_in_many_ways(shop):
    shapes = {re.sub(r"\d", "9", c.phone_raw) for c in shop.customers if c.phone_region == "US"}
    for shape in [
        "(999) 999-9999",
        "999-999-9999",
        "+9 999-999-9999",
        "+99999999999",
        "9999999999",
    ]:
        assert shape in shapes
    assert any(not c.phone_raw.isascii() for c in shop.customers if c.phone_region == "JP")
    assert any(c.phone_raw.startswith("00") for c in shop.customers if c.phone_region == "DE")


def test_every_phone_plan_is_valid_and_read_back_in_every_style():
    tables = {t.country.code: t for t in _country_tables()}
    for country in names.COUNTRIES:
        table = tables[country.code]
        configured = {*country.mobiles, *(p for city in country.cities for p in city.phones)}
        configured |= set(country.spare_phones)
        plans = {(plan.head, len(plan.head) + plan.random_digits): plan for plan in table.all_plans}
        assert set(plans) == configured, country.code
        for plan in plans.values():
            step = max(1, 10**plan.random_digits // 23)
            for n in range(0, 10**plan.random_digits, step):
                phone = normalize_phone(plan.e164_head + str(n).zfill(plan.random_digits))
                assert phone is not None and phone.is_valid, plan.e164_head
                assert phone.region == country.code
            digits = "5" * plan.random_digits
            for style in plan.styles:
                typed = _fill(style, digits)
                phone = normalize_phone(typed, default_region=country.code)
                assert phone is not None and phone.e164 == plan.e164_head + digits, typed


def test_numbers_are_unique_except_for_planted_duplicates(shop):
    owners = collections.defaultdict(list)
    for index, customer in enumerate(shop.customers):
        if customer.phone_raw:
            owners[
                normalize_phone(customer.phone_raw, default_region=customer.phone_region).e164
            ].append(index)
    duplicates = [i for i, c in enumerate(shop.customers) if c.duplicate_of is not None]
    assert 5 <= len(duplicates) <= 0.02 * CUSTOMERS
    shared = {tuple(indexes) for indexes in owners.values() if len(indexes) > 1}
    assert shared == {(shop.customers[i].duplicate_of, i) for i in duplicates}


def test_a_duplicate_is_the_same_person_typing_the_phone_differently(shop):
    for customer in shop.customers:
        if customer.duplicate_of is None:
            continue
        original = shop.customers[customer.duplicate_of]
        assert customer.phone_raw != original.phone_raw
        assert email_key(customer.email) != email_key(original.email)
        assert customer.created_at >= original.created_at
        assert names.plain(customer.last_name) == names.plain(original.last_name)
        assert customer.addresses[0].address_1 == original.addresses[0].address_1


def test_emails_are_unique_plausible_and_on_example_domains(shop):
    keys = [email_key(c.email) for c in shop.customers]
    assert len(set(keys)) == len(keys)
    domains = {d for d, _ in names.EMAIL_DOMAINS}
    for customer in shop.customers[:1500]:
        assert customer.email.isascii()
        assert customer.email.rsplit("@", 1)[1] in domains
        assert validate_email(customer.email) == customer.email
    assert any(c.email != c.email.lower() for c in shop.customers)


def _scripts(text: str) -> set[str]:
    return {unicodedata.name(char).split()[0] for char in text if char.isalpha()}


def test_names_come_in_their_own_scripts_and_accents(shop):
    scripts = collections.Counter()
    for customer in shop.customers:
        scripts.update(_scripts(customer.first_name + customer.last_name))
    for script in [
        "LATIN",
        "CYRILLIC",
        "GREEK",
        "CJK",
        "HIRAGANA",
        "HEBREW",
        "ARABIC",
        "DEVANAGARI",
    ]:
        assert scripts[script] > 0, script
    everyone = {c.first_name for c in shop.customers} | {c.last_name for c in shop.customers}
    for name in ["Zoë", "José", "Nguyễn"]:
        assert name in everyone, name
    letters = set("".join(everyone))
    assert set("ëéèñçłøåäößễ") <= letters


def test_most_customers_are_american_with_a_share_from_abroad(shop):
    countries = collections.Counter(c.phone_region for c in shop.customers)
    assert countries["US"] > 0.6 * CUSTOMERS
    listed = {
        "CA",
        "GB",
        "DE",
        "FR",
        "ES",
        "PL",
        "SE",
        "GR",
        "RU",
        "UA",
        "JP",
        "CN",
        "IL",
        "BR",
        "IN",
    }
    assert listed <= set(countries)


def test_addresses(shop):
    counts = collections.Counter(len(c.addresses) for c in shop.customers)
    assert set(counts) == {1, 2, 3}
    for customer in shop.customers:
        kinds = [a.kind for a in customer.addresses]
        assert kinds == ["billing"] + ["shipping"] * (len(kinds) - 1)
        billing = customer.addresses[0]
        assert (billing.first_name, billing.last_name) == (customer.first_name, customer.last_name)
        assert billing.country == customer.phone_region
        assert billing.phone_raw == customer.phone_raw
        assert billing.address_1 and billing.city and billing.postcode
    us = [c.addresses[0] for c in shop.customers if c.phone_region == "US"]
    assert all(re.fullmatch(r"\d{5}", a.postcode) and len(a.state) == 2 for a in us)
    assert collections.Counter(a.city for a in us).most_common(1)[0][0] == "Houston"


def test_some_customers_are_deactivated(shop):
    statuses = collections.Counter(c.status for c in shop.customers)
    assert set(statuses) == {"active", "deactivated"}
    assert 0 < statuses["deactivated"] < 0.05 * CUSTOMERS


def test_customers_are_listed_in_sign_up_order(shop):
    created = [c.created_at for c in shop.customers]
    assert created == sorted(created)
    assert created[-1] <= DEFAULT_UNTIL


# --- Orders -----------------------------------------------------------------------------


def test_every_status_is_present(shop):
    assert set(o.status for o in shop.orders) == set(ORDER_STATUSES)


def test_every_status_is_present_even_in_a_tiny_shop():
    tiny = generate_shop(customers=3, orders=7)
    assert sorted(o.status for o in tiny.orders) == sorted(ORDER_STATUSES)


def test_totals_are_consistent_with_lines_and_shipping(shop):
    cent = Decimal("0.01")
    for order in shop.orders:
        subtotal = sum((line.qty * line.unit_price for line in order.lines), Decimal(0))
        assert order.total == subtotal + order.shipping_total
        assert order.total == order.total.quantize(cent)
        assert order.total.as_tuple().exponent == -2
        assert order.lines
        for line in order.lines:
            product = shop.products[line.product_index]
            assert line.qty >= 1
            assert Decimal("0.50") <= line.unit_price <= product.price
        assert len({line.product_index for line in order.lines}) == len(order.lines)


def test_orders_are_numbered_in_time_over_two_years(shop):
    numbers = [int(o.number) for o in shop.orders]
    assert numbers == list(range(1001, 1001 + ORDERS))
    dates = [o.created_at for o in shop.orders]
    assert dates == sorted(dates)
    assert dates[0] < DEFAULT_UNTIL - timedelta(days=700)
    assert dates[-1] > DEFAULT_UNTIL - timedelta(days=2)


def test_orders_belong_to_customers_who_had_signed_up(shop):
    for order in shop.orders:
        customer = shop.customers[order.customer_index]
        assert order.created_at >= customer.created_at
        assert 0 <= order.ship_to < len(customer.addresses)


def test_a_few_customers_order_a_lot(shop):
    per_customer = sorted(collections.Counter(o.customer_index for o in shop.orders).values())
    top_tenth = per_customer[-CUSTOMERS // 10 :]
    assert sum(top_tenth) > 0.4 * ORDERS
    assert per_customer[-1] > 20


def test_open_orders_are_mostly_recent(shop):
    recent = [o.status for o in shop.orders if o.created_at > DEFAULT_UNTIL - timedelta(days=2)]
    assert collections.Counter(recent).most_common(1)[0][0] == "processing"
    old = [o.status for o in shop.orders if o.created_at < DEFAULT_UNTIL - timedelta(days=30)]
    assert collections.Counter(old).most_common(1)[0][0] == "completed"
    assert old.count("processing") < 0.01 * len(old)


def test_payments_keep_only_card_brand_and_last_four(shop):
    methods = collections.Counter(o.payment_method for o in shop.orders)
    assert set(methods) == set(PAYMENT_METHODS)
    for order in shop.orders:
        if order.payment_method == "stripe":
            assert order.card_brand in {"visa", "mastercard", "amex", "discover"}
            assert re.fullmatch(r"\d{4}", order.card_last4)
        else:
            assert order.card_brand is None and order.card_last4 is None
        if order.payment_method == "cod":
            assert shop.customers[order.customer_index].addresses[order.ship_to].country == "US"
        if order.status == "on-hold":
            assert order.payment_method in {"bacs", "cheque"}
        if order.status == "failed":
            assert order.payment_method in {"stripe", "paypal"}


def _usps_ok(number: str) -> bool:
    if not number.isdigit():
        return False
    digits = [int(d) for d in number[:-1]]
    total = 3 * sum(digits[-1::-2]) + sum(digits[-2::-2])
    return (
        len(number) == 22 and number.startswith("94") and (10 - total % 10) % 10 == int(number[-1])
    )


def _ups_ok(number: str) -> bool:
    body = number[2:-1]
    total = 0
    for position, char in enumerate(body):
        value = int(char) if char.isdigit() else (ord(char) - 63) % 10
        total += value * 2 if position % 2 else value
    return re.fullmatch(r"1Z[0-9A-Z]{16}", number) is not None and (10 - total % 10) % 10 == int(
        number[-1]
    )


def _fedex_ok(number: str) -> bool:
    weights = [1, 3, 7] * 4
    total = sum(int(d) * w for d, w in zip(reversed(number[:-1]), weights))
    return len(number) == 12 and number.isdigit() and total % 11 % 10 == int(number[-1])


def _dhl_ok(number: str) -> bool:
    return len(number) == 10 and number.isdigit() and int(number[:-1]) % 7 == int(number[-1])


def _s10_ok(number: str) -> bool:
    match = re.fullmatch(r"(LZ|CP)(\d{8})(\d)US", number)
    if not match:
        return False
    total = sum(int(d) * w for d, w in zip(match.group(2), (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check) == int(match.group(3))


def test_shipped_orders_carry_real_looking_tracking_numbers(shop):
    check = {"ups": _ups_ok, "fedex": _fedex_ok, "dhl": _dhl_ok}
    carriers = collections.Counter()
    for order in shop.orders:
        if order.status == "completed" and order.shipping_method != "local_pickup":
            assert order.tracking_number
        if order.status in {"pending", "processing", "on-hold", "cancelled", "failed"}:
            assert order.tracking_number is None and order.tracking_carrier is None
        if order.tracking_number is None:
            continue
        carriers[order.tracking_carrier] += 1
        number = order.tracking_number
        if order.tracking_carrier == "usps":
            assert _usps_ok(number) or _s10_ok(number), number
        else:
            assert check[order.tracking_carrier](number), number
    assert set(carriers) == {"usps", "ups", "fedex", "dhl"}
    numbers = [o.tracking_number for o in shop.orders if o.tracking_number]
    assert len(set(numbers)) == len(numbers)


def test_check_digit_rules_match_published_examples():
    assert _ups_ok("1Z999AA10123456784")
    assert _fedex_ok("123456789012")
    assert _dhl_ok("3318810025")
    assert _s10_ok("LZ123456785US")


def test_shipping_matches_destination_and_basket(shop):
    for order in shop.orders:
        country = shop.customers[order.customer_index].addresses[order.ship_to].country
        if order.shipping_method in {"flat_rate", "free_shipping", "usps_priority", "local_pickup"}:
            assert country == "US"
        else:
            assert country != "US"
        if order.shipping_method == "free_shipping":
            assert order.subtotal >= 50
        if order.shipping_method == "flat_rate":
            assert order.subtotal < 50 and order.shipping_total == Decimal("5.95")


def test_orders_come_from_the_web_and_the_phone_with_a_few_notes(shop):
    origins = collections.Counter(o.origin for o in shop.orders)
    assert set(origins) == {"web", "phone"}
    assert origins["web"] > origins["phone"] > 0
    notes = [o.customer_note for o in shop.orders if o.customer_note]
    assert 0 < len(notes) < 0.1 * ORDERS
    assert all(o.currency == "USD" for o in shop.orders)
