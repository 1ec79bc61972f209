"""Python's cyclic garbage collector runs only on the GUI thread, between events.

Left automatic, a collection can start inside a Qt call that holds Qt's
signal-slot lock (seen here: pyqtgraph disconnecting a signal while adding an
item), collect the wrapper of an old menu, and deadlock deleting it. pyqtgraph's
GarbageCollector disables automatic collection and collects from a timer instead.

The collector is one per application, but automatic collection is a global
switch anything can turn back on (a library, a test fixture calling
``gc.enable()``), so every call re-asserts it: off, with the timer running.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector


def collect_on_gui_thread(app, interval: float = 1.0) -> GarbageCollector:
    """Install the timer-driven collector once per application and make sure automatic
    collection is off and the timer runs (whatever happened since); returns it."""
    collector = getattr(app, "_nnviz_gc", None)
    if collector is None:
        collector = GarbageCollector(interval=interval)
        app._nnviz_gc = collector
    gc.disable()
    if not collector.timer.isActive():
        collector.timer.start()
    return collector


def stop_collecting(app) -> None:
    """Remove the application's collector and hand collection back to Python."""
    collector = getattr(app, "_nnviz_gc", None)
    if collector is not None:
        collector.timer.stop()
        del app._nnviz_gc
        gc.enable()
