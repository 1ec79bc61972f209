"""Small widgets and helpers the panels share: number editors and error marking."""

from __future__ import annotations

import html
import math

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPalette, QValidator
from PySide6.QtWidgets import (QAbstractSpinBox, QDoubleSpinBox, QLabel, QSpinBox, QStyle,
                               QStyleOptionSpinBox,
                               QWidget)

from nnviz.gui import theme

INT_MAX = 2**31 - 1   # QSpinBox is 32-bit
#: QDoubleSpinBox rounds to its decimals; this many keep every double from 1e-300 up exact
EXACT_DECIMALS = 323
_STEPS = (1.0, 2.0, 5.0)


def int_spin(lo: int, hi: int, value: int, tooltip: str = "", name: str = "") -> QSpinBox:
    """A spin box that reports a value only when editing is finished (no per-keystroke)."""
    spin = QSpinBox()
    spin.setRange(int(lo), int(min(hi, INT_MAX)))
    spin.setValue(int(value))
    spin.setKeyboardTracking(False)
    spin.setAccelerated(True)
    _finish(spin, tooltip, name)
    return spin


def float_spin(lo: float, hi: float, value: float, step: float, tooltip: str = "",
               name: str = "") -> "NumberSpinBox":
    """A number editor stepping by ``step``, holding any value it is given exactly."""
    return NumberSpinBox(lo, hi, value, step=step, tooltip=tooltip, name=name)


class NumberSpinBox(QDoubleSpinBox):
    """A float editor shown in short form (0.2, 1e-08) that keeps full precision.

    QDoubleSpinBox rounds to its decimals; this one keeps all a double has (down
    to the catalogue's TINY) and shows at most 6 significant digits, so a value
    loaded from a file survives unchanged.
    """

    def __init__(self, lo: float, hi: float, value: float, *, step: float = 0.1,
                 tooltip: str = "", name: str = ""):
        super().__init__()
        self.setDecimals(EXACT_DECIMALS)
        self.setRange(lo, hi)
        self.setSingleStep(step)
        self.setValue(value)
        self.setKeyboardTracking(False)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        _finish(self, tooltip, name)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    # Qt sizes a spin box by the text of its minimum and maximum ("0" and "1" for a
    # rate in [0, 1)), so at large font 0.1 was cut to "0."; leave room for WIDEST.
    WIDEST = "0.00001"

    def minimumSizeHint(self) -> QSize:
        return super().minimumSizeHint().expandedTo(self._room())

    def sizeHint(self) -> QSize:
        return super().sizeHint().expandedTo(self._room())

    def _room(self) -> QSize:
        option = QStyleOptionSpinBox()
        self.initStyleOption(option)
        text = QSize(self.fontMetrics().horizontalAdvance(self.WIDEST) + 4,
                     self.fontMetrics().height())
        return self.style().sizeFromContents(QStyle.ContentsType.CT_SpinBox, option, text, self)

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        stripped = text.strip()
        if stripped in ("", ".", "-", "e", "1e", "1e-") or stripped.endswith(("e", "e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class LogSpinBox(NumberSpinBox):
    """A positive number spanning decades (learning rate, L2, epsilon).

    The arrows walk the 1-2-5 series (0.001 -> 0.002 -> 0.005 -> 0.01) instead
    of adding a fixed step; from 0 (when allowed) the first step up goes to
    the smallest non-zero value.
    """

    def __init__(self, lo: float, hi: float, value: float, *, allow_zero: bool = False,
                 smallest: float | None = None, tooltip: str = "", name: str = ""):
        super().__init__(0.0 if allow_zero else lo, hi, value, tooltip=tooltip, name=name)
        self.smallest = smallest if smallest is not None else lo

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = next_125(value, up=steps > 0, smallest=self.smallest,
                             allow_zero=self.minimum() == 0.0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


def next_125(value: float, up: bool, smallest: float, allow_zero: bool = False) -> float:
    """The neighbour of ``value`` in the series ..., 0.01, 0.02, 0.05, 0.1, ..."""
    if value <= 0.0:
        return smallest if up else 0.0
    if not up and value <= smallest * 1.0000001:
        return 0.0 if allow_zero else value
    exponent = math.floor(math.log10(value) + 1e-9)
    candidates = sorted({m * 10.0 ** e for e in (exponent - 1, exponent, exponent + 1)
                         for m in _STEPS})
    candidates = [float(f"{c:.6g}") for c in candidates]
    if up:
        return next(c for c in candidates if c > value * 1.0000001)
    return next(c for c in reversed(candidates) if c < value / 1.0000001)


def _finish(widget: QWidget, tooltip: str, name: str) -> None:
    if tooltip:
        widget.setToolTip(tooltip)
    if name:
        widget.setObjectName(name)


def mark_invalid(widget: QWidget, message: str | None) -> None:
    """Colour ``widget`` as invalid, with ``message`` as tooltip; None clears it.

    The palette is changed, not a style sheet, so spin boxes and combos keep
    their native look (arrows, frames) and follow the theme and font size.
    """
    if message:
        if not hasattr(widget, "normal_tooltip"):
            widget.normal_tooltip = widget.toolTip()
        t = theme.current()
        palette = QPalette()
        for role in (QPalette.ColorRole.Base, QPalette.ColorRole.Button):
            palette.setColor(role, QColor(t.error_background))
        for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
            palette.setColor(role, QColor(t.error))
        # Fusion draws frames in a darker shade of Window: a red frame
        palette.setColor(QPalette.ColorRole.Window, QColor(t.error).lighter(130))
        widget.setPalette(palette)
        widget.setToolTip(message)
        widget.invalid_message = message
    elif getattr(widget, "invalid_message", None):
        widget.setPalette(QPalette())        # no explicit roles: inherit again
        widget.setToolTip(getattr(widget, "normal_tooltip", ""))
        widget.invalid_message = None


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` as it is: Qt renders a tooltip that looks like
    HTML as rich text, so a file's ``<img src=...>`` would load a local image."""
    if not text:
        return ""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


def error_label(name: str = "") -> QLabel:
    """A word-wrapped label for an error message, hidden until it has text."""
    label = QLabel()
    label.setWordWrap(True)
    label.setObjectName(name or "errorLabel")
    label.hide()
    return label


def show_error(label: QLabel, message: str | None) -> None:
    if message:
        t = theme.current()
        label.setStyleSheet(f"color: {t.error}; background: {t.error_background}; "
                            "border-radius: 3px; padding: 3px;")
        label.setText(message)
        label.show()
    else:
        label.clear()
        label.hide()


class ElidedLabel(QLabel):
    """One line of plain text cut with "…" to the width it gets; ``text()`` is the whole.

    The toolbar's lesson description needs nothing more, and superqt's
    QElidingLabel would make superqt (about 0.1 s to import, with qtpy and
    pygments) part of the window's start-up.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._whole = ""
        self.setText(text)

    def text(self) -> str:
        return self._whole

    def setText(self, text: str) -> None:
        self._whole = text or ""
        self._elide()

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._whole, Qt.TextElideMode.ElideRight,
                                              max(self.contentsRect().width(), 0))
        super().setText(shown)
