"""The customers list's indexes (the customers shown, by name and by date, with their status)
and the orders by status and payment (the orders to ship, counted at start-up)

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None

_SHOWN = sa.text("merged_into_id IS NULL")


def upgrade() -> None:
    op.create_index("ix_customers_shown_by_name", "customers", ["sort_name", "id", "status", "merged_into_id"],
                    sqlite_where=_SHOWN, postgresql_where=_SHOWN)
    op.create_index("ix_customers_shown_by_created", "customers", ["created_at", "id", "status", "merged_into_id"],
                    sqlite_where=_SHOWN, postgresql_where=_SHOWN)
    op.create_index("ix_orders_status_paid_at", "orders", ["status", "paid_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_status_paid_at", table_name="orders")
    op.drop_index("ix_customers_shown_by_created", table_name="customers")
    op.drop_index("ix_customers_shown_by_name", table_name="customers")
