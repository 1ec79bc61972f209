"""export_widget: PNG of the right size, SVG that is a real vector drawing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from nnviz.core.errors import SpecError
from nnviz.gui.export import PNG_SCALE, export_widget

SVG = "{http://www.w3.org/2000/svg}"
DRAWING = {"path", "polyline", "line", "rect", "polygon", "circle", "text"}


def drawing_elements(path):
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    return [el.tag[len(SVG):] for el in root.iter() if el.tag.startswith(SVG)
            and el.tag[len(SVG):] in DRAWING]


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    widget.plot(np.arange(50), np.sin(np.arange(50) / 5), pen="b")
    widget.resize(400, 300)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_plot_exports_png_at_twice_its_scene_width(plot, tmp_path):
    out = export_widget(plot.getPlotItem(), tmp_path / "loss.png")
    image = QImage(out)
    width = int(plot.getPlotItem().sceneBoundingRect().width())
    assert image.width() == width * PNG_SCALE
    assert image.height() == pytest.approx(image.width() * 300 / 400, rel=0.05)


def test_plot_svg_is_vector_xml_with_the_curve(plot, tmp_path):
    out = export_widget(plot, tmp_path / "loss.SVG")       # the suffix in any case
    tags = drawing_elements(out)
    assert tags.count("polyline") > 5                       # axes and ticks
    root = ET.parse(out).getroot()
    curve_points = max(len(re.findall(r"-?[\d.]+[ ,]-?[\d.]+", el.get("d", "")))
                       for el in root.iter(SVG + "path"))
    assert curve_points >= 49                               # the 50-point curve, as vectors
    assert root.get("viewBox") == "0 0 400 300"


def test_plain_widget_exports_png_and_svg(qtbot, tmp_path):
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.addWidget(QLabel("gradient banner"))
    inner = pg.PlotWidget()
    inner.plot([0, 1, 2], [2, 0, 1])
    layout.addWidget(inner)
    widget.resize(320, 240)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    image = QImage(export_widget(widget, tmp_path / "view.png"))
    assert (image.width(), image.height()) == (320 * PNG_SCALE, 240 * PNG_SCALE)
    assert len({image.pixel(x, 120) for x in range(0, 640, 4)}) > 2   # not blank
    tags = drawing_elements(export_widget(widget, tmp_path / "view.svg"))
    assert {"path", "text"} <= set(tags) or ("path" in tags and len(tags) > 5)
    root = ET.parse(tmp_path / "view.svg").getroot()
    assert root.get("viewBox") == "0 0 320 240"


def test_bad_suffix_or_folder_is_a_spec_error(plot, tmp_path):
    with pytest.raises(SpecError, match="path: .*end the file name with .png or .svg"):
        export_widget(plot, tmp_path / "loss.jpg")
    with pytest.raises(SpecError, match="path: cannot write into"):
        export_widget(plot, tmp_path / "missing" / "loss.png")


def test_screenshot_of_a_view_as_svg(qapp, tmp_path):
    from nnviz.core import load_preset
    from nnviz.gui.screenshot import render
    out = render(load_preset("moons_small"), 10, tmp_path / "loss.svg", view="loss")
    tags = drawing_elements(out)
    assert tags.count("polyline") + tags.count("path") > 10 and "text" in tags


def test_empty_curves_leave_no_empty_paths(qtbot, tmp_path):
    """Qt writes <path d=""/> for an empty curve; SVG renderers warn about those."""
    box = QWidget()
    layout = QVBoxLayout(box)
    widget = pg.PlotWidget()
    widget.plot([0, 1, 2], [1, 0, 2])
    widget.plot([], [])                      # e.g. a validation curve before its first point
    widget.plot([np.nan, np.nan], [1, 2])
    layout.addWidget(widget)
    box.resize(300, 200)
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    for target, name in ((box, "box.svg"), (widget, "plot.svg")):
        root = ET.parse(export_widget(target, tmp_path / name)).getroot()
        paths = list(root.iter(SVG + "path"))
        assert paths and all(p.get("d", "").strip() for p in paths), name
