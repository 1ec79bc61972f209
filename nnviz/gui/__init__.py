"""The nnviz desktop application (PySide6 + pyqtgraph).

``MainWindow`` is imported lazily, so ``import nnviz.gui.session`` (or a view)
does not pull in the whole window.
"""

__all__ = ["MainWindow"]


def __getattr__(name):
    if name == "MainWindow":
        from nnviz.gui.main_window import MainWindow
        return MainWindow
    raise AttributeError(f"module 'nnviz.gui' has no attribute {name!r}")
