"""BatchNorm re-estimation (AdaBN, recalibration) never averages in a batch of one example."""

import keras
import numpy as np
import pytest

from keras_transfer.adaptation import adapt_batch_norm
from keras_transfer.policies import recalibrate_batch_norm


def _bn_model():
    return keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])


def test_a_short_last_batch_does_not_halve_the_variance():
    x = np.random.default_rng(0).normal(0.0, 2.0, (65, 3)).astype("float32")  # 64 + 1 rows
    model = _bn_model()
    recalibrate_batch_norm(model, x, batch_size=64, verbose=0)
    variance = model.layers[0].moving_variance.numpy()
    np.testing.assert_allclose(variance, x.var(0), rtol=0.05)  # a 1-row batch would give ~half


def test_adabn_on_one_target_image_is_refused():
    model = _bn_model()
    with pytest.raises(ValueError, match="`target_x` holds 1 example.*variance of one example is 0"):
        adapt_batch_norm(model, np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match="`batch_size` must be at least 2"):
        adapt_batch_norm(model, np.ones((8, 3), "float32"), batch_size=1)


def test_dann_with_one_target_image_refuses_adabn():
    from keras_transfer.models import DANN

    features = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.BatchNormalization()])
    model = DANN(features, 2, adapt_batch_norm=True)
    model.compile(optimizer="adam")
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(16, 4)).astype("float32"), np.arange(16) % 2
    with pytest.raises(ValueError, match="holds 1 example"):
        model.fit((xs, xs[:1] + 1.0), ys, epochs=1, batch_size=8, verbose=0)


def test_dataset_batches_of_one_example_are_skipped_with_a_warning():
    import tensorflow as tf

    x = np.random.default_rng(0).normal(0.0, 2.0, (65, 3)).astype("float32")
    model = _bn_model()
    with pytest.warns(UserWarning, match="skipped 1 batch"):
        recalibrate_batch_norm(model, tf.data.Dataset.from_tensor_slices(x).batch(64), verbose=0)
    np.testing.assert_allclose(model.layers[0].moving_variance.numpy(), x[:64].var(0), rtol=0.05)
