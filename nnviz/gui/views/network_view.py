"""The network as a diagram: small dense layers as units joined by their weights,
everything else as labelled blocks.

Edges are coloured by the sign of the weight (blue positive, vermillion
negative: colour-blind safe) and drawn thicker for larger |w| (relative to the
layer's largest).  All edges of one layer pair live in eight path items (two
signs × four widths), so a redraw sets eight paths, never one item per edge.
The scene is rebuilt only when the structure or the font scale changes.  A network
deeper than MAX_LAYERS is not drawn (500 layers took a second): a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainter, QPainterPath, QTransform
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsRectItem,
                               QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView,
                               QVBoxLayout)

from nnviz.core.viewdata import ELEMENTWISE_KINDS, MAX_NODES, NetworkData
from nnviz.gui.views.plotstyle import ThemeAwareWidget, color, scaled_font

POSITIVE, NEGATIVE = color(0), color(3)          # Okabe-Ito blue and vermillion
WIDTHS = (0.6, 1.4, 2.4, 3.6)                    # pixels, by |w| / max|w| quartile
ALPHAS = (90, 140, 200, 255)
NODE_RADIUS = 9.0          # at up to 12 units per column; smaller for taller columns
EDGE_SPAN = 90.0           # horizontal room for weight edges between node columns
LINK_SPAN = 50.0           # room for a plain connector
MAX_ZOOM = 2.0
MIN_ZOOM = 0.55            # below this the text is too small to read: scroll instead
MAX_DRAWN = 12             # a wider layer shows its first and last units and "+N" between
NAME_FONT = 0.85           # relative size of the input and output unit names
MAX_LAYERS = 100           # deeper networks get a note instead of a diagram


def _theme():
    """(background, foreground) colours shared with the pyqtgraph plots."""
    return (pg.mkColor(pg.getConfigOption("background")),
            pg.mkColor(pg.getConfigOption("foreground")))


def edge_buckets(weights: np.ndarray) -> np.ndarray:
    """Width bucket 0..3 of every weight by |w| relative to the largest."""
    magnitude = np.abs(weights)
    top = float(magnitude.max()) if magnitude.size else 0.0
    if top == 0.0 or not np.isfinite(top):
        return np.zeros(weights.shape, dtype=int)
    return np.minimum((magnitude / top * len(WIDTHS)).astype(int), len(WIDTHS) - 1)


def strongest(weights: np.ndarray, limit: int) -> np.ndarray:
    """Mask of the ``limit`` weights largest in magnitude (all when there are fewer).

    Painting thousands of translucent edges costs over 100 ms a frame; the
    strongest few hundred carry the picture.
    """
    magnitude = np.nan_to_num(np.abs(weights)).reshape(-1)
    if magnitude.size <= limit:
        return np.ones(weights.shape, dtype=bool)
    keep = np.zeros(magnitude.size, dtype=bool)
    keep[np.argpartition(magnitude, -limit)[-limit:]] = True
    return keep.reshape(weights.shape)


MAX_EDGES = 96  # weight edges drawn per layer pair (the strongest)


@dataclass
class _Column:
    """One column of the diagram: a stack of nodes or one block."""

    kind: str                       # "input" or the layer kind
    header: list[str]
    nodes: int = 0                  # 0: drawn as a block
    bold: int = 1                   # how many header lines are titles
    square: bool = False            # element-wise layer shown per unit
    weights_from_previous: bool = False
    x: float = 0.0
    half_width: float = 0.0
    ys: np.ndarray = field(default_factory=lambda: np.zeros(0))
    units: np.ndarray = field(default_factory=lambda: np.zeros(0, int))   # drawn units
    hidden: int = 0                 # units left out in the middle ("… 20 more")
    block: QRectF | None = None
    edge_items: list = field(default_factory=list)


def drawn_units(n: int) -> np.ndarray:
    """The units of an n-unit column that are drawn: all up to MAX_DRAWN, else the
    first half and the last units around a "+N" marker (the units left out)."""
    if n <= MAX_DRAWN:
        return np.arange(n)
    head = MAX_DRAWN // 2
    return np.concatenate([np.arange(head), np.arange(n - (MAX_DRAWN - 1 - head), n)])


def _columns(data: NetworkData) -> list[_Column]:
    """Decide what each layer is drawn as."""
    inputs = data.input_shape[0] if len(data.input_shape) == 1 else 0
    shape = "×".join(map(str, data.input_shape))
    columns = [_Column("input", ["input", f"{inputs} features" if inputs else shape],
                       nodes=inputs if 0 < inputs <= MAX_NODES else 0)]
    for layer in data.layers:
        previous = columns[-1]
        small = layer.units is not None and layer.units <= MAX_NODES
        as_nodes = small and (layer.kind == "dense"
                              or (layer.kind in ELEMENTWISE_KINDS and previous.nodes > 0))
        activation = layer.activation if layer.activation and layer.kind != "activation" else ""
        # the activation gets its own line: narrow columns, so a deep network keeps
        # a legible size in a projector's narrow dock
        header = [layer.label, activation] if activation else [layer.label]
        if layer.param_count and not as_nodes:  # the builder lists it; columns stay narrow
            header.append(f"{layer.param_count:,} params" + ("" if layer.trainable else " frozen"))
        if not as_nodes:
            header.append("→ " + "×".join(map(str, layer.output_shape)))
        columns.append(_Column(
            layer.kind, header, nodes=layer.units if as_nodes else 0,
            bold=2 if activation else 1,
            square=as_nodes and layer.kind != "dense",
            weights_from_previous=as_nodes and layer.weights is not None and previous.nodes > 0))
    columns[-1].header.insert(0, "output")
    columns[-1].bold += 1
    columns[0].bold = 2
    for column in columns:
        column.units = drawn_units(column.nodes)
        column.hidden = column.nodes - len(column.units)
    return columns


class NetworkView(ThemeAwareWidget):
    """A diagram of the network, redrawn with the current weights."""

    OBJECT_NAME = "networkView"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName(self.OBJECT_NAME)
        self.font_scale = 1.0
        self.scene = QGraphicsScene(self)
        self.view = QGraphicsView(self.scene)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.zoom = 1.0
        self.view.setFrameShape(QGraphicsView.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.columns: list[_Column] = []
        self.data: NetworkData | None = None
        self._structure = None
        self.radius = NODE_RADIUS
        self.node_gap = 2 * NODE_RADIUS + 5
        self.header_top = 0.0
        self._apply_theme()

    # ------------------------------------------------------------ public API
    def update_data(self, data: NetworkData) -> None:
        """Draw ``data``: rebuilds the scene on a new structure, else only edges."""
        if data.structure() != self._structure:
            self._build(data)
        self.data = data
        self._draw_weights(data)

    def clear(self) -> None:
        self.scene.clear()
        self.columns = []
        self.data = None
        self._structure = None

    def set_font_scale(self, scale: float) -> None:
        self.font_scale = float(scale)
        self.restyle()

    def restyle(self) -> None:
        """Rebuild the scene with the current font scale and theme colours."""
        self._apply_theme()
        if self.data is not None:
            self._build(self.data)
            self._draw_weights(self.data)

    def node_counts(self) -> list[int]:
        """Nodes drawn per column (input first); 0 for a block."""
        return [c.nodes for c in self.columns]

    def block_kinds(self) -> list[str]:
        """Kinds of the columns drawn as blocks."""
        return [c.kind for c in self.columns if c.nodes == 0]

    # ------------------------------------------------------------ layout
    def _apply_theme(self) -> None:
        self.background, self.foreground = _theme()
        self.view.setBackgroundBrush(QBrush(self.background))

    def _text(self, text: str, factor: float = 1.0, bold: bool = False):
        item = QGraphicsSimpleTextItem(text)
        item.setFont(scaled_font(self.font_scale, factor, bold))
        item.setBrush(QBrush(self.foreground))
        self.scene.addItem(item)
        return item

    def _build(self, data: NetworkData) -> None:
        self.scene.clear()
        self._apply_theme()
        self._structure = data.structure()
        if len(data.layers) > MAX_LAYERS:
            self.columns = []
            self._text(f"{len(data.layers)} layers: too many to draw here (at most "
                       f"{MAX_LAYERS}).\nThe gradient and activation views show every layer.")
            return
        metrics = QFontMetricsF(scaled_font(self.font_scale, 1.0, True))
        line = metrics.height()
        self.columns = _columns(data)
        tallest = max(len(c.units) + (1 if c.hidden else 0) for c in self.columns)
        self.radius = float(np.clip(NODE_RADIUS * np.sqrt(12 / max(tallest, 1)), 5, NODE_RADIUS))
        named = QFontMetricsF(scaled_font(self.font_scale, NAME_FONT)).height()
        self.node_gap = max(2 * self.radius + 5, named if self._has_names() else 0.0)
        self._place(metrics)
        # node-column titles share one line above the tallest column, clear of the edges
        header_lines = max((len(c.header) for c in self.columns if c.nodes), default=0)
        self.header_top = -(tallest - 1) / 2 * self.node_gap - self.radius - line * (
            header_lines + 0.4)
        for column in self.columns:
            if column.nodes:
                self._draw_nodes(column)
            else:
                self._draw_block(column, line)
            self._draw_header(column, line)
        for previous, column in zip(self.columns, self.columns[1:]):
            self._draw_links(previous, column)
        self._draw_unit_names(data)
        thinned = any(info.weights is not None and np.size(info.weights) > MAX_EDGES
                      for info in data.layers)
        note = f" · strongest {MAX_EDGES} weights per layer drawn" if thinned else ""
        total = self._text(f"{data.param_count:,} parameters · cost {data.cost}{note}", 0.9)
        rect = self.scene.itemsBoundingRect()
        total.setPos(rect.left(), rect.bottom() + line * 0.5)
        self.scene.setSceneRect(self.scene.itemsBoundingRect().adjusted(-10, -10, 10, 10))
        self._fit()

    def _place(self, metrics: QFontMetricsF) -> None:
        """x of every column, from the widths of their headers and blocks."""
        x = 0.0
        for i, column in enumerate(self.columns):
            text_width = max(metrics.horizontalAdvance(t) for t in column.header)
            if column.nodes:
                column.half_width = max(self.radius, text_width / 2)
                slots = np.arange(len(column.units)) + (
                    (np.arange(len(column.units)) >= MAX_DRAWN // 2) if column.hidden else 0)
                count = len(column.units) + (1 if column.hidden else 0)
                column.ys = (slots - (count - 1) / 2) * self.node_gap
            else:
                column.half_width = text_width / 2 + metrics.height() * 0.6
            if i:
                previous = self.columns[i - 1]
                if column.nodes and previous.nodes:
                    x += max(EDGE_SPAN, previous.half_width + column.half_width + 16)
                else:
                    x += previous.half_width + column.half_width + LINK_SPAN
            column.x = x

    def _draw_nodes(self, column: _Column) -> None:
        r = self.radius
        pen = pg.mkPen(self.foreground, width=1.5)
        fill = QBrush(self.background)
        for y in column.ys:
            shape = QGraphicsRectItem if column.square else QGraphicsEllipseItem
            item = shape(column.x - r, y - r, 2 * r, 2 * r)
            item.setPen(pen)
            item.setBrush(fill)
            item.setZValue(2)
            self.scene.addItem(item)
        if column.hidden:
            head = MAX_DRAWN // 2
            marker = self._text(f"+{column.hidden}", NAME_FONT)
            rect = marker.boundingRect()
            y = (column.ys[head - 1] + column.ys[head]) / 2
            marker.setPos(column.x - rect.width() / 2, y - rect.height() / 2)
            backing = QGraphicsRectItem(marker.sceneBoundingRect().adjusted(-2, 0, 2, 0))
            backing.setPen(pg.mkPen(None))
            backing.setBrush(QBrush(self.background))
            backing.setZValue(2.5)
            marker.setZValue(3)
            self.scene.addItem(backing)

    def _draw_block(self, column: _Column, line: float) -> None:
        height = line * (len(column.header) + 1)
        column.block = QRectF(column.x - column.half_width, -height / 2,
                              2 * column.half_width, height)
        path = QPainterPath()
        path.addRoundedRect(column.block, line * 0.4, line * 0.4)
        item = QGraphicsPathItem(path)
        item.setPen(pg.mkPen(self.foreground, width=1.5))
        shade = pg.mkColor(color(2))
        shade.setAlpha(50)
        item.setBrush(QBrush(shade))
        self.scene.addItem(item)

    def _draw_header(self, column: _Column, line: float) -> None:
        """Title lines above a node column, or inside a block."""
        if column.nodes:
            top = self.header_top
        else:
            top = column.block.top() + line * 0.5
        for i, text in enumerate(column.header):
            item = self._text(text, 1.0, i < column.bold)
            item.setPos(column.x - item.boundingRect().width() / 2, top + i * line)

    def _anchor(self, column: _Column, right: bool) -> np.ndarray:
        """(n, 2) points where lines meet a column: its nodes' sides or the block's."""
        if column.nodes:
            dx = self.radius if right else -self.radius
            return np.column_stack([np.full(len(column.ys), column.x + dx), column.ys])
        x = column.block.right() if right else column.block.left()
        return np.array([[x, 0.0]])

    def _draw_links(self, previous: _Column, column: _Column) -> None:
        """Weight edges (filled later), one-to-one lines, or a plain fan/connector."""
        if column.weights_from_previous:
            # thinner and fainter when many edges share the space
            thin = float(np.clip(np.sqrt(64 / (len(previous.units) * len(column.units))), 0.35, 1.0))
            for sign in (POSITIVE, NEGATIVE):
                for bucket, width in enumerate(WIDTHS):
                    shade = pg.mkColor(sign)
                    shade.setAlpha(round(ALPHAS[bucket] * (0.5 + 0.5 * thin)))
                    item = QGraphicsPathItem()
                    item.setPen(pg.mkPen(shade, width=max(0.5, width * thin)))
                    item.setZValue(1 + bucket / 10)
                    self.scene.addItem(item)
                    column.edge_items.append(item)
            return
        start, end = self._anchor(previous, True), self._anchor(column, False)
        if len(start) == len(end):
            pairs = np.stack([start, end], axis=1)
        else:                                   # fan between a block and nodes
            start, end = np.broadcast_arrays(start, end)
            pairs = np.stack([start, end], axis=1)
        pairs = pairs.reshape(-1, 2)
        item = QGraphicsPathItem(pg.arrayToQPath(pairs[:, 0], pairs[:, 1], connect="pairs"))
        shade = QBrush(self.foreground).color()
        shade.setAlpha(120)
        item.setPen(pg.mkPen(shade, width=1.2))
        self.scene.addItem(item)

    def _has_names(self) -> bool:
        """Whether unit names are written beside the input or output nodes."""
        return bool(self.columns[0].nodes or self.columns[-1].nodes)

    def _draw_unit_names(self, data: NetworkData) -> None:
        first, last = self.columns[0], self.columns[-1]
        if first.nodes:
            names = data.input_names if len(data.input_names) == first.nodes else [
                f"x{i + 1}" for i in range(first.nodes)]
            for name, y in zip(np.asarray(names)[first.units], first.ys):
                item = self._text(name, NAME_FONT)
                rect = item.boundingRect()
                item.setPos(first.x - self.radius - 6 - rect.width(), y - rect.height() / 2)
        if last.nodes:
            names = data.output_names if len(data.output_names) == last.nodes else (
                ["ŷ"] if last.nodes == 1 else [f"ŷ{i + 1}" for i in range(last.nodes)])
            for name, y in zip(np.asarray(names)[last.units], last.ys):
                item = self._text(name, NAME_FONT)
                item.setPos(last.x + self.radius + 6, y - item.boundingRect().height() / 2)

    # ------------------------------------------------------------ weights
    def _draw_weights(self, data: NetworkData) -> None:
        """Set the edge paths of every dense layer drawn unit by unit."""
        for i, (previous, column) in enumerate(zip(self.columns, self.columns[1:])):
            if not column.edge_items:
                continue
            weights = np.asarray(data.layers[i].weights, dtype=float)   # (in, out)
            weights = weights[np.ix_(previous.units, column.units)]      # the drawn units
            start = self._anchor(previous, True)
            end = self._anchor(column, False)
            src, dst = np.meshgrid(np.arange(len(start)), np.arange(len(end)), indexing="ij")
            buckets = edge_buckets(weights)
            shown = strongest(weights, MAX_EDGES)
            for s, positive in enumerate((shown & (weights >= 0), shown & (weights < 0))):
                for b in range(len(WIDTHS)):
                    mask = positive & (buckets == b)
                    pairs = np.stack([start[src[mask]], end[dst[mask]]], axis=1).reshape(-1, 2)
                    path = (pg.arrayToQPath(pairs[:, 0], pairs[:, 1], connect="pairs")
                            if len(pairs) else QPainterPath())
                    column.edge_items[s * len(WIDTHS) + b].setPath(path)

    # ------------------------------------------------------------ fitting
    def _fit(self) -> None:
        rect = self.scene.sceneRect()
        if rect.isEmpty():
            return
        viewport = self.view.viewport().rect()
        zoom = min(viewport.width() / rect.width(), viewport.height() / rect.height(),
                   MAX_ZOOM * self.font_scale)
        # never shrink labels below MIN_ZOOM of the window's font: a diagram wider than
        # the dock scrolls (from the input) instead of turning into specks
        self.zoom = max(zoom, MIN_ZOOM)
        self.view.setTransform(QTransform.fromScale(self.zoom, self.zoom))
        self.view.centerOn(rect.center() if zoom >= MIN_ZOOM else rect.topLeft())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit()
