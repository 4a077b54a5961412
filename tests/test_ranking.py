"""Transferability scores (LogME, H-score, LEEP) and rank_backbones."""

import numpy as np
import pytest

from keras_transfer.ranking import h_score, leep, logme, plot_ranking, rank_backbones


def _log_evidence(F, t, alpha, beta):
    """Log marginal likelihood of t = F w + e, w ~ N(0, I/alpha), e ~ N(0, I/beta), written directly."""
    N, D = F.shape
    A = alpha * np.eye(D) + beta * F.T @ F
    m = beta * np.linalg.solve(A, F.T @ t)
    _, logdet = np.linalg.slogdet(A)
    return (
        D / 2 * np.log(alpha)
        + N / 2 * np.log(beta)
        - beta / 2 * np.sum((t - F @ m) ** 2)
        - alpha / 2 * m @ m
        - logdet / 2
        - N / 2 * np.log(2 * np.pi)
    )


def _direct_logme(F, y, iters=11, tol=0.01):
    """MacKay's fixed point on the explicit posterior (no SVD), same stopping rule as the paper's code."""
    N, D = F.shape
    eig = np.linalg.eigvalsh(F.T @ F)
    scores = []
    for c in np.unique(y):
        t = (y == c).astype(float)
        alpha, beta = 1.0, 1.0
        for _ in range(iters):
            A = alpha * np.eye(D) + beta * F.T @ F
            m = beta * np.linalg.solve(A, F.T @ t)
            gamma = np.sum(beta * eig / (alpha + beta * eig))
            new_alpha = gamma / (m @ m + 1e-5)
            new_beta = (N - gamma) / (np.sum((t - F @ m) ** 2) + 1e-5)
            done = abs(new_alpha / new_beta - alpha / beta) / (alpha / beta) < tol
            alpha, beta = new_alpha, new_beta
            if done:
                break
        scores.append(_log_evidence(F, t, alpha, beta) / N)
    return float(np.mean(scores))


@pytest.fixture
def small_case():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 80)
    F = np.eye(3)[y] @ rng.normal(size=(3, 6)) + 0.5 * rng.normal(size=(80, 6))
    return F, y


def test_logme_matches_direct_numpy_implementation(small_case):
    F, y = small_case
    np.testing.assert_allclose(logme(F, y), _direct_logme(F, y), rtol=1e-3)


def test_logme_fixed_point_maximises_the_evidence(small_case):
    """Run to convergence, LogME equals the evidence maximised numerically over (alpha, beta)."""
    from scipy.optimize import minimize

    F, y = small_case
    best = []
    for c in np.unique(y):
        t = (y == c).astype(float)
        res = minimize(
            lambda p, t=t: -_log_evidence(F, t, np.exp(p[0]), np.exp(p[1])),
            x0=[0.0, 0.0],
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
        )
        best.append(-res.fun / len(F))
    converged = logme(F, y, max_iter=500, tol=1e-10)
    np.testing.assert_allclose(converged, np.mean(best), rtol=1e-3)  # the reference code's 1e-5 epsilon
    assert converged <= np.mean(best) + 1e-9  # never above the maximum


def test_logme_prefers_informative_features_and_accepts_string_labels(small_case):
    F, y = small_case
    noise = np.random.default_rng(1).normal(size=F.shape)
    assert logme(F, y) > logme(noise, y)
    names = np.array(["cat", "dog", "emu"])[y]
    assert logme(F, names) == pytest.approx(logme(F, y))


def test_h_score_matches_definition(small_case):
    F, y = small_case
    Fc = F - F.mean(0)
    g = np.stack([Fc[y == c].mean(0) for c in y])
    expected = np.trace(np.linalg.pinv(np.cov(Fc.T)) @ np.cov(g.T))
    assert h_score(F, y) == pytest.approx(expected, rel=1e-8)
    assert 0 < h_score(F, y) <= 2 + 1e-9  # at most n_classes - 1
    assert h_score(F, y, shrinkage=0.0) == pytest.approx(expected, rel=1e-8)
    mu = np.trace(np.cov(Fc.T)) / F.shape[1]
    assert h_score(F, y, shrinkage=1.0) == pytest.approx(np.trace(np.cov(g.T)) / mu, rel=1e-8)
    labels = np.arange(20) % 2
    wide = np.random.default_rng(2).normal(size=(20, 50))  # n < d: the plain score saturates
    informative = wide.copy()
    informative[:, 0] += 4 * labels
    assert h_score(wide, labels) == pytest.approx(1.0) == h_score(informative, labels)
    assert h_score(informative, labels, shrinkage="auto") > 1.5 * h_score(wide, labels, shrinkage="auto")
    assert h_score(F, y) > h_score(np.random.default_rng(1).normal(size=F.shape), y)


def test_leep_matches_definition():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=30)
    y = rng.integers(0, 3, 30)
    joint = np.zeros((4, 3))
    for i in range(30):
        joint[:, y[i]] += p[i] / 30
    cond = joint / joint.sum(1, keepdims=True)
    expected = np.mean([np.log(sum(cond[z, y[i]] * p[i, z] for z in range(4))) for i in range(30)])
    assert leep(p, y) == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="sum to 1"):
        leep(p * 2, y)


def test_scores_reject_bad_input(small_case):
    F, y = small_case
    with pytest.raises(ValueError, match="at least two classes"):
        logme(F, np.zeros(len(F)))
    with pytest.raises(ValueError, match="one label per row"):
        h_score(F, y[:-1])
    with pytest.raises(ValueError, match="2-D"):
        logme(F[:, 0], y)
    bad = F.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        logme(bad, y)
    with pytest.raises(TypeError, match="`features` must hold real numbers; received dtype=complex"):
        logme(F.astype("complex64"), y)
    with pytest.raises(TypeError, match="`features` must hold real numbers"):
        logme(F.astype(str), y)
    with pytest.raises(ValueError, match="`features` is empty"):
        logme(F[:0], y[:0])
    with pytest.raises(ValueError, match="`source_probabilities` contains NaN"):
        leep(np.full((4, 2), np.nan), [0, 1, 0, 1])


@pytest.mark.slow  # builds EfficientNet-Lite0 with ImageNet weights and extracts 96x96 features
def test_rank_backbones_pretrained_above_random_init_on_real_data():
    """The same architecture, ImageNet weights vs random init, on real Fashion-MNIST images."""
    from keras_transfer.backbones import DEFAULT_BACKBONE
    from keras_transfer.datasets import load_fashion_mnist

    x, y = load_fashion_mnist("train", source="subset", num_per_class=10, seed=0)
    table = rank_backbones(x, y, [(DEFAULT_BACKBONE, None), DEFAULT_BACKBONE], input_shape=(96, 96, 3))
    assert list(table["weights"]) == ["imagenet", "None"]
    assert list(table["rank"]) == [1, 2]
    assert table["logme"][0] > table["logme"][1]
    assert table["h_score"][0] > table["h_score"][1]
    fig = plot_ranking(table)
    bars = fig.axes[0].patches
    assert len(bars) == 2 and bars[1].get_width() == pytest.approx(table["logme"][0])  # best on top


def test_rank_backbones_argument_errors():
    x = np.zeros((4, 32, 32, 3))
    with pytest.raises(ValueError, match="`scores` must be"):
        rank_backbones(x, [0, 1, 0, 1], ["mobilenet_v3_small"], scores=["leep"])
    with pytest.raises(ValueError, match="`candidates` must be a non-empty list"):
        rank_backbones(x, [0, 1, 0, 1], "mobilenet_v3_small")
    with pytest.raises(ValueError, match="`batch_size` must be an integer >= 1"):
        rank_backbones(x, [0, 1, 0, 1], ["mobilenet_v3_small"], batch_size=0)
    with pytest.raises(
        ValueError, match="`candidates` names an unknown backbone 'mobilenet_v3_smal'. Did you"
    ):
        rank_backbones(x, [0, 1, 0, 1], [("mobilenet_v3_smal", None)])
    with pytest.raises(ValueError, match="`shrinkage` must be None, 'auto' or a number in \\[0, 1\\]"):
        h_score(np.eye(4), [0, 1, 0, 1], shrinkage="ledoit")
    with pytest.raises(ValueError, match="`shrinkage` must be a finite number >= 0.0 and <= 1.0"):
        h_score(np.eye(4), [0, 1, 0, 1], shrinkage=1.5)
    assert np.isfinite(h_score(np.eye(4), [0, 1, 0, 1], shrinkage=np.float32(0.5)))  # numpy scalars
    with pytest.raises(ValueError, match="`max_iter` must be an integer >= 1"):
        logme(np.eye(4), [0, 1, 0, 1], max_iter=0)
    with pytest.raises(ValueError, match="`score`='nope'"):
        plot_ranking([{"backbone": "a", "weights": None, "logme": 1.0}], score="nope")
