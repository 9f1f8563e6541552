"""The one declaration of where personal data lives, read from the model itself.

Each column holding personal data carries `info=personal(...)` where it is defined,
and each table holding any names how its rows belong to a customer
(`__subject__`: the customer's own id, a foreign key to customers, or a foreign key
to another table that belongs to a customer). Export, erasure and search are all
driven from `REGISTRY`, so a new column cannot be forgotten by one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Column, Select, Table, select

# Base's registry holds every model: importing this module runs the package's __init__,
# which imports them all, before any function here reads it.
from backoffice.domain.base import Base, Personal


@dataclass(frozen=True)
class PersonalColumn:
    table: str
    column: str
    category: str
    erase: str
    export: bool


@dataclass(frozen=True)
class PersonalTable:
    """A table holding personal data, and how its rows lead to their customer."""

    table: str
    model: type
    subject_column: str
    columns: tuple[PersonalColumn, ...]

    @property
    def sa_table(self) -> Table:
        return self.model.__table__

    def rows_of_customer(self, customer_id: int) -> Select:
        """A query selecting this table's rows that belong to `customer_id`."""
        return select(self.sa_table).where(_subject_clause(self.model, customer_id))

    def row_ids_of_customer(self, customer_id: int) -> Select:
        return select(self.sa_table.c.id).where(_subject_clause(self.model, customer_id))


def _model_for_table(table: Table) -> type | None:
    for mapper in Base.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    return None


def _subject_clause(model: type, customer_id: int):
    """The WHERE clause tying `model`'s rows to a customer, following foreign keys."""
    table: Table = model.__table__
    subject = getattr(model, "__subject__", None)
    if subject is None:
        raise LookupError(f"{table.name} does not say whose data it holds (__subject__)")
    col: Column = table.c[subject]
    if table.name == "customers" and subject == "id":
        return col == customer_id
    (fk,) = col.foreign_keys
    target = fk.column.table
    if target.name == "customers":
        return col == customer_id
    parent = _model_for_table(target)
    if parent is None:
        raise LookupError(f"{table.name}.{subject} points to an unmapped table")
    return col.in_(select(target.c.id).where(_subject_clause(parent, customer_id)))


@cache
def registry() -> tuple[PersonalTable, ...]:
    """Every table with personal data, in a stable order (customers first)."""
    tables: list[PersonalTable] = []
    for mapper in sorted(Base.registry.mappers, key=lambda m: m.local_table.name):
        table: Table = mapper.local_table
        cols = tuple(
            PersonalColumn(table.name, c.name, p.category, p.erase, p.export)
            for c in table.columns
            if isinstance(p := c.info.get("personal"), Personal)
        )
        if not cols:
            continue
        subject = getattr(mapper.class_, "__subject__", None)
        if subject is None:
            raise LookupError(
                f"{table.name} holds personal data but does not say whose (__subject__)"
            )
        tables.append(PersonalTable(table.name, mapper.class_, subject, cols))
    tables.sort(key=lambda t: (t.table != "customers", t.table))
    return tuple(tables)


def personal_columns() -> tuple[PersonalColumn, ...]:
    return tuple(c for t in registry() for c in t.columns)


def table(name: str) -> PersonalTable:
    for t in registry():
        if t.table == name:
            return t
    raise KeyError(name)
