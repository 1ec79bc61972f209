"""The application collects cyclic garbage from a GUI-thread timer, not at random points."""

import gc

from nnviz.gui.gc_policy import collect_on_gui_thread, stop_collecting


def test_collector_is_installed_once_and_replaces_automatic_collection(qapp):
    gc.enable()
    collector = collect_on_gui_thread(qapp, interval=0.05)
    try:
        assert collect_on_gui_thread(qapp) is collector
        assert not gc.isenabled() and collector.timer.isActive()
    finally:
        stop_collecting(qapp)
    assert not hasattr(qapp, "_nnviz_gc") and gc.isenabled()


def test_installing_again_turns_automatic_collection_off_again(qapp):
    """What made this file fail after the screenshot test: a collector was already
    installed, something had re-enabled automatic collection, and installing again
    returned the collector and left collection automatic."""
    collector = collect_on_gui_thread(qapp, interval=0.05)
    try:
        gc.enable()
        collector.timer.stop()
        assert collect_on_gui_thread(qapp) is collector
        assert not gc.isenabled() and collector.timer.isActive()
    finally:
        stop_collecting(qapp)
