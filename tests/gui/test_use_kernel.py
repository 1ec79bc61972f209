"""The playground's "Use as the first kernel of my CNN": into the model, shown, trained."""

import numpy as np
import pytest

from nnviz.core import KERNELS
from nnviz.core.errors import SpecError
from nnviz.core.experiment import load_preset
from nnviz.core.runs import RunState
from nnviz.gui.panels.model_builder import kernel_text, with_first_kernel

try:                      # tests/gui as a package, or as a rootdir-style folder
    from .windows import TRAIN_TIMEOUT, answer, click, make_window, settings  # noqa: F401
except ImportError:
    from windows import TRAIN_TIMEOUT, answer, click, make_window, settings  # noqa: F401

SOBEL_Y = KERNELS["sobel_y"].tolist()
CONV = {"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"}


def cnn(**training) -> dict:
    """The digits CNN preset, flat out (no pace), ``training`` changed."""
    spec = load_preset("digits_cnn").to_dict()
    spec["training"].pop("pace", None)
    spec["training"].update(training)
    return spec


def use(window, qtbot, name, trainable):
    playground = window.show_playground()
    playground.set_named_kernel(name)
    playground.trainable.setChecked(trainable)
    click(qtbot, playground.use)
    return playground


def test_the_kernel_goes_into_the_first_conv_layer_and_its_size_follows():
    specs = [{"type": "maxpool2d", "size": 2}, dict(CONV, kernel_size=5), dict(CONV)]
    out, index, message = with_first_kernel(specs, [1, 8, 8], KERNELS["sobel_y"], False)
    assert index == 1 and out[1] == dict(CONV, kernel=SOBEL_Y, trainable=False)
    assert out[2] == specs[2] and specs[1]["kernel_size"] == 5    # the rest, and the input, kept
    assert message == ("sobel_y copied into layer 1 (conv2d): kernel size 5 → 3; "
                       "all 8 filters start from it, frozen")
    out, _, message = with_first_kernel([dict(CONV, trainable=False)], [1, 8, 8], np.eye(3), True)
    assert "trainable" not in out[0] and message.startswith("your 3×3 kernel copied")
    assert kernel_text(out[0]) == "kernel: your own 3×3"
    assert kernel_text(dict(CONV, kernel=SOBEL_Y, trainable=False)) == "kernel: sobel_y (frozen)"
    assert kernel_text(dict(CONV, trainable=False)) == "kernel: from the initialisation (frozen)"
    assert kernel_text(CONV) == ""


@pytest.mark.parametrize("input_shape, specs, words", [
    ([64], [{"type": "dense", "units": 10}], "input_shape: the model takes flat vectors"),
    ([1, 8, 8], [{"type": "flatten"}, {"type": "dense", "units": 10}],
     "layers: the model has no conv2d layer to take sobel_y (add a conv2d layer first"),
])
def test_no_place_for_a_kernel_is_said_and_nothing_changes(input_shape, specs, words):
    with pytest.raises(SpecError, match=words.replace("(", r"\(")):
        with_first_kernel(specs, input_shape, KERNELS["sobel_y"], True)


def test_the_button_sets_the_first_conv_layer_and_training_keeps_it_frozen(make_window, qtbot):
    window = make_window(cnn(epochs=2), thread=True)
    playground = use(window, qtbot, "sobel_y", trainable=False)
    first = window.experiment.model["layers"][0]
    assert first["kernel"] == SOBEL_Y and first["trainable"] is False
    assert window.model.modified and window.isWindowModified()         # an edit like any other
    row = window.model_builder.rows[0]
    assert row.kernel_label.text() == "kernel: sobel_y (frozen)" and row.kernel_line.isVisible()
    assert not row.trainable_box.isChecked()
    assert row.info.text().endswith("80 params frozen")                 # 8 × 3 × 3 + 8 biases
    assert "trainable parameters + 80 frozen" in window.model_builder.summary.text()
    assert "sobel_y copied into layer 0" in window.statusBar().currentMessage()
    assert playground.use_note.text().endswith("all 8 filters start from it, frozen")

    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.state is RunState.FINISHED, timeout=TRAIN_TIMEOUT)
    run = window.runs[-1]
    _, ratios = run.series("update_ratio", layer=0)
    _, norms = run.series("weight_norm", layer=0)
    frozen_norm = np.sqrt(8) * np.linalg.norm(KERNELS["sobel_y"])      # 8 filters, 1 channel
    assert len(ratios) > 5 and (ratios == 0).all()
    np.testing.assert_allclose(norms, frozen_norm, rtol=1e-12)
    assert run.last("update_ratio", layer=1) > 0                      # the dense layer learned
    assert window.experiment.model["layers"][0]["kernel"] == SOBEL_Y


def test_trainable_and_clear_on_the_layer_row_edit_the_experiment(make_window, qtbot):
    window = make_window(cnn(), fake=True)
    use(window, qtbot, "laplacian", trainable=True)
    row = window.model_builder.rows[0]
    assert row.kernel_label.text() == "kernel: laplacian" and row.trainable_box.isChecked()
    assert "trainable" not in window.experiment.model["layers"][0]
    click(qtbot, row.trainable_box)
    row = window.model_builder.rows[0]
    assert window.experiment.model["layers"][0]["trainable"] is False
    assert row.kernel_label.text() == "kernel: laplacian (frozen)"
    click(qtbot, row.clear_kernel)
    first = window.experiment.model["layers"][0]
    assert "kernel" not in first and "trainable" not in first
    assert window.model_builder.rows[0].kernel_line.isHidden()


def test_a_kernel_size_that_no_longer_fits_is_marked_at_the_layer(make_window, qtbot):
    window = make_window(cnn(), fake=True)
    use(window, qtbot, "sobel_x", trainable=False)
    window.model_builder.rows[0].editors["kernel_size"].setValue(5)
    row = window.model_builder.rows[0]
    assert window.experiment is None and not window.start_button.isEnabled()
    assert row.error_message == ("layers[0].kernel: is 3x3 but kernel_size is 5 "
                                 "(set kernel_size to 3, or give a 5x5 kernel)")
    assert row.kernel_label.invalid_message == row.error_message


def test_a_5x5_kernel_makes_the_layer_5x5(make_window, qtbot):
    window = make_window(cnn(), fake=True)
    use(window, qtbot, "gaussian_blur_5x5", trainable=True)
    first = window.experiment.model["layers"][0]
    assert first["kernel_size"] == 5 and np.allclose(first["kernel"], KERNELS["gaussian_blur_5x5"])
    assert window.model_builder.rows[0].editors["kernel_size"].value() == 5


def test_a_model_without_images_is_told_and_left_alone(make_window, qtbot):
    window = make_window(load_preset("digits_mlp"), fake=True)
    before = window.experiment_dict()
    playground = use(window, qtbot, "sobel_x", trainable=False)
    assert window.experiment_dict() == before and not window.model.modified
    assert window.statusBar().currentMessage().startswith(
        "Not copied: input_shape: the model takes flat vectors")
    assert playground.use_note.text() == window.statusBar().currentMessage()


def test_keeping_the_current_run_copies_nothing(make_window, qtbot, answer):
    window = make_window(cnn(epochs=1000), fake=True)
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.controller.started, timeout=TRAIN_TIMEOUT)
    asked = answer(False)
    use(window, qtbot, "sobel_x", trainable=False)
    assert len(asked) == 1 and "kernel" not in window.experiment.model["layers"][0]
    assert "kernel" not in window.model_builder.specs()[0]
    assert window.statusBar().currentMessage() == "Not copied: the current run was kept"


def test_an_opened_experiment_with_a_frozen_kernel_is_shown_and_kept_exactly(make_window):
    spec = cnn()
    spec["model"]["layers"][0].update(kernel=SOBEL_Y, trainable=False)
    window = make_window(spec, fake=True)
    assert window.experiment_dict() == spec and not window.model.modified   # nothing adjusted
    row = window.model_builder.rows[0]
    assert row.kernel_label.text() == "kernel: sobel_y (frozen)"
    assert row.kernel_label.toolTip().splitlines()[0] == "-1  -2  -1"


def test_the_kernel_line_wraps_instead_of_clipping_at_projector_size(make_window, qtbot):
    window = make_window(cnn(), fake=True)
    window.resize(1280, 720)
    window.set_large_font(True, remember=False)
    use(window, qtbot, "sobel_x", trainable=False)
    window.setup_docks["model"].raise_()
    label = window.model_builder.rows[0].kernel_label
    qtbot.waitUntil(label.isVisible, timeout=10_000)
    whole = label.fontMetrics().horizontalAdvance(label.text())
    assert whole > label.width()                  # the row is too narrow for one line here…
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width())
                    > label.fontMetrics().height(), timeout=10_000)   # …so it takes two


def test_legends_start_right_of_the_explain_button(make_window, qtbot):
    window = make_window(fake=True)
    loss = window.views["loss"]
    qtbot.waitUntil(loss.legend.isVisible, timeout=10_000)
    button = loss.explain_button
    assert loss.legend.contentsRect().left() >= button.sizeHint().width()
    window.set_large_font(True, remember=False)
    assert loss.legend.contentsRect().left() >= button.sizeHint().width()
