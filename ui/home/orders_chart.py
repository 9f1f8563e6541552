"""A small bar chart of orders per day, drawn with QPainter (counts only, no names)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backoffice.services.home import DayCount

BAR_COLOUR = QColor("#3d6f8e")
TODAY_COLOUR = QColor("#c2571a")


class OrdersChart(QWidget):
    """Orders per day over the last weeks, today's bar last and in another colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ordersChart")
        self.days: tuple[DayCount, ...] = ()
        #: Only the orders the person at the desk took (their role sees no others').
        self.own = False
        self.setMinimumSize(280, 150)
        self.setMaximumHeight(240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Orders per day")

    def sizeHint(self) -> QSize:
        return QSize(520, 200)

    def set_days(self, days: tuple[DayCount, ...], *, own: bool = False) -> None:
        self.days = days
        self.own = own
        total = sum(d.orders for d in days)
        peak = max((d.orders for d in days), default=0)
        weeks = len(days) // 7
        # A screen reader hears the chart as a sentence.
        whose = ("order" if total == 1 else "orders") + (" you took" if own else "")
        self.setAccessibleDescription(
            f"{total} {whose} in the last {weeks} weeks; at most {peak} on one day; "
            f"{days[-1].orders if days else 0} today.")
        self.setToolTip(self.accessibleDescription())
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        metrics = painter.fontMetrics()
        line = metrics.height()
        area = QRectF(self.rect()).adjusted(4, line + 6, -4, -(line + 4))
        painter.setPen(text)
        peak = max((d.orders for d in self.days), default=0)
        # Until the figures are read there are no days: the caption says so, not "last 0 weeks".
        what = "Orders you took per day" if self.own else "Orders per day"
        caption = (f"{what}, last {len(self.days) // 7} weeks (most: {peak})" if self.days else f"{what}: …")
        painter.drawText(QRectF(4, 0, self.width() - 8, line + 2), Qt.AlignmentFlag.AlignLeft, caption)
        if not self.days or area.width() <= 0 or area.height() <= 0:
            painter.end()
            return
        step = area.width() / len(self.days)
        width = max(1.0, step * 0.7)
        for i, d in enumerate(self.days):
            if not d.orders:
                continue
            height = area.height() * d.orders / peak
            colour = TODAY_COLOUR if i == len(self.days) - 1 else BAR_COLOUR
            painter.fillRect(QRectF(area.left() + i * step, area.bottom() - height, width, height), colour)
        painter.setPen(QColor(text.red(), text.green(), text.blue(), 120))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.setPen(text)
        # The first day and today, under the axis, so the weeks read left to right.
        first, last = self.days[0].day, self.days[-1].day
        below = QRectF(area.left(), area.bottom() + 2, area.width(), line + 2)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft, first.strftime("%d %b"))
        painter.drawText(below, Qt.AlignmentFlag.AlignRight, f"today, {last.strftime('%d %b')}")
        painter.end()
