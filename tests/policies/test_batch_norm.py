"""recalibrate_batch_norm: moving statistics become the average of batch statistics over the data."""

import keras
import numpy as np
import pytest

from keras_transfer.models import TransferClassifier
from keras_transfer.policies import UnfreezeAll, UnfreezeTop, recalibrate_batch_norm
from tests.policies._helpers import tiny_backbone

RNG = np.random.default_rng(0)
DATA = RNG.normal(3.0, 2.0, size=(96, 5)).astype("float32") * np.arange(1, 6, dtype="float32")


def dense_bn_model(dropout=0.0):
    inputs = keras.Input((5,))
    x = keras.layers.Dropout(dropout, name="drop")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    return keras.Model(inputs, x)


@pytest.mark.backend_neutral
def test_recalibrate_batch_norm_statistics_are_the_mean_of_batch_statistics():
    model = dense_bn_model()
    assert recalibrate_batch_norm(model, DATA, batch_size=32, verbose=0) == 1
    batches = DATA.reshape(3, 32, 5)
    bn = model.get_layer("bn")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(bn.moving_mean), batches.mean(axis=1).mean(axis=0), rtol=1e-5
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(bn.moving_variance), batches.var(axis=1).mean(axis=0), rtol=1e-4
    )


@pytest.mark.backend_neutral
def test_recalibrate_batch_norm_restores_momentum_and_dropout_and_ignores_dropout():
    model = dense_bn_model(dropout=0.5)
    recalibrate_batch_norm(model, DATA, batch_size=96, verbose=0)
    bn = model.get_layer("bn")
    assert bn.momentum == 0.99 and model.get_layer("drop").rate == 0.5
    # dropout was off during the pass: the statistics are those of the clean data
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance), DATA.var(axis=0), rtol=1e-4)


@pytest.mark.backend_neutral
def test_recalibrate_batch_norm_makes_inference_match_training_mode_in_a_backbone():
    keras.utils.set_random_seed(0)
    model = TransferClassifier(tiny_backbone(), num_classes=3, policy=UnfreezeAll(bn="train"), dropout=0.0)
    x = RNG.integers(0, 256, size=(16, 32, 32, 3)).astype("float32")
    train_mode = keras.ops.convert_to_numpy(model(x, training=True))
    # fresh BN layers hold mean 0 / variance 1: inference mode differs from training mode
    assert not np.allclose(keras.ops.convert_to_numpy(model(x, training=False)), train_mode, atol=1e-3)
    assert recalibrate_batch_norm(model, x, batch_size=16, verbose=0) == 4
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x, training=False)), train_mode, atol=1e-4)


@pytest.mark.backend_neutral
def test_recalibrate_batch_norm_leaves_frozen_batch_norm_alone():
    model = TransferClassifier(
        tiny_backbone(), num_classes=3, policy=UnfreezeTop(1, bn="frozen"), dropout=0.0
    )
    before = [keras.ops.convert_to_numpy(w) for w in model.backbone.non_trainable_weights]
    with pytest.raises(ValueError, match="no trainable BatchNormalization"):
        recalibrate_batch_norm(model, RNG.integers(0, 256, size=(4, 32, 32, 3)), verbose=0)
    for old, new in zip(before, model.backbone.non_trainable_weights):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))


def test_recalibrate_batch_norm_accepts_a_dataset_of_labelled_batches():
    import tensorflow as tf

    model = dense_bn_model()
    ds = tf.data.Dataset.from_tensor_slices((DATA, np.zeros(len(DATA)))).batch(32)
    recalibrate_batch_norm(model, ds, verbose=0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.get_layer("bn").moving_mean), DATA.mean(axis=0), rtol=1e-5
    )


def test_recalibrate_batch_norm_max_batches_and_progress(capsys):
    model = dense_bn_model()
    recalibrate_batch_norm(model, DATA, batch_size=32, max_batches=1, verbose=1)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.get_layer("bn").moving_mean), DATA[:32].mean(axis=0), rtol=1e-5
    )
    assert "1/1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": DATA[:0]}, "empty"),
        ({"x": [], "batch_size": 8}, "no batch"),
        ({"x": DATA, "batch_size": 0}, "batch_size"),
        ({"x": DATA, "max_batches": 0}, "max_batches"),
        ({"x": np.full_like(DATA, np.nan)}, "`x` contains NaN or infinite values"),
        ({"x": DATA.astype("complex64")}, "`x` must hold real numbers"),
    ],
)
def test_recalibrate_batch_norm_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        recalibrate_batch_norm(dense_bn_model(), verbose=0, **kwargs)


def test_recalibrate_batch_norm_refuses_a_non_model():
    with pytest.raises(TypeError, match="`model` must be a built Keras model or layer; received str"):
        recalibrate_batch_norm("model", DATA, verbose=0)
