"""The customers of one status in the list's two orders (by name, by date), in place of the
customers by status alone: a list filtered on a status few customers have (the deactivated,
the erased) is laid out, counted and read from these alone, in its order, never from the
table (30,000 deactivated customers of a million by date: 9 ms against 50-70 ms read by the
status index and sorted)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customers_status_by_name", "customers", ["status", "sort_name", "id", "merged_into_id"])
    op.create_index("ix_customers_status_by_created", "customers", ["status", "created_at", "id", "merged_into_id"])
    op.drop_index("ix_customers_status", table_name="customers")


def downgrade() -> None:
    op.create_index("ix_customers_status", "customers", ["status"])
    op.drop_index("ix_customers_status_by_created", table_name="customers")
    op.drop_index("ix_customers_status_by_name", table_name="customers")
