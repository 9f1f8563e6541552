"""An access export for one person: a ZIP with JSON, one CSV per table and a printable PDF.

Generated from the personal-data registry, so a column declared as personal data is in
the bundle without anyone remembering to add it; with it the person's orders (guest
orders by their email or phone included) with their lines, payments and parcels, their
consent history, requests and disclosures (unless the owner marked one confidential).
Written only where the owner says, owner-only, through `backoffice.private_files`; the app
keeps no copy. The export itself is audited.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.documents.privacy_export_summary import export_summary_pdf
from backoffice.domain import personal_data
from backoffice.domain.base import utcnow
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus
from backoffice.domain.orders import OrderLine, Payment, Shipment, ShippingLine
from backoffice.domain.privacy import Disclosure
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import NotFound, ValidationError
from backoffice.private_files import SafeCsvWriter, open_private
from backoffice.services import access, audit
from backoffice.services.privacy.erasure import order_ids_of
from backoffice.services.settings import read_setting, shop_default_country

audit.register_action("export_personal_data", "Personal data exported")

# Tables reached through the person's orders; the registry's own link for them is the customer id only.
_ORDER_CHILDREN = (("order_lines", OrderLine), ("shipping_lines", ShippingLine), ("payments", Payment),
                   ("shipments", Shipment))
# Bookkeeping that says nothing about the person.
_LEFT_OUT = {"version", "store_digest", "password_hash", "key_hash"}


@dataclass(frozen=True)
class ExportResult:
    path: str
    tables: dict[str, int]  # rows per table
    columns: int


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, Enum):
        return value.value
    return value


def _rows(s: Session, table, where) -> list[dict[str, Any]]:
    hidden = {c.column for c in personal_data.personal_columns() if c.table == table.name and not c.export}
    cols = [c for c in table.columns if c.name not in hidden and c.name not in _LEFT_OUT]
    order_by = table.c.id if "id" in table.c else cols[0]
    return [{k: _plain(v) for k, v in row._mapping.items()}
            for row in s.execute(select(*cols).where(where).order_by(order_by))]


def collect(s: Session, customer_id: int, *, include_confidential: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every row of the person's data, by table (in the caller's session)."""
    c = s.get(Customer, customer_id)
    if c is None:
        raise NotFound("This customer is no longer here; nothing was exported.")
    if c.status is CustomerStatus.ERASED:
        raise ValidationError("This customer was erased; there is nothing left to export.")
    orders = order_ids_of(s, c, shop_default_country(s))
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in personal_data.registry():
        if all(not col.export for col in entry.columns):
            continue  # search index rows: they only repeat the record
        table = entry.sa_table
        if entry.table == "orders":
            where = table.c.id.in_(orders or [-1])
        elif entry.table == "order_addresses":
            where = table.c.order_id.in_(orders or [-1])
        elif "id" in table.c:
            where = table.c.id.in_(entry.row_ids_of_customer(customer_id))
        else:
            where = table.c[entry.subject_column] == customer_id
        out[entry.table] = _rows(s, table, where)
    for name, model in _ORDER_CHILDREN:
        out[name] = _rows(s, model.__table__, model.__table__.c.order_id.in_(orders or [-1]))
    disclosures = Disclosure.__table__
    where = disclosures.c.customer_id == customer_id
    if not include_confidential:
        where = where & disclosures.c.confidential.is_(False)
    out["disclosures"] = _rows(s, disclosures, where)
    return out


def bundle_bytes(tables: dict[str, list[dict[str, Any]]], *, shop: str, customer_id: int,
                 made_at: datetime) -> dict[str, bytes]:
    """The files of the bundle, by name."""
    files = {"data.json": json.dumps({"customer_id": customer_id, "made_at": made_at.isoformat(),
                                      "tables": tables}, indent=2, ensure_ascii=False).encode("utf-8")}
    for name, rows in tables.items():
        buf = io.StringIO()
        writer = SafeCsvWriter(buf)
        columns = list(rows[0].keys()) if rows else []
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
        files[f"tables/{name}.csv"] = ("\ufeff" + buf.getvalue()).encode("utf-8")
    files["summary.pdf"] = export_summary_pdf(shop=shop, customer_id=customer_id, made_at=made_at, tables=tables)
    return files


def export_personal_data(db: Database, *, actor: Actor, customer_id: int, out: str | os.PathLike,
                         replace: bool = False, include_confidential: bool = False,
                         request_id: int | None = None) -> ExportResult:
    """Write one person's data as a ZIP to `out` (owner-only, never over a file unless `replace`).

    Raises NotFound, ValidationError (erased), FileExistsRefused, PermissionDenied.
    """
    access.require(db, actor, Permission.EXPORT_PERSONAL_DATA, customer_id=customer_id)
    made_at = utcnow()
    with db.read() as s:
        tables = collect(s, customer_id, include_confidential=include_confidential)
        shop = str(read_setting(s, "shop.name") or "the shop")
    files = bundle_bytes(tables, shop=shop, customer_id=customer_id, made_at=made_at)
    protect = [db.sqlite_path] if db.sqlite_path else []
    with open_private(out, "wb", replace=replace, protect=protect) as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
    with db.begin() as s:
        audit.record(s, actor, "export_personal_data", entity_type="privacy_request" if request_id else "customer",
                     entity_id=request_id or customer_id, customer_id=customer_id, fields=sorted(tables))
    return ExportResult(str(Path(out)), {k: len(v) for k, v in tables.items()},
                        sum(len(v[0]) for v in tables.values() if v))
