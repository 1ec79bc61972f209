"""Data sets: shapes, labels, splits, scaling, determinism, errors, targets."""

import importlib.util
import sys

import numpy as np
import pytest

from nnviz.core import datasets
from nnviz.core.datasets import (DATASETS, DEFAULTS, PARAMS, Dataset, load_dataset,
                                 sample_image)
from nnviz.core.errors import SpecError

HAVE_PILLOW = importlib.util.find_spec("PIL") is not None
needs_pillow = pytest.mark.skipif(not HAVE_PILLOW, reason="Pillow is not installed")
ALL = [pytest.param(n, marks=needs_pillow) if n == "photos" else n for n in DATASETS]
CLASSIFIERS = [n for n in ALL if n not in ("franke", "sine")]

# (total samples, per-sample shape, classes) of the defaults
EXPECTED = {
    "xor": (400, (2,), 2), "circles": (400, (2,), 2), "moons": (400, (2,), 2),
    "spirals": (400, (2,), 2), "gaussians": (400, (2,), 3),
    "franke": (400, (2,), 0), "sine": (400, (1,), 0),
    "breast_cancer": (569, (30,), 2), "iris": (150, (4,), 3), "wine": (178, (13,), 3),
    "digits": (1797, (64,), 10), "photos": (400, (1, 16, 16), 2),
}


def raises_on(field, *args, **kwargs):
    """Call load_dataset and return the SpecError, asserting it names ``field``."""
    with pytest.raises(SpecError) as info:
        load_dataset(*args, **kwargs)
    assert info.value.field == field
    assert str(info.value).startswith(field + ":")
    return info.value


# ----------------------------------------------------------------- registry


def test_registry_lists_every_dataset_with_defaults():
    assert set(DATASETS) == set(DEFAULTS) == set(PARAMS) == set(EXPECTED)
    for name, defaults in DEFAULTS.items():
        assert DATASETS[name]
        assert defaults["val_fraction"] == 0.2 and defaults["seed"] == 0
        assert {k: p.default for k, p in PARAMS[name].items()} == defaults
    assert {"n_samples", "noise"} <= set(DEFAULTS["moons"])
    assert DEFAULTS["spirals"]["n_classes"] == 2
    assert DEFAULTS["photos"]["patch"] == 16


@pytest.mark.parametrize("name", ALL)
def test_every_dataset_loads_with_its_defaults(name):
    ds = load_dataset(name)
    n, shape, k = EXPECTED[name]
    assert isinstance(ds, Dataset) and ds.name == name
    assert ds.spec == {"name": name, **DEFAULTS[name]}
    assert ds.input_shape == shape
    assert ds.X_train.shape[1:] == ds.X_val.shape[1:] == shape
    assert len(ds.X_train) + len(ds.X_val) == n
    assert len(ds.X_val) == int(np.ceil(0.2 * n))
    assert len(ds.y_train) == len(ds.X_train) and len(ds.y_val) == len(ds.X_val)
    assert ds.X_train.dtype == ds.X_val.dtype == np.float64
    assert np.isfinite(ds.X_train).all() and np.isfinite(ds.X_val).all()
    assert ds.n_classes == k and len(ds.class_names) == k
    assert all(isinstance(c, str) for c in ds.class_names)
    if k:
        assert ds.task == "classification"
        assert ds.y_train.dtype == np.int64 and ds.y_train.ndim == 1
        assert set(ds.y_train) == set(ds.y_val) == set(range(k))
    else:
        assert ds.task == "regression"
        assert ds.y_train.dtype == np.float64 and ds.y_train.shape == (len(ds.X_train), 1)


def test_spec_keys_equal_to_defaults_give_the_same_data():
    a = load_dataset("moons")
    b = load_dataset({"name": "moons", **DEFAULTS["moons"]})
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)


def test_parameters_change_the_data():
    ds = load_dataset({"name": "spirals", "n_classes": 4, "n_samples": 200,
                       "val_fraction": 0.25})
    assert ds.n_classes == 4 and len(ds.X_train) == 150 and len(ds.X_val) == 50
    assert sorted(np.bincount(ds.y_val).tolist()) == [12, 12, 13, 13]
    assert load_dataset({"name": "gaussians", "n_classes": 5}).n_classes == 5
    assert load_dataset({"name": "moons", "n_samples": 1000}).X_train.shape == (800, 2)


# ----------------------------------------------------------------- split and scaling


@pytest.mark.parametrize("name", ["iris", "breast_cancer", "digits", "gaussians"])
def test_split_is_stratified(name):
    ds = load_dataset({"name": name, "val_fraction": 0.3, "seed": 3})
    train, val = np.bincount(ds.y_train), np.bincount(ds.y_val)
    share = (train + val) / (train.sum() + val.sum())
    # each class's share of the validation set is as close as rounding allows
    assert np.all(np.abs(val - share * val.sum()) <= 1)
    assert np.all(np.abs(train - share * train.sum()) <= 1)


def test_iris_validation_has_ten_of_each_class():
    assert np.bincount(load_dataset("iris").y_val).tolist() == [10, 10, 10]


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "moons", "xor",
                                  "franke", "sine"])
def test_scaler_is_fitted_on_the_training_split_only(name):
    ds = load_dataset(name)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1.0, atol=1e-10)
    # fitted on everything, the mean of train + validation would be 0: it is not
    assert np.abs(ds.X_val.mean(axis=0)).max() > 1e-3
    both = np.concatenate([ds.X_train, ds.X_val])
    assert np.abs(both.mean(axis=0)).max() > 1e-4


def test_regression_targets_are_not_scaled():
    ds = load_dataset({"name": "franke", "noise": 0.0})
    y = np.concatenate([ds.y_train, ds.y_val])
    assert y.min() >= 0.0 and y.max() <= 15.0 and y.mean() > 3.0
    # noise-free, z is a quadratic of the inputs: quadratic least squares is exact
    X = np.concatenate([ds.X_train, ds.X_val])
    a, b = X.T
    design = np.column_stack([np.ones_like(a), a, b, a * a, a * b, b * b])
    coef, *_ = np.linalg.lstsq(design, y[:, 0], rcond=None)
    np.testing.assert_allclose(design @ coef, y[:, 0], atol=1e-9)


def test_sine_is_sin_of_the_input_range():
    ds = load_dataset({"name": "sine", "noise": 0.0, "n_samples": 500})
    y = np.concatenate([ds.y_train, ds.y_val])[:, 0]
    x = np.concatenate([ds.X_train, ds.X_val])[:, 0]
    assert np.abs(y).max() <= 1.0 and y.min() < -0.99 and y.max() > 0.99
    # x spans [-pi, pi] once: y is 0 near both ends and +1 in the upper middle
    order = np.argsort(x)
    assert abs(y[order[0]]) < 0.1 and abs(y[order[-1]]) < 0.1
    assert y[order[375]] > 0.9 and y[order[125]] < -0.9


def test_digits_pixels_are_scaled_to_unit_range_not_standardised():
    ds = load_dataset("digits")
    assert ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0
    assert ds.X_val.min() >= 0.0 and ds.X_val.max() <= 1.0
    assert set(np.unique(ds.X_train * 16)) <= set(range(17))


# ----------------------------------------------------------------- input shapes


def test_digits_flat_and_image_shapes_hold_the_same_pixels():
    flat = load_dataset("digits", input_shape=(64,))
    images = load_dataset("digits", input_shape=[1, 8, 8])
    assert flat.X_train.shape == (1437, 64) and flat.input_shape == (64,)
    assert images.X_train.shape == (1437, 1, 8, 8) and images.input_shape == (1, 8, 8)
    np.testing.assert_array_equal(images.X_val.reshape(len(images.X_val), -1), flat.X_val)
    np.testing.assert_array_equal(images.y_train, flat.y_train)


@pytest.mark.parametrize("shape", [(1, 16, 16), (8, 8), (63,), (3, 8, 8)])
def test_digits_incompatible_input_shape_names_the_shapes_that_work(shape):
    error = raises_on("model.input_shape", "digits", input_shape=shape)
    assert "[64]" in str(error) and "[1, 8, 8]" in str(error)


@pytest.mark.parametrize("shape", [(), (0,), (2.5,), "ab", 5])
def test_malformed_input_shape(shape):
    raises_on("model.input_shape", "moons", input_shape=shape)


def test_tabular_input_shape_must_match_the_features():
    assert load_dataset("iris", input_shape=(4,)).X_train.shape == (120, 4)
    assert "[2]" in str(raises_on("model.input_shape", "moons", input_shape=(3,)))


# ----------------------------------------------------------------- determinism, freshness


@pytest.mark.parametrize("name", ["xor", "circles", "moons", "spirals", "gaussians",
                                  "franke", "sine", "iris", "digits"])
def test_same_seed_same_data_other_seed_other_data(name):
    a, b = load_dataset(name), load_dataset(name)
    c = load_dataset({"name": name, "seed": 1})
    for key in ("X_train", "y_train", "X_val", "y_val"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert not np.array_equal(a.X_train, c.X_train)


def test_returned_arrays_are_fresh():
    a = load_dataset("iris")
    a.X_train[:] = 99.0
    a.y_train[:] = 7
    b = load_dataset("iris")
    assert b.X_train.max() < 10 and b.y_train.max() == 2


# ----------------------------------------------------------------- XOR


def test_xor_gate_is_the_truth_table():
    ds = load_dataset({"name": "xor", "noise": 0, "n_samples": 4})
    inputs = (ds.X_train > 0).astype(int)
    assert inputs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert ds.y_train.tolist() == [0, 1, 1, 0]
    assert ds.y_train.tolist() == (inputs[:, 0] ^ inputs[:, 1]).tolist()
    assert np.abs(ds.X_train).tolist() == np.ones((4, 2)).tolist()
    # nothing to hold out: validated on the gate itself, as in the notes
    assert not ds.holdout
    np.testing.assert_array_equal(ds.X_val, ds.X_train)
    np.testing.assert_array_equal(ds.y_val, ds.y_train)
    assert ds.X_val is not ds.X_train


def test_xor_without_noise_has_only_the_four_corners():
    ds = load_dataset({"name": "xor", "noise": 0.0, "n_samples": 100})
    X = np.concatenate([ds.X_train, ds.X_val]) > 0
    y = np.concatenate([ds.y_train, ds.y_val])
    assert len(np.unique(X, axis=0)) == 4
    np.testing.assert_array_equal(y, X[:, 0] ^ X[:, 1])
    assert ds.holdout


# ----------------------------------------------------------------- bad specs


@pytest.mark.parametrize("spec, field", [
    ("mnist", "dataset.name"),
    ({"noise": 0.1}, "dataset.name"),
    ({"name": 3}, "dataset.name"),
    ({"name": ["moons"]}, "dataset.name"),
    (42, "dataset"),
    ({"name": "moons", "nosie": 0.1}, "dataset.nosie"),
    ({"name": "moons", "n_classes": 3}, "dataset.n_classes"),
    ({"name": "iris", "noise": 0.1}, "dataset.noise"),
    ({"name": "moons", "noise": -0.1}, "dataset.noise"),
    ({"name": "moons", "noise": "high"}, "dataset.noise"),
    ({"name": "moons", "noise": float("nan")}, "dataset.noise"),
    ({"name": "moons", "n_samples": 2.5}, "dataset.n_samples"),
    ({"name": "moons", "n_samples": True}, "dataset.n_samples"),
    ({"name": "moons", "n_samples": 3}, "dataset.n_samples"),
    ({"name": "moons", "n_samples": 10**9}, "dataset.n_samples"),
    ({"name": "spirals", "n_classes": 1}, "dataset.n_classes"),
    ({"name": "iris", "val_fraction": 0}, "dataset.val_fraction"),
    ({"name": "iris", "val_fraction": 1.0}, "dataset.val_fraction"),
    ({"name": "iris", "val_fraction": 1.5}, "dataset.val_fraction"),
    ({"name": "iris", "seed": -1}, "dataset.seed"),
    ({"name": "iris", "seed": 0.5}, "dataset.seed"),
    ({"name": "photos", "patch": 2}, "dataset.patch"),
])
def test_bad_specs_name_the_field(spec, field):
    error = raises_on(field, spec)
    assert error.fix  # always says what would work


def test_error_messages_say_what_works():
    assert "moons" in str(raises_on("dataset.name", "mnist"))
    assert "noise" in str(raises_on("dataset.nosie", {"name": "moons", "nosie": 1}))
    assert "from 0 to 5" in str(raises_on("dataset.noise", {"name": "moons", "noise": -1}))


def test_whole_float_counts_are_accepted():
    assert len(load_dataset({"name": "moons", "n_samples": 100.0}).X_val) == 20


def test_impossible_split_is_a_spec_error():
    # 5 samples, val 0.2 -> 1 validation sample for 2 classes
    raises_on("dataset.val_fraction", {"name": "moons", "n_samples": 5})
    # 0.9 of 10 samples leaves 1 training sample for 2 classes
    raises_on("dataset.val_fraction", {"name": "moons", "n_samples": 10, "val_fraction": 0.9})
    # 3 classes in 5 samples: one class has a single sample
    raises_on("dataset.n_samples", {"name": "gaussians", "n_samples": 5, "val_fraction": 0.5})
    assert len(load_dataset({"name": "moons", "n_samples": 10}).X_val) == 2


# ----------------------------------------------------------------- targets


def test_targets_one_hot_for_multiclass():
    ds = load_dataset("iris")
    t = ds.targets(ds.y_train, 3)
    assert t.shape == (120, 3) and t.dtype == np.float64
    np.testing.assert_array_equal(t.sum(axis=1), 1.0)
    np.testing.assert_array_equal(t.argmax(axis=1), ds.y_train)


def test_targets_binary_column_or_two_one_hot():
    ds = load_dataset("breast_cancer")
    column = ds.targets(ds.y_val, 1)
    assert column.shape == (114, 1) and column.dtype == np.float64
    np.testing.assert_array_equal(column[:, 0], ds.y_val)
    np.testing.assert_array_equal(ds.targets(ds.y_val, 2).argmax(axis=1), ds.y_val)


@pytest.mark.parametrize("name, units", [("iris", 1), ("iris", 2), ("iris", 4),
                                         ("moons", 3), ("franke", 2)])
def test_targets_that_do_not_fit_the_output_layer(name, units):
    ds = load_dataset(name)
    with pytest.raises(SpecError) as info:
        ds.targets(ds.y_train, units)
    assert info.value.field == "model.layers[-1].units"
    assert str(ds.n_classes or 1) in info.value.fix


def test_targets_for_regression_are_the_float_columns():
    ds = load_dataset("franke")
    t = ds.targets(ds.y_train, 1)
    assert t.shape == (320, 1) and t.dtype == np.float64
    np.testing.assert_array_equal(t, ds.y_train)
    np.testing.assert_array_equal(ds.targets(ds.y_train[:, 0], 1), ds.y_train)


# ----------------------------------------------------------------- photos and sample images


@needs_pillow
def test_photos_are_patches_labelled_by_photo():
    ds = load_dataset({"name": "photos", "patch": 8, "n_samples": 100})
    assert ds.X_train.shape == (80, 1, 8, 8) and ds.class_names == ("china", "flower")
    assert ds.X_train.min() >= 0.0 and ds.X_train.max() <= 1.0
    assert np.bincount(ds.y_val).tolist() == [10, 10]
    flat = load_dataset({"name": "photos", "patch": 8, "n_samples": 100}, input_shape=(64,))
    np.testing.assert_array_equal(flat.X_train, ds.X_train.reshape(80, 64))
    # a patch is a window of the photo: find the first training patch in it
    gray = sample_image(ds.class_names[ds.y_train[0]])[0]
    windows = np.lib.stride_tricks.sliding_window_view(gray, (8, 8))
    assert np.any(np.all(windows == ds.X_train[0, 0], axis=(2, 3)))


@needs_pillow
def test_photos_input_shape_mismatch_suggests_the_patch():
    error = raises_on("model.input_shape", "photos", input_shape=(1, 32, 32))
    assert "dataset.patch to 32" in error.fix and "[1, 16, 16]" in error.fix


@needs_pillow
@pytest.mark.parametrize("name", ["china", "flower"])
def test_sample_photos(name):
    native = sample_image(name)
    assert native.shape == (1, 427, 640) and native.dtype == np.float64
    assert 0.0 <= native.min() < 0.2 and 0.8 < native.max() <= 1.0
    small = sample_image(name, 32)
    assert small.shape == (1, 32, 32) and 0.0 <= small.min() and small.max() <= 1.0
    assert sample_image(name, (20, 30)).shape == (1, 20, 30)
    # area averaging of the centre crop keeps its mean brightness
    centre = native[0, :, 106:533]
    assert abs(small.mean() - centre.mean()) < 1e-3
    native[:] = 0.0
    assert sample_image(name).max() > 0.8  # the cache was not touched


def _clear_photo_caches():
    datasets._photo_gray.cache_clear()
    datasets._photo_rgb.cache_clear()


def test_photos_without_pillow_say_how_to_fix(monkeypatch):
    monkeypatch.setenv("NNVIZ_CACHE_DIR", "")      # made now, not read from the cache
    _clear_photo_caches()
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(SpecError) as info:
        load_dataset("photos")
    assert "Pillow" in str(info.value)
    _clear_photo_caches()


@needs_pillow
def test_sample_photo_in_colour():
    rgb = sample_image("china", colour=True)
    assert rgb.shape == (3, 427, 640) and rgb.dtype == np.float64
    assert 0.0 <= rgb.min() and rgb.max() <= 1.0
    # the grayscale photo is the BT.601 luma of the colour one
    luma = np.tensordot([0.299, 0.587, 0.114], rgb, axes=1)
    np.testing.assert_allclose(sample_image("china")[0], luma, atol=1e-12)
    small = sample_image("china", (20, 30), colour=True)
    assert small.shape == (3, 20, 30)
    np.testing.assert_allclose(np.tensordot([0.299, 0.587, 0.114], small, axes=1),
                               sample_image("china", (20, 30))[0], atol=1e-12)
    rgb[:] = 0.0
    assert sample_image("china", colour=True).max() > 0.8  # the cache was not touched
    with pytest.raises(SpecError, match="colour"):
        sample_image("digits:0", colour=True)


def test_sample_digit_images():
    from sklearn.datasets import load_digits
    digit = sample_image("digits:0")
    assert digit.shape == (1, 8, 8)
    np.testing.assert_array_equal(digit[0], load_digits().images[0] / 16)
    np.testing.assert_array_equal(sample_image("digits:0", 8), digit)
    big = sample_image("digits:0", 32)
    assert big.shape == (1, 32, 32)
    np.testing.assert_allclose(big[0, ::4, ::4], digit[0])  # 4x4 blocks of each pixel


@pytest.mark.parametrize("name, size, field", [
    ("lena", 32, "image"), ("digits:99999", 8, "image"), ("digits:x", 8, "image"),
    ("digits:0", 0, "size"), ("digits:0", (8,), "size"), ("digits:0", "big", "size"),
])
def test_sample_image_errors(name, size, field):
    with pytest.raises(SpecError) as info:
        sample_image(name, size)
    assert info.value.field == field


def test_area_resize_averages_blocks():
    image = np.arange(16.0).reshape(4, 4)
    np.testing.assert_allclose(datasets._resize(image, 2, 2),
                               [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(datasets._resize(np.full((7, 5), 0.3), 3, 11), 0.3)
    np.testing.assert_allclose(datasets._resize(image, 4, 4), image)


# --------------------------------------------------------------------------- #
# The on-disk data-set cache (data_cache.py)
# --------------------------------------------------------------------------- #

_CACHED_SPECS = [name for name in DATASETS] + [
    {"name": "moons", "noise": 0.3, "seed": 5}, {"name": "photos", "patch": 8, "n_samples": 40}]


def _same(a, b):
    assert (a.name, a.task, a.n_classes, a.class_names, a.input_shape, a.holdout, a.spec) == \
        (b.name, b.task, b.n_classes, b.class_names, b.input_shape, b.holdout, b.spec)
    for key in ("X_train", "y_train", "X_val", "y_val"):
        x, y = getattr(a, key), getattr(b, key)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("spec", _CACHED_SPECS, ids=str)
def test_cached_data_set_equals_the_one_made(spec, tmp_path, monkeypatch):
    if "photos" in str(spec) and importlib.util.find_spec("PIL") is None:
        pytest.skip("needs Pillow")
    monkeypatch.setenv("NNVIZ_CACHE_DIR", "")
    made = load_dataset(spec)
    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(tmp_path))
    first, second = load_dataset(spec), load_dataset(spec)
    assert len(list(tmp_path.glob("*.npz"))) >= 1
    _same(made, first)
    _same(made, second)
    second.X_train[...] = 7.0                      # fresh arrays: the file is not touched
    _same(made, load_dataset(spec))


def test_second_load_comes_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(tmp_path))
    load_dataset("moons")
    def no_generator(p):
        raise AssertionError("the generator ran again")
    monkeypatch.setitem(datasets._REGISTRY, "moons",
                        datasets._REGISTRY["moons"].__class__(
                            "moons", no_generator, datasets._REGISTRY["moons"].params))
    assert load_dataset("moons").X_train.shape == (320, 2)
    with pytest.raises(AssertionError, match="ran again"):
        load_dataset({"name": "moons", "seed": 3})   # another spec, another file


@pytest.mark.parametrize("damage", [b"", b"not a zip file", b"PK\x03\x04 truncated"])
def test_a_damaged_cache_file_is_made_again(damage, tmp_path, monkeypatch):
    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(tmp_path))
    good = load_dataset("circles")
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(damage)
    _same(good, load_dataset("circles"))
    _same(good, load_dataset("circles"))           # and written back whole
    assert path.stat().st_size > 1000


def test_a_cache_file_holding_objects_is_not_unpickled(tmp_path, monkeypatch):
    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(tmp_path))
    good = load_dataset("xor")
    (path,) = tmp_path.glob("*.npz")
    np.savez(path, X_train=np.array([object()], dtype=object))
    _same(good, load_dataset("xor"))


def test_an_unwritable_cache_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(blocker / "cache"))
    _same(load_dataset("gaussians"), load_dataset("gaussians"))


def test_the_cache_key_follows_the_library_versions(tmp_path, monkeypatch):
    from nnviz.core import data_cache
    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(tmp_path))
    load_dataset("sine")
    versions = dict(data_cache._versions(), **{"scikit-learn": "0.0"})
    monkeypatch.setattr(data_cache, "_versions", lambda: versions)
    load_dataset("sine")
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_csv_files_are_read_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    first = load_dataset({"name": "csv", "path": str(table)})
    table.write_text("a,b,y\n" + "".join(f"{i * 10},{i % 5},{i % 2}\n" for i in range(20)))
    second = load_dataset({"name": "csv", "path": str(table)})
    assert not (tmp_path / "cache").exists()
    assert not np.array_equal(first.X_train, second.X_train)


def test_the_cache_folder_keeps_to_its_size_dropping_what_was_used_longest_ago(
        tmp_path, monkeypatch):
    import os
    import time
    from nnviz.core import data_cache

    def moons(seed):
        return {"name": "moons", "n_samples": 2000, "seed": seed}

    def stem(seed):
        return data_cache._digest({"dataset": datasets.normalise_spec(moons(seed))})

    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(tmp_path))
    load_dataset(moons(0))
    size = next(tmp_path.glob("*.npz")).stat().st_size
    monkeypatch.setattr(data_cache, "MAX_BYTES", int(size * 4.5))    # room for four
    for seed in range(1, 5):
        load_dataset(moons(seed))
    names = {f.stem for f in tmp_path.glob("*.npz")}
    assert len(names) == 4 and stem(0) not in names               # the oldest went
    for i, f in enumerate(sorted(tmp_path.glob("*.npz"), key=lambda f: f.stem != stem(2))):
        used = time.time() - 1000 + 10 * i        # long unused, seed 2 the longest…
        os.utime(f, (used, used))
    load_dataset(moons(2))                        # …but read again now
    load_dataset(moons(9))                        # and a new one is made
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 4 and sum(f.stat().st_size for f in files) <= data_cache.MAX_BYTES
    assert {stem(2), stem(9)} <= {f.stem for f in files}


def test_a_data_set_too_big_for_the_cache_is_made_but_not_kept(tmp_path, monkeypatch):
    from nnviz.core import data_cache
    monkeypatch.setenv("NNVIZ_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(data_cache, "MAX_BYTES", 4 * 1000)
    assert load_dataset({"name": "moons", "n_samples": 2000}).X_train.shape == (1600, 2)
    assert not list(tmp_path.glob("*.npz"))
