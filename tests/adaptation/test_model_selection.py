"""Each unsupervised model-selection score ranks a well-adapted model above a collapsed one."""

import numpy as np
import pytest

from keras_transfer.adaptation import (
    HIGHER_IS_BETTER,
    deep_embedded_validation,
    prediction_entropy,
    reverse_validation,
    soft_neighborhood_density,
)


def better(name, good, bad):
    return good > bad if HIGHER_IS_BETTER[name] else good < bad


def _domains(seed=0, n=150, k=3):
    """Target features sit in k class clusters (like the source); returns features and labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, 6)) * 4
    ys, yt = rng.integers(0, k, n), rng.integers(0, k, n)
    xs = centres[ys] + rng.normal(size=(n, 6))
    xt = centres[yt] + rng.normal(size=(n, 6)) + 0.5
    return xs, ys, xt, yt


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


@pytest.mark.backend_neutral
def test_prediction_entropy_matches_direct_formula_and_ranks():
    p = np.array([[0.2, 0.8], [0.5, 0.5]])
    expected = np.mean([-(0.2 * np.log(0.2) + 0.8 * np.log(0.8)), np.log(2)])
    assert prediction_entropy(p) == pytest.approx(expected, rel=1e-12)
    _, _, _, yt = _domains()
    adapted = _softmax(6.0 * np.eye(3)[yt])
    collapsed = _softmax(np.random.default_rng(1).normal(scale=0.1, size=(len(yt), 3)))
    assert better("entropy", prediction_entropy(adapted), prediction_entropy(collapsed))


@pytest.mark.backend_neutral
def test_soft_neighborhood_density_ranks_clustered_above_scattered():
    rng = np.random.default_rng(0)
    _, _, _, yt = _domains()
    adapted = _softmax(8.0 * np.eye(3)[yt] + rng.normal(scale=0.3, size=(len(yt), 3)))
    collapsed = rng.dirichlet(np.ones(3), size=len(yt))  # no class structure left
    good, bad = soft_neighborhood_density(adapted), soft_neighborhood_density(collapsed)
    assert better("snd", good, bad)
    assert 0 <= bad <= np.log(len(yt) - 1) and good <= np.log(len(yt) - 1)


@pytest.mark.backend_neutral
def test_deep_embedded_validation_ranks_and_reduces_to_mean_without_shift():
    xs, ys, xt, _ = _domains()
    rng = np.random.default_rng(0)
    good_losses = rng.uniform(0.0, 0.2, len(ys))
    bad_losses = rng.uniform(1.0, 2.0, len(ys))
    good = deep_embedded_validation(xs, good_losses, xt)
    bad = deep_embedded_validation(xs, bad_losses, xt)
    assert better("dev", good, bad)
    # constant losses: the control variate makes DEV exactly that constant
    assert deep_embedded_validation(xs, np.full(len(ys), 0.7), xt) == pytest.approx(0.7, abs=1e-9)
    with pytest.raises(ValueError, match="one loss per row"):
        deep_embedded_validation(xs, good_losses[:-1], xt)


@pytest.mark.backend_neutral
def test_reverse_validation_ranks_consistent_pseudo_labels_above_collapsed():
    xs, ys, xt, yt = _domains()
    good = reverse_validation(xt, yt, xs, ys)
    scrambled = reverse_validation(xt, np.random.default_rng(0).integers(0, 3, len(yt)), xs, ys)
    collapsed = reverse_validation(xt, np.zeros(len(yt), int), xs, ys)
    assert good > 0.9
    assert better("reverse_validation", good, scrambled)
    assert better("reverse_validation", good, collapsed)
    assert collapsed == pytest.approx(np.mean(ys == 0))
    assert reverse_validation(xt, np.eye(3)[yt], xs, ys) == good  # probabilities work too


@pytest.mark.backend_neutral
def test_model_selection_bad_inputs():
    with pytest.raises(ValueError, match="class probabilities"):
        prediction_entropy(np.ones(3))
    with pytest.raises(ValueError, match="apply a softmax"):
        soft_neighborhood_density(np.array([[2.0, -1.0], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="`temperature` must be > 0"):
        soft_neighborhood_density(np.eye(2), temperature=0)
    with pytest.raises(ValueError, match="same feature size"):
        deep_embedded_validation(np.ones((4, 2)), np.ones(4), np.ones((4, 3)))
    rng = np.random.default_rng(0)
    xs, xt = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    with pytest.raises(ValueError, match="`source_losses` contains NaN or infinite values"):
        deep_embedded_validation(xs, np.full(8, np.nan), xt)
    with pytest.raises(TypeError, match="`source_losses` must hold real numbers"):
        deep_embedded_validation(xs, np.array(["a"] * 8), xt)
    with pytest.raises(ValueError, match="`source_features` contains NaN"):
        deep_embedded_validation(np.full((8, 2), np.nan), np.ones(8), xt)
    with pytest.raises(ValueError, match="`target_features` contains NaN"):
        reverse_validation(np.full((8, 2), np.nan), np.arange(8) % 2, xs, np.arange(8) % 2)
