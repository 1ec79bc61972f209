"""The Runs dock: every run on the plots, with its colour, name and final figures.

A list (objectName ``runsList``) of the pinned runs, then the current run:
colour, a checkbox that shows or hides the run on the plots, its name
(double-click to rename), and its final validation accuracy and loss (the
training loss when there is no validation split).  Buttons pin the current
run and rename, remove or export (CSV) the selected one.  The panel edits a
``RunsModel`` and redraws when it changes.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView,
                               QLabel, QMessageBox, QPushButton, QToolButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from nnviz.core.errors import SpecError
from nnviz.gui.panels.widgets import plain_tooltip
from nnviz.gui.views import plotstyle

_COLUMNS = ("run", "val. accuracy", "val. loss")
_CURRENT_COLOUR = plotstyle.PALETTE[0]     # the current run's training curve
_INDEX = Qt.ItemDataRole.UserRole           # pinned index, or -1 for the current run


def _swatch(colour: str, dashed: bool) -> QIcon:
    pixmap = QPixmap(22, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    pen = QPen(QColor(colour), 3, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
    painter.setPen(pen)
    painter.drawLine(1, 6, 21, 6)
    painter.end()
    return QIcon(pixmap)


def final_figures(run) -> tuple[str, str]:
    """(accuracy, loss) texts of a run's newest point: validation when it has one."""
    acc = run.last("val_accuracy")
    loss = run.last("val_loss")
    if loss is None:
        loss, acc = run.last("train_loss"), run.last("train_accuracy")
    return ("–" if acc is None else f"{acc:.1%}", "–" if loss is None else f"{loss:.4g}")


class RunsPanel(QWidget):
    """Lists the runs of a ``RunsModel``; ``pin_button`` uses the window's Pin action."""

    exported = Signal(str)            # a folder or file written

    def __init__(self, model, pin_action=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self._in_item_change = False
        self.tree = QTreeWidget()
        self.tree.setObjectName("runsList")
        self.tree.setColumnCount(len(_COLUMNS))
        self.tree.setHeaderLabels(list(_COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)

        self.pin_button = QToolButton()
        self.pin_button.setObjectName("pinButton")
        self.pin_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        if pin_action is not None:
            self.pin_button.setDefaultAction(pin_action)
        self.rename_button = self._button("Rename", "renameRunButton", self._rename,
                                          "rename the selected run (or double-click its name)")
        self.remove_button = self._button("Remove", "removeRunButton", self._remove,
                                          "take the selected run off the plots for good")
        self.export_button = self._button("Export CSV…", "exportRunButton", self._export,
                                          "write the selected run's history as a CSV file")
        self.hint = QLabel("Train a run, pin it (Ctrl+P), change something and train "
                           "again: both runs stay on the plots.")
        self.hint.setWordWrap(True)
        self.hint.setObjectName("runsHint")

        buttons = QHBoxLayout()
        for button in (self.pin_button, self.rename_button, self.remove_button,
                       self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)
        model.changed.connect(self.refresh)
        self.refresh()

    @staticmethod
    def _button(text: str, name: str, slot, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # ------------------------------------------------------------------ showing
    def refresh(self) -> None:
        """Rebuild the list from the model (keeps the selection).  Inside an item's
        own change signal the rebuild waits for the next event-loop turn: deleting
        the item Qt is notifying about would crash."""
        if self._in_item_change:
            QTimer.singleShot(0, self, self.refresh)
            return
        selected = self.selected_index()
        self.tree.blockSignals(True)
        self.tree.clear()
        for i, pinned in enumerate(self.model.pinned):
            item = QTreeWidgetItem([pinned.name, *final_figures(pinned.run)])
            item.setData(0, _INDEX, i)
            item.setIcon(0, _swatch(pinned.colour, dashed=True))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable
                          | Qt.ItemFlag.ItemIsEditable)
            item.setCheckState(0, Qt.CheckState.Checked if pinned.visible
                               else Qt.CheckState.Unchecked)
            item.setToolTip(0, plain_tooltip(f"pinned: {pinned.name} (dashed: validation, "
                                              "dotted: training)"))
            self.tree.addTopLevelItem(item)
        current = self.model.current
        if current is not None and all(p.run is not current for p in self.model.pinned):
            item = QTreeWidgetItem([f"{current.name}  (current)", *final_figures(current)])
            item.setData(0, _INDEX, -1)
            item.setIcon(0, _swatch(_CURRENT_COLOUR, dashed=False))
            item.setToolTip(0, "the run being trained: pin it to keep it for comparison")
            self.tree.addTopLevelItem(item)
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            for column in (1, 2):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            if item.data(0, _INDEX) == selected:
                item.setSelected(True)
        self.tree.blockSignals(False)
        self.hint.setVisible(not self.model.pinned)
        self._update_buttons()

    def update_figures(self) -> None:
        """Refresh the accuracy and loss columns (the current run grows)."""
        runs = {i: p.run for i, p in enumerate(self.model.pinned)}
        runs[-1] = self.model.current
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            run = runs.get(item.data(0, _INDEX))
            if run is not None:
                for column, text in zip((1, 2), final_figures(run)):
                    if item.text(column) != text:
                        item.setText(column, text)

    def selected_index(self) -> int | None:
        """The selected row: a pinned run's index, -1 for the current run, None."""
        items = self.tree.selectedItems()
        return items[0].data(0, _INDEX) if items else None

    def _selected_run(self):
        index = self.selected_index()
        if index is None:
            return None
        return self.model.current if index == -1 else self.model.pinned[index].run

    def _update_buttons(self) -> None:
        index = self.selected_index()
        pinned = index is not None and index >= 0
        self.rename_button.setEnabled(pinned)
        self.remove_button.setEnabled(pinned)
        run = self._selected_run()
        self.export_button.setEnabled(run is not None and len(run) > 0)

    # ------------------------------------------------------------------ editing
    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        index = item.data(0, _INDEX)
        if index is None or index < 0 or column != 0:
            return
        visible = item.checkState(0) == Qt.CheckState.Checked
        name = item.text(0)
        self._in_item_change = True
        try:
            if name != self.model.pinned[index].name:
                self.model.rename(index, name)
            else:
                self.model.set_visible(index, visible)
        finally:
            self._in_item_change = False

    def _rename(self) -> None:
        items = self.tree.selectedItems()
        if items and items[0].data(0, _INDEX) >= 0:
            self.tree.editItem(items[0], 0)

    def _remove(self) -> None:
        index = self.selected_index()
        if index is not None and index >= 0:
            self.model.remove(index)

    def _export(self) -> None:
        run = self._selected_run()
        if run is None:
            return
        suggested = "".join(c if c.isalnum() or c in "-_." else "_" for c in run.name) + ".csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export run as CSV",
                                              os.path.join(os.getcwd(), suggested),
                                              "CSV files (*.csv)")
        if path:
            self.export_run(run, path)

    def export_run(self, run, path: str) -> bool:
        """Write ``run`` to ``path`` (CSV); a failure is said in a dialog."""
        try:
            run.to_csv(path)
        except SpecError as exc:
            QMessageBox.critical(self, "Cannot export run", str(exc))
            return False
        self.exported.emit(path)
        return True
