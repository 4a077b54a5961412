"""WeightNormalizedDense: kernel g * v / |v| per output unit, starts as its Dense, saves and loads."""

import keras
import numpy as np
import pytest

from keras_transfer.layers import WeightNormalizedDense


@pytest.mark.backend_neutral
def test_weight_normalized_dense_matches_numpy_and_trains_length_and_direction():
    layer = WeightNormalizedDense(3, activation="softmax")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    out = np.asarray(layer(x))
    v, g, b = layer.v.numpy(), layer.g.numpy(), layer.bias.numpy()
    np.testing.assert_allclose(g, np.linalg.norm(v, axis=0), rtol=1e-6)  # starts as Dense(v)
    logits = x @ (g * v / np.linalg.norm(v, axis=0)) + b
    expected = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    assert sorted(w.name for w in layer.trainable_weights) == ["bias", "g", "v"]
    layer.g.assign(2 * g)  # the length scales each unit's weights and nothing else
    np.testing.assert_allclose(np.asarray(layer.kernel), 2 * v, rtol=1e-5)


@pytest.mark.backend_neutral
def test_weight_normalized_dense_round_trips(tmp_path):
    model = keras.Sequential([keras.Input((4,)), WeightNormalizedDense(2, use_bias=False, name="wn")])
    again = WeightNormalizedDense.from_config(model.layers[0].get_config())
    assert (again.units, again.use_bias) == (2, False)
    path = str(tmp_path / "wn.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = np.ones((3, 4), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="`units`"):
        WeightNormalizedDense(0)
