"""Training → Check gradients…: the table of ``nnviz gradcheck`` in a dialog.

Each weighted layer's back-propagated gradients are compared with autograd and
with finite differences on a float64 copy of the network, off the GUI thread
(superqt's thread worker); the dialog shows the relative errors per parameter
and the verdict in plain words.  A network too large for the window to build
(``network`` None) is not checked here: the dialog says how to check it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)
from superqt.utils import create_worker

from nnviz.core.gradcheck import check_network, passes, verdict
from nnviz.gui.panels.validation import BUILD_LIMIT

SAMPLES = 8        # training samples the check uses (as `nnviz gradcheck`)


class GradCheckDialog(QDialog):
    """Checks ``network`` on ``dataset`` in the background; ``finished_check(rows)``
    is called on the GUI thread when the table is filled."""

    def __init__(self, network, dataset, l2: float = 0.0, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gradCheckDialog")
        self.setWindowTitle("Check gradients")
        self.rows: list | None = None
        self.status = QLabel("Comparing back propagation with autograd and finite "
                             "differences…")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("gradCheckTable")
        self.table.setHorizontalHeaderLabels(["layer", "parameter", "vs autograd",
                                              "vs finite differences"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(640, 360)
        self.worker = None
        if network is None:
            self.status.setText(f"This network has over {BUILD_LIMIT:,} parameters: too many to "
                                "check inside the window. `nnviz gradcheck FILE` checks it in a "
                                "process of its own.")
            return
        self.worker = create_worker(check_network, network, dataset, SAMPLES, l2)
        self.worker.returned.connect(self._show)
        self.worker.errored.connect(lambda exc: self.status.setText(f"The check failed: {exc}"))
        self.worker.start()

    def _show(self, result) -> None:
        rows, n = result
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            cells = (row.label, row.param, f"{row.error_autograd:.1e}",
                     f"{row.error_finite_difference:.1e}")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j >= 2 and not passes(row):
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(i, j, item)
        self.status.setText(f"On {n} training samples. {verdict(rows)}")
