"""Where the window's docks go: setup panels tabbed on the left, views two by two
on the right, and the way back to that arrangement ("Reset layout")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDockWidget, QFrame, QMainWindow, QScrollArea, QTabBar,
                               QTabWidget, QWidget)

STATE_VERSION = 2          # bump when the dock layout changes incompatibly
_LEFT, _RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea


def make_dock(window: QMainWindow, key: str, title: str, widget: QWidget,
              scroll: bool = False) -> QDockWidget:
    """A movable, floatable, closable dock named ``<key>Dock`` holding ``widget``
    (with ``scroll``, in a vertical scroll area: a long panel never makes the
    window taller than the screen, e.g. a projector's 720 lines)."""
    dock = QDockWidget(title, window)
    dock.setObjectName(f"{key}Dock")
    if scroll:
        area = QScrollArea()
        area.setObjectName(f"{key}Scroll")
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(widget)
        widget = area
    dock.setWidget(widget)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    return dock


def arrange(window: QMainWindow, setup: dict[str, QDockWidget], views: dict[str, QDockWidget],
            conv_first: bool = False) -> None:
    """Data, Model, Training and Runs tabbed on the left; on the right Loss and
    Gradients side by side above Output and the network diagram, Activations
    behind Gradients and Convolution behind the diagram.

    Call it on the first show: arranging nested, tabbed docks before the window
    is shown leaves stray copies of the tab bars on screen (Qt 6.11).
    """
    window.setDockNestingEnabled(True)
    window.setTabPosition(_LEFT, QTabWidget.TabPosition.North)
    s, d = setup, views
    for dock in s.values():
        window.addDockWidget(_LEFT, dock)
    keys = list(s)
    for a, b in zip(keys, keys[1:]):
        window.tabifyDockWidget(s[a], s[b])
    window.addDockWidget(_RIGHT, d["loss"])
    window.splitDockWidget(d["loss"], d["gradient"], Qt.Orientation.Horizontal)
    window.splitDockWidget(d["loss"], d["output"], Qt.Orientation.Vertical)
    window.splitDockWidget(d["gradient"], d["network"], Qt.Orientation.Vertical)
    window.tabifyDockWidget(d["gradient"], d["activation"])
    window.tabifyDockWidget(d["network"], d["conv"])
    for dock in (s["model"], d["gradient"], d["network"]):
        dock.raise_()
    if conv_first:
        d["conv"].raise_()
    default_sizes(window, setup, views)
    hide_stray_tab_bars(window)


def default_sizes(window: QMainWindow, setup: dict[str, QDockWidget],
                  views: dict[str, QDockWidget]) -> None:
    s, d = setup, views
    left = min(430, window.width() * 3 // 10)          # the views get the rest, evenly
    right = max(window.width() - left, 400) // 2
    window.resizeDocks([s["model"], d["loss"], d["gradient"]], [left, right, right],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([d["loss"], d["output"]], [1, 1], Qt.Orientation.Vertical)
    # the gradient view may carry a banner: give its column's top more room
    window.resizeDocks([d["gradient"], d["network"]], [3, 2], Qt.Orientation.Vertical)


def arrange_compact(window: QMainWindow, setup: dict[str, QDockWidget],
                    views: dict[str, QDockWidget]) -> None:
    """Projector mode on a small screen (1280×720 with large text): two views side by
    side at full height — Loss before Output, Gradients before Activations, the
    diagram and Convolution — so each plot keeps room for its labels."""
    d = views
    window.tabifyDockWidget(d["loss"], d["output"])
    window.tabifyDockWidget(d["gradient"], d["network"])
    window.tabifyDockWidget(d["gradient"], d["conv"])
    for dock in (d["loss"], d["gradient"]):
        dock.raise_()
    left = 340
    right = max(window.width() - left, 400) // 2
    window.resizeDocks([setup["model"], d["loss"], d["gradient"]], [left, right, right],
                       Qt.Orientation.Horizontal)
    hide_stray_tab_bars(window)


def restore(window: QMainWindow, state, setup: dict[str, QDockWidget],
            views: dict[str, QDockWidget]) -> None:
    """Back to a saved arrangement (``saveState``), e.g. the first start's.

    Qt 6.11 leaves the tab bars of the old layout on screen, frozen in place,
    when restoreState makes new ones: every old bar that has a successor is hidden.
    """
    before = _tab_bars(window)
    window.restoreState(state, STATE_VERSION)
    new = [bar for bar in _tab_bars(window) if bar not in before]
    titles = {_tab_titles(bar) for bar in new}
    for bar in before:
        if _tab_titles(bar) in titles:
            bar.hide()
    hide_stray_tab_bars(window)
    default_sizes(window, setup, views)


def hide_stray_tab_bars(window: QMainWindow) -> None:
    """Hide the tab bars of tab groups a re-arrangement dissolved.

    Qt 6.11 leaves such a bar on screen, frozen, when tabifying merges groups (the
    compact arrangement puts Network diagram and Convolution behind Gradients):
    its stale tabs were drawn over the live bar.  A bar is live when its tabs are
    exactly one tab group of two or more docks (a dock alone has no tab bar).
    """
    groups = set()
    for dock in window.findChildren(QDockWidget):
        tabbed = [d for d in (dock, *window.tabifiedDockWidgets(dock)) if not d.isHidden()]
        if len(tabbed) > 1:
            groups.add(tuple(sorted(d.windowTitle() for d in tabbed)))
    for bar in _tab_bars(window):
        if bar.isVisibleTo(window) and _tab_titles(bar) not in groups:
            bar.hide()


def _tab_bars(window: QMainWindow) -> list[QTabBar]:
    return window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)


def _tab_titles(bar: QTabBar) -> tuple[str, ...]:
    return tuple(sorted(bar.tabText(i) for i in range(bar.count())))
