"""A "?" button floating in a view's bottom-left corner (the empty corner between
the axes) that opens the view's explanation over it: no layout row, so it costs
the plots no height, even on a 720-line projector."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QPlainTextEdit, QToolButton, QWidget

from nnviz.gui.explanations import EXPLANATIONS

MARGIN = 4


class ExplainPanel(QPlainTextEdit):
    """The explanation text over the view (plain text, scrolls when the view is short);
    Escape or the "?" closes it."""

    def __init__(self, text: str, parent: QWidget, on_close):
        super().__init__(text, parent)
        self.setReadOnly(True)
        self._on_close = on_close
        self.hide()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self._on_close()
            return
        super().keyPressEvent(event)


class ExplainButton(QToolButton):
    """Toggles ``EXPLANATIONS[key]`` over ``view`` (objectName ``<key>Explain``)."""

    def __init__(self, view: QWidget, key: str):
        super().__init__(view)
        self.key = key
        self.explanation = EXPLANATIONS[key]
        self.setObjectName(f"{key}Explain")
        self.setText("?")
        self.setCheckable(True)
        self.setToolTip(f"What am I looking at? ({self.explanation.title})")
        self.setAutoRaise(True)
        self.panel = ExplainPanel(self.explanation.text(), view, lambda: self.setChecked(False))
        self.toggled.connect(self._show)
        self._follower = _Follower(view, self._place)
        self._place()
        self.raise_()

    def _show(self, on: bool) -> None:
        self.panel.setVisible(on)
        if on:
            self._place()
            self.panel.raise_()
            self.raise_()

    def _place(self) -> None:
        view = self.parentWidget()
        size = self.sizeHint()
        self.setGeometry(MARGIN, view.height() - size.height() - MARGIN,
                         size.width(), size.height())
        width = max(120, min(view.width() - 2 * MARGIN, 44 * self.fontMetrics().averageCharWidth()))
        height = max(40, view.height() - size.height() - 3 * MARGIN)    # the "?" stays clear
        self.panel.setGeometry(MARGIN, MARGIN, width, height)


class _Follower(QObject):
    """Calls ``place`` whenever ``widget`` is resized (or its font changes)."""

    def __init__(self, widget: QWidget, place):
        super().__init__(widget)
        self._place = place
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.FontChange, QEvent.Type.Show):
            self._place()
        return False


def attach(view: QWidget, key: str) -> ExplainButton:
    """Give ``view`` its "?" button (kept as ``view.explain_button``)."""
    view.explain_button = ExplainButton(view, key)
    return view.explain_button
