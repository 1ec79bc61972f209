"""The application collects cyclic garbage from a GUI-thread timer, not at random points."""

import gc

from nnviz.gui.gc_policy import collect_on_gui_thread


def test_collector_is_installed_once_and_replaces_automatic_collection(qapp):
    gc.enable()
    collector = collect_on_gui_thread(qapp, interval=0.05)
    try:
        assert collect_on_gui_thread(qapp) is collector
        assert not gc.isenabled() and collector.timer.isActive()
    finally:
        collector.timer.stop()
        del qapp._nnviz_gc
