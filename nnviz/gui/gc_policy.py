"""Python's cyclic garbage collector runs only on the GUI thread, between events.

Left automatic, a collection can start inside a Qt call that holds Qt's
signal-slot lock (seen here: pyqtgraph disconnecting a signal while adding an
item), collect the wrapper of an old menu, and deadlock deleting it. pyqtgraph's
GarbageCollector disables automatic collection and collects from a timer instead.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector


def collect_on_gui_thread(app, interval: float = 1.0) -> GarbageCollector:
    """Install the timer-driven collector once per application; returns it."""
    collector = getattr(app, "_nnviz_gc", None)
    if collector is None:
        collector = GarbageCollector(interval=interval)
        app._nnviz_gc = collector
    return collector
