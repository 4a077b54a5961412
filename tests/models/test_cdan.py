"""CDAN and CDAN+E: beat source-only on a shifted two-domain problem, compute the paper's
conditioned and weighted domain loss, pick the randomized map above the size threshold, save
and load (random matrices included), refuse bad input."""

import functools

import keras
import numpy as np
import pytest
from keras import ops

from keras_transfer.models import CDAN
from tests.models._synthetic import mlp, shifted_pair, target_accuracy

SEED, EPOCHS = 2, 4


@functools.cache
def _source_only():
    # the same network with the reversal weight fixed at 0; the label path does not depend on
    # the discriminator's input, so this is also source-only for the randomized variant
    return target_accuracy(lambda: CDAN(mlp(), 2, adaptation_weight=0.0), shifted_pair, SEED, EPOCHS)


def test_cdan_beats_source_only_on_target():
    cdan = target_accuracy(lambda: CDAN(mlp(), 2), shifted_pair, SEED, EPOCHS)
    assert cdan > _source_only() + 0.1, (_source_only(), cdan)


def test_cdan_e_with_randomized_map_beats_source_only_on_target():
    def make():
        return CDAN(mlp(), 2, entropy_conditioning=True, randomized=True, randomized_dim=64)

    cdan_e = target_accuracy(make, shifted_pair, SEED, EPOCHS)
    assert cdan_e > _source_only() + 0.1, (_source_only(), cdan_e)


def _small(seed=0, n=48, k=3):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, 4)).astype("float32")
    xt = (rng.normal(size=(n, 4)) + 1.0).astype("float32")
    return xs, rng.integers(0, k, n), xt


def _numpy_softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@pytest.mark.backend_neutral
def test_cdan_e_domain_loss_matches_numpy():
    xs, _, xt = _small()
    model = CDAN(mlp((6,)), 3, entropy_conditioning=True)
    y_pred = model((xs, xt), training=False)
    features = ops.convert_to_numpy(model._features(np.concatenate([xs, xt])))
    g = ops.convert_to_numpy(model.predict(np.concatenate([xs, xt]), verbose=0)).astype("float64")
    # the discriminator sees g (x) f, class-major
    joint = np.einsum("nc,nd->ncd", g, features).reshape(len(g), -1).astype("float32")
    logits = ops.convert_to_numpy(y_pred.extras.logits)[:, 0].astype("float64")
    np.testing.assert_allclose(
        logits, ops.convert_to_numpy(model.domain_head(joint))[:, 0], rtol=1e-4, atol=1e-5
    )
    domain = np.r_[np.zeros(len(xs)), np.ones(len(xt))]
    bce = _numpy_softplus(logits) - domain * logits  # BCE with logits
    entropy = -(g * np.log(g + 1e-5)).sum(1)
    w = 1.0 + np.exp(-entropy)
    w_s, w_t = w[domain == 0] / w[domain == 0].sum(), w[domain == 1] / w[domain == 1].sum()
    expected = 0.5 * (np.sum(w_s * bce[domain == 0]) + np.sum(w_t * bce[domain == 1]))
    np.testing.assert_allclose(float(y_pred.adaptation_loss), expected, rtol=1e-4)
    plain = CDAN(mlp((6,)), 3)
    y_plain = plain((xs, xt), training=False)
    logits = ops.convert_to_numpy(y_plain.extras.logits)[:, 0].astype("float64")
    np.testing.assert_allclose(
        float(y_plain.adaptation_loss), np.mean(_numpy_softplus(logits) - domain * logits), rtol=1e-4
    )


@pytest.mark.backend_neutral
def test_cdan_randomized_above_threshold_and_keras_round_trip(tmp_path):
    full = CDAN(keras.layers.Dense(64), 64)
    full.build((None, 4))
    assert not full.use_randomized and full.random_features is None  # 64 * 64 = 4096, not above
    xs, ys, xt = _small(k=60)
    model = CDAN(mlp((70,)), 60, entropy_conditioning=True)
    model.compile(optimizer="adam")
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, verbose=0)
    assert model.use_randomized  # 70 * 60 > 4096
    assert tuple(model.random_features.shape) == (70, 1024) and not model.random_features.trainable
    assert tuple(model.random_predictions.shape) == (60, 1024)
    assert all(v.trainable is False for v in (model.random_features, model.random_predictions))
    before = ops.convert_to_numpy(model.random_features).copy()
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, verbose=0)
    np.testing.assert_array_equal(ops.convert_to_numpy(model.random_features), before)  # fixed
    path = str(tmp_path / "cdan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, CDAN) and loaded.use_randomized and loaded.entropy_conditioning
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded.random_features), before)
    np.testing.assert_array_equal(loaded.predict(xt, verbose=0), model.predict(xt, verbose=0))
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded((xs, xt)).extras.logits),
        ops.convert_to_numpy(model((xs, xt)).extras.logits),
        rtol=1e-5,
    )
    assert CDAN.from_config(model.get_config()).get_config() == model.get_config()


@pytest.mark.backend_neutral
def test_cdan_bad_arguments_and_input():
    with pytest.raises(ValueError, match="`randomized_dim` must be an integer >= 1"):
        CDAN(mlp(), 2, randomized_dim=0)
    with pytest.raises(TypeError, match="`entropy_conditioning` must be True or False"):
        CDAN(mlp(), 2, entropy_conditioning="yes")
    assert CDAN(mlp(), 2, randomized_dim=np.int64(32), randomized=np.bool_(True)).randomized_dim == 32
    xs, ys, xt = _small()
    model = CDAN(mlp((8,)), 3)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="Target labels are not allowed"):
        model.fit(x=(xs, xt), y=(ys, ys), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="same per-example shape"):
        model.fit(x=(xs, xt[:, :3]), y=ys, epochs=1, verbose=0)
