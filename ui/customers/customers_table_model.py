"""The customers list as a table model: the list's layout read once per sort column and filters, blocks of rows read on the database pool as they come into view."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

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
# Layouts kept (by sort column and filters), the ones used longest ago forgotten first.
MAX_LAYOUTS = 16
# Blocks of rows kept (besides the first), the ones read longest ago forgotten first: someone
# paging through a million customers keeps the memory of a few thousand, and a block scrolled
# back to is read again.
MAX_BLOCKS = 50


class CustomersTableModel(QAbstractTableModel):
    """All the customers the sort and filters select, as rows of one table.

    The model shows the first block of BLOCK_SIZE rows as soon as it is read; the list's
    count and its layout (where every block starts, numbered inside the database) are
    read meanwhile on threads of their own, so the database thread stays free for the
    rows in view and for searches. Once the count is in (the quicker of the two), the
    view has every row; where the filters are on the list's index and keep most of it, a
    block anywhere is read at once by counting from the nearer end of the index, else it
    waits for the layout or, in a long list, is placed by the list's sample (see
    `_read_sample`). Once the layout is in, any block is one seek on the list's index: the
    last (Ctrl+End) as well as one in the middle of the scroll bar. Rows not read yet show
    "Loading…". Layouts are kept by sort column and filters (one serves both directions of
    its column), and counts by filters, until the customers change. The other column's
    layout is not read ahead: on PostgreSQL, reading a newsletter list's while someone
    pressed Ctrl+End made the last rows take half a second, and a sort chosen is placed by
    its sample until its own layout is in. A new sort or filter (`set_query`) starts over
    and drops what is still on its way for the old one.
    """

    page_loaded = Signal(int)  # a block arrived; how many rows the view has
    counted = Signal(int)  # how many rows the list has (once per query)
    load_failed = Signal(object)
    # Rows placed by the list's sample (first, last) are now at their exact places, `by` rows on.
    shifted = Signal(int, int, int)

    BLOCK_SIZE = 200

    def __init__(self, tasks: TaskManager, db: Database, actor: Actor, parent=None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._db = db
        self._actor = actor
        self._sort = CustomerSort.NAME
        self._filters: dict = {}
        self._generation = 0
        self._layout: ListLayout | None = None  # the current query's, once known
        self._count: int | None = None
        self._shown = 0  # rows the view knows of: 0 until the first block is in
        self._blocks: dict[int, tuple[CustomerRow, ...]] = {}
        # Blocks read before the customers changed, shown until theirs are read again.
        self._stale: dict[int, tuple[CustomerRow, ...]] = {}
        self._wanted: list[int] = []
        self._asked: int | None = None  # the row whose asking started the next read
        self._reading: tuple[int, ...] | None = None  # the blocks being read
        self._failed = False
        # Before the layout is in: the list's sample (`sample_customer_list`), and the blocks
        # placed by it or read on from those (about where they are, moved once it is in).
        self._sample: tuple | None = None
        self._sampling = False  # the sample is being read
        # Block -> the run it belongs to: rows placed by the sample start one, the blocks read on
        # from them join it (two runs side by side may not meet exactly).
        self._approx: dict[int, int] = {}
        self._runs = 0
        self._settling = False  # the layout is in: the blocks placed by the sample are to be moved
        # Layouts by (ascending sort of the column, filters), kept until the customers change.
        self._layouts: OrderedDict[tuple, ListLayout] = OrderedDict()
        self._laying_out: set[tuple] = set()  # layouts being read
        self._counts: dict[tuple, int] = {}  # counts by filters, kept until the customers change
        self._epoch = 0  # counts the changes of the customers: older layouts are not kept
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
        """Start over with another sort or other filters: the first rows and the layout
        are read at once (the layout found ready when it was read before)."""
        self.beginResetModel()
        self._generation += 1
        if sort is not None:
            self._sort = CustomerSort(sort)
        if filters is not None:
            self._filters = {k: v for k, v in filters.items() if v is not None}
        self._layout = None
        self._count = None
        self._shown = 0
        self._blocks = {}
        self._stale = {}
        self._wanted = [0]
        self._reading = None
        self._failed = False
        self._sample, self._sampling, self._approx, self._settling = None, False, {}, False
        self.endResetModel()
        self._read_next()  # the first rows
        key = self._layout_key()
        layout = self._layouts.get(key)
        if layout is not None:
            self._layouts.move_to_end(key)
            self._laid_out(layout)
            return
        count = self._counts.get(self._filters_key())  # the same filters, another sort: counted
        if count is not None:
            self._set_count(count)
        else:
            self._read_count()
        self._read_sample()
        self._read_layout(key, self._sort)

    def refresh(self) -> None:
        """Read everything again (the customers changed), keeping the view's place: the rows
        shown stay on screen until their blocks are read again, the count and layout are read
        again, and the view is told of rows added or gone at the end."""
        self._epoch += 1
        self._layouts.clear()
        self._laying_out.clear()
        self._counts.clear()
        if self._failed or not self._shown:
            self.set_query()
            return
        self._generation += 1
        self._stale = self._newest_blocks({**self._stale, **self._blocks})
        self._blocks = {}
        self._layout = None
        self._count = None  # (rows placed by the old count would be off by the rows added or gone)
        self._wanted = []
        self._reading = None
        self._sample, self._sampling, self._approx, self._settling = None, False, {}, False
        self._read_count()
        self._read_sample()
        self._read_layout(self._layout_key(), self._sort)
        # The view asks again for the rows it shows: their blocks are read, the old rows shown meanwhile.
        self.dataChanged.emit(self.index(0, 0), self.index(self._shown - 1, len(COLUMNS) - 1))

    def row_at(self, row: int) -> CustomerRow | None:
        """The row's customer, or None while its block is still being read."""
        return self._row_in(self._blocks, row)

    def _row_in(self, blocks: dict[int, tuple[CustomerRow, ...]], row: int) -> CustomerRow | None:
        block = blocks.get(row // self.BLOCK_SIZE)
        offset = row % self.BLOCK_SIZE
        return block[offset] if block is not None and offset < len(block) else None

    @staticmethod
    def _newest_blocks(blocks: dict[int, tuple[CustomerRow, ...]]) -> dict[int, tuple[CustomerRow, ...]]:
        """The first block and the MAX_BLOCKS read last (`blocks` is in the order they were read)."""
        if len(blocks) <= MAX_BLOCKS + 1:
            return blocks
        newest = [b for b in blocks if b != 0][-MAX_BLOCKS:]
        return {b: blocks[b] for b in ([0] if 0 in blocks else []) + newest}

    def is_loading(self) -> bool:
        return not self._failed and (self._layout is None or self._reading is not None
                                     or bool(self._wanted) or self._settling)

    def total(self) -> int | None:
        """How many rows the list has, once counted."""
        return self._count

    def is_laid_out(self) -> bool:
        """True once the view has every row of the list (its layout is known)."""
        return self._layout is not None and self._shown == self._layout.count

    def _filters_key(self) -> tuple:
        return tuple(sorted(self._filters.items(), key=lambda kv: kv[0]))

    def _layout_key(self) -> tuple:
        return (customers_service.ascending_sort(self._sort), self._filters_key())

    # --- the count and the layout -----------------------------------------------------

    def _read_count(self) -> None:
        """Count the list on the other pool, beside its layout and quicker: once counted, the
        scroll bar spans the whole list, and where the filters are on the list's index
        (`positional_reads_are_quick`) the rows anywhere in it are read before the layout is in."""
        generation, db, actor, filters = self._generation, self._db, self._actor, dict(self._filters)

        def work(token, progress):
            return customers_service.count_customers(db, actor=actor, **filters)

        def done(count: int) -> None:
            if generation == self._generation and self._layout is None and not self._failed:
                self._set_count(count)
                self._kick.start()

        # A count that fails says nothing: the layout's read, which counts too, says why. It goes
        # ahead of layouts waiting for a thread (those of filters chosen a moment ago, say).
        self._tasks.run_io(work, on_success=done, on_failure=lambda exc: None, owner=self, priority=1)

    def _read_sample(self) -> None:
        """Read the list's sample on the other pool, beside the first rows and ahead of the
        count and the layout (a read by primary key, 15-45 ms at a million customers): once it
        and the count are in, rows anywhere in a long list are read before its layout, about
        where they are (`customers_service.sample_customer_list`)."""
        generation, db, actor, sort, filters = self._generation, self._db, self._actor, self._sort, dict(self._filters)

        def work(token, progress):
            return customers_service.sample_customer_list(db, actor=actor, sort=sort, **filters)

        def done(sample: tuple) -> None:
            if generation == self._generation:
                self._sampling = False
                if self._layout is None and sample:
                    self._sample = tuple(sample)
                self._kick.start()

        def failed(exc: BaseException) -> None:
            # A sample that cannot be read leaves the rows to their layout, which says what went wrong.
            if generation == self._generation:
                self._sampling = False
                self._kick.start()

        self._sampling = True
        self._tasks.run_io(work, on_success=done, on_failure=failed, owner=self, priority=2)

    def _readable(self, block: int) -> bool:
        """Whether `block` can be read now: the first always; once the layout is in, any; before,
        once counted, those near an end (counted from it), the others once the sample is in
        (placed by it) or, where counting along the list's index is quick, unless the sample is
        on its way (its placing is quicker still)."""
        if block == 0 or self._layout is not None:
            return True
        if self._count is None:
            return False
        first = block * self.BLOCK_SIZE
        if self._placed_by_sample(first, self.BLOCK_SIZE) or customers_service.near_an_end(
                self._count, first, self.BLOCK_SIZE):
            return True
        return self._positional() and not self._sampling

    def _placed_by_sample(self, first: int, limit: int) -> bool:
        return (self._layout is None and self._sample is not None and self._count is not None
                and customers_service.placed_by_sample(self._count, first, limit, len(self._sample)))

    def _next_to_placed(self, block: int) -> tuple[str, CustomerRow, int] | None:
        """How `block` is read when a block beside it was placed by the sample: on from its
        rows ("after" its last, "before" its first), so that the two meet without a gap; and
        the run it then belongs to."""
        if self._layout is not None:
            return None
        for neighbour, how, at in ((block - 1, "after", -1), (block + 1, "before", 0)):
            rows = self._blocks.get(neighbour) if neighbour in self._approx else None
            if rows and rows[at] is not None:
                return how, rows[at], self._approx[neighbour]
        return None

    def _positional(self) -> bool:
        """Blocks can be read before the layout is in: counted from the nearer end of the list."""
        return self._count is not None and customers_service.positional_reads_are_quick(self._count, **self._filters)

    def _read_layout(self, key: tuple, sort: CustomerSort) -> None:
        """Read the layout for `key` on the other pool: the read goes along the whole list
        (up to a second or two at a million customers) and would hold the database thread
        for as long, ahead of the rows in view and of searches."""
        if key in self._laying_out:
            return
        self._laying_out.add(key)
        epoch, db, actor = self._epoch, self._db, self._actor
        filters = dict(key[1])

        def work(token, progress):  # (cancelled once the model is gone)
            return customers_service.customer_list_layout(db, actor=actor, sort=sort, cancel=token, **filters)

        def done(layout: ListLayout) -> None:
            if epoch != self._epoch:
                return  # the customers changed meanwhile: read again by the refresh
            self._laying_out.discard(key)
            self._keep(key, layout)
            if key == self._layout_key() and self._layout is None:
                self._laid_out(layout)

        def failed(exc: BaseException) -> None:
            if epoch != self._epoch:
                return
            self._laying_out.discard(key)
            if key == self._layout_key():
                self._fail(self._generation, exc)

        self._tasks.run_io(work, on_success=done, on_failure=failed, owner=self)

    def _keep(self, key: tuple, layout: ListLayout) -> None:
        self._layouts[key] = layout
        self._layouts.move_to_end(key)
        while len(self._layouts) > MAX_LAYOUTS:
            self._layouts.popitem(last=False)

    def _laid_out(self, layout: ListLayout) -> None:
        """The current query's layout is known: the view gets every row, and the rows placed
        by the sample are moved to their exact places (`_settle`) before any other is read."""
        self._layout = layout
        self._sample = None
        self._settling = bool(self._approx)
        self._set_count(layout.count)
        self._kick.start()

    def _settle(self) -> None:
        """Move the rows placed by the sample, and those read on from them, to their exact
        places now that the layout is in: each run of such blocks is found on the list by its
        first row (`customer_list_position`), its rows keep being shown there (whole blocks as
        read, the rest until read again), and `shifted` tells the view, which keeps the same
        customers in view by scrolling as far."""
        self._settling = False
        runs: list[list[int]] = []
        for b in sorted(b for b in self._approx if b in self._blocks):
            if runs and runs[-1][-1] == b - 1 and self._approx[runs[-1][-1]] == self._approx[b]:
                runs[-1].append(b)
            else:
                runs.append([b])
        size = self.BLOCK_SIZE
        placed = []  # (first row it was shown at, its rows) of each run
        for run in runs:
            rows = [r for b in run for r in self._blocks[b]]
            at = run[0] * size
            while rows and rows[0] is None:  # (read "before" near the list's start: shorter)
                rows.pop(0)
                at += 1
            if rows and None not in rows:
                placed.append((at, tuple(rows)))
        for b in self._approx:
            self._blocks.pop(b, None)
        self._approx = {}
        if not placed:
            self._kick.start()
            return
        generation, db, actor, layout = self._generation, self._db, self._actor, self._layout
        sort, filters = self._sort, dict(self._filters)
        self._reading = (-1,)  # nothing else read meanwhile

        def work(token, progress):
            return [customers_service.customer_list_position(
                db, actor=actor, layout=layout, sort=sort, key=(rows[0].sort_key, rows[0].id), **filters)
                for _at, rows in placed]

        def done(positions: list[int | None]) -> None:
            if generation != self._generation:
                return
            self._reading = None
            for (at, rows), position in zip(placed, positions):
                if position is not None:
                    self._move(at, rows, position)
            if self._shown:
                self.dataChanged.emit(self.index(0, 0), self.index(self._shown - 1, len(COLUMNS) - 1))
            self._kick.start()

        self._tasks.run_db(work, on_success=done, on_failure=lambda exc: self._fail(generation, exc), owner=self)

    def _move(self, at: int, rows: tuple[CustomerRow, ...], position: int) -> None:
        """Rows shown from row `at` on are rows `position` on of the list: whole blocks of
        them are kept as read, the rest shown until their blocks are read."""
        size, end = self.BLOCK_SIZE, min(position + len(rows), self._shown)
        for b in range(position // size, (end - 1) // size + 1):  # (none when they are past the end)
            start = b * size
            block = tuple(rows[i - position] if position <= i < position + len(rows) else None
                          for i in range(start, min(start + size, self._shown)))
            if b in self._blocks:
                continue
            if None in block:
                self._stale[b] = block
            else:
                self._blocks[b] = block
                self._stale.pop(b, None)
        self._blocks = self._newest_blocks(self._blocks)
        self.shifted.emit(at, at + len(rows) - 1, position - at)

    def _set_count(self, count: int) -> None:
        self._counts[self._filters_key()] = count
        if self._count != count:
            self._count = count
            self.counted.emit(count)
        self._show_rows()

    # --- reading -----------------------------------------------------------------------

    def _show_rows(self) -> None:
        """Let the view know of the rows: the first block's as soon as it is in, every row
        once the list is counted too (and fewer, when counted again after a change)."""
        first = self._blocks.get(0)
        if first is None and not self._shown:
            return
        known = self._count if self._count is not None else len(first)
        if known < self._shown:  # counted again: fewer than counted before
            self.beginRemoveRows(QModelIndex(), known, self._shown - 1)
            self._shown = known
            self.endRemoveRows()
            self.page_loaded.emit(self._shown)
            return
        if known == self._shown:
            if known == 0:
                self.page_loaded.emit(0)
            return
        self.beginInsertRows(QModelIndex(), self._shown, known - 1)
        self._shown = known
        self.endInsertRows()
        self.page_loaded.emit(self._shown)

    def _want(self, row: int) -> None:
        """The view asks for `row`, not read yet. Nothing being read: its block is read at once,
        while the view paints on; else when the read under way is done."""
        block = row // self.BLOCK_SIZE
        if block in self._blocks or block in (self._reading or ()):
            return
        if block in self._wanted:
            self._wanted.remove(block)
        self._wanted.append(block)
        del self._wanted[:-MAX_WANTED]
        if self._reading is None:
            self._asked = row
            self._read_next()

    def _first_block_is_all(self, rows: tuple[CustomerRow, ...]) -> None:
        """A first block shorter than a block is the whole list: its layout is known."""
        up = customers_service.ascending_sort(self._sort)
        ascending = rows if up == self._sort else rows[::-1]
        layout = ListLayout(stride=1, keys=(), count=len(rows), ids=tuple(r.id for r in ascending))
        self._keep(self._layout_key(), layout)
        self._laid_out(layout)

    def _read_next(self) -> None:
        """Read the block asked for last (the one in view), one read at a time."""
        if self._reading is not None or self._failed:
            return
        if self._settling:
            self._settle()
            return
        # Blocks that cannot be read yet (the layout is not in) stay wanted for when it is.
        self._wanted = [b for b in self._wanted if b not in self._blocks]
        readable = [b for b in self._wanted if self._readable(b)]
        if not readable:
            return
        block = readable[-1]
        self._wanted.remove(block)
        # Rows in view across two blocks (the scroll bar let go near a block's end): one read.
        # A view paints from its top row down, so a first row asked for in the second half of
        # its block brings the next block along.
        blocks = [block]
        beside = self._next_to_placed(block)
        if self._count is not None and beside is None:
            after = self._asked is not None and self._asked // self.BLOCK_SIZE == block \
                and self._asked % self.BLOCK_SIZE >= self.BLOCK_SIZE // 2
            for neighbour in (block + 1, block - 1):
                wanted = neighbour in self._wanted or (after and neighbour == block + 1)
                if wanted and neighbour not in self._blocks and 0 <= neighbour * self.BLOCK_SIZE < self._count:
                    if neighbour in self._wanted:
                        self._wanted.remove(neighbour)
                    blocks = sorted((block, neighbour))
                    break
        self._asked = None
        self._reading = tuple(blocks)
        generation, db, actor, layout = self._generation, self._db, self._actor, self._layout
        sort, filters, size, count = self._sort, dict(self._filters), self.BLOCK_SIZE, self._count
        sample = self._sample if layout is None else None
        run = None  # the run of placed rows these join, or start
        if beside is not None:
            run = beside[2]
        elif self._placed_by_sample(blocks[0] * size, len(blocks) * size):
            self._runs += 1
            run = self._runs

        def work(token, progress):
            if blocks == [0]:
                return customers_service.list_customers_page(db, actor=actor, sort=sort, limit=size, **filters).rows
            if beside is not None:
                how, row, _run = beside
                rows = customers_service.list_customers_page(
                    db, actor=actor, sort=sort, after=(row.sort_key, row.id), from_end=how == "before", limit=size,
                    **filters).rows
                return (None,) * (size - len(rows)) + rows if how == "before" else rows  # (ends where it did)
            return customers_service.list_customers_rows(
                db, actor=actor, layout=layout, count=count, sample=sample, sort=sort, first=blocks[0] * size,
                limit=len(blocks) * size, **filters)

        def done(rows: tuple[CustomerRow, ...]) -> None:
            if generation != self._generation:
                return
            self._reading = None
            rows = tuple(rows)
            for i, b in enumerate(blocks):
                self._blocks.pop(b, None)  # (kept as the newest)
                self._blocks[b] = rows[i * size:(i + 1) * size]
                self._stale.pop(b, None)
                if run is not None:
                    self._approx[b] = run
                else:
                    self._approx.pop(b, None)
            if run is not None and self._layout is not None:
                self._settling = True  # the layout came in while these were read
            self._blocks = self._newest_blocks(self._blocks)
            self._approx = {b: r for b, r in self._approx.items() if b in self._blocks}
            if blocks == [0] and self._layout is None and len(rows) < size:
                self._first_block_is_all(rows)
            if self._shown:
                first = blocks[0] * size
                last_row = min(self._shown, first + len(blocks) * size) - 1
                if last_row >= first:
                    self.dataChanged.emit(self.index(first, 0), self.index(last_row, len(COLUMNS) - 1))
                self.page_loaded.emit(self._shown)
            else:
                self._show_rows()
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
            self._want(index.row())
            row = self._row_in(self._stale, index.row())  # as it was, while it is read again
        if row is None:
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
