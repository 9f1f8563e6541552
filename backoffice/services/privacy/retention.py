"""The retention job, off by default: orders past the retention period anonymised, customers
inactive for a set number of years erased; always with a preview of the counts first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain import personal_data
from backoffice.domain.base import utcnow
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus, OutboxKind
from backoffice.domain.orders import Order, OrderAddress
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import UserFacingError
from backoffice.services import access, audit
from backoffice.services.outbox import queue_message
from backoffice.services.privacy import erasure
from backoffice.services.settings import read_setting

audit.register_action("retention_run", "Retention job run")


@dataclass(frozen=True)
class RetentionPlan:
    enabled: bool
    order_years: int
    customer_years: int
    orders: int  # orders past the retention period still holding personal data
    customers: int  # customers with no order and no change for `customer_years`
    done: bool = False

    def lines(self) -> list[str]:
        state = "on" if self.enabled else "off (turn it on in Shop settings)"
        verb = "anonymised" if self.done else "to anonymise"
        out = [f"Retention job: {state}.",
               f"Orders older than {self.order_years} years {verb}: {self.orders}."]
        if self.customer_years:
            out.append(f"Customers inactive for {self.customer_years} years "
                       f"{'erased' if self.done else 'to erase'}: {self.customers}.")
        else:
            out.append("Inactive customers are kept (no number of years is set).")
        return out


def _cutoffs(s: Session, now: datetime):
    order_years = int(read_setting(s, "retention.order_years"))
    customer_years = int(read_setting(s, "retention.customer_inactive_years"))
    return order_years, customer_years, erasure.years_ago(now, order_years), erasure.years_ago(now, customer_years)


def _old_orders(order_cut: datetime):
    return select(Order.id).where(Order.created_at < order_cut, Order.anonymised.is_(False))


def _inactive(customer_cut: datetime):
    recent_order = select(Order.id).where(Order.customer_id == Customer.id, Order.created_at >= customer_cut).exists()
    return select(Customer.id).where(Customer.status != CustomerStatus.ERASED, Customer.merged_into_id.is_(None),
                                     Customer.updated_at < customer_cut, Customer.created_at < customer_cut,
                                     ~recent_order)


def _plan(s: Session, now: datetime, done: bool = False) -> RetentionPlan:
    order_years, customer_years, order_cut, customer_cut = _cutoffs(s, now)
    orders = s.scalar(select(func.count()).select_from(_old_orders(order_cut).subquery()))
    customers = s.scalar(select(func.count()).select_from(_inactive(customer_cut).subquery())) if customer_years else 0
    return RetentionPlan(bool(read_setting(s, "retention.job_enabled")), order_years, customer_years,
                         orders, customers, done)


def preview_retention(db: Database, *, actor: Actor, now: datetime | None = None) -> RetentionPlan:
    """The counts the retention job would act on; changes nothing. Raises PermissionDenied."""
    access.require(db, actor, Permission.ERASE_PERSONAL_DATA)
    with db.read() as s:
        return _plan(s, now or utcnow())


def run_retention(db: Database, *, actor: Actor, now: datetime | None = None) -> RetentionPlan:
    """Anonymise orders past the retention period and erase long-inactive customers.

    Raises UserFacingError while the job is off (the shop's setting), PermissionDenied.
    """
    access.require(db, actor, Permission.ERASE_PERSONAL_DATA)
    now = now or utcnow()
    with db.begin() as s:
        plan = _plan(s, now)
        if not plan.enabled:
            raise UserFacingError("The retention job is off; turn it on in Shop settings first. Nothing was changed.")
        _years, customer_years, order_cut, customer_cut = _cutoffs(s, now)
        if customer_years:
            for cid in list(s.scalars(_inactive(customer_cut))):
                erasure.erase_in_session(s, actor, cid, now=now)
        ids = list(s.scalars(_old_orders(order_cut)))
        if ids:
            s.execute(update(Order).where(Order.id.in_(ids)).values(
                **erasure.blank_values(Order.__table__, personal_data.table("orders").columns), anonymised=True,
                version=Order.version + 1))
            s.execute(update(OrderAddress).where(OrderAddress.order_id.in_(ids)).values(
                **erasure.blank_values(OrderAddress.__table__, personal_data.table("order_addresses").columns)))
            for store_id in s.scalars(select(Order.store_id).where(Order.id.in_(ids), Order.store_id.is_not(None))):
                queue_message(s, OutboxKind.ANONYMISE_STORE_ORDER, "order", int(store_id),
                              payload={"store_order_id": int(store_id)})
        audit.record(s, actor, "retention_run", entity_type="retention", fields=["orders", "customers"])
    erasure.clean_database_files(db)
    return RetentionPlan(plan.enabled, plan.order_years, plan.customer_years, plan.orders, plan.customers, True)
