"""convolve against a plain-loop reference written here, and the named kernels' properties."""

import numpy as np
import pytest

from nnviz.core import KERNELS, SpecError, convolve
from nnviz.core.convolution import KERNEL_NOTES, output_size


def reference(image, kernel, stride, pads):
    """Cross-correlation by loops over every output pixel; pads ((top, bottom), (left, right))."""
    image = np.asarray(image, dtype=float)
    flat = image.ndim == 2
    channels = image[None] if flat else image
    (top, bottom), (left, right) = pads
    kh, kw = kernel.shape
    c, h, w = channels.shape
    padded = np.zeros((c, h + top + bottom, w + left + right))
    padded[:, top:top + h, left:left + w] = channels
    oh = (padded.shape[1] - kh) // stride + 1
    ow = (padded.shape[2] - kw) // stride + 1
    out = np.zeros((c, oh, ow))
    for ch in range(c):
        for oy in range(oh):
            for ox in range(ow):
                total = 0.0
                for i in range(kh):
                    for j in range(kw):
                        total += padded[ch, oy * stride + i, ox * stride + j] * kernel[i, j]
                out[ch, oy, ox] = total
    return out[0] if flat else out


RNG = np.random.default_rng(7)
IMAGE = RNG.normal(size=(3, 9, 11))
KERNEL_3 = RNG.normal(size=(3, 3))


def test_valid_padding_matches_the_loops():
    out = convolve(IMAGE, KERNEL_3)
    assert out.shape == (3, 7, 9)
    np.testing.assert_allclose(out, reference(IMAGE, KERNEL_3, 1, ((0, 0), (0, 0))), atol=1e-12)


def test_integer_padding_pads_zeros_on_every_side():
    out = convolve(IMAGE, KERNEL_3, padding=2)
    assert out.shape == (3, 11, 13)
    np.testing.assert_allclose(out, reference(IMAGE, KERNEL_3, 1, ((2, 2), (2, 2))), atol=1e-12)
    # the corner output sees only the image's corner pixel, under the kernel's last weight
    np.testing.assert_allclose(out[:, 0, 0], IMAGE[:, 0, 0] * KERNEL_3[2, 2])


@pytest.mark.parametrize("kernel_shape, stride, pads, shape", [
    ((3, 3), 1, ((1, 1), (1, 1)), (9, 11)),        # odd kernel: one pixel each side
    ((5, 5), 1, ((2, 2), (2, 2)), (9, 11)),
    ((2, 2), 1, ((0, 1), (0, 1)), (9, 11)),        # even kernel: the extra pixel after
    ((3, 3), 2, ((1, 1), (1, 1)), (5, 6)),         # 9 -> ceil(9/2) = 5, 11 -> 6
    ((3, 3), 3, ((0, 0), (0, 1)), (3, 4)),         # 9 rows need none; 11 columns one, after
])
def test_same_padding_keeps_ceil_size_over_stride(kernel_shape, stride, pads, shape):
    kernel = RNG.normal(size=kernel_shape)
    out = convolve(IMAGE, kernel, stride=stride, padding="same")
    assert out.shape == (3, *shape)
    np.testing.assert_allclose(out, reference(IMAGE, kernel, stride, pads), atol=1e-12)


@pytest.mark.parametrize("stride", [2, 3, 4])
def test_stride_skips_positions(stride):
    out = convolve(IMAGE, KERNEL_3, stride=stride)
    full = convolve(IMAGE, KERNEL_3)
    np.testing.assert_allclose(out, full[:, ::stride, ::stride], atol=1e-12)
    np.testing.assert_allclose(out, reference(IMAGE, KERNEL_3, stride, ((0, 0), (0, 0))), atol=1e-12)
    assert out.shape[1:] == tuple(output_size(n, 3, stride, 0, 0) for n in IMAGE.shape[1:])


def test_each_channel_is_filtered_on_its_own():
    out = convolve(IMAGE, KERNEL_3, padding="same")
    for c in range(3):
        np.testing.assert_allclose(out[c], convolve(IMAGE[c], KERNEL_3, padding="same"), atol=1e-12)


def test_a_grayscale_image_gives_a_grayscale_map():
    out = convolve(IMAGE[0], KERNEL_3, stride=2, padding=1)
    assert out.shape == (5, 6)
    np.testing.assert_allclose(out, reference(IMAGE[0], KERNEL_3, 2, ((1, 1), (1, 1))), atol=1e-12)


def test_cross_correlation_not_flipped():
    """A kernel with one non-zero weight at the top left reads the pixel up and left."""
    kernel = np.zeros((3, 3))
    kernel[0, 0] = 1.0
    out = convolve(IMAGE[0], kernel, padding="same")
    np.testing.assert_array_equal(out[1:, 1:], IMAGE[0, :-1, :-1])
    np.testing.assert_array_equal(out[0], 0.0)


def test_non_square_kernel_and_integer_input():
    image = np.arange(30).reshape(5, 6)
    kernel = np.array([[1, 2, 3]])
    out = convolve(image, kernel)
    assert out.shape == (5, 4) and out.dtype == np.float64
    np.testing.assert_array_equal(out, reference(image, kernel.astype(float), 1, ((0, 0), (0, 0))))


def test_float32_in_float32_out():
    out = convolve(IMAGE.astype(np.float32), KERNEL_3.astype(np.float32), padding="same")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, convolve(IMAGE, KERNEL_3, padding="same"), atol=1e-5)


def test_the_input_is_not_changed():
    image = IMAGE.copy()
    convolve(image, KERNEL_3, stride=2, padding=3)
    np.testing.assert_array_equal(image, IMAGE)


@pytest.mark.parametrize("kwargs, field", [
    ({"image": np.zeros(5)}, "image"),
    ({"image": np.zeros((1, 1, 4, 4))}, "image"),
    ({"image": np.zeros((0, 4))}, "image"),
    ({"image": [["a", "b"], ["c", "d"]]}, "image"),
    ({"image": np.full((4, 4), np.nan)}, "image"),
    ({"kernel": np.ones(3)}, "kernel"),
    ({"kernel": np.ones((3, 3, 3))}, "kernel"),
    ({"kernel": np.ones((0, 3))}, "kernel"),
    ({"kernel": np.ones((32, 32))}, "kernel"),
    ({"kernel": np.array([[np.inf]])}, "kernel"),
    ({"kernel": np.ones((5, 5))}, "kernel"),       # larger than the 4x4 image
    ({"stride": 0}, "stride"),
    ({"stride": 1.5}, "stride"),
    ({"stride": True}, "stride"),
    ({"padding": "full"}, "padding"),
    ({"padding": -1}, "padding"),
    ({"padding": 1.0}, "padding"),
])
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"image": np.zeros((4, 4)), "kernel": np.ones((3, 3)), **kwargs}
    with pytest.raises(SpecError) as info:
        convolve(**args)
    assert info.value.field == field and info.value.fix


def test_a_kernel_larger_than_the_image_fits_with_padding():
    assert convolve(np.ones((4, 4)), np.ones((5, 5)), padding="same").shape == (4, 4)


# --------------------------------------------------------------------------- named kernels
BLURS = ("box_blur", "gaussian_blur", "gaussian_blur_5x5")
EDGES = ("sobel_x", "sobel_y", "laplacian", "outline")


def test_the_required_kernels_exist_with_notes():
    required = {"identity", "box_blur", "gaussian_blur", "sharpen", "sobel_x", "sobel_y",
                "laplacian", "emboss", "outline", "gaussian_blur_5x5"}
    assert required <= set(KERNELS)
    assert set(KERNEL_NOTES) == set(KERNELS)
    for name, kernel in KERNELS.items():
        assert kernel.shape == ((5, 5) if name.endswith("5x5") else (3, 3)), name


@pytest.mark.parametrize("name", BLURS)
def test_blurs_are_weighted_means(name):
    kernel = KERNELS[name]
    assert kernel.sum() == pytest.approx(1.0)
    assert kernel.min() > 0
    np.testing.assert_array_equal(kernel, kernel.T)
    np.testing.assert_array_equal(kernel, kernel[::-1, ::-1])
    # a flat image stays flat away from the zero padding
    out = convolve(np.full((9, 9), 0.4), kernel)
    np.testing.assert_allclose(out, 0.4)


@pytest.mark.parametrize("name", EDGES)
def test_edge_detectors_sum_to_zero(name):
    assert KERNELS[name].sum() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(convolve(np.full((7, 7), 3.0), KERNELS[name]), 0.0, atol=1e-12)


def test_sharpen_and_emboss_keep_the_mean_brightness():
    assert KERNELS["sharpen"].sum() == pytest.approx(1.0)
    assert KERNELS["emboss"].sum() == pytest.approx(1.0)


def test_identity_copies_the_image():
    np.testing.assert_array_equal(convolve(IMAGE, KERNELS["identity"], padding="same"), IMAGE)


def test_sobel_x_sees_brightness_rising_to_the_right():
    ramp = np.tile(np.arange(8.0), (6, 1))            # +1 per column
    np.testing.assert_allclose(convolve(ramp, KERNELS["sobel_x"]), 8.0)   # 2 * (1 + 2 + 1)
    np.testing.assert_allclose(convolve(ramp, KERNELS["sobel_y"]), 0.0)
    np.testing.assert_allclose(convolve(ramp.T, KERNELS["sobel_y"]), 8.0)
    np.testing.assert_array_equal(KERNELS["sobel_y"], KERNELS["sobel_x"].T)


def test_laplacian_ignores_an_even_slope_but_not_a_bend():
    ramp = np.tile(np.arange(8.0), (6, 1))
    np.testing.assert_allclose(convolve(ramp, KERNELS["laplacian"]), 0.0, atol=1e-12)
    bowl = ramp ** 2                                  # second derivative 2
    np.testing.assert_allclose(convolve(bowl, KERNELS["laplacian"]), 2.0)


def test_named_kernels_are_read_only():
    with pytest.raises(ValueError):
        KERNELS["sobel_x"][0, 0] = 5.0


# --------------------------------------------------------------------------- PyTorch
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("stride, padding", [(1, "valid"), (1, "same"), (2, "same"), (2, 1), (3, 0)])
@pytest.mark.parametrize("kernel_side", [2, 3, 5])
def test_same_numbers_as_pytorch_grouped_conv2d(stride, padding, kernel_side):
    torch = pytest.importorskip("torch")
    from torch.nn.functional import conv2d, pad

    from nnviz.core.layers import conv_padding
    image = RNG.normal(size=(3, 13, 17))
    kernel = RNG.normal(size=(kernel_side, kernel_side))
    (top, bottom), (left, right) = (conv_padding(padding, n, kernel_side, stride) for n in (13, 17))
    x = pad(torch.from_numpy(image)[None], (left, right, top, bottom))
    weights = torch.from_numpy(np.repeat(kernel[None, None], 3, axis=0))
    expected = conv2d(x, weights, stride=stride, groups=3)[0].numpy()
    np.testing.assert_allclose(convolve(image, kernel, stride, padding), expected, atol=1e-12)
    if stride == 1 and padding == "same":           # PyTorch's own "same" agrees
        same = conv2d(torch.from_numpy(image)[None], weights, padding="same", groups=3)[0].numpy()
        np.testing.assert_allclose(convolve(image, kernel, 1, "same"), same, atol=1e-12)


def test_bands_of_rows_join_up(monkeypatch):
    """Large images are contracted a band of rows at a time; the bands must tile the output."""
    from nnviz.core import convolution
    monkeypatch.setattr(convolution, "BLOCK_BYTES", 1)       # one output row per band
    for stride, padding in ((1, "same"), (2, 1), (3, "valid")):
        np.testing.assert_allclose(convolve(IMAGE, KERNEL_3, stride, padding),
                                   reference(IMAGE, KERNEL_3, stride,
                                             [convolution.conv_padding(padding, n, 3, stride)
                                              for n in IMAGE.shape[1:]]), atol=1e-12)
