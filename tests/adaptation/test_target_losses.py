"""Entropy and Minimum Class Confusion: equal to a direct numpy computation, ordered as the
methods intend (confident < unsure), Keras-loss wrappers and their configs, bad input."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_transfer.adaptation import EntropyLoss, MinimumClassConfusionLoss, entropy, mcc_loss


def numpy_entropy(p, epsilon=1e-5):
    return -(p * np.log(p + epsilon)).sum(axis=1)


def numpy_mcc(logits, temperature=2.5):
    """Jin et al. 2020, eqs. 1-6, written out step by step."""
    z = logits / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    n, k = p.shape
    weight = 1.0 + np.exp(-numpy_entropy(p))
    weight = n * weight / weight.sum()
    confusion = np.zeros((k, k))
    for i in range(n):
        confusion += weight[i] * np.outer(p[i], p[i])
    normalised = confusion / confusion.sum(axis=0, keepdims=True)  # C_jj' / sum_j'' C_j''j'
    return (normalised.sum() - np.trace(normalised)) / k


def _logits(seed=0, n=12, k=4):
    return np.random.default_rng(seed).normal(scale=2.0, size=(n, k)).astype("float32")


@pytest.mark.backend_neutral
def test_entropy_matches_numpy_and_handles_zero_probabilities():
    p = keras.ops.convert_to_numpy(ops.softmax(_logits()))
    np.testing.assert_allclose(np.asarray(entropy(p)), numpy_entropy(p.astype("float64")), rtol=1e-5)
    np.testing.assert_allclose(
        float(EntropyLoss()(None, p)), numpy_entropy(p.astype("float64")).mean(), rtol=1e-5
    )
    exact = np.asarray(entropy(np.array([[1.0, 0.0], [0.5, 0.5]], "float32"), epsilon=0.0))
    np.testing.assert_allclose(exact, [0.0, np.log(2.0)], rtol=1e-6)


@pytest.mark.backend_neutral
def test_mcc_matches_numpy_from_logits_and_from_probabilities():
    logits = _logits()
    expected = numpy_mcc(logits.astype("float64"))
    np.testing.assert_allclose(float(mcc_loss(logits, from_logits=True)), expected, rtol=1e-5)
    probabilities = keras.ops.convert_to_numpy(ops.softmax(logits))
    np.testing.assert_allclose(float(mcc_loss(probabilities)), expected, rtol=1e-4)
    loss = MinimumClassConfusionLoss(temperature=1.0, from_logits=True)
    np.testing.assert_allclose(float(loss(None, logits)), numpy_mcc(logits.astype("float64"), 1.0), rtol=1e-5)


@pytest.mark.backend_neutral
def test_mcc_uniform_predictions_give_hand_computed_value_and_confident_ones_less():
    # uniform p: every entry of the normalised confusion matrix is 1/k, so (k - 1/k * k) / k
    for k in (2, 3, 5):
        np.testing.assert_allclose(
            float(mcc_loss(np.zeros((6, k), "float32"), from_logits=True)), (k - 1) / k, rtol=1e-6
        )
    confident = np.eye(3, dtype="float32")[np.arange(9) % 3] * 20.0
    assert float(mcc_loss(confident, from_logits=True)) < 0.01


@pytest.mark.backend_neutral
def test_mcc_gradient_is_finite_and_lowers_the_loss():
    logits = keras.Variable(_logits(1) * 0.1)
    before = float(mcc_loss(logits, from_logits=True))
    optimizer = keras.optimizers.SGD(1.0)
    for _ in range(20):
        if keras.backend.backend() == "jax":
            import jax

            grad = jax.grad(lambda v: mcc_loss(v, from_logits=True))(logits.value)
        else:
            import tensorflow as tf

            with tf.GradientTape() as tape:
                value = mcc_loss(logits, from_logits=True)
            grad = tape.gradient(value, logits.value)
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(grad)))
        optimizer.apply([grad], [logits])
    assert float(mcc_loss(logits, from_logits=True)) < before


@pytest.mark.backend_neutral
def test_target_losses_config_round_trip_and_registration():
    for loss in (EntropyLoss(epsilon=1e-3), MinimumClassConfusionLoss(temperature=3.0, from_logits=True)):
        again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert (
        keras.saving.get_registered_name(MinimumClassConfusionLoss)
        == "keras_transfer>MinimumClassConfusionLoss"
    )


@pytest.mark.backend_neutral
def test_target_losses_bad_input():
    with pytest.raises(ValueError, match="`temperature` must be a finite number > 0"):
        MinimumClassConfusionLoss(temperature=0.0)
    with pytest.raises(TypeError, match="`from_logits` must be True or False"):
        mcc_loss(_logits(), from_logits="yes")
    with pytest.raises(ValueError, match=r"`predictions` must be a 2-D batch"):
        mcc_loss(np.zeros(4, "float32"))
    with pytest.raises(ValueError, match="`probabilities` is empty"):
        entropy(np.zeros((0, 3), "float32"))
    with pytest.raises(ValueError, match="`epsilon` must be a finite number >= 0"):
        EntropyLoss(epsilon=-1.0)
    assert MinimumClassConfusionLoss(temperature=np.float32(2.0)).temperature == 2.0  # numpy scalars
    p = np.full((4, 3), 1 / 3, "float32")
    nan = p.copy()
    nan[1, 0] = np.nan
    with pytest.raises(ValueError, match="`predictions` contains NaN or infinite values in 1 of 4"):
        mcc_loss(nan)
    with pytest.raises(ValueError, match="`probabilities` contains NaN"):
        entropy(nan)
    with pytest.raises(ValueError, match="`probabilities` must hold class probabilities >= 0"):
        entropy(-p)
    assert np.isfinite(float(mcc_loss(-_logits(), from_logits=True)))  # logits may be negative
