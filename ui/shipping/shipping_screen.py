"""The shipping screen: the paid orders to ship, oldest first; select some and print their
slips, gift slips or pick list as one PDF (drawn in the background, with progress and
Cancel), then pack by scanning and mark them shipped."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backoffice.documents.fonts import missing_scripts
from backoffice.documents.packing_slip import render_pdf
from backoffice.domain.staff import Permission
from backoffice.services.fulfilment import slips as slips_service
from backoffice.services.fulfilment import to_ship
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.paged_table_model import Column, PagedTableModel
from ui.common.progress import show_progress
from ui.shipping.bin_locations_dialog import BinLocationsDialog
from ui.shipping.pack_panel import PackPanel
from ui.shipping.slip_preview_dialog import SlipPreviewDialog

COLUMNS = (
    Column("Order", lambda r: r.number),
    Column("Date", lambda r: r.created_at.astimezone().strftime("%Y-%m-%d %H:%M")),
    Column("Ship to", lambda r: r.ship_to + (f" ({r.country})" if r.country else "")),
    Column("Method", lambda r: r.shipping_method),
    Column("Items", lambda r: r.items, align_right=True),
    Column("Printed", lambda r: r.printed_at.astimezone().strftime("%m-%d %H:%M") if r.printed_at else ""),
    Column("Packed", lambda r: "Packed" if r.packed_at else ""),
)
SHIP_TO_COLUMN = 2
SIZES = (("Letter", "letter"), ("A4", "a4"), ("4×6 label", "4x6"))


class ShippingScreen(QWidget):
    title = "To ship"
    permission = Permission.PRINT_DOCUMENTS

    order_opened = Signal(int)
    title_changed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.preview: SlipPreviewDialog | None = None
        self._token = None
        self.search = QLineEdit()
        self.search.setObjectName("toShipSearch")
        self.search.setPlaceholderText("Order number")
        self.search.setClearButtonEnabled(True)
        self.not_printed = QCheckBox("Not printed yet")
        self.count_label = QLabel("")
        self.count_label.setObjectName("toShipCount")
        self.model = PagedTableModel(ctx.tasks, COLUMNS, parent=self)
        self.table = QTableView()
        self.table.setObjectName("toShipTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(SHIP_TO_COLUMN, QHeaderView.ResizeMode.Stretch)
        self._sized = False

        self.size = QComboBox()
        for label, value in SIZES:
            self.size.addItem(label, value)
        self.sort = QComboBox()
        self.sort.addItem("by SKU", "sku")
        self.sort.addItem("by bin", "bin")
        self.copies = QSpinBox()
        self.copies.setRange(1, slips_service.MAX_COPIES)
        self.copies.setSuffix(" cop.")
        self.collate = QCheckBox("Collate")
        self.collate.setChecked(True)
        self.slips_button = QPushButton("Packing slips…")
        self.slips_button.setObjectName("printSlips")
        self.gift_button = QPushButton("Gift slips…")
        self.pick_button = QPushButton("Pick list…")
        self.bins_button = QPushButton("Bin locations…")
        self.bins_button.setVisible(ctx.may(Permission.MANAGE_SETTINGS))
        self.selection_label = QLabel("Select orders to print (Ctrl+A for all shown).")
        self.progress = QProgressBar()
        self.progress.setObjectName("renderProgress")
        self.progress.setFormat("%v of %m slips")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelRender")
        self.cancel_button.hide()
        self.pack = PackPanel(ctx, self)
        fonts_note = QLabel("Names in " + " and ".join(missing_scripts()) + " cannot print on this computer.")
        fonts_note.setVisible(bool(missing_scripts()))
        fonts_note.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.search)
        top.addWidget(self.not_printed)
        top.addStretch(1)
        top.addWidget(self.count_label)
        top.addWidget(self.bins_button)
        paper = QHBoxLayout()
        paper.addWidget(self.size)
        paper.addWidget(self.sort)
        paper.addWidget(self.copies)
        paper.addWidget(self.collate)
        paper.addStretch(1)
        # The buttons on a row of their own, so the screen fits a small laptop beside the packing panel.
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.slips_button)
        actions.addWidget(self.gift_button)
        actions.addWidget(self.pick_button)
        busy = QHBoxLayout()
        busy.addWidget(self.selection_label, 1)
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(paper)
        left_layout.addLayout(actions)
        left_layout.addLayout(busy)
        left_layout.addWidget(fonts_note)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.pack)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.pack.setMinimumWidth(300)
        self.pack.setMaximumWidth(440)
        split.setSizes([700, 320])
        layout = QVBoxLayout(self)
        layout.addWidget(split)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(self._search_timer.start)
        self.not_printed.toggled.connect(self.reload)
        self.slips_button.clicked.connect(lambda: self.render(gift=False))
        self.gift_button.clicked.connect(lambda: self.render(gift=True))
        self.pick_button.clicked.connect(self.render_pick_list)
        self.cancel_button.clicked.connect(self.cancel_render)
        self.bins_button.clicked.connect(self.edit_bins)
        self.table.doubleClicked.connect(self._open)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.page_loaded.connect(self._loaded)
        self.model.load_failed.connect(lambda exc: show_error(self, exc))
        ctx.bus.changed.connect(self._on_changes)
        self._selection_changed()
        self.reload()

    # --- the list -----------------------------------------------------------------------

    def reload(self) -> None:
        fetch = partial(self._fetch, self.search.text(), self.not_printed.isChecked())
        self.model.reset_query(fetch)
        ctx = self.ctx
        ctx.tasks.run_db(lambda token, progress: to_ship.count_to_ship(ctx.db, actor=ctx.actor),
                         on_success=self._counted, on_failure=lambda exc: None, owner=self)

    def _fetch(self, number: str, not_printed: bool, after):
        return to_ship.list_to_ship_page(self.ctx.db, actor=self.ctx.actor, after=after, number=number,
                                         not_printed=not_printed)

    def _counted(self, n: int) -> None:
        self.count_label.setText(f"{n:,} paid orders to ship")
        self.title_changed.emit(f"To ship ({n:,})")

    def _loaded(self, n: int) -> None:
        if not self._sized and n:
            self._sized = True
            for col in range(self.model.columnCount()):
                if col != SHIP_TO_COLUMN:
                    self.table.resizeColumnToContents(col)
                    # A long method name must not squeeze out the name of the person it goes to.
                    self.table.setColumnWidth(col, min(self.table.columnWidth(col) + 12, 170))

    def selected_rows(self):
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.model.row_at(r) for r in rows]

    def _selection_changed(self, *_args) -> None:
        rows = self.selected_rows()
        rendering = self._token is not None
        for button in (self.slips_button, self.gift_button, self.pick_button):
            button.setEnabled(bool(rows) and not rendering)
        if not rendering:
            self.selection_label.setText(f"{len(rows):,} order{'' if len(rows) == 1 else 's'} selected." if rows else
                                         "Select orders to print (Ctrl+A for all shown).")
        if len(rows) == 1:
            self.pack.open_order(rows[0].number)

    def _open(self, index) -> None:
        if index.isValid():
            self.order_opened.emit(self.model.row_at(index.row()).id)

    def _on_changes(self, changes) -> None:
        if changes.orders and self._token is None:
            self.reload()

    # --- printing -----------------------------------------------------------------------

    def _start(self, total: int, what: str) -> None:
        self.selection_label.hide()
        self.progress.setFormat(f"%v of %m {what}")
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()

    def _stop(self) -> None:
        self._token = None
        self.progress.hide()
        self.cancel_button.hide()
        self.selection_label.show()
        self._selection_changed()

    def render(self, *, gift: bool) -> None:
        """Draw the selected orders' slips in the background, then show them."""
        rows = self.selected_rows()
        if not rows:
            return
        ids = [r.id for r in rows]
        ctx = self.ctx
        size, sort = self.size.currentData(), self.sort.currentData()
        copies, collate = self.copies.value(), self.collate.isChecked()

        def prepare(token, progress):
            return slips_service.prepare_slips(ctx.db, actor=ctx.actor, order_ids=ids, size=size, gift=gift,
                                               sort=sort, copies=copies, collate=collate)

        self._start(len(ids) * copies, "slips")
        # Reading is database work; drawing is not, so the database pool stays free meanwhile.
        self._token = ctx.tasks.run_db(prepare, on_success=partial(self._draw, gift), on_failure=self._failed,
                                       owner=self)
        self._selection_changed()

    def _draw(self, gift: bool, prepared) -> None:
        if self._token is None or self._token.is_cancelled():
            return

        def draw(token, progress):
            return render_pdf(prepared.slips, prepared.ship_from, prepared.options,
                              lambda done, total: progress(done, total, ""))

        self._token = self.ctx.tasks.run_io(
            draw, on_success=lambda pdf: self._rendered(gift, prepared.order_ids, pdf), on_failure=self._failed,
            on_progress=self._progressed, owner=self)

    def render_pick_list(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        ids = [r.id for r in rows]
        ctx = self.ctx
        size, sort = self.size.currentData(), self.sort.currentData()
        self._start(0, "orders")
        self._token = ctx.tasks.run_db(
            lambda token, progress: slips_service.render_pick_list(ctx.db, actor=ctx.actor, order_ids=ids,
                                                                   size=size, sort=sort),
            on_success=self._pick_list_rendered, on_failure=self._failed, owner=self)
        self._selection_changed()

    def cancel_render(self) -> None:
        if self._token is not None:
            self._token.cancel()
        self._stop()
        self.selection_label.setText("Stopped; nothing was printed or marked.")

    def _progressed(self, done: int, total: int, _text: str) -> None:
        show_progress(self.progress, done, total)
        if total and done >= total:
            # Every slip is drawn; reportlab now puts the pages together into one PDF, which
            # takes a while longer for a big batch: the full bar says so rather than sitting silent.
            what = self.progress.format().split(" ")[-1]
            self.progress.setFormat(f"All %m {what} drawn; putting the PDF together…")

    def _failed(self, exc: BaseException) -> None:
        self._stop()
        show_error(self, exc)

    def _rendered(self, gift: bool, order_ids: tuple[int, ...], pdf: bytes) -> None:
        if self._token is None:
            return  # stopped: a batch finished just before Cancel shows nothing
        self._stop()
        title = f"{'Gift' if gift else 'Packing'} slips: {len(order_ids):,} orders"
        self._show_preview(SlipPreviewDialog(self.ctx, pdf, title=title, order_ids=order_ids,
                                             file_name="gift-slips.pdf" if gift else "packing-slips.pdf",
                                             parent=self))

    def _pick_list_rendered(self, pdf: bytes) -> None:
        if self._token is None:
            return  # stopped: as above
        self._stop()
        self._show_preview(SlipPreviewDialog(self.ctx, pdf, title="Pick list", file_name="pick-list.pdf",
                                             parent=self))

    def _show_preview(self, dialog: SlipPreviewDialog) -> None:
        if self.preview is not None:
            self.preview.close()
        self.preview = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._preview_gone)
        dialog.show()

    def _preview_gone(self, *_args) -> None:
        self.preview = None

    def edit_bins(self) -> None:
        dialog = BinLocationsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def focus_default(self) -> None:
        self.pack.focus_scan()
