"""CsvDialog: preview, target picker, task, the engine's errors, dataset_spec()."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from nnviz.core import load_dataset
from nnviz.gui.panels.csv_dialog import PREVIEW_ROWS, CsvDialog

TEXT = "size,weight,kind\n" + "\n".join(
    f"{i},{2 * i + 1},{'cat' if i % 2 else 'dog'}" for i in range(80))


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "pets.csv"
    path.write_text(TEXT)
    return path


def ok(d):
    return d.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_preview_target_and_spec(qtbot, csv_file):
    d = CsvDialog(str(csv_file))
    qtbot.addWidget(d)
    assert d.preview.columnCount() == 3 and d.preview.rowCount() == PREVIEW_ROWS
    assert [d.preview.horizontalHeaderItem(i).text() for i in range(3)] == ["size", "weight", "kind"]
    assert d.preview.item(1, 2).text() == "cat"
    assert d.preview.verticalHeaderItem(0).text() == "2"      # file line numbers
    assert d.target.currentText() == "kind" and ok(d)
    assert d.dataset_spec() == {"name": "csv", "path": str(csv_file), "target": "kind"}
    assert "80 rows, 2 features" in d.summary.text() and "2 classes (cat, dog)" in d.summary.text()
    data = load_dataset(d.dataset_spec())
    assert data.class_names == ("cat", "dog")


def test_choosing_a_numeric_target_and_task(qtbot, csv_file):
    d = CsvDialog(str(csv_file))
    qtbot.addWidget(d)
    with qtbot.assertNotEmitted(d.spec_changed):
        d.target.setCurrentText("weight")
    # "kind" is now a feature, and it is text: the engine's message, OK disabled
    assert not ok(d) and d.dataset_spec() is None
    assert "column 'kind' is not numeric: 'dog' at line 2" in d.error_message()


def test_task_regression_on_numbers(qtbot, tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a,b\n" + "\n".join(f"{i},{i % 3}" for i in range(30)))
    d = CsvDialog(str(path))
    qtbot.addWidget(d)
    assert "classification, 3 classes (0, 1, 2)" in d.summary.text()
    with qtbot.waitSignal(d.spec_changed, timeout=15_000) as signal:
        d.task.setCurrentIndex(d.task.findData("regression"))
    assert signal.args[0]["task"] == "regression"
    assert d.dataset_spec() == {"name": "csv", "path": str(path), "target": "b",
                                "task": "regression"}
    assert d.summary.text().endswith("regression")


def test_broken_file_shows_the_engine_message(qtbot, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3\n")
    d = CsvDialog()
    qtbot.addWidget(d)
    assert not ok(d) and d.dataset_spec() is None
    d.set_path(str(path))
    assert "line 3 has 1 values but the header has 2 columns" in d.error_message()
    assert not ok(d) and d.preview.columnCount() == 0
