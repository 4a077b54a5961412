"""AdaBN: only BatchNorm moving statistics change, and they become the target statistics."""

import keras
import numpy as np
import pytest

from keras_transfer.adaptation import adapt_batch_norm


def _model():
    return keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(2),
            keras.layers.BatchNormalization(),
        ]
    )


def _target(n=96):
    return np.random.default_rng(0).normal(3.0, 2.0, size=(n, 3)).astype("float32")


def _is_statistic(variable):
    return variable.path.endswith(("moving_mean", "moving_variance"))


@pytest.mark.backend_neutral
def test_adapt_batch_norm_changes_only_moving_statistics_and_sets_target_means():
    model = _model()
    xt = _target()
    before = {v.path: keras.ops.convert_to_numpy(v).copy() for v in model.weights}
    assert adapt_batch_norm(model, xt, batch_size=len(xt)) == 2
    for v in model.weights:
        value = keras.ops.convert_to_numpy(v)
        if _is_statistic(v):
            assert not np.allclose(value, before[v.path]), v.path
        else:
            np.testing.assert_array_equal(value, before[v.path], err_msg=v.path)
    dense1, bn1, _, _, dense2, bn2 = model.layers
    h1 = xt @ keras.ops.convert_to_numpy(dense1.kernel) + keras.ops.convert_to_numpy(dense1.bias)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn1.moving_mean), h1.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn1.moving_variance), h1.var(0), rtol=1e-3)
    # the second layer sees the target normalised with its own batch statistics (training mode),
    # with dropout switched off
    z = (h1 - h1.mean(0)) / np.sqrt(h1.var(0) + bn1.epsilon)
    z = np.maximum(z * keras.ops.convert_to_numpy(bn1.gamma) + keras.ops.convert_to_numpy(bn1.beta), 0.0)
    h2 = z @ keras.ops.convert_to_numpy(dense2.kernel) + keras.ops.convert_to_numpy(dense2.bias)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn2.moving_mean), h2.mean(0), rtol=1e-4, atol=1e-4)
    assert model.layers[3].rate == 0.5 and bn1.momentum == 0.99  # restored


@pytest.mark.backend_neutral
def test_adapt_batch_norm_means_are_the_target_means_over_several_batches():
    model = _model()
    xt = _target(128)
    adapt_batch_norm(model, xt, batch_size=32)
    dense1, bn1 = model.layers[:2]
    h1 = xt @ keras.ops.convert_to_numpy(dense1.kernel) + keras.ops.convert_to_numpy(dense1.bias)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn1.moving_mean), h1.mean(0), rtol=1e-4, atol=1e-4)


def test_adapt_batch_norm_include_frozen_updates_frozen_layers_and_restores_the_flag():
    model = _model()
    bn1 = model.layers[1]
    bn1.trainable = False
    xt = _target()
    adapt_batch_norm(model, xt, batch_size=len(xt))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn1.moving_mean), np.zeros(4))
    assert adapt_batch_norm(model, xt, batch_size=len(xt), include_frozen=True) == 2
    assert not bn1.trainable
    assert not np.allclose(keras.ops.convert_to_numpy(bn1.moving_mean), 0.0)


@pytest.mark.backend_neutral
def test_adapt_batch_norm_bad_input():
    model = _model()
    xt = _target()
    with pytest.raises(ValueError, match="`target_x` must be the target inputs only"):
        adapt_batch_norm(model, (xt, xt))
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        adapt_batch_norm(model, xt, batch_size=0)
    with pytest.raises(ValueError, match="no trainable BatchNormalization"):
        adapt_batch_norm(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), xt)
    assert adapt_batch_norm(model, xt, batch_size=np.int64(32), max_batches=np.int64(1)) == 2
    bad = xt.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="`target_x` contains NaN or infinite values in 1 of"):
        adapt_batch_norm(model, bad)
    with pytest.raises(ValueError, match="`target_x` must hold at least one image"):
        adapt_batch_norm(model, xt[:0])


@pytest.mark.backend_neutral
def test_batch_norm_statistics_uses_the_given_data_inside_and_restores_exactly_after():
    from keras_transfer.adaptation import batch_norm_statistics

    model = _model()
    xt = _target()
    xs = np.random.default_rng(1).normal(-2.0, 0.5, size=(96, 3)).astype("float32")
    adapt_batch_norm(model, xt, batch_size=len(xt))
    bn = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)][0]
    target_stats = [keras.ops.convert_to_numpy(v).copy() for v in model.weights]
    h = keras.ops.convert_to_numpy(model.layers[0](xs))  # the first BatchNorm's input
    with batch_norm_statistics(model, xs, batch_size=len(xs)):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), h.mean(0), atol=1e-4)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance), h.var(0), rtol=1e-3)
    for before, v in zip(target_stats, model.weights):
        np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(v))
    with pytest.raises(RuntimeError, match="inside"), batch_norm_statistics(model, xs):
        raise RuntimeError("an error inside the context")
    for before, v in zip(target_stats, model.weights):
        np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(v))
