"""The customers list as a table model: every row counted, blocks of rows read on the database pool as they come into view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal

from backoffice.db import Database
from backoffice.domain.enums import CustomerStatus
from backoffice.domain.staff import Actor
from backoffice.services import customers as customers_service
from backoffice.services.customers import CustomerRow, CustomerSort, ListLayout
from ui.common.plain_text import plain_tooltip
from ui.common.tasks import TaskManager

STATUS_LABELS = {
    CustomerStatus.ACTIVE: "Active",
    CustomerStatus.DEACTIVATED: "Deactivated",
    CustomerStatus.ERASED: "Erased",
}

LOADING = "Loading…"


@dataclass(frozen=True)
class _Column:
    header: str
    value: Callable[[CustomerRow], str]
    ascending: CustomerSort | None = None  # how clicking the header sorts it
    descending: CustomerSort | None = None


COLUMNS = (
    _Column("Name", lambda r: r.name, CustomerSort.NAME, CustomerSort.NAME_DESC),
    _Column("Company", lambda r: r.company),
    _Column("Email", lambda r: r.email),
    _Column("Phone", lambda r: r.phone),
    _Column("Status", lambda r: STATUS_LABELS.get(r.status, str(r.status))),
    _Column("Customer since", lambda r: r.created_at.strftime("%Y-%m-%d") if r.created_at else "",
            CustomerSort.OLDEST, CustomerSort.NEWEST),
)

# Blocks asked for and not read yet; past this many, the ones asked for longest ago (scrolled
# past) are forgotten, so that the rows in view come next.
MAX_WANTED = 6
# Blocks whose starts one read of the layout finds (the database thread is free again after
# each part, for the rows someone scrolled to).
LAYOUT_PART = 25


class CustomersTableModel(QAbstractTableModel):
    """All the customers the sort and filters select, as rows of one table.

    The model knows how many rows there are (one count) and reads the rows in blocks of
    BLOCK_SIZE when the view asks for them: the first block, and the last (read from the
    other end), at once; any other block at the key where it starts, from a layout of the
    list read once per sort and filters in the background and kept until something
    changes; before the layout is there, by counting rows on the list's index. Rows not
    read yet show "Loading…". A new sort or filter (`set_query`) starts over and drops
    what is still on its way for the old one.
    """

    page_loaded = Signal(int)  # a block arrived; how many rows the list has
    counted = Signal(int)  # how many rows the list has (once per query)
    load_failed = Signal(object)

    BLOCK_SIZE = 200
    PAGE_SIZE = BLOCK_SIZE

    def __init__(self, tasks: TaskManager, db: Database, actor: Actor, parent=None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._db = db
        self._actor = actor
        self._sort = CustomerSort.NAME
        self._filters: dict = {}
        self._generation = 0
        self._count: int | None = None
        self._shown = 0  # rows the view knows of: 0 until the count and the first block are in
        self._blocks: dict[int, tuple[CustomerRow, ...]] = {}
        self._wanted: list[int] = []
        self._reading: int | None = None
        self._failed = False
        # Where blocks start, by (sort, filters), as far as read; kept until the customers change.
        self._layouts: dict[tuple, ListLayout] = {}
        # Counts by filters, kept as long as the layouts.
        self._counts: dict[tuple, int] = {}
        self._kick = QTimer(self)
        self._kick.setSingleShot(True)
        self._kick.setInterval(0)
        self._kick.timeout.connect(self._read_next)

    # --- the query -------------------------------------------------------------------

    @property
    def current_sort(self) -> CustomerSort:
        return self._sort

    @property
    def filters(self) -> dict:
        return dict(self._filters)

    def set_query(self, *, sort: CustomerSort | None = None, filters: dict | None = None) -> None:
        """Start over with another sort or other filters; the count and first rows load at once."""
        self.beginResetModel()
        self._generation += 1
        if sort is not None:
            self._sort = CustomerSort(sort)
        if filters is not None:
            self._filters = {k: v for k, v in filters.items() if v is not None}
        self._count = None
        self._shown = 0
        self._blocks = {}
        self._wanted = [0]
        self._reading = None
        self._failed = False
        self.endResetModel()
        # The first rows first, then the count (the database thread takes one at a time).
        self._read_next()
        count = self._counts.get(self._query_key()[1])
        if count is not None:
            self._counted(self._generation, count)
        else:
            self._read_count()

    def refresh(self) -> None:
        """Read everything again (the customers changed)."""
        self._layouts.clear()
        self._counts.clear()
        self.set_query()

    def row_at(self, row: int) -> CustomerRow | None:
        """The row's customer, or None while its block is still being read."""
        block = self._blocks.get(row // self.BLOCK_SIZE)
        if block is None:
            return None
        offset = row % self.BLOCK_SIZE
        return block[offset] if offset < len(block) else None

    def is_loading(self) -> bool:
        return not self._failed and (self._count is None or self._reading not in (None, -1)
                                     or bool(self._wanted))

    def total(self) -> int | None:
        """How many rows the list has, once counted."""
        return self._count

    def _query_key(self) -> tuple:
        return (self._sort, tuple(sorted(self._filters.items(), key=lambda kv: kv[0])))

    # --- reading -----------------------------------------------------------------------

    def _read_count(self) -> None:
        generation, db, actor, filters = self._generation, self._db, self._actor, dict(self._filters)

        def work(token, progress):
            return customers_service.count_customers(db, actor=actor, **filters)

        self._tasks.run_db(work, on_success=lambda n: self._counted(generation, n),
                           on_failure=lambda exc: self._fail(generation, exc), owner=self)

    def _counted(self, generation: int, count: int) -> None:
        if generation != self._generation:
            return
        self._count = count
        self._counts[self._query_key()[1]] = count
        self.counted.emit(count)
        self._show_rows()
        self._kick.start()

    def _show_rows(self) -> None:
        """Let the view know of the rows: the first block's as soon as it is in, every row
        once they are counted too."""
        first = self._blocks.get(0)
        known = self._count if self._count is not None else (len(first) if first is not None else 0)
        if first is None or known <= self._shown:
            if first is not None and self._count == 0:
                self.page_loaded.emit(0)
            return
        self.beginInsertRows(QModelIndex(), self._shown, known - 1)
        self._shown = known
        self.endInsertRows()
        self.page_loaded.emit(self._shown)

    def _want(self, block: int) -> None:
        if block in self._blocks or block == self._reading:
            return
        if block in self._wanted:
            self._wanted.remove(block)
        self._wanted.append(block)
        del self._wanted[:-MAX_WANTED]
        if self._reading is None:
            self._kick.start()

    def _last_block(self) -> int | None:
        if self._count is None:
            return None
        return max(0, (self._count - 1) // self.BLOCK_SIZE)

    def _block_where(self, block: int) -> dict[str, Any]:
        """How to find where `block` starts: from the top, a known start, or the list's end."""
        size, count = self.BLOCK_SIZE, self._count
        if block == 0:
            return {}
        # Next to a block already read: on from its last row, or back from its first.
        before, after = self._blocks.get(block - 1), self._blocks.get(block + 1)
        if before is not None and len(before) == size:
            return {"after": (before[-1].sort_key, before[-1].id)}
        if after:
            return {"from_end": True, "after": (after[0].sort_key, after[0].id)}
        layout = self._layouts.get(self._query_key())
        starts = layout.starts if layout is not None else []
        if block < len(starts):
            return {"start": starts[block]}
        from_top = (block - len(starts) + 1) * size if starts else block * size
        if count is None:
            return {"skip": block * size}
        from_end = count - (block + 1) * size
        if from_end < from_top:
            if from_end < 0:  # the last block, shorter than the others
                return {"from_end": True, "limit": count - block * size}
            return {"from_end": True, "skip": from_end}
        if starts:
            return {"start": starts[-1], "skip": (block - len(starts) + 1) * size}
        return {"skip": block * size}

    def _read_next(self) -> None:
        """Read the block asked for last (the one in view), one read at a time; when none is
        asked for, read on where the blocks start."""
        if self._reading is not None or self._failed:
            return
        if not self._wanted:
            self._read_layout()
            return
        block = self._wanted.pop()
        self._reading = block
        generation, db, actor = self._generation, self._db, self._actor
        sort, filters, size = self._sort, dict(self._filters), self.BLOCK_SIZE
        where = self._block_where(block)
        limit = where.pop("limit", size)

        def work(token, progress):
            return customers_service.list_customers_page(
                db, actor=actor, sort=sort, limit=limit, **where, **filters)

        def done(page) -> None:
            if generation != self._generation:
                return
            self._reading = None
            self._blocks[block] = tuple(page.rows)
            if self._shown:
                first = block * size
                last_row = min(self._shown, first + size) - 1
                if last_row >= first:
                    self.dataChanged.emit(self.index(first, 0), self.index(last_row, len(COLUMNS) - 1))
                self.page_loaded.emit(self._shown)
            else:
                self._show_rows()
            self._kick.start()

        self._tasks.run_db(work, on_success=done, on_failure=lambda exc: self._fail(generation, exc), owner=self)

    def _read_layout(self) -> None:
        """Read on where the blocks start (a part at a time, so a block asked for meanwhile
        waits for one part at most), once per sort and filters."""
        if self._count is None or not self._shown:
            return
        key = self._query_key()
        layout = self._layouts.get(key)
        if layout is not None and layout.next_start is None:
            return
        generation, db, actor = self._generation, self._db, self._actor
        sort, filters, size = self._sort, dict(self._filters), self.BLOCK_SIZE
        start = layout.next_start if layout is not None else None
        self._reading = -1

        def work(token, progress):
            return customers_service.customer_list_layout(
                db, actor=actor, sort=sort, block_size=size, start=start, blocks=LAYOUT_PART, **filters)

        def done(part: ListLayout) -> None:
            if generation != self._generation:
                return
            self._reading = None
            known = self._layouts.get(key)
            starts = (known.starts if known is not None else ()) + part.starts
            self._layouts[key] = ListLayout(block_size=size, starts=starts, next_start=part.next_start)
            self._kick.start()

        self._tasks.run_db(work, on_success=done, on_failure=lambda exc: self._fail(generation, exc), owner=self)

    def _fail(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._reading = None
        self._wanted = []
        self._failed = True
        self.load_failed.emit(exc)

    # --- Qt model ----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < self._shown):
            return None
        if not 0 <= index.column() < len(COLUMNS):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.UserRole):
            return None
        row = self.row_at(index.row())
        if row is None:
            self._want(index.row() // self.BLOCK_SIZE)
            if role == Qt.ItemDataRole.DisplayRole:
                return LOADING if index.column() == 0 else ""
            return None
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        value = COLUMNS[index.column()].value(row)
        if role == Qt.ItemDataRole.ToolTipRole and isinstance(value, str):
            return plain_tooltip(value)  # names from the store shown as typed, never as HTML
        return value

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section].header
        if orientation == Qt.Orientation.Vertical and 0 <= section < self._shown:
            return str(section + 1)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Clicking a sortable header starts over in that order; other columns do nothing."""
        if not 0 <= column < len(COLUMNS):
            return
        col = COLUMNS[column]
        wanted = col.ascending if order == Qt.SortOrder.AscendingOrder else col.descending
        if wanted is not None and wanted != self._sort:
            self.set_query(sort=wanted)

    def sort_column(self) -> tuple[int, Qt.SortOrder]:
        """Which header shows the sort indicator for the current order."""
        for i, col in enumerate(COLUMNS):
            if self._sort == col.ascending:
                return i, Qt.SortOrder.AscendingOrder
            if self._sort == col.descending:
                return i, Qt.SortOrder.DescendingOrder
        return 0, Qt.SortOrder.AscendingOrder
