"""DiscrepancyModel (Deep CORAL / DAN-style): trains, saves, loads, refuses bad input."""

import keras
import numpy as np
import pytest

from keras_transfer.adaptation import MMDLoss
from keras_transfer.models import DiscrepancyModel


def _data():
    rng = np.random.default_rng(0)
    ys = rng.integers(0, 2, 96)
    xs = (rng.normal(size=(96, 4)) + ys[:, None]).astype("float32")
    xt = (rng.normal(size=(64, 4)) * 2.0 + 1.0).astype("float32")
    return xs, ys, xt


@pytest.mark.backend_neutral
def test_discrepancy_model_keras_round_trip(tmp_path):
    xs, ys, xt = _data()
    model = DiscrepancyModel(
        keras.Sequential([keras.layers.Dense(8, activation="relu")]),
        2,
        discrepancy=MMDLoss(bandwidths=[1.0, 4.0]),
        adaptation_weight=0.5,
    )
    model.compile(optimizer="adam")
    history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0).history
    assert sorted(history) == ["adaptation_loss", "label_accuracy", "label_loss", "loss"]
    np.testing.assert_allclose(
        history["loss"][0], history["label_loss"][0] + 0.5 * history["adaptation_loss"][0], rtol=1e-4
    )
    path = str(tmp_path / "coral.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(xt, verbose=0), model.predict(xt, verbose=0))
    assert loaded.discrepancy_fn.bandwidths == [1.0, 4.0] and loaded.adaptation_weight == 0.5


@pytest.mark.backend_neutral
def test_discrepancy_model_bad_arguments_and_input():
    xs, ys, xt = _data()
    with pytest.raises(ValueError, match="`discrepancy` must be one of"):
        DiscrepancyModel(keras.layers.Dense(4), 2, discrepancy="wasserstein")
    with pytest.raises(ValueError, match="`adaptation_weight` must be a finite number >= 0"):
        DiscrepancyModel(keras.layers.Dense(4), 2, adaptation_weight=-1.0)
    model = DiscrepancyModel(keras.layers.Dense(4), 2)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="Target labels are not allowed"):
        model.fit(x=(xs, xt), y=[ys, ys[:64]], verbose=0)
    with pytest.raises(ValueError, match="same per-example shape"):
        model.fit(x=(xs, xt[:, :2]), y=ys, verbose=0)
    with pytest.raises(ValueError, match="`x` must hold at least one target example"):
        model.fit(x=(xs, xt[:0]), y=ys, verbose=0)
