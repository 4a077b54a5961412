import numpy as np
import pytest

from keras_transfer.datasets import FASHION_MNIST_CLASSES, load_domain_pair, load_fashion_mnist


def test_fashion_pair_shapes_balance_and_shift():
    pair = load_domain_pair("fashion_mnist", num_source=53, num_target=40, seed=0, source="subset")
    (xs, ys), (xt, yt) = pair["source"], pair["target"]
    assert xs.shape == (53, 28, 28, 3) and xt.shape == (40, 28, 28, 3)
    assert xs.dtype == xt.dtype == np.uint8 and ys.dtype == yt.dtype == np.int64
    assert np.bincount(ys, minlength=10).max() - np.bincount(ys, minlength=10).min() <= 1
    assert np.array_equal(np.bincount(yt), np.full(10, 4))
    assert pair["class_names"] == list(FASHION_MNIST_CLASSES)
    # source: grayscale images repeated on 3 channels, taken from the train split
    assert np.array_equal(xs[..., 0], xs[..., 1]) and np.array_equal(xs[..., 0], xs[..., 2])
    train = {img.tobytes() for img in load_fashion_mnist("train", source="subset")[0]}
    assert all(img.tobytes() in train for img in xs[..., 0])
    # target: coloured, and far from any grayscale image
    assert np.abs(xt[..., 0].astype(int) - xt[..., 2]).mean() > 10
    assert abs(xt.astype(float).mean(axis=(1, 2)) - xs.astype(float).mean(axis=(1, 2)).mean()).mean() > 10


def test_pair_is_deterministic_and_seeded():
    a = load_domain_pair("digits", num_source=30, num_target=30, seed=4)
    b = load_domain_pair("digits", num_source=30, num_target=30, seed=4)
    c = load_domain_pair("digits", num_source=30, num_target=30, seed=5)
    assert a["target"][0].tobytes() == b["target"][0].tobytes()
    assert a["source"][0].tobytes() == b["source"][0].tobytes()
    assert a["target"][0].tobytes() != c["target"][0].tobytes()


def test_digits_pair_full_size_and_resize():
    pair = load_domain_pair("digits")
    assert pair["source"][0].shape == (898, 28, 28, 3) and pair["target"][0].shape == (899, 28, 28, 3)
    assert pair["class_names"] == [str(d) for d in range(10)]
    small = load_domain_pair("digits", num_source=10, num_target=10, image_size=32)
    assert small["source"][0].shape[1:] == small["target"][0].shape[1:] == (32, 32, 3)


def test_pair_bad_arguments():
    with pytest.raises(ValueError, match=r"`name`.*'mnist'"):
        load_domain_pair("mnist")
    with pytest.raises(ValueError, match=r"`num_source`.*too large"):
        load_domain_pair("digits", num_source=5000)
    with pytest.raises(ValueError, match=r"`num_target`"):
        load_domain_pair("digits", num_target=-3)
    with pytest.raises(TypeError, match=r"`seed`"):
        load_domain_pair("digits", seed="1")
