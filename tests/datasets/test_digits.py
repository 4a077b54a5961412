import numpy as np
import pytest
from sklearn.datasets import load_digits

from keras_transfer.datasets import load_digits_images


def test_digits_are_sklearn_digits_scaled_to_uint8():
    x, y = load_digits_images()
    ref = load_digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.array_equal(y, ref.target)
    np.testing.assert_allclose(x / 255.0 * 16.0, ref.images, atol=16 / 255 / 2 + 1e-9)
    assert x.min() == 0 and x.max() == 255


def test_train_and_test_halves_are_disjoint_and_stratified():
    xa, _ = load_digits_images("all")
    xtr, ytr = load_digits_images("train")
    xte, yte = load_digits_images("test")
    assert len(xtr) + len(xte) == len(xa) == 1797
    # the halves partition the data set: as multisets of images they add up to "all"
    assert sorted(img.tobytes() for img in np.concatenate([xtr, xte])) == sorted(img.tobytes() for img in xa)
    assert np.array_equal(np.bincount(ytr) + np.bincount(yte), np.bincount(load_digits().target))
    assert np.abs(np.bincount(ytr) - np.bincount(yte)).max() <= 1


def test_upsampled_digits_keep_the_shape():
    x8, _ = load_digits_images(num_per_class=3, seed=1)
    x28, y28 = load_digits_images(image_size=28, num_per_class=3, seed=1)
    assert x28.shape == (30, 28, 28) and x28.dtype == np.uint8
    assert np.array_equal(np.bincount(y28), np.full(10, 3))
    # bilinear upsampling: block means of the 28x28 image track the 8x8 pixels
    small = x28[:, 1:-1, 1:-1].reshape(30, 2, 13, 2, 13).mean(axis=(2, 4))
    big = x8.reshape(30, 2, 4, 2, 4).mean(axis=(2, 4))
    assert np.abs(small - big).max() < 25
    x, _ = load_digits_images(image_size=(16, 12))
    assert x.shape == (1797, 16, 12)


def test_digits_bad_arguments():
    with pytest.raises(ValueError, match="`split`.*'valid'"):
        load_digits_images("valid")
    with pytest.raises(ValueError, match="`image_size`"):
        load_digits_images(image_size=(0, 8))
    with pytest.raises(ValueError, match="num_per_class.*too large"):
        load_digits_images("train", num_per_class=100)
    with pytest.raises(TypeError, match="`seed`"):
        load_digits_images(seed=0.5)
