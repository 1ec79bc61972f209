"""The kernel playground: edits reach the pictures, numbers in the texts are right."""

import numpy as np
import pytest

from nnviz.core import KERNELS, convolve
from nnviz.core.datasets import sample_image
from nnviz.gui.playground import KernelPlayground
from nnviz.gui.playground import images, stages


@pytest.fixture
def playground(qtbot):
    widget = KernelPlayground()
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    widget.show()
    return widget


def recomputed(qtbot, widget, action):
    with qtbot.waitSignal(widget.updated, timeout=15_000):
        action()
    return widget.stages


def grey_digit(widget, qtbot, index=3):
    widget.source.setCurrentIndex(widget.source.findData("digit"))
    widget.digit.setValue(index)
    qtbot.waitUntil(lambda: widget.stages.image.shape == (1, 8, 8)
                    and np.array_equal(widget.stages.image, sample_image(f"digits:{index}")))


def test_starts_with_sobel_x_on_the_colour_photo(playground):
    assert playground.objectName() == "kernelPlayground"
    s = playground.stages
    np.testing.assert_array_equal(playground.kernel(), KERNELS["sobel_x"])
    assert s.image.shape == (3, 427, 640)
    np.testing.assert_allclose(s.feature, convolve(s.image, KERNELS["sobel_x"]))


def test_editing_a_cell_changes_the_output(playground, qtbot):
    before = playground.stages.feature.copy()
    cell = playground.findChild(type(playground.cells[0][0]), "kernelCell_1_1")
    s = recomputed(qtbot, playground, lambda: cell.setValue(1.0))
    kernel = KERNELS["sobel_x"].copy()
    kernel[1, 1] = 1.0
    np.testing.assert_array_equal(playground.kernel(), kernel)
    np.testing.assert_allclose(s.feature, convolve(s.image, kernel))
    np.testing.assert_allclose(s.feature - before, s.image[:, 1:-1, 1:-1])   # + the centre pixel
    assert playground.named.currentData() == ""                                 # now custom


def test_typing_into_a_cell_updates_without_enter(playground, qtbot):
    cell = playground.cells[0][0]
    cell.lineEdit().selectAll()
    recomputed(qtbot, playground, lambda: qtbot.keyClicks(cell.lineEdit(), "3"))
    assert playground.kernel()[0, 0] == 3.0


def test_named_kernel_sets_the_cells(playground, qtbot):
    recomputed(qtbot, playground, lambda: playground.set_named_kernel("laplacian"))
    values = [[playground.cells[r][c].value() for c in range(3)] for r in range(3)]
    np.testing.assert_array_equal(values, KERNELS["laplacian"])
    recomputed(qtbot, playground, lambda: playground.set_named_kernel("gaussian_blur_5x5"))
    assert playground.size.currentData() == 5 and playground.cells[4][4].isVisibleTo(playground)
    np.testing.assert_allclose(playground.kernel(), KERNELS["gaussian_blur_5x5"])
    assert playground.stages.settings.kernel.shape == (5, 5)


def test_size_labels_follow_stride_padding_and_pooling(playground, qtbot):
    title = playground.panels["feature"].title
    assert "638×425×3" in title.text()                     # valid: 640 - 3 + 1
    recomputed(qtbot, playground, lambda: playground.stride.setValue(2))
    assert "319×213×3" in title.text()                     # (640 - 3)/2 + 1 = 319
    assert "⌊(W − K + 2P)/S + 1⌋ = ⌊(640 − 3 + 2·0)/2 + 1⌋ = 319" in playground.formula.text()
    recomputed(qtbot, playground, lambda: playground.padding.setCurrentIndex(playground.padding.findData("same")))
    assert "320×214×3" in title.text()                     # ceil(640/2), ceil(427/2)
    # same at stride 2 pads 427 rows by 1 + 1, 640 columns by 0 + 1
    assert "(640 − 3 + 0 + 1)/2 + 1 = 320" in playground.formula.text()
    recomputed(qtbot, playground, lambda: playground.padding.setCurrentIndex(playground.padding.findData(2)))
    assert "321×215×3" in title.text()                     # (640 - 3 + 4)/2 + 1 = 321
    recomputed(qtbot, playground, lambda: playground.pooling.setCurrentIndex(playground.pooling.findData("max")))
    assert "160×107×3" in playground.panels["pooled"].title.text()
    assert playground.stages.pooled.shape == (3, 107, 160)


def test_activation_and_pooling_use_the_layer_numbers(playground, qtbot):
    grey_digit(playground, qtbot)
    playground.activation.setCurrentText("relu")
    s = recomputed(qtbot, playground, lambda: playground.pooling.setCurrentIndex(2))
    relu = np.maximum(s.feature, 0)
    np.testing.assert_allclose(s.activated, relu)
    np.testing.assert_allclose(s.pooled[0, 1, 2], relu[0, 2:4, 4:6].mean())
    assert s.feature.shape == (1, 6, 6) and s.pooled.shape == (1, 3, 3)


def test_hover_shows_the_window_and_its_sum(playground, qtbot):
    grey_digit(playground, qtbot)
    playground.padding.setCurrentIndex(playground.padding.findData("same"))
    s = recomputed(qtbot, playground, lambda: playground.stride.setValue(2))
    text = playground.show_pixel(1, 2)
    digit = sample_image("digits:3")[0]
    # "same" at stride 2 pads 8 pixels by 0 before and 1 after: 4 outputs
    window = np.pad(digit, ((0, 1), (0, 1)))[2:5, 4:7]    # rows from 1*2, columns from 2*2
    expected = float(np.sum(window * KERNELS["sobel_x"]))
    assert expected == pytest.approx(s.feature[0, 1, 2])
    assert f"= {expected:.4f}" in text and playground.hover.text() == text
    assert "  ".join(f"{v:6.3f}" for v in window[0]) in text
    assert "(-2)·" + f"{window[1, 0]:.3f}" in text


def test_hovering_the_feature_map_with_the_mouse(playground, qtbot):
    grey_digit(playground, qtbot)
    panel = playground.panels["feature"]
    qtbot.waitUntil(lambda: panel.image.sceneBoundingRect().width() > 10)
    point = panel.image.mapToScene(pg_point(4.5, 2.5))     # column 4, row 2
    assert panel.pixel_at(point) == (2, 4)
    panel.view.scene().sigMouseMoved.emit(point)
    assert "(row 2, column 4)" in playground.hover.text()
    assert playground.window_marker.isVisible()
    assert playground.window_marker.rect().topLeft().toTuple() == (4.0, 2.0)


def pg_point(x, y):
    from PySide6.QtCore import QPointF
    return QPointF(x, y)


def test_the_button_emits_the_kernel_and_the_choice(playground, qtbot):
    playground.set_named_kernel("sharpen")
    playground.trainable.setChecked(True)
    with qtbot.waitSignal(playground.kernel_chosen) as blocker:
        playground.use.click()
    kernel, trainable = blocker.args
    np.testing.assert_array_equal(kernel, KERNELS["sharpen"])
    assert trainable is True
    kernel[0, 0] = 99.0                                     # a copy: the editor keeps its own
    assert playground.kernel()[0, 0] == 0.0


def test_own_file_and_refused_files(playground, qtbot, tmp_path):
    from PIL import Image
    pixels = (np.arange(20 * 30 * 3) % 256).astype(np.uint8).reshape(20, 30, 3)
    path = tmp_path / "mine.png"
    Image.fromarray(pixels).save(path)
    with qtbot.waitSignal(playground.updated, timeout=15_000):
        assert playground.load_file(path)
    np.testing.assert_allclose(playground.stages.image, np.moveaxis(pixels, -1, 0) / 255)
    assert playground.source.currentData() == "file"
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    assert not playground.load_file(text)
    assert playground.error.isVisibleTo(playground) and "not an image" in playground.error.text()
    big = tmp_path / "big.png"
    Image.new("L", (5000, 10)).save(big)
    assert not playground.load_file(big) and "5000x10" in playground.error.text()
    np.testing.assert_allclose(playground.stages.image, np.moveaxis(pixels, -1, 0) / 255)  # kept


def test_patterns():
    edge = images.step_edge(8)[0]
    assert edge[:, :4].max() == 0 and edge[:, 4:].min() == 1
    board = images.checkerboard(16, 4)[0]
    assert board[0, 0] == 0 and board[0, 4] == 1 and board[4, 4] == 0
    disc = images.circle(64)[0]
    assert disc[32, 32] == 1 and disc[0, 0] == 0 and np.array_equal(disc, disc.T)
    # sobel_x answers the step edge only at the edge, with 4 = 1 + 2 + 1
    response = convolve(images.step_edge(8)[0], KERNELS["sobel_x"])
    np.testing.assert_array_equal(response[:, 2:4], 4.0)
    assert response[:, [0, 1, 4, 5]].max() == 0


def test_large_files_are_shrunk(tmp_path):
    from PIL import Image
    path = tmp_path / "wide.jpg"
    Image.new("RGB", (1600, 400), (255, 0, 0)).save(path)
    image, note = images.load_image_file(path)
    assert image.shape == (3, 200, 800) and "shown at 800x200" in note
    assert image[0].min() > 0.95 and image[1].max() < 0.05


def test_formula_text_with_floor():
    s = stages.compute(np.zeros((1, 9, 8)), stages.Settings(np.ones((3, 3)), stride=2))
    assert stages.formula_text(s).splitlines()[0] == \
        "Width:  ⌊(W − K + 2P)/S + 1⌋ = ⌊(8 − 3 + 2·0)/2 + 1⌋ = 3"
    assert stages.formula_text(s).splitlines()[1] == \
        "Height: (H − K + 2P)/S + 1 = (9 − 3 + 2·0)/2 + 1 = 4"
