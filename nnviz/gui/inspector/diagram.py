"""The small-network diagram: each neuron's z, a and δ as coloured, numbered strips.

Columns are the input and the dense layers; a neuron is a box of three strips
(z, a on the forward pass, δ on the backward pass), each coloured by its value
on a diverging scale shared by the layer quantity, with 3 significant digits.
Values the stepper has not revealed are blank.  Clicking a neuron emits
``neuron_clicked(layer, unit)``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QGraphicsView

from nnviz.gui.inspector.chain import fmt
from nnviz.gui.inspector.colours import qcolour, scale_of, text_on

MAX_UNITS = 8          # wider layers (or inputs) go to the heatmaps
BOX_W, STRIP_H, GAP_Y, GAP_X = 120.0, 22.0, 18.0, 110.0


def is_small(data: dict) -> bool:
    """Dense layers only, each (and the input) at most MAX_UNITS wide."""
    return (np.ndim(data["input"]) == 1 and np.size(data["input"]) <= MAX_UNITS
            and all(l["kind"] == "dense" and np.size(l["a"]) <= MAX_UNITS
                    for l in data["layers"]))


class DiagramView(QGraphicsView):
    neuron_clicked = Signal(int, int)      # (layer, unit), 0-based; layer -1: the input

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("inspectorDiagram")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.boxes: dict[tuple[int, int], QGraphicsRectItem] = {}
        self.texts: dict[tuple[int, int, str], str] = {}   # (layer, unit, quantity) -> shown
        self.font_scale = 1.0

    def mousePressEvent(self, event) -> None:
        item = self.itemAt(event.position().toPoint())
        while item is not None and item.data(0) is None:
            item = item.parentItem()
        if item is not None:
            layer, unit = item.data(0)
            self.neuron_clicked.emit(layer, unit)
        super().mousePressEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fitInView(self.scene().itemsBoundingRect().adjusted(-10, -10, 10, 10),
                       Qt.AspectRatioMode.KeepAspectRatio)

    def draw(self, data: dict, stepper, selected: tuple[int, int] | None) -> None:
        scene = self.scene()
        scene.clear()
        self.boxes.clear()
        self.texts.clear()
        fg = self.palette().text().color()
        font = QFont(self.font())
        font.setPointSizeF(9.0)
        layers = data["layers"]
        columns = [("input", np.ravel(data["input"]))] + [
            (l["name"], np.ravel(l["a"])) for l in layers]
        tallest = max(len(v) for _, v in columns)
        scales = {q: scale_of(*[np.ravel(l[q]) for l in layers]) for q in ("z", "a", "delta")}
        scales["input"] = scale_of(data["input"])
        positions = []
        for c, (name, values) in enumerate(columns):
            n = len(values)
            height = 3 * STRIP_H if c else STRIP_H
            top = (tallest - n) * (3 * STRIP_H + GAP_Y) / 2
            positions.append([(c * (BOX_W + GAP_X), top + u * (3 * STRIP_H + GAP_Y), height)
                              for u in range(n)])
            title = scene.addSimpleText(f"layer {c}: {name}" if c else name, font)
            title.setBrush(fg)
            title.setPos(c * (BOX_W + GAP_X), -STRIP_H * 1.6)
        edge_scale = scale_of(*[l["params"].get("W") for l in layers])
        for c in range(1, len(columns)):          # weights first, under the boxes
            W = layers[c - 1]["params"].get("W")
            for i, (x0, y0, h0) in enumerate(positions[c - 1]):
                for j, (x1, y1, h1) in enumerate(positions[c]):
                    w = float(W[i, j]) if W is not None else 0.0
                    pen = QPen(qcolour(w, edge_scale), 1 + 3 * abs(w) / edge_scale)
                    scene.addLine(x0 + BOX_W, y0 + h0 / 2, x1, y1 + h1 / 2, pen)
        for c, (name, values) in enumerate(columns):
            layer = c - 1
            for u, (x, y, h) in enumerate(positions[c]):
                box = scene.addRect(QRectF(x, y, BOX_W, h), QPen(fg, 1))
                box.setData(0, (layer, u))
                self.boxes[(layer, u)] = box
                rows = [("input", "x", np.ravel(data["input"]))] if c == 0 else [
                    (q, label, np.ravel(layers[layer][q]))
                    for q, label in (("z", "z"), ("a", "a"), ("delta", "δ"))]
                for r, (q, label, arr) in enumerate(rows):
                    shown = stepper.shows(q, None if c == 0 else layer)
                    strip = QGraphicsRectItem(QRectF(x, y + r * STRIP_H, BOX_W, STRIP_H), box)
                    strip.setPen(QPen(Qt.PenStyle.NoPen))
                    text = f"{label} = {fmt(arr[u])}" if shown else f"{label} ="
                    self.texts[(layer, u, q)] = text
                    if shown:
                        colour = qcolour(float(arr[u]), scales[q])
                        strip.setBrush(QBrush(colour))
                        ink = text_on(colour)
                    else:
                        ink = fg
                    t = scene.addSimpleText(text, font)
                    t.setParentItem(strip)
                    t.setBrush(ink)
                    t.setPos(x + 6, y + r * STRIP_H + 3)
                if selected == (layer, u):
                    box.setPen(QPen(fg, 4))
                box.setZValue(1)
        last_x = len(columns) * (BOX_W + GAP_X)
        cost = f"C = {fmt(data['cost'])}" if stepper.shows("cost") else "C ="
        self.texts[(-2, 0, "cost")] = cost
        t = scene.addSimpleText(f"{cost}\n({data['cost_name']})", font)
        t.setBrush(fg)
        t.setPos(last_x - GAP_X + 20, positions[-1][0][1])
        self.fitInView(scene.itemsBoundingRect().adjusted(-10, -10, 10, 10),
                       Qt.AspectRatioMode.KeepAspectRatio)
