"""The shared argument checks: numbers, labels and pixel ranges, with errors that name the argument."""

import warnings

import numpy as np
import pytest

from keras_transfer._validation import (
    check_bool,
    check_float,
    check_images,
    check_int,
    check_labels,
    check_pixel_range,
    check_random_state,
)


def test_numbers_accept_numpy_scalars_and_refuse_bools_strings_and_non_finite():
    assert check_int(np.int64(3), "n", min_value=1) == 3 and type(check_int(np.int64(3), "n")) is int
    assert check_float(np.float32(0.5), "rate", min_value=0) == 0.5
    with pytest.raises(TypeError, match="`n` must be an integer >= 1.*received n=True"):
        check_int(True, "n", min_value=1)
    with pytest.raises(TypeError, match="`n`.*received n=2.5"):
        check_int(2.5, "n")
    with pytest.raises(ValueError, match="`n` must be an integer >= 1; received n=0"):
        check_int(0, "n", min_value=1)
    with pytest.raises(ValueError, match="`rate` must be a finite number > 0"):
        check_float(0.0, "rate", min_value=0, min_inclusive=False)
    with pytest.raises(ValueError, match="`w`.*received w=inf"):
        check_float(float("inf"), "w", min_value=0)
    with pytest.raises(TypeError, match="`rate`.*str"):
        check_float("0.1", "rate")


def test_bool_refuses_strings():
    assert check_bool(np.bool_(True), "trainable") is True
    with pytest.raises(TypeError, match="`trainable` must be True or False; received trainable='no'"):
        check_bool("no", "trainable")


def test_random_state():
    assert check_random_state(None) is None and check_random_state(np.int64(7)) == 7
    with pytest.raises(TypeError, match="`random_state`"):
        check_random_state("abc")
    with pytest.raises(ValueError, match="`random_state`.*received random_state=-1"):
        check_random_state(-1)


def test_labels():
    assert check_labels(np.array([[0], [2]]), num_classes=3).tolist() == [0, 2]
    assert check_labels([1.0, 0.0]).dtype == np.int64
    with pytest.raises(ValueError, match="`y`.*non-integer values such as \\[0.5\\]"):
        check_labels([0.5, 1.0])
    with pytest.raises(TypeError, match="`y`.*strings.*LabelEncoder"):
        check_labels(["cat", "dog"])
    with pytest.raises(ValueError, match="`y`.*one-hot.*argmax"):
        check_labels(np.eye(3))
    with pytest.raises(ValueError, match="`y` must hold class labels >= 0; received -1"):
        check_labels([-1, 0])
    with pytest.raises(ValueError, match=r"`y` must hold class labels in \[0, 1\].*received 5"):
        check_labels([0, 5], num_classes=2)
    with pytest.raises(ValueError, match="`y` must have one label per example: received 2 labels for 3"):
        check_labels([0, 1], num_examples=3)


def test_images_refuse_complex_and_non_finite():
    with pytest.raises(TypeError, match="`x` must hold real numeric pixels"):
        check_images(np.zeros((1, 4, 4, 3), "complex64"))
    with pytest.raises(ValueError, match="`x` contains NaN or infinite pixels in 1 of 2"):
        check_images(np.stack([np.zeros((4, 4, 3)), np.full((4, 4, 3), np.inf)]))


def test_pixel_range_warnings():
    rng = np.random.default_rng(0)
    with pytest.warns(UserWarning, match="`inputs`.*looks scaled to 0-1"):
        check_pixel_range(rng.random((2, 8, 8, 3)))
    with pytest.warns(UserWarning, match="`inputs`.*far outside the expected 0-255"):
        check_pixel_range(rng.random((2, 8, 8, 3)) * 1e4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_pixel_range(rng.random((2, 8, 8, 3)) * 255)  # raw pixels: quiet
        check_pixel_range(rng.integers(0, 256, (2, 8, 8, 3)).astype("uint8"))  # raw integer pixels
        check_pixel_range(np.zeros((2, 8, 8, 3), "uint8"))  # a blank batch has no range to judge
    # integer pixels in a small range (0-1 masks, scikit-learn's 0-16 digits) and booleans warn
    with pytest.warns(UserWarning, match=r"`inputs` has integer pixels in \[0, 16\].*digits"):
        check_pixel_range(rng.integers(0, 17, (2, 8, 8, 1)))
    with pytest.warns(UserWarning, match=r"`inputs` has integer pixels in \[0, 1\]"):
        check_pixel_range(rng.integers(0, 2, (2, 8, 8, 3)).astype("uint8"))
    with pytest.warns(UserWarning, match="`inputs` holds boolean pixels"):
        check_pixel_range(rng.random((2, 8, 8, 3)) > 0.5)


def test_check_finite_checks_concrete_values_only():
    import tensorflow as tf

    from keras_transfer._validation import check_finite, concrete

    bad = np.array([[1.0, np.nan], [0.0, 1.0], [np.inf, 0.0]])
    with pytest.raises(ValueError, match="`f` contains NaN or infinite values in 2 of 3 rows"):
        check_finite(bad, "f")
    with pytest.raises(ValueError, match="`f` contains NaN"):
        check_finite(tf.constant(bad), "f")  # an eager tensor is concrete
    check_finite(np.array([[1, 2]]), "f")  # integers are always finite
    seen = []

    @tf.function
    def traced(x):
        seen.append(concrete(x))
        check_finite(x, "f")  # symbolic: nothing to check yet
        return x

    traced(tf.constant(bad))
    assert seen == [None]
