"""Every public service takes the acting account and checks it: found by walking every
module under backoffice/services, then run for every role (owner, staff, order taker,
scheduled job) with refusals audited."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

import backoffice.services as services_package
from backoffice.domain.audit import AuditEvent
from backoffice.domain.customers import Customer
from backoffice.domain.enums import AuditOutcome, OrderStatus, PaymentMethod, Role
from backoffice.domain.orders import Order
from backoffice.errors import PermissionDenied, StoreError
from backoffice.services import orders, phone_orders, sync
from backoffice.services.customers import ListLayout
from tests.conftest import make_staff

ROOT = Path(__file__).resolve().parents[2]

# Modules that are steps of another service rather than services of their own. Nothing
# outside backoffice/services may import them (checked below), so every way in passes
# through a service that checked the acting account first.
INTERNAL_MODULES = {
    "store_mapping": "pure mapping between the store's records and rows; no database",
    "sync_common": "the sync's machinery (cursors, bulk inserts, page prefetch), run inside "
                   "sync.run_sync / push_pending after their check",
    "sync_pull": "the fetching half of sync.run_sync, run after its check",
    "sync_push": "the sending half of sync.run_sync / push_pending / push_order_now, run after their check",
    "record_labels": "order numbers and customer names for lists that point at records by id, read "
                     "inside sync.list_outbox / list_conflicts and audit.list_events after their check",
    "privacy.store_erasure": "the web store's half of an erasure, sent by sync_push after the sync's check",
    "newsletters.store_consent": "newsletter consent to and from the store's customer meta, mapped "
                                 "by sync_pull and sync_push after the sync's check",
}

# Public functions that take no acting account, grouped by why.
NO_ACTOR = {
    "pure rules and text helpers: they read nothing but the values the caller passes": {
        "audit.action_label", "audit.register_action", "audit.parse_key",
        "customer_import.country_code", "customer_import.map_columns", "customer_import.split_name",
        "customer_addresses.clean_address",
        "customers.ascending_sort", "customers.can_edit", "customers.can_merge", "customers.fragment_probe",
        "customers.phone_search",
        "customers.near_an_end", "customers.placed_by_sample", "customers.plan_query",
        "customers.positional_reads_are_quick",
        "customers.validate_changes",
        "orders.next_statuses", "orders.normalize_tracking_number",
        "phone_orders.mask_email", "phone_orders.new_reference", "outbox.outbox_reference",
        "settings.check_settings",
        "staff.hash_password", "staff.login_problem", "staff.name_problem", "staff.normalise_login",
        "staff.role_change_refusal", "staff.use_fast_hashing_for_tests",
        "sync.field_label",
        "privacy.erasure.blank_values", "privacy.erasure.years_ago", "privacy.export.bundle_bytes",
        "privacy.flags.marketing_blocked_clause", "privacy.identity.method_text",
        "privacy.identity.require_verified", "privacy.keyed_hash.keyed_hash",
        "privacy.keyed_hash.normalised_contact",
        "newsletters.export_csv.excluded_from_marketing", "newsletters.suppression.key_hash",
        "fulfilment.slip_data.line_options", "fulfilment.to_ship.to_ship_conditions",
        "fulfilment.slips.save_pdf", "phone_order_quotes.quote_basis",
        "phone_orders.account_deleted_on_store",
        "newsletters.suppression.normalised_address",
    },
    "take a Session: they run inside another service's unit of work, after its check": {
        "audit.verify_chain", "audit.database_name", "phone_orders.lock_order",
        "customer_addresses.ship_to_source",
        "outbox.queue_message", "phone_orders.queue_status_change",
        "refunds.amount_paid", "refunds.amount_refunded", "refunds.why_not_refund",
        "settings.read_setting", "settings.write_settings",
        "privacy.erasure.erase_in_session", "privacy.erasure.order_ids_of", "privacy.export.collect",
        "privacy.flags.deactivate_in_session", "privacy.flags.marketing_blocked_customer_ids",
        "privacy.flags.opt_out_in_session", "privacy.flags.set_flags_in_session",
        "privacy.register.add_event", "privacy.register.load", "privacy.register.row_of",
        "newsletters.consent.customer_address", "newsletters.consent.record_change",
        "fulfilment.slip_data.load_slips", "fulfilment.slip_data.phone_methods",
        "home.newsletter_list_sizes", "home.orders_per_day", "home.orders_to_ship", "home.phone_orders_today",
        "newsletters.lists.current_wording", "newsletters.lists.ensure_default_lists",
        "newsletters.suppression.is_suppressed", "newsletters.suppression.key_matches",
        "newsletters.suppression.lift", "newsletters.suppression.suppress",
        "newsletters.suppression.suppressed_hashes", "newsletters.suppression.suppression_secret",
    },
    "signing in: they establish who acts": {
        "staff.authenticate", "staff.sign_in_headless", "staff.sign_in_job",
        "staff.create_first_owner", "staff.needs_first_owner",
        "first_run.check_database", "first_run.check_store", "first_run.complete_first_run",
    },
    "the audit trail's own upkeep: says only whether the trail holds (cron runs it), or "
    "takes a key whose possession is the authority and which must check the trail": {
        "audit.check_chain", "audit.checkpoint_path", "audit.import_audit_key", "audit.audit_actions",
    },
    "upkeep when the database is opened, before anyone signs in; shows no one's data": {
        "privacy.erasure.clean_database_files",
        "search_index.compact_search_index", "search_index.rebuild_search_index",
        "search_index.reindex_customers",
        "search_index.search_index_needs_rebuild",
    },
    "the shop's settings every screen reads: no personal data, no secrets": {
        "settings.all_settings", "settings.get_setting", "settings.default_country",
    },
    "builds a store connector from the settings; the services it is handed to check": {
        "sync.connector_for",
    },
    "work on a report that import_customers returned to an account it checked": {
        "customer_import.rejected_rows_csv", "customer_import.write_rejected_rows",
    },
}

# Public functions that take the acting account but check no permission, and why.
ACTOR_WITHOUT_PERMISSION = {
    "access.require": "the check itself",
    "access.require_own_order": "the order-taker check itself",
    "audit.record": "writes the audit entry inside the caller's unit of work",
    "audit.refuse": "records a refusal the check found, and raises",
    "audit.record_views": "writes a batch's audit entries inside the caller's unit of work",
    "customers.add_customer": "adds a customer inside the caller's unit of work (create_customer, "
                              "place_phone_order), after its check",
    "staff.change_own_password": "the signed-in person's own account",
    "staff.verify_password": "the signed-in person's own account (unlocking the desk)",
    "staff.sign_out": "the signed-in person's own account",
    "staff.password_change_required": "the signed-in person's own account",
    "staff.disable_refusal": "a pure rule on values the caller has",
    "home.requests_waiting": "answers None to a role without the privacy queue; the queue is read "
                             "through privacy.register.queue_alarm, which checks",
}

OWNER, STAFF, TAKER, JOB = "owner", "staff", "order_taker", "scheduled_job"
EVERYONE = {OWNER, STAFF, TAKER}
DESK = {OWNER, STAFF}

# Who may call each guarded service: the permission matrix.
WHO_MAY = {
    "audit.export_audit_key": {OWNER},
    "audit.list_events": {OWNER},
    "backup.backup_database": {OWNER},
    "backup.list_backups": {OWNER},
    "backup.restore_database": {OWNER},
    "calls.dial_customer": EVERYONE,
    "calls.identify_caller": EVERYONE,
    "customer_import.import_customers": DESK,
    "customer_import.preview_import": DESK,
    "customer_addresses.list_addresses": EVERYONE,
    "customer_addresses.save_address": DESK,
    "customers.add_note": EVERYONE,
    "customers.count_customers": EVERYONE,
    "customers.customer_list_layout": EVERYONE,
    "customers.customer_list_position": EVERYONE,
    "customers.create_customer": DESK,
    "customers.find_duplicates": DESK,
    "customers.get_customer": EVERYONE,
    "customers.list_customers_page": EVERYONE,
    "customers.list_customers_rows": EVERYONE,
    "customers.merge_customers": DESK,
    "customers.newsletter_list_options": EVERYONE,
    "customers.sample_customer_list": EVERYONE,
    "customers.search_customers": EVERYONE,
    "customers.similar_customers": EVERYONE,
    "customers.update_customer": DESK,
    "fulfilment.bins.list_bin_locations": DESK,
    "fulfilment.bins.set_bin_locations": {OWNER},
    "fulfilment.packing.mark_packed": DESK,
    "fulfilment.packing.open_for_packing": DESK,
    "fulfilment.slips.choose_orders": DESK,
    "fulfilment.slips.mark_printed": DESK,
    "fulfilment.slips.pick_list": DESK,
    "fulfilment.slips.prepare_slips": DESK,
    "fulfilment.slips.render_pick_list": DESK,
    "fulfilment.slips.render_slips": DESK,
    "fulfilment.slips.set_gift_message": DESK,
    "fulfilment.slips.write_pick_list_file": DESK,
    "fulfilment.slips.write_slips_file": DESK,
    "fulfilment.to_ship.count_to_ship": DESK,
    "fulfilment.to_ship.list_to_ship_page": DESK,
    "home.home_summary": EVERYONE,
    "newsletters.consent.customer_consent": DESK,
    "newsletters.consent.subscribe": DESK,
    "newsletters.consent.unsubscribe": DESK,
    "newsletters.export_csv.export_list": DESK,
    "newsletters.import_csv.import_list": DESK,
    "newsletters.import_csv.preview_list_import": DESK,
    "newsletters.lists.add_wording": DESK,
    "newsletters.lists.create_list": DESK,
    "newsletters.lists.find_list": DESK,
    "newsletters.lists.growth_by_month": DESK,
    "newsletters.lists.list_lists": DESK,
    "newsletters.lists.list_members": DESK,
    "newsletters.lists.wordings": DESK,
    "newsletters.suppression.set_key": {OWNER},
    "newsletters.suppression.show_key": {OWNER},
    "orders.add_tracking": DESK,
    "orders.change_order_status": DESK,
    "orders.count_orders": EVERYONE,
    "orders.get_order": EVERYONE,
    "orders.list_orders_page": EVERYONE,
    "orders.order_takers": EVERYONE,
    "phone_order_quotes.quote_phone_order": EVERYONE,
    "refunds.record_refund": DESK,
    "phone_orders.caller_summary": EVERYONE,
    # Staff log requests and check identity; only the owner decides, exports and erases.
    "privacy.disclosures.list_disclosures": {OWNER},
    "privacy.disclosures.record_disclosure": {OWNER},
    "privacy.erasure.erase_customer": {OWNER},
    "privacy.erasure.preview_erasure": {OWNER},
    "privacy.export.export_personal_data": {OWNER},
    "privacy.flags.deactivate_customer": {OWNER},
    "privacy.flags.reactivate_customer": {OWNER},
    "privacy.flags.set_privacy_flags": {OWNER},
    "privacy.fulfil.fulfil_request": {OWNER},
    "privacy.fulfil.refuse_request": {OWNER},
    "privacy.identity.verify_identity": DESK,
    "privacy.letters.response_letter": {OWNER},
    "privacy.letters.save_letter": {OWNER},
    "privacy.notices.announce_policy_change": {OWNER},
    "privacy.register.get_request": DESK,
    "privacy.register.link_customer": DESK,
    "privacy.register.list_requests": DESK,
    "privacy.register.log_request": DESK,
    "privacy.register.queue_alarm": DESK,
    "privacy.register.withdraw_request": DESK,
    "privacy.retention.preview_retention": {OWNER},
    "privacy.retention.run_retention": {OWNER},
    "phone_orders.catalogue_lookup": EVERYONE,
    "phone_orders.choose_pay_later": EVERYONE,
    "phone_orders.mark_paid_from_store": EVERYONE,
    "phone_orders.pay_link_email": EVERYONE,
    "phone_orders.place_phone_order": EVERYONE,
    "phone_orders.product_hits": EVERYONE,
    "phone_orders.record_terminal_payment": EVERYONE,
    "phone_orders.repeat_order_lines": EVERYONE,
    "phone_orders.send_pay_link_again": EVERYONE,
    "phone_orders.shipping_options": EVERYONE,
    "phone_orders.similar_customers": EVERYONE,
    "sync.check_store_connection": {OWNER},
    "settings.set_settings": {OWNER},
    "settings.set_store_keys": {OWNER},
    "settings.store_keys_state": {OWNER},
    "staff.add_job_account": {OWNER},
    "staff.add_staff": {OWNER},
    "staff.change_role": {OWNER},
    "staff.disable_staff": {OWNER},
    "staff.enable_staff": {OWNER},
    "staff.list_staff": {OWNER},
    "staff.reset_password": {OWNER},
    # Order takers may not sync; the scheduled-job account may do nothing else.
    "sync.list_conflicts": DESK | {JOB},
    "sync.list_outbox": DESK | {JOB},
    "sync.list_sync_runs": DESK | {JOB},
    "sync.push_pending": DESK | {JOB},
    "sync.resolve_conflict": DESK | {JOB},
    "sync.retry_failed": DESK | {JOB},
    "sync.run_sync": DESK | {JOB},
    "sync_state.sync_status": DESK | {JOB},
    "sync.push_order_now": EVERYONE,
    "sync.refresh_order_from_store": EVERYONE,
}


def public_functions():
    """(module name, function name, function) for every public function of every service
    module, in the area packages too ("privacy.register", "newsletters.consent", ...)."""
    found = []
    prefix = f"{services_package.__name__}."
    for info in pkgutil.walk_packages(services_package.__path__, prefix):
        module = importlib.import_module(info.name)
        short = info.name[len(prefix):]
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == module.__name__:
                found.append((short, name, fn))
    return found


def guarded_functions():
    exempt = set().union(*NO_ACTOR.values()) | set(ACTOR_WITHOUT_PERMISSION)
    return {f"{m}.{n}": fn for m, n, fn in public_functions()
            if m not in INTERNAL_MODULES and f"{m}.{n}" not in exempt}


# --- the walk -----------------------------------------------------------------------------

def test_every_public_service_function_takes_the_acting_account():
    no_actor = set().union(*NO_ACTOR.values())
    missing = []
    for module, name, fn in public_functions():
        qualified = f"{module}.{name}"
        if module in INTERNAL_MODULES or qualified in no_actor:
            continue
        param = inspect.signature(fn).parameters.get("actor")
        # The checks and the audit writer take it in their place; services by keyword.
        keyword = qualified not in ACTOR_WITHOUT_PERMISSION
        if param is None or (keyword and param.kind is not inspect.Parameter.KEYWORD_ONLY):
            missing.append(qualified)
    assert not missing, (f"these services do not take the acting account as keyword `actor`: {missing}; "
                         "add it and check it, or list the function in NO_ACTOR with a reason")


def test_the_lists_of_exceptions_name_only_functions_that_exist():
    existing = {f"{m}.{n}" for m, n, _fn in public_functions()}
    modules = {m for m, _n, _fn in public_functions()}
    listed = set().union(*NO_ACTOR.values()) | set(ACTOR_WITHOUT_PERMISSION) | set(WHO_MAY)
    assert listed - existing == set()
    assert set(INTERNAL_MODULES) <= modules
    assert not set().union(*NO_ACTOR.values()) & set(ACTOR_WITHOUT_PERMISSION)


def test_internal_service_modules_are_not_used_from_outside_the_services():
    users = []
    for folder in (ROOT / "ui", ROOT / "backoffice"):
        for path in folder.rglob("*.py"):
            if "services" in path.relative_to(ROOT).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                for name in names:
                    if any(name == f"backoffice.services.{m}" for m in INTERNAL_MODULES):
                        users.append(f"{path.relative_to(ROOT)}: {name}")
    assert not users, f"an internal step of a service is used directly: {users}"


def _calls(fn) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            called.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
    return called


def _checks(fn, module, seen=()) -> bool:
    """Whether `fn` calls access.require (itself, or through a function of its module that does:
    a private helper, or another service of the module that checks first). The audit service,
    which access records refusals through, checks with `actor.may` and audit.refuse."""
    called = _calls(fn)
    if {"require", "require_own_order"} & called or {"may", "refuse"} <= called:
        return True
    for name in called:
        helper = getattr(module, name, None)
        if (inspect.isfunction(helper) and helper.__module__ == module.__name__
                and name not in seen and _checks(helper, module, (*seen, name))):
            return True
    return False


def test_every_guarded_service_calls_the_permission_check():
    unchecked = [q for q, fn in guarded_functions().items()
                 if not _checks(fn, importlib.import_module(fn.__module__))]
    assert not unchecked, f"these services take an actor but never call access.require: {unchecked}"


def test_the_matrix_covers_every_guarded_service():
    assert set(guarded_functions()) == set(WHO_MAY)


# --- the matrix ---------------------------------------------------------------------------

class DeadStore:
    """A store connector that never answers."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)

        def away(*_args, **_kwargs):
            raise StoreError("The web store did not answer; nothing was sent.")

        return away


@pytest.fixture
def shop(db):
    people = {role: make_staff(db, Role(role)) for role in (OWNER, STAFF, TAKER, JOB)}
    other = make_staff(db, Role.STAFF, "someone-else")
    with db.begin() as s:
        first = Customer(first_name="Ann", last_name="Lee", email="ann@example.com")
        second = Customer(first_name="Anne", last_name="Lee", email="anne@example.com")
        s.add_all([first, second])
        s.flush()
        mine = Order(number="5001", created_by_staff_id=people[TAKER].staff_id, customer_id=first.id,
                     status=OrderStatus.PENDING, total=Decimal("10.00"))
        theirs = Order(number="5002", created_by_staff_id=other.staff_id, customer_id=second.id,
                       status=OrderStatus.PENDING, total=Decimal("12.00"))
        s.add_all([mine, theirs])
        s.flush()
        ids = {"customer": first.id, "second": second.id, "mine": mine.id, "theirs": theirs.id,
               "other_staff": other.staff_id}
    return people, ids


def arguments(fn, ids) -> dict:
    values = {
        "customer_id": ids["customer"], "keep_id": ids["customer"], "merge_id": ids["second"],
        "order_id": ids["mine"], "staff_id": ids["other_staff"],
        "text": "Called about the parcel.", "query": "ann", "expected_version": 1, "changes": {},
        "carrier": "UPS", "tracking_number": "1Z999AA10123456784", "status": OrderStatus.COMPLETED,
        "method": PaymentMethod.INVOICE, "lines": [], "shipping": None, "product_ids": [],
        "gateway": "Stripe terminal", "transaction_id": "ch_1", "last4": "4242",
        "values": {}, "consumer_key": "ck_test", "consumer_secret": "cs_test",
        "login": "new-person", "display_name": "New Person", "role": Role.STAFF,
        "password": "a-long-password-1", "new_password": "another-password-1",
        "connector": DeadStore(), "conflict_id": 10**6, "keep": "local", "ids": [],
        "data": b"first_name,last_name,email\nBo,Day,bo@example.com\n",
        "backup": "/nonexistent-folder/backup.db", "number": "+1 713 555 0199",
        "bins": {}, "check": None, "code": "5001", "order_ids": [], "message": "Happy birthday!",
        "list_id": 10**6, "wording_id": 10**6, "fmt": "mailchimp", "path": "/nonexistent-folder/list.csv",
        "name": "Tea letter", "channel": "email", "purpose": "News about tea", "wording": "Yes, email me.",
        "request_id": 10**6, "kind": "access", "reason": "The law says to keep it.",
        "requested_by": "Harris County Court", "authority": "court order", "what_given": "name",
        "out": str(Path("/nonexistent-folder") / "out.bin"), "title": "Our policy changes",
        "body": "We will use your data in a new way.", "effective_at": None,
        "amount": Decimal("1.00"), "layout": ListLayout(stride=200, keys=(), count=0), "key": ("", 10**6),
    }
    kwargs, positional = {}, []
    for name, param in inspect.signature(fn).parameters.items():
        if name in ("db", "actor") or param.default is not inspect.Parameter.empty:
            continue
        assert name in values, f"give the permission matrix a value for `{name}` of {fn.__qualname__}"
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[name] = values[name]
        else:
            positional.append(values[name])
    return positional, kwargs


def last_audit(db):
    with db.read() as s:
        event = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one_or_none()
        if event is not None:
            s.expunge(event)
        return event


@pytest.mark.parametrize("qualified", sorted(WHO_MAY))
def test_permission_matrix(db, shop, qualified):
    people, ids = shop
    fn = guarded_functions()[qualified]
    positional, kwargs = arguments(fn, ids)
    # Those refused first, so what an allowed call changes cannot hide a refusal.
    for role in sorted(people, key=lambda r: r in WHO_MAY[qualified]):
        actor = people[role]
        allowed = role in WHO_MAY[qualified]
        if allowed:
            try:
                fn(db, *positional, actor=actor, **kwargs)
            except PermissionDenied as exc:
                pytest.fail(f"{qualified} refused {role}, who may call it: {exc}")
            except Exception:
                pass  # past the check; the call's own outcome is other tests' business
        else:
            with pytest.raises(PermissionDenied):
                fn(db, *positional, actor=actor, **kwargs)
            event = last_audit(db)
            assert event is not None and event.staff_id == actor.staff_id, f"{qualified}: {role}'s refusal not audited"
            assert event.outcome is AuditOutcome.DENIED and event.action.startswith("denied:")


# --- not one of yours ---------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda db, actor, order_id: orders.get_order(db, actor=actor, order_id=order_id),
    lambda db, actor, order_id: phone_orders.pay_link_email(db, actor=actor, order_id=order_id),
    lambda db, actor, order_id: sync.push_order_now(db, DeadStore(), order_id, actor=actor),
    lambda db, actor, order_id: sync.refresh_order_from_store(db, DeadStore(), order_id, actor=actor),
], ids=["get_order", "pay_link_email", "push_order_now", "refresh_order_from_store"])
def test_an_order_taker_refused_someone_elses_order_is_audited(db, shop, call):
    people, ids = shop
    taker = people[TAKER]
    with pytest.raises(PermissionDenied, match="not one of yours"):
        call(db, taker, ids["theirs"])
    event = last_audit(db)
    assert (event.staff_id, event.outcome, event.entity_type, event.entity_id, event.customer_id) == (
        taker.staff_id, AuditOutcome.DENIED, "order", ids["theirs"], ids["second"])
    assert event.action == "denied:view_all_orders"
    # Their own order opens.
    try:
        call(db, taker, ids["mine"])
    except PermissionDenied:
        pytest.fail("the order taker's own order was refused")
    except Exception:
        pass
