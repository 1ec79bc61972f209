"""Save a view as a picture for slides and reports: PNG or SVG, chosen by the suffix.

``export_widget(target, path)`` takes a pyqtgraph plot item (or a PlotWidget,
whose plot item is used): PNG through pyqtgraph's ImageExporter (at twice the
plot's size), SVG by rendering the item's part of the scene onto a
QSvgGenerator (a real vector drawing of the curves, axes and labels).  Any
other QWidget (a dock, a whole view with several plots, the
window) is painted with ``QWidget.render``: onto a QImage for PNG, onto a
QSvgGenerator for SVG, where Qt records every line, path and text as vector
elements.  Errors (unknown suffix, unwritable folder) are SpecError("path").
"""

from __future__ import annotations

import contextlib
import os
import re

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QRectF, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from nnviz.core.errors import SpecError

__all__ = ["export_widget", "FORMATS"]

FORMATS = (".png", ".svg")
PNG_SCALE = 2          # PNG of a plain widget at twice its size: sharp on slides


def export_widget(target, path: str | os.PathLike, *, title: str = "nnviz view") -> str:
    """Save ``target`` (a pyqtgraph PlotItem/PlotWidget or any QWidget) at ``path``.

    The format follows the suffix: ``.png`` or ``.svg``. Returns the path.
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FORMATS:
        raise SpecError("path", f"cannot export to {os.path.basename(path)!r}",
                        "end the file name with .png or .svg")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise SpecError("path", f"cannot write into {folder!r}", "choose a folder you can write to")
    item = _plot_item(target)
    if item is not None:
        _export_plot(item, path, suffix)
    elif isinstance(target, QWidget):
        (_widget_png if suffix == ".png" else _widget_svg)(target, path, title)
    else:
        raise SpecError("view", f"cannot export a {type(target).__name__}",
                        "pass a plot item or a widget")
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise SpecError("path", f"nothing was written to {path!r}", "choose another file")
    return path


def _plot_item(target):
    """The PlotItem of a PlotWidget or a PlotItem itself; None for other widgets."""
    if isinstance(target, pg.PlotItem):
        return target
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    return None


def _export_plot(item: pg.PlotItem, path: str, suffix: str) -> None:
    from pyqtgraph import exporters
    if suffix == ".svg":
        # pyqtgraph 0.14's SVGExporter cannot parse the paths Qt 6.11 writes
        # ("x,y" pairs expected): draw the item's part of the scene with Qt itself.
        rect = item.sceneBoundingRect()
        size = QSize(max(1, round(rect.width())), max(1, round(rect.height())))
        with _svg_painter(path, size, "nnviz plot") as painter:
            item.scene().render(painter, QRectF(0, 0, size.width(), size.height()), rect)
        return
    exporter = exporters.ImageExporter(item)
    width = max(1, int(item.sceneBoundingRect().width()) * PNG_SCALE)
    exporter.parameters()["width"] = width   # height follows the aspect ratio
    exporter.export(path)


def _widget_png(widget: QWidget, path: str, title: str) -> None:
    size = _size(widget)
    image = QImage(size * PNG_SCALE, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(PNG_SCALE)
    image.fill(widget.palette().window().color())
    painter = QPainter(image)
    try:
        widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    if not image.save(path, "PNG"):
        raise SpecError("path", f"cannot write {path!r}", "choose a writable path ending in .png")


def _widget_svg(widget: QWidget, path: str, title: str) -> None:
    size = _size(widget)
    with _svg_painter(path, size, title) as painter:
        painter.fillRect(QRect(0, 0, size.width(), size.height()), widget.palette().window())
        widget.render(painter, QPoint(0, 0))


@contextlib.contextmanager
def _svg_painter(path: str, size: QSize, title: str):
    """A QPainter on a QSvgGenerator writing ``path`` (vector elements, viewBox = size)."""
    from PySide6.QtSvg import QSvgGenerator
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    generator.setDescription("exported by nnviz")
    painter = QPainter()
    if not painter.begin(generator):
        raise SpecError("path", f"cannot write {path!r}", "choose a writable path ending in .svg")
    try:
        yield painter
    finally:
        painter.end()
    _drop_empty_paths(path)


_EMPTY_PATH = re.compile(rb'<path\b[^>]*\sd=""[^>]*/>\s*')


def _drop_empty_paths(path: str) -> None:
    """Remove the ``<path d=""/>`` Qt writes for empty curves (renderers warn about them)."""
    with open(path, "rb") as f:
        data = f.read()
    cleaned = _EMPTY_PATH.sub(b"", data)
    if cleaned != data:
        with open(path, "wb") as f:
            f.write(cleaned)


def _size(widget: QWidget) -> QSize:
    """The widget's size; a widget never laid out gets its size hint first."""
    if widget.width() < 2 or widget.height() < 2:
        widget.resize(widget.sizeHint().expandedTo(QSize(2, 2)))
    return widget.size()
