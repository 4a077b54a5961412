"""TargetRegularizedModel (MCC, entropy minimization): beats source-only on target clusters that
the source classifier cuts, adds the regularizer of the target predictions to the loss, saves and
loads, refuses bad input."""

import functools

import keras
import numpy as np
import pytest

from keras_transfer.adaptation import EntropyLoss, MinimumClassConfusionLoss, mcc_loss
from keras_transfer.models import TargetRegularizedModel
from tests.models._synthetic import blobs, mlp, target_accuracy

SEED, EPOCHS = 0, 6


@functools.cache
def _source_only():
    return target_accuracy(
        lambda: TargetRegularizedModel(mlp(), 2, adaptation_weight=0.0), blobs, SEED, EPOCHS
    )


def test_mcc_beats_source_only_on_target():
    mcc = target_accuracy(lambda: TargetRegularizedModel(mlp(), 2, "mcc"), blobs, SEED, EPOCHS)
    assert mcc > _source_only() + 0.05 and mcc > 0.95, (_source_only(), mcc)


def test_entropy_minimization_beats_source_only_on_target():
    def make():
        return TargetRegularizedModel(mlp(), 2, "entropy", adaptation_weight=0.1)

    entropy_min = target_accuracy(make, blobs, SEED, EPOCHS)
    assert entropy_min > _source_only() + 0.05, (_source_only(), entropy_min)


def _small(seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(96, 4)).astype("float32")
    xt = (rng.normal(size=(64, 4)) + 1.0).astype("float32")
    return xs, rng.integers(0, 3, 96), xt


@pytest.mark.backend_neutral
def test_regularizer_is_mcc_of_the_target_predictions_and_adds_to_the_loss():
    xs, ys, xt = _small()
    model = TargetRegularizedModel(mlp((8,)), 3, "mcc", adaptation_weight=0.5)
    y_pred = model((xs, xt[: len(xs)]), training=False)
    probabilities = model.predict(xt, verbose=0)
    np.testing.assert_allclose(float(y_pred.adaptation_loss), float(mcc_loss(probabilities)), rtol=1e-5)
    model.compile(optimizer="adam")
    history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0).history
    assert sorted(history) == ["adaptation_loss", "label_accuracy", "label_loss", "loss"]
    np.testing.assert_allclose(
        history["loss"][0], history["label_loss"][0] + 0.5 * history["adaptation_loss"][0], rtol=1e-4
    )


@pytest.mark.backend_neutral
def test_target_regularized_model_keras_round_trip(tmp_path):
    xs, ys, xt = _small()
    model = TargetRegularizedModel(
        mlp((8,)),
        3,
        regularizer=MinimumClassConfusionLoss(temperature=3.0),
        adaptation_weight=0.3,
        bottleneck=4,
    )
    model.compile(optimizer="adam")
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0)
    path = str(tmp_path / "mcc.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(xt, verbose=0), model.predict(xt, verbose=0))
    assert loaded.regularizer_fn.temperature == 3.0 and loaded.adaptation_weight == 0.3
    entropy = TargetRegularizedModel.from_config(TargetRegularizedModel(mlp(), 2, "entropy").get_config())
    assert isinstance(entropy.regularizer_fn, EntropyLoss)


@pytest.mark.backend_neutral
def test_target_regularized_model_bad_arguments_and_input():
    with pytest.raises(ValueError, match="Did you mean 'mcc'"):
        TargetRegularizedModel(mlp(), 2, regularizer="mmc")
    with pytest.raises(ValueError, match="`regularizer` must be 'mcc', 'entropy' or a keras.losses.Loss"):
        TargetRegularizedModel(mlp(), 2, regularizer=3)
    with pytest.raises(ValueError, match="`adaptation_weight` must be a finite number >= 0"):
        TargetRegularizedModel(mlp(), 2, adaptation_weight=-1.0)
    xs, ys, xt = _small()
    model = TargetRegularizedModel(mlp((8,)), 3)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="Target labels are not allowed"):
        model.fit(x=(xs, xt), y=[ys, ys[:64]], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`x` must hold at least one target example"):
        model.fit(x=(xs, xt[:0]), y=ys, epochs=1, verbose=0)
