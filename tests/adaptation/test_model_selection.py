"""Each unsupervised model-selection score ranks a well-adapted model above a collapsed one."""

import numpy as np
import pytest

from keras_transfer.adaptation import (
    HIGHER_IS_BETTER,
    batch_nuclear_norm,
    class_ami,
    deep_embedded_validation,
    information_maximization_score,
    mix_validation,
    prediction_entropy,
    reverse_validation,
    soft_neighborhood_density,
    wilson_interval,
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


@pytest.mark.backend_neutral
def test_batch_nuclear_norm_matches_svd_and_closed_forms():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=30)
    assert batch_nuclear_norm(p) == pytest.approx(np.linalg.norm(p, "nuc") / 30, rel=1e-12)
    # n one-hot rows over k classes in equal parts: sqrt(k / n); all in one class: 1 / sqrt(n)
    assert batch_nuclear_norm(np.repeat(np.eye(5), 20, axis=0)) == pytest.approx(np.sqrt(5 / 100))
    assert batch_nuclear_norm(np.tile(np.eye(5)[:1], (100, 1))) == pytest.approx(0.1)
    _, _, _, yt = _domains()
    adapted = _softmax(6.0 * np.eye(3)[yt])
    collapsed = _softmax(np.tile([4.0, 0.0, 0.0], (len(yt), 1)))
    assert better("bnm", batch_nuclear_norm(adapted), batch_nuclear_norm(collapsed))


@pytest.mark.backend_neutral
def test_information_maximization_score_is_diversity_minus_entropy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=50)
    mean = p.mean(0)
    expected = -np.sum(mean * np.log(mean)) - np.mean(-np.sum(p * np.log(p), axis=1))
    assert information_maximization_score(p) == pytest.approx(expected, rel=1e-10)
    one_class = np.tile([[1.0, 0.0, 0.0]], (50, 1))  # confident but not diverse: 0
    assert information_maximization_score(one_class) == pytest.approx(0.0, abs=1e-9)
    balanced = np.repeat(np.eye(3), 10, axis=0)  # confident and diverse: log 3, the maximum
    assert information_maximization_score(balanced) == pytest.approx(np.log(3))
    assert better("im", information_maximization_score(balanced), information_maximization_score(p))


@pytest.mark.backend_neutral
def test_class_ami_rewards_predictions_that_follow_feature_clusters():
    _, _, xt, yt = _domains()
    rng = np.random.default_rng(0)
    good = class_ami(xt, np.eye(3)[yt])
    half = np.where(rng.random(len(yt)) < 0.5, yt, rng.integers(0, 3, len(yt)))
    noisy = class_ami(xt, np.eye(3)[half])
    scrambled = class_ami(xt, np.eye(3)[rng.integers(0, 3, len(yt))])
    assert good > 0.9 and better("class_ami", good, noisy) and better("class_ami", noisy, scrambled)
    assert abs(scrambled) < 0.05
    assert class_ami(np.ones((20, 3)), np.eye(2)[np.arange(20) % 2]) == 0.0  # no structure
    with pytest.raises(ValueError, match="`target_features` must be real numbers of shape"):
        class_ami(xt[:-1], np.eye(3)[yt])


@pytest.mark.backend_neutral
def test_mix_validation_prefers_the_boundary_between_clusters():
    rng = np.random.default_rng(0)
    side = rng.choice([-1.0, 1.0], size=(300, 1))
    x = rng.normal(scale=0.3, size=(300, 2)) + 5.0 * side

    def rule(boundary):
        return lambda z: np.stack([z[:, 0] < boundary, z[:, 0] >= boundary], axis=1).astype(float)

    centred, shifted = mix_validation(rule(0.0), x), mix_validation(rule(1.5), x)
    # shifted: every inter-cluster mix whose first input is on the right lands left of 1.5
    assert centred > 0.95 and shifted == pytest.approx(0.75, abs=0.03)
    # hand-computed on 2 rows: the pair (0, 1) mixes to 0.55*x0 + 0.45*x1
    x2 = np.array([[-5.0, 0.0], [5.0, 0.0]])
    assert mix_validation(rule(0.0), x2) == 1.0  # both mixes stay on their first input's side
    assert mix_validation(rule(0.6), x2) == 0.5  # 0.5 < 0.6: the mix of (5, -5) changes side
    with pytest.raises(ValueError, match=r"`alpha` must be in \(0.5, 1\)"):
        mix_validation(rule(0.0), x, alpha=0.4)
    with pytest.raises(TypeError, match="`predict` must be a callable"):
        mix_validation("model", x)
    with pytest.raises(ValueError, match="`target_x` must be at least 2 rows"):
        mix_validation(rule(0.0), x[:1])


@pytest.mark.backend_neutral
def test_wilson_interval_matches_the_closed_form_and_scipy():
    from scipy.stats import binomtest

    for successes, n, confidence in [
        (0, 10, 0.95),
        (45, 50, 0.95),
        (50, 50, 0.9),
        (1, 2, 0.99),
        (37, 50, 0.8),
    ]:
        expected = binomtest(successes, n).proportion_ci(confidence, method="wilson")
        low, high = wilson_interval(successes, n, confidence)
        np.testing.assert_allclose([low, high], [expected.low, expected.high], rtol=1e-12, atol=1e-15)
        assert 0.0 <= low <= successes / n <= high <= 1.0
    # by hand for 8 of 10 at z = 1.959964: centre (0.8 + z^2/20) / (1 + z^2/10), half-width
    # z sqrt(0.016 + z^2/400) / (1 + z^2/10)
    z = 1.959963984540054
    centre, half = (0.8 + z * z / 20) / (1 + z * z / 10), z * np.sqrt(0.016 + z * z / 400) / (1 + z * z / 10)
    np.testing.assert_allclose(wilson_interval(8, 10), (centre - half, centre + half), rtol=1e-12)
    # more labels, narrower interval around the same accuracy
    assert np.diff(wilson_interval(40, 50)) < np.diff(wilson_interval(8, 10))


@pytest.mark.backend_neutral
def test_wilson_interval_bad_inputs():
    with pytest.raises(ValueError, match=r"`successes` must be in \[0, n\]"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="n >= 1"):
        wilson_interval(0, 0)
    with pytest.raises(TypeError, match="`successes` must be an int; received float"):
        wilson_interval(0.5, 10)
    with pytest.raises(ValueError, match=r"`confidence` must be in \(0, 1\)"):
        wilson_interval(5, 10, confidence=95)
