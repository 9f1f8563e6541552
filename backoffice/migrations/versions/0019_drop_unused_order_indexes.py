"""Drop the order indexes no query uses: orders by status alone (the (status, paid_at) index
serves it) and by the store's modification time (never searched), and the order address
snapshots by order alone (the unique (order_id, kind) serves it) and by postcode (never
searched). Each cost every order the sync writes its share of the insert.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_orders_status", table_name="orders")
    op.drop_index("ix_orders_store_modified_at", table_name="orders")
    op.drop_index("ix_order_addresses_order_id", table_name="order_addresses")
    op.drop_index("ix_order_addresses_postcode", table_name="order_addresses")


def downgrade() -> None:
    op.create_index("ix_order_addresses_postcode", "order_addresses", ["postcode"])
    op.create_index("ix_order_addresses_order_id", "order_addresses", ["order_id"])
    op.create_index("ix_orders_store_modified_at", "orders", ["store_modified_at"])
    op.create_index("ix_orders_status", "orders", ["status"])
