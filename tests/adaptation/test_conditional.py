"""CDAN conditioning: the multilinear maps and the entropy weights equal a numpy computation;
the randomized map preserves inner products on average; bad shapes are refused."""

import numpy as np
import pytest

from keras_transfer.adaptation import (
    entropy_conditioning_weights,
    multilinear_map,
    randomized_multilinear_map,
)


def _batch(seed=0, n=6, d=5, k=3):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, d)).astype("float32")
    logits = rng.normal(scale=2.0, size=(n, k))
    g = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype("float32")
    return f, g


@pytest.mark.backend_neutral
def test_multilinear_map_is_the_flattened_outer_product_class_major():
    f, g = _batch()
    out = np.asarray(multilinear_map(f, g))
    expected = np.stack([np.outer(g[i], f[i]).ravel() for i in range(len(f))])
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.shape == (6, 15)
    np.testing.assert_allclose(out[2, 1 * 5 + 4], g[2, 1] * f[2, 4], rtol=1e-6)


@pytest.mark.backend_neutral
def test_randomized_map_matches_numpy_and_preserves_inner_products_on_average():
    f, g = _batch()
    rng = np.random.default_rng(1)
    dim = 20000
    rf = rng.normal(size=(5, dim)).astype("float32")
    rg = rng.normal(size=(3, dim)).astype("float32")
    out = np.asarray(randomized_multilinear_map(f, g, rf, rg))
    np.testing.assert_allclose(out, (f @ rf) * (g @ rg) / np.sqrt(dim), rtol=1e-4, atol=1e-4)
    exact = np.asarray(multilinear_map(f, g))
    # E[<T~(f, g), T~(f', g')>] = <f, f'><g, g'> = <T(f, g), T(f', g')>
    np.testing.assert_allclose(out @ out.T, exact @ exact.T, atol=0.15 * np.abs(exact @ exact.T).max())


@pytest.mark.backend_neutral
def test_entropy_conditioning_weights_match_hand_computation():
    f, g = _batch(n=7)
    domain = np.array([0, 0, 0, 1, 1, 1, 1])
    h = -(g * np.log(g + 1e-5)).sum(1)
    w = 1.0 + np.exp(-h)
    expected = np.where(domain == 0, w / w[domain == 0].sum(), w / w[domain == 1].sum()) * 7 / 2
    weights = np.asarray(entropy_conditioning_weights(g, domain[:, None].astype("float32")))
    np.testing.assert_allclose(weights, expected, rtol=1e-5)
    np.testing.assert_allclose([weights[:3].sum(), weights[3:].sum()], [3.5, 3.5], rtol=1e-5)
    # the more certain prediction gets the larger weight within a domain
    certain = np.array([[0.98, 0.01, 0.01], [0.34, 0.33, 0.33]], "float32")
    w2 = np.asarray(entropy_conditioning_weights(certain, np.array([0.0, 0.0])))
    assert w2[0] > w2[1]


@pytest.mark.backend_neutral
def test_conditional_maps_refuse_bad_shapes():
    f, g = _batch()
    with pytest.raises(ValueError, match="one row per example"):
        multilinear_map(f, g[:4])
    with pytest.raises(ValueError, match="must be 2-D batches"):
        multilinear_map(f[0], g)
    with pytest.raises(ValueError, match="`domain_labels` must hold one 0/1 domain label per row"):
        entropy_conditioning_weights(g, np.zeros(len(g) - 1))
    with pytest.raises(ValueError, match=r"`domain_labels` must have shape \(n,\) or \(n, 1\)"):
        entropy_conditioning_weights(g, np.zeros((len(g), 2)))
    with pytest.raises(ValueError, match=r"`random_features` must have shape \(d, dim\)"):
        randomized_multilinear_map(f, g, np.ones((4, 8)), np.ones((3, 8)))
