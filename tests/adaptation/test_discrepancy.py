"""CORAL and MMD: zero for identical batches, positive otherwise, equal to a direct numpy
computation, decreasing under adaptation."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_transfer.adaptation import CORALLoss, MMDLoss, coral, mmd


def numpy_coral(xs, xt):
    d = xs.shape[1]
    return np.sum((np.cov(xs, rowvar=False) - np.cov(xt, rowvar=False)) ** 2) / (4 * d * d)


def numpy_mmd(xs, xt, sigmas):
    def k(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(np.exp(-d2 / s) for s in sigmas)

    return k(xs, xs).mean() + k(xt, xt).mean() - 2 * k(xs, xt).mean()


def _pair(seed=0, n_s=40, n_t=30, d=5):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n_s, d)).astype("float32")
    xt = (rng.normal(size=(n_t, d)) @ rng.normal(size=(d, d)) * 0.7 + 0.5).astype("float32")
    return xs, xt


@pytest.mark.backend_neutral
def test_coral_zero_for_identical_positive_otherwise_and_matches_numpy():
    xs, xt = _pair()
    assert float(coral(xs, xs)) == 0.0
    value = float(coral(xs, xt))
    assert value > 0
    np.testing.assert_allclose(value, numpy_coral(xs.astype("float64"), xt.astype("float64")), rtol=1e-4)
    np.testing.assert_allclose(float(CORALLoss()(xs, xt)), value, rtol=1e-6)


@pytest.mark.backend_neutral
def test_mmd_zero_for_identical_positive_otherwise_and_matches_numpy():
    xs, xt = _pair(1)
    assert abs(float(mmd(xs, xs))) < 1e-5
    value = float(mmd(xs, xt))
    assert value > 1e-3
    pooled = np.concatenate([xs, xt]).astype("float64")
    d2 = ((pooled[:, None] - pooled[None]) ** 2).sum(-1)
    n = len(pooled)
    base = d2.sum() / (n * n - n)
    sigmas = [base * 2.0 ** (u - 2) for u in range(5)]
    np.testing.assert_allclose(
        value, numpy_mmd(xs.astype("float64"), xt.astype("float64"), sigmas), rtol=1e-3
    )
    explicit = float(mmd(xs, xt, bandwidths=[1.0, 4.0]))
    np.testing.assert_allclose(
        explicit, numpy_mmd(xs.astype("float64"), xt.astype("float64"), [1.0, 4.0]), rtol=1e-3
    )
    np.testing.assert_allclose(float(MMDLoss()(xs, xt)), value, rtol=1e-6)


@pytest.mark.backend_neutral
def test_discrepancy_losses_config_round_trip():
    loss = MMDLoss(bandwidths=[0.5, 2.0], name="gap")
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(again, MMDLoss) and again.get_config() == loss.get_config()
    again = keras.losses.deserialize(keras.losses.serialize(CORALLoss()))
    assert isinstance(again, CORALLoss)


@pytest.mark.backend_neutral
def test_discrepancy_bad_inputs_raise_clear_errors():
    xs, _ = _pair()
    with pytest.raises(ValueError, match="same feature size"):
        coral(xs, np.ones((5, 3), "float32"))
    with pytest.raises(ValueError, match="`target` is empty"):
        mmd(xs, np.ones((0, 5), "float32"))
    with pytest.raises(ValueError, match="2-D feature batch"):
        coral(xs[0], xs[0])
    with pytest.raises(ValueError, match="`bandwidths` must be"):
        MMDLoss(bandwidths=[0.0])
    nan = xs.copy()
    nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="`source` contains NaN or infinite values in 1 of"):
        coral(nan, xs)
    with pytest.raises(ValueError, match="`target` contains NaN or infinite values"):
        mmd(xs, nan)
    with pytest.raises(ValueError, match="`num_kernels` must be an integer >= 1"):
        mmd(xs, xs, num_kernels=0)
    with pytest.raises(ValueError, match="`kernel_mul` must be a finite number > 0"):
        MMDLoss(kernel_mul=float("inf"))
    assert MMDLoss(num_kernels=np.int64(3)).get_config()["num_kernels"] == 3  # numpy scalars
    assert type(MMDLoss(num_kernels=np.int64(3)).num_kernels) is int


@pytest.mark.backend_neutral
@pytest.mark.parametrize("discrepancy", ["coral", "mmd"])
def test_discrepancy_decreases_under_adaptation(discrepancy):
    from keras_transfer.models import DiscrepancyModel

    rng = np.random.default_rng(0)
    ys = rng.integers(0, 2, 256)
    xs = (rng.normal(size=(256, 4)) + ys[:, None]).astype("float32")
    xt = (rng.normal(size=(256, 4)) * np.array([3.0, 0.3, 2.0, 1.0]) + 1.5).astype("float32")
    features = keras.Sequential([keras.layers.Dense(8, activation="tanh")])
    weight = 1000.0 if discrepancy == "coral" else 10.0  # CORAL's 1/(4 d^2) makes it small
    model = DiscrepancyModel(features, 2, discrepancy=discrepancy, adaptation_weight=weight)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    fn = coral if discrepancy == "coral" else mmd
    before = float(fn(ops.convert_to_numpy(features(xs)), ops.convert_to_numpy(features(xt))))
    history = model.fit(x=(xs, xt), y=ys, epochs=10, batch_size=64, verbose=0).history
    after = float(fn(ops.convert_to_numpy(features(xs)), ops.convert_to_numpy(features(xt))))
    assert after < 0.5 * before
    assert history["adaptation_loss"][-1] < history["adaptation_loss"][0]
    assert history["label_accuracy"][-1] > 0.6
