"""The grid-search heatmap: one coloured cell per combination, its number written in it.

``HeatmapView`` draws a :class:`~nnviz.core.grid.GridResult` (1 or 2 axes; with
3 axes one slice of the third, ``set_slice``): colour = validation accuracy
(validation loss for regression, lower = better), the value in every cell,
diverged and failed cells hatched and named, cells still training blank, the
best cell framed with a star.  Clicking a cell emits ``cell_clicked(index)``
with the cell's full grid index.  ``save_heatmap(result, path)`` renders one
offscreen for ``nnviz grid`` and the README.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from nnviz.core.catalogue import show_value

__all__ = ["HeatmapView", "save_heatmap", "format_figure"]

COLORMAP = "viridis"
MARKED = {"diverged": ("#B2182B", "diverged"), "failed": ("#6E6E6E", "failed"),
          "cancelled": (None, "–")}
BEST_COLOUR = "#FF8C00"
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP, BAR_WIDTH = 120, 70, 46, 70
METRIC_TITLES = {"val_accuracy": "validation accuracy (%)", "val_loss": "validation loss (log colour scale)"}


def format_figure(metric: str, value: float | None) -> str:
    """A cell's number: accuracy in percent with one decimal, a loss to 3 significant digits."""
    if value is None or not math.isfinite(value):
        return ""
    return f"{100 * value:.1f}" if metric == "val_accuracy" else f"{value:.3g}"


def _luminance(colour: QColor) -> float:
    """Perceived brightness 0..1: black text above about one half, white below."""
    return 0.299 * colour.redF() + 0.587 * colour.greenF() + 0.114 * colour.blueF()


def _value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return value[:16] if isinstance(value, str) else show_value(value, 16)


class HeatmapView(QWidget):
    """A painted heatmap of a grid search; ``set_result`` again after each new row."""

    cell_clicked = Signal(object)     # the cell's grid index, a tuple of ints

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gridHeatmap")
        self.setMinimumSize(360, 260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self._colormap = pg.colormap.get(COLORMAP)
        self.result = None
        self.slice = 0                # the index along a third axis
        self.title = ""

    # ------------------------------------------------------------------ data
    def set_result(self, result) -> None:
        """Show ``result`` (a GridResult, possibly still filling); None clears."""
        if result is not None and len(result.shape) == 3 and (self.result is None
                                                              or self.result.plan is not result.plan):
            best = result.best_index()
            self.slice = best[2] if best else 0
        self.result = result
        self.update()

    def set_slice(self, k: int) -> None:
        """With three axes: show the cells whose third-axis value is number ``k``."""
        self.slice = int(k)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(720, 520)

    # ------------------------------------------------------------------ geometry
    def _grid_shape(self) -> tuple[int, int]:
        """(rows, columns) on screen: axis 0 down, axis 1 across; one axis = one row."""
        shape = self.result.shape
        return (1, shape[0]) if len(shape) == 1 else (shape[0], shape[1])

    def _plot_rect(self) -> QRectF:
        return QRectF(MARGIN_LEFT, MARGIN_TOP, max(10, self.width() - MARGIN_LEFT - BAR_WIDTH - 20),
                      max(10, self.height() - MARGIN_TOP - MARGIN_BOTTOM))

    def _index(self, row: int, col: int) -> tuple[int, ...]:
        dims = len(self.result.shape)
        return (col,) if dims == 1 else (row, col) if dims == 2 else (row, col, self.slice)

    def cell_rect(self, index) -> QRectF:
        """Where the cell of grid ``index`` is drawn (widget coordinates)."""
        rows, cols = self._grid_shape()
        row, col = (0, index[0]) if len(index) == 1 else (index[0], index[1])
        plot = self._plot_rect()
        w, h = plot.width() / cols, plot.height() / rows
        return QRectF(plot.left() + col * w, plot.top() + row * h, w, h)

    def cell_at(self, pos: QPointF) -> tuple[int, ...] | None:
        """The grid index of the cell under ``pos`` (None outside the cells)."""
        if self.result is None:
            return None
        plot = self._plot_rect()
        if not plot.contains(pos):
            return None
        rows, cols = self._grid_shape()
        col = min(cols - 1, int((pos.x() - plot.left()) / plot.width() * cols))
        row = min(rows - 1, int((pos.y() - plot.top()) / plot.height() * rows))
        return self._index(row, col)

    def mousePressEvent(self, event) -> None:
        index = self.cell_at(event.position())
        if index is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cell_clicked.emit(index)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        index = self.cell_at(event.position())
        self.setToolTip(self._tooltip(index) if index is not None else "")
        super().mouseMoveEvent(event)

    def _tooltip(self, index) -> str:
        row = self.result.row(index)
        lines = [f"{p} = {_value_text(row[p])}" for p in self.result.paths]
        if row["status"] == "ok":
            lines.append(f"val loss {row['val_loss']:.4g}" + (
                "" if row["val_accuracy"] is None else f", val acc {100 * row['val_accuracy']:.1f}%"))
        elif self.result.is_finished(index):
            lines.append(f"{row['status']}: {row['message']}")
        return "\n".join(lines) + "\nclick: load this setting"

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        text = self.palette().text().color()
        painter.setPen(text)
        if self.result is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Pick one or two axes and press Run:\nthe heatmap fills as cells finish.")
            return
        self._paint_cells(painter, text)
        self._paint_axes(painter, text)
        self._paint_colour_bar(painter, text)
        painter.end()

    def _range(self) -> tuple[float, float]:
        values = self.result.array()
        ok = self.result.status_array() == "ok"
        finite = values[ok & np.isfinite(values)]
        if not finite.size:
            return 0.0, 1.0
        low, high = float(finite.min()), float(finite.max())
        return (low, high) if high > low else (low - 0.5 * abs(low or 1) * 0.01, high + 0.5 * abs(high or 1) * 0.01)

    def _colour(self, value: float, low: float, high: float) -> QColor:
        """Viridis, bright = good; losses (which span decades) on a log scale."""
        if not self.result.higher_is_better and low > 0:
            value, low, high = math.log(max(value, low)), math.log(low), math.log(high)
        return self._colour_at((value - low) / (high - low))

    def _colour_at(self, t: float) -> QColor:
        """The colour of position ``t`` from worst (0) to best (1)."""
        if not self.result.higher_is_better:
            t = 1.0 - t
        return self._colormap.map(float(np.clip(t, 0.0, 1.0)), mode="qcolor")

    def _paint_cells(self, painter: QPainter, text: QColor) -> None:
        result = self.result
        metric, (low, high) = result.metric, self._range()
        rows, cols = self._grid_shape()
        best = result.best_index()
        font = QFont(self.font())
        cell_h = self._plot_rect().height() / rows
        cell_w = self._plot_rect().width() / cols
        font.setPointSizeF(max(7.0, min(16.0, cell_h / 3.2, cell_w / 5.0)))
        painter.setFont(font)
        for r in range(rows):
            for c in range(cols):
                index = self._index(r, c)
                rect = self.cell_rect(index).adjusted(1, 1, -1, -1)
                row = result.row(index)
                finished = result.is_finished(index)
                status = row["status"] if finished else "pending"
                value = row[metric]
                if status == "ok" and value is not None and math.isfinite(value):
                    fill = self._colour(value, low, high)
                    painter.fillRect(rect, fill)
                    label = format_figure(metric, value)
                    ink = QColor("#000000") if _luminance(fill) > 0.45 else QColor("#FFFFFF")
                elif status in MARKED and finished:
                    colour, label = MARKED[status]
                    if colour:
                        painter.fillRect(rect, QBrush(QColor(colour), Qt.BrushStyle.SolidPattern))
                        painter.fillRect(rect, QBrush(QColor("#FFFFFF"), Qt.BrushStyle.BDiagPattern))
                    ink = QColor("#FFFFFF") if colour else text
                else:                                    # still training (or never run)
                    painter.fillRect(rect, self.palette().alternateBase())
                    label, ink = "…" if status == "pending" else "–", text
                if best is not None and tuple(best) == tuple(index):
                    painter.setPen(QPen(QColor(BEST_COLOUR), 4))
                    painter.drawRect(rect.adjusted(2, 2, -2, -2))
                    label = "★ " + label
                painter.setPen(ink)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_axes(self, painter: QPainter, text: QColor) -> None:
        result, plot = self.result, self._plot_rect()
        paths = result.paths
        values = [v for _, v in result.plan.axes]
        painter.setPen(text)
        small = QFont(self.font())
        small.setPointSizeF(max(7.5, self.font().pointSizeF()))
        painter.setFont(small)
        across = values[0] if len(paths) == 1 else values[1]
        for c, value in enumerate(across):
            rect = self.cell_rect((0, c) if len(paths) > 1 else (c,))
            painter.drawText(QRectF(rect.left(), plot.bottom() + 4, rect.width(), 20),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, _value_text(value))
        if len(paths) > 1:
            for r, value in enumerate(values[0]):
                rect = self.cell_rect((r, 0))
                painter.drawText(QRectF(plot.left() - 112, rect.top(), 106, rect.height()),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 _value_text(value))
        bold = QFont(small)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(plot.left(), plot.bottom() + 28, plot.width(), 22),
                         Qt.AlignmentFlag.AlignHCenter, paths[0] if len(paths) == 1 else paths[1])
        if len(paths) > 1:
            painter.save()
            painter.translate(16, plot.center().y())
            painter.rotate(-90)
            painter.drawText(QRectF(-plot.height() / 2, -12, plot.height(), 24),
                             Qt.AlignmentFlag.AlignCenter, paths[0])
            painter.restore()
        title = METRIC_TITLES.get(result.metric, result.metric)
        if self.title:
            title = f"{self.title}: {title}"
        if len(paths) == 3:
            title += f"   ({paths[2]} = {_value_text(values[2][self.slice])})"
        title += f"   {result.done}/{result.size} cells"
        painter.drawText(QRectF(0, 8, self.width(), 24), Qt.AlignmentFlag.AlignHCenter, title)

    def _paint_colour_bar(self, painter: QPainter, text: QColor) -> None:
        plot, (low, high) = self._plot_rect(), self._range()
        bar = QRectF(plot.right() + 18, plot.top(), 16, plot.height())
        steps = 64
        for i in range(steps):                            # the highest value on top
            painter.fillRect(QRectF(bar.left(), bar.top() + i * bar.height() / steps, bar.width(),
                                    bar.height() / steps + 1), self._colour_at(1 - i / (steps - 1)))
        painter.setPen(text)
        metric = self.result.metric
        for value, y in ((high, bar.top()), (low, bar.bottom() - 16)):
            painter.drawText(QRectF(bar.right() + 4, y, 60, 16), Qt.AlignmentFlag.AlignLeft,
                             format_figure(metric, value))


def save_heatmap(result, path, size: tuple[int, int] = (760, 560), title: str = "") -> str:
    """Render ``result`` as a PNG at ``path`` (offscreen Qt when no window is open);
    with three axes, one ``size`` panel per value of the third, side by side."""
    from PySide6.QtWidgets import QApplication

    from nnviz.core.errors import SpecError

    if QApplication.instance() is None:            # the command line: an offscreen one
        from nnviz.gui.screenshot import _application
        _application()
    view = HeatmapView()
    view.title = title
    view.resize(*size)
    view.set_result(result)
    slices = result.shape[2] if len(result.shape) == 3 else 1
    image = QImage(size[0] * slices, size[1], QImage.Format.Format_RGB32)
    painter = QPainter(image)
    for k in range(slices):
        if slices > 1:
            view.set_slice(k)
        painter.drawPixmap(k * size[0], 0, view.grab())
    painter.end()
    view.deleteLater()
    if not image.save(str(path)):
        raise SpecError("file", f"cannot write {path}", "choose a folder you can write to")
    return str(path)
