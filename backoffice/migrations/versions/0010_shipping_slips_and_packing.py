"""Shipping: bin locations, line options and bundles, refunded quantities, gift messages,
and when an order's slip was printed and when it was packed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("bin_location", sa.String(32), nullable=True))
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("options", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("bundled_in_line_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("refunded_quantity", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("gift_message", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("printed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("packed_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_orders_printed_at", ["printed_at"])


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_printed_at")
        batch.drop_column("packed_at")
        batch.drop_column("printed_at")
        batch.drop_column("gift_message")
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("refunded_quantity")
        batch.drop_column("bundled_in_line_id")
        batch.drop_column("options")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("bin_location")
